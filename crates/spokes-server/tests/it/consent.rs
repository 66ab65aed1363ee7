//! The consent flow: auth links, HubSpot's consent page, the callback and account selection.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::{Options, TestEnv, location, logged_text, query_of, read};

#[tokio::test]
async fn happy_path_connects_acme_inc_and_calls_a_method() {
    let env = TestEnv::start().await;
    env.setup_connector(json!({})).await;
    let id = env.new_installation("acme", json!({})).await;
    assert_eq!(
        env.installation("acme", &id).await["status"],
        "unauthenticated"
    );

    let link = env.auth_link("acme", &id, json!({})).await;
    assert!(link.starts_with(&format!("{}/connect/", env.base)));
    let authorize = env.open_link(&link).await;
    let params = query_of(&authorize);
    assert!(authorize.starts_with(&format!("{}/oauth/authorize?", env.sim.base_url)));
    assert_eq!(params["client_id"], env.sim.sandbox_app.client_id);
    assert_eq!(
        params["redirect_uri"],
        format!("{}/connector/callback", env.base)
    );
    assert_eq!(params["scope"], "contacts");
    assert_eq!(params["optional_scope"], "content reports e-commerce forms");
    assert_eq!(params["code_challenge_method"], "S256");
    assert!(
        params["state"].len() >= 22,
        "state carries at least 128 bits"
    );
    assert!(authorize.contains("optional_scope=content%20reports%20e-commerce%20forms"));

    let callback = env
        .consent(&authorize, env.portal_id("Acme Inc").await, "allow")
        .await;
    let page = env.http.get(&callback).send().await.expect("callback");
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("html");
    assert!(html.contains("HubSpot is connected"), "{html}");

    let installation = env.installation("acme", &id).await;
    assert_eq!(installation["status"], "authenticated");
    let hubspot = &installation["hubspot"];
    assert_eq!(hubspot["portal_id"], env.portal_id("Acme Inc").await);
    assert_eq!(hubspot["account_type"], "STANDARD");
    assert!(
        hubspot["user"].as_str().is_some_and(|u| u.contains('@')),
        "{hubspot}"
    );
    assert!(
        hubspot["hub_domain"].is_string() && hubspot["ui_domain"].is_string(),
        "{hubspot}"
    );
    assert!(hubspot["token_expires_at"].is_string());
    let granted: Vec<&str> = hubspot["granted_scopes"]
        .as_array()
        .expect("scopes")
        .iter()
        .filter_map(|s| s.as_str())
        .collect();
    for scope in ["oauth", "contacts", "e-commerce", "forms"] {
        assert!(granted.contains(&scope), "{granted:?}");
    }
    assert_eq!(installation["last_error"], serde_json::Value::Null);

    let (status, body) = env.call(&env.base, &id, "account.get").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["portalId"], env.portal_id("Acme Inc").await);
    assert_eq!(body["data"]["accountType"], "STANDARD");
}

#[tokio::test]
async fn return_url_receives_the_outcome() {
    let env = TestEnv::start().await;
    env.setup_connector(json!({})).await;
    let id = env.new_installation("acme", json!({})).await;
    let callback = env
        .consent_via_link(
            "acme",
            &id,
            json!({"return_url": "http://localhost:3000/done?x=1"}),
            "Acme Inc",
            "allow",
        )
        .await;
    let response = env.http.get(&callback).send().await.expect("callback");
    assert_eq!(response.status(), StatusCode::FOUND);
    let back = location(&response);
    assert!(back.starts_with("http://localhost:3000/done?"), "{back}");
    let q = query_of(&back);
    assert_eq!(q["x"], "1");
    assert_eq!(q["installation"], id);
    assert_eq!(q["status"], "authenticated");
}

