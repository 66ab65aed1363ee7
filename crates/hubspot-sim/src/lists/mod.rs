//! Lists v3 (`/crm/v3/lists`, alias `/crm/lists/2026-03`): MANUAL, SNAPSHOT and DYNAMIC
//! lists of CRM records, their memberships and the legacy-id mapping.
//!
//! * MANUAL lists change only through `memberships/add|remove`;
//! * SNAPSHOT lists take an optional `filterBranch`, evaluated once at creation, then
//!   behave as MANUAL ones;
//! * DYNAMIC lists need a `filterBranch` ([`filters`]), evaluated against the live
//!   records at every read; a record's `membershipTimestamp` is the later of its last
//!   change and the filters' last change when the simulator first sees it match (kept
//!   while it keeps matching).
//!
//! Scopes: reads `crm.lists.read` (or legacy `contacts`); writes `crm.lists.read` and
//! `crm.lists.write` (or legacy `contacts`).

pub mod filters;
mod memberships;

use std::collections::{BTreeMap, HashMap};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post, put};
use serde_json::{Value, json};

use crate::auth::{self, Caller, Scopes};
use crate::crm::http::{json_body, no_content, respond};
use crate::crm::schema::ObjectKind;
use crate::crm::store::ObjectStore;
use crate::crm::time;
use crate::crm::types::Surface;
use crate::errors::ApiError;
use crate::state::{Sim, now_ms};

use filters::Branch;

/// Path prefixes: classic and date-versioned.
const BASES: [&str; 2] = ["/crm/v3/lists", "/crm/lists/2026-03"];
/// Scopes of list reads (any of).
pub const READ_SCOPES: &[&str] = &["crm.lists.read", "contacts"];
/// Scopes of list writes (all of), unless the token has legacy `contacts`.
pub const WRITE_SCOPES: &[&str] = &["crm.lists.read", "crm.lists.write"];
/// The first v3 list id and the first legacy (v1) list id of a portal.
const FIRST_LIST_ID: u64 = 1;
const FIRST_LEGACY_ID: u64 = 1001;
/// Search `count`: default and largest.
const SEARCH_DEFAULT_COUNT: usize = 20;
const SEARCH_MAX_COUNT: usize = 500;
/// Memberships `limit`: default and largest.
pub(crate) const MEMBERS_DEFAULT_LIMIT: usize = 100;
pub(crate) const MEMBERS_MAX_LIMIT: usize = 250;

/// `(name, members change through the membership endpoints, takes a filterBranch)`.
const PROCESSING_TYPES: &[(&str, bool, bool)] = &[
    ("MANUAL", true, false),
    ("SNAPSHOT", true, true),
    ("DYNAMIC", false, true),
];

/// One list.
#[derive(Debug, Clone)]
pub struct List {
    pub id: u64,
    pub legacy_id: u64,
    pub name: String,
    pub kind: ObjectKind,
    pub processing: &'static str,
    pub filter: Option<(Branch, Value)>,
    /// record id → (joined at, join sequence).
    pub members: BTreeMap<u64, (i64, u64)>,
    pub version: u32,
    pub created_at: i64,
    pub updated_at: i64,
    pub filters_updated_at: i64,
    pub created_by: i64,
    pub updated_by: i64,
    pub deleted_at: Option<i64>,
}

impl List {
    fn manual(&self) -> bool {
        PROCESSING_TYPES
            .iter()
            .any(|(n, manual, _)| *n == self.processing && *manual)
    }

    fn dynamic(&self) -> bool {
        self.processing == "DYNAMIC"
    }
}

/// The lists of one portal.
#[derive(Debug)]
pub struct PortalLists {
    next_id: u64,
    next_legacy: u64,
    next_seq: u64,
    pub lists: BTreeMap<u64, List>,
}

impl Default for PortalLists {
    fn default() -> Self {
        Self {
            next_id: FIRST_LIST_ID,
            next_legacy: FIRST_LEGACY_ID,
            next_seq: 0,
            lists: BTreeMap::new(),
        }
    }
}

