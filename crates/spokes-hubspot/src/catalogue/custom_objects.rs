//! Custom objects: the portal's custom object schemas, and the record methods of any custom
//! object type, named by the `objectType` parameter (`2-123456` or `p12345_cars`).
//!
//! The record type is a parameter, so Spokes cannot know its properties when the catalogue
//! is built, and `fields` (checked against a type known in the definition) does not apply:
//! create and update take the record's values as the `properties` parameter, and HubSpot
//! checks the names. The schema paths are fixed v3 (the date-versioned alias
//! `/crm/schemas/2026-03` has the same shapes).

use serde_json::{Value, json};

use super::crm::{
    archived_param, fixed_path, objects_path, param, properties_param, record_schema,
    records_schema, search_params, search_properties_param, sets, since_param, stamped,
};
use super::{
    ApiPath, Body, CopyOf, Data, Family, JsonType, Location, MethodDef, Paging, Param, Shape, Verb,
};

const CATEGORY: &str = "Custom Objects";
const READ: &[&[&str]] = &[&["crm.objects.custom.read"]];
const WRITE: &[&[&str]] = &[&["crm.objects.custom.write"]];
const SCHEMA_READ: &[&[&str]] = &[&["crm.schemas.custom.read"], &["crm.objects.custom.read"]];
const SCHEMA_WRITE: &[&[&str]] = &[&["crm.schemas.custom.write"]];

/// The record methods' parameter naming the custom object type.
pub const OBJECT_TYPE: &str = "objectType";

fn object_type() -> Param {
    param(
        OBJECT_TYPE,
        Location::Path,
        JsonType::String,
        true,
        "The custom object type: its `objectTypeId` (`2-123456`) or `fullyQualifiedName` (`p12345_cars`), from `custom_objects.list_schemas`.",
    )
}

fn record_id() -> Param {
    param(
        "id",
        Location::Path,
        JsonType::String,
        true,
        "The record id (`hs_object_id`).",
    )
}

fn values(what: &str) -> Param {
    param(
        "properties",
        Location::Body,
        JsonType::Object,
        true,
        &format!(
            "{what}: the schema's property names and their values (HubSpot checks the names)."
        ),
    )
}

fn schema_schema() -> Value {
    stamped(json!({"type": "object", "properties": {
        "id": {"type": "string"},
        "objectTypeId": {"type": "string", "description": "`2-…`: the `objectType` of the record methods."},
        "fullyQualifiedName": {"type": "string", "description": "`p<portalId>_<name>`."},
        "name": {"type": "string"},
        "labels": {"type": "object", "properties": {"singular": {"type": "string"}, "plural": {"type": "string"}}},
        "primaryDisplayProperty": {"type": ["string", "null"]},
        "requiredProperties": {"type": "array", "items": {"type": "string"}},
        "searchableProperties": {"type": "array", "items": {"type": "string"}},
        "secondaryDisplayProperties": {"type": "array", "items": {"type": "string"}},
        "properties": {"type": "array", "items": {"type": "object"}},
        "associations": {"type": "array", "items": {"type": "object"}}
    }}))
}

fn schemas_path(rest: &str) -> ApiPath {
    fixed_path(format!("/crm/v3/schemas{rest}"))
}

