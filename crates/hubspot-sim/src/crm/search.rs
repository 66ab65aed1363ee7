//! CRM search: `POST /crm/v3/objects/{objectType}/search` and
//! `POST /crm/objects/2026-03/{objectType}/search`.
//!
//! A search is a linear scan over the live records of one object type, under the
//! state lock, that allocates nothing per record: filters are compiled once
//! (property index, comparison class, parsed operands) and read the stored values in
//! place; `hs_object_id`, `createdate` and the last-modified property are compared as
//! numbers taken straight from the record. Without `sorts` (or sorted by
//! `hs_object_id`) the scan walks the records in id order and keeps only the page;
//! with another sort the matching records are collected as references with their
//! first sort key, and only the first `after + limit` of them are ordered.
//!
//! Semantics the simulator chose where HubSpot does not say (see the README):
//! * `after` is an offset into the result list; `after + limit > 10000` → 400.
//! * an unknown property in a filter or a sort → 400 VALIDATION_ERROR; unknown names
//!   in `properties` are ignored, as reads do.
//! * `NEQ`, `NOT_IN` and `NOT_CONTAINS_TOKEN` also match records without a value.
//! * strings (and enumerations, booleans) compare case-insensitively; multi-checkbox
//!   values (`a;b`) match `EQ`/`IN` when one of their options does.
//! * `CONTAINS_TOKEN` splits values and the pattern into tokens at every
//!   non-alphanumeric character (`*` excepted); the pattern's tokens must match
//!   consecutive tokens of the value, each token pattern may use `*` wildcards.
//! * `query` splits into tokens the same way; every token must be a prefix of a token
//!   of one of the object's searchable properties.
//! * top-level `filters` are AND-ed with the OR of `filterGroups` (alone, they are one
//!   group).

use std::borrow::Cow;
use std::cmp::Ordering;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value, json};

use crate::crm::http::{self, Access, json_body, respond};
use crate::crm::schema::{Computed, ObjectKind, PropType};
use crate::crm::store::{ObjectStore, Record};
use crate::crm::time;
use crate::errors::ApiError;
use crate::state::{Sim, now_ms};

/// Page size when the request names none.
pub const DEFAULT_LIMIT: usize = 10;
/// Largest page size.
pub const MAX_LIMIT: usize = 200;
/// No search can page past this many results.
pub const MAX_RESULTS: usize = 10_000;
/// Longest `query`, in characters.
pub const MAX_QUERY_CHARS: usize = 3000;

/// Properties every search result carries, whatever `properties` names (with the
/// object's creation and last-modified properties).
pub const ALWAYS_RETURNED: [&str; 1] = ["hs_object_id"];

/// The properties `query` looks at (those the object does not define are skipped).
pub fn searchable_properties(kind: ObjectKind) -> &'static [&'static str] {
    kind.searchable_properties()
}

/// The limits a search request is checked against (from the simulator's config).
#[derive(Debug, Clone, Copy)]
pub struct SearchLimits {
    pub max_groups: usize,
    pub max_per_group: usize,
    pub max_total: usize,
    pub indexing_delay_ms: u64,
}

/// A filter operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Neq,
    Lt,
    Lte,
    Gt,
    Gte,
    Between,
    In,
    NotIn,
    HasProperty,
    NotHasProperty,
    ContainsToken,
    NotContainsToken,
}

const OPERATORS: [(&str, Op); 13] = [
    ("EQ", Op::Eq),
    ("NEQ", Op::Neq),
    ("LT", Op::Lt),
    ("LTE", Op::Lte),
    ("GT", Op::Gt),
    ("GTE", Op::Gte),
    ("BETWEEN", Op::Between),
    ("IN", Op::In),
    ("NOT_IN", Op::NotIn),
    ("HAS_PROPERTY", Op::HasProperty),
    ("NOT_HAS_PROPERTY", Op::NotHasProperty),
    ("CONTAINS_TOKEN", Op::ContainsToken),
    ("NOT_CONTAINS_TOKEN", Op::NotContainsToken),
];

impl Op {
    fn parse(s: &str) -> Option<Self> {
        OPERATORS.iter().find(|(n, _)| *n == s).map(|(_, op)| *op)
    }
}

/// A filter as the request states it.
#[derive(Debug, Clone)]
struct RawFilter {
    property: String,
    op: Op,
    value: Option<String>,
    high_value: Option<String>,
    values: Vec<String>,
}

/// A sort as the request states it.
#[derive(Debug, Clone)]
struct RawSort {
    property: String,
    desc: bool,
}

