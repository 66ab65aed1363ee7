//! The portal's data model, for agents to learn before they write: object types (custom ones
//! included), properties with types and options, pipelines and stages, owners. Served as MCP
//! resources and used to fill the tools' schemas; read through the method layer and kept a
//! minute per installation.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rmcp::ErrorData as McpError;
use rmcp::model::{ErrorCode, ReadResourceResult, Resource, ResourceContents, ResourceTemplate};
use serde_json::{Map, Value, json};
use spokes_hubspot::catalogue::{self, Family};
use spokes_hubspot::{MethodError, MethodInput};

use crate::tools::{allowed, error_body, invalid};
use crate::{Access, Agents};

/// Long enough to spare HubSpot a read per tools/list, short enough that a property the
/// customer just added is seen within a minute.
const TTL: Duration = Duration::from_secs(60);
/// Installations × answers kept at most; all go when it is reached.
const MAX_ENTRIES: usize = 4096;

/// Answers of data-model reads by (installation, what).
#[derive(Default)]
pub(crate) struct PortalCache {
    entries: Mutex<HashMap<(String, String), (Instant, Value)>>,
}

impl PortalCache {
    fn get(&self, key: &(String, String)) -> Option<Value> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(key)
            .filter(|(at, _)| at.elapsed() < TTL)
            .map(|(_, value)| value.clone())
    }

    /// Drops what is known of the installation's portal: its data model changed.
    pub(crate) fn forget(&self, installation_id: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.retain(|(id, _), _| id != installation_id);
    }

    fn put(&self, key: (String, String), value: Value) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(key, (Instant::now(), value));
    }
}

/// `data` of catalogue method `id` with `parameters` (every page), from the cache when fresh.
async fn read(
    agents: &Agents,
    access: &Access,
    id: &str,
    parameters: Value,
) -> Result<Value, MethodError> {
    let key = (access.installation.id.clone(), format!("{id} {parameters}"));
    if let Some(value) = agents.portal.get(&key) {
        return Ok(value);
    }
    let method = catalogue::find(id).ok_or_else(|| invalid(format!("no method `{id}`")))?;
    let mut input = MethodInput {
        parameters: match parameters {
            Value::Object(map) => map,
            _ => Map::new(),
        },
        ..MethodInput::default()
    };
    input.paging.all = method.paging != catalogue::Paging::None;
    let output = agents
        .methods
        .call(
            &access.installation,
            access.tokens.as_ref(),
            method,
            &input,
            None,
        )
        .await?;
    agents.portal.put(key, output.data.clone());
    Ok(output.data)
}

/// An object type as agents name it.
pub(crate) struct ObjectKind {
    /// What tools take: `contacts`, or a custom object's schema name (`cars`).
    pub(crate) name: String,
    /// What HubSpot takes: `contacts`, or `p<portalId>_cars`.
    pub(crate) api_name: String,
    pub(crate) label: String,
    pub(crate) custom: bool,
}

/// The standard types with record methods in the catalogue (in its order).
fn standard_types() -> impl Iterator<Item = &'static str> {
    catalogue::all().iter().filter_map(|m| {
        let plural = m.id.strip_suffix(".get")?;
        (m.path.family == Family::Objects && plural != "custom_objects").then_some(plural)
    })
}

/// The object types whose records the installation may read: the standard ones it was
/// granted, and the portal's custom object types.
pub(crate) async fn object_types(agents: &Agents, access: &Access) -> Vec<ObjectKind> {
    let mut kinds: Vec<ObjectKind> = standard_types()
        .filter(|t| catalogue::find(&format!("{t}.get")).is_some_and(|m| allowed(access, m)))
        .map(|t| ObjectKind {
            name: t.into(),
            api_name: t.into(),
            label: catalogue::find(&format!("{t}.get"))
                .map(|m| m.category.clone())
                .unwrap_or_default(),
            custom: false,
        })
        .collect();
    let readable = ["custom_objects.list_schemas", "custom_objects.get"]
        .iter()
        .all(|id| catalogue::find(id).is_some_and(|m| allowed(access, m)));
    if readable {
        match read(agents, access, "custom_objects.list_schemas", json!({})).await {
            Ok(Value::Array(schemas)) => {
                kinds.extend(schemas.iter().filter_map(|s| {
                    Some(ObjectKind {
                        name: s["name"].as_str()?.into(),
                        api_name: s["fullyQualifiedName"]
                            .as_str()
                            .or(s["objectTypeId"].as_str())?
                            .into(),
                        label: s["labels"]["plural"].as_str().unwrap_or_default().into(),
                        custom: true,
                    })
                }));
            }
            Ok(_) => {}
            Err(error) => {
                tracing::info!(installation.id = %access.installation.id, code = error.code, "could not list the portal's custom object types");
            }
        }
    }
    kinds
}

