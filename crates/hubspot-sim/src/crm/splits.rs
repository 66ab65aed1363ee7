//! Deal splits: `POST /crm/v3/objects/deals/splits/batch/read|upsert` and the
//! date-versioned `/deal-splits/2026-03/batch/read|upsert`, scope
//! `crm.dealsplits.read_write`. Their property definitions are the `deal_split` type of
//! the properties API.
//!
//! An upsert replaces a deal's splits. HubSpot's rules: the percentages add up to 1.0
//! with at most 8 decimal places, and the deal's owner is one of the split owners;
//! split owners must be active owners of the portal, each once. Any invalid input fails
//! the whole batch (400) and nothing changes.

use std::collections::{HashMap, HashSet};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::post;
use serde_json::{Value, json};

use crate::auth::{self, Caller, Scopes};
use crate::crm::http::{batch_limit, batch_reply, id_text, json_body};
use crate::crm::schema::ObjectKind;
use crate::crm::store::PortalCrm;
use crate::crm::time;
use crate::errors::ApiError;
use crate::state::{Sim, now_ms};

/// The scope of both endpoints.
pub const SPLITS_SCOPES: &[&str] = &["crm.dealsplits.read_write"];

/// One split of a deal.
#[derive(Debug, Clone)]
struct Split {
    id: u64,
    owner_id: u64,
    percentage: String,
    created_at: i64,
    updated_at: i64,
}

impl Split {
    fn to_json(&self) -> Value {
        json!({
            "id": self.id.to_string(),
            "properties": {
                "hs_deal_split_percentage": self.percentage,
                "hubspot_owner_id": self.owner_id.to_string(),
            },
            "createdAt": time::iso(self.created_at),
            "updatedAt": time::iso(self.updated_at),
            "archived": false,
        })
    }
}

/// The splits of a portal's deals.
#[derive(Debug, Default, Clone)]
pub struct DealSplits {
    by_deal: HashMap<u64, Vec<Split>>,
}

pub fn routes() -> Router<Sim> {
    let mut router = Router::new();
    for base in [
        "/crm/v3/objects/deals/splits/batch",
        "/deal-splits/2026-03/batch",
    ] {
        router = router
            .route(&format!("{base}/read"), post(batch_read))
            .route(&format!("{base}/upsert"), post(batch_upsert));
    }
    router
}

