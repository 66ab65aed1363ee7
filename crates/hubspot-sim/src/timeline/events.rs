//! Timeline events: created once on a record of the template's object type (by `objectId`,
//! or a contact by `email` or `utk`), singly or in batches, and read back by id.

use std::collections::HashSet;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::*;

/// A token value as HubSpot stores it: text.
fn token_text(name: &str, value: &Value) -> Result<String, ApiError> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err(ApiError::validation(format!(
            "The value of token '{name}' must be a string, number or boolean"
        ))),
    }
}

/// The event's tokens, checked against the template's definitions.
fn event_tokens(template: &Template, raw: Option<&Value>) -> Result<Map<String, Value>, ApiError> {
    let Some(Value::Object(given)) = raw else {
        return Err(ApiError::validation("tokens is required (an object)"));
    };
    let mut tokens = Map::new();
    for (name, value) in given {
        let Some(def) = template.tokens.iter().find(|t| &t.name == name) else {
            return Err(ApiError::validation(format!(
                "Token '{name}' is not defined on event template {}",
                template.id
            )));
        };
        if value.is_null() {
            continue;
        }
        let text = token_text(name, value)?;
        let fits = match def.kind {
            TokenType::String => true,
            TokenType::Number => text.trim().parse::<f64>().is_ok_and(f64::is_finite),
            TokenType::Date => {
                text.trim().parse::<i64>().is_ok() || time::parse_datetime(text.trim()).is_some()
            }
            TokenType::Enumeration => def.options.iter().any(|(v, _)| *v == text),
        };
        if !fits {
            return Err(ApiError::validation(format!(
                "The value '{text}' of token '{name}' is not a valid {}{}",
                def.kind.as_str(),
                if def.kind == TokenType::Enumeration {
                    " option"
                } else {
                    ""
                }
            )));
        }
        tokens.insert(name.clone(), Value::String(text));
    }
    Ok(tokens)
}

/// The record an event goes on: `objectId`, or for contacts `email` (found, or created) or
/// `utk`. Returns the id and, for a new contact, its validated values (created by the
/// caller once everything else is checked).
enum Target {
    Existing(u64),
    NewContact(Map<String, Value>),
}

fn event_target(
    s: &mut SimState,
    portal_id: i64,
    template: &Template,
    input: &Map<String, Value>,
) -> Result<Target, ApiError> {
    let kind = object_kind(template.object_type);
    if let Some(raw) = input.get("objectId").filter(|v| !v.is_null()) {
        let id = crate::crm::http::id_text(raw)
            .and_then(|t| t.trim().parse::<u64>().ok())
            .ok_or_else(|| ApiError::validation(format!("objectId {raw} is not a record id")))?;
        let live = s.crm.portal(portal_id).store(kind).live.contains_key(&id);
        return if live {
            Ok(Target::Existing(id))
        } else {
            Err(ApiError::not_found(format!(
                "No {} with id {id} exists in portal {portal_id}.",
                kind_singular(template.object_type)
            )))
        };
    }
    if template.object_type != "contacts" {
        return Err(ApiError::validation(format!(
            "objectId is required for events of a {} template",
            template.object_type
        )));
    }
    if let Some(email) = text_field(input, "email")?.filter(|e| !e.trim().is_empty()) {
        let store = s.crm.portal(portal_id).store(ObjectKind::Contacts);
        let found = store
            .prop_index("email")
            .and_then(|idx| store.find_unique(idx, email.trim()));
        return Ok(match found {
            Some(id) => Target::Existing(id),
            None => {
                let mut props = Map::new();
                props.insert("email".into(), Value::String(email.trim().to_owned()));
                Target::NewContact(props)
            }
        });
    }
    if let Some(utk) = text_field(input, "utk")?.filter(|u| !u.trim().is_empty()) {
        return crate::contacts_v1::find_by_utk(s, portal_id, &utk)
            .map(Target::Existing)
            .ok_or_else(|| ApiError::not_found(format!("No contact has the user token {utk}.")));
    }
    Err(ApiError::validation(
        "An event of a contacts template needs objectId, email or utk",
    ))
}

