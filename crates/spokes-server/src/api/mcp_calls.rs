//! `/v1/accounts/{account}/mcp/calls`: the audit of AI agents' tool calls over MCP, kept 30
//! days.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use serde_json::{Value, json};
use spokes_core::{McpCall, format_rfc3339};

use super::accounts;
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::openapi::schema::{self, ErrorBody};

const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 500;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CallFilter {
    /// Only the calls on this installation (`inst_…`); deleted installations' calls are kept.
    installation: Option<String>,
    /// Only calls made before this time, in Unix milliseconds: the `next_before` of the
    /// previous page.
    before: Option<i64>,
    /// 1 to 500; 50 when left out.
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

/// List the account's MCP tool calls, newest first.
///
/// What AI agents did over MCP, kept 30 days: the tool, its arguments (secrets left out), the
/// outcome (`ok`, `dry_run` or the error's code) and how long it took.
#[utoipa::path(
    get,
    path = "/v1/accounts/{account}/mcp/calls",
    tag = "Agents",
    operation_id = "mcp.calls.list",
    params(("account" = String, Path, description = "Your id of the account"), CallFilter),
    responses(
        (status = 200, description = "A page of calls, newest first", body = schema::McpCallList),
        (status = 400, description = "`invalid_parameters`", body = ErrorBody),
        (status = 404, description = "`not_found`: no such account", body = ErrorBody),
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(account_id): Path<String>,
    filter: Result<Query<CallFilter>, QueryRejection>,
) -> ApiResult<Json<Value>> {
    let Query(filter) = filter.map_err(|e| {
        ApiError::bad_request(
            "invalid_parameters",
            format!(
                "{}; the query takes `installation`, `before` (Unix milliseconds) and `limit`",
                e.body_text()
            ),
        )
    })?;
    let limit = filter.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_parameters",
            format!("`limit` must be 1 to {MAX_LIMIT}"),
        ));
    }
    accounts::load(&state, &caller, &account_id).await?;
    // One more than asked tells whether an older page exists.
    let mut calls = state
        .store
        .list_mcp_calls(
            &account_id,
            filter.installation.as_deref(),
            filter.before,
            limit + 1,
        )
        .await?;
    let next_before = page_end(&mut calls, limit as usize);
    Ok(Json(json!({
        "calls": calls.iter().map(view).collect::<Vec<_>>(),
        "next_before": next_before,
    })))
}

/// Cuts `calls` (newest first, up to `limit + 1`) to a page; the `before` of the next page.
/// The next page starts below a millisecond, so calls of the millisecond the page would split
/// move to the next page whole, unless they fill it.
fn page_end(calls: &mut Vec<McpCall>, limit: usize) -> Option<i64> {
    let beyond = calls.get(limit)?.created_at;
    calls.truncate(limit);
    let whole = calls
        .iter()
        .rposition(|c| c.created_at != beyond)
        .map(|last| last + 1);
    match whole {
        Some(len) => {
            calls.truncate(len);
            calls.last().map(|c| c.created_at)
        }
        // More than `limit` calls in one millisecond: those past the page are skipped.
        None => Some(beyond),
    }
}

fn view(call: &McpCall) -> Value {
    // Stored as the JSON text the MCP server wrote; kept as text if it is not JSON.
    let arguments = serde_json::from_str::<Value>(&call.arguments)
        .unwrap_or_else(|_| Value::String(call.arguments.clone()));
    json!({
        "id": call.id,
        "account_id": call.account_id,
        "installation_id": call.installation_id,
        "key_id": call.key_id,
        "tool": call.tool,
        "arguments": arguments,
        "outcome": call.outcome,
        "correlation_id": call.correlation_id,
        "duration_ms": call.duration_ms,
        "created_at": format_rfc3339(call.created_at),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(times: &[i64]) -> Vec<McpCall> {
        times
            .iter()
            .enumerate()
            .map(|(i, t)| McpCall {
                id: format!("mcp_{i}"),
                account_id: "acme".into(),
                key_id: None,
                installation_id: "inst_1".into(),
                tool: "t".into(),
                outcome: "ok".into(),
                correlation_id: None,
                arguments: "{}".into(),
                duration_ms: 1,
                created_at: *t,
            })
            .collect()
    }

    fn times(calls: &[McpCall]) -> Vec<i64> {
        calls.iter().map(|c| c.created_at).collect()
    }

    #[test]
    fn a_page_never_splits_a_millisecond_it_does_not_fill() {
        // The last page: nothing beyond.
        let mut calls = at(&[9, 8]);
        assert_eq!(page_end(&mut calls, 2), None);
        assert_eq!(times(&calls), [9, 8]);
        // A clean cut.
        let mut calls = at(&[9, 8, 7]);
        assert_eq!(page_end(&mut calls, 2), Some(8));
        assert_eq!(times(&calls), [9, 8]);
        // The cut would split 8: both 8s go to the next page (before 9).
        let mut calls = at(&[9, 8, 8]);
        assert_eq!(page_end(&mut calls, 2), Some(9));
        assert_eq!(times(&calls), [9]);
        // One millisecond fills the page: it cannot move.
        let mut calls = at(&[8, 8, 8]);
        assert_eq!(page_end(&mut calls, 2), Some(8));
        assert_eq!(times(&calls), [8, 8]);
    }
}
