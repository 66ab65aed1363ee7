-- Spokes schema, version 9 (sqlite). Keep in step with the other backend's 0009_utility.sql.

-- The data of the utility connectors that cycle steps call (src/sql/utility.rs). Every row
-- belongs to an account and is deleted with it. scope: 'account' (scope_id '') or 'cycle'
-- (scope_id the cycle's id).

-- Data storage: key/value and key/object stores. store: 'values' (text) or 'objects' (JSON
-- text). A store is (account_id, scope, scope_id, store).
CREATE TABLE utility_storage (
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    scope      TEXT NOT NULL CHECK (scope IN ('account', 'cycle')),
    scope_id   TEXT NOT NULL,
    store      TEXT NOT NULL CHECK (store IN ('values', 'objects')),
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, scope, scope_id, store, key)
) STRICT;

-- How many items each store holds, kept with every insert and delete, so the item limit is
-- checked without counting a large store.
CREATE TABLE utility_storage_sizes (
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    scope      TEXT NOT NULL,
    scope_id   TEXT NOT NULL,
    store      TEXT NOT NULL,
    items      INTEGER NOT NULL CHECK (items >= 0),
    PRIMARY KEY (account_id, scope, scope_id, store)
) STRICT;

-- The cross-update preventer: "a cycle just wrote this record of this system". Taken by the
-- check that finds it; expired ones are swept.
CREATE TABLE utility_preventer_marks (
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    system     TEXT NOT NULL,
    record_id  TEXT NOT NULL,
    cycle_id   TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, system, record_id)
) STRICT;

CREATE INDEX utility_preventer_marks_expires_at ON utility_preventer_marks (expires_at);

-- Entity cross references: record entity_id of system corresponds to other_id of
-- other_system. Each pair is stored in both directions, so either side is looked up by the
-- primary key, which also allows one counterpart per record and other system.
CREATE TABLE utility_cross_references (
    account_id   TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    system       TEXT NOT NULL,
    entity_id    TEXT NOT NULL,
    other_system TEXT NOT NULL,
    other_id     TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (account_id, system, entity_id, other_system)
) STRICT;
