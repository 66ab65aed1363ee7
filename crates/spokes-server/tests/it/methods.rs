//! The method layer: the catalogue API, the generic client on CRM records, validation before
//! sending, the scope gate, HubSpot's errors normalised, and retries that never duplicate a
//! write.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use spokes_core::Clock;

use crate::{TestEnv, read};

/// The method `id` of the catalogue's `methods`.
pub fn method_of<'a>(methods: &'a [Value], id: &str) -> &'a Value {
    methods
        .iter()
        .find(|m| m["id"] == id)
        .unwrap_or_else(|| panic!("{id} missing"))
}

impl TestEnv {
    /// Calls `method` on installation `id` of account `acme` with `input`.
    pub async fn method(&self, id: &str, method: &str, input: Value) -> (StatusCode, Value) {
        self.send_json(
            Method::POST,
            &format!("/v1/accounts/acme/connectors/{id}/methods/{method}"),
            input,
        )
        .await
    }

    /// Calls `method` and asserts it succeeded; returns the whole answer.
    pub async fn ok(&self, id: &str, method: &str, input: Value) -> Value {
        let (status, body) = self.method(id, method, input).await;
        assert_eq!(status, StatusCode::OK, "{method}: {body}");
        body
    }

    /// Calls `method` and asserts it succeeded; returns `data`.
    pub async fn data(&self, id: &str, method: &str, input: Value) -> Value {
        self.ok(id, method, input).await["data"].clone()
    }

    /// Calls `method` and asserts it answered `status`; returns the whole answer.
    pub async fn answered(
        &self,
        id: &str,
        method: &str,
        input: Value,
        status: StatusCode,
    ) -> Value {
        let (answered, body) = self.method(id, method, input).await;
        assert_eq!(answered, status, "{method}: {body}");
        body
    }

    /// Calls `method` and asserts it was refused with `status` and error `code`; returns the
    /// whole answer.
    pub async fn refused(
        &self,
        id: &str,
        method: &str,
        input: Value,
        status: StatusCode,
        code: &str,
    ) -> Value {
        let body = self.answered(id, method, input, status).await;
        assert_eq!(body["error"]["code"], code, "{method}: {body}");
        body
    }

    /// Creates a record of `object_type` with `fields` through Spokes and returns its id.
    pub async fn create(&self, id: &str, object_type: &str, fields: Value) -> String {
        let data = self
            .data(
                id,
                &format!("{object_type}.create"),
                json!({"fields": fields}),
            )
            .await;
        data["id"].as_str().expect("id").to_string()
    }

    /// Creates a deal named `name` at `stage` through Spokes and returns its id.
    pub async fn deal(&self, id: &str, name: &str, stage: &str) -> String {
        self.create(id, "deals", json!({"dealname": name, "dealstage": stage}))
            .await
    }

    /// Creates a contact with `fields` through Spokes and returns its id.
    pub async fn contact(&self, id: &str, fields: Value) -> String {
        self.create(id, "contacts", fields).await
    }

    /// Creates a contact through Spokes and returns its id.
    async fn new_contact(&self, id: &str, email: &str) -> String {
        self.contact(id, json!({"email": email, "firstname": "Ada"}))
            .await
    }

    /// The catalogue's methods, as `GET /v1/connectors/hubspot/methods` lists them.
    pub async fn catalogue(&self) -> Vec<Value> {
        let (status, body) = self.get_json("/v1/connectors/hubspot/methods").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["methods"].as_array().expect("methods").clone()
    }

    /// A connected `Acme Inc` installation in account `acme`, the connector set up with
    /// `properties`.
    pub async fn connected_with(&self, properties: Value) -> String {
        self.setup_connector(properties).await;
        let id = self.new_installation("acme", json!({})).await;
        let response = self.connect("acme", &id, "Acme Inc", "allow").await;
        assert_eq!(response.status(), StatusCode::OK);
        id
    }

    async fn sim_fault(&self, fault: Value) {
        self.sim_json(Method::POST, "/_sim/faults", Some(fault))
            .await;
    }