fn kind_singular(object_type: &str) -> &'static str {
    match object_type {
        "companies" => "company",
        "deals" => "deal",
        "tickets" => "ticket",
        _ => "contact",
    }
}

/// The event id: the given one (`{{uuid}}` replaced by a random UUID) or a new UUID.
fn event_id(input: &Map<String, Value>) -> Result<String, ApiError> {
    match text_field(input, "id")? {
        None => Ok(random_uuid()),
        Some(id) if id.trim().is_empty() => Err(ApiError::validation("id must not be empty")),
        Some(id) => Ok(id.replace("{{uuid}}", &random_uuid())),
    }
}

fn event_timestamp(input: &Map<String, Value>, now: i64) -> Result<i64, ApiError> {
    match input.get("timestamp") {
        None | Some(Value::Null) => Ok(now),
        Some(Value::Number(n)) => n
            .as_i64()
            .ok_or_else(|| ApiError::validation("timestamp must be an ISO 8601 date-time")),
        Some(Value::String(s)) => time::parse_datetime(s.trim()).ok_or_else(|| {
            ApiError::validation(format!("timestamp '{s}' is not an ISO 8601 date-time"))
        }),
        Some(_) => Err(ApiError::validation(
            "timestamp must be an ISO 8601 date-time",
        )),
    }
}

/// Creates one event for `caller` (all checks first; a new contact for an unknown email
/// last). `batch` holds the ids of the same request's earlier events.
fn create_one(
    s: &mut SimState,
    caller: &Caller,
    raw: &Value,
    batch: &mut HashSet<(u64, String)>,
    ev: &mut Events,
) -> Result<Value, ApiError> {
    let Some(input) = raw.as_object() else {
        return Err(ApiError::validation("An event must be a JSON object"));
    };
    let portal_id = caller.portal.id;
    let app_id = caller.token.app_id;
    let template_text = input
        .get("eventTemplateId")
        .and_then(crate::crm::http::id_text)
        .ok_or_else(|| ApiError::validation("eventTemplateId is required"))?;
    let template = template_text
        .trim()
        .parse::<u64>()
        .ok()
        .and_then(|id| s.timeline.templates.get(&id))
        .filter(|t| t.app_id == app_id)
        .cloned()
        .ok_or_else(|| template_not_found(&template_text))?;
    let id = event_id(input)?;
    let key = (template.id, id.clone());
    if s.timeline.events.contains_key(&key) || batch.contains(&key) {
        let mut err = ApiError::validation(DUPLICATE_ID_MESSAGE);
        err.body.context.insert("id".into(), json!([id]));
        return Err(err);
    }
    let tokens = event_tokens(&template, input.get("tokens"))?;
    let now = now_ms();
    let timestamp = event_timestamp(input, now)?;
    for name in ["extraData", "timelineIFrame"] {
        if let Some(v) = input.get(name)
            && !v.is_null()
            && !v.is_object()
        {
            return Err(ApiError::validation(format!("{name} must be an object")));
        }
    }
    let object_id = match event_target(s, portal_id, &template, input)? {
        Target::Existing(id) => id,
        Target::NewContact(props) => {
            let crm = s.crm.portal(portal_id);
            let changes = crate::crm::objects::prepare_create(
                crm,
                ObjectKind::Contacts,
                props,
                &mut HashSet::new(),
            )?;
            let id = crm.alloc_id();
            let store = crm.store_mut(ObjectKind::Contacts);
            ev.created(store, id, &changes);
            store.insert(id, changes, now, app_id);
            id
        }
    };
    let mut event = Map::new();
    event.insert("id".into(), json!(id));
    event.insert("eventTemplateId".into(), json!(template.id.to_string()));
    event.insert("objectType".into(), json!(template.object_type));
    event.insert("objectId".into(), json!(object_id.to_string()));
    for name in ["email", "utk", "domain"] {
        if let Some(v) = text_field(input, name)? {
            event.insert(name.into(), json!(v));
        }
    }
    event.insert("timestamp".into(), json!(time::iso(timestamp)));
    event.insert("tokens".into(), Value::Object(tokens));
    for name in ["extraData", "timelineIFrame"] {
        if let Some(v) = input.get(name).filter(|v| v.is_object()) {
            event.insert(name.into(), v.clone());
        }
    }
    event.insert("createdAt".into(), json!(time::iso(now)));
    let json = Value::Object(event);
    batch.insert(key.clone());
    s.timeline.events.insert(
        key,
        Event {
            portal_id,
            json: json.clone(),
        },
    );
    Ok(json)
}

