//! What remains of the legacy Contacts v1 API, and user tokens (`hubspotutk`).
//!
//! Contact Lists v1 answers 404 since 2026-04-30 (every `/contacts/v1/lists…` path falls
//! through to the standard 404) except the three "all / recent contacts" reads served
//! here, in their legacy shapes. `GET /contacts/v1/contact/utk/{utk}/profile` finds a
//! contact by its user token.
//!
//! User tokens: 32 hex digits. A contact created by the simulator itself (seeding) has a
//! derived token, computed from (portal, id) and decodable back, so millions of seeded
//! contacts cost no memory; a contact created by a form submission gets the submission's
//! `context.hutk`, or a random token without one (kept in [`UserTokens`]).

use std::collections::HashMap;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Map, Value, json};

use crate::auth::{self, Caller, Scopes};
use crate::crm::http::respond;
use crate::crm::schema::{ObjectKind, PropType};
use crate::crm::store::{ObjectStore, Record};
use crate::crm::time;
use crate::errors::{ApiError, CorrelationId};
use crate::ids::random_uuid;
use crate::state::{Sim, State as SimState};

/// `count` of the legacy list reads: default and largest.
const DEFAULT_COUNT: usize = 20;
const MAX_COUNT: usize = 100;
/// Properties of the legacy list reads when none are asked for.
const DEFAULT_PROPERTIES: &[&str] = &["firstname", "lastname", "company", "lastmodifieddate"];

/// The user tokens given explicitly (form submissions), per portal.
#[derive(Debug, Default)]
pub struct UserTokens {
    by_token: HashMap<(i64, String), u64>,
    by_contact: HashMap<(i64, u64), String>,
}

impl UserTokens {
    /// Gives a contact a token (replacing the one it had; a token names one contact).
    pub fn set(&mut self, portal: i64, contact: u64, utk: &str) {
        let utk = utk.trim().to_ascii_lowercase();
        if let Some(old) = self.by_contact.insert((portal, contact), utk.clone()) {
            self.by_token.remove(&(portal, old));
        }
        if let Some(other) = self.by_token.insert((portal, utk), contact)
            && other != contact
        {
            self.by_contact.remove(&(portal, other));
        }
    }

    fn explicit(&self, portal: i64, contact: u64) -> Option<&str> {
        self.by_contact.get(&(portal, contact)).map(String::as_str)
    }
}

const MUL: u64 = 0x9e37_79b9_7f4a_7c15;
const CHECK: u64 = 0xd1b5_4a32_d192_ed03;

/// An invertible 64-bit mix: xor with the key, xorshift, multiply by an odd constant.
fn mix(x: u64, key: u64) -> u64 {
    let x = x ^ key;
    let x = x ^ (x >> 31);
    x.wrapping_mul(MUL)
}

fn unmix(y: u64, key: u64) -> u64 {
    // The inverse of MUL modulo 2^64 (Newton's iteration).
    let mut inv: u64 = MUL;
    for _ in 0..6 {
        inv = inv.wrapping_mul(2u64.wrapping_sub(MUL.wrapping_mul(inv)));
    }
    let x = y.wrapping_mul(inv);
    let x = x ^ (x >> 31) ^ (x >> 62);
    x ^ key
}

fn portal_key(portal: i64) -> u64 {
    mix(u64::from_ne_bytes(portal.to_ne_bytes()), CHECK)
}

/// The derived token of a contact the simulator created.
pub fn derived_utk(portal: i64, contact: u64) -> String {
    let a = mix(contact, portal_key(portal));
    let b = mix(a, CHECK ^ portal_key(portal));
    format!("{a:016x}{b:016x}")
}

/// The contact id a derived token stands for, if it is one.
fn decode_utk(portal: i64, utk: &str) -> Option<u64> {
    if utk.len() != 32 || !utk.is_ascii() {
        return None;
    }
    let a = u64::from_str_radix(&utk[..16], 16).ok()?;
    let b = u64::from_str_radix(&utk[16..], 16).ok()?;
    (mix(a, CHECK ^ portal_key(portal)) == b).then(|| unmix(a, portal_key(portal)))
}

