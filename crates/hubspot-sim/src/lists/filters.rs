//! The `filterBranch` of dynamic lists: a small subset of HubSpot's list filters,
//! parsed once and evaluated against records at read time.
//!
//! Supported (anything else is a 400 naming what the simulator does not evaluate):
//!
//! * branches: `filterBranchType` `OR` or `AND`, with `filters` and nested
//!   `filterBranches` (the root must be `OR`, as HubSpot requires). An `OR` branch
//!   matches when any of its filters or branches does (none → no record); an `AND`
//!   branch when all do (none → every record).
//! * filters: `filterType: "PROPERTY"`, `property`, `operation: {operationType,
//!   operator, value | values, includeObjectsWithNoValueSet?}`; the operation types and
//!   operators of [`OPERATORS`].
//!
//! Text comparisons ignore case; `values` (MULTISTRING, ENUMERATION) match when any
//! value does (`IS_NOT_EQUAL_TO`, `DOES_NOT_CONTAIN`, `IS_NONE_OF`: when none does).
//! A record without a value matches only `IS_UNKNOWN`, or any operator when
//! `includeObjectsWithNoValueSet` is true.

use serde_json::{Map, Value, json};

use crate::errors::ApiError;

/// How one operator compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Known,
    Unknown,
    Equal,
    NotEqual,
    Contains,
    NotContains,
    StartsWith,
    EndsWith,
    Greater,
    GreaterOrEqual,
    Less,
    LessOrEqual,
}

/// What a value is compared as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Domain {
    /// `ALL_PROPERTY`: only known / unknown.
    Any,
    /// `STRING` (one `value`), `MULTISTRING` and `ENUMERATION` (`values`).
    Text,
    Number,
    Bool,
}

/// `(operationType, operator, comparison)`: every combination the simulator evaluates.
pub const OPERATORS: &[(&str, &str, Cmp)] = &[
    ("ALL_PROPERTY", "IS_KNOWN", Cmp::Known),
    ("ALL_PROPERTY", "IS_UNKNOWN", Cmp::Unknown),
    ("STRING", "IS_EQUAL_TO", Cmp::Equal),
    ("STRING", "IS_NOT_EQUAL_TO", Cmp::NotEqual),
    ("STRING", "CONTAINS", Cmp::Contains),
    ("STRING", "DOES_NOT_CONTAIN", Cmp::NotContains),
    ("STRING", "STARTS_WITH", Cmp::StartsWith),
    ("STRING", "ENDS_WITH", Cmp::EndsWith),
    ("STRING", "IS_KNOWN", Cmp::Known),
    ("STRING", "IS_UNKNOWN", Cmp::Unknown),
    ("MULTISTRING", "IS_EQUAL_TO", Cmp::Equal),
    ("MULTISTRING", "IS_NOT_EQUAL_TO", Cmp::NotEqual),
    ("MULTISTRING", "CONTAINS", Cmp::Contains),
    ("MULTISTRING", "DOES_NOT_CONTAIN", Cmp::NotContains),
    ("MULTISTRING", "STARTS_WITH", Cmp::StartsWith),
    ("MULTISTRING", "ENDS_WITH", Cmp::EndsWith),
    ("ENUMERATION", "IS_ANY_OF", Cmp::Equal),
    ("ENUMERATION", "IS_NONE_OF", Cmp::NotEqual),
    ("ENUMERATION", "IS_KNOWN", Cmp::Known),
    ("ENUMERATION", "IS_UNKNOWN", Cmp::Unknown),
    ("NUMBER", "IS_EQUAL_TO", Cmp::Equal),
    ("NUMBER", "IS_NOT_EQUAL_TO", Cmp::NotEqual),
    ("NUMBER", "IS_GREATER_THAN", Cmp::Greater),
    ("NUMBER", "IS_GREATER_THAN_OR_EQUAL_TO", Cmp::GreaterOrEqual),
    ("NUMBER", "IS_LESS_THAN", Cmp::Less),
    ("NUMBER", "IS_LESS_THAN_OR_EQUAL_TO", Cmp::LessOrEqual),
    ("NUMBER", "IS_KNOWN", Cmp::Known),
    ("NUMBER", "IS_UNKNOWN", Cmp::Unknown),
    ("BOOL", "IS_EQUAL_TO", Cmp::Equal),
    ("BOOL", "IS_NOT_EQUAL_TO", Cmp::NotEqual),
];

