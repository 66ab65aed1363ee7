//! Helpers for tests, in this crate and in the crates above it.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use spokes_core::token::random_bytes;
use sqlx::{AssertSqlSafe, Connection, Executor, Row};

use crate::seal::KeyRing;

/// The environment variable that selects PostgreSQL for tests.
pub const TEST_DATABASE_URL_ENV: &str = "SPOKES_TEST_DATABASE_URL";

/// Schemas left by test runs older than this are dropped when a new one is made.
const STALE_SCHEMA_SECS: u64 = 2 * 3600;

/// A database URL for one test. With `SPOKES_TEST_DATABASE_URL` set (a `postgres://` URL), a
/// fresh schema `t_<time>_<random>` is created there and the returned URL makes every
/// connection use it (`options=-c search_path=…`); otherwise the URL of a SQLite file in `dir`.
///
/// Panics when PostgreSQL cannot be reached: this is for tests.
pub async fn test_database_url(dir: &Path) -> String {
    match std::env::var(TEST_DATABASE_URL_ENV) {
        Ok(url) if !url.trim().is_empty() => postgres_schema_url(url.trim()).await,
        _ => crate::sqlite_url(&dir.join("spokes.db")),
    }
}

async fn postgres_schema_url(base: &str) -> String {
    let mut conn = sqlx::PgConnection::connect(base).await.unwrap_or_else(|e| {
        panic!(
            "{TEST_DATABASE_URL_ENV} is set but PostgreSQL cannot be reached at {}: {e}",
            crate::redact_url(base)
        )
    });
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());

    // Sweep schemas of earlier runs (best effort: a concurrent run may drop them first).
    if let Ok(rows) = sqlx::query("SELECT nspname FROM pg_namespace WHERE nspname LIKE 't\\_%'")
        .fetch_all(&mut conn)
        .await
    {
        for row in rows {
            let Ok(name) = row.try_get::<String, _>("nspname") else {
                continue;
            };
            let created = name
                .split('_')
                .nth(1)
                .and_then(|secs| secs.parse::<u64>().ok());
            let safe = name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if safe && created.is_some_and(|c| c + STALE_SCHEMA_SECS < now) {
                let drop = format!("DROP SCHEMA IF EXISTS {name} CASCADE");
                let _ = conn.execute(AssertSqlSafe(drop)).await;
            }
        }
    }

    // Only digits, hex and '_': safe to put into DDL, which cannot take bound identifiers.
    let schema = format!("t_{now}_{}", hex::encode(random_bytes(6)));
    conn.execute(AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .await
        .unwrap_or_else(|e| panic!("cannot create test schema {schema}: {e}"));
    let _ = conn.close().await;

    let separator = if base.contains('?') { '&' } else { '?' };
    format!("{base}{separator}options=-c%20search_path%3D{schema}")
}

/// A new empty directory under the system temp dir, e.g. for a SQLite file or a key file.
/// The caller removes it (see [`TempDir`] for a guard that does).
pub fn temp_dir(prefix: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("{prefix}-{}", hex::encode(random_bytes(8))));
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    dir
}

/// A temporary directory removed on drop.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(prefix: &str) -> Self {
        Self(temp_dir(prefix))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A key ring with a fresh random key.
pub fn test_key_ring() -> KeyRing {
    let mut key = [0u8; 32];
    key.copy_from_slice(&random_bytes(32));
    KeyRing::from_key(key)
}

/// A value sealed the way Spokes sealed before HKDF (the labelled SHA-256 key id in its
/// header), as a database written by an earlier version holds it.
pub fn seal_legacy(key: [u8; 32], context: &str, plaintext: &[u8]) -> Vec<u8> {
    crate::seal::seal_legacy(&key, context, plaintext)
}

/// The fingerprint of `key` as earlier versions stored it in `meta` (labelled SHA-256).
pub fn legacy_fingerprint(key: [u8; 32]) -> String {
    crate::seal::legacy_fingerprint(&key)
}

/// Every schema version this build knows, in order (a version may be skipped while branches
/// that add migrations are merged).
pub fn schema_versions() -> Vec<i64> {
    crate::migrations::SQLITE
        .iter()
        .map(|m| m.version)
        .collect()
}
