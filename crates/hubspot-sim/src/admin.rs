//! The `/_sim` control API for tests and the sandbox (JSON in, JSON out).
//! None of it exists on HubSpot; it never shares a path with HubSpot's API.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::errors::ApiError;
use crate::portals;
use crate::state::{ConfigPatch, NewApp, Sim, SimError};

pub fn routes() -> Router<Sim> {
    Router::new()
        .route("/_sim/portals", get(list_portals))
        .route("/_sim/apps", get(list_apps).post(create_app))
        .route("/_sim/counters", get(counters))
        .route("/_sim/requests", get(requests))
        .route("/_sim/config", get(get_config).patch(patch_config))
        .route("/_sim/tokens", post(issue_tokens))
        .route("/_sim/tokens/revoke", post(revoke_token))
        .route("/_sim/tokens/expire", post(expire_token))
        .route("/_sim/reset", post(reset))
}

/// Parses a JSON body, answering malformed input with HubSpot's VALIDATION_ERROR body.
fn json_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::validation(format!("Invalid JSON body: {e}")))
}

impl From<SimError> for ApiError {
    fn from(err: SimError) -> Self {
        ApiError::validation(err.to_string())
    }
}

async fn list_portals() -> Json<&'static [portals::Portal]> {
    Json(portals::all())
}

async fn list_apps(State(sim): State<Sim>) -> Response {
    let apps: Vec<_> = sim.apps().iter().map(crate::webhooks::app_json).collect();
    Json(apps).into_response()
}

async fn create_app(State(sim): State<Sim>, body: Bytes) -> Result<Response, ApiError> {
    let new: NewApp = json_body(&body)?;
    let app = sim.create_app(new)?;
    Ok((StatusCode::CREATED, Json(crate::webhooks::app_json(&app))).into_response())
}

async fn counters(State(sim): State<Sim>) -> Response {
    Json(sim.counters()).into_response()
}

async fn requests(State(sim): State<Sim>) -> Response {
    Json(sim.requests()).into_response()
}

async fn get_config(State(sim): State<Sim>) -> Response {
    Json(sim.config()).into_response()
}

async fn patch_config(State(sim): State<Sim>, body: Bytes) -> Result<Response, ApiError> {
    let patch: ConfigPatch = json_body(&body)?;
    Ok(Json(sim.update_config(patch)?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IssueTokens {
    client_id: Option<String>,
    portal_id: i64,
    scopes: Vec<String>,
    /// Treat the access token as a private-app token (daily limit, daily headers).
    #[serde(default)]
    private_app: bool,
}

async fn issue_tokens(State(sim): State<Sim>, body: Bytes) -> Result<Response, ApiError> {
    let req: IssueTokens = json_body(&body)?;
    let tokens = sim.issue_tokens(req.client_id.as_deref(), req.portal_id, &req.scopes)?;
    if req.private_app {
        sim.with(|s| s.limits.mark_private(&tokens.access_token));
    }
    Ok((StatusCode::CREATED, Json(tokens)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenRef {
    token: String,
    /// For expire: how long ago the token expired (default 0, i.e. now).
    #[serde(default)]
    seconds_ago: i64,
}

fn token_not_found() -> ApiError {
    ApiError::not_found("No authorization code, access token or refresh token matches this value.")
}

async fn revoke_token(State(sim): State<Sim>, body: Bytes) -> Result<Response, ApiError> {
    let req: TokenRef = json_body(&body)?;
    let kind = sim.revoke_token(&req.token).ok_or_else(token_not_found)?;
    Ok(Json(json!({ "revoked": kind })).into_response())
}

async fn expire_token(State(sim): State<Sim>, body: Bytes) -> Result<Response, ApiError> {
    let req: TokenRef = json_body(&body)?;
    let kind = sim
        .expire_token(&req.token, req.seconds_ago)
        .ok_or_else(token_not_found)?;
    Ok(Json(json!({ "expired": kind })).into_response())
}

async fn reset(State(sim): State<Sim>) -> StatusCode {
    sim.reset();
    StatusCode::NO_CONTENT
}