/// The lists of every portal.
#[derive(Debug, Default)]
pub struct ListsState {
    portals: HashMap<i64, PortalLists>,
}

impl ListsState {
    pub fn portal(&mut self, portal_id: i64) -> &mut PortalLists {
        self.portals.entry(portal_id).or_default()
    }
}

/// Brings a list's members up to date and returns them in record-id order: dropped
/// records leave; a DYNAMIC list is evaluated against the live records.
fn refresh(list: &mut List, seq: &mut u64, store: &ObjectStore) -> Vec<(u64, i64, u64)> {
    list.members.retain(|id, _| store.live.contains_key(id));
    if let Some((branch, _)) = list.filter.as_ref().filter(|_| list.dynamic()) {
        let since = list.filters_updated_at;
        let mut next = BTreeMap::new();
        for (id, rec) in &store.live {
            if matches(branch, store, *id, rec) {
                let entry = list.members.get(id).copied().unwrap_or_else(|| {
                    *seq += 1;
                    (rec.updated_at.max(since), *seq)
                });
                next.insert(*id, entry);
            }
        }
        list.members = next;
    }
    list.members
        .iter()
        .map(|(id, (at, s))| (*id, *at, *s))
        .collect()
}

fn matches(branch: &Branch, store: &ObjectStore, id: u64, rec: &crate::crm::store::Record) -> bool {
    branch.matches(&|name: &str| {
        store
            .prop_index(name)
            .and_then(|idx| store.value(id, rec, idx))
            .map(|v| v.into_owned())
    })
}

fn list_json(list: &List, size: usize, with_filters: bool) -> Value {
    let mut v = json!({
        "listId": list.id.to_string(),
        "listVersion": list.version,
        "name": list.name,
        "objectTypeId": list.kind.type_id(),
        "processingType": list.processing,
        "processingStatus": "COMPLETE",
        "createdAt": time::iso(list.created_at),
        "updatedAt": time::iso(list.updated_at),
        "filtersUpdatedAt": time::iso(list.filters_updated_at),
        "createdById": list.created_by.to_string(),
        "updatedById": list.updated_by.to_string(),
        "size": size,
    });
    if let Some(obj) = v.as_object_mut() {
        if with_filters && let Some((_, f)) = &list.filter {
            obj.insert("filterBranch".into(), f.clone());
        }
        if let Some(at) = list.deleted_at {
            obj.insert("deletedAt".into(), json!(time::iso(at)));
        }
    }
    v
}

fn list_not_found(id: &str) -> ApiError {
    let mut err = ApiError::not_found(format!("List does not exist with ID {id}."));
    err.body.context.insert("listId".into(), json!([id]));
    err
}

pub(crate) fn authorize(sim: &Sim, headers: &HeaderMap, write: bool) -> Result<Caller, ApiError> {
    let caller = auth::authenticate(sim, headers)?;
    if write {
        if !caller.token.has_scope("contacts") {
            caller.require(Scopes::AllOf(WRITE_SCOPES))?;
        }
    } else {
        caller.require(Scopes::AnyOf(READ_SCOPES))?;
    }
    Ok(caller)
}

fn object_kind(type_id: &str) -> Result<ObjectKind, ApiError> {
    ObjectKind::parse(type_id)
        .filter(|k| k.surface() == Surface::Full)
        .ok_or_else(|| {
            ApiError::validation(format!(
                "objectTypeId '{type_id}' is not an object type lists can hold"
            ))
        })
}

/// Parses a filter branch and checks its properties exist on the object.
fn parse_filter(v: &Value, store: &ObjectStore) -> Result<(Branch, Value), ApiError> {
    let (branch, json) = filters::parse_root(v)?;
    if let Some(p) = branch
        .properties()
        .into_iter()
        .find(|p| store.prop_index(p).is_none())
    {
        return Err(ApiError::validation(format!(
            "filterBranch: property '{p}' does not exist on {}",
            store.kind.plural()
        )));
    }
    Ok((branch, json))
}

