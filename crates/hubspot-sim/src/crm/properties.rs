//! The properties API (`/crm/v3/properties/{objectType}`, `/crm/properties/2026-03/{objectType}`),
//! the legacy `/properties/v2/{object}/properties` list and `/crm/v3/schemas`.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::{self, Caller, Scopes};
use crate::crm::http::{self, ObjectQuery, input, json_body, respond};
use crate::crm::schema::{ObjectKind, PropOption, PropType, PropertyDef};
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

/// Scope alternatives of `/crm/v3/schemas`.
const SCHEMAS_READ: &[&str] = &["crm.schemas.custom.read", "crm.objects.custom.read"];

fn authorize(
    sim: &Sim,
    headers: &HeaderMap,
    object_type: &str,
    scopes: &[&str],
) -> Result<(Caller, ObjectKind), ApiError> {
    let caller = auth::authenticate(sim, headers)?;
    let kind = http::object_kind(object_type)?;
    caller.require(Scopes::AnyOf(scopes))?;
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
    let (caller, kind) = authorize(&sim, &headers, &object_type, PROPERTIES_READ)?;
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
    let (caller, kind) = authorize(&sim, &headers, &object_type, PROPERTIES_READ)?;
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

/// `GET /properties/{objectType}/groups`.
pub async fn groups(
    State(sim): State<Sim>,
    Path(object_type): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (caller, kind) = authorize(&sim, &headers, &object_type, PROPERTIES_READ)?;
    let results: Vec<Value> = kind
        .groups()
        .iter()
        .enumerate()
        .map(|(i, (name, label))| {
            json!({"name": name, "label": label, "displayOrder": i, "archived": false})
        })
        .collect();
    Ok(respond(
        &caller,
        StatusCode::OK,
        json!({ "results": results }),
    ))
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
struct PropertyInput {
    name: Option<String>,
    label: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    field_type: Option<String>,
    group_name: Option<String>,
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

/// Checks a definition's type, field type, group and options.
fn check_definition(kind: ObjectKind, def: &PropertyDef) -> Result<(), ApiError> {
    if !def.kind.allows_field_type(&def.field_type) {
        return Err(ApiError::validation(format!(
            "fieldType '{}' is not valid for a property of type '{}'",
            def.field_type,
            def.kind.as_str()
        )));
    }
    if !kind.groups().iter().any(|(g, _)| *g == def.group) {
        return Err(ApiError::validation(format!(
            "Property group '{}' does not exist for object type {}",
            def.group,
            kind.plural()
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

/// `POST /properties/{objectType}`: a custom property; 201.
pub async fn create(
    State(sim): State<Sim>,
    Path(object_type): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (caller, kind) = authorize(&sim, &headers, &object_type, PROPERTIES_WRITE)?;
    let p: PropertyInput = input(json_body(&headers, &body)?)?;
    let missing =
        |field: &str| ApiError::validation(format!("Invalid input JSON: missing field `{field}`"));
    let name = p.name.ok_or_else(|| missing("name"))?;
    let label = p.label.ok_or_else(|| missing("label"))?;
    let prop_type = parse_type(&p.kind.ok_or_else(|| missing("type"))?)?;
    let field_type = p.field_type.ok_or_else(|| missing("fieldType"))?;
    let group = p.group_name.ok_or_else(|| missing("groupName"))?;
    let valid_name = name.len() <= 100
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !valid_name {
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
    let def = PropertyDef {
        name: name.clone(),
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
    };
    check_definition(kind, &def)?;
    let body = sim.with(|s| {
        let store = s.crm.portal(caller.portal.id).store_mut(kind);
        if store.any_prop_index(&name).is_some() {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "OBJECT_ALREADY_EXISTS",
                format!("Property named '{name}' already exists."),
            ));
        }
        let idx = store.add_property(def);
        Ok(store.def(idx).to_v3_json())
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
    let (caller, kind) = authorize(&sim, &headers, &object_type, PROPERTIES_WRITE)?;
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
        check_definition(kind, &def)?;
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
    let (caller, kind) = authorize(&sim, &headers, &object_type, PROPERTIES_WRITE)?;
    sim.with(|s| {
        let store = s.crm.portal(caller.portal.id).store_mut(kind);
        let idx = store
            .prop_index(&name)
            .ok_or_else(|| property_not_found(kind, &name))?;
        if store.def(idx).hubspot_defined {
            return Err(read_only_definition(&name));
        }
        store.archive_property(idx, now_ms());
        Ok(())
    })?;
    Ok(http::no_content(&caller))
}

/// `GET /properties/v2/{object}/properties`: a bare JSON array in the legacy shape.
pub async fn list_v2(
    State(sim): State<Sim>,
    Path(object): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (caller, kind) = authorize(&sim, &headers, &object, PROPERTIES_READ)?;
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

/// `GET /crm/v3/schemas`: custom object schemas; the simulator has none.
pub async fn schemas(State(sim): State<Sim>, headers: HeaderMap) -> Result<Response, ApiError> {
    let caller = auth::authenticate(&sim, &headers)?;
    caller.require(Scopes::AnyOf(SCHEMAS_READ))?;
    Ok(respond(&caller, StatusCode::OK, json!({ "results": [] })))
}
