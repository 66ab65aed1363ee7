//! The template language of `text` mappings and `transform` expressions: MiniJinja set up
//! for text written by partners, which Spokes runs on its own machine.
//!
//! What bounds a render: fuel (every instruction costs some, so an endless loop ends with
//! an error), the output cap (writing stops at [`MAX_OUTPUT`] bytes instead of filling
//! memory first), the source cap, and MiniJinja's own limits (`range` of at most 100,000,
//! string repetition of at most 100 MB, recursion depth). Without MiniJinja's
//! `multi_template` feature `include`, `import` and `extends` are not even statements, and
//! there is no loader.
//!
//! Not bounded: memory and time spent inside one instruction. Fuel counts instructions,
//! not bytes, so `'x' * 100000000` is 100 MB at the cost of one, a loop of such
//! repetitions burns CPU long before the fuel runs out, and statements that each double a
//! string (`{% set a = a ~ a %}`) grow past any size before the output cap sees them.
//! MiniJinja has no hook to meter these; until it does, renders of untrusted templates
//! belong where a runaway one cannot take the server down with it.

use std::collections::BTreeSet;
use std::io;

use minijinja::value::Value as JinjaValue;
use minijinja::{AutoEscape, Environment, Error, ErrorKind, UndefinedBehavior};
use serde_json::Value;

use crate::dates;
use crate::mapping::Context;

/// Instructions a render or an expression may run.
pub const FUEL: u64 = 50_000;
/// Bytes a rendered text (or a transform's value, as JSON) may have.
pub const MAX_OUTPUT: usize = 64 * 1024;
/// Bytes a `text` or a `transform` may have.
pub const MAX_SOURCE: usize = 16 * 1024;

/// The names a template's context has (an expression also has `value`).
pub const CONTEXT_NAMES: [&str; 8] = [
    "steps",
    "trigger",
    "variables",
    "LastSuccessfulRunDate",
    "CycleId",
    "AccountId",
    "TransactionId",
    "Now",
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SandboxError {
    #[error("it is {0} bytes long; at most {MAX_SOURCE} are allowed")]
    TooLong(usize),
    #[error("{0}")]
    Syntax(String),
    #[error("it did too much work (more than {FUEL} instructions) and was stopped")]
    OutOfFuel,
    #[error("its result is longer than {MAX_OUTPUT} bytes")]
    OutputTooLarge,
    #[error("{0}")]
    Failed(String),
}

/// The configured template engine; build it once and share it.
pub struct Sandbox {
    env: Environment<'static>,
}

impl Default for Sandbox {
    fn default() -> Self {
        Self::new()
    }
}

impl Sandbox {
    pub fn new() -> Self {
        let mut env = Environment::new();
        env.set_fuel(Some(FUEL));
        // A merge field of a missing property is empty, even several levels deep.
        env.set_undefined_behavior(UndefinedBehavior::Chainable);
        // The results are JSON values and HubSpot properties, not HTML.
        env.set_auto_escape_callback(|_| AutoEscape::None);
        env.set_recursion_limit(64);
        env.add_filter("email_domain", email_domain);
        env.add_filter("date", date);
        env.add_filter("to_number", to_number);
        Self { env }
    }

    /// Compiles `text` and answers the context names it reads, with their nested
    /// attributes (`steps.trigger.properties.email`), for validation.
    pub fn compile_text(&self, text: &str) -> Result<BTreeSet<String>, SandboxError> {
        check_length(text)?;
        let template = self.env().template_from_str(text).map_err(syntax)?;
        Ok(template.undeclared_variables(true).into_iter().collect())
    }

    /// As [`Self::compile_text`], for a `transform` expression.
    pub fn compile_expression(&self, expr: &str) -> Result<BTreeSet<String>, SandboxError> {
        check_length(expr)?;
        let expression = self.env().compile_expression(expr).map_err(syntax)?;
        Ok(expression.undeclared_variables(true).into_iter().collect())
    }

    /// Whether a top-level name read by a text (or an expression) is one the context or the
    /// engine (`range`, `namespace`, …) provides.
    pub fn knows_name(&self, name: &str, in_expression: bool) -> bool {
        CONTEXT_NAMES.contains(&name)
            || (in_expression && name == "value")
            || self.env.globals().any(|(global, _)| global == name)
    }

    /// `text` with its merge fields filled in.
    pub fn render_text(&self, text: &str, ctx: &Context) -> Result<String, SandboxError> {
        check_length(text)?;
        let template = self.env().template_from_str(text).map_err(syntax)?;
        let mut out = CappedWriter::default();
        match template.render_captured_to(context(ctx, None), &mut out) {
            Ok(_) => String::from_utf8(out.bytes).map_err(|e| SandboxError::Failed(e.to_string())),
            Err(_) if out.overflowed => Err(SandboxError::OutputTooLarge),
            Err(e) => Err(failed(e)),
        }
    }

    /// The value of `expr` with `value` (and the rest of the context) in scope.
    pub fn eval_expression(
        &self,
        expr: &str,
        value: &Value,
        ctx: &Context,
    ) -> Result<Value, SandboxError> {
        check_length(expr)?;
        let expression = self.env().compile_expression(expr).map_err(syntax)?;
        let result = expression.eval(context(ctx, Some(value))).map_err(failed)?;
        let mut out = CappedWriter::default();
        if serde_json::to_writer(&mut out, &result).is_err() {
            return Err(if out.overflowed {
                SandboxError::OutputTooLarge
            } else {
                SandboxError::Failed(format!("`{result}` has no JSON form"))
            });
        }
        serde_json::from_slice(&out.bytes).map_err(|e| SandboxError::Failed(e.to_string()))
    }

    /// The environment, for sources that live shorter than the sandbox (the environment's
    /// source lifetime is covariant, so this is a plain coercion).
    fn env(&self) -> &Environment<'_> {
        &self.env
    }
}

