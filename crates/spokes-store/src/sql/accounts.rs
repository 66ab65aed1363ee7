//! Accounts, connector setups and the copies of a connector's Custom Objects category.

use spokes_core::{Account, ConnectorSetup, CustomObjectCopy};
use sqlx::Pool;

use crate::StoreResult;
use crate::backend::{Backend, sql};
use crate::rows::{self, RowExt};
use crate::seal::KeyRing;

macro_rules! account_columns {
    () => {
        "id, name, timezone, created_at, updated_at"
    };
}

pub(crate) async fn create_account<DB: Backend>(
    pool: &Pool<DB>,
    account: &Account,
) -> StoreResult<()> {
    sql::<DB>(concat!(
        "INSERT INTO accounts (",
        account_columns!(),
        ") VALUES ($1, $2, $3, $4, $5)"
    ))
    .bind(&account.id)
    .bind(&account.name)
    .bind(&account.timezone)
    .bind(account.created_at)
    .bind(account.updated_at)
    .execute(pool)
    .await
    .map_err(|e| {
        rows::insert_error(
            e,
            || format!("an account with id {:?} already exists", account.id),
            String::new,
        )
    })?;
    Ok(())
}

pub(crate) async fn get_account<DB: Backend>(
    pool: &Pool<DB>,
    id: &str,
) -> StoreResult<Option<Account>> {
    sql::<DB>(concat!(
        "SELECT ",
        account_columns!(),
        " FROM accounts WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?
    .as_ref()
    .map(rows::account)
    .transpose()
}

pub(crate) async fn list_accounts<DB: Backend>(pool: &Pool<DB>) -> StoreResult<Vec<Account>> {
    sql::<DB>(concat!(
        "SELECT ",
        account_columns!(),
        " FROM accounts ORDER BY created_at, id"
    ))
    .fetch_all(pool)
    .await?
    .iter()
    .map(rows::account)
    .collect()
}

pub(crate) async fn update_account<DB: Backend>(
    pool: &Pool<DB>,
    account: &Account,
) -> StoreResult<bool> {
    let updated =
        sql::<DB>("UPDATE accounts SET name = $2, timezone = $3, updated_at = $4 WHERE id = $1")
            .bind(&account.id)
            .bind(&account.name)
            .bind(&account.timezone)
            .bind(account.updated_at)
            .execute(pool)
            .await?;
    Ok(updated > 0)
}

pub(crate) async fn delete_account<DB: Backend>(pool: &Pool<DB>, id: &str) -> StoreResult<bool> {
    let deleted = sql::<DB>("DELETE FROM accounts WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(deleted > 0)
}

pub(crate) async fn put_connector_setup<DB: Backend>(
    pool: &Pool<DB>,
    keys: &KeyRing,
    setup: &ConnectorSetup,
) -> StoreResult<()> {
    let sealed = rows::seal_secret(
        keys,
        &rows::client_secret_context(&setup.connector),
        &setup.client_secret,
    )?;
    sql::<DB>(
        "INSERT INTO connector_setups \
         (connector, client_id, client_secret_sealed, properties, updated_at) \
         VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (connector) DO UPDATE SET \
         client_id = excluded.client_id, \
         client_secret_sealed = excluded.client_secret_sealed, \
         properties = excluded.properties, \
         updated_at = excluded.updated_at",
    )
    .bind(&setup.connector)
    .bind(&setup.client_id)
    .bind(sealed)
    .bind(rows::properties_json(&setup.properties)?)
    .bind(setup.updated_at)
    .execute(pool)
    .await?;
    Ok(())
}

pub(crate) async fn get_connector_setup<DB: Backend>(
    pool: &Pool<DB>,
    keys: &KeyRing,
    connector: &str,
) -> StoreResult<Option<ConnectorSetup>> {
    sql::<DB>(
        "SELECT connector, client_id, client_secret_sealed, properties, updated_at \
         FROM connector_setups WHERE connector = $1",
    )
    .bind(connector)
    .fetch_optional(pool)
    .await?
    .map(|row| rows::connector_setup(&row, keys))
    .transpose()
}

/// Creates the copy, or renames its category when the schema already has one.
pub(crate) async fn put_custom_object_copy<DB: Backend>(
    pool: &Pool<DB>,
    copy: &CustomObjectCopy,
) -> StoreResult<()> {
    sql::<DB>(
        "INSERT INTO custom_object_copies (connector, schema_name, category, created_at) \
         VALUES ($1, $2, $3, $4) \
         ON CONFLICT (connector, schema_name) DO UPDATE SET category = excluded.category",
    )
    .bind(&copy.connector)
    .bind(&copy.schema_name)
    .bind(&copy.category)
    .bind(copy.created_at)
    .execute(pool)
    .await?;
    Ok(())
}

pub(crate) async fn list_custom_object_copies<DB: Backend>(
    pool: &Pool<DB>,
    connector: &str,
) -> StoreResult<Vec<CustomObjectCopy>> {
    let rows = sql::<DB>(
        "SELECT connector, schema_name, category, created_at FROM custom_object_copies \
         WHERE connector = $1 ORDER BY schema_name",
    )
    .bind(connector)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(CustomObjectCopy {
                connector: row.text("connector")?,
                schema_name: row.text("schema_name")?,
                category: row.text("category")?,
                created_at: row.int("created_at")?,
            })
        })
        .collect()
}

pub(crate) async fn delete_custom_object_copy<DB: Backend>(
    pool: &Pool<DB>,
    connector: &str,
    schema_name: &str,
) -> StoreResult<bool> {
    let deleted =
        sql::<DB>("DELETE FROM custom_object_copies WHERE connector = $1 AND schema_name = $2")
            .bind(connector)
            .bind(schema_name)
            .execute(pool)
            .await?;
    Ok(deleted > 0)
}
