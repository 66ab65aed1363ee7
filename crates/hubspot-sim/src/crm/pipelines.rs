//! Pipelines of deals and tickets: `/crm/v3/pipelines/{objectType}` and
//! `/crm/pipelines/2026-03/{objectType}`.
//!
//! Each object store of a kind with pipelines (deals, tickets) holds its [`Pipelines`].
//! They drive validation: a deal's `dealstage` must be a stage of its `pipeline`
//! (default `default`), a ticket's `hs_pipeline_stage` a stage of its `hs_pipeline`
//! (default `0`). The enumeration options of those four properties are kept equal to
//! the live pipelines and stages (so the properties API shows them and an unknown id
//! is an `INVALID_OPTION`); [`check_changes`] then checks that the stage belongs to
//! the record's pipeline.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value, json};

use crate::crm::http::{self, Access, json_body, respond};
use crate::crm::schema::{DEAL_STAGES, ObjectKind, PropOption, TICKET_STAGES};
use crate::crm::store::{Changes, ObjectStore, PropError, property_errors};
use crate::crm::time;
use crate::errors::ApiError;
use crate::state::{Sim, now_ms};

/// Ids of created pipelines and stages start here (one sequence per object type).
const FIRST_GENERATED_ID: u64 = 100_000_001;

/// A pipeline stage.
#[derive(Debug, Clone)]
pub struct Stage {
    pub id: String,
    pub label: String,
    pub display_order: i64,
    /// Values as strings, as HubSpot returns them (`probability`, `isClosed`,
    /// `ticketState`).
    pub metadata: Map<String, Value>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A pipeline.
#[derive(Debug, Clone)]
pub struct Pipeline {
    pub id: String,
    pub label: String,
    pub display_order: i64,
    pub stages: Vec<Stage>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The pipelines of one object type in one portal.
#[derive(Debug, Clone, Default)]
pub struct Pipelines {
    pub list: Vec<Pipeline>,
    next_id: u64,
}

/// Probabilities of the default deal stages (ids and labels: [`DEAL_STAGES`]).
const DEFAULT_DEAL_PROBABILITIES: [&str; 7] = ["0.2", "0.4", "0.6", "0.8", "0.9", "1.0", "0.0"];

/// `ticketState` of the default ticket stages (ids, UNCONFIRMED, and labels:
/// [`TICKET_STAGES`]).
const DEFAULT_TICKET_STATES: [&str; 4] = ["OPEN", "OPEN", "OPEN", "CLOSED"];

/// Whether an object type has pipelines.
pub fn has_pipelines(kind: ObjectKind) -> bool {
    matches!(kind, ObjectKind::Deals | ObjectKind::Tickets)
}

/// `(pipeline property, stage property, default pipeline id)` of a kind with pipelines.
pub fn properties_of(kind: ObjectKind) -> Option<(&'static str, &'static str, &'static str)> {
    match kind {
        ObjectKind::Deals => Some(("pipeline", "dealstage", "default")),
        ObjectKind::Tickets => Some(("hs_pipeline", "hs_pipeline_stage", "0")),
        _ => None,
    }
}

fn deal_metadata(probability: &str) -> Map<String, Value> {
    let closed = probability
        .parse::<f64>()
        .is_ok_and(|p| p == 0.0 || p == 1.0);
    let mut m = Map::new();
    m.insert("isClosed".into(), json!(closed.to_string()));
    m.insert("probability".into(), json!(probability));
    m
}

fn ticket_metadata(state: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("ticketState".into(), json!(state));
    m
}

impl Pipelines {
    /// The default pipelines of `kind` (none for kinds without pipelines).
    pub fn defaults(kind: ObjectKind) -> Self {
        let stages =
            |rows: &[(&str, &str)], extra: &[&str], meta: fn(&str) -> Map<String, Value>| {
                rows.iter()
                    .zip(extra)
                    .enumerate()
                    .map(|(i, ((id, label), m))| Stage {
                        id: (*id).to_owned(),
                        label: (*label).to_owned(),
                        display_order: i64::try_from(i).unwrap_or_default(),
                        metadata: meta(m),
                        created_at: 0,
                        updated_at: 0,
                    })
                    .collect()
            };
        let pipeline = |id: &str, label: &str, stages: Vec<Stage>| Pipeline {
            id: id.to_owned(),
            label: label.to_owned(),
            display_order: 0,
            stages,
            created_at: 0,
            updated_at: 0,
        };
        let list = match kind {
            ObjectKind::Deals => vec![pipeline(
                "default",
                "Sales Pipeline",
                stages(DEAL_STAGES, &DEFAULT_DEAL_PROBABILITIES, deal_metadata),
            )],
            ObjectKind::Tickets => vec![pipeline(
                "0",
                "Support Pipeline",
                stages(TICKET_STAGES, &DEFAULT_TICKET_STATES, ticket_metadata),
            )],
            _ => Vec::new(),
        };
        Self {
            list,
            next_id: FIRST_GENERATED_ID,
        }
    }

