//! The console: server-rendered pages for the partner. Log in with a partner API key or the
//! admin password; the session lives on the server (see `session`), its cookie is HttpOnly and
//! SameSite=Strict, and every form carries a CSRF token derived from the session.
//!
//! A new page: a template extending `console/layout.html` with a `chrome: Chrome` field, a
//! handler that starts with `logged_in`, and a route below.

mod login_limit;
mod session;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::time::Duration;

use askama::Template;
use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{ConnectInfo, Form, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use spokes_core::token::{constant_time_eq, sha256_hex};
use spokes_core::{ConnectorSetup, ExposeSecret, Secret, format_rfc3339};
use spokes_hubspot::connector::{self, CONNECTOR_ID, PARAMETERS};
use spokes_store::StoreError;

use crate::AppState;
use crate::pages::{self, render};
pub(crate) use login_limit::LoginLimiter;
use session::Session;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console", get(home))
        .route("/console/login", post(login))
        .route("/console/logout", post(logout))
        .route("/console/setup", post(save_setup))
}

/// What every logged-in page shows around its content (`console/layout.html`).
struct Chrome {
    csrf: String,
    notice: Option<String>,
}

impl Chrome {
    fn new(state: &AppState, session: &Session, notice: Option<String>) -> Self {
        Self {
            csrf: session.csrf_token(state),
            notice,
        }
    }
}

#[derive(Template)]
#[template(path = "console/login.html")]
struct LoginPage<'a> {
    notice: Option<&'a str>,
}

fn login_page(notice: Option<&str>) -> Response {
    render(StatusCode::OK, &LoginPage { notice })
}

fn see_other(location: &'static str, cookie: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    headers.insert(header::LOCATION, HeaderValue::from_static(location));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(cookie) = HeaderValue::from_str(cookie) {
        headers.insert(header::SET_COOKIE, cookie);
    }
    response
}

/// The fields of a console form; a body that is not a form has none, so it fails the CSRF
/// check with the console's own page instead of a bare rejection.
type Fields = HashMap<String, String>;

fn fields(form: Result<Form<Fields>, FormRejection>) -> Fields {
    form.map(|Form(fields)| fields).unwrap_or_default()
}

fn internal_error(err: &StoreError) -> Response {
    tracing::error!(error = %err, "the console could not read the database");
    pages::problem(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Error",
        "The console could not load; see the server log.",
    )
}

fn form_expired() -> Response {
    pages::problem(
        StatusCode::FORBIDDEN,
        "Forbidden",
        "The form expired; reload the console.",
    )
}

/// The request's session, or the page to answer with instead (the login page, or an error).
async fn logged_in(
    state: &AppState,
    headers: &HeaderMap,
    notice: Option<&str>,
) -> Result<Session, Response> {
    match session::current(state, headers).await {
        Ok(Some(session)) => Ok(session),
        Ok(None) => Err(login_page(notice)),
        Err(err) => Err(internal_error(&err)),
    }
}

/// Who a credential logs in as: `Some(None)` the admin, `Some(Some(id))` a partner key.
async fn credential_owner(
    state: &AppState,
    credential: &str,
) -> Result<Option<Option<String>>, StoreError> {
    let admin = state.config.admin_password.as_ref().is_some_and(|p| {
        !p.expose_secret().is_empty()
            && constant_time_eq(p.expose_secret().as_bytes(), credential.as_bytes())
    });
    if admin {
        return Ok(Some(None));
    }
    let key = state
        .store
        .find_api_key_by_hash(&sha256_hex(credential.as_bytes()))
        .await?;
    // Keys restricted to one account cannot see the whole console.
    Ok(key
        .filter(|k| k.revoked_at.is_none() && k.account_id.is_none())
        .map(|k| Some(k.id)))
}

fn too_many_attempts(wait: Duration) -> Response {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let mut response = pages::problem(
        StatusCode::TOO_MANY_REQUESTS,
        "Too many login attempts",
        "There were too many login attempts from your address. Wait a minute and try again.",
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
    response
}

async fn login(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    form: Result<Form<Fields>, FormRejection>,
) -> Response {
    let form = fields(form);
    if let Err(wait) = state.login_limiter.attempt(client.ip()) {
        tracing::warn!(client = %client.ip(), "console logins limited");
        return too_many_attempts(wait);
    }
    let credential = form.get("credential").map(String::as_str).unwrap_or("");
    let key_id = match credential_owner(&state, credential).await {
        Ok(Some(key_id)) => key_id,
        Ok(None) => {
            return login_page(Some("That is not a partner API key or the admin password."));
        }
        Err(err) => return internal_error(&err),
    };
    match session::open(&state, &headers, key_id).await {
        Ok(cookie) => see_other("/console", &cookie),
        Err(err) => internal_error(&err),
    }
}

async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<Fields>, FormRejection>,
) -> Response {
    let form = fields(form);
    let cookie = match session::current(&state, &headers).await {
        Ok(Some(session)) if !session.csrf_ok(&state, form.get("csrf").map(String::as_str)) => {
            return form_expired();
        }
        Ok(Some(session)) => match session::close(&state, &session).await {
            Ok(cookie) => cookie,
            Err(err) => return internal_error(&err),
        },
        Ok(None) => session::clear_cookie(&state),
        Err(err) => return internal_error(&err),
    };
    see_other("/console", &cookie)
}

