//! Custom object schemas: `/crm/v3/schemas` and `/crm/schemas/2026-03`.
//!
//! Schemas are kept per portal ([`CustomSchemas`] in [`PortalCrm`]); each schema gets a
//! record store of kind [`ObjectKind::Custom`], used by the objects and search APIs
//! (resolved with [`resolve`]). Other CRM APIs refuse custom types
//! ([`unsupported_here`]).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::{self, Caller, Scopes};
use crate::crm::http::{self, ObjectQuery, input, json_body, respond};
use crate::crm::properties::{self, PropertyInput};
use crate::crm::schema::{Computed, FIRST_CUSTOM_NUMBER, ObjectKind, PropType, PropertyDef};
use crate::crm::store::{ObjectStore, PortalCrm};
use crate::crm::time;
use crate::errors::ApiError;
use crate::state::{Sim, now_ms};

/// Schemas API path prefixes: classic and date-versioned.
const SCHEMA_BASES: [&str; 2] = ["/crm/v3/schemas", "/crm/schemas/2026-03"];
/// Scope alternatives for reading schemas.
const SCHEMAS_READ: &[&str] = &["crm.schemas.custom.read", "crm.objects.custom.read"];
/// Scope alternatives for changing schemas.
const SCHEMAS_WRITE: &[&str] = &["crm.schemas.custom.write"];
/// The first association id of a portal's schemas.
const FIRST_ASSOCIATION_ID: u32 = 1_000_001;
/// The group of a schema's properties.
const PROPERTY_GROUP_SUFFIX: &str = "_information";

/// One association a schema declares (custom object → another object type).
#[derive(Debug, Clone)]
pub struct SchemaAssociation {
    pub id: u32,
    pub to_type_id: String,
    pub name: String,
    pub created_at: i64,
}

/// A custom object schema.
#[derive(Debug, Clone)]
pub struct CustomSchema {
    /// The numeric part of `objectTypeId` (`2-<number>`), also the schema's `id`.
    pub number: u32,
    pub name: String,
    pub fully_qualified_name: String,
    pub singular: String,
    pub plural: String,
    pub primary_display_property: Option<String>,
    pub required_properties: Vec<String>,
    pub searchable_properties: Vec<String>,
    pub secondary_display_properties: Vec<String>,
    pub properties: Vec<PropertyDef>,
    pub associations: Vec<SchemaAssociation>,
    pub created_at: i64,
    pub updated_at: i64,
    pub archived: bool,
}

impl CustomSchema {
    pub fn type_id(&self) -> String {
        format!("2-{}", self.number)
    }

    pub fn kind(&self) -> ObjectKind {
        ObjectKind::Custom(self.number)
    }

    /// Whether a path segment names this schema: type id, fully qualified name or name
    /// (names in any case).
    fn is_named(&self, ident: &str) -> bool {
        ident == self.type_id()
            || ident.eq_ignore_ascii_case(&self.fully_qualified_name)
            || ident.eq_ignore_ascii_case(&self.name)
    }

    fn has_property(&self, name: &str) -> bool {
        self.properties.iter().any(|p| p.name == name)
    }

    pub fn to_json(&self) -> Value {
        let type_id = self.type_id();
        json!({
            "id": self.number.to_string(),
            "objectTypeId": type_id,
            "fullyQualifiedName": self.fully_qualified_name,
            "name": self.name,
            "labels": {"singular": self.singular, "plural": self.plural},
            "primaryDisplayProperty": self.primary_display_property,
            "requiredProperties": self.required_properties,
            "searchableProperties": self.searchable_properties,
            "secondaryDisplayProperties": self.secondary_display_properties,
            "properties": self.properties.iter().map(PropertyDef::to_v3_json).collect::<Vec<_>>(),
            "associations": self.associations.iter().map(|a| json!({
                "id": a.id.to_string(),
                "fromObjectTypeId": type_id,
                "toObjectTypeId": a.to_type_id,
                "name": a.name,
                "createdAt": time::iso(a.created_at),
                "updatedAt": time::iso(a.created_at),
            })).collect::<Vec<_>>(),
            "createdAt": time::iso(self.created_at),
            "updatedAt": time::iso(self.updated_at),
            "archived": self.archived,
        })
    }
}

/// The custom object schemas of one portal.
#[derive(Debug, Default)]
pub struct CustomSchemas {
    pub schemas: Vec<CustomSchema>,
    next_association: u32,
}

impl CustomSchemas {
    fn alloc_association(&mut self) -> u32 {
        let n = FIRST_ASSOCIATION_ID + self.next_association;
        self.next_association += 1;
        n
    }

