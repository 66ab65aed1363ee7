//! Rate limits: the ten-secondly window per (app, portal), the search secondly window
//! per token, the private-app daily limit, 429 bodies and the `X-HubSpot-RateLimit-*`
//! headers. The limiter's clock is frozen and moved with `/_sim/limits/clock`.

use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

use crate::support::*;

const DETAILS: &str = "/account-info/v3/details";
const SEARCH: &str = "/crm/v3/objects/contacts/search";
const ACME_TEST: i64 = 24_682_003;

async fn token(sim: &TestSim, body: Value) -> String {
    let (status, t) = sim.sim_post("/_sim/tokens", body).await;
    assert_eq!(status, StatusCode::CREATED, "{t}");
    t["access_token"].as_str().unwrap().to_owned()
}

async fn oauth_token(sim: &TestSim, portal: i64) -> String {
    token(
        sim,
        json!({"portal_id": portal, "scopes": ["oauth", "crm.objects.contacts.read"]}),
    )
    .await
}

async fn clock(sim: &TestSim, body: Value) {
    let (status, v) = sim.sim_post("/_sim/limits/clock", body).await;
    assert_eq!(status, StatusCode::OK, "{v}");
}

async fn patch_config(sim: &TestSim, body: Value) {
    let resp = sim
        .http
        .patch(sim.url("/_sim/config"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

fn header<'a>(resp: &'a Response, name: &str) -> Option<&'a str> {
    resp.headers().get(name).map(|v| v.to_str().unwrap())
}

async fn search(sim: &TestSim, token: &str) -> Response {
    sim.http
        .post(sim.url(SEARCH))
        .bearer_auth(token)
        .json(&json!({"filterGroups": []}))
        .send()
        .await
        .unwrap()
}

/// Asserts a 429 and returns its body.
async fn assert_429(resp: Response, policy: &str, message: &str) -> Value {
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let cid = header(&resp, "x-hubspot-correlation-id")
        .unwrap()
        .to_owned();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "error", "{body}");
    assert_eq!(body["errorType"], "RATE_LIMIT", "{body}");
    assert_eq!(body["policyName"], policy, "{body}");
    assert_eq!(body["message"], message, "{body}");
    assert_uuid(&body["correlationId"]);
    assert_uuid(&body["requestId"]);
    assert_eq!(body["correlationId"], cid.as_str());
    body
}

const RATE_HEADERS: [&str; 7] = [
    "x-hubspot-ratelimit-max",
    "x-hubspot-ratelimit-remaining",
    "x-hubspot-ratelimit-interval-milliseconds",
    "x-hubspot-ratelimit-secondly",
    "x-hubspot-ratelimit-secondly-remaining",
    "x-hubspot-ratelimit-daily",
    "x-hubspot-ratelimit-daily-remaining",
];

fn assert_no_rate_headers(resp: &Response) {
    for name in RATE_HEADERS {
        assert!(header(resp, name).is_none(), "{name} on a search answer");
    }
}

/// Asserts the search limit's 429, the body recorded from HubSpot: exactly `status`,
/// `message`, `category: RATE_LIMITS` and `correlationId` (no `policyName`).
async fn assert_search_429(resp: Response) {
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let cid = header(&resp, "x-hubspot-correlation-id")
        .unwrap()
        .to_owned();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "error", "{body}");
    assert_eq!(body["message"], "You have reached your secondly limit.");
    assert_eq!(body["category"], "RATE_LIMITS", "{body}");
    assert_uuid(&body["correlationId"]);
    assert_eq!(body["correlationId"], cid.as_str());
    let mut keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["category", "correlationId", "message", "status"]);
}

