//! Evaluating mappings: where a parameter's, a field's or an operand's value comes from
//! during one transaction.
//!
//! Order: the source's value, then `default` when that is missing or null, then
//! `transform` on the result. `default` comes first so that a transform sees the value it
//! will send (`value | lower` lowers a default too) and may supply its own fallback
//! (`value or 'unknown'`).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::dates;
use crate::path;
use crate::sandbox::Sandbox;
use crate::template::{Mapping, Mappings, Source};

/// What a transaction's mappings may read.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The trigger's id: its item is `steps[trigger_id]`, and `trigger` in merge fields.
    pub trigger_id: &'a str,
    /// The outputs of the steps run so far, by step id, with the trigger item under the
    /// trigger's id.
    pub steps: &'a BTreeMap<String, Value>,
    /// The cycle's variables, with the template's defaults already filled in.
    pub variables: &'a BTreeMap<String, Value>,
    pub system: &'a SystemValues,
}

/// The values of the `system` source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemValues {
    /// Unix milliseconds; none before the cycle's first successful run.
    pub last_successful_run_date: Option<i64>,
    pub cycle_id: String,
    pub account_id: String,
    pub transaction_id: String,
    /// Unix milliseconds.
    pub now: i64,
}

/// The names the `system` source knows.
pub const SYSTEM_NAMES: [&str; 5] = [
    "LastSuccessfulRunDate",
    "CycleId",
    "AccountId",
    "TransactionId",
    "Now",
];

/// The `system` names that are times, and so take a `format`.
pub const SYSTEM_DATES: [&str; 2] = ["LastSuccessfulRunDate", "Now"];

/// Why a mapping gave no value; `field` is the parameter, field or operand when known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{reason}", field.as_deref().map(|f| format!("`{f}`: ")).unwrap_or_default())]
pub struct MappingError {
    pub field: Option<String>,
    pub reason: String,
}

impl MappingError {
    fn new(reason: impl Into<String>) -> Self {
        Self {
            field: None,
            reason: reason.into(),
        }
    }

    /// The same error, naming the field it belongs to (`left`, `fields.domain`).
    pub fn in_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
}

/// The mapping's value: `None` for `ignore` (nothing is sent), else the value, `null` when
/// the source has none and there is no `default`.
pub fn evaluate(
    mapping: &Mapping,
    ctx: &Context,
    sandbox: &Sandbox,
) -> Result<Option<Value>, MappingError> {
    let value = match mapping.source {
        Source::Ignore => return Ok(None),
        Source::Static => mapping
            .value
            .clone()
            .ok_or_else(|| MappingError::new("a `static` mapping needs a `value`"))?,
        Source::Variable => {
            let name = needed(&mapping.name, "variable", "name")?;
            ctx.variables.get(name).cloned().unwrap_or(Value::Null)
        }
        Source::Step => step_value(mapping, ctx)?,
        Source::Text => {
            let text = needed(&mapping.text, "text", "text")?;
            let rendered = sandbox
                .render_text(text, ctx)
                .map_err(|e| MappingError::new(format!("the text: {e}")))?;
            Value::String(rendered)
        }
        Source::System => system_value(mapping, ctx.system)?,
    };
    let value = match (&value, &mapping.default) {
        (Value::Null, Some(default)) => default.clone(),
        _ => value,
    };
    match &mapping.transform {
        None => Ok(Some(value)),
        Some(expr) => sandbox
            .eval_expression(expr, &value, ctx)
            .map(Some)
            .map_err(|e| MappingError::new(format!("the transform: {e}"))),
    }
}

/// Every mapping's value by name, leaving out the ignored ones; the first failure names
/// its field.
pub fn evaluate_all(
    mappings: &Mappings,
    ctx: &Context,
    sandbox: &Sandbox,
) -> Result<Map<String, Value>, MappingError> {
    let mut values = Map::new();
    for (name, mapping) in mappings {
        if let Some(value) = evaluate(mapping, ctx, sandbox).map_err(|e| e.in_field(name))? {
            values.insert(name.clone(), value);
        }
    }
    Ok(values)
}

fn needed<'m>(
    piece: &'m Option<String>,
    source: &str,
    name: &str,
) -> Result<&'m str, MappingError> {
    piece
        .as_deref()
        .ok_or_else(|| MappingError::new(format!("a `{source}` mapping needs a `{name}`")))
}

