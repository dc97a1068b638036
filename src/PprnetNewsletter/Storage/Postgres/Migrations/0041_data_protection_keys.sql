-- The key ring behind antiforgery tokens (ASP.NET Core data protection), shared by every service instance: a form
-- rendered by one instance is then accepted by any other behind the load balancer. Each key is one XML element that
-- ASP.NET Core writes once and never changes; revocations are further elements. A key's XML holds its secret: the
-- table needs the same care as the rest of the database (and its backups).
CREATE TABLE data_protection_keys (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    friendly_name text NOT NULL,              -- e.g. key-<guid>; for people reading the table, not looked up
    xml           text NOT NULL,
    stored_at     timestamptz NOT NULL DEFAULT now()
);
