//! Custom object schemas (`/crm/v3/schemas`, `/crm/schemas/2026-03`).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::crm_support::*;
use crate::support::ACME_INC;

const SCHEMA_SCOPES: &[&str] = &["crm.schemas.custom.read", "crm.schemas.custom.write"];

async fn schemas_crm() -> Crm {
    crm_with(ACME_INC, SCHEMA_SCOPES).await
}

fn car_schema() -> Value {
    json!({
        "name": "cars",
        "labels": {"singular": "Car", "plural": "Cars"},
        "primaryDisplayProperty": "model",
        "requiredProperties": ["model"],
        "searchableProperties": ["model", "vin"],
        "secondaryDisplayProperties": ["year"],
        "properties": [
            {"name": "model", "label": "Model", "type": "string", "fieldType": "text"},
            {"name": "vin", "label": "VIN", "type": "string", "fieldType": "text", "hasUniqueValue": true},
            {"name": "year", "label": "Year", "type": "number", "fieldType": "number"},
            {"name": "colour", "label": "Colour", "type": "enumeration", "fieldType": "select",
             "options": [{"label": "Red", "value": "red"}, {"label": "Blue", "value": "blue"}]}
        ],
        "associatedObjects": ["CONTACT", "COMPANY"]
    })
}

#[tokio::test]
async fn empty_list_then_create_and_get() {
    let c = schemas_crm().await;
    for base in ["/crm/v3/schemas", "/crm/schemas/2026-03"] {
        let r = c.get(base).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body, json!({"results": []}));
    }

    let r = c.post("/crm/v3/schemas", car_schema()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let created = r.body.clone();
    let type_id = created["objectTypeId"].as_str().unwrap().to_owned();
    assert!(type_id.starts_with("2-"), "{type_id}");
    assert_eq!(created["id"], type_id[2..]);
    assert_eq!(created["fullyQualifiedName"], format!("p{ACME_INC}_cars"));
    assert_eq!(created["name"], "cars");
    assert_eq!(
        created["labels"],
        json!({"singular": "Car", "plural": "Cars"})
    );
    assert_eq!(created["primaryDisplayProperty"], "model");
    assert_eq!(created["requiredProperties"], json!(["model"]));
    assert_eq!(created["searchableProperties"], json!(["model", "vin"]));
    assert_eq!(created["secondaryDisplayProperties"], json!(["year"]));
    assert_eq!(created["archived"], false);
    assert!(is_iso(&created["createdAt"]) && is_iso(&created["updatedAt"]));
    let model = named(&created["properties"], "model");
    assert_eq!(model["type"], "string");
    assert_eq!(model["groupName"], "cars_information");
    assert_eq!(model["hubspotDefined"], false);
    assert_eq!(named(&created["properties"], "vin")["hasUniqueValue"], true);
    assert_eq!(
        named(&created["properties"], "colour")["options"][1]["value"],
        "blue"
    );
    let id = named(&created["properties"], "hs_object_id");
    assert_eq!(id["hubspotDefined"], true);
    assert_eq!(id["modificationMetadata"]["readOnlyValue"], true);
    assert!(!named(&created["properties"], "hs_createdate").is_null());
    let assoc = created["associations"].as_array().unwrap();
    assert_eq!(assoc.len(), 2);
    assert_eq!(assoc[0]["fromObjectTypeId"], type_id.as_str());
    assert_eq!(assoc[0]["toObjectTypeId"], "0-1");
    assert_eq!(assoc[1]["toObjectTypeId"], "0-2");
    assert_eq!(assoc[0]["name"], "cars_to_contact");

    for ident in [
        type_id.as_str(),
        &format!("p{ACME_INC}_cars"),
        "cars",
        "CARS",
    ] {
        for base in ["/crm/v3/schemas", "/crm/schemas/2026-03"] {
            let r = c.get(&format!("{base}/{ident}")).await;
            assert_eq!(r.status, StatusCode::OK, "{ident}: {}", r.body);
            assert_eq!(r.body, created);
        }
    }
    let list = c.get("/crm/v3/schemas").await;
    assert_eq!(list.body["results"], json!([created]));

    let missing = c.get("/crm/v3/schemas/boats").await;
    assert_error(&missing, StatusCode::NOT_FOUND, "OBJECT_NOT_FOUND");

    // Schemas belong to a portal.
    let other = sim_token(
        &c.sim,
        crate::support::ACME_DEVELOPER,
        &["crm.schemas.custom.read"],
    )
    .await;
    let r = c.get_as(&other, "/crm/v3/schemas").await;
    assert_eq!(r.body, json!({"results": []}));
}

