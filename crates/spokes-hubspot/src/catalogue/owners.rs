//! Owners: the portal's users (and queues) that records can be assigned to through
//! `hubspot_owner_id`. HubSpot's owners API is read-only.

use serde_json::{Value, json};

use super::crm::{archived_param, param, sets, stamped};
use super::{
    ApiPath, Data, Family, JsonType, Location, MethodDef, Paging, Shape, Since, SinceOrder,
};

const CATEGORY: &str = "Owners";
/// The retired legacy `contacts` scope covered owners too.
const READ: &[&[&str]] = &[&["crm.objects.owners.read"], &["contacts"]];

fn owner_schema() -> Value {
    stamped(json!({"type": "object", "properties": {
        "id": {"type": "string", "description": "The owner id, the value of `hubspot_owner_id`."},
        "email": {"type": "string"},
        "firstName": {"type": "string"},
        "lastName": {"type": "string"},
        "userId": {"type": ["integer", "null"], "description": "The HubSpot user id; null for a deactivated user."},
        "userIdIncludingInactive": {"type": ["integer", "null"]},
        "type": {"type": "string", "enum": ["PERSON", "QUEUE"]},
        "teams": {"type": "array", "items": {"type": "object", "properties": {
            "id": {"type": "string"}, "name": {"type": "string"}, "primary": {"type": "boolean"}
        }}}
    }}))
}

fn owners_path(rest: &str) -> ApiPath {
    ApiPath {
        family: Family::Owners,
        rest: rest.into(),
    }
}

fn archived(what: &str) -> super::Param {
    archived_param(&format!(
        "{what} deactivated (archived) owners instead of active ones."
    ))
}

pub(super) fn methods() -> Vec<MethodDef> {
    let base = MethodDef {
        paging: Paging::Cursor,
        ..MethodDef::template(
            CATEGORY,
            owners_path(""),
            sets(READ),
            json!({"type": "array", "items": owner_schema()}),
        )
    };
    vec![
        MethodDef {
            id: "owners.get".into(),
            name: "Get Owner".into(),
            description: "One owner by its owner id (or by its HubSpot user id with `idProperty=userId`).".into(),
            path: owners_path("/{id}"),
            params: vec![
                param(
                    "id",
                    Location::Path,
                    JsonType::String,
                    true,
                    "The owner id (the value of `hubspot_owner_id`), or the user id with `idProperty=userId`.",
                ),
                param(
                    "idProperty",
                    Location::Query,
                    JsonType::String,
                    false,
                    "`id` (default) or `userId`: what `id` is.",
                ),
                archived("Look among"),
            ],
            paging: Paging::None,
            output: owner_schema(),
            ..base.clone()
        },
        MethodDef {
            id: "owners.get_by_email".into(),
            name: "Get Owner by Email".into(),
            description: "The owner with this email address (HubSpot's owners list filtered by `email`, ignoring case); `null` when no owner has it.".into(),
            params: vec![
                param(
                    "email",
                    Location::Query,
                    JsonType::String,
                    true,
                    "The owner's email address.",
                ),
                archived("Look among"),
            ],
            paging: Paging::None,
            output: json!({"oneOf": [owner_schema(), {"type": "null"}]}),
            shape: Shape {
                data: Data::First,
                ..Shape::DEFAULT
            },
            ..base.clone()
        },
        MethodDef {
            id: "owners.list".into(),
            name: "List Owners".into(),
            description: "Every owner of the portal, in id order, a page at a time (or all pages with `paging.all`).".into(),
            params: vec![archived("List")],
            ..base.clone()
        },
        since("list_new", "New", "created", "createdAt", &base),
        since("list_updated", "Updated", "changed", "updatedAt", &base),
    ]
}

/// `list_new` / `list_updated`: HubSpot's owners API takes no date filter, so every page of
/// the list is read and filtered on `createdAt` / `updatedAt`.
fn since(
    verb: &str,
    adjective: &str,
    participle: &str,
    field: &'static str,
    base: &MethodDef,
) -> MethodDef {
    MethodDef {
        id: format!("owners.{verb}"),
        name: format!("List {adjective} Owners"),
        description: format!(
            "The owners {participle} at or after `since` (by `{field}`), in id order; HubSpot cannot filter owners by date, so Spokes reads every page and keeps these (a page may come back empty while `paging.next` goes on; `paging.all` gives them at once)."
        ),
        params: vec![
            param(
                "since",
                Location::Query,
                JsonType::String,
                true,
                "RFC 3339 time (or Unix milliseconds as text) the window starts at, inclusive; Spokes filters by it, HubSpot never sees it.",
            ),
            archived("List"),
        ],
        shape: Shape {
            since: Some(Since {
                field,
                order: SinceOrder::Unordered,
            }),
            ..Shape::DEFAULT
        },
        ..base.clone()
    }
}
