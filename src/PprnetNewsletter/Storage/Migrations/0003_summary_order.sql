-- A summary's place within its month as the author asked for it (front matter `order:`), kept so that an
-- edition's positions can be recomputed whenever any of its summaries is imported: summaries with an order
-- come first by that order, the rest after them by file name. NULL = no order given.
ALTER TABLE summaries ADD COLUMN sort_order INTEGER;
