//! Bearer-authenticated API: account info, 401/403 bodies, headers, unknown routes.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

async fn issue(sim: &TestSim, portal: i64, scopes: Value) -> String {
    let (status, t) = sim
        .sim_post(
            "/_sim/tokens",
            json!({"portal_id": portal, "scopes": scopes}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{t}");
    t["access_token"].as_str().unwrap().to_owned()
}

fn assert_401(resp_status: StatusCode, auth_failure: Option<&str>, body: &Value, category: &str) {
    assert_eq!(resp_status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(auth_failure, Some("401 Unauthorized"));
    assert_eq!(body["status"], "error");
    assert_eq!(body["category"], category);
    assert_uuid(&body["correlationId"]);
}

async fn call(sim: &TestSim, bearer: Option<&str>) -> (StatusCode, Option<String>, Value) {
    let resp = sim.get("/account-info/v3/details", bearer).await;
    let status = resp.status();
    let failure = resp
        .headers()
        .get("x-hubspot-auth-failure")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, failure, resp.json().await.unwrap())
}

#[tokio::test]
async fn account_details_of_each_path_and_rate_limit_headers() {
    let sim = start().await;
    let token = issue(&sim, ACME_STARTER, json!(["oauth"])).await;
    for path in ["/account-info/v3/details", "/account-info/2026-03/details"] {
        let resp = sim.get(path, Some(&token)).await;
        assert_eq!(resp.status(), StatusCode::OK);
        let h = resp.headers();
        assert_eq!(h["x-hubspot-ratelimit-max"], "110");
        assert_eq!(h["x-hubspot-ratelimit-interval-milliseconds"], "10000");
        assert!(h.contains_key("x-hubspot-ratelimit-remaining"));
        assert!(h.contains_key("x-hubspot-correlation-id"));
        let d: Value = resp.json().await.unwrap();
        assert_eq!(
            d,
            json!({
                "portalId": ACME_STARTER,
                "portalName": "Acme Starter",
                "accountType": "STANDARD",
                "timeZone": "Asia/Kolkata",
                "companyCurrency": "INR",
                "additionalCurrencies": ["USD"],
                "utcOffset": "+05:30",
                "utcOffsetMilliseconds": 19_800_000,
                "uiDomain": "app.hubspot.com",
                "dataHostingLocation": "na1",
            })
        );
    }
    let resp = sim.get("/account-info/v3/details", Some(&token)).await;
    assert_eq!(resp.headers()["x-hubspot-ratelimit-remaining"], "107");
}

#[tokio::test]
async fn missing_and_invalid_credentials() {
    let sim = start().await;
    let (status, failure, body) = call(&sim, None).await;
    assert_401(status, failure.as_deref(), &body, "INVALID_AUTHENTICATION");
    assert_eq!(
        body["message"],
        "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
    );
    let (status, failure, body) = call(&sim, Some("CObogus")).await;
    assert_401(status, failure.as_deref(), &body, "INVALID_AUTHENTICATION");
    assert!(body["message"].as_str().unwrap().contains("token"));
}

#[tokio::test]
async fn expired_token_says_how_long_ago() {
    let sim = start().await;
    let token = issue(&sim, ACME_INC, json!(["oauth"])).await;
    for (ago, wording) in [
        (0, "0 second(s)"),
        (90, "1 minute(s)"),
        (5 * 3600 + 30, "5 hour(s)"),
    ] {
        let (status, body) = sim
            .sim_post(
                "/_sim/tokens/expire",
                json!({"token": token, "seconds_ago": ago}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["expired"], "access_token");
        let (status, failure, body) = call(&sim, Some(&token)).await;
        assert_401(status, failure.as_deref(), &body, "EXPIRED_AUTHENTICATION");
        assert_eq!(
            body["message"],
            format!("The OAuth token used to make this call expired {wording} ago.")
        );
    }
    // Token metadata of an expired token answers the same way.
    let (status, body) = sim
        .get_json(&format!("/oauth/v1/access-tokens/{token}"), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["category"], "EXPIRED_AUTHENTICATION");
}

#[tokio::test]
async fn missing_scope_is_hubspots_403() {
    let sim = start().await;
    let token = issue(&sim, ACME_INC, json!(["crm.objects.contacts.read"])).await;
    let resp = sim.get("/account-info/v3/details", Some(&token)).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let cid = resp.headers()["x-hubspot-correlation-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let mut body: Value = resp.json().await.unwrap();
    assert_eq!(body["correlationId"], cid.as_str());
    body.as_object_mut().unwrap().remove("correlationId");
    assert_eq!(
        body,
        json!({
            "status": "error",
            "message": "This app hasn't been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.",
            "errors": [{
                "message": "One or more of the following scopes are required.",
                "context": {"requiredScopes": ["oauth"]}
            }],
            "links": {"scopes": "https://developers.hubspot.com/scopes"},
            "category": "MISSING_SCOPES"
        })
    );
}

#[tokio::test]
async fn access_token_lifetime_follows_the_config() {
    let sim = start().await;
    let resp = sim
        .http
        .patch(sim.url("/_sim/config"))
        .json(&json!({"access_token_lifetime_secs": 60}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let t = sim.tokens(&Consent::default()).await;
    assert_eq!(t["expires_in"], 60);
}

#[tokio::test]
async fn unknown_route_and_wrong_method() {
    let sim = start().await;
    let resp = sim.get("/crm/v3/unicorns", None).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert!(resp.headers().contains_key("x-hubspot-correlation-id"));
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "error");
    assert!(body["category"].is_string());
    assert_uuid(&body["correlationId"]);

    let resp = sim.get("/oauth/v3/token", None).await;
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "error");
}

#[tokio::test]
async fn shutdown_stops_the_server() {
    let sim = start().await;
    let url = sim.url("/_sim/portals");
    let (status, _) = sim.get_json("/_sim/portals", None).await;
    assert_eq!(status, StatusCode::OK);
    let TestSim { server, .. } = sim;
    server.shutdown().await;
    let fresh = reqwest::Client::new();
    assert!(fresh.get(url).send().await.is_err());
}

#[tokio::test]
async fn over_long_uris_are_414_on_every_path() {
    let sim = start().await;
    let long = "x".repeat(17 * 1024);
    for (method, path) in [
        (reqwest::Method::GET, "/account-info/v3/details"),
        (reqwest::Method::GET, "/oauth/authorize"),
        (reqwest::Method::POST, "/oauth/v1/token"),
        (reqwest::Method::GET, "/webhooks/v3/1/settings"),
        (reqwest::Method::GET, "/marketing/v3/forms"),
        (
            reqwest::Method::POST,
            "/submissions/v3/integration/secure/submit/1/f",
        ),
        (reqwest::Method::GET, "/crm/v3/objects/contacts"),
        (reqwest::Method::GET, "/no/such/route"),
    ] {
        let resp = sim
            .http
            .request(method, sim.url(&format!("{path}?q={long}")))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::URI_TOO_LONG, "{path}");
        assert!(resp.headers().contains_key("x-hubspot-correlation-id"));
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["category"], "VALIDATION_ERROR", "{path}");
        assert_uuid(&body["correlationId"]);
    }
    // Just under the limit is served as usual.
    let resp = sim
        .get(
            &format!("/no/such/route?q={}", "x".repeat(16 * 1024 - 30)),
            None,
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn webhooks_api_wants_json_bodies() {
    let sim = start().await;
    let (status, apps) = sim.get_json("/_sim/apps", None).await;
    assert_eq!(status, StatusCode::OK);
    let app_id = apps[0]["app_id"].as_i64().unwrap();
    let key = apps[0]["developer_api_key"].as_str().unwrap().to_owned();
    let send =
        |method: reqwest::Method, path: String, content_type: &'static str, body: &'static str| {
            sim.http
                .request(method, sim.url(&path))
                .query(&[("hapikey", key.as_str())])
                .header("content-type", content_type)
                .body(body)
                .send()
        };
    let settings =
        r#"{"targetUrl": "http://127.0.0.1:9/hook", "throttling": {"maxConcurrentRequests": 1}}"#;
    let sub = r#"{"eventType": "contact.creation"}"#;
    for (method, path, body) in [
        (
            reqwest::Method::PUT,
            format!("/webhooks/v3/{app_id}/settings"),
            settings,
        ),
        (
            reqwest::Method::POST,
            format!("/webhooks/v3/{app_id}/subscriptions"),
            sub,
        ),
        (
            reqwest::Method::PATCH,
            format!("/webhooks/v3/{app_id}/subscriptions/1"),
            r#"{"active": true}"#,
        ),
        (
            reqwest::Method::POST,
            format!("/webhooks/v3/{app_id}/subscriptions/batch/update"),
            r#"{"inputs": [{"id": 1, "active": true}]}"#,
        ),
    ] {
        for content_type in ["text/plain", "application/x-www-form-urlencoded"] {
            let resp = send(method.clone(), path.clone(), content_type, body)
                .await
                .unwrap();
            assert_eq!(
                resp.status(),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "{method} {path}"
            );
            let err: Value = resp.json().await.unwrap();
            assert_eq!(err["status"], "error");
            assert_eq!(err["category"], "VALIDATION_ERROR");
        }
    }
    // The same bodies as JSON are accepted; malformed JSON is a 400.
    let resp = send(
        reqwest::Method::PUT,
        format!("/webhooks/v3/{app_id}/settings"),
        "application/json; charset=utf-8",
        settings,
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = send(
        reqwest::Method::POST,
        format!("/webhooks/v3/{app_id}/subscriptions"),
        "application/json",
        sub,
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let resp = send(
        reqwest::Method::POST,
        format!("/webhooks/v3/{app_id}/subscriptions"),
        "application/json",
        "{",
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
}
