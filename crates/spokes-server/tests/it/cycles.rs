//! Cycles end to end: the shipped example template installed into two accounts, run on its
//! schedule (the test's clock), with every step's data through the API.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use spokes_core::JobState;

use crate::TestEnv;
use crate::hardening::eventually;

const EXAMPLE: &str = include_str!("../../../../examples/templates/contacts-to-companies.json");

impl TestEnv {
    /// Imports a template; its id.
    async fn import_template(&self, document: &str) -> String {
        let response = self
            .request(Method::POST, "/v1/templates")
            .header("content-type", "application/json")
            .body(document.to_owned())
            .send()
            .await
            .expect("import");
        let (status, body) = crate::read(response).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_str().expect("id").to_owned()
    }

    /// Installs the template into the account with its HubSpot installation, checks that
    /// nothing is missing, and activates it with `activation`; the cycle's id.
    async fn activate_cycle(
        &self,
        account: &str,
        template: &str,
        installation: &str,
        activation: Value,
    ) -> String {
        let (status, cycle) = self
            .send_json(
                Method::POST,
                &format!("/v1/accounts/{account}/cycles"),
                json!({"template": template, "installations": {"hubspot": installation}}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{cycle}");
        assert_eq!(cycle["status"], "paused");
        let id = cycle["id"].as_str().expect("id").to_owned();
        let (status, needs) = self
            .get_json(&format!("/v1/accounts/{account}/cycles/{id}/prerequisites"))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(needs, json!({"met": true, "unmet": []}));
        let (status, active) = self
            .send_json(
                Method::PUT,
                &format!("/v1/accounts/{account}/cycles/{id}/activate"),
                activation,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{active}");
        assert_eq!(active["status"], "active");
        id
    }

    async fn create_contact(&self, account: &str, installation: &str, fields: Value) -> String {
        let (status, body) = self
            .send_json(
                Method::POST,
                &format!(
                    "/v1/accounts/{account}/connectors/{installation}/methods/contacts.create"
                ),
                json!({"fields": fields}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["data"]["id"].as_str().expect("id").to_owned()
    }

    async fn data_in(
        &self,
        account: &str,
        installation: &str,
        method: &str,
        input: Value,
    ) -> Value {
        let (status, body) = self
            .send_json(
                Method::POST,
                &format!("/v1/accounts/{account}/connectors/{installation}/methods/{method}"),
                input,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{method}: {body}");
        body["data"].clone()
    }

    async fn transactions(&self, account: &str, cycle: &str) -> Vec<Value> {
        let (status, body) = self
            .get_json(&format!(
                "/v1/accounts/{account}/cycles/{cycle}/transactions"
            ))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["transactions"].as_array().expect("list").clone()
    }

    /// Waits until the cycle has `count` transactions, all finished; returns them.
    async fn finished_transactions(&self, account: &str, cycle: &str, count: usize) -> Vec<Value> {
        eventually("the cycle's transactions to finish", || async {
            let list = self.transactions(account, cycle).await;
            list.len() == count && list.iter().all(|t| t["finished_at"].is_string())
        })
        .await;
        self.transactions(account, cycle).await
    }

    /// Waits until no poll job is queued as due or running.
    async fn polls_done(&self) {
        eventually("the due polls to run", || async {
            let now = spokes_core::Clock::now_ms(&self.clock);
            let jobs = self.store.list_jobs("cycle.poll", 100).await.expect("jobs");
            jobs.iter().all(|j| {
                j.state == JobState::Done || (j.state == JobState::Queued && j.run_at > now)
            })
        })
        .await;
    }
}

#[tokio::test]
async fn the_example_template_turns_new_contacts_into_companies_in_two_accounts_on_schedule() {
    let env = TestEnv::start().await;
    let acme = env.connected().await;
    env.create_account("globex").await;
    let globex = env.new_installation("globex", json!({})).await;
    env.connect("globex", &globex, "Acme Starter", "allow")
        .await;

    let template = env.import_template(EXAMPLE).await;
    let acme_cycle = env
        .activate_cycle("acme", &template, &acme, json!({"interval_minutes": 5}))
        .await;
    let globex_cycle = env
        .activate_cycle("globex", &template, &globex, json!({"interval_minutes": 5}))
        .await;
    // The first run starts at activation and lists nothing: no contact is newer.
    env.polls_done().await;
    assert!(env.transactions("acme", &acme_cycle).await.is_empty());

    // Acme: a company that exists, a contact of its domain, one of a new domain, and one
    // without an email.
    let existing = env
        .data_in(
            "acme",
            &acme,
            "companies.create",
            json!({"fields": {"domain": "gamma.example", "name": "Gamma"}}),
        )
        .await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let ann = env
        .create_contact("acme", &acme, json!({"email": "ann@alpha.example"}))
        .await;
    let carol = env
        .create_contact("acme", &acme, json!({"email": "carol@gamma.example"}))
        .await;
    env.create_contact("acme", &acme, json!({"firstname": "Nomail"}))
        .await;
    let dora = env
        .create_contact("globex", &globex, json!({"email": "dora@beta.example"}))
        .await;

    // Nothing runs before the interval is up.
    env.clock.advance_secs(4 * 60);
    env.polls_done().await;
    assert!(env.transactions("acme", &acme_cycle).await.is_empty());
    env.clock.advance_secs(60);
    env.polls_done().await;

    let list = env.finished_transactions("acme", &acme_cycle, 3).await;
    assert!(list.iter().all(|t| t["status"] == "succeeded"), "{list:#?}");
    let globex_list = env.finished_transactions("globex", &globex_cycle, 1).await;
    assert_eq!(globex_list[0]["status"], "succeeded", "{globex_list:#?}");

    // Ann's company was created from her email's domain and she is associated with it.
    let alpha = env
        .data_in(
            "acme",
            &acme,
            "companies.get_by_domain",
            json!({"parameters": {"domain": "alpha.example", "properties": ["name", "domain"]}}),
        )
        .await;
    assert_eq!(alpha["properties"]["name"], "Alpha Example", "{alpha}");
    let companies_of = |contact: String| {
        let env = &env;
        let acme = acme.clone();
        async move {
            env.data_in(
                "acme",
                &acme,
                "contacts.companies",
                json!({"parameters": {"contactId": contact}}),
            )
            .await
        }
    };
    let ann_companies = companies_of(ann.clone()).await.to_string();
    assert!(
        ann_companies.contains(alpha["id"].as_str().expect("id")),
        "{ann_companies}"
    );
    // Carol's company existed: she is associated with it, and no second one was created.
    let carol_companies = companies_of(carol.clone()).await.to_string();
    assert!(carol_companies.contains(&existing), "{carol_companies}");
    let all = env
        .data_in(
            "acme",
            &acme,
            "companies.list",
            json!({"paging": {"limit": 100}}),
        )
        .await;
    let domains: BTreeSet<String> = all
        .as_array()
        .expect("companies")
        .iter()
        .map(|c| {
            c["properties"]["domain"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(
        domains,
        BTreeSet::from(["alpha.example".to_owned(), "gamma.example".to_owned()])
    );
    // The other account's portal got its own company.
    let beta = env
        .data_in(
            "globex",
            &globex,
            "companies.get_by_domain",
            json!({"parameters": {"domain": "beta.example"}}),
        )
        .await;
    assert_eq!(beta["properties"]["domain"], "beta.example");
    let dora_companies = env
        .data_in(
            "globex",
            &globex,
            "contacts.companies",
            json!({"parameters": {"contactId": dora}}),
        )
        .await
        .to_string();
    assert!(dora_companies.contains(beta["id"].as_str().expect("id")));

    // Step data through the API: the path Ann's transaction took, with what each step sent.
    let ann_txn = list
        .iter()
        .find(|t| t["item"]["id"] == ann.as_str())
        .expect("Ann's transaction");
    let (status, detail) = env
        .get_json(&format!(
            "/v1/accounts/acme/cycles/{acme_cycle}/transactions/{}",
            ann_txn["id"].as_str().expect("id")
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    let path: Vec<&str> = detail["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| s["step"].as_str().expect("step"))
        .collect();
    assert_eq!(
        path,
        [
            "has_email",
            "find_company",
            "company_exists",
            "create_company",
            "associate_created"
        ]
    );
    assert_eq!(
        detail["steps"][3]["request"]["fields"],
        json!({"domain": "alpha.example", "name": "Alpha Example"})
    );

    // The next run lists none of them again.
    env.clock.advance_secs(5 * 60);
    env.polls_done().await;
    assert_eq!(env.transactions("acme", &acme_cycle).await.len(), 3);

    // An active cycle cannot be edited; a deactivated one runs no more polls.
    let (status, body) = env
        .send_json(
            Method::PATCH,
            &format!("/v1/accounts/acme/cycles/{acme_cycle}"),
            json!({"name": "x"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "cycle_active");
}

/// A HubSpot webhook trigger: each `contact.creation` event the simulator delivers runs the
/// cycle once, with variable, system, text and ignored mappings.
#[tokio::test]
async fn hubspot_webhook_events_run_the_cycles_that_listen_for_them() {
    let env = TestEnv::start().await;
    let acme = env.connected().await;
    env.subscribe_app_webhooks("contact.creation").await;
    let template = json!({
        "name": "Label new contacts",
        "variables": [{"name": "label", "default": "unset", "configurable": true}],
        "trigger": {"kind": "hubspot_webhook", "id": "created", "events": ["contact.creation"], "next": "label"},
        "steps": [{
            "kind": "method",
            "id": "label",
            "connector": "hubspot",
            "method": "contacts.update",
            "parameters": {"id": {"source": "text", "text": "{{ steps.created.objectId }}"}},
            "fields": {
                "lastname": {"source": "variable", "name": "label"},
                "company": {"source": "system", "name": "CycleId"},
                "jobtitle": {"source": "ignore"}
            }
        }]
    })
    .to_string();
    let template = env.import_template(&template).await;
    let (status, cycle) = env
        .send_json(
            Method::POST,
            "/v1/accounts/acme/cycles",
            json!({"template": template, "installations": {"hubspot": acme}, "variables": {"label": "from-webhook"}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{cycle}");
    let cycle = cycle["id"].as_str().expect("id").to_owned();
    // A webhook trigger needs no interval.
    let (status, body) = env
        .send_json(
            Method::PUT,
            &format!("/v1/accounts/acme/cycles/{cycle}/activate"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let ada = env
        .create_contact(
            "acme",
            &acme,
            json!({"email": "ada@example.com", "jobtitle": "Engineer"}),
        )
        .await;
    let list = env.finished_transactions("acme", &cycle, 1).await;
    assert_eq!(list[0]["status"], "succeeded", "{list:#?}");
    assert_eq!(list[0]["item"]["subscriptionType"], "contact.creation");
    let contact = env
        .data_in(
            "acme",
            &acme,
            "contacts.get",
            json!({"parameters": {"id": ada, "properties": "lastname,company,jobtitle"}}),
        )
        .await;
    assert_eq!(contact["properties"]["lastname"], "from-webhook");
    assert_eq!(contact["properties"]["company"], cycle.as_str());
    // Ignored: not sent, so the contact keeps its job title.
    assert_eq!(contact["properties"]["jobtitle"], "Engineer");
    // A webhook cycle is not run on demand.
    let (status, body) = env
        .send_json(
            Method::POST,
            &format!("/v1/accounts/acme/cycles/{cycle}/run"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "not_polling");
}

/// A template whose step `bad` fails (a property the portal does not have) under `policy`,
/// then labels the contact; triggered by each new contact.
fn failing_template(name: &str, policy: Value) -> String {
    let contact = json!({"id": {"source": "text", "text": "{{ steps.created.objectId }}"}});
    json!({
        "name": name,
        "error_policy": policy,
        "trigger": {"kind": "hubspot_webhook", "id": "created", "events": ["contact.creation"], "next": "bad"},
        "steps": [
            {
                "kind": "method", "id": "bad", "connector": "hubspot", "method": "contacts.update",
                "parameters": contact,
                "fields": {"no_such_property": {"source": "static", "value": "x"}},
                "next": "label"
            },
            {
                "kind": "method", "id": "label", "connector": "hubspot", "method": "contacts.update",
                "parameters": contact,
                "fields": {"lastname": {"source": "static", "value": "labelled"}}
            }
        ]
    })
    .to_string()
}

impl TestEnv {
    /// Imports `template` and activates it in `acme` (a webhook trigger); the cycle's id.
    async fn webhook_cycle(&self, installation: &str, template: &str) -> String {
        let template = self.import_template(template).await;
        self.activate_cycle("acme", &template, installation, json!({}))
            .await
    }

    async fn transaction_detail(&self, cycle: &str, transaction: &Value) -> Value {
        let id = transaction["id"].as_str().expect("id");
        let (status, body) = self
            .get_json(&format!(
                "/v1/accounts/acme/cycles/{cycle}/transactions/{id}"
            ))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    async fn step_statuses(&self, cycle: &str, transaction: &Value) -> Vec<(String, String)> {
        self.transaction_detail(cycle, transaction).await["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .map(|s| {
                (
                    s["step"].as_str().unwrap_or_default().to_owned(),
                    s["status"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    }
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

#[tokio::test]
async fn each_error_policy_and_the_error_webhook_and_a_retry_with_edited_input() {
    let (url, mut deliveries) = crate::events::receiver(0).await;
    let env = TestEnv::with(crate::Options {
        events: Some(spokes_engine::EventsConfig {
            url,
            secret: spokes_core::Secret::from(crate::events::SECRET),
        }),
        ..Default::default()
    })
    .await;
    let acme = env.connected().await;
    env.subscribe_app_webhooks("contact.creation").await;
    let ignore = env
        .webhook_cycle(
            &acme,
            &failing_template("ignore", json!({"action": "ignore"})),
        )
        .await;
    let stop = env
        .webhook_cycle(&acme, &failing_template("stop", json!({"action": "stop"})))
        .await;
    let retry = env
        .webhook_cycle(
            &acme,
            &failing_template(
                "retry",
                json!({"action": "retry", "waits_minutes": [1], "then": "stop"}),
            ),
        )
        .await;
    let pause = env
        .webhook_cycle(
            &acme,
            &failing_template("pause", json!({"action": "pause"})),
        )
        .await;

    let ada = env
        .create_contact("acme", &acme, json!({"email": "ada@example.com"}))
        .await;

    // Ignore: a warning, and the transaction goes on to the next step.
    let list = env.finished_transactions("acme", &ignore, 1).await;
    assert_eq!(list[0]["status"], "succeeded", "{list:#?}");
    assert_eq!(
        env.step_statuses(&ignore, &list[0]).await,
        pairs(&[("bad", "ignored"), ("label", "succeeded")])
    );
    let (_, incidents) = env
        .get_json(&format!("/v1/accounts/acme/cycles/{ignore}/incidents"))
        .await;
    assert_eq!(
        incidents["incidents"][0]["severity"], "warning",
        "{incidents}"
    );
    assert_eq!(incidents["incidents"][0]["step_id"], "bad");

    // Stop: the transaction fails at the step, with an error incident.
    let failed = env.finished_transactions("acme", &stop, 1).await;
    assert_eq!(failed[0]["status"], "failed", "{failed:#?}");
    assert_eq!(failed[0]["step"], "bad");
    assert_eq!(
        env.step_statuses(&stop, &failed[0]).await,
        pairs(&[("bad", "failed")])
    );
    let (_, incidents) = env
        .get_json(&format!("/v1/accounts/acme/cycles/{stop}/incidents"))
        .await;
    assert_eq!(
        incidents["incidents"][0]["severity"], "error",
        "{incidents}"
    );

    // Pause: the transaction fails and the cycle is paused.
    let paused = env.finished_transactions("acme", &pause, 1).await;
    assert_eq!(paused[0]["status"], "failed");
    let (_, cycle) = env
        .get_json(&format!("/v1/accounts/acme/cycles/{pause}"))
        .await;
    assert_eq!(cycle["status"], "paused");

    // Retry: waits its minute, tries again, then stops.
    eventually("the retried transaction to wait", || async {
        env.transactions("acme", &retry)
            .await
            .first()
            .is_some_and(|t| t["status"] == "waiting")
    })
    .await;
    env.clock.advance_secs(60);
    let retried = env.finished_transactions("acme", &retry, 1).await;
    assert_eq!(retried[0]["status"], "failed");
    assert_eq!(
        env.step_statuses(&retry, &retried[0]).await,
        pairs(&[("bad", "retrying"), ("bad", "failed")])
    );

    // The error webhook: one signed `cycle.error` per failed transaction.
    let mut errors = Vec::new();
    while errors.len() < 3 {
        let (headers, body, _) =
            tokio::time::timeout(std::time::Duration::from_secs(10), deliveries.recv())
                .await
                .expect("an event in time")
                .expect("the receiver runs");
        crate::events::verify(&headers, &body);
        let event: Value = serde_json::from_str(&body).expect("JSON");
        if event["type"] == "cycle.error" {
            errors.push(event["data"].clone());
        }
    }
    let cycles: BTreeSet<&str> = errors.iter().filter_map(|e| e["cycle"].as_str()).collect();
    assert_eq!(
        cycles,
        BTreeSet::from([stop.as_str(), retry.as_str(), pause.as_str()])
    );
    let from_stop = errors
        .iter()
        .find(|e| e["cycle"] == stop.as_str())
        .expect("stop's event");
    assert_eq!(from_stop["account"], "acme");
    assert_eq!(from_stop["step"], "bad");
    assert_eq!(from_stop["transaction"], failed[0]["id"]);
    assert!(
        from_stop["message"]
            .as_str()
            .is_some_and(|m| m.contains("no_such_property")),
        "{from_stop}"
    );

    // A retry through the API from the failed step, with the step's input edited.
    let (status, body) = env
        .send_json(
            Method::POST,
            &format!(
                "/v1/accounts/acme/cycles/{stop}/transactions/{}/retry",
                failed[0]["id"].as_str().expect("id")
            ),
            json!({"input": {"parameters": {"id": ada}, "fields": {"firstname": "edited"}}}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    eventually("the retried transaction to succeed", || async {
        env.transactions("acme", &stop).await[0]["status"] == "succeeded"
    })
    .await;
    let contact = env
        .data_in(
            "acme",
            &acme,
            "contacts.get",
            json!({"parameters": {"id": ada, "properties": "firstname,lastname"}}),
        )
        .await;
    assert_eq!(contact["properties"]["firstname"], "edited");
    assert_eq!(contact["properties"]["lastname"], "labelled");
    // A transaction that succeeded is not retried.
    let (status, body) = env
        .send_json(
            Method::POST,
            &format!(
                "/v1/accounts/acme/cycles/{stop}/transactions/{}/retry",
                failed[0]["id"].as_str().expect("id")
            ),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
}

/// A partner endpoint on this machine (a loopback address) that records what it is sent.
async fn loopback_endpoint() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let recorded = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: String| {
            let recorded = recorded.clone();
            async move {
                recorded.lock().expect("lock").push(body);
                "{\"ok\": true}"
            }
        }),
    );
    let (listener, url) = crate::bind().await;
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("{url}/hook"), seen)
}

/// New contact → POST it to the partner's endpoint → keep the answer's status in the
/// cycle's store → read it back.
fn utility_template(endpoint: &str) -> String {
    json!({
        "name": "Contacts to an endpoint",
        "error_policy": {"action": "stop"},
        "trigger": {"kind": "hubspot_webhook", "id": "created", "events": ["contact.creation"], "next": "post"},
        "steps": [
            {
                "kind": "method", "id": "post", "connector": "utility", "method": "http.request",
                "parameters": {
                    "method": {"source": "static", "value": "POST"},
                    "url": {"source": "static", "value": endpoint},
                    "body": {"source": "text", "text": "contact {{ steps.created.objectId }}"}
                },
                "next": "keep"
            },
            {
                "kind": "method", "id": "keep", "connector": "utility", "method": "storage.set",
                "parameters": {
                    "key": {"source": "text", "text": "{{ steps.created.objectId }}"},
                    "value": {"source": "text", "text": "{{ steps.post.status }}"}
                },
                "next": "read"
            },
            {
                "kind": "method", "id": "read", "connector": "utility", "method": "storage.get",
                "parameters": {"key": {"source": "text", "text": "{{ steps.created.objectId }}"}}
            }
        ]
    })
    .to_string()
}

#[tokio::test]
async fn utility_steps_call_allowed_endpoints_and_store_values_and_never_reach_private_addresses() {
    let (endpoint, seen) = loopback_endpoint().await;

    // By default the HTTP request step refuses a loopback address: nothing reaches it.
    let env = TestEnv::start().await;
    let acme = env.connected().await;
    env.subscribe_app_webhooks("contact.creation").await;
    let cycle = env.webhook_cycle(&acme, &utility_template(&endpoint)).await;
    env.create_contact("acme", &acme, json!({"email": "ada@example.com"}))
        .await;
    let list = env.finished_transactions("acme", &cycle, 1).await;
    assert_eq!(list[0]["status"], "failed", "{list:#?}");
    assert_eq!(list[0]["step"], "post");
    let (_, incidents) = env
        .get_json(&format!("/v1/accounts/acme/cycles/{cycle}/incidents"))
        .await;
    assert_eq!(
        incidents["incidents"][0]["code"], "private_address",
        "{incidents}"
    );
    assert!(seen.lock().expect("lock").is_empty());

    // Allowed by the configuration, the request reaches it and the steps go on.
    let env = TestEnv::with(crate::Options {
        http_allow_private: vec!["127.0.0.1/32".into()],
        ..Default::default()
    })
    .await;
    let acme = env.connected().await;
    env.subscribe_app_webhooks("contact.creation").await;
    let cycle = env.webhook_cycle(&acme, &utility_template(&endpoint)).await;
    let bob = env
        .create_contact("acme", &acme, json!({"email": "bob@example.com"}))
        .await;
    let list = env.finished_transactions("acme", &cycle, 1).await;
    assert_eq!(list[0]["status"], "succeeded", "{list:#?}");
    assert_eq!(
        *seen.lock().expect("lock"),
        vec![format!("\"contact {bob}\"")]
    );
    let detail = env.transaction_detail(&cycle, &list[0]).await;
    assert_eq!(detail["steps"][0]["response"]["status"], 200, "{detail:#}");
    assert_eq!(
        detail["steps"][2]["response"],
        json!({"key": bob, "value": "200"})
    );
}