    fn generate_id(&mut self) -> String {
        let id = self.next_id;
        self.next_id += 1;
        id.to_string()
    }

    pub fn find(&self, id: &str) -> Option<&Pipeline> {
        self.list.iter().find(|p| p.id == id)
    }

    fn position(&self, id: &str) -> Option<usize> {
        self.list.iter().position(|p| p.id == id)
    }
}

/// Makes the enumeration options of the pipeline and stage properties equal to the
/// live pipelines (called whenever they change, and when a store is created).
pub fn sync_options(store: &mut ObjectStore) {
    let Some((pipeline_prop, stage_prop, _)) = properties_of(store.kind) else {
        return;
    };
    let mut sorted: Vec<&Pipeline> = store.pipelines.list.iter().collect();
    sorted.sort_by_key(|p| p.display_order);
    let pipelines: Vec<PropOption> = sorted
        .iter()
        .enumerate()
        .map(|(i, p)| PropOption {
            value: p.id.clone(),
            label: p.label.clone(),
            display_order: i64::try_from(i).unwrap_or_default(),
            hidden: false,
        })
        .collect();
    let stages: Vec<PropOption> = sorted
        .iter()
        .flat_map(|p| {
            let mut s: Vec<&Stage> = p.stages.iter().collect();
            s.sort_by_key(|s| s.display_order);
            s.into_iter()
        })
        .enumerate()
        .map(|(i, s)| PropOption {
            value: s.id.clone(),
            label: s.label.clone(),
            display_order: i64::try_from(i).unwrap_or_default(),
            hidden: false,
        })
        .collect();
    if let Some(idx) = store.any_prop_index(pipeline_prop) {
        store.props[usize::from(idx)].options = pipelines;
    }
    if let Some(idx) = store.any_prop_index(stage_prop) {
        store.props[usize::from(idx)].options = stages;
    }
}

/// Checks that the stage a write leaves on a record belongs to the pipeline it leaves
/// (`own_id`: the record being updated; None for a create). A missing pipeline counts
/// as the default one; a record without a stage passes.
pub fn check_changes(
    store: &ObjectStore,
    changes: &Changes,
    own_id: Option<u64>,
) -> Result<(), ApiError> {
    let Some((pipeline_prop, stage_prop, default_id)) = properties_of(store.kind) else {
        return Ok(());
    };
    let (Some(p_idx), Some(s_idx)) = (
        store.prop_index(pipeline_prop),
        store.prop_index(stage_prop),
    ) else {
        return Ok(());
    };
    let touched = changes.iter().any(|(i, _)| *i == p_idx || *i == s_idx);
    if !touched {
        return Ok(());
    }
    let record = own_id.and_then(|id| store.live.get(&id));
    let value_of = |idx: u16| -> Option<String> {
        match changes.iter().rev().find(|(i, _)| *i == idx) {
            Some((_, v)) => v.as_deref().map(str::to_owned),
            None => record.and_then(|r| r.get(idx)).map(str::to_owned),
        }
    };
    let pipeline_id = value_of(p_idx).unwrap_or_else(|| default_id.to_owned());
    let Some(stage_id) = value_of(s_idx) else {
        return Ok(());
    };
    let Some(pipeline) = store.pipelines.find(&pipeline_id) else {
        return Err(property_errors(&[PropError {
            name: pipeline_prop.to_owned(),
            code: "INVALID_OPTION",
            message: format!("{pipeline_id} is not a valid pipeline"),
        }]));
    };
    if pipeline.stages.iter().any(|s| s.id == stage_id) {
        return Ok(());
    }
    let allowed: Vec<&str> = pipeline.stages.iter().map(|s| s.id.as_str()).collect();
    Err(property_errors(&[PropError {
        name: stage_prop.to_owned(),
        code: "INVALID_OPTION",
        message: format!(
            "{stage_id} is not a valid stage of pipeline {pipeline_id}; its stages are: [{}]",
            allowed.join(", ")
        ),
    }]))
}

// ---- JSON ------------------------------------------------------------------------

fn stage_json(s: &Stage) -> Value {
    json!({
        "id": s.id,
        "label": s.label,
        "displayOrder": s.display_order,
        "metadata": s.metadata,
        "createdAt": time::iso(s.created_at),
        "updatedAt": time::iso(s.updated_at),
        "archived": false,
        "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
    })
}

fn sorted_stages(p: &Pipeline) -> Vec<&Stage> {
    let mut s: Vec<&Stage> = p.stages.iter().collect();
    s.sort_by_key(|s| s.display_order);
    s
}

fn pipeline_json(p: &Pipeline) -> Value {
    json!({
        "id": p.id,
        "label": p.label,
        "displayOrder": p.display_order,
        "stages": sorted_stages(p).into_iter().map(stage_json).collect::<Vec<_>>(),
        "createdAt": time::iso(p.created_at),
        "updatedAt": time::iso(p.updated_at),
        "archived": false,
    })
}

// ---- inputs ----------------------------------------------------------------------

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::validation(message)
}

fn object(v: &Value) -> Result<&Map<String, Value>, ApiError> {
    v.as_object()
        .ok_or_else(|| bad("Invalid input JSON: the body must be an object"))
}

fn label_of(body: &Map<String, Value>, required: bool) -> Result<Option<String>, ApiError> {
    match body.get("label") {
        None | Some(Value::Null) if required => {
            Err(bad("Invalid input JSON: missing field `label`"))
        }
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.trim().to_owned())),
        Some(_) => Err(bad("label must be a non-empty string")),
    }
}

