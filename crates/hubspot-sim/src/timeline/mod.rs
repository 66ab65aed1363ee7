//! Timeline events v3: an app's event templates (managed with the developer API key of the
//! app's developer account, `?hapikey=`) and the events apps create from them on CRM
//! records of the portals that installed them (OAuth access token, scope `timeline`).
//!
//! Served twice: `/integrators/timeline/v3/…` (HubSpot's current paths) and
//! `/crm/v3/timeline/…` (the paths of the older spec), with the same shapes.
//!
//! Events are immutable: they have no update or delete endpoint, and an event id that was
//! used before (for the same template) answers 400, as HubSpot does since 2024-12-02.

mod events;

use std::collections::{BTreeMap, HashMap};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use crate::auth::{self, Caller, Scopes};
use crate::crm::events::Events;
use crate::crm::http::{batch_limit, batch_reply, json_body, respond};
use crate::crm::schema::ObjectKind;
use crate::crm::time;
use crate::errors::ApiError;
use crate::ids::random_uuid;
use crate::state::{Sim, State as SimState, now_ms};

/// The path prefixes the API answers on.
const BASES: [&str; 2] = ["/integrators/timeline/v3", "/crm/v3/timeline"];
/// The first event template id (ids count up across apps).
const FIRST_TEMPLATE_ID: u64 = 1_000_001;
/// Inputs of one batch create (the limit HubSpot documents for v1's batch; ours for v3).
const MAX_BATCH: usize = 100;
/// The scope of event writes and reads.
const SCOPES: &[&str] = &["timeline"];
/// HubSpot's message for a re-used event id (from its announcement of unique ids).
pub const DUPLICATE_ID_MESSAGE: &str = "Event ID already in use, please choose a new unique ID";

/// A token's data type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TokenType {
    String,
    Number,
    Date,
    Enumeration,
}

impl TokenType {
    fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "string" => Some(Self::String),
            "number" => Some(Self::Number),
            "date" => Some(Self::Date),
            "enumeration" => Some(Self::Enumeration),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Number => "number",
            Self::Date => "date",
            Self::Enumeration => "enumeration",
        }
    }
}

#[derive(Debug, Clone)]
struct Token {
    name: String,
    label: String,
    kind: TokenType,
    /// `(value, label)` of an enumeration.
    options: Vec<(String, String)>,
    object_property_name: Option<String>,
    created_at: i64,
    updated_at: i64,
}

#[derive(Debug, Clone)]
struct Template {
    id: u64,
    app_id: i64,
    name: String,
    header_template: Option<String>,
    detail_template: Option<String>,
    /// `contacts`, `companies`, `deals` or `tickets`.
    object_type: &'static str,
    tokens: Vec<Token>,
    created_at: i64,
    updated_at: i64,
}

/// A created event: the portal it belongs to and its JSON (it never changes).
#[derive(Debug, Clone)]
struct Event {
    portal_id: i64,
    json: Value,
}

/// Event templates of every app and the events created from them.
#[derive(Debug)]
pub struct TimelineState {
    next_template_id: u64,
    templates: BTreeMap<u64, Template>,
    /// By (template id, event id): ids are unique per app and template.
    events: HashMap<(u64, String), Event>,
}

impl Default for TimelineState {
    fn default() -> Self {
        Self {
            next_template_id: FIRST_TEMPLATE_ID,
            templates: BTreeMap::new(),
            events: HashMap::new(),
        }
    }
}

impl Sim {
    /// The number of timeline events created in `portal_id` (every template).
    pub fn timeline_event_count(&self, portal_id: i64) -> usize {
        self.with(|s| {
            s.timeline
                .events
                .values()
                .filter(|e| e.portal_id == portal_id)
                .count()
        })
    }
}