    /// Records of `object_type` the simulator holds for Acme Inc, counted behind Spokes' back.
    pub async fn sim_count(&self, id: &str, object_type: &str) -> usize {
        let (status, body) = self
            .method(
                id,
                &format!("{object_type}.list"),
                json!({"paging": {"all": true}}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["data"].as_array().expect("records").len()
    }
}

#[tokio::test]
async fn the_catalogue_lists_and_describes_methods() {
    let env = TestEnv::start().await;
    let (status, body) = env.get_json("/v1/connectors/hubspot/methods").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let ids: Vec<&str> = body["methods"]
        .as_array()
        .expect("methods")
        .iter()
        .filter_map(|m| m["id"].as_str())
        .collect();
    for id in [
        "account.get",
        "contacts.create",
        "contacts.get_by_email",
        "companies.search",
        "deals.update",
        "tickets.delete",
        "products.list",
        "line_items.get",
    ] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }

    let (_, deals) = env
        .get_json("/v1/connectors/hubspot/methods?category=deals")
        .await;
    let deals = deals["methods"].as_array().expect("methods");
    assert!(!deals.is_empty());
    assert!(deals.iter().all(|m| m["category"] == "Deals"), "{deals:?}");
    let (_, found) = env
        .get_json("/v1/connectors/hubspot/methods?q=by%20email")
        .await;
    assert_eq!(
        found["methods"][0]["id"], "contacts.get_by_email",
        "{found}"
    );

    let (status, create) = env
        .get_json("/v1/connectors/hubspot/methods/contacts.create")
        .await;
    assert_eq!(status, StatusCode::OK, "{create}");
    assert_eq!(create["category"], "Contacts");
    assert_eq!(create["name"], "Create Contact");
    assert_eq!(create["writes"], true);
    assert_eq!(create["request"]["method"], "POST");
    assert_eq!(create["request"]["path"], "/crm/objects/2026-03/contacts");
    assert_eq!(
        create["required_scopes"],
        json!([["crm.objects.contacts.write"], ["contacts"]])
    );
    assert_eq!(create["input_schema"]["type"], "object");
    assert!(create["input_schema"]["properties"]["fields"].is_object());
    assert!(create["output_schema"]["properties"]["data"].is_object());

    let (status, missing) = env
        .get_json("/v1/connectors/hubspot/methods/contacts.teleport")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        missing["error"]["message"]
            .as_str()
            .expect("message")
            .contains("contacts.get")
    );
}

