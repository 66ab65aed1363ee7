//! HubSpot's refusals that Spokes' own checks cannot foresee, each as its stable code: the
//! paid Sales Hub seat, HubSpot's own `MISSING_SCOPES`, and the daily limit; and whose
//! installations a key reaches.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use spokes_core::{Installation, InstallationStatus, PortalDetails, Secret, TokenSet};
use spokes_store::AuthState;

use crate::{TestEnv, read};

impl TestEnv {
    /// An installation of `portal` whose tokens the simulator issued with `scopes` directly
    /// (as if the portal's situation changed after the consent).
    async fn installation_with_scopes(&self, portal: &str, scopes: &[&str]) -> String {
        self.setup_connector(json!({})).await;
        let id = self.new_installation("acme", json!({})).await;
        let portal_id = self.portal_id(portal).await;
        let issued = self
            .sim_json(
                Method::POST,
                "/_sim/tokens",
                Some(json!({"portal_id": portal_id, "scopes": scopes})),
            )
            .await;
        let installation: Installation = self
            .store
            .get_installation(&id)
            .await
            .expect("read")
            .expect("installation");
        let state = AuthState {
            status: InstallationStatus::Authenticated,
            portal: Some(PortalDetails {
                portal_id,
                account_type: "STANDARD".into(),
                granted_scopes: scopes.iter().map(|s| s.to_string()).collect(),
                ..PortalDetails::default()
            }),
            last_error: None,
            tokens: Some(TokenSet {
                access_token: Secret::from(issued["access_token"].as_str().expect("access")),
                refresh_token: Secret::from(issued["refresh_token"].as_str().expect("refresh")),
                expires_at: self.clock_now() + 30 * 60 * 1000,
                client_id: self.sim.sandbox_app.client_id.clone(),
            }),
        };
        assert!(
            self.store
                .save_auth_state(&installation.id, &state, self.clock_now(), None)
                .await
                .expect("save")
        );
        id
    }

    fn clock_now(&self) -> i64 {
        use spokes_core::Clock as _;
        self.clock.now_ms()
    }
}

#[tokio::test]
async fn a_user_without_a_paid_sales_hub_seat_is_told_so() {
    let env = TestEnv::start().await;
    // Acme Starter's user has no paid seat; the token carries e-commerce nonetheless.
    let id = env
        .installation_with_scopes("Acme Starter", &["oauth", "e-commerce"])
        .await;
    let body = env
        .refused(
            &id,
            "products.list",
            json!({}),
            StatusCode::FORBIDDEN,
            "sales_hub_seat_required",
        )
        .await;
    let message = body["error"]["message"].as_str().expect("message");
    assert!(message.contains("paid Sales Hub seat"), "{message}");
    assert!(body["error"]["correlation_id"].is_string(), "{body}");
}

#[tokio::test]
async fn a_deals_products_tell_a_user_without_a_paid_sales_hub_seat_so() {
    let env = TestEnv::start().await;
    let id = env
        .installation_with_scopes("Acme Starter", &["oauth", "e-commerce", "contacts"])
        .await;
    let deal = env.deal(&id, "Big one", "appointmentscheduled").await;
    let body = env
        .refused(
            &id,
            "deals.products",
            json!({"parameters": {"dealId": deal}}),
            StatusCode::FORBIDDEN,
            "sales_hub_seat_required",
        )
        .await;
    let message = body["error"]["message"].as_str().expect("message");
    assert!(message.contains("paid Sales Hub seat"), "{message}");
}

#[tokio::test]
async fn hubspots_own_missing_scopes_names_the_scopes() {
    let env = TestEnv::start().await;
    // The batch association methods leave the scope check to HubSpot (the object types are
    // parameters); this token may read contacts but not companies.
    let id = env
        .installation_with_scopes(
            "Acme Inc",
            &[
                "oauth",
                "crm.objects.contacts.read",
                "crm.objects.contacts.write",
            ],
        )
        .await;
    let body = env
        .refused(
            &id,
            "associations.batch_create_default",
            json!({"parameters": {
                "fromObjectType": "contacts",
                "toObjectType": "companies",
                "inputs": [{"from": {"id": "1"}, "to": {"id": "2"}}],
            }}),
            StatusCode::FORBIDDEN,
            "missing_scopes",
        )
        .await;
    let needed = body["error"]["details"]["required_scopes"].to_string();
    assert!(needed.contains("companies"), "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .expect("message")
            .contains("HubSpot refused the call"),
        "{body}"
    );
}

#[tokio::test]
async fn the_daily_limit_is_reported_not_retried() {
    let env = TestEnv::start().await;
    let id = env.connected().await;
    env.sim_json(
        Method::POST,
        "/_sim/faults",
        Some(json!({
            "path": "/crm/objects/2026-03/contacts",
            "method": "GET",
            "fault": {"rate_limit": "DAILY"},
        })),
    )
    .await;
    let body = env
        .refused(
            &id,
            "contacts.list",
            json!({}),
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
        )
        .await;
    assert_eq!(body["error"]["details"]["policy"], "DAILY");
    let faults: Value = env.sim_json(Method::GET, "/_sim/faults", None).await;
    assert_eq!(faults["injected"], 1, "sent once, not retried: {faults}");
}

/// Method calls and the proxy read the key and the installation in one query: the key, its
/// account and the installation's account are each checked.
#[tokio::test]
async fn calls_reach_only_the_keys_own_accounts_installations() {
    let env = TestEnv::start().await;
    let id = env.connected().await;
    env.create_account("beta").await;
    let routes = [
        (
            Method::POST,
            format!("/v1/accounts/{{account}}/connectors/{id}/methods/account.get"),
        ),
        (
            Method::GET,
            format!("/v1/accounts/{{account}}/connectors/{id}/proxy/account-info/2026-03/details"),
        ),
    ];
    let beta_key = env.create_key(Some("beta")).await;
    let acme_key = env.create_key(Some("acme")).await;
    for (verb, route) in &routes {
        let call = |key: &str, account: &str| {
            let request = env
                .request_as(key, verb.clone(), &route.replace("{account}", account))
                .json(&json!({}));
            async move { read(request.send().await.expect("send")).await }
        };
        let (status, _) = call(&env.key, "acme").await;
        assert_eq!(status, StatusCode::OK, "{route}");
        let (status, _) = call(&acme_key, "acme").await;
        assert_eq!(status, StatusCode::OK, "{route}");
        // The installation is acme's, not beta's.
        let (status, body) = call(&env.key, "beta").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{route}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("does not exist in account `beta`"),
            "{body}"
        );
        let (status, _) = call(&beta_key, "beta").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{route}");
        // A key of beta sees no other account.
        let (status, body) = call(&beta_key, "acme").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{route}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("account `acme` does not exist"),
            "{body}"
        );
        let (status, _) = call(&env.key, "nobody").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{route}");
        let (status, _) = call("spk_wrong", "acme").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{route}");
    }
    // A key revoked (here straight in the database, as another process would) is refused at once.
    let hash = spokes_core::token::sha256_hex(acme_key.as_bytes());
    let key_id = env
        .store
        .find_api_key_by_hash(&hash)
        .await
        .expect("read")
        .expect("key")
        .id;
    assert!(env.store.revoke_api_key(&key_id, 1).await.expect("revoke"));
    for (verb, route) in &routes {
        let (status, body) = read(
            env.request_as(&acme_key, verb.clone(), &route.replace("{account}", "acme"))
                .json(&json!({}))
                .send()
                .await
                .expect("send"),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{route}: {body}");
    }
}
