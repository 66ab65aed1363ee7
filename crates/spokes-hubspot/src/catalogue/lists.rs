//! Contact Lists on HubSpot's Lists v3 API (Contact Lists v1 answers 404 since 2026-04-30):
//! static (MANUAL) lists whose members are added and removed by hand, and dynamic lists
//! whose members are the contacts matching a `filterBranch`.
//!
//! The paths are fixed v3: the date-versioned alias `/crm/lists/2026-03` has the same shapes.

use serde_json::{Value, json};

use super::crm::{fixed_path, param, sets};
use super::{
    ApiPath, Body, Data, JsonType, Location, MethodDef, Pager, Paging, Param, Shape, Verb,
};

const CATEGORY: &str = "Contact Lists";
/// The legacy `contacts` scope covers lists too.
const READ: &[&[&str]] = &[&["crm.lists.read"], &["contacts"]];
/// HubSpot's list writes take both list scopes.
const WRITE: &[&[&str]] = &[&["crm.lists.read", "crm.lists.write"], &["contacts"]];
/// Contact lists hold records of object type `0-1`.
const CONTACTS: &str = "0-1";

fn list_schema() -> Value {
    json!({"type": "object", "properties": {
        "listId": {"type": "string"},
        "listVersion": {"type": "integer"},
        "name": {"type": "string"},
        "objectTypeId": {"type": "string", "description": "`0-1`: contacts."},
        "processingType": {"type": "string", "enum": ["MANUAL", "SNAPSHOT", "DYNAMIC"]},
        "processingStatus": {"type": "string"},
        "size": {"type": "integer"},
        "filterBranch": {"type": "object", "description": "A dynamic list's filters (with `includeFilters`)."},
        "createdAt": {"type": "string", "format": "date-time"},
        "updatedAt": {"type": "string", "format": "date-time"},
        "filtersUpdatedAt": {"type": "string", "format": "date-time"}
    }})
}

fn membership_schema() -> Value {
    json!({"type": "array", "items": {"type": "object", "properties": {
        "recordId": {"type": "string", "description": "The contact's record id."},
        "membershipTimestamp": {"type": "string", "format": "date-time", "description": "When the contact joined the list."}
    }}})
}

fn changes_schema() -> Value {
    json!({"type": "object", "properties": {
        "recordsIdsAdded": {"type": "array", "items": {"type": "string"}},
        "recordIdsRemoved": {"type": "array", "items": {"type": "string"}},
        "recordIdsMissing": {"type": "array", "items": {"type": "string"}, "description": "Ids that are not contacts of the portal."}
    }})
}

fn lists_path(rest: &str) -> ApiPath {
    fixed_path(format!("/crm/v3/lists{rest}"))
}

fn list_id() -> Param {
    param(
        "listId",
        Location::Path,
        JsonType::String,
        true,
        "The list's id (`listId`, not a legacy v1 list id).",
    )
}

fn filter_branch(what: &str) -> Param {
    param(
        "filterBranch",
        Location::Body,
        JsonType::Object,
        true,
        &format!(
            "{what}: a root `{{filterBranchType: \"OR\", filterBranches: [{{filterBranchType: \"AND\", filters: [{{filterType: \"PROPERTY\", property: \"email\", operation: {{operationType: \"STRING\", operator: \"CONTAINS\", value: \"@acme.\"}}}}]}}], filters: []}}`."
        ),
    )
}

fn create(
    id: &str,
    name: &str,
    description: &str,
    processing: &'static [(&'static str, &'static str)],
    base: &MethodDef,
) -> MethodDef {
    let mut params = vec![param(
        "name",
        Location::Body,
        JsonType::String,
        true,
        "The list's name, unique among the portal's lists (ignoring case).",
    )];
    if processing.iter().any(|(_, v)| *v == "DYNAMIC") {
        params.push(filter_branch("Who is in the list"));
    }
    MethodDef {
        id: id.into(),
        name: name.into(),
        description: description.into(),
        verb: Verb::Post,
        path: lists_path(""),
        params,
        body: Body::Params,
        output: list_schema(),
        shape: Shape {
            records: "list",
            data: Data::Field,
            constants: processing,
            ..Shape::DEFAULT
        },
        ..base.clone().writing(WRITE)
    }
}

fn members_change(
    id: &str,
    name: &str,
    action: &str,
    description: &str,
    base: &MethodDef,
) -> MethodDef {
    MethodDef {
        id: id.into(),
        name: name.into(),
        description: description.into(),
        verb: Verb::Put,
        path: lists_path(&format!("/{{listId}}/memberships/{action}")),
        params: vec![
            list_id(),
            param(
                "recordIds",
                Location::Body,
                JsonType::Array,
                true,
                "Contact record ids, as strings: `[\"1001\", …]`.",
            ),
        ],
        body: Body::Value("recordIds".into()),
        output: changes_schema(),
        ..base.clone().writing(WRITE)
    }
}