/// A parsed search request (property names not yet resolved).
#[derive(Debug, Clone, Default)]
struct RawRequest {
    groups: Vec<Vec<RawFilter>>,
    top: Vec<RawFilter>,
    sorts: Vec<RawSort>,
    query: Vec<String>,
    properties: Vec<String>,
    limit: usize,
    after: usize,
}

/// A scalar of a request body as text (strings, numbers, booleans).
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::validation(message)
}

fn parse_filter(v: &Value) -> Result<RawFilter, ApiError> {
    let obj = v.as_object().ok_or_else(|| {
        bad(format!(
            "Invalid input JSON: a filter must be an object, got {v}"
        ))
    })?;
    let property = obj
        .get("propertyName")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| bad("Invalid input JSON: filter propertyName is required"))?
        .to_owned();
    let op_text = obj.get("operator").and_then(Value::as_str).ok_or_else(|| {
        bad(format!(
            "Invalid input JSON: filter on {property} has no operator"
        ))
    })?;
    let op = Op::parse(op_text).ok_or_else(|| {
        let names: Vec<&str> = OPERATORS.iter().map(|(n, _)| *n).collect();
        bad(format!(
            "Invalid input JSON: Cannot deserialize value of type `FilterOperator` from String \"{op_text}\": not one of the values accepted for Enum class: [{}]",
            names.join(", ")
        ))
    })?;
    let text = |field: &str| -> Result<Option<String>, ApiError> {
        match obj.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(x) => scalar(x).map(Some).ok_or_else(|| {
                bad(format!(
                    "Invalid input JSON: filter {field} must be a string, got {x}"
                ))
            }),
        }
    };
    let value = text("value")?;
    let high_value = text("highValue")?;
    let values = match obj.get("values") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|x| {
                scalar(x).ok_or_else(|| {
                    bad(format!(
                        "Invalid input JSON: filter values must be strings, got {x}"
                    ))
                })
            })
            .collect::<Result<_, _>>()?,
        Some(x) => {
            return Err(bad(format!(
                "Invalid input JSON: filter values must be an array, got {x}"
            )));
        }
    };
    let needs = |what: &str| bad(format!("{op_text} filter on {property} requires {what}"));
    match op {
        Op::Between if value.is_none() || high_value.is_none() => {
            return Err(needs("a value and a highValue"));
        }
        Op::In | Op::NotIn if values.is_empty() => return Err(needs("a non-empty values list")),
        Op::Eq
        | Op::Neq
        | Op::Lt
        | Op::Lte
        | Op::Gt
        | Op::Gte
        | Op::ContainsToken
        | Op::NotContainsToken
            if value.is_none() =>
        {
            return Err(needs("a value"));
        }
        _ => {}
    }
    Ok(RawFilter {
        property,
        op,
        value,
        high_value,
        values,
    })
}

fn parse_filters(v: Option<&Value>, what: &str) -> Result<Vec<RawFilter>, ApiError> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items.iter().map(parse_filter).collect(),
        Some(x) => Err(bad(format!(
            "Invalid input JSON: {what} must be an array, got {x}"
        ))),
    }
}

fn parse_sort(v: &Value) -> Result<RawSort, ApiError> {
    match v {
        Value::String(s) => {
            let (desc, name) = match s.strip_prefix('-') {
                Some(rest) => (true, rest),
                None => (false, s.strip_prefix('+').unwrap_or(s)),
            };
            if name.is_empty() {
                return Err(bad("Invalid input JSON: empty sort"));
            }
            Ok(RawSort {
                property: name.to_owned(),
                desc,
            })
        }
        Value::Object(obj) => {
            let property = obj
                .get("propertyName")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .ok_or_else(|| bad("Invalid input JSON: sort propertyName is required"))?
                .to_owned();
            let desc = match obj.get("direction") {
                None | Some(Value::Null) => false,
                Some(Value::String(d)) if d == "ASCENDING" => false,
                Some(Value::String(d)) if d == "DESCENDING" => true,
                Some(d) => {
                    return Err(bad(format!(
                        "Invalid input JSON: sort direction must be ASCENDING or DESCENDING, got {d}"
                    )));
                }
            };
            Ok(RawSort { property, desc })
        }
        other => Err(bad(format!(
            "Invalid input JSON: a sort must be a string or an object, got {other}"
        ))),
    }
}

/// A non-negative integer given as a number or a numeric string.
fn count(v: Option<&Value>, what: &str) -> Result<Option<usize>, ApiError> {
    let text = match v {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(None),
        Some(x) => scalar(x).unwrap_or_default(),
    };
    text.trim().parse::<usize>().map(Some).map_err(|_| {
        bad(format!(
            "Invalid input JSON: {what} must be a non-negative integer, got {}",
            v.unwrap_or(&Value::Null)
        ))
    })
}

