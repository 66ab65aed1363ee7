//! A deal's products (`deals.products`) through Spokes' method API against the simulator:
//! HubSpot ties them to the deal only through its line items, so Spokes reads the deal's
//! line items (every page), their `hs_product_id` and the products (100 a batch).

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::TestEnv;
use crate::methods::method_of;
use crate::methods_crm::ids_of;

impl TestEnv {
    /// A line item (on product `product`, if any) associated with `deal`.
    async fn line_item_on(&self, id: &str, deal: &str, product: Option<&str>) -> String {
        let mut fields = json!({"name": "Line", "quantity": "1", "price": "5"});
        if let Some(product) = product {
            fields["hs_product_id"] = json!(product);
        }
        let line = self.create(id, "line_items", fields).await;
        self.data(
            id,
            "line_items.associate_deal",
            json!({"parameters": {"lineItemId": line, "dealId": deal}}),
        )
        .await;
        line
    }
}

#[tokio::test]
async fn a_deals_products_come_through_its_line_items() {
    let env = TestEnv::start().await;
    let id = env.connected().await;
    let methods = env.catalogue().await;
    let method = method_of(&methods, "deals.products");
    assert_eq!(method["category"], "Products");
    assert_eq!(method["name"], "Get Products For Deal");
    let products_count = methods
        .iter()
        .filter(|m| m["category"] == "Products")
        .count();
    assert_eq!(products_count, 9, "the issue's five and more");

    let widget = env
        .create(&id, "products", json!({"name": "Widget", "price": "10"}))
        .await;
    let gadget = env
        .create(&id, "products", json!({"name": "Gadget", "price": "20"}))
        .await;
    let gone = env
        .create(&id, "products", json!({"name": "Retired", "price": "1"}))
        .await;
    let deal = env.deal(&id, "Big one", "appointmentscheduled").await;
    let empty = env.deal(&id, "Nothing yet", "appointmentscheduled").await;
    // Gadget first, a line item without a product, Widget, Gadget again, a deleted product.
    env.line_item_on(&id, &deal, Some(&gadget)).await;
    env.line_item_on(&id, &deal, None).await;
    env.line_item_on(&id, &deal, Some(&widget)).await;
    env.line_item_on(&id, &deal, Some(&gadget)).await;
    env.line_item_on(&id, &deal, Some(&gone)).await;
    env.ok(&id, "products.delete", json!({"parameters": {"id": gone}}))
        .await;

    let products = env
        .data(
            &id,
            "deals.products",
            json!({"parameters": {"dealId": deal, "properties": "name,price"}}),
        )
        .await;
    assert_eq!(ids_of(&products), vec![gadget, widget], "{products}");
    assert_eq!(products[0]["properties"]["name"], "Gadget");
    assert_eq!(products[1]["properties"]["price"], "10");

    let none = env
        .data(
            &id,
            "deals.products",
            json!({"parameters": {"dealId": empty}}),
        )
        .await;
    assert_eq!(none, json!([]));
    // All at once: the method does not page.
    env.refused(
        &id,
        "deals.products",
        json!({"parameters": {"dealId": deal}, "paging": {"all": true}}),
        StatusCode::BAD_REQUEST,
        "invalid_parameters",
    )
    .await;
}

#[tokio::test]
async fn a_deals_products_are_read_past_every_page_and_batch() {
    let env = TestEnv::start().await;
    let id = env.connected().await;
    // One deal with 600 line items (two pages of associations) on up to 150 products (two
    // batch reads), each line item on a product.
    let seeded = env
        .sim_json(
            Method::POST,
            "/_sim/seed",
            Some(json!({"deals": 1, "products": 150, "line_items": 600})),
        )
        .await;
    assert_eq!(seeded["counts"]["line_items"], 600, "{seeded}");
    let deals = env.data(&id, "deals.list", json!({})).await;
    let deal = ids_of(&deals).pop().expect("the deal");
    let lines = env
        .data(
            &id,
            "line_items.list",
            json!({"parameters": {"properties": "hs_product_id"}, "paging": {"all": true}}),
        )
        .await;
    let mut expected: Vec<String> = Vec::new();
    for line in lines.as_array().expect("line items") {
        let product = line["properties"]["hs_product_id"]
            .as_str()
            .expect("a product")
            .to_string();
        if !expected.contains(&product) {
            expected.push(product);
        }
    }
    assert!(expected.len() > 100, "{} products", expected.len());
    // The deal's associations themselves, past HubSpot's page of 500 (no cut at 100).
    let associated = env
        .data(
            &id,
            "deals.line_items",
            json!({"parameters": {"dealId": deal}, "paging": {"all": true}}),
        )
        .await;
    let mut associated = ids_of(&associated);
    associated.sort();
    associated.dedup();
    assert_eq!(associated.len(), 600);

    let products = env
        .data(
            &id,
            "deals.products",
            json!({"parameters": {"dealId": deal}}),
        )
        .await;
    assert_eq!(ids_of(&products), expected);
}

#[tokio::test]
async fn a_deals_products_need_the_line_item_and_product_reads() {
    let env = TestEnv::start().await;
    let id = env
        .connected_with(json!({"Scopes": "crm.objects.deals.read crm.objects.products.read", "OptionalScopes": ""}))
        .await;
    let before = env.counter("api_requests").await;
    let body = env
        .refused(
            &id,
            "deals.products",
            json!({"parameters": {"dealId": "1"}}),
            StatusCode::FORBIDDEN,
            "missing_scopes",
        )
        .await;
    assert!(
        body["error"]["details"]["required_scopes"]
            .to_string()
            .contains("crm.objects.line_items.read"),
        "{body}"
    );
    assert_eq!(env.counter("api_requests").await, before, "nothing sent");
}
