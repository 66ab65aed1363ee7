//! The CRM objects API: `/crm/v3/objects/{objectType}` and `/crm/objects/2026-03/{objectType}`.

use std::collections::HashSet;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::crm::associations;
use crate::crm::events::Events;
use crate::crm::http::{
    self, Access, MAX_LIMIT_WITH_HISTORY, ObjectQuery, id_text, input, json_body, respond,
};
use crate::crm::schema::ObjectKind;
use crate::crm::store::{Changes, ObjectStore, PortalCrm, Selection, normalize_unique, not_found};
use crate::crm::time;
use crate::errors::ApiError;
use crate::state::{Sim, now_ms};

/// `GET /{objectType}`: one page of records in id order.
pub async fn list(
    State(sim): State<Sim>,
    Path(object_type): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (caller, kind) = http::authorize(&sim, &headers, &object_type, Access::Read)?;
    let q = ObjectQuery::parse(query.as_deref())?;
    let limit = q.page_size()?;
    let after = q.after_id()?;
    if !q.associations.is_empty() {
        return list_with_associations(&sim, &caller, kind, &q, (after, limit));
    }
    // Serialized under the lock straight from the store: no `Value` per record.
    let body = sim.with(|s| {
        let store = s.crm.portal(caller.portal.id).store(kind);
        let sel = store.selection(&q.properties, &q.history);
        let map = if q.archived {
            &store.archived
        } else {
            &store.live
        };
        let mut results = Vec::with_capacity(limit);
        let mut next = None;
        for (id, rec) in map.range(after..) {
            if results.len() == limit {
                next = Some(*id);
                break;
            }
            results.push(store.record_view(*id, rec, &sel));
        }
        let paging =
            next.map(|n| json!({"next": {"after": n.to_string(), "link": format!("?after={n}")}}));
        serde_json::to_vec(&Page { results, paging })
    });
    let body = body.map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_ERROR",
            e.to_string(),
        )
    })?;
    Ok((
        caller.rate_limit_headers(),
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response())
}

/// A list page with `associations=`: records built as JSON values.
fn list_with_associations(
    sim: &Sim,
    caller: &crate::auth::Caller,
    kind: ObjectKind,
    q: &ObjectQuery,
    (after, limit): (u64, usize),
) -> Result<Response, ApiError> {
    let body = sim.with(|s| {
        let crm: &PortalCrm = s.crm.portal(caller.portal.id);
        let store = crm.store(kind);
        let sel = store.selection(&q.properties, &q.history);
        let map = if q.archived {
            &store.archived
        } else {
            &store.live
        };
        let mut results = Vec::with_capacity(limit);
        let mut next = None;
        for (id, rec) in map.range(after..) {
            if results.len() == limit {
                next = Some(*id);
                break;
            }
            let mut record = store.record_json(*id, rec, &sel);
            associations::attach(crm, kind, &mut record, &q.associations);
            results.push(record);
        }
        let mut body = json!({ "results": results });
        if let (Some(n), Some(obj)) = (next, body.as_object_mut()) {
            obj.insert(
                "paging".into(),
                json!({"next": {"after": n.to_string(), "link": format!("?after={n}")}}),
            );
        }
        body
    });
    Ok(respond(caller, StatusCode::OK, body))
}

/// A page of records.
#[derive(serde::Serialize)]
struct Page<'a> {
    results: Vec<crate::crm::store::RecordView<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    paging: Option<Value>,
}

