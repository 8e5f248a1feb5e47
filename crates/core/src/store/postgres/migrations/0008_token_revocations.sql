-- Revoked bearer tokens (RFC 7009), by the random `jti` the token carries.
-- A row is needed only until the token would have expired anyway: rows
-- whose `expires_at` passed are pruned (a few at each revocation).
CREATE TABLE token_revocations (
    jti TEXT PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT NOT NULL
);
CREATE INDEX token_revocations_expires_at ON token_revocations (expires_at);
