//! Persistence for Spokes: one [`Store`] trait with a SQLite and a PostgreSQL backend,
//! migrations per backend, and sealing of secrets with a [`KeyRing`].
//!
//! Open a store with [`connect`]; it picks the backend from the URL, runs pending migrations
//! and checks that the master key is the one the data was sealed with.

use std::path::{Path, PathBuf};
use std::sync::Arc;

mod backend;
mod keyfile;
mod migrations;
mod postgres;
mod rows;
pub mod seal;
mod sql;
mod sqlite;
mod store;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use seal::KeyRing;
pub use store::{
    AuthState, KeyAndInstallation, ResealBatch, ResealCursor, Store, StoreResult, TransactionWrite,
};

/// Everything that can go wrong in the store. Messages never contain secrets or key material.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A row with the same identity already exists (duplicate account id, API key hash, …).
    #[error("conflict: {0}")]
    Conflict(String),
    /// A row the write refers to does not exist (an installation for an unknown account, …).
    #[error("not found: {0}")]
    NotFound(String),
    /// The database was set up with another master key.
    #[error(
        "the database was sealed with a different master key (stored key fingerprint \
         {stored}…, this key {current}…). Restore the original master key (the key file in \
         the data directory, or SPOKES_MASTER_KEY / SPOKES_MASTER_KEY_FILE), or start with a \
         new, empty data directory or database"
    )]
    WrongMasterKey {
        /// First characters of the fingerprint stored in the database.
        stored: String,
        /// First characters of the fingerprint of the configured key.
        current: String,
    },
    /// The master key given in the environment or the key file is not a valid key.
    #[error("invalid master key: {0}")]
    InvalidMasterKey(String),
    /// The master key file could not be read or created.
    #[error("master key file {}: {source}", path.display())]
    KeyFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A sealed value cannot be sealed or opened. Never holds the plaintext or the key.
    #[error("sealing: {0}")]
    Sealing(String),
    /// A stored value is not in the expected shape (bad JSON, unknown status).
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
    /// An error from the database driver. Bound values never appear in these.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migration(String),
    #[error(
        "invalid database URL: {0}; use `sqlite://<path>` or `postgres://user@host/db` (also \
         `postgresql://`)"
    )]
    InvalidUrl(String),
}

/// The backend named by a database URL, with its parsed connection options.
enum Target {
    Sqlite(sqlx::sqlite::SqliteConnectOptions),
    Postgres(sqlx::postgres::PgConnectOptions),
}

fn parse_url(database_url: &str) -> StoreResult<Target> {
    let url = database_url.trim();
    let lower = url.to_ascii_lowercase();
    let invalid = |why: &str| StoreError::InvalidUrl(format!("{} ({why})", redact_url(url)));
    if lower.starts_with("sqlite:") {
        url.parse::<sqlx::sqlite::SqliteConnectOptions>()
            .map(|options| Target::Sqlite(sqlite::tune(options)))
            .map_err(|e| invalid(&e.to_string()))
    } else if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
        url.parse::<sqlx::postgres::PgConnectOptions>()
            .map(Target::Postgres)
            .map_err(|e| invalid(&e.to_string()))
    } else {
        Err(invalid("unknown scheme"))
    }
}

/// The URL with any password replaced by `***`, for messages.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match (authority.rfind('@'), authority.find(':')) {
        (Some(at), Some(colon)) if colon < at => format!(
            "{}{}:***{}",
            &url[..scheme_end + 3],
            &authority[..colon],
            &url[scheme_end + 3 + at..]
        ),
        _ => url.to_owned(),
    }
}

/// Opens the database at `database_url` (`sqlite://…` or `postgres://…`), applies pending
/// migrations and checks the master key: on first start its fingerprint is recorded, later a
/// different key is refused with [`StoreError::WrongMasterKey`].
///
/// Several processes may do this on one database at the same time.
pub async fn connect(database_url: &str, keys: KeyRing) -> StoreResult<Arc<dyn Store>> {
    match parse_url(database_url)? {
        Target::Sqlite(options) => {
            starting(|| open::<sqlx::Sqlite>(options.clone(), keys.clone())).await
        }
        Target::Postgres(options) => open::<sqlx::Postgres>(options, keys).await,
    }
}

