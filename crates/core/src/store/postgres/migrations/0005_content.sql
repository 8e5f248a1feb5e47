-- Content items, location layouts and the blobs holding their bytes, in
-- chunks of at most 256 KiB, so that every node serves every blob. Items
-- form a tree: deleting a folder deletes what it holds.
CREATE TABLE blobs (
    id TEXT PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    size BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX blobs_org ON blobs(org_id);

CREATE TABLE blob_chunks (
    blob_id TEXT NOT NULL REFERENCES blobs(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    data BYTEA NOT NULL,
    PRIMARY KEY (blob_id, seq)
);

CREATE TABLE content_items (
    uuid TEXT PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    subtype TEXT NOT NULL,
    parent TEXT REFERENCES content_items(uuid) ON DELETE CASCADE,
    path TEXT NOT NULL,
    url TEXT,
    data TEXT,
    variants TEXT NOT NULL,
    fields TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (org_id, path)
);
CREATE INDEX content_items_parent ON content_items(org_id, parent);

CREATE TABLE location_layouts (
    org_id BIGINT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    location_uuid TEXT NOT NULL,
    data TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, location_uuid)
);
