//! HubSpot's OAuth 2.0: the authorize (consent) flow, the token endpoints,
//! token metadata, introspection and revocation.

use std::collections::{BTreeSet, HashMap};

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as AxState};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::errors::{ApiError, OAuthError};
use crate::pages;
use crate::portals::{self, Portal};
use crate::state::{
    AUTH_CODE_LIFETIME_SECS, AuthCode, PkceMethod, RefreshTokenRecord, Sim, SimApp, State,
    TokenResponse, now_ms,
};
use crate::{catalogue, ids};

/// How long an expired authorization code is remembered.
const CODE_MEMORY_MS: i64 = 24 * 3_600_000;

/// The OAuth routes.
pub fn routes() -> Router<Sim> {
    Router::new()
        .route(
            "/oauth/authorize",
            get(authorize_page).post(authorize_decision),
        )
        .route(
            "/oauth/{portal_id}/authorize",
            get(authorize_page_for_portal).post(authorize_decision_for_portal),
        )
        .route("/oauth/v1/token", post(token_v1))
        .route("/oauth/v3/token", post(token_v3))
        .route("/oauth/2026-03/token", post(token_v3))
        .route("/oauth/v3/token/introspect", post(introspect))
        .route("/oauth/2026-03/token/introspect", post(introspect))
        .route("/oauth/v3/token/revoke", post(revoke))
        .route("/oauth/2026-03/token/revoke", post(revoke))
        .route("/oauth/v1/access-tokens/{token}", get(access_token_info))
        .route(
            "/oauth/v1/refresh-tokens/{token}",
            get(refresh_token_info).delete(delete_refresh_token),
        )
}

/// Parses `application/x-www-form-urlencoded` text; the first value of a name wins.
fn parse_form(input: &[u8]) -> HashMap<String, String> {
    let mut map = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(input) {
        map.entry(k.into_owned()).or_insert_with(|| v.into_owned());
    }
    map
}

/// A non-empty parameter.
fn param<'a>(map: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    map.get(name).map(String::as_str).filter(|v| !v.is_empty())
}

fn user_email(_user_id: i64) -> &'static str {
    portals::DEFAULT_USER.email
}

// ---------------------------------------------------------------------------
// Authorize
// ---------------------------------------------------------------------------

/// An install URL's parameters once checked against the app.
struct CheckedAuthorize {
    app: SimApp,
    redirect_uri: String,
    required: Vec<String>,
    optional: Vec<String>,
    pkce: Option<(PkceMethod, String)>,
}

/// Why an install URL is refused; each has its HubSpot page.
enum Refusal {
    UnknownClient(String),
    RedirectMismatch(String),
    ScopesNotConfigured(Vec<String>),
    BadRequest(String),
}

impl Refusal {
    fn page(&self) -> Response {
        match self {
            Self::UnknownClient(client_id) => pages::unknown_client(client_id),
            Self::RedirectMismatch(uri) => pages::redirect_mismatch(uri),
            Self::ScopesNotConfigured(scopes) => pages::scopes_not_configured(scopes),
            Self::BadRequest(message) => pages::bad_request(message),
        }
    }
}

/// Checks an install URL (or the consent form, which repeats it) the way HubSpot
/// does before showing the account chooser.
fn check_authorize(
    sim: &Sim,
    params: &HashMap<String, String>,
) -> Result<CheckedAuthorize, Refusal> {
    let client_id = param(params, "client_id").unwrap_or_default();
    let app = sim
        .with(|s| s.app(client_id).cloned())
        .ok_or_else(|| Refusal::UnknownClient(client_id.to_owned()))?;
    let redirect_uri = param(params, "redirect_uri").unwrap_or_default().to_owned();
    if !app.redirect_urls.contains(&redirect_uri) {
        return Err(Refusal::RedirectMismatch(redirect_uri));
    }
    let required = catalogue::parse_scope_list(param(params, "scope").unwrap_or_default());
    let optional: Vec<String> =
        catalogue::parse_scope_list(param(params, "optional_scope").unwrap_or_default())
            .into_iter()
            .filter(|s| !required.contains(s))
            .collect();
    let not_configured: Vec<String> = required
        .iter()
        .chain(&optional)
        .filter(|s| !catalogue::is_known(s) || !app.allows_scope(s))
        .cloned()
        .collect();
    if !not_configured.is_empty() {
        return Err(Refusal::ScopesNotConfigured(not_configured));
    }
    let pkce = match param(params, "code_challenge") {
        None => None,
        Some(challenge) => {
            let method = match param(params, "code_challenge_method") {
                None | Some("plain") => PkceMethod::Plain,
                Some("S256") => PkceMethod::S256,
                Some(other) => {
                    return Err(Refusal::BadRequest(format!(
                        "Unsupported code_challenge_method '{other}'; use S256 or plain."
                    )));
                }
            };
            Some((method, challenge.to_owned()))
        }
    };
    Ok(CheckedAuthorize {
        app,
        redirect_uri,
        required,
        optional,
        pkce,
    })
}