/// Resolves a record reference: an id, or a unique property value with `idProperty`.
/// `archived` looks among archived records instead.
fn resolve(
    store: &ObjectStore,
    reference: &str,
    id_property: Option<&str>,
    archived: bool,
) -> Result<Option<u64>, ApiError> {
    match id_property {
        None | Some("hs_object_id") => {
            let id = reference.trim().parse::<u64>().ok();
            let map = if archived {
                &store.archived
            } else {
                &store.live
            };
            Ok(id.filter(|id| map.contains_key(id)))
        }
        Some(name) => {
            let idx = store
                .prop_index(name)
                .filter(|i| store.is_unique(*i))
                .ok_or_else(|| {
                    ApiError::validation(format!(
                        "Property \"{name}\" does not exist or is not a unique property; it cannot be used as idProperty"
                    ))
                })?;
            if archived {
                // Archived records are not indexed: a scan, on this rare path only.
                let def = store.def(idx);
                let wanted = normalize_unique(def, reference);
                Ok(store
                    .archived
                    .iter()
                    .find(|(_, r)| {
                        r.get(idx)
                            .is_some_and(|v| normalize_unique(def, v) == wanted)
                    })
                    .map(|(id, _)| *id))
            } else {
                Ok(store.find_unique(idx, reference))
            }
        }
    }
}

/// `GET /{objectType}/{id}`.
pub async fn get_one(
    State(sim): State<Sim>,
    Path((object_type, reference)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (caller, kind) = http::authorize(&sim, &headers, &object_type, Access::Read)?;
    let q = ObjectQuery::parse(query.as_deref())?;
    let body = sim.with(|s| {
        let crm: &PortalCrm = s.crm.portal(caller.portal.id);
        let store = crm.store(kind);
        let id = resolve(store, &reference, q.id_property.as_deref(), q.archived)?
            .ok_or_else(|| not_found(kind, &reference))?;
        let map = if q.archived {
            &store.archived
        } else {
            &store.live
        };
        let rec = map.get(&id).ok_or_else(|| not_found(kind, id))?;
        let sel = store.selection(&q.properties, &q.history);
        let mut record = store.record_json(id, rec, &sel);
        associations::attach(crm, kind, &mut record, &q.associations);
        Ok::<_, ApiError>(record)
    })?;
    Ok(respond(&caller, StatusCode::OK, body))
}

/// The default properties plus those written.
fn written_selection(store: &ObjectStore, changes: &Changes) -> Selection {
    let mut sel = store.selection(&[], &[]);
    for (idx, _) in changes {
        if !sel.props.contains(idx) {
            sel.props.push(*idx);
        }
    }
    sel
}

/// A `properties` map from a body value (absent → empty).
fn properties_of(v: Option<&Value>) -> Result<Map<String, Value>, ApiError> {
    match v {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(m)) => Ok(m.clone()),
        Some(other) => Err(ApiError::validation(format!(
            "Invalid input JSON: properties must be an object, got {other}"
        ))),
    }
}

/// Validates a create against the store (and, for line items, its product).
pub(crate) fn prepare_create(
    crm: &PortalCrm,
    kind: ObjectKind,
    mut props: Map<String, Value>,
    batch: &mut HashSet<(u16, Box<str>)>,
) -> Result<Changes, ApiError> {
    if kind == ObjectKind::LineItems {
        crm.fill_from_product(&mut props)?;
    }
    let store = crm.store(kind);
    let changes = store.validate(&props, true)?;
    store.check_unique(&changes, None, batch)?;
    Ok(changes)
}

/// Creates a record from validated changes; returns its id and JSON.
fn insert(
    crm: &mut PortalCrm,
    kind: ObjectKind,
    changes: Changes,
    (app, now): (i64, i64),
    ev: &mut Events,
) -> (u64, Value) {
    let id = crm.alloc_id();
    let store = crm.store_mut(kind);
    let sel = written_selection(store, &changes);
    ev.created(store, id, &changes);
    store.insert(id, changes, now, app);
    let json = store
        .live
        .get(&id)
        .map(|r| store.record_json(id, r, &sel))
        .unwrap_or(Value::Null);
    (id, json)
}

/// Updates a live record from validated changes; returns its JSON.
fn apply_update(
    crm: &mut PortalCrm,
    kind: ObjectKind,
    (id, changes): (u64, Changes),
    (app, now): (i64, i64),
    ev: &mut Events,
) -> Value {
    let store = crm.store_mut(kind);
    let sel = written_selection(store, &changes);
    let changed = store.update(id, changes, now, app);
    ev.changed(store, id, &changed);
    store
        .live
        .get(&id)
        .map(|r| store.record_json(id, r, &sel))
        .unwrap_or(Value::Null)
}

