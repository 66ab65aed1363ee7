//! Helpers of the CRM tests: a simulator, a token with chosen scopes, JSON calls.

use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::*;

/// Every scope the CRM endpoints take (granular and legacy).
pub const ALL_CRM_SCOPES: &[&str] = &[
    "crm.objects.contacts.read",
    "crm.objects.contacts.write",
    "crm.objects.companies.read",
    "crm.objects.companies.write",
    "crm.objects.deals.read",
    "crm.objects.deals.write",
    "crm.objects.products.read",
    "crm.objects.products.write",
    "crm.objects.line_items.read",
    "crm.objects.line_items.write",
    "crm.schemas.contacts.write",
    "crm.schemas.custom.read",
    "tickets",
];

pub struct Crm {
    pub sim: TestSim,
    pub token: String,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

/// A simulator and a token for `portal` with `scopes`.
pub async fn crm_with(portal: i64, scopes: &[&str]) -> Crm {
    let sim = start().await;
    let token = sim_token(&sim, portal, scopes).await;
    Crm { sim, token }
}

/// A simulator and a token for Acme Inc with every CRM scope.
pub async fn crm() -> Crm {
    crm_with(ACME_INC, ALL_CRM_SCOPES).await
}

pub async fn sim_token(sim: &TestSim, portal: i64, scopes: &[&str]) -> String {
    let (status, t) = sim
        .sim_post(
            "/_sim/tokens",
            json!({"portal_id": portal, "scopes": scopes}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{t}");
    t["access_token"].as_str().unwrap().to_owned()
}

impl Crm {
    /// Calls with this token; `body` is sent as JSON.
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        self.call_as(&self.token, method, path, body).await
    }

    pub async fn call_as(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Reply {
        let mut req = self
            .sim
            .http
            .request(method, self.sim.url(path))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        reply(resp).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.call(Method::GET, path, None).await
    }

    /// GET with another token.
    pub async fn get_as(&self, token: &str, path: &str) -> Reply {
        self.call_as(token, Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Reply {
        self.call(Method::PATCH, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.call(Method::DELETE, path, None).await
    }

    /// POSTs a record with these properties; returns the reply, whatever it is.
    pub async fn try_create(&self, object: &str, properties: Value) -> Reply {
        self.post(
            &format!("/crm/v3/objects/{object}"),
            json!({ "properties": properties }),
        )
        .await
    }

    /// PATCHes a record's properties; returns the reply, whatever it is.
    pub async fn try_update(&self, object: &str, id: &str, properties: Value) -> Reply {
        self.patch(
            &format!("/crm/v3/objects/{object}/{id}"),
            json!({ "properties": properties }),
        )
        .await
    }

    /// Creates a record; returns its id.
    pub async fn create(&self, object: &str, properties: Value) -> String {
        let r = self.try_create(object, properties).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.body["id"].as_str().unwrap().to_owned()
    }
}

pub async fn reply(resp: reqwest::Response) -> Reply {
    let status = resp.status();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    Reply {
        status,
        headers,
        body,
    }
}

/// Asserts HubSpot's standard error body.
pub fn assert_error(r: &Reply, status: StatusCode, category: &str) {
    assert_eq!(r.status, status, "{}", r.body);
    assert_eq!(r.body["status"], "error", "{}", r.body);
    assert_eq!(r.body["category"], category, "{}", r.body);
    assert!(r.body["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert_uuid(&r.body["correlationId"]);
    assert_eq!(
        r.headers["x-hubspot-correlation-id"].to_str().unwrap(),
        r.body["correlationId"].as_str().unwrap()
    );
}

/// Asserts HubSpot's standard error body with a message that contains `needle`.
pub fn assert_error_mentions(r: &Reply, status: StatusCode, category: &str, needle: &str) {
    assert_error(r, status, category);
    let message = r.body["message"].as_str().unwrap();
    assert!(message.contains(needle), "{needle} not in {message}");
}

/// PATCHes the simulator's `/_sim/config`; asserts 200.
pub async fn configure(c: &Crm, patch: Value) {
    let r = c
        .sim
        .http
        .patch(c.sim.url("/_sim/config"))
        .json(&patch)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
}

/// Switches the rate limiters off (for tests that call far more often than HubSpot's
/// limits allow).
pub async fn unthrottle(c: &Crm) {
    configure(
        c,
        json!({"rate_limit_per_10s": 0, "search_rate_limit_per_sec": 0}),
    )
    .await;
}

/// Whether a string is an ISO-8601 UTC timestamp with milliseconds.
pub fn is_iso(v: &Value) -> bool {
    let s = v.as_str().unwrap_or_default();
    s.len() == 24 && s.as_bytes()[10] == b'T' && s.ends_with('Z')
}

/// Points the sandbox app's webhooks at a receiver on 127.0.0.1:0 with these subscriptions
/// (created active); returns the app id and the events the receiver gets, one by one.
pub async fn subscribe_webhooks(
    c: &Crm,
    subscriptions: &[Value],
) -> (i64, tokio::sync::mpsc::UnboundedReceiver<Value>) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: axum::body::Bytes| {
            let tx = tx.clone();
            async move {
                let events: Vec<Value> = serde_json::from_slice(&body).unwrap_or_default();
                for e in events {
                    let _ = tx.send(e);
                }
                ""
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let (status, apps) = c.sim.get_json("/_sim/apps", None).await;
    assert_eq!(status, StatusCode::OK);
    let app_id = apps[0]["app_id"].as_i64().unwrap();
    let key = apps[0]["developer_api_key"].as_str().unwrap().to_owned();
    let hook = |method: Method, path: String, body: Value| {
        c.sim
            .http
            .request(method, c.sim.url(&path))
            .query(&[("hapikey", key.as_str())])
            .json(&body)
            .send()
    };
    let r = hook(
        Method::PUT,
        format!("/webhooks/v3/{app_id}/settings"),
        json!({"targetUrl": url, "throttling": {"maxConcurrentRequests": 5}}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    for sub in subscriptions {
        let r = hook(
            Method::POST,
            format!("/webhooks/v3/{app_id}/subscriptions"),
            sub.clone(),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    (app_id, rx)
}

/// The element of a JSON array whose `name` is `name` (`Null` when absent).
pub fn named<'a>(list: &'a Value, name: &str) -> &'a Value {
    list.as_array()
        .and_then(|items| items.iter().find(|item| item["name"] == name))
        .unwrap_or(&Value::Null)
}
