//! The partner's input to a method, `{parameters, fields, paging}`, and its checks: every
//! problem is found and named before anything is sent to HubSpot.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::catalogue::{Body, MethodDef, Paging};

use super::MethodError;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MethodInput {
    #[serde(default)]
    pub parameters: Map<String, Value>,
    /// HubSpot property names and values, for methods that write a record.
    #[serde(default)]
    pub fields: Map<String, Value>,
    #[serde(default)]
    pub paging: PagingInput,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PagingInput {
    pub after: Option<String>,
    pub limit: Option<u32>,
    #[serde(default)]
    pub all: bool,
}

/// What Spokes knows of one of the portal's properties.
#[derive(Debug, Clone)]
pub struct KnownProperty {
    pub read_only: bool,
}

/// Checks parameters and the shape of fields against the method's definition.
pub fn check(method: &MethodDef, input: &MethodInput) -> Result<(), MethodError> {
    let mut problems = Vec::new();
    for name in input.parameters.keys() {
        if method.param(name).is_none() {
            let known: Vec<&str> = method.params.iter().map(|p| p.name.as_str()).collect();
            problems.push(if known.is_empty() {
                format!("unknown parameter `{name}` (this method takes none)")
            } else {
                format!("unknown parameter `{name}` (known: {})", known.join(", "))
            });
        }
    }
    for param in &method.params {
        match input.parameters.get(&param.name) {
            None | Some(Value::Null) if param.required => {
                problems.push(format!("missing required parameter `{}`", param.name));
            }
            Some(value) if !value.is_null() && !param.json_type.admits(value) => {
                problems.push(format!(
                    "parameter `{}` must be of type {}",
                    param.name,
                    param.json_type.as_str()
                ));
            }
            Some(Value::String(s)) if param.required && s.trim().is_empty() => {
                problems.push(format!("parameter `{}` must not be empty", param.name));
            }
            _ => {}
        }
    }
    match &method.body {
        Body::Upsert { batch: true, .. } => {
            if !input.fields.is_empty() {
                problems
                    .push("this method takes no `fields`; give each record's in `inputs`".into());
            }
            problems.extend(batch_problems(method, input));
        }
        Body::Properties { required, .. } => {
            problems.extend(field_problems(&input.fields, required));
        }
        Body::Upsert { batch: false, .. } => {
            problems.extend(field_problems(&input.fields, &[]));
        }
        _ if !input.fields.is_empty() => {
            problems.push("this method takes no `fields`".into());
        }
        _ => {}
    }
    if method.paging == Paging::None
        && (input.paging.after.is_some() || input.paging.limit.is_some() || input.paging.all)
    {
        problems.push("this method does not page; leave out `paging`".into());
    }
    if let Some(limit) = input.paging.limit
        && !(1..=100).contains(&limit)
    {
        problems.push("`paging.limit` must be between 1 and 100".into());
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(MethodError::invalid_parameters(method, problems))
    }
}

/// Required fields that are missing and values that are not scalars.
fn field_problems(fields: &Map<String, Value>, required: &[String]) -> Vec<String> {
    let mut problems = Vec::new();
    for name in required {
        if !fields.contains_key(name) {
            problems.push(format!("missing required field `{name}`"));
        }
    }
    for (name, value) in fields {
        if value.is_array() || value.is_object() {
            problems.push(format!(
                "field `{name}` must be a string, number, boolean or null"
            ));
        }
    }
    problems
}

/// A batch upsert's `inputs`: each `{<id_property>: "…", properties: {…}}` with scalar values.
fn batch_problems(method: &MethodDef, input: &MethodInput) -> Vec<String> {
    let Body::Upsert { id_property, .. } = &method.body else {
        return Vec::new();
    };
    let Some(inputs) = input.parameters.get("inputs").and_then(Value::as_array) else {
        return Vec::new();
    };
    let mut problems = Vec::new();
    if inputs.is_empty() || inputs.len() > 100 {
        problems.push("`inputs` must hold 1 to 100 records".into());
    }
    for (i, item) in inputs.iter().enumerate() {
        match item.get(id_property.as_str()) {
            Some(Value::String(s)) if !s.trim().is_empty() => {}
            _ => problems.push(format!(
                "`inputs[{i}].{id_property}` must be a non-empty string"
            )),
        }
        match item.get("properties") {
            Some(Value::Object(fields)) => problems.extend(
                field_problems(fields, &[])
                    .into_iter()
                    .map(|p| format!("`inputs[{i}]`: {p}")),
            ),
            _ => problems.push(format!("`inputs[{i}].properties` must be an object")),
        }
        if let Some(other) = item
            .as_object()
            .and_then(|o| o.keys().find(|k| *k != id_property && *k != "properties"))
        {
            problems.push(format!("`inputs[{i}]` has an unknown key `{other}`"));
        }
    }
    problems
}

/// The `properties` of each record of a batch upsert's `inputs`.
pub fn batch_fields(input: &MethodInput) -> impl Iterator<Item = &Map<String, Value>> {
    input
        .parameters
        .get("inputs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|item| item.get("properties").and_then(Value::as_object))
}

/// Checks field names against the portal's properties (`None`: unknown, HubSpot checks).
pub fn check_fields(
    method: &MethodDef,
    fields: &Map<String, Value>,
    known: Option<&HashMap<String, KnownProperty>>,
) -> Result<(), MethodError> {
    let Some(known) = known else {
        return Ok(());
    };
    let mut problems = Vec::new();
    for name in fields.keys() {
        match known.get(name) {
            None => problems.push(format!(
                "unknown property `{name}` (not among the portal's properties)"
            )),
            Some(p) if p.read_only => {
                problems.push(format!("property `{name}` is read-only in HubSpot"));
            }
            Some(_) => {}
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(MethodError::invalid_parameters(method, problems))
    }
}