/// Splits a pattern into lowercase tokens, keeping `*` wildcards.
fn pattern_tokens(s: &str) -> Vec<String> {
    s.to_lowercase()
        .split(|c: char| !c.is_alphanumeric() && c != '*')
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

fn parse_request(body: &Value, limits: &SearchLimits) -> Result<RawRequest, ApiError> {
    let obj = body
        .as_object()
        .ok_or_else(|| bad("Invalid input JSON: the search request must be an object"))?;
    let mut req = RawRequest::default();
    match obj.get("filterGroups") {
        None | Some(Value::Null) => {}
        Some(Value::Array(groups)) => {
            for g in groups {
                let filters = match g {
                    Value::Object(go) => parse_filters(go.get("filters"), "filters")?,
                    other => {
                        return Err(bad(format!(
                            "Invalid input JSON: a filter group must be an object, got {other}"
                        )));
                    }
                };
                req.groups.push(filters);
            }
        }
        Some(x) => {
            return Err(bad(format!(
                "Invalid input JSON: filterGroups must be an array, got {x}"
            )));
        }
    }
    req.top = parse_filters(obj.get("filters"), "filters")?;
    match obj.get("sorts") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            req.sorts = items.iter().map(parse_sort).collect::<Result<_, _>>()?;
        }
        Some(x) => {
            return Err(bad(format!(
                "Invalid input JSON: sorts must be an array, got {x}"
            )));
        }
    }
    match obj.get("query") {
        None | Some(Value::Null) => {}
        Some(Value::String(q)) => {
            let chars = q.chars().count();
            if chars > MAX_QUERY_CHARS {
                return Err(bad(format!(
                    "query is {chars} characters long; the maximum is {MAX_QUERY_CHARS}"
                )));
            }
            req.query = pattern_tokens(q);
        }
        Some(x) => {
            return Err(bad(format!(
                "Invalid input JSON: query must be a string, got {x}"
            )));
        }
    }
    match obj.get("properties") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for p in items {
                let name = p.as_str().ok_or_else(|| {
                    bad(format!(
                        "Invalid input JSON: properties must be strings, got {p}"
                    ))
                })?;
                req.properties.extend(
                    name.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned),
                );
            }
        }
        Some(x) => {
            return Err(bad(format!(
                "Invalid input JSON: properties must be an array, got {x}"
            )));
        }
    }
    req.limit = count(obj.get("limit"), "limit")?.unwrap_or(DEFAULT_LIMIT);
    if req.limit > MAX_LIMIT {
        return Err(bad(format!(
            "limit must be between 0 and {MAX_LIMIT}, got {}",
            req.limit
        )));
    }
    req.after = count(obj.get("after"), "after")?.unwrap_or(0);
    if req.after.saturating_add(req.limit) > MAX_RESULTS {
        let mut err = bad(format!(
            "The search endpoints are limited to {MAX_RESULTS} total results for any given query: after ({}) + limit ({}) is past {MAX_RESULTS}",
            req.after, req.limit
        ));
        err.body.sub_category = Some("SEARCH_RESULT_LIMIT_EXCEEDED".into());
        return Err(err);
    }
    check_limits(&req, limits)?;
    Ok(req)
}

fn check_limits(req: &RawRequest, limits: &SearchLimits) -> Result<(), ApiError> {
    if req.groups.len() > limits.max_groups {
        return Err(bad(format!(
            "Too many filter groups: {}. A search may have at most {} filterGroups",
            req.groups.len(),
            limits.max_groups
        )));
    }
    for (i, g) in req
        .groups
        .iter()
        .chain(std::iter::once(&req.top))
        .enumerate()
    {
        if g.len() > limits.max_per_group {
            let which = if i < req.groups.len() {
                format!("filter group {i}")
            } else {
                "filters".to_owned()
            };
            return Err(bad(format!(
                "Too many filters in {which}: {}. A filter group may have at most {} filters",
                g.len(),
                limits.max_per_group
            )));
        }
    }
    let total: usize = req.groups.iter().map(Vec::len).sum::<usize>() + req.top.len();
    if total > limits.max_total {
        return Err(bad(format!(
            "Too many filters: {total}. A search may have at most {} filters in all",
            limits.max_total
        )));
    }
    Ok(())
}

/// How values of a property compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// Numbers.
    Num,
    /// Dates and datetimes, as epoch milliseconds.
    Time,
    /// Strings, enumerations, booleans, phone numbers: case-insensitive text.
    Text,
}

/// Where a property's value comes from.
#[derive(Debug, Clone, Copy)]
enum Source {
    Id,
    Created,
    Updated,
    /// Derived by the store (line-item amount).
    Derived,
    Stored,
}

