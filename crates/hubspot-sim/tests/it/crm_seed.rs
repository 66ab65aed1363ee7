//! `POST /_sim/seed`: deterministic, valid generated records.

use std::collections::{BTreeMap, HashMap, HashSet};

use hubspot_sim::SimConfig;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::crm_support::*;
use crate::support::*;

/// Every object type the seed generates, with the properties the tests read.
const TYPES: &[(&str, &str)] = &[
    (
        "companies",
        "name,domain,website,industry,city,country,numberofemployees",
    ),
    (
        "contacts",
        "email,firstname,lastname,company,website,jobtitle,lifecyclestage",
    ),
    ("products", "name,price,hs_sku,recurringbillingfrequency"),
    (
        "deals",
        "dealname,amount,dealstage,pipeline,closedate,hubspot_owner_id",
    ),
    (
        "line_items",
        "name,price,quantity,amount,hs_product_id,hs_sku",
    ),
    ("tickets", "subject,hs_pipeline,hs_pipeline_stage"),
    ("notes", "hs_timestamp,hs_note_body"),
    ("calls", "hs_timestamp,hs_call_title,hs_call_status"),
    ("emails", "hs_timestamp,hs_email_subject"),
    ("meetings", "hs_timestamp,hs_meeting_title"),
    ("tasks", "hs_timestamp,hs_task_subject,hs_task_status"),
];

fn spec(seed: u64) -> Value {
    json!({
        "portal_id": ACME_INC,
        "seed": seed,
        "companies": 6,
        "contacts": 40,
        "products": 5,
        "deals": 12,
        "line_items": 20,
        "tickets": 4,
        "notes": 3,
        "calls": 3,
        "emails": 2,
        "meetings": 2,
        "tasks": 2,
    })
}

async fn seeded(seed: u64) -> (Crm, Value) {
    let sim = start_with(SimConfig {
        sandbox_redirect_urls: vec![REDIRECT.to_owned()],
        rate_limit_per_10s: 0,
        ..SimConfig::default()
    })
    .await;
    let token = sim_token(&sim, ACME_INC, ALL_CRM_SCOPES).await;
    let crm = Crm { sim, token };
    let (status, summary) = crm.sim.sim_post("/_sim/seed", spec(seed)).await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    (crm, summary)
}

/// Every live record of a type through the list endpoint: id → properties without the
/// timestamps of the call (`createdate`, last modified).
async fn all(crm: &Crm, object: &str, props: &str) -> BTreeMap<u64, Value> {
    let mut out = BTreeMap::new();
    let mut after = String::new();
    loop {
        let r = crm
            .get(&format!(
                "/crm/v3/objects/{object}?limit=7&properties={props}&after={after}"
            ))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{object}: {}", r.body);
        for rec in r.body["results"].as_array().unwrap() {
            let mut p = rec["properties"].clone();
            let map = p.as_object_mut().unwrap();
            for derived in ["createdate", "lastmodifieddate", "hs_lastmodifieddate"] {
                map.remove(derived);
            }
            out.insert(rec["id"].as_str().unwrap().parse().unwrap(), p);
        }
        match r.body["paging"]["next"]["after"].as_str() {
            Some(a) => after = a.to_owned(),
            None => return out,
        }
    }
}

#[tokio::test]
async fn seed_is_deterministic() {
    let (a, sa) = seeded(42).await;
    let (b, sb) = seeded(42).await;
    let (c, _) = seeded(43).await;
    assert_eq!(sa["first_ids"], sb["first_ids"]);
    for (object, props) in TYPES {
        let ra = all(&a, object, props).await;
        let rb = all(&b, object, props).await;
        assert_eq!(ra, rb, "{object}");
        assert!(!ra.is_empty(), "{object}");
    }
    assert_ne!(
        all(&a, "contacts", "firstname,lastname").await,
        all(&c, "contacts", "firstname,lastname").await,
        "another seed, other names"
    );
}

