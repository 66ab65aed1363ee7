//! The compact tool set: a dozen generic tools that take the object type as an argument and
//! run the catalogue's method for it (`search_records` on deals runs `deals.search`; on a
//! custom object, `custom_objects.search` bound to its type). Their argument descriptions
//! come from the catalogue's parameters; an object type is offered only when the
//! installation was granted the scopes of the tool's method for it.

use rmcp::model::Tool;
use serde_json::{Map, Value, json};
use spokes_hubspot::catalogue::{self, MethodDef};
use spokes_hubspot::{MethodError, MethodInput};

use super::{
    Plan, Run, allowed, describe, invalid, method_input, scopes_text, tool, unknown_tool,
    write_arguments,
};
use crate::resources::{ObjectKind, object_types, pipelines_method};
use crate::{Access, Agents};

/// A compact tool on records: the catalogue operation it runs on the chosen object type.
struct RecordTool {
    name: &'static str,
    title: &'static str,
    /// `search` → `<type>.search` (or `custom_objects.search`).
    op: &'static str,
    description: &'static str,
}

const RECORD_TOOLS: &[RecordTool] = &[
    RecordTool {
        name: "search_records",
        title: "Search records",
        op: "search",
        description: "Search records of one object type with filters (all must match), sorts and a text query; a page at a time (`after` from `paging.next`). HubSpot's search returns at most 10,000 results.",
    },
    RecordTool {
        name: "get_records",
        title: "Get records",
        op: "get",
        description: "Read records of one object type by their ids (up to 100), with the properties asked for; an unknown id answers its error in its place.",
    },
    RecordTool {
        name: "create_record",
        title: "Create a record",
        op: "create",
        description: "Create one record of an object type from property values (`fields`: internal property names, see list_properties).",
    },
    RecordTool {
        name: "update_record",
        title: "Update a record",
        op: "update",
        description: "Change property values (`fields`) of one record.",
    },
    RecordTool {
        name: "archive_record",
        title: "Archive a record",
        op: "delete",
        description: "Archive (delete) one record; HubSpot keeps it restorable for 90 days.",
    },
];

/// The method `op` on `kind`: the type's own, or the generic custom object one.
fn record_method(kind: &ObjectKind, op: &str) -> Option<&'static MethodDef> {
    if kind.custom {
        catalogue::find(&format!("custom_objects.{op}"))
    } else {
        catalogue::find(&format!("{}.{op}", kind.name))
    }
}

fn type_schema(kinds: &[&ObjectKind], what: &str) -> Value {
    let names: Vec<&str> = kinds.iter().map(|k| k.name.as_str()).collect();
    json!({
        "type": "string",
        "enum": names,
        "description": format!("The object type {what} (custom object types by their schema name); hubspot://data-model describes them."),
    })
}

/// The description of catalogue parameter `name` of method `id`.
fn param_description(id: &str, name: &str) -> String {
    catalogue::find(id)
        .and_then(|m| m.param(name))
        .map(|p| p.description.clone())
        .unwrap_or_default()
}

fn paging_properties(properties: &mut Map<String, Value>) {
    properties.insert(
        "limit".into(),
        json!({"type": "integer", "minimum": 1, "maximum": 100, "description": "Records a page (default and most: 100)."}),
    );
    properties.insert(
        "after".into(),
        json!({"type": "string", "description": "`paging.next` of the previous answer, for the next page."}),
    );
}

fn object(properties: Map<String, Value>, required: &[&str]) -> Value {
    json!({"type": "object", "properties": properties, "required": required, "additionalProperties": false})
}

fn fields_schema() -> Value {
    json!({
        "type": "object",
        "description": "HubSpot internal property names and their values, e.g. {\"email\": \"ana@example.com\", \"firstname\": \"Ana\"}; custom properties too (list_properties or hubspot://objects/{type}/properties names them).",
        "additionalProperties": {"type": ["string", "number", "boolean", "null"]},
    })
}