/// A resolved property.
#[derive(Debug, Clone, Copy)]
struct Field {
    idx: u16,
    source: Source,
    class: Class,
    /// Multi-checkbox: `;`-separated options.
    multi: bool,
}

fn field(store: &ObjectStore, name: &str, usage: &str) -> Result<Field, ApiError> {
    let idx = store.prop_index(name).ok_or_else(|| {
        let mut err = bad(format!(
            "Property \"{name}\" does not exist on {}; it cannot be used in a {usage}",
            store.kind.plural()
        ));
        err.body.errors.push(json!({
            "message": format!("Property \"{name}\" does not exist"),
            "code": "PROPERTY_DOESNT_EXIST",
            "context": {"propertyName": [name]},
        }));
        err
    })?;
    let def = store.def(idx);
    let source = match def.computed {
        Some(Computed::ObjectId) => Source::Id,
        Some(Computed::CreateDate) => Source::Created,
        Some(Computed::LastModified) => Source::Updated,
        Some(Computed::LineItemAmount) => Source::Derived,
        None => Source::Stored,
    };
    let class = match def.kind {
        PropType::Number => Class::Num,
        PropType::Date | PropType::Datetime => Class::Time,
        PropType::Bool | PropType::Enumeration | PropType::String | PropType::PhoneNumber => {
            Class::Text
        }
    };
    Ok(Field {
        idx,
        source,
        class,
        multi: def.kind == PropType::Enumeration && def.field_type == "checkbox",
    })
}

/// Epoch ms of a date or datetime given as ISO 8601 or as (optionally signed) ms.
fn instant(s: &str) -> Option<i64> {
    let t = s.trim();
    let digits = t.strip_prefix('-').unwrap_or(t);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return t.parse().ok();
    }
    time::parse_datetime(t)
}

fn number_of(class: Class, s: &str) -> Option<f64> {
    match class {
        Class::Num => s.trim().parse::<f64>().ok().filter(|n| n.is_finite()),
        Class::Time => instant(s).map(|ms| ms as f64),
        Class::Text => None,
    }
}

impl Field {
    /// The value as a number (numbers, dates), without allocating.
    fn num(&self, store: &ObjectStore, id: u64, rec: &Record) -> Option<f64> {
        match self.source {
            Source::Id => Some(id as f64),
            Source::Created => Some(rec.created_at as f64),
            Source::Updated => Some(rec.updated_at as f64),
            Source::Derived => store
                .value(id, rec, self.idx)
                .and_then(|v| number_of(self.class, &v)),
            Source::Stored => rec.get(self.idx).and_then(|v| number_of(self.class, v)),
        }
    }

    /// The value as text (borrowed for stored values).
    fn text<'a>(&self, store: &ObjectStore, id: u64, rec: &'a Record) -> Option<Cow<'a, str>> {
        match self.source {
            Source::Stored => rec.get(self.idx).map(Cow::Borrowed),
            _ => store.value(id, rec, self.idx),
        }
    }

    fn present(&self, rec: &Record, store: &ObjectStore, id: u64) -> bool {
        match self.source {
            Source::Stored => rec.get(self.idx).is_some_and(|v| !v.is_empty()),
            Source::Derived => store.value(id, rec, self.idx).is_some(),
            _ => true,
        }
    }
}

/// A compiled filter.
#[derive(Debug, Clone)]
struct Filter {
    field: Field,
    op: Op,
    /// Operands of number and date properties.
    nums: Vec<f64>,
    /// Lowercase operands of text properties.
    texts: Vec<String>,
    /// Token patterns of CONTAINS_TOKEN.
    tokens: Vec<String>,
}

fn compile(store: &ObjectStore, raw: &RawFilter) -> Result<Filter, ApiError> {
    let field = field(store, &raw.property, "filter")?;
    let mut operands: Vec<&str> = Vec::new();
    match raw.op {
        Op::HasProperty | Op::NotHasProperty => {}
        Op::In | Op::NotIn => operands.extend(raw.values.iter().map(String::as_str)),
        Op::Between => {
            operands.extend(raw.value.as_deref());
            operands.extend(raw.high_value.as_deref());
        }
        _ => operands.extend(raw.value.as_deref()),
    }
    let mut filter = Filter {
        field,
        op: raw.op,
        nums: Vec::new(),
        texts: Vec::new(),
        tokens: Vec::new(),
    };
    if matches!(raw.op, Op::ContainsToken | Op::NotContainsToken) {
        filter.tokens = pattern_tokens(operands.first().copied().unwrap_or_default());
        if filter.tokens.is_empty() {
            return Err(bad(format!(
                "The value of a {:?} filter on {} has no token to look for",
                raw.op, raw.property
            )));
        }
        return Ok(filter);
    }
    for operand in operands {
        match field.class {
            Class::Text => filter.texts.push(operand.trim().to_lowercase()),
            class => {
                let n = number_of(class, operand).ok_or_else(|| {
                    let expected = if class == Class::Num {
                        "a number"
                    } else {
                        "a date (ISO 8601 or epoch milliseconds)"
                    };
                    bad(format!(
                        "Invalid filter value '{operand}' for property {}: expected {expected}",
                        raw.property
                    ))
                })?;
                filter.nums.push(n);
            }
        }
    }
    Ok(filter)
}

