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

crate::sql::sql_store! {
    /// A [`crate::Store`] on a SQLite file.
    store: SqliteStore,
    db: sqlx::Sqlite,
    backend: "sqlite",
    max_connections: 8,
    migrations: crate::migrations::SQLITE,
    // Takes the write lock at once, so a second process starting together waits (busy
    // timeout) and then sees the migrations already applied.
    begin_migration: "BEGIN IMMEDIATE",
    lock_migration: None,
    // SQLite has one writer at a time: the statement is atomic without row locks.
    claim_events: concat!(
        "UPDATE outbox_events SET next_attempt_at = $2 WHERE id IN (SELECT id FROM outbox_events \
         WHERE ",
        crate::sql::outbox_event_due!(),
        " ORDER BY created_at, id LIMIT $3) AND ",
        crate::sql::outbox_event_due!(),
        " RETURNING ",
        crate::sql::outbox_event_columns!()
    ),
}
