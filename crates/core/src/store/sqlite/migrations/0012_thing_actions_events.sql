-- Actions requested of things and events things emitted (the things API),
-- keyed by organization and thing uid (not tied to a stored thing: the
-- face checks the thing). `id` orders the rows (lists run newest first and
-- page by it); `action_id` / `event_id` is the public id in the `href`.
CREATE TABLE thing_actions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    action_id TEXT NOT NULL UNIQUE,
    org_id INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    thing_uid TEXT NOT NULL,
    name TEXT NOT NULL,
    input TEXT,
    status TEXT NOT NULL,
    output TEXT,
    requested_at INTEGER NOT NULL,
    completed_at INTEGER
);
CREATE INDEX thing_actions_thing ON thing_actions (org_id, thing_uid, id);
CREATE INDEX thing_actions_name ON thing_actions (org_id, thing_uid, name, id);

CREATE TABLE thing_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    org_id INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    thing_uid TEXT NOT NULL,
    name TEXT NOT NULL,
    data TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX thing_events_thing ON thing_events (org_id, thing_uid, id);
CREATE INDEX thing_events_name ON thing_events (org_id, thing_uid, name, id);
-- Retention deletes the oldest first.
CREATE INDEX thing_events_at ON thing_events (org_id, at);

-- How long each space keeps property history and events (NULL: forever;
-- no row: both forever).
CREATE TABLE space_retention (
    org_id INTEGER PRIMARY KEY REFERENCES orgs(id) ON DELETE CASCADE,
    history_days INTEGER,
    events_days INTEGER,
    updated_at INTEGER NOT NULL
);

-- A thing's actions and events go with it, whichever face deletes it
-- (`/api/things`, `/spaces/.../things`, a delete by filter).
CREATE TRIGGER thing_activity_gone AFTER DELETE ON documents
WHEN old.collection = 'things'
BEGIN
    DELETE FROM thing_actions WHERE org_id = old.org_id AND thing_uid = old.uuid;
    DELETE FROM thing_events WHERE org_id = old.org_id AND thing_uid = old.uuid;
END;
