//! The properties API, legacy v2 property list, schemas.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::crm_support::*;

#[tokio::test]
async fn built_in_definitions() {
    let c = crm().await;
    for path in ["/crm/v3/properties/contacts", "/crm/properties/2026-03/0-1"] {
        let r = c.get(path).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let email = named(&r.body["results"], "email");
        assert_eq!(email["type"], "string");
        assert_eq!(email["fieldType"], "text");
        assert_eq!(email["hasUniqueValue"], true);
        assert_eq!(email["groupName"], "contactinformation");
        let stage = named(&r.body["results"], "lifecyclestage");
        assert_eq!(stage["type"], "enumeration");
        assert!(
            stage["options"]
                .as_array()
                .unwrap()
                .iter()
                .any(|o| o["value"] == "customer")
        );
        let id = named(&r.body["results"], "hs_object_id");
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
    let email = named(&v2.body, "email");
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
    let bad = c.try_create("contacts", json!({"shoe_size": "xl"})).await;
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
    c.try_update("contacts", &id, json!({"shoe_size": "xl"}))
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
        .try_update("contacts", &id, json!({"shoe_size": "s"}))
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
        .try_create("companies", json!({"name": "B", "erp_id": "E-1"}))
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
    let r = c.get_as(&read_only, "/crm/v3/properties/contacts").await;
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

fn text_def(name: &str, group: &str) -> Value {
    json!({"name": name, "label": name, "type": "string", "fieldType": "text", "groupName": group})
}

#[tokio::test]
async fn batch_create_read_archive() {
    let c = crm().await;
    for base in ["/crm/v3/properties/contacts", "/crm/properties/2026-03/0-1"] {
        let (a, b) = if base.contains("v3") {
            ("erp_a", "erp_b")
        } else {
            ("erp_c", "erp_d")
        };
        let r = c
            .post(
                &format!("{base}/batch/create"),
                json!({"inputs": [text_def(a, "contactinformation"), text_def(b, "emailinformation")]}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(r.body["status"], "COMPLETE");
        assert_eq!(r.body["results"][1]["name"], b);
        assert_eq!(r.body["results"][1]["groupName"], "emailinformation");
        assert!(is_iso(&r.body["startedAt"]) && is_iso(&r.body["completedAt"]));

        let r = c
            .post(
                &format!("{base}/batch/read"),
                json!({"inputs": [{"name": a}, {"name": "email"}, {"name": a}]}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let names: Vec<&str> = r.body["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, [a, "email"]);
        assert!(r.body.get("errors").is_none());

        let r = c
            .post(
                &format!("{base}/batch/archive"),
                json!({"inputs": [{"name": a}, {"name": "never_was"}]}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
        let r = c
            .post(
                &format!("{base}/batch/read"),
                json!({"inputs": [{"name": a}, {"name": b}, {"name": "never_was"}]}),
            )
            .await;
        assert_eq!(r.status, StatusCode::MULTI_STATUS, "{}", r.body);
        assert_eq!(r.body["results"].as_array().unwrap().len(), 1);
        assert_eq!(r.body["numErrors"], 1);
        assert_eq!(r.body["errors"][0]["category"], "OBJECT_NOT_FOUND");
        assert_eq!(
            r.body["errors"][0]["context"]["names"],
            json!([a, "never_was"])
        );
        let r = c
            .post(
                &format!("{base}/batch/read"),
                json!({"inputs": [{"name": a}], "archived": true}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["results"][0]["archived"], true);
    }
}

#[tokio::test]
async fn batch_errors_and_scopes() {
    let c = crm().await;
    let base = "/crm/v3/properties/companies";
    // All or nothing: one bad input (unknown group) creates nothing.
    let r = c
        .post(
            &format!("{base}/batch/create"),
            json!({"inputs": [text_def("ok_one", "companyinformation"), text_def("bad_one", "nogroup")]}),
        )
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert_eq!(
        c.get(&format!("{base}/ok_one")).await.status,
        StatusCode::NOT_FOUND
    );
    let r = c
        .post(
            &format!("{base}/batch/create"),
            json!({"inputs": [text_def("twice", "companyinformation"), text_def("twice", "companyinformation")]}),
        )
        .await;
    assert_error(&r, StatusCode::CONFLICT, "OBJECT_ALREADY_EXISTS");
    let r = c
        .post(
            &format!("{base}/batch/create"),
            json!({"inputs": [text_def("name", "companyinformation")]}),
        )
        .await;
    assert_error(&r, StatusCode::CONFLICT, "OBJECT_ALREADY_EXISTS");
    let r = c
        .post(
            &format!("{base}/batch/create"),
            json!({"inputs": [{"name": "hs_x", "label": "x", "type": "string", "fieldType": "text", "groupName": "companyinformation"}]}),
        )
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");

    // Limits: 100 inputs at most.
    let many: Vec<Value> = (0..101).map(|i| json!({"name": format!("p{i}")})).collect();
    let r = c
        .post(&format!("{base}/batch/read"), json!({"inputs": many}))
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    let hundred: Vec<Value> = (0..100)
        .map(|i| text_def(&format!("p{i}"), "companyinformation"))
        .collect();
    let r = c
        .post(&format!("{base}/batch/create"), json!({"inputs": hundred}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["results"].as_array().unwrap().len(), 100);

    // A built-in name fails the archive batch before anything is archived.
    let r = c
        .post(
            &format!("{base}/batch/archive"),
            json!({"inputs": [{"name": "p1"}, {"name": "domain"}]}),
        )
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert_eq!(c.get(&format!("{base}/p1")).await.status, StatusCode::OK);
    let r = c
        .post(&format!("{base}/batch/archive"), json!({"inputs": [{}]}))
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");

    // Non-JSON body → 415.
    let resp = c
        .sim
        .http
        .post(c.sim.url(&format!("{base}/batch/read")))
        .bearer_auth(&c.token)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    let r = reply(resp).await;
    assert_error(&r, StatusCode::UNSUPPORTED_MEDIA_TYPE, "VALIDATION_ERROR");

    // Scopes: reading needs a read scope, create/archive a write scope.
    let none = sim_token(&c.sim, crate::support::ACME_INC, &["oauth"]).await;
    let r = c
        .call_as(
            &none,
            Method::POST,
            &format!("{base}/batch/read"),
            Some(json!({"inputs": [{"name": "name"}]})),
        )
        .await;
    assert_error(&r, StatusCode::FORBIDDEN, "MISSING_SCOPES");
    let read_only = sim_token(
        &c.sim,
        crate::support::ACME_INC,
        &["crm.objects.deals.read"],
    )
    .await;
    let r = c
        .call_as(
            &read_only,
            Method::POST,
            &format!("{base}/batch/read"),
            Some(json!({"inputs": [{"name": "name"}]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    for action in ["create", "archive"] {
        let r = c
            .call_as(
                &read_only,
                Method::POST,
                &format!("{base}/batch/{action}"),
                Some(json!({"inputs": [{"name": "p2"}]})),
            )
            .await;
        assert_error(&r, StatusCode::FORBIDDEN, "MISSING_SCOPES");
    }
}

#[tokio::test]
async fn property_group_lifecycle() {
    let c = crm().await;
    let base = "/crm/v3/properties/contacts/groups";
    let r = c
        .post(
            base,
            json!({"name": "erp", "label": "ERP", "displayOrder": 5}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(
        r.body,
        json!({"name": "erp", "label": "ERP", "displayOrder": 5, "archived": false})
    );
    let dup = c.post(base, json!({"name": "erp", "label": "Again"})).await;
    assert_error(&dup, StatusCode::CONFLICT, "OBJECT_ALREADY_EXISTS");
    for bad in [
        json!({"name": "Bad Name", "label": "x"}),
        json!({"label": "x"}),
        json!({"name": "nolabel"}),
        json!({"name": "blank", "label": " "}),
    ] {
        let r = c.post(base, bad).await;
        assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    }
    let list = c.get(base).await;
    assert!(
        list.body["results"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["name"] == "erp")
    );
    let got = c.get("/crm/properties/2026-03/contacts/groups/erp").await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body["label"], "ERP");
    let upd = c
        .patch(&format!("{base}/erp"), json!({"label": "ERP data"}))
        .await;
    assert_eq!(upd.status, StatusCode::OK, "{}", upd.body);
    assert_eq!(upd.body["label"], "ERP data");
    assert_eq!(upd.body["displayOrder"], 5);

    // Properties may use the new group; unknown groups are refused.
    let r = c
        .post("/crm/v3/properties/contacts", text_def("erp_id", "erp"))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["groupName"], "erp");
    let r = c
        .post(
            "/crm/v3/properties/contacts",
            text_def("lost", "no_such_group"),
        )
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    let r = c
        .patch(
            "/crm/v3/properties/contacts/erp_id",
            json!({"groupName": "no_such_group"}),
        )
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");

    // A group in use cannot be deleted; once its properties are archived it can.
    let r = c.delete(&format!("{base}/erp")).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert!(r.body["message"].as_str().unwrap().contains("erp_id"));
    let r = c.delete("/crm/v3/properties/contacts/erp_id").await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = c.delete(&format!("{base}/erp")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_error(
        &c.get(&format!("{base}/erp")).await,
        StatusCode::NOT_FOUND,
        "OBJECT_NOT_FOUND",
    );
    assert_error(
        &c.delete(&format!("{base}/erp")).await,
        StatusCode::NOT_FOUND,
        "OBJECT_NOT_FOUND",
    );
    let r = c
        .post("/crm/v3/properties/contacts", text_def("erp_two", "erp"))
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");

    // Built-in groups cannot be deleted or changed.
    let r = c.delete(&format!("{base}/contactinformation")).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    let r = c
        .patch(&format!("{base}/contactinformation"), json!({"label": "x"}))
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");

    // Scopes: writes need a write scope.
    let read_only = sim_token(
        &c.sim,
        crate::support::ACME_INC,
        &["crm.objects.deals.read"],
    )
    .await;
    let r = c
        .call_as(
            &read_only,
            Method::POST,
            base,
            Some(json!({"name": "mine", "label": "Mine"})),
        )
        .await;
    assert_error(&r, StatusCode::FORBIDDEN, "MISSING_SCOPES");
    let r = c
        .get_as(&read_only, &format!("{base}/contactinformation"))
        .await;
    assert_eq!(r.status, StatusCode::OK);
}
