-- Content items, location layouts and the blobs holding their bytes. A
-- blob's bytes are a file under <data-dir>/blobs/; its row here says whose
-- it is and how long. Items form a tree: deleting a folder deletes what it
-- holds (the parent foreign key cascades).
CREATE TABLE blobs (
    id TEXT PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    size INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX blobs_org ON blobs(org_id);

CREATE TABLE content_items (
    uuid TEXT PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    subtype TEXT NOT NULL,
    parent TEXT REFERENCES content_items(uuid) ON DELETE CASCADE,
    path TEXT NOT NULL,
    url TEXT,
    -- JSON: {"blob","size","mimeType"} of the item's own bytes, or NULL.
    data TEXT,
    -- JSON: [{"name","blob","size","mimeType"}].
    variants TEXT NOT NULL,
    -- JSON object: the document's free-form fields.
    fields TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (org_id, path)
);
CREATE INDEX content_items_parent ON content_items(org_id, parent);

CREATE TABLE location_layouts (
    org_id INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    location_uuid TEXT NOT NULL,
    -- JSON: {"blob","size","mimeType"}.
    data TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, location_uuid)
);
