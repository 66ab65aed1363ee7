//! The console: server-rendered pages for the partner. Log in with a partner API key or the
//! admin password; the session is an HMAC-signed HttpOnly SameSite cookie, and every form
//! carries a CSRF token derived from the session.

use spokes_core::ExposeSecret;
use std::collections::HashMap;

use axum::Router;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use spokes_core::token::{constant_time_eq, sha256_hex};
use spokes_core::{ConnectorSetup, Secret, format_rfc3339};
use spokes_hubspot::connector::{self, CONNECTOR_ID, PARAMETERS};

use crate::AppState;
use crate::pages::{escape, html, layout};

const COOKIE: &str = "spokes_console";
const SESSION_MS: i64 = 8 * 60 * 60 * 1000;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console", get(home))
        .route("/console/login", post(login))
        .route("/console/logout", post(logout))
        .route("/console/setup", post(save_setup))
}

fn mac(state: &AppState, purpose: &str, value: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(state.config.console_secret.expose_secret().as_bytes())
            .expect("HMAC accepts keys of any length");
    mac.update(purpose.as_bytes());
    mac.update(b"|");
    mac.update(value.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The session cookie's value when it is authentic and unexpired.
fn session(state: &AppState, headers: &HeaderMap) -> Option<String> {
    let cookies = headers.get(header::COOKIE)?.to_str().ok()?;
    let value = cookies
        .split(';')
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)?
        .1;
    let (payload, signature) = value.rsplit_once('.')?;
    let expires: i64 = payload.split('.').next()?.parse().ok()?;
    let valid = constant_time_eq(
        mac(state, "session", payload).as_bytes(),
        signature.as_bytes(),
    );
    (valid && expires > state.clock.now_ms()).then(|| value.to_string())
}

fn csrf_token(state: &AppState, session: &str) -> String {
    mac(state, "csrf", session)
}

fn csrf_ok(state: &AppState, session: &str, form: &HashMap<String, String>) -> bool {
    form.get("csrf")
        .is_some_and(|t| constant_time_eq(t.as_bytes(), csrf_token(state, session).as_bytes()))
}

fn see_other(location: &'static str, cookie: Option<String>) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    response
        .headers_mut()
        .insert(header::LOCATION, HeaderValue::from_static(location));
    if let Some(cookie) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

fn login_page(message: Option<&str>) -> Response {
    let notice = message
        .map(|m| format!("<p class=\"warn\">{}</p>", escape(m)))
        .unwrap_or_default();
    let body = format!(
        "<h1>Spokes console</h1>{notice}<form method=\"post\" action=\"/console/login\">\
         <label for=\"credential\">API key or admin password</label>\
         <input type=\"password\" id=\"credential\" name=\"credential\" autocomplete=\"current-password\" required>\
         <button type=\"submit\">Log in</button></form>\
         <p class=\"hint\">Create a partner key with <code>spokes keys create</code>.</p>"
    );
    html(StatusCode::OK, layout("Spokes console", &body))
}

async fn login(
    State(state): State<AppState>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let credential = form.get("credential").map(String::as_str).unwrap_or("");
    let who = if state.config.admin_password.as_ref().is_some_and(|p| {
        !p.expose_secret().is_empty()
            && constant_time_eq(p.expose_secret().as_bytes(), credential.as_bytes())
    }) {
        Some("admin".to_string())
    } else {
        match state
            .store
            .find_api_key_by_hash(&sha256_hex(credential.as_bytes()))
            .await
        {
            Ok(Some(key)) if key.revoked_at.is_none() && key.account_id.is_none() => Some(key.id),
            Ok(_) => None,
            Err(err) => {
                tracing::error!(error = %err, "console login could not read API keys");
                None
            }
        }
    };
    let Some(who) = who else {
        return login_page(Some("That is not a partner API key or the admin password."));
    };
    let payload = format!("{}.{who}", state.clock.now_ms() + SESSION_MS);
    let value = format!("{payload}.{}", mac(&state, "session", &payload));
    let secure = if state.config.public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{COOKIE}={value}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        SESSION_MS / 1000
    );
    see_other("/console", Some(cookie))
}

async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if let Some(session) = session(&state, &headers)
        && !csrf_ok(&state, &session, &form)
    {
        return html(
            StatusCode::FORBIDDEN,
            layout("Forbidden", "<p>The form expired; reload the console.</p>"),
        );
    }
    see_other(
        "/console",
        Some(format!(
            "{COOKIE}=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0"
        )),
    )
}

async fn home(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(session) = session(&state, &headers) else {
        return login_page(None);
    };
    dashboard(&state, &session, None).await
}

async fn save_setup(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let Some(session) = session(&state, &headers) else {
        return login_page(Some("Your session ended; log in again."));
    };
    if !csrf_ok(&state, &session, &form) {
        return html(
            StatusCode::FORBIDDEN,
            layout("Forbidden", "<p>The form expired; reload the console.</p>"),
        );
    }
    let result = setup_from_form(&state, &form).await;
    let notice = match result {
        Ok(()) => "Saved.".to_string(),
        Err(message) => message,
    };
    dashboard(&state, &session, Some(&notice)).await
}

