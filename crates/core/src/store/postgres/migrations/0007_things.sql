-- Thingstead PostgreSQL schema version 7: the things API (issue 9). A
-- thing is the `documents` row of collection 'things'; these tables hold
-- its space's categories, its current property values and their history,
-- which go with the thing (whichever face deletes it) and with the organization.
CREATE TABLE thing_categories (
    org_id BIGINT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT,
    model_name TEXT,
    model_version TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, name)
);

-- Current values: the JSON text, and the number or string it is (filters, sorting).
CREATE TABLE thing_status (
    org_id BIGINT NOT NULL,
    collection TEXT NOT NULL CHECK (collection = 'things'),
    uuid TEXT NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    num DOUBLE PRECISION,
    str TEXT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, collection, uuid, name),
    FOREIGN KEY (org_id, collection, uuid) REFERENCES documents(org_id, collection, uuid) ON DELETE CASCADE
);

-- Keyed for range queries of one thing over time.
CREATE TABLE thing_history (
    org_id BIGINT NOT NULL,
    collection TEXT NOT NULL CHECK (collection = 'things'),
    uuid TEXT NOT NULL,
    at BIGINT NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (org_id, collection, uuid, at, name),
    FOREIGN KEY (org_id, collection, uuid) REFERENCES documents(org_id, collection, uuid) ON DELETE CASCADE
);