    /// The position of a schema named by `ident`, live or (with `archived`) archived.
    fn position(&self, ident: &str, archived: bool) -> Option<usize> {
        self.schemas
            .iter()
            .position(|s| s.archived == archived && s.is_named(ident))
    }
}

/// Whether a path segment has the shape of a custom object type: `2-<n>` or
/// `p<portalId>_<name>`.
pub fn looks_custom(object_type: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if let Some(n) = object_type.strip_prefix("2-") {
        return digits(n);
    }
    object_type
        .strip_prefix('p')
        .and_then(|rest| rest.split_once('_'))
        .is_some_and(|(portal, name)| digits(portal) && !name.is_empty())
}

/// The object kind of a live custom schema of the portal named by `ident` (type id,
/// fully qualified name or name).
pub fn resolve(crm: &PortalCrm, ident: &str) -> Option<ObjectKind> {
    let schemas = &crm.schemas;
    schemas
        .position(ident, false)
        .map(|i| schemas.schemas[i].kind())
}

/// The answer of the CRM APIs other than objects and search for custom object types.
pub fn unsupported_here(object_type: &str) -> ApiError {
    ApiError::validation(format!(
        "custom objects are not supported by this API of the simulator yet (object type {object_type})"
    ))
}

fn schema_not_found(ident: &str) -> ApiError {
    ApiError::not_found(format!("Unable to find object schema for {ident}"))
}

fn missing_field(field: &str) -> ApiError {
    ApiError::validation(format!("Invalid input JSON: missing field `{field}`"))
}

fn authorize(sim: &Sim, headers: &HeaderMap, scopes: &[&str]) -> Result<Caller, ApiError> {
    let caller = auth::authenticate(sim, headers)?;
    caller.require(Scopes::AnyOf(scopes))?;
    Ok(caller)
}