async fn setup_from_form(state: &AppState, form: &HashMap<String, String>) -> Result<(), String> {
    let field = |name: &str| {
        form.get(name)
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    let client_id = field("client_id");
    if client_id.is_empty() {
        return Err("Client ID is required.".into());
    }
    let mut properties = std::collections::BTreeMap::new();
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

async fn dashboard(state: &AppState, session: &str, notice: Option<&str>) -> Response {
    match dashboard_page(state, session, notice).await {
        Ok(page) => page,
        Err(err) => {
            tracing::error!(error = %err, "console could not load");
            html(
                StatusCode::INTERNAL_SERVER_ERROR,
                layout(
                    "Error",
                    "<p>The console could not load; see the server log.</p>",
                ),
            )
        }
    }
}

async fn dashboard_page(
    state: &AppState,
    session: &str,
    notice: Option<&str>,
) -> Result<Response, spokes_store::StoreError> {
    let csrf = csrf_token(state, session);
    let setup = state.store.get_connector_setup(CONNECTOR_ID).await?;
    let mut body = String::from("<nav><strong>Spokes</strong></nav>");
    if let Some(notice) = notice {
        body.push_str(&format!("<p class=\"warn\">{}</p>", escape(notice)));
    }
    body.push_str("<h1>HubSpot connector setup</h1>");
    body.push_str(&format!(
        "<p>In your HubSpot app's <em>Auth</em> tab, set the Redirect URL to <code>{}</code>, then paste the Client ID and Client Secret here.</p>",
        escape(&state.config.callback_url())
    ));
    body.push_str(&format!(
        "<form method=\"post\" action=\"/console/setup\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <label for=\"client_id\">Client ID</label><input type=\"text\" id=\"client_id\" name=\"client_id\" value=\"{}\">\
         <label for=\"client_secret\">Client Secret <span class=\"hint\">{}</span></label>\
         <input type=\"password\" id=\"client_secret\" name=\"client_secret\" autocomplete=\"off\">",
        escape(setup.as_ref().map(|s| s.client_id.as_str()).unwrap_or("")),
        if setup.is_some() { "(saved; leave empty to keep it)" } else { "" },
    ));
    for p in &PARAMETERS {
        let value = setup
            .as_ref()
            .and_then(|s| s.properties.get(p.name))
            .map(String::as_str)
            .unwrap_or("");
        body.push_str(&format!(
            "<label for=\"{name}\">{name} <span class=\"hint\">{desc}</span></label>\
             <input type=\"text\" id=\"{name}\" name=\"{name}\" value=\"{value}\" placeholder=\"{default}\">",
            name = escape(p.name),
            desc = escape(p.description),
            value = escape(value),
            default = escape(p.default),
        ));
    }
    body.push_str("<button type=\"submit\">Save</button></form>");
    body.push_str(
        "<p class=\"hint\">Customers choose an account on HubSpot's \"Choose an Account\" screen: they must pick the main account \
         (the one with Products attached), not a developer account. Products and Line Items methods need a paid Sales Hub seat.</p>",
    );
    body.push_str("<h1>Accounts</h1><table><tr><th>Account</th><th>Installation</th><th>Status</th><th>Portal</th><th>Account type</th><th>Granted scopes</th><th>Last error</th></tr>");
    let accounts = state.store.list_accounts().await?;
    for account in &accounts {
        let installations = state.store.list_installations(&account.id).await?;
        if installations.is_empty() {
            body.push_str(&format!("<tr><td>{} <span class=\"hint\">{}</span></td><td colspan=\"6\" class=\"hint\">no installations</td></tr>", escape(&account.name), escape(&account.id)));
        }
        for i in &installations {
            let portal = i.portal.as_ref();
            body.push_str(&format!(
                "<tr><td>{} <span class=\"hint\">{}</span></td><td>{} <span class=\"hint\">{}</span></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&account.name),
                escape(&account.id),
                escape(&i.name),
                escape(&i.id),
                i.status.as_str(),
                portal.map(|p| p.portal_id.to_string()).unwrap_or_default(),
                escape(portal.map(|p| p.account_type.as_str()).unwrap_or("")),
                escape(&portal.map(|p| p.granted_scopes.join(" ")).unwrap_or_default()),
                i.last_error.as_ref().map(|e| format!("<code>{}</code> {} <span class=\"hint\">{}</span>", escape(&e.code), escape(&e.message), format_rfc3339(e.at))).unwrap_or_default(),
            ));
        }
    }
    if accounts.is_empty() {
        body.push_str("<tr><td colspan=\"7\" class=\"hint\">No accounts yet: create one with POST /v1/accounts.</td></tr>");
    }
    body.push_str(&format!(
        "</table><form method=\"post\" action=\"/console/logout\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><button type=\"submit\">Log out</button></form>"
    ));
    Ok(html(StatusCode::OK, layout("Spokes console", &body)))
}
