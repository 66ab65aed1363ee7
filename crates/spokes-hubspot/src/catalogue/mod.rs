//! The method catalogue: every HubSpot method Spokes offers, as data. Each method names the
//! HubSpot request behind it, its parameters and body fields with JSON types, the scopes it
//! needs (alternatives, each a set), how it pages and whether it writes. One generic client
//! ([`crate::client::ApiClient`]) executes any of them; the JSON Schemas shown to partners and
//! agents are derived from the same data.

mod associations;
mod content;
mod crm;
pub mod custom_objects;
mod engagements;
mod forms;
mod lists;
mod owners;
mod pipelines;
mod properties;
mod schema;
mod timeline;

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
    /// The body is made of the method's `Location::Body` parameters (and the shape's
    /// `constants`).
    Params,
    /// The body is the value of the one `Location::Body` parameter named here: HubSpot's
    /// list membership endpoints take a bare JSON array of record ids.
    Value(String),
    /// `{inputs: [{id, idProperty, properties}]}`: HubSpot upserts records by a unique
    /// property only through its batch upsert endpoint. One record (`batch` false) is the
    /// `id_property` parameter and `fields`; a batch is the `inputs` parameter, each
    /// `{<id_property>, properties}`. Property names are checked as for `Properties`.
    Upsert {
        object_type: String,
        id_property: String,
        batch: bool,
    },
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

/// How HubSpot pages a `Paging::Cursor` method: the partner always sees one opaque
/// `paging.next`, whatever HubSpot's own scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pager {
    /// `after` and `limit` in, `paging.next.after` out (HubSpot's v3 APIs).
    After,
    /// A position in, a position and a "more" flag out: the legacy and list APIs (lists
    /// search `offset`/`count` → `offset`, `hasMore`; email campaigns v1 `offset`/`limit` →
    /// `offset`, `hasMore`; the v1 contact feeds `vidOffset`/`count` → `vid-offset`,
    /// `has-more`). In the body for `Body::Params` methods, else in the query.
    Offset {
        offset: &'static str,
        limit: &'static str,
        next: &'static str,
        has_more: &'static str,
    },
}

/// How the records of a method with a `since` parameter are ordered at HubSpot, for APIs
/// that take no date filter of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SinceOrder {
    /// Newest first (form submissions): paging stops at the first record older than `since`.
    NewestFirst,
    /// In another order (owners by id): every page is read and filtered.
    Unordered,
}

/// Records at or after the partner's `since` parameter (RFC 3339 or Unix milliseconds),
/// by the record's top-level `field` (RFC 3339 text or milliseconds). `since` is Spokes'
/// own: it is not sent to HubSpot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Since {
    pub field: &'static str,
    pub order: SinceOrder,
}

/// What `data` is made of HubSpot's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Data {
    /// The answer as it is (a paged method's records, see `Shape::records`).
    AsIs,
    /// The answer's `records` field (`{list}` → the list, a form → its `fieldGroups`).
    Field,
    /// The first of the answer's `records`, or `null` when there is none (a lookup through
    /// search, a one-record batch).
    First,
}

/// Where a method's records are in HubSpot's answer and what Spokes does with them beyond
/// sending the request: the capabilities HubSpot's older and non-CRM APIs need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// The field holding the records (`results`; lists search `lists`, email campaigns
    /// `campaigns`).
    pub records: &'static str,
    pub data: Data,
    pub pager: Pager,
    /// HubSpot's largest page for this method (form submissions: 50).
    pub max_page: u32,
    pub since: Option<Since>,
    /// Only the records whose top-level field has this boolean value (HubSpot cannot
    /// filter property definitions by `hubspotDefined`).
    pub keep: Option<(&'static str, bool)>,
    /// Search filters `property EQ <parameter>` every request carries (for search and
    /// window methods); the parameters are not sent otherwise.
    pub equals: &'static [(&'static str, &'static str)],
    /// Body fields with fixed values (a static list's `processingType` MANUAL).
    pub constants: &'static [(&'static str, &'static str)],
}

impl Shape {
    pub const DEFAULT: Shape = Shape {
        records: "results",
        data: Data::AsIs,
        pager: Pager::After,
        max_page: 100,
        since: None,
        keep: None,
        equals: &[],
        constants: &[],
    };
}