/// Schema names: letters, digits and `_`, starting with a letter, at most 100 characters.
fn valid_schema_name(name: &str) -> bool {
    name.len() <= 100
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[derive(Deserialize)]
struct LabelsInput {
    singular: Option<String>,
    plural: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SchemaInput {
    name: Option<String>,
    labels: Option<LabelsInput>,
    primary_display_property: Option<String>,
    required_properties: Option<Vec<String>>,
    searchable_properties: Option<Vec<String>>,
    secondary_display_properties: Option<Vec<String>>,
    properties: Option<Vec<PropertyInput>>,
    associated_objects: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SchemaPatch {
    labels: Option<LabelsInput>,
    primary_display_property: Option<String>,
    required_properties: Option<Vec<String>>,
    searchable_properties: Option<Vec<String>>,
    secondary_display_properties: Option<Vec<String>>,
}

fn label(value: Option<String>, field: &str) -> Result<String, ApiError> {
    let v = value.ok_or_else(|| missing_field(field))?;
    if v.trim().is_empty() {
        return Err(ApiError::validation(format!("{field} must not be empty")));
    }
    Ok(v)
}

/// The built-in properties every custom object has.
fn builtin_properties(group: &str, now: i64) -> Vec<PropertyDef> {
    [
        ("hs_object_id", "Record ID", PropType::Number),
        (
            "hs_createdate",
            "Object create date/time",
            PropType::Datetime,
        ),
        (
            "hs_lastmodifieddate",
            "Object last modified date/time",
            PropType::Datetime,
        ),
    ]
    .into_iter()
    .zip([
        Computed::ObjectId,
        Computed::CreateDate,
        Computed::LastModified,
    ])
    .map(|((name, label, kind), computed)| PropertyDef {
        name: name.to_owned(),
        label: label.to_owned(),
        kind,
        field_type: kind.default_field_type().to_owned(),
        group: group.to_owned(),
        description: String::new(),
        options: Vec::new(),
        read_only: true,
        unique: false,
        hubspot_defined: true,
        hidden: false,
        form_field: false,
        display_order: -1,
        archived: false,
        archived_at: None,
        created_at: now,
        updated_at: now,
        computed: Some(computed),
    })
    .collect()
}

/// Checks that every name in `names` is one of the schema's properties.
fn check_names<'a>(
    schema: &CustomSchema,
    field: &str,
    names: impl IntoIterator<Item = &'a String>,
) -> Result<(), ApiError> {
    for name in names {
        if !schema.has_property(name) {
            return Err(ApiError::validation(format!(
                "{field} names '{name}', which is not a property of the schema"
            )));
        }
    }
    Ok(())
}

/// Checks the display, required and searchable property lists of a schema.
fn check_property_lists(schema: &CustomSchema) -> Result<(), ApiError> {
    check_names(
        schema,
        "primaryDisplayProperty",
        &schema.primary_display_property,
    )?;
    check_names(schema, "requiredProperties", &schema.required_properties)?;
    check_names(
        schema,
        "searchableProperties",
        &schema.searchable_properties,
    )?;
    check_names(
        schema,
        "secondaryDisplayProperties",
        &schema.secondary_display_properties,
    )
}

/// A new schema from its JSON input (everything but the portal-dependent checks).
fn new_schema(portal_id: i64, input: SchemaInput) -> Result<CustomSchema, ApiError> {
    let name = input.name.ok_or_else(|| missing_field("name"))?;
    if !valid_schema_name(&name) {
        return Err(ApiError::validation(format!(
            "Object schema name '{name}' is invalid: use letters, digits and underscores, starting with a letter"
        )));
    }
    if ObjectKind::parse(&name).is_some() {
        return Err(ApiError::validation(format!(
            "Object schema name '{name}' is reserved by a HubSpot object type"
        )));
    }
    let labels = input.labels.ok_or_else(|| missing_field("labels"))?;
    let singular = label(labels.singular, "labels.singular")?;
    let plural = label(labels.plural, "labels.plural")?;
    let inputs = input
        .properties
        .ok_or_else(|| missing_field("properties"))?;
    if inputs.is_empty() {
        return Err(ApiError::validation(
            "An object schema needs at least one property",
        ));
    }
    let associated = input
        .associated_objects
        .ok_or_else(|| missing_field("associatedObjects"))?;
    let now = now_ms();
    let group = format!("{}{PROPERTY_GROUP_SUFFIX}", name.to_ascii_lowercase());
    let mut props = builtin_properties(&group, now);
    for mut p in inputs {
        p.group_name.get_or_insert_with(|| group.clone());
        let def = properties::new_definition(p)?;
        properties::check_shape(&def)?;
        if props.iter().any(|d| d.name == def.name) {
            return Err(ApiError::validation(format!(
                "Property '{}' is defined twice",
                def.name
            )));
        }
        props.push(def);
    }
    let mut kinds: Vec<ObjectKind> = Vec::new();
    for a in &associated {
        let records = |k: &ObjectKind| k.surface() == crate::crm::types::Surface::Full;
        let kind = ObjectKind::parse(a).filter(records).ok_or_else(|| {
            ApiError::validation(format!(
                "associatedObjects: unknown object type '{a}' (custom-to-custom associations are not supported by the simulator)"
            ))
        })?;
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    let lower = name.to_ascii_lowercase();
    let schema = CustomSchema {
        number: 0,
        fully_qualified_name: format!("p{portal_id}_{name}"),
        singular,
        plural,
        primary_display_property: input.primary_display_property,
        required_properties: input.required_properties.unwrap_or_default(),
        searchable_properties: input.searchable_properties.unwrap_or_default(),
        secondary_display_properties: input.secondary_display_properties.unwrap_or_default(),
        properties: props,
        associations: kinds
            .into_iter()
            .map(|k| SchemaAssociation {
                id: 0,
                to_type_id: k.type_id().to_owned(),
                name: format!("{lower}_to_{}", k.singular()),
                created_at: now,
            })
            .collect(),
        created_at: now,
        updated_at: now,
        archived: false,
        name,
    };
    check_property_lists(&schema)?;
    Ok(schema)
}

/// `GET /schemas[?archived=true]` → `{results: [ObjectSchema]}`.
pub async fn list(
    State(sim): State<Sim>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = authorize(&sim, &headers, SCHEMAS_READ)?;
    let q = ObjectQuery::parse(query.as_deref())?;
    let results: Vec<Value> = sim.with(|s| {
        s.crm
            .portal(caller.portal.id)
            .schemas
            .schemas
            .iter()
            .filter(|c| c.archived == q.archived)
            .map(CustomSchema::to_json)
            .collect()
    });
    Ok(respond(
        &caller,
        StatusCode::OK,
        json!({ "results": results }),
    ))
}

/// `POST /schemas` → 201 ObjectSchema.
pub async fn create(
    State(sim): State<Sim>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = authorize(&sim, &headers, SCHEMAS_WRITE)?;
    let mut schema = new_schema(caller.portal.id, input(json_body(&headers, &body)?)?)?;
    let body = sim.with(|s| {
        let crm = s.crm.portal(caller.portal.id);
        let offset = u32::try_from(crm.custom_store_count()).unwrap_or(u32::MAX);
        let schemas = &mut crm.schemas;
        if schemas
            .schemas
            .iter()
            .any(|c| c.name.eq_ignore_ascii_case(&schema.name))
        {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "OBJECT_ALREADY_EXISTS",
                format!("An object schema named '{}' already exists", schema.name),
            ));
        }
        schema.number = FIRST_CUSTOM_NUMBER + offset;
        for a in &mut schema.associations {
            a.id = schemas.alloc_association();
        }
        let json = schema.to_json();
        let store = ObjectStore::custom(
            schema.kind(),
            schema.properties.clone(),
            schema.required_properties.clone(),
            schema.searchable_properties.clone(),
        );
        schemas.schemas.push(schema);
        crm.add_custom_store(store);
        Ok(json)
    })?;
    Ok(respond(&caller, StatusCode::CREATED, body))
}

/// `GET /schemas/{objectType}`: by type id, fully qualified name or name.
pub async fn get_one(
    State(sim): State<Sim>,
    Path(ident): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = authorize(&sim, &headers, SCHEMAS_READ)?;
    let body = sim.with(|s| {
        let schemas = &s.crm.portal(caller.portal.id).schemas;
        schemas
            .position(&ident, false)
            .map(|i| schemas.schemas[i].to_json())
            .ok_or_else(|| schema_not_found(&ident))
    })?;
    Ok(respond(&caller, StatusCode::OK, body))
}

/// `PATCH /schemas/{objectType}`: labels and the display, required and searchable lists.
pub async fn update(
    State(sim): State<Sim>,
    Path(ident): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = authorize(&sim, &headers, SCHEMAS_WRITE)?;
    let patch: SchemaPatch = input(json_body(&headers, &body)?)?;
    let body = sim.with(|s| {
        let crm = s.crm.portal(caller.portal.id);
        let schemas = &mut crm.schemas;
        let idx = schemas
            .position(&ident, false)
            .ok_or_else(|| schema_not_found(&ident))?;
        let mut schema = schemas.schemas[idx].clone();
        if let Some(labels) = patch.labels {
            if labels.singular.is_some() {
                schema.singular = label(labels.singular, "labels.singular")?;
            }
            if labels.plural.is_some() {
                schema.plural = label(labels.plural, "labels.plural")?;
            }
        }
        if let Some(v) = patch.primary_display_property {
            schema.primary_display_property = Some(v);
        }
        if let Some(v) = patch.required_properties {
            schema.required_properties = v;
        }
        if let Some(v) = patch.searchable_properties {
            schema.searchable_properties = v;
        }
        if let Some(v) = patch.secondary_display_properties {
            schema.secondary_display_properties = v;
        }
        check_property_lists(&schema)?;
        schema.updated_at = now_ms();
        let json = schema.to_json();
        let store = crm.store_mut(schema.kind());
        store.required.clone_from(&schema.required_properties);
        store.searchable.clone_from(&schema.searchable_properties);
        crm.schemas.schemas[idx] = schema;
        Ok::<_, ApiError>(json)
    })?;
    Ok(respond(&caller, StatusCode::OK, body))
}

/// `DELETE /schemas/{objectType}[?archived=true]`: archives a live schema (204);
/// with `archived=true`, removes an archived one for good, freeing its name.
pub async fn delete(
    State(sim): State<Sim>,
    Path(ident): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = authorize(&sim, &headers, SCHEMAS_WRITE)?;
    let q = ObjectQuery::parse(query.as_deref())?;
    sim.with(|s| {
        let crm = s.crm.portal(caller.portal.id);
        let live_records = |kind: ObjectKind| crm.store(kind).live.len();
        let schemas = &crm.schemas;
        if let Some(idx) = schemas.position(&ident, false).filter(|_| !q.archived) {
            let count = live_records(schemas.schemas[idx].kind());
            if count > 0 {
                return Err(ApiError::validation(format!(
                    "Object schema {ident} still has {count} records; archive them first"
                )));
            }
        }
        let schemas = &mut crm.schemas;
        if q.archived {
            let idx = schemas
                .position(&ident, true)
                .ok_or_else(|| schema_not_found(&ident))?;
            schemas.schemas.remove(idx);
        } else {
            let idx = schemas
                .position(&ident, false)
                .ok_or_else(|| schema_not_found(&ident))?;
            let schema = &mut schemas.schemas[idx];
            schema.archived = true;
            schema.updated_at = now_ms();
        }
        Ok::<_, ApiError>(())
    })?;
    Ok(http::no_content(&caller))
}

/// The schemas routes on both prefixes.
pub fn routes() -> Router<Sim> {
    let mut router = Router::new();
    for base in SCHEMA_BASES {
        router = router.route(base, get(list).post(create)).route(
            &format!("{base}/{{object_type}}"),
            get(get_one).patch(update).delete(delete),
        );
    }
    router
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_shapes() {
        assert!(looks_custom("2-1000001"));
        assert!(looks_custom("p24682001_cars"));
        assert!(!looks_custom("2-"));
        assert!(!looks_custom("0-1"));
        assert!(!looks_custom("products"));
        assert!(!looks_custom("p_x"));
    }
}
