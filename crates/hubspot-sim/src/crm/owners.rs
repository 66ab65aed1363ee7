//! CRM owners: `GET /crm/v3/owners`, `GET /crm/v3/owners/{ownerId}` and the
//! date-versioned `/crm/owners/2026-03` aliases.
//!
//! Owners are fixed per portal (the signed-in user plus a few colleagues, one of them
//! deactivated, i.e. archived); there is no API to change them.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use crate::auth::{self, Caller, Scopes};
use crate::crm::http::{page_after, page_limit, respond};
use crate::crm::schema::{ALL_KINDS, PropOption};
use crate::crm::store::PortalCrm;
use crate::crm::time;
use crate::errors::ApiError;
use crate::portals;
use crate::state::Sim;

/// Scopes of the owners endpoints (any of).
pub const OWNER_SCOPES: &[&str] = &["crm.objects.owners.read", "automation", "contacts"];
/// Default and largest `limit` of the owners list.
pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 500;

/// When the owners were "created" (fixed, so output is stable).
const OWNERS_CREATED_AT: i64 = 1_609_459_200_000; // 2021-01-01T00:00:00Z

/// One owner of a portal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub id: u64,
    pub email: &'static str,
    pub first_name: &'static str,
    pub last_name: &'static str,
    pub user_id: i64,
    /// `(team id, team name)`; the first is the primary team.
    pub team: Option<(u64, &'static str)>,
    pub archived: bool,
}

/// `(email, first name, last name, user id, team, archived)` of every portal's owners.
type Person = (
    &'static str,
    &'static str,
    &'static str,
    i64,
    Option<&'static str>,
    bool,
);

const PEOPLE: &[Person] = &[
    (
        portals::DEFAULT_USER.email,
        "Alex",
        "Owner",
        portals::DEFAULT_USER.user_id,
        Some("Sales"),
        false,
    ),
    (
        "sam.rivera@acme.example",
        "Sam",
        "Rivera",
        4022,
        Some("Sales"),
        false,
    ),
    (
        "kim.lee@acme.example",
        "Kim",
        "Lee",
        4023,
        Some("Support"),
        false,
    ),
    ("jo.baker@acme.example", "Jo", "Baker", 4024, None, false),
    ("pat.former@acme.example", "Pat", "Former", 4025, None, true),
];

/// The owners of a portal, in id order. Owner ids are `portal-specific`:
/// `(portal id mod 1000) * 1_000_000 + 700_000 + n` (e.g. `1700001` for Acme Inc).
pub fn owners(portal_id: i64) -> Vec<Owner> {
    let base = u64::try_from(portal_id.rem_euclid(1000)).unwrap_or_default() * 1_000_000 + 700_000;
    PEOPLE
        .iter()
        .enumerate()
        .map(|(i, (email, first, last, user_id, team, archived))| Owner {
            id: base + u64::try_from(i).unwrap_or_default() + 1,
            email,
            first_name: first,
            last_name: last,
            user_id: *user_id,
            team: team.map(|name| {
                let n = if name == "Sales" { 1 } else { 2 };
                (base + 900 + n, name)
            }),
            archived: *archived,
        })
        .collect()
}

/// Makes the options of every object's `hubspot_owner_id` the portal's active owners
/// (value: the owner id; label: the name), so other values are `INVALID_OPTION`.
pub fn set_owner_options(crm: &mut PortalCrm, portal_id: i64) {
    let options: Vec<PropOption> = owners(portal_id)
        .into_iter()
        .filter(|o| !o.archived)
        .enumerate()
        .map(|(i, o)| PropOption {
            value: o.id.to_string(),
            label: format!("{} {}", o.first_name, o.last_name),
            display_order: i64::try_from(i).unwrap_or_default(),
            hidden: false,
        })
        .collect();
    for kind in ALL_KINDS {
        let store = crm.store_mut(kind);
        if let Some(idx) = store.any_prop_index("hubspot_owner_id") {
            store.props[usize::from(idx)].options.clone_from(&options);
        }
    }
}

fn owner_json(o: &Owner) -> Value {
    let teams: Vec<Value> = o
        .team
        .iter()
        .map(|(id, name)| json!({"id": id.to_string(), "name": name, "primary": true}))
        .collect();
    json!({
        "id": o.id.to_string(),
        "email": o.email,
        "firstName": o.first_name,
        "lastName": o.last_name,
        "userId": if o.archived { Value::Null } else { json!(o.user_id) },
        "userIdIncludingInactive": o.user_id,
        "type": "PERSON",
        "teams": teams,
        "createdAt": time::iso(OWNERS_CREATED_AT),
        "updatedAt": time::iso(OWNERS_CREATED_AT),
        "archived": o.archived,
    })
}

