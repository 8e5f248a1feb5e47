-- Thingstead schema version 3: idempotent device messages. A message sent
-- again with the same key by the same device is not stored twice.
ALTER TABLE messages ADD COLUMN idempotency_key TEXT;
CREATE UNIQUE INDEX messages_idempotency ON messages(org_id, device_uuid, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
