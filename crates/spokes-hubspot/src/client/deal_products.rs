//! `deals.products`: call code of its own because HubSpot's shape forces it (products reach
//! a deal only through its line items), three kinds of request in turn:
//!
//! 1. the deal's line items: `GET /crm/v4/objects/deals/{dealId}/associations/line_items`,
//!    every page;
//! 2. their `hs_product_id`: the line items' batch read;
//! 3. the products: their batch read.
//!
//! Batch reads take at most 100 ids a request. Line items without a product are skipped, a
//! product on several line items comes once, in the order of its first line item; a product
//! deleted since (HubSpot's batch read answers it among its `errors`) is left out.

use std::collections::{HashMap, HashSet};

use serde_json::{Value, json};

use super::{ApiClient, Caller, MethodError, MethodInput, MethodOutput, Outgoing, id_text};
use crate::catalogue::{ApiPath, Family, MethodDef};

/// HubSpot's largest page of one record's associations (v4).
const ASSOCIATIONS_PAGE: u32 = 500;
/// HubSpot's largest batch read.
const BATCH_READ: usize = 100;

impl ApiClient {
    pub(super) async fn deal_products(
        &self,
        method: &MethodDef,
        input: &MethodInput,
        caller: Caller<'_>,
    ) -> Result<MethodOutput, MethodError> {
        let line_items = self.deal_line_items(method, input, caller).await?;
        let product_of: HashMap<String, String> = self
            .batch_read(
                method,
                "line_items",
                &line_items,
                &json!(["hs_product_id"]),
                caller,
            )
            .await?
            .into_iter()
            .filter_map(|item| {
                let product = id_text(&item["properties"]["hs_product_id"])?;
                Some((id_text(&item["id"])?, product))
            })
            .filter(|(_, product)| !product.trim().is_empty())
            .collect();
        let mut seen = HashSet::new();
        let product_ids: Vec<String> = line_items
            .iter()
            .filter_map(|item| product_of.get(item))
            .filter(|product| seen.insert(product.as_str()))
            .cloned()
            .collect();
        let properties = match input.parameters.get("properties").and_then(Value::as_str) {
            Some(names) => names
                .split(',')
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .collect(),
            None => Vec::new(),
        };
        let mut products: HashMap<String, Value> = self
            .batch_read(method, "products", &product_ids, &json!(properties), caller)
            .await?
            .into_iter()
            .filter_map(|product| Some((id_text(&product["id"])?, product)))
            .collect();
        let data = product_ids
            .iter()
            .filter_map(|id| products.remove(id))
            .collect();
        Ok(MethodOutput {
            data: Value::Array(data),
            next: None,
        })
    }

    /// The ids of the deal's line items, in HubSpot's (id) order, from every page.
    async fn deal_line_items(
        &self,
        method: &MethodDef,
        input: &MethodInput,
        caller: Caller<'_>,
    ) -> Result<Vec<String>, MethodError> {
        let deal = input
            .parameters
            .get("dealId")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let url = self.config.api(
            &self
                .config
                .method_path(&method.path)
                .replace("{dealId}", &crate::oauth::percent_encode(deal)),
        );
        let mut ids = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut page_url = format!("{url}?limit={ASSOCIATIONS_PAGE}");
            if let Some(after) = &after {
                page_url.push_str(&format!("&after={}", crate::oauth::percent_encode(after)));
            }
            let outgoing = Outgoing {
                url: page_url,
                body: None,
                verb: None,
            };
            let page = self.send::<Value>(method, &outgoing, caller).await?;
            ids.extend(
                page["results"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|a| id_text(&a["toObjectId"])),
            );
            match id_text(&page["paging"]["next"]["after"]) {
                // A cursor that does not move would page forever.
                Some(next) if Some(&next) != after.as_ref() => after = Some(next),
                _ => return Ok(ids),
            }
        }
    }

    /// The records of `object_type` with these ids (`properties`: names, or `[]` for
    /// HubSpot's default set), read 100 at a time; the ids HubSpot does not find are missing.
    async fn batch_read(
        &self,
        method: &MethodDef,
        object_type: &str,
        ids: &[String],
        properties: &Value,
        caller: Caller<'_>,
    ) -> Result<Vec<Value>, MethodError> {
        let url = self.config.api(&self.config.method_path(&ApiPath {
            family: Family::Objects,
            rest: format!("/{object_type}/batch/read"),
        }));
        let mut records = Vec::new();
        for chunk in ids.chunks(BATCH_READ) {
            let inputs: Vec<Value> = chunk.iter().map(|id| json!({ "id": id })).collect();
            let outgoing = Outgoing {
                url: url.clone(),
                body: Some(json!({"inputs": inputs, "properties": properties})),
                verb: Some(reqwest::Method::POST),
            };
            let answer = self.send(method, &outgoing, caller).await?;
            if let Value::Object(mut answer) = answer
                && let Some(Value::Array(results)) = answer.remove("results")
            {
                records.extend(results);
            }
        }
        Ok(records)
    }
}
