-- Spokes schema, version 8 (sqlite). Keep in step with the other backend's 0008_cycles.sql.

-- Cycle templates as the partner imported them (document: the template's JSON).
CREATE TABLE templates (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    document   TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

-- A template installed into an account. document is the template as installed (a later edit
-- of the template does not change a running cycle); variables: JSON object of the values set.
-- schedule_version changes with every activation and deactivation, so a poll job of an
-- earlier schedule ends without running.
CREATE TABLE cycles (
    id                  TEXT PRIMARY KEY,
    account_id          TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    template_id         TEXT,
    name                TEXT NOT NULL,
    document            TEXT NOT NULL,
    variables           TEXT NOT NULL,
    status              TEXT NOT NULL CHECK (status IN ('paused', 'active')),
    interval_minutes    INTEGER,
    run_once            INTEGER NOT NULL DEFAULT 0,
    next_run_at         INTEGER,
    backfill_since      INTEGER,
    schedule_version    INTEGER NOT NULL DEFAULT 0,
    webhook_secret_sealed TEXT,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
) STRICT;

CREATE INDEX cycles_account ON cycles (account_id);

-- The installation each connector of a cycle runs with (routing HubSpot's events by portal).
CREATE TABLE cycle_installations (
    cycle_id        TEXT NOT NULL REFERENCES cycles (id) ON DELETE CASCADE,
    connector       TEXT NOT NULL,
    installation_id TEXT NOT NULL,
    PRIMARY KEY (cycle_id, connector)
) STRICT;

CREATE INDEX cycle_installations_installation ON cycle_installations (installation_id);

-- A polling step's place: the Last Successful Run Date (set once a whole window is queued)
-- and the (date, id) cursor reached within the current window.
CREATE TABLE cycle_step_states (
    cycle_id                 TEXT NOT NULL REFERENCES cycles (id) ON DELETE CASCADE,
    step_id                  TEXT NOT NULL,
    last_successful_run_date INTEGER,
    cursor                   TEXT,
    window_since             INTEGER,
    PRIMARY KEY (cycle_id, step_id)
) STRICT;

-- One transaction per trigger item. item_key (a record's id and date, an event id) keeps an
-- item to one transaction per cycle. step_id is the step to run next; in_flight names the
-- write (step and attempt) sent and not yet recorded, for reconciliation after a crash.
CREATE TABLE transactions (
    id           TEXT PRIMARY KEY,
    cycle_id     TEXT NOT NULL REFERENCES cycles (id) ON DELETE CASCADE,
    account_id   TEXT NOT NULL,
    item_key     TEXT,
    status       TEXT NOT NULL,
    item         TEXT NOT NULL,
    outputs      TEXT NOT NULL,
    step_id      TEXT,
    step_attempt INTEGER NOT NULL DEFAULT 0,
    step_count   INTEGER NOT NULL DEFAULT 0,
    resume_at    INTEGER,
    in_flight    TEXT,
    error        TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    finished_at  INTEGER
) STRICT;

CREATE UNIQUE INDEX transactions_item ON transactions (cycle_id, item_key);
CREATE INDEX transactions_cycle ON transactions (cycle_id, created_at);
CREATE INDEX transactions_finished ON transactions (finished_at);

-- What each step of a transaction did: the request sent and the response (secrets redacted).
CREATE TABLE transaction_steps (
    transaction_id TEXT NOT NULL REFERENCES transactions (id) ON DELETE CASCADE,
    seq            INTEGER NOT NULL,
    step_id        TEXT NOT NULL,
    status         TEXT NOT NULL,
    attempt        INTEGER NOT NULL,
    request        TEXT,
    response       TEXT,
    error          TEXT,
    started_at     INTEGER NOT NULL,
    finished_at    INTEGER NOT NULL,
    PRIMARY KEY (transaction_id, seq)
) STRICT;

-- Errors and warnings per cycle, for a person to look at.
CREATE TABLE incidents (
    id             TEXT PRIMARY KEY,
    cycle_id       TEXT NOT NULL REFERENCES cycles (id) ON DELETE CASCADE,
    transaction_id TEXT,
    step_id        TEXT,
    severity       TEXT NOT NULL CHECK (severity IN ('error', 'warning')),
    code           TEXT NOT NULL,
    message        TEXT NOT NULL,
    created_at     INTEGER NOT NULL
) STRICT;

CREATE INDEX incidents_cycle ON incidents (cycle_id, created_at);
