//! Property definitions (the fields of a record) and property groups of contacts,
//! companies, deals and products, on HubSpot's properties API.

use serde_json::{Value, json};

use super::crm::{archived_param, param, sets, stamped};
use super::{ApiPath, Body, Family, JsonType, Location, MethodDef, Param, Shape, Verb};

/// An object type whose property definitions the catalogue manages.
struct Definitions {
    plural: &'static str,
    singular: &'static str,
    category: &'static str,
    /// HubSpot takes a long list of alternatives; these are the ones that belong to the
    /// object (its own read scope, its schema scope, the legacy scope that covers it).
    read: &'static [&'static [&'static str]],
    write: &'static [&'static [&'static str]],
    /// Whether the catalogue offers creating a property group.
    create_group: bool,
}

const TYPES: &[Definitions] = &[
    Definitions {
        plural: "contacts",
        singular: "Contact",
        category: "Contact Properties",
        read: &[
            &["crm.objects.contacts.read"],
            &["crm.schemas.contacts.read"],
            &["contacts"],
        ],
        write: &[&["crm.schemas.contacts.write"], &["contacts"]],
        create_group: false,
    },
    Definitions {
        plural: "companies",
        singular: "Company",
        category: "Company Properties",
        read: &[
            &["crm.objects.companies.read"],
            &["crm.schemas.companies.read"],
            &["contacts"],
        ],
        write: &[&["crm.schemas.companies.write"], &["contacts"]],
        create_group: false,
    },
    Definitions {
        plural: "deals",
        singular: "Deal",
        category: "Deal Properties",
        read: &[
            &["crm.objects.deals.read"],
            &["crm.schemas.deals.read"],
            &["contacts"],
        ],
        write: &[&["crm.schemas.deals.write"], &["contacts"]],
        create_group: false,
    },
    Definitions {
        plural: "products",
        singular: "Product",
        category: "Product Properties",
        read: &[&["crm.objects.products.read"], &["e-commerce"]],
        write: &[&["e-commerce"]],
        create_group: true,
    },
];

fn property_schema() -> Value {
    stamped(json!({"type": "object", "properties": {
        "name": {"type": "string"},
        "label": {"type": "string"},
        "type": {"type": "string", "enum": ["bool", "date", "datetime", "enumeration", "number", "phone_number", "string"]},
        "fieldType": {"type": "string"},
        "description": {"type": "string"},
        "groupName": {"type": "string"},
        "options": {"type": "array", "items": {"type": "object", "properties": {
            "label": {"type": "string"}, "value": {"type": "string"},
            "displayOrder": {"type": "integer"}, "hidden": {"type": "boolean"}
        }}},
        "displayOrder": {"type": "integer"},
        "calculated": {"type": "boolean"},
        "externalOptions": {"type": "boolean"},
        "hasUniqueValue": {"type": "boolean"},
        "hidden": {"type": "boolean"},
        "hubspotDefined": {"type": "boolean", "description": "HubSpot's own property (cannot be changed or deleted)."},
        "modificationMetadata": {"type": "object", "properties": {
            "archivable": {"type": "boolean"}, "readOnlyDefinition": {"type": "boolean"},
            "readOnlyValue": {"type": "boolean"}
        }},
        "formField": {"type": "boolean"}
    }}))
}

fn group_schema() -> Value {
    json!({"type": "object", "properties": {
        "name": {"type": "string"},
        "label": {"type": "string"},
        "displayOrder": {"type": "integer"},
        "archived": {"type": "boolean"}
    }})
}

/// `{results: [item]}`: HubSpot's unpaged collections, as they come.
pub(super) fn results_of(item: Value) -> Value {
    json!({"type": "object", "properties": {
        "results": {"type": "array", "items": item}
    }, "required": ["results"]})
}

fn properties_path(rest: String) -> ApiPath {
    ApiPath {
        family: Family::Properties,
        rest,
    }
}

fn name_param(location: Location, lower: &str) -> Param {
    param(
        "name",
        location,
        JsonType::String,
        true,
        &format!(
            "The property's internal name (lowercase letters, digits and `_`, starting with a letter, not `hs_…`), as used in {lower} `fields`."
        ),
    )
}

/// The fields of a property definition other than its name; `create` makes the four that
/// HubSpot needs required.
fn definition_fields(create: bool) -> Vec<Param> {
    let body = |name: &str, json_type: JsonType, required: bool, description: &str| {
        param(name, Location::Body, json_type, required, description)
    };
    vec![
        body(
            "label",
            JsonType::String,
            create,
            "The name shown in HubSpot.",
        ),
        body(
            "type",
            JsonType::String,
            create,
            "`string`, `number`, `date`, `datetime`, `enumeration`, `bool` or `phone_number`.",
        ),
        body(
            "fieldType",
            JsonType::String,
            create,
            "How HubSpot shows it, fitting `type`: `text`, `textarea`, `number`, `date`, `select`, `radio`, `checkbox`, `booleancheckbox`, `phonenumber`, `html`, `file`, `calculation_equation`.",
        ),
        body(
            "groupName",
            JsonType::String,
            create,
            "The property group it belongs to (a name from the list of property groups).",
        ),
        body(
            "description",
            JsonType::String,
            false,
            "What the property means.",
        ),
        body(
            "options",
            JsonType::Array,
            false,
            "For `enumeration`: `[{label, value, displayOrder?, hidden?}]` with unique values (replaces all options on update).",
        ),
        body(
            "displayOrder",
            JsonType::Integer,
            false,
            "Position within its group (-1: after the others).",
        ),
        body(
            "hidden",
            JsonType::Boolean,
            false,
            "Hidden in HubSpot's interface.",
        ),
        body(
            "formField",
            JsonType::Boolean,
            false,
            "Usable on HubSpot forms.",
        ),
    ]
}

fn methods_of(d: &Definitions) -> Vec<MethodDef> {
    let p = d.plural;
    let one = d.singular;
    let lower = one.to_lowercase();
    let read = MethodDef {
        params: vec![name_param(Location::Path, &lower)],
        ..MethodDef::template(
            d.category,
            properties_path(format!("/{p}/{{name}}")),
            sets(d.read),
            property_schema(),
        )
    };
    let write = read.clone().writing(d.write);
    let archived = |what: &str| {
        archived_param(&format!(
            "{what} archived (deleted) properties instead of live ones."
        ))
    };
    let mut methods = vec![
        MethodDef {
            id: format!("{p}.list_properties"),
            name: format!("List {one} Properties"),
            description: format!(
                "Every {lower} property definition, HubSpot's own and the portal's custom ones (`results`; custom ones have `hubspotDefined` false)."
            ),
            path: properties_path(format!("/{p}")),
            params: vec![archived("List")],
            output: results_of(property_schema()),
            ..read.clone()
        },
        MethodDef {
            id: format!("{p}.list_custom_properties"),
            name: format!("List Custom {one} Properties"),
            description: format!(
                "The portal's own {lower} property definitions (`results`, those with `hubspotDefined` false; HubSpot cannot filter them, Spokes does)."
            ),
            path: properties_path(format!("/{p}")),
            params: vec![archived("List")],
            output: results_of(property_schema()),
            shape: Shape {
                keep: Some(("hubspotDefined", false)),
                ..Shape::DEFAULT
            },
            ..read.clone()
        },
        MethodDef {
            id: format!("{p}.get_property"),
            name: format!("Get {one} Property"),
            description: format!("One {lower} property definition by its internal name."),
            params: vec![name_param(Location::Path, &lower), archived("Look among")],
            ..read.clone()
        },
        MethodDef {
            id: format!("{p}.list_property_groups"),
            name: format!("List {one} Property Groups"),
            description: format!(
                "The groups {lower} properties are organised in (`results`): HubSpot's own, then the portal's."
            ),
            path: properties_path(format!("/{p}/groups")),
            params: Vec::new(),
            output: results_of(group_schema()),
            ..read
        },
        MethodDef {
            id: format!("{p}.create_property"),
            name: format!("Create {one} Property"),
            description: format!(
                "Creates a custom {lower} property; records can carry it at once. A name in use (also by a deleted property) is a conflict."
            ),
            verb: Verb::Post,
            path: properties_path(format!("/{p}")),
            params: {
                let mut params = vec![name_param(Location::Body, &lower)];
                params.extend(definition_fields(true));
                params.push(param(
                    "hasUniqueValue",
                    Location::Body,
                    JsonType::Boolean,
                    false,
                    "Values must be unique among records (the property can then look records up as `idProperty`); cannot change later.",
                ));
                params
            },
            body: Body::Params,
            ..write.clone()
        },
        MethodDef {
            id: format!("{p}.update_property"),
            name: format!("Update {one} Property"),
            description: format!(
                "Changes a custom {lower} property's definition (only the fields given); HubSpot's own properties cannot be changed."
            ),
            verb: Verb::Patch,
            params: {
                let mut params = vec![name_param(Location::Path, &lower)];
                params.extend(definition_fields(false));
                params
            },
            body: Body::Params,
            ..write.clone()
        },
        MethodDef {
            id: format!("{p}.delete_property"),
            name: format!("Delete {one} Property"),
            description: format!(
                "Archives a custom {lower} property: records keep their values but they can no longer be read or written, and the name stays taken. HubSpot's own properties cannot be deleted."
            ),
            ..write.clone().deleting()
        },
    ];
    if d.create_group {
        methods.push(MethodDef {
            id: format!("{p}.create_property_group"),
            name: format!("Create {one} Property Group"),
            description: format!(
                "Creates a group to organise {lower} properties in; a name in use is a conflict."
            ),
            verb: Verb::Post,
            path: properties_path(format!("/{p}/groups")),
            params: vec![
                param(
                    "name",
                    Location::Body,
                    JsonType::String,
                    true,
                    "The group's internal name (lowercase letters, digits and `_`, starting with a letter): the `groupName` of its properties.",
                ),
                param(
                    "label",
                    Location::Body,
                    JsonType::String,
                    true,
                    "The name shown in HubSpot.",
                ),
                param(
                    "displayOrder",
                    Location::Body,
                    JsonType::Integer,
                    false,
                    "Position among the groups (default -1: after the others).",
                ),
            ],
            body: Body::Params,
            output: group_schema(),
            ..write
        });
    }
    methods
}

pub(super) fn methods() -> Vec<MethodDef> {
    TYPES.iter().flat_map(methods_of).chain(generic()).collect()
}

/// `properties.list` and `properties.get` for any object type (tickets, line items,
/// activities, custom objects), so agents and generic tools need no method per type.
/// HubSpot checks the type's scopes.
fn generic() -> Vec<MethodDef> {
    let object_type = param(
        "objectType",
        Location::Path,
        JsonType::String,
        true,
        "The object type: `contacts`, `companies`, `deals`, `tickets`, `line_items`, `notes`, …, a custom object's `p<portalId>_<name>` (or a type id such as `0-1`).",
    );
    let read = MethodDef::template(
        "Properties",
        properties_path("/{objectType}".into()),
        Vec::new(),
        results_of(property_schema()),
    );
    vec![
        MethodDef {
            id: "properties.list".into(),
            name: "List Properties".into(),
            description: "Every property definition of an object type, HubSpot's own and the portal's custom ones (`results`; custom ones have `hubspotDefined` false), with types and the options of enumerations.".into(),
            params: vec![object_type.clone(), archived_param("List archived (deleted) properties instead of live ones.")],
            ..read.clone()
        },
        MethodDef {
            id: "properties.get".into(),
            name: "Get Property".into(),
            description: "One property definition of an object type by its internal name.".into(),
            path: properties_path("/{objectType}/{name}".into()),
            params: vec![
                object_type,
                param("name", Location::Path, JsonType::String, true, "The property's internal name."),
            ],
            output: property_schema(),
            ..read
        },
    ]
}
