//! The object library: activatable object types (appointments, courses, listings,
//! services) and whether each portal has activated them.
//!
//! HubSpot lets a portal's super admin activate these in the data model settings; the
//! API can only read the state (`GET /crm/v3/object-library/enablement`,
//! `/crm/object-library/2026-03/enablement`, `…/enablement/{objectTypeId}`). Until a type
//! is activated, its records and property definitions answer [`not_activated`].
//! Every portal starts with none activated; `/_sim/crm/{portalId}/object-library` (and
//! [`Sim::crm_set_activated`]) activates or deactivates them.

use std::collections::BTreeSet;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::auth::{self, Caller, Scopes};
use crate::crm::http::respond;
use crate::crm::schema::{ALL_KINDS, ObjectKind};
use crate::errors::ApiError;
use crate::state::Sim;

/// The activatable types a portal has activated (by store index).
#[derive(Debug, Default, Clone)]
pub struct Activation {
    active: BTreeSet<usize>,
}

impl Activation {
    /// Whether records and properties of `kind` can be used (always, for types that
    /// need no activation).
    pub fn is_active(&self, kind: ObjectKind) -> bool {
        !kind.activatable() || self.active.contains(&kind.index())
    }

    fn set(&mut self, kind: ObjectKind, active: bool) {
        if active {
            self.active.insert(kind.index());
        } else {
            self.active.remove(&kind.index());
        }
    }

    /// `{"0-421": false, …}` for every activatable type.
    fn enablement(&self) -> Map<String, Value> {
        activatable()
            .map(|k| (k.type_id().to_owned(), Value::Bool(self.is_active(k))))
            .collect()
    }
}

/// The activatable types, in table order.
fn activatable() -> impl Iterator<Item = ObjectKind> {
    ALL_KINDS.into_iter().filter(|k| k.activatable())
}

/// 403 for a type the portal has not activated (the status, category, sub-category and
/// message are the simulator's; see the README's choices table).
pub fn not_activated(kind: ObjectKind, portal_id: i64) -> ApiError {
    let mut err = ApiError::new(
        StatusCode::FORBIDDEN,
        "FORBIDDEN",
        format!(
            "The {} object ({}) is not activated in portal {portal_id}. A super admin must \
             activate it in the data model settings before its records and properties can \
             be used.",
            kind.plural(),
            kind.type_id()
        ),
    );
    err.body.sub_category = Some("OBJECT_TYPE_NOT_ACTIVATED".into());
    err.body
        .context
        .insert("objectTypeId".into(), json!([kind.type_id()]));
    err
}

/// Fails with [`not_activated`] unless the caller's portal may use `kind`.
pub fn check(sim: &Sim, caller: &Caller, kind: ObjectKind) -> Result<(), ApiError> {
    let portal = caller.portal.id;
    if sim.with(|s| s.crm.portal(portal).library.is_active(kind)) {
        Ok(())
    } else {
        Err(not_activated(kind, portal))
    }
}