/// The original parameters, repeated as hidden inputs of the consent form.
fn hidden_inputs(params: &HashMap<String, String>) -> Vec<(&'static str, &str)> {
    const CARRIED: [&str; 7] = [
        "client_id",
        "redirect_uri",
        "scope",
        "optional_scope",
        "state",
        "code_challenge",
        "code_challenge_method",
    ];
    CARRIED
        .into_iter()
        .filter_map(|name| param(params, name).map(|v| (name, v)))
        .collect()
}

fn show_chooser(sim: &Sim, query: Option<String>, only: Option<&'static Portal>) -> Response {
    let params = parse_form(query.unwrap_or_default().as_bytes());
    let checked = match check_authorize(sim, &params) {
        Ok(c) => c,
        Err(refusal) => return refusal.page(),
    };
    let portals = match only {
        Some(p) => vec![p],
        None => portals::all().iter().collect(),
    };
    pages::chooser(&pages::Chooser {
        app: &checked.app,
        user: portals::DEFAULT_USER,
        portals,
        required_scopes: &checked.required,
        optional_scopes: &checked.optional,
        hidden: hidden_inputs(&params),
    })
}

/// `GET /oauth/authorize`: the account chooser listing every portal.
async fn authorize_page(AxState(sim): AxState<Sim>, RawQuery(query): RawQuery) -> Response {
    show_chooser(&sim, query, None)
}