fn domain(operation_type: &str) -> Domain {
    match operation_type {
        "ALL_PROPERTY" => Domain::Any,
        "NUMBER" => Domain::Number,
        "BOOL" => Domain::Bool,
        _ => Domain::Text,
    }
}

/// One PROPERTY filter.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub property: String,
    pub cmp: Cmp,
    pub domain: Domain,
    /// Lowercased text values (Text, Bool) or the number (Number).
    pub values: Vec<String>,
    pub number: f64,
    pub include_no_value: bool,
}

/// A branch of filters.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Branch {
    pub and: bool,
    pub filters: Vec<Filter>,
    pub branches: Vec<Branch>,
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::validation(message)
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Parses a `filterBranch` (the root) and returns it with its normalised JSON (as HubSpot
/// echoes it: `filterBranchOperator` next to `filterBranchType`, and
/// `includeObjectsWithNoValueSet` on every operation).
pub fn parse_root(v: &Value) -> Result<(Branch, Value), ApiError> {
    let (branch, json) = parse_branch(v, "filterBranch")?;
    if branch.and {
        return Err(bad(
            "filterBranch: the root filter branch must have filterBranchType OR",
        ));
    }
    Ok((branch, json))
}

fn parse_branch(v: &Value, at: &str) -> Result<(Branch, Value), ApiError> {
    let obj = v
        .as_object()
        .ok_or_else(|| bad(format!("{at} must be an object")))?;
    let kind = obj
        .get("filterBranchType")
        .and_then(Value::as_str)
        .ok_or_else(|| bad(format!("{at}.filterBranchType is required")))?;
    let and = match kind {
        "OR" => false,
        "AND" => true,
        other => {
            return Err(bad(format!(
                "{at}.filterBranchType {other} is not supported by the simulator (only OR and AND branches of PROPERTY filters)"
            )));
        }
    };
    let mut out = Map::new();
    out.insert("filterBranchType".into(), json!(kind));
    out.insert("filterBranchOperator".into(), json!(kind));
    let mut branch = Branch {
        and,
        ..Branch::default()
    };
    let mut filters_json = Vec::new();
    for (i, f) in array(obj.get("filters"), &format!("{at}.filters"))?
        .iter()
        .enumerate()
    {
        let (filter, json) = parse_filter(f, &format!("{at}.filters[{i}]"))?;
        branch.filters.push(filter);
        filters_json.push(json);
    }
    let mut branches_json = Vec::new();
    for (i, b) in array(obj.get("filterBranches"), &format!("{at}.filterBranches"))?
        .iter()
        .enumerate()
    {
        let (child, json) = parse_branch(b, &format!("{at}.filterBranches[{i}]"))?;
        branch.branches.push(child);
        branches_json.push(json);
    }
    out.insert("filterBranches".into(), Value::Array(branches_json));
    out.insert("filters".into(), Value::Array(filters_json));
    Ok((branch, Value::Object(out)))
}

fn array<'a>(v: Option<&'a Value>, at: &str) -> Result<&'a [Value], ApiError> {
    match v {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(_) => Err(bad(format!("{at} must be an array"))),
    }
}

