-- Spokes schema, version 2 (sqlite). Keep in step with the other backend's 0002_hardening.sql.

-- Bumped by every write of the auth state, so a refresh that started before a disconnect
-- (or another refresh) can tell that it lost and must not write its tokens.
ALTER TABLE installations ADD COLUMN auth_version INTEGER NOT NULL DEFAULT 0;

-- Console sessions live on the server, so logout and key revocation end them everywhere.
-- Only the SHA-256 of the session id is stored. key_id NULL: logged in with the admin password.
CREATE TABLE console_sessions (
    id_hash    TEXT PRIMARY KEY,
    key_id     TEXT REFERENCES api_keys (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;

CREATE INDEX console_sessions_key_id ON console_sessions (key_id);
CREATE INDEX console_sessions_expires_at ON console_sessions (expires_at);
CREATE INDEX auth_links_expires_at ON auth_links (expires_at);
CREATE INDEX oauth_states_expires_at ON oauth_states (expires_at);