fn record_tool_schema(spec: &RecordTool, kinds: &[&ObjectKind]) -> Value {
    let mut p = Map::new();
    p.insert("object_type".into(), type_schema(kinds, "of the records"));
    let required: &[&str] = match spec.op {
        "search" => {
            let search = "contacts.search";
            p.insert("filters".into(), json!({"type": "array", "items": {"type": "object", "properties": {
                "propertyName": {"type": "string"},
                "operator": {"type": "string", "enum": ["EQ", "NEQ", "LT", "LTE", "GT", "GTE", "BETWEEN", "IN", "NOT_IN", "HAS_PROPERTY", "NOT_HAS_PROPERTY", "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"]},
                "value": {"type": ["string", "number", "boolean"]},
                "highValue": {"type": ["string", "number"], "description": "The upper bound of BETWEEN."},
                "values": {"type": "array", "description": "The values of IN and NOT_IN."}
            }, "required": ["propertyName", "operator"]}, "description": "Filters that must all match; dates as Unix milliseconds or RFC 3339."}));
            p.insert("filter_groups".into(), json!({"type": "array", "description": format!("Instead of `filters`: {}", param_description(search, "filterGroups"))}));
            p.insert(
                "sorts".into(),
                json!({"type": "array", "description": param_description(search, "sorts")}),
            );
            p.insert(
                "query".into(),
                json!({"type": "string", "description": param_description(search, "query")}),
            );
            p.insert("properties".into(), json!({"type": "array", "items": {"type": "string"}, "description": param_description(search, "properties")}));
            paging_properties(&mut p);
            &["object_type"]
        }
        "get" => {
            p.insert("ids".into(), json!({"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 100, "description": "Record ids (`hs_object_id`)."}));
            p.insert("properties".into(), json!({"type": "array", "items": {"type": "string"}, "description": "Property names to return (default: HubSpot's default set)."}));
            p.insert("associations".into(), json!({"type": "array", "items": {"type": "string"}, "description": "Object types whose associated record ids to include."}));
            &["object_type", "ids"]
        }
        "create" => {
            p.insert("fields".into(), fields_schema());
            write_arguments(&mut p);
            &["object_type", "fields"]
        }
        "update" => {
            p.insert(
                "id".into(),
                json!({"type": "string", "description": "The record id."}),
            );
            p.insert("fields".into(), fields_schema());
            write_arguments(&mut p);
            &["object_type", "id", "fields"]
        }
        _ => {
            p.insert(
                "id".into(),
                json!({"type": "string", "description": "The record id."}),
            );
            write_arguments(&mut p);
            &["object_type", "id"]
        }
    };
    object(p, required)
}

/// Properties of a tool's input schema.
fn props<const N: usize>(entries: [(&str, Value); N]) -> Map<String, Value> {
    entries
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
}

fn text(description: &str) -> Value {
    json!({"type": "string", "description": description})
}

pub(super) async fn tools(agents: &Agents, access: &Access) -> Vec<Tool> {
    let kinds = object_types(agents, access).await;
    let mut tools = record_tools(&kinds, access);
    if !kinds.is_empty() {
        tools.extend(model_tools(&kinds));
    }
    if let Some(method) = catalogue::find("owners.list").filter(|m| allowed(access, m)) {
        let mut p = Map::new();
        paging_properties(&mut p);
        tools.push(tool(
            "list_owners".into(),
            describe(method),
            object(p, &[]),
            false,
            "List owners",
        ));
    }
    let pipelined: Vec<&ObjectKind> = kinds
        .iter()
        .filter(|k| pipelines_method(&k.name).is_some_and(|m| allowed(access, m)))
        .collect();
    if !pipelined.is_empty() {
        let p = props([(
            "object_type",
            type_schema(&pipelined, "whose pipelines to list"),
        )]);
        tools.push(tool(
            "list_pipelines".into(),
            "Every pipeline of deals or tickets with its stages (ids and labels, in display order): what `pipeline` and `dealstage` / `hs_pipeline_stage` take.".into(),
            object(p, &["object_type"]),
            false,
            "List pipelines",
        ));
    }
    tools.extend(catalogue_tools());
    tools
}

/// The record tools, each offering the object types whose method it may run.
fn record_tools(kinds: &[ObjectKind], access: &Access) -> Vec<Tool> {
    let mut tools = Vec::new();
    for spec in RECORD_TOOLS {
        let offered: Vec<&ObjectKind> = kinds
            .iter()
            .filter(|k| record_method(k, spec.op).is_some_and(|m| allowed(access, m)))
            .collect();
        if offered.is_empty() {
            continue;
        }
        let writes = spec.op != "search" && spec.op != "get";
        let description = if writes {
            format!(
                "{} Writes: answers a preview of the HubSpot request unless `confirm: true`. Scopes: the object type's write scopes.",
                spec.description
            )
        } else {
            format!(
                "{} Scopes: the object type's read scopes.",
                spec.description
            )
        };
        let schema = record_tool_schema(spec, &offered);
        tools.push(tool(
            spec.name.into(),
            description,
            schema,
            writes,
            spec.title,
        ));
    }
    tools
}

/// Associations and properties between and of the object types.
fn model_tools(kinds: &[ObjectKind]) -> Vec<Tool> {
    let all: Vec<&ObjectKind> = kinds.iter().collect();
    let types = || type_schema(&all, "");
    let mut tools = Vec::new();
    if let Some(method) = catalogue::find("associations.list") {
        let mut p = props([
            ("object_type", types()),
            ("id", text("The record's id.")),
            ("to_object_type", types()),
        ]);
        paging_properties(&mut p);
        let description = format!(
            "The ids of the records of `to_object_type` associated with one record, with association labels. {}",
            scopes_text(method)
        );
        tools.push(tool(
            "list_associations".into(),
            description,
            object(p, &["object_type", "id", "to_object_type"]),
            false,
            "List associations",
        ));
    }
    if let Some(method) = catalogue::find("associations.create_default") {
        let mut p = props([
            ("from_object_type", types()),
            ("from_id", text("The first record's id.")),
            ("to_object_type", types()),
            ("to_id", text("The second record's id.")),
        ]);
        write_arguments(&mut p);
        let description = format!(
            "Associate two records (HubSpot's default association, both directions). Writes: answers a preview unless `confirm: true`. {}",
            scopes_text(method)
        );
        tools.push(tool(
            "associate_records".into(),
            description,
            object(
                p,
                &["from_object_type", "from_id", "to_object_type", "to_id"],
            ),
            true,
            "Associate records",
        ));
    }
    let p = props([("object_type", types())]);
    tools.push(tool(
        "list_properties".into(),
        "Every property of an object type: internal name (what `fields` take), label, type, options of enumerations, read-only and custom flags.".into(),
        object(p.clone(), &["object_type"]),
        false,
        "List properties",
    ));
    let mut p = p;
    p.insert("name".into(), text("The property's internal name."));
    tools.push(tool(
        "describe_property".into(),
        "One property of an object type in full: type, field type, options, description, whether it is read-only.".into(),
        object(p, &["object_type", "name"]),
        false,
        "Describe a property",
    ));
    tools
}

/// The whole catalogue, beyond the tools above.
fn catalogue_tools() -> [Tool; 2] {
    let find = props([
        ("q", text("Text in the method's id, name or description.")),
        ("category", text("Only this category, e.g. `Deals`.")),
    ]);
    let mut call = props([
        (
            "method",
            text("A method id from find_methods, e.g. `lists.add_members`."),
        ),
        (
            "parameters",
            json!({"type": "object", "description": "The method's parameters (see its input schema)."}),
        ),
        (
            "fields",
            json!({"type": "object", "description": "HubSpot property values, for methods that write a record."}),
        ),
        (
            "paging",
            json!({"type": "object", "description": "`{after, limit}` for methods that page: a page at a time."}),
        ),
    ]);
    write_arguments(&mut call);
    [
        tool(
            "find_methods".into(),
            "Find catalogue methods this installation may call (id, description, input schema) for call_method; more than the tools above, e.g. lists, forms, marketing, timeline events.".into(),
            object(find, &[]),
            false,
            "Find methods",
        ),
        tool(
            "call_method".into(),
            "Call any catalogue method by id with its input (`parameters`, `fields`, `paging`), through the same checks, limits and retries. Writes answer a preview unless `confirm: true`.".into(),
            object(call, &["method"]),
            true,
            "Call a method",
        ),
    ]
}

fn text_arg<'a>(arguments: &'a Map<String, Value>, name: &str) -> Result<&'a str, MethodError> {
    arguments
        .get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| invalid(format!("`{name}` is required and must be text")))
}

