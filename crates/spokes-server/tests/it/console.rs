//! The console: login, the connector setup page, the accounts list, CSRF.

use reqwest::{Response, StatusCode};
use serde_json::json;
use spokes_core::token::sha256_hex;

use crate::TestEnv;

async fn login_response(env: &TestEnv, credential: &str, cookie: Option<&str>) -> Response {
    let mut request = env
        .http
        .post(format!("{}/console/login", env.base))
        .form(&[("credential", credential)]);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    request.send().await.expect("login")
}

/// Logs in presenting `cookie`; returns the new `name=value` session cookie.
async fn login_with(env: &TestEnv, credential: &str, cookie: Option<&str>) -> Option<String> {
    let response = login_response(env, credential, cookie).await;
    let cookie = response
        .headers()
        .get("set-cookie")?
        .to_str()
        .ok()?
        .to_string();
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict")
            && cookie.contains("Path=/console"),
        "{cookie}"
    );
    Some(cookie.split(';').next()?.to_string())
}

async fn login(env: &TestEnv, credential: &str) -> Option<String> {
    login_with(env, credential, None).await
}

/// Whether `cookie` opens the console (rather than showing the login page).
async fn is_logged_in(env: &TestEnv, cookie: &str) -> bool {
    let html = page(env, cookie).await;
    let logged_in = html.contains("HubSpot connector setup");
    assert!(
        logged_in != html.contains("API key or admin password"),
        "{html}"
    );
    logged_in
}

async fn page(env: &TestEnv, cookie: &str) -> String {
    let response = env
        .http
        .get(format!("{}/console", env.base))
        .header("cookie", cookie)
        .send()
        .await
        .expect("console");
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.expect("html")
}

fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("csrf field") + 19;
    html[at..].split('"').next().expect("value").to_string()
}

#[tokio::test]
async fn setup_page_and_accounts_list() {
    let env = TestEnv::start().await;
    let anonymous = env
        .http
        .get(format!("{}/console", env.base))
        .send()
        .await
        .expect("console");
    assert!(
        anonymous
            .text()
            .await
            .expect("html")
            .contains("API key or admin password")
    );
    assert!(login(&env, "spk_wrong").await.is_none());
    env.new_installation("acme", json!({})).await;
    let restricted = env.create_key(Some("acme")).await;
    assert!(
        login(&env, &restricted).await.is_none(),
        "account keys cannot use the console"
    );

    let cookie = login(&env, &env.key).await.expect("partner key logs in");
    let html = page(&env, &cookie).await;
    assert!(
        html.contains(&format!("{}/connector/callback", env.base)),
        "shows the Redirect URL"
    );
    for text in [
        "Client ID",
        "Client Secret",
        "Scopes",
        "OptionalScopes",
        "Default value is &#34;contacts&#34;",
        "content reports e-commerce forms",
        "Products attached",
        "acme",
        "unauthenticated",
    ] {
        assert!(html.contains(text), "{text} missing");
    }

    let form = [
        ("client_id", env.sim.sandbox_app.client_id.clone()),
        ("client_secret", env.sim.sandbox_app.client_secret.clone()),
        ("Scopes", "crm.objects.contacts.read".to_string()),
        ("OptionalScopes", String::new()),
    ];
    let forged = env
        .http
        .post(format!("{}/console/setup", env.base))
        .header("cookie", &cookie)
        .form(&form)
        .send()
        .await
        .expect("forged");
    assert_eq!(
        forged.status(),
        StatusCode::FORBIDDEN,
        "no CSRF token, no change"
    );
    let (_, connector) = env.get_json("/v1/connectors/hubspot").await;
    assert_eq!(connector["configured"], false);

    let mut with_csrf = form.to_vec();
    with_csrf.push(("csrf", csrf_of(&html)));
    let saved = env
        .http
        .post(format!("{}/console/setup", env.base))
        .header("cookie", &cookie)
        .form(&with_csrf)
        .send()
        .await
        .expect("save");
    let saved = saved.text().await.expect("html");
    assert!(saved.contains("Saved."), "{saved}");
    assert!(
        !saved.contains(&env.sim.sandbox_app.client_secret),
        "the secret is never shown"
    );
    let (_, connector) = env.get_json("/v1/connectors/hubspot").await;
    assert_eq!(connector["configured"], true);
    assert_eq!(
        connector["properties"]["Scopes"],
        "crm.objects.contacts.read"
    );
}

