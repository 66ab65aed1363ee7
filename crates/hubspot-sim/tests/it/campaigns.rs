//! Email campaigns (Email Analytics v1) and marketing campaigns v3.

use reqwest::StatusCode;
use serde_json::json;

use crate::crm_support::*;
use crate::support::*;

#[tokio::test]
async fn email_campaigns_in_activity_and_id_order() {
    let c = crm_with(ACME_INC, &["content"]).await;
    let r = c.get("/email/public/v1/campaigns?limit=2").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let page = r.body["campaigns"].as_array().unwrap();
    assert_eq!(page.len(), 2);
    assert_eq!(r.body["hasMore"], true);
    let t0 = page[0]["lastUpdatedTime"].as_i64().unwrap();
    let t1 = page[1]["lastUpdatedTime"].as_i64().unwrap();
    assert!(t0 >= t1, "most recent activity first");
    assert_eq!(page[0]["appId"], 113);
    assert_eq!(page[0]["appName"], "Batch");
    let offset = r.body["offset"].as_str().unwrap().to_owned();
    let r = c
        .get(&format!(
            "/email/public/v1/campaigns?limit=2&offset={offset}"
        ))
        .await;
    assert_eq!(r.body["campaigns"].as_array().unwrap().len(), 2);
    assert_eq!(r.body["hasMore"], false);

    let r = c.get("/email/public/v1/campaigns/by-id").await;
    let ids: Vec<i64> = r.body["campaigns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), 4);
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    assert_eq!(r.body["hasMore"], false);

    let r = c
        .get(&format!("/email/public/v1/campaigns/{}?appId=113", ids[0]))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["id"], ids[0]);
    assert_eq!(r.body["name"], "January newsletter");
    assert_eq!(r.body["counters"]["sent"], 1200);
    assert_eq!(r.body["counters"]["delivered"], 1188);
    assert_eq!(r.body["counters"]["open"], 540);
    let r = c.get("/email/public/v1/campaigns/1").await;
    assert_error(&r, StatusCode::NOT_FOUND, "OBJECT_NOT_FOUND");

    let no = sim_token(&c.sim, ACME_INC, &["marketing.campaigns.read"]).await;
    let r = c.get_as(&no, "/email/public/v1/campaigns").await;
    assert_error(&r, StatusCode::FORBIDDEN, "MISSING_SCOPES");
}

#[tokio::test]
async fn marketing_campaigns_list_read_and_create() {
    let c = crm_with(
        ACME_INC,
        &["marketing.campaigns.read", "marketing.campaigns.write"],
    )
    .await;
    let r = c.get("/marketing/v3/campaigns?limit=2").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["total"], 3);
    assert_eq!(r.body["results"].as_array().unwrap().len(), 2);
    let first = &r.body["results"][0];
    assert_eq!(first["properties"]["hs_name"], "Spring launch 2025");
    assert!(is_iso(&first["createdAt"]));
    assert_uuid(&first["id"]);
    let after = r.body["paging"]["next"]["after"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = c
        .get(&format!("/marketing/v3/campaigns?limit=2&after={after}"))
        .await;
    assert_eq!(
        r.body["results"][0]["properties"]["hs_name"],
        "Black Friday"
    );
    assert!(r.body.get("paging").is_none());

    let r = c
        .post(
            "/marketing/v3/campaigns",
            json!({"properties": {"hs_name": "Summer sale", "hs_start_date": "2025-06-01",
                                  "hs_notes": "Ten percent off"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let guid = r.body["id"].as_str().unwrap().to_owned();
    assert_uuid(&r.body["id"]);
    assert_eq!(r.body["properties"]["hs_name"], "Summer sale");
    let r = c
        .get(&format!(
            "/marketing/v3/campaigns/{guid}?properties=hs_name"
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["properties"], json!({"hs_name": "Summer sale"}));
    assert_eq!(r.body["assets"], json!({}));
    let r = c.get("/marketing/v3/campaigns?sort=-hs_name&limit=1").await;
    assert_eq!(r.body["total"], 4);
    assert_eq!(
        r.body["results"][0]["properties"]["hs_name"],
        "Webinar series"
    );
    let r = c.get("/marketing/v3/campaigns?name=sale").await;
    assert_eq!(r.body["total"], 1);

    let r = c
        .post(
            "/marketing/v3/campaigns",
            json!({"properties": {"hs_name": "summer SALE"}}),
        )
        .await;
    assert_error(&r, StatusCode::CONFLICT, "CONFLICT");
    let r = c
        .post(
            "/marketing/v3/campaigns",
            json!({"properties": {"hs_notes": "x"}}),
        )
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    let r = c
        .post(
            "/marketing/v3/campaigns",
            json!({"properties": {"hs_name": "X", "nope": "y"}}),
        )
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    let r = c
        .get("/marketing/v3/campaigns/00000000-0000-4000-8000-000000000000")
        .await;
    assert_error(&r, StatusCode::NOT_FOUND, "OBJECT_NOT_FOUND");

    let read_only = sim_token(&c.sim, ACME_INC, &["marketing.campaigns.read"]).await;
    let r = c
        .call_as(
            &read_only,
            reqwest::Method::POST,
            "/marketing/v3/campaigns",
            Some(json!({"properties": {"hs_name": "Y"}})),
        )
        .await;
    assert_error(&r, StatusCode::FORBIDDEN, "MISSING_SCOPES");
    let content = sim_token(&c.sim, ACME_INC, &["content"]).await;
    let r = c.get_as(&content, "/marketing/v3/campaigns").await;
    assert_error(&r, StatusCode::FORBIDDEN, "MISSING_SCOPES");
}