/// Applies pending migrations (for `spokes migrate`) and returns the versions it applied,
/// oldest first; empty when the schema was already current. Needs no master key.
pub async fn migrate(database_url: &str) -> StoreResult<Vec<i64>> {
    match parse_url(database_url)? {
        Target::Sqlite(options) => starting(|| migrate_only::<sqlx::Sqlite>(options.clone())).await,
        Target::Postgres(options) => migrate_only::<sqlx::Postgres>(options).await,
    }
}

/// Processes starting together on a new SQLite file can meet "database is locked" while one of
/// them switches the file to WAL, a lock SQLite does not wait for: startup tries again a few
/// times before it gives up.
async fn starting<T, F, Fut>(attempt: F) -> StoreResult<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = StoreResult<T>>,
{
    use backon::Retryable;
    attempt
        .retry(
            backon::ExponentialBuilder::default()
                .with_min_delay(std::time::Duration::from_millis(50))
                .with_max_times(6)
                .with_jitter(),
        )
        .when(|err| {
            matches!(err, StoreError::Database(sqlx::Error::Database(db))
                if db.code().as_deref() == Some("5") || db.message().contains("database is locked"))
        })
        .await
}

async fn open<DB: backend::Backend>(
    options: <DB::Connection as sqlx::Connection>::Options,
    keys: KeyRing,
) -> StoreResult<Arc<dyn Store>> {
    let pool = sql::startup::open_pool::<DB>(options).await?;
    sql::startup::run_migrations(&pool).await?;
    Ok(Arc::new(sql::SqlStore::new(pool, keys).await?))
}

async fn migrate_only<DB: backend::Backend>(
    options: <DB::Connection as sqlx::Connection>::Options,
) -> StoreResult<Vec<i64>> {
    let pool = sql::startup::open_pool::<DB>(options).await?;
    let applied = sql::startup::run_migrations(&pool).await;
    pool.close().await;
    applied
}

/// The newest schema version this build knows.
pub fn latest_schema_version() -> i64 {
    migrations::SQLITE.last().map_or(0, |m| m.version)
}

/// The database URL of a SQLite file, e.g. `sqlite:///var/lib/spokes/spokes.db`.
pub fn sqlite_url(path: &Path) -> String {
    /// The characters sqlx's SQLite URL parser would read as part of the URL syntax.
    const URL_SYNTAX: &percent_encoding::AsciiSet =
        &percent_encoding::CONTROLS.add(b'%').add(b'?').add(b'#');
    let path = path.to_string_lossy();
    format!(
        "sqlite://{}",
        percent_encoding::utf8_percent_encode(&path, URL_SYNTAX)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_round_trip_odd_paths() {
        let path = Path::new("/tmp/a dir/we?ird#50%/spokes.db");
        let url = sqlite_url(path);
        assert!(url.starts_with("sqlite:///tmp/"), "{url}");
        let Ok(Target::Sqlite(options)) = parse_url(&url) else {
            panic!("not parsed as sqlite: {url}");
        };
        assert_eq!(options.get_filename(), path);
    }

    #[test]
    fn picks_the_backend_from_the_scheme() {
        assert!(matches!(
            parse_url("sqlite://data/spokes.db"),
            Ok(Target::Sqlite(_))
        ));
        assert!(matches!(
            parse_url("sqlite:spokes.db"),
            Ok(Target::Sqlite(_))
        ));
        assert!(matches!(
            parse_url("postgres://u@localhost/db"),
            Ok(Target::Postgres(_))
        ));
        assert!(matches!(
            parse_url("postgresql://u@localhost/db"),
            Ok(Target::Postgres(_))
        ));
        let err = parse_url("mysql://u:hunter2@localhost/db").err().unwrap();
        assert!(matches!(err, StoreError::InvalidUrl(_)));
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact_url("postgres://spokes:s3cret@db:5432/spokes?sslmode=require"),
            "postgres://spokes:***@db:5432/spokes?sslmode=require"
        );
        assert_eq!(
            redact_url("postgres://spokes@db/spokes"),
            "postgres://spokes@db/spokes"
        );
        assert_eq!(redact_url("sqlite://a:b/c"), "sqlite://a:b/c");
    }
}
