//! The `/_sim` control API.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

#[tokio::test]
async fn portals_are_listed() {
    let sim = start().await;
    let (status, portals) = sim.get_json("/_sim/portals", None).await;
    assert_eq!(status, StatusCode::OK);
    let summary: Vec<Value> = portals
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            json!([
                p["id"],
                p["name"],
                p["account_type"],
                p["paid_sales_hub_seat"]
            ])
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            json!([24_682_001, "Acme Inc", "STANDARD", true]),
            json!([24_682_002, "Acme Developer", "APP_DEVELOPER", false]),
            json!([24_682_003, "Acme Test", "DEVELOPER_TEST", true]),
            json!([24_682_004, "Acme Starter", "STANDARD", false]),
        ]
    );
    assert_eq!(portals[0]["hub_domain"], "acme-inc.hs-sites.com");
    assert!(
        portals[3]["unavailable_scopes"]
            .as_array()
            .unwrap()
            .contains(&json!("e-commerce"))
    );
}

#[tokio::test]
async fn apps_are_created_with_random_credentials() {
    let sim = start().await;
    let (status, app) = sim
        .sim_post(
            "/_sim/apps",
            json!({"name": "Mine", "redirect_urls": ["https://x.example/cb"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(app["name"], "Mine");
    assert_ne!(app["client_id"], sim.client_id());
    assert_uuid(&app["client_id"]);
    assert!(app["scopes"].as_array().unwrap().len() > 40);

    let (_, apps) = sim.get_json("/_sim/apps", None).await;
    assert_eq!(apps.as_array().unwrap().len(), 2);
    assert_eq!(apps[0]["client_id"], sim.client_id());
    assert_eq!(apps[0]["client_secret"], hubspot_sim::SANDBOX_CLIENT_SECRET);

    let (status, err) = sim
        .sim_post(
            "/_sim/apps",
            json!({"redirect_urls": [REDIRECT], "scopes": ["bogus"]}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err["category"], "VALIDATION_ERROR");
    let (status, _) = sim
        .sim_post("/_sim/apps", json!({"redirect_urls": ["not a url"]}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn counters_count_token_calls() {
    let sim = start().await;
    let t = sim.tokens(&Consent::default()).await;
    let refresh = t["refresh_token"].as_str().unwrap();
    sim.refresh("/oauth/v3/token", refresh).await;
    sim.refresh("/oauth/v1/token", refresh).await;
    sim.refresh("/oauth/v1/token", "na1-unknown").await;
    sim.post_form(
        "/oauth/v3/token/introspect",
        &[
            ("client_id", sim.client_id()),
            ("client_secret", sim.client_secret()),
            ("token", refresh),
        ],
    )
    .await;
    let resp = sim
        .http
        .delete(sim.url(&format!("/oauth/v1/refresh-tokens/{refresh}")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);

    let (status, c) = sim.get_json("/_sim/counters", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        c["token_requests"],
        json!({"authorization_code": 1, "refresh_token": 3})
    );
    assert_eq!(c["token_errors"], json!({"BAD_REFRESH_TOKEN": 1}));
    assert_eq!(c["consents_allowed"], 1);
    assert_eq!(c["introspections"], 1);
    assert_eq!(c["revocations"], 1);
}

#[tokio::test]
async fn request_log_has_no_secrets() {
    let sim = start().await;
    let t = sim.tokens(&Consent::default()).await;
    let access = t["access_token"].as_str().unwrap();
    sim.get(&format!("/oauth/v1/access-tokens/{access}"), None)
        .await;
    let resp = sim
        .http
        .post(sim.url("/oauth/v1/token"))
        .query(&[("client_secret", sim.client_secret())])
        .form(&[("grant_type", "refresh_token")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);

    let (_, log) = sim.get_json("/_sim/requests", None).await;
    let lines: Vec<Value> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| json!([e["method"], e["path"], e["status"]]))
        .collect();
    assert_eq!(
        lines,
        vec![
            json!(["POST", "/oauth/authorize", 302]),
            json!(["POST", "/oauth/v3/token", 200]),
            json!(["GET", "/oauth/v1/access-tokens/[redacted]", 200]),
            json!(["POST", "/oauth/v1/token", 400]),
        ]
    );
    let text = log.to_string();
    assert!(!text.contains(access));
    assert!(!text.contains(sim.client_secret()));
}

#[tokio::test]
async fn issued_tokens_revocation_and_reset() {
    let sim = start().await;
    let (status, t) = sim
        .sim_post(
            "/_sim/tokens",
            json!({"portal_id": ACME_DEVELOPER, "scopes": ["oauth", "crm.objects.deals.read"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{t}");
    assert_eq!(t["hub_id"], ACME_DEVELOPER);
    assert_eq!(t["scopes"], json!(["oauth", "crm.objects.deals.read"]));
    let access = t["access_token"].as_str().unwrap();
    let (status, d) = sim.get_json("/account-info/v3/details", Some(access)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(d["accountType"], "APP_DEVELOPER");

    let (status, r) = sim
        .sim_post("/_sim/tokens/revoke", json!({"token": access}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(r["revoked"], "access_token");
    let (status, _) = sim.get_json("/account-info/v3/details", Some(access)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = sim
        .sim_post("/_sim/tokens/revoke", json!({"token": access}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, _) = sim
        .sim_post("/_sim/tokens", json!({"portal_id": 1, "scopes": ["oauth"]}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, _) = sim.sim_post("/_sim/reset", json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, c) = sim.get_json("/_sim/counters", None).await;
    assert_eq!(c["api_requests"], 0);
    let (_, log) = sim.get_json("/_sim/requests", None).await;
    assert_eq!(log, json!([]));
    let refresh = t["refresh_token"].as_str().unwrap();
    let (status, body) = sim.refresh("/oauth/v3/token", refresh).await;
    assert_oauth_error(status, &body, "BAD_REFRESH_TOKEN", "invalid_grant");
}

#[tokio::test]
async fn config_can_be_read_and_patched() {
    let sim = start().await;
    let (status, c) = sim.get_json("/_sim/config", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(c["access_token_lifetime_secs"], 1800);
    assert_eq!(c["sandbox_redirect_urls"], json!([REDIRECT]));
    assert_eq!(c["rotate_refresh_tokens"], false);
    assert_eq!(c["require_sales_hub_seat"], true);
    let resp = sim
        .http
        .patch(sim.url("/_sim/config"))
        .json(&json!({"sandbox_redirect_urls": ["http://127.0.0.1:7/cb"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let (_, apps) = sim.get_json("/_sim/apps", None).await;
    assert_eq!(apps[0]["redirect_urls"], json!(["http://127.0.0.1:7/cb"]));
    let resp = sim
        .http
        .patch(sim.url("/_sim/config"))
        .json(&json!({"access_token_lifetime_secs": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let resp = sim
        .http
        .patch(sim.url("/_sim/config"))
        .json(&json!({"no_such_setting": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
}
