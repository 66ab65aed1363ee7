//! Pipelines: the deal and ticket pipelines of the portal and their stages (the values of a
//! deal's `pipeline` / `dealstage` and a ticket's `hs_pipeline` / `hs_pipeline_stage`).

use serde_json::{Value, json};

use super::associations::object;
use super::crm::{param, sets, stamped};
use super::properties::results_of;
use super::{ApiPath, Family, JsonType, Location, MethodDef};

const CATEGORY: &str = "Pipelines";

fn stage_schema() -> Value {
    json!({"type": "object", "properties": {
        "id": {"type": "string", "description": "The stage id, the value of `dealstage` / `hs_pipeline_stage`."},
        "label": {"type": "string"},
        "displayOrder": {"type": "integer"},
        "metadata": {"type": "object", "description": "Strings: deals `probability` and `isClosed`, tickets `ticketState` (OPEN or CLOSED).", "additionalProperties": {"type": "string"}},
        "createdAt": {"type": "string", "format": "date-time"},
        "updatedAt": {"type": "string", "format": "date-time"},
        "archived": {"type": "boolean"},
        "writePermissions": {"type": "string"}
    }})
}

fn pipeline_schema() -> Value {
    stamped(json!({"type": "object", "properties": {
        "id": {"type": "string", "description": "The pipeline id, the value of `pipeline` / `hs_pipeline`."},
        "label": {"type": "string"},
        "displayOrder": {"type": "integer"},
        "stages": {"type": "array", "items": stage_schema()}
    }}))
}

fn pipelines_path(rest: String) -> ApiPath {
    ApiPath {
        family: Family::Pipelines,
        rest,
    }
}

fn pipelines_of(plural: &str, singular: &str, default: &str) -> MethodDef {
    MethodDef {
        id: format!("{plural}.pipelines"),
        name: format!("List {singular} Pipelines"),
        description: format!(
            "Every {} pipeline with its stages, in display order (`results`; the default pipeline's id is `{default}`).",
            singular.to_lowercase()
        ),
        ..MethodDef::template(
            CATEGORY,
            pipelines_path(format!("/{plural}")),
            sets(object(plural).read),
            results_of(pipeline_schema()),
        )
    }
}

pub(super) fn methods() -> Vec<MethodDef> {
    vec![
        pipelines_of("deals", "Deal", "default"),
        pipelines_of("tickets", "Ticket", "0"),
        MethodDef {
            id: "deals.stages".into(),
            name: "List Deal Stages".into(),
            description: "The stages of one deal pipeline, in display order (`results`).".into(),
            path: pipelines_path("/deals/{pipelineId}/stages".into()),
            params: vec![param(
                "pipelineId",
                Location::Path,
                JsonType::String,
                true,
                "The deal pipeline id (`default` for the portal's default pipeline).",
            )],
            output: results_of(stage_schema()),
            ..pipelines_of("deals", "Deal", "default")
        },
    ]
}
