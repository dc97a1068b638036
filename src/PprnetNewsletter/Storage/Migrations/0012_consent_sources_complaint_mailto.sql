-- Two more ways a subscription can end: a spam complaint (an RFC 5965 feedback report, or a provider's complaint
-- event) and a reply to the List-Unsubscribe mailto. SQLite cannot alter a CHECK constraint, so the table is rebuilt
-- with the wider list; its rows, ids, index and append-only triggers are carried over unchanged. DROP TABLE does not
-- fire the delete trigger (SQLite's implicit delete of a dropped table runs no triggers).
CREATE TABLE consent_events_new (
    id              INTEGER PRIMARY KEY,
    subscriber_id   INTEGER REFERENCES subscribers (id) ON DELETE SET NULL,
    event           TEXT NOT NULL CHECK (event IN ('subscribed', 'confirmed', 'preferences_changed', 'paused',
                                                   'resumed', 'unsubscribed', 'bounced', 'erased')),
    source          TEXT NOT NULL CHECK (source IN ('form', 'admin', 'csv', 'one_click', 'preferences',
                                                    'bounce', 'email', 'complaint', 'mailto')),
    occurred_at     TEXT NOT NULL,
    ip              TEXT,
    user_agent      TEXT,
    consent_version TEXT,
    detail          TEXT
);
INSERT INTO consent_events_new (id, subscriber_id, event, source, occurred_at, ip, user_agent, consent_version, detail)
SELECT id, subscriber_id, event, source, occurred_at, ip, user_agent, consent_version, detail FROM consent_events;
DROP TABLE consent_events;
ALTER TABLE consent_events_new RENAME TO consent_events;
CREATE INDEX ix_consent_events_subscriber ON consent_events (subscriber_id, id);

CREATE TRIGGER consent_events_no_delete BEFORE DELETE ON consent_events
BEGIN
    SELECT RAISE(ABORT, 'consent_events is append-only');
END;

CREATE TRIGGER consent_events_no_rewrite BEFORE UPDATE OF id, event, source, occurred_at, consent_version, detail
ON consent_events
BEGIN
    SELECT RAISE(ABORT, 'consent_events is append-only');
END;
