//! Webhooks into Spokes: `POST /api/partnerwebhook/hubspot`, the HubSpot app's Target URL.
//! Every request is checked against the app's signature (v3, or v1/v2 without it), then each
//! event is written to the inbox, once per `eventId`, and queued as a job in the same
//! transaction; only then is HubSpot answered. The routing of events to cycles works from that
//! queue, so a slow or failing cycle never makes HubSpot wait or redeliver.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, OriginalUri, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::{Value, json};
use spokes_core::{ExposeSecret, NewJob};
use spokes_engine::HUBSPOT_EVENT_JOB;
use spokes_hubspot::connector::CONNECTOR_ID;
use spokes_hubspot::webhooks::{self, SignatureHeaders, WebhookRequest};

use crate::AppState;
use crate::error::{ApiError, ApiResult};

/// The path of the HubSpot app's Target URL.
pub const PARTNER_WEBHOOK_PATH: &str = "/api/partnerwebhook/hubspot";
/// HubSpot sends at most 100 events a request, each well under a kilobyte.
const BODY_LIMIT_BYTES: usize = 1024 * 1024;
/// Attempts of an event's routing job before it is failed for a person to look at.
const EVENT_ATTEMPTS: i64 = 10;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(PARTNER_WEBHOOK_PATH, post(hubspot_events))
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
}

async fn hubspot_events(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    let setup = state
        .store
        .get_connector_setup(CONNECTOR_ID)
        .await?
        .ok_or_else(|| {
            ApiError::not_found("no HubSpot app is set up; PUT /v1/connectors/hubspot/setup first")
        })?;
    let now = state.clock.now_ms();
    // HubSpot signs the URL it called: the public one, whatever a proxy made of it since.
    let public_uri = webhooks::public_uri(&state.config.public_url, uri.path(), uri.query());
    let request = WebhookRequest {
        method: "POST",
        uri: &public_uri,
        body: &body,
        headers: SignatureHeaders::from_lookup(|name| {
            headers.get(name).and_then(|v| v.to_str().ok())
        }),
    };
    if let Err(error) = webhooks::verify_request(setup.client_secret.expose_secret(), &request, now)
    {
        tracing::warn!(%error, "a webhook request was refused");
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_signature",
            format!("the request is not signed by the HubSpot app set up here: {error}"),
        ));
    }
    let events = parse_events(&body)?;
    let received = events.len();
    let inbox: Vec<(String, NewJob)> = events
        .into_iter()
        .map(|(event_id, event)| {
            let job = NewJob {
                id: spokes_core::token::new_id("job"),
                kind: HUBSPOT_EVENT_JOB.into(),
                payload: event.to_string(),
                dedupe_key: None,
                run_at: now,
                max_attempts: EVENT_ATTEMPTS,
                created_at: now,
            };
            (format!("hubspot:{event_id}"), job)
        })
        .collect();
    let new = state.store.accept_webhook_events(&inbox, now).await?;
    metrics::counter!("spokes_webhook_events_total", "source" => "hubspot", "outcome" => "new")
        .increment(new as u64);
    metrics::counter!("spokes_webhook_events_total", "source" => "hubspot", "outcome" => "duplicate")
        .increment((received - new) as u64);
    Ok((
        StatusCode::OK,
        axum::Json(json!({"received": received, "new": new})),
    ))
}

/// HubSpot's body: a JSON array of events, each with its `eventId` and `portalId`.
fn parse_events(body: &[u8]) -> ApiResult<Vec<(String, Value)>> {
    let invalid = |message: String| ApiError::bad_request("invalid_parameters", message);
    let events: Vec<Value> = serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(
            "invalid_json",
            format!("the body must be HubSpot's JSON array of events: {e}"),
        )
    })?;
    events
        .into_iter()
        .enumerate()
        .map(|(i, event)| {
            let event_id = match &event["eventId"] {
                Value::Number(n) => n.to_string(),
                Value::String(s) if !s.is_empty() => s.clone(),
                _ => return Err(invalid(format!("event {i} has no `eventId`"))),
            };
            if !event["portalId"].is_number() {
                return Err(invalid(format!("event {i} has no numeric `portalId`")));
            }
            Ok((event_id, event))
        })
        .collect()
}
