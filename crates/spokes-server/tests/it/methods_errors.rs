//! HubSpot's refusals that Spokes' own checks cannot foresee, each as its stable code: the
//! paid Sales Hub seat, HubSpot's own `MISSING_SCOPES`, and the daily limit.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use spokes_core::{Installation, InstallationStatus, PortalDetails, Secret, TokenSet};
use spokes_store::AuthState;

use crate::TestEnv;

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
