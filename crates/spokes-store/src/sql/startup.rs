//! Opening a pool, the migration runner, and the master-key check of a new store.

use std::collections::BTreeSet;

use sqlx::Pool;

use crate::backend::{Backend, sql};
use crate::rows::RowExt as _;
use crate::seal::KeyRing;
use crate::{StoreError, StoreResult};

pub(crate) async fn open_pool<DB: Backend>(
    options: <DB::Connection as sqlx::Connection>::Options,
) -> StoreResult<Pool<DB>> {
    Ok(sqlx::pool::PoolOptions::<DB>::new()
        .max_connections(DB::MAX_CONNECTIONS)
        .connect_with(options)
        .await?)
}

/// Applies pending migrations under a database-wide lock, in one transaction, and returns the
/// versions applied. Safe when several processes start together.
pub(crate) async fn run_migrations<DB: Backend>(pool: &Pool<DB>) -> StoreResult<Vec<i64>> {
    let migrations = DB::MIGRATIONS;
    let mut tx = pool.begin_with(DB::BEGIN_MIGRATION).await?;
    if let Some(lock) = DB::LOCK_MIGRATION {
        sql::<DB>(lock).execute(&mut tx).await?;
    }
    sql::<DB>(crate::migrations::CREATE_SCHEMA_MIGRATIONS)
        .execute(&mut tx)
        .await?;
    let done = sql::<DB>("SELECT version FROM schema_migrations")
        .fetch_all(&mut tx)
        .await?
        .iter()
        .map(|row| row.int("version"))
        .collect::<Result<BTreeSet<i64>, _>>()?;

    let now = super::now_ms();
    let mut applied = Vec::new();
    for migration in migrations {
        if done.contains(&migration.version) {
            continue;
        }
        DB::execute_script(migration.sql, (&mut tx).into())
            .await
            .map_err(|e| {
                StoreError::Migration(format!(
                    "{} migration {:04}_{} failed: {e}",
                    DB::LABEL,
                    migration.version,
                    migration.name
                ))
            })?;
        sql::<DB>("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)")
            .bind(migration.version)
            .bind(now)
            .execute(&mut tx)
            .await?;
        applied.push(migration.version);
    }
    tx.commit().await?;

    let known = migrations.last().map_or(0, |m| m.version);
    if let Some(&newest) = done.last()
        && newest > known
    {
        tracing::warn!(
            schema.version = newest,
            known.version = known,
            "the database schema is newer than this Spokes build"
        );
    }
    for version in &applied {
        tracing::info!(
            backend = DB::LABEL,
            schema.version = version,
            "applied migration"
        );
    }
    Ok(applied)
}

/// The master-key fingerprint recorded in `meta`, if any.
pub(crate) async fn stored_fingerprint<DB: Backend>(
    pool: &Pool<DB>,
) -> StoreResult<Option<String>> {
    Ok(
        sql::<DB>("SELECT value FROM meta WHERE name = 'key_fingerprint'")
            .fetch_optional(pool)
            .await?
            .map(|row| row.text("value"))
            .transpose()?,
    )
}

/// Records the active key's fingerprint on first use; afterwards refuses a ring that holds no
/// key with the stored fingerprint. A legacy fingerprint (labelled SHA-256, before HKDF) of a
/// key in the ring is replaced by that key's current one.
pub(crate) async fn check_master_key<DB: Backend>(
    pool: &Pool<DB>,
    keys: &KeyRing,
) -> StoreResult<()> {
    let current = keys.fingerprint();
    sql::<DB>(
        "INSERT INTO meta (name, value) VALUES ('key_fingerprint', $1) \
         ON CONFLICT (name) DO NOTHING",
    )
    .bind(&current)
    .execute(pool)
    .await?;
    let stored = stored_fingerprint(pool)
        .await?
        .ok_or_else(|| StoreError::Corrupt("meta.key_fingerprint is missing".to_owned()))?;
    match keys.recognise_fingerprint(&stored) {
        Some(known) if known != stored => {
            // Only while it still holds the legacy value: another process may upgrade it too.
            sql::<DB>("UPDATE meta SET value = $1 WHERE name = 'key_fingerprint' AND value = $2")
                .bind(&known)
                .bind(&stored)
                .execute(pool)
                .await?;
            tracing::info!("upgraded the stored master key fingerprint to HKDF-SHA256");
            Ok(())
        }
        Some(_) => Ok(()),
        None => Err(StoreError::WrongMasterKey {
            stored: stored.chars().take(12).collect(),
            current: current.chars().take(12).collect(),
        }),
    }
}
