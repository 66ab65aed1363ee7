//! The authorize flow: account chooser, failure pages, allow and deny.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn chooser_lists_every_portal_and_the_requested_scopes() {
    let sim = start().await;
    let (status, html) = sim
        .authorize_page(
            "/oauth/authorize",
            &[
                ("client_id", sim.client_id()),
                ("redirect_uri", REDIRECT),
                ("scope", "crm.objects.contacts.read"),
                ("optional_scope", "e-commerce forms"),
                ("state", "<script>alert(1)</script>"),
                ("response_type", "code"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Choose an Account"));
    assert!(html.contains("owner@acme.example"));
    for (name, id) in [
        ("Acme Inc", "24682001"),
        ("Acme Developer", "24682002"),
        ("Acme Test", "24682003"),
        ("Acme Starter", "24682004"),
    ] {
        assert!(html.contains(name), "{name}");
        assert!(html.contains(&format!("Hub ID {id}")), "{id}");
        assert!(
            html.contains(&format!("name=\"portal_id\" value=\"{id}\"")),
            "{id}"
        );
    }
    assert!(html.contains("App developer account"));
    assert!(html.contains("Developer test account"));
    assert!(html.contains("Products: Marketing Hub Professional, Sales Hub Professional"));
    assert!(html.contains("No products"));
    assert!(html.contains("<code>crm.objects.contacts.read</code>"));
    assert!(html.contains("<code>e-commerce</code>"));
    assert!(html.contains("Optional access this account can't grant (dropped): e-commerce"));
    // The form carries the original parameters; everything is escaped.
    assert!(html.contains("<form method=\"post\" action=\"/oauth/authorize\">"));
    assert!(html.contains("name=\"optional_scope\" value=\"e-commerce forms\""));
    assert!(html.contains("value=\"&lt;script&gt;alert(1)&lt;/script&gt;\""));
    assert!(!html.contains("<script>"));
    assert!(html.contains("name=\"decision\" value=\"allow\""));
    assert!(html.contains("name=\"decision\" value=\"deny\""));
}

#[tokio::test]
async fn portal_specific_url_shows_only_that_portal() {
    let sim = start().await;
    let (status, html) = sim
        .authorize_page(
            "/oauth/24682004/authorize",
            &[
                ("client_id", sim.client_id()),
                ("redirect_uri", REDIRECT),
                ("scope", "oauth"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Acme Starter"));
    assert!(!html.contains("Acme Inc"));
    assert!(html.contains("value=\"24682004\" required checked"));

    let (status, html) = sim
        .authorize_page(
            "/oauth/99999999/authorize",
            &[("client_id", sim.client_id()), ("redirect_uri", REDIRECT)],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("99999999"));
}

#[tokio::test]
async fn unknown_client_gets_an_error_page() {
    let sim = start().await;
    let (status, html) = sim
        .authorize_page(
            "/oauth/authorize",
            &[
                ("client_id", "nope<b>"),
                ("redirect_uri", REDIRECT),
                ("scope", "oauth"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("is not a valid app"));
    assert!(html.contains("nope&lt;b&gt;"));
}

#[tokio::test]
async fn unregistered_redirect_gets_hubspots_mismatch_page() {
    let sim = start().await;
    let (status, html) = sim
        .authorize_page(
            "/oauth/authorize",
            &[
                ("client_id", sim.client_id()),
                ("redirect_uri", "https://evil.example/cb"),
                ("scope", "oauth"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains(
        "Authorization failed as the redirect URL 'https://evil.example/cb' doesn't match the app's registered redirect URL"
    ));
}

#[tokio::test]
async fn scope_not_configured_on_the_app_gets_the_permissions_page() {
    let sim = start().await;
    let (status, app) = sim
        .sim_post(
            "/_sim/apps",
            json!({"name": "Narrow", "redirect_urls": [REDIRECT], "scopes": ["crm.objects.contacts.read"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{app}");
    let client_id = app["client_id"].as_str().unwrap();
    for (scope, optional) in [
        ("crm.objects.deals.read", ""),
        ("oauth", "forms"),
        ("made.up.scope", ""),
    ] {
        let (status, html) = sim
            .authorize_page(
                "/oauth/authorize",
                &[
                    ("client_id", client_id),
                    ("redirect_uri", REDIRECT),
                    ("scope", scope),
                    ("optional_scope", optional),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{scope} {optional}");
        assert!(
            html.contains(
                "The app developer doesn't have permissions to request the set of scopes."
            )
        );
    }
    // A configured scope (and oauth, always allowed) passes.
    let (status, _) = sim
        .authorize_page(
            "/oauth/authorize",
            &[
                ("client_id", client_id),
                ("redirect_uri", REDIRECT),
                ("scope", "oauth crm.objects.contacts.read"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn deny_redirects_with_access_denied() {
    let sim = start().await;
    let resp = sim
        .decide(&[
            ("client_id", sim.client_id()),
            ("redirect_uri", REDIRECT),
            ("scope", "oauth"),
            ("state", "s&1"),
            ("decision", "deny"),
        ])
        .await;
    assert_eq!(resp.status(), StatusCode::FOUND);
    let location = resp.headers()["location"].to_str().unwrap();
    assert!(location.starts_with(REDIRECT));
    let q = query_of(location);
    assert_eq!(q["error"], "access_denied");
    assert!(!q["error_description"].is_empty());
    assert_eq!(q["state"], "s&1");
    assert!(!q.contains_key("code"));
}

#[tokio::test]
async fn required_scope_the_portal_lacks_stops_the_install() {
    let sim = start().await;
    let portal = ACME_DEVELOPER.to_string();
    let resp = sim
        .decide(&[
            ("client_id", sim.client_id()),
            ("redirect_uri", REDIRECT),
            ("scope", "oauth content"),
            ("portal_id", &portal),
            ("decision", "allow"),
        ])
        .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(resp.headers().get("location").is_none());
    let html = resp.text().await.unwrap();
    assert!(html.contains(
        "This account doesn't have access to some HubSpot features that are required by this app."
    ));
}

#[tokio::test]
async fn optional_scopes_the_portal_lacks_are_dropped() {
    let sim = start().await;
    let starter = sim
        .tokens(&Consent {
            portal: ACME_STARTER,
            scope: "crm.objects.contacts.read",
            optional_scope: "e-commerce forms",
            ..Consent::default()
        })
        .await;
    assert_eq!(
        starter["scopes"],
        json!(["crm.objects.contacts.read", "forms", "oauth"])
    );
    assert_eq!(starter["hub_id"], ACME_STARTER);

    let inc = sim
        .tokens(&Consent {
            portal: ACME_INC,
            scope: "crm.objects.contacts.read",
            optional_scope: "e-commerce forms",
            ..Consent::default()
        })
        .await;
    assert_eq!(
        inc["scopes"],
        json!(["crm.objects.contacts.read", "e-commerce", "forms", "oauth"])
    );
}

#[tokio::test]
async fn allow_without_a_portal_is_refused() {
    let sim = start().await;
    let resp = sim
        .decide(&[
            ("client_id", sim.client_id()),
            ("redirect_uri", REDIRECT),
            ("scope", "oauth"),
            ("decision", "allow"),
        ])
        .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(resp.text().await.unwrap().contains("Choose an account"));
}