#[tokio::test]
async fn return_url_must_be_on_an_allowed_origin() {
    let env = TestEnv::with(Options {
        allowed_return_origins: vec!["https://app.partner.example".into()],
        ..Options::default()
    })
    .await;
    env.setup_connector(json!({})).await;
    let id = env.new_installation("acme", json!({})).await;
    let path = format!("/v1/accounts/acme/connectors/{id}/auth-link");
    for bad in [
        "https://evil.example/x",
        "javascript:alert(1)",
        "https://app.partner.example.evil.example/",
    ] {
        let (status, body) = env
            .send_json(Method::POST, &path, json!({"return_url": bad}))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert_eq!(body["error"]["code"], "return_url_not_allowed");
    }
    let (status, _) = env
        .send_json(
            Method::POST,
            &path,
            json!({"return_url": "https://app.partner.example/hubspot/done"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn consent_denied_fails_and_keeps_the_installation_unauthenticated() {
    let env = TestEnv::start().await;
    env.setup_connector(json!({})).await;
    let id = env.new_installation("acme", json!({})).await;
    let callback = env
        .consent_via_link(
            "acme",
            &id,
            json!({"return_url": "http://127.0.0.1:9/back"}),
            "Acme Inc",
            "deny",
        )
        .await;
    assert!(callback.contains("error=access_denied"));
    let response = env.http.get(&callback).send().await.expect("callback");
    assert_eq!(response.status(), StatusCode::FOUND);
    let q = query_of(&location(&response));
    assert_eq!(q["status"], "failed");
    assert_eq!(q["error"], "access_denied");
    assert!(!q["error_description"].is_empty());

    let installation = env.installation("acme", &id).await;
    assert_eq!(installation["status"], "unauthenticated");
    assert_eq!(installation["last_error"]["code"], "access_denied");
    assert_eq!(env.token_requests("authorization_code").await, 0);
}

#[tokio::test]
async fn developer_account_is_refused_and_its_grant_revoked() {
    let env = TestEnv::start().await;
    env.setup_connector(json!({})).await;
    let id = env.new_installation("acme", json!({})).await;
    let response = env.connect("acme", &id, "Acme Developer", "allow").await;
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.expect("html");
    assert!(html.contains("developer_account"), "{html}");
    assert!(
        html.contains("Products attached"),
        "the page tells which account to choose: {html}"
    );

    let installation = env.installation("acme", &id).await;
    assert_eq!(installation["status"], "unauthenticated");
    assert_eq!(installation["last_error"]["code"], "developer_account");
    assert!(env.store.get_tokens(&id).await.expect("tokens").is_none());
    let counters = env.sim_json(Method::GET, "/_sim/counters", None).await;
    assert_eq!(counters["revocations"], 1, "{counters}");
    let (status, body) = env.call(&env.base, &id, "account.get").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["error"]["code"], "not_connected");
}

#[tokio::test]
async fn test_account_is_accepted_with_a_warning() {
    let env = TestEnv::start().await;
    env.setup_connector(json!({})).await;
    let id = env.new_installation("acme", json!({})).await;
    env.connect("acme", &id, "Acme Test", "allow").await;
    let installation = env.installation("acme", &id).await;
    assert_eq!(installation["status"], "authenticated");
    assert_eq!(installation["hubspot"]["account_type"], "DEVELOPER_TEST");
    let warnings = installation["hubspot"]["warnings"].to_string();
    assert!(warnings.contains("DEVELOPER_TEST"), "{warnings}");
}

#[tokio::test]
async fn test_account_is_refused_when_configured() {
    let env = TestEnv::with(Options {
        refuse_test_accounts: true,
        ..Options::default()
    })
    .await;
    env.setup_connector(json!({})).await;
    let id = env.new_installation("acme", json!({})).await;
    env.connect("acme", &id, "Acme Test", "allow").await;
    let installation = env.installation("acme", &id).await;
    assert_eq!(installation["status"], "unauthenticated");
    assert_eq!(installation["last_error"]["code"], "test_account");
}

#[tokio::test]
async fn portal_connected_in_two_accounts_is_warned_without_naming_the_other() {
    let env = TestEnv::start().await;
    env.setup_connector(json!({})).await;
    let first = env.new_installation("initech", json!({})).await;
    env.connect("initech", &first, "Acme Inc", "allow").await;
    let second = env.new_installation("globex", json!({})).await;
    env.connect("globex", &second, "Acme Inc", "allow").await;

    // What globex's own, account-restricted key reads about its installation.
    let globex_key = env.create_key(Some("globex")).await;
    let response = env
        .request_as(
            &globex_key,
            Method::GET,
            &format!("/v1/accounts/globex/connectors/{second}"),
        )
        .send()
        .await
        .expect("installation");
    let (status, installation) = read(response).await;
    assert_eq!(status, StatusCode::OK, "{installation}");
    assert_eq!(installation["status"], "authenticated");
    let warnings = installation["hubspot"]["warnings"].to_string();
    assert!(warnings.contains("another account"), "{warnings}");
    let text = installation.to_string();
    assert!(
        !text.contains("initech"),
        "another account's id leaked: {text}"
    );
    assert!(
        !text.contains(&first),
        "another installation's id leaked: {text}"
    );
    // The operator still finds the other connection in the log.
    assert!(logged_text().contains(&format!("initech/{first}")));
}

#[tokio::test]
async fn forged_replayed_and_expired_state_are_refused() {
    let env = TestEnv::start().await;
    env.setup_connector(json!({})).await;
    let id = env.new_installation("acme", json!({})).await;

    let forged = env
        .http
        .get(format!(
            "{}/connector/callback?code=abc&state=forged-state-value",
            env.base
        ))
        .send()
        .await
        .expect("forged");
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST);
    assert!(
        forged
            .text()
            .await
            .expect("html")
            .contains("not started by Spokes")
    );

    let callback = env
        .consent_via_link("acme", &id, json!({}), "Acme Inc", "allow")
        .await;
    assert_eq!(
        env.http
            .get(&callback)
            .send()
            .await
            .expect("first")
            .status(),
        StatusCode::OK
    );
    let replay = env.http.get(&callback).send().await.expect("replay");
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    assert!(
        replay
            .text()
            .await
            .expect("html")
            .contains("already completed")
    );
    assert_eq!(
        env.token_requests("authorization_code").await,
        1,
        "a replay never reaches HubSpot"
    );

    let other = env.new_installation("acme", json!({})).await;
    let callback = env
        .consent_via_link("acme", &other, json!({}), "Acme Inc", "allow")
        .await;
    env.clock.advance_secs(11 * 60);
    let late = env.http.get(&callback).send().await.expect("late");
    assert_eq!(late.status(), StatusCode::BAD_REQUEST);
    assert!(late.text().await.expect("html").contains("expired"));
    assert_eq!(
        env.installation("acme", &other).await["status"],
        "unauthenticated"
    );
}

#[tokio::test]
async fn auth_links_are_single_use_and_expire() {
    let env = TestEnv::start().await;
    env.setup_connector(json!({})).await;
    let id = env.new_installation("acme", json!({})).await;
    let link = env.auth_link("acme", &id, json!({})).await;
    env.open_link(&link).await;
    let again = env.http.get(&link).send().await.expect("again");
    assert_eq!(again.status(), StatusCode::GONE);
    assert!(again.text().await.expect("html").contains("already used"));
    let token = link.rsplit('/').next().expect("token");
    let pressed_again = env
        .http
        .post(&link)
        .form(&[("token", token)])
        .send()
        .await
        .expect("post again");
    assert_eq!(pressed_again.status(), StatusCode::GONE);
    assert!(
        pressed_again
            .text()
            .await
            .expect("html")
            .contains("already used"),
        "a used link cannot start a second consent"
    );

    let link = env.auth_link("acme", &id, json!({})).await;
    env.clock.advance_secs(5 * 60 + 1);
    let expired = env.http.get(&link).send().await.expect("expired");
    assert_eq!(expired.status(), StatusCode::GONE);
    assert!(expired.text().await.expect("html").contains("expired"));

    let unknown = env
        .http
        .get(format!("{}/connect/not-a-real-token", env.base))
        .send()
        .await
        .expect("unknown");
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn scope_not_configured_on_the_app_stops_at_hubspot() {
    let env = TestEnv::start().await;
    let app = env
        .sim_json(
            Method::POST,
            "/_sim/apps",
            Some(json!({
                "name": "narrow app",
                "redirect_urls": [format!("{}/connector/callback", env.base)],
                "scopes": ["oauth", "crm.objects.contacts.read"],
            })),
        )
        .await;
    let (status, body) = env
        .send_json(
            Method::PUT,
            "/v1/connectors/hubspot/setup",
            json!({"client_id": app["client_id"], "client_secret": app["client_secret"],
                   "properties": {"Scopes": "crm.objects.contacts.read", "OptionalScopes": "forms"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let id = env.new_installation("acme", json!({})).await;
    let link = env.auth_link("acme", &id, json!({})).await;
    let authorize = env.open_link(&link).await;
    let page = env.http.get(&authorize).send().await.expect("authorize");
    assert_eq!(page.status(), StatusCode::BAD_REQUEST);
    assert!(
        page.text()
            .await
            .expect("html")
            .contains("The app developer doesn't have permissions to request the set of scopes")
    );
    assert_eq!(
        env.installation("acme", &id).await["status"],
        "unauthenticated"
    );
}

#[tokio::test]
async fn optional_scopes_the_portal_lacks_are_not_granted() {
    let env = TestEnv::start().await;
    env.setup_connector(json!({})).await;
    let id = env.new_installation("acme", json!({})).await;
    env.connect("acme", &id, "Acme Starter", "allow").await;
    let installation = env.installation("acme", &id).await;
    assert_eq!(installation["status"], "authenticated");
    let granted = installation["hubspot"]["granted_scopes"].to_string();
    assert!(!granted.contains("e-commerce"), "{granted}");
    assert!(granted.contains("contacts"), "{granted}");
}

#[tokio::test]
async fn garbage_in_callback_parameters_changes_nothing() {
    let env = TestEnv::start().await;
    env.setup_connector(json!({})).await;
    let id = env.new_installation("acme", json!({})).await;
    let long = "x".repeat(5000);
    for query in [
        String::new(),
        "state=".to_string(),
        "code=1&state=%ZZ%".to_string(),
        format!("code=1&state={long}"),
        "state=a&state=b".to_string(),
        "error=access_denied".to_string(),
        "\u{0}=\u{1}".to_string(),
    ] {
        let response = env
            .http
            .get(format!("{}/connector/callback?{query}", env.base))
            .send()
            .await
            .expect("callback");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
    }
    let installation = env.installation("acme", &id).await;
    assert_eq!(installation["status"], "unauthenticated");
    assert_eq!(installation["last_error"], serde_json::Value::Null);
}

#[tokio::test]
async fn an_auth_link_survives_previews_until_its_button_is_pressed() {
    let env = TestEnv::start().await;
    env.setup_connector(json!({})).await;
    let (status, _) = env
        .send_json(
            Method::POST,
            "/v1/accounts",
            json!({"id": "acme", "name": "Acme <Inc>"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let id = env.new_installation("acme", json!({})).await;
    let link = env.auth_link("acme", &id, json!({})).await;
    // A mail scanner, then a chat preview: neither uses the link up.
    for _ in 0..2 {
        let page = env.link_page(&link).await;
        assert_eq!(page.status(), StatusCode::OK);
        assert_eq!(page.headers()["cache-control"], "no-store");
        assert_eq!(page.headers()["x-frame-options"], "DENY");
        let html = page.text().await.expect("html");
        assert!(html.contains("Acme &#60;Inc&#62;"), "who asks: {html}");
        for scope in ["contacts", "content", "reports", "e-commerce", "forms"] {
            assert!(
                html.contains(&format!("<code>{scope}</code>")),
                "{scope}: {html}"
            );
        }
        assert!(!html.contains("<script"), "the page needs no JavaScript");
    }
    let authorize = env.open_link(&link).await;
    assert!(authorize.starts_with(&format!("{}/oauth/authorize?", env.sim.base_url)));
    let callback = env
        .consent(&authorize, env.portal_id("Acme Inc").await, "allow")
        .await;
    let done = env.http.get(&callback).send().await.expect("callback");
    assert_eq!(done.status(), StatusCode::OK);
    assert_eq!(
        env.installation("acme", &id).await["status"],
        "authenticated"
    );
}

#[tokio::test]
async fn a_post_without_the_pages_token_leaves_the_link_unused() {
    let env = TestEnv::start().await;
    env.setup_connector(json!({})).await;
    let id = env.new_installation("acme", json!({})).await;
    let link = env.auth_link("acme", &id, json!({})).await;
    for form in [vec![("token", "not-the-token")], vec![]] {
        let response = env.http.post(&link).form(&form).send().await.expect("post");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    }
    let bare = env.http.post(&link).send().await.expect("no body");
    assert_eq!(bare.status(), StatusCode::BAD_REQUEST);
    assert_eq!(env.link_page(&link).await.status(), StatusCode::OK);
    env.open_link(&link).await;
}

/// The page the callback ends on when the link had no `return_url`.
async fn last_pages(env: &TestEnv) -> (String, String) {
    env.setup_connector(json!({})).await;
    let id = env.new_installation("acme", json!({})).await;
    let connected = env.connect("acme", &id, "Acme Inc", "allow").await;
    let other = env.new_installation("acme", json!({})).await;
    let refused = env.connect("acme", &other, "Acme Developer", "allow").await;
    (
        connected.text().await.expect("html"),
        refused.text().await.expect("html"),
    )
}

#[tokio::test]
async fn without_allowed_origins_the_last_page_posts_to_no_one() {
    let env = TestEnv::start().await;
    let (connected, refused) = last_pages(&env).await;
    assert!(connected.contains("HubSpot is connected"), "{connected}");
    assert!(refused.contains("developer_account"), "{refused}");
    for html in [connected, refused] {
        assert!(!html.contains("postMessage"), "{html}");
        assert!(!html.contains("\"*\""), "{html}");
        assert!(html.contains("posts the result to no one"), "{html}");
    }
}

#[tokio::test]
async fn with_an_allowed_origin_the_last_page_posts_only_to_it() {
    let env = TestEnv::with(Options {
        allowed_return_origins: vec!["https://app.partner.example".into()],
        ..Options::default()
    })
    .await;
    let (connected, refused) = last_pages(&env).await;
    assert!(connected.contains("\"authenticated\""), "{connected}");
    assert!(refused.contains("\"failed\"") && refused.contains("developer_account"));
    for html in [connected, refused] {
        assert!(html.contains("postMessage"), "{html}");
        assert!(
            html.contains("var targets=[\"https://app.partner.example\"];"),
            "{html}"
        );
        assert!(!html.contains("\"*\""), "{html}");
        assert!(!html.contains("posts the result to no one"), "{html}");
    }
}
