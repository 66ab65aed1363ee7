//! The agents' MCP endpoint, driven by the official Rust MCP client (`rmcp`) over
//! Streamable HTTP against a real Spokes server and the simulator.

use std::collections::HashMap;

use reqwest::{Method, StatusCode};
use rmcp::model::{CallToolRequestParams, ReadResourceRequestParams, ResourceContents};
use rmcp::service::RunningService;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Value, json};

use crate::TestEnv;

type Agent = RunningService<RoleClient, ()>;

/// An MCP client of `path` (`/mcp…`) with `key`, naming `installation` by header when given.
async fn agent_at(
    env: &TestEnv,
    key: &str,
    path: &str,
    installation: Option<&str>,
) -> Result<Agent, String> {
    let mut headers = HashMap::new();
    if let Some(id) = installation {
        headers.insert(
            http::HeaderName::from_static("spokes-installation"),
            http::HeaderValue::from_str(id).expect("header"),
        );
    }
    let config = StreamableHttpClientTransportConfig::with_uri(format!("{}{path}", env.base))
        .auth_header(key)
        .custom_headers(headers);
    let transport = StreamableHttpClientTransport::with_client(reqwest::Client::new(), config);
    ().serve(transport).await.map_err(|e| format!("{e:?}"))
}

/// The error that ends an agent's initialize at `path`.
async fn refused_at(env: &TestEnv, key: &str, path: &str, installation: Option<&str>) -> String {
    match agent_at(env, key, path, installation).await {
        Ok(_) => panic!("{path} was not refused"),
        Err(error) => error,
    }
}

/// An agent on installation `id` of `acme` with the test's partner key.
async fn agent(env: &TestEnv, id: &str) -> Agent {
    agent_at(env, &env.key, "/mcp", Some(id))
        .await
        .expect("initialize")
}

/// Calls `tool`; returns whether it failed and its structured answer.
async fn call(agent: &Agent, tool: &str, arguments: Value) -> (bool, Value) {
    let Value::Object(arguments) = arguments else {
        panic!("arguments must be an object")
    };
    let result = agent
        .call_tool(CallToolRequestParams::new(tool.to_string()).with_arguments(arguments))
        .await
        .unwrap_or_else(|e| panic!("{tool}: {e:?}"));
    (
        result.is_error == Some(true),
        result.structured_content.unwrap_or(Value::Null),
    )
}

async fn ok(agent: &Agent, tool: &str, arguments: Value) -> Value {
    let (failed, answer) = call(agent, tool, arguments).await;
    assert!(!failed, "{tool}: {answer}");
    answer
}

async fn refused(agent: &Agent, tool: &str, arguments: Value, code: &str) -> Value {
    let (failed, answer) = call(agent, tool, arguments).await;
    assert!(failed, "{tool} was not refused: {answer}");
    assert_eq!(answer["error"]["code"], code, "{answer}");
    answer
}

async fn tool_names(agent: &Agent) -> Vec<String> {
    agent
        .list_all_tools()
        .await
        .expect("tools")
        .into_iter()
        .map(|t| t.name.to_string())
        .collect()
}