/// A step that has not run (on this path) or a path that leads nowhere gives `null`.
fn step_value(mapping: &Mapping, ctx: &Context) -> Result<Value, MappingError> {
    let step = needed(&mapping.step, "step", "step")?;
    let path = needed(&mapping.path, "step", "path")?;
    let path = path::parse(path).map_err(|e| MappingError::new(format!("the path: {e}")))?;
    Ok(ctx
        .steps
        .get(step)
        .and_then(|output| path.get(output))
        .unwrap_or(Value::Null))
}

fn system_value(mapping: &Mapping, system: &SystemValues) -> Result<Value, MappingError> {
    let name = needed(&mapping.name, "system", "name")?;
    let time = |ms: i64| {
        dates::from_unix_ms(ms)
            .and_then(|instant| dates::format_instant(instant, mapping.format.as_deref()))
            .map_err(MappingError::new)
    };
    match name {
        "LastSuccessfulRunDate" => system
            .last_successful_run_date
            .map_or(Ok(Value::Null), time),
        "Now" => time(system.now),
        "CycleId" => Ok(Value::from(system.cycle_id.as_str())),
        "AccountId" => Ok(Value::from(system.account_id.as_str())),
        "TransactionId" => Ok(Value::from(system.transaction_id.as_str())),
        other => Err(MappingError::new(format!(
            "no system value `{other}` (there are {})",
            SYSTEM_NAMES.join(", ")
        ))),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// 2024-05-01T10:00:00Z.
    const NOW: i64 = 1_714_557_600_000;

    struct Fixture {
        steps: BTreeMap<String, Value>,
        variables: BTreeMap<String, Value>,
        system: SystemValues,
        sandbox: Sandbox,
    }

    impl Fixture {
        fn new() -> Self {
            Self {
                steps: BTreeMap::from([
                    (
                        "trigger".to_owned(),
                        json!({"id": "51", "properties": {"email": "Ann@Example.com", "phone": null}}),
                    ),
                    (
                        "find".to_owned(),
                        json!({"results": [{"id": "1"}, {"id": "2"}]}),
                    ),
                ]),
                variables: BTreeMap::from([("owner".to_owned(), json!("77"))]),
                system: SystemValues {
                    last_successful_run_date: Some(NOW - 3_600_000),
                    cycle_id: "cyc_1".into(),
                    account_id: "acc_1".into(),
                    transaction_id: "tx_1".into(),
                    now: NOW,
                },
                sandbox: Sandbox::new(),
            }
        }

        fn ctx(&self) -> Context<'_> {
            Context {
                trigger_id: "trigger",
                steps: &self.steps,
                variables: &self.variables,
                system: &self.system,
            }
        }

        fn eval(&self, mapping: Value) -> Result<Option<Value>, MappingError> {
            let mapping: Mapping = serde_json::from_value(mapping).unwrap();
            evaluate(&mapping, &self.ctx(), &self.sandbox)
        }

        fn value(&self, mapping: Value) -> Value {
            self.eval(mapping).unwrap().unwrap()
        }
    }

    #[test]
    fn ignore_sends_nothing() {
        let f = Fixture::new();
        assert_eq!(f.eval(json!({"source": "ignore"})).unwrap(), None);
    }

    #[test]
    fn static_values() {
        let f = Fixture::new();
        assert_eq!(
            f.value(json!({"source": "static", "value": [1, "a"]})),
            json!([1, "a"])
        );
        let error = f.eval(json!({"source": "static"})).unwrap_err();
        assert!(error.reason.contains("`value`"), "{error}");
    }

    #[test]
    fn variables_and_their_absence() {
        let f = Fixture::new();
        assert_eq!(
            f.value(json!({"source": "variable", "name": "owner"})),
            json!("77")
        );
        assert_eq!(
            f.value(json!({"source": "variable", "name": "unset"})),
            Value::Null
        );
        assert_eq!(
            f.value(json!({"source": "variable", "name": "unset", "default": "x"})),
            json!("x")
        );
    }

    #[test]
    fn step_outputs_by_path() {
        let f = Fixture::new();
        let step = |step: &str, path: &str| json!({"source": "step", "step": step, "path": path});
        assert_eq!(
            f.value(step("trigger", "properties.email")),
            json!("Ann@Example.com")
        );
        assert_eq!(f.value(step("find", "[results].id")), json!(["1", "2"]));
        assert_eq!(f.value(step("find", "results.1.id")), json!("2"));
        assert_eq!(f.value(step("trigger", "properties.fax")), Value::Null);
        assert_eq!(f.value(step("not_run", "id")), Value::Null);
        let error = f.eval(step("trigger", "a..b")).unwrap_err();
        assert!(error.reason.contains("path"), "{error}");
    }

    #[test]
    fn default_fills_null_and_missing_but_not_empty_text() {
        let f = Fixture::new();
        let with_default = |path: &str| json!({"source": "step", "step": "trigger", "path": path, "default": "none"});
        assert_eq!(f.value(with_default("properties.phone")), json!("none"));
        assert_eq!(f.value(with_default("properties.fax")), json!("none"));
        assert_eq!(f.value(with_default("id")), json!("51"));
    }

    #[test]
    fn text_fills_merge_fields() {
        let f = Fixture::new();
        let text = "{{ trigger.properties.email }} for {{ variables.owner }} in {{ CycleId }}\
                    {{ steps.trigger.properties.missing.deeper }}";
        assert_eq!(
            f.value(json!({"source": "text", "text": text})),
            json!("Ann@Example.com for 77 in cyc_1")
        );
        let error = f
            .eval(json!({"source": "text", "text": "{{ unclosed"}))
            .unwrap_err();
        assert!(error.reason.starts_with("the text"), "{error}");
    }

    #[test]
    fn system_values_and_date_formats() {
        let f = Fixture::new();
        let system = |name: &str, format: Option<&str>| match format {
            Some(format) => json!({"source": "system", "name": name, "format": format}),
            None => json!({"source": "system", "name": name}),
        };
        assert_eq!(f.value(system("Now", None)), json!("2024-05-01T10:00:00Z"));
        assert_eq!(
            f.value(system("LastSuccessfulRunDate", Some("unix_ms"))),
            json!(NOW - 3_600_000)
        );
        assert_eq!(
            f.value(system("LastSuccessfulRunDate", Some("%Y-%m-%d %H:%M"))),
            json!("2024-05-01 09:00")
        );
        assert_eq!(f.value(system("CycleId", None)), json!("cyc_1"));
        assert_eq!(f.value(system("AccountId", None)), json!("acc_1"));
        assert_eq!(f.value(system("TransactionId", None)), json!("tx_1"));
        assert!(f.eval(system("Tomorrow", None)).is_err());
        assert!(f.eval(system("Now", Some("%Y %"))).is_err());
    }

    #[test]
    fn a_cycle_that_never_ran_has_no_last_run_date() {
        let mut f = Fixture::new();
        f.system.last_successful_run_date = None;
        let mapping = json!({"source": "system", "name": "LastSuccessfulRunDate"});
        assert_eq!(f.value(mapping), Value::Null);
        let mapping = json!({
            "source": "system", "name": "LastSuccessfulRunDate", "default": "2020-01-01T00:00:00Z"
        });
        assert_eq!(f.value(mapping), json!("2020-01-01T00:00:00Z"));
    }

    #[test]
    fn transform_applies_last_and_sees_the_default() {
        let f = Fixture::new();
        let mapping = json!({
            "source": "step", "step": "trigger", "path": "properties.email",
            "transform": "value | email_domain"
        });
        assert_eq!(f.value(mapping), json!("example.com"));
        let mapping = json!({
            "source": "variable", "name": "unset", "default": "ABC", "transform": "value | lower"
        });
        assert_eq!(f.value(mapping), json!("abc"));
        let mapping =
            json!({"source": "static", "value": "7", "transform": "value | to_number + 1"});
        assert_eq!(f.value(mapping), json!(8));
        let mapping = json!({"source": "static", "value": 1, "transform": "value +"});
        assert!(
            f.eval(mapping)
                .unwrap_err()
                .reason
                .starts_with("the transform")
        );
    }

    #[test]
    fn evaluate_all_leaves_out_ignored_and_names_the_failing_field() {
        let f = Fixture::new();
        let mappings: Mappings = serde_json::from_value(json!({
            "email": {"source": "step", "step": "trigger", "path": "properties.email"},
            "phone": {"source": "ignore"},
            "owner": {"source": "variable", "name": "owner"},
        }))
        .unwrap();
        let values = evaluate_all(&mappings, &f.ctx(), &f.sandbox).unwrap();
        assert_eq!(
            Value::Object(values),
            json!({"email": "Ann@Example.com", "owner": "77"})
        );

        let mappings: Mappings = serde_json::from_value(json!({
            "email": {"source": "step", "step": "trigger", "path": "properties.email"},
            "zip": {"source": "text"},
        }))
        .unwrap();
        let error = evaluate_all(&mappings, &f.ctx(), &f.sandbox).unwrap_err();
        assert_eq!(error.field.as_deref(), Some("zip"));
        assert_eq!(error.to_string(), "`zip`: a `text` mapping needs a `text`");
    }
}
