-- Thingstead schema version 4: credentials at rest. Device keys are kept
-- only as keyed hashes (HMAC-SHA256 under a key derived from the master key
-- file, which is not in the database); device secrets, TOTP seeds and app api
-- keys are sealed (XChaCha20-Poly1305). Rows of older versions are converted
-- by the migration's Rust step, which fills these tables from the old ones.
CREATE TABLE devices_v4 (
    uuid TEXT PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    secret_enc BLOB NOT NULL,
    devicekey_hash TEXT NOT NULL UNIQUE,
    totp_seed_enc BLOB,
    totp_last_step INTEGER,
    last_seen_addr TEXT,
    last_seen_at INTEGER,
    created_at INTEGER NOT NULL
);

CREATE TABLE apps_v4 (
    uuid TEXT PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    api_key_enc BLOB NOT NULL,
    created_at INTEGER NOT NULL
);

-- A value sealed with the master key: opening it at start proves the key
-- file belongs to this database.
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
