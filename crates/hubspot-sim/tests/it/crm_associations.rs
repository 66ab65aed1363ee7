//! Associations v4: per-record list/put/delete, default associations, batch
//! read/create/archive, labels, create-time associations, `associations=` on reads,
//! cleanup on archive/merge/GDPR delete, scopes, webhooks, the Rust seeding helpers.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::crm_support::*;

async fn put_assoc(c: &Crm, path: &str, body: Value) -> Reply {
    c.call(Method::PUT, path, Some(body)).await
}

fn types_of(r: &Reply, index: usize) -> Vec<i64> {
    r.body["results"][index]["associationTypes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["typeId"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn put_list_delete_and_symmetry() {
    let c = crm().await;
    let contact = c.create("contacts", json!({"email": "a@x.io"})).await;
    let company = c.create("companies", json!({"name": "Acme"})).await;

    let r = put_assoc(
        &c,
        &format!("/crm/v4/objects/contacts/{contact}/associations/companies/{company}"),
        json!([{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}]),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["fromObjectTypeId"], "0-1");
    assert_eq!(r.body["fromObjectId"], contact.parse::<i64>().unwrap());
    assert_eq!(r.body["toObjectTypeId"], "0-2");
    assert_eq!(r.body["toObjectId"], company.parse::<i64>().unwrap());
    assert_eq!(r.body["labels"], json!([]));

    let r = c
        .get(&format!(
            "/crm/v4/objects/contacts/{contact}/associations/companies"
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        r.body["results"][0]["toObjectId"],
        company.parse::<i64>().unwrap()
    );
    assert_eq!(
        r.body["results"][0]["associationTypes"],
        json!([{"category": "HUBSPOT_DEFINED", "typeId": 279, "label": null}])
    );
    assert!(r.body.get("paging").is_none());

    // The other direction exists with the inverse type (by type id in the path too).
    let r = c
        .get(&format!(
            "/crm/v4/objects/0-2/{company}/associations/contact"
        ))
        .await;
    assert_eq!(
        r.body["results"][0]["toObjectId"],
        contact.parse::<i64>().unwrap()
    );
    assert_eq!(types_of(&r, 0), vec![280]);

    // Primary: adds type 1 (label "Primary") next to 279.
    let r = put_assoc(
        &c,
        &format!("/crm/v4/objects/contacts/{contact}/associations/companies/{company}"),
        json!([{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}]),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.body["labels"], json!(["Primary"]));
    let r = c
        .get(&format!(
            "/crm/objects/2026-03/contacts/{contact}/associations/companies"
        ))
        .await;
    assert_eq!(types_of(&r, 0), vec![1, 279]);
    // A second primary company takes the flag.
    let other = c.create("companies", json!({"name": "Other"})).await;
    put_assoc(
        &c,
        &format!("/crm/v4/objects/contacts/{contact}/associations/companies/{other}"),
        json!([{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}]),
    )
    .await;
    let r = c
        .get(&format!(
            "/crm/v4/objects/contacts/{contact}/associations/companies"
        ))
        .await;
    assert_eq!(r.body["results"].as_array().unwrap().len(), 2);
    assert_eq!(types_of(&r, 0), vec![279]);
    assert_eq!(types_of(&r, 1), vec![1, 279]);
    let r = c
        .get(&format!(
            "/crm/v4/objects/companies/{other}/associations/contacts"
        ))
        .await;
    assert_eq!(types_of(&r, 0), vec![2, 280]);

    // Delete removes both directions.
    let r = c
        .delete(&format!(
            "/crm/v4/objects/contacts/{contact}/associations/companies/{company}"
        ))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = c
        .get(&format!(
            "/crm/v4/objects/companies/{company}/associations/contacts"
        ))
        .await;
    assert_eq!(r.body["results"], json!([]));
    // Deleting again is fine.
    let r = c
        .delete(&format!(
            "/crm/v4/objects/contacts/{contact}/associations/companies/{company}"
        ))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn type_ids_and_targets_are_checked() {
    let c = crm().await;
    let contact = c.create("contacts", json!({"email": "a@x.io"})).await;
    let company = c.create("companies", json!({"name": "Acme"})).await;
    let path = format!("/crm/v4/objects/contacts/{contact}/associations/companies/{company}");
    // deal→contact type on a contact→company pair.
    let r = put_assoc(
        &c,
        &path,
        json!([{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 3}]),
    )
    .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    // Wrong category.
    let r = put_assoc(
        &c,
        &path,
        json!([{"associationCategory": "USER_DEFINED", "associationTypeId": 279}]),
    )
    .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    // Not an array / empty.
    let r = put_assoc(&c, &path, json!({"associationTypeId": 279})).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    let r = put_assoc(&c, &path, json!([])).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    // Unknown records.
    let r = put_assoc(
        &c,
        &format!("/crm/v4/objects/contacts/{contact}/associations/companies/999999"),
        json!([{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}]),
    )
    .await;
    assert_error(&r, StatusCode::NOT_FOUND, "OBJECT_NOT_FOUND");
    // Unknown object type.
    let r = c
        .get(&format!(
            "/crm/v4/objects/contacts/{contact}/associations/widgets"
        ))
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    // Products have no association types.
    let r = c
        .call(
            Method::PUT,
            &format!("/crm/v4/objects/contacts/{contact}/associations/default/products/1"),
            None,
        )
        .await;
    assert!(r.status.is_client_error(), "{}", r.body);
    // Engagement ids: note → contact 202.
    let note = c
        .create(
            "notes",
            json!({"hs_timestamp": "2026-01-01T00:00:00Z", "hs_note_body": "hi"}),
        )
        .await;
    let r = put_assoc(
        &c,
        &format!("/crm/v4/objects/notes/{note}/associations/contacts/{contact}"),
        json!([{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 202}]),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = c
        .get(&format!(
            "/crm/v4/objects/contacts/{contact}/associations/notes"
        ))
        .await;
    assert_eq!(types_of(&r, 0), vec![201]);
}

#[tokio::test]
async fn default_associations_and_paging() {
    let c = crm().await;
    let deal = c
        .create(
            "deals",
            json!({"dealname": "D", "dealstage": "appointmentscheduled"}),
        )
        .await;
    let r = c
        .call(
            Method::PUT,
            "/crm/v4/objects/deals/1/associations/default/contacts/2",
            None,
        )
        .await;
    assert_error(&r, StatusCode::NOT_FOUND, "OBJECT_NOT_FOUND");
    let mut contacts = Vec::new();
    for i in 0..5 {
        contacts.push(
            c.create("contacts", json!({"email": format!("c{i}@x.io")}))
                .await,
        );
    }
    for id in &contacts {
        let r = c
            .call(
                Method::PUT,
                &format!("/crm/v4/objects/deals/{deal}/associations/default/contacts/{id}"),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["status"], "COMPLETE");
        assert_eq!(
            r.body["results"][0]["associationSpec"],
            json!({"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 3})
        );
        assert_eq!(r.body["results"][0]["from"]["id"], deal);
        assert_eq!(
            r.body["results"][1]["associationSpec"]["associationTypeId"],
            4
        );
    }
    let base = format!("/crm/v4/objects/deals/{deal}/associations/contacts");
    let r = c.get(&format!("{base}?limit=2")).await;
    assert_eq!(r.body["results"].as_array().unwrap().len(), 2);
    let after = r.body["paging"]["next"]["after"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(after, contacts[2]);
    let r = c.get(&format!("{base}?limit=2&after={after}")).await;
    assert_eq!(
        r.body["results"][0]["toObjectId"],
        contacts[2].parse::<i64>().unwrap()
    );
    let r = c.get(&format!("{base}?limit=501")).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    let r = c.get(&base).await;
    assert_eq!(r.body["results"].as_array().unwrap().len(), 5);
    assert!(r.body.get("paging").is_none());
}

#[tokio::test]
async fn batch_read_create_archive() {
    let c = crm().await;
    let a = c.create("contacts", json!({"email": "a@x.io"})).await;
    let b = c.create("contacts", json!({"email": "b@x.io"})).await;
    let co = c.create("companies", json!({"name": "Acme"})).await;
    let co2 = c.create("companies", json!({"name": "Beta"})).await;

    let r = c
        .post(
            "/crm/v4/associations/contacts/companies/batch/create",
            json!({"inputs": [
                {"from": {"id": a}, "to": {"id": co}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}]},
                {"from": {"id": a}, "to": {"id": co2}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}]},
                {"from": {"id": b}, "to": {"id": "999999"}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}]},
            ]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::MULTI_STATUS, "{}", r.body);
    assert_eq!(r.body["results"].as_array().unwrap().len(), 2);
    assert_eq!(r.body["numErrors"], 1);
    assert_eq!(r.body["errors"][0]["category"], "OBJECT_NOT_FOUND");
    assert_eq!(r.body["results"][1]["labels"], json!(["Primary"]));

    let r = c
        .post(
            "/crm/v4/associations/contacts/companies/batch/read",
            json!({"inputs": [{"id": a}, {"id": b}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::MULTI_STATUS, "{}", r.body);
    assert_eq!(r.body["results"][0]["from"]["id"], a);
    assert_eq!(r.body["results"][0]["to"].as_array().unwrap().len(), 2);
    assert!(r.body["results"][0].get("paging").is_none());
    assert_eq!(
        r.body["errors"][0]["subCategory"],
        "crm.associations.NO_ASSOCIATIONS_FOUND"
    );

    // Read from the other side, on the date-versioned path.
    let r = c
        .post(
            "/crm/associations/2026-03/companies/contacts/batch/read",
            json!({"inputs": [{"id": co}, {"id": co2}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["results"].as_array().unwrap().len(), 2);

    // 1000 inputs are fine, 1001 are not.
    let inputs: Vec<Value> = (0..1000)
        .map(|i| json!({"id": (i + 1).to_string()}))
        .collect();
    let r = c
        .post(
            "/crm/v4/associations/contacts/companies/batch/read",
            json!({ "inputs": inputs }),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    let inputs: Vec<Value> = (0..1001)
        .map(|i| json!({"id": (i + 1).to_string()}))
        .collect();
    let r = c
        .post(
            "/crm/v4/associations/contacts/companies/batch/read",
            json!({ "inputs": inputs }),
        )
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");

    // labels/archive of the primary label keeps the unlabeled association.
    let r = c
        .post(
            "/crm/v4/associations/contacts/companies/batch/labels/archive",
            json!({"inputs": [{"from": {"id": a}, "to": {"id": co2}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}]}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let r = c
        .get(&format!(
            "/crm/v4/objects/contacts/{a}/associations/companies"
        ))
        .await;
    assert_eq!(types_of(&r, 1), vec![279]);

    // archive removes the pairs.
    let r = c
        .post(
            "/crm/associations/v4/contacts/companies/batch/archive",
            json!({"inputs": [{"from": {"id": a}, "to": [{"id": co}, {"id": co2}]}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let r = c
        .get(&format!(
            "/crm/v4/objects/contacts/{a}/associations/companies"
        ))
        .await;
    assert_eq!(r.body["results"], json!([]));

    // associate/default.
    let r = c
        .post(
            "/crm/v4/associations/contacts/companies/batch/associate/default",
            json!({"inputs": [{"from": {"id": b}, "to": {"id": co}}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        r.body["results"][0]["associationSpec"]["associationTypeId"],
        279
    );
    assert_eq!(
        r.body["results"][1]["associationSpec"]["associationTypeId"],
        280
    );

    // Unknown batch action.
    let r = c
        .post(
            "/crm/v4/associations/contacts/companies/batch/explode",
            json!({"inputs": []}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn labels_can_be_created_renamed_used_and_deleted() {
    let c = crm().await;
    let base = "/crm/v4/associations/contacts/companies/labels";
    let r = c.get(base).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let ids: Vec<i64> = r.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["typeId"].as_i64().unwrap())
        .collect();
    assert!(ids.contains(&1) && ids.contains(&279), "{ids:?}");

    let r = c
        .post(
            "/crm/associations/v4/contacts/companies/labels",
            json!({"label": "Manager", "name": "manager", "inverseLabel": "Managed"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let results = r.body["results"].as_array().unwrap().clone();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["category"], "USER_DEFINED");
    assert_eq!(results[0]["label"], "Manager");
    let label_id = results[0]["typeId"].as_i64().unwrap();
    let inverse_id = results[1]["typeId"].as_i64().unwrap();
    assert_ne!(label_id, inverse_id);
    // Duplicate name → 409.
    let r = c
        .post(base, json!({"label": "Manager", "name": "manager"}))
        .await;
    assert_error(&r, StatusCode::CONFLICT, "CONFLICT");
    // Missing label → 400.
    let r = c.post(base, json!({"name": "x"})).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");

    let contact = c.create("contacts", json!({"email": "a@x.io"})).await;
    let company = c.create("companies", json!({"name": "Acme"})).await;
    let r = put_assoc(
        &c,
        &format!("/crm/v4/objects/contacts/{contact}/associations/companies/{company}"),
        json!([{"associationCategory": "USER_DEFINED", "associationTypeId": label_id}]),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["labels"], json!(["Manager"]));
    let r = c
        .get(&format!(
            "/crm/v4/objects/companies/{company}/associations/contacts"
        ))
        .await;
    let types = &r.body["results"][0]["associationTypes"];
    assert!(
        types.as_array().unwrap().contains(
            &json!({"category": "USER_DEFINED", "typeId": inverse_id, "label": "Managed"})
        ),
        "{types}"
    );

    // Rename.
    let r = c
        .call(
            Method::PUT,
            base,
            Some(json!({"associationTypeId": label_id, "label": "Boss"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let r = c
        .get(&format!(
            "/crm/v4/objects/contacts/{contact}/associations/companies"
        ))
        .await;
    assert!(r.body.to_string().contains("\"Boss\""), "{}", r.body);
    // HubSpot-defined types cannot be deleted; unknown ones are 404.
    let r = c.delete(&format!("{base}/279")).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    let r = c.delete(&format!("{base}/77777")).await;
    assert_error(&r, StatusCode::NOT_FOUND, "OBJECT_NOT_FOUND");
    // Delete strips the label from records, the association stays.
    let r = c.delete(&format!("{base}/{label_id}")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = c
        .get(&format!(
            "/crm/v4/objects/contacts/{contact}/associations/companies"
        ))
        .await;
    assert_eq!(types_of(&r, 0), vec![279]);
    let r = c
        .get("/crm/associations/2026-03/contacts/companies/labels")
        .await;
    assert!(!r.body.to_string().contains("USER_DEFINED"), "{}", r.body);
}

#[tokio::test]
async fn associations_on_create_and_on_reads() {
    let c = crm().await;
    let company = c.create("companies", json!({"name": "Acme"})).await;
    let r = c
        .post(
            "/crm/v3/objects/contacts",
            json!({
                "properties": {"email": "a@x.io"},
                "associations": [{"to": {"id": company}, "types": [
                    {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}
                ]}],
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let contact = r.body["id"].as_str().unwrap().to_owned();
    let r = c
        .get(&format!(
            "/crm/v4/objects/companies/{company}/associations/contacts"
        ))
        .await;
    assert_eq!(types_of(&r, 0), vec![2, 280]);

    // Invalid type or target: 400, nothing created.
    let before = c.get("/crm/v3/objects/contacts").await.body["results"]
        .as_array()
        .unwrap()
        .len();
    for assoc in [
        json!([{"to": {"id": company}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 3}]}]),
        json!([{"to": {"id": "999999"}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}]}]),
        json!([{"to": {"id": company}, "types": []}]),
        json!({"to": company}),
    ] {
        let r = c
            .post(
                "/crm/v3/objects/contacts",
                json!({"properties": {"email": "b@x.io"}, "associations": assoc}),
            )
            .await;
        assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    }
    let after = c.get("/crm/v3/objects/contacts").await.body["results"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(before, after);

    // Batch create with associations (deals to the company and the contact).
    let r = c
        .post(
            "/crm/v3/objects/deals/batch/create",
            json!({"inputs": [
                {"properties": {"dealname": "D1", "dealstage": "appointmentscheduled"},
                 "associations": [
                    {"to": {"id": company}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 341}]},
                    {"to": {"id": contact}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 3}]}
                 ]},
                {"properties": {"dealname": "D2", "dealstage": "appointmentscheduled"}},
            ]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let deal = r.body["results"][0]["id"].as_str().unwrap().to_owned();

    // `associations=` on get.
    let r = c
        .get(&format!(
            "/crm/v3/objects/contacts/{contact}?associations=companies,deals&associations=tickets"
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.body["associations"]["companies"]["results"],
        json!([
            {"id": company, "type": "contact_to_company"},
            {"id": company, "type": "contact_to_company_unlabeled"},
        ])
    );
    assert_eq!(
        r.body["associations"]["deals"]["results"],
        json!([{"id": deal, "type": "contact_to_deal"}])
    );
    assert!(r.body["associations"].get("tickets").is_none());
    // Without the parameter: no member.
    let r = c.get(&format!("/crm/v3/objects/contacts/{contact}")).await;
    assert!(r.body.get("associations").is_none());

    // On list and batch read.
    let r = c
        .get("/crm/objects/2026-03/deals?associations=company")
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.body["results"][0]["associations"]["companies"]["results"][0],
        json!({"id": company, "type": "deal_to_company_unlabeled"})
    );
    assert!(r.body["results"][1].get("associations").is_none());
    let r = c
        .post(
            "/crm/v3/objects/companies/batch/read?associations=deals,contacts",
            json!({"inputs": [{"id": company}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let a = &r.body["results"][0]["associations"];
    assert_eq!(
        a["deals"]["results"][0]["type"],
        "company_to_deal_unlabeled"
    );
    assert_eq!(a["contacts"]["results"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn archive_merge_and_gdpr_delete_clean_up() {
    let c = crm().await;
    let co = c.create("companies", json!({"name": "Acme"})).await;
    let a = c.create("contacts", json!({"email": "a@x.io"})).await;
    let b = c.create("contacts", json!({"email": "b@x.io"})).await;
    let d = c.create("contacts", json!({"email": "d@x.io"})).await;
    for id in [&a, &b, &d] {
        c.call(
            Method::PUT,
            &format!("/crm/v4/objects/contacts/{id}/associations/default/companies/{co}"),
            None,
        )
        .await;
    }
    let count = |r: &Reply| r.body["results"].as_array().unwrap().len();
    let list = format!("/crm/v4/objects/companies/{co}/associations/contacts");
    assert_eq!(count(&c.get(&list).await), 3);

    c.delete(&format!("/crm/v3/objects/contacts/{a}")).await;
    assert_eq!(count(&c.get(&list).await), 2);

    // Merge: the merged contact's company moves to the primary.
    let e = c.create("contacts", json!({"email": "e@x.io"})).await;
    let r = c
        .post(
            "/crm/v3/objects/contacts/merge",
            json!({"primaryObjectId": e, "objectIdToMerge": b}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = c.get(&list).await;
    let ids: Vec<String> = r.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["toObjectId"].to_string())
        .collect();
    assert_eq!(ids, vec![d.clone(), e.clone()]);

    let r = c
        .post(
            "/crm/v3/objects/contacts/gdpr-delete",
            json!({"objectId": d}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(count(&c.get(&list).await), 1);

    // Batch archive of the company clears the contact's side.
    c.post(
        "/crm/v3/objects/companies/batch/archive",
        json!({"inputs": [{"id": co}]}),
    )
    .await;
    let r = c
        .get(&format!(
            "/crm/v4/objects/contacts/{e}/associations/companies"
        ))
        .await;
    assert_eq!(r.body["results"], json!([]));
}

#[tokio::test]
async fn v4_needs_the_read_scopes_of_both_types() {
    let c = crm_with(crate::support::ACME_INC, &["crm.objects.contacts.read"]).await;
    let r = c
        .get("/crm/v4/objects/contacts/1/associations/contacts")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = c
        .get("/crm/v4/objects/contacts/1/associations/companies")
        .await;
    assert_error(&r, StatusCode::FORBIDDEN, "MISSING_SCOPES");
    assert_eq!(
        r.body["errors"][0]["context"]["requiredGranularScopes"],
        json!(["crm.objects.companies.read"])
    );
    let r = c
        .post(
            "/crm/v4/associations/contacts/tickets/batch/read",
            json!({"inputs": []}),
        )
        .await;
    assert_error(&r, StatusCode::FORBIDDEN, "MISSING_SCOPES");
    let r = c.get("/crm/v4/associations/deals/contacts/labels").await;
    assert_error(&r, StatusCode::FORBIDDEN, "MISSING_SCOPES");
    let r = c
        .get_as("nope", "/crm/v4/objects/contacts/1/associations/contacts")
        .await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "INVALID_AUTHENTICATION");
}

#[tokio::test]
async fn rust_helpers_associate_in_bulk() {
    let c = crm().await;
    let sim = &c.sim.server.sim;
    let portal = crate::support::ACME_INC;
    let contacts = sim
        .crm_seed(
            portal,
            "contacts",
            (0..50).map(|i| {
                json!({"email": format!("s{i}@x.io")})
                    .as_object()
                    .cloned()
                    .unwrap()
            }),
        )
        .unwrap();
    let companies = sim
        .crm_seed(
            portal,
            "companies",
            (0..2).map(|i| {
                json!({"name": format!("Co{i}")})
                    .as_object()
                    .cloned()
                    .unwrap()
            }),
        )
        .unwrap();
    let n = sim
        .crm_associate_many(
            portal,
            "contacts",
            "companies",
            279,
            contacts.iter().map(|c| (*c, companies[0])),
        )
        .unwrap();
    assert_eq!(n, 50);
    sim.crm_associate(
        portal,
        "contacts",
        contacts[0],
        "companies",
        companies[1],
        1,
    )
    .unwrap();
    // 0 = the pair's default type; unknown records fail.
    sim.crm_associate(
        portal,
        "contacts",
        contacts[3],
        "companies",
        companies[1],
        0,
    )
    .unwrap();
    sim.crm_associate(portal, "deals", 1, "contacts", contacts[0], 0)
        .unwrap_err();
    assert!(
        sim.crm_associate(
            portal,
            "contacts",
            contacts[0],
            "companies",
            companies[1],
            3
        )
        .is_err()
    );
    // All or nothing.
    assert!(
        sim.crm_associate_many(
            portal,
            "contacts",
            "companies",
            279,
            [(contacts[1], companies[1]), (contacts[2], 999_999)],
        )
        .is_err()
    );
    let back = sim
        .crm_associations(portal, "companies", companies[0], "contacts")
        .unwrap();
    assert_eq!(back.len(), 50);
    assert_eq!(back[0], (contacts[0], vec![280]));
    let r = sim
        .crm_associations(portal, "companies", companies[1], "contacts")
        .unwrap();
    assert_eq!(
        r,
        vec![(contacts[0], vec![2, 280]), (contacts[3], vec![280])]
    );
    let r = c
        .get(&format!(
            "/crm/v4/objects/companies/{}/associations/contacts?limit=10",
            companies[0]
        ))
        .await;
    assert_eq!(r.body["results"].as_array().unwrap().len(), 10);
    assert!(r.body["paging"]["next"]["after"].is_string());
}

#[tokio::test]
async fn association_changes_are_sent_as_webhook_events() {
    let c = crm().await;
    let (app_id, mut rx) = subscribe_webhooks(
        &c,
        &[
            json!({"eventType": "contact.associationChange", "active": true}),
            json!({"eventType": "company.associationChange", "active": true}),
        ],
    )
    .await;
    let contact = c.create("contacts", json!({"email": "w@x.io"})).await;
    let company = c.create("companies", json!({"name": "Acme"})).await;
    let path = format!("/crm/v4/objects/contacts/{contact}/associations/companies/{company}");
    let r = put_assoc(
        &c,
        &path,
        json!([{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}]),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
    c.delete(&path).await;

    let mut seen = Vec::new();
    while seen.len() < 4 {
        let e = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("webhook events in time")
            .unwrap();
        seen.push(e);
    }
    let summary: Vec<String> = seen
        .iter()
        .map(|e| {
            format!(
                "{} {} {} {} {} {}",
                e["subscriptionType"].as_str().unwrap(),
                e["fromObjectId"],
                e["toObjectId"],
                e["associationType"].as_str().unwrap_or("-"),
                e["associationRemoved"],
                e["isPrimaryAssociation"],
            )
        })
        .collect();
    for expected in [
        format!("contact.associationChange {contact} {company} CONTACT_TO_COMPANY false true"),
        format!("company.associationChange {company} {contact} COMPANY_TO_CONTACT false true"),
        format!("contact.associationChange {contact} {company} CONTACT_TO_COMPANY true true"),
        format!("company.associationChange {company} {contact} COMPANY_TO_CONTACT true true"),
    ] {
        assert!(summary.contains(&expected), "{expected} not in {summary:?}");
    }
    let e = &seen[0];
    assert_eq!(e["sourceId"], app_id.to_string());
    assert_eq!(e["changeSource"], "INTEGRATION");
}
