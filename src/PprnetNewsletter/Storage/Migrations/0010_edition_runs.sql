-- One run per edition: the run that sends an edition holds this row and renews lease_until with a heartbeat while it
-- lives (together with the leases of its rows in 'sending'). Any other starter -- a second `digest send`, the API,
-- the schedule, the retry job -- finds the row and waits (or, the retry job, skips) instead of sending beside it.
-- A run killed without a word stops renewing; once lease_until has passed, the next run takes the row over, and
-- with it the dead run's rows in 'sending'.
CREATE TABLE edition_runs (
    edition_id   INTEGER PRIMARY KEY REFERENCES editions (id),
    owner        INTEGER NOT NULL,                  -- the run's id, as in deliveries.lease_owner
    host         TEXT NOT NULL,
    pid          INTEGER NOT NULL,
    started_at   TEXT NOT NULL,
    heartbeat_at TEXT NOT NULL,
    lease_until  TEXT NOT NULL
);
