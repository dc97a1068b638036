-- Single emails (confirmation, manage-preferences link, test send): written here, finished (signed, every header
-- set), by the request that asks for them, and sent by the service's delivery worker with retries. The page answers
-- at once; a relay that is down delays the email, a restart loses nothing.
CREATE TABLE mail_queue (
    id              INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL,                   -- confirmation, preferences-link, test-send
    recipient       TEXT NOT NULL,
    message         BLOB NOT NULL,                   -- the MIME message as it goes to the relay
    message_id      TEXT,
    state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    lease_owner     INTEGER,
    lease_until     TEXT,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    sent_at         TEXT
);
-- Only the unfinished rows: the worker's look-up stays cheap however many were sent.
CREATE INDEX ix_mail_queue_open ON mail_queue (next_attempt_at) WHERE state IN ('pending', 'sending');
