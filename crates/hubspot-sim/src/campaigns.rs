//! Two different "campaign" entities:
//!
//! * email campaigns (Email Analytics v1, scope `content`): the sends of marketing
//!   emails, read-only, fixed seed data per portal ([`EMAIL_CAMPAIGNS`]);
//! * marketing campaigns v3 (`marketing.campaigns.read` / `.write`): seeded ones
//!   ([`MARKETING_CAMPAIGNS`]) plus those created through the API.

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use serde_json::{Map, Value, json};

use crate::auth::{self, Caller, Scopes};
use crate::crm::http::{json_body, offset_page, respond};
use crate::crm::time;
use crate::errors::ApiError;
use crate::ids::random_uuid;
use crate::state::{Sim, now_ms};

/// HubSpot's app of batch marketing emails.
const BATCH_APP: (i64, &str) = (113, "Batch");
/// When the seeded campaigns start (2025-02-03T15:00:00Z); entry `n` is `n` days later.
const SEED_START: i64 = 1_738_594_800_000;
const DAY: i64 = 86_400_000;
/// Email campaign pages: default and largest `limit`.
const EMAIL_DEFAULT_LIMIT: usize = 250;
const EMAIL_MAX_LIMIT: usize = 1000;
/// Marketing campaign pages: default and largest `limit`.
const MARKETING_DEFAULT_LIMIT: usize = 50;
const MARKETING_MAX_LIMIT: usize = 100;

/// `(name, subject, sent, opened, clicked, bounced, unsubscribed, last activity day)`.
pub type EmailCampaign = (&'static str, &'static str, u64, u64, u64, u64, u64, usize);

/// The email campaigns of every portal.
pub const EMAIL_CAMPAIGNS: &[EmailCampaign] = &[
    (
        "January newsletter",
        "What's new in January",
        1200,
        540,
        130,
        12,
        4,
        3,
    ),
    (
        "Spring launch",
        "Meet the spring release",
        2400,
        1310,
        402,
        20,
        9,
        40,
    ),
    (
        "Webinar invite",
        "Join our live demo",
        800,
        300,
        95,
        6,
        2,
        12,
    ),
    (
        "Customer survey",
        "Two minutes of your time?",
        1500,
        610,
        88,
        15,
        7,
        25,
    ),
];

/// The marketing campaigns every portal starts with: `(name, start day, end day,
/// status, audience)`.
pub const MARKETING_CAMPAIGNS: &[(&str, usize, usize, &str, &str)] = &[
    ("Spring launch 2025", 30, 90, "active", "Existing customers"),
    ("Webinar series", 10, 120, "active", "Prospects"),
    ("Black Friday", 290, 300, "planned", "Everyone"),
];

/// The properties a marketing campaign may have.
pub const CAMPAIGN_PROPERTIES: &[&str] = &[
    "hs_name",
    "hs_start_date",
    "hs_end_date",
    "hs_notes",
    "hs_audience",
    "hs_currency_code",
    "hs_campaign_status",
    "hs_owner",
    "hs_color_hex",
    "hs_utm",
    "hs_goal",
];

fn day(n: usize) -> i64 {
    SEED_START + i64::try_from(n).unwrap_or_default() * DAY
}

fn base(portal: i64) -> u64 {
    u64::try_from(portal.rem_euclid(1000)).unwrap_or_default() * 1_000_000
}

fn email_id(portal: i64, i: usize) -> u64 {
    base(portal) + 800_001 + u64::try_from(i).unwrap_or_default()
}

fn email_summary(portal: i64, i: usize, with_time: bool) -> Value {
    let mut v = json!({"id": email_id(portal, i), "appId": BATCH_APP.0, "appName": BATCH_APP.1});
    if with_time && let Some(obj) = v.as_object_mut() {
        obj.insert("lastUpdatedTime".into(), json!(day(EMAIL_CAMPAIGNS[i].7)));
    }
    v
}

