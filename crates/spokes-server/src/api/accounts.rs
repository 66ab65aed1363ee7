//! `/v1/accounts`: the partner's customers, keyed by the partner's own id.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use spokes_core::Account;
use spokes_core::token::new_id;

use crate::AppState;
use crate::auth::{Caller, account_not_found};
use crate::error::{ApiError, ApiResult};
use crate::json::ApiJson;
use crate::openapi::schema::{self, ErrorBody};
use crate::views;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    /// Your own id of the customer: 1 to 128 of letters, digits and `- _ . @ :`; generated when
    /// left out.
    id: Option<String>,
    /// 1 to 200 characters.
    name: String,
    /// An IANA time zone name such as `Europe/London`.
    timezone: Option<String>,
}

/// `timezone: null` clears it; an absent field leaves it alone.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountChanges {
    name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    timezone: Option<Option<String>>,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

pub fn validate_id(id: &str) -> ApiResult<()> {
    let ok = !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'@' | b':'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "invalid_id",
            "an account id is 1 to 128 characters of letters, digits and - _ . @ :",
        ))
    }
}

fn validate_name(name: &str) -> ApiResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::bad_request(
            "invalid_name",
            "`name` must be 1 to 200 characters",
        ));
    }
    Ok(name.to_string())
}

fn validate_timezone(tz: &str) -> ApiResult<()> {
    let ok = !tz.is_empty()
        && tz.len() <= 64
        && tz
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'_' | b'-' | b'+'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "invalid_timezone",
            "`timezone` must be an IANA time zone name such as `Europe/London` or `UTC`",
        ))
    }
}

pub async fn load(state: &AppState, caller: &Caller, id: &str) -> ApiResult<Account> {
    caller.check_account(id)?;
    state
        .store
        .get_account(id)
        .await?
        .ok_or_else(|| account_not_found(id))
}

/// List the accounts.
#[utoipa::path(
    get,
    path = "/v1/accounts",
    tag = "Accounts",
    operation_id = "accounts.list",
    responses(
        (status = 200, description = "Every account", body = schema::AccountList),
        (status = 403, description = "`forbidden`: the key is restricted to one account", body = ErrorBody),
    ),
)]
pub async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    caller.require_partner()?;
    let accounts = state.store.list_accounts().await?;
    Ok(Json(
        json!({"data": accounts.iter().map(views::account).collect::<Vec<_>>()}),
    ))
}

/// Create an account.
#[utoipa::path(
    post,
    path = "/v1/accounts",
    tag = "Accounts",
    operation_id = "accounts.create",
    request_body = NewAccount,
    responses(
        (status = 201, description = "The new account", body = schema::Account),
        (status = 400, description = "`invalid_id`, `invalid_name`, `invalid_timezone`, `invalid_json`, `invalid_request`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the key is restricted to one account", body = ErrorBody),
        (status = 409, description = "`account_exists`", body = ErrorBody),
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<NewAccount>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    caller.require_partner()?;
    let id = body.id.unwrap_or_else(|| new_id("acct"));
    validate_id(&id)?;
    if let Some(tz) = &body.timezone {
        validate_timezone(tz)?;
    }
    let now = state.clock.now_ms();
    let account = Account {
        id,
        name: validate_name(&body.name)?,
        timezone: body.timezone,
        created_at: now,
        updated_at: now,
    };
    state.store.create_account(&account).await.map_err(|err| match err {
        spokes_store::StoreError::Conflict(_) => ApiError::conflict(
            "account_exists",
            format!("an account with id `{}` already exists; choose another id or PATCH the existing one", account.id),
        ),
        other => other.into(),
    })?;
    Ok((StatusCode::CREATED, Json(views::account(&account))))
}

/// Get an account.
#[utoipa::path(
    get,
    path = "/v1/accounts/{account}",
    tag = "Accounts",
    operation_id = "accounts.get",
    params(("account" = String, Path, description = "Your id of the account")),
    responses(
        (status = 200, description = "The account", body = schema::Account),
        (status = 404, description = "`not_found`", body = ErrorBody),
    ),
)]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(views::account(&load(&state, &caller, &id).await?)))
}

/// Change an account's name or time zone.
#[utoipa::path(
    patch,
    path = "/v1/accounts/{account}",
    tag = "Accounts",
    operation_id = "accounts.update",
    params(("account" = String, Path, description = "Your id of the account")),
    request_body = AccountChanges,
    responses(
        (status = 200, description = "The changed account", body = schema::Account),
        (status = 400, description = "`invalid_name`, `invalid_timezone`, `invalid_json`, `invalid_request`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the key is restricted to one account", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    ),
)]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(changes): ApiJson<AccountChanges>,
) -> ApiResult<Json<Value>> {
    let mut account = load(&state, &caller, &id).await?;
    caller.require_partner()?;
    if let Some(name) = changes.name {
        account.name = validate_name(&name)?;
    }
    if let Some(tz) = changes.timezone {
        if let Some(tz) = &tz {
            validate_timezone(tz)?;
        }
        account.timezone = tz;
    }
    account.updated_at = state.clock.now_ms();
    if !state.store.update_account(&account).await? {
        return Err(account_not_found(&id));
    }
    Ok(Json(views::account(&account)))
}

/// Delete an account.
///
/// Deleting an account disconnects its installations first, so their tokens are revoked.
#[utoipa::path(
    delete,
    path = "/v1/accounts/{account}",
    tag = "Accounts",
    operation_id = "accounts.delete",
    params(("account" = String, Path, description = "Your id of the account")),
    responses(
        (status = 204, description = "Deleted, its installations disconnected"),
        (status = 403, description = "`forbidden`: the key is restricted to one account", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    ),
)]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    load(&state, &caller, &id).await?;
    caller.require_partner()?;
    for installation in state.store.list_installations(&id).await? {
        state.tokens.disconnect(&installation).await?;
    }
    state.store.delete_account(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}
