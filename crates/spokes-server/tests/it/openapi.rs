//! `GET /v1/openapi.json`: an OpenAPI 3.1 document with every route of the router and every
//! method of the catalogue.

use reqwest::StatusCode;
use serde_json::{Value, json};
use spokes_hubspot::catalogue;

use crate::{TestEnv, read};

/// Every verb a route declared `any` is documented with.
const ANY: [&str; 5] = ["get", "post", "put", "patch", "delete"];

async fn document(env: &TestEnv) -> Value {
    // No key: the document describes the API and reveals no data.
    let response = env
        .http
        .get(format!("{}/v1/openapi.json", env.base))
        .send()
        .await
        .expect("openapi.json");
    let (status, doc) = read(response).await;
    assert_eq!(status, StatusCode::OK, "{doc}");
    // To look at it or validate it by hand: `SPOKES_OPENAPI_OUT=openapi.json cargo test …`.
    if let Some(out) = std::env::var_os("SPOKES_OPENAPI_OUT") {
        std::fs::write(out, serde_json::to_string_pretty(&doc).expect("json")).expect("write");
    }
    doc
}

/// axum's `{*rest}` is OpenAPI's `{rest}`.
fn openapi_path(axum_path: &str) -> String {
    axum_path.replace("{*", "{")
}

#[tokio::test]
async fn the_document_describes_every_route() {
    let env = TestEnv::start().await;
    let doc = document(&env).await;
    let version = doc["openapi"].as_str().expect("openapi version");
    assert!(version.starts_with("3.1."), "{version}");
    assert_eq!(doc["servers"][0]["url"], env.base.as_str());
    assert_eq!(
        doc["components"]["securitySchemes"]["api_key"]["scheme"],
        "bearer"
    );

    let routes = spokes_server::openapi::route_table();
    assert!(routes.len() > 10, "{routes:?}");
    let mut missing = Vec::new();
    for (verb, path) in routes {
        let path = openapi_path(path);
        let verbs: Vec<&str> = if *verb == "any" {
            ANY.to_vec()
        } else {
            vec![verb]
        };
        for verb in verbs {
            let operation = &doc["paths"][&path][verb];
            if !operation.is_object() {
                missing.push(format!("{} {path}", verb.to_uppercase()));
                continue;
            }
            assert!(operation["responses"].is_object(), "{verb} {path}");
            let public = operation["security"] == json!([{}]);
            assert_eq!(public, path == "/v1/openapi.json", "{verb} {path}");
            if !public {
                assert!(operation["responses"]["401"].is_object(), "{verb} {path}");
            }
            // Every `{param}` of the path is declared.
            for name in path.split('{').skip(1).filter_map(|s| s.split('}').next()) {
                let declared = operation["parameters"]
                    .as_array()
                    .is_some_and(|all| all.iter().any(|p| p["name"] == name && p["in"] == "path"));
                assert!(declared, "{verb} {path}: parameter {name}");
            }
        }
    }
    assert!(
        missing.is_empty(),
        "routes without an OpenAPI operation (annotate the handler with #[utoipa::path] and list it in openapi.rs): {missing:?}"
    );

    let ids: Vec<&str> = doc["paths"]
        .as_object()
        .expect("paths")
        .values()
        .flat_map(|item| item.as_object().into_iter().flat_map(|i| i.values()))
        .filter_map(|op| op["operationId"].as_str())
        .collect();
    let mut unique = ids.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "operation ids are unique");
}

#[tokio::test]
async fn each_method_has_a_path_with_its_schemas() {
    let env = TestEnv::start().await;
    let doc = document(&env).await;
    let base = "/v1/accounts/{account}/connectors/{installation}/methods";
    for method in catalogue::all() {
        let operation = &doc["paths"][format!("{base}/{}", method.id)]["post"];
        assert_eq!(operation["summary"], method.name.as_str(), "{}", method.id);
        assert_eq!(operation["tags"], json!([method.category]), "{}", method.id);
        assert!(operation["responses"]["200"].is_object(), "{}", method.id);
        assert!(operation["responses"]["403"].is_object(), "{}", method.id);
    }

    let create = &doc["paths"][format!("{base}/contacts.create")]["post"];
    let input = &create["requestBody"]["content"]["application/json"]["schema"];
    assert_eq!(input["type"], "object", "{input}");
    assert!(input.get("$schema").is_none(), "{input}");
    assert_eq!(input["properties"]["fields"]["type"], "object", "{input}");
    assert_eq!(*input, {
        let mut schema =
            catalogue::input_schema(catalogue::find("contacts.create").expect("method"));
        schema.as_object_mut().map(|s| s.remove("$schema"));
        schema
    });
    let output = &create["responses"]["200"]["content"]["application/json"]["schema"];
    assert!(output["properties"]["data"].is_object(), "{output}");
    let writes_key = create["parameters"]
        .as_array()
        .is_some_and(|all| all.iter().any(|p| p["name"] == "Idempotency-Key"));
    assert!(writes_key, "{create}");
}

/// The documented shapes have the fields the API answers with.
#[tokio::test]
async fn the_schemas_match_the_answers() {
    let env = TestEnv::start().await;
    let doc = document(&env).await;
    let keys_of = |value: &Value| -> Vec<String> {
        let mut keys: Vec<String> = value
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        keys.sort();
        keys
    };
    let schema = |name: &str| doc["components"]["schemas"][name]["properties"].clone();

    env.setup_connector(json!({})).await;
    let id = env.new_installation("acme", json!({})).await;
    let (_, account) = env.get_json("/v1/accounts/acme").await;
    assert_eq!(keys_of(&account), keys_of(&schema("Account")));
    let installation = env.installation("acme", &id).await;
    assert_eq!(keys_of(&installation), keys_of(&schema("Installation")));
    let (_, connector) = env.get_json("/v1/connectors/hubspot").await;
    assert_eq!(keys_of(&connector), {
        let mut keys = keys_of(&schema("Connector"));
        keys.retain(|k| k != "warnings");
        keys
    });
    let (_, method) = env
        .get_json("/v1/connectors/hubspot/methods/contacts.create")
        .await;
    let (_, methods) = env.get_json("/v1/connectors/hubspot/methods").await;
    assert_eq!(
        keys_of(&methods["methods"][0]),
        keys_of(&schema("MethodSummary"))
    );
    let mut detail = keys_of(&schema("MethodSummary"));
    detail.extend(["input_schema".to_string(), "output_schema".to_string()]);
    detail.sort();
    assert_eq!(keys_of(&method), detail);
    let now = spokes_core::Clock::now_ms(&env.clock);
    env.store
        .record_mcp_call(&crate::mcp_calls::call("mcp_1", &id, now))
        .await
        .expect("record");
    let (_, calls) = env.get_json("/v1/accounts/acme/mcp/calls").await;
    assert_eq!(keys_of(&calls), keys_of(&schema("McpCallList")));
    assert_eq!(keys_of(&calls["calls"][0]), keys_of(&schema("McpCall")));
}