#[tokio::test]
async fn a_tampered_or_expired_session_cookie_is_refused() {
    let env = TestEnv::start().await;
    let cookie = login(&env, &env.key).await.expect("login");
    assert!(is_logged_in(&env, &cookie).await);
    // One character changed, the length kept: still well-formed, but no session.
    let (name, value) = cookie.split_once('=').expect("name=value");
    let mut bytes = value.as_bytes().to_vec();
    let middle = bytes.len() / 2;
    bytes[middle] = if bytes[middle] == b'A' { b'B' } else { b'A' };
    let tampered = format!("{name}={}", String::from_utf8(bytes).expect("ascii"));
    assert_eq!(tampered.len(), cookie.len());
    assert!(
        !is_logged_in(&env, &tampered).await,
        "a tampered id is refused"
    );

    env.clock.advance_secs(9 * 3600);
    assert!(!is_logged_in(&env, &cookie).await, "sessions expire");
}

#[tokio::test]
async fn revoking_the_key_ends_its_console_sessions() {
    let env = TestEnv::start().await;
    let key = env.create_key(None).await;
    let cookie = login(&env, &key).await.expect("login");
    let other = login(&env, &env.key).await.expect("another key");
    assert!(is_logged_in(&env, &cookie).await);
    let id = env
        .store
        .find_api_key_by_hash(&sha256_hex(key.as_bytes()))
        .await
        .expect("read")
        .expect("the key")
        .id;
    assert!(env.store.revoke_api_key(&id, 0).await.expect("revoke"));
    assert!(
        !is_logged_in(&env, &cookie).await,
        "a session ends with its key"
    );
    assert!(
        is_logged_in(&env, &other).await,
        "other keys' sessions go on"
    );
}

#[tokio::test]
async fn logging_out_ends_the_session_on_the_server() {
    let env = TestEnv::start().await;
    let cookie = login(&env, &env.key).await.expect("login");
    let csrf = csrf_of(&page(&env, &cookie).await);
    let forged = env
        .http
        .post(format!("{}/console/logout", env.base))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("logout without csrf");
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert!(is_logged_in(&env, &cookie).await);
    let out = env
        .http
        .post(format!("{}/console/logout", env.base))
        .header("cookie", &cookie)
        .form(&[("csrf", csrf)])
        .send()
        .await
        .expect("logout");
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    let cleared = out.headers()["set-cookie"].to_str().expect("cookie");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    // A copy of the cookie kept from before (a stolen one) no longer works.
    assert!(!is_logged_in(&env, &cookie).await);
}

#[tokio::test]
async fn every_login_gets_a_new_session_id_and_planted_ids_are_not_sessions() {
    let env = TestEnv::start().await;
    let first = login(&env, &env.key).await.expect("login");
    let second = login(&env, &env.key).await.expect("login again");
    assert_ne!(first, second);
    assert!(is_logged_in(&env, &first).await && is_logged_in(&env, &second).await);

    // An id planted in the browser before the login: never the session it gets.
    let planted = format!("spokes_console={}", "A".repeat(43));
    assert!(!is_logged_in(&env, &planted).await);
    let after = login_with(&env, &env.key, Some(&planted))
        .await
        .expect("login");
    assert_ne!(after, planted);
    assert!(!is_logged_in(&env, &planted).await);
    assert!(is_logged_in(&env, &after).await);

    // A live session presented at login (someone else's, planted) is ended, not reused.
    let renewed = login_with(&env, &env.key, Some(&first))
        .await
        .expect("login");
    assert_ne!(renewed, first);
    assert!(!is_logged_in(&env, &first).await);
    assert!(is_logged_in(&env, &renewed).await);
}

#[tokio::test]
async fn failed_logins_are_limited_per_address() {
    let env = TestEnv::start().await;
    for attempt in 1..=10 {
        let response = login_response(&env, "spk_wrong", None).await;
        assert_eq!(response.status(), StatusCode::OK, "attempt {attempt}");
        assert!(response.headers().get("set-cookie").is_none());
    }
    let limited = login_response(&env, "spk_wrong", None).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .expect("header")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    // Over the limit even the right key waits, so a guess's answer tells nothing.
    let right = login_response(&env, &env.key, None).await;
    assert_eq!(right.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(right.headers().get("set-cookie").is_none());
}