fn order_of(body: &Map<String, Value>, required: bool) -> Result<Option<i64>, ApiError> {
    match body.get("displayOrder") {
        None | Some(Value::Null) if required => {
            Err(bad("Invalid input JSON: missing field `displayOrder`"))
        }
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| bad(format!("displayOrder must be an integer, got {v}"))),
    }
}

/// Checks and normalizes a stage's metadata: deals need `probability` 0.0–1.0,
/// tickets `ticketState` OPEN or CLOSED. Values are kept as strings.
fn metadata_of(kind: ObjectKind, raw: Option<&Value>) -> Result<Map<String, Value>, ApiError> {
    let given = match raw {
        Some(Value::Object(m)) => m.clone(),
        None | Some(Value::Null) => Map::new(),
        Some(other) => return Err(bad(format!("metadata must be an object, got {other}"))),
    };
    let mut out = Map::new();
    for (k, v) in &given {
        let text = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => {
                return Err(bad(format!(
                    "metadata.{k} must be a string, number or boolean"
                )));
            }
        };
        out.insert(k.clone(), Value::String(text));
    }
    match kind {
        ObjectKind::Deals => {
            let p = out
                .get("probability")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("Deal stages require metadata.probability (0.0 to 1.0)"))?;
            let n: f64 = p
                .trim()
                .parse()
                .ok()
                .filter(|n: &f64| (0.0..=1.0).contains(n))
                .ok_or_else(|| {
                    bad(format!(
                        "metadata.probability must be a number from 0.0 to 1.0, got {p}"
                    ))
                })?;
            let closed = n == 0.0 || n == 1.0;
            out.entry("isClosed")
                .or_insert_with(|| Value::String(closed.to_string()));
        }
        ObjectKind::Tickets => {
            let state = out
                .get("ticketState")
                .and_then(Value::as_str)
                .map(str::to_ascii_uppercase)
                .ok_or_else(|| {
                    bad("Ticket stages require metadata.ticketState (OPEN or CLOSED)")
                })?;
            if state != "OPEN" && state != "CLOSED" {
                return Err(bad(format!(
                    "metadata.ticketState must be OPEN or CLOSED, got {state}"
                )));
            }
            out.insert("ticketState".into(), Value::String(state));
        }
        _ => {}
    }
    Ok(out)
}

