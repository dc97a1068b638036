-- The cited article's address (front matter `doi:` or `url:`), shown beside the citation. NULL = none given.
ALTER TABLE summaries ADD COLUMN link TEXT;
