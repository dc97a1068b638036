-- Subscriber ids are never handed out twice. SQLite gives a new row max(id) + 1, so deleting the newest
-- subscriber freed their id for the next one, and a link signed for the first person opened the second one's
-- preference centre. This keeps the highest id ever given in a row of its own: a new subscriber must be above it
-- (the store asks for watermark + 1; any other insert that would reuse an id is refused by the trigger).
CREATE TABLE subscriber_id_watermark (
    only_row INTEGER PRIMARY KEY CHECK (only_row = 1),
    high     INTEGER NOT NULL
);
INSERT INTO subscriber_id_watermark (only_row, high) SELECT 1, coalesce(max(id), 0) FROM subscribers;

CREATE TRIGGER subscribers_never_reuse_id AFTER INSERT ON subscribers
BEGIN
    SELECT RAISE(ABORT, 'subscriber ids are never reused')
    WHERE NEW.id <= (SELECT high FROM subscriber_id_watermark);
    UPDATE subscriber_id_watermark SET high = NEW.id;
END;

CREATE TRIGGER subscribers_id_is_fixed BEFORE UPDATE OF id ON subscribers
BEGIN
    SELECT RAISE(ABORT, 'a subscriber id never changes');
END;

-- Links signed before this change (token format v1) name only the id, and may have been sent to an earlier
-- holder of that id. They keep working only for a subscriber whose id cannot have been used before: see
-- LinkTokens. Every subscriber's creation wrote a consent event in the same transaction, and a deleted person's
-- events lost their subscriber_id, so the ledger's order tells the story. For a subscriber with id N whose first
-- event is F, an earlier holder G of N must have been deleted by some deletion D (an 'erased' event) before F.
-- Let M be the highest id among the subscribers still here whose first event came before D, and L the latest of
-- those first events. A subscriber still here created while G lived would have got an id above N, yet was still
-- here (below N) when N was handed out again: so G was created after L, when the highest id was N - 1, and the
-- ids M+1 .. N were then all held by people since deleted, each created after L and before D, and each deleted
-- after L. So N may have been someone else's only if N > M and both of these counts reach N - M: the orphaned
-- events between L and D that could be a creation ('subscribed', or a status set by an administrator or a CSV
-- import), and the deletions after L. Both counts can only overstate the people deleted, so the rule errs one way
-- only: it may distrust a subscriber who was in fact the first holder of their id, never the reverse.
-- This relies on every subscriber having been added through the service, which records each creation; a
-- subscriber with no consent event at all is not trusted. New subscribers (the default 0) never accept v1 links:
-- none was ever signed for them.
ALTER TABLE subscribers ADD COLUMN legacy_links INTEGER NOT NULL DEFAULT 0 CHECK (legacy_links IN (0, 1));

WITH firsts AS (
    SELECT s.id, (SELECT min(e.id) FROM consent_events e WHERE e.subscriber_id = s.id) AS first_event
    FROM subscribers s
),
orphans AS (
    SELECT e.id AS event_id, e.event = 'erased' AS is_deletion,
           e.event = 'subscribed' OR (e.source IN ('admin', 'csv') AND e.event IN ('confirmed', 'paused', 'unsubscribed', 'bounced'))
               AS may_create
    FROM consent_events e
    WHERE e.subscriber_id IS NULL OR NOT EXISTS (SELECT 1 FROM subscribers s WHERE s.id = e.subscriber_id)
),
windows AS (
    SELECT d.event_id,
           coalesce((SELECT max(f.first_event) FROM firsts f WHERE f.first_event < d.event_id), 0) AS latest_first,
           coalesce((SELECT max(f.id) FROM firsts f WHERE f.first_event < d.event_id), 0) AS highest_id
    FROM orphans d
    WHERE d.is_deletion
)
UPDATE subscribers SET legacy_links = 1
WHERE id IN (
    SELECT f.id FROM firsts f
    WHERE f.first_event IS NOT NULL
      AND NOT EXISTS (
          SELECT 1 FROM windows w
          WHERE w.event_id < f.first_event
            AND f.id > w.highest_id
            AND (SELECT count(*) FROM orphans o
                 WHERE o.may_create AND o.event_id > w.latest_first AND o.event_id < w.event_id) >= f.id - w.highest_id
            AND (SELECT count(*) FROM orphans o
                 WHERE o.is_deletion AND o.event_id > w.latest_first) >= f.id - w.highest_id));