fn parse_filter(v: &Value, at: &str) -> Result<(Filter, Value), ApiError> {
    let obj = v
        .as_object()
        .ok_or_else(|| bad(format!("{at} must be an object")))?;
    let filter_type = obj.get("filterType").and_then(Value::as_str).unwrap_or("");
    if filter_type != "PROPERTY" {
        return Err(bad(format!(
            "{at}.filterType '{filter_type}' is not supported by the simulator (only PROPERTY filters)"
        )));
    }
    let property = obj
        .get("property")
        .and_then(Value::as_str)
        .filter(|p| !p.is_empty())
        .ok_or_else(|| bad(format!("{at}.property is required")))?;
    let op = obj
        .get("operation")
        .and_then(Value::as_object)
        .ok_or_else(|| bad(format!("{at}.operation is required")))?;
    let op_type = op
        .get("operationType")
        .and_then(Value::as_str)
        .unwrap_or("");
    let operator = op.get("operator").and_then(Value::as_str).unwrap_or("");
    let cmp = OPERATORS
        .iter()
        .find(|(t, o, _)| *t == op_type && *o == operator)
        .map(|(_, _, c)| *c)
        .ok_or_else(|| {
            bad(format!(
                "{at}.operation: operationType '{op_type}' with operator '{operator}' is not supported by the simulator"
            ))
        })?;
    let include_no_value = op
        .get("includeObjectsWithNoValueSet")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let domain = domain(op_type);
    let mut values: Vec<String> = Vec::new();
    if let Some(v) = op.get("value").filter(|v| !v.is_null()) {
        values.push(text(v).ok_or_else(|| bad(format!("{at}.operation.value is invalid")))?);
    }
    for v in array(op.get("values"), &format!("{at}.operation.values"))? {
        values.push(text(v).ok_or_else(|| bad(format!("{at}.operation.values is invalid")))?);
    }
    let needs_value = !matches!(cmp, Cmp::Known | Cmp::Unknown);
    if needs_value && values.is_empty() {
        return Err(bad(format!(
            "{at}.operation: {op_type} {operator} needs a value"
        )));
    }
    let mut number = 0.0;
    if domain == Domain::Number && needs_value {
        number = values[0]
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .ok_or_else(|| bad(format!("{at}.operation.value must be a number")))?;
    }
    let filter = Filter {
        property: property.to_owned(),
        cmp,
        domain,
        values: values.iter().map(|s| s.trim().to_lowercase()).collect(),
        number,
        include_no_value,
    };
    let mut op_json = op.clone();
    op_json.insert(
        "includeObjectsWithNoValueSet".into(),
        json!(include_no_value),
    );
    let json = json!({"filterType": "PROPERTY", "property": property, "operation": op_json});
    Ok((filter, json))
}

impl Branch {
    /// Every property name the branch reads.
    pub fn properties(&self) -> Vec<&str> {
        let mut out: Vec<&str> = self.filters.iter().map(|f| f.property.as_str()).collect();
        for b in &self.branches {
            out.extend(b.properties());
        }
        out
    }

    /// Whether a record matches; `value` gives a property's value on it.
    pub fn matches(&self, value: &dyn Fn(&str) -> Option<String>) -> bool {
        let mut parts = self
            .filters
            .iter()
            .map(|f| f.matches(value(&f.property).as_deref()))
            .chain(self.branches.iter().map(|b| b.matches(value)));
        if self.and {
            parts.all(|m| m)
        } else {
            parts.any(|m| m)
        }
    }
}