/// The object type named by argument `name`, among those the installation may use.
fn kind_arg<'a>(
    kinds: &'a [ObjectKind],
    arguments: &Map<String, Value>,
    name: &str,
) -> Result<&'a ObjectKind, MethodError> {
    let wanted = text_arg(arguments, name)?;
    kinds
        .iter()
        .find(|k| k.name == wanted || k.api_name == wanted)
        .ok_or_else(|| {
            let names: Vec<&str> = kinds.iter().map(|k| k.name.as_str()).collect();
            invalid(format!(
                "`{name}` `{wanted}` is not an object type this installation may use; one of: {}",
                names.join(", ")
            ))
        })
}

fn copy_args(from: &Map<String, Value>, names: &[(&str, &str)]) -> Map<String, Value> {
    names
        .iter()
        .filter_map(|(arg, param)| {
            from.get(*arg)
                .filter(|v| !v.is_null())
                .map(|v| ((*param).to_string(), v.clone()))
        })
        .collect()
}

fn paging(arguments: &Map<String, Value>) -> Result<MethodInput, MethodError> {
    let paging = copy_args(arguments, &[("limit", "limit"), ("after", "after")]);
    method_input(
        &Map::from_iter([("paging".to_string(), Value::Object(paging))]),
        &[],
    )
}

