//! The PostgreSQL backend, for several Spokes processes sharing one database.

/// Key of the advisory lock held while migrating (an arbitrary constant: "spokes01").
const MIGRATION_LOCK: &str = "SELECT pg_advisory_xact_lock(8318271018807537713)";

impl crate::backend::Backend for sqlx::Postgres {
    const LABEL: &'static str = "postgres";
    const MAX_CONNECTIONS: u32 = 10;
    const MIGRATIONS: &'static [crate::migrations::Migration] = crate::migrations::POSTGRES;
    const BEGIN_MIGRATION: &'static str = "BEGIN";
    // Released with the transaction; a second process waits here, then finds nothing to do.
    const LOCK_MIGRATION: Option<&'static str> = Some(MIGRATION_LOCK);
    // SKIP LOCKED: concurrent claimers take disjoint events instead of waiting or doubling up.
    // The locking subquery is a MATERIALIZED CTE so it runs exactly once: as a plain
    // `IN (SELECT … LIMIT … FOR UPDATE SKIP LOCKED)` the planner may rescan it, and a rescan
    // skips the rows this statement already updated and claims the next ones past the limit.
    const CLAIM_EVENTS: &'static str = concat!(
        "WITH due AS MATERIALIZED (SELECT id FROM outbox_events WHERE ",
        crate::sql::outbox::outbox_event_due!(),
        " ORDER BY created_at, id LIMIT $3 FOR UPDATE SKIP LOCKED) \
         UPDATE outbox_events SET next_attempt_at = $2 WHERE id IN (SELECT id FROM due) \
         RETURNING ",
        crate::sql::outbox::outbox_event_columns!()
    );

    // As for events: SKIP LOCKED in a MATERIALIZED CTE, so concurrent claimers take disjoint
    // jobs and the limit holds. The kinds come as a JSON array (bound as text).
    const CLAIM_JOBS: &'static str = concat!(
        "WITH due AS MATERIALIZED (SELECT id FROM jobs \
         WHERE kind IN (SELECT jsonb_array_elements_text($1::jsonb)) AND ",
        crate::sql::jobs::job_due!(),
        " ORDER BY run_at, id LIMIT $5 FOR UPDATE SKIP LOCKED) UPDATE jobs SET ",
        crate::sql::jobs::job_claimed!(),
        " WHERE id IN (SELECT id FROM due) RETURNING ",
        crate::sql::jobs::job_columns!()
    );

    const ACCEPT_WEBHOOK_EVENTS: &'static str = "INSERT INTO webhook_events (event_key, job_id, received_at) \
         SELECT e ->> 'key', e ->> 'job', $2 FROM jsonb_array_elements($1::jsonb) AS e \
         ON CONFLICT (event_key) DO NOTHING RETURNING job_id";
    const ENQUEUE_PLAIN_JOBS: &'static str = concat!(
        "INSERT INTO jobs (",
        crate::sql::jobs::job_columns!(),
        ") SELECT j ->> 'id', j ->> 'kind', j ->> 'payload', NULL, 'queued', \
         (j ->> 'run_at')::bigint, 0, (j ->> 'max_attempts')::bigint, NULL, NULL, NULL, NULL, \
         (j ->> 'created_at')::bigint, NULL FROM jsonb_array_elements($1::jsonb) AS j"
    );

    crate::backend::backend_io!();
}
