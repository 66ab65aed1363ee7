//! `spokes mcp`: one installation served to a local agent over stdio, driven by the official
//! Rust MCP client as a desktop agent runs it (a child process).

use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::TokioChildProcess;
use serde_json::{Value, json};
use spokes_store::testing::{TempDir, test_database_url};

use crate::{BIN, Sandbox, connect_acme, http, serve_sandbox};

#[tokio::test]
async fn a_local_agent_works_on_one_installation_over_stdio() {
    let dir = TempDir::new("spokes-mcp");
    let database_url = test_database_url(dir.path()).await;
    let Sandbox {
        server: _server,
        base,
        sim,
        key,
    } = serve_sandbox(dir.path(), &database_url);
    let http = http();
    let (id, _) = connect_acme(&http, &base, &sim, &key).await;

    let start = |extra: &[&str]| {
        let mut command = tokio::process::Command::new(BIN);
        command
            .args([
                "mcp",
                "--installation",
                &id,
                "--sandbox-url",
                &sim,
                "--data-dir",
            ])
            .arg(dir.path())
            .args(["--database-url", &database_url])
            .args(extra)
            .env_remove("SPOKES_MASTER_KEY")
            .env("RUST_LOG", "warn");
        TokioChildProcess::new(command).expect("spawn spokes mcp")
    };
    let call = |tool: &str, arguments: Value| {
        let Value::Object(arguments) = arguments else {
            panic!("object")
        };
        CallToolRequestParams::new(tool.to_string()).with_arguments(arguments)
    };

    let agent = ().serve(start(&[])).await.expect("initialize");
    let tools = agent.list_all_tools().await.expect("tools");
    assert!(tools.iter().any(|t| t.name == "create_record"), "{tools:?}");
    let create = json!({"object_type": "contacts", "fields": {"email": "stdio@example.com"}});
    let preview = agent
        .call_tool(call("create_record", create.clone()))
        .await
        .expect("preview");
    assert_eq!(
        preview
            .structured_content
            .as_ref()
            .map(|v| v["dry_run"].clone()),
        Some(json!(true)),
        "{preview:?}"
    );
    let mut confirmed = create.clone();
    confirmed["confirm"] = true.into();
    let created = agent
        .call_tool(call("create_record", confirmed.clone()))
        .await
        .expect("create");
    let contact = created.structured_content.expect("answer")["data"]["id"].clone();
    assert!(contact.is_string(), "{contact}");
    // What the agent wrote is in the portal, as the partner API reads it.
    let read: Value = http
        .post(format!(
            "{base}/v1/accounts/acme/connectors/{id}/methods/contacts.get"
        ))
        .bearer_auth(&key)
        .json(&json!({"parameters": {"id": contact}}))
        .send()
        .await
        .expect("read")
        .json()
        .await
        .expect("json");
    assert_eq!(
        read["data"]["properties"]["email"], "stdio@example.com",
        "{read}"
    );
    agent.cancel().await.expect("close");

    let reader = ().serve(start(&["--read-only"])).await.expect("initialize");
    let refused = reader
        .call_tool(call("create_record", confirmed))
        .await
        .expect("refused");
    assert_eq!(refused.is_error, Some(true));
    assert_eq!(
        refused.structured_content.expect("answer")["error"]["code"],
        "read_only"
    );
    reader.cancel().await.expect("close");
}