fn email_detail(portal: i64, i: usize) -> Value {
    let (name, subject, sent, opened, clicked, bounced, unsub, last) = EMAIL_CAMPAIGNS[i];
    let delivered = sent - bounced;
    json!({
        "id": email_id(portal, i),
        "appId": BATCH_APP.0,
        "appName": BATCH_APP.1,
        "contentId": base(portal) + 810_001 + u64::try_from(i).unwrap_or_default(),
        "name": name,
        "subject": subject,
        "type": "BATCH_EMAIL",
        "processingState": "DONE",
        "numIncluded": sent,
        "numQueued": sent,
        "lastProcessingStartedAt": day(last) - 600_000,
        "lastProcessingFinishedAt": day(last),
        "lastProcessingStateChangeAt": day(last),
        "counters": {
            "sent": sent,
            "processed": sent,
            "delivered": delivered,
            "open": opened,
            "click": clicked,
            "bounce": bounced,
            "unsubscribed": unsub,
            "dropped": 0,
            "spamreport": 0,
            "statuschange": 0,
            "deferred": 0,
        },
    })
}

fn pairs(query: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn number_param(
    pairs: &[(String, String)],
    name: &str,
    default: usize,
    max: usize,
) -> Result<usize, ApiError> {
    match pairs.iter().find(|(k, _)| k == name) {
        None => Ok(default),
        Some((_, v)) if v.trim().is_empty() => Ok(default),
        Some((_, v)) => v.trim().parse().ok().filter(|n| *n <= max).ok_or_else(|| {
            ApiError::validation(format!("{name} must be between 0 and {max}, got '{v}'"))
        }),
    }
}

fn authorize(sim: &Sim, headers: &HeaderMap, scopes: &[&str]) -> Result<Caller, ApiError> {
    let caller = auth::authenticate(sim, headers)?;
    caller.require(Scopes::AnyOf(scopes))?;
    Ok(caller)
}

/// `GET /email/public/v1/campaigns` (most recent activity first, with
/// `lastUpdatedTime`) and `…/by-id` (id order): `{campaigns, hasMore, offset}`.
async fn email_list(
    sim: Sim,
    query: Option<String>,
    headers: HeaderMap,
    recent: bool,
) -> Result<Response, ApiError> {
    let caller = authorize(&sim, &headers, &["content"])?;
    let pairs = pairs(query.as_deref());
    let limit = number_param(&pairs, "limit", EMAIL_DEFAULT_LIMIT, EMAIL_MAX_LIMIT)?.max(1);
    let offset = number_param(&pairs, "offset", 0, usize::MAX)?;
    let portal = caller.portal.id;
    let mut order: Vec<usize> = (0..EMAIL_CAMPAIGNS.len()).collect();
    if recent {
        order.sort_by_key(|i| std::cmp::Reverse(EMAIL_CAMPAIGNS[*i].7));
    }
    let page: Vec<Value> = order
        .iter()
        .skip(offset)
        .take(limit)
        .map(|i| email_summary(portal, *i, recent))
        .collect();
    let next = offset + page.len();
    Ok(respond(
        &caller,
        StatusCode::OK,
        json!({"campaigns": page, "hasMore": next < order.len(), "offset": next.to_string()}),
    ))
}

pub async fn email_recent(
    State(sim): State<Sim>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    email_list(sim, q, headers, true).await
}

pub async fn email_by_id(
    State(sim): State<Sim>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    email_list(sim, q, headers, false).await
}

/// `GET /email/public/v1/campaigns/{campaignId}?appId` → the campaign with `counters`;
/// unknown (or another `appId`) → 404.
pub async fn email_one(
    State(sim): State<Sim>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = authorize(&sim, &headers, &["content"])?;
    let portal = caller.portal.id;
    let app = pairs(q.as_deref())
        .into_iter()
        .find(|(k, _)| k == "appId")
        .map(|(_, v)| v);
    let i = (0..EMAIL_CAMPAIGNS.len())
        .find(|i| email_id(portal, *i).to_string() == id.trim())
        .filter(|_| {
            app.as_deref()
                .is_none_or(|a| a.trim() == BATCH_APP.0.to_string())
        })
        .ok_or_else(|| ApiError::not_found(format!("Campaign {id} not found")))?;
    Ok(respond(&caller, StatusCode::OK, email_detail(portal, i)))
}

/// One marketing campaign.
#[derive(Debug, Clone)]
pub struct Campaign {
    pub id: String,
    pub properties: Map<String, Value>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Marketing campaigns per portal (seeded on first use).
#[derive(Debug, Default)]
pub struct CampaignsState {
    portals: HashMap<i64, Vec<Campaign>>,
}

fn seeded(portal: i64) -> Vec<Campaign> {
    MARKETING_CAMPAIGNS
        .iter()
        .enumerate()
        .map(|(i, (name, start, end, status, audience))| {
            let n = base(portal) + u64::try_from(i).unwrap_or_default() + 1;
            let mut p = Map::new();
            p.insert("hs_name".into(), json!(name));
            p.insert("hs_start_date".into(), json!(time::iso_date(day(*start))));
            p.insert("hs_end_date".into(), json!(time::iso_date(day(*end))));
            p.insert("hs_campaign_status".into(), json!(status));
            p.insert("hs_audience".into(), json!(audience));
            p.insert("hs_currency_code".into(), json!("USD"));
            Campaign {
                id: format!("5ca1ab1e-0000-4000-8000-{n:012x}"),
                properties: p,
                created_at: SEED_START,
                updated_at: SEED_START,
            }
        })
        .collect()
}

impl CampaignsState {
    fn portal(&mut self, portal: i64) -> &mut Vec<Campaign> {
        self.portals.entry(portal).or_insert_with(|| seeded(portal))
    }
}

fn campaign_json(c: &Campaign, names: &[String]) -> Value {
    let properties: Map<String, Value> = c
        .properties
        .iter()
        .filter(|(k, _)| names.is_empty() || names.contains(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    json!({
        "id": c.id,
        "properties": properties,
        "createdAt": time::iso(c.created_at),
        "updatedAt": time::iso(c.updated_at),
    })
}

fn property_names(pairs: &[(String, String)]) -> Vec<String> {
    pairs
        .iter()
        .filter(|(k, _)| k == "properties")
        .flat_map(|(_, v)| {
            v.split(',')
                .map(str::trim)
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .filter(|s| !s.is_empty())
        .collect()
}

const READ: &[&str] = &["marketing.campaigns.read"];
const WRITE: &[&str] = &["marketing.campaigns.write"];

/// `GET /marketing/v3/campaigns?limit&after&sort&name&properties` → `{total, results,
/// paging?}`; `sort` `hs_name`, `createdAt`, `updatedAt` (`-` descending); `name` a
/// case-insensitive part of `hs_name`; `after` an offset.
pub async fn marketing_list(
    State(sim): State<Sim>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = authorize(&sim, &headers, READ)?;
    let pairs = pairs(q.as_deref());
    let limit = number_param(
        &pairs,
        "limit",
        MARKETING_DEFAULT_LIMIT,
        MARKETING_MAX_LIMIT,
    )?
    .max(1);
    let after = number_param(&pairs, "after", 0, usize::MAX)?;
    let names = property_names(&pairs);
    let filter = pairs
        .iter()
        .find(|(k, _)| k == "name")
        .map(|(_, v)| v.trim().to_lowercase());
    let sort = pairs
        .iter()
        .find(|(k, _)| k == "sort")
        .map(|(_, v)| v.trim().to_owned());
    let mut all = sim.with(|s| s.campaigns.portal(caller.portal.id).clone());
    if let Some(f) = filter.filter(|f| !f.is_empty()) {
        all.retain(|c| {
            c.properties
                .get("hs_name")
                .and_then(Value::as_str)
                .is_some_and(|n| n.to_lowercase().contains(&f))
        });
    }
    if let Some(sort) = sort.filter(|s| !s.is_empty()) {
        let (desc, field) = sort
            .strip_prefix('-')
            .map_or((false, sort.as_str()), |f| (true, f));
        match field {
            "hs_name" | "name" => all.sort_by_key(|c| {
                c.properties
                    .get("hs_name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_lowercase()
            }),
            "createdAt" => all.sort_by_key(|c| c.created_at),
            "updatedAt" => all.sort_by_key(|c| c.updated_at),
            _ => {
                return Err(ApiError::validation(format!(
                    "sort must be hs_name, createdAt or updatedAt, got '{sort}'"
                )));
            }
        }
        if desc {
            all.reverse();
        }
    }
    let total = all.len();
    let results: Vec<Value> = all
        .iter()
        .skip(after)
        .take(limit)
        .map(|c| campaign_json(c, &names))
        .collect();
    Ok(respond(
        &caller,
        StatusCode::OK,
        offset_page(total, results, limit, after),
    ))
}

/// `GET /marketing/v3/campaigns/{campaignGuid}?properties` → the campaign with `assets:
/// {}`; unknown → 404.
pub async fn marketing_one(
    State(sim): State<Sim>,
    Path(guid): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = authorize(&sim, &headers, READ)?;
    let names = property_names(&pairs(q.as_deref()));
    let found = sim.with(|s| {
        s.campaigns
            .portal(caller.portal.id)
            .iter()
            .find(|c| c.id.eq_ignore_ascii_case(guid.trim()))
            .cloned()
    });
    let c = found.ok_or_else(|| ApiError::not_found(format!("Campaign {guid} not found")))?;
    let mut v = campaign_json(&c, &names);
    if let Some(obj) = v.as_object_mut() {
        obj.insert("assets".into(), json!({}));
    }
    Ok(respond(&caller, StatusCode::OK, v))
}

/// `POST /marketing/v3/campaigns` `{properties: {hs_name, …}}` → **201** the campaign.
/// `hs_name` is required and unique (409); unknown properties → 400; values are strings.
pub async fn marketing_create(
    State(sim): State<Sim>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = authorize(&sim, &headers, WRITE)?;
    let body = json_body(&headers, &body)?;
    let props = body
        .get("properties")
        .and_then(Value::as_object)
        .ok_or_else(|| ApiError::validation("properties is required"))?;
    let mut properties = Map::new();
    for (k, v) in props {
        if !CAMPAIGN_PROPERTIES.contains(&k.as_str()) {
            return Err(ApiError::validation(format!(
                "Property \"{k}\" does not exist on campaigns"
            )));
        }
        let text = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Null => continue,
            _ => {
                return Err(ApiError::validation(format!(
                    "Property \"{k}\" must be a string"
                )));
            }
        };
        properties.insert(k.clone(), Value::String(text));
    }
    let name = properties
        .get("hs_name")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::validation("hs_name is required to create a campaign"))?
        .to_owned();
    let created = sim.with(|s| {
        let list = s.campaigns.portal(caller.portal.id);
        if list.iter().any(|c| {
            c.properties
                .get("hs_name")
                .and_then(Value::as_str)
                .is_some_and(|n| n.eq_ignore_ascii_case(&name))
        }) {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "CONFLICT",
                format!("A campaign named '{name}' already exists"),
            ));
        }
        let now = now_ms();
        let c = Campaign {
            id: random_uuid(),
            properties,
            created_at: now,
            updated_at: now,
        };
        list.push(c.clone());
        Ok(c)
    })?;
    Ok(respond(
        &caller,
        StatusCode::CREATED,
        campaign_json(&created, &[]),
    ))
}

pub fn routes() -> Router<Sim> {
    Router::new()
        .route("/email/public/v1/campaigns", get(email_recent))
        .route("/email/public/v1/campaigns/by-id", get(email_by_id))
        .route("/email/public/v1/campaigns/{campaign_id}", get(email_one))
        .route(
            "/marketing/v3/campaigns",
            get(marketing_list).post(marketing_create),
        )
        .route(
            "/marketing/v3/campaigns/{campaign_guid}",
            get(marketing_one),
        )
}