/// A stage from a `PipelineStageInput` (`label`, `displayOrder`, `metadata`).
fn stage_input(kind: ObjectKind, v: &Value, now: i64) -> Result<Stage, ApiError> {
    let body = object(v)?;
    Ok(Stage {
        id: String::new(),
        label: label_of(body, true)?.unwrap_or_default(),
        display_order: order_of(body, true)?.unwrap_or_default(),
        metadata: metadata_of(kind, body.get("metadata"))?,
        created_at: now,
        updated_at: now,
    })
}

fn stages_input(
    kind: ObjectKind,
    body: &Map<String, Value>,
    now: i64,
) -> Result<Vec<Stage>, ApiError> {
    let list = match body.get("stages") {
        Some(Value::Array(a)) => a,
        None | Some(Value::Null) => return Err(bad("Invalid input JSON: missing field `stages`")),
        Some(other) => return Err(bad(format!("stages must be an array, got {other}"))),
    };
    if list.is_empty() {
        return Err(bad("A pipeline needs at least one stage"));
    }
    let stages = list
        .iter()
        .map(|s| stage_input(kind, s, now))
        .collect::<Result<Vec<_>, _>>()?;
    unique_labels(stages.iter().map(|s| s.label.as_str()), "stage")?;
    Ok(stages)
}

fn unique_labels<'a>(labels: impl Iterator<Item = &'a str>, what: &str) -> Result<(), ApiError> {
    let mut seen = std::collections::HashSet::new();
    for l in labels {
        if !seen.insert(l.to_lowercase()) {
            return Err(bad(format!("Duplicate {what} label: {l}")));
        }
    }
    Ok(())
}

fn conflict(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::CONFLICT, "CONFLICT", message)
}

fn pipeline_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Unable to find pipeline with id {id}"))
}

fn stage_not_found(pipeline: &str, id: &str) -> ApiError {
    ApiError::not_found(format!(
        "Unable to find stage with id {id} in pipeline {pipeline}"
    ))
}

/// How many live records sit in a pipeline (and, with `stage`, in that stage).
fn usage(store: &ObjectStore, pipeline: &str, stage: Option<&str>) -> usize {
    let Some((p_prop, s_prop, default_id)) = properties_of(store.kind) else {
        return 0;
    };
    let (Some(p_idx), Some(s_idx)) = (store.prop_index(p_prop), store.prop_index(s_prop)) else {
        return 0;
    };
    store
        .live
        .values()
        .filter(|r| r.get(p_idx).unwrap_or(default_id) == pipeline)
        .filter(|r| stage.is_none_or(|s| r.get(s_idx) == Some(s)))
        .count()
}

fn in_use(kind: ObjectKind, what: String, n: usize) -> ApiError {
    conflict(format!(
        "{what} cannot be deleted: {n} {} use it. Move them to another {} first.",
        kind.plural(),
        if what.starts_with("Stage") {
            "stage"
        } else {
            "pipeline"
        }
    ))
}

// ---- handlers --------------------------------------------------------------------

