//! The audit of AI agents' tool calls over MCP.

use spokes_core::McpCall;
use spokes_core::clock::UnixMillis;
use sqlx::Pool;

use crate::StoreResult;
use crate::backend::{Backend, sql};
use crate::rows;

macro_rules! mcp_call_columns {
    () => {
        "id, account_id, key_id, installation_id, tool, outcome, correlation_id, arguments, \
         duration_ms, created_at"
    };
}

/// The calls in one transaction: all or none.
pub(crate) async fn record<DB: Backend>(pool: &Pool<DB>, calls: &[McpCall]) -> StoreResult<()> {
    let mut tx = pool.begin().await?;
    for call in calls {
        sql::<DB>(concat!(
            "INSERT INTO mcp_calls (",
            mcp_call_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ))
        .bind(&call.id)
        .bind(&call.account_id)
        .bind(&call.key_id)
        .bind(&call.installation_id)
        .bind(&call.tool)
        .bind(&call.outcome)
        .bind(&call.correlation_id)
        .bind(&call.arguments)
        .bind(call.duration_ms)
        .bind(call.created_at)
        .execute(&mut tx)
        .await
        .map_err(|e| {
            rows::insert_error(
                e,
                || format!("an MCP call with id {} exists", call.id),
                || format!("there is no account with id {:?}", call.account_id),
            )
        })?;
    }
    tx.commit().await?;
    Ok(())
}

/// Newest first; `before` excludes calls at or after that time.
pub(crate) async fn list<DB: Backend>(
    pool: &Pool<DB>,
    account_id: &str,
    installation_id: Option<&str>,
    before: Option<UnixMillis>,
    limit: u32,
) -> StoreResult<Vec<McpCall>> {
    sql::<DB>(concat!(
        "SELECT ",
        mcp_call_columns!(),
        " FROM mcp_calls WHERE account_id = $1 \
         AND ($2 IS NULL OR installation_id = $2) AND ($3 IS NULL OR created_at < $3) \
         ORDER BY created_at DESC, id DESC LIMIT $4"
    ))
    .bind(account_id)
    .bind(installation_id)
    .bind(before)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?
    .iter()
    .map(rows::mcp_call)
    .collect()
}

pub(crate) async fn sweep<DB: Backend>(
    pool: &Pool<DB>,
    older_than: UnixMillis,
) -> StoreResult<u64> {
    Ok(sql::<DB>("DELETE FROM mcp_calls WHERE created_at < $1")
        .bind(older_than)
        .execute(pool)
        .await?)
}
