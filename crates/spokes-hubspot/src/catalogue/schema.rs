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
    let fields = match &method.body {
        Body::Properties {
            object_type,
            required,
        } => Some((object_type, required.clone())),
        Body::Upsert {
            object_type,
            batch: false,
            ..
        } => Some((object_type, Vec::new())),
        _ => None,
    };
    if let Some((object_type, required)) = fields {
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
                    "limit": {"type": "integer", "minimum": 1, "maximum": 100, "description": format!("Records a page (default and most: {}).", method.shape.max_page.min(100))},
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

/// The catalogue as a Markdown table, for the README (a test keeps the README's copy equal).
pub fn markdown_table(methods: &[MethodDef]) -> String {
    let mut out =
        String::from("| method | category | name | scopes (any one set) |\n|---|---|---|---|\n");
    for m in methods {
        let scopes: Vec<String> = m
            .scopes
            .iter()
            .map(|set| format!("`{}`", set.join(" + ")))
            .collect();
        out.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            m.id,
            m.category,
            m.name,
            if scopes.is_empty() {
                "checked by HubSpot".into()
            } else {
                scopes.join(" or ")
            }
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    /// The README's method list is generated from the catalogue: run this test with
    /// `SPOKES_UPDATE_README=1` to rewrite it after changing the catalogue.
    #[test]
    fn the_readme_lists_the_catalogue() {
        const START: &str = "<!-- methods:start -->\n";
        const END: &str = "<!-- methods:end -->";
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md");
        let readme = std::fs::read_to_string(&path).expect("README.md");
        let table = super::markdown_table(crate::catalogue::all());
        let (before, rest) = readme.split_once(START).expect("methods:start marker");
        let (_, after) = rest.split_once(END).expect("methods:end marker");
        let expected = format!("{before}{START}{table}{END}{after}");
        if std::env::var_os("SPOKES_UPDATE_README").is_some() {
            std::fs::write(&path, &expected).expect("write README.md");
        } else {
            assert!(
                readme == expected,
                "README.md's method list differs from the catalogue; run `SPOKES_UPDATE_README=1 cargo test -p spokes-hubspot the_readme_lists_the_catalogue`"
            );
        }
    }
}