/// The caller, the start time and the `inputs` of a batch call (scope first, then body).
fn begin(
    sim: &Sim,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(Caller, i64, Vec<Value>), ApiError> {
    let caller = auth::authenticate(sim, headers)?;
    caller.require(Scopes::AnyOf(SPLITS_SCOPES))?;
    let started = now_ms();
    let body = json_body(headers, body)?;
    Ok((caller, started, inputs(sim, &body)?))
}

/// The `inputs` array of a batch body, within the batch limit.
fn inputs(sim: &Sim, body: &Value) -> Result<Vec<Value>, ApiError> {
    let inputs = body
        .get("inputs")
        .and_then(Value::as_array)
        .cloned()
        .ok_or_else(|| ApiError::validation("Invalid input JSON: missing field `inputs`"))?;
    batch_limit(inputs.len(), sim.with(|s| s.config.batch_max_inputs))?;
    Ok(inputs)
}

fn deal_id(input: &Value) -> Result<String, ApiError> {
    input
        .get("id")
        .and_then(id_text)
        .ok_or_else(|| ApiError::validation("Invalid input JSON: each input needs an `id`"))
}

/// The live deal with this id, if any.
fn live_deal(crm: &PortalCrm, id: &str) -> Option<u64> {
    id.trim()
        .parse::<u64>()
        .ok()
        .filter(|id| crm.store(ObjectKind::Deals).live.contains_key(id))
}

/// The grouped 207 error of the deals a read did not find.
fn missing_error(missing: &[String]) -> Value {
    let err = ApiError::not_found(
        "Could not get some DEAL objects, they may be deleted or not exist. Check that ids are valid.",
    );
    json!({
        "status": "error",
        "category": err.body.category,
        "message": err.body.message,
        "context": {"ids": missing},
    })
}

/// `POST …/batch/read` `{inputs: [{id}]}` → `{results: [{id, splits}]}`; unknown deals
/// are one grouped 207 error.
async fn batch_read(
    State(sim): State<Sim>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (caller, started, inputs) = begin(&sim, &headers, &body)?;
    let ids = inputs.iter().map(deal_id).collect::<Result<Vec<_>, _>>()?;
    let (results, missing) = sim.with(|s| {
        let crm = s.crm.portal(caller.portal.id);
        let mut results = Vec::new();
        let mut missing = Vec::new();
        let mut seen = HashSet::new();
        for id in ids {
            match live_deal(crm, &id) {
                Some(deal) if seen.insert(deal) => {
                    let splits: Vec<Value> = crm
                        .splits
                        .by_deal
                        .get(&deal)
                        .map(|v| v.iter().map(Split::to_json).collect())
                        .unwrap_or_default();
                    results.push(json!({"id": deal.to_string(), "splits": splits}));
                }
                Some(_) => {}
                None => missing.push(id),
            }
        }
        (results, missing)
    });
    let errors = if missing.is_empty() {
        Vec::new()
    } else {
        vec![missing_error(&missing)]
    };
    Ok(batch_reply(
        &caller,
        StatusCode::OK,
        started,
        results,
        errors,
    ))
}

/// A checked upsert input: the deal and its new `(owner, percentage)` splits.
type Planned = (u64, Vec<(u64, String)>);

/// Checks one upsert input against HubSpot's rules.
fn plan(crm: &PortalCrm, portal_id: i64, input: &Value) -> Result<Planned, ApiError> {
    let id = deal_id(input)?;
    let deal = live_deal(crm, &id)
        .ok_or_else(|| ApiError::validation(format!("Deal {id} does not exist")))?;
    let splits = input
        .get("splits")
        .and_then(Value::as_array)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            ApiError::validation(format!("Deal {id}: `splits` must be a non-empty array"))
        })?;
    let active: HashSet<u64> = crate::crm::owners::owners(portal_id)
        .into_iter()
        .filter(|o| !o.archived)
        .map(|o| o.id)
        .collect();
    let mut planned = Vec::new();
    let mut total = 0.0;
    for split in splits {
        let owner = split
            .get("ownerId")
            .and_then(id_text)
            .and_then(|o| o.trim().parse::<u64>().ok())
            .filter(|o| active.contains(o))
            .ok_or_else(|| {
                ApiError::validation(format!(
                    "Deal {id}: every split needs the `ownerId` of an active owner, got {}",
                    split.get("ownerId").unwrap_or(&Value::Null)
                ))
            })?;
        if planned.iter().any(|(o, _)| *o == owner) {
            return Err(ApiError::validation(format!(
                "Deal {id}: owner {owner} has more than one split"
            )));
        }
        let text = split
            .get("percentage")
            .and_then(id_text)
            .unwrap_or_default();
        let value = text
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|v| *v > 0.0 && *v <= 1.0);
        let decimals = text.trim().split_once('.').map_or(0, |(_, d)| d.len());
        let Some(value) = value.filter(|_| decimals <= 8) else {
            return Err(ApiError::validation(format!(
                "Deal {id}: split percentages must be numbers above 0 and at most 1 with at \
                 most 8 decimal places, got '{text}'"
            )));
        };
        total += value;
        planned.push((owner, text.trim().to_owned()));
    }
    if (total - 1.0).abs() > 1e-9 {
        return Err(ApiError::validation(format!(
            "Deal {id}: split percentages must add up to 1.0, they add up to {total}"
        )));
    }
    let deals = crm.store(ObjectKind::Deals);
    let owner_of_deal = deals
        .prop_index("hubspot_owner_id")
        .and_then(|i| deals.live.get(&deal).and_then(|r| r.get(i)))
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(owner) = owner_of_deal
        && !planned.iter().any(|(o, _)| *o == owner)
    {
        return Err(ApiError::validation(format!(
            "Deal {id}: the deal owner {owner} must be one of the split owners"
        )));
    }
    Ok((deal, planned))
}

/// `POST …/batch/upsert` `{inputs: [{id, splits: [{ownerId, percentage}]}]}` → the new
/// splits of each deal (a split keeps its id while its owner stays).
async fn batch_upsert(
    State(sim): State<Sim>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (caller, started, inputs) = begin(&sim, &headers, &body)?;
    let portal = caller.portal.id;
    let results = sim.with(|s| {
        let crm = s.crm.portal(portal);
        let mut plans: Vec<Planned> = Vec::new();
        for input in &inputs {
            let planned = plan(crm, portal, input)?;
            if plans.iter().any(|(d, _)| *d == planned.0) {
                return Err(ApiError::validation(format!(
                    "Deal {} is in the batch more than once",
                    planned.0
                )));
            }
            plans.push(planned);
        }
        let now = now_ms();
        let mut results = Vec::new();
        for (deal, planned) in plans {
            let old = crm.splits.by_deal.remove(&deal).unwrap_or_default();
            let mut splits = Vec::new();
            for (owner, percentage) in planned {
                let split = match old.iter().find(|s| s.owner_id == owner) {
                    Some(s) => Split {
                        percentage,
                        updated_at: now,
                        ..s.clone()
                    },
                    None => Split {
                        id: crm.alloc_id(),
                        owner_id: owner,
                        percentage,
                        created_at: now,
                        updated_at: now,
                    },
                };
                splits.push(split);
            }
            let json: Vec<Value> = splits.iter().map(Split::to_json).collect();
            results.push(json!({"id": deal.to_string(), "splits": json}));
            crm.splits.by_deal.insert(deal, splits);
        }
        Ok::<_, ApiError>(results)
    })?;
    Ok(batch_reply(
        &caller,
        StatusCode::OK,
        started,
        results,
        Vec::new(),
    ))
}
