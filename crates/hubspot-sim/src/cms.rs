//! CMS blogs v3 (scope `content`): the blogs of a portal (`/cms/v3/blog-settings/settings`)
//! and their posts (`/cms/v3/blogs/posts`). Both are fixed seed data per portal (the
//! table [`BLOGS`] and [`POSTS`]); there are no writes.

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value, json};

use crate::auth::{self, Caller, Scopes};
use crate::crm::http::{offset_page, page_after, page_limit, respond};
use crate::crm::time;
use crate::errors::ApiError;
use crate::portals;
use crate::state::Sim;

/// Scopes of the CMS reads (any of).
pub const CONTENT_SCOPES: &[&str] = &["content"];
/// Default and largest `limit`.
const DEFAULT_LIMIT: usize = 20;
const MAX_LIMIT: usize = 100;
/// When the seed content starts (2025-01-06T09:00:00Z); entry `n` is `n` days later.
const SEED_START: i64 = 1_736_154_000_000;
const DAY: i64 = 86_400_000;

/// `(slug, name, description)` of every portal's blogs.
pub const BLOGS: &[(&str, &str, &str)] = &[
    ("blog", "Acme Blog", "News and stories from the team"),
    ("engineering", "Engineering", "How we build things"),
];

/// `(blog index, slug, title, state, summary)` of every portal's posts, oldest first.
pub const POSTS: &[(usize, &str, &str, &str, &str)] = &[
    (
        0,
        "hello-world",
        "Hello, world",
        "PUBLISHED",
        "Our first post.",
    ),
    (
        0,
        "spring-launch",
        "The spring launch",
        "PUBLISHED",
        "What is new this spring.",
    ),
    (
        1,
        "our-stack",
        "Our stack",
        "PUBLISHED",
        "The tools behind the product.",
    ),
    (
        0,
        "customer-story-cobalt",
        "Customer story: Cobalt",
        "PUBLISHED",
        "How Cobalt grew 3x.",
    ),
    (
        1,
        "testing-at-scale",
        "Testing at scale",
        "PUBLISHED",
        "A simulator for every API.",
    ),
    (
        0,
        "pricing-update",
        "A pricing update",
        "DRAFT",
        "Coming soon.",
    ),
    (
        1,
        "postmortem-march",
        "March incident review",
        "PUBLISHED",
        "What broke and why.",
    ),
];

fn base(portal: i64) -> u64 {
    u64::try_from(portal.rem_euclid(1000)).unwrap_or_default() * 1_000_000
}

/// The id of a portal's blog `i` (its `contentGroupId`).
pub fn blog_id(portal: i64, i: usize) -> u64 {
    base(portal) + 500_001 + u64::try_from(i).unwrap_or_default()
}

/// The id of a portal's post `i`.
pub fn post_id(portal: i64, i: usize) -> u64 {
    base(portal) + 600_001 + u64::try_from(i).unwrap_or_default()
}

fn domain(portal: i64) -> String {
    portals::find(portal).map_or_else(
        || format!("{portal}.hs-sites.com"),
        |p| p.hub_domain.to_owned(),
    )
}

fn day(n: usize) -> i64 {
    SEED_START + i64::try_from(n).unwrap_or_default() * DAY
}

fn blog_json(portal: i64, i: usize) -> Value {
    let (slug, name, description) = BLOGS[i];
    json!({
        "id": blog_id(portal, i).to_string(),
        "name": name,
        "publicTitle": name,
        "htmlTitle": name,
        "description": description,
        "slug": slug,
        "absoluteUrl": format!("https://{}/{slug}", domain(portal)),
        "allowComments": false,
        "language": "en",
        "publicAccessRulesEnabled": false,
        "publicAccessRules": [],
        "created": time::iso(SEED_START),
        "updated": time::iso(SEED_START),
        "deletedAt": time::iso(0),
    })
}

fn post_json(portal: i64, i: usize) -> Value {
    let user = portals::DEFAULT_USER.user_id;
    let (blog, slug, title, state, summary) = POSTS[i];
    let at = day(i);
    let published = state == "PUBLISHED";
    let blog_slug = BLOGS[blog].0;
    json!({
        "id": post_id(portal, i).to_string(),
        "name": title,
        "htmlTitle": title,
        "slug": format!("{blog_slug}/{slug}"),
        "contentGroupId": blog_id(portal, blog).to_string(),
        "categoryId": 3,
        "state": state,
        "currentState": state,
        "currentlyPublished": published,
        "authorName": "Alex Owner",
        "blogAuthorId": (base(portal) + 550_001).to_string(),
        "postSummary": summary,
        "postBody": format!("<p>{summary}</p>"),
        "metaDescription": summary,
        "featuredImage": "",
        "useFeaturedImage": false,
        "domain": domain(portal),
        "url": format!("https://{}/{blog_slug}/{slug}", domain(portal)),
        "language": "en",
        "tagIds": [],
        "publishDate": time::iso(at),
        "created": time::iso(at),
        "updated": time::iso(at + 3_600_000),
        "createdById": user.to_string(),
        "updatedById": user.to_string(),
        "archivedAt": 0,
        "archivedInDashboard": false,
    })
}

fn authorize(sim: &Sim, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let caller = auth::authenticate(sim, headers)?;
    caller.require(Scopes::AnyOf(CONTENT_SCOPES))?;
    Ok(caller)
}