#[tokio::test]
async fn seeded_records_are_valid() {
    let (crm, summary) = seeded(7).await;
    let counts = &summary["counts"];
    assert_eq!(summary["total"], 99, "{summary}");
    assert!(summary["elapsed_ms"].is_u64());
    let mut records = HashMap::new();
    for (object, props) in TYPES {
        let recs = all(&crm, object, props).await;
        assert_eq!(counts[object], recs.len(), "{object}");
        let count = crm.sim.server.sim.crm_count(ACME_INC, object).unwrap();
        assert_eq!(count, recs.len(), "{object}");
        records.insert(*object, recs);
    }

    let companies: HashMap<String, String> = records["companies"]
        .values()
        .map(|p| {
            let domain = p["domain"].as_str().unwrap().to_owned();
            assert!(domain.contains('.'), "{p}");
            assert_eq!(p["website"], format!("https://www.{domain}"));
            (p["name"].as_str().unwrap().to_owned(), domain)
        })
        .collect();
    assert_eq!(companies.len(), 6, "unique company names");

    let mut emails = HashSet::new();
    for p in records["contacts"].values() {
        let email = p["email"].as_str().unwrap();
        assert!(emails.insert(email.to_owned()), "duplicate {email}");
        let company = p["company"].as_str().unwrap();
        let domain = &companies[company];
        assert!(
            email.ends_with(&format!("@{domain}")),
            "{email} at {company}"
        );
        assert!(!p["firstname"].as_str().unwrap().is_empty());
    }

    let stages = [
        "appointmentscheduled",
        "qualifiedtobuy",
        "presentationscheduled",
    ];
    let closed = [
        "decisionmakerboughtin",
        "contractsent",
        "closedwon",
        "closedlost",
    ];
    let owners: Vec<String> = hubspot_sim::crm::owners::owners(ACME_INC)
        .iter()
        .filter(|o| !o.archived)
        .map(|o| o.id.to_string())
        .collect();
    let owned = records["deals"]
        .values()
        .filter_map(|p| p["hubspot_owner_id"].as_str())
        .inspect(|o| assert!(owners.iter().any(|x| x == o), "owner {o}"))
        .count();
    assert!(owned > 0, "most deals have an owner");
    for p in records["deals"].values() {
        let stage = p["dealstage"].as_str().unwrap();
        assert!(stages.contains(&stage) || closed.contains(&stage), "{p}");
        assert_eq!(p["pipeline"], "default");
        assert!(p["amount"].as_str().unwrap().parse::<f64>().unwrap() > 0.0);
        assert!(is_iso(&p["closedate"]), "{p}");
    }

    let products = &records["products"];
    for p in products.values() {
        assert!(p["price"].as_str().unwrap().parse::<f64>().unwrap() > 0.0);
        assert!(!p["hs_sku"].as_str().unwrap().is_empty());
    }
    for p in records["line_items"].values() {
        let product: u64 = p["hs_product_id"].as_str().unwrap().parse().unwrap();
        let prod = &products[&product];
        assert_eq!(p["price"], prod["price"]);
        assert_eq!(p["name"], prod["name"]);
        assert!(p["amount"].as_str().unwrap().parse::<f64>().is_ok(), "{p}");
    }
    for p in records["tickets"].values() {
        assert_eq!(p["hs_pipeline"], "0");
    }
    for object in ["notes", "calls", "emails", "meetings", "tasks"] {
        for p in records[object].values() {
            assert!(is_iso(&p["hs_timestamp"]), "{object} {p}");
        }
    }

    // Associations: contact-company (primary) 40, deal-company and deal-contact 2 x 12,
    // line item-deal 20, ticket-contact 4, engagement-contact 12.
    assert_eq!(summary["associations"], 100, "{summary}");
    let sim = &crm.sim.server.sim;
    for (id, p) in &records["contacts"] {
        let companies = sim
            .crm_associations(ACME_INC, "contacts", *id, "companies")
            .unwrap();
        assert_eq!(companies.len(), 1, "{p}");
        let (company, types) = &companies[0];
        assert!(types.contains(&1) && types.contains(&279), "{types:?}");
        assert_eq!(records["companies"][company]["name"], p["company"]);
    }
    for id in records["deals"].keys() {
        for to in ["companies", "contacts"] {
            let linked = sim.crm_associations(ACME_INC, "deals", *id, to).unwrap();
            assert_eq!(linked.len(), 1, "deal {id} {to}");
        }
    }
    for id in records["line_items"].keys() {
        let deals = sim
            .crm_associations(ACME_INC, "line_items", *id, "deals")
            .unwrap();
        assert_eq!(deals.len(), 1, "line item {id}");
        assert!(records["deals"].contains_key(&deals[0].0));
    }
    for object in ["notes", "calls", "emails", "meetings", "tasks", "tickets"] {
        for id in records[object].keys() {
            let contacts = sim
                .crm_associations(ACME_INC, object, *id, "contacts")
                .unwrap();
            assert_eq!(contacts.len(), 1, "{object} {id}");
        }
    }

    // Seeding again adds records; emails stay unique.
    let (status, again) = crm.sim.sim_post("/_sim/seed", json!({"contacts": 5})).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(
        crm.sim.server.sim.crm_count(ACME_INC, "contacts").unwrap(),
        45
    );
}

#[tokio::test]
async fn seed_rejects_bad_requests() {
    let sim = start().await;
    for body in [
        json!({"widgets": 3}),
        json!({"portal_id": 1, "contacts": 1}),
        json!({"line_items": 3}),
        json!({"contacts": -1}),
    ] {
        let (status, err) = sim.sim_post("/_sim/seed", body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {err}");
        assert_eq!(err["category"], "VALIDATION_ERROR", "{err}");
    }
    let (status, empty) = sim.sim_post("/_sim/seed", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{empty}");
    assert_eq!(empty["total"], 0);
}
