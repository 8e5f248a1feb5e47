-- Pairing offers: a user pairs a device waiting for pairing (known by the
-- random id of its pairing session) to a device record. Short-lived: the
-- waiting device turns its pairing session into the device's at its next
-- refresh.
CREATE TABLE pairings (
    pairing_id TEXT PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    device_uuid TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX pairings_created_at ON pairings (created_at);
