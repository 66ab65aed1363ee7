//! The properties API (`/crm/v3/properties/{objectType}`, `/crm/properties/2026-03/{objectType}`),
//! with its batches and property groups,
//! and the legacy `/properties/v2/{object}/properties` list.

use std::sync::LazyLock;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::{self, Caller, Scopes};
use crate::crm::http::{self, Access, ObjectQuery, input, json_body, respond};
use crate::crm::schema::{ObjectKind, PropOption, PropType, PropertyDef};
use crate::crm::store::ObjectStore;
use crate::crm::types::{Surface, TYPES};
use crate::errors::ApiError;
use crate::state::{Sim, now_ms};

/// Scope alternatives for reading property definitions (any object read scope).
pub const PROPERTIES_READ: &[&str] = &[
    "crm.objects.contacts.read",
    "crm.objects.companies.read",
    "crm.objects.deals.read",
    "crm.objects.products.read",
    "crm.objects.line_items.read",
    "crm.objects.quotes.read",
    "crm.objects.custom.read",
    "crm.schemas.contacts.read",
    "crm.schemas.companies.read",
    "crm.schemas.deals.read",
    "crm.schemas.custom.read",
    "crm.schemas.line_items.read",
    "crm.schemas.quotes.read",
    "contacts",
    "tickets",
    "e-commerce",
];

/// Scope alternatives for changing property definitions.
pub const PROPERTIES_WRITE: &[&str] = &[
    "crm.schemas.contacts.write",
    "crm.schemas.companies.write",
    "crm.schemas.deals.write",
    "crm.schemas.custom.write",
    "contacts",
    "tickets",
    "e-commerce",
];

/// Every CRM object read scope: [`PROPERTIES_READ`] and the granular read scopes of
/// every built-in type (HubSpot's properties API takes any of a long list). Also the
/// enablement reads of [`crate::crm::library`] take these.
pub fn any_read_scopes() -> &'static [&'static str] {
    static ALL: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
        let mut all: Vec<&'static str> = PROPERTIES_READ.to_vec();
        for d in &TYPES {
            for s in d.read {
                if s.contains('.') && !all.contains(s) {
                    all.push(s);
                }
            }
        }
        all
    });
    &ALL
}

/// Which properties API a request came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Api {
    /// `/crm/v3/properties`, `/crm/properties/2026-03`.
    V3,
    /// `/properties/v2/{object}/properties`.
    V2,
}

/// The object type of a properties path: built-in types with property definitions on
/// that API (`form` only on v2), else 400.
fn property_kind(object_type: &str, api: Api) -> Result<ObjectKind, ApiError> {
    match ObjectKind::parse(object_type) {
        Some(k) if api == Api::V2 || k.surface() != Surface::LegacyProperties => Ok(k),
        Some(_) => Err(http::unknown_object_type(object_type)),
        None => http::object_kind(object_type),
    }
}

/// Authenticates, resolves the type, then checks the scopes (reads: any object read
/// scope or the type's own; writes: [`PROPERTIES_WRITE`]), activation and the seat.
fn authorize(
    sim: &Sim,
    headers: &HeaderMap,
    object_type: &str,
    access: Access,
    api: Api,
) -> Result<(Caller, ObjectKind), ApiError> {
    let caller = auth::authenticate(sim, headers)?;
    let kind = property_kind(object_type, api)?;
    let scopes: Vec<&str> = match access {
        Access::Read => {
            let any = any_read_scopes();
            let own = kind.read_scopes().iter().filter(|s| !any.contains(s));
            any.iter().chain(own).copied().collect()
        }
        Access::Write => PROPERTIES_WRITE.to_vec(),
    };
    caller.require(Scopes::AnyOf(&scopes))?;
    crate::crm::library::check(sim, &caller, kind)?;
    http::check_seat(sim, &caller, kind)?;
    Ok((caller, kind))
}

fn property_not_found(kind: ObjectKind, name: &str) -> ApiError {
    ApiError::not_found(format!(
        "Unable to find property {name} on object type {}",
        kind.plural()
    ))
}

