-- Thingstead schema version 1: registry, messages, SMS outbox, deliveries.
CREATE TABLE orgs (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    message_retention_secs INTEGER,
    created_at INTEGER NOT NULL
);

CREATE TABLE users (
    org_id INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    username TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, username)
);

CREATE TABLE devices (
    uuid TEXT PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    secret TEXT NOT NULL,
    devicekey TEXT NOT NULL UNIQUE,
    totp_seed TEXT,
    totp_last_step INTEGER,
    last_seen_addr TEXT,
    last_seen_at INTEGER,
    created_at INTEGER NOT NULL
);
CREATE INDEX devices_org ON devices(org_id);

CREATE TABLE apps (
    uuid TEXT PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    api_key TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX apps_org ON apps(org_id);

CREATE TABLE oauth_clients (
    client_id TEXT PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    secret_hash TEXT NOT NULL,
    scopes TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX oauth_clients_org ON oauth_clients(org_id);

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    prefix TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);
CREATE INDEX api_keys_org ON api_keys(org_id);

CREATE TABLE messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    device_uuid TEXT NOT NULL,
    topics TEXT NOT NULL,
    payload BLOB NOT NULL,
    received_at INTEGER NOT NULL,
    peer TEXT NOT NULL,
    sdk TEXT,
    modem TEXT
);
CREATE INDEX messages_org ON messages(org_id, id);
CREATE INDEX messages_org_device ON messages(org_id, device_uuid, id);
CREATE INDEX messages_org_time ON messages(org_id, received_at);

CREATE TABLE sms (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    device_uuid TEXT,
    destination TEXT NOT NULL,
    text TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    provider_id TEXT,
    reason TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL
);
CREATE INDEX sms_org ON sms(org_id, id);
CREATE INDEX sms_due ON sms(state, next_attempt_at);

CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    device_uuid TEXT NOT NULL,
    target TEXT NOT NULL,
    result TEXT NOT NULL,
    detail TEXT,
    at INTEGER NOT NULL
);
CREATE INDEX deliveries_org ON deliveries(org_id, id);