fn run(method: &'static MethodDef, mut input: MethodInput, parameters: Map<String, Value>) -> Plan {
    input.parameters.extend(parameters);
    Plan::Run(Run { method, input })
}

pub(super) async fn plan(
    agents: &Agents,
    access: &Access,
    name: &str,
    arguments: &Map<String, Value>,
) -> Result<Plan, MethodError> {
    if let Some(spec) = RECORD_TOOLS.iter().find(|t| t.name == name) {
        return record_plan(agents, access, spec, arguments).await;
    }
    match name {
        "find_methods" => Ok(Plan::Answer(find_methods(access, arguments))),
        "call_method" => {
            let id = text_arg(arguments, "method")?;
            let method = catalogue::find(id).ok_or_else(|| {
                invalid(format!(
                    "method `{id}` does not exist; find_methods lists them"
                ))
            })?;
            let input = method_input(arguments, &["method", "confirm", "idempotency_key"])?;
            Ok(Plan::Run(Run { method, input }))
        }
        "list_owners" => {
            let method = catalogue::find("owners.list").ok_or_else(|| unknown_tool(name))?;
            Ok(run(method, paging(arguments)?, Map::new()))
        }
        "list_pipelines" => {
            let kinds = object_types(agents, access).await;
            let kind = kind_arg(&kinds, arguments, "object_type")?;
            let method = pipelines_method(&kind.name).ok_or_else(|| {
                invalid(format!(
                    "`{}` has no pipelines; deals and tickets do",
                    kind.name
                ))
            })?;
            Ok(run(method, MethodInput::default(), Map::new()))
        }
        "list_properties" | "describe_property" => {
            let kinds = object_types(agents, access).await;
            let kind = kind_arg(&kinds, arguments, "object_type")?;
            let mut parameters =
                Map::from_iter([("objectType".to_string(), Value::from(kind.api_name.clone()))]);
            let id = if name == "list_properties" {
                "properties.list"
            } else {
                parameters.insert("name".into(), text_arg(arguments, "name")?.into());
                "properties.get"
            };
            let method = catalogue::find(id).ok_or_else(|| unknown_tool(name))?;
            Ok(run(method, MethodInput::default(), parameters))
        }
        "list_associations" => {
            let kinds = object_types(agents, access).await;
            let (from, to) = (
                kind_arg(&kinds, arguments, "object_type")?,
                kind_arg(&kinds, arguments, "to_object_type")?,
            );
            let method = catalogue::find("associations.list").ok_or_else(|| unknown_tool(name))?;
            let parameters = Map::from_iter([
                (
                    "fromObjectType".to_string(),
                    Value::from(from.api_name.clone()),
                ),
                ("objectId".to_string(), text_arg(arguments, "id")?.into()),
                ("toObjectType".to_string(), Value::from(to.api_name.clone())),
            ]);
            Ok(run(method, paging(arguments)?, parameters))
        }
        "associate_records" => {
            let kinds = object_types(agents, access).await;
            let (from, to) = (
                kind_arg(&kinds, arguments, "from_object_type")?,
                kind_arg(&kinds, arguments, "to_object_type")?,
            );
            let method =
                catalogue::find("associations.create_default").ok_or_else(|| unknown_tool(name))?;
            let parameters = Map::from_iter([
                (
                    "fromObjectType".to_string(),
                    Value::from(from.api_name.clone()),
                ),
                (
                    "fromObjectId".to_string(),
                    text_arg(arguments, "from_id")?.into(),
                ),
                ("toObjectType".to_string(), Value::from(to.api_name.clone())),
                (
                    "toObjectId".to_string(),
                    text_arg(arguments, "to_id")?.into(),
                ),
            ]);
            Ok(run(method, MethodInput::default(), parameters))
        }
        _ => Err(unknown_tool(name)),
    }
}