/// `POST /{objectType}`: 201 with the new record.
pub async fn create(
    State(sim): State<Sim>,
    Path(object_type): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (caller, kind) = http::authorize(&sim, &headers, &object_type, Access::Write)?;
    let body = json_body(&headers, &body)?;
    let props = properties_of(body.get("properties"))?;
    let app = caller.token.app_id;
    let (record, ev) = sim.with(|s| {
        let mut ev = Events::new(s, kind, app);
        let crm = s.crm.portal(caller.portal.id);
        let changes = prepare_create(crm, kind, props, &mut HashSet::new())?;
        let planned = associations::plan_create(crm, kind, body.get("associations"))?;
        let (id, record) = insert(crm, kind, changes, (app, now_ms()), &mut ev);
        associations::apply_create(crm, kind, id, planned, &mut ev);
        Ok::<_, ApiError>((record, ev))
    })?;
    ev.emit(&sim, caller.portal.id);
    Ok(respond(&caller, StatusCode::CREATED, record))
}

/// `PATCH /{objectType}/{id}[?idProperty=]`.
pub async fn update(
    State(sim): State<Sim>,
    Path((object_type, reference)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (caller, kind) = http::authorize(&sim, &headers, &object_type, Access::Write)?;
    let q = ObjectQuery::parse(query.as_deref())?;
    let body = json_body(&headers, &body)?;
    let props = properties_of(body.get("properties"))?;
    let app = caller.token.app_id;
    let (record, ev) = sim.with(|s| {
        let mut ev = Events::new(s, kind, app);
        let crm = s.crm.portal(caller.portal.id);
        let store = crm.store(kind);
        let id = resolve(store, &reference, q.id_property.as_deref(), false)?
            .ok_or_else(|| not_found(kind, &reference))?;
        let changes = store.validate(&props, false)?;
        store.check_unique(&changes, Some(id), &mut HashSet::new())?;
        let record = apply_update(crm, kind, (id, changes), (app, now_ms()), &mut ev);
        Ok::<_, ApiError>((record, ev))
    })?;
    ev.emit(&sim, caller.portal.id);
    Ok(respond(&caller, StatusCode::OK, record))
}

/// `DELETE /{objectType}/{id}`: 204, also for ids that are unknown or already archived.
pub async fn archive(
    State(sim): State<Sim>,
    Path((object_type, reference)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (caller, kind) = http::authorize(&sim, &headers, &object_type, Access::Write)?;
    if let Ok(id) = reference.trim().parse::<u64>() {
        let ev = sim.with(|s| {
            let mut ev = Events::new(s, kind, caller.token.app_id);
            let crm = s.crm.portal(caller.portal.id);
            if crm.store_mut(kind).archive(id, now_ms()) {
                crm.associations.remove_record((kind, id));
                ev.deleted(kind, id);
            }
            ev
        });
        ev.emit(&sim, caller.portal.id);
    }
    Ok(http::no_content(&caller))
}

/// `POST /{objectType}/{segment}`: `merge`, and `gdpr-delete` for contacts.
pub async fn post_action(
    State(sim): State<Sim>,
    Path((object_type, segment)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let kind = ObjectKind::parse(&object_type);
    match (segment.as_str(), kind) {
        ("merge", Some(k)) if k.mergeable() => merge(&sim, &object_type, &headers, &body),
        ("gdpr-delete", Some(ObjectKind::Contacts)) => {
            gdpr_delete(&sim, &object_type, &headers, &body)
        }
        ("merge" | "gdpr-delete", _) => Err(ApiError::not_found("Resource not found")),
        _ => Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "VALIDATION_ERROR",
            "HTTP method not allowed for this resource",
        )),
    }
}

/// `POST /{objectType}/merge` `{primaryObjectId, objectIdToMerge}`: the primary record
/// keeps its id and takes the merged record's values it lacks (unique ones excepted);
/// the merged record is deleted.
fn merge(
    sim: &Sim,
    object_type: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, ApiError> {
    let (caller, kind) = http::authorize(sim, headers, object_type, Access::Write)?;
    let body = json_body(headers, body)?;
    let id_of = |field: &str| {
        body.get(field).and_then(id_text).ok_or_else(|| {
            ApiError::validation(format!("Invalid input JSON: missing field `{field}`"))
        })
    };
    let (primary, merged) = (id_of("primaryObjectId")?, id_of("objectIdToMerge")?);
    let app = caller.token.app_id;
    let (record, ev) = sim.with(|s| {
        let mut ev = Events::new(s, kind, app);
        let crm = s.crm.portal(caller.portal.id);
        let store = crm.store_mut(kind);
        let p = resolve(store, &primary, None, false)?.ok_or_else(|| not_found(kind, &primary))?;
        let m = resolve(store, &merged, None, false)?.ok_or_else(|| not_found(kind, &merged))?;
        if p == m {
            return Err(ApiError::validation(format!(
                "Cannot merge {} {p} into itself",
                kind.singular()
            )));
        }
        let (Some(prim), Some(sec)) = (store.live.get(&p), store.live.get(&m)) else {
            return Err(not_found(kind, p));
        };
        let changes: Changes = sec
            .values
            .iter()
            .filter(|(idx, _)| prim.get(*idx).is_none() && !store.is_unique(*idx))
            .map(|(idx, v)| (idx, Some(v.into())))
            .collect();
        store.purge(m);
        let now = now_ms();
        store.update(p, changes, now, app);
        ev.merged(kind, p, m);
        let sel = store.selection(&[], &[]);
        let record = store
            .live
            .get(&p)
            .map(|r| store.record_json(p, r, &sel))
            .unwrap_or(Value::Null);
        crm.associations.merge_into(kind, m, p);
        Ok((record, ev))
    })?;
    ev.emit(sim, caller.portal.id);
    Ok(respond(&caller, StatusCode::OK, record))
}

/// `POST /contacts/gdpr-delete` `{objectId, idProperty?}`: deletes for good; 204.
fn gdpr_delete(
    sim: &Sim,
    object_type: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, ApiError> {
    let (caller, kind) = http::authorize(sim, headers, object_type, Access::Write)?;
    let body = json_body(headers, body)?;
    let reference = body
        .get("objectId")
        .and_then(id_text)
        .ok_or_else(|| ApiError::validation("Invalid input JSON: missing field `objectId`"))?;
    let id_property = body.get("idProperty").and_then(Value::as_str);
    let ev = sim.with(|s| {
        let mut ev = Events::new(s, kind, caller.token.app_id);
        let crm = s.crm.portal(caller.portal.id);
        let store = crm.store_mut(kind);
        let id = match resolve(store, &reference, id_property, false)? {
            Some(id) => id,
            None => resolve(store, &reference, id_property, true)?
                .ok_or_else(|| not_found(kind, &reference))?,
        };
        store.purge(id);
        crm.associations.remove_record((kind, id));
        ev.privacy_deleted(kind, id);
        Ok::<_, ApiError>(ev)
    })?;
    ev.emit(sim, caller.portal.id);
    Ok(http::no_content(&caller))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BatchBody {
    inputs: Vec<Map<String, Value>>,
    #[serde(default)]
    properties: Vec<String>,
    #[serde(default)]
    properties_with_history: Vec<String>,
    id_property: Option<String>,
}

/// One error of a batch (HubSpot's `StandardError`).
fn batch_error(err: &ApiError, context: Value) -> Value {
    json!({
        "status": "error",
        "category": err.body.category,
        "message": err.body.message,
        "context": context,
        "errors": err.body.errors,
        "links": {},
    })
}

/// The batch response: `http_ok` without errors, 207 with them.
fn batch_response(
    caller: &crate::auth::Caller,
    http_ok: StatusCode,
    requested_at: i64,
    results: Vec<Value>,
    errors: Vec<Value>,
) -> Response {
    let done = time::iso(now_ms());
    let mut body = json!({
        "status": "COMPLETE",
        "results": results,
        "requestedAt": time::iso(requested_at),
        "startedAt": time::iso(requested_at),
        "completedAt": done,
    });
    let status = if errors.is_empty() {
        http_ok
    } else {
        if let Some(obj) = body.as_object_mut() {
            obj.insert("numErrors".into(), json!(errors.len()));
            obj.insert("errors".into(), Value::Array(errors));
        }
        StatusCode::MULTI_STATUS
    };
    respond(caller, status, body)
}

/// The grouped not-found error of a batch.
fn missing_error(kind: ObjectKind, ids: &[String]) -> Value {
    let err = ApiError::not_found(format!(
        "Could not get some {} objects, they may be deleted or not exist. Check that ids are valid.",
        kind.singular().to_uppercase()
    ));
    batch_error(&err, json!({ "ids": ids }))
}

/// Adds `objectWriteTraceId` to a result when the input had one.
fn with_trace(mut record: Value, trace: Option<&Value>) -> Value {
    if let (Some(t), Some(obj)) = (trace, record.as_object_mut()) {
        obj.insert("objectWriteTraceId".into(), t.clone());
    }
    record
}

/// `POST /{objectType}/batch/{read|create|update|upsert|archive}`.
pub async fn batch(
    State(sim): State<Sim>,
    Path((object_type, action)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let access = match action.as_str() {
        "read" => Access::Read,
        "create" | "update" | "upsert" | "archive" => Access::Write,
        _ => return Err(ApiError::not_found("Resource not found")),
    };
    let (caller, kind) = http::authorize(&sim, &headers, &object_type, access)?;
    let q = ObjectQuery::parse(query.as_deref())?;
    let body: BatchBody = input(json_body(&headers, &body)?)?;
    let configured = sim.with(|s| s.config.batch_max_inputs);
    let max = if body.properties_with_history.is_empty() {
        configured
    } else {
        configured.min(MAX_LIMIT_WITH_HISTORY)
    };
    http::batch_limit(body.inputs.len(), max)?;
    let requested_at = now_ms();
    let app = caller.token.app_id;
    let portal = caller.portal.id;
    let reply = |(status, results, errors): (StatusCode, Vec<Value>, Vec<Value>)| {
        batch_response(&caller, status, requested_at, results, errors)
    };
    match action.as_str() {
        "read" => sim
            .with(|s| {
                let crm: &PortalCrm = s.crm.portal(portal);
                let mut out = batch_read(crm.store(kind), &body, q.archived)?;
                for record in &mut out.1 {
                    associations::attach(crm, kind, record, &q.associations);
                }
                Ok(out)
            })
            .map(reply),
        "create" | "update" | "upsert" => {
            let (outcome, ev) = sim.with(|s| {
                let mut ev = Events::new(s, kind, app);
                let crm = s.crm.portal(portal);
                let outcome = match action.as_str() {
                    "create" => batch_create(crm, kind, &body, app, &mut ev),
                    "update" => batch_update(crm, kind, &body, app, &mut ev),
                    _ => batch_upsert(crm, kind, &body, app, &mut ev),
                };
                (outcome, ev)
            });
            let outcome = outcome?;
            ev.emit(&sim, portal);
            Ok(reply(outcome))
        }
        _ => {
            let ev = sim.with(|s| {
                let mut ev = Events::new(s, kind, app);
                let crm = s.crm.portal(portal);
                let now = now_ms();
                for i in &body.inputs {
                    if let Some(id) = i.get("id").and_then(id_text)
                        && let Ok(id) = id.trim().parse::<u64>()
                        && crm.store_mut(kind).archive(id, now)
                    {
                        crm.associations.remove_record((kind, id));
                        ev.deleted(kind, id);
                    }
                }
                ev
            });
            ev.emit(&sim, portal);
            Ok(http::no_content(&caller))
        }
    }
}

type BatchOutcome = Result<(StatusCode, Vec<Value>, Vec<Value>), ApiError>;

fn input_id(i: &Map<String, Value>) -> Result<String, ApiError> {
    i.get("id")
        .and_then(id_text)
        .ok_or_else(|| ApiError::validation("Invalid input JSON: every input needs an `id`"))
}

fn batch_read(store: &ObjectStore, body: &BatchBody, archived: bool) -> BatchOutcome {
    let sel = store.selection(&body.properties, &body.properties_with_history);
    let map = if archived {
        &store.archived
    } else {
        &store.live
    };
    let mut results = Vec::new();
    let mut missing = Vec::new();
    let mut seen = HashSet::new();
    for i in &body.inputs {
        let reference = input_id(i)?;
        match resolve(store, &reference, body.id_property.as_deref(), archived)? {
            Some(id) => {
                if seen.insert(id)
                    && let Some(rec) = map.get(&id)
                {
                    results.push(store.record_json(id, rec, &sel));
                }
            }
            None => missing.push(reference),
        }
    }
    let errors = if missing.is_empty() {
        Vec::new()
    } else {
        vec![missing_error(store.kind, &missing)]
    };
    Ok((StatusCode::OK, results, errors))
}

/// Batch create: atomic (the first invalid input fails the whole batch) unless every
/// input carries an `objectWriteTraceId`, which makes it multi-status.
fn batch_create(
    crm: &mut PortalCrm,
    kind: ObjectKind,
    body: &BatchBody,
    app: i64,
    ev: &mut Events,
) -> BatchOutcome {
    let per_input = !body.inputs.is_empty()
        && body
            .inputs
            .iter()
            .all(|i| i.get("objectWriteTraceId").is_some());
    let mut claimed = HashSet::new();
    let mut prepared = Vec::with_capacity(body.inputs.len());
    let mut errors = Vec::new();
    for i in &body.inputs {
        let trace = i.get("objectWriteTraceId");
        let result = properties_of(i.get("properties"))
            .and_then(|props| prepare_create(crm, kind, props, &mut claimed))
            .and_then(|changes| {
                let planned = associations::plan_create(crm, kind, i.get("associations"))?;
                Ok((changes, planned))
            });
        match result {
            Ok(changes) => prepared.push((changes, trace)),
            Err(e) if per_input => errors.push(batch_error(
                &e,
                json!({ "objectWriteTraceId": [trace.cloned().unwrap_or(Value::Null)] }),
            )),
            Err(e) => return Err(e),
        }
    }
    let now = now_ms();
    let results = prepared
        .into_iter()
        .map(|((changes, planned), trace)| {
            let (id, record) = insert(crm, kind, changes, (app, now), ev);
            associations::apply_create(crm, kind, id, planned, ev);
            with_trace(record, trace)
        })
        .collect();
    Ok((StatusCode::CREATED, results, errors))
}

fn batch_update(
    crm: &mut PortalCrm,
    kind: ObjectKind,
    body: &BatchBody,
    app: i64,
    ev: &mut Events,
) -> BatchOutcome {
    let store = crm.store(kind);
    let mut claimed = HashSet::new();
    let mut seen = HashSet::new();
    let mut missing = Vec::new();
    let mut prepared = Vec::with_capacity(body.inputs.len());
    for i in &body.inputs {
        let reference = input_id(i)?;
        let id_property = i.get("idProperty").and_then(Value::as_str);
        let Some(id) = resolve(store, &reference, id_property, false)? else {
            missing.push(reference);
            continue;
        };
        if !seen.insert(id) {
            return Err(ApiError::validation(format!(
                "Duplicate IDs found in batch input: [{id}]. IDs must be unique"
            )));
        }
        let changes = store.validate(&properties_of(i.get("properties"))?, false)?;
        store.check_unique(&changes, Some(id), &mut claimed)?;
        prepared.push((id, changes, i.get("objectWriteTraceId")));
    }
    let now = now_ms();
    let results = prepared
        .into_iter()
        .map(|(id, changes, trace)| {
            with_trace(
                apply_update(crm, kind, (id, changes), (app, now), ev),
                trace,
            )
        })
        .collect();
    let errors = if missing.is_empty() {
        Vec::new()
    } else {
        vec![missing_error(kind, &missing)]
    };
    Ok((StatusCode::OK, results, errors))
}

/// Batch upsert by a unique `idProperty` (e.g. `email`): updates the record with that
/// value or creates one carrying it. Without `idProperty` the id is a record id and
/// only updates are possible. Results carry `new`.
fn batch_upsert(
    crm: &mut PortalCrm,
    kind: ObjectKind,
    body: &BatchBody,
    app: i64,
    ev: &mut Events,
) -> BatchOutcome {
    enum Plan {
        Update(u64, Changes),
        Create(Changes),
    }
    let mut claimed = HashSet::new();
    let mut seen = HashSet::new();
    let mut missing = Vec::new();
    let mut prepared = Vec::with_capacity(body.inputs.len());
    for i in &body.inputs {
        let reference = input_id(i)?;
        let id_property = i
            .get("idProperty")
            .and_then(Value::as_str)
            .or(body.id_property.as_deref());
        let mut props = properties_of(i.get("properties"))?;
        let store = crm.store(kind);
        let plan = match resolve(store, &reference, id_property, false)? {
            Some(id) => {
                if !seen.insert(id) {
                    return Err(ApiError::validation(format!(
                        "Duplicate IDs found in batch input: [{reference}]. IDs must be unique"
                    )));
                }
                let changes = store.validate(&props, false)?;
                store.check_unique(&changes, Some(id), &mut claimed)?;
                Plan::Update(id, changes)
            }
            None => match id_property {
                None | Some("hs_object_id") => {
                    missing.push(reference);
                    continue;
                }
                Some(name) => {
                    props
                        .entry(name.to_owned())
                        .or_insert(Value::String(reference.clone()));
                    Plan::Create(prepare_create(crm, kind, props, &mut claimed)?)
                }
            },
        };
        prepared.push((plan, i.get("objectWriteTraceId")));
    }
    let now = now_ms();
    let results = prepared
        .into_iter()
        .map(|(plan, trace)| {
            let (record, new) = match plan {
                Plan::Update(id, changes) => (
                    apply_update(crm, kind, (id, changes), (app, now), ev),
                    false,
                ),
                Plan::Create(changes) => (insert(crm, kind, changes, (app, now), ev).1, true),
            };
            let mut record = with_trace(record, trace);
            if let Some(obj) = record.as_object_mut() {
                obj.insert("new".into(), json!(new));
            }
            record
        })
        .collect();
    let errors = if missing.is_empty() {
        Vec::new()
    } else {
        vec![missing_error(kind, &missing)]
    };
    Ok((StatusCode::OK, results, errors))
}

/// `POST /_sim/crm/{portalId}/{objectType}/{id}/restore`: brings an archived record back.
pub async fn sim_restore(
    State(sim): State<Sim>,
    Path((portal_id, object_type, id)): Path<(i64, String, String)>,
) -> Result<Response, ApiError> {
    let kind = http::object_kind(&object_type)?;
    crate::portals::find(portal_id)
        .ok_or_else(|| ApiError::not_found(format!("Unknown portal {portal_id}")))?;
    let id: u64 = id.trim().parse().map_err(|_| not_found(kind, &id))?;
    let (record, ev) = sim.with(|s| {
        let mut ev = Events::new(s, kind, 0);
        let store = s.crm.portal(portal_id).store_mut(kind);
        store.restore(id, now_ms())?;
        ev.restored(kind, id);
        let sel = store.selection(&[], &[]);
        let record = store
            .live
            .get(&id)
            .map(|r| store.record_json(id, r, &sel))
            .unwrap_or(Value::Null);
        Ok::<_, ApiError>((record, ev))
    })?;
    ev.emit(&sim, portal_id);
    Ok(axum::Json(record).into_response())
}
