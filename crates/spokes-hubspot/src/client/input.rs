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
        Body::Properties { required, .. } => {
            for name in required {
                if !input.fields.contains_key(name) {
                    problems.push(format!("missing required field `{name}`"));
                }
            }
            for (name, value) in &input.fields {
                if value.is_array() || value.is_object() {
                    problems.push(format!(
                        "field `{name}` must be a string, number, boolean or null"
                    ));
                }
            }
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
