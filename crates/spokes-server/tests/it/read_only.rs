//! Read-only keys and installations: writes are refused with 403 `read_only` before anything
//! reaches HubSpot, reads go through, and PATCHing the installation back allows writes.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{TestEnv, read};

impl TestEnv {
    /// A partner key that may only read.
    async fn create_read_only_key(&self) -> String {
        self.create_key_with(None, true, true).await
    }

    /// Calls `method` on acme's installation `id` with `key`.
    async fn method_as(
        &self,
        key: &str,
        id: &str,
        method: &str,
        input: Value,
    ) -> (StatusCode, Value) {
        let path = format!("/v1/accounts/acme/connectors/{id}/methods/{method}");
        read(
            self.request_as(key, Method::POST, &path)
                .json(&input)
                .send()
                .await
                .expect("call"),
        )
        .await
    }

    /// The contacts of the installation's portal, read with `key`.
    async fn contact_count(&self, key: &str, id: &str) -> usize {
        let (status, body) = self
            .method_as(key, id, "contacts.list", json!({"paging": {"all": true}}))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["data"].as_array().expect("records").len()
    }

    async fn set_read_only(&self, id: &str, read_only: bool) -> Value {
        let (status, body) = self
            .send_json(
                Method::PATCH,
                &format!("/v1/accounts/acme/connectors/{id}"),
                json!({ "read_only": read_only }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }
}

fn refused_as_read_only(status: StatusCode, body: &Value) -> String {
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "read_only", "{body}");
    body["error"]["message"]
        .as_str()
        .expect("message")
        .to_string()
}

#[tokio::test]
async fn read_only_keys_and_installations_refuse_writes_before_hubspot() {
    let env = TestEnv::start().await;
    let id = env.connected().await;
    let read_only_key = env.create_read_only_key().await;
    let contact = json!({"fields": {"email": "ro@example.com"}});
    let proxy = format!("/v1/accounts/acme/connectors/{id}/proxy/crm/v3/objects/contacts");

    // A read-only key: the write is refused and nothing reaches HubSpot.
    let before = env.counter("api_requests").await;
    let (status, body) = env
        .method_as(&read_only_key, &id, "contacts.create", contact.clone())
        .await;
    let message = refused_as_read_only(status, &body);
    assert!(
        message.contains("API key is read-only") && message.contains("--read-only"),
        "{message}"
    );
    let (status, body) = read(
        env.request_as(&read_only_key, Method::POST, &proxy)
            .json(&json!({"properties": {"email": "ro@example.com"}}))
            .send()
            .await
            .expect("proxy"),
    )
    .await;
    refused_as_read_only(status, &body);
    assert_eq!(
        env.counter("api_requests").await,
        before,
        "nothing reached HubSpot"
    );
    // It still reads, by method and through the proxy.
    assert_eq!(env.contact_count(&read_only_key, &id).await, 0);
    let response = env
        .request_as(&read_only_key, Method::GET, &proxy)
        .send()
        .await
        .expect("proxy");
    assert_eq!(response.status(), StatusCode::OK);

    // A read-only installation refuses writes with a key that may write, and says how to
    // allow them.
    assert_eq!(env.installation("acme", &id).await["read_only"], false);
    let changed = env.set_read_only(&id, true).await;
    assert_eq!(changed["read_only"], true, "{changed}");
    assert_eq!(changed["id"], id.as_str());
    assert_eq!(env.installation("acme", &id).await["read_only"], true);
    let before = env.counter("api_requests").await;
    let (status, body) = env
        .method_as(&env.key, &id, "contacts.create", contact.clone())
        .await;
    let message = refused_as_read_only(status, &body);
    assert!(
        message.contains(&format!("installation `{id}` is read-only"))
            && message.contains(&format!("PATCH /v1/accounts/acme/connectors/{id}"))
            && message.contains(r#"{"read_only": false}"#),
        "{message}"
    );
    let response = env
        .request(Method::DELETE, &format!("{proxy}/1"))
        .send()
        .await
        .expect("proxy");
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(env.counter("api_requests").await, before);
    assert_eq!(env.contact_count(&env.key, &id).await, 0);

    // A read-only key cannot lift the flag.
    let (status, body) = read(
        env.request_as(
            &read_only_key,
            Method::PATCH,
            &format!("/v1/accounts/acme/connectors/{id}"),
        )
        .json(&json!({"read_only": false}))
        .send()
        .await
        .expect("patch"),
    )
    .await;
    refused_as_read_only(status, &body);
    assert_eq!(env.installation("acme", &id).await["read_only"], true);

    // Writable again: the same write goes through.
    assert_eq!(env.set_read_only(&id, false).await["read_only"], false);
    let (status, body) = env
        .method_as(&env.key, &id, "contacts.create", contact)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(env.contact_count(&read_only_key, &id).await, 1);
}

#[tokio::test]
async fn installations_are_created_read_only_and_patched_like_the_other_routes() {
    let env = TestEnv::start().await;
    env.setup_connector(json!({})).await;
    let id = env.new_installation("acme", json!({})).await;
    let (status, created) = env
        .send_json(
            Method::POST,
            "/v1/accounts/acme/connectors",
            json!({"connector": "hubspot", "read_only": true}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["read_only"], true);
    let (_, listed) = env.get_json("/v1/accounts/acme/connectors").await;
    let flag_of = |wanted: &Value| {
        listed["data"]
            .as_array()
            .expect("data")
            .iter()
            .find(|i| &i["id"] == wanted)
            .map(|i| i["read_only"].clone())
    };
    assert_eq!(flag_of(&created["id"]), Some(json!(true)), "{listed}");
    assert_eq!(flag_of(&json!(id)), Some(json!(false)), "{listed}");

    // An empty change changes nothing; unknown fields and other types are refused.
    let path = format!("/v1/accounts/acme/connectors/{id}");
    let (status, body) = env.send_json(Method::PATCH, &path, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["read_only"], false);
    for bad in [
        json!({"read_only": true, "name": "x"}),
        json!({"read_only": "yes"}),
    ] {
        let (status, body) = env.send_json(Method::PATCH, &path, bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["error"]["code"], "invalid_request");
    }
    assert_eq!(env.installation("acme", &id).await["read_only"], false);

    // 404s as the other installation routes say them; a key of another account sees nothing.
    let change = json!({"read_only": true});
    let (status, body) = env
        .send_json(
            Method::PATCH,
            "/v1/accounts/acme/connectors/inst_nope",
            change.clone(),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        body["error"]["message"]
            .as_str()
            .expect("message")
            .contains("does not exist in account `acme`"),
        "{body}"
    );
    let (status, _) = env
        .send_json(
            Method::PATCH,
            &format!("/v1/accounts/nobody/connectors/{id}"),
            change.clone(),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    env.new_installation("beta", json!({})).await;
    let beta_key = env.create_key(Some("beta")).await;
    let (status, _) = read(
        env.request_as(&beta_key, Method::PATCH, &path)
            .json(&change)
            .send()
            .await
            .expect("patch"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(env.installation("acme", &id).await["read_only"], false);
}
