//! `/v1/accounts/{account}/connectors`: installations of the HubSpot connector, their auth
//! links, disconnection and method calls.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use spokes_core::token::{new_id, random_token, sha256_hex};
use spokes_core::{AuthLink, Installation, InstallationStatus, format_rfc3339};
use spokes_hubspot::connector::{self, CONNECTOR_ID, CONNECTOR_NAME};
use spokes_hubspot::{MethodInput, catalogue};

use super::accounts;
use super::connectors::{property_error, unknown_connector};
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::json::{ApiJson, OptionalJson};
use crate::views;

/// An auth link is valid this long.
pub const AUTH_LINK_TTL_MS: i64 = 5 * 60 * 1000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewInstallation {
    connector: String,
    name: Option<String>,
    #[serde(default)]
    properties: BTreeMap<String, String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct AuthLinkBody {
    return_url: Option<String>,
}

async fn load(
    state: &AppState,
    caller: &Caller,
    account_id: &str,
    installation_id: &str,
) -> ApiResult<Installation> {
    accounts::load(state, caller, account_id).await?;
    state
        .store
        .get_installation(installation_id)
        .await?
        .filter(|i| i.account_id == account_id)
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "installation `{installation_id}` does not exist in account `{account_id}`; \
                 GET /v1/accounts/{account_id}/connectors lists them"
            ))
        })
}