/// Authorizes a pipelines call: the object's read or write scopes; only deals and
/// tickets have pipelines (others → 400).
fn authorize(
    sim: &Sim,
    headers: &HeaderMap,
    object_type: &str,
    access: Access,
) -> Result<(crate::auth::Caller, ObjectKind), ApiError> {
    let (caller, kind) = http::authorize(sim, headers, object_type, access)?;
    if !has_pipelines(kind) {
        return Err(bad(format!(
            "Object type {object_type} does not support pipelines"
        )));
    }
    Ok((caller, kind))
}

/// Runs `f` on the object store of the caller's portal.
fn with_store<T>(
    sim: &Sim,
    portal: i64,
    kind: ObjectKind,
    f: impl FnOnce(&mut ObjectStore) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    sim.with(|s| f(s.crm.portal(portal).store_mut(kind)))
}

/// `GET /{objectType}`: `{results}` sorted by `displayOrder`.
pub async fn list(
    State(sim): State<Sim>,
    Path(object_type): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (caller, kind) = authorize(&sim, &headers, &object_type, Access::Read)?;
    let body = with_store(&sim, caller.portal.id, kind, |store| {
        let mut list: Vec<&Pipeline> = store.pipelines.list.iter().collect();
        list.sort_by_key(|p| p.display_order);
        Ok(json!({"results": list.into_iter().map(pipeline_json).collect::<Vec<_>>()}))
    })?;
    Ok(respond(&caller, StatusCode::OK, body))
}

/// `POST /{objectType}` `{label, displayOrder, stages}` → 201.
pub async fn create(
    State(sim): State<Sim>,
    Path(object_type): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (caller, kind) = authorize(&sim, &headers, &object_type, Access::Write)?;
    let body = json_body(&headers, &body)?;
    let body = object(&body)?;
    let now = now_ms();
    let label = label_of(body, true)?.unwrap_or_default();
    let display_order = order_of(body, true)?.unwrap_or_default();
    let stages = stages_input(kind, body, now)?;
    let json = with_store(&sim, caller.portal.id, kind, |store| {
        if store
            .pipelines
            .list
            .iter()
            .any(|p| p.label.eq_ignore_ascii_case(&label))
        {
            return Err(conflict(format!(
                "A pipeline with label {label} already exists"
            )));
        }
        let id = store.pipelines.generate_id();
        let stages = stages
            .into_iter()
            .map(|mut s| {
                s.id = store.pipelines.generate_id();
                s
            })
            .collect();
        let p = Pipeline {
            id,
            label,
            display_order,
            stages,
            created_at: now,
            updated_at: now,
        };
        let json = pipeline_json(&p);
        store.pipelines.list.push(p);
        sync_options(store);
        Ok(json)
    })?;
    Ok(respond(&caller, StatusCode::CREATED, json))
}