/// `GET /oauth/{portalId}/authorize`: the account chooser limited to one portal.
async fn authorize_page_for_portal(
    AxState(sim): AxState<Sim>,
    Path(portal_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    match portal_id.parse().ok().and_then(portals::find) {
        Some(p) => show_chooser(&sim, query, Some(p)),
        None => pages::unknown_portal(&portal_id),
    }
}

/// `POST /oauth/authorize`: the consent form's submission.
async fn authorize_decision(AxState(sim): AxState<Sim>, body: Bytes) -> Response {
    decide(&sim, &parse_form(&body), None)
}

/// `POST /oauth/{portalId}/authorize`: as above, the portal defaulting to the path's.
async fn authorize_decision_for_portal(
    AxState(sim): AxState<Sim>,
    Path(portal_id): Path<String>,
    body: Bytes,
) -> Response {
    decide(&sim, &parse_form(&body), Some(&portal_id))
}

fn decide(sim: &Sim, form: &HashMap<String, String>, path_portal: Option<&str>) -> Response {
    let checked = match check_authorize(sim, form) {
        Ok(c) => c,
        Err(refusal) => return refusal.page(),
    };
    let state = param(form, "state");
    match param(form, "decision") {
        Some("deny") => {
            sim.with(|s| s.counters.consents_denied += 1);
            let mut pairs = vec![
                ("error", "access_denied"),
                ("error_description", "The user denied the request."),
            ];
            pairs.extend(state.map(|st| ("state", st)));
            redirect(&checked.redirect_uri, &pairs)
        }
        Some("allow") => allow(sim, &checked, param(form, "portal_id"), path_portal, state),
        _ => pages::bad_request("Choose Connect app or Cancel."),
    }
}

/// The user chose a portal and clicked "Connect app": issue a code and redirect.
fn allow(
    sim: &Sim,
    checked: &CheckedAuthorize,
    portal_param: Option<&str>,
    path_portal: Option<&str>,
    state: Option<&str>,
) -> Response {
    if let (Some(a), Some(b)) = (portal_param, path_portal)
        && a != b
    {
        return pages::bad_request("The chosen account doesn't match the account in the URL.");
    }
    let Some(portal_id) = portal_param.or(path_portal) else {
        return pages::bad_request("Choose an account to continue.");
    };
    let Some(portal) = portal_id.parse().ok().and_then(portals::find) else {
        return pages::unknown_portal(portal_id);
    };
    let lacking: Vec<String> = checked
        .required
        .iter()
        .filter(|s| !portal.supports(s))
        .cloned()
        .collect();
    if !lacking.is_empty() {
        return pages::account_lacks_features(portal, &lacking);
    }
    let granted: BTreeSet<String> = std::iter::once("oauth".to_owned())
        .chain(checked.required.iter().cloned())
        .chain(
            checked
                .optional
                .iter()
                .filter(|s| portal.supports(s))
                .cloned(),
        )
        .collect();
    let code = ids::auth_code();
    let now = now_ms();
    sim.with(|s| {
        s.counters.consents_allowed += 1;
        // Codes dead for a day are forgotten (until then they answer EXPIRED_AUTH_CODE).
        s.codes
            .retain(|_, c| c.expires_at_ms > now - CODE_MEMORY_MS);
        s.codes.insert(
            code.clone(),
            AuthCode {
                client_id: checked.app.client_id.clone(),
                portal_id: portal.id,
                user_id: portals::DEFAULT_USER.user_id,
                scopes: granted.into_iter().collect(),
                redirect_uri: checked.redirect_uri.clone(),
                pkce: checked.pkce.clone(),
                expires_at_ms: now + AUTH_CODE_LIFETIME_SECS * 1000,
            },
        );
    });
    tracing::debug!(
        portal.id = portal.id,
        app.id = checked.app.app_id,
        "hubspot-sim: consent given"
    );
    let mut pairs = vec![("code", code.as_str())];
    pairs.extend(state.map(|st| ("state", st)));
    redirect(&checked.redirect_uri, &pairs)
}

/// A 302 to `base` with `pairs` appended to its query.
fn redirect(base: &str, pairs: &[(&str, &str)]) -> Response {
    let Ok(mut url) = url::Url::parse(base) else {
        return pages::redirect_mismatch(base);
    };
    {
        let mut query = url.query_pairs_mut();
        for (k, v) in pairs {
            query.append_pair(k, v);
        }
    }
    match HeaderValue::from_str(url.as_str()) {
        Ok(location) => (StatusCode::FOUND, [(header::LOCATION, location)]).into_response(),
        Err(_) => pages::redirect_mismatch(base),
    }
}

// ---------------------------------------------------------------------------
// Token endpoint
// ---------------------------------------------------------------------------

/// Whether the request body is (or may be taken as) a form.
fn is_form(headers: &HeaderMap) -> bool {
    match headers.get(header::CONTENT_TYPE) {
        None => true,
        Some(v) => v.to_str().is_ok_and(|ct| {
            ct.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        }),
    }
}

/// `POST /oauth/v1/token`: the form body, plus the legacy query parameters
/// `client_secret` and `refresh_token`.
async fn token_v1(
    AxState(sim): AxState<Sim>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !is_form(&headers) {
        return not_a_form(&sim);
    }
    let mut params = parse_form(&body);
    let query = parse_form(query.unwrap_or_default().as_bytes());
    for name in ["client_secret", "refresh_token"] {
        if param(&params, name).is_none()
            && let Some(v) = param(&query, name)
        {
            params.insert(name.to_owned(), v.to_owned());
        }
    }
    token_response(&sim, &params)
}

/// `POST /oauth/v3/token` and `/oauth/2026-03/token`: form body only.
async fn token_v3(AxState(sim): AxState<Sim>, headers: HeaderMap, body: Bytes) -> Response {
    if !is_form(&headers) {
        return not_a_form(&sim);
    }
    token_response(&sim, &parse_form(&body))
}

/// A token request whose body is not a form: counted under grant type `other`.
fn not_a_form(sim: &Sim) -> Response {
    sim.with(|s| s.count_token_request(None));
    token_failure(sim, OAuthError::bad_content_type())
}

fn token_failure(sim: &Sim, err: OAuthError) -> Response {
    sim.with(|s| s.count_token_error(err.status));
    err.into_response()
}

fn token_response(sim: &Sim, params: &HashMap<String, String>) -> Response {
    let grant_type = param(params, "grant_type");
    sim.with(|s| s.count_token_request(grant_type));
    let result = sim.with(|s| grant(s, params));
    match result {
        Ok(tokens) => {
            tracing::debug!(portal.id = tokens.hub_id, "hubspot-sim: tokens issued");
            Json(tokens).into_response()
        }
        Err(err) => token_failure(sim, err),
    }
}

/// The app named by `client_id`, if `client_secret` is its secret.
fn client<'a>(s: &'a State, params: &HashMap<String, String>) -> Result<&'a SimApp, OAuthError> {
    let client_id = param(params, "client_id").unwrap_or_default();
    let app = s.app(client_id).ok_or_else(OAuthError::bad_client_id)?;
    if param(params, "client_secret") != Some(app.client_secret.as_str()) {
        return Err(OAuthError::bad_client_secret());
    }
    Ok(app)
}