fn check_length(source: &str) -> Result<(), SandboxError> {
    if source.len() > MAX_SOURCE {
        return Err(SandboxError::TooLong(source.len()));
    }
    Ok(())
}

fn syntax(error: Error) -> SandboxError {
    SandboxError::Syntax(error.to_string())
}

fn failed(error: Error) -> SandboxError {
    match error.kind() {
        ErrorKind::OutOfFuel => SandboxError::OutOfFuel,
        _ => SandboxError::Failed(error.to_string()),
    }
}

fn context(ctx: &Context, value: Option<&Value>) -> JinjaValue {
    let time = |ms: i64| {
        dates::from_unix_ms(ms)
            .map(|t| JinjaValue::from(t.to_string()))
            .unwrap_or(JinjaValue::UNDEFINED)
    };
    let system = ctx.system;
    let mut entries = vec![
        ("steps", JinjaValue::from_serialize(ctx.steps)),
        (
            "trigger",
            ctx.steps
                .get(ctx.trigger_id)
                .map_or(JinjaValue::UNDEFINED, JinjaValue::from_serialize),
        ),
        ("variables", JinjaValue::from_serialize(ctx.variables)),
        (
            "LastSuccessfulRunDate",
            system
                .last_successful_run_date
                .map_or(JinjaValue::from(()), time),
        ),
        ("CycleId", JinjaValue::from(system.cycle_id.as_str())),
        ("AccountId", JinjaValue::from(system.account_id.as_str())),
        (
            "TransactionId",
            JinjaValue::from(system.transaction_id.as_str()),
        ),
        ("Now", time(system.now)),
    ];
    if let Some(value) = value {
        entries.push(("value", JinjaValue::from_serialize(value)));
    }
    entries.into_iter().collect()
}

/// Refuses any write that would pass [`MAX_OUTPUT`], whole: what was written stays valid
/// UTF-8.
#[derive(Default)]
struct CappedWriter {
    bytes: Vec<u8>,
    overflowed: bool,
}

impl io::Write for CappedWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.bytes.len() + buf.len() > MAX_OUTPUT {
            self.overflowed = true;
            return Err(io::Error::other("output cap reached"));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// `"Ann@Example.COM" | email_domain` → `example.com`; none for what is not an address.
fn email_domain(value: JinjaValue) -> JinjaValue {
    match value.as_str().and_then(|s| s.trim().rsplit_once('@')) {
        Some((local, domain)) if !local.is_empty() && !domain.is_empty() => {
            JinjaValue::from(domain.to_lowercase())
        }
        _ => JinjaValue::from(()),
    }
}

/// `value | date("%Y-%m-%d")`: an RFC 3339 time or Unix milliseconds in a `strftime`
/// format, `"unix_ms"`, or RFC 3339 without one; none stays none.
fn date(value: JinjaValue, format: Option<String>) -> Result<JinjaValue, Error> {
    if value.is_undefined() || value.is_none() {
        return Ok(JinjaValue::from(()));
    }
    let json = serde_json::to_value(&value).unwrap_or(Value::Null);
    let instant = dates::parse_instant(&json).ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("date: `{value}` is neither an RFC 3339 time nor Unix milliseconds"),
        )
    })?;
    dates::format_instant(instant, format.as_deref())
        .map(|formatted| JinjaValue::from_serialize(&formatted))
        .map_err(|reason| Error::new(ErrorKind::InvalidOperation, format!("date: {reason}")))
}