async fn resource_json(agent: &Agent, uri: &str) -> Value {
    let read = agent
        .read_resource(ReadResourceRequestParams::new(uri))
        .await
        .unwrap_or_else(|e| panic!("{uri}: {e:?}"));
    match &read.contents[0] {
        ResourceContents::TextResourceContents { text, .. } => {
            serde_json::from_str(text).expect("json")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_agent_learns_the_data_model_then_searches_and_writes_only_when_confirmed() {
    let env = TestEnv::start().await;
    let id = env.connected().await;
    let agent = agent(&env, &id).await;

    let info = agent.peer_info().expect("server info");
    assert_eq!(
        info.server_info.as_ref().map(|s| s.name.as_str()),
        Some("spokes")
    );
    let instructions = info.instructions.clone().unwrap_or_default();
    assert!(instructions.contains(&id), "{instructions}");

    let tools = tool_names(&agent).await;
    for tool in [
        "search_records",
        "get_records",
        "create_record",
        "update_record",
        "archive_record",
        "associate_records",
        "list_associations",
        "list_owners",
        "list_pipelines",
        "list_properties",
        "describe_property",
        "find_methods",
        "call_method",
    ] {
        assert!(
            tools.iter().any(|t| t == tool),
            "{tool} missing from {tools:?}"
        );
    }

    let model = resource_json(&agent, "hubspot://data-model").await;
    let types: Vec<&str> = model["object_types"]
        .as_array()
        .expect("types")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(
        types.contains(&"contacts") && types.contains(&"deals"),
        "{model}"
    );
    let properties = resource_json(&agent, "hubspot://objects/contacts/properties").await;
    assert!(
        properties["properties"]
            .as_array()
            .expect("properties")
            .iter()
            .any(|p| p["name"] == "email" && p["custom"] == false),
        "{properties}"
    );

    // Without `confirm`: the exact request, nothing sent.
    let create = json!({"object_type": "contacts", "fields": {"email": "ada@example.com", "firstname": "Ada"}, "idempotency_key": "create-ada"});
    let preview = ok(&agent, "create_record", create.clone()).await;
    assert_eq!(preview["dry_run"], true, "{preview}");
    assert_eq!(preview["request"]["method"], "POST");
    assert!(
        preview["request"]["url"]
            .as_str()
            .expect("url")
            .ends_with("/crm/objects/2026-03/contacts"),
        "{preview}"
    );
    assert_eq!(
        preview["request"]["body"]["properties"]["email"],
        "ada@example.com"
    );
    assert_eq!(
        env.sim_count(&id, "contacts").await,
        0,
        "a preview sends nothing"
    );
    // A bad field is named before anything is sent, as in the partner API.
    refused(
        &agent,
        "create_record",
        json!({"object_type": "contacts", "fields": {"no_such_property": "x"}}),
        "invalid_parameters",
    )
    .await;

    let mut confirmed = create.clone();
    confirmed["confirm"] = true.into();
    let created = ok(&agent, "create_record", confirmed.clone()).await;
    let ada = created["data"]["id"].as_str().expect("id").to_string();
    let again = ok(&agent, "create_record", confirmed).await;
    assert_eq!(
        again["data"]["id"],
        ada.as_str(),
        "the retry answers the first outcome"
    );
    assert_eq!(env.sim_count(&id, "contacts").await, 1, "created once");

    let found = ok(&agent, "search_records", json!({"object_type": "contacts", "filters": [{"propertyName": "email", "operator": "EQ", "value": "ada@example.com"}], "properties": ["email", "firstname"]})).await;
    let ids: Vec<&str> = found["data"]
        .as_array()
        .expect("records")
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    assert_eq!(ids, [ada.as_str()], "{found}");
    let read = ok(
        &agent,
        "get_records",
        json!({"object_type": "contacts", "ids": [ada, "999999999"], "properties": ["firstname"]}),
    )
    .await;
    assert_eq!(read["data"][0]["properties"]["firstname"], "Ada", "{read}");
    assert_eq!(read["data"][1]["error"]["code"], "not_found", "{read}");

    // Any catalogue method by id, through the same checks.
    let methods = ok(&agent, "find_methods", json!({"q": "owner"})).await;
    assert!(
        methods["data"]
            .as_array()
            .expect("methods")
            .iter()
            .any(|m| m["id"] == "owners.list"),
        "{methods}"
    );
    ok(
        &agent,
        "call_method",
        json!({"method": "owners.list", "paging": {"limit": 5}}),
    )
    .await;
    refused(
        &agent,
        "call_method",
        json!({"method": "contacts.list", "paging": {"all": true}}),
        "invalid_parameters",
    )
    .await;

    // Every call is in the audit (written in the background: it may lag the answers).
    let expected = [
        ("create_record", "dry_run"),
        ("create_record", "invalid_parameters"),
        ("create_record", "ok"),
        ("search_records", "ok"),
        ("call_method", "ok"),
    ];
    crate::hardening::eventually("the audit of the tool calls", || async {
        let (status, audit) = env.get_json("/v1/accounts/acme/mcp/calls").await;
        assert_eq!(status, StatusCode::OK, "{audit}");
        let outcomes: Vec<(String, String)> = audit["calls"]
            .as_array()
            .expect("calls")
            .iter()
            .map(|c| {
                (
                    c["tool"].as_str().unwrap_or("").to_string(),
                    c["outcome"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect();
        expected
            .iter()
            .all(|(tool, outcome)| outcomes.iter().any(|(t, o)| t == tool && o == outcome))
    })
    .await;
    agent.cancel().await.expect("close");
}

#[tokio::test]
async fn an_agent_associates_records_and_reads_pipelines_owners_and_properties() {
    let env = TestEnv::start().await;
    let id = env.connected().await;
    let ada = env.contact(&id, json!({"email": "ada@example.com"})).await;
    let acme = env
        .create(
            &id,
            "companies",
            json!({"name": "Acme", "domain": "acme.example"}),
        )
        .await;
    let agent = agent(&env, &id).await;

    let associate = json!({"from_object_type": "contacts", "from_id": ada, "to_object_type": "companies", "to_id": acme});
    let preview = ok(&agent, "associate_records", associate.clone()).await;
    assert_eq!(preview["request"]["method"], "PUT", "{preview}");
    let listed = ok(
        &agent,
        "list_associations",
        json!({"object_type": "contacts", "id": ada, "to_object_type": "companies"}),
    )
    .await;
    assert_eq!(
        listed["data"],
        json!([]),
        "the preview associated nothing: {listed}"
    );
    let mut confirmed = associate;
    confirmed["confirm"] = true.into();
    ok(&agent, "associate_records", confirmed).await;
    let listed = ok(
        &agent,
        "list_associations",
        json!({"object_type": "contacts", "id": ada, "to_object_type": "companies"}),
    )
    .await;
    let ids: Vec<String> = listed["data"]
        .as_array()
        .expect("associations")
        .iter()
        // HubSpot's v4 answers the id as a number.
        .map(|a| a["toObjectId"].to_string().trim_matches('"').to_string())
        .collect();
    assert_eq!(ids, std::slice::from_ref(&acme), "{listed}");

    let email = ok(
        &agent,
        "describe_property",
        json!({"object_type": "contacts", "name": "email"}),
    )
    .await;
    assert_eq!(email["data"]["name"], "email", "{email}");
    assert_eq!(email["data"]["type"], "string", "{email}");
    let pipelines = ok(&agent, "list_pipelines", json!({"object_type": "deals"})).await;
    let stages = &pipelines["data"]["results"][0]["stages"];
    assert!(
        stages.as_array().is_some_and(|s| !s.is_empty()),
        "{pipelines}"
    );
    let owners = ok(&agent, "list_owners", json!({"limit": 5})).await;
    assert!(owners["data"].is_array(), "{owners}");
    let owners_resource = resource_json(&agent, "hubspot://owners").await;
    assert!(owners_resource.is_array(), "{owners_resource}");
    let deal_pipelines = resource_json(&agent, "hubspot://objects/deals/pipelines").await;
    assert_eq!(deal_pipelines["results"][0]["stages"], *stages);
}

#[tokio::test]
async fn tools_and_object_types_follow_the_granted_scopes() {
    let env = TestEnv::start().await;
    let full = env.connected().await;
    env.setup_connector(json!({"Scopes": "crm.objects.contacts.read crm.objects.contacts.write", "OptionalScopes": ""}))
        .await;
    let narrow = env.new_installation("acme", json!({})).await;
    env.connect("acme", &narrow, "Acme Inc", "allow").await;

    let offered = |tools: &[rmcp::model::Tool], tool: &str| -> Vec<String> {
        let tool = tools.iter().find(|t| t.name == tool).expect("tool");
        tool.input_schema["properties"]["object_type"]["enum"]
            .as_array()
            .expect("enum")
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect()
    };
    let agent_full = agent(&env, &full).await;
    let tools = agent_full.list_all_tools().await.expect("tools");
    assert!(offered(&tools, "search_records").contains(&"deals".to_string()));
    let agent_narrow = agent(&env, &narrow).await;
    let tools = agent_narrow.list_all_tools().await.expect("tools");
    // Activities take the contacts scopes at HubSpot; deals, companies and tickets are out.
    for tool in ["search_records", "create_record"] {
        let types = offered(&tools, tool);
        assert!(types.contains(&"contacts".to_string()), "{tool}: {types:?}");
        assert!(
            !types
                .iter()
                .any(|t| ["deals", "companies", "tickets"].contains(&t.as_str())),
            "{tool}: {types:?}"
        );
    }
    assert!(
        !tools.iter().any(|t| t.name == "list_pipelines"),
        "no deal pipelines without deal scopes"
    );
    refused(
        &agent_narrow,
        "search_records",
        json!({"object_type": "deals"}),
        "invalid_parameters",
    )
    .await;
    refused(
        &agent_narrow,
        "call_method",
        json!({"method": "deals.list"}),
        "missing_scopes",
    )
    .await;

    // One tool per method: the narrow installation has no deal tool at all.
    let all = |id: String| {
        let env = &env;
        async move {
            let agent = agent_at(
                env,
                &env.key,
                &format!("/mcp/accounts/acme/installations/{id}?tools=all"),
                None,
            )
            .await
            .expect("initialize");
            agent.list_all_tools().await.expect("tools")
        }
    };
    // Record fields list the portal's own properties, custom ones too.
    env.ok(&full, "contacts.create_property", json!({"parameters": {"name": "loyalty_tier", "label": "Loyalty tier", "type": "enumeration", "fieldType": "select", "groupName": "contactinformation", "options": [{"label": "Gold", "value": "gold"}, {"label": "Silver", "value": "silver"}]}})).await;
    let full_tools = all(full.clone()).await;
    assert!(full_tools.iter().any(|t| t.name == "deals_create"));
    let create = full_tools
        .iter()
        .find(|t| t.name == "contacts_create")
        .expect("contacts_create");
    let tier = &create.input_schema["properties"]["fields"]["properties"]["loyalty_tier"];
    assert_eq!(tier["enum"], json!(["gold", "silver"]), "{tier}");
    let narrow_tools = all(narrow.clone()).await;
    let names: Vec<&str> = narrow_tools.iter().map(|t| t.name.as_ref()).collect();
    assert!(names.contains(&"contacts_create"), "{names:?}");
    assert!(!names.iter().any(|n| n.starts_with("deals_")), "{names:?}");
}

#[tokio::test]
async fn read_only_keys_and_installations_refuse_writes_and_confirmation_can_be_turned_off() {
    let env = TestEnv::start().await;
    let id = env.connected().await;
    let create =
        json!({"object_type": "contacts", "fields": {"email": "ro@example.com"}, "confirm": true});

    let read_only = env.create_key_with(None, true, true).await;
    let reader = agent_at(&env, &read_only, "/mcp", Some(&id))
        .await
        .expect("initialize");
    let answer = refused(&reader, "create_record", create.clone(), "read_only").await;
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("read-only"),
        "{answer}"
    );
    ok(
        &reader,
        "search_records",
        json!({"object_type": "contacts"}),
    )
    .await;

    let (status, body) = env
        .send_json(
            Method::PATCH,
            &format!("/v1/accounts/acme/connectors/{id}"),
            json!({"read_only": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let partner = agent(&env, &id).await;
    refused(&partner, "create_record", create.clone(), "read_only").await;
    assert_eq!(env.sim_count(&id, "contacts").await, 0);
    env.send_json(
        Method::PATCH,
        &format!("/v1/accounts/acme/connectors/{id}"),
        json!({"read_only": false}),
    )
    .await;

    // A key that turned confirmation off writes at once.
    let direct = env.create_key_with(None, false, false).await;
    let writer = agent_at(&env, &direct, "/mcp", Some(&id))
        .await
        .expect("initialize");
    let mut unconfirmed = create;
    unconfirmed.as_object_mut().map(|a| a.remove("confirm"));
    let created = ok(&writer, "create_record", unconfirmed).await;
    assert!(created["data"]["id"].is_string(), "{created}");
    assert_eq!(env.sim_count(&id, "contacts").await, 1);
}

#[tokio::test]
async fn keys_reach_only_their_own_accounts_installations() {
    let env = TestEnv::start().await;
    let id = env.connected().await;
    env.create_account("other").await;

    let other_key = env.create_key_with(Some("other"), false, true).await;
    let error = refused_at(&env, &other_key, "/mcp", Some(&id)).await;
    assert!(error.contains("does not exist"), "{error}");
    let error = refused_at(
        &env,
        &env.key,
        &format!("/mcp/accounts/other/installations/{id}"),
        None,
    )
    .await;
    assert!(
        error.contains("does not exist in account `other`"),
        "{error}"
    );
    let error = refused_at(&env, &env.key, "/mcp", None).await;
    assert!(error.contains("Spokes-Installation"), "{error}");
    let own_key = env.create_key_with(Some("acme"), false, true).await;
    agent_at(
        &env,
        &own_key,
        &format!("/mcp/accounts/acme/installations/{id}"),
        None,
    )
    .await
    .expect("its own account");

    // No key, or a revoked one: HTTP 401 before any MCP.
    let response = env
        .http
        .post(format!("{}/mcp", env.base))
        .header("spokes-installation", &id)
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let revoked = env.create_key_with(None, false, true).await;
    let agent = agent_at(&env, &revoked, "/mcp", Some(&id))
        .await
        .expect("initialize");
    let keys = env.store.list_api_keys().await.expect("keys");
    let key_id = &keys
        .iter()
        .find(|k| k.key_hash == spokes_core::token::sha256_hex(revoked.as_bytes()))
        .expect("key")
        .id;
    env.store.revoke_api_key(key_id, 1).await.expect("revoke");
    assert!(
        agent.list_all_tools().await.is_err(),
        "a revoked key stops at once"
    );
}

#[tokio::test]
async fn a_needs_reauth_installation_is_reported_with_the_reconnect_step() {
    let env = TestEnv::start().await;
    let id = env.connected().await;
    env.revoke_at_hubspot(&id).await;
    env.clock.advance_secs(31 * 60);
    // The call that finds HubSpot refusing the tokens answers as the partner API does ...
    let agent = agent(&env, &id).await;
    let answer = refused(
        &agent,
        "search_records",
        json!({"object_type": "contacts"}),
        "needs_reauth",
    )
    .await;
    let message = answer["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("auth link"), "{message}");
    // ... and from then on every request is refused with the reconnect step.
    assert!(agent.list_all_tools().await.is_err());
    let error = refused_at(&env, &env.key, "/mcp", Some(&id)).await;
    assert!(
        error.contains("must be reconnected")
            && error.contains(&format!("/connectors/{id}/auth-link")),
        "{error}"
    );
}

#[tokio::test]
async fn an_installation_not_connected_yet_is_refused_with_the_connect_step() {
    let env = TestEnv::start().await;
    env.setup_connector(json!({})).await;
    let id = env.new_installation("acme", json!({})).await;
    let error = refused_at(&env, &env.key, "/mcp", Some(&id)).await;
    assert!(
        error.contains("not connected to HubSpot yet")
            && error.contains(&format!("/connectors/{id}/auth-link")),
        "{error}"
    );
}

#[tokio::test]
async fn twenty_agents_share_the_portals_budget_without_a_429() {
    let env = TestEnv::start().await;
    let id = env.connected().await;
    let ada = env.contact(&id, json!({"email": "ada@example.com"})).await;
    let mut agents = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let agent = agent(&env, &id).await;
        let ada = ada.clone();
        agents.spawn(async move {
            let mut failures = Vec::new();
            for _ in 0..7 {
                let (failed, answer) = call(
                    &agent,
                    "get_records",
                    json!({"object_type": "contacts", "ids": [ada]}),
                )
                .await;
                if failed || answer["data"][0].get("error").is_some() {
                    failures.push(answer);
                }
            }
            failures
        });
    }
    let failures: Vec<Value> = agents.join_all().await.into_iter().flatten().collect();
    assert!(
        failures.is_empty(),
        "{} calls failed: {:?}",
        failures.len(),
        failures.first()
    );
    env.assert_hubspot_refused_at_most_the_first_windows_learning()
        .await;
}
