-- The columns and table the PostgreSQL store uses for work done once per
-- cluster; one server owns a SQLite store, so claims never contend here,
-- but both backends keep the same promises.
ALTER TABLE sms ADD COLUMN claimed_by TEXT;
ALTER TABLE sms ADD COLUMN claim_until INTEGER NOT NULL DEFAULT 0;

CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until INTEGER NOT NULL
);
