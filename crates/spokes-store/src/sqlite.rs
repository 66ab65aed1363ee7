//! The SQLite backend: the embedded default, one file in the data dir.

use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};

/// How long a writer waits for another connection or process to finish its write.
const BUSY_TIMEOUT: Duration = Duration::from_secs(15);

/// The connection settings every SQLite connection gets: WAL so readers never block the writer
/// (and several processes can share the file), a generous busy timeout, foreign keys on.
/// `synchronous` stays at SQLite's default (FULL): a commit survives a power cut.
pub(crate) fn tune(options: SqliteConnectOptions) -> SqliteConnectOptions {
    options
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .busy_timeout(BUSY_TIMEOUT)
        .foreign_keys(true)
}

impl crate::backend::Backend for sqlx::Sqlite {
    const LABEL: &'static str = "sqlite";
    const MAX_CONNECTIONS: u32 = 8;
    const MIGRATIONS: &'static [crate::migrations::Migration] = crate::migrations::SQLITE;
    // Takes the write lock at once, so a second process starting together waits (busy
    // timeout) and then sees the migrations already applied.
    const BEGIN_MIGRATION: &'static str = "BEGIN IMMEDIATE";
    const LOCK_MIGRATION: Option<&'static str> = None;
    // SQLite has one writer at a time: the statement is atomic without row locks.
    const CLAIM_EVENTS: &'static str = concat!(
        "UPDATE outbox_events SET next_attempt_at = $2 WHERE id IN (SELECT id FROM outbox_events \
         WHERE ",
        crate::sql::outbox::outbox_event_due!(),
        " ORDER BY created_at, id LIMIT $3) AND ",
        crate::sql::outbox::outbox_event_due!(),
        " RETURNING ",
        crate::sql::outbox::outbox_event_columns!()
    );

    // The same single-writer atomicity; the kinds come as a JSON array.
    const CLAIM_JOBS: &'static str = concat!(
        "UPDATE jobs SET ",
        crate::sql::jobs::job_claimed!(),
        " WHERE id IN (SELECT id FROM jobs WHERE kind IN (SELECT value FROM json_each($1)) AND ",
        crate::sql::jobs::job_due!(),
        " ORDER BY run_at, id LIMIT $5) AND ",
        crate::sql::jobs::job_due!(),
        " RETURNING ",
        crate::sql::jobs::job_columns!()
    );

    // `WHERE true`: SQLite needs it to read `ON CONFLICT` after a `SELECT`.
    const ACCEPT_WEBHOOK_EVENTS: &'static str = "INSERT INTO webhook_events (event_key, job_id, received_at) \
         SELECT value ->> '$.key', value ->> '$.job', $2 FROM json_each($1) WHERE true \
         ON CONFLICT (event_key) DO NOTHING RETURNING job_id";
    const ENQUEUE_PLAIN_JOBS: &'static str = concat!(
        "INSERT INTO jobs (",
        crate::sql::jobs::job_columns!(),
        ") SELECT value ->> '$.id', value ->> '$.kind', value ->> '$.payload', NULL, 'queued', \
         value ->> '$.run_at', 0, value ->> '$.max_attempts', NULL, NULL, NULL, NULL, \
         value ->> '$.created_at', NULL FROM json_each($1)"
    );

    crate::backend::backend_io!();
}