async fn render(state: &AppState, installation: &Installation) -> ApiResult<Value> {
    let setup = state.store.get_connector_setup(CONNECTOR_ID).await?;
    Ok(views::installation(installation, setup.as_ref()))
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(account_id): Path<String>,
) -> ApiResult<Json<Value>> {
    accounts::load(&state, &caller, &account_id).await?;
    let setup = state.store.get_connector_setup(CONNECTOR_ID).await?;
    let installations = state.store.list_installations(&account_id).await?;
    let data: Vec<Value> = installations
        .iter()
        .map(|i| views::installation(i, setup.as_ref()))
        .collect();
    Ok(Json(json!({ "data": data })))
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path(account_id): Path<String>,
    ApiJson(body): ApiJson<NewInstallation>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    accounts::load(&state, &caller, &account_id).await?;
    if body.connector != CONNECTOR_ID {
        return Err(unknown_connector(&body.connector));
    }
    connector::validate_properties(&body.properties).map_err(property_error)?;
    let name = body
        .name
        .map(|n| n.trim().to_string())
        .unwrap_or_else(|| CONNECTOR_NAME.into());
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::bad_request(
            "invalid_name",
            "`name` must be 1 to 200 characters",
        ));
    }
    let now = state.clock.now_ms();
    let installation = Installation {
        id: new_id("inst"),
        account_id,
        connector: CONNECTOR_ID.into(),
        name,
        properties: body.properties,
        status: InstallationStatus::Unauthenticated,
        portal: None,
        last_error: None,
        token_expires_at: None,
        auth_version: 0,
        created_at: now,
        updated_at: now,
    };
    state.store.create_installation(&installation).await?;
    tracing::info!(account.id = %installation.account_id, installation.id = %installation.id, "installation created");
    Ok((
        StatusCode::CREATED,
        Json(render(&state, &installation).await?),
    ))
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path((account_id, installation_id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let installation = load(&state, &caller, &account_id, &installation_id).await?;
    Ok(Json(render(&state, &installation).await?))
}

pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path((account_id, installation_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let installation = load(&state, &caller, &account_id, &installation_id).await?;
    state.tokens.disconnect(&installation).await?;
    state.store.delete_installation(&installation.id).await?;
    tracing::info!(account.id = %account_id, installation.id = %installation_id, "installation deleted");
    Ok(StatusCode::NO_CONTENT)
}

pub async fn deauthenticate(
    State(state): State<AppState>,
    caller: Caller,
    Path((account_id, installation_id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let installation = load(&state, &caller, &account_id, &installation_id).await?;
    state.tokens.disconnect(&installation).await?;
    tracing::info!(account.id = %account_id, installation.id = %installation_id, "installation deauthenticated");
    let installation = load(&state, &caller, &account_id, &installation_id).await?;
    Ok(Json(render(&state, &installation).await?))
}

/// True when `return_url` may be redirected to: its origin is allowed, or it is a loopback
/// URL and the sandbox is on.
fn return_url_allowed(state: &AppState, return_url: &str) -> bool {
    let Some(origin) = spokes_core::urls::origin_of(return_url) else {
        return false;
    };
    if state
        .config
        .allowed_return_origins
        .iter()
        .any(|allowed| allowed.trim_end_matches('/').eq_ignore_ascii_case(&origin))
    {
        return true;
    }
    state.config.allow_loopback_return_urls
        && url::Url::parse(return_url)
            .ok()
            .and_then(|u| u.host().map(|h| h.to_owned()))
            .is_some_and(|host| match host {
                url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
                url::Host::Ipv4(ip) => ip.is_loopback(),
                url::Host::Ipv6(ip) => ip.is_loopback(),
            })
}

pub async fn auth_link(
    State(state): State<AppState>,
    caller: Caller,
    Path((account_id, installation_id)): Path<(String, String)>,
    OptionalJson(body): OptionalJson<AuthLinkBody>,
) -> ApiResult<Json<Value>> {
    let installation = load(&state, &caller, &account_id, &installation_id).await?;
    if let Some(url) = &body.return_url
        && (url.len() > 2048 || !return_url_allowed(&state, url))
    {
        return Err(ApiError::bad_request(
            "return_url_not_allowed",
            "`return_url` must be an http(s) URL on an origin listed in the `allowed_return_origins` setting",
        ));
    }
    if state
        .store
        .get_connector_setup(CONNECTOR_ID)
        .await?
        .is_none()
    {
        return Err(ApiError::conflict(
            "setup_missing",
            "the HubSpot connector is not set up; PUT /v1/connectors/hubspot/setup with your app's Client ID and Secret first",
        ));
    }
    let token = random_token(32);
    let now = state.clock.now_ms();
    let link = AuthLink {
        token_hash: sha256_hex(token.as_bytes()),
        installation_id: installation.id,
        return_url: body.return_url,
        created_at: now,
        expires_at: now + AUTH_LINK_TTL_MS,
    };
    state.store.create_auth_link(&link).await?;
    Ok(Json(json!({
        "url": format!("{}/connect/{token}", state.config.public_url.trim_end_matches('/')),
        "expires_at": format_rfc3339(link.expires_at),
    })))
}

pub async fn call_method(
    State(state): State<AppState>,
    caller: Caller,
    Path((account_id, installation_id, method_id)): Path<(String, String, String)>,
    headers: HeaderMap,
    OptionalJson(input): OptionalJson<MethodInput>,
) -> ApiResult<Json<Value>> {
    let installation = load(&state, &caller, &account_id, &installation_id).await?;
    let method = catalogue::find(&method_id).ok_or_else(|| unknown_method(&method_id))?;
    let key = match headers.get("idempotency-key") {
        Some(value) => Some(value.to_str().map_err(|_| {
            ApiError::bad_request(
                "invalid_parameters",
                "the Idempotency-Key header must be visible ASCII",
            )
        })?),
        None => None,
    };
    let output = state
        .methods
        .call(&installation, method, &input, key)
        .await?;
    let mut answer = json!({ "data": output.data });
    if method.paging != catalogue::Paging::None {
        answer["paging"] = json!({ "next": output.next });
    }
    Ok(Json(answer))
}

pub fn unknown_method(id: &str) -> ApiError {
    let close = catalogue::close_matches(id);
    ApiError::not_found(if close.is_empty() {
        format!("method `{id}` does not exist; GET /v1/connectors/hubspot/methods lists them")
    } else {
        format!(
            "method `{id}` does not exist; did you mean {}? GET /v1/connectors/hubspot/methods lists them all",
            close.join(", ")
        )
    })
}

/// `ANY …/proxy/{*path}`: HubSpot's answer as it is, with its status and rate-limit headers.
pub async fn proxy(
    State(state): State<AppState>,
    caller: Caller,
    Path((account_id, installation_id, path)): Path<(String, String, String)>,
    verb: axum::http::Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: bytes::Bytes,
) -> ApiResult<axum::response::Response> {
    let installation = load(&state, &caller, &account_id, &installation_id).await?;
    let mut path_and_query = format!("/{path}");
    if let Some(query) = uri.query() {
        path_and_query.push('?');
        path_and_query.push_str(query);
    }
    let content_type = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let answer = state
        .methods
        .proxy(&installation, verb, &path_and_query, content_type, body)
        .await?;
    let mut response = axum::response::Response::new(axum::body::Body::from(answer.body));
    *response.status_mut() = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::BAD_GATEWAY);
    // reqwest and axum share the `http` crate's types.
    response.headers_mut().extend(answer.headers);
    Ok(response)
}