/// `GET /properties/{objectType}[?archived=true]`.
pub async fn list(
    State(sim): State<Sim>,
    Path(object_type): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (caller, kind) = authorize(&sim, &headers, &object_type, Access::Read, Api::V3)?;
    let q = ObjectQuery::parse(query.as_deref())?;
    let results: Vec<Value> = sim.with(|s| {
        s.crm
            .portal(caller.portal.id)
            .store(kind)
            .props
            .iter()
            .filter(|p| p.archived == q.archived)
            .map(PropertyDef::to_v3_json)
            .collect()
    });
    Ok(respond(
        &caller,
        StatusCode::OK,
        json!({ "results": results }),
    ))
}

/// `GET /properties/{objectType}/{propertyName}[?archived=true]`.
pub async fn get_one(
    State(sim): State<Sim>,
    Path((object_type, name)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (caller, kind) = authorize(&sim, &headers, &object_type, Access::Read, Api::V3)?;
    let q = ObjectQuery::parse(query.as_deref())?;
    let body = sim.with(|s| {
        let store = s.crm.portal(caller.portal.id).store(kind);
        store
            .any_prop_index(&name)
            .map(|i| store.def(i))
            .filter(|d| d.archived == q.archived)
            .map(PropertyDef::to_v3_json)
            .ok_or_else(|| property_not_found(kind, &name))
    })?;
    Ok(respond(&caller, StatusCode::OK, body))
}

/// A property group of an object type in a portal.
#[derive(Debug, Clone)]
pub struct PropertyGroup {
    pub name: String,
    pub label: String,
    pub display_order: i64,
    /// Built-in groups cannot be changed or deleted.
    pub builtin: bool,
}

impl PropertyGroup {
    /// The built-in groups of an object type, in their display order.
    pub fn builtin(kind: ObjectKind) -> Vec<Self> {
        kind.groups()
            .iter()
            .zip(0..)
            .map(|((name, label), order)| Self {
                name: (*name).to_owned(),
                label: (*label).to_owned(),
                display_order: order,
                builtin: true,
            })
            .collect()
    }

    fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "label": self.label,
            "displayOrder": self.display_order,
            "archived": false,
        })
    }
}

fn group_not_found(kind: ObjectKind, name: &str) -> ApiError {
    ApiError::not_found(format!(
        "Unable to find property group {name} on object type {}",
        kind.plural()
    ))
}

