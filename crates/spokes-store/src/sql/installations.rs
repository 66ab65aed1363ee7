//! Installations: create, read, list, the read-only flag, delete.

use spokes_core::Installation;
use spokes_core::clock::UnixMillis;
use sqlx::Pool;

use crate::backend::{Backend, sql};
use crate::rows::{self, RowExt};
use crate::seal::KeyRing;
use crate::{KeyAndInstallation, StoreResult};

macro_rules! installation_columns {
    () => {
        "id, account_id, connector, name, properties, status, portal, last_error, \
         token_expires_at, auth_version, read_only, created_at, updated_at"
    };
}

pub(crate) async fn create_installation<DB: Backend>(
    pool: &Pool<DB>,
    installation: &Installation,
) -> StoreResult<()> {
    sql::<DB>(
        "INSERT INTO installations (id, account_id, connector, name, properties, \
         status, portal, portal_id, last_error, token_expires_at, auth_version, \
         read_only, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(&installation.id)
    .bind(&installation.account_id)
    .bind(&installation.connector)
    .bind(&installation.name)
    .bind(rows::properties_json(&installation.properties)?)
    .bind(installation.status.as_str())
    .bind(rows::portal_json(installation.portal.as_ref())?)
    .bind(installation.portal.as_ref().map(|p| p.portal_id))
    .bind(rows::last_error_json(installation.last_error.as_ref())?)
    .bind(installation.token_expires_at)
    .bind(installation.auth_version)
    .bind(installation.read_only)
    .bind(installation.created_at)
    .bind(installation.updated_at)
    .execute(pool)
    .await
    .map_err(|e| {
        rows::insert_error(
            e,
            || format!("an installation with id {} already exists", installation.id),
            || format!("there is no account with id {:?}", installation.account_id),
        )
    })?;
    Ok(())
}

pub(crate) async fn get_installation<DB: Backend>(
    pool: &Pool<DB>,
    id: &str,
) -> StoreResult<Option<Installation>> {
    sql::<DB>(concat!(
        "SELECT ",
        installation_columns!(),
        " FROM installations WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?
    .as_ref()
    .map(rows::installation)
    .transpose()
}

/// The key and the installation with its tokens in one query: the key's columns are
/// prefixed `key_`, the installation's are its own, all of them (NULL when it does not exist).
pub(crate) async fn load_call<DB: Backend>(
    pool: &Pool<DB>,
    keys: &KeyRing,
    key_hash: &str,
    installation_id: &str,
) -> StoreResult<Option<KeyAndInstallation>> {
    let Some(row) = sql::<DB>(
        "SELECT k.id AS key_id, k.name AS key_name, k.key_hash AS key_key_hash, \
         k.account_id AS key_account_id, k.read_only AS key_read_only, \
         k.confirm_writes AS key_confirm_writes, k.created_at AS key_created_at, \
         k.revoked_at AS key_revoked_at, i.* \
         FROM api_keys k LEFT JOIN installations i ON i.id = $2 WHERE k.key_hash = $1",
    )
    .bind(key_hash)
    .bind(installation_id)
    .fetch_optional(pool)
    .await?
    else {
        return Ok(None);
    };
    let key = rows::api_key_prefixed(&row, "key_")?;
    let installation = match row.opt_text("id")? {
        Some(id) => Some((rows::installation(&row)?, rows::tokens(&row, keys, &id)?)),
        None => None,
    };
    Ok(Some(KeyAndInstallation { key, installation }))
}

pub(crate) async fn list_installations<DB: Backend>(
    pool: &Pool<DB>,
    account_id: &str,
) -> StoreResult<Vec<Installation>> {
    sql::<DB>(concat!(
        "SELECT ",
        installation_columns!(),
        " FROM installations WHERE account_id = $1 ORDER BY created_at, id"
    ))
    .bind(account_id)
    .fetch_all(pool)
    .await?
    .iter()
    .map(rows::installation)
    .collect()
}

pub(crate) async fn list_all_installations<DB: Backend>(
    pool: &Pool<DB>,
) -> StoreResult<Vec<Installation>> {
    sql::<DB>(concat!(
        "SELECT ",
        installation_columns!(),
        " FROM installations ORDER BY created_at, id"
    ))
    .fetch_all(pool)
    .await?
    .iter()
    .map(rows::installation)
    .collect()
}

pub(crate) async fn installations_for_portal<DB: Backend>(
    pool: &Pool<DB>,
    portal_id: i64,
) -> StoreResult<Vec<Installation>> {
    sql::<DB>(concat!(
        "SELECT ",
        installation_columns!(),
        " FROM installations WHERE portal_id = $1 AND status = 'authenticated' \
         ORDER BY created_at, id"
    ))
    .bind(portal_id)
    .fetch_all(pool)
    .await?
    .iter()
    .map(rows::installation)
    .collect()
}

pub(crate) async fn set_installation_read_only<DB: Backend>(
    pool: &Pool<DB>,
    id: &str,
    read_only: bool,
    at: UnixMillis,
) -> StoreResult<bool> {
    let written =
        sql::<DB>("UPDATE installations SET read_only = $2, updated_at = $3 WHERE id = $1")
            .bind(id)
            .bind(read_only)
            .bind(at)
            .execute(pool)
            .await?;
    Ok(written > 0)
}

pub(crate) async fn delete_installation<DB: Backend>(
    pool: &Pool<DB>,
    id: &str,
) -> StoreResult<bool> {
    let deleted = sql::<DB>("DELETE FROM installations WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(deleted > 0)
}