#[tokio::test]
async fn the_111th_call_in_ten_seconds_is_refused_per_app_and_portal() {
    let sim = start().await;
    clock(&sim, json!({"frozen": true})).await;
    let t = oauth_token(&sim, ACME_INC).await;
    for i in 1..=110u32 {
        let resp = sim.get(DETAILS, Some(&t)).await;
        assert_eq!(resp.status(), StatusCode::OK, "call {i}");
        assert_eq!(header(&resp, "x-hubspot-ratelimit-max"), Some("110"));
        let left = (110 - i).to_string();
        assert_eq!(
            header(&resp, "x-hubspot-ratelimit-remaining"),
            Some(left.as_str())
        );
        assert_eq!(
            header(&resp, "x-hubspot-ratelimit-interval-milliseconds"),
            Some("10000")
        );
    }
    let resp = sim.get(DETAILS, Some(&t)).await;
    assert_eq!(header(&resp, "x-hubspot-ratelimit-max"), Some("110"));
    assert_eq!(header(&resp, "x-hubspot-ratelimit-remaining"), Some("0"));
    assert_eq!(header(&resp, "retry-after"), Some("10"));
    assert!(header(&resp, "x-hubspot-ratelimit-daily").is_none());
    let body = assert_429(
        resp,
        "TEN_SECONDLY_ROLLING",
        "You have reached your ten_secondly_rolling limit.",
    )
    .await;
    let mut keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "correlationId",
            "errorType",
            "message",
            "policyName",
            "requestId",
            "status"
        ]
    );

    // Another token of the same app and portal shares the window.
    let same = oauth_token(&sim, ACME_INC).await;
    assert_eq!(
        sim.get(DETAILS, Some(&same)).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // Another portal of the same app, and another app on the same portal, are not affected.
    let other_portal = oauth_token(&sim, ACME_TEST).await;
    let resp = sim.get(DETAILS, Some(&other_portal)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(header(&resp, "x-hubspot-ratelimit-remaining"), Some("109"));
    let (status, app) = sim
        .sim_post("/_sim/apps", json!({"redirect_urls": [REDIRECT]}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{app}");
    let other_app = token(
        &sim,
        json!({"client_id": app["client_id"], "portal_id": ACME_INC, "scopes": ["oauth"]}),
    )
    .await;
    assert_eq!(
        sim.get(DETAILS, Some(&other_app)).await.status(),
        StatusCode::OK
    );

    // Refused calls do not count; once the window has rolled on, calls pass again.
    clock(&sim, json!({"advance_ms": 9_999})).await;
    assert_eq!(
        sim.get(DETAILS, Some(&t)).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    clock(&sim, json!({"advance_ms": 1})).await;
    let resp = sim.get(DETAILS, Some(&t)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(header(&resp, "x-hubspot-ratelimit-remaining"), Some("109"));

    let (_, limits) = sim.get_json("/_sim/limits", None).await;
    assert_eq!(limits["refused"]["TEN_SECONDLY_ROLLING"], 3, "{limits}");
    // The request log shows the 429s.
    let (_, log) = sim.get_json("/_sim/requests", None).await;
    assert!(log.as_array().unwrap().iter().any(|e| e["status"] == 429));
}

#[tokio::test]
async fn the_sixth_search_in_a_second_is_refused_per_token() {
    let sim = start().await;
    clock(&sim, json!({"frozen": true})).await;
    let t = oauth_token(&sim, ACME_INC).await;
    for i in 1..=5u32 {
        let resp = search(&sim, &t).await;
        assert_eq!(resp.status(), StatusCode::OK, "search {i}");
        // Search answers carry no rate-limit headers at all.
        assert_no_rate_headers(&resp);
    }
    let resp = search(&sim, &t).await;
    assert_eq!(header(&resp, "retry-after"), Some("1"));
    assert_no_rate_headers(&resp);
    assert_search_429(resp).await;

    // Per token: another token of the same app and portal may still search.
    let other = oauth_token(&sim, ACME_INC).await;
    assert_ne!(
        search(&sim, &other).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // Non-search calls are unaffected and see a full ten-secondly window: searches are
    // exempt from it.
    let resp = sim.get(DETAILS, Some(&t)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(header(&resp, "x-hubspot-ratelimit-remaining"), Some("109"));
    assert!(header(&resp, "x-hubspot-ratelimit-secondly").is_none());

    clock(&sim, json!({"advance_ms": 1000})).await;
    assert_ne!(
        search(&sim, &t).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn limits_are_configurable_and_zero_turns_them_off() {
    let sim = start().await;
    clock(&sim, json!({"frozen": true})).await;
    patch_config(
        &sim,
        json!({"rate_limit_per_10s": 3, "search_rate_limit_per_sec": 1, "rate_limit_retry_after": false}),
    )
    .await;
    let (_, config) = sim.get_json("/_sim/config", None).await;
    assert_eq!(config["rate_limit_per_10s"], 3);
    assert_eq!(config["search_rate_limit_per_sec"], 1);
    let t = oauth_token(&sim, ACME_INC).await;
    for _ in 0..3 {
        assert_eq!(sim.get(DETAILS, Some(&t)).await.status(), StatusCode::OK);
    }
    let resp = sim.get(DETAILS, Some(&t)).await;
    assert_eq!(header(&resp, "x-hubspot-ratelimit-max"), Some("3"));
    assert!(header(&resp, "retry-after").is_none());
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_ne!(
        search(&sim, &t).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        search(&sim, &t).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );

    patch_config(
        &sim,
        json!({"rate_limit_per_10s": 0, "search_rate_limit_per_sec": 0}),
    )
    .await;
    for _ in 0..150 {
        let resp = sim.get(DETAILS, Some(&t)).await;
        assert_eq!(resp.status(), StatusCode::OK);
        assert!(header(&resp, "x-hubspot-ratelimit-max").is_none());
        assert!(header(&resp, "x-hubspot-ratelimit-remaining").is_none());
    }
    for _ in 0..10 {
        let resp = search(&sim, &t).await;
        assert_ne!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(header(&resp, "x-hubspot-ratelimit-secondly").is_none());
    }

    // A reset restores the start config (110) and empties the windows.
    let (status, _) = sim.sim_post("/_sim/reset", json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let t = oauth_token(&sim, ACME_INC).await;
    let resp = sim.get(DETAILS, Some(&t)).await;
    assert_eq!(header(&resp, "x-hubspot-ratelimit-remaining"), Some("109"));
}

#[tokio::test]
async fn rate_limit_headers_on_every_limited_response() {
    let sim = start().await;
    let t = oauth_token(&sim, ACME_INC).await;
    let no_scopes = token(&sim, json!({"portal_id": ACME_INC, "scopes": []})).await;

    // 200, 403 (missing scopes), 404 (unknown route): all carry the headers.
    let ok = sim.get(DETAILS, Some(&t)).await;
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(header(&ok, "x-hubspot-ratelimit-remaining"), Some("109"));
    let forbidden = sim.get(DETAILS, Some(&no_scopes)).await;
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        header(&forbidden, "x-hubspot-ratelimit-remaining"),
        Some("108")
    );
    let missing = sim.get("/no/such/route", Some(&t)).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        header(&missing, "x-hubspot-ratelimit-remaining"),
        Some("107")
    );
    assert_eq!(header(&missing, "x-hubspot-ratelimit-max"), Some("110"));

    // Not limited: no bearer, an unknown token, OAuth endpoints, /_sim.
    let anonymous = sim.get(DETAILS, None).await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert!(header(&anonymous, "x-hubspot-ratelimit-max").is_none());
    let unknown = sim.get(DETAILS, Some("COnotatoken")).await;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    assert!(header(&unknown, "x-hubspot-ratelimit-max").is_none());
    let meta = sim
        .get(&format!("/oauth/v1/access-tokens/{t}"), Some(&t))
        .await;
    assert_eq!(meta.status(), StatusCode::OK);
    assert!(header(&meta, "x-hubspot-ratelimit-max").is_none());
    let control = sim.get("/_sim/config", Some(&t)).await;
    assert!(header(&control, "x-hubspot-ratelimit-max").is_none());
    // The figures were not moved by the unlimited calls.
    let again = sim.get(DETAILS, Some(&t)).await;
    assert_eq!(header(&again, "x-hubspot-ratelimit-remaining"), Some("106"));
}

#[tokio::test]
async fn private_app_tokens_have_a_daily_limit() {
    let sim = start().await;
    clock(&sim, json!({"frozen": true})).await;
    patch_config(&sim, json!({"private_app_daily_limit": 2})).await;
    let private = token(
        &sim,
        json!({"portal_id": ACME_INC, "scopes": ["oauth"], "private_app": true}),
    )
    .await;
    for left in ["1", "0"] {
        let resp = sim.get(DETAILS, Some(&private)).await;
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(header(&resp, "x-hubspot-ratelimit-daily"), Some("2"));
        assert_eq!(
            header(&resp, "x-hubspot-ratelimit-daily-remaining"),
            Some(left)
        );
    }
    let resp = sim.get(DETAILS, Some(&private)).await;
    assert!(header(&resp, "retry-after").is_some());
    assert_429(resp, "DAILY", "You have reached your daily limit.").await;

    // OAuth tokens have no daily limit and no daily headers.
    let oauth = oauth_token(&sim, ACME_INC).await;
    let resp = sim.get(DETAILS, Some(&oauth)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(header(&resp, "x-hubspot-ratelimit-daily").is_none());

    // A day later (in the portal's time zone) the count starts again.
    clock(&sim, json!({"advance_ms": 86_400_000})).await;
    assert_eq!(
        sim.get(DETAILS, Some(&private)).await.status(),
        StatusCode::OK
    );
}
