//! Call dispositions: `GET /calling/v1/dispositions` → `[{id, label}]`, HubSpot's default
//! call outcomes (the ids every portal shares; "available but unsupported" in HubSpot's
//! words). Scope: the contacts read scopes, as for the call objects.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value, json};

use crate::auth::{self, Scopes};
use crate::crm::http::respond;
use crate::crm::schema::ObjectKind;
use crate::errors::ApiError;
use crate::state::Sim;

/// `(id, label)` of HubSpot's default call dispositions, in the order it lists them.
pub const DISPOSITIONS: &[(&str, &str)] = &[
    ("9d9162e7-6cf3-4944-bf63-4dff82258764", "Busy"),
    ("f240bbac-87c9-4f6e-bf70-924b57d47db7", "Connected"),
    ("a4c4c377-d246-4b32-a13b-75a56a4cd0ff", "Left live message"),
    ("b2cf5968-551e-4856-9783-52b3da59a7d0", "Left voicemail"),
    ("73a0d17f-1163-4015-bdd5-ec830791da20", "No answer"),
    ("17b47fee-58de-441e-a44c-c6300d46f273", "Wrong number"),
];

async fn list(State(sim): State<Sim>, headers: HeaderMap) -> Result<Response, ApiError> {
    let caller = auth::authenticate(&sim, &headers)?;
    caller.require(Scopes::AnyOf(ObjectKind::Calls.read_scopes()))?;
    let body: Vec<Value> = DISPOSITIONS
        .iter()
        .map(|(id, label)| json!({"id": id, "label": label}))
        .collect();
    Ok(respond(&caller, StatusCode::OK, Value::Array(body)))
}

pub fn routes() -> Router<Sim> {
    Router::new().route("/calling/v1/dispositions", get(list))
}
