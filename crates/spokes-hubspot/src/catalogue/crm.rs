//! The CRM record methods of the standard objects: the same six requests for each object
//! type (get, list, search, create, update, delete) and the lookups HubSpot serves on them.

use serde_json::{Value, json};

use super::{
    ApiPath, Body, Data, Family, JsonType, Location, MethodDef, Paging, Param, ScopeSets, Shape,
    UniqueProperty, Verb,
};

/// A standard object type with record methods in the catalogue.
pub(super) struct ObjectType {
    /// API name and id prefix: `contacts`.
    pub(super) plural: &'static str,
    /// `Contact`.
    pub(super) singular: &'static str,
    /// `Contacts`.
    pub(super) category: &'static str,
    pub(super) read: &'static [&'static [&'static str]],
    pub(super) write: &'static [&'static [&'static str]],
    /// The property that moves on every change (contacts have their own name for it).
    pub(super) modified: &'static str,
    /// Why a partner might be refused beyond scopes (shown in descriptions).
    pub(super) note: &'static str,
}

/// The retired legacy `contacts` scope covered contacts, companies and deals.
pub(super) const OBJECTS: &[ObjectType] = &[
    ObjectType {
        plural: "contacts",
        singular: "Contact",
        category: "Contacts",
        read: &[&["crm.objects.contacts.read"], &["contacts"]],
        write: &[&["crm.objects.contacts.write"], &["contacts"]],
        modified: "lastmodifieddate",
        note: "",
    },
    ObjectType {
        plural: "companies",
        singular: "Company",
        category: "Companies",
        read: &[&["crm.objects.companies.read"], &["contacts"]],
        write: &[&["crm.objects.companies.write"], &["contacts"]],
        modified: "hs_lastmodifieddate",
        note: "",
    },
    ObjectType {
        plural: "deals",
        singular: "Deal",
        category: "Deals",
        read: &[&["crm.objects.deals.read"], &["contacts"]],
        write: &[&["crm.objects.deals.write"], &["contacts"]],
        modified: "hs_lastmodifieddate",
        note: "",
    },
    ObjectType {
        plural: "tickets",
        singular: "Ticket",
        category: "Tickets",
        read: &[&["tickets"]],
        write: &[&["tickets"]],
        modified: "hs_lastmodifieddate",
        note: "",
    },
    ObjectType {
        plural: "products",
        singular: "Product",
        category: "Products",
        read: &[&["crm.objects.products.read"], &["e-commerce"]],
        write: &[&["crm.objects.products.write"], &["e-commerce"]],
        modified: "hs_lastmodifieddate",
        note: " The HubSpot user who connected needs a paid Sales Hub seat.",
    },
    ObjectType {
        plural: "line_items",
        singular: "Line Item",
        category: "Line Items",
        read: &[&["crm.objects.line_items.read"], &["e-commerce"]],
        write: &[&["crm.objects.line_items.write"], &["e-commerce"]],
        modified: "hs_lastmodifieddate",
        note: " The HubSpot user who connected needs a paid Sales Hub seat.",
    },
];

pub(super) fn sets(alternatives: &[&[&str]]) -> Vec<Vec<String>> {
    alternatives
        .iter()
        .map(|set| set.iter().map(|s| s.to_string()).collect())
        .collect()
}

pub(super) fn param(
    name: &str,
    location: Location,
    json_type: JsonType,
    required: bool,
    description: &str,
) -> Param {
    Param {
        name: name.into(),
        location,
        json_type,
        required,
        description: description.into(),
    }
}

pub(super) fn id_param(singular: &str) -> Param {
    param(
        "id",
        Location::Path,
        JsonType::String,
        true,
        &format!(
            "The {} record id (`hs_object_id`).",
            singular.to_lowercase()
        ),
    )
}

pub(super) fn properties_param() -> Param {
    param(
        "properties",
        Location::Query,
        JsonType::String,
        false,
        "Comma-separated property names to return (default: HubSpot's default set).",
    )
}

/// `archived` in the query: `description` says what the flag lists instead.
pub(super) fn archived_param(description: &str) -> Param {
    param(
        "archived",
        Location::Query,
        JsonType::Boolean,
        false,
        description,
    )
}

/// `associations` in the query: the object types whose associated ids a record comes with.
pub(super) fn associations_param(description: &str) -> Param {
    param(
        "associations",
        Location::Query,
        JsonType::String,
        false,
        description,
    )
}

/// `sorts` of a search, with an example on `property`.
pub(super) fn sorts_param(property: &str) -> Param {
    param(
        "sorts",
        Location::Body,
        JsonType::Array,
        false,
        &format!(
            "Sort orders, e.g. `[{{propertyName: \"{property}\", direction: \"DESCENDING\"}}]`."
        ),
    )
}

/// The body of HubSpot's search API: filters, sorts (the example on `sort_property`), a text
/// `query` (in what `query` says) and the properties to return.
pub(super) fn search_params(sort_property: &str, query: &str) -> Vec<Param> {
    vec![
        param(
            "filterGroups",
            Location::Body,
            JsonType::Array,
            false,
            "Groups of filters (`{filters: [{propertyName, operator, value}]}`); a record matches any group whose filters all match.",
        ),
        sorts_param(sort_property),
        param("query", Location::Body, JsonType::String, false, query),
        search_properties_param(),
    ]
}

/// `schema`'s properties with the timestamps and archived flag HubSpot's v3 objects carry.
pub(super) fn stamped(mut schema: Value) -> Value {
    if let Some(properties) = schema["properties"].as_object_mut() {
        properties.insert(
            "createdAt".into(),
            json!({"type": "string", "format": "date-time"}),
        );
        properties.insert(
            "updatedAt".into(),
            json!({"type": "string", "format": "date-time"}),
        );
        properties.insert("archived".into(), json!({"type": "boolean"}));
    }
    schema
}

pub(super) fn record_schema() -> Value {
    stamped(json!({"type": "object", "properties": {
        "id": {"type": "string"},
        "properties": {"type": "object", "additionalProperties": {"type": ["string", "null"]}}
    }}))
}

pub(super) fn records_schema() -> Value {
    json!({"type": "array", "items": record_schema()})
}

/// A path used as written (legacy and non-CRM APIs).
pub(super) fn fixed_path(rest: impl Into<String>) -> ApiPath {
    ApiPath {
        family: Family::Fixed,
        rest: rest.into(),
    }
}

pub(super) fn objects_path(rest: String) -> ApiPath {
    ApiPath {
        family: Family::Objects,
        rest,
    }
}

fn methods_of(o: &ObjectType) -> Vec<MethodDef> {
    let p = o.plural;
    let one = o.singular;
    let lower = one.to_lowercase();
    let base = MethodDef::template(
        o.category,
        objects_path(format!("/{p}")),
        sets(o.read),
        record_schema(),
    );
    let write = |id: &str, name: String, description: String, verb: Verb, rest: String| {
        MethodDef {
            id: format!("{p}.{id}"),
            name,
            description: format!("{description}{}", o.note),
            verb,
            path: objects_path(rest),
            ..base.clone()
        }
        .writing(o.write)
    };
    vec![
        MethodDef {
            id: format!("{p}.get"),
            name: format!("Get {one}"),
            description: format!("One {lower} by its record id.{}", o.note),
            path: objects_path(format!("/{p}/{{id}}")),
            params: vec![
                id_param(one),
                properties_param(),
                associations_param("Comma-separated object types whose associated ids to include."),
            ],
            ..base.clone()
        },
        MethodDef {
            id: format!("{p}.list"),
            name: format!("List {}", o.category),
            description: format!(
                "Every {lower}, oldest first, a page at a time (or all pages with `paging.all`).{}",
                o.note
            ),
            params: vec![
                properties_param(),
                archived_param("List archived records instead."),
            ],
            ..base.clone()
        }
        .paged(records_schema()),
        MethodDef {
            id: format!("{p}.search"),
            name: format!("Search {}", o.category),
            description: format!(
                "{} matching filters, with sorts and a text query (HubSpot's search API: at most 10,000 results, 5 requests a second).{}",
                o.category, o.note
            ),
            verb: Verb::Post,
            path: objects_path(format!("/{p}/search")),
            params: search_params(
                "createdate",
                "Text searched in the default searchable properties.",
            ),
            body: Body::Params,
            ..base.clone()
        }
        .paged(records_schema()),
        window(o, "list_new", "createdate", "New", "created"),
        window(o, "list_updated", o.modified, "Updated", "changed"),
        write(
            "create",
            format!("Create {one}"),
            format!("Creates a {lower} from HubSpot property values (`fields`)."),
            Verb::Post,
            format!("/{p}"),
        )
        .with_body(p),
        MethodDef {
            params: vec![id_param(one)],
            ..write(
                "update",
                format!("Update {one}"),
                format!("Changes property values (`fields`) of one {lower}."),
                Verb::Patch,
                format!("/{p}/{{id}}"),
            )
            .with_body(p)
        },
        MethodDef {
            params: vec![id_param(one)],
            ..write(
                "delete",
                format!("Delete {one}"),
                format!("Archives one {lower} (HubSpot keeps it restorable for 90 days)."),
                Verb::Delete,
                format!("/{p}/{{id}}"),
            )
            .deleting()
        },
    ]
}

/// `list_new` / `list_updated`: every record created or changed at or after `since`.
pub(super) fn window(
    o: &ObjectType,
    verb: &str,
    date_property: &'static str,
    adjective: &str,
    participle: &str,
) -> MethodDef {
    MethodDef {
        id: format!("{}.{verb}", o.plural),
        name: format!("List {adjective} {}", o.category),
        description: format!(
            "{} {participle} at or after `since` (by `{date_property}`), oldest first and each exactly once, also beyond HubSpot's 10,000-result search cap and when many share one timestamp.{}",
            o.category, o.note
        ),
        verb: Verb::Post,
        params: vec![since_param(), search_properties_param()],
        body: Body::Params,
        paging: Paging::Window { date_property },
        ..MethodDef::template(
            o.category,
            objects_path(format!("/{}/search", o.plural)),
            sets(o.read),
            records_schema(),
        )
    }
}

/// The `since` of a window method (`Paging::Window`).
pub(super) fn since_param() -> Param {
    param(
        "since",
        Location::Body,
        JsonType::String,
        true,
        "RFC 3339 time (or Unix milliseconds as text) the window starts at, inclusive.",
    )
}

impl MethodDef {
    /// A read of `category` at `path`: no parameters, body or paging, HubSpot's default
    /// shape; the methods are made from it with `..`.
    pub(super) fn template(
        category: &str,
        path: ApiPath,
        scopes: ScopeSets,
        output: Value,
    ) -> Self {
        Self {
            id: String::new(),
            category: category.into(),
            name: String::new(),
            description: String::new(),
            verb: Verb::Get,
            path,
            params: Vec::new(),
            body: Body::None,
            scopes,
            paging: Paging::None,
            writes: false,
            output,
            absent_is_null: false,
            unique_property: None,
            shape: Shape::DEFAULT,
            composite: None,
            copy_of: None,
        }
    }

    /// The same request paged with a cursor, `output` the records.
    pub(super) fn paged(self, output: Value) -> Self {
        Self {
            paging: Paging::Cursor,
            output,
            ..self
        }
    }

    /// The same request as a DELETE, which answers nothing.
    pub(super) fn deleting(self) -> Self {
        Self {
            verb: Verb::Delete,
            output: json!({"type": "null"}),
            ..self
        }
    }

    /// The same request as a write, with the `write` scopes.
    pub(super) fn writing(self, write: &[&[&str]]) -> Self {
        Self {
            scopes: sets(write),
            writes: true,
            ..self
        }
    }

    pub(super) fn with_body(self, object_type: &str) -> Self {
        Self {
            body: Body::Properties {
                object_type: object_type.into(),
                required: Vec::new(),
            },
            ..self
        }
    }
}

pub(super) fn methods() -> Vec<MethodDef> {
    let mut methods: Vec<MethodDef> = OBJECTS.iter().flat_map(methods_of).collect();
    // Contacts are unique by email (and readable by it); companies only by convention by
    // domain, found through search.
    for m in &mut methods {
        m.unique_property = match m.id.as_str() {
            "contacts.create" => Some(UniqueProperty::IdProperty("email")),
            "companies.create" => Some(UniqueProperty::Searched("domain")),
            _ => None,
        };
    }
    let contacts = &OBJECTS[0];
    methods.push(MethodDef {
        id: "contacts.get_by_email".into(),
        name: "Get Contact by Email".into(),
        description: "One contact by its email address; `null` when no contact has it.".into(),
        params: vec![
            param(
                "email",
                Location::Path,
                JsonType::String,
                true,
                "The contact's email address.",
            ),
            properties_param(),
        ],
        absent_is_null: true,
        ..MethodDef::template(
            contacts.category,
            // HubSpot reads a record by a unique property with `idProperty`.
            objects_path("/contacts/{email}?idProperty=email".into()),
            sets(contacts.read),
            json!({"oneOf": [record_schema(), {"type": "null"}]}),
        )
    });
    methods.extend(contact_extras(contacts));
    methods.extend(company_extras(&OBJECTS[1]));
    methods
}

fn owner_param() -> Param {
    param(
        "ownerId",
        Location::Body,
        JsonType::String,
        true,
        "The owner id (`hubspot_owner_id`, from the owners methods).",
    )
}

pub(super) fn search_properties_param() -> Param {
    param(
        "properties",
        Location::Body,
        JsonType::Array,
        false,
        "Property names to return.",
    )
}

/// Contacts by user token, upserts by email, and one owner's contacts.
fn contact_extras(contacts: &ObjectType) -> Vec<MethodDef> {
    let read = MethodDef::template(
        contacts.category,
        objects_path("/contacts".into()),
        sets(contacts.read),
        record_schema(),
    );
    let upsert = MethodDef {
        verb: Verb::Post,
        path: objects_path("/contacts/batch/upsert".into()),
        ..read.clone()
    }
    .writing(contacts.write);
    vec![
        MethodDef {
            id: "contacts.get_by_user_token".into(),
            name: "Get Contact by User Token".into(),
            description: "The contact a visitor's `hubspotutk` cookie value belongs to, in HubSpot's legacy v1 shape (`vid`, `properties: {name: {value}}`, `identity-profiles`); `null` when no contact has the token.".into(),
            // HubSpot serves the user-token lookup only on Contacts v1.
            path: fixed_path("/contacts/v1/contact/utk/{utk}/profile"),
            params: vec![
                param(
                    "utk",
                    Location::Path,
                    JsonType::String,
                    true,
                    "The user token: the value of the visitor's `hubspotutk` cookie.",
                ),
                param(
                    "property",
                    Location::Query,
                    JsonType::String,
                    false,
                    "A property to return (default: every property with a value).",
                ),
            ],
            output: json!({"oneOf": [{"type": "object", "properties": {
                "vid": {"type": "integer"},
                "canonical-vid": {"type": "integer"},
                "portal-id": {"type": "integer"},
                "properties": {"type": "object", "additionalProperties": {"type": "object", "properties": {"value": {"type": "string"}}}},
                "identity-profiles": {"type": "array", "items": {"type": "object"}}
            }}, {"type": "null"}]}),
            absent_is_null: true,
            ..read.clone()
        },
        MethodDef {
            id: "contacts.upsert".into(),
            name: "Upsert Contact".into(),
            description: "Updates the contact with this email address from `fields`, or creates one with it (HubSpot's batch upsert, `idProperty` email); `new` says which.".into(),
            params: vec![param(
                "email",
                Location::Body,
                JsonType::String,
                true,
                "The contact's email address (its unique id property).",
            )],
            body: Body::Upsert {
                object_type: "contacts".into(),
                id_property: "email".into(),
                batch: false,
            },
            output: record_schema(),
            shape: Shape {
                data: Data::First,
                ..Shape::DEFAULT
            },
            ..upsert.clone()
        },
        MethodDef {
            id: "contacts.batch_upsert".into(),
            name: "Batch Upsert Contacts".into(),
            description: "Updates or creates up to 100 contacts in one request, each found through its email address (HubSpot's batch upsert, `idProperty` email); `results` holds each with `new`. All or nothing.".into(),
            params: vec![param(
                "inputs",
                Location::Body,
                JsonType::Array,
                true,
                "`[{email, properties: {name: value}}]`: each contact's email address and HubSpot property values.",
            )],
            body: Body::Upsert {
                object_type: "contacts".into(),
                id_property: "email".into(),
                batch: true,
            },
            output: json!({"type": "object", "properties": {
                "status": {"type": "string"},
                "results": records_schema(),
                "startedAt": {"type": "string", "format": "date-time"},
                "completedAt": {"type": "string", "format": "date-time"}
            }}),
            ..upsert
        },
        MethodDef {
            id: "contacts.list_by_owner".into(),
            name: "List Contacts by Owner".into(),
            description: "The contacts one owner holds (search on `hubspot_owner_id`, at most 10,000), a page at a time (or all pages with `paging.all`).".into(),
            verb: Verb::Post,
            path: objects_path("/contacts/search".into()),
            params: vec![
                owner_param(),
                search_properties_param(),
                sorts_param("createdate"),
            ],
            body: Body::Params,
            shape: Shape {
                equals: &[("hubspot_owner_id", "ownerId")],
                ..Shape::DEFAULT
            },
            ..read.clone()
        }
        .paged(records_schema()),
        MethodDef {
            id: "contacts.list_new_by_owner".into(),
            name: "List New Contacts by Owner".into(),
            description: "One owner's contacts created at or after `since` (by `createdate`), oldest first and each exactly once, also beyond HubSpot's 10,000-result search cap.".into(),
            params: {
                let mut params = window(contacts, "list_new", "createdate", "New", "created").params;
                params.push(owner_param());
                params
            },
            shape: Shape {
                equals: &[("hubspot_owner_id", "ownerId")],
                ..Shape::DEFAULT
            },
            ..window(contacts, "list_new", "createdate", "New", "created")
        },
    ]
}

/// A company by its domain.
fn company_extras(companies: &ObjectType) -> Vec<MethodDef> {
    vec![MethodDef {
        id: "companies.get_by_domain".into(),
        name: "Get Company by Domain".into(),
        description: "The first company whose `domain` is this one (search; HubSpot's domains are not unique); `null` when none has it.".into(),
        verb: Verb::Post,
        params: vec![
            param(
                "domain",
                Location::Body,
                JsonType::String,
                true,
                "The company's website domain, e.g. `initech.example` (no `https://`, no `www.`).",
            ),
            search_properties_param(),
        ],
        body: Body::Params,
        shape: Shape {
            data: Data::First,
            equals: &[("domain", "domain")],
            ..Shape::DEFAULT
        },
        ..MethodDef::template(
            companies.category,
            objects_path("/companies/search".into()),
            sets(companies.read),
            json!({"oneOf": [record_schema(), {"type": "null"}]}),
        )
    }]
}