/// JSON Schemas of the writable properties of `object_type`, by name, for a tool's
/// `fields`; `None` when HubSpot would not list them.
pub(crate) async fn field_schemas(
    agents: &Agents,
    access: &Access,
    object_type: &str,
) -> Option<Value> {
    let properties = read(
        agents,
        access,
        "properties.list",
        json!({"objectType": object_type}),
    )
    .await
    .ok()?;
    let mut schemas = Map::new();
    for p in properties["results"].as_array()? {
        let read_only = p["modificationMetadata"]["readOnlyValue"].as_bool() == Some(true)
            || p["calculated"].as_bool() == Some(true);
        let Some(name) = p["name"].as_str().filter(|_| !read_only) else {
            continue;
        };
        schemas.insert(name.into(), property_schema(p));
    }
    Some(Value::Object(schemas))
}

/// A HubSpot property definition as the JSON Schema of its value.
fn property_schema(p: &Value) -> Value {
    let label = p["label"].as_str().unwrap_or_default();
    let kind = p["type"].as_str().unwrap_or("string");
    let mut schema = match kind {
        "number" => json!({"type": ["number", "string"]}),
        "bool" => json!({"type": ["boolean", "string"]}),
        "date" => {
            json!({"type": "string", "description": format!("{label} (a date: YYYY-MM-DD or Unix milliseconds at midnight UTC)")})
        }
        "datetime" => {
            json!({"type": ["string", "number"], "description": format!("{label} (RFC 3339 or Unix milliseconds)")})
        }
        _ => json!({"type": "string"}),
    };
    if schema.get("description").is_none() {
        schema["description"] = label.into();
    }
    let options: Vec<Value> = p["options"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|o| o["value"].as_str().map(Value::from))
        .collect();
    // A multiple checkbox takes several values joined by `;`: no enum for it.
    if kind == "enumeration" && !options.is_empty() && p["fieldType"] != "checkbox" {
        schema["enum"] = Value::Array(options);
    }
    schema
}

const DATA_MODEL: &str = "hubspot://data-model";
const OWNERS: &str = "hubspot://owners";

fn properties_uri(name: &str) -> String {
    format!("hubspot://objects/{name}/properties")
}

fn pipelines_uri(name: &str) -> String {
    format!("hubspot://objects/{name}/pipelines")
}

/// The catalogue method listing `name`'s pipelines, when there is one.
pub(crate) fn pipelines_method(name: &str) -> Option<&'static catalogue::MethodDef> {
    catalogue::find(&format!("{name}.pipelines"))
}

fn resource(uri: String, name: &str, description: String) -> Resource {
    Resource::new(uri, name)
        .with_description(description)
        .with_mime_type("application/json")
}

pub(crate) async fn list(agents: &Agents, access: &Access) -> Vec<Resource> {
    let mut resources = vec![resource(
        DATA_MODEL.into(),
        "data-model",
        "The portal's object types (custom ones included) with the URIs of their properties and pipelines. Start here.".into(),
    )];
    if catalogue::find("owners.list").is_some_and(|m| allowed(access, m)) {
        resources.push(resource(
            OWNERS.into(),
            "owners",
            "The portal's owners (users records are assigned to): id, email, name.".into(),
        ));
    }
    for kind in object_types(agents, access).await {
        resources.push(resource(
            properties_uri(&kind.name),
            &format!("{}-properties", kind.name),
            format!(
                "Properties of {}: name, label, type, options; which are read-only or custom.",
                kind.label
            ),
        ));
        if pipelines_method(&kind.name).is_some_and(|m| allowed(access, m)) {
            resources.push(resource(
                pipelines_uri(&kind.name),
                &format!("{}-pipelines", kind.name),
                format!("Pipelines of {} with their stages.", kind.label),
            ));
        }
    }
    resources
}

