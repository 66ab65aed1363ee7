//! Engagements (HubSpot's activities): notes, emails, tasks, meetings and calls, each a CRM
//! object type of its own on the objects API, with the same five requests for every type.

use serde_json::json;

use super::crm::{
    ObjectType, archived_param, associations_param, fixed_path, id_param, objects_path,
    properties_param, record_schema, records_schema, sets, window,
};
use super::{Body, MethodDef, Verb};

const CATEGORY: &str = "Engagements";

/// Activities take the contacts scopes; emails may also be read with `sales-email-read`.
const TYPES: &[ObjectType] = &[
    ObjectType {
        plural: "notes",
        singular: "Note",
        category: CATEGORY,
        read: &[&["crm.objects.contacts.read"], &["contacts"]],
        write: &[&["crm.objects.contacts.write"], &["contacts"]],
        modified: "hs_lastmodifieddate",
        note: " The note text is `hs_note_body`.",
    },
    ObjectType {
        plural: "emails",
        singular: "Email",
        category: CATEGORY,
        read: &[
            &["crm.objects.contacts.read"],
            &["sales-email-read"],
            &["contacts"],
        ],
        write: &[&["crm.objects.contacts.write"], &["contacts"]],
        modified: "hs_lastmodifieddate",
        note: " A logged email: `hs_email_subject`, `hs_email_text`, `hs_email_direction`, …",
    },
    ObjectType {
        plural: "tasks",
        singular: "Task",
        category: CATEGORY,
        read: &[&["crm.objects.contacts.read"], &["contacts"]],
        write: &[&["crm.objects.contacts.write"], &["contacts"]],
        modified: "hs_lastmodifieddate",
        note: " The task is `hs_task_subject`, `hs_task_body`, `hs_task_status`, `hs_task_priority`; `hs_timestamp` is its due date.",
    },
    ObjectType {
        plural: "meetings",
        singular: "Meeting",
        category: CATEGORY,
        read: &[&["crm.objects.contacts.read"], &["contacts"]],
        write: &[&["crm.objects.contacts.write"], &["contacts"]],
        modified: "hs_lastmodifieddate",
        note: " The meeting is `hs_meeting_title`, `hs_meeting_body`, `hs_meeting_start_time`, `hs_meeting_end_time`, …",
    },
    ObjectType {
        plural: "calls",
        singular: "Call",
        category: CATEGORY,
        read: &[&["crm.objects.contacts.read"], &["contacts"]],
        write: &[&["crm.objects.contacts.write"], &["contacts"]],
        modified: "hs_lastmodifieddate",
        note: " The call is `hs_call_title`, `hs_call_body`, `hs_call_duration`, `hs_call_disposition`, …",
    },
];

/// `hs_timestamp` says when the activity happened (a task: when it is due).
const TIMESTAMP: &str = "`hs_timestamp` (ISO 8601 or epoch milliseconds) is when it happened";

fn methods_of(o: &ObjectType) -> Vec<MethodDef> {
    let p = o.plural;
    let one = o.singular;
    let lower = one.to_lowercase();
    let read = MethodDef {
        params: vec![id_param(one)],
        ..MethodDef::template(
            CATEGORY,
            objects_path(format!("/{p}/{{id}}")),
            sets(o.read),
            record_schema(),
        )
    };
    let write = read.clone().writing(o.write);
    vec![
        MethodDef {
            id: format!("{p}.get"),
            name: format!("Get {one}"),
            description: format!("One {lower} engagement by its record id.{}", o.note),
            params: vec![
                id_param(one),
                properties_param(),
                associations_param(
                    "Comma-separated object types (`contacts,companies,deals,tickets`) whose associated ids to include.",
                ),
            ],
            ..read.clone()
        },
        MethodDef {
            id: format!("{p}.list"),
            name: format!("List {one}s"),
            description: format!(
                "Every {lower} engagement, oldest first, a page at a time (or all pages with `paging.all`).{}",
                o.note
            ),
            path: objects_path(format!("/{p}")),
            params: vec![
                properties_param(),
                archived_param("List archived (deleted) records instead."),
            ],
            ..read
        }
        .paged(records_schema()),
        MethodDef {
            id: format!("{p}.create"),
            name: format!("Create {one}"),
            description: format!(
                "Creates a {lower} engagement from HubSpot property values (`fields`); {TIMESTAMP} and is required.{}",
                o.note
            ),
            verb: Verb::Post,
            path: objects_path(format!("/{p}")),
            params: Vec::new(),
            body: Body::Properties {
                object_type: p.into(),
                required: vec!["hs_timestamp".into()],
            },
            ..write.clone()
        },
        MethodDef {
            id: format!("{p}.update"),
            name: format!("Update {one}"),
            description: format!(
                "Changes property values (`fields`) of one {lower} engagement; an empty string clears a value.{}",
                o.note
            ),
            verb: Verb::Patch,
            ..write.clone()
        }
        .with_body(p),
        MethodDef {
            id: format!("{p}.delete"),
            name: format!("Delete {one}"),
            description: format!(
                "Archives one {lower} engagement (HubSpot keeps it restorable for 90 days); an unknown id succeeds too."
            ),
            ..write.deleting()
        },
    ]
}

/// `list_new` / `list_updated` of one engagement type: the CRM window methods, named for it.
fn windows_of(o: &ObjectType) -> Vec<MethodDef> {
    let one = o.singular;
    [
        ("list_new", "createdate", "New", "created"),
        ("list_updated", o.modified, "Updated", "changed"),
    ]
    .into_iter()
    .map(|(verb, date, adjective, participle)| MethodDef {
        name: format!("List {adjective} {one}s"),
        description: format!(
            "{one} engagements {participle} at or after `since` (by `{date}`), oldest first and each exactly once, also beyond HubSpot's 10,000-result search cap.{}",
            o.note
        ),
        ..window(o, verb, date, adjective, participle)
    })
    .collect()
}

/// HubSpot's call outcomes: the values of a call's `hs_call_disposition`.
fn dispositions() -> MethodDef {
    let calls = TYPES.iter().find(|t| t.plural == "calls").expect("calls");
    MethodDef {
        id: "calls.dispositions".into(),
        name: "List Call Dispositions".into(),
        description: "The portal's call outcomes (`[{id, label}]`, e.g. Connected, Busy): a call's `hs_call_disposition` is one of the ids. HubSpot documents this v1 endpoint as available but unsupported.".into(),
        ..MethodDef::template(
            CATEGORY,
            fixed_path("/calling/v1/dispositions"),
            sets(calls.read),
            json!({"type": "array", "items": {"type": "object", "properties": {
                "id": {"type": "string"}, "label": {"type": "string"}
            }}}),
        )
    }
}

pub(super) fn methods() -> Vec<MethodDef> {
    let mut methods: Vec<MethodDef> = TYPES.iter().flat_map(methods_of).collect();
    methods.extend(TYPES.iter().flat_map(windows_of));
    methods.push(dispositions());
    methods
}