/// A contact's user token: the explicit one, else the derived one of a contact the
/// simulator created (`source_app` 0); API-created contacts have none.
pub fn utk_of(tokens: &UserTokens, portal: i64, contact: u64, rec: &Record) -> Option<String> {
    tokens
        .explicit(portal, contact)
        .map(str::to_owned)
        .or_else(|| (rec.source_app == 0).then(|| derived_utk(portal, contact)))
}

/// The live contact a token names.
pub(crate) fn find_by_utk(s: &mut SimState, portal: i64, utk: &str) -> Option<u64> {
    let utk = utk.trim().to_ascii_lowercase();
    let explicit = s.user_tokens.by_token.get(&(portal, utk.clone())).copied();
    let store = s.crm.portal(portal).store(ObjectKind::Contacts);
    if let Some(id) = explicit {
        return store.live.contains_key(&id).then_some(id);
    }
    let id = decode_utk(portal, &utk)?;
    let rec = store.live.get(&id)?;
    (rec.source_app == 0 && s.user_tokens.explicit(portal, id).is_none()).then_some(id)
}

/// A new random user token (as a browser cookie would carry).
pub fn random_utk() -> String {
    random_uuid().replace('-', "")
}

impl Sim {
    /// The user token (`hubspotutk`) of a contact, if it has one.
    pub fn contact_utk(&self, portal_id: i64, contact_id: u64) -> Option<String> {
        self.with(|s| {
            let rec = s
                .crm
                .portal(portal_id)
                .store(ObjectKind::Contacts)
                .live
                .get(&contact_id)?;
            utk_of(&s.user_tokens, portal_id, contact_id, rec)
        })
    }
}

/// A property value as the legacy API shows it: dates and times as epoch ms.
fn legacy_value(store: &ObjectStore, id: u64, rec: &Record, idx: u16) -> Option<String> {
    let v = store.value(id, rec, idx)?;
    let out = match store.def(idx).kind {
        PropType::Datetime => time::parse_datetime(&v).map(|ms| ms.to_string()),
        PropType::Date => time::parse_date(&v).map(|ms| ms.to_string()),
        _ => None,
    };
    Some(out.unwrap_or_else(|| v.into_owned()))
}

/// A contact in the legacy shape. `names` None: every property with a value.
fn legacy_contact(
    tokens: &UserTokens,
    store: &ObjectStore,
    portal: i64,
    id: u64,
    rec: &Record,
    names: Option<&[String]>,
    added_at: Option<i64>,
) -> Value {
    let mut properties = Map::new();
    let mut put = |idx: u16| {
        let def = store.def(idx);
        if def.archived {
            return;
        }
        if let Some(v) = legacy_value(store, id, rec, idx) {
            properties.insert(def.name.clone(), json!({ "value": v }));
        }
    };
    match names {
        None => (0..store.props.len())
            .filter_map(|i| u16::try_from(i).ok())
            .for_each(&mut put),
        Some(names) => names
            .iter()
            .filter_map(|n| store.prop_index(n))
            .for_each(&mut put),
    }
    let email_idx = store.prop_index("email");
    let mut identities = Vec::new();
    if let Some(email) = email_idx.and_then(|i| rec.get(i)) {
        identities.push(json!({"type": "EMAIL", "value": email, "timestamp": rec.created_at, "is-primary": true}));
    }
    if let Some(utk) = utk_of(tokens, portal, id, rec) {
        identities.push(json!({"type": "LEAD_GUID", "value": utk, "timestamp": rec.created_at}));
    }
    let mut v = json!({
        "vid": id,
        "canonical-vid": id,
        "merged-vids": [],
        "portal-id": portal,
        "is-contact": true,
        "properties": properties,
        "form-submissions": [],
        "identity-profiles": [{
            "vid": id,
            "saved-at-timestamp": rec.updated_at,
            "deleted-changed-timestamp": 0,
            "identities": identities,
        }],
        "merge-audits": [],
    });
    if let (Some(at), Some(obj)) = (added_at, v.as_object_mut()) {
        obj.insert("addedAt".into(), json!(at));
    }
    v
}

