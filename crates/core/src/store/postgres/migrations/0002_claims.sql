-- Work done once per cluster: an SMS is claimed by one node for a lease
-- (claim_until, epoch ms; 0 = unclaimed), and named leases (retention
-- sweeps) are held by one node until they expire.
ALTER TABLE sms ADD COLUMN claimed_by TEXT;
ALTER TABLE sms ADD COLUMN claim_until BIGINT NOT NULL DEFAULT 0;

CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until BIGINT NOT NULL
);
