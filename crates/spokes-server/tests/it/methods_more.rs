//! The methods beyond the CRM records: contact lists, forms and submissions, blogs, email
//! and marketing campaigns, call dispositions and engagement windows, upserts, contacts by
//! user token and by owner, companies by domain, custom properties; through Spokes' method
//! API against the simulator.
//!
//! An unknown user token is not an error: `contacts.get_by_user_token` answers `data: null`
//! (as `contacts.get_by_email` does for an unknown address).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::TestEnv;
use crate::methods::method_of;

impl TestEnv {
    /// The first page of `method` with `limit` records, and the page after it (whole answers).
    async fn first_two_pages(&self, id: &str, method: &str, limit: u64) -> (Value, Value) {
        let first = self
            .ok(id, method, json!({"paging": {"limit": limit}}))
            .await;
        let next = first["paging"]["next"].as_str().expect("a next page");
        let second = self
            .ok(
                id,
                method,
                json!({"paging": {"limit": limit, "after": next}}),
            )
            .await;
        (first, second)
    }

    /// `path` at HubSpot through the installation's proxy.
    async fn through_proxy(&self, id: &str, method: Method, path: &str, body: Value) -> Value {
        let (status, answer) = self
            .send_json(
                method,
                &format!("/v1/accounts/acme/connectors/{id}/proxy{path}"),
                body,
            )
            .await;
        assert!(status.is_success(), "{path}: {status} {answer}");
        answer
    }
}

