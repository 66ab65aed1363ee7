-- Spokes schema, version 5 (postgres). Keep in step with the other backend's 0005_mcp.sql.

-- A read-only key or installation refuses every write (methods that write, proxy requests
-- other than GET/HEAD). confirm_writes: an MCP write tool called without `confirm: true` answers
-- a dry-run preview.
ALTER TABLE api_keys ADD COLUMN read_only BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE api_keys ADD COLUMN confirm_writes BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE installations ADD COLUMN read_only BOOLEAN NOT NULL DEFAULT FALSE;

-- The audit of AI agents' tool calls over MCP, kept 30 days. Deleted with the account; kept
-- when the installation or key goes, so the audit outlives them. key_id NULL: the local
-- stdio transport. arguments: JSON text without secrets.
CREATE TABLE mcp_calls (
    id              TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    key_id          TEXT,
    installation_id TEXT NOT NULL,
    tool            TEXT NOT NULL,
    outcome         TEXT NOT NULL,
    correlation_id  TEXT,
    arguments       TEXT NOT NULL,
    duration_ms     BIGINT NOT NULL,
    created_at      BIGINT NOT NULL
);

CREATE INDEX mcp_calls_account_id_created_at ON mcp_calls (account_id, created_at);
CREATE INDEX mcp_calls_created_at ON mcp_calls (created_at);