impl Default for Shape {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// How a create's record is found again by its unique value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UniqueProperty {
    /// HubSpot reads the record by this property at once (`GET …/{value}?idProperty=`), so
    /// "not found" means it was not created: sending again is safe.
    IdProperty(&'static str),
    /// Only search finds the record, and HubSpot's search index lags writes: "not found"
    /// proves nothing, so Spokes reports the outcome as unknown instead of sending again.
    Searched(&'static str),
}

/// A method HubSpot answers only through several requests, with call code of its own in
/// the client; its `path` is the first of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Composite {
    /// A deal's products (`client::deal_products`): HubSpot ties products to deals only
    /// through line items.
    DealProducts,
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
    /// A create whose record HubSpot keeps unique by this property: when its answer is lost
    /// after sending, Spokes reads the record by it before sending again (see
    /// `client::settle_lost_create`).
    pub unique_property: Option<UniqueProperty>,
    /// Records, pager and the other particulars of HubSpot's answer.
    pub shape: Shape,
    /// Set when HubSpot's shape forces several requests (see [`Composite`]).
    pub composite: Option<Composite>,
    /// Set on a method of a copied Custom Objects category (see
    /// [`custom_objects::copy_for_schema`]): it runs as the generic method it was copied from.
    pub copy_of: Option<CopyOf>,
}

/// Which generic Custom Objects method a copied method runs as, and for which schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyOf {
    /// The generic method's id, e.g. `custom_objects.create`.
    pub method: String,
    /// The schema's name, e.g. `cars`.
    pub schema_name: String,
}

impl CopyOf {
    /// The generic method, and `input` with the schema's object type in the portal: HubSpot
    /// names a custom object type `p<portalId>_<name>` in every portal. An `objectType` the
    /// caller sent is refused: the copy is bound to its schema.
    pub fn bind(
        &self,
        portal_id: Option<i64>,
        mut input: crate::client::MethodInput,
    ) -> Result<(&'static MethodDef, crate::client::MethodInput), crate::MethodError> {
        let generic = find(&self.method).ok_or_else(|| {
            crate::MethodError::new(
                404,
                "not_found",
                format!("method `{}` is gone", self.method),
            )
        })?;
        if input.parameters.contains_key(custom_objects::OBJECT_TYPE) {
            return Err(crate::MethodError::invalid_parameters(
                generic,
                vec![format!(
                    "unknown parameter `{}`: this method is bound to the custom object `{}`",
                    custom_objects::OBJECT_TYPE,
                    self.schema_name
                )],
            ));
        }
        if let Some(portal_id) = portal_id {
            input.parameters.insert(
                custom_objects::OBJECT_TYPE.into(),
                format!("p{portal_id}_{}", self.schema_name).into(),
            );
        }
        Ok((generic, input))
    }
}

impl MethodDef {
    pub fn param(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|p| p.name == name)
    }

    /// A parameter Spokes uses itself instead of sending it as it is (`since`, the values
    /// of `equals` filters, an upsert's id).
    pub fn is_local(&self, name: &str) -> bool {
        (name == "since"
            && (self.shape.since.is_some() || matches!(self.paging, Paging::Window { .. })))
            || self.shape.equals.iter().any(|(_, param)| *param == name)
            || matches!(&self.body, Body::Upsert { id_property, batch: false, .. } if id_property == name)
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
    methods.extend(lists::methods());
    methods.extend(forms::methods());
    methods.extend(content::methods());
    methods.extend(custom_objects::methods());
    methods.extend(timeline::methods());
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
        name: "Get Account Details".into(),
        description: "The connected HubSpot account: portal id, name, type, time zone, currency and data hosting location.".into(),
        ..MethodDef::template(
            "Account",
            crm::fixed_path("/account-info/{account_info_version}/details"),
            crm::sets(&[&["oauth"]]),
            serde_json::json!({"type": "object", "properties": {
                "portalId": {"type": "integer"}, "accountType": {"type": "string"},
                "timeZone": {"type": "string"}, "companyCurrency": {"type": "string"},
                "uiDomain": {"type": "string"}, "dataHostingLocation": {"type": "string"}
            }}),
        )
    }
}
