//! HubSpot's CRM: object records (contacts, companies, deals, tickets, products,
//! line items, engagements and every other standard object type) and property
//! definitions.
//!
//! * [`schema`]: object types, scopes, built-in property definitions
//! * [`store`]: the per-portal record store
//! * [`objects`]: `/crm/v3/objects/...` and `/crm/objects/2026-03/...`
//! * [`search`]: `POST .../{objectType}/search` on both object API prefixes
//! * [`properties`]: `/crm/v3/properties/...`, `/crm/properties/2026-03/...`,
//!   `/properties/v2/{object}/properties`
//! * [`custom`]: custom object schemas (`/crm/v3/schemas`, `/crm/schemas/2026-03`)
//! * [`http`]: authorization, bodies, query parameters, the 414 limit (applied to every
//!   path by [`crate::router`])
//! * [`associations`]: associations v4 (`/crm/v4/...`, `/crm/associations/...`), type
//!   ids, labels, create-time associations and `associations=` on reads
//! * [`pipelines`]: deal and ticket pipelines (`/crm/v3/pipelines`, `/crm/pipelines/2026-03`)
//! * [`owners`]: the fixed owners of each portal (`/crm/v3/owners`, `/crm/owners/2026-03`)
//! * [`types`]: the table of built-in object types (names, ids, scopes, properties)
//! * [`library`]: activatable object types, per-portal activation, the enablement reads
//! * [`splits`]: deal splits (`/crm/v3/objects/deals/splits/batch/…`)

pub mod associations;
pub mod custom;
pub mod events;
pub mod http;
pub mod library;
pub mod objects;
pub mod owners;
pub mod pipelines;
pub mod properties;
pub mod schema;
pub mod search;
pub mod seed;
pub mod splits;
pub mod store;
pub mod time;
pub mod types;

use std::collections::HashSet;

use axum::Router;
use axum::routing::{get, post};
use serde_json::{Map, Value};

use crate::crm::schema::ObjectKind;
use crate::errors::ApiError;
use crate::state::{Sim, now_ms};

pub use store::CrmState;

/// Object API path prefixes: classic and date-versioned.
const OBJECT_BASES: [&str; 2] = ["/crm/v3/objects", "/crm/objects/2026-03"];
/// Properties API path prefixes: classic and date-versioned.
const PROPERTY_BASES: [&str; 2] = ["/crm/v3/properties", "/crm/properties/2026-03"];

/// Test and sandbox controls of the CRM, without HTTP.
impl Sim {
    /// Creates records in `portal_id` as the simulator itself (history source `CRM_UI`),
    /// validated like API writes but without scope or seat checks and without webhook
    /// events. All or nothing: the first invalid record fails the call. Returns the ids
    /// in input order. `object_type`: plural or singular name, or type id.
    pub fn crm_seed(
        &self,
        portal_id: i64,
        object_type: &str,
        records: impl IntoIterator<Item = Map<String, Value>>,
    ) -> Result<Vec<u64>, ApiError> {
        let kind = http::object_kind(object_type)?;
        self.with(|s| {
            let crm = s.crm.portal(portal_id);
            let mut claimed = HashSet::new();
            let prepared = records
                .into_iter()
                .map(|props| objects::prepare_create(crm, kind, props, &mut claimed))
                .collect::<Result<Vec<_>, _>>()?;
            let now = now_ms();
            let mut ids = Vec::with_capacity(prepared.len());
            for changes in prepared {
                let id = crm.alloc_id();
                let store = crm.store_mut(kind);
                store.insert(id, changes, now, 0);
                ids.push(id);
            }
            Ok(ids)
        })
    }

    /// The number of live (not archived) records of a type in a portal.
    pub fn crm_count(&self, portal_id: i64, object_type: &str) -> Result<usize, ApiError> {
        let kind: ObjectKind = http::object_kind(object_type)?;
        Ok(self.with(|s| s.crm.portal(portal_id).store(kind).live.len()))
    }
}

/// The CRM routes (HubSpot paths and the `/_sim/crm` controls).
pub fn routes() -> Router<Sim> {
    let mut router = Router::new();
    for base in OBJECT_BASES {
        router = router
            .route(
                &format!("{base}/{{object_type}}"),
                get(objects::list).post(objects::create),
            )
            .route(
                &format!("{base}/{{object_type}}/{{id}}"),
                get(objects::get_one)
                    .patch(objects::update)
                    .delete(objects::archive)
                    .post(objects::post_action),
            )
            .route(
                &format!("{base}/{{object_type}}/batch/{{action}}"),
                post(objects::batch),
            )
            .route(
                &format!("{base}/{{object_type}}/search"),
                post(search::search),
            );
    }
    for base in PROPERTY_BASES {
        router = router
            .route(
                &format!("{base}/{{object_type}}"),
                get(properties::list).post(properties::create),
            )
            .route(
                &format!("{base}/{{object_type}}/groups"),
                get(properties::groups).post(properties::create_group),
            )
            .route(
                &format!("{base}/{{object_type}}/groups/{{group_name}}"),
                get(properties::get_group)
                    .patch(properties::update_group)
                    .delete(properties::delete_group),
            )
            .route(
                &format!("{base}/{{object_type}}/batch/read"),
                post(properties::batch_read),
            )
            .route(
                &format!("{base}/{{object_type}}/batch/create"),
                post(properties::batch_create),
            )
            .route(
                &format!("{base}/{{object_type}}/batch/archive"),
                post(properties::batch_archive),
            )
            .route(
                &format!("{base}/{{object_type}}/{{name}}"),
                get(properties::get_one)
                    .patch(properties::update)
                    .delete(properties::archive),
            );
    }
    router
        .route(
            "/properties/v2/{object}/properties",
            get(properties::list_v2),
        )
        .route(
            "/_sim/crm/{portal_id}/{object_type}/{id}/restore",
            post(objects::sim_restore),
        )
        .merge(custom::routes())
        .merge(seed::routes())
        .merge(associations::routes())
        .merge(pipelines::routes())
        .merge(owners::routes())
        .merge(library::routes())
        .merge(splits::routes())
}
