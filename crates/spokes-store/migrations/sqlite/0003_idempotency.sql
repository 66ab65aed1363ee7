-- Spokes schema, version 3 (sqlite). Keep in step with the other backend's 0003_idempotency.sql.

-- The first outcome of a write sent with an Idempotency-Key, kept 24 hours. key_hash is the
-- SHA-256 of installation and key; request_hash that of the method and its input, so the
-- same key with other input is refused. A running call holds the row until lease_until.
CREATE TABLE idempotency_keys (
    key_hash     TEXT PRIMARY KEY,
    request_hash TEXT NOT NULL,
    outcome      TEXT,
    lease_until  INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
) STRICT;

CREATE INDEX idempotency_keys_expires_at ON idempotency_keys (expires_at);
