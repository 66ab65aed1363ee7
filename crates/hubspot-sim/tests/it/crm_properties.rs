//! The properties API, legacy v2 property list, schemas.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::crm_support::*;

fn find<'a>(results: &'a Value, name: &str) -> &'a Value {
    results
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or(&Value::Null)
}

#[tokio::test]
async fn built_in_definitions() {
    let c = crm().await;
    for path in ["/crm/v3/properties/contacts", "/crm/properties/2026-03/0-1"] {
        let r = c.get(path).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let email = find(&r.body["results"], "email");
        assert_eq!(email["type"], "string");
        assert_eq!(email["fieldType"], "text");
        assert_eq!(email["hasUniqueValue"], true);
        assert_eq!(email["groupName"], "contactinformation");
        let stage = find(&r.body["results"], "lifecyclestage");
        assert_eq!(stage["type"], "enumeration");
        assert!(
            stage["options"]
                .as_array()
                .unwrap()
                .iter()
                .any(|o| o["value"] == "customer")
        );
        let id = find(&r.body["results"], "hs_object_id");
        assert_eq!(id["modificationMetadata"]["readOnlyValue"], true);
        assert_eq!(id["hubspotDefined"], true);
    }
    let deals = c.get("/crm/v3/properties/deals/dealstage").await;
    assert_eq!(deals.status, StatusCode::OK);
    let stages: Vec<&str> = deals.body["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["value"].as_str().unwrap())
        .collect();
    assert!(stages.contains(&"appointmentscheduled") && stages.contains(&"closedwon"));
    let amount = c.get("/crm/v3/properties/line_items/amount").await;
    assert_eq!(amount.body["calculated"], true);
    let missing = c.get("/crm/v3/properties/contacts/shoe_size").await;
    assert_error(&missing, StatusCode::NOT_FOUND, "OBJECT_NOT_FOUND");

    let groups = c.get("/crm/v3/properties/companies/groups").await;
    assert_eq!(groups.status, StatusCode::OK);
    assert_eq!(groups.body["results"][0]["name"], "companyinformation");

    let v2 = c.get("/properties/v2/contacts/properties").await;
    assert_eq!(v2.status, StatusCode::OK);
    let email = find(&v2.body, "email");
    assert_eq!(email["readOnlyDefinition"], true);
    assert_eq!(email["deleted"], false);

    let schemas = c.get("/crm/v3/schemas").await;
    assert_eq!(schemas.status, StatusCode::OK);
    assert_eq!(schemas.body, json!({"results": []}));
}

#[tokio::test]
async fn custom_property_lifecycle() {
    let c = crm().await;
    let def = json!({
        "name": "shoe_size",
        "label": "Shoe size",
        "type": "enumeration",
        "fieldType": "select",
        "groupName": "contactinformation",
        "options": [{"label": "Small", "value": "s"}, {"label": "Large", "value": "l"}],
    });
    let r = c.post("/crm/v3/properties/contacts", def.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["hubspotDefined"], false);
    assert_eq!(r.body["options"][1]["value"], "l");
    let dup = c.post("/crm/v3/properties/contacts", def).await;
    assert_error(&dup, StatusCode::CONFLICT, "OBJECT_ALREADY_EXISTS");

    let id = c
        .create("contacts", json!({"email": "f@x.io", "shoe_size": "l"}))
        .await;
    let bad = c
        .post(
            "/crm/v3/objects/contacts",
            json!({"properties": {"shoe_size": "xl"}}),
        )
        .await;
    assert_error(&bad, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert!(
        bad.body["message"]
            .as_str()
            .unwrap()
            .contains("INVALID_OPTION")
    );

    let upd = c
        .patch(
            "/crm/v3/properties/contacts/shoe_size",
            json!({"label": "Shoe", "options": [{"label": "Small", "value": "s"}, {"label": "Large", "value": "l"}, {"label": "XL", "value": "xl"}]}),
        )
        .await;
    assert_eq!(upd.status, StatusCode::OK, "{}", upd.body);
    assert_eq!(upd.body["label"], "Shoe");
    c.patch(
        &format!("/crm/v3/objects/contacts/{id}"),
        json!({"properties": {"shoe_size": "xl"}}),
    )
    .await;
    let got = c
        .get(&format!(
            "/crm/v3/objects/contacts/{id}?properties=shoe_size"
        ))
        .await;
    assert_eq!(got.body["properties"]["shoe_size"], "xl");

    let del = c.delete("/crm/v3/properties/contacts/shoe_size").await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    assert_eq!(
        c.get("/crm/v3/properties/contacts/shoe_size").await.status,
        StatusCode::NOT_FOUND
    );
    let archived = c
        .get("/crm/v3/properties/contacts/shoe_size?archived=true")
        .await;
    assert_eq!(archived.body["archived"], true);
    let list = c.get("/crm/v3/properties/contacts?archived=true").await;
    assert_eq!(list.body["results"].as_array().unwrap().len(), 1);
    let write = c
        .patch(
            &format!("/crm/v3/objects/contacts/{id}"),
            json!({"properties": {"shoe_size": "s"}}),
        )
        .await;
    assert!(
        write.body["message"]
            .as_str()
            .unwrap()
            .contains("PROPERTY_DOESNT_EXIST")
    );
}

#[tokio::test]
async fn unique_custom_property_and_definition_checks() {
    let c = crm().await;
    let r = c
        .post(
            "/crm/properties/2026-03/companies",
            json!({"name": "erp_id", "label": "ERP id", "type": "string", "fieldType": "text",
                   "groupName": "companyinformation", "hasUniqueValue": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = c
        .create("companies", json!({"name": "A", "erp_id": "E-1"}))
        .await;
    let dup = c
        .post(
            "/crm/v3/objects/companies",
            json!({"properties": {"name": "B", "erp_id": "E-1"}}),
        )
        .await;
    assert_error(&dup, StatusCode::CONFLICT, "CONFLICT");
    let by = c
        .get("/crm/v3/objects/companies/E-1?idProperty=erp_id")
        .await;
    assert_eq!(by.body["id"], id.as_str());

    for bad in [
        json!({"name": "hs_mine", "label": "x", "type": "string", "fieldType": "text", "groupName": "companyinformation"}),
        json!({"name": "Bad Name", "label": "x", "type": "string", "fieldType": "text", "groupName": "companyinformation"}),
        json!({"name": "n1", "label": "x", "type": "number", "fieldType": "select", "groupName": "companyinformation"}),
        json!({"name": "n2", "label": "x", "type": "string", "fieldType": "text", "groupName": "nogroup"}),
        json!({"name": "n3", "label": "x", "type": "enumeration", "fieldType": "select", "groupName": "companyinformation"}),
        json!({"name": "n4", "label": "x", "type": "colour", "fieldType": "text", "groupName": "companyinformation"}),
        json!({"label": "x", "type": "string", "fieldType": "text", "groupName": "companyinformation"}),
    ] {
        let r = c.post("/crm/v3/properties/companies", bad.clone()).await;
        assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    }
    let builtin = c.delete("/crm/v3/properties/companies/name").await;
    assert_error(&builtin, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    let builtin = c
        .patch("/crm/v3/properties/companies/name", json!({"label": "Nom"}))
        .await;
    assert_error(&builtin, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
}

#[tokio::test]
async fn property_scopes() {
    let c = crm_with(crate::support::ACME_INC, &["oauth"]).await;
    let r = c.get("/crm/v3/properties/contacts").await;
    assert_error(&r, StatusCode::FORBIDDEN, "MISSING_SCOPES");
    assert_error(
        &c.get("/crm/v3/schemas").await,
        StatusCode::FORBIDDEN,
        "MISSING_SCOPES",
    );
    let read_only = sim_token(
        &c.sim,
        crate::support::ACME_INC,
        &["crm.objects.deals.read"],
    )
    .await;
    let r = c
        .call_as(&read_only, Method::GET, "/crm/v3/properties/contacts", None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = c
        .call_as(
            &read_only,
            Method::POST,
            "/crm/v3/properties/contacts",
            Some(json!({"name": "x1", "label": "x", "type": "string", "fieldType": "text", "groupName": "contactinformation"})),
        )
        .await;
    assert_error(&r, StatusCode::FORBIDDEN, "MISSING_SCOPES");
}
