//! The template's JSON Schema, for editors and agents, made from the types in `template`.
//! It is committed as `schemas/template.schema.json`; a test keeps the file in step.

use schemars::schema_for;
use serde_json::Value;

use crate::template::Template;

/// The schema's `$id`: a name, not an address (Spokes is self-hosted and has no canonical
/// URL to serve it from).
pub const SCHEMA_ID: &str = "urn:spokes:schema:template";

pub fn template_schema() -> Value {
    let mut schema = schema_for!(Template);
    schema.insert("$id".into(), SCHEMA_ID.into());
    schema.insert("title".into(), "Spokes cycle template".into());
    schema.to_value()
}

/// The committed file's text: pretty JSON with a trailing newline.
pub fn template_schema_text() -> String {
    let mut text = serde_json::to_string_pretty(&template_schema())
        .expect("a schema made of JSON values serializes");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn committed_path() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../schemas/template.schema.json")
    }

    #[test]
    fn the_committed_schema_is_current() {
        let path = committed_path();
        let generated = template_schema_text();
        if std::env::var_os("SPOKES_WRITE_SCHEMA").is_some() {
            std::fs::write(&path, &generated).expect("the schema file is writable");
            return;
        }
        // Compared as JSON, so that key order (should a dependency turn on serde_json's
        // `preserve_order`) is no difference.
        let committed: Option<Value> = std::fs::read_to_string(&path)
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok());
        assert!(
            committed.as_ref() == Some(&template_schema()),
            "{} differs from the template types; regenerate it with \
             `SPOKES_WRITE_SCHEMA=1 cargo test -p spokes-cycles schema` and commit it",
            path.display()
        );
    }

    #[test]
    fn the_schema_names_itself_and_describes_the_parts() {
        let schema = template_schema();
        assert_eq!(schema["$id"], SCHEMA_ID);
        assert_eq!(schema["title"], "Spokes cycle template");
        assert_eq!(schema["additionalProperties"], false);
        for part in [
            "Trigger",
            "Step",
            "Mapping",
            "Source",
            "Operator",
            "ErrorPolicy",
        ] {
            assert!(schema["$defs"].get(part).is_some(), "no `{part}` in $defs");
        }
        let required = schema["required"].as_array().unwrap();
        assert!(required.contains(&"name".into()) && required.contains(&"trigger".into()));
    }
}
