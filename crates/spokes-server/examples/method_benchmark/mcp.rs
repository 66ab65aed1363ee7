//! The agents' MCP endpoint against the partner API: the same method (`contacts.get`) as a
//! tool call (`call_method`, through the official Rust MCP client) and as a REST call, one
//! caller for latency, then 20 concurrent clients each way for calls/s.

use std::time::{Duration, Instant};

use rmcp::model::CallToolRequestParams;
use rmcp::service::RunningService;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Value, json};

use crate::{Setup, latencies, percentile};

const CLIENTS: usize = 20;

type Agent = RunningService<RoleClient, ()>;

async fn agent(setup: &Setup) -> Agent {
    let config = StreamableHttpClientTransportConfig::with_uri(format!(
        "{}/mcp/accounts/acme/installations/{}",
        setup.spokes, setup.installation
    ))
    .auth_header(setup.key.clone());
    let transport = StreamableHttpClientTransport::with_client(reqwest::Client::new(), config);
    ().serve(transport).await.expect("initialize")
}

fn get_call(contact: &str) -> CallToolRequestParams {
    let Value::Object(arguments) = json!({"method": "contacts.get", "parameters": {"id": contact}})
    else {
        unreachable!("an object")
    };
    CallToolRequestParams::new("call_method").with_arguments(arguments)
}

async fn tool_call(agent: &Agent, call: CallToolRequestParams) {
    let result = agent.call_tool(call).await.expect("tool call");
    assert_ne!(result.is_error, Some(true), "{result:?}");
}

/// Tool-call latencies of one client, sorted.
async fn tool_latencies(agent: &Agent, contact: &str, calls: usize) -> Vec<Duration> {
    let mut times = Vec::with_capacity(calls);
    for _ in 0..calls {
        let started = Instant::now();
        tool_call(agent, get_call(contact)).await;
        times.push(started.elapsed());
    }
    times.sort();
    times
}

/// A `tools/call` as one plain HTTP request (the endpoint is stateless: no session to open),
/// to see the server's part without the MCP client's own work.
fn raw_call(setup: &Setup, contact: &str) -> reqwest::RequestBuilder {
    setup
        .http
        .post(format!(
            "{}/mcp/accounts/acme/installations/{}",
            setup.spokes, setup.installation
        ))
        .bearer_auth(&setup.key)
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-11-25")
        .json(
            &json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
                "name": "call_method",
                "arguments": {"method": "contacts.get", "parameters": {"id": contact}},
            }}),
        )
}

/// Tool calls/s of `CLIENTS` agents calling for `seconds`.
async fn tool_rate(setup: &Setup, contact: &str, seconds: u64) -> f64 {
    let mut agents = Vec::with_capacity(CLIENTS);
    for _ in 0..CLIENTS {
        agents.push(agent(setup).await);
    }
    let until = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = tokio::task::JoinSet::new();
    for agent in agents {
        let contact = contact.to_string();
        tasks.spawn(async move {
            let mut done = 0u64;
            while Instant::now() < until {
                tool_call(&agent, get_call(&contact)).await;
                done += 1;
            }
            done
        });
    }
    let total: u64 = tasks.join_all().await.into_iter().sum();
    total as f64 / seconds as f64
}

pub async fn run(setup: &std::sync::Arc<Setup>, contact: &str, calls: usize, seconds: u64) {
    let body = json!({"parameters": {"id": contact}});
    let agent = agent(setup).await;
    // Warm both paths.
    tool_latencies(&agent, contact, 100).await;
    latencies(100, || setup.method("contacts.get", &body)).await;
    let tools = tool_latencies(&agent, contact, calls).await;
    let rest = latencies(calls, || setup.method("contacts.get", &body)).await;
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let (t50, t99, r50, r99) = (
        percentile(&tools, 0.5),
        percentile(&tools, 0.99),
        percentile(&rest, 0.5),
        percentile(&rest, 0.99),
    );
    println!(
        "contacts.get as an MCP tool call (call_method) against the partner API, one caller, {calls} calls:"
    );
    println!(
        "  p50 {:.3} ms as a tool call, {:.3} ms via REST: added {:.3} ms",
        ms(t50),
        ms(r50),
        ms(t50) - ms(r50)
    );
    println!(
        "  p99 {:.3} ms as a tool call, {:.3} ms via REST: added {:.3} ms",
        ms(t99),
        ms(r99),
        ms(t99) - ms(r99)
    );
    latencies(100, || raw_call(setup, contact)).await;
    let raw = latencies(calls, || raw_call(setup, contact)).await;
    println!(
        "  as plain HTTP requests (no MCP client): p50 {:.3} ms, p99 {:.3} ms: added {:.3} ms at p50",
        ms(percentile(&raw, 0.5)),
        ms(percentile(&raw, 0.99)),
        ms(percentile(&raw, 0.5)) - ms(r50)
    );
    let tool_rate = tool_rate(setup, contact, seconds).await;
    let s = setup.clone();
    let rest_rate = crate::throughput(
        seconds,
        CLIENTS,
        std::sync::Arc::new(move || s.method("contacts.get", &body)),
    )
    .await;
    println!(
        "contacts.get, {CLIENTS} concurrent clients, {seconds} s: {tool_rate:.0} tool calls/s, {rest_rate:.0} REST calls/s ({:.0} % of REST)",
        tool_rate / rest_rate * 100.0
    );
}
