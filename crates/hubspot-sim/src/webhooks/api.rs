//! The webhooks management API: `/webhooks/v3/{appId}/settings` and
//! `/webhooks/v3/{appId}/subscriptions[...]`, authenticated with the developer API key
//! (`?hapikey=`) of the app's developer account.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::{
    AppSettings, MAX_SUBSCRIPTIONS_PER_APP, Subscription, developer_api_key, iso8601, iso8601_ms,
    parse_event_type,
};
use crate::errors::ApiError;
use crate::state::{Sim, now_ms};

pub fn routes() -> Router<Sim> {
    Router::new()
        .route(
            "/webhooks/v3/{app_id}/settings",
            get(get_settings).put(put_settings).delete(delete_settings),
        )
        .route(
            "/webhooks/v3/{app_id}/subscriptions",
            get(list_subscriptions).post(create_subscription),
        )
        .route(
            "/webhooks/v3/{app_id}/subscriptions/batch/update",
            post(batch_update),
        )
        .route(
            "/webhooks/v3/{app_id}/subscriptions/{subscription_id}",
            get(get_subscription)
                .patch(patch_subscription)
                .delete(delete_subscription),
        )
}

/// Where HubSpot sends people to manage their API key.
const API_KEY_URL: &str = "https://app.hubspot.com/l/api-key/";

/// Checks `?hapikey=` against the developer account of `raw_app_id`; returns the app id.
pub(crate) fn authorise(sim: &Sim, raw_app_id: &str, query: Option<&str>) -> Result<i64, ApiError> {
    let key = query.and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "hapikey")
            .map(|(_, v)| v.into_owned())
    });
    let Some(key) = key.filter(|k| !k.is_empty()) else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "INVALID_AUTHENTICATION",
            format!(
                "Authentication credentials not found. This API supports both API Key and OAuth 2.0 \
                 authentication and you can find more details at {}",
                crate::errors::OAUTH_OVERVIEW_URL
            ),
        ));
    };
    let owner = sim.with(|s| {
        s.apps
            .iter()
            .find(|a| developer_api_key(a) == key)
            .map(|a| a.app_id)
    });
    let Some(owner) = owner else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "INVALID_AUTHENTICATION",
            format!(
                "The API key provided is invalid. View or manage your API key here: {API_KEY_URL}"
            ),
        ));
    };
    let app_id: i64 = raw_app_id.parse().map_err(|_| {
        ApiError::validation(format!(
            "Invalid appId '{raw_app_id}': it must be an integer."
        ))
    })?;
    if app_id != owner {
        return Err(ApiError::not_found(format!(
            "App {app_id} was not found in this developer account."
        )));
    }
    Ok(app_id)
}

/// A JSON body as the CRM endpoints take it: 415 unless `Content-Type` is JSON, 400 when
/// malformed or of the wrong shape.
fn json_body<T: DeserializeOwned>(headers: &HeaderMap, body: &[u8]) -> Result<T, ApiError> {
    crate::crm::http::input(crate::crm::http::json_body(headers, body)?)
}

fn settings_json(s: &AppSettings) -> Value {
    json!({
        "targetUrl": s.target_url,
        "throttling": {
            "maxConcurrentRequests": s.max_concurrent_requests,
            "period": s.period,
        },
        "createdAt": iso8601(s.created_at),
        "updatedAt": iso8601(s.updated_at),
    })
}

fn subscription_json(s: &Subscription) -> Value {
    let mut v = json!({
        "id": s.id.to_string(),
        "eventType": s.event_type(),
        "active": s.active,
        "createdAt": iso8601_ms(s.created_at),
        "updatedAt": iso8601_ms(s.updated_at),
    });
    if let (Some(name), Some(obj)) = (&s.property_name, v.as_object_mut()) {
        obj.insert("propertyName".into(), json!(name));
    }
    v
}

fn no_settings(app_id: i64) -> ApiError {
    ApiError::not_found(format!("No webhook settings exist for app {app_id}."))
}

fn subscription_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Subscription {id} was not found."))
}

// ------------------------------------------------------------------------------ settings

