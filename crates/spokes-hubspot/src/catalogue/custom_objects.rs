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
use super::{ApiPath, Body, Data, JsonType, Location, MethodDef, Paging, Param, Shape, Verb};

const CATEGORY: &str = "Custom Objects";
const READ: &[&[&str]] = &[&["crm.objects.custom.read"]];
const WRITE: &[&[&str]] = &[&["crm.objects.custom.write"]];
const SCHEMA_READ: &[&[&str]] = &[&["crm.schemas.custom.read"], &["crm.objects.custom.read"]];
const SCHEMA_WRITE: &[&[&str]] = &[&["crm.schemas.custom.write"]];

fn object_type() -> Param {
    param(
        "objectType",
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
