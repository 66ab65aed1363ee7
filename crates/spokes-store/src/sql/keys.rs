//! Partner API keys and console sessions.

use spokes_core::clock::UnixMillis;
use spokes_core::{ApiKey, ConsoleSession};
use sqlx::Pool;

use crate::StoreResult;
use crate::backend::{Backend, sql};
use crate::rows;

macro_rules! api_key_columns {
    () => {
        "id, name, key_hash, account_id, read_only, confirm_writes, created_at, revoked_at"
    };
}

pub(crate) async fn create_api_key<DB: Backend>(pool: &Pool<DB>, key: &ApiKey) -> StoreResult<()> {
    sql::<DB>(concat!(
        "INSERT INTO api_keys (",
        api_key_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    ))
    .bind(&key.id)
    .bind(&key.name)
    .bind(&key.key_hash)
    .bind(&key.account_id)
    .bind(key.read_only)
    .bind(key.confirm_writes)
    .bind(key.created_at)
    .bind(key.revoked_at)
    .execute(pool)
    .await
    .map_err(|e| {
        rows::insert_error(
            e,
            || format!("an API key with id {} or the same hash exists", key.id),
            String::new,
        )
    })?;
    Ok(())
}

pub(crate) async fn find_api_key_by_hash<DB: Backend>(
    pool: &Pool<DB>,
    key_hash: &str,
) -> StoreResult<Option<ApiKey>> {
    sql::<DB>(concat!(
        "SELECT ",
        api_key_columns!(),
        " FROM api_keys WHERE key_hash = $1"
    ))
    .bind(key_hash)
    .fetch_optional(pool)
    .await?
    .as_ref()
    .map(rows::api_key)
    .transpose()
}

pub(crate) async fn list_api_keys<DB: Backend>(pool: &Pool<DB>) -> StoreResult<Vec<ApiKey>> {
    sql::<DB>(concat!(
        "SELECT ",
        api_key_columns!(),
        " FROM api_keys ORDER BY created_at, id"
    ))
    .fetch_all(pool)
    .await?
    .iter()
    .map(rows::api_key)
    .collect()
}

pub(crate) async fn revoke_api_key<DB: Backend>(
    pool: &Pool<DB>,
    id: &str,
    at: UnixMillis,
) -> StoreResult<bool> {
    let mut tx = pool.begin().await?;
    let revoked =
        sql::<DB>("UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
            .bind(id)
            .bind(at)
            .execute(&mut tx)
            .await?;
    sql::<DB>("DELETE FROM console_sessions WHERE key_id = $1")
        .bind(id)
        .execute(&mut tx)
        .await?;
    tx.commit().await?;
    Ok(revoked > 0)
}

pub(crate) async fn create_console_session<DB: Backend>(
    pool: &Pool<DB>,
    session: &ConsoleSession,
) -> StoreResult<()> {
    sql::<DB>(
        "INSERT INTO console_sessions (id_hash, key_id, created_at, expires_at) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(&session.id_hash)
    .bind(&session.key_id)
    .bind(session.created_at)
    .bind(session.expires_at)
    .execute(pool)
    .await
    .map_err(|e| {
        rows::insert_error(
            e,
            || "a console session with this id exists".to_owned(),
            || "the API key of the session does not exist".to_owned(),
        )
    })?;
    Ok(())
}

pub(crate) async fn find_console_session<DB: Backend>(
    pool: &Pool<DB>,
    id_hash: &str,
    now: UnixMillis,
) -> StoreResult<Option<ConsoleSession>> {
    // The key is checked on every request, so revoking it (from any process) ends the session
    // even if the revoking process did not delete it.
    sql::<DB>(
        "SELECT s.id_hash, s.key_id, s.created_at, s.expires_at \
         FROM console_sessions s LEFT JOIN api_keys k ON k.id = s.key_id \
         WHERE s.id_hash = $1 AND s.expires_at > $2 \
         AND (s.key_id IS NULL OR (k.id IS NOT NULL AND k.revoked_at IS NULL))",
    )
    .bind(id_hash)
    .bind(now)
    .fetch_optional(pool)
    .await?
    .as_ref()
    .map(rows::console_session)
    .transpose()
}

pub(crate) async fn delete_console_session<DB: Backend>(
    pool: &Pool<DB>,
    id_hash: &str,
) -> StoreResult<bool> {
    let deleted = sql::<DB>("DELETE FROM console_sessions WHERE id_hash = $1")
        .bind(id_hash)
        .execute(pool)
        .await?;
    Ok(deleted > 0)
}
