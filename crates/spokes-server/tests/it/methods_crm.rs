//! The CRM methods beyond records: engagements, owners, pipelines, property definitions and
//! associations, through Spokes' method API against the simulator.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::TestEnv;
use crate::methods::method_of;

impl TestEnv {
    /// An `Acme Inc` installation that was also granted `tickets` (and `e-commerce`).
    async fn connected_for_crm(&self) -> String {
        self.connected_with(json!({"OptionalScopes": "content reports e-commerce forms tickets"}))
            .await
    }
}

/// A record's `id`, or an association's `toObjectId` (a number or a string), as text.
fn id_of(record: &Value) -> String {
    match &record["toObjectId"] {
        Value::Null => record["id"].as_str().expect("id").to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The ids of `records` (or of the records an association list points to).
pub fn ids_of(records: &Value) -> Vec<String> {
    records
        .as_array()
        .expect("records")
        .iter()
        .map(id_of)
        .collect()
}

#[tokio::test]
async fn the_catalogue_has_the_crm_categories() {
    let env = TestEnv::start().await;
    let methods = env.catalogue().await;
    let category_of = |id: &str| method_of(&methods, id)["category"].clone();
    for (id, category) in [
        ("notes.create", "Engagements"),
        ("calls.list", "Engagements"),
        ("emails.get", "Engagements"),
        ("owners.get_by_email", "Owners"),
        ("deals.stages", "Pipelines"),
        ("tickets.pipelines", "Pipelines"),
        ("contacts.create_property", "Contact Properties"),
        ("companies.list_property_groups", "Company Properties"),
        ("deals.delete_property", "Deal Properties"),
        ("products.create_property_group", "Product Properties"),
        ("associations.batch_create", "Associations"),
        ("contacts.associate_company", "Company Members"),
        ("contacts.companies", "Company Members"),
        ("companies.deals", "Deals"),
        ("deals.line_items", "Line Items"),
    ] {
        assert_eq!(category_of(id), category, "{id}");
    }

    let (_, associate) = env
        .get_json("/v1/connectors/hubspot/methods/contacts.associate_company")
        .await;
    assert_eq!(associate["request"]["method"], "PUT");
    assert_eq!(
        associate["request"]["path"],
        "/crm/v4/objects/contacts/{contactId}/associations/default/companies/{companyId}"
    );
    assert_eq!(
        associate["required_scopes"],
        json!([
            [
                "crm.objects.contacts.read",
                "crm.objects.contacts.write",
                "crm.objects.companies.read",
                "crm.objects.companies.write"
            ],
            ["contacts"]
        ])
    );
    let (_, emails) = env
        .get_json("/v1/connectors/hubspot/methods/emails.list")
        .await;
    assert_eq!(
        emails["required_scopes"],
        json!([
            ["crm.objects.contacts.read"],
            ["sales-email-read"],
            ["contacts"]
        ])
    );
    let (_, create) = env
        .get_json("/v1/connectors/hubspot/methods/contacts.create_property")
        .await;
    assert_eq!(
        create["request"]["path"],
        "/crm/properties/2026-03/contacts"
    );
}

#[tokio::test]
async fn a_note_round_trips_and_needs_a_timestamp() {
    let env = TestEnv::start().await;
    let id = env.connected_for_crm().await;
    let before = env.counter("api_requests").await;
    let body = env
        .refused(
            &id,
            "notes.create",
            json!({"fields": {"hs_note_body": "No time"}}),
            StatusCode::BAD_REQUEST,
            "invalid_parameters",
        )
        .await;
    assert!(
        body["error"]["message"]
            .as_str()
            .expect("message")
            .contains("missing required field `hs_timestamp`"),
        "{body}"
    );
    assert_eq!(env.counter("api_requests").await, before, "nothing sent");

    let note = env
        .create(
            &id,
            "notes",
            json!({"hs_note_body": "Called Ada", "hs_timestamp": "2026-03-01T10:00:00Z"}),
        )
        .await;
    let updated = env
        .data(
            &id,
            "notes.update",
            json!({"parameters": {"id": note}, "fields": {"hs_note_body": "Called Ada back"}}),
        )
        .await;
    assert_eq!(updated["properties"]["hs_note_body"], "Called Ada back");
    let got = env
        .data(
            &id,
            "notes.get",
            json!({"parameters": {"id": note, "properties": "hs_note_body,hs_timestamp"}}),
        )
        .await;
    assert_eq!(got["properties"]["hs_note_body"], "Called Ada back");
    assert_eq!(
        got["properties"]["hs_timestamp"],
        "2026-03-01T10:00:00.000Z"
    );
    let listed = env
        .data(&id, "notes.list", json!({"paging": {"all": true}}))
        .await;
    assert_eq!(ids_of(&listed), vec![note.clone()]);

    // The other engagement types take the same shape.
    for (object_type, fields) in [
        ("tasks", json!({"hs_task_subject": "Send the offer"})),
        ("calls", json!({"hs_call_title": "Intro call"})),
        ("meetings", json!({"hs_meeting_title": "Kick-off"})),
        ("emails", json!({"hs_email_subject": "Welcome"})),
    ] {
        let mut fields = fields;
        fields["hs_timestamp"] = json!("2026-03-02T09:00:00Z");
        let record = env.create(&id, object_type, fields).await;
        let got = env
            .data(
                &id,
                &format!("{object_type}.get"),
                json!({"parameters": {"id": record}}),
            )
            .await;
        assert_eq!(got["id"], record.as_str(), "{object_type}");
    }

    let deleted = env
        .data(&id, "notes.delete", json!({"parameters": {"id": note}}))
        .await;
    assert_eq!(deleted, Value::Null);
    env.refused(
        &id,
        "notes.get",
        json!({"parameters": {"id": note}}),
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn owners_are_listed_and_found() {
    let env = TestEnv::start().await;
    let id = env.connected().await;
    let owners = env
        .data(&id, "owners.list", json!({"paging": {"limit": 2}}))
        .await;
    assert_eq!(owners.as_array().expect("owners").len(), 2, "{owners}");
    let all = env
        .data(&id, "owners.list", json!({"paging": {"all": true}}))
        .await;
    let emails: Vec<&str> = all
        .as_array()
        .expect("owners")
        .iter()
        .filter_map(|o| o["email"].as_str())
        .collect();
    assert_eq!(emails.len(), 4, "active owners: {emails:?}");
    assert!(emails.contains(&"owner@acme.example"), "{emails:?}");

    let found = env
        .data(
            &id,
            "owners.get_by_email",
            json!({"parameters": {"email": "Sam.Rivera@acme.example"}}),
        )
        .await;
    // The owner itself, not a list of one.
    assert_eq!(found["firstName"], "Sam", "{found}");
    assert_eq!(found["email"], "sam.rivera@acme.example");
    let owner_id = found["id"].as_str().expect("id").to_string();

    let got = env
        .data(&id, "owners.get", json!({"parameters": {"id": owner_id}}))
        .await;
    assert_eq!(got["email"], "sam.rivera@acme.example");
    let by_user = env
        .data(
            &id,
            "owners.get",
            json!({"parameters": {"id": got["userId"].to_string(), "idProperty": "userId"}}),
        )
        .await;
    assert_eq!(by_user["id"], owner_id.as_str());
}

#[tokio::test]
async fn an_unknown_owner_email_answers_null() {
    let env = TestEnv::start().await;
    let id = env.connected().await;
    let body = env
        .ok(
            &id,
            "owners.get_by_email",
            json!({"parameters": {"email": "nobody@acme.example"}}),
        )
        .await;
    assert_eq!(body["data"], Value::Null, "{body}");
    assert!(body["paging"]["next"].is_null(), "one answer: {body}");
}

#[tokio::test]
async fn deal_and_ticket_pipelines_are_read() {
    let env = TestEnv::start().await;
    let id = env.connected_for_crm().await;
    let deals = env.data(&id, "deals.pipelines", json!({})).await;
    let pipeline = &deals["results"][0];
    assert_eq!(pipeline["id"], "default", "{deals}");
    assert_eq!(pipeline["stages"][0]["id"], "appointmentscheduled");

    let stages = env
        .data(
            &id,
            "deals.stages",
            json!({"parameters": {"pipelineId": "default"}}),
        )
        .await;
    let stage_ids = ids_of(&stages["results"]);
    assert_eq!(stage_ids.len(), 7, "{stages}");
    assert!(stage_ids.contains(&"closedwon".to_string()));

    let tickets = env.data(&id, "tickets.pipelines", json!({})).await;
    assert_eq!(tickets["results"][0]["id"], "0", "{tickets}");
    assert_eq!(
        tickets["results"][0]["stages"][3]["metadata"]["ticketState"],
        "CLOSED"
    );
}

#[tokio::test]
async fn contact_properties_are_managed() {
    let env = TestEnv::start().await;
    let id = env.connected().await;
    let groups = env
        .data(&id, "contacts.list_property_groups", json!({}))
        .await;
    let group = groups["results"][0]["name"]
        .as_str()
        .expect("a built-in group")
        .to_string();

    let created = env
        .data(
            &id,
            "contacts.create_property",
            json!({"parameters": {
                "name": "favourite_colour", "label": "Favourite colour", "type": "enumeration",
                "fieldType": "select", "groupName": group,
                "options": [{"label": "Red", "value": "red"}, {"label": "Blue", "value": "blue"}]
            }}),
        )
        .await;
    assert_eq!(created["name"], "favourite_colour", "{created}");
    assert_eq!(created["hubspotDefined"], false);

    env.answered(&id,
            "contacts.create_property",
            json!({"parameters": {"name": "favourite_colour", "label": "Again", "type": "string", "fieldType": "text", "groupName": group}}), StatusCode::CONFLICT).await;

    let updated = env
        .data(
            &id,
            "contacts.update_property",
            json!({"parameters": {"name": "favourite_colour", "label": "Colour"}}),
        )
        .await;
    assert_eq!(updated["label"], "Colour");
    let got = env
        .data(
            &id,
            "contacts.get_property",
            json!({"parameters": {"name": "favourite_colour"}}),
        )
        .await;
    assert_eq!(got["label"], "Colour");
    assert_eq!(got["options"].as_array().expect("options").len(), 2);
    let listed = env.data(&id, "contacts.list_properties", json!({})).await;
    assert!(
        listed["results"]
            .as_array()
            .expect("properties")
            .iter()
            .any(|p| p["name"] == "favourite_colour" && p["hubspotDefined"] == false),
        "{listed}"
    );

    let deleted = env
        .data(
            &id,
            "contacts.delete_property",
            json!({"parameters": {"name": "favourite_colour"}}),
        )
        .await;
    assert_eq!(deleted, Value::Null);
    env.answered(
        &id,
        "contacts.get_property",
        json!({"parameters": {"name": "favourite_colour"}}),
        StatusCode::NOT_FOUND,
    )
    .await;
    let archived = env
        .data(
            &id,
            "contacts.get_property",
            json!({"parameters": {"name": "favourite_colour", "archived": true}}),
        )
        .await;
    assert_eq!(archived["archived"], true);

    // HubSpot's own properties cannot be deleted.
    env.refused(
        &id,
        "contacts.delete_property",
        json!({"parameters": {"name": "email"}}),
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
}

#[tokio::test]
async fn a_product_property_group_is_created() {
    let env = TestEnv::start().await;
    let id = env.connected().await;
    let group = env
        .data(
            &id,
            "products.create_property_group",
            json!({"parameters": {"name": "shipping", "label": "Shipping", "displayOrder": 3}}),
        )
        .await;
    assert_eq!(group["name"], "shipping", "{group}");
    let groups = env
        .data(&id, "products.list_property_groups", json!({}))
        .await;
    assert!(
        groups["results"]
            .as_array()
            .expect("groups")
            .iter()
            .any(|g| g["name"] == "shipping" && g["label"] == "Shipping"),
        "{groups}"
    );
    let property = env
        .data(
            &id,
            "products.create_property",
            json!({"parameters": {"name": "weight_kg", "label": "Weight (kg)", "type": "number", "fieldType": "number", "groupName": "shipping"}}),
        )
        .await;
    assert_eq!(property["groupName"], "shipping");
}

#[tokio::test]
async fn contacts_join_and_leave_companies() {
    let env = TestEnv::start().await;
    let id = env.connected().await;
    let ada = env
        .create(&id, "contacts", json!({"email": "ada@example.com"}))
        .await;
    let grace = env
        .create(&id, "contacts", json!({"email": "grace@example.com"}))
        .await;
    let initech = env
        .create(&id, "companies", json!({"name": "Initech"}))
        .await;
    let globex = env
        .create(&id, "companies", json!({"name": "Globex"}))
        .await;

    let joined = env
        .data(
            &id,
            "contacts.associate_company",
            json!({"parameters": {"contactId": ada, "companyId": initech}}),
        )
        .await;
    assert_eq!(joined["status"], "COMPLETE", "{joined}");

    // A batch with a label: Grace's primary company is Globex.
    let batch = env
        .data(
            &id,
            "associations.batch_create",
            json!({"parameters": {
                "fromObjectType": "contacts", "toObjectType": "companies",
                "inputs": [
                    {"from": {"id": grace}, "to": {"id": globex},
                     "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}]},
                    {"from": {"id": ada}, "to": {"id": globex},
                     "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}]}
                ]
            }}),
        )
        .await;
    assert_eq!(batch["status"], "COMPLETE", "{batch}");
    let default = env
        .data(
            &id,
            "associations.batch_create_default",
            json!({"parameters": {
                "fromObjectType": "contacts", "toObjectType": "companies",
                "inputs": [{"from": {"id": grace}, "to": {"id": initech}}]
            }}),
        )
        .await;
    assert_eq!(default["status"], "COMPLETE", "{default}");

    let companies = env
        .data(
            &id,
            "contacts.companies",
            json!({"parameters": {"contactId": ada}, "paging": {"all": true}}),
        )
        .await;
    assert_eq!(ids_of(&companies), vec![initech.clone(), globex.clone()]);
    let graces = env
        .data(
            &id,
            "contacts.companies",
            json!({"parameters": {"contactId": grace}}),
        )
        .await;
    let primary = graces
        .as_array()
        .expect("companies")
        .iter()
        .find(|c| id_of(c) == globex)
        .expect("Globex");
    assert!(
        primary["associationTypes"]
            .as_array()
            .expect("types")
            .iter()
            .any(|t| t["label"] == "Primary"),
        "{graces}"
    );

    let left = env
        .data(
            &id,
            "contacts.disassociate_company",
            json!({"parameters": {"contactId": ada, "companyId": initech}}),
        )
        .await;
    assert_eq!(left, Value::Null);
    let companies = env
        .data(
            &id,
            "contacts.companies",
            json!({"parameters": {"contactId": ada}}),
        )
        .await;
    assert_eq!(ids_of(&companies), vec![globex]);

    // Unknown records are HubSpot's 404.
    env.answered(
        &id,
        "contacts.associate_company",
        json!({"parameters": {"contactId": "999999999", "companyId": initech}}),
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn deals_are_associated_with_contacts_companies_and_line_items() {
    let env = TestEnv::start().await;
    let id = env.connected().await;
    let ada = env
        .create(&id, "contacts", json!({"email": "ada@example.com"}))
        .await;
    let initech = env
        .create(&id, "companies", json!({"name": "Initech"}))
        .await;
    let deal = env.deal(&id, "Big one", "appointmentscheduled").await;
    let other = env.deal(&id, "Small one", "qualifiedtobuy").await;
    let line = env
        .create(
            &id,
            "line_items",
            json!({"name": "Widgets", "quantity": "2", "price": "10"}),
        )
        .await;

    env.data(
        &id,
        "deals.associate_contact",
        json!({"parameters": {"dealId": deal, "contactId": ada}}),
    )
    .await;
    for d in [&deal, &other] {
        env.data(
            &id,
            "deals.associate_company",
            json!({"parameters": {"dealId": d, "companyId": initech}}),
        )
        .await;
    }
    env.data(
        &id,
        "line_items.associate_deal",
        json!({"parameters": {"lineItemId": line, "dealId": deal}}),
    )
    .await;

    let deals = env
        .data(
            &id,
            "companies.deals",
            json!({"parameters": {"companyId": initech}, "paging": {"limit": 1}}),
        )
        .await;
    assert_eq!(ids_of(&deals), vec![deal.clone()], "one a page");
    let (status, page) = env
        .method(
            &id,
            "companies.deals",
            json!({"parameters": {"companyId": initech}, "paging": {"limit": 1}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let next = page["paging"]["next"].as_str().expect("a next page");
    let second = env
        .data(
            &id,
            "companies.deals",
            json!({"parameters": {"companyId": initech}, "paging": {"limit": 1, "after": next}}),
        )
        .await;
    assert_eq!(ids_of(&second), vec![other.clone()]);

    let lines = env
        .data(
            &id,
            "deals.line_items",
            json!({"parameters": {"dealId": deal}, "paging": {"all": true}}),
        )
        .await;
    assert_eq!(ids_of(&lines), vec![line]);
    let none = env
        .data(
            &id,
            "deals.line_items",
            json!({"parameters": {"dealId": other}}),
        )
        .await;
    assert_eq!(none, json!([]));

    // The deal's contact, read the same way HubSpot stores it (both directions).
    let got = env
        .data(
            &id,
            "deals.get",
            json!({"parameters": {"id": deal, "associations": "contacts"}}),
        )
        .await;
    assert_eq!(
        got["associations"]["contacts"]["results"][0]["id"],
        ada.as_str(),
        "{got}"
    );
}

#[tokio::test]
async fn association_changes_need_both_objects_scopes() {
    let env = TestEnv::start().await;
    env.setup_connector(json!({})).await;
    let id = env
        .new_installation(
            "acme",
            json!({"Scopes": "crm.objects.contacts.read crm.objects.contacts.write crm.objects.companies.read", "OptionalScopes": "forms"}),
        )
        .await;
    env.connect("acme", &id, "Acme Inc", "allow").await;
    let before = env.counter("api_requests").await;
    env.refused(
        &id,
        "contacts.associate_company",
        json!({"parameters": {"contactId": "1", "companyId": "2"}}),
        StatusCode::FORBIDDEN,
        "missing_scopes",
    )
    .await;
    assert_eq!(env.counter("api_requests").await, before, "nothing sent");
    // Reading them takes the read scopes only.
    let body = env
        .ok(
            &id,
            "contacts.companies",
            json!({"parameters": {"contactId": "1"}}),
        )
        .await;
    assert_eq!(body["data"], json!([]));
}