/// An activatable type named by plural, singular or type id; other names → 400.
fn activatable_kind(object_type: &str) -> Result<ObjectKind, ApiError> {
    ObjectKind::parse(object_type)
        .filter(|k| k.activatable())
        .ok_or_else(|| {
            ApiError::validation(format!(
                "{object_type} is not an activatable object type; activatable: {}",
                activatable()
                    .map(|k| format!("{} ({})", k.plural(), k.type_id()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
}

impl Sim {
    /// Activates (or deactivates) an activatable object type in a portal, as a super
    /// admin does in HubSpot's data model settings. `object_type`: plural or singular
    /// name or type id of appointments, courses, listings or services.
    pub fn crm_set_activated(
        &self,
        portal_id: i64,
        object_type: &str,
        active: bool,
    ) -> Result<(), ApiError> {
        let kind = activatable_kind(object_type)?;
        known_portal(portal_id)?;
        self.with(|s| s.crm.portal(portal_id).library.set(kind, active));
        Ok(())
    }

    /// Whether a portal has activated an activatable object type.
    pub fn crm_activated(&self, portal_id: i64, object_type: &str) -> Result<bool, ApiError> {
        let kind = activatable_kind(object_type)?;
        Ok(self.with(|s| s.crm.portal(portal_id).library.is_active(kind)))
    }
}

fn known_portal(portal_id: i64) -> Result<(), ApiError> {
    crate::portals::find(portal_id)
        .map(|_| ())
        .ok_or_else(|| ApiError::not_found(format!("Unknown portal {portal_id}")))
}

/// The routes: HubSpot's enablement reads and the `/_sim` control.
pub fn routes() -> Router<Sim> {
    let mut router = Router::new();
    for base in ["/crm/v3/object-library", "/crm/object-library/2026-03"] {
        router = router
            .route(&format!("{base}/enablement"), get(enablement))
            .route(
                &format!("{base}/enablement/{{object_type_id}}"),
                get(enablement_of),
            );
    }
    router
        .route("/_sim/crm/{portal_id}/object-library", get(sim_enablement))
        .route(
            "/_sim/crm/{portal_id}/object-library/{object_type}",
            get(sim_enablement_of).put(sim_set).post(sim_set),
        )
}

/// The scopes of the enablement reads: any CRM object read scope (HubSpot lists a long
/// set of alternatives).
fn authorize(sim: &Sim, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let caller = auth::authenticate(sim, headers)?;
    caller.require(Scopes::AnyOf(crate::crm::properties::any_read_scopes()))?;
    Ok(caller)
}

/// `GET …/enablement` → `{"enablementByObjectTypeId": {"0-421": false, …}}`.
async fn enablement(State(sim): State<Sim>, headers: HeaderMap) -> Result<Response, ApiError> {
    let caller = authorize(&sim, &headers)?;
    let map = sim.with(|s| s.crm.portal(caller.portal.id).library.enablement());
    Ok(respond(
        &caller,
        StatusCode::OK,
        json!({ "enablementByObjectTypeId": map }),
    ))
}

/// `GET …/enablement/{objectTypeId}` → `{"enablement": bool}`; a type that is not
/// activatable → 404.
async fn enablement_of(
    State(sim): State<Sim>,
    Path(object_type_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = authorize(&sim, &headers)?;
    let kind = ObjectKind::parse(&object_type_id)
        .filter(|k| k.activatable())
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "Object type {object_type_id} is not an activatable object type"
            ))
        })?;
    let on = sim.with(|s| s.crm.portal(caller.portal.id).library.is_active(kind));
    Ok(respond(
        &caller,
        StatusCode::OK,
        json!({ "enablement": on }),
    ))
}

async fn sim_enablement(
    State(sim): State<Sim>,
    Path(portal_id): Path<i64>,
) -> Result<Response, ApiError> {
    known_portal(portal_id)?;
    let map = sim.with(|s| s.crm.portal(portal_id).library.enablement());
    Ok(
        axum::Json(json!({ "portalId": portal_id, "enablementByObjectTypeId": map }))
            .into_response(),
    )
}

fn sim_state(portal_id: i64, kind: ObjectKind, active: bool) -> Response {
    axum::Json(json!({
        "portalId": portal_id,
        "objectType": kind.plural(),
        "objectTypeId": kind.type_id(),
        "activated": active,
    }))
    .into_response()
}

async fn sim_enablement_of(
    State(sim): State<Sim>,
    Path((portal_id, object_type)): Path<(i64, String)>,
) -> Result<Response, ApiError> {
    known_portal(portal_id)?;
    let kind = activatable_kind(&object_type)?;
    let active = sim.crm_activated(portal_id, &object_type)?;
    Ok(sim_state(portal_id, kind, active))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetActivated {
    activated: bool,
}

/// `PUT|POST /_sim/crm/{portalId}/object-library/{objectType}` `{"activated": bool}`
/// (an empty body activates).
async fn sim_set(
    State(sim): State<Sim>,
    Path((portal_id, object_type)): Path<(i64, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let active = if body.iter().all(u8::is_ascii_whitespace) {
        true
    } else {
        serde_json::from_slice::<SetActivated>(&body)
            .map_err(|e| ApiError::validation(format!("Invalid JSON body: {e}")))?
            .activated
    };
    let kind = activatable_kind(&object_type)?;
    sim.crm_set_activated(portal_id, &object_type, active)?;
    Ok(sim_state(portal_id, kind, active))
}