pub fn routes() -> Router<Sim> {
    let mut router = Router::new();
    for base in BASES {
        router = router
            .route(
                &format!("{base}/{{app_id}}/event-templates"),
                get(list_templates).post(create_template),
            )
            .route(
                &format!("{base}/{{app_id}}/event-templates/{{template_id}}"),
                get(get_template)
                    .put(update_template)
                    .delete(delete_template),
            )
            .route(&format!("{base}/events"), post(events::create_event))
            .route(
                &format!("{base}/events/batch/create"),
                post(events::batch_create),
            )
            .route(
                &format!("{base}/events/{{template_id}}/{{event_id}}"),
                get(events::get_event),
            );
    }
    router
}

// ------------------------------------------------------------------------------ JSON

fn token_json(t: &Token) -> Value {
    let mut v = json!({
        "name": t.name,
        "label": t.label,
        "type": t.kind.as_str(),
        "options": t.options.iter().map(|(value, label)| json!({"value": value, "label": label})).collect::<Vec<_>>(),
        "createdAt": time::iso(t.created_at),
        "updatedAt": time::iso(t.updated_at),
    });
    if let (Some(name), Some(obj)) = (&t.object_property_name, v.as_object_mut()) {
        obj.insert("objectPropertyName".into(), json!(name));
    }
    v
}

fn template_json(t: &Template) -> Value {
    let mut v = json!({
        "id": t.id.to_string(),
        "name": t.name,
        "objectType": t.object_type,
        "tokens": t.tokens.iter().map(token_json).collect::<Vec<_>>(),
        "createdAt": time::iso(t.created_at),
        "updatedAt": time::iso(t.updated_at),
    });
    if let Some(obj) = v.as_object_mut() {
        if let Some(h) = &t.header_template {
            obj.insert("headerTemplate".into(), json!(h));
        }
        if let Some(d) = &t.detail_template {
            obj.insert("detailTemplate".into(), json!(d));
        }
    }
    v
}

// ------------------------------------------------------------------------------ templates

/// `contacts`, `companies`, `deals`, `tickets` (any case, singular too).
fn template_object_type(raw: &str) -> Option<&'static str> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "contacts" | "contact" => Some("contacts"),
        "companies" | "company" => Some("companies"),
        "deals" | "deal" => Some("deals"),
        "tickets" | "ticket" => Some("tickets"),
        _ => None,
    }
}

fn object_kind(object_type: &str) -> ObjectKind {
    match object_type {
        "companies" => ObjectKind::Companies,
        "deals" => ObjectKind::Deals,
        "tickets" => ObjectKind::Tickets,
        _ => ObjectKind::Contacts,
    }
}

fn text_field(body: &Map<String, Value>, name: &str) -> Result<Option<String>, ApiError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::validation(format!("{name} must be a string"))),
    }
}

fn required_text(body: &Map<String, Value>, name: &str) -> Result<String, ApiError> {
    match text_field(body, name)? {
        Some(s) if !s.trim().is_empty() => Ok(s),
        _ => Err(ApiError::validation(format!("{name} is required"))),
    }
}

