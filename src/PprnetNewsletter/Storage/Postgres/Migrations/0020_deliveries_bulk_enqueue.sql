-- Starting an edition inserts one ledger row per subscriber in one statement: 1,000,000 rows must go in within
-- seconds. PostgreSQL checks a foreign key with a trigger per inserted row, and the two on deliveries more than
-- doubled the time of that insert (measured: 20 s of CPU with them, 8 s without, for 1,000,000 rows on a busy
-- 2-core machine). Neither check protects anything the code does not already guarantee:
--   * edition_id: rows are only inserted for an edition the same transaction moved from draft to sending (or an
--     edition already started), and only a draft edition, which has no rows, is ever deleted;
--   * subscriber_id: rows are inserted from the subscribers table itself, and what ON DELETE SET NULL did, the
--     trigger below does: deleting a subscriber leaves their ledger rows without a subscriber (the engine skips such
--     a row, and its history stays).
ALTER TABLE deliveries DROP CONSTRAINT deliveries_edition_id_fkey;
ALTER TABLE deliveries DROP CONSTRAINT deliveries_subscriber_id_fkey;

CREATE FUNCTION deliveries_forget_subscriber() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE deliveries SET subscriber_id = NULL WHERE subscriber_id = OLD.id;
    RETURN OLD;
END $$;
CREATE TRIGGER deliveries_forget_subscriber AFTER DELETE ON subscribers
    FOR EACH ROW EXECUTE FUNCTION deliveries_forget_subscriber();