/// `limit` and `after` (an offset) of a CMS list.
fn paging(pairs: &[(String, String)]) -> Result<(usize, usize), ApiError> {
    let mut limit = DEFAULT_LIMIT;
    let mut after = 0;
    for (k, v) in pairs {
        let v = v.trim();
        match k.as_str() {
            "limit" => limit = page_limit(v, MAX_LIMIT)?,
            "after" if !v.is_empty() => after = page_after(v)?,
            _ => {}
        }
    }
    Ok((limit, after))
}

/// `{total, results, paging?}` of one page.
fn page(all: Vec<Value>, limit: usize, after: usize) -> Value {
    let total = all.len();
    let results = all.into_iter().skip(after).take(limit).collect();
    offset_page(total, results, limit, after)
}

fn pairs(query: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// `GET /cms/v3/blog-settings/settings?limit&after` → `{total, results, paging?}`.
pub async fn list_blogs(
    State(sim): State<Sim>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = authorize(&sim, &headers)?;
    let (limit, after) = paging(&pairs(query.as_deref()))?;
    let portal = caller.portal.id;
    let all = (0..BLOGS.len()).map(|i| blog_json(portal, i)).collect();
    Ok(respond(&caller, StatusCode::OK, page(all, limit, after)))
}

/// `GET /cms/v3/blog-settings/settings/{blogId}` → the blog; unknown → 404.
pub async fn get_blog(
    State(sim): State<Sim>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = authorize(&sim, &headers)?;
    let portal = caller.portal.id;
    let i = (0..BLOGS.len())
        .find(|i| blog_id(portal, *i).to_string() == id.trim())
        .ok_or_else(|| ApiError::not_found(format!("Blog {id} not found")))?;
    Ok(respond(&caller, StatusCode::OK, blog_json(portal, i)))
}

/// `GET /cms/v3/blogs/posts?limit&after&sort&archived&contentGroupId&state&name__contains
/// &createdAfter&createdBefore&updatedAfter&updatedBefore` → `{total, results, paging?}`.
/// `sort`: `name`, `createdAt`, `updatedAt` or `publishDate`, `-` for descending;
/// default creation order.
pub async fn list_posts(
    State(sim): State<Sim>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = authorize(&sim, &headers)?;
    let pairs = pairs(query.as_deref());
    let (limit, after) = paging(&pairs)?;
    let portal = caller.portal.id;
    let mut posts: Vec<Value> = (0..POSTS.len()).map(|i| post_json(portal, i)).collect();
    let text = |v: &Value, k: &str| v[k].as_str().unwrap_or_default().to_owned();
    for (k, want) in &pairs {
        let want = want.trim();
        let cutoff = || {
            time::parse_datetime(want)
                .ok_or_else(|| ApiError::validation(format!("{k} must be an ISO 8601 date-time")))
        };
        match k.as_str() {
            "archived" if want.eq_ignore_ascii_case("true") => posts.clear(),
            "contentGroupId" => posts.retain(|p| text(p, "contentGroupId") == want),
            "state" => posts.retain(|p| text(p, "state").eq_ignore_ascii_case(want)),
            "name__contains" => {
                let w = want.to_lowercase();
                posts.retain(|p| text(p, "name").to_lowercase().contains(&w));
            }
            "createdAfter" | "createdBefore" | "updatedAfter" | "updatedBefore" => {
                let at = cutoff()?;
                let field = if k.starts_with("created") {
                    "created"
                } else {
                    "updated"
                };
                let after = k.ends_with("After");
                posts.retain(|p| {
                    let t = time::parse_datetime(&text(p, field)).unwrap_or_default();
                    if after { t > at } else { t < at }
                });
            }
            "sort" => {
                let (desc, field) = want.strip_prefix('-').map_or((false, want), |f| (true, f));
                let key = match field {
                    "name" => "name",
                    "createdAt" | "created" => "created",
                    "updatedAt" | "updated" => "updated",
                    "publishDate" => "publishDate",
                    _ => {
                        return Err(ApiError::validation(format!(
                            "sort must be name, createdAt, updatedAt or publishDate, got '{want}'"
                        )));
                    }
                };
                posts.sort_by_key(|p| text(p, key));
                if desc {
                    posts.reverse();
                }
            }
            _ => {}
        }
    }
    Ok(respond(&caller, StatusCode::OK, page(posts, limit, after)))
}

/// `GET /cms/v3/blogs/posts/{objectId}` → the post; unknown → 404.
pub async fn get_post(
    State(sim): State<Sim>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = authorize(&sim, &headers)?;
    let portal = caller.portal.id;
    let i = (0..POSTS.len())
        .find(|i| post_id(portal, *i).to_string() == id.trim())
        .ok_or_else(|| ApiError::not_found(format!("Blog post {id} not found")))?;
    Ok(respond(&caller, StatusCode::OK, post_json(portal, i)))
}

pub fn routes() -> Router<Sim> {
    Router::new()
        .route("/cms/v3/blog-settings/settings", get(list_blogs))
        .route("/cms/v3/blog-settings/settings/{blog_id}", get(get_blog))
        .route("/cms/v3/blogs/posts", get(list_posts))
        .route("/cms/v3/blogs/posts/{object_id}", get(get_post))
}
