//! Marketing forms (v3) and their submissions. HubSpot lists submissions only on the legacy
//! `/form-integrations/v1/submissions/forms/{formGuid}`: newest first, at most 50 a page, no
//! date filter, so "since" stops paging at the first older one.

use serde_json::{Value, json};

use super::crm::{archived_param, fixed_path, param, sets, stamped};
use super::{Data, JsonType, Location, MethodDef, Paging, Param, Shape, Since, SinceOrder};

const CATEGORY: &str = "Forms";
const READ: &[&[&str]] = &[&["forms"]];

fn form_schema() -> Value {
    stamped(json!({"type": "object", "properties": {
        "id": {"type": "string", "description": "The form's GUID."},
        "name": {"type": "string"},
        "formType": {"type": "string"},
        "fieldGroups": {"type": "array", "items": field_group_schema()},
        "configuration": {"type": "object"}
    }}))
}

fn field_group_schema() -> Value {
    json!({"type": "object", "properties": {
        "groupType": {"type": "string"},
        "richTextType": {"type": "string"},
        "fields": {"type": "array", "items": {"type": "object", "properties": {
            "objectTypeId": {"type": "string", "description": "`0-1` for a contact property, `0-2` for a company's."},
            "name": {"type": "string", "description": "The property the field fills."},
            "label": {"type": "string"},
            "fieldType": {"type": "string"},
            "required": {"type": "boolean"},
            "hidden": {"type": "boolean"}
        }}}
    }})
}

fn submissions_schema() -> Value {
    json!({"type": "array", "items": {"type": "object", "properties": {
        "conversionId": {"type": "string"},
        "submittedAt": {"type": "integer", "description": "Unix milliseconds."},
        "values": {"type": "array", "items": {"type": "object", "properties": {
            "name": {"type": "string"}, "value": {"type": "string"}, "objectTypeId": {"type": "string"}
        }}},
        "pageUrl": {"type": "string"}
    }}})
}

fn form_id(name: &str) -> Param {
    param(
        name,
        Location::Path,
        JsonType::String,
        true,
        "The form's GUID (`id` in the forms list).",
    )
}

pub(super) fn methods() -> Vec<MethodDef> {
    let base = MethodDef::template(
        CATEGORY,
        fixed_path("/marketing/v3/forms"),
        sets(READ),
        form_schema(),
    );
    let submissions = MethodDef {
        id: "forms.submissions".into(),
        name: "List Form Submissions".into(),
        description: "A form's submissions, newest first (`submittedAt` in Unix milliseconds, the submitted `values`), at most 50 a page (or all pages with `paging.all`).".into(),
        path: fixed_path("/form-integrations/v1/submissions/forms/{formGuid}"),
        params: vec![form_id("formGuid")],
        paging: Paging::Cursor,
        output: submissions_schema(),
        shape: Shape {
            max_page: 50,
            ..Shape::DEFAULT
        },
        ..base.clone()
    };
    vec![
        MethodDef {
            id: "forms.list".into(),
            name: "List Forms".into(),
            description: "The portal's marketing forms with their fields, in creation order, a page at a time (or all pages with `paging.all`).".into(),
            params: vec![archived_param("List archived (deleted) forms instead.")],
            paging: Paging::Cursor,
            output: json!({"type": "array", "items": form_schema()}),
            ..base.clone()
        },
        MethodDef {
            id: "forms.fields".into(),
            name: "Get Form Fields".into(),
            description: "A form's field groups, in display order: each field's property (`name`, `objectTypeId`), label, type and whether it is required.".into(),
            path: fixed_path("/marketing/v3/forms/{formId}"),
            params: vec![form_id("formId")],
            output: json!({"type": "array", "items": field_group_schema()}),
            shape: Shape {
                records: "fieldGroups",
                data: Data::Field,
                ..Shape::DEFAULT
            },
            ..base.clone()
        },
        MethodDef {
            id: "forms.submissions_since".into(),
            name: "List Form Submissions Since".into(),
            description: "A form's submissions at or after `since`, newest first: HubSpot has no date filter, so paging stops at the first older submission.".into(),
            params: vec![
                form_id("formGuid"),
                param(
                    "since",
                    Location::Query,
                    JsonType::String,
                    true,
                    "RFC 3339 time (or Unix milliseconds as text), inclusive; Spokes stops by it, HubSpot never sees it.",
                ),
            ],
            shape: Shape {
                max_page: 50,
                since: Some(Since {
                    field: "submittedAt",
                    order: SinceOrder::NewestFirst,
                }),
                ..Shape::DEFAULT
            },
            ..submissions.clone()
        },
        submissions,
    ]
}
