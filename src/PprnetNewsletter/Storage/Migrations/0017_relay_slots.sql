-- The relay's connections and rate, shared by every process on this database (see Delivery/RelayGate.cs). Each row
-- is one of Smtp:MaxConnections connection slots, carrying an equal share of Smtp:MessagesPerSecond. A process that
-- has mail for the relay leases slots, renews them with a heartbeat, and opens one connection per slot it holds;
-- it frees them when idle, and a dead process's slots are free once lease_until has passed. The first process to
-- use an empty (or wholly idle) table sizes it with its own settings; the others follow the table.
CREATE TABLE relay_slots (
    slot                INTEGER PRIMARY KEY,            -- 0 .. slots - 1
    messages_per_second INTEGER NOT NULL,               -- the whole relay's rate (0: none), the same on every row
    holder              INTEGER,                        -- the holding process's id; NULL when free
    host                TEXT,
    pid                 INTEGER,
    held_since          TEXT,
    lease_until         TEXT
);

-- Processes that want more slots than they hold: holders give slots back to them (fair shares, turns).
CREATE TABLE relay_waiters (
    owner       INTEGER PRIMARY KEY,
    host        TEXT NOT NULL,
    pid         INTEGER NOT NULL,
    since       TEXT NOT NULL,      -- when it started waiting
    lease_until TEXT NOT NULL
);