pub(super) fn methods() -> Vec<MethodDef> {
    let base = MethodDef::template(
        CATEGORY,
        objects_path("/{objectType}".into()),
        sets(READ),
        record_schema(),
    );
    let array = |name: &str, description: &str| {
        param(name, Location::Body, JsonType::Array, false, description)
    };
    let mut methods = vec![
        MethodDef {
            id: "custom_objects.list_schemas".into(),
            name: "List Custom Object Schemas".into(),
            description: "The portal's custom object types with their properties and associations.".into(),
            path: schemas_path(""),
            params: vec![archived_param("List archived schemas instead.")],
            scopes: sets(SCHEMA_READ),
            output: json!({"type": "array", "items": schema_schema()}),
            shape: Shape {
                data: Data::Field,
                ..Shape::DEFAULT
            },
            ..base.clone()
        },
        MethodDef {
            id: "custom_objects.get_schema".into(),
            name: "Get Custom Object Schema".into(),
            description: "One custom object type: labels, properties, required and searchable properties, associations.".into(),
            path: schemas_path("/{objectType}"),
            params: vec![object_type()],
            scopes: sets(SCHEMA_READ),
            output: schema_schema(),
            ..base.clone()
        },
        MethodDef {
            id: "custom_objects.create_schema".into(),
            name: "Create Custom Object Schema".into(),
            description: "Defines a new custom object type in the portal; its `objectTypeId` is then the `objectType` of the record methods. The name cannot be reused, even after the schema is deleted.".into(),
            verb: Verb::Post,
            path: schemas_path(""),
            params: vec![
                param(
                    "name",
                    Location::Body,
                    JsonType::String,
                    true,
                    "The type's name: letters, digits and `_`, starting with a letter (e.g. `cars`).",
                ),
                param(
                    "labels",
                    Location::Body,
                    JsonType::Object,
                    true,
                    "`{singular, plural}` as HubSpot shows them, e.g. `{singular: \"Car\", plural: \"Cars\"}`.",
                ),
                param(
                    "properties",
                    Location::Body,
                    JsonType::Array,
                    true,
                    "The type's properties: `[{name, label, type, fieldType, options?, hasUniqueValue?}]`, as for a property definition.",
                ),
                param(
                    "associatedObjects",
                    Location::Body,
                    JsonType::Array,
                    true,
                    "Object types its records can be associated with, e.g. `[\"CONTACT\", \"COMPANY\"]` (may be empty).",
                ),
                param(
                    "primaryDisplayProperty",
                    Location::Body,
                    JsonType::String,
                    false,
                    "The property that names a record in HubSpot.",
                ),
                array("requiredProperties", "Properties every new record must have."),
                array("searchableProperties", "Properties a search `query` looks at."),
                array(
                    "secondaryDisplayProperties",
                    "Properties shown under the record's name.",
                ),
            ],
            body: Body::Params,
            scopes: sets(SCHEMA_WRITE),
            writes: true,
            output: schema_schema(),
            ..base.clone()
        },
        MethodDef {
            id: "custom_objects.get".into(),
            name: "Get Custom Object Record".into(),
            description: "One record of a custom object type by its record id.".into(),
            path: objects_path("/{objectType}/{id}".into()),
            params: vec![object_type(), record_id(), properties_param()],
            ..base.clone()
        },
        MethodDef {
            id: "custom_objects.list".into(),
            name: "List Custom Object Records".into(),
            description: "Every record of a custom object type, oldest first, a page at a time (or all pages with `paging.all`).".into(),
            params: vec![
                object_type(),
                properties_param(),
                archived_param("List archived records instead."),
            ],
            ..base.clone()
        }
        .paged(records_schema()),
        MethodDef {
            id: "custom_objects.search".into(),
            name: "Search Custom Object Records".into(),
            description: "Records of a custom object type matching filters, with sorts and a text query (in the schema's searchable properties); HubSpot's search API: at most 10,000 results, 5 requests a second.".into(),
            verb: Verb::Post,
            path: objects_path("/{objectType}/search".into()),
            params: {
                let mut params = vec![object_type()];
                params.extend(search_params(
                    "hs_createdate",
                    "Text searched in the schema's searchable properties.",
                ));
                params
            },
            body: Body::Params,
            ..base.clone()
        }
        .paged(records_schema()),
        // Custom records carry HubSpot's `hs_createdate` / `hs_lastmodifieddate`.
        window(&base, "list_new", "hs_createdate", "New", "created"),
        window(&base, "list_updated", "hs_lastmodifieddate", "Updated", "changed"),
    ];
    let write = base.writing(WRITE);
    methods.extend([
        MethodDef {
            id: "custom_objects.create".into(),
            name: "Create Custom Object Record".into(),
            description: "Creates a record of a custom object type from its property values (`properties`; the schema's required properties must be there).".into(),
            verb: Verb::Post,
            params: vec![object_type(), values("The new record's values")],
            body: Body::Params,
            ..write.clone()
        },
        MethodDef {
            id: "custom_objects.update".into(),
            name: "Update Custom Object Record".into(),
            description: "Changes property values (`properties`) of one record of a custom object type.".into(),
            verb: Verb::Patch,
            path: objects_path("/{objectType}/{id}".into()),
            params: vec![object_type(), record_id(), values("The values to change")],
            body: Body::Params,
            ..write.clone()
        },
        MethodDef {
            id: "custom_objects.delete".into(),
            name: "Delete Custom Object Record".into(),
            description: "Archives one record of a custom object type (HubSpot keeps it restorable for 90 days).".into(),
            path: objects_path("/{objectType}/{id}".into()),
            params: vec![object_type(), record_id()],
            ..write.deleting()
        },
    ]);
    methods
}

