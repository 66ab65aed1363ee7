//! `/v1/accounts/{account}/connectors`: installations of the HubSpot connector, their auth
//! links, the read-only switch, disconnection and method calls.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use spokes_core::token::{new_id, random_token, sha256_hex};
use spokes_core::{ApiKey, AuthLink, Installation, InstallationStatus, format_rfc3339};
use spokes_hubspot::connector::{self, CONNECTOR_ID, CONNECTOR_NAME};
use spokes_hubspot::{MethodInput, catalogue};

use super::accounts;
use super::connectors::{property_error, unknown_connector};
use crate::AppState;
use crate::auth::{Caller, InstallationCaller, installation_not_found};
use crate::error::{ApiError, ApiResult};
use crate::json::{ApiJson, OptionalJson};
use crate::openapi::schema::{self, ErrorBody};
use crate::views;

/// An auth link is valid this long.
pub const AUTH_LINK_TTL_MS: i64 = 5 * 60 * 1000;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInstallation {
    /// `hubspot`.
    connector: String,
    /// 1 to 200 characters; `HubSpot` when left out.
    name: Option<String>,
    /// `Scopes` / `OptionalScopes` of this installation, space-separated; the setup's defaults
    /// when left out.
    #[serde(default)]
    properties: BTreeMap<String, String>,
    /// True refuses every write on this installation, whatever the key: methods that write
    /// and proxy requests other than GET/HEAD answer 403 `read_only`. False when left out.
    #[serde(default)]
    read_only: bool,
}

/// A field left out stays as it is.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InstallationChanges {
    /// True refuses every write on this installation, whatever the key: methods that write
    /// and proxy requests other than GET/HEAD answer 403 `read_only`.
    read_only: Option<bool>,
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthLinkBody {
    /// Where the customer's browser goes after the consent: an http(s) URL on an origin of the
    /// `allowed_return_origins` setting.
    return_url: Option<String>,
}

async fn load(
    state: &AppState,
    caller: &Caller,
    account_id: &str,
    installation_id: &str,
) -> ApiResult<Installation> {
    caller.check_account(account_id)?;
    // As in `InstallationCaller`: the account is read only to say which of the two is missing.
    let found = state
        .store
        .get_installation(installation_id)
        .await?
        .filter(|i| i.account_id == account_id);
    if found.is_none() {
        accounts::load(state, caller, account_id).await?;
    }
    found.ok_or_else(|| installation_not_found(account_id, installation_id))
}

async fn render(state: &AppState, installation: &Installation) -> ApiResult<Value> {
    let setup = state.store.get_connector_setup(CONNECTOR_ID).await?;
    Ok(views::installation(installation, setup.as_ref()))
}

/// List an account's installations.
#[utoipa::path(
    get,
    path = "/v1/accounts/{account}/connectors",
    tag = "Installations",
    operation_id = "installations.list",
    params(("account" = String, Path, description = "Your id of the account")),
    responses(
        (status = 200, description = "The account's installations", body = schema::InstallationList),
        (status = 404, description = "`not_found`: no such account", body = ErrorBody),
    ),
)]
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

/// Install the HubSpot connector into an account.
#[utoipa::path(
    post,
    path = "/v1/accounts/{account}/connectors",
    tag = "Installations",
    operation_id = "installations.create",
    params(("account" = String, Path, description = "Your id of the account")),
    request_body = NewInstallation,
    responses(
        (status = 201, description = "The new installation, `unauthenticated`", body = schema::Installation),
        (status = 400, description = "`invalid_name`, `unknown_property`, `unknown_scope`, `invalid_json`, `invalid_request`", body = ErrorBody),
        (status = 404, description = "`not_found`: no such account or connector", body = ErrorBody),
    ),
)]
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
        read_only: body.read_only,
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

