-- Thingstead schema version 2: every state change of an SMS, in order.
CREATE TABLE sms_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    sms_id INTEGER NOT NULL REFERENCES sms(id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    provider_id TEXT,
    detail TEXT,
    at INTEGER NOT NULL
);
CREATE INDEX sms_events_sms ON sms_events(org_id, sms_id, id);
