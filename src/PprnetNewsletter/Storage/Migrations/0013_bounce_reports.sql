-- Every bounce, complaint, mailto unsubscribe and automatic reply the service read (from the bounce mailbox or a
-- sending provider's webhook), with what it did about it, so an administrator can see why someone stopped getting
-- mail. raw holds the message as received (at most 256 KB; raw_truncated says when it was cut).
CREATE TABLE bounce_reports (
    id             INTEGER PRIMARY KEY,
    received_at    TEXT NOT NULL,
    channel        TEXT NOT NULL,                    -- imap, ses, postmark, sendgrid, mailgun
    event_id       TEXT NOT NULL,                    -- the report's Message-ID or the provider's event id
    kind           TEXT NOT NULL CHECK (kind IN ('permanent', 'transient', 'complaint', 'mailto', 'autoreply')),
    subscriber_id  INTEGER REFERENCES subscribers (id) ON DELETE SET NULL,
    edition_id     INTEGER REFERENCES editions (id),
    recipient      TEXT,                             -- the address the report is about
    status         TEXT,                             -- enhanced status code, e.g. 5.1.1
    diagnostic     TEXT,
    outcome        TEXT NOT NULL,                    -- what the service did, in words
    raw            BLOB,
    raw_truncated  INTEGER NOT NULL DEFAULT 0 CHECK (raw_truncated IN (0, 1)),
    -- A report read twice (a move that failed after the report was handled, a provider's retry or a replayed
    -- webhook) has no second effect.
    UNIQUE (channel, event_id)
);
CREATE INDEX ix_bounce_reports_kind ON bounce_reports (kind, id);
-- Counting a subscriber's recent transient bounces (Bounces:SoftLimit within Bounces:SoftWindow).
CREATE INDEX ix_bounce_reports_subscriber ON bounce_reports (subscriber_id, kind, received_at);
-- A report holds the address and the person's own mail (a complaint, a vacation reply): it goes with the subscriber
-- when they are erased or deleted.
CREATE TRIGGER bounce_reports_forget_subscriber BEFORE DELETE ON subscribers
BEGIN
    DELETE FROM bounce_reports WHERE subscriber_id = OLD.id;
END;