pub(crate) fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn flag(pairs: &[(String, String)], name: &str) -> bool {
    pairs
        .iter()
        .any(|(k, v)| k == name && v.eq_ignore_ascii_case("true"))
}

fn parse_id(id: &str) -> Result<u64, ApiError> {
    id.trim().parse().map_err(|_| list_not_found(id))
}

/// Runs `f` on a live (not deleted) list of the caller's portal, its members up to date.
pub(crate) fn with_list<T>(
    sim: &Sim,
    caller: &Caller,
    id: &str,
    f: impl FnOnce(&mut List, Vec<(u64, i64, u64)>, &ObjectStore, &mut u64) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    let list_id = parse_id(id)?;
    let portal = caller.portal.id;
    sim.with(|s| {
        let lists = s.lists.portal(portal);
        let list = lists
            .lists
            .get_mut(&list_id)
            .filter(|l| l.deleted_at.is_none())
            .ok_or_else(|| list_not_found(id))?;
        let store = s.crm.portal(portal).store(list.kind);
        let members = refresh(list, &mut lists.next_seq, store);
        f(list, members, store, &mut lists.next_seq)
    })
}

/// `POST /crm/v3/lists` `{name, objectTypeId, processingType, filterBranch?}` → 200
/// `{list}`.
pub async fn create(
    State(sim): State<Sim>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = authorize(&sim, &headers, true)?;
    let body = json_body(&headers, &body)?;
    let name = body
        .get("name")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::validation("name is required"))?
        .to_owned();
    let type_id = body
        .get("objectTypeId")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::validation("objectTypeId is required"))?;
    let kind = object_kind(type_id)?;
    let processing = body
        .get("processingType")
        .and_then(Value::as_str)
        .unwrap_or("");
    let &(processing, _, takes_filter) = PROCESSING_TYPES
        .iter()
        .find(|(n, _, _)| *n == processing)
        .ok_or_else(|| {
            ApiError::validation(format!(
                "processingType must be MANUAL, SNAPSHOT or DYNAMIC, got '{processing}'"
            ))
        })?;
    let branch = body.get("filterBranch").filter(|v| !v.is_null());
    if branch.is_some() && !takes_filter {
        return Err(ApiError::validation(
            "filterBranch can only be set on DYNAMIC or SNAPSHOT lists",
        ));
    }
    if branch.is_none() && processing == "DYNAMIC" {
        return Err(ApiError::validation("A DYNAMIC list needs a filterBranch"));
    }
    let user = caller.token.user_id;
    let portal = caller.portal.id;
    let reply = sim.with(|s| {
        let store = s.crm.portal(portal).store(kind);
        let filter = branch.map(|b| parse_filter(b, store)).transpose()?;
        let lists = s.lists.portal(portal);
        if lists
            .lists
            .values()
            .any(|l| l.deleted_at.is_none() && l.name.eq_ignore_ascii_case(&name))
        {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "CONFLICT",
                format!("A list named '{name}' already exists"),
            ));
        }
        let now = now_ms();
        let mut list = List {
            id: lists.next_id,
            legacy_id: lists.next_legacy,
            name,
            kind,
            processing,
            filter,
            members: BTreeMap::new(),
            version: 1,
            created_at: now,
            updated_at: now,
            filters_updated_at: now,
            created_by: user,
            updated_by: user,
            deleted_at: None,
        };
        lists.next_id += 1;
        lists.next_legacy += 1;
        if processing == "SNAPSHOT"
            && let Some((b, _)) = &list.filter
        {
            for (id, rec) in &store.live {
                if matches(b, store, *id, rec) {
                    lists.next_seq += 1;
                    list.members.insert(*id, (now, lists.next_seq));
                }
            }
        }
        let size = refresh(&mut list, &mut lists.next_seq, store).len();
        let reply = json!({"list": list_json(&list, size, true)});
        lists.lists.insert(list.id, list);
        Ok(reply)
    })?;
    Ok(respond(&caller, StatusCode::OK, reply))
}