fn grant(s: &mut State, params: &HashMap<String, String>) -> Result<TokenResponse, OAuthError> {
    let grant_type = param(params, "grant_type");
    if !matches!(grant_type, Some("authorization_code" | "refresh_token")) {
        return Err(OAuthError::bad_grant_type());
    }
    let app = client(s, params)?;
    let (app_id, client_id) = (app.app_id, app.client_id.clone());
    if grant_type == Some("authorization_code") {
        let code_value = param(params, "code").unwrap_or_default();
        let code = s
            .codes
            .get(code_value)
            .filter(|c| c.client_id == client_id)
            .ok_or_else(OAuthError::bad_auth_code)?;
        if now_ms() >= code.expires_at_ms {
            return Err(OAuthError::expired_auth_code());
        }
        match param(params, "redirect_uri") {
            None => return Err(OAuthError::missing_redirect_uri()),
            Some(r) if r != code.redirect_uri => return Err(OAuthError::redirect_uri_mismatch()),
            Some(_) => {}
        }
        if let Some((method, challenge)) = &code.pkce {
            let verifier =
                param(params, "code_verifier").ok_or_else(OAuthError::bad_code_verifier)?;
            let derived = match method {
                PkceMethod::Plain => verifier.to_owned(),
                PkceMethod::S256 => ids::pkce_s256(verifier),
            };
            if derived != *challenge {
                return Err(OAuthError::bad_code_verifier());
            }
        }
        let code = s
            .codes
            .remove(code_value)
            .ok_or_else(OAuthError::bad_auth_code)?;
        Ok(s.mint(
            app_id,
            &client_id,
            code.portal_id,
            code.user_id,
            code.scopes,
            None,
        ))
    } else {
        let token = param(params, "refresh_token").unwrap_or_default();
        let rec = s
            .refresh_tokens
            .get(token)
            .filter(|r| r.client_id == client_id)
            .cloned()
            .ok_or_else(OAuthError::bad_refresh_token)?;
        Ok(s.mint(
            app_id,
            &client_id,
            rec.portal_id,
            rec.user_id,
            rec.scopes,
            Some(rec.token),
        ))
    }
}

// ---------------------------------------------------------------------------
// Token metadata (v1)
// ---------------------------------------------------------------------------

fn hub_domain(portal_id: i64) -> &'static str {
    portals::find(portal_id)
        .map(|p| p.hub_domain)
        .unwrap_or_default()
}

fn refresh_info(rec: &RefreshTokenRecord) -> Value {
    json!({
        "token": rec.token,
        "user": user_email(rec.user_id),
        "hub_domain": hub_domain(rec.portal_id),
        "scopes": rec.scopes,
        "hub_id": rec.portal_id,
        "client_id": rec.client_id,
        "user_id": rec.user_id,
        "token_type": "refresh",
    })
}

/// `GET /oauth/v1/access-tokens/{token}`.
async fn access_token_info(
    AxState(sim): AxState<Sim>,
    Path(token): Path<String>,
) -> Result<Json<Value>, ApiError> {
    sim.with(|s| s.counters.token_info_requests += 1);
    let rec = sim
        .access_token(&token)
        .ok_or_else(|| ApiError::not_found("The access token is unknown or has been revoked."))?;
    let now = now_ms();
    if rec.is_expired(now) {
        return Err(ApiError::expired_token((now - rec.expires_at_ms) / 1000));
    }
    Ok(Json(json!({
        "token": rec.token,
        "user": user_email(rec.user_id),
        "hub_domain": hub_domain(rec.portal_id),
        "scopes": rec.scopes,
        "hub_id": rec.portal_id,
        "app_id": rec.app_id,
        "expires_in": rec.expires_in_secs(now),
        "user_id": rec.user_id,
        "token_type": "access",
        "is_private_distribution": false,
    })))
}

/// `GET /oauth/v1/refresh-tokens/{token}`.
async fn refresh_token_info(
    AxState(sim): AxState<Sim>,
    Path(token): Path<String>,
) -> Result<Json<Value>, ApiError> {
    sim.with(|s| {
        s.counters.token_info_requests += 1;
        s.refresh_tokens.get(&token).map(refresh_info)
    })
    .map(Json)
    .ok_or_else(refresh_not_found)
}