fn strings(values: &Value, field: &str) -> Vec<String> {
    values
        .as_array()
        .expect("an array")
        .iter()
        .map(|v| match &v[field] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect()
}

#[tokio::test]
async fn the_catalogue_has_the_new_categories() {
    let env = TestEnv::start().await;
    let methods = env.catalogue().await;
    let of = |id: &str| method_of(&methods, id).clone();
    for (id, category) in [
        ("lists.create_static", "Contact Lists"),
        ("lists.new_members", "Contact Lists"),
        ("forms.submissions_since", "Forms"),
        ("blogs.get_post", "Blogs"),
        ("campaigns.recent", "Campaigns"),
        ("marketing_campaigns.create", "Campaigns"),
        ("calls.dispositions", "Engagements"),
        ("meetings.list_updated", "Engagements"),
        ("contacts.get_by_user_token", "Contacts"),
        ("contacts.list_new_by_owner", "Contacts"),
        ("companies.get_by_domain", "Companies"),
        ("companies.contacts", "Companies"),
        ("owners.list_new", "Owners"),
        ("products.list_custom_properties", "Product Properties"),
    ] {
        assert_eq!(of(id)["category"], category, "{id}");
    }
    let count = |category: &str| methods.iter().filter(|m| m["category"] == category).count();
    assert_eq!(count("Contact Lists"), 10);
    assert_eq!(count("Forms"), 4);
    assert_eq!(count("Blogs"), 4);
    assert_eq!(count("Engagements"), 36);
    assert_eq!(
        of("lists.add_members")["required_scopes"],
        json!([["crm.lists.read", "crm.lists.write"], ["contacts"]])
    );
    assert_eq!(of("lists.list")["paging"], "cursor");
    assert_eq!(
        of("contacts.get_by_user_token")["request"]["path"],
        "/contacts/v1/contact/utk/{utk}/profile"
    );
}

#[tokio::test]
async fn static_lists_gain_and_lose_members() {
    let env = TestEnv::start().await;
    let id = env.connected().await;
    let ada = env.contact(&id, json!({"email": "ada@example.com"})).await;
    let bob = env.contact(&id, json!({"email": "bob@example.com"})).await;
    let cy = env.contact(&id, json!({"email": "cy@example.com"})).await;

    let list = env
        .data(
            &id,
            "lists.create_static",
            json!({"parameters": {"name": "Newsletter"}}),
        )
        .await;
    assert_eq!(list["processingType"], "MANUAL", "{list}");
    assert_eq!(list["objectTypeId"], "0-1");
    let list_id = list["listId"].as_str().expect("listId").to_string();
    env.answered(
        &id,
        "lists.create_static",
        json!({"parameters": {"name": "newsletter"}}),
        StatusCode::CONFLICT,
    )
    .await;

    // Bob joins first, then Ada; an unknown id is reported missing.
    for who in [&bob, &ada] {
        env.data(
            &id,
            "lists.add_members",
            json!({"parameters": {"listId": list_id, "recordIds": [who]}}),
        )
        .await;
    }
    let added = env
        .data(
            &id,
            "lists.add_members",
            json!({"parameters": {"listId": list_id, "recordIds": [cy, "999999999"]}}),
        )
        .await;
    assert_eq!(added["recordIdsMissing"], json!(["999999999"]), "{added}");
    let members = env
        .data(
            &id,
            "lists.members",
            json!({"parameters": {"listId": list_id}, "paging": {"all": true}}),
        )
        .await;
    let mut in_id_order = vec![ada.clone(), bob.clone(), cy.clone()];
    in_id_order.sort_by_key(|i| i.parse::<u64>().expect("numeric id"));
    assert_eq!(strings(&members, "recordId"), in_id_order);
    let joined = env
        .ok(
            &id,
            "lists.new_members",
            json!({"parameters": {"listId": list_id}, "paging": {"limit": 2}}),
        )
        .await;
    assert_eq!(
        strings(&joined["data"], "recordId"),
        vec![bob.clone(), ada.clone()]
    );
    let next = joined["paging"]["next"].as_str().expect("a next page");
    let rest = env
        .data(
            &id,
            "lists.new_members",
            json!({"parameters": {"listId": list_id}, "paging": {"after": next}}),
        )
        .await;
    assert_eq!(strings(&rest, "recordId"), vec![cy.clone()]);

    let removed = env
        .data(
            &id,
            "lists.remove_members",
            json!({"parameters": {"listId": list_id, "recordIds": [bob]}}),
        )
        .await;
    assert_eq!(removed["recordIdsRemoved"], json!([bob]), "{removed}");
    let got = env
        .data(&id, "lists.get", json!({"parameters": {"listId": list_id}}))
        .await;
    assert_eq!(got["name"], "Newsletter", "{got}");
    assert_eq!(got["size"], 2);

    // Lists search pages with offsets; Spokes hands them out as `paging.next`.
    env.data(
        &id,
        "lists.create_static",
        json!({"parameters": {"name": "Partners"}}),
    )
    .await;
    let (first, second) = env.first_two_pages(&id, "lists.list", 1).await;
    assert_eq!(strings(&first["data"], "name"), vec!["Newsletter"]);
    assert_eq!(strings(&second["data"], "name"), vec!["Partners"]);
    assert_eq!(second["paging"]["next"], Value::Null);
    let all = env
        .data(&id, "lists.list", json!({"paging": {"all": true}}))
        .await;
    assert_eq!(strings(&all, "name"), vec!["Newsletter", "Partners"]);
    let found = env
        .data(&id, "lists.list", json!({"parameters": {"query": "part"}}))
        .await;
    assert_eq!(strings(&found, "name"), vec!["Partners"]);

    let deleted = env
        .data(
            &id,
            "lists.delete",
            json!({"parameters": {"listId": list_id}}),
        )
        .await;
    assert_eq!(deleted, Value::Null);
    env.refused(
        &id,
        "lists.get",
        json!({"parameters": {"listId": list_id}}),
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

fn email_contains(text: &str) -> Value {
    json!({"filterBranchType": "OR", "filters": [], "filterBranches": [{
        "filterBranchType": "AND", "filterBranches": [], "filters": [{
            "filterType": "PROPERTY", "property": "email",
            "operation": {"operationType": "STRING", "operator": "CONTAINS", "value": text}
        }]
    }]})
}

#[tokio::test]
async fn dynamic_lists_follow_their_filters() {
    let env = TestEnv::start().await;
    let id = env.connected().await;
    let ada = env.contact(&id, json!({"email": "ada@acme.example"})).await;
    let bob = env
        .contact(&id, json!({"email": "bob@other.example"}))
        .await;

    let list = env
        .data(
            &id,
            "lists.create_dynamic",
            json!({"parameters": {"name": "Acme people", "filterBranch": email_contains("@acme.")}}),
        )
        .await;
    assert_eq!(list["processingType"], "DYNAMIC", "{list}");
    let list_id = list["listId"].as_str().expect("listId").to_string();
    let members = env
        .data(
            &id,
            "lists.members",
            json!({"parameters": {"listId": list_id}}),
        )
        .await;
    assert_eq!(strings(&members, "recordId"), vec![ada]);

    let updated = env
        .data(
            &id,
            "lists.set_filters",
            json!({"parameters": {"listId": list_id, "filterBranch": email_contains("@other.")}}),
        )
        .await;
    assert_eq!(updated["listId"], list_id.as_str(), "{updated}");
    let members = env
        .data(
            &id,
            "lists.members",
            json!({"parameters": {"listId": list_id}}),
        )
        .await;
    assert_eq!(strings(&members, "recordId"), vec![bob.clone()]);
    let got = env
        .data(
            &id,
            "lists.get",
            json!({"parameters": {"listId": list_id, "includeFilters": true}}),
        )
        .await;
    assert!(got["filterBranch"].to_string().contains("@other."), "{got}");

    // A dynamic list is not changed by hand; HubSpot's 400 is not about record values.
    let body = env
        .refused(
            &id,
            "lists.add_members",
            json!({"parameters": {"listId": list_id, "recordIds": [bob]}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
    let message = body["error"]["message"].as_str().expect("message");
    assert!(!message.contains("the values of"), "{message}");
    // A static list has no filters to set.
    let static_list = env
        .data(
            &id,
            "lists.create_static",
            json!({"parameters": {"name": "By hand"}}),
        )
        .await;
    env.answered(&id,
            "lists.set_filters",
            json!({"parameters": {"listId": static_list["listId"], "filterBranch": email_contains("@")}}), StatusCode::UNPROCESSABLE_ENTITY).await;
}

#[tokio::test]
async fn forms_their_fields_and_submissions() {
    let env = TestEnv::start().await;
    let id = env.connected().await;
    let portal = env.portal_id("Acme Inc").await;
    let form = env
        .through_proxy(
            &id,
            Method::POST,
            "/marketing/v3/forms",
            json!({
                "name": "Newsletter", "formType": "hubspot",
                "fieldGroups": [{"groupType": "default_group", "richTextType": "text", "fields": [
                    {"objectTypeId": "0-1", "name": "email", "label": "Email", "required": true, "hidden": false, "fieldType": "email"},
                    {"objectTypeId": "0-1", "name": "firstname", "label": "First name", "required": false, "hidden": false, "fieldType": "single_line_text"}
                ]}]
            }),
        )
        .await;
    let guid = form["id"].as_str().expect("form id").to_string();
    let base = 1_767_225_600_000i64; // 2026-01-01T00:00:00Z
    for (n, name) in ["ada", "bob", "cy"].iter().enumerate() {
        env.through_proxy(
            &id,
            Method::POST,
            &format!("/submissions/v3/integration/secure/submit/{portal}/{guid}"),
            json!({
                "submittedAt": base + n as i64 * 86_400_000,
                "fields": [
                    {"objectTypeId": "0-1", "name": "email", "value": format!("{name}@example.com")},
                    {"objectTypeId": "0-1", "name": "firstname", "value": name}
                ]
            }),
        )
        .await;
    }

    let forms = env
        .data(&id, "forms.list", json!({"paging": {"all": true}}))
        .await;
    assert_eq!(strings(&forms, "id"), vec![guid.clone()]);
    let fields = env
        .data(&id, "forms.fields", json!({"parameters": {"formId": guid}}))
        .await;
    assert_eq!(
        strings(&fields[0]["fields"], "name"),
        vec!["email", "firstname"],
        "{fields}"
    );

    let all = env
        .data(
            &id,
            "forms.submissions",
            json!({"parameters": {"formGuid": guid}, "paging": {"all": true}}),
        )
        .await;
    let when = |records: &Value| -> Vec<i64> {
        records
            .as_array()
            .expect("submissions")
            .iter()
            .map(|s| s["submittedAt"].as_i64().expect("submittedAt"))
            .collect()
    };
    let day = 86_400_000;
    assert_eq!(when(&all), vec![base + 2 * day, base + day, base]);
    // HubSpot's pages hold 50 at most: a larger limit is cut, not refused.
    env.data(
        &id,
        "forms.submissions",
        json!({"parameters": {"formGuid": guid}, "paging": {"limit": 100}}),
    )
    .await;

    let since = json!({"formGuid": guid, "since": "2026-01-02T00:00:00Z"});
    let recent = env
        .data(
            &id,
            "forms.submissions_since",
            json!({"parameters": since, "paging": {"all": true}}),
        )
        .await;
    assert_eq!(when(&recent), vec![base + 2 * day, base + day]);
    // A page at a time: the page that reaches an older one is the last.
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..5 {
        let mut input = json!({"parameters": since, "paging": {"limit": 1}});
        if let Some(after) = &after {
            input["paging"]["after"] = json!(after);
        }
        let page = env.ok(&id, "forms.submissions_since", input).await;
        seen.extend(when(&page["data"]));
        match page["paging"]["next"].as_str() {
            Some(next) => after = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(seen, vec![base + 2 * day, base + day]);
    env.answered(
        &id,
        "forms.submissions_since",
        json!({"parameters": {"formGuid": guid, "since": "last week"}}),
        StatusCode::BAD_REQUEST,
    )
    .await;
}

#[tokio::test]
async fn blogs_and_posts_are_read() {
    let env = TestEnv::start().await;
    let id = env.connected().await;
    let blogs = env
        .data(&id, "blogs.list", json!({"paging": {"all": true}}))
        .await;
    assert_eq!(strings(&blogs, "name"), vec!["Acme Blog", "Engineering"]);
    let blog_id = blogs[0]["id"].as_str().expect("blog id").to_string();
    let blog = env
        .data(&id, "blogs.get", json!({"parameters": {"blogId": blog_id}}))
        .await;
    assert_eq!(blog["slug"], "blog", "{blog}");

    let posts = env
        .data(&id, "blogs.list_posts", json!({"paging": {"all": true}}))
        .await;
    assert_eq!(posts.as_array().expect("posts").len(), 7);
    let of_blog = env
        .data(
            &id,
            "blogs.list_posts",
            json!({"parameters": {"contentGroupId": blog_id}, "paging": {"all": true}}),
        )
        .await;
    assert!(
        of_blog
            .as_array()
            .expect("posts")
            .iter()
            .all(|p| p["contentGroupId"] == blog_id.as_str()),
        "{of_blog}"
    );
    let post_id = posts[0]["id"].as_str().expect("post id").to_string();
    let post = env
        .data(
            &id,
            "blogs.get_post",
            json!({"parameters": {"postId": post_id}}),
        )
        .await;
    assert_eq!(post["id"], post_id.as_str());
    env.answered(
        &id,
        "blogs.get_post",
        json!({"parameters": {"postId": "1"}}),
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn email_and_marketing_campaigns() {
    let env = TestEnv::start().await;
    env.setup_connector(json!({})).await;
    let id = env
        .new_installation(
            "acme",
            json!({"Scopes": "contacts content marketing.campaigns.read marketing.campaigns.write"}),
        )
        .await;
    env.connect("acme", &id, "Acme Inc", "allow").await;

    // Email Analytics v1 pages with offsets and `hasMore`.
    let (first, rest) = env.first_two_pages(&id, "campaigns.list", 3).await;
    assert_eq!(first["data"].as_array().expect("campaigns").len(), 3);
    assert_eq!(rest["data"].as_array().expect("campaigns").len(), 1);
    assert_eq!(rest["paging"]["next"], Value::Null);
    let all = env
        .data(&id, "campaigns.list", json!({"paging": {"all": true}}))
        .await;
    assert_eq!(all.as_array().expect("campaigns").len(), 4);
    let recent = env
        .data(&id, "campaigns.recent", json!({"paging": {"all": true}}))
        .await;
    assert_eq!(recent.as_array().expect("campaigns").len(), 4);
    assert!(recent[0]["lastUpdatedTime"].is_number(), "{recent}");
    let one = env
        .data(
            &id,
            "campaigns.get",
            json!({"parameters": {"campaignId": all[0]["id"].to_string(), "appId": all[0]["appId"].to_string()}}),
        )
        .await;
    assert!(one["counters"]["sent"].is_number(), "{one}");

    let created = env
        .data(
            &id,
            "marketing_campaigns.create",
            json!({"parameters": {"properties": {"hs_name": "Autumn fair", "hs_start_date": "2026-10-01"}}}),
        )
        .await;
    let guid = created["id"].as_str().expect("id").to_string();
    let found = env
        .data(
            &id,
            "marketing_campaigns.list",
            json!({"parameters": {"name": "autumn"}}),
        )
        .await;
    assert_eq!(strings(&found, "id"), vec![guid.clone()]);
    let all = env
        .data(
            &id,
            "marketing_campaigns.list",
            json!({"paging": {"all": true}}),
        )
        .await;
    assert_eq!(all.as_array().expect("campaigns").len(), 4);
    let got = env
        .data(
            &id,
            "marketing_campaigns.get",
            json!({"parameters": {"campaignGuid": guid}}),
        )
        .await;
    assert_eq!(got["properties"]["hs_name"], "Autumn fair", "{got}");
    env.answered(
        &id,
        "marketing_campaigns.create",
        json!({"parameters": {"properties": {"hs_name": "AUTUMN FAIR"}}}),
        StatusCode::CONFLICT,
    )
    .await;

    // The default installation was not granted the marketing campaigns scopes.
    let plain = env.new_installation("acme", json!({})).await;
    env.connect("acme", &plain, "Acme Inc", "allow").await;
    env.refused(
        &plain,
        "marketing_campaigns.list",
        json!({}),
        StatusCode::FORBIDDEN,
        "missing_scopes",
    )
    .await;
}

#[tokio::test]
async fn call_dispositions_and_engagement_windows() {
    let env = TestEnv::start().await;
    let id = env.connected().await;
    let dispositions = env.data(&id, "calls.dispositions", json!({})).await;
    let labels = strings(&dispositions, "label");
    assert_eq!(labels.len(), 6, "{dispositions}");
    assert!(labels.contains(&"Connected".to_string()));

    let mut calls = Vec::new();
    for title in ["First", "Second"] {
        let data = env
            .data(
                &id,
                "calls.create",
                json!({"fields": {"hs_call_title": title, "hs_timestamp": "2026-03-01T10:00:00Z"}}),
            )
            .await;
        calls.push(data["id"].as_str().expect("id").to_string());
    }
    let new = env
        .data(
            &id,
            "calls.list_new",
            json!({"parameters": {"since": "2020-01-01T00:00:00Z"}, "paging": {"all": true}}),
        )
        .await;
    assert_eq!(strings(&new, "id"), calls);
    env.data(
        &id,
        "calls.update",
        json!({"parameters": {"id": calls[0]}, "fields": {"hs_call_title": "First, again"}}),
    )
    .await;
    let updated = env
        .data(
            &id,
            "calls.list_updated",
            json!({"parameters": {"since": "2020-01-01T00:00:00Z"}, "paging": {"all": true}}),
        )
        .await;
    assert_eq!(
        strings(&updated, "id"),
        vec![calls[1].clone(), calls[0].clone()]
    );
    let none = env
        .data(
            &id,
            "notes.list_new",
            json!({"parameters": {"since": "2020-01-01T00:00:00Z"}}),
        )
        .await;
    assert_eq!(none, json!([]));
}

#[tokio::test]
async fn contacts_are_upserted_by_email() {
    let env = TestEnv::start().await;
    let id = env.connected().await;
    let first = env
        .data(
            &id,
            "contacts.upsert",
            json!({"parameters": {"email": "ada@example.com"}, "fields": {"firstname": "Ada"}}),
        )
        .await;
    assert_eq!(first["new"], true, "{first}");
    let second = env
        .data(
            &id,
            "contacts.upsert",
            json!({"parameters": {"email": "ada@example.com"}, "fields": {"lastname": "Lovelace"}}),
        )
        .await;
    assert_eq!(second["new"], false, "{second}");
    assert_eq!(second["id"], first["id"]);
    let all = env
        .data(&id, "contacts.list", json!({"paging": {"all": true}}))
        .await;
    assert_eq!(all.as_array().expect("contacts").len(), 1, "{all}");
    let got = env
        .data(
            &id,
            "contacts.get_by_email",
            json!({"parameters": {"email": "ada@example.com", "properties": "firstname,lastname"}}),
        )
        .await;
    assert_eq!(got["properties"]["firstname"], "Ada");
    assert_eq!(got["properties"]["lastname"], "Lovelace");

    let batch = env
        .data(
            &id,
            "contacts.batch_upsert",
            json!({"parameters": {"inputs": [
                {"email": "ada@example.com", "properties": {"jobtitle": "Analyst"}},
                {"email": "grace@example.com", "properties": {"firstname": "Grace"}}
            ]}}),
        )
        .await;
    let results = batch["results"].as_array().expect("results");
    assert_eq!(results.len(), 2, "{batch}");
    let all = env
        .data(&id, "contacts.list", json!({"paging": {"all": true}}))
        .await;
    assert_eq!(all.as_array().expect("contacts").len(), 2, "{all}");

    // Property names are checked before anything is sent, in batches too.
    let before = env.counter("api_requests").await;
    for (method, input) in [
        (
            "contacts.upsert",
            json!({"parameters": {"email": "x@example.com"}, "fields": {"no_such_thing": "1"}}),
        ),
        (
            "contacts.batch_upsert",
            json!({"parameters": {"inputs": [{"email": "x@example.com", "properties": {"no_such_thing": "1"}}]}}),
        ),
        (
            "contacts.batch_upsert",
            json!({"parameters": {"inputs": [{"properties": {}}]}}),
        ),
    ] {
        env.refused(
            &id,
            method,
            input,
            StatusCode::BAD_REQUEST,
            "invalid_parameters",
        )
        .await;
    }
    assert_eq!(env.counter("api_requests").await, before, "nothing sent");
}

#[tokio::test]
async fn a_contact_is_found_by_its_user_token() {
    let env = TestEnv::start().await;
    let id = env.connected().await;
    let portal = env.portal_id("Acme Inc").await;
    let seeded = env
        .sim_json(
            Method::POST,
            "/_sim/seed",
            Some(json!({"portal_id": portal, "contacts": 2})),
        )
        .await;
    let contact = seeded["first_ids"]["contacts"].as_u64().expect("first id");
    let utk = env
        .sim_json(
            Method::GET,
            &format!("/_sim/contacts/{portal}/{contact}/utk"),
            None,
        )
        .await["utk"]
        .as_str()
        .expect("utk")
        .to_string();
    let found = env
        .data(
            &id,
            "contacts.get_by_user_token",
            json!({"parameters": {"utk": utk}}),
        )
        .await;
    assert_eq!(found["vid"], contact, "{found}");
    assert!(found["properties"]["email"]["value"].is_string(), "{found}");
    let unknown = env
        .ok(
            &id,
            "contacts.get_by_user_token",
            json!({"parameters": {"utk": "0123456789abcdef0123456789abcdef"}}),
        )
        .await;
    assert_eq!(unknown["data"], Value::Null, "{unknown}");
}

#[tokio::test]
async fn owners_by_date_and_contacts_by_owner() {
    let env = TestEnv::start().await;
    let id = env.connected().await;
    let owners = env
        .data(
            &id,
            "owners.list_new",
            json!({"parameters": {"since": "2000-01-01T00:00:00Z"}, "paging": {"all": true}}),
        )
        .await;
    assert_eq!(owners.as_array().expect("owners").len(), 4, "{owners}");
    for method in ["owners.list_new", "owners.list_updated"] {
        let none = env
            .data(
                &id,
                method,
                json!({"parameters": {"since": "2999-01-01T00:00:00Z"}, "paging": {"all": true}}),
            )
            .await;
        assert_eq!(none, json!([]), "{method}");
    }

    let sam = owners
        .as_array()
        .expect("owners")
        .iter()
        .find(|o| o["email"] == "sam.rivera@acme.example")
        .expect("Sam")["id"]
        .as_str()
        .expect("id")
        .to_string();
    let ada = env
        .contact(
            &id,
            json!({"email": "ada@example.com", "hubspot_owner_id": sam}),
        )
        .await;
    env.contact(&id, json!({"email": "bob@example.com"})).await;
    let grace = env
        .contact(
            &id,
            json!({"email": "grace@example.com", "hubspot_owner_id": sam}),
        )
        .await;
    let held = env
        .data(
            &id,
            "contacts.list_by_owner",
            json!({"parameters": {"ownerId": sam}, "paging": {"all": true}}),
        )
        .await;
    let mut ids = strings(&held, "id");
    ids.sort();
    let mut expected = vec![ada.clone(), grace.clone()];
    expected.sort();
    assert_eq!(ids, expected);
    let new = env
        .data(
            &id,
            "contacts.list_new_by_owner",
            json!({"parameters": {"ownerId": sam, "since": "2020-01-01T00:00:00Z"}, "paging": {"all": true}}),
        )
        .await;
    assert_eq!(strings(&new, "id"), vec![ada, grace]);
}

#[tokio::test]
async fn companies_by_domain_and_their_contacts() {
    let env = TestEnv::start().await;
    let id = env.connected().await;
    let company = env
        .data(
            &id,
            "companies.create",
            json!({"fields": {"name": "Initech", "domain": "initech.example"}}),
        )
        .await["id"]
        .as_str()
        .expect("id")
        .to_string();
    let found = env
        .data(
            &id,
            "companies.get_by_domain",
            json!({"parameters": {"domain": "initech.example", "properties": ["name"]}}),
        )
        .await;
    assert_eq!(found["id"], company.as_str(), "{found}");
    assert_eq!(found["properties"]["name"], "Initech");
    let none = env
        .data(
            &id,
            "companies.get_by_domain",
            json!({"parameters": {"domain": "nowhere.example"}}),
        )
        .await;
    assert_eq!(none, Value::Null);

    let ada = env.contact(&id, json!({"email": "ada@example.com"})).await;
    env.data(
        &id,
        "contacts.associate_company",
        json!({"parameters": {"contactId": ada, "companyId": company}}),
    )
    .await;
    let contacts = env
        .data(
            &id,
            "companies.contacts",
            json!({"parameters": {"companyId": company}, "paging": {"all": true}}),
        )
        .await;
    assert_eq!(strings(&contacts, "toObjectId"), vec![ada]);
}

#[tokio::test]
async fn custom_properties_are_listed_and_known_at_once() {
    let env = TestEnv::start().await;
    let id = env.connected().await;
    for object_type in ["contacts", "companies", "deals", "products"] {
        let custom = env
            .data(
                &id,
                &format!("{object_type}.list_custom_properties"),
                json!({}),
            )
            .await;
        assert_eq!(custom["results"], json!([]), "{object_type}: {custom}");
    }
    // A write caches the portal's contact properties …
    env.contact(&id, json!({"email": "ada@example.com"})).await;
    let groups = env
        .data(&id, "contacts.list_property_groups", json!({}))
        .await;
    env.data(
        &id,
        "contacts.create_property",
        json!({"parameters": {"name": "shoe_size", "label": "Shoe size", "type": "number",
                              "fieldType": "number", "groupName": groups["results"][0]["name"]}}),
    )
    .await;
    // … and the new property is known at once, not a minute later.
    env.create(
        &id,
        "contacts",
        json!({"email": "bob@example.com", "shoe_size": "44"}),
    )
    .await;
    let custom = env
        .data(&id, "contacts.list_custom_properties", json!({}))
        .await;
    assert_eq!(strings(&custom["results"], "name"), vec!["shoe_size"]);
    let all = env.data(&id, "contacts.list_properties", json!({})).await;
    assert!(all["results"].as_array().expect("properties").len() > 1);

    // A refused property change is not about record values.
    let body = env
        .answered(
            &id,
            "contacts.delete_property",
            json!({"parameters": {"name": "email"}}),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    let message = body["error"]["message"].as_str().expect("message");
    assert!(
        message.starts_with("HubSpot refused `contacts.delete_property`"),
        "{message}"
    );
}