/// Property and group names: lowercase letters, digits and `_`, starting with a letter.
fn valid_name(name: &str) -> bool {
    name.len() <= 100
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// `GET /properties/{objectType}/groups`.
pub async fn groups(
    State(sim): State<Sim>,
    Path(object_type): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (caller, kind) = authorize(&sim, &headers, &object_type, Access::Read, Api::V3)?;
    let results: Vec<Value> = sim.with(|s| {
        s.crm
            .portal(caller.portal.id)
            .store(kind)
            .groups
            .iter()
            .map(PropertyGroup::to_json)
            .collect()
    });
    Ok(respond(
        &caller,
        StatusCode::OK,
        json!({ "results": results }),
    ))
}

/// `GET /properties/{objectType}/groups/{groupName}`.
pub async fn get_group(
    State(sim): State<Sim>,
    Path((object_type, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (caller, kind) = authorize(&sim, &headers, &object_type, Access::Read, Api::V3)?;
    let body = sim.with(|s| {
        s.crm
            .portal(caller.portal.id)
            .store(kind)
            .groups
            .iter()
            .find(|g| g.name == name)
            .map(PropertyGroup::to_json)
            .ok_or_else(|| group_not_found(kind, &name))
    })?;
    Ok(respond(&caller, StatusCode::OK, body))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GroupInput {
    name: Option<String>,
    label: Option<String>,
    display_order: Option<i64>,
}

/// `POST /properties/{objectType}/groups` `{name, label, displayOrder?}`: 201.
pub async fn create_group(
    State(sim): State<Sim>,
    Path(object_type): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (caller, kind) = authorize(&sim, &headers, &object_type, Access::Write, Api::V3)?;
    let g: GroupInput = input(json_body(&headers, &body)?)?;
    let name = g.name.ok_or_else(|| missing_field("name"))?;
    let label = g.label.ok_or_else(|| missing_field("label"))?;
    if !valid_name(&name) {
        return Err(ApiError::validation(format!(
            "Property group name '{name}' is invalid: use lowercase letters, digits and underscores, starting with a letter"
        )));
    }
    if label.trim().is_empty() {
        return Err(ApiError::validation("label must not be empty"));
    }
    let body = sim.with(|s| {
        let store = s.crm.portal(caller.portal.id).store_mut(kind);
        if store.groups.iter().any(|x| x.name == name) {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "OBJECT_ALREADY_EXISTS",
                format!("Property group named '{name}' already exists."),
            ));
        }
        let group = PropertyGroup {
            name,
            label,
            display_order: g.display_order.unwrap_or(-1),
            builtin: false,
        };
        let json = group.to_json();
        store.groups.push(group);
        Ok(json)
    })?;
    Ok(respond(&caller, StatusCode::CREATED, body))
}

fn builtin_group(name: &str) -> ApiError {
    ApiError::validation(format!(
        "Property group '{name}' is a HubSpot-defined group; it cannot be changed or deleted"
    ))
}

/// `PATCH /properties/{objectType}/groups/{groupName}` `{label?, displayOrder?}`: 200.
pub async fn update_group(
    State(sim): State<Sim>,
    Path((object_type, name)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (caller, kind) = authorize(&sim, &headers, &object_type, Access::Write, Api::V3)?;
    let g: GroupInput = input(json_body(&headers, &body)?)?;
    if g.label.as_deref().is_some_and(|l| l.trim().is_empty()) {
        return Err(ApiError::validation("label must not be empty"));
    }
    let body = sim.with(|s| {
        let store = s.crm.portal(caller.portal.id).store_mut(kind);
        let group = store
            .groups
            .iter_mut()
            .find(|x| x.name == name)
            .ok_or_else(|| group_not_found(kind, &name))?;
        if group.builtin {
            return Err(builtin_group(&name));
        }
        if let Some(v) = g.label {
            group.label = v;
        }
        if let Some(v) = g.display_order {
            group.display_order = v;
        }
        Ok(group.to_json())
    })?;
    Ok(respond(&caller, StatusCode::OK, body))
}

/// `DELETE /properties/{objectType}/groups/{groupName}`: 204. Built-in groups and groups
/// that live custom properties use → 400.
pub async fn delete_group(
    State(sim): State<Sim>,
    Path((object_type, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (caller, kind) = authorize(&sim, &headers, &object_type, Access::Write, Api::V3)?;
    sim.with(|s| {
        let store = s.crm.portal(caller.portal.id).store_mut(kind);
        let pos = store
            .groups
            .iter()
            .position(|x| x.name == name)
            .ok_or_else(|| group_not_found(kind, &name))?;
        if store.groups[pos].builtin {
            return Err(builtin_group(&name));
        }
        let used: Vec<&str> = store
            .props
            .iter()
            .filter(|p| !p.archived && p.group == name)
            .map(|p| p.name.as_str())
            .collect();
        if !used.is_empty() {
            return Err(ApiError::validation(format!(
                "Property group '{name}' still has properties ({}); move or archive them first",
                used.join(", ")
            )));
        }
        store.groups.remove(pos);
        Ok(())
    })?;
    Ok(http::no_content(&caller))
}

fn missing_field(field: &str) -> ApiError {
    ApiError::validation(format!("Invalid input JSON: missing field `{field}`"))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OptionInput {
    label: String,
    value: String,
    display_order: Option<i64>,
    #[serde(default)]
    hidden: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PropertyInput {
    pub(crate) name: Option<String>,
    label: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    field_type: Option<String>,
    pub(crate) group_name: Option<String>,
    description: Option<String>,
    options: Option<Vec<OptionInput>>,
    display_order: Option<i64>,
    has_unique_value: Option<bool>,
    hidden: Option<bool>,
    form_field: Option<bool>,
}

fn options_of(input: Vec<OptionInput>) -> Vec<PropOption> {
    input
        .into_iter()
        .enumerate()
        .map(|(i, o)| PropOption {
            value: o.value,
            label: o.label,
            display_order: o
                .display_order
                .unwrap_or_else(|| i64::try_from(i).unwrap_or_default()),
            hidden: o.hidden,
        })
        .collect()
}

/// Checks a definition's type, field type, group (one of `groups`) and options.
fn check_definition(
    kind: ObjectKind,
    groups: &[PropertyGroup],
    def: &PropertyDef,
) -> Result<(), ApiError> {
    if !groups.iter().any(|g| g.name == def.group) {
        return Err(ApiError::validation(format!(
            "Property group '{}' does not exist for object type {}",
            def.group,
            kind.plural()
        )));
    }
    check_shape(def)
}

/// Checks a definition's field type (against its type) and options.
pub(crate) fn check_shape(def: &PropertyDef) -> Result<(), ApiError> {
    if !def.kind.allows_field_type(&def.field_type) {
        return Err(ApiError::validation(format!(
            "fieldType '{}' is not valid for a property of type '{}'",
            def.field_type,
            def.kind.as_str()
        )));
    }
    if def.kind == PropType::Enumeration && def.options.is_empty() {
        return Err(ApiError::validation(
            "An enumeration property needs at least one option",
        ));
    }
    let mut values: Vec<&str> = def.options.iter().map(|o| o.value.as_str()).collect();
    values.sort_unstable();
    if values.windows(2).any(|w| w[0] == w[1]) {
        return Err(ApiError::validation("Option values must be unique"));
    }
    Ok(())
}

fn parse_type(s: &str) -> Result<PropType, ApiError> {
    PropType::parse(s).ok_or_else(|| {
        ApiError::validation(format!(
            "Invalid type '{s}'; use one of bool, date, datetime, enumeration, number, phone_number, string"
        ))
    })
}

/// A new custom property's definition from its JSON input: required fields, name and label.
pub(crate) fn new_definition(p: PropertyInput) -> Result<PropertyDef, ApiError> {
    let name = p.name.ok_or_else(|| missing_field("name"))?;
    let label = p.label.ok_or_else(|| missing_field("label"))?;
    let prop_type = parse_type(&p.kind.ok_or_else(|| missing_field("type"))?)?;
    let field_type = p.field_type.ok_or_else(|| missing_field("fieldType"))?;
    let group = p.group_name.ok_or_else(|| missing_field("groupName"))?;
    if !valid_name(&name) {
        return Err(ApiError::validation(format!(
            "Property name '{name}' is invalid: use lowercase letters, digits and underscores, starting with a letter"
        )));
    }
    if name.starts_with("hs_") {
        return Err(ApiError::validation(format!(
            "Property name '{name}' is invalid: the hs_ prefix is reserved for HubSpot-defined properties"
        )));
    }
    if label.trim().is_empty() {
        return Err(ApiError::validation("label must not be empty"));
    }
    let now = now_ms();
    Ok(PropertyDef {
        name,
        label,
        kind: prop_type,
        field_type,
        group,
        description: p.description.unwrap_or_default(),
        options: options_of(p.options.unwrap_or_default()),
        read_only: false,
        unique: p.has_unique_value.unwrap_or(false),
        hubspot_defined: false,
        hidden: p.hidden.unwrap_or(false),
        form_field: p.form_field.unwrap_or(false),
        display_order: p.display_order.unwrap_or(-1),
        archived: false,
        archived_at: None,
        created_at: now,
        updated_at: now,
        computed: None,
    })
}

/// Checks a new definition against the store: valid, group exists, name unused (409).
fn check_new(store: &ObjectStore, def: &PropertyDef) -> Result<(), ApiError> {
    check_definition(store.kind, &store.groups, def)?;
    if store.any_prop_index(&def.name).is_some() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "OBJECT_ALREADY_EXISTS",
            format!("Property named '{}' already exists.", def.name),
        ));
    }
    Ok(())
}

/// `POST /properties/{objectType}`: a custom property; 201.
pub async fn create(
    State(sim): State<Sim>,
    Path(object_type): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (caller, kind) = authorize(&sim, &headers, &object_type, Access::Write, Api::V3)?;
    let def = new_definition(input(json_body(&headers, &body)?)?)?;
    let body = sim.with(|s| {
        let store = s.crm.portal(caller.portal.id).store_mut(kind);
        check_new(store, &def)?;
        let idx = store.add_property(def);
        Ok::<_, ApiError>(store.def(idx).to_v3_json())
    })?;
    Ok(respond(&caller, StatusCode::CREATED, body))
}

/// `PATCH /properties/{objectType}/{propertyName}`: custom properties only.
pub async fn update(
    State(sim): State<Sim>,
    Path((object_type, name)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (caller, kind) = authorize(&sim, &headers, &object_type, Access::Write, Api::V3)?;
    let p: PropertyInput = input(json_body(&headers, &body)?)?;
    let new_type = p.kind.as_deref().map(parse_type).transpose()?;
    let body = sim.with(|s| {
        let store = s.crm.portal(caller.portal.id).store_mut(kind);
        let idx = store
            .prop_index(&name)
            .ok_or_else(|| property_not_found(kind, &name))?;
        let mut def = store.def(idx).clone();
        if def.hubspot_defined {
            return Err(read_only_definition(&name));
        }
        if let Some(v) = p.label {
            def.label = v;
        }
        if let Some(v) = new_type {
            def.kind = v;
        }
        if let Some(v) = p.field_type {
            def.field_type = v;
        }
        if let Some(v) = p.group_name {
            def.group = v;
        }
        if let Some(v) = p.description {
            def.description = v;
        }
        if let Some(v) = p.options {
            def.options = options_of(v);
        }
        if let Some(v) = p.display_order {
            def.display_order = v;
        }
        if let Some(v) = p.hidden {
            def.hidden = v;
        }
        if let Some(v) = p.form_field {
            def.form_field = v;
        }
        if p.has_unique_value.is_some_and(|u| u != def.unique) {
            return Err(ApiError::validation(
                "hasUniqueValue cannot be changed after a property is created",
            ));
        }
        check_definition(kind, &store.groups, &def)?;
        def.updated_at = now_ms();
        let json = def.to_v3_json();
        store.props[usize::from(idx)] = def;
        Ok(json)
    })?;
    Ok(respond(&caller, StatusCode::OK, body))
}

fn read_only_definition(name: &str) -> ApiError {
    ApiError::validation(format!(
        "Property '{name}' is a HubSpot-defined property; its definition cannot be changed or archived"
    ))
}

/// `DELETE /properties/{objectType}/{propertyName}`: archives a custom property; 204.
pub async fn archive(
    State(sim): State<Sim>,
    Path((object_type, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (caller, kind) = authorize(&sim, &headers, &object_type, Access::Write, Api::V3)?;
    sim.with(|s| {
        let store = s.crm.portal(caller.portal.id).store_mut(kind);
        let idx = archivable(store, &name)?.ok_or_else(|| property_not_found(kind, &name))?;
        store.archive_property(idx, now_ms());
        Ok::<_, ApiError>(())
    })?;
    Ok(http::no_content(&caller))
}

/// The index of a live property that may be archived; `None` when there is none (unknown
/// or already archived); 400 for HubSpot-defined properties.
fn archivable(store: &ObjectStore, name: &str) -> Result<Option<u16>, ApiError> {
    let Some(idx) = store.prop_index(name) else {
        return Ok(None);
    };
    if store.def(idx).hubspot_defined {
        return Err(read_only_definition(name));
    }
    Ok(Some(idx))
}

#[derive(Deserialize)]
struct BatchInputs<T> {
    inputs: Vec<T>,
    #[serde(default)]
    archived: bool,
}

#[derive(Deserialize)]
struct NameInput {
    name: String,
}

/// Parses a batch body and checks its size against `batch_max_inputs` (default 100).
fn batch_inputs<T: serde::de::DeserializeOwned>(
    sim: &Sim,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<BatchInputs<T>, ApiError> {
    let batch: BatchInputs<T> = input(json_body(headers, body)?)?;
    http::batch_limit(batch.inputs.len(), sim.with(|s| s.config.batch_max_inputs))?;
    Ok(batch)
}

/// `POST /properties/{objectType}/batch/read` `{inputs: [{name}], archived?}`: the found
/// definitions (live, or archived with `archived: true`); unknown names → 207 with one
/// `OBJECT_NOT_FOUND` error listing them in `context.names`.
pub async fn batch_read(
    State(sim): State<Sim>,
    Path(object_type): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (caller, kind) = authorize(&sim, &headers, &object_type, Access::Read, Api::V3)?;
    let started_at = now_ms();
    let batch: BatchInputs<NameInput> = batch_inputs(&sim, &headers, &body)?;
    let (results, missing) = sim.with(|s| {
        let store = s.crm.portal(caller.portal.id).store(kind);
        let mut results = Vec::new();
        let mut missing = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for i in &batch.inputs {
            if !seen.insert(i.name.as_str()) {
                continue;
            }
            match store
                .any_prop_index(&i.name)
                .map(|idx| store.def(idx))
                .filter(|d| d.archived == batch.archived)
            {
                Some(def) => results.push(def.to_v3_json()),
                None => missing.push(i.name.clone()),
            }
        }
        (results, missing)
    });
    let errors = if missing.is_empty() {
        Vec::new()
    } else {
        let err = property_not_found(kind, &missing.join(", "));
        vec![json!({
            "status": "error",
            "category": err.body.category,
            "message": err.body.message,
            "context": { "names": missing },
            "errors": [],
            "links": {},
        })]
    };
    Ok(http::batch_reply(
        &caller,
        StatusCode::OK,
        started_at,
        results,
        errors,
    ))
}

/// `POST /properties/{objectType}/batch/create` `{inputs: [PropertyCreate]}`: 201, all or
/// nothing (the first invalid input, or a name used twice, fails the batch).
pub async fn batch_create(
    State(sim): State<Sim>,
    Path(object_type): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (caller, kind) = authorize(&sim, &headers, &object_type, Access::Write, Api::V3)?;
    let started_at = now_ms();
    let batch: BatchInputs<PropertyInput> = batch_inputs(&sim, &headers, &body)?;
    let defs = batch
        .inputs
        .into_iter()
        .map(new_definition)
        .collect::<Result<Vec<_>, _>>()?;
    let results = sim.with(|s| {
        let store = s.crm.portal(caller.portal.id).store_mut(kind);
        let mut names = std::collections::HashSet::new();
        for def in &defs {
            check_new(store, def)?;
            if !names.insert(def.name.as_str()) {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "OBJECT_ALREADY_EXISTS",
                    format!("Property named '{}' is given twice in the batch.", def.name),
                ));
            }
        }
        Ok(defs
            .into_iter()
            .map(|def| {
                let idx = store.add_property(def);
                store.def(idx).to_v3_json()
            })
            .collect())
    })?;
    Ok(http::batch_reply(
        &caller,
        StatusCode::CREATED,
        started_at,
        results,
        Vec::new(),
    ))
}

/// `POST /properties/{objectType}/batch/archive` `{inputs: [{name}]}`: 204. Unknown or
/// already archived names are ignored; a HubSpot-defined one fails the batch (400) before
/// anything is archived.
pub async fn batch_archive(
    State(sim): State<Sim>,
    Path(object_type): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (caller, kind) = authorize(&sim, &headers, &object_type, Access::Write, Api::V3)?;
    let batch: BatchInputs<NameInput> = batch_inputs(&sim, &headers, &body)?;
    sim.with(|s| {
        let store = s.crm.portal(caller.portal.id).store_mut(kind);
        let found = batch
            .inputs
            .iter()
            .map(|i| archivable(store, &i.name))
            .collect::<Result<Vec<_>, _>>()?;
        let now = now_ms();
        for idx in found.into_iter().flatten() {
            store.archive_property(idx, now);
        }
        Ok::<_, ApiError>(())
    })?;
    Ok(http::no_content(&caller))
}

/// `GET /properties/v2/{object}/properties`: a bare JSON array in the legacy shape.
pub async fn list_v2(
    State(sim): State<Sim>,
    Path(object): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (caller, kind) = authorize(&sim, &headers, &object, Access::Read, Api::V2)?;
    let results: Vec<Value> = sim.with(|s| {
        s.crm
            .portal(caller.portal.id)
            .store(kind)
            .props
            .iter()
            .filter(|p| !p.archived)
            .map(PropertyDef::to_v2_json)
            .collect()
    });
    Ok(respond(&caller, StatusCode::OK, Value::Array(results)))
}
