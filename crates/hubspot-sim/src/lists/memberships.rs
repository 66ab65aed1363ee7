//! List memberships: `PUT …/memberships/add|remove` and the two membership reads.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use super::{MEMBERS_DEFAULT_LIMIT, MEMBERS_MAX_LIMIT, authorize, query_pairs, with_list};
use crate::crm::http::{json_body, page_after, page_limit, respond};
use crate::crm::time;
use crate::errors::ApiError;
use crate::state::{Sim, now_ms};

/// `PUT /crm/v3/lists/{listId}/memberships/{add|remove}`, body an array of record ids →
/// `{recordsIdsAdded, recordIdsRemoved, recordIdsMissing}` (HubSpot's spelling). Records
/// that do not exist are missing; records already in (or not in) the list are ignored.
/// MANUAL and SNAPSHOT lists only.
pub async fn change_members(
    State(sim): State<Sim>,
    Path((id, action)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = authorize(&sim, &headers, true)?;
    let add = match action.as_str() {
        "add" => true,
        "remove" => false,
        _ => return Err(ApiError::not_found("resource not found")),
    };
    let body = json_body(&headers, &body)?;
    let ids: Vec<String> = body
        .as_array()
        .ok_or_else(|| ApiError::validation("The body must be an array of record ids"))?
        .iter()
        .map(|v| {
            crate::crm::http::id_text(v)
                .ok_or_else(|| ApiError::validation("Record ids must be strings"))
        })
        .collect::<Result<_, _>>()?;
    let reply = with_list(&sim, &caller, &id, |l, _, store, seq| {
        if !l.manual() {
            return Err(ApiError::validation(format!(
                "List {id} is a {} list: records can only be added to or removed from MANUAL or SNAPSHOT lists",
                l.processing
            )));
        }
        let now = now_ms();
        let (mut changed, mut missing) = (Vec::new(), Vec::new());
        for raw in &ids {
            let record = raw
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|r| store.live.contains_key(r));
            let Some(record) = record else {
                missing.push(raw.clone());
                continue;
            };
            let done = if add {
                if let std::collections::btree_map::Entry::Vacant(e) = l.members.entry(record) {
                    *seq += 1;
                    e.insert((now, *seq));
                    true
                } else {
                    false
                }
            } else {
                l.members.remove(&record).is_some()
            };
            if done {
                changed.push(record.to_string());
            }
        }
        if !changed.is_empty() {
            l.updated_at = now;
        }
        let (added, removed) = if add {
            (changed, Vec::new())
        } else {
            (Vec::new(), changed)
        };
        Ok(json!({
            "recordsIdsAdded": added,
            "recordIdsRemoved": removed,
            "recordIdsMissing": missing,
        }))
    })?;
    Ok(respond(&caller, StatusCode::OK, reply))
}

/// `GET /crm/v3/lists/{listId}/memberships?after&limit` (record-id order) and
/// `…/memberships/join-order` (join order) → `{results: [{recordId,
/// membershipTimestamp}], paging?}`; `after` is an offset of the simulator's.
async fn memberships(
    sim: Sim,
    id: String,
    query: Option<String>,
    headers: HeaderMap,
    join_order: bool,
) -> Result<Response, ApiError> {
    let caller = authorize(&sim, &headers, false)?;
    let mut after = 0usize;
    let mut limit = MEMBERS_DEFAULT_LIMIT;
    for (k, v) in query_pairs(query.as_deref()) {
        match k.as_str() {
            "after" if !v.trim().is_empty() => after = page_after(&v)?,
            "limit" => limit = page_limit(&v, MEMBERS_MAX_LIMIT)?,
            _ => {}
        }
    }
    let mut members = with_list(&sim, &caller, &id, |_, m, _, _| Ok(m))?;
    if join_order {
        members.sort_by_key(|(id, at, seq)| (*at, *seq, *id));
    }
    let results: Vec<Value> = members
        .iter()
        .skip(after)
        .take(limit)
        .map(|(id, at, _)| json!({"recordId": id.to_string(), "membershipTimestamp": time::iso(*at)}))
        .collect();
    let mut reply = json!({ "results": results });
    let next = after + limit;
    if next < members.len()
        && let Some(obj) = reply.as_object_mut()
    {
        let after = next.to_string();
        obj.insert(
            "paging".into(),
            json!({"next": {"after": after, "link": format!("?after={after}")}}),
        );
    }
    Ok(respond(&caller, StatusCode::OK, reply))
}

pub async fn members_by_id(
    State(sim): State<Sim>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    memberships(sim, id, query, headers, false).await
}

pub async fn members_by_join(
    State(sim): State<Sim>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    memberships(sim, id, query, headers, true).await
}