/// `list_new` / `list_updated`: the records of a custom object type created or changed at or
/// after `since`, through search windows as for the standard objects.
fn window(
    base: &MethodDef,
    verb: &str,
    date_property: &'static str,
    adjective: &str,
    participle: &str,
) -> MethodDef {
    MethodDef {
        id: format!("custom_objects.{verb}"),
        name: format!("List {adjective} Custom Object Records"),
        description: format!(
            "Records of a custom object type {participle} at or after `since` (by `{date_property}`), oldest first and each exactly once, also beyond HubSpot's 10,000-result search cap and when many share one timestamp."
        ),
        verb: Verb::Post,
        path: objects_path("/{objectType}/search".into()),
        params: vec![object_type(), since_param(), search_properties_param()],
        body: Body::Params,
        paging: Paging::Window { date_property },
        output: records_schema(),
        ..base.clone()
    }
}

/// Why `schema_name` cannot name a copy of the category: HubSpot's schema names are letters,
/// digits and `_` starting with a letter, and the copy's method ids (`<name>.create`) must not
/// be taken by the catalogue.
pub fn copy_name_problem(schema_name: &str) -> Option<String> {
    let well_formed = schema_name.len() <= 100
        && schema_name.starts_with(|c: char| c.is_ascii_lowercase())
        && schema_name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !well_formed {
        return Some(format!(
            "`{schema_name}` is not a custom object schema name: lower-case letters, digits and `_`, starting with a letter (the schema's `name`, e.g. `cars`)"
        ));
    }
    let prefix = format!("{schema_name}.");
    super::all()
        .iter()
        .any(|m| m.id.starts_with(&prefix))
        .then(|| {
            format!("the catalogue's methods already start with `{prefix}`; a copy for `{schema_name}` would hide them")
        })
}

/// The methods of the partner's copies of this category, copy after copy.
pub fn copied_methods(copies: &[spokes_core::CustomObjectCopy]) -> Vec<MethodDef> {
    copies
        .iter()
        .flat_map(|copy| copy_for_schema(&copy.schema_name, &copy.category))
        .collect()
}

/// The record methods of this category (every one with an `objectType`), copied for the
/// custom object schema `schema_name` under `category`: ids `<schema_name>.<method>`, no
/// `objectType` parameter; each runs as the method it was copied from ([`CopyOf::bind`]).
pub fn copy_for_schema(schema_name: &str, category: &str) -> Vec<MethodDef> {
    super::all()
        .iter()
        .filter(|m| {
            m.category == CATEGORY
                && m.path.family == Family::Objects
                && m.param(OBJECT_TYPE).is_some()
        })
        .map(|m| {
            let (_, verb) = m.id.split_once('.').unwrap_or(("", &m.id));
            MethodDef {
                id: format!("{schema_name}.{verb}"),
                category: category.into(),
                name: format!("{} ({category})", m.name),
                description: format!(
                    "{} Bound to the custom object `{schema_name}` (`p<portalId>_{schema_name}` in each portal).",
                    m.description
                ),
                path: ApiPath {
                    rest: m.path.rest.replace(
                        &format!("{{{OBJECT_TYPE}}}"),
                        &format!("p{{portalId}}_{schema_name}"),
                    ),
                    ..m.path.clone()
                },
                params: m
                    .params
                    .iter()
                    .filter(|p| p.name != OBJECT_TYPE)
                    .cloned()
                    .collect(),
                copy_of: Some(CopyOf {
                    method: m.id.clone(),
                    schema_name: schema_name.into(),
                }),
                ..m.clone()
            }
        })
        .collect()
}

#[cfg(test)]
mod copy_tests {
    use super::*;

    #[test]
    fn a_copy_has_every_record_method_bound_to_its_schema() {
        let copies = copy_for_schema("cars", "Cars");
        let ids: Vec<&str> = copies.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "cars.create",
                "cars.delete",
                "cars.get",
                "cars.list",
                "cars.list_new",
                "cars.list_updated",
                "cars.search",
                "cars.update"
            ]
        );
        for copy in &copies {
            assert_eq!(copy.category, "Cars");
            assert!(copy.param(OBJECT_TYPE).is_none(), "{}", copy.id);
            assert!(copy.path.rest.contains("p{portalId}_cars"), "{}", copy.id);
            let of = copy.copy_of.as_ref().expect("a copy");
            assert_eq!(of.schema_name, "cars");
            assert!(super::super::find(&of.method).is_some());
        }
    }

    #[test]
    fn copy_names_are_schema_names_that_hide_no_method() {
        assert_eq!(copy_name_problem("cars"), None);
        assert_eq!(copy_name_problem("pet_2"), None);
        for bad in ["", "Cars", "2cars", "car-s", "cars.x"] {
            assert!(copy_name_problem(bad).is_some(), "{bad}");
        }
        assert!(copy_name_problem("contacts").unwrap().contains("contacts."));
    }
}
