//! The console: login, the connector setup page, the accounts list, CSRF.

use reqwest::StatusCode;
use serde_json::json;

use crate::TestEnv;

async fn login(env: &TestEnv, credential: &str) -> Option<String> {
    let response = env
        .http
        .post(format!("{}/console/login", env.base))
        .form(&[("credential", credential)])
        .send()
        .await
        .expect("login");
    let cookie = response
        .headers()
        .get("set-cookie")?
        .to_str()
        .ok()?
        .to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    Some(cookie.split(';').next()?.to_string())
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
        "Default value is &quot;contacts&quot;",
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
async fn a_tampered_session_cookie_is_refused() {
    let env = TestEnv::start().await;
    let cookie = login(&env, &env.key).await.expect("login");
    let tampered = cookie
        .replacen(".key_", ".admin_", 1)
        .replace("admin_", "admin");
    let response = env
        .http
        .get(format!("{}/console", env.base))
        .header("cookie", format!("{tampered}x"))
        .send()
        .await
        .expect("console");
    assert!(
        response
            .text()
            .await
            .expect("html")
            .contains("API key or admin password")
    );
    env.clock.advance_secs(9 * 3600);
    let expired = env
        .http
        .get(format!("{}/console", env.base))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("console");
    assert!(
        expired
            .text()
            .await
            .expect("html")
            .contains("API key or admin password"),
        "sessions expire"
    );
}