fn authorize(sim: &Sim, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let caller = auth::authenticate(sim, headers)?;
    caller.require(Scopes::AnyOf(ObjectKind::Contacts.read_scopes()))?;
    Ok(caller)
}

/// The legacy 404 body: `{status, message, correlationId, requestId}`.
fn legacy_not_found(message: &str) -> Response {
    let cid = random_uuid();
    let body = json!({
        "status": "error",
        "message": message,
        "correlationId": cid,
        "requestId": random_uuid(),
    });
    let mut resp = (StatusCode::NOT_FOUND, Json(body)).into_response();
    resp.extensions_mut().insert(CorrelationId(cid));
    resp
}

/// Which legacy list read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Feed {
    /// `all/contacts/all`: vid order, `vidOffset`.
    All,
    /// `recently_updated/contacts/recent`: newest change first.
    Updated,
    /// `all/contacts/recent`: newest first.
    Created,
}

struct FeedQuery {
    count: usize,
    vid_offset: Option<u64>,
    time_offset: Option<i64>,
    properties: Vec<String>,
}

fn feed_query(query: Option<&str>) -> Result<FeedQuery, ApiError> {
    let mut q = FeedQuery {
        count: DEFAULT_COUNT,
        vid_offset: None,
        time_offset: None,
        properties: Vec::new(),
    };
    for (k, v) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        let v = v.trim();
        let bad = || ApiError::validation(format!("Invalid value for {k}: '{v}'"));
        match k.as_ref() {
            "count" => {
                let n: usize = v.parse().map_err(|_| bad())?;
                q.count = n.clamp(1, MAX_COUNT);
            }
            "vidOffset" => q.vid_offset = Some(v.parse().map_err(|_| bad())?),
            "timeOffset" => q.time_offset = Some(v.parse().map_err(|_| bad())?),
            "property" if !v.is_empty() => q.properties.push(v.to_owned()),
            _ => {}
        }
    }
    if q.properties.is_empty() {
        q.properties = DEFAULT_PROPERTIES.iter().map(|s| (*s).to_owned()).collect();
    }
    Ok(q)
}

async fn feed(
    sim: Sim,
    query: Option<String>,
    headers: HeaderMap,
    feed: Feed,
) -> Result<Response, ApiError> {
    let caller = authorize(&sim, &headers)?;
    let q = feed_query(query.as_deref())?;
    let portal = caller.portal.id;
    let reply = sim.with(|s| {
        let SimState {
            crm, user_tokens, ..
        } = s;
        let store = crm.portal(portal).store(ObjectKind::Contacts);
        // (time, vid) of every candidate, in the feed's order.
        let mut keys: Vec<(i64, u64)> = store
            .live
            .iter()
            .map(|(id, rec)| {
                let at = match feed {
                    Feed::Updated => rec.updated_at,
                    Feed::All | Feed::Created => rec.created_at,
                };
                (at, *id)
            })
            .filter(|(at, id)| match feed {
                Feed::All => q.vid_offset.is_none_or(|v| *id > v),
                Feed::Updated | Feed::Created => match (q.time_offset, q.vid_offset) {
                    (Some(t), Some(v)) => *at < t || (*at == t && *id < v),
                    (Some(t), None) => *at <= t,
                    (None, _) => true,
                },
            })
            .collect();
        if feed != Feed::All {
            keys.sort_unstable_by(|a, b| b.cmp(a));
        }
        let has_more = keys.len() > q.count;
        keys.truncate(q.count);
        let contacts: Vec<Value> = keys
            .iter()
            .filter_map(|(at, id)| {
                let rec = store.live.get(id)?;
                Some(legacy_contact(
                    user_tokens,
                    store,
                    portal,
                    *id,
                    rec,
                    Some(&q.properties),
                    Some(*at),
                ))
            })
            .collect();
        let last = keys.last().copied();
        let mut reply = json!({
            "contacts": contacts,
            "has-more": has_more,
            "vid-offset": last.map_or(q.vid_offset.unwrap_or(0), |l| l.1),
        });
        if feed != Feed::All
            && let Some(obj) = reply.as_object_mut()
        {
            obj.insert(
                "time-offset".into(),
                json!(last.map_or(q.time_offset.unwrap_or(0), |l| l.0)),
            );
        }
        reply
    });
    Ok(respond(&caller, StatusCode::OK, reply))
}