fn refresh_not_found() -> ApiError {
    ApiError::not_found("The refresh token is unknown or has been revoked.")
}

/// `DELETE /oauth/v1/refresh-tokens/{token}`: revokes the refresh token only;
/// access tokens minted with it stay valid.
async fn delete_refresh_token(
    AxState(sim): AxState<Sim>,
    Path(token): Path<String>,
) -> Result<StatusCode, ApiError> {
    sim.with(|s| {
        s.counters.revocations += 1;
        s.refresh_tokens.remove(&token)
    })
    .map(|_| StatusCode::NO_CONTENT)
    .ok_or_else(refresh_not_found)
}

// ---------------------------------------------------------------------------
// Introspect and revoke (v3 / 2026-03)
// ---------------------------------------------------------------------------

/// Parses the form and authenticates the client of an introspect or revoke call.
fn client_form(
    s: &State,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(i64, String, HashMap<String, String>), OAuthError> {
    if !is_form(headers) {
        return Err(OAuthError::bad_content_type());
    }
    let params = parse_form(body);
    let app = client(s, &params)?;
    let (app_id, client_id) = (app.app_id, app.client_id.clone());
    if param(&params, "token").is_none() {
        return Err(OAuthError::missing_token());
    }
    Ok((app_id, client_id, params))
}

/// `POST /oauth/v3/token/introspect`.
async fn introspect(AxState(sim): AxState<Sim>, headers: HeaderMap, body: Bytes) -> Response {
    let result = sim.with(|s| {
        s.counters.introspections += 1;
        let (_, client_id, params) = client_form(s, &headers, &body)?;
        let token = param(&params, "token").unwrap_or_default();
        let now = now_ms();
        let access = s
            .access_tokens
            .get(token)
            .filter(|r| r.client_id == client_id && !r.is_expired(now))
            .map(|r| {
                json!({
                    "active": true,
                    "app_id": r.app_id,
                    "client_id": r.client_id,
                    "expires_in": r.expires_in_secs(now),
                    "hub_id": r.portal_id,
                    "hub_domain": hub_domain(r.portal_id),
                    "is_private_distribution": false,
                    "scopes": r.scopes,
                    "token": r.token,
                    "token_type": "access",
                    "token_use": "access_token",
                    "user": user_email(r.user_id),
                    "user_id": r.user_id,
                })
            });
        let refresh = s
            .refresh_tokens
            .get(token)
            .filter(|r| r.client_id == client_id)
            .map(|r| {
                json!({
                    "active": true,
                    "app_id": r.app_id,
                    "client_id": r.client_id,
                    "hub_id": r.portal_id,
                    "hub_domain": hub_domain(r.portal_id),
                    "scopes": r.scopes,
                    "token": r.token,
                    "token_type": "refresh",
                    "token_use": "refresh_token",
                    "user": user_email(r.user_id),
                    "user_id": r.user_id,
                })
            });
        let found = if param(&params, "token_type_hint") == Some("refresh_token") {
            refresh.or(access)
        } else {
            access.or(refresh)
        };
        Ok::<_, OAuthError>(found.unwrap_or_else(|| json!({ "active": false })))
    });
    match result {
        Ok(body) => Json(body).into_response(),
        Err(err) => err.into_response(),
    }
}

/// `POST /oauth/v3/token/revoke`: revokes a refresh token together with the access
/// tokens minted from it, or a single access token. Answers 200 with an empty body,
/// also for unknown tokens (RFC 7009).
async fn revoke(AxState(sim): AxState<Sim>, headers: HeaderMap, body: Bytes) -> Response {
    let result = sim.with(|s| {
        s.counters.revocations += 1;
        let (_, client_id, params) = client_form(s, &headers, &body)?;
        let token = param(&params, "token").unwrap_or_default().to_owned();
        if s.refresh_tokens
            .get(&token)
            .is_some_and(|r| r.client_id == client_id)
        {
            s.refresh_tokens.remove(&token);
            s.access_tokens.retain(|_, a| a.refresh_token != token);
        } else if s
            .access_tokens
            .get(&token)
            .is_some_and(|a| a.client_id == client_id)
        {
            s.access_tokens.remove(&token);
        }
        Ok::<_, OAuthError>(())
    });
    match result {
        Ok(()) => StatusCode::OK.into_response(),
        Err(err) => err.into_response(),
    }
}