/// Lowercase comparison of a value with an already lowercase operand.
fn cmp_text(value: &str, lower: &str) -> Ordering {
    value
        .chars()
        .flat_map(char::to_lowercase)
        .cmp(lower.chars())
}

fn eq_text(value: &str, lower: &str, multi: bool) -> bool {
    if multi {
        value.split(';').any(|v| cmp_text(v.trim(), lower).is_eq())
    } else {
        cmp_text(value.trim(), lower).is_eq()
    }
}

fn not_alnum(c: char) -> bool {
    !c.is_alphanumeric()
}

fn non_empty(t: &&str) -> bool {
    !t.is_empty()
}

/// The tokens of a value: runs of alphanumeric characters.
fn tokens(s: &str) -> impl Iterator<Item = &str> + Clone {
    s.split(not_alnum as fn(char) -> bool)
        .filter(non_empty as fn(&&str) -> bool)
}

/// `*`-glob of a lowercase pattern against a token, ignoring ASCII case.
fn glob_bytes(pat: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<usize> = None;
    let mut mark = 0;
    while t < text.len() {
        if p < pat.len() && pat[p] == b'*' {
            star = Some(p);
            mark = t;
            p += 1;
        } else if p < pat.len() && pat[p] == text[t].to_ascii_lowercase() {
            p += 1;
            t += 1;
        } else if let Some(s) = star {
            p = s + 1;
            mark += 1;
            t = mark;
        } else {
            return false;
        }
    }
    pat[p..].iter().all(|&b| b == b'*')
}

fn glob(pat: &str, token: &str) -> bool {
    if token.is_ascii() {
        glob_bytes(pat.as_bytes(), token.as_bytes())
    } else {
        glob_bytes(pat.as_bytes(), token.to_lowercase().as_bytes())
    }
}

/// Whether the pattern tokens match consecutive tokens of `value`.
fn contains_tokens(value: &str, pats: &[String]) -> bool {
    let mut rest = tokens(value);
    loop {
        let mut probe = rest.clone();
        if pats
            .iter()
            .all(|p| probe.next().is_some_and(|t| glob(p, t)))
        {
            return true;
        }
        if rest.next().is_none() {
            return false;
        }
    }
}

impl Filter {
    fn matches(&self, store: &ObjectStore, id: u64, rec: &Record) -> bool {
        let f = &self.field;
        match self.op {
            Op::HasProperty => return f.present(rec, store, id),
            Op::NotHasProperty => return !f.present(rec, store, id),
            Op::ContainsToken | Op::NotContainsToken => {
                let hit = f
                    .text(store, id, rec)
                    .is_some_and(|v| contains_tokens(&v, &self.tokens));
                return hit == (self.op == Op::ContainsToken);
            }
            _ => {}
        }
        if f.class == Class::Text {
            let v = rec.get(f.idx);
            let t = &self.texts;
            let cmp =
                |pred: fn(Ordering) -> bool| v.is_some_and(|v| pred(cmp_text(v.trim(), &t[0])));
            return match self.op {
                Op::Eq => v.is_some_and(|v| eq_text(v, &t[0], f.multi)),
                Op::Neq => !v.is_some_and(|v| eq_text(v, &t[0], f.multi)),
                Op::Lt => cmp(Ordering::is_lt),
                Op::Lte => cmp(Ordering::is_le),
                Op::Gt => cmp(Ordering::is_gt),
                Op::Gte => cmp(Ordering::is_ge),
                Op::Between => v.is_some_and(|v| {
                    cmp_text(v.trim(), &t[0]).is_ge() && cmp_text(v.trim(), &t[1]).is_le()
                }),
                Op::In => v.is_some_and(|v| t.iter().any(|x| eq_text(v, x, f.multi))),
                Op::NotIn => !v.is_some_and(|v| t.iter().any(|x| eq_text(v, x, f.multi))),
                _ => false,
            };
        }
        let v = f.num(store, id, rec);
        let n = &self.nums;
        match self.op {
            Op::Eq => v == Some(n[0]),
            Op::Neq => v != Some(n[0]),
            Op::Lt => v.is_some_and(|v| v < n[0]),
            Op::Lte => v.is_some_and(|v| v <= n[0]),
            Op::Gt => v.is_some_and(|v| v > n[0]),
            Op::Gte => v.is_some_and(|v| v >= n[0]),
            Op::Between => v.is_some_and(|v| v >= n[0] && v <= n[1]),
            Op::In => v.is_some_and(|v| n.contains(&v)),
            Op::NotIn => !v.is_some_and(|v| n.contains(&v)),
            _ => false,
        }
    }
}