/// A template's tokens from a create or update body; `old` keeps the creation times (and
/// types, which cannot change) of tokens that stay.
fn parse_tokens(raw: Option<&Value>, old: &[Token], now: i64) -> Result<Vec<Token>, ApiError> {
    let Some(Value::Array(items)) = raw else {
        return Err(ApiError::validation("tokens is required (an array)"));
    };
    let mut tokens: Vec<Token> = Vec::with_capacity(items.len());
    for item in items {
        let Some(obj) = item.as_object() else {
            return Err(ApiError::validation("each token must be an object"));
        };
        let name = required_text(obj, "name")?;
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        {
            return Err(ApiError::validation(format!(
                "Token name '{name}' may only contain letters, digits, periods, dashes and underscores"
            )));
        }
        if tokens.iter().any(|t| t.name == name) {
            return Err(ApiError::validation(format!(
                "Token name '{name}' is used twice; token names must be unique in a template"
            )));
        }
        let label = required_text(obj, "label")?;
        let type_text = required_text(obj, "type")?;
        let kind = TokenType::parse(&type_text).ok_or_else(|| {
            ApiError::validation(format!(
                "Token '{name}' has type '{type_text}'; it must be one of string, number, date, enumeration"
            ))
        })?;
        let mut options = Vec::new();
        if kind == TokenType::Enumeration {
            let Some(Value::Array(raw_options)) = obj.get("options") else {
                return Err(ApiError::validation(format!(
                    "Enumeration token '{name}' needs options"
                )));
            };
            for o in raw_options {
                let (Some(value), Some(label)) = (
                    o.get("value").and_then(Value::as_str),
                    o.get("label").and_then(Value::as_str),
                ) else {
                    return Err(ApiError::validation(format!(
                        "Each option of token '{name}' needs a value and a label"
                    )));
                };
                if options.iter().any(|(v, _): &(String, String)| v == value) {
                    return Err(ApiError::validation(format!(
                        "Option value '{value}' of token '{name}' is used twice"
                    )));
                }
                options.push((value.to_owned(), label.to_owned()));
            }
            if options.is_empty() {
                return Err(ApiError::validation(format!(
                    "Enumeration token '{name}' needs options"
                )));
            }
        }
        let object_property_name = text_field(obj, "objectPropertyName")?;
        let previous = old.iter().find(|t| t.name == name);
        if let Some(p) = previous
            && p.kind != kind
        {
            return Err(ApiError::validation(format!(
                "The type of token '{name}' cannot be changed (it is {})",
                p.kind.as_str()
            )));
        }
        tokens.push(Token {
            name,
            label,
            kind,
            options,
            object_property_name,
            created_at: previous.map_or(now, |p| p.created_at),
            updated_at: now,
        });
    }
    Ok(tokens)
}

/// The body of a template write as an object.
fn template_body(headers: &HeaderMap, body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match json_body(headers, body)? {
        Value::Object(map) => Ok(map),
        _ => Err(ApiError::validation(
            "The request body must be a JSON object",
        )),
    }
}

fn template_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Event template {id} was not found."))
}

/// The template `raw_id` of `app_id`.
fn owned_template<'a>(
    s: &'a mut SimState,
    app_id: i64,
    raw_id: &str,
) -> Result<&'a mut Template, ApiError> {
    raw_id
        .parse::<u64>()
        .ok()
        .and_then(|id| s.timeline.templates.get_mut(&id))
        .filter(|t| t.app_id == app_id)
        .ok_or_else(|| template_not_found(raw_id))
}