/// `GET /{objectType}/{pipelineId}`.
pub async fn get_one(
    State(sim): State<Sim>,
    Path((object_type, pipeline_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (caller, kind) = authorize(&sim, &headers, &object_type, Access::Read)?;
    let body = with_store(&sim, caller.portal.id, kind, |store| {
        store
            .pipelines
            .find(&pipeline_id)
            .map(pipeline_json)
            .ok_or_else(|| pipeline_not_found(&pipeline_id))
    })?;
    Ok(respond(&caller, StatusCode::OK, body))
}

/// `PUT /{objectType}/{pipelineId}` `{label, displayOrder, stages}`: replaces the
/// pipeline. A stage whose label matches an existing stage keeps that stage's id; the
/// others get new ids; a dropped stage that live records use → 409.
pub async fn replace(
    State(sim): State<Sim>,
    Path((object_type, pipeline_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (caller, kind) = authorize(&sim, &headers, &object_type, Access::Write)?;
    let body = json_body(&headers, &body)?;
    let body = object(&body)?;
    let now = now_ms();
    let label = label_of(body, true)?.unwrap_or_default();
    let display_order = order_of(body, true)?.unwrap_or_default();
    let stages = stages_input(kind, body, now)?;
    let json = with_store(&sim, caller.portal.id, kind, |store| {
        let pos = store
            .pipelines
            .position(&pipeline_id)
            .ok_or_else(|| pipeline_not_found(&pipeline_id))?;
        if store
            .pipelines
            .list
            .iter()
            .any(|p| p.id != pipeline_id && p.label.eq_ignore_ascii_case(&label))
        {
            return Err(conflict(format!(
                "A pipeline with label {label} already exists"
            )));
        }
        let old = store.pipelines.list[pos].stages.clone();
        let mut new_stages = Vec::with_capacity(stages.len());
        for mut s in stages {
            match old.iter().find(|o| o.label.eq_ignore_ascii_case(&s.label)) {
                Some(o) => {
                    s.id = o.id.clone();
                    s.created_at = o.created_at;
                }
                None => s.id = store.pipelines.generate_id(),
            }
            new_stages.push(s);
        }
        for o in &old {
            if !new_stages.iter().any(|s| s.id == o.id) {
                let n = usage(store, &pipeline_id, Some(&o.id));
                if n > 0 {
                    return Err(in_use(kind, format!("Stage {}", o.id), n));
                }
            }
        }
        let p = &mut store.pipelines.list[pos];
        p.label = label;
        p.display_order = display_order;
        p.stages = new_stages;
        p.updated_at = now;
        let json = pipeline_json(p);
        sync_options(store);
        Ok(json)
    })?;
    Ok(respond(&caller, StatusCode::OK, json))
}

/// `PATCH /{objectType}/{pipelineId}` `{label?, displayOrder?}` (`archived` is ignored).
pub async fn update(
    State(sim): State<Sim>,
    Path((object_type, pipeline_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (caller, kind) = authorize(&sim, &headers, &object_type, Access::Write)?;
    let body = json_body(&headers, &body)?;
    let body = object(&body)?;
    let label = label_of(body, false)?;
    let display_order = order_of(body, false)?;
    let json = with_store(&sim, caller.portal.id, kind, |store| {
        let pos = store
            .pipelines
            .position(&pipeline_id)
            .ok_or_else(|| pipeline_not_found(&pipeline_id))?;
        if let Some(l) = &label
            && store
                .pipelines
                .list
                .iter()
                .any(|p| p.id != pipeline_id && p.label.eq_ignore_ascii_case(l))
        {
            return Err(conflict(format!(
                "A pipeline with label {l} already exists"
            )));
        }
        let p = &mut store.pipelines.list[pos];
        if let Some(l) = label {
            p.label = l;
        }
        if let Some(o) = display_order {
            p.display_order = o;
        }
        p.updated_at = now_ms();
        let json = pipeline_json(p);
        sync_options(store);
        Ok(json)
    })?;
    Ok(respond(&caller, StatusCode::OK, json))
}

/// `DELETE /{objectType}/{pipelineId}` → 204. The default pipeline and the last
/// pipeline cannot be deleted (400); a pipeline that live records use → 409.
pub async fn delete(
    State(sim): State<Sim>,
    Path((object_type, pipeline_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (caller, kind) = authorize(&sim, &headers, &object_type, Access::Write)?;
    with_store(&sim, caller.portal.id, kind, |store| {
        let pos = store
            .pipelines
            .position(&pipeline_id)
            .ok_or_else(|| pipeline_not_found(&pipeline_id))?;
        let default_id = properties_of(kind).map_or("", |(_, _, d)| d);
        if pipeline_id == default_id {
            return Err(bad(format!(
                "The default pipeline {pipeline_id} cannot be deleted"
            )));
        }
        if store.pipelines.list.len() == 1 {
            return Err(bad("The last pipeline cannot be deleted"));
        }
        let n = usage(store, &pipeline_id, None);
        if n > 0 {
            return Err(in_use(kind, format!("Pipeline {pipeline_id}"), n));
        }
        store.pipelines.list.remove(pos);
        sync_options(store);
        Ok(())
    })?;
    Ok(http::no_content(&caller))
}

/// `GET /{objectType}/{pipelineId}/stages` → `{results}`.
pub async fn list_stages(
    State(sim): State<Sim>,
    Path((object_type, pipeline_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (caller, kind) = authorize(&sim, &headers, &object_type, Access::Read)?;
    let body = with_store(&sim, caller.portal.id, kind, |store| {
        let p = store
            .pipelines
            .find(&pipeline_id)
            .ok_or_else(|| pipeline_not_found(&pipeline_id))?;
        Ok(json!({"results": sorted_stages(p).into_iter().map(stage_json).collect::<Vec<_>>()}))
    })?;
    Ok(respond(&caller, StatusCode::OK, body))
}

/// `POST /{objectType}/{pipelineId}/stages` `{label, displayOrder, metadata}` → 201.
pub async fn create_stage(
    State(sim): State<Sim>,
    Path((object_type, pipeline_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (caller, kind) = authorize(&sim, &headers, &object_type, Access::Write)?;
    let body = json_body(&headers, &body)?;
    let mut stage = stage_input(kind, &body, now_ms())?;
    let json = with_store(&sim, caller.portal.id, kind, |store| {
        let pos = store
            .pipelines
            .position(&pipeline_id)
            .ok_or_else(|| pipeline_not_found(&pipeline_id))?;
        if store.pipelines.list[pos]
            .stages
            .iter()
            .any(|s| s.label.eq_ignore_ascii_case(&stage.label))
        {
            return Err(conflict(format!(
                "A stage with label {} already exists in pipeline {pipeline_id}",
                stage.label
            )));
        }
        stage.id = store.pipelines.generate_id();
        let json = stage_json(&stage);
        let p = &mut store.pipelines.list[pos];
        p.stages.push(stage);
        p.updated_at = now_ms();
        sync_options(store);
        Ok(json)
    })?;
    Ok(respond(&caller, StatusCode::CREATED, json))
}

/// `GET /{objectType}/{pipelineId}/stages/{stageId}`.
pub async fn get_stage(
    State(sim): State<Sim>,
    Path((object_type, pipeline_id, stage_id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (caller, kind) = authorize(&sim, &headers, &object_type, Access::Read)?;
    let body = with_store(&sim, caller.portal.id, kind, |store| {
        let p = store
            .pipelines
            .find(&pipeline_id)
            .ok_or_else(|| pipeline_not_found(&pipeline_id))?;
        p.stages
            .iter()
            .find(|s| s.id == stage_id)
            .map(stage_json)
            .ok_or_else(|| stage_not_found(&pipeline_id, &stage_id))
    })?;
    Ok(respond(&caller, StatusCode::OK, body))
}

/// `PUT` (all of `label`, `displayOrder`, `metadata`) or `PATCH` (any of them) of a stage.
async fn change_stage(
    sim: Sim,
    (object_type, pipeline_id, stage_id): (String, String, String),
    headers: HeaderMap,
    body: Bytes,
    replace: bool,
) -> Result<Response, ApiError> {
    let (caller, kind) = authorize(&sim, &headers, &object_type, Access::Write)?;
    let body = json_body(&headers, &body)?;
    let body = object(&body)?;
    let label = label_of(body, replace)?;
    let display_order = order_of(body, replace)?;
    let metadata = match body.get("metadata") {
        None | Some(Value::Null) if !replace => None,
        m => Some(metadata_of(kind, m)?),
    };
    let json = with_store(&sim, caller.portal.id, kind, |store| {
        let pos = store
            .pipelines
            .position(&pipeline_id)
            .ok_or_else(|| pipeline_not_found(&pipeline_id))?;
        let p = &mut store.pipelines.list[pos];
        if let Some(l) = &label
            && p.stages
                .iter()
                .any(|s| s.id != stage_id && s.label.eq_ignore_ascii_case(l))
        {
            return Err(conflict(format!(
                "A stage with label {l} already exists in pipeline {pipeline_id}"
            )));
        }
        let stage = p
            .stages
            .iter_mut()
            .find(|s| s.id == stage_id)
            .ok_or_else(|| stage_not_found(&pipeline_id, &stage_id))?;
        if let Some(l) = label {
            stage.label = l;
        }
        if let Some(o) = display_order {
            stage.display_order = o;
        }
        if let Some(m) = metadata {
            stage.metadata = m;
        }
        let now = now_ms();
        stage.updated_at = now;
        let json = stage_json(stage);
        p.updated_at = now;
        sync_options(store);
        Ok(json)
    })?;
    Ok(respond(&caller, StatusCode::OK, json))
}

/// `PUT /{objectType}/{pipelineId}/stages/{stageId}`.
pub async fn replace_stage(
    State(sim): State<Sim>,
    Path(path): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    change_stage(sim, path, headers, body, true).await
}

/// `PATCH /{objectType}/{pipelineId}/stages/{stageId}`.
pub async fn update_stage(
    State(sim): State<Sim>,
    Path(path): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    change_stage(sim, path, headers, body, false).await
}

/// `DELETE /{objectType}/{pipelineId}/stages/{stageId}` → 204; the last stage of a
/// pipeline → 400; a stage that live records use → 409.
pub async fn delete_stage(
    State(sim): State<Sim>,
    Path((object_type, pipeline_id, stage_id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (caller, kind) = authorize(&sim, &headers, &object_type, Access::Write)?;
    with_store(&sim, caller.portal.id, kind, |store| {
        let pos = store
            .pipelines
            .position(&pipeline_id)
            .ok_or_else(|| pipeline_not_found(&pipeline_id))?;
        let p = &store.pipelines.list[pos];
        let at = p
            .stages
            .iter()
            .position(|s| s.id == stage_id)
            .ok_or_else(|| stage_not_found(&pipeline_id, &stage_id))?;
        if p.stages.len() == 1 {
            return Err(bad("The last stage of a pipeline cannot be deleted"));
        }
        let n = usage(store, &pipeline_id, Some(&stage_id));
        if n > 0 {
            return Err(in_use(kind, format!("Stage {stage_id}"), n));
        }
        let p = &mut store.pipelines.list[pos];
        p.stages.remove(at);
        p.updated_at = now_ms();
        sync_options(store);
        Ok(())
    })?;
    Ok(http::no_content(&caller))
}

/// Pipelines API path prefixes: classic and date-versioned.
const PIPELINE_BASES: [&str; 2] = ["/crm/v3/pipelines", "/crm/pipelines/2026-03"];

/// The pipelines routes.
pub fn routes() -> axum::Router<Sim> {
    use axum::routing::get;
    let mut router = axum::Router::new();
    for base in PIPELINE_BASES {
        router = router
            .route(&format!("{base}/{{object_type}}"), get(list).post(create))
            .route(
                &format!("{base}/{{object_type}}/{{pipeline_id}}"),
                get(get_one).put(replace).patch(update).delete(delete),
            )
            .route(
                &format!("{base}/{{object_type}}/{{pipeline_id}}/stages"),
                get(list_stages).post(create_stage),
            )
            .route(
                &format!("{base}/{{object_type}}/{{pipeline_id}}/stages/{{stage_id}}"),
                get(get_stage)
                    .put(replace_stage)
                    .patch(update_stage)
                    .delete(delete_stage),
            );
    }
    router
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_schema_options() {
        for kind in [ObjectKind::Deals, ObjectKind::Tickets] {
            let p = Pipelines::defaults(kind);
            assert_eq!(p.list.len(), 1);
            assert_eq!(p.list[0].created_at, 0);
            assert!(metadata_of(kind, None).is_err());
        }
        let deals = Pipelines::defaults(ObjectKind::Deals);
        assert_eq!(deals.list[0].id, "default");
        assert_eq!(deals.list[0].stages.len(), 7);
        assert_eq!(deals.list[0].stages[5].metadata["isClosed"], "true");
        assert!(metadata_of(ObjectKind::Deals, Some(&json!({"probability": 1.5}))).is_err());
        assert_eq!(
            metadata_of(ObjectKind::Deals, Some(&json!({"probability": 0.5})))
                .ok()
                .and_then(|m| m.get("probability").cloned()),
            Some(json!("0.5"))
        );
        assert!(metadata_of(ObjectKind::Tickets, Some(&json!({"ticketState": "x"}))).is_err());
    }
}