/// A compiled sort.
#[derive(Debug, Clone, Copy)]
struct Sort {
    field: Field,
    desc: bool,
}

/// A sort key; missing values sort last in both directions.
#[derive(Debug, Clone)]
enum Key<'a> {
    Num(f64),
    Text(Cow<'a, str>),
    Missing,
}

impl Sort {
    fn key<'a>(&self, store: &ObjectStore, id: u64, rec: &'a Record) -> Key<'a> {
        let key = match self.field.class {
            Class::Text => self.field.text(store, id, rec).map(Key::Text),
            _ => self.field.num(store, id, rec).map(Key::Num),
        };
        key.unwrap_or(Key::Missing)
    }

    fn cmp(&self, a: &Key<'_>, b: &Key<'_>) -> Ordering {
        let ord = match (a, b) {
            (Key::Missing, Key::Missing) => return Ordering::Equal,
            (Key::Missing, _) => return Ordering::Greater,
            (_, Key::Missing) => return Ordering::Less,
            (Key::Num(x), Key::Num(y)) => x.total_cmp(y),
            (Key::Text(x), Key::Text(y)) => x
                .chars()
                .flat_map(char::to_lowercase)
                .cmp(y.chars().flat_map(char::to_lowercase)),
            (Key::Num(_), Key::Text(_)) => Ordering::Less,
            (Key::Text(_), Key::Num(_)) => Ordering::Greater,
        };
        if self.desc { ord.reverse() } else { ord }
    }
}

/// A compiled search.
struct Search {
    groups: Vec<Vec<Filter>>,
    top: Vec<Filter>,
    query: Vec<String>,
    searchable: Vec<u16>,
    sorts: Vec<Sort>,
    /// Records updated after this instant are not indexed yet.
    indexed_until: Option<i64>,
}

impl Search {
    fn compile(
        store: &ObjectStore,
        req: &RawRequest,
        limits: &SearchLimits,
        now: i64,
    ) -> Result<Self, ApiError> {
        let all = |fs: &[RawFilter]| fs.iter().map(|f| compile(store, f)).collect();
        let groups = req
            .groups
            .iter()
            .map(|g| all(g))
            .collect::<Result<Vec<Vec<Filter>>, ApiError>>()?;
        let top: Vec<Filter> = all(&req.top)?;
        let sorts = req
            .sorts
            .iter()
            .map(|s| {
                Ok(Sort {
                    field: field(store, &s.property, "sort")?,
                    desc: s.desc,
                })
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        let searchable = searchable_properties(store.kind)
            .iter()
            .copied()
            .chain(store.searchable.iter().map(String::as_str))
            .filter_map(|n| store.prop_index(n))
            .collect();
        let delay = i64::try_from(limits.indexing_delay_ms).unwrap_or(i64::MAX);
        Ok(Self {
            groups,
            top,
            query: req
                .query
                .iter()
                .map(|t| {
                    if t.ends_with('*') {
                        t.clone()
                    } else {
                        format!("{t}*")
                    }
                })
                .collect(),
            searchable,
            sorts,
            indexed_until: (delay > 0).then(|| now.saturating_sub(delay)),
        })
    }

    fn matches(&self, store: &ObjectStore, id: u64, rec: &Record) -> bool {
        if self.indexed_until.is_some_and(|t| rec.updated_at > t) {
            return false;
        }
        if !self.top.iter().all(|f| f.matches(store, id, rec)) {
            return false;
        }
        if !self.groups.is_empty()
            && !self
                .groups
                .iter()
                .any(|g| g.iter().all(|f| f.matches(store, id, rec)))
        {
            return false;
        }
        self.query.iter().all(|q| {
            self.searchable
                .iter()
                .any(|&idx| rec.get(idx).is_some_and(|v| tokens(v).any(|t| glob(q, t))))
        })
    }

    /// Whether the results come in id order (no sort, or `hs_object_id`).
    fn id_order(&self) -> Option<bool> {
        match self.sorts.as_slice() {
            [] => Some(false),
            [s] if matches!(s.field.source, Source::Id) => Some(s.desc),
            _ => None,
        }
    }

    /// The ids every match lies within (inclusive), from `hs_object_id` filters that
    /// every alternative carries; `None` when no record can match.
    fn id_bounds(&self) -> Option<(u64, u64)> {
        let of = |filters: &[Filter]| {
            filters
                .iter()
                .filter(|f| matches!(f.field.source, Source::Id))
                .fold((f64::NEG_INFINITY, f64::INFINITY), |(lo, hi), f| {
                    let n = &f.nums;
                    let (l, h) = match f.op {
                        Op::Eq => (n[0].ceil(), n[0].floor()),
                        Op::Gt => (n[0].floor() + 1.0, f64::INFINITY),
                        Op::Gte => (n[0].ceil(), f64::INFINITY),
                        Op::Lt => (f64::NEG_INFINITY, n[0].ceil() - 1.0),
                        Op::Lte => (f64::NEG_INFINITY, n[0].floor()),
                        Op::Between => (n[0].ceil(), n[1].floor()),
                        Op::In => (
                            n.iter().copied().fold(f64::INFINITY, f64::min).ceil(),
                            n.iter().copied().fold(f64::NEG_INFINITY, f64::max).floor(),
                        ),
                        _ => (f64::NEG_INFINITY, f64::INFINITY),
                    };
                    (lo.max(l), hi.min(h))
                })
        };
        let (mut lo, mut hi) = of(&self.top);
        if !self.groups.is_empty() {
            let (glo, ghi) = self
                .groups
                .iter()
                .map(|g| of(g))
                .filter(|(l, h)| l <= h)
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), (l, h)| {
                    (a.min(l), b.max(h))
                });
            lo = lo.max(glo);
            hi = hi.min(ghi);
        }
        // Float to int casts saturate: below 0 → 0, past u64::MAX → u64::MAX.
        let (lo, hi) = (lo.max(0.0) as u64, hi.max(-1.0));
        if hi < 0.0 {
            return None;
        }
        let hi = hi as u64;
        (lo <= hi).then_some((lo, hi))
    }

