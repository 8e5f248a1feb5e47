-- Thingstead schema version 7: application-platform documents (devices,
-- things, experiences, locations, feeds), their search terms, data items.
-- A device's document is the registry device's: it goes with the device.
CREATE TABLE documents (
    org_id INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    collection TEXT NOT NULL,
    uuid TEXT NOT NULL,
    device_uuid TEXT REFERENCES devices(uuid) ON DELETE CASCADE,
    unique_name TEXT,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, collection, uuid)
);
CREATE UNIQUE INDEX documents_unique_name ON documents(org_id, collection, unique_name);
CREATE INDEX documents_order ON documents(org_id, collection, created_at, uuid);
CREATE INDEX documents_device ON documents(device_uuid);

CREATE TABLE document_terms (
    org_id INTEGER NOT NULL,
    collection TEXT NOT NULL,
    uuid TEXT NOT NULL,
    path TEXT NOT NULL,
    value TEXT NOT NULL,
    FOREIGN KEY (org_id, collection, uuid) REFERENCES documents(org_id, collection, uuid) ON DELETE CASCADE
);
CREATE INDEX document_terms_match ON document_terms(org_id, collection, path, value, uuid);
CREATE INDEX document_terms_doc ON document_terms(org_id, collection, uuid);

CREATE TABLE data_items (
    org_id INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    grp TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, grp, key)
);

-- Devices made before this version get their document.
INSERT INTO documents (org_id, collection, uuid, device_uuid, unique_name, body, created_at, updated_at)
    SELECT org_id, 'devices', uuid, uuid, NULL, json_object('uuid', uuid, 'name', name), created_at, created_at
    FROM devices;
INSERT INTO document_terms (org_id, collection, uuid, path, value)
    SELECT org_id, 'devices', uuid, 'uuid', uuid FROM devices;
INSERT INTO document_terms (org_id, collection, uuid, path, value)
    SELECT org_id, 'devices', uuid, 'name', name FROM devices WHERE length(CAST(name AS BLOB)) <= 512;