fn authorize(sim: &Sim, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let caller = auth::authenticate(sim, headers)?;
    caller.require(Scopes::AnyOf(OWNER_SCOPES))?;
    Ok(caller)
}

fn bool_param(name: &str, v: &str) -> Result<bool, ApiError> {
    match v.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" | "" => Ok(false),
        _ => Err(ApiError::validation(format!(
            "{name} must be true or false, got '{v}'"
        ))),
    }
}

/// `GET /crm/v3/owners?email&after&limit&archived` → `{results, paging?}`. `email`
/// matches case-insensitively; `after` is the id of the next page's first owner;
/// `archived=true` lists only archived (deactivated) owners.
pub async fn list(
    State(sim): State<Sim>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = authorize(&sim, &headers)?;
    let mut email = None;
    let mut after = 0u64;
    let mut limit = DEFAULT_LIMIT;
    let mut archived = false;
    for (k, v) in url::form_urlencoded::parse(query.as_deref().unwrap_or("").as_bytes()) {
        match k.as_ref() {
            "email" => email = Some(v.trim().to_lowercase()).filter(|e| !e.is_empty()),
            "after" if !v.trim().is_empty() => after = page_after(&v)?,
            "limit" => limit = page_limit(&v, MAX_LIMIT)?,
            "archived" => archived = bool_param("archived", &v)?,
            _ => {}
        }
    }
    let matching: Vec<Owner> = owners(caller.portal.id)
        .into_iter()
        .filter(|o| o.archived == archived && o.id >= after)
        .filter(|o| email.as_deref().is_none_or(|e| o.email == e))
        .collect();
    let mut body = json!({
        "results": matching.iter().take(limit).map(owner_json).collect::<Vec<_>>(),
    });
    if let Some(next) = matching.get(limit)
        && let Some(obj) = body.as_object_mut()
    {
        obj.insert(
            "paging".into(),
            json!({"next": {"after": next.id.to_string(), "link": format!("?after={}", next.id)}}),
        );
    }
    Ok(respond(&caller, StatusCode::OK, body))
}

/// `GET /crm/v3/owners/{ownerId}?idProperty=id|userId&archived`.
pub async fn get_one(
    State(sim): State<Sim>,
    Path(reference): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = authorize(&sim, &headers)?;
    let mut by_user = false;
    let mut archived = false;
    for (k, v) in url::form_urlencoded::parse(query.as_deref().unwrap_or("").as_bytes()) {
        match k.as_ref() {
            "idProperty" => {
                by_user = match v.as_ref() {
                    "id" | "" => false,
                    "userId" => true,
                    other => {
                        return Err(ApiError::validation(format!(
                            "idProperty must be id or userId, got '{other}'"
                        )));
                    }
                };
            }
            "archived" => archived = bool_param("archived", &v)?,
            _ => {}
        }
    }
    let wanted = reference.trim();
    let found = owners(caller.portal.id).into_iter().find(|o| {
        o.archived == archived
            && if by_user {
                o.user_id.to_string() == wanted
            } else {
                o.id.to_string() == wanted
            }
    });
    let owner = found.ok_or_else(|| {
        let mut err = ApiError::not_found(format!("Owner {wanted} not found"));
        err.body.context.insert("id".into(), json!([wanted]));
        err
    })?;
    Ok(respond(&caller, StatusCode::OK, owner_json(&owner)))
}

/// The owners routes (also with a trailing slash, which the official clients send).
pub fn routes() -> axum::Router<Sim> {
    use axum::routing::get;
    let mut router = axum::Router::new();
    for base in ["/crm/v3/owners", "/crm/owners/2026-03"] {
        router = router
            .route(base, get(list))
            .route(&format!("{base}/"), get(list))
            .route(&format!("{base}/{{owner_id}}"), get(get_one));
    }
    router
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_portal_has_the_default_user() {
        for p in portals::all() {
            let list = owners(p.id);
            assert!(
                list.iter()
                    .any(|o| o.email == "owner@acme.example" && o.user_id == 4021 && !o.archived)
            );
            let mut ids: Vec<u64> = list.iter().map(|o| o.id).collect();
            ids.dedup();
            assert_eq!(ids.len(), list.len());
        }
        assert_ne!(
            owners(portals::ACME_INC)[0].id,
            owners(portals::ACME_TEST)[0].id
        );
    }
}