fn members(id: &str, name: &str, rest: &str, description: &str, base: &MethodDef) -> MethodDef {
    MethodDef {
        id: id.into(),
        name: name.into(),
        description: description.into(),
        path: lists_path(rest),
        params: vec![list_id()],
        paging: Paging::Cursor,
        output: membership_schema(),
        ..base.clone()
    }
}

pub(super) fn methods() -> Vec<MethodDef> {
    let base = MethodDef {
        params: vec![list_id()],
        ..MethodDef::template(CATEGORY, lists_path("/{listId}"), sets(READ), list_schema())
    };
    vec![
        MethodDef {
            id: "lists.get".into(),
            name: "Get Contact List".into(),
            description: "One list by its id, with its size; with `includeFilters` a dynamic list's `filterBranch` too.".into(),
            params: vec![
                list_id(),
                param(
                    "includeFilters",
                    Location::Query,
                    JsonType::Boolean,
                    false,
                    "Include the list's `filterBranch`.",
                ),
            ],
            shape: Shape {
                records: "list",
                data: Data::Field,
                ..Shape::DEFAULT
            },
            ..base.clone()
        },
        MethodDef {
            id: "lists.list".into(),
            name: "List Contact Lists".into(),
            description: "The portal's contact lists in id order (Lists search; sizes in `additionalProperties.hs_list_size`, no filters), optionally by a part of the name or processing type, a page at a time (or all pages with `paging.all`).".into(),
            verb: Verb::Post,
            path: lists_path("/search"),
            params: vec![
                param(
                    "query",
                    Location::Body,
                    JsonType::String,
                    false,
                    "A part of the list name (ignoring case).",
                ),
                param(
                    "processingTypes",
                    Location::Body,
                    JsonType::Array,
                    false,
                    "Only lists of these types: `MANUAL`, `SNAPSHOT`, `DYNAMIC`.",
                ),
            ],
            body: Body::Params,
            paging: Paging::Cursor,
            output: json!({"type": "array", "items": list_schema()}),
            shape: Shape {
                records: "lists",
                // Lists search pages with a position: `offset`/`count` in, `offset` and
                // `hasMore` out.
                pager: Pager::Offset {
                    offset: "offset",
                    limit: "count",
                    next: "offset",
                    has_more: "hasMore",
                },
                constants: &[("objectTypeId", CONTACTS)],
                ..Shape::DEFAULT
            },
            ..base.clone()
        },
        create(
            "lists.create_static",
            "Create Static Contact List",
            "Creates a static list (`MANUAL`): contacts are added and removed by hand. A name in use is a conflict.",
            &[("objectTypeId", CONTACTS), ("processingType", "MANUAL")],
            &base,
        ),
        create(
            "lists.create_dynamic",
            "Create Dynamic Contact List",
            "Creates a dynamic list (`DYNAMIC`): its members are the contacts matching `filterBranch`, kept up to date by HubSpot. A name in use is a conflict.",
            &[("objectTypeId", CONTACTS), ("processingType", "DYNAMIC")],
            &base,
        ),
        MethodDef {
            id: "lists.delete".into(),
            name: "Delete Contact List".into(),
            description: "Deletes a list (the contacts stay); HubSpot can restore it for 90 days.".into(),
            ..base.clone().writing(WRITE).deleting()
        },
        MethodDef {
            id: "lists.set_filters".into(),
            name: "Set Dynamic List Filters".into(),
            description: "Replaces a dynamic list's `filterBranch` (its members follow at once); static lists have no filters (400).".into(),
            verb: Verb::Put,
            path: lists_path("/{listId}/update-list-filters"),
            params: vec![list_id(), filter_branch("The new filters")],
            body: Body::Params,
            shape: Shape {
                records: "updatedList",
                data: Data::Field,
                ..Shape::DEFAULT
            },
            ..base.clone().writing(WRITE)
        },
        members_change(
            "lists.add_members",
            "Add Contacts to List",
            "add",
            "Adds contacts to a static list; ones already in are ignored, unknown ids come back in `recordIdsMissing`. Dynamic lists cannot be changed by hand (400).",
            &base,
        ),
        members_change(
            "lists.remove_members",
            "Remove Contacts from List",
            "remove",
            "Removes contacts from a static list (the contacts stay); ones not in it are ignored. Dynamic lists cannot be changed by hand (400).",
            &base,
        ),
        members(
            "lists.members",
            "List Contact List Members",
            "/{listId}/memberships",
            "The contacts in a list (`recordId`, `membershipTimestamp`) in record-id order, a page at a time (or all pages with `paging.all`).",
            &base,
        ),
        members(
            "lists.new_members",
            "List New Contact List Members",
            "/{listId}/memberships/join-order",
            "The contacts in a list in the order they joined, oldest first (`recordId`, `membershipTimestamp`), a page at a time (or all pages with `paging.all`).",
            &base,
        ),
    ]
}