/// Get an installation: status, portal, granted scopes, last error.
#[utoipa::path(
    get,
    path = "/v1/accounts/{account}/connectors/{installation}",
    tag = "Installations",
    operation_id = "installations.get",
    params(("account" = String, Path, description = "Your id of the account"), ("installation" = String, Path, description = "The installation's id (`inst_…`)")),
    responses(
        (status = 200, description = "The installation", body = schema::Installation),
        (status = 404, description = "`not_found`: no such account or installation", body = ErrorBody),
    ),
)]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path((account_id, installation_id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let installation = load(&state, &caller, &account_id, &installation_id).await?;
    Ok(Json(render(&state, &installation).await?))
}

/// Change an installation: make it read-only, or writable again.
#[utoipa::path(
    patch,
    path = "/v1/accounts/{account}/connectors/{installation}",
    tag = "Installations",
    operation_id = "installations.update",
    params(("account" = String, Path, description = "Your id of the account"), ("installation" = String, Path, description = "The installation's id (`inst_…`)")),
    request_body = InstallationChanges,
    responses(
        (status = 200, description = "The changed installation", body = schema::Installation),
        (status = 400, description = "`invalid_json`, `invalid_request`", body = ErrorBody),
        (status = 404, description = "`not_found`: no such account or installation", body = ErrorBody),
    ),
)]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path((account_id, installation_id)): Path<(String, String)>,
    ApiJson(changes): ApiJson<InstallationChanges>,
) -> ApiResult<Json<Value>> {
    let mut installation = load(&state, &caller, &account_id, &installation_id).await?;
    if caller.read_only {
        // Otherwise a read-only key could lift an installation's read-only flag.
        return Err(ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            "read_only",
            "this API key is read-only and cannot change an installation; use a key created without --read-only",
        ));
    }
    if let Some(read_only) = changes.read_only {
        let now = state.clock.now_ms();
        if !state
            .store
            .set_installation_read_only(&installation.id, read_only, now)
            .await?
        {
            // Deleted since it was read.
            return Err(installation_not_found(&account_id, &installation_id));
        }
        installation.read_only = read_only;
        installation.updated_at = now;
        tracing::info!(account.id = %account_id, installation.id = %installation_id, read_only, "installation changed");
    }
    Ok(Json(render(&state, &installation).await?))
}

/// Delete an installation; its tokens are revoked at HubSpot first.
#[utoipa::path(
    delete,
    path = "/v1/accounts/{account}/connectors/{installation}",
    tag = "Installations",
    operation_id = "installations.delete",
    params(("account" = String, Path, description = "Your id of the account"), ("installation" = String, Path, description = "The installation's id (`inst_…`)")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "`not_found`: no such account or installation", body = ErrorBody),
    ),
)]
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

/// Revoke the installation's tokens at HubSpot and forget them.
#[utoipa::path(
    post,
    path = "/v1/accounts/{account}/connectors/{installation}/deauthenticate",
    tag = "Installations",
    operation_id = "installations.deauthenticate",
    params(("account" = String, Path, description = "Your id of the account"), ("installation" = String, Path, description = "The installation's id (`inst_…`)")),
    responses(
        (status = 200, description = "The installation, now `unauthenticated`", body = schema::Installation),
        (status = 404, description = "`not_found`: no such account or installation", body = ErrorBody),
    ),
)]
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

/// Create a one-time consent link (valid 5 minutes) for the customer's browser.
#[utoipa::path(
    post,
    path = "/v1/accounts/{account}/connectors/{installation}/auth-link",
    tag = "Installations",
    operation_id = "installations.auth_link",
    params(("account" = String, Path, description = "Your id of the account"), ("installation" = String, Path, description = "The installation's id (`inst_…`)")),
    request_body(content = Option<AuthLinkBody>, description = "Optional"),
    responses(
        (status = 200, description = "The link", body = schema::AuthLink),
        (status = 400, description = "`return_url_not_allowed`, `invalid_json`, `invalid_request`", body = ErrorBody),
        (status = 404, description = "`not_found`: no such account or installation", body = ErrorBody),
        (status = 409, description = "`setup_missing`: the connector is not set up", body = ErrorBody),
    ),
)]
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