async fn list_templates(
    State(sim): State<Sim>,
    Path(app_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let app_id = crate::webhooks::api::authorise(&sim, &app_id, query.as_deref())?;
    let results: Vec<Value> = sim.with(|s| {
        s.timeline
            .templates
            .values()
            .filter(|t| t.app_id == app_id)
            .map(template_json)
            .collect()
    });
    Ok(axum::Json(json!({ "results": results })).into_response())
}

async fn create_template(
    State(sim): State<Sim>,
    Path(app_id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let app_id = crate::webhooks::api::authorise(&sim, &app_id, query.as_deref())?;
    let body = template_body(&headers, &body)?;
    let name = required_text(&body, "name")?;
    let object_type_text = required_text(&body, "objectType")?;
    let object_type = template_object_type(&object_type_text).ok_or_else(|| {
        ApiError::validation(format!(
            "objectType '{object_type_text}' is not supported; use contacts, companies, deals or tickets"
        ))
    })?;
    let header_template = text_field(&body, "headerTemplate")?;
    let detail_template = text_field(&body, "detailTemplate")?;
    let now = now_ms();
    let tokens = parse_tokens(body.get("tokens"), &[], now)?;
    let template = sim.with(|s| {
        let id = s.timeline.next_template_id;
        s.timeline.next_template_id += 1;
        let template = Template {
            id,
            app_id,
            name,
            header_template,
            detail_template,
            object_type,
            tokens,
            created_at: now,
            updated_at: now,
        };
        let json = template_json(&template);
        s.timeline.templates.insert(id, template);
        json
    });
    Ok((StatusCode::CREATED, axum::Json(template)).into_response())
}

async fn get_template(
    State(sim): State<Sim>,
    Path((app_id, template_id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let app_id = crate::webhooks::api::authorise(&sim, &app_id, query.as_deref())?;
    let json = sim.with(|s| owned_template(s, app_id, &template_id).map(|t| template_json(t)))?;
    Ok(axum::Json(json).into_response())
}

/// `PUT`: replaces name, header and detail templates and tokens; the object type stays.
async fn update_template(
    State(sim): State<Sim>,
    Path((app_id, template_id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let app_id = crate::webhooks::api::authorise(&sim, &app_id, query.as_deref())?;
    let body = template_body(&headers, &body)?;
    let name = required_text(&body, "name")?;
    if let Some(given) = body.get("id")
        && crate::crm::http::id_text(given).as_deref() != Some(template_id.as_str())
    {
        return Err(ApiError::validation(format!(
            "The id in the body ({given}) differs from the template id in the path ({template_id})"
        )));
    }
    let header_template = text_field(&body, "headerTemplate")?;
    let detail_template = text_field(&body, "detailTemplate")?;
    let now = now_ms();
    let json = sim.with(|s| {
        let template = owned_template(s, app_id, &template_id)?;
        if let Some(raw) = text_field(&body, "objectType")?
            && template_object_type(&raw) != Some(template.object_type)
        {
            return Err(ApiError::validation(format!(
                "The objectType of a template cannot be changed (it is {})",
                template.object_type
            )));
        }
        let tokens = parse_tokens(body.get("tokens"), &template.tokens, now)?;
        template.name = name;
        template.header_template = header_template;
        template.detail_template = detail_template;
        template.tokens = tokens;
        template.updated_at = now;
        Ok::<_, ApiError>(template_json(template))
    })?;
    Ok(axum::Json(json).into_response())
}

/// `DELETE`: the template and its events are gone.
async fn delete_template(
    State(sim): State<Sim>,
    Path((app_id, template_id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let app_id = crate::webhooks::api::authorise(&sim, &app_id, query.as_deref())?;
    sim.with(|s| {
        let id = owned_template(s, app_id, &template_id)?.id;
        s.timeline.templates.remove(&id);
        s.timeline.events.retain(|(t, _), _| *t != id);
        Ok::<_, ApiError>(())
    })?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_types_accept_singular_and_any_case() {
        assert_eq!(template_object_type("CONTACTS"), Some("contacts"));
        assert_eq!(template_object_type("deal"), Some("deals"));
        assert_eq!(template_object_type("products"), None);
    }

    #[test]
    fn tokens_are_checked() {
        let ok = parse_tokens(
            Some(&json!([{"name": "pet.name", "label": "Pet", "type": "STRING"}])),
            &[],
            1,
        )
        .unwrap_or_default();
        assert_eq!(ok.len(), 1);
        assert_eq!(ok[0].kind, TokenType::String);
        for bad in [
            json!([{"name": "a b", "label": "x", "type": "string"}]),
            json!([{"name": "a", "label": "x", "type": "bool"}]),
            json!([{"name": "a", "label": "x", "type": "enumeration"}]),
            json!([{"name": "a", "label": "x", "type": "string"}, {"name": "a", "label": "y", "type": "number"}]),
            json!([{"name": "a", "type": "string"}]),
        ] {
            assert!(parse_tokens(Some(&bad), &[], 1).is_err(), "{bad}");
        }
        assert!(parse_tokens(None, &[], 1).is_err());
        // A token keeps its type.
        let changed = parse_tokens(
            Some(&json!([{"name": "pet.name", "label": "Pet", "type": "number"}])),
            &ok,
            2,
        );
        assert!(changed.is_err());
    }
}