/// `GET /crm/v3/lists/{listId}?includeFilters` → `{list}`.
pub async fn get_one(
    State(sim): State<Sim>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = authorize(&sim, &headers, false)?;
    let with_filters = flag(&query_pairs(query.as_deref()), "includeFilters");
    let list = with_list(&sim, &caller, &id, |l, m, _, _| {
        Ok(list_json(l, m.len(), with_filters))
    })?;
    Ok(respond(&caller, StatusCode::OK, json!({"list": list})))
}

/// `GET /crm/v3/lists?listIds=1&listIds=2&includeFilters` → `{lists}` (unknown ids left
/// out); without `listIds` → 400.
pub async fn get_many(
    State(sim): State<Sim>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = authorize(&sim, &headers, false)?;
    let pairs = query_pairs(query.as_deref());
    let with_filters = flag(&pairs, "includeFilters");
    let ids: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "listIds")
        .flat_map(|(_, v)| v.split(',').map(str::trim).map(str::to_owned))
        .filter(|v| !v.is_empty())
        .collect();
    if ids.is_empty() {
        return Err(ApiError::validation(
            "listIds is required: name the lists to fetch (POST /crm/v3/lists/search lists them all)",
        ));
    }
    let mut lists = Vec::new();
    for id in &ids {
        match with_list(&sim, &caller, id, |l, m, _, _| {
            Ok(list_json(l, m.len(), with_filters))
        }) {
            Ok(v) => lists.push(v),
            Err(e) if e.http_status == StatusCode::NOT_FOUND => {}
            Err(e) => return Err(e),
        }
    }
    Ok(respond(&caller, StatusCode::OK, json!({"lists": lists})))
}

/// `POST /crm/v3/lists/search` `{query?, listIds?, processingTypes?, objectTypeId?,
/// offset?, count?}` → `{lists, offset, hasMore, total}` in list-id order; `query` is a
/// case-insensitive part of the name.
pub async fn search(
    State(sim): State<Sim>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = authorize(&sim, &headers, false)?;
    let body = json_body(&headers, &body)?;
    let text = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_owned);
    let strings = |k: &str| -> Vec<String> {
        body.get(k)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(crate::crm::http::id_text).collect())
            .unwrap_or_default()
    };
    let number = |k: &str, default: usize| -> Result<usize, ApiError> {
        match body.get(k) {
            None | Some(Value::Null) => Ok(default),
            Some(v) => v
                .as_u64()
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| ApiError::validation(format!("{k} must be a non-negative integer"))),
        }
    };
    let query = text("query")
        .map(|q| q.trim().to_lowercase())
        .unwrap_or_default();
    let ids = strings("listIds");
    let types = strings("processingTypes");
    let object = text("objectTypeId");
    let offset = number("offset", 0)?;
    let count = number("count", SEARCH_DEFAULT_COUNT)?;
    if count > SEARCH_MAX_COUNT {
        return Err(ApiError::validation(format!(
            "count must be at most {SEARCH_MAX_COUNT}, got {count}"
        )));
    }
    let portal = caller.portal.id;
    let (page, total) = sim.with(|s| {
        let lists = s.lists.portal(portal);
        let crm = s.crm.portal(portal);
        let mut found = Vec::new();
        for list in lists.lists.values_mut() {
            let keep = list.deleted_at.is_none()
                && (query.is_empty() || list.name.to_lowercase().contains(&query))
                && (ids.is_empty() || ids.contains(&list.id.to_string()))
                && (types.is_empty() || types.iter().any(|t| t == list.processing))
                && object.as_deref().is_none_or(|o| o == list.kind.type_id());
            if keep {
                let members = refresh(list, &mut lists.next_seq, crm.store(list.kind));
                found.push(search_json(list, &members));
            }
        }
        let total = found.len();
        let page: Vec<Value> = found.into_iter().skip(offset).take(count).collect();
        (page, total)
    });
    let next = offset + page.len();
    let reply = json!({
        "lists": page,
        "offset": next,
        "hasMore": next < total,
        "total": total,
    });
    Ok(respond(&caller, StatusCode::OK, reply))
}