/// A number from a number or numeric text (`"42"` → 42, `" 2.5 "` → 2.5); none otherwise.
fn to_number(value: JinjaValue) -> JinjaValue {
    match serde_json::to_value(&value) {
        Ok(Value::Number(n)) => JinjaValue::from_serialize(&n),
        Ok(Value::String(s)) => {
            let s = s.trim();
            if let Ok(i) = s.parse::<i64>() {
                JinjaValue::from(i)
            } else {
                match s.parse::<f64>() {
                    Ok(f) if f.is_finite() => JinjaValue::from(f),
                    _ => JinjaValue::from(()),
                }
            }
        }
        _ => JinjaValue::from(()),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;
    use crate::mapping::SystemValues;

    fn with_context<T>(run: impl FnOnce(&Sandbox, &Context) -> T) -> T {
        let steps = BTreeMap::from([(
            "start".to_owned(),
            json!({"properties": {"email": "ann@example.com", "createdate": "2024-05-01T10:00:00Z"}}),
        )]);
        let variables = BTreeMap::from([("region".to_owned(), json!("EU"))]);
        let system = SystemValues {
            last_successful_run_date: None,
            cycle_id: "cyc_1".into(),
            account_id: "acc_1".into(),
            transaction_id: "tx_1".into(),
            now: 1_714_557_600_000,
        };
        let ctx = Context {
            trigger_id: "start",
            steps: &steps,
            variables: &variables,
            system: &system,
        };
        run(&Sandbox::new(), &ctx)
    }

    fn render(text: &str) -> Result<String, SandboxError> {
        with_context(|sandbox, ctx| sandbox.render_text(text, ctx))
    }

    fn eval(expr: &str, value: Value) -> Result<Value, SandboxError> {
        with_context(|sandbox, ctx| sandbox.eval_expression(expr, &value, ctx))
    }

    #[test]
    fn the_context_names() {
        assert_eq!(
            render("{{ trigger.properties.email }}|{{ steps.start.properties.email }}").unwrap(),
            "ann@example.com|ann@example.com"
        );
        assert_eq!(
            render(
                "{{ variables.region }} {{ CycleId }} {{ AccountId }} {{ TransactionId }} {{ Now }}"
            )
            .unwrap(),
            "EU cyc_1 acc_1 tx_1 2024-05-01T10:00:00Z"
        );
        assert_eq!(
            render("[{{ LastSuccessfulRunDate or 'never' }}]").unwrap(),
            "[never]"
        );
    }

    #[test]
    fn missing_values_are_empty_not_errors() {
        assert_eq!(
            render("[{{ steps.nowhere.a.b }}{{ trigger.x.y.z }}]").unwrap(),
            "[]"
        );
        assert_eq!(eval("value.a.b", json!(null)).unwrap(), Value::Null);
    }

    #[test]
    fn nothing_is_escaped() {
        assert_eq!(render("{{ '<b>&\"' }}").unwrap(), "<b>&\"");
    }

    #[test]
    fn an_endless_loop_runs_out_of_fuel() {
        let endless =
            "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}";
        assert_eq!(render(endless), Err(SandboxError::OutOfFuel));
    }

    #[test]
    fn output_is_capped() {
        assert_eq!(
            render("{{ 'x' * 70000 }}"),
            Err(SandboxError::OutputTooLarge)
        );
        let small_pieces = "{% for i in range(5000) %}0123456789ABCDEF{% endfor %}";
        assert_eq!(render(small_pieces), Err(SandboxError::OutputTooLarge));
        assert_eq!(
            eval("'x' * 70000", Value::Null),
            Err(SandboxError::OutputTooLarge)
        );
        assert_eq!(render("{{ 'x' * 1000 }}").unwrap().len(), 1000);
    }

    #[test]
    fn sources_are_capped() {
        let long = "x".repeat(MAX_SOURCE + 1);
        assert_eq!(render(&long), Err(SandboxError::TooLong(MAX_SOURCE + 1)));
    }

    #[test]
    fn nothing_is_loaded_from_elsewhere() {
        for text in [
            "{% include 'secrets.txt' %}",
            "{% import 'x.html' as x %}",
            "{% extends 'base' %}",
        ] {
            let result = render(text);
            assert!(
                matches!(result, Err(SandboxError::Syntax(_))),
                "{text}: {result:?}"
            );
        }
    }

    #[test]
    fn syntax_errors_are_reported() {
        let sandbox = Sandbox::new();
        assert!(matches!(
            sandbox.compile_text("{% if %}"),
            Err(SandboxError::Syntax(_))
        ));
        assert!(matches!(
            sandbox.compile_expression("value |"),
            Err(SandboxError::Syntax(_))
        ));
    }

    #[test]
    fn compiling_answers_the_names_read() {
        let sandbox = Sandbox::new();
        let names = sandbox
            .compile_text(
                "{% for r in steps.find.results %}{{ r.id }}{{ loop.index }}{% endfor %}\
                 {{ variables.region }}{{ range(2) }}",
            )
            .unwrap();
        assert!(names.contains("steps.find.results"), "{names:?}");
        assert!(names.contains("variables.region"), "{names:?}");
        for name in &names {
            let top = name.split('.').next().unwrap();
            assert!(sandbox.knows_name(top, false), "{name}");
        }
        assert!(!sandbox.knows_name("value", false));
        assert!(sandbox.knows_name("value", true));
        assert!(!sandbox.knows_name("stpes", false));
    }

    #[test]
    fn transforms_give_json_values() {
        assert_eq!(eval("value | upper", json!("abc")).unwrap(), json!("ABC"));
        assert_eq!(eval("value * 2", json!(21)).unwrap(), json!(42));
        assert_eq!(
            eval("value | length > 2", json!([1, 2, 3])).unwrap(),
            json!(true)
        );
        assert_eq!(eval("{'a': value}", json!(1)).unwrap(), json!({"a": 1}));
        assert_eq!(
            eval("value | default('x')", Value::Null).unwrap(),
            json!(null)
        );
        assert_eq!(eval("value or 'x'", Value::Null).unwrap(), json!("x"));
    }

    #[test]
    fn email_domain_filter() {
        assert_eq!(
            eval("value | email_domain", json!(" Ann@Example.COM ")).unwrap(),
            json!("example.com")
        );
        assert_eq!(
            eval("value | email_domain", json!("no address")).unwrap(),
            Value::Null
        );
        assert_eq!(
            eval("value | email_domain", json!("@example.com")).unwrap(),
            Value::Null
        );
        assert_eq!(
            eval("value | email_domain", Value::Null).unwrap(),
            Value::Null
        );
    }

    #[test]
    fn date_filter() {
        let created = json!("2024-05-01T10:00:00Z");
        assert_eq!(
            eval("value | date('%d/%m/%Y')", created.clone()).unwrap(),
            json!("01/05/2024")
        );
        assert_eq!(
            eval("value | date('unix_ms')", created.clone()).unwrap(),
            json!(1_714_557_600_000_i64)
        );
        assert_eq!(
            eval("value | date", json!(1_714_557_600_000_i64)).unwrap(),
            created
        );
        assert_eq!(
            eval("value | date", json!("1714557600000")).unwrap(),
            created
        );
        assert_eq!(
            eval("value | date('%Y')", Value::Null).unwrap(),
            Value::Null
        );
        assert!(eval("value | date", json!("soon")).is_err());
        assert_eq!(
            render("{{ trigger.properties.createdate | date('%Y') }}").unwrap(),
            "2024"
        );
    }

    #[test]
    fn to_number_filter() {
        assert_eq!(eval("value | to_number", json!("42")).unwrap(), json!(42));
        assert_eq!(
            eval("value | to_number", json!(" 2.5 ")).unwrap(),
            json!(2.5)
        );
        assert_eq!(eval("value | to_number", json!(7)).unwrap(), json!(7));
        assert_eq!(
            eval("value | to_number", json!("4 2")).unwrap(),
            Value::Null
        );
        assert_eq!(
            eval("value | to_number", json!("NaN")).unwrap(),
            Value::Null
        );
        assert_eq!(eval("value | to_number", json!(true)).unwrap(), Value::Null);
    }
}
