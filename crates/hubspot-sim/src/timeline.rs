//! Timeline events v3: an app's event templates (managed with the developer API key of the
//! app's developer account, `?hapikey=`) and the events apps create from them on CRM
//! records of the portals that installed them (OAuth access token, scope `timeline`).
//!
//! Served twice: `/integrators/timeline/v3/…` (HubSpot's current paths) and
//! `/crm/v3/timeline/…` (the paths of the older spec), with the same shapes.
//!
//! Events are immutable: they have no update or delete endpoint, and an event id that was
//! used before (for the same template) answers 400, as HubSpot does since 2024-12-02.

use std::collections::{BTreeMap, HashMap, HashSet};

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
            .route(&format!("{base}/events"), post(create_event))
            .route(&format!("{base}/events/batch/create"), post(batch_create))
            .route(
                &format!("{base}/events/{{template_id}}/{{event_id}}"),
                get(get_event),
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

// ------------------------------------------------------------------------------ events

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

fn event_body(headers: &HeaderMap, body: &[u8]) -> Result<Value, ApiError> {
    json_body(headers, body)
}

async fn create_event(
    State(sim): State<Sim>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = auth::authenticate(&sim, &headers)?;
    caller.require(Scopes::AnyOf(SCOPES))?;
    let body = event_body(&headers, &body)?;
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
async fn batch_create(
    State(sim): State<Sim>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = auth::authenticate(&sim, &headers)?;
    caller.require(Scopes::AnyOf(SCOPES))?;
    let body = event_body(&headers, &body)?;
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

async fn get_event(
    State(sim): State<Sim>,
    Path((template_id, event_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = auth::authenticate(&sim, &headers)?;
    caller.require(Scopes::AnyOf(SCOPES))?;
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
