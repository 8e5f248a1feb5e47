-- Server keys every node shares (token signing keys), sealed with the
-- master key; one row per generation of a purpose, the newest signs.
CREATE TABLE signing_keys (
    purpose TEXT NOT NULL,
    generation BIGINT NOT NULL,
    secret_sealed BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (purpose, generation)
);
