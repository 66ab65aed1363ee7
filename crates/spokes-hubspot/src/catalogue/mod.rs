//! The method catalogue: every HubSpot method Spokes offers, as data. Each method names the
//! HubSpot request behind it, its parameters and body fields with JSON types, the scopes it
//! needs (alternatives, each a set), how it pages and whether it writes. One generic client
//! ([`crate::client::ApiClient`]) executes any of them; the JSON Schemas shown to partners and
//! agents are derived from the same data.

mod associations;
mod crm;
mod engagements;
mod owners;
mod pipelines;
mod properties;
mod schema;

use std::sync::LazyLock;

use serde_json::Value;

pub use schema::{input_schema, markdown_table, output_schema};

/// The HTTP verb of a method's HubSpot request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Get,
    Post,
    Patch,
    Put,
    Delete,
}

impl Verb {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Patch => "PATCH",
            Self::Put => "PUT",
            Self::Delete => "DELETE",
        }
    }
}

/// Which API family a path belongs to: CRM families move with the configured CRM version
/// (`/crm/v3/objects/…` or `/crm/objects/2026-03/…`), the rest are fixed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Objects,
    Properties,
    Associations,
    Pipelines,
    Owners,
    /// A path used as written (legacy and non-CRM APIs).
    Fixed,
}

/// A HubSpot path: a family and the rest of the path, with `{name}` placeholders filled from
/// path parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiPath {
    pub family: Family,
    pub rest: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    Path,
    Query,
    /// A field of the JSON body.
    Body,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonType {
    String,
    Integer,
    Number,
    Boolean,
    Array,
    Object,
}

impl JsonType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Integer => "integer",
            Self::Number => "number",
            Self::Boolean => "boolean",
            Self::Array => "array",
            Self::Object => "object",
        }
    }

    /// Whether `value` has this type (an integer is also a number).
    pub fn admits(self, value: &Value) -> bool {
        match self {
            Self::String => value.is_string(),
            Self::Integer => value.is_i64() || value.is_u64(),
            Self::Number => value.is_number(),
            Self::Boolean => value.is_boolean(),
            Self::Array => value.is_array(),
            Self::Object => value.is_object(),
        }
    }
}

/// One input of a method: a path or query parameter, or a field of a JSON body.
#[derive(Debug, Clone)]
pub struct Param {
    pub name: String,
    pub location: Location,
    pub json_type: JsonType,
    pub required: bool,
    pub description: String,
}

/// What the partner's `fields` become in the request body.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// No body.
    None,
    /// `{"properties": fields}`: HubSpot property names of `object_type`, validated against
    /// the portal's own properties; `required` must be present.
    Properties {
        object_type: String,
        required: Vec<String>,
    },
    /// The body is made of the method's `Location::Body` parameters.
    Params,
}

/// How a method's results are paged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paging {
    None,
    /// `after` (query or body) in, `paging.next.after` out, records in `results`.
    Cursor,
    /// Records whose `date_property` is at or after the `since` parameter, through search,
    /// in (date, id) order, each exactly once (see `client::window`).
    Window {
        date_property: &'static str,
    },
}

/// Scope alternatives: the method may run when every scope of at least one set is granted.
pub type ScopeSets = Vec<Vec<String>>;

/// One method of the catalogue.
#[derive(Debug, Clone)]
pub struct MethodDef {
    /// Stable id, e.g. `contacts.create`.
    pub id: String,
    /// e.g. `Contacts`.
    pub category: String,
    /// e.g. `Create Contact`.
    pub name: String,
    pub description: String,
    pub verb: Verb,
    pub path: ApiPath,
    pub params: Vec<Param>,
    pub body: Body,
    pub scopes: ScopeSets,
    pub paging: Paging,
    /// Changes data at HubSpot (creates, updates, deletes).
    pub writes: bool,
    /// The JSON Schema of `data` in the answer.
    pub output: Value,
    /// HubSpot answers 404 when the record is absent; a lookup method reports `null` data.
    pub absent_is_null: bool,
}

impl MethodDef {
    pub fn param(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|p| p.name == name)
    }

    /// HubSpot's search API has a budget of its own.
    pub fn budget(&self) -> crate::limiter::Budget {
        if self.path.family == Family::Objects && self.path.rest.ends_with("/search") {
            crate::limiter::Budget::Search
        } else {
            crate::limiter::Budget::Standard
        }
    }
}

static CATALOGUE: LazyLock<Vec<MethodDef>> = LazyLock::new(|| {
    let mut methods = crm::methods();
    methods.extend(engagements::methods());
    methods.extend(owners::methods());
    methods.extend(pipelines::methods());
    methods.extend(properties::methods());
    methods.extend(associations::methods());
    methods.push(account_get());
    methods.sort_by(|a, b| (&a.category, &a.id).cmp(&(&b.category, &b.id)));
    methods
});

/// Every method, by category then id.
pub fn all() -> &'static [MethodDef] {
    &CATALOGUE
}

pub fn find(id: &str) -> Option<&'static MethodDef> {
    CATALOGUE.iter().find(|m| m.id == id)
}

/// Ids that look like `id` (same category prefix, or sharing a word), for "did you mean".
pub fn close_matches(id: &str) -> Vec<&'static str> {
    let words: Vec<&str> = id
        .split(['.', '_', '-'])
        .filter(|w| !w.is_empty())
        .collect();
    let mut found: Vec<&'static str> = CATALOGUE
        .iter()
        .filter(|m| words.iter().any(|w| m.id.contains(w)))
        .map(|m| m.id.as_str())
        .collect();
    found.truncate(8);
    found
}

/// `account.get`: HubSpot's account details (the path's version is its own setting).
fn account_get() -> MethodDef {
    MethodDef {
        id: "account.get".into(),
        category: "Account".into(),
        name: "Get Account Details".into(),
        description: "The connected HubSpot account: portal id, name, type, time zone, currency and data hosting location.".into(),
        verb: Verb::Get,
        path: ApiPath {
            family: Family::Fixed,
            rest: "/account-info/{account_info_version}/details".into(),
        },
        params: Vec::new(),
        body: Body::None,
        scopes: vec![vec!["oauth".into()]],
        paging: Paging::None,
        writes: false,
        output: serde_json::json!({"type": "object", "properties": {
            "portalId": {"type": "integer"}, "accountType": {"type": "string"},
            "timeZone": {"type": "string"}, "companyCurrency": {"type": "string"},
            "uiDomain": {"type": "string"}, "dataHostingLocation": {"type": "string"}
        }}),
        absent_is_null: false,
    }
}
