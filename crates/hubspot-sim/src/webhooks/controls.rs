//! `/_sim/webhooks`: trigger events without the CRM API, read the delivery log, tune the
//! sender, wait for it to settle.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::{AssociationChange, ChangeEvent, ChangeKind, WebhookConfigPatch};
use crate::errors::ApiError;
use crate::portals;
use crate::state::Sim;

pub fn routes() -> Router<Sim> {
    Router::new()
        .route("/_sim/webhooks/emit", post(emit))
        .route("/_sim/webhooks/deliveries", get(deliveries))
        .route("/_sim/webhooks/config", get(get_config).patch(patch_config))
        .route("/_sim/webhooks/wait", post(wait))
}

fn json_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::validation(format!("Invalid JSON body: {e}")))
}

fn default_change_source() -> String {
    "CRM".to_owned()
}

/// One change as posted to `/_sim/webhooks/emit`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EmitRequest {
    portal_id: i64,
    object_type: String,
    object_id: i64,
    kind: ChangeKind,
    property_name: Option<String>,
    property_value: Option<String>,
    primary_object_id: Option<i64>,
    #[serde(default)]
    merged_object_ids: Vec<i64>,
    association: Option<AssociationChange>,
    #[serde(default = "default_change_source")]
    change_source: String,
    source_id: Option<String>,
    occurred_at: Option<i64>,
}

impl EmitRequest {
    fn into_event(self) -> Result<(i64, ChangeEvent), ApiError> {
        if portals::find(self.portal_id).is_none() {
            return Err(ApiError::validation(format!(
                "unknown portal {}",
                self.portal_id
            )));
        }
        let event = ChangeEvent {
            object_type: self.object_type,
            object_id: self.object_id,
            kind: self.kind,
            property_name: self.property_name,
            property_value: self.property_value,
            primary_object_id: self.primary_object_id,
            merged_object_ids: self.merged_object_ids,
            association: self.association,
            change_source: self.change_source,
            source_id: self.source_id,
            occurred_at: self.occurred_at,
        };
        event.validate().map_err(ApiError::validation)?;
        Ok((self.portal_id, event))
    }
}

/// Body: one change or an array of changes (queued together, so they share batches).
async fn emit(State(sim): State<Sim>, body: Bytes) -> Result<Response, ApiError> {
    let value: Value = json_body(&body)?;
    let requests: Vec<EmitRequest> = if value.is_array() {
        serde_json::from_value(value)
    } else {
        serde_json::from_value(value).map(|r| vec![r])
    }
    .map_err(|e| ApiError::validation(format!("Invalid JSON body: {e}")))?;
    let events = requests
        .into_iter()
        .map(EmitRequest::into_event)
        .collect::<Result<Vec<_>, _>>()?;
    let queued = sim.with(|s| {
        events
            .into_iter()
            .map(|(portal, event)| s.queue_webhook(portal, event))
            .sum::<usize>()
    });
    sim.kick_webhooks();
    Ok(Json(json!({ "queued": queued })).into_response())
}

async fn deliveries(State(sim): State<Sim>) -> Response {
    Json(sim.webhook_deliveries()).into_response()
}

async fn get_config(State(sim): State<Sim>) -> Response {
    Json(sim.webhook_config()).into_response()
}

async fn patch_config(State(sim): State<Sim>, body: Bytes) -> Result<Response, ApiError> {
    let patch: WebhookConfigPatch = json_body(&body)?;
    let config = sim
        .update_webhook_config(patch)
        .map_err(ApiError::validation)?;
    Ok(Json(config).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WaitRequest {
    timeout_ms: Option<u64>,
}

/// Waits until nothing is queued or being delivered (default at most 10 s):
/// `{"idle": true|false}`.
async fn wait(State(sim): State<Sim>, body: Bytes) -> Result<Response, ApiError> {
    let req: WaitRequest = if body.is_empty() {
        WaitRequest { timeout_ms: None }
    } else {
        json_body(&body)?
    };
    let timeout = Duration::from_millis(req.timeout_ms.unwrap_or(10_000).min(600_000));
    let idle = sim.wait_webhooks_idle(timeout).await;
    Ok(Json(json!({ "idle": idle })).into_response())
}
