//! Token endpoints: exchange, PKCE, refresh, metadata, introspection, revocation.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

/// RFC 7636 appendix B.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

#[tokio::test]
async fn full_flow_with_pkce() {
    let sim = start().await;
    let code = sim
        .code(&Consent {
            code_challenge: Some((CHALLENGE, "S256")),
            ..Consent::default()
        })
        .await;
    let (status, t) = sim.exchange(&code, Some(VERIFIER)).await;
    assert_eq!(status, StatusCode::OK, "{t}");
    let access = t["access_token"].as_str().unwrap();
    let refresh = t["refresh_token"].as_str().unwrap();
    assert!(access.starts_with("CO") && access.len() > 100 && access.len() <= 300);
    assert!(refresh.starts_with("na1-"));
    assert_eq!(t["expires_in"], 1800);
    assert_eq!(t["token_type"], "bearer");
    assert_eq!(t["token_use"], "access_token");
    assert_eq!(t["hub_id"], ACME_INC);
    assert_eq!(t["user_id"], 4021);
    let scopes = json!([
        "crm.objects.contacts.read",
        "crm.objects.contacts.write",
        "oauth"
    ]);
    assert_eq!(t["scopes"], scopes);

    let (status, info) = sim
        .get_json(&format!("/oauth/v1/access-tokens/{access}"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{info}");
    assert_eq!(info["token"], access);
    assert_eq!(info["user"], "owner@acme.example");
    assert_eq!(info["hub_domain"], "acme-inc.hs-sites.com");
    assert_eq!(info["hub_id"], ACME_INC);
    assert_eq!(info["app_id"], sim.server.sandbox_app.app_id);
    assert_eq!(info["user_id"], 4021);
    assert_eq!(info["token_type"], "access");
    assert_eq!(info["scopes"], scopes);
    let left = info["expires_in"].as_i64().unwrap();
    assert!((1795..=1800).contains(&left), "{left}");

    let (status, info) = sim
        .get_json(&format!("/oauth/v1/refresh-tokens/{refresh}"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{info}");
    assert_eq!(info["client_id"], sim.client_id());
    assert_eq!(info["token_type"], "refresh");
    assert_eq!(info["hub_id"], ACME_INC);
    assert_eq!(info["user"], "owner@acme.example");

    for path in [
        "/oauth/v3/token/introspect",
        "/oauth/2026-03/token/introspect",
    ] {
        let (status, intro) = sim
            .post_form(
                path,
                &[
                    ("client_id", sim.client_id()),
                    ("client_secret", sim.client_secret()),
                    ("token", access),
                    ("token_type_hint", "access_token"),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{intro}");
        assert_eq!(intro["active"], true);
        assert_eq!(intro["token_use"], "access_token");
        assert_eq!(intro["client_id"], sim.client_id());
        assert_eq!(intro["hub_id"], ACME_INC);
        assert_eq!(intro["user"], "owner@acme.example");
    }
    let (_, intro) = sim
        .post_form(
            "/oauth/v3/token/introspect",
            &[
                ("client_id", sim.client_id()),
                ("client_secret", sim.client_secret()),
                ("token", refresh),
            ],
        )
        .await;
    assert_eq!(intro["active"], true);
    assert_eq!(intro["token_use"], "refresh_token");

    let (status, details) = sim.get_json("/account-info/v3/details", Some(access)).await;
    assert_eq!(status, StatusCode::OK, "{details}");
    assert_eq!(details["portalId"], ACME_INC);
    assert_eq!(details["accountType"], "STANDARD");
}

#[tokio::test]
async fn plain_pkce_and_v1_and_dated_token_paths() {
    let sim = start().await;
    let code = sim
        .code(&Consent {
            code_challenge: Some(("plain-verifier-value", "plain")),
            ..Consent::default()
        })
        .await;
    let form = [
        ("grant_type", "authorization_code"),
        ("client_id", sim.client_id()),
        ("client_secret", sim.client_secret()),
        ("redirect_uri", REDIRECT),
        ("code", code.as_str()),
        ("code_verifier", "plain-verifier-value"),
    ];
    let (status, t) = sim.post_form("/oauth/v1/token", &form).await;
    assert_eq!(status, StatusCode::OK, "{t}");
    let refresh = t["refresh_token"].as_str().unwrap();
    let (status, t2) = sim.refresh("/oauth/2026-03/token", refresh).await;
    assert_eq!(status, StatusCode::OK, "{t2}");
}

#[tokio::test]
async fn code_is_single_use() {
    let sim = start().await;
    let code = sim.code(&Consent::default()).await;
    let (status, _) = sim.exchange(&code, None).await;
    assert_eq!(status, StatusCode::OK);
    let resp = sim
        .http
        .post(sim.url("/oauth/v3/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", sim.client_id()),
            ("client_secret", sim.client_secret()),
            ("redirect_uri", REDIRECT),
            ("code", code.as_str()),
        ])
        .send()
        .await
        .unwrap();
    let header = resp.headers()["x-hubspot-correlation-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let status = resp.status();
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_oauth_error(status, &body, "BAD_AUTH_CODE", "invalid_grant");
    assert_eq!(body["message"], "missing or unknown auth code");
    assert_eq!(body["correlationId"], header.as_str());
}

#[tokio::test]
async fn wrong_or_missing_pkce_verifier_is_refused() {
    let sim = start().await;
    let code = sim
        .code(&Consent {
            code_challenge: Some((CHALLENGE, "S256")),
            ..Consent::default()
        })
        .await;
    let (status, body) = sim.exchange(&code, Some("not-the-verifier")).await;
    assert_oauth_error(status, &body, "BAD_CODE_VERIFIER", "invalid_grant");
    let (status, body) = sim.exchange(&code, None).await;
    assert_oauth_error(status, &body, "BAD_CODE_VERIFIER", "invalid_grant");
    // Failed attempts do not consume the code.
    let (status, _) = sim.exchange(&code, Some(VERIFIER)).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn expired_code_redirect_mismatch_and_client_errors() {
    let sim = start().await;
    let code = sim.code(&Consent::default()).await;

    let (status, body) = sim
        .post_form(
            "/oauth/v3/token",
            &[
                ("grant_type", "authorization_code"),
                ("client_id", sim.client_id()),
                ("client_secret", sim.client_secret()),
                ("redirect_uri", "http://127.0.0.1:9/other"),
                ("code", code.as_str()),
            ],
        )
        .await;
    assert_oauth_error(status, &body, "BAD_REDIRECT_URI", "invalid_grant");

    let (status, body) = sim
        .post_form(
            "/oauth/v3/token",
            &[
                ("grant_type", "authorization_code"),
                ("client_id", sim.client_id()),
                ("client_secret", "wrong"),
                ("redirect_uri", REDIRECT),
                ("code", code.as_str()),
            ],
        )
        .await;
    assert_oauth_error(status, &body, "BAD_CLIENT_SECRET", "invalid_client");

    let (status, body) = sim
        .post_form(
            "/oauth/v3/token",
            &[
                ("grant_type", "authorization_code"),
                ("client_id", "unknown"),
                ("code", code.as_str()),
            ],
        )
        .await;
    assert_oauth_error(status, &body, "BAD_CLIENT_ID", "invalid_client");

    let (status, body) = sim
        .post_form(
            "/oauth/v3/token",
            &[("grant_type", "password"), ("client_id", sim.client_id())],
        )
        .await;
    assert_oauth_error(status, &body, "BAD_GRANT_TYPE", "unsupported_grant_type");

    let (status, body) = sim
        .sim_post("/_sim/tokens/expire", json!({ "token": code }))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["expired"], "authorization_code");
    let (status, body) = sim.exchange(&code, None).await;
    assert_oauth_error(status, &body, "EXPIRED_AUTH_CODE", "invalid_grant");

    // A JSON body is not a form.
    let resp = sim
        .http
        .post(sim.url("/oauth/v3/token"))
        .json(&json!({"grant_type": "refresh_token"}))
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_oauth_error(status, &body, "BAD_REQUEST", "invalid_request");
}

#[tokio::test]
async fn refresh_returns_the_same_refresh_token_and_accepts_v1_query_secrets() {
    let sim = start().await;
    let t = sim.tokens(&Consent::default()).await;
    let refresh = t["refresh_token"].as_str().unwrap();
    let (status, r) = sim.refresh("/oauth/v1/token", refresh).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r["refresh_token"], refresh);
    assert_ne!(r["access_token"], t["access_token"]);
    assert_eq!(r["scopes"], t["scopes"]);
    assert_eq!(r["hub_id"], ACME_INC);

    // Legacy v1: client_secret and refresh_token in the query string.
    let resp = sim
        .http
        .post(sim.url("/oauth/v1/token"))
        .query(&[
            ("client_secret", sim.client_secret()),
            ("refresh_token", refresh),
        ])
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", sim.client_id()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    // v3 takes nothing from the query string.
    let resp = sim
        .http
        .post(sim.url("/oauth/v3/token"))
        .query(&[
            ("client_secret", sim.client_secret()),
            ("refresh_token", refresh),
        ])
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", sim.client_id()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);

    // Both access tokens work.
    for token in [&t["access_token"], &r["access_token"]] {
        let (status, _) = sim
            .get_json("/account-info/v3/details", token.as_str())
            .await;
        assert_eq!(status, StatusCode::OK);
    }
}

#[tokio::test]
async fn rotation_mode_replaces_the_refresh_token() {
    let sim = start().await;
    let resp = sim
        .http
        .patch(sim.url("/_sim/config"))
        .json(&json!({"rotate_refresh_tokens": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let t = sim.tokens(&Consent::default()).await;
    let old = t["refresh_token"].as_str().unwrap();
    let (status, r) = sim.refresh("/oauth/v3/token", old).await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(r["refresh_token"], old);
    let (status, body) = sim.refresh("/oauth/v3/token", old).await;
    assert_oauth_error(status, &body, "BAD_REFRESH_TOKEN", "invalid_grant");
}

#[tokio::test]
async fn v1_delete_revokes_only_the_refresh_token() {
    let sim = start().await;
    let t = sim.tokens(&Consent::default()).await;
    let refresh = t["refresh_token"].as_str().unwrap();
    let path = format!("/oauth/v1/refresh-tokens/{refresh}");
    let resp = sim.http.delete(sim.url(&path)).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);

    let (status, body) = sim.refresh("/oauth/v3/token", refresh).await;
    assert_oauth_error(status, &body, "BAD_REFRESH_TOKEN", "invalid_grant");
    assert_eq!(
        body["message"],
        "refresh token is invalid, expired or revoked"
    );

    let (status, _) = sim
        .get_json("/account-info/v3/details", t["access_token"].as_str())
        .await;
    assert_eq!(status, StatusCode::OK);

    let resp = sim.http.delete(sim.url(&path)).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let (status, body) = sim.get_json(&path, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["status"], "error");
    assert_eq!(body["category"], "OBJECT_NOT_FOUND");
    assert_uuid(&body["correlationId"]);
    let (status, _) = sim.get_json("/oauth/v1/access-tokens/COnope", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn v3_revoke_kills_the_refresh_token_and_its_access_tokens() {
    let sim = start().await;
    let t = sim.tokens(&Consent::default()).await;
    let refresh = t["refresh_token"].as_str().unwrap();
    let access = t["access_token"].as_str().unwrap();
    let resp = sim
        .http
        .post(sim.url("/oauth/2026-03/token/revoke"))
        .form(&[
            ("client_id", sim.client_id()),
            ("client_secret", sim.client_secret()),
            ("token", refresh),
            ("token_type_hint", "refresh_token"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.text().await.unwrap(), "");

    for token in [refresh, access] {
        let (status, intro) = sim
            .post_form(
                "/oauth/v3/token/introspect",
                &[
                    ("client_id", sim.client_id()),
                    ("client_secret", sim.client_secret()),
                    ("token", token),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(intro, json!({"active": false}));
    }
    let (status, _) = sim.get_json("/account-info/v3/details", Some(access)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Unknown tokens are "revoked" too (RFC 7009); a bad client is an error.
    let (status, _) = sim
        .post_form(
            "/oauth/v3/token/revoke",
            &[
                ("client_id", sim.client_id()),
                ("client_secret", sim.client_secret()),
                ("token", "na1-x"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = sim
        .post_form(
            "/oauth/v3/token/introspect",
            &[
                ("client_id", sim.client_id()),
                ("client_secret", "bad"),
                ("token", "na1-x"),
            ],
        )
        .await;
    assert_oauth_error(status, &body, "BAD_CLIENT_SECRET", "invalid_client");
}

#[tokio::test]
async fn refresh_token_of_another_app_is_refused() {
    let sim = start().await;
    let t = sim.tokens(&Consent::default()).await;
    let (_, app) = sim
        .sim_post("/_sim/apps", json!({"redirect_urls": [REDIRECT]}))
        .await;
    let (status, body) = sim
        .post_form(
            "/oauth/v3/token",
            &[
                ("grant_type", "refresh_token"),
                ("client_id", app["client_id"].as_str().unwrap()),
                ("client_secret", app["client_secret"].as_str().unwrap()),
                ("refresh_token", t["refresh_token"].as_str().unwrap()),
            ],
        )
        .await;
    assert_oauth_error(status, &body, "BAD_REFRESH_TOKEN", "invalid_grant");
}