impl Filter {
    fn matches(&self, value: Option<&str>) -> bool {
        let Some(raw) = value.filter(|v| !v.is_empty()) else {
            return self.cmp == Cmp::Unknown || self.include_no_value;
        };
        match self.cmp {
            Cmp::Known => return true,
            Cmp::Unknown => return false,
            _ => {}
        }
        if self.domain == Domain::Number {
            let Ok(n) = raw.trim().parse::<f64>() else {
                return false;
            };
            return match self.cmp {
                Cmp::Equal => (n - self.number).abs() < f64::EPSILON,
                Cmp::NotEqual => (n - self.number).abs() >= f64::EPSILON,
                Cmp::Greater => n > self.number,
                Cmp::GreaterOrEqual => n >= self.number,
                Cmp::Less => n < self.number,
                Cmp::LessOrEqual => n <= self.number,
                _ => false,
            };
        }
        let v = raw.trim().to_lowercase();
        // Multi-checkbox values `a;b` match when one option does.
        let options: Vec<&str> = v.split(';').collect();
        let any = |f: &dyn Fn(&str, &str) -> bool| {
            self.values
                .iter()
                .any(|want| f(&v, want) || options.iter().any(|o| f(o, want)))
        };
        match self.cmp {
            Cmp::Equal => any(&|have, want| have == want),
            Cmp::NotEqual => !any(&|have, want| have == want),
            Cmp::Contains => any(&|have, want| have.contains(want)),
            Cmp::NotContains => !any(&|have, want| have.contains(want)),
            Cmp::StartsWith => any(&|have, want| have.starts_with(want)),
            Cmp::EndsWith => any(&|have, want| have.ends_with(want)),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn branch(v: Value) -> Branch {
        parse_root(&v).map(|(b, _)| b).unwrap_or_default()
    }

    fn or_of(filters: Value) -> Value {
        json!({"filterBranchType": "OR", "filterBranches": [
            {"filterBranchType": "AND", "filters": filters}
        ]})
    }

    #[test]
    fn evaluates_common_operators() {
        let b = branch(or_of(json!([
            {"filterType": "PROPERTY", "property": "email",
             "operation": {"operationType": "STRING", "operator": "CONTAINS", "value": "@Acme."}},
            {"filterType": "PROPERTY", "property": "firstname",
             "operation": {"operationType": "ALL_PROPERTY", "operator": "IS_KNOWN"}}
        ])));
        let rec = |email: &'static str, first: Option<&'static str>| {
            move |p: &str| match p {
                "email" => Some(email.to_owned()),
                "firstname" => first.map(str::to_owned),
                _ => None,
            }
        };
        assert!(b.matches(&rec("ann@acme.io", Some("Ann"))));
        assert!(!b.matches(&rec("ann@acme.io", None)));
        assert!(!b.matches(&rec("ann@other.io", Some("Ann"))));
        assert_eq!(b.properties(), ["email", "firstname"]);
    }

    #[test]
    fn numbers_values_and_no_value() {
        let b = branch(or_of(json!([
            {"filterType": "PROPERTY", "property": "n",
             "operation": {"operationType": "NUMBER", "operator": "IS_GREATER_THAN", "value": 5,
                           "includeObjectsWithNoValueSet": true}}
        ])));
        assert!(b.matches(&|_| Some("6".into())));
        assert!(!b.matches(&|_| Some("5".into())));
        assert!(b.matches(&|_| None));
        let b = branch(or_of(json!([
            {"filterType": "PROPERTY", "property": "s",
             "operation": {"operationType": "MULTISTRING", "operator": "IS_EQUAL_TO", "values": ["a", "B"]}}
        ])));
        assert!(b.matches(&|_| Some("b".into())));
        assert!(!b.matches(&|_| Some("c".into())));
        assert!(!b.matches(&|_| None));
    }

    #[test]
    fn rejects_what_it_cannot_evaluate() {
        assert!(parse_root(&json!({"filterBranchType": "AND"})).is_err());
        assert!(parse_root(&or_of(json!([{"filterType": "ASSOCIATION"}]))).is_err());
        assert!(
            parse_root(&or_of(json!([{"filterType": "PROPERTY", "property": "x",
            "operation": {"operationType": "STRING", "operator": "IS_BETWEEN", "value": "a"}}])))
            .is_err()
        );
        let (_, json) = parse_root(&or_of(json!([]))).unwrap_or_default();
        assert_eq!(json["filterBranchOperator"], "OR");
        assert_eq!(json["filterBranches"][0]["filterBranchOperator"], "AND");
    }
}