async fn record_plan(
    agents: &Agents,
    access: &Access,
    spec: &RecordTool,
    arguments: &Map<String, Value>,
) -> Result<Plan, MethodError> {
    let kinds = object_types(agents, access).await;
    let kind = kind_arg(&kinds, arguments, "object_type")?;
    let method = record_method(kind, spec.op).ok_or_else(|| {
        invalid(format!(
            "`{}` records cannot be {}ed here",
            kind.name, spec.op
        ))
    })?;
    let mut parameters = Map::new();
    if kind.custom {
        parameters.insert("objectType".into(), kind.api_name.clone().into());
    }
    let mut input = MethodInput::default();
    match spec.op {
        "search" => {
            input = paging(arguments)?;
            let groups = match (arguments.get("filter_groups"), arguments.get("filters")) {
                (Some(groups), _) if !groups.is_null() => Some(groups.clone()),
                (_, Some(filters)) if !filters.is_null() => Some(json!([{ "filters": filters }])),
                _ => None,
            };
            if let Some(groups) = groups {
                parameters.insert("filterGroups".into(), groups);
            }
            parameters.extend(copy_args(
                arguments,
                &[
                    ("sorts", "sorts"),
                    ("query", "query"),
                    ("properties", "properties"),
                ],
            ));
        }
        "get" => {
            let ids = arguments
                .get("ids")
                .and_then(Value::as_array)
                .filter(|ids| (1..=100).contains(&ids.len()))
                .ok_or_else(|| invalid("`ids` must be a list of 1 to 100 record ids"))?;
            let joined = |name: &str| {
                arguments.get(name).and_then(Value::as_array).map(|names| {
                    names
                        .iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(",")
                })
            };
            if let Some(properties) = joined("properties") {
                parameters.insert("properties".into(), properties.into());
            }
            if let Some(associations) = joined("associations").filter(|_| !kind.custom) {
                parameters.insert("associations".into(), associations.into());
            }
            let mut runs = Vec::with_capacity(ids.len());
            for id in ids {
                let id = id.as_str().ok_or_else(|| invalid("`ids` must be text"))?;
                let mut input = MethodInput {
                    parameters: parameters.clone(),
                    ..MethodInput::default()
                };
                input.parameters.insert("id".into(), id.into());
                runs.push(Run { method, input });
            }
            return Ok(Plan::Each(runs));
        }
        op => {
            if op != "create" {
                parameters.insert("id".into(), text_arg(arguments, "id")?.into());
            }
            if op != "delete" {
                let fields = match arguments.get("fields") {
                    Some(Value::Object(fields)) => fields.clone(),
                    _ => {
                        return Err(invalid(
                            "`fields` must be an object of property names and values",
                        ));
                    }
                };
                // Custom object records take their values as the `properties` parameter.
                if kind.custom {
                    parameters.insert("properties".into(), Value::Object(fields));
                } else {
                    input.fields = fields;
                }
            }
        }
    }
    Ok(run(method, input, parameters))
}

/// The granted catalogue methods matching `q` / `category`, with their input schemas.
fn find_methods(access: &Access, arguments: &Map<String, Value>) -> Value {
    let q = arguments
        .get("q")
        .and_then(Value::as_str)
        .map(str::to_lowercase);
    let category = arguments.get("category").and_then(Value::as_str);
    let methods: Vec<Value> = catalogue::all()
        .iter()
        .filter(|m| allowed(access, m))
        .filter(|m| category.is_none_or(|c| m.category.eq_ignore_ascii_case(c)))
        .filter(|m| {
            q.as_ref().is_none_or(|q| {
                [&m.id, &m.name, &m.description]
                    .iter()
                    .any(|t| t.to_lowercase().contains(q))
            })
        })
        .take(20)
        .map(|m| {
            json!({
                "id": m.id,
                "category": m.category,
                "description": describe(m),
                "writes": m.writes,
                "input_schema": catalogue::input_schema(m),
            })
        })
        .collect();
    json!({ "data": methods })
}
