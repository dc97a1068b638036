-- The relay's connections and rate, shared by every instance and command-line run on this database (see
-- Delivery/RelayGate.cs). Each row is one of Smtp:MaxConnections connection slots, carrying an equal share of
-- Smtp:MessagesPerSecond. A process that has mail for the relay leases slots, renews them with a heartbeat, and opens
-- one connection per slot it holds; it frees them when idle, and a dead process's slots are free once lease_until has
-- passed. The first process to use an empty (or wholly idle) table sizes it with its own settings; the others follow it.
CREATE TABLE relay_slots (
    slot                integer PRIMARY KEY,            -- 0 .. slots - 1
    messages_per_second integer NOT NULL,               -- the whole relay's rate (0: none), the same on every row
    holder              bigint,                         -- the holding process's id; NULL when free
    host                text,
    pid                 integer,
    held_since          timestamptz,
    lease_until         timestamptz
);

-- Processes that want more slots than they hold: holders give slots back to them (fair shares, turns).
CREATE TABLE relay_waiters (
    owner       bigint PRIMARY KEY,
    host        text NOT NULL,
    pid         integer NOT NULL,
    since       timestamptz NOT NULL,
    lease_until timestamptz NOT NULL
);