/// The caller of an events endpoint, with the `timeline` scope.
fn authorize(sim: &Sim, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let caller = auth::authenticate(sim, headers)?;
    caller.require(Scopes::AnyOf(SCOPES))?;
    Ok(caller)
}

pub(super) async fn create_event(
    State(sim): State<Sim>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = authorize(&sim, &headers)?;
    let body = json_body(&headers, &body)?;
    let (event, ev) = sim.with(|s| {
        let mut ev = Events::new(s, ObjectKind::Contacts, caller.token.app_id);
        let event = create_one(s, &caller, &body, &mut HashSet::new(), &mut ev)?;
        Ok::<_, ApiError>((event, ev))
    })?;
    ev.emit(&sim, caller.portal.id);
    Ok(respond(&caller, StatusCode::CREATED, event))
}

/// `{inputs: [...]}`: each event on its own; 201 when all were created, else 207 with an
/// error per refused input (and the created ones in `results`).
pub(super) async fn batch_create(
    State(sim): State<Sim>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = authorize(&sim, &headers)?;
    let body = json_body(&headers, &body)?;
    let Some(inputs) = body.get("inputs").and_then(Value::as_array) else {
        return Err(ApiError::validation("inputs is required (an array)"));
    };
    if inputs.is_empty() {
        return Err(ApiError::validation("inputs must hold at least one event"));
    }
    batch_limit(inputs.len(), MAX_BATCH)?;
    let started = now_ms();
    let (results, errors, ev) = sim.with(|s| {
        let mut ev = Events::new(s, ObjectKind::Contacts, caller.token.app_id);
        let mut seen = HashSet::new();
        let mut results = Vec::new();
        let mut errors = Vec::new();
        for (index, input) in inputs.iter().enumerate() {
            match create_one(s, &caller, input, &mut seen, &mut ev) {
                Ok(event) => results.push(event),
                Err(e) => {
                    let mut context = e.body.context.clone();
                    context.insert("index".into(), json!([index.to_string()]));
                    errors.push(json!({
                        "status": "error",
                        "category": e.body.category,
                        "message": e.body.message,
                        "context": context,
                    }));
                }
            }
        }
        (results, errors, ev)
    });
    ev.emit(&sim, caller.portal.id);
    Ok(batch_reply(
        &caller,
        StatusCode::CREATED,
        started,
        results,
        errors,
    ))
}

pub(super) async fn get_event(
    State(sim): State<Sim>,
    Path((template_id, event_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = authorize(&sim, &headers)?;
    let app_id = caller.token.app_id;
    let portal_id = caller.portal.id;
    let event = sim.with(|s| {
        let template = template_id.trim().parse::<u64>().ok()?;
        s.timeline
            .templates
            .get(&template)
            .filter(|t| t.app_id == app_id)?;
        s.timeline
            .events
            .get(&(template, event_id.clone()))
            .filter(|e| e.portal_id == portal_id)
            .map(|e| e.json.clone())
    });
    let event = event.ok_or_else(|| {
        ApiError::not_found(format!(
            "Event {event_id} of event template {template_id} was not found."
        ))
    })?;
    Ok(respond(&caller, StatusCode::OK, event))
}
