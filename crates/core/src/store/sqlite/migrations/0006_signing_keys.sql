-- Server keys every node shares (token signing keys), sealed with the
-- master key; one row per generation of a purpose, the newest signs.
CREATE TABLE signing_keys (
    purpose TEXT NOT NULL,
    generation INTEGER NOT NULL,
    secret_sealed BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (purpose, generation)
);
