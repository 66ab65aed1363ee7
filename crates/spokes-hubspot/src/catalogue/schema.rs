//! JSON Schemas of a method's input (`{parameters, fields, paging}`) and output
//! (`{data, paging}`), derived from its definition.

use serde_json::{Map, Value, json};

use super::{Body, MethodDef, Paging};

pub fn input_schema(method: &MethodDef) -> Value {
    let mut parameters = Map::new();
    let mut required = Vec::new();
    for p in &method.params {
        parameters.insert(
            p.name.clone(),
            json!({"type": p.json_type.as_str(), "description": p.description}),
        );
        if p.required {
            required.push(Value::String(p.name.clone()));
        }
    }
    let mut properties = Map::new();
    properties.insert(
        "parameters".into(),
        json!({
            "type": "object",
            "properties": parameters,
            "required": required,
            "additionalProperties": false,
        }),
    );
    if let Body::Properties {
        object_type,
        required,
    } = &method.body
    {
        properties.insert(
            "fields".into(),
            json!({
                "type": "object",
                "description": format!("HubSpot property names of {object_type} and their values; the portal's own custom properties are accepted too."),
                "additionalProperties": {"type": ["string", "number", "boolean", "null"]},
                "required": required,
            }),
        );
    }
    if method.paging != Paging::None {
        properties.insert(
            "paging".into(),
            json!({
                "type": "object",
                "properties": {
                    "after": {"type": "string", "description": "The `paging.next` of the previous answer."},
                    "limit": {"type": "integer", "minimum": 1, "maximum": 100},
                    "all": {"type": "boolean", "description": "Follow every page and answer all records at once (or stream them as NDJSON with `Accept: application/x-ndjson`)."},
                },
                "additionalProperties": false,
            }),
        );
    }
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": properties,
        "additionalProperties": false,
    })
}

pub fn output_schema(method: &MethodDef) -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {
            "data": method.output,
            "paging": {"type": "object", "properties": {"next": {"type": "string"}}},
        },
        "required": ["data"],
    })
}