pub(crate) fn templates() -> Vec<ResourceTemplate> {
    vec![
        ResourceTemplate::new("hubspot://objects/{object_type}/properties", "properties")
            .with_description("Properties of any object type (as in hubspot://data-model).")
            .with_mime_type("application/json"),
        ResourceTemplate::new("hubspot://objects/{object_type}/pipelines", "pipelines")
            .with_description("Pipelines and stages of deals or tickets.")
            .with_mime_type("application/json"),
    ]
}

pub(crate) async fn read_resource(
    agents: &Agents,
    access: &Access,
    uri: &str,
) -> Result<ReadResourceResult, McpError> {
    let value = match uri {
        DATA_MODEL => Ok(data_model(agents, access).await),
        OWNERS => read(agents, access, "owners.list", json!({})).await,
        _ => match uri
            .strip_prefix("hubspot://objects/")
            .and_then(|rest| rest.split_once('/'))
        {
            Some((name, "properties")) => properties(agents, access, name).await,
            Some((name, "pipelines")) => match pipelines_method(name) {
                Some(method) => read(agents, access, &method.id, json!({})).await,
                None => Err(not_found(uri)),
            },
            _ => Err(not_found(uri)),
        },
    }
    .map_err(to_mcp)?;
    let text = serde_json::to_string_pretty(&value).unwrap_or_default();
    Ok(ReadResourceResult::new(vec![
        ResourceContents::text(text, uri).with_mime_type("application/json"),
    ]))
}

/// The object types with where to learn more of each.
async fn data_model(agents: &Agents, access: &Access) -> Value {
    let types: Vec<Value> = object_types(agents, access)
        .await
        .into_iter()
        .map(|kind| {
            let mut entry = json!({
                "name": kind.name,
                "hubspot_name": kind.api_name,
                "label": kind.label,
                "custom": kind.custom,
                "properties": properties_uri(&kind.name),
            });
            if pipelines_method(&kind.name).is_some_and(|m| allowed(access, m)) {
                entry["pipelines"] = pipelines_uri(&kind.name).into();
            }
            entry
        })
        .collect();
    json!({
        "portal_id": access.installation.portal.as_ref().map(|p| p.portal_id),
        "object_types": types,
        "owners": OWNERS,
    })
}

/// The properties of `name` in short: what an agent needs to write them.
async fn properties(agents: &Agents, access: &Access, name: &str) -> Result<Value, MethodError> {
    let api_name = api_name(agents, access, name).await;
    let answer = read(
        agents,
        access,
        "properties.list",
        json!({"objectType": api_name}),
    )
    .await?;
    let properties: Vec<Value> = answer["results"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            let mut short = json!({
                "name": p["name"],
                "label": p["label"],
                "type": p["type"],
                "fieldType": p["fieldType"],
                "read_only": p["modificationMetadata"]["readOnlyValue"].as_bool() == Some(true)
                    || p["calculated"].as_bool() == Some(true),
                "custom": p["hubspotDefined"].as_bool() != Some(true),
            });
            if let Some(options) = p["options"].as_array().filter(|o| !o.is_empty()) {
                short["options"] = options
                    .iter()
                    .map(|o| json!({"value": o["value"], "label": o["label"]}))
                    .collect();
            }
            if let Some(description) = p["description"].as_str().filter(|d| !d.is_empty()) {
                short["description"] = description.into();
            }
            short
        })
        .collect();
    Ok(json!({"object_type": name, "properties": properties}))
}

/// HubSpot's name of the object type agents call `name` (a custom schema name is
/// qualified with the portal; anything else is passed as it is).
pub(crate) async fn api_name(agents: &Agents, access: &Access, name: &str) -> String {
    object_types(agents, access)
        .await
        .into_iter()
        .find(|k| k.name == name)
        .map_or_else(|| name.to_string(), |k| k.api_name)
}

fn not_found(uri: &str) -> MethodError {
    MethodError::new(
        404,
        "not_found",
        format!("no resource `{uri}`; resources/list lists them"),
    )
}

fn to_mcp(error: MethodError) -> McpError {
    let code = if error.code == "not_found" {
        ErrorCode::RESOURCE_NOT_FOUND
    } else {
        ErrorCode::INVALID_REQUEST
    };
    McpError::new(code, error.message.clone(), Some(error_body(&error)))
}
