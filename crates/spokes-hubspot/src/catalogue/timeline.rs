//! Timeline events v3: an event on a CRM record's timeline, from one of the app's event
//! templates. HubSpot's events cannot change once created, and a re-sent event id is
//! refused (400 since 2024-12-02), so the seed platform's "upsert event" is create-once here:
//! give the event an `id` of your own and a retry cannot add it twice.
//!
//! The templates themselves are managed with the app's developer API key, not a portal's
//! token, so they are not methods of an installation.

use serde_json::{Value, json};

use super::crm::{fixed_path, param, sets};
use super::{Body, JsonType, Location, MethodDef, Verb};

fn event_schema() -> Value {
    json!({"type": "object", "properties": {
        "id": {"type": "string", "description": "The event id (yours, or one HubSpot made)."},
        "eventTemplateId": {"type": "string"},
        "objectType": {"type": "string", "description": "The template's object type: contacts, companies, deals or tickets."},
        "objectId": {"type": "string", "description": "The record the event is on."},
        "email": {"type": "string"},
        "utk": {"type": "string"},
        "timestamp": {"type": "string", "format": "date-time"},
        "tokens": {"type": "object", "additionalProperties": {"type": "string"}},
        "extraData": {"type": "object"},
        "createdAt": {"type": "string", "format": "date-time"}
    }})
}

pub(super) fn methods() -> Vec<MethodDef> {
    let body = |name: &str, json_type: JsonType, required: bool, description: &str| {
        param(name, Location::Body, json_type, required, description)
    };
    vec![MethodDef {
        id: "timeline.create_event".into(),
        name: "Create Timeline Event".into(),
        description: "Adds an event from one of the app's event templates to a record's timeline. Events cannot be changed afterwards, and an `id` HubSpot has seen before is refused as `conflict`: give each event an id of your own to make retries safe (create-once). Contacts templates take `objectId`, `email` (HubSpot creates the contact when none has it) or `utk`; other templates take `objectId`.".into(),
        verb: Verb::Post,
        params: vec![
            body(
                "eventTemplateId",
                JsonType::String,
                true,
                "The event template's id (templates belong to the app; they are made with its developer API key).",
            ),
            body(
                "tokens",
                JsonType::Object,
                true,
                "Values of the template's tokens by token name (`{}` when it has none); HubSpot keeps them as text.",
            ),
            body(
                "objectId",
                JsonType::String,
                false,
                "The id of the record (of the template's object type) the event goes on.",
            ),
            body(
                "email",
                JsonType::String,
                false,
                "Contacts templates: the contact's email address, instead of `objectId`.",
            ),
            body(
                "utk",
                JsonType::String,
                false,
                "Contacts templates: the visitor's user token (`hubspotutk` cookie), instead of `objectId`.",
            ),
            body(
                "id",
                JsonType::String,
                false,
                "Your id for the event, unique per template (HubSpot makes one when left out; `{{uuid}}` in it becomes a random UUID).",
            ),
            body(
                "timestamp",
                JsonType::String,
                false,
                "When it happened (RFC 3339; default: now); where the event sits on the timeline.",
            ),
            body(
                "extraData",
                JsonType::Object,
                false,
                "More data the template's Markdown can show (`{{extraData.…}}`).",
            ),
        ],
        body: Body::Params,
        writes: true,
        ..MethodDef::template(
            "Timeline",
            fixed_path("/integrators/timeline/v3/events"),
            sets(&[&["timeline"]]),
            event_schema(),
        )
    }]
}