fn search_json(list: &List, members: &[(u64, i64, u64)]) -> Value {
    let mut v = list_json(list, members.len(), false);
    let mut extra = serde_json::Map::new();
    extra.insert("hs_list_size".into(), json!(members.len().to_string()));
    if let Some(at) = members.iter().map(|m| m.1).max() {
        extra.insert("hs_last_record_added_at".into(), json!(at.to_string()));
    }
    if let Some(obj) = v.as_object_mut() {
        obj.remove("size");
        obj.insert("additionalProperties".into(), Value::Object(extra));
    }
    v
}

/// `DELETE /crm/v3/lists/{listId}` → 204 (restorable with `PUT …/restore`).
pub async fn delete(
    State(sim): State<Sim>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = authorize(&sim, &headers, true)?;
    with_list(&sim, &caller, &id, |l, _, _, _| {
        l.deleted_at = Some(now_ms());
        Ok(())
    })?;
    Ok(no_content(&caller))
}

/// `PUT /crm/v3/lists/{listId}/restore` → 204; a list that is not deleted → 400.
pub async fn restore(
    State(sim): State<Sim>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = authorize(&sim, &headers, true)?;
    let list_id = parse_id(&id)?;
    let portal = caller.portal.id;
    sim.with(|s| {
        let lists = s.lists.portal(portal);
        let taken: Vec<String> = lists
            .lists
            .values()
            .filter(|l| l.deleted_at.is_none())
            .map(|l| l.name.to_lowercase())
            .collect();
        let list = lists
            .lists
            .get_mut(&list_id)
            .ok_or_else(|| list_not_found(&id))?;
        if list.deleted_at.is_none() {
            return Err(ApiError::validation(format!("List {id} is not deleted")));
        }
        if taken.contains(&list.name.to_lowercase()) {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "CONFLICT",
                format!("A list named '{}' already exists", list.name),
            ));
        }
        list.deleted_at = None;
        Ok(())
    })?;
    Ok(no_content(&caller))
}

/// `PUT /crm/v3/lists/{listId}/update-list-filters` `{filterBranch}` → `{updatedList}`;
/// only DYNAMIC lists (others → 400).
pub async fn update_filters(
    State(sim): State<Sim>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = authorize(&sim, &headers, true)?;
    let body = json_body(&headers, &body)?;
    let branch = body
        .get("filterBranch")
        .filter(|v| !v.is_null())
        .ok_or_else(|| ApiError::validation("filterBranch is required"))?
        .clone();
    let user = caller.token.user_id;
    let list = with_list(&sim, &caller, &id, |l, _, store, seq| {
        if !l.dynamic() {
            return Err(ApiError::validation(format!(
                "The filters of list {id} cannot be updated: it is a {} list; only DYNAMIC lists have filters",
                l.processing
            )));
        }
        l.filter = Some(parse_filter(&branch, store)?);
        let now = now_ms();
        l.filters_updated_at = now;
        changed(l, user, now);
        l.members.clear();
        let size = refresh(l, seq, store).len();
        Ok(list_json(l, size, true))
    })?;
    Ok(updated_list(&caller, list))
}

/// A new version of the list, changed by `user` at `now`.
fn changed(l: &mut List, user: i64, now: i64) {
    l.updated_at = now;
    l.updated_by = user;
    l.version += 1;
}

/// `{updatedList}`: the answer of the list updates.
fn updated_list(caller: &Caller, list: Value) -> Response {
    respond(caller, StatusCode::OK, json!({"updatedList": list}))
}

