-- Rows in 'sending' are only those claimed and not yet settled (a few hundred per running send), so the expired-lease
-- claim finds them quickly through ix_deliveries_state alone. The partial index on them cost a page write in every
-- commit of a send (each claimed row entered it and each settled row left it): about an eighth of the write-ahead
-- log a send writes.
DROP INDEX IF EXISTS ix_deliveries_leased;