async fn get_settings(
    State(sim): State<Sim>,
    Path(app_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let app_id = authorise(&sim, &app_id, query.as_deref())?;
    let settings = sim.with(|s| s.webhooks.settings.get(&app_id).cloned());
    let settings = settings.ok_or_else(|| no_settings(app_id))?;
    Ok(Json(settings_json(&settings)).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SettingsChange {
    target_url: Option<String>,
    throttling: Option<Throttling>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Throttling {
    max_concurrent_requests: Option<i64>,
    period: Option<String>,
}

async fn put_settings(
    State(sim): State<Sim>,
    Path(app_id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let app_id = authorise(&sim, &app_id, query.as_deref())?;
    let change: SettingsChange = json_body(&headers, &body)?;
    let target_url = change
        .target_url
        .ok_or_else(|| ApiError::validation("targetUrl is required."))?;
    let valid_url = url::Url::parse(&target_url)
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
    if !valid_url {
        return Err(ApiError::validation(format!(
            "targetUrl '{target_url}' is not a valid URL: it must be an absolute http(s) URL."
        )));
    }
    let throttling = change
        .throttling
        .ok_or_else(|| ApiError::validation("throttling is required."))?;
    let max = throttling
        .max_concurrent_requests
        .ok_or_else(|| ApiError::validation("throttling.maxConcurrentRequests is required."))?;
    let max = u32::try_from(max)
        .ok()
        .filter(|m| (1..=1000).contains(m))
        .ok_or_else(|| {
            ApiError::validation("throttling.maxConcurrentRequests must be between 1 and 1000.")
        })?;
    let period = throttling.period.unwrap_or_else(|| "SECONDLY".to_owned());
    if !matches!(period.as_str(), "SECONDLY" | "ROLLING_MINUTE") {
        return Err(ApiError::validation(format!(
            "throttling.period '{period}' is invalid; expected SECONDLY or ROLLING_MINUTE."
        )));
    }
    let now = now_ms();
    let settings = sim.with(|s| {
        let created_at = s
            .webhooks
            .settings
            .get(&app_id)
            .map_or(now, |old| old.created_at);
        let settings = AppSettings {
            target_url,
            max_concurrent_requests: max,
            period,
            created_at,
            updated_at: now,
        };
        s.webhooks.settings.insert(app_id, settings.clone());
        settings
    });
    // CRM code may queue events while holding the lock; make sure someone sends them.
    sim.kick_webhooks();
    Ok(Json(settings_json(&settings)).into_response())
}

async fn delete_settings(
    State(sim): State<Sim>,
    Path(app_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let app_id = authorise(&sim, &app_id, query.as_deref())?;
    let removed = sim.with(|s| s.webhooks.settings.remove(&app_id));
    removed.ok_or_else(|| no_settings(app_id))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ------------------------------------------------------------------------- subscriptions

async fn list_subscriptions(
    State(sim): State<Sim>,
    Path(app_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let app_id = authorise(&sim, &app_id, query.as_deref())?;
    let results: Vec<Value> = sim.with(|s| {
        s.webhooks
            .app_subscriptions(app_id)
            .map(subscription_json)
            .collect()
    });
    Ok(Json(json!({ "results": results })).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SubscriptionCreate {
    event_type: Option<String>,
    property_name: Option<String>,
    active: Option<bool>,
}

/// Event types of HubSpot's enum that the simulator does not emit.
fn is_unsupported_spec_event_type(event_type: &str) -> bool {
    event_type.starts_with("conversation.")
        || event_type.starts_with("object.")
        || event_type == "event.completed"
}

async fn create_subscription(
    State(sim): State<Sim>,
    Path(app_id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let app_id = authorise(&sim, &app_id, query.as_deref())?;
    let req: SubscriptionCreate = json_body(&headers, &body)?;
    let event_type = req
        .event_type
        .ok_or_else(|| ApiError::validation("eventType is required."))?;
    let (object_type, kind) = match parse_event_type(&event_type) {
        Some(parsed) => parsed,
        None if is_unsupported_spec_event_type(&event_type) => {
            return Err(ApiError::validation(format!(
                "eventType '{event_type}' is not supported by the simulator."
            )));
        }
        None => {
            return Err(ApiError::validation(format!(
                "Invalid eventType '{event_type}'."
            )));
        }
    };
    let property_name = req.property_name.filter(|p| !p.is_empty());
    let is_property_change = kind == super::ChangeKind::PropertyChange;
    if is_property_change && property_name.is_none() {
        return Err(ApiError::validation(
            "propertyName is required for propertyChange subscriptions.",
        ));
    }
    if !is_property_change && property_name.is_some() {
        return Err(ApiError::validation(
            "propertyName is only allowed for propertyChange subscriptions.",
        ));
    }
    let now = now_ms();
    let created = sim.with(|s| {
        let wh = &mut s.webhooks;
        let existing: Vec<&Subscription> = wh.app_subscriptions(app_id).collect();
        if existing.len() >= MAX_SUBSCRIPTIONS_PER_APP {
            return Err(ApiError::validation(format!(
                "An app can have at most {MAX_SUBSCRIPTIONS_PER_APP} webhook subscriptions."
            )));
        }
        if existing.iter().any(|e| {
            e.object_type == object_type && e.kind == kind && e.property_name == property_name
        }) {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "CONFLICT",
                format!("A subscription for {event_type} already exists."),
            ));
        }
        let id = wh.new_subscription_id();
        let sub = Subscription {
            id,
            app_id,
            object_type,
            kind,
            property_name,
            active: req.active.unwrap_or(false),
            created_at: now,
            updated_at: now,
        };
        wh.subscriptions.insert(id, sub.clone());
        Ok(sub)
    })?;
    Ok((StatusCode::CREATED, Json(subscription_json(&created))).into_response())
}

/// Parses a subscription id of the path.
fn subscription_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse().map_err(|_| {
        ApiError::validation(format!(
            "Invalid subscriptionId '{raw}': it must be an integer."
        ))
    })
}

async fn get_subscription(
    State(sim): State<Sim>,
    Path((app_id, raw_id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let app_id = authorise(&sim, &app_id, query.as_deref())?;
    let id = subscription_id(&raw_id)?;
    let sub = sim.with(|s| {
        s.webhooks
            .subscriptions
            .get(&id)
            .filter(|sub| sub.app_id == app_id)
            .cloned()
    });
    let sub = sub.ok_or_else(|| subscription_not_found(&raw_id))?;
    Ok(Json(subscription_json(&sub)).into_response())
}

#[derive(Deserialize)]
struct SubscriptionPatch {
    active: Option<bool>,
}

async fn patch_subscription(
    State(sim): State<Sim>,
    Path((app_id, raw_id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let app_id = authorise(&sim, &app_id, query.as_deref())?;
    let id = subscription_id(&raw_id)?;
    let patch: SubscriptionPatch = json_body(&headers, &body)?;
    let now = now_ms();
    let sub = sim.with(|s| {
        let sub = s
            .webhooks
            .subscriptions
            .get_mut(&id)
            .filter(|sub| sub.app_id == app_id)?;
        if let Some(active) = patch.active {
            sub.active = active;
            sub.updated_at = now;
        }
        Some(sub.clone())
    });
    let sub = sub.ok_or_else(|| subscription_not_found(&raw_id))?;
    Ok(Json(subscription_json(&sub)).into_response())
}

async fn delete_subscription(
    State(sim): State<Sim>,
    Path((app_id, raw_id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let app_id = authorise(&sim, &app_id, query.as_deref())?;
    let id = subscription_id(&raw_id)?;
    let removed = sim.with(|s| {
        let owned = s
            .webhooks
            .subscriptions
            .get(&id)
            .is_some_and(|sub| sub.app_id == app_id);
        owned && s.webhooks.subscriptions.remove(&id).is_some()
    });
    if !removed {
        return Err(subscription_not_found(&raw_id));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
struct BatchUpdate {
    inputs: Option<Vec<BatchInput>>,
}

#[derive(Deserialize)]
struct BatchInput {
    id: Option<i64>,
    active: Option<bool>,
}

async fn batch_update(
    State(sim): State<Sim>,
    Path(app_id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let app_id = authorise(&sim, &app_id, query.as_deref())?;
    let started_at = now_ms();
    let req: BatchUpdate = json_body(&headers, &body)?;
    let inputs = req
        .inputs
        .ok_or_else(|| ApiError::validation("inputs is required."))?;
    let mut updates = Vec::with_capacity(inputs.len());
    for (i, input) in inputs.into_iter().enumerate() {
        let id = input
            .id
            .ok_or_else(|| ApiError::validation(format!("inputs[{i}].id is required.")))?;
        let active = input
            .active
            .ok_or_else(|| ApiError::validation(format!("inputs[{i}].active is required.")))?;
        updates.push((id, active));
    }
    let (results, missing) = sim.with(|s| {
        let mut results = Vec::new();
        let mut missing = Vec::new();
        for (id, active) in updates {
            match s
                .webhooks
                .subscriptions
                .get_mut(&id)
                .filter(|sub| sub.app_id == app_id)
            {
                Some(sub) => {
                    sub.active = active;
                    sub.updated_at = started_at;
                    results.push(subscription_json(sub));
                }
                None => missing.push(id.to_string()),
            }
        }
        (results, missing)
    });
    let mut body = json!({
        "status": "COMPLETE",
        "results": results,
        "startedAt": iso8601_ms(started_at),
        "completedAt": iso8601_ms(now_ms()),
    });
    if missing.is_empty() {
        return Ok(Json(body).into_response());
    }
    let ids = missing
        .iter()
        .map(|id| format!("`{id}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if let Some(obj) = body.as_object_mut() {
        obj.insert("numErrors".into(), json!(1));
        obj.insert(
            "errors".into(),
            json!([{
                "status": "error",
                "category": "SUBSCRIPTION_ID_NOT_FOUND",
                "subCategory": "SubscriptionErrors.SUBSCRIPTION_IDS_NOT_FOUND",
                "message": format!(
                    "Failed to find subscriptions by id {ids}. Try again using a different subscriptionId."
                ),
                "context": { "subscriptionIds": missing },
            }]),
        );
    }
    Ok((StatusCode::MULTI_STATUS, Json(body)).into_response())
}