/// The first value of the query parameter `name`.
fn query_value(query: Option<&str>, name: &str) -> Option<String> {
    query_pairs(query)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// `PUT /crm/v3/lists/{listId}/update-list-name?listName=…` → `{updatedList}`.
pub async fn update_name(
    State(sim): State<Sim>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = authorize(&sim, &headers, true)?;
    let name = query_value(query.as_deref(), "listName")
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ApiError::validation("listName is required"))?;
    let user = caller.token.user_id;
    let list = with_list(&sim, &caller, &id, |l, m, _, _| {
        l.name = name;
        changed(l, user, now_ms());
        Ok(list_json(l, m.len(), false))
    })?;
    Ok(updated_list(&caller, list))
}

/// `GET /crm/v3/lists/idmapping?legacyListId=…` → `{legacyListId, listId}`; unknown → 404.
pub async fn id_mapping(
    State(sim): State<Sim>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = authorize(&sim, &headers, false)?;
    let legacy = query_value(query.as_deref(), "legacyListId")
        .ok_or_else(|| ApiError::validation("legacyListId is required"))?;
    let found = lookup_legacy(&sim, caller.portal.id, std::slice::from_ref(&legacy));
    let (l, id) = found
        .first()
        .cloned()
        .ok_or_else(|| list_not_found(&legacy))?;
    Ok(respond(
        &caller,
        StatusCode::OK,
        json!({"legacyListId": l, "listId": id}),
    ))
}

/// `POST /crm/v3/lists/idmapping`, body an array of legacy ids →
/// `{legacyListIdsToIdsMapping: [{legacyListId, listId}], missingLegacyListIds}`.
pub async fn id_mappings(
    State(sim): State<Sim>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = authorize(&sim, &headers, false)?;
    let body = json_body(&headers, &body)?;
    let wanted: Vec<String> = body
        .as_array()
        .ok_or_else(|| ApiError::validation("The body must be an array of legacy list ids"))?
        .iter()
        .filter_map(crate::crm::http::id_text)
        .collect();
    let found = lookup_legacy(&sim, caller.portal.id, &wanted);
    let missing: Vec<&String> = wanted
        .iter()
        .filter(|w| !found.iter().any(|(l, _)| l == *w))
        .collect();
    let mapping: Vec<Value> = found
        .iter()
        .map(|(l, id)| json!({"legacyListId": l, "listId": id}))
        .collect();
    Ok(respond(
        &caller,
        StatusCode::OK,
        json!({"legacyListIdsToIdsMapping": mapping, "missingLegacyListIds": missing}),
    ))
}

fn lookup_legacy(sim: &Sim, portal: i64, wanted: &[String]) -> Vec<(String, String)> {
    sim.with(|s| {
        let lists = s.lists.portal(portal);
        wanted
            .iter()
            .filter_map(|w| {
                let legacy: u64 = w.trim().parse().ok()?;
                let list = lists
                    .lists
                    .values()
                    .find(|l| l.legacy_id == legacy && l.deleted_at.is_none())?;
                Some((legacy.to_string(), list.id.to_string()))
            })
            .collect()
    })
}

/// The Lists v3 routes (and their 2026-03 aliases).
pub fn routes() -> Router<Sim> {
    let mut router = Router::new();
    for base in BASES {
        router = router
            .route(base, get(get_many).post(create))
            .route(&format!("{base}/search"), post(search))
            .route(
                &format!("{base}/idmapping"),
                get(id_mapping).post(id_mappings),
            )
            .route(&format!("{base}/{{list_id}}"), get(get_one).delete(delete))
            .route(&format!("{base}/{{list_id}}/restore"), put(restore))
            .route(
                &format!("{base}/{{list_id}}/update-list-filters"),
                put(update_filters),
            )
            .route(
                &format!("{base}/{{list_id}}/update-list-name"),
                put(update_name),
            )
            .route(
                &format!("{base}/{{list_id}}/memberships"),
                get(memberships::members_by_id),
            )
            .route(
                &format!("{base}/{{list_id}}/memberships/join-order"),
                get(memberships::members_by_join),
            )
            .route(
                &format!("{base}/{{list_id}}/memberships/{{action}}"),
                put(memberships::change_members),
            );
    }
    router
}