    /// Total number of matches and the records of the page `after..after + limit`.
    fn run<'a>(
        &self,
        store: &'a ObjectStore,
        after: usize,
        limit: usize,
    ) -> (usize, Vec<(u64, &'a Record)>) {
        let end = after.saturating_add(limit);
        let Some((lo, hi)) = self.id_bounds() else {
            return (0, Vec::new());
        };
        let candidates = store.live.range(lo..=hi);
        if let Some(desc) = self.id_order() {
            let mut total = 0;
            let mut page = Vec::with_capacity(limit);
            let mut visit = |(id, rec): (&u64, &'a Record)| {
                if self.matches(store, *id, rec) {
                    if (after..end).contains(&total) {
                        page.push((*id, rec));
                    }
                    total += 1;
                }
            };
            if desc {
                candidates.rev().for_each(&mut visit);
            } else {
                candidates.for_each(&mut visit);
            }
            return (total, page);
        }
        let first = self.sorts[0];
        let mut hits: Vec<(Key<'a>, u64, &'a Record)> = candidates
            .filter(|(id, rec)| self.matches(store, **id, rec))
            .map(|(id, rec)| (first.key(store, *id, rec), *id, rec))
            .collect();
        let total = hits.len();
        let order = |a: &(Key<'a>, u64, &'a Record), b: &(Key<'a>, u64, &'a Record)| {
            first
                .cmp(&a.0, &b.0)
                .then_with(|| {
                    self.sorts[1..].iter().fold(Ordering::Equal, |acc, s| {
                        acc.then_with(|| s.cmp(&s.key(store, a.1, a.2), &s.key(store, b.1, b.2)))
                    })
                })
                .then(a.1.cmp(&b.1))
        };
        let end = end.min(total);
        if after >= end {
            return (total, Vec::new());
        }
        if end < hits.len() {
            hits.select_nth_unstable_by(end, order);
            hits.truncate(end);
        }
        hits.sort_unstable_by(order);
        let page = hits
            .into_iter()
            .skip(after)
            .map(|(_, id, rec)| (id, rec))
            .collect();
        (total, page)
    }
}

