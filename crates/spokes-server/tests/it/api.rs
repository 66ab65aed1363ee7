//! The partner API: accounts, the connector catalogue and setup, installations, keys, and bad
//! input everywhere.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{TestEnv, read};

#[tokio::test]
async fn accounts_crud() {
    let env = TestEnv::start().await;
    let (status, created) = env
        .send_json(
            Method::POST,
            "/v1/accounts",
            json!({"id": "cust-1", "name": "Customer One", "timezone": "Europe/London"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["id"], "cust-1");
    let (status, dup) = env
        .send_json(
            Method::POST,
            "/v1/accounts",
            json!({"id": "cust-1", "name": "Again"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(dup["error"]["code"], "account_exists");
    let (status, generated) = env
        .send_json(Method::POST, "/v1/accounts", json!({"name": "No id"}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(generated["id"].as_str().is_some_and(|id| !id.is_empty()));

    let (status, patched) = env
        .send_json(
            Method::PATCH,
            "/v1/accounts/cust-1",
            json!({"name": "Renamed", "timezone": null}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["name"], "Renamed");
    assert_eq!(patched["timezone"], Value::Null);

    let (_, list) = env.get_json("/v1/accounts").await;
    assert_eq!(list["data"].as_array().map(Vec::len), Some(2));
    let deleted = env
        .request(Method::DELETE, "/v1/accounts/cust-1")
        .send()
        .await
        .expect("delete");
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let (status, missing) = env.get_json("/v1/accounts/cust-1").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(missing["error"]["code"], "not_found");
}

#[tokio::test]
async fn connector_catalogue_follows_the_seed() {
    let env = TestEnv::start().await;
    let (status, connector) = env.get_json("/v1/connectors/hubspot").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(connector["id"], "hubspot");
    assert_eq!(connector["auth_type"], "oauth2");
    assert_eq!(connector["configured"], false);
    assert_eq!(
        connector["redirect_url"],
        format!("{}/connector/callback", env.base)
    );
    assert_eq!(
        connector["parameters"],
        json!([
            {"name": "Scopes", "description": "The scopes of the connector. Default value is \"contacts\".", "default": "contacts"},
            {"name": "OptionalScopes", "description": "The optional scopes of the connector. Default value is \"content reports e-commerce forms\"", "default": "content reports e-commerce forms"},
        ])
    );
    env.setup_connector(json!({"OptionalScopes": "forms"}))
        .await;
    let (_, connector) = env.get_json("/v1/connectors/hubspot").await;
    assert_eq!(connector["configured"], true);
    assert_eq!(connector["client_id"], env.sim.sandbox_app.client_id);
    assert!(
        !connector
            .to_string()
            .contains(&env.sim.sandbox_app.client_secret)
    );
    let (_, list) = env.get_json("/v1/connectors").await;
    assert_eq!(list["data"][0]["id"], "hubspot");
    let (status, _) = env.get_json("/v1/connectors/salesforce").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn installation_properties_follow_precedence_and_are_checked() {
    let env = TestEnv::start().await;
    env.setup_connector(json!({"OptionalScopes": "forms"}))
        .await;
    env.send_json(
        Method::POST,
        "/v1/accounts",
        json!({"id": "acme", "name": "Acme"}),
    )
    .await;
    let path = "/v1/accounts/acme/connectors";

    let (status, body) = env
        .send_json(Method::POST, path, json!({"connector": "hubspot"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["status"], "unauthenticated");
    assert_eq!(
        body["effective_scopes"],
        json!({"Scopes": ["contacts"], "OptionalScopes": ["forms"]})
    );
    assert!(
        body["warnings"][0]
            .as_str()
            .expect("warning")
            .contains("crm.objects.contacts.read")
    );

    let (status, body) = env
        .send_json(Method::POST, path, json!({"connector": "hubspot", "properties": {"Scopes": "crm.objects.contacts.read crm.objects.deals.write", "OptionalScopes": "e-commerce"}}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        body["effective_scopes"],
        json!({"Scopes": ["crm.objects.contacts.read", "crm.objects.deals.write"], "OptionalScopes": ["e-commerce"]})
    );
    assert_eq!(body["warnings"], json!([]));

    let (status, body) = env
        .send_json(
            Method::POST,
            path,
            json!({"connector": "hubspot", "properties": {"scopes": "contacts"}}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "unknown_property");
    assert!(
        body["error"]["message"]
            .as_str()
            .expect("message")
            .contains("`scopes`")
    );

    let (status, body) = env
        .send_json(Method::POST, path, json!({"connector": "hubspot", "properties": {"Scopes": "contacts crm.objects.nothing.read"}}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "unknown_scope");
    assert!(
        body["error"]["message"]
            .as_str()
            .expect("message")
            .contains("crm.objects.nothing.read")
    );

    let (status, body) = env
        .send_json(Method::POST, path, json!({"connector": "pipedrive"}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (_, list) = env.get_json(path).await;
    assert_eq!(
        list["data"].as_array().map(Vec::len),
        Some(2),
        "refused requests created nothing"
    );
}

#[tokio::test]
async fn an_account_key_sees_only_its_account() {
    let env = TestEnv::start().await;
    env.setup_connector(json!({})).await;
    let own = env.new_installation("acme", json!({})).await;
    let other = env.new_installation("globex", json!({})).await;
    let key = env.create_key(Some("acme")).await;
    let call = |method: Method, path: &str, body: Option<Value>| {
        let mut request = env.request_as(&key, method, path);
        if let Some(body) = body {
            request = request.json(&body);
        }
        async move { read(request.send().await.expect("send")).await }
    };

    assert_eq!(
        call(Method::GET, "/v1/accounts/acme", None).await.0,
        StatusCode::OK
    );
    assert_eq!(
        call(Method::GET, "/v1/accounts/acme/connectors", None)
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        call(
            Method::GET,
            &format!("/v1/accounts/acme/connectors/{own}"),
            None
        )
        .await
        .0,
        StatusCode::OK
    );
    assert_eq!(
        call(
            Method::POST,
            &format!("/v1/accounts/acme/connectors/{own}/auth-link"),
            None
        )
        .await
        .0,
        StatusCode::OK
    );
    assert_eq!(
        call(Method::GET, "/v1/connectors/hubspot", None).await.0,
        StatusCode::OK
    );

    let (status, hidden) = call(Method::GET, "/v1/accounts/globex", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, absent) = call(Method::GET, "/v1/accounts/no-such-account", None).await;
    assert_eq!(
        hidden["error"]["message"]
            .as_str()
            .map(|m| m.replace("globex", "X")),
        absent["error"]["message"]
            .as_str()
            .map(|m| m.replace("no-such-account", "X")),
        "an existing account looks like a missing one"
    );
    assert_eq!(
        call(
            Method::GET,
            &format!("/v1/accounts/globex/connectors/{other}"),
            None
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call(
            Method::GET,
            &format!("/v1/accounts/acme/connectors/{other}"),
            None
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call(
            Method::POST,
            &format!("/v1/accounts/globex/connectors/{other}/auth-link"),
            None
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );

    assert_eq!(
        call(Method::GET, "/v1/accounts", None).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call(Method::POST, "/v1/accounts", Some(json!({"name": "x"})))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call(Method::DELETE, "/v1/accounts/acme", None).await.0,
        StatusCode::FORBIDDEN
    );
    let (status, body) = call(
        Method::PUT,
        "/v1/connectors/hubspot/setup",
        Some(json!({"client_id": "x", "client_secret": "y"})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"]["code"], "forbidden");
}

#[tokio::test]
async fn missing_wrong_and_revoked_keys_are_refused() {
    let env = TestEnv::start().await;
    let response = env
        .http
        .get(format!("{}/v1/accounts", env.base))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let (status, body) = read(
        env.request_as("spk_wrong", Method::GET, "/v1/accounts")
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "unauthorized");
    let keys = env.store.list_api_keys().await.expect("keys");
    env.store
        .revoke_api_key(&keys[0].id, 1)
        .await
        .expect("revoke");
    let (status, _) = env.get_json("/v1/accounts").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn bad_input_gets_a_clear_4xx_and_changes_nothing() {
    let env = TestEnv::start().await;
    let send_raw = |body: Vec<u8>, content_type: Option<&'static str>| {
        let mut request = env.request(Method::POST, "/v1/accounts").body(body);
        if let Some(ct) = content_type {
            request = request.header("content-type", ct);
        }
        async move { read(request.send().await.expect("send")).await }
    };
    let json_type = Some("application/json");
    let cases: Vec<(Vec<u8>, Option<&'static str>, StatusCode, &str)> = vec![
        (
            b"{\"name\": ".to_vec(),
            json_type,
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
        (
            b"not json".to_vec(),
            json_type,
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
        (
            b"{\"name\": 42}".to_vec(),
            json_type,
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            b"{\"name\": \"a\", \"colour\": \"red\"}".to_vec(),
            json_type,
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            b"[]".to_vec(),
            json_type,
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            b"{\"name\": \"a\"}".to_vec(),
            None,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            b"{\"name\": \"\"}".to_vec(),
            json_type,
            StatusCode::BAD_REQUEST,
            "invalid_name",
        ),
        (
            b"{\"id\": \"has space\", \"name\": \"a\"}".to_vec(),
            json_type,
            StatusCode::BAD_REQUEST,
            "invalid_id",
        ),
        (
            b"{\"name\": \"a\", \"timezone\": \"<script>\"}".to_vec(),
            json_type,
            StatusCode::BAD_REQUEST,
            "invalid_timezone",
        ),
    ];
    for (body, content_type, status, code) in cases {
        let shown = String::from_utf8_lossy(&body).into_owned();
        let (got, answer) = send_raw(body, content_type).await;
        assert_eq!(got, status, "{shown}: {answer}");
        assert_eq!(answer["error"]["code"], code, "{shown}: {answer}");
        assert!(
            answer["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
    let mut huge = b"{\"name\": \"".to_vec();
    huge.extend(std::iter::repeat_n(b'a', 2 * 1024 * 1024));
    huge.extend(b"\"}");
    let (status, answer) = send_raw(huge, json_type).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{answer}");
    assert_eq!(answer["error"]["code"], "payload_too_large");

    let (_, list) = env.get_json("/v1/accounts").await;
    assert_eq!(list["data"], json!([]), "nothing was created");

    let (status, body) = env
        .send_json(
            Method::PUT,
            "/v1/connectors/hubspot/setup",
            json!({"client_id": ""}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = env
        .send_json(
            Method::PUT,
            "/v1/connectors/hubspot/setup",
            json!({"client_id": "abc"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], "invalid_client_secret");
    let (_, connector) = env.get_json("/v1/connectors/hubspot").await;
    assert_eq!(connector["configured"], false);

    let (status, body) = read(
        env.request(Method::PUT, "/v1/accounts")
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(body["error"]["code"], "method_not_allowed");
    let (status, body) = env.get_json("/v2/nothing").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "not_found");
}

#[tokio::test]
async fn auth_link_needs_a_connector_setup_and_methods_must_exist() {
    let env = TestEnv::start().await;
    let id = env.new_installation("acme", json!({})).await;
    let (status, body) = env
        .send_json(
            Method::POST,
            &format!("/v1/accounts/acme/connectors/{id}/auth-link"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["error"]["code"], "setup_missing");
    let (status, body) = env.call(&env.base, &id, "contacts.teleport").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let message = body["error"]["message"].as_str().expect("message");
    assert!(
        message.contains("did you mean") && message.contains("contacts.get"),
        "{message}"
    );
    let (status, body) = env.call(&env.base, &id, "account.get").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["error"]["code"], "not_connected");
}