/// `GET /contacts/v1/lists/all/contacts/all?count&vidOffset&property`.
pub async fn all_contacts(
    State(sim): State<Sim>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    feed(sim, query, headers, Feed::All).await
}

/// `GET /contacts/v1/lists/recently_updated/contacts/recent?count&timeOffset&vidOffset`.
pub async fn recently_updated(
    State(sim): State<Sim>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    feed(sim, query, headers, Feed::Updated).await
}

/// `GET /contacts/v1/lists/all/contacts/recent?count&timeOffset&vidOffset`.
pub async fn recently_created(
    State(sim): State<Sim>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    feed(sim, query, headers, Feed::Created).await
}

/// `GET /contacts/v1/contact/utk/{utk}/profile?property` → the contact in the legacy
/// shape (every property with a value, or the named ones plus `lastmodifieddate`);
/// unknown token → 404 "contact does not exist".
pub async fn by_utk(
    State(sim): State<Sim>,
    Path(utk): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = authorize(&sim, &headers)?;
    let mut names: Vec<String> =
        url::form_urlencoded::parse(query.as_deref().unwrap_or("").as_bytes())
            .filter(|(k, v)| k == "property" && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_owned())
            .collect();
    if !names.is_empty() && !names.iter().any(|n| n == "lastmodifieddate") {
        names.push("lastmodifieddate".into());
    }
    let portal = caller.portal.id;
    let found = sim.with(|s| {
        let id = find_by_utk(s, portal, &utk)?;
        let SimState {
            crm, user_tokens, ..
        } = s;
        let store = crm.portal(portal).store(ObjectKind::Contacts);
        let rec = store.live.get(&id)?;
        let names = (!names.is_empty()).then_some(names.as_slice());
        let mut v = legacy_contact(user_tokens, store, portal, id, rec, names, None);
        if let Some(obj) = v.as_object_mut() {
            obj.insert("list-memberships".into(), json!([]));
        }
        Some(v)
    });
    Ok(match found {
        Some(v) => respond(&caller, StatusCode::OK, v),
        None => legacy_not_found("contact does not exist"),
    })
}

/// `GET /_sim/contacts/{portalId}/{contactId}/utk` → `{utk}` (404 without one).
async fn sim_utk(
    State(sim): State<Sim>,
    Path((portal, id)): Path<(i64, u64)>,
) -> Result<Response, ApiError> {
    let utk = sim
        .contact_utk(portal, id)
        .ok_or_else(|| ApiError::not_found(format!("Contact {id} has no user token")))?;
    Ok(Json(json!({ "utk": utk })).into_response())
}

pub fn routes() -> Router<Sim> {
    Router::new()
        .route("/contacts/v1/lists/all/contacts/all", get(all_contacts))
        .route(
            "/contacts/v1/lists/recently_updated/contacts/recent",
            get(recently_updated),
        )
        .route(
            "/contacts/v1/lists/all/contacts/recent",
            get(recently_created),
        )
        .route("/contacts/v1/contact/utk/{utk}/profile", get(by_utk))
        .route("/_sim/contacts/{portal_id}/{contact_id}/utk", get(sim_utk))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_tokens_decode_and_differ_per_portal() {
        for id in [1001u64, 1002, 5_000_000] {
            let utk = derived_utk(24_682_001, id);
            assert_eq!(utk.len(), 32);
            assert_eq!(decode_utk(24_682_001, &utk), Some(id));
            assert_eq!(decode_utk(24_682_003, &utk), None);
        }
        assert_ne!(derived_utk(1, 1001), derived_utk(2, 1001));
        assert_eq!(decode_utk(1, &random_utk()), None);
    }
}
