-- Spokes schema, version 1 (PostgreSQL). Keep in step with migrations/sqlite/0001_initial.sql.
-- Times are Unix milliseconds; secrets are sealed BYTEA values (see src/seal.rs); structured fields
-- are JSON text.

CREATE TABLE meta (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    key_hash   TEXT NOT NULL UNIQUE,
    account_id TEXT,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

CREATE TABLE accounts (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    timezone   TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE connector_setups (
    connector            TEXT PRIMARY KEY,
    client_id            TEXT NOT NULL,
    client_secret_sealed BYTEA NOT NULL,
    properties           TEXT NOT NULL,
    updated_at           BIGINT NOT NULL
);

CREATE TABLE installations (
    id                   TEXT PRIMARY KEY,
    account_id           TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    connector            TEXT NOT NULL,
    name                 TEXT NOT NULL,
    properties           TEXT NOT NULL,
    status               TEXT NOT NULL,
    portal               TEXT,
    portal_id            BIGINT,
    last_error           TEXT,
    access_token_sealed  BYTEA,
    refresh_token_sealed BYTEA,
    token_client_id      TEXT,
    token_expires_at     BIGINT,
    refresh_lease_owner  TEXT,
    refresh_lease_until  BIGINT,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);

CREATE INDEX installations_account_id ON installations (account_id);
CREATE INDEX installations_portal_id ON installations (portal_id);

CREATE TABLE auth_links (
    token_hash      TEXT PRIMARY KEY,
    installation_id TEXT NOT NULL REFERENCES installations (id) ON DELETE CASCADE,
    return_url      TEXT,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    used_at         BIGINT
);

CREATE INDEX auth_links_installation_id ON auth_links (installation_id);

CREATE TABLE oauth_states (
    state_hash           TEXT PRIMARY KEY,
    installation_id      TEXT NOT NULL REFERENCES installations (id) ON DELETE CASCADE,
    code_verifier_sealed BYTEA NOT NULL,
    return_url           TEXT,
    created_at           BIGINT NOT NULL,
    expires_at           BIGINT NOT NULL,
    used_at              BIGINT
);

CREATE INDEX oauth_states_installation_id ON oauth_states (installation_id);

-- next_attempt_at NULL: delivered or given up.
CREATE TABLE outbox_events (
    id              TEXT PRIMARY KEY,
    event_type      TEXT NOT NULL,
    payload         TEXT NOT NULL,
    attempts        BIGINT NOT NULL,
    next_attempt_at BIGINT,
    created_at      BIGINT NOT NULL,
    delivered_at    BIGINT,
    last_error      TEXT
);

CREATE INDEX outbox_events_due ON outbox_events (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
