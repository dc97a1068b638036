-- The link-token key generated when Tokens:Keys is not configured. With SQLite it lives in token-keys.json beside
-- the database file; here it lives in the database, so every instance signs and verifies with the same key and a
-- link sent by one opens on any other. Instances starting at once race to insert the one row and all read the
-- winner's key. Keep it secret: the table is as sensitive as a configured key, and goes into every backup.
CREATE TABLE token_keys (
    key_id     text PRIMARY KEY,
    key        bytea NOT NULL CHECK (octet_length(key) >= 32),
    created_at timestamptz NOT NULL
);
