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

    /// Installs the template into the account with its HubSpot installation and activates it
    /// every `interval` minutes; the cycle's id.
    async fn activate_cycle(
        &self,
        account: &str,
        template: &str,
        installation: &str,
        interval: i64,
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
                json!({"interval_minutes": interval}),
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
    let acme_cycle = env.activate_cycle("acme", &template, &acme, 5).await;
    let globex_cycle = env.activate_cycle("globex", &template, &globex, 5).await;
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