#[tokio::test]
async fn contacts_round_trip_through_the_generic_client() {
    let env = TestEnv::start().await;
    let id = env.connected().await;
    let ada = env.new_contact(&id, "ada@example.com").await;
    env.new_contact(&id, "grace@example.com").await;

    let (status, got) = env
        .method(
            &id,
            "contacts.get",
            json!({"parameters": {"id": ada, "properties": "email,firstname"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{got}");
    assert_eq!(got["data"]["properties"]["email"], "ada@example.com");
    assert_eq!(got["data"]["properties"]["firstname"], "Ada");

    let (status, updated) = env
        .method(
            &id,
            "contacts.update",
            json!({"parameters": {"id": ada}, "fields": {"lastname": "Lovelace"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["data"]["properties"]["lastname"], "Lovelace");

    let (status, by_email) = env
        .method(
            &id,
            "contacts.get_by_email",
            json!({"parameters": {"email": "ada@example.com", "properties": "lastname"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{by_email}");
    assert_eq!(by_email["data"]["id"], ada.as_str());
    assert_eq!(by_email["data"]["properties"]["lastname"], "Lovelace");
    let (status, nobody) = env
        .method(
            &id,
            "contacts.get_by_email",
            json!({"parameters": {"email": "nobody@example.com"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{nobody}");
    assert_eq!(nobody["data"], Value::Null);

    // One page at a time, then every page at once.
    let (status, first) = env
        .method(&id, "contacts.list", json!({"paging": {"limit": 1}}))
        .await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["data"].as_array().expect("page").len(), 1);
    let next = first["paging"]["next"]
        .as_str()
        .expect("a next page")
        .to_string();
    let (_, second) = env
        .method(
            &id,
            "contacts.list",
            json!({"paging": {"limit": 1, "after": next}}),
        )
        .await;
    assert_eq!(second["data"].as_array().expect("page").len(), 1);
    assert_ne!(first["data"][0]["id"], second["data"][0]["id"]);
    assert_eq!(env.sim_count(&id, "contacts").await, 2);

    let (status, found) = env
        .method(
            &id,
            "contacts.search",
            json!({"parameters": {"filterGroups": [{"filters": [
                {"propertyName": "lastname", "operator": "EQ", "value": "Lovelace"}
            ]}]}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{found}");
    let found = found["data"].as_array().expect("results");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["id"], ada.as_str());

    let (status, deleted) = env
        .method(&id, "contacts.delete", json!({"parameters": {"id": ada}}))
        .await;
    assert_eq!(status, StatusCode::OK, "{deleted}");
    let (status, gone) = env
        .method(&id, "contacts.get", json!({"parameters": {"id": ada}}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{gone}");
    assert_eq!(gone["error"]["code"], "not_found");
    assert!(gone["error"]["correlation_id"].is_string(), "{gone}");
}

#[tokio::test]
async fn every_standard_object_family_reads_and_writes() {
    let env = TestEnv::start().await;
    env.sim_json(
        Method::PATCH,
        "/_sim/config",
        Some(json!({"require_sales_hub_seat": false})),
    )
    .await;
    env.setup_connector(json!({"OptionalScopes": "content reports e-commerce forms tickets"}))
        .await;
    let id = env.new_installation("acme", json!({})).await;
    env.connect("acme", &id, "Acme Inc", "allow").await;
    for (object_type, fields) in [
        (
            "companies",
            json!({"name": "Initech", "domain": "initech.example"}),
        ),
        (
            "deals",
            json!({"dealname": "Big one", "pipeline": "default", "dealstage": "appointmentscheduled"}),
        ),
        (
            "tickets",
            json!({"subject": "Broken", "hs_pipeline": "0", "hs_pipeline_stage": "1"}),
        ),
        ("products", json!({"name": "Widget", "price": "10"})),
        (
            "line_items",
            json!({"name": "Widget line", "quantity": "2", "price": "10"}),
        ),
    ] {
        let (status, created) = env
            .method(
                &id,
                &format!("{object_type}.create"),
                json!({"fields": fields}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{object_type}: {created}");
        let record = created["data"]["id"].as_str().expect("id").to_string();
        let (status, got) = env
            .method(
                &id,
                &format!("{object_type}.get"),
                json!({"parameters": {"id": record}}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{object_type}: {got}");
        assert_eq!(got["data"]["id"], record.as_str());
        assert_eq!(env.sim_count(&id, object_type).await, 1, "{object_type}");
    }
}

#[tokio::test]
async fn bad_input_is_refused_before_anything_is_sent() {
    let env = TestEnv::start().await;
    let id = env.connected().await;
    let before = env.counter("api_requests").await;
    for (method, input, expected) in [
        ("contacts.get", json!({}), "missing required parameter `id`"),
        (
            "contacts.get",
            json!({"parameters": {"id": 7}}),
            "parameter `id` must be of type string",
        ),
        (
            "contacts.list",
            json!({"parameters": {"colour": "red"}}),
            "unknown parameter `colour`",
        ),
        (
            "contacts.list",
            json!({"paging": {"limit": 500}}),
            "`paging.limit` must be between 1 and 100",
        ),
        (
            "account.get",
            json!({"fields": {"a": "b"}}),
            "this method takes no `fields`",
        ),
        (
            "contacts.create",
            json!({"fields": {"email": {"nested": true}}}),
            "field `email` must be a string",
        ),
    ] {
        let body = env
            .refused(
                &id,
                method,
                input,
                StatusCode::BAD_REQUEST,
                "invalid_parameters",
            )
            .await;
        let message = body["error"]["message"].as_str().expect("message");
        assert!(message.contains(expected), "{method}: {message}");
    }
    assert_eq!(
        env.counter("api_requests").await,
        before,
        "nothing reached HubSpot"
    );

    // Property names are checked against the portal's own properties (custom ones too).
    let body = env.answered(&id,
            "contacts.create",
            json!({"fields": {"email": "x@example.com", "favourite_colour": "red", "hs_object_id": "1"}}), StatusCode::BAD_REQUEST).await;
    let problems = body["error"]["details"]["problems"].to_string();
    assert!(
        problems.contains("unknown property `favourite_colour`"),
        "{problems}"
    );
    assert!(
        problems.contains("property `hs_object_id` is read-only"),
        "{problems}"
    );
    assert_eq!(env.sim_count(&id, "contacts").await, 0);

    let (status, body) = read(
        env.request(
            Method::POST,
            &format!("/v1/accounts/acme/connectors/{id}/methods/contacts.list"),
        )
        .json(&json!({"paramters": {}}))
        .send()
        .await
        .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[tokio::test]
async fn the_scope_gate_names_what_is_missing() {
    let env = TestEnv::start().await;
    let id = env.connected().await;
    let before = env.counter("api_requests").await;
    let body = env
        .refused(
            &id,
            "tickets.list",
            json!({}),
            StatusCode::FORBIDDEN,
            "missing_scopes",
        )
        .await;
    assert_eq!(
        body["error"]["details"]["required_scopes"],
        json!([["tickets"]])
    );
    let message = body["error"]["message"].as_str().expect("message");
    assert!(
        message.contains("Scopes or OptionalScopes") && message.contains("reconnect"),
        "{message}"
    );
    assert_eq!(env.counter("api_requests").await, before);

    // Acme Starter's user has no paid Sales Hub seat: HubSpot dropped `e-commerce`.
    let starter = env.new_installation("acme", json!({})).await;
    env.connect("acme", &starter, "Acme Starter", "allow").await;
    let body = env
        .refused(
            &starter,
            "products.list",
            json!({}),
            StatusCode::FORBIDDEN,
            "missing_scopes",
        )
        .await;
    assert!(
        body["error"]["message"]
            .as_str()
            .expect("message")
            .contains("paid Sales Hub seat"),
        "{body}"
    );
}

#[tokio::test]
async fn hubspot_errors_come_back_as_stable_codes() {
    let env = TestEnv::start().await;
    let id = env.connected().await;
    let ada = env.new_contact(&id, "ada@example.com").await;
    let body = env
        .refused(
            &id,
            "contacts.create",
            json!({"fields": {"email": "ada@example.com"}}),
            StatusCode::CONFLICT,
            "conflict",
        )
        .await;
    assert_eq!(body["error"]["details"]["existing_id"], ada.as_str());

    env.refused(
        &id,
        "contacts.update",
        json!({"parameters": {"id": "999999999"}, "fields": {"firstname": "X"}}),
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    env.sim_fault(
        json!({"path": "/crm/objects/2026-03/contacts", "method": "GET", "fault": {"status": 503}}),
    )
    .await;
    env.refused(
        &id,
        "contacts.list",
        json!({}),
        StatusCode::SERVICE_UNAVAILABLE,
        "hubspot_unavailable",
    )
    .await;
}

#[tokio::test]
async fn reads_are_retried_and_writes_never_duplicated() {
    let env = TestEnv::start().await;
    let id = env.connected().await;
    env.new_contact(&id, "ada@example.com").await;

    // A read survives two failures in a row.
    env.sim_fault(json!({"path": "/crm/objects/2026-03/contacts", "method": "GET", "fault": {"status": 502}, "count": 2}))
        .await;
    env.ok(&id, "contacts.list", json!({})).await;

    // A 5xx on a create may have created it: not retried, reported as unavailable.
    env.sim_fault(json!({"path": "/crm/objects/2026-03/contacts", "method": "POST", "fault": {"status": 500}, "count": 1}))
        .await;
    env.answered(
        &id,
        "contacts.create",
        json!({"fields": {"email": "grace@example.com"}}),
        StatusCode::SERVICE_UNAVAILABLE,
    )
    .await;
    // A connection reset before HubSpot handled the create: the contact is looked up by its
    // email, is not there, and the create is sent once more.
    env.sim_fault(json!({"path": "/crm/objects/2026-03/contacts", "method": "POST", "fault": {"reset": true}, "count": 1}))
        .await;
    env.ok(
        &id,
        "contacts.create",
        json!({"fields": {"email": "linus@example.com"}}),
    )
    .await;
    // A company's domain is found only through search, which lags writes: not found, the
    // outcome stays unknown and is said so.
    env.sim_fault(json!({"path": "/crm/objects/2026-03/companies", "method": "POST", "fault": {"reset": true}, "count": 1}))
        .await;
    let body = env
        .refused(
            &id,
            "companies.create",
            json!({"fields": {"name": "Initech", "domain": "initech.example"}}),
            StatusCode::BAD_GATEWAY,
            "outcome_unknown",
        )
        .await;
    assert_eq!(
        body["error"]["details"]["looked_up"]["property"], "domain",
        "{body}"
    );
    // A 429 is refused before HubSpot acts: retried, created once.
    env.sim_fault(json!({"path": "/crm/objects/2026-03/contacts", "method": "POST", "fault": {"rate_limit": "TEN_SECONDLY_ROLLING"}, "count": 1}))
        .await;
    env.ok(
        &id,
        "contacts.create",
        json!({"fields": {"email": "margaret@example.com"}}),
    )
    .await;
    assert_eq!(
        env.sim_count(&id, "contacts").await,
        3,
        "no create was sent twice"
    );
}

#[tokio::test]
async fn a_create_whose_answer_was_lost_is_found_not_repeated() {
    let env = TestEnv::with(crate::Options {
        request_timeout_secs: Some(1),
        ..crate::Options::default()
    })
    .await;
    let id = env.connected().await;
    // HubSpot creates the contact, then its answer takes longer than Spokes waits.
    env.sim_fault(json!({"path": "/crm/objects/2026-03/contacts", "method": "POST", "fault": {"slow_body_ms": 2500}, "count": 1}))
        .await;
    let body = env
        .ok(
            &id,
            "contacts.create",
            json!({"fields": {"email": "ada@example.com"}}),
        )
        .await;
    assert_eq!(
        body["data"]["properties"]["email"], "ada@example.com",
        "{body}"
    );
    assert_eq!(env.sim_count(&id, "contacts").await, 1, "created once");
}

/// `per_caller` `contacts.get` calls from each of 20 concurrent callers against the
/// simulator's 110 per 10 s: none may answer 429, and HubSpot may refuse at most the first
/// window's learning (the consent's own calls share that window; the limiter learns of them
/// from HubSpot's headers).
async fn twenty_callers_within_the_budget(per_caller: usize) {
    let env = TestEnv::start().await;
    let id = env.connected().await;
    let ada = env.new_contact(&id, "ada@example.com").await;
    let limits = env.sim_json(Method::GET, "/_sim/limits", None).await;
    assert_eq!(
        limits["rate_limit_per_10s"], 110,
        "HubSpot's public-app limit"
    );
    let mut callers = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let request = env
            .request(
                Method::POST,
                &format!("/v1/accounts/acme/connectors/{id}/methods/contacts.get"),
            )
            .json(&json!({"parameters": {"id": ada}}));
        callers.spawn(async move {
            let mut statuses = Vec::new();
            for _ in 0..per_caller {
                let response = request
                    .try_clone()
                    .expect("clone")
                    .send()
                    .await
                    .expect("call");
                statuses.push(response.status());
            }
            statuses
        });
    }
    let statuses: Vec<StatusCode> = callers.join_all().await.into_iter().flatten().collect();
    assert_eq!(statuses.len(), 20 * per_caller);
    let not_ok: Vec<&StatusCode> = statuses.iter().filter(|s| **s != StatusCode::OK).collect();
    assert!(
        not_ok.is_empty(),
        "{} calls failed: {not_ok:?}",
        not_ok.len()
    );
    env.assert_hubspot_refused_at_most_the_first_windows_learning()
        .await;
}

impl TestEnv {
    /// HubSpot may refuse (429) at most the first window's learning: the consent's own calls
    /// share that window, and the limiter learns of them from HubSpot's headers.
    pub async fn assert_hubspot_refused_at_most_the_first_windows_learning(&self) {
        let limits = self.sim_json(Method::GET, "/_sim/limits", None).await;
        let refused: u64 = limits["refused"]
            .as_object()
            .map(|r| r.values().filter_map(Value::as_u64).sum())
            .unwrap_or(0);
        assert!(refused <= 2, "HubSpot refused {refused} calls: {limits}");
    }
}

#[tokio::test]
async fn twenty_callers_share_the_portals_budget_without_a_429() {
    // 260 calls: more than two 10-second windows' worth.
    twenty_callers_within_the_budget(13).await;
}

/// The burst: 2,000 calls take about three minutes at 110 per 10 s, so `.ci/run`
/// runs it once, on SQLite, rather than in both test runs.
#[tokio::test]
#[ignore = "three minutes; .ci/run runs it once"]
async fn a_burst_of_two_thousand_calls_from_twenty_callers_meets_no_429() {
    twenty_callers_within_the_budget(100).await;
}

#[tokio::test]
async fn more_than_ten_thousand_records_at_one_timestamp_are_listed_once_each() {
    let env = TestEnv::start().await;
    let id = env.connected().await;
    let start = spokes_core::SystemClock.now_ms() - 60_000;
    // The simulator's seed gives every record of one call the same creation time.
    let seeded = env
        .sim_json(
            Method::POST,
            "/_sim/seed",
            Some(json!({"companies": 10, "contacts": 10_500})),
        )
        .await;
    assert_eq!(seeded["counts"]["contacts"], 10_500, "{seeded}");
    let later = [
        env.new_contact(&id, "late-1@example.com").await,
        env.new_contact(&id, "late-2@example.com").await,
    ];

    let (status, body) = env
        .method(
            &id,
            "contacts.list_new",
            json!({"parameters": {"since": start.to_string()}, "paging": {"all": true}}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{}",
        &body.to_string()[..500.min(body.to_string().len())]
    );
    let records = body["data"].as_array().expect("records");
    let ids: Vec<u64> = records
        .iter()
        .map(|r| r["id"].as_str().expect("id").parse().expect("numeric id"))
        .collect();
    let unique: std::collections::BTreeSet<u64> = ids.iter().copied().collect();
    assert_eq!(ids.len(), 10_502, "every record once");
    assert_eq!(unique.len(), ids.len(), "no record twice");
    // Oldest first; the seeded ones (sharing one timestamp) by id; the late ones last.
    let dates: Vec<String> = records
        .iter()
        .map(|r| {
            r["properties"]["createdate"]
                .as_str()
                .expect("createdate")
                .to_string()
        })
        .collect();
    assert!(dates.windows(2).all(|w| w[0] <= w[1]), "ordered by date");
    assert!(ids[..10_500].windows(2).all(|w| w[0] < w[1]), "ties by id");
    let tail: Vec<String> = ids[10_500..].iter().map(u64::to_string).collect();
    assert_eq!(tail, later);

    // Page by page, the cursors lead through the same records.
    let mut after: Option<String> = None;
    let mut paged = 0;
    loop {
        let mut input =
            json!({"parameters": {"since": start.to_string()}, "paging": {"limit": 100}});
        if let Some(after) = &after {
            input["paging"]["after"] = json!(after);
        }
        let (status, page) = env.method(&id, "contacts.list_new", input).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        paged += page["data"].as_array().expect("page").len();
        match page["paging"]["next"].as_str() {
            Some(next) => after = Some(next.to_string()),
            None => break,
        }
        if paged > 500 {
            break;
        }
    }
    assert!(paged > 500, "pages hand out cursors that continue");
}

impl TestEnv {
    async fn create_with_key(&self, id: &str, key: &str, email: &str) -> (StatusCode, Value) {
        read(
            self.request(
                Method::POST,
                &format!("/v1/accounts/acme/connectors/{id}/methods/contacts.create"),
            )
            .header("Idempotency-Key", key)
            .json(&json!({"fields": {"email": email}}))
            .send()
            .await
            .expect("send"),
        )
        .await
    }
}

#[tokio::test]
async fn an_idempotency_key_writes_once_sequentially_and_concurrently() {
    let env = TestEnv::start().await;
    let id = env.connected().await;

    let (status, first) = env.create_with_key(&id, "order-1", "ada@example.com").await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let (status, again) = env.create_with_key(&id, "order-1", "ada@example.com").await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(
        again["data"]["id"], first["data"]["id"],
        "the first outcome"
    );
    assert_eq!(env.sim_count(&id, "contacts").await, 1);

    let (status, reused) = env
        .create_with_key(&id, "order-1", "grace@example.com")
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{reused}");
    assert_eq!(reused["error"]["code"], "idempotency_key_reused");

    // Twenty at once with one key, HubSpot slow to answer: one create, one answer for all.
    env.sim_fault(json!({"path": "/crm/objects/2026-03/contacts", "method": "POST", "fault": {"latency_ms": 300}, "count": 1}))
        .await;
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let request = env
            .request(
                Method::POST,
                &format!("/v1/accounts/acme/connectors/{id}/methods/contacts.create"),
            )
            .header("Idempotency-Key", "order-2")
            .json(&json!({"fields": {"email": "linus@example.com"}}));
        calls.spawn(async move { read(request.send().await.expect("send")).await });
    }
    let answers = calls.join_all().await;
    let ids: std::collections::BTreeSet<String> = answers
        .iter()
        .map(|(status, body)| {
            assert_eq!(*status, StatusCode::OK, "{body}");
            body["data"]["id"].as_str().expect("id").to_string()
        })
        .collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(env.sim_count(&id, "contacts").await, 2);

    // A call refused before sending leaves the key free for the corrected call.
    let (status, refused) = read(
        env.request(
            Method::POST,
            &format!("/v1/accounts/acme/connectors/{id}/methods/contacts.create"),
        )
        .header("Idempotency-Key", "order-3")
        .json(&json!({"fields": {"no_such_property": "x"}}))
        .send()
        .await
        .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    let (status, created) = env
        .create_with_key(&id, "order-3", "margaret@example.com")
        .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    assert_eq!(env.sim_count(&id, "contacts").await, 3);
}

#[tokio::test]
async fn the_proxy_passes_hubspot_through_and_nowhere_else() {
    let env = TestEnv::start().await;
    let id = env.connected().await;
    let proxy = |path: &str| format!("/v1/accounts/acme/connectors/{id}/proxy{path}");

    let created = env
        .request(Method::POST, &proxy("/crm/v3/objects/contacts"))
        .json(&json!({"properties": {"email": "ada@example.com"}}))
        .send()
        .await
        .expect("create");
    assert_eq!(
        created.status(),
        StatusCode::CREATED,
        "HubSpot's own status"
    );
    let listed = env
        .request(
            Method::GET,
            &proxy("/crm/v3/objects/contacts?limit=1&properties=email"),
        )
        .send()
        .await
        .expect("list");
    assert_eq!(listed.status(), StatusCode::OK);
    assert!(
        listed
            .headers()
            .contains_key("x-hubspot-ratelimit-remaining"),
        "{:?}",
        listed.headers()
    );
    let (_, body) = read(listed).await;
    assert_eq!(
        body["results"][0]["properties"]["email"], "ada@example.com",
        "{body}"
    );
    let (status, missing) = read(
        env.request(Method::GET, &proxy("/crm/v3/objects/contacts/999999"))
            .send()
            .await
            .expect("missing"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        missing["correlationId"].is_string(),
        "HubSpot's body: {missing}"
    );

    for bad in [
        "/crm/v3/../../_sim/config",
        "/crm/%2e%2e/%2e%2e/_sim/config",
        "//127.0.0.1:9/steal",
        "/_sim/config",
        "/oauth/v1/refresh-tokens/x",
    ] {
        let (status, body) = read(
            env.request(Method::GET, &proxy(bad))
                .send()
                .await
                .expect("send"),
        )
        .await;
        assert!(
            status == StatusCode::BAD_REQUEST || status == StatusCode::NOT_FOUND,
            "{bad}: {status} {body}"
        );
        assert_ne!(status, StatusCode::OK, "{bad}");
        if status == StatusCode::BAD_REQUEST {
            assert_eq!(body["error"]["code"], "invalid_parameters", "{bad}");
        }
    }
}