/// Call a method of the catalogue for the installation.
///
/// Each method also has a path of its own in this document, with the exact JSON Schemas of its
/// input and output. With `paging.all` and `Accept: application/x-ndjson`, a paged read answers
/// its records one per line as HubSpot's pages arrive (memory flat in the record count); an error
/// before the first record answers as usual, a later one is the last line,
/// `{"error": {"code", "message"}}`.
#[utoipa::path(
    post,
    path = "/v1/accounts/{account}/connectors/{installation}/methods/{method}",
    tag = "Methods",
    operation_id = "methods.call",
    params(
        ("account" = String, Path, description = "Your id of the account"),
        ("installation" = String, Path, description = "The installation's id (`inst_…`)"),
        ("method" = String, Path, description = "A method id, e.g. `contacts.create`"),
        ("Idempotency-Key" = Option<String>, Header, nullable = false, description = "On writes: the same key within 24 hours answers the first outcome and never writes twice"),
        ("Accept" = Option<String>, Header, nullable = false, description = "`application/x-ndjson` with `paging.all` on a paged read: the records stream one per line"),
    ),
    request_body(content = Option<schema::MethodInput>, description = "`{parameters, fields, paging}`; may be left out when the method needs none"),
    responses(
        (status = 200, description = "`data`, and `paging.next` for methods that page; with `Accept: application/x-ndjson` and `paging.all`, one record per line (an error after the first record: a last line `{\"error\": {\"code\", \"message\"}}`)", content(
            (schema::MethodOutput = "application/json"),
            (Object = "application/x-ndjson"),
        )),
        (status = 400, description = "`invalid_parameters` (each named in `details`), `invalid_json`", body = ErrorBody),
        (status = 403, description = "`missing_scopes`, `sales_hub_seat_required`, `read_only` (a method that writes, with a read-only key or on a read-only installation)", body = ErrorBody),
        (status = 404, description = "`not_found`: no such account, installation, method (with close matches) or record", body = ErrorBody),
        (status = 409, description = "`conflict` (with `details.existing_id`), `not_connected`, `needs_reauth`, `setup_missing`, `in_progress`", body = ErrorBody),
        (status = 422, description = "`validation_failed` (per property), `idempotency_key_reused`", body = ErrorBody),
        (status = 429, description = "`rate_limited`: HubSpot's daily limit", body = ErrorBody),
        (status = 502, description = "`outcome_unknown`, `hubspot_error`", body = ErrorBody),
        (status = 503, description = "`hubspot_unavailable`", body = ErrorBody),
    ),
)]
pub async fn call_method(
    State(state): State<AppState>,
    InstallationCaller {
        key: api_key,
        installation,
        tokens,
    }: InstallationCaller,
    Path((_, _, method_id)): Path<(String, String, String)>,
    headers: HeaderMap,
    OptionalJson(input): OptionalJson<MethodInput>,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;

    /// The last line of a stream that failed after its first record: the API's error shape.
    fn error_line(error: spokes_hubspot::MethodError) -> bytes::Bytes {
        let mut body = json!({"code": error.code, "message": error.message});
        if !error.details.is_null() {
            body["details"] = error.details;
        }
        if let Some(id) = error.correlation_id {
            body["correlation_id"] = id.into();
        }
        let mut out = json!({ "error": body }).to_string().into_bytes();
        out.push(b'\n');
        out.into()
    }

    let (method, input) = match catalogue::find(&method_id) {
        Some(method) => (method, input),
        // A method of a copied Custom Objects category runs as the generic one, bound to
        // its schema.
        None => match super::methods::find_copy(&state, &method_id).await? {
            Some(copy) => copy.copy_of.as_ref().map_or_else(
                || Err(unknown_method(&method_id)),
                |of| {
                    of.bind(installation.portal.as_ref().map(|p| p.portal_id), input)
                        .map_err(ApiError::from)
                },
            )?,
            None => return Err(unknown_method(&method_id)),
        },
    };
    if method.writes {
        refuse_read_only(&api_key, &installation, &format!("`{method_id}` writes"))?;
    }
    let wants_ndjson = headers
        .get_all(axum::http::header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| {
            t.split(';')
                .next()
                .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/x-ndjson"))
        });
    if wants_ndjson
        && input.paging.all
        && method.paging != catalogue::Paging::None
        && !method.writes
    {
        // Reads only: idempotency keys do not apply.
        let stream = state
            .methods
            .call_stream(installation, tokens.as_ref(), method, input)
            .await?;
        let body = futures_util::stream::unfold(Some(stream), |stream| async move {
            let mut stream = stream?;
            let chunk = match stream.next_page().await? {
                Ok(records) => (records.to_lines().into(), Some(stream)),
                Err(error) => (error_line(error), None),
            };
            Some((Ok::<_, std::convert::Infallible>(chunk.0), chunk.1))
        });
        return Ok((
            [(axum::http::header::CONTENT_TYPE, "application/x-ndjson")],
            axum::body::Body::from_stream(body),
        )
            .into_response());
    }
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
        .call(&installation, tokens.as_ref(), method, &input, key)
        .await?;
    let mut answer = json!({ "data": output.data });
    if method.paging != catalogue::Paging::None {
        answer["paging"] = json!({ "next": output.next });
    }
    Ok(Json(answer).into_response())
}