#[tokio::test]
async fn duplicate_and_invalid_schemas() {
    let c = schemas_crm().await;
    let r = c.post("/crm/schemas/2026-03", car_schema()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let dup = c.post("/crm/v3/schemas", car_schema()).await;
    assert_error(&dup, StatusCode::CONFLICT, "OBJECT_ALREADY_EXISTS");
    let mut upper = car_schema();
    upper["name"] = json!("Cars");
    let dup = c.post("/crm/v3/schemas", upper).await;
    assert_error(&dup, StatusCode::CONFLICT, "OBJECT_ALREADY_EXISTS");

    let edits: Vec<(&str, Value)> = vec![
        ("name", Value::Null),
        ("name", json!("1cars")),
        ("name", json!("bad name")),
        ("name", json!("contacts")),
        ("labels", Value::Null),
        ("labels", json!({"singular": "Boat"})),
        ("labels", json!({"singular": "", "plural": "Boats"})),
        ("properties", Value::Null),
        ("properties", json!([])),
        (
            "properties",
            json!([{"name": "model", "label": "Model", "type": "text", "fieldType": "text"}]),
        ),
        (
            "properties",
            json!([{"name": "model", "label": "Model", "type": "number", "fieldType": "text"}]),
        ),
        (
            "properties",
            json!([{"name": "hs_model", "label": "Model", "type": "string", "fieldType": "text"}]),
        ),
        (
            "properties",
            json!([{"name": "kind", "label": "Kind", "type": "enumeration", "fieldType": "select"}]),
        ),
        (
            "properties",
            json!([{"label": "Model", "type": "string", "fieldType": "text"}]),
        ),
        ("associatedObjects", Value::Null),
        ("associatedObjects", json!(["SPACESHIP"])),
        ("primaryDisplayProperty", json!("wheels")),
        ("requiredProperties", json!(["wheels"])),
        ("searchableProperties", json!(["wheels"])),
        ("secondaryDisplayProperties", json!(["wheels"])),
    ];
    for (field, value) in edits {
        let mut body = car_schema();
        body["name"] = json!("boats");
        if value.is_null() {
            body.as_object_mut().unwrap().remove(field);
        } else {
            body[field] = value;
        }
        let r = c.post("/crm/v3/schemas", body).await;
        assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    }
    let mut twice = car_schema();
    twice["name"] = json!("boats");
    twice["properties"][1]["name"] = json!("model");
    let r = c.post("/crm/v3/schemas", twice).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");

    let list = c.get("/crm/v3/schemas").await;
    assert_eq!(list.body["results"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn scopes() {
    let c = crm_with(ACME_INC, &["crm.objects.contacts.read"]).await;
    let r = c.get("/crm/v3/schemas").await;
    assert_error(&r, StatusCode::FORBIDDEN, "MISSING_SCOPES");
    let r = c.post("/crm/v3/schemas", car_schema()).await;
    assert_error(&r, StatusCode::FORBIDDEN, "MISSING_SCOPES");

    let writer = sim_token(&c.sim, ACME_INC, &["crm.schemas.custom.write"]).await;
    let r = c
        .call_as(&writer, Method::POST, "/crm/v3/schemas", Some(car_schema()))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);

    // Reading takes either read scope; writing only the schemas write scope.
    for scope in ["crm.schemas.custom.read", "crm.objects.custom.read"] {
        let reader = sim_token(&c.sim, ACME_INC, &[scope]).await;
        let r = c.get_as(&reader, "/crm/v3/schemas/cars").await;
        assert_eq!(r.status, StatusCode::OK, "{scope}: {}", r.body);
        for (method, body) in [
            (Method::PATCH, Some(json!({"labels": {"singular": "Auto"}}))),
            (Method::DELETE, None),
        ] {
            let r = c
                .call_as(&reader, method, "/crm/v3/schemas/cars", body)
                .await;
            assert_error(&r, StatusCode::FORBIDDEN, "MISSING_SCOPES");
        }
    }
    let r = c.get_as(&writer, "/crm/v3/schemas").await;
    assert_error(&r, StatusCode::FORBIDDEN, "MISSING_SCOPES");

    let anonymous = c
        .sim
        .http
        .get(c.sim.url("/crm/v3/schemas"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn patch_schema() {
    let c = schemas_crm().await;
    let created = c.post("/crm/v3/schemas", car_schema()).await.body;
    let type_id = created["objectTypeId"].as_str().unwrap();
    let r = c
        .patch(
            &format!("/crm/v3/schemas/{type_id}"),
            json!({
                "labels": {"plural": "Automobiles"},
                "primaryDisplayProperty": "vin",
                "requiredProperties": ["model", "vin"],
                "searchableProperties": [],
                "secondaryDisplayProperties": ["colour", "year"]
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        r.body["labels"],
        json!({"singular": "Car", "plural": "Automobiles"})
    );
    assert_eq!(r.body["primaryDisplayProperty"], "vin");
    assert_eq!(r.body["requiredProperties"], json!(["model", "vin"]));
    assert_eq!(r.body["searchableProperties"], json!([]));
    assert_eq!(
        r.body["secondaryDisplayProperties"],
        json!(["colour", "year"])
    );
    assert_eq!(r.body["createdAt"], created["createdAt"]);
    let got = c.get("/crm/schemas/2026-03/cars").await;
    assert_eq!(got.body, r.body);

    let bad = c
        .patch(
            "/crm/v3/schemas/cars",
            json!({"requiredProperties": ["wheels"]}),
        )
        .await;
    assert_error(&bad, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    let bad = c
        .patch("/crm/v3/schemas/cars", json!({"labels": {"singular": " "}}))
        .await;
    assert_error(&bad, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    let unchanged = c.get("/crm/v3/schemas/cars").await;
    assert_eq!(unchanged.body, r.body);
    let missing = c
        .patch(
            "/crm/v3/schemas/boats",
            json!({"labels": {"singular": "Boat"}}),
        )
        .await;
    assert_error(&missing, StatusCode::NOT_FOUND, "OBJECT_NOT_FOUND");
}

#[tokio::test]
async fn delete_schema() {
    let c = schemas_crm().await;
    let created = c.post("/crm/v3/schemas", car_schema()).await.body;
    let fqn = created["fullyQualifiedName"].as_str().unwrap();

    let r = c.delete(&format!("/crm/v3/schemas/{fqn}")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let gone = c.get("/crm/v3/schemas/cars").await;
    assert_error(&gone, StatusCode::NOT_FOUND, "OBJECT_NOT_FOUND");
    assert_eq!(c.get("/crm/v3/schemas").await.body, json!({"results": []}));
    let archived = c.get("/crm/v3/schemas?archived=true").await;
    assert_eq!(archived.body["results"][0]["name"], "cars");
    assert_eq!(archived.body["results"][0]["archived"], true);
    let again = c.delete("/crm/v3/schemas/cars").await;
    assert_error(&again, StatusCode::NOT_FOUND, "OBJECT_NOT_FOUND");

    // The archived schema keeps its name until it is removed for good.
    let dup = c.post("/crm/v3/schemas", car_schema()).await;
    assert_error(&dup, StatusCode::CONFLICT, "OBJECT_ALREADY_EXISTS");
    let r = c.delete("/crm/schemas/2026-03/cars?archived=true").await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(
        c.get("/crm/v3/schemas?archived=true").await.body,
        json!({"results": []})
    );
    let r = c.post("/crm/v3/schemas", car_schema()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_ne!(r.body["objectTypeId"], created["objectTypeId"]);
}

const RECORD_SCOPES: &[&str] = &[
    "crm.schemas.custom.read",
    "crm.schemas.custom.write",
    "crm.objects.custom.read",
    "crm.objects.custom.write",
];

#[tokio::test]
async fn custom_records_crud() {
    let c = crm_with(ACME_INC, RECORD_SCOPES).await;
    let created = c.post("/crm/v3/schemas", car_schema()).await.body;
    let type_id = created["objectTypeId"].as_str().unwrap().to_owned();
    let fqn = created["fullyQualifiedName"].as_str().unwrap().to_owned();

    let empty = c.get(&format!("/crm/v3/objects/{type_id}")).await;
    assert_eq!(empty.status, StatusCode::OK, "{}", empty.body);
    assert_eq!(empty.body["results"], json!([]));

    let r = c
        .try_create(
            &fqn,
            json!({"model": "Model T", "vin": "V1", "year": "1908", "colour": "red"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(r.body["properties"]["model"], "Model T");
    assert_eq!(r.body["properties"]["hs_object_id"], id.as_str());
    assert!(is_iso(&r.body["properties"]["hs_createdate"]));
    assert!(is_iso(&r.body["properties"]["hs_lastmodifieddate"]));
    assert!(is_iso(&r.body["createdAt"]));

    // Default properties of reads: the three built-in ones.
    for base in ["/crm/v3/objects", "/crm/objects/2026-03"] {
        let got = c.get(&format!("{base}/{type_id}/{id}")).await;
        assert_eq!(got.status, StatusCode::OK, "{}", got.body);
        let mut keys: Vec<&String> = got.body["properties"].as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(
            keys,
            ["hs_createdate", "hs_lastmodifieddate", "hs_object_id"]
        );
    }
    let got = c
        .get(&format!(
            "/crm/v3/objects/cars/{id}?properties=model,year&associations=contacts"
        ))
        .await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.body);
    assert_eq!(got.body["properties"]["year"], "1908");

    // Validation: required property, unknown property, bad option, unique value.
    let r = c.try_create(&type_id, json!({"year": "1920"})).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert!(
        r.body.to_string().contains("REQUIRED_PROPERTY"),
        "{}",
        r.body
    );
    let r = c
        .try_create(&type_id, json!({"model": "A", "wheels": "4"}))
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    let r = c
        .try_create(&type_id, json!({"model": "A", "colour": "green"}))
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    let r = c
        .try_create(&type_id, json!({"model": "A", "vin": "V1"}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);

    let r = c
        .patch(
            &format!("/crm/v3/objects/{type_id}/{id}"),
            json!({"properties": {"year": "1909"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["properties"]["year"], "1909");

    let batch = c
        .post(
            &format!("/crm/v3/objects/{type_id}/batch/create"),
            json!({"inputs": [
                {"properties": {"model": "Beetle", "vin": "V2"}},
                {"properties": {"model": "Mini", "vin": "V3"}}
            ]}),
        )
        .await;
    assert_eq!(batch.status, StatusCode::CREATED, "{}", batch.body);
    let read = c
        .post(
            &format!("/crm/v3/objects/{type_id}/batch/read"),
            json!({"inputs": [{"id": "V2"}], "idProperty": "vin", "properties": ["model"]}),
        )
        .await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    assert_eq!(read.body["results"][0]["properties"]["model"], "Beetle");

    let search = c
        .post(
            &format!("/crm/v3/objects/{type_id}/search"),
            json!({"filterGroups": [{"filters": [
                {"propertyName": "year", "operator": "GT", "value": "1900"}
            ]}], "properties": ["model"]}),
        )
        .await;
    assert_eq!(search.status, StatusCode::OK, "{}", search.body);
    assert_eq!(search.body["total"], 1);
    assert_eq!(search.body["results"][0]["properties"]["model"], "Model T");
    assert!(is_iso(
        &search.body["results"][0]["properties"]["hs_createdate"]
    ));
    let query = c
        .post(
            &format!("/crm/objects/2026-03/{fqn}/search"),
            json!({"query": "beet"}),
        )
        .await;
    assert_eq!(query.status, StatusCode::OK, "{}", query.body);
    assert_eq!(query.body["total"], 1, "{}", query.body);

    let list = c.get(&format!("/crm/v3/objects/{type_id}?limit=2")).await;
    assert_eq!(list.body["results"].as_array().unwrap().len(), 2);
    assert!(list.body["paging"]["next"]["after"].is_string());

    // A schema with live records cannot be deleted.
    let r = c.delete(&format!("/crm/v3/schemas/{type_id}")).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");

    let r = c.delete(&format!("/crm/v3/objects/{type_id}/{id}")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = c.get(&format!("/crm/v3/objects/{type_id}/{id}")).await;
    assert_error(&r, StatusCode::NOT_FOUND, "OBJECT_NOT_FOUND");
    let ids: Vec<Value> = batch.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| json!({"id": r["id"]}))
        .collect();
    let r = c
        .post(
            &format!("/crm/v3/objects/{type_id}/batch/archive"),
            json!({"inputs": ids}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let r = c.delete(&format!("/crm/v3/schemas/{type_id}")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    // The deleted schema's type is unknown to the objects API.
    let r = c.get(&format!("/crm/v3/objects/{type_id}")).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
}

#[tokio::test]
async fn custom_records_scopes_and_other_apis() {
    let c = crm_with(ACME_INC, SCHEMA_SCOPES).await;
    let created = c.post("/crm/v3/schemas", car_schema()).await.body;
    let type_id = created["objectTypeId"].as_str().unwrap().to_owned();

    // Records take the custom object scopes.
    let r = c.get(&format!("/crm/v3/objects/{type_id}")).await;
    assert_error(&r, StatusCode::FORBIDDEN, "MISSING_SCOPES");
    let reader = sim_token(&c.sim, ACME_INC, &["crm.objects.custom.read"]).await;
    let r = c
        .get_as(&reader, &format!("/crm/v3/objects/{type_id}"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = c
        .call_as(
            &reader,
            Method::POST,
            &format!("/crm/v3/objects/{type_id}"),
            Some(json!({"properties": {"model": "T"}})),
        )
        .await;
    assert_error(&r, StatusCode::FORBIDDEN, "MISSING_SCOPES");

    // Another portal does not know the type.
    let other = sim_token(
        &c.sim,
        crate::support::ACME_DEVELOPER,
        &["crm.objects.custom.read"],
    )
    .await;
    let r = c
        .get_as(&other, &format!("/crm/v3/objects/{type_id}"))
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .starts_with("Unable to infer object type from"),
        "{}",
        r.body
    );

    // The properties API does not take custom types yet.
    let r = c.get(&format!("/crm/v3/properties/{type_id}")).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .contains("custom objects are not supported by this API of the simulator yet"),
        "{}",
        r.body
    );
    let unknown = c.get("/crm/v3/objects/spaceships").await;
    assert_error(&unknown, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
}