async fn home(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match logged_in(&state, &headers, None).await {
        Ok(session) => dashboard(&state, &session, None).await,
        Err(page) => page,
    }
}

async fn save_setup(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<Fields>, FormRejection>,
) -> Response {
    let session = match logged_in(&state, &headers, Some("Your session ended; log in again.")).await
    {
        Ok(session) => session,
        Err(page) => return page,
    };
    let form = fields(form);
    if !session.csrf_ok(&state, form.get("csrf").map(String::as_str)) {
        return form_expired();
    }
    let notice = match setup_from_form(&state, &form).await {
        Ok(()) => "Saved.".to_string(),
        Err(message) => message,
    };
    dashboard(&state, &session, Some(notice)).await
}

async fn setup_from_form(state: &AppState, form: &Fields) -> Result<(), String> {
    let field = |name: &str| {
        form.get(name)
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    let client_id = field("client_id");
    if client_id.is_empty() {
        return Err("Client ID is required.".into());
    }
    let mut properties = BTreeMap::new();
    for p in &PARAMETERS {
        let value = field(p.name);
        if !value.is_empty() {
            properties.insert(p.name.to_string(), value);
        }
    }
    connector::validate_properties(&properties).map_err(|e| e.to_string())?;
    let existing = state
        .store
        .get_connector_setup(CONNECTOR_ID)
        .await
        .map_err(|e| e.to_string())?;
    let secret = field("client_secret");
    let client_secret = match existing {
        _ if !secret.is_empty() => Secret::from(secret),
        Some(existing) if existing.client_id == client_id => existing.client_secret,
        _ => return Err("Client Secret is required.".into()),
    };
    let setup = ConnectorSetup {
        connector: CONNECTOR_ID.into(),
        client_id,
        client_secret,
        properties,
        updated_at: state.clock.now_ms(),
    };
    state
        .store
        .put_connector_setup(&setup)
        .await
        .map_err(|e| e.to_string())
}

#[derive(Template)]
#[template(path = "console/dashboard.html")]
struct Dashboard {
    chrome: Chrome,
    callback_url: String,
    webhook_url: String,
    client_id: String,
    secret_saved: bool,
    parameters: Vec<ParameterField>,
    rows: Vec<AccountRow>,
}

struct ParameterField {
    name: &'static str,
    description: &'static str,
    default: &'static str,
    value: String,
}

/// One line of the accounts table: an account with one of its installations, or with none.
struct AccountRow {
    account_name: String,
    account_id: String,
    installation: Option<InstallationCells>,
}

struct InstallationCells {
    name: String,
    id: String,
    status: &'static str,
    portal_id: String,
    account_type: String,
    granted_scopes: String,
    last_error: Option<ErrorCell>,
}

struct ErrorCell {
    code: String,
    message: String,
    at: String,
}

async fn dashboard(state: &AppState, session: &Session, notice: Option<String>) -> Response {
    match dashboard_page(state, Chrome::new(state, session, notice)).await {
        Ok(page) => render(StatusCode::OK, &page),
        Err(err) => internal_error(&err),
    }
}

async fn dashboard_page(state: &AppState, chrome: Chrome) -> Result<Dashboard, StoreError> {
    let setup = state.store.get_connector_setup(CONNECTOR_ID).await?;
    let parameters = PARAMETERS
        .iter()
        .map(|p| ParameterField {
            name: p.name,
            description: p.description,
            default: p.default,
            value: setup
                .as_ref()
                .and_then(|s| s.properties.get(p.name))
                .cloned()
                .unwrap_or_default(),
        })
        .collect();
    let mut rows = Vec::new();
    for account in state.store.list_accounts().await? {
        let installations = state.store.list_installations(&account.id).await?;
        let row = |installation| AccountRow {
            account_name: account.name.clone(),
            account_id: account.id.clone(),
            installation,
        };
        if installations.is_empty() {
            rows.push(row(None));
        }
        for i in installations {
            let portal = i.portal.as_ref();
            rows.push(row(Some(InstallationCells {
                status: i.status.as_str(),
                portal_id: portal.map(|p| p.portal_id.to_string()).unwrap_or_default(),
                account_type: portal.map(|p| p.account_type.clone()).unwrap_or_default(),
                granted_scopes: portal
                    .map(|p| p.granted_scopes.join(" "))
                    .unwrap_or_default(),
                last_error: i.last_error.as_ref().map(|e| ErrorCell {
                    code: e.code.clone(),
                    message: e.message.clone(),
                    at: format_rfc3339(e.at),
                }),
                name: i.name,
                id: i.id,
            })));
        }
    }
    Ok(Dashboard {
        chrome,
        callback_url: state.config.callback_url(),
        webhook_url: state.config.webhook_url(),
        client_id: setup
            .as_ref()
            .map(|s| s.client_id.clone())
            .unwrap_or_default(),
        secret_saved: setup.is_some(),
        parameters,
        rows,
    })
}