/// Refuses a write (`what` says which) with a read-only key or on a read-only installation,
/// before anything is sent to HubSpot, saying how to lift the restriction.
fn refuse_read_only(key: &ApiKey, installation: &Installation, what: &str) -> ApiResult<()> {
    match key
        .read_only_reason()
        .or_else(|| installation.read_only_reason())
    {
        Some(why) => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "read_only",
            format!("{what}, and {why}"),
        )),
        None => Ok(()),
    }
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

/// Send any request to a HubSpot API path with the installation's token.
///
/// `ANY …/proxy/{*path}`: HubSpot's answer as it is, with its status and rate-limit headers.
/// Only HubSpot's API host; no OAuth or admin paths.
#[utoipa::path(
    method(get, post, put, patch, delete),
    path = "/v1/accounts/{account}/connectors/{installation}/proxy/{path}",
    tag = "Proxy",
    operation_id = "proxy",
    params(
        ("account" = String, Path, description = "Your id of the account"),
        ("installation" = String, Path, description = "The installation's id (`inst_…`)"),
        ("path" = String, Path, description = "The HubSpot API path, e.g. `crm/v3/objects/contacts` (may hold `/`), with its query"),
    ),
    request_body(content = Option<Object>, description = "Passed to HubSpot as it is"),
    responses(
        (status = 200, description = "HubSpot's answer, status and rate-limit headers as they are"),
        (status = 400, description = "`invalid_parameters`: a path Spokes does not forward", body = ErrorBody),
        (status = 403, description = "`read_only`: a request other than GET/HEAD with a read-only key or on a read-only installation", body = ErrorBody),
        (status = 404, description = "`not_found`: no such account or installation", body = ErrorBody),
        (status = 409, description = "`not_connected`, `needs_reauth`", body = ErrorBody),
        (status = 502, description = "`outcome_unknown`: a write HubSpot may have done", body = ErrorBody),
        (status = 503, description = "`hubspot_unavailable`", body = ErrorBody),
    ),
)]
pub async fn proxy(
    State(state): State<AppState>,
    InstallationCaller {
        key: api_key,
        installation,
        tokens,
    }: InstallationCaller,
    Path((_, _, path)): Path<(String, String, String)>,
    verb: axum::http::Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: bytes::Bytes,
) -> ApiResult<axum::response::Response> {
    // Only GET and HEAD are known not to write.
    if verb != axum::http::Method::GET && verb != axum::http::Method::HEAD {
        refuse_read_only(
            &api_key,
            &installation,
            &format!("a proxied {verb} may write"),
        )?;
    }
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
        .proxy(
            &installation,
            tokens.as_ref(),
            verb,
            &path_and_query,
            content_type,
            body,
        )
        .await?;
    let mut response = axum::response::Response::new(axum::body::Body::from(answer.body));
    *response.status_mut() = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::BAD_GATEWAY);
    // reqwest and axum share the `http` crate's types.
    response.headers_mut().extend(answer.headers);
    Ok(response)
}
