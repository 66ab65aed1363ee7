-- Spokes schema, version 6 (sqlite). Keep in step with the other backend's 0006_jobs.sql.

-- The durable job queue (src/sql/jobs.rs). A worker claims due jobs of the kinds it handles in
-- one statement: queued with run_at <= now, or running with an expired lease (lease_until <
-- now: its worker died or stalled, so any worker may take it). Each claim counts an attempt;
-- every later change checks lease_owner, so a worker whose lease was taken over cannot finish
-- the job. payload: JSON text. finished_at is set once the job is done or failed.
CREATE TABLE jobs (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    payload      TEXT NOT NULL,
    dedupe_key   TEXT,
    state        TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    run_at       INTEGER NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts INTEGER NOT NULL CHECK (max_attempts >= 1),
    lease_owner  TEXT,
    lease_until  INTEGER,
    heartbeat_at INTEGER,
    last_error   TEXT,
    created_at   INTEGER NOT NULL,
    finished_at  INTEGER
) STRICT;

-- At most one unfinished job per dedupe key; a finished job frees its key.
CREATE UNIQUE INDEX jobs_dedupe_key ON jobs (dedupe_key) WHERE state IN ('queued', 'running');
-- The claim: queued jobs by due time, running ones by lease end (then filtered by kind).
CREATE INDEX jobs_run_at ON jobs (state, run_at);
CREATE INDEX jobs_lease_until ON jobs (state, lease_until);
-- The sweep of finished jobs.
CREATE INDEX jobs_finished_at ON jobs (finished_at);
