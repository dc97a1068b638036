-- Administrator accounts of the dashboard, and the audit log of what they do there.

-- The password is kept only as ASP.NET Core Identity's PasswordHasher output (salted PBKDF2, versioned format).
CREATE TABLE admins (
    id            INTEGER PRIMARY KEY,
    email         TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE UNIQUE INDEX ux_admins_email ON admins (lower(email));

-- Who did what, when, from where. The address is kept as text: the log outlives a removed account.
CREATE TABLE admin_audit (
    id          INTEGER PRIMARY KEY,
    admin_email TEXT NOT NULL,
    action      TEXT NOT NULL,
    detail      TEXT,
    client_ip   TEXT,
    occurred_at TEXT NOT NULL
);
CREATE INDEX ix_admin_audit_time ON admin_audit (occurred_at, id);