/// `POST /{objectType}/search`.
pub async fn search(
    State(sim): State<Sim>,
    Path(object_type): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (caller, kind) = http::authorize(&sim, &headers, &object_type, Access::Read)?;
    let body = json_body(&headers, &body)?;
    let limits = sim.with(|s| SearchLimits {
        max_groups: s.config.search_max_filter_groups,
        max_per_group: s.config.search_max_filters_per_group,
        max_total: s.config.search_max_filters_total,
        indexing_delay_ms: s.config.search_indexing_delay_ms,
    });
    let req = parse_request(&body, &limits)?;
    let body = sim.with(|s| {
        let store = s.crm.portal(caller.portal.id).store(kind);
        let search = Search::compile(store, &req, &limits, now_ms())?;
        let mut sel = store.selection(&req.properties, &[]);
        for name in ALWAYS_RETURNED
            .iter()
            .copied()
            .chain([kind.create_date_property(), kind.last_modified_property()])
        {
            if let Some(idx) = store.prop_index(name)
                && !sel.props.contains(&idx)
            {
                sel.props.push(idx);
            }
        }
        let (total, page) = search.run(store, req.after, req.limit);
        let results: Vec<Value> = page
            .iter()
            .map(|(id, rec)| store.record_json(*id, rec, &sel))
            .collect();
        let mut out = Map::new();
        out.insert("total".into(), json!(total));
        out.insert("results".into(), Value::Array(results));
        let next = req.after + req.limit;
        if req.limit > 0 && next < total {
            out.insert(
                "paging".into(),
                json!({"next": {"after": next.to_string(), "link": format!("?after={next}")}}),
            );
        }
        Ok::<_, ApiError>(Value::Object(out))
    })?;
    Ok(respond(&caller, StatusCode::OK, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> SearchLimits {
        SearchLimits {
            max_groups: 5,
            max_per_group: 10,
            max_total: 25,
            indexing_delay_ms: 0,
        }
    }

    /// Scale check (run in release): `cargo test --release -p hubspot-sim --lib
    /// search_scale -- --ignored --nocapture`.
    #[test]
    #[ignore = "slow in debug builds; run in release to check the scale targets"]
    fn search_scale() {
        use crate::crm::store::PortalCrm;
        const N: u64 = 1_000_000;
        const BASE: i64 = 1_700_000_000_000;
        let mut crm = PortalCrm::default();
        let store = crm.store_mut(ObjectKind::Contacts);
        for i in 0..N {
            let input = json!({
                "email": format!("user{i}@example.com"),
                "firstname": format!("First{i}"),
                "lastname": "Lastname",
            });
            let changes = input
                .as_object()
                .map(|m| store.validate(m, true).unwrap_or_default())
                .unwrap_or_default();
            store.insert(i + 1, changes, BASE + i as i64, 1);
        }
        let store = crm.store(ObjectKind::Contacts);
        let cases = [
            json!({"filterGroups": [{"filters": [{"propertyName": "lastmodifieddate",
                "operator": "GTE", "value": (BASE + 500_000).to_string()}]}],
                "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
                "limit": 200, "after": "9800"}),
            json!({"filterGroups": [{"filters": [{"propertyName": "hs_object_id",
                "operator": "GT", "value": "999000"}]}],
                "sorts": ["hs_object_id"], "limit": 200}),
            json!({"sorts": ["-firstname"], "limit": 200}),
            json!({"query": "user99999", "limit": 200}),
            json!({"filterGroups": [{"filters": [{"propertyName": "email",
                "operator": "CONTAINS_TOKEN", "value": "*@example.com"}]}], "limit": 200}),
        ];
        for body in cases {
            let req = parse_request(&body, &limits()).unwrap_or_default();
            let start = std::time::Instant::now();
            let search = Search::compile(store, &req, &limits(), BASE + N as i64);
            let (total, page) = search
                .map(|s| s.run(store, req.after, req.limit))
                .unwrap_or_default();
            println!(
                "{body}: total {total}, page {}, {:?}",
                page.len(),
                start.elapsed()
            );
        }
    }

    #[test]
    fn globs_and_tokens() {
        assert!(glob("ann*", "Annie"));
        assert!(glob("*son", "JOHNSON"));
        assert!(glob("a*e", "anne"));
        assert!(!glob("ann", "annie"));
        assert!(glob("*", "x"));
        let pats = pattern_tokens("*@Example.com");
        assert_eq!(pats, ["*", "example", "com"]);
        assert!(contains_tokens("ann@example.com", &pats));
        assert!(!contains_tokens("ann@example.org", &pats));
        assert!(contains_tokens("Big Red Dog", &pattern_tokens("red dog")));
        assert!(!contains_tokens("Big Red Dog", &pattern_tokens("dog red")));
    }

    #[test]
    fn text_comparisons_ignore_case() {
        assert!(eq_text("Ann", "ann", false));
        assert!(eq_text("a;B;c", "b", true));
        assert!(!eq_text("a;B;c", "b", false));
        assert!(cmp_text("Bob", "ann").is_gt());
        assert_eq!(instant("2024-01-02T00:00:00Z"), Some(1_704_153_600_000));
        assert_eq!(instant("1704153600000"), Some(1_704_153_600_000));
        assert_eq!(instant("2024-01-02"), Some(1_704_153_600_000));
    }
}
