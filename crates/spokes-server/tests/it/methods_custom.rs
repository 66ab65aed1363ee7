//! Custom objects and timeline events through Spokes' method API against the simulator: a
//! schema created and read, records of it created, read, changed, listed, searched and
//! deleted; an event template made at the simulator with the app's developer key, then
//! events on a contact's timeline, a re-sent event id refused.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use spokes_core::Clock;

use crate::methods_crm::ids_of;
use crate::{TestEnv, read};

/// The scopes these tests connect with.
const SCOPES: &str = "crm.objects.contacts.read crm.objects.contacts.write crm.schemas.custom.read crm.schemas.custom.write crm.objects.custom.read crm.objects.custom.write timeline";

impl TestEnv {
    /// Creates the [`cars_schema`] through installation `id`; the schema HubSpot answered.
    async fn create_cars_schema(&self, id: &str) -> Value {
        self.data(
            id,
            "custom_objects.create_schema",
            json!({"parameters": cars_schema()}),
        )
        .await
    }

    /// A connected `Acme Inc` installation in account `acme` with [`SCOPES`].
    async fn connected_for_custom(&self) -> String {
        self.connected_with(json!({"Scopes": SCOPES, "OptionalScopes": ""}))
            .await
    }
}

fn cars_schema() -> Value {
    json!({
        "name": "cars",
        "labels": {"singular": "Car", "plural": "Cars"},
        "primaryDisplayProperty": "model",
        "requiredProperties": ["model"],
        "searchableProperties": ["model", "vin"],
        "properties": [
            {"name": "model", "label": "Model", "type": "string", "fieldType": "text"},
            {"name": "vin", "label": "VIN", "type": "string", "fieldType": "text", "hasUniqueValue": true},
            {"name": "year", "label": "Year", "type": "number", "fieldType": "number"}
        ],
        "associatedObjects": ["CONTACT"]
    })
}

#[tokio::test]
async fn custom_object_schemas_and_records() {
    let env = TestEnv::start().await;
    let id = env.connected_for_custom().await;

    let listed = env
        .data(&id, "custom_objects.list_schemas", json!({}))
        .await;
    assert_eq!(listed, json!([]));
    let schema = env.create_cars_schema(&id).await;
    let type_id = schema["objectTypeId"].as_str().expect("objectTypeId");
    assert!(type_id.starts_with("2-"), "{schema}");
    assert_eq!(schema["fullyQualifiedName"], "p24682001_cars");
    assert_eq!(schema["requiredProperties"], json!(["model"]));
    let got = env
        .data(
            &id,
            "custom_objects.get_schema",
            json!({"parameters": {"objectType": type_id}}),
        )
        .await;
    assert_eq!(got["objectTypeId"], json!(type_id));
    assert_eq!(got["labels"]["plural"], "Cars");
    let listed = env
        .data(&id, "custom_objects.list_schemas", json!({}))
        .await;
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    // The same name again: HubSpot's 409.
    env.refused(
        &id,
        "custom_objects.create_schema",
        json!({"parameters": cars_schema()}),
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;

    // Records, by type id and by fully qualified name.
    let mut ids = Vec::new();
    for (object_type, model, vin) in [
        (type_id, "Model T", "VIN-1"),
        ("p24682001_cars", "Beetle", "VIN-2"),
        (type_id, "Mini", "VIN-3"),
    ] {
        let record = env
            .data(
                &id,
                "custom_objects.create",
                json!({"parameters": {"objectType": object_type, "properties": {"model": model, "vin": vin, "year": 1960}}}),
            )
            .await;
        assert_eq!(record["properties"]["model"], model, "{record}");
        ids.push(record["id"].as_str().expect("id").to_string());
    }
    let record = env
        .data(
            &id,
            "custom_objects.get",
            json!({"parameters": {"objectType": type_id, "id": ids[0], "properties": "model,vin"}}),
        )
        .await;
    assert_eq!(record["properties"]["vin"], "VIN-1");
    let updated = env
        .data(
            &id,
            "custom_objects.update",
            json!({"parameters": {"objectType": type_id, "id": ids[0], "properties": {"year": 1927}}}),
        )
        .await;
    assert_eq!(updated["properties"]["year"], "1927", "{updated}");

    // List follows HubSpot's pages; search finds by the searchable properties.
    let (status, page) = env
        .method(
            &id,
            "custom_objects.list",
            json!({"parameters": {"objectType": type_id, "properties": "model"}, "paging": {"limit": 2}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["data"].as_array().map(Vec::len), Some(2));
    assert!(page["paging"]["next"].is_string(), "{page}");
    let all = env
        .data(
            &id,
            "custom_objects.list",
            json!({"parameters": {"objectType": type_id}, "paging": {"all": true}}),
        )
        .await;
    let listed: Vec<&str> = all
        .as_array()
        .expect("records")
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    assert_eq!(listed, ids.iter().map(String::as_str).collect::<Vec<_>>());
    let found = env
        .data(
            &id,
            "custom_objects.search",
            json!({"parameters": {"objectType": type_id, "query": "Beetle", "properties": ["model"]}}),
        )
        .await;
    assert_eq!(found.as_array().map(Vec::len), Some(1), "{found}");
    assert_eq!(found[0]["id"], json!(ids[1]));
    let found = env
        .data(
            &id,
            "custom_objects.search",
            json!({"parameters": {"objectType": type_id, "filterGroups": [{"filters": [{"propertyName": "year", "operator": "EQ", "value": "1960"}]}]}}),
        )
        .await;
    assert_eq!(found.as_array().map(Vec::len), Some(2), "{found}");

    // HubSpot checks the values: a required property missing, a unique one taken.
    env.refused(
        &id,
        "custom_objects.create",
        json!({"parameters": {"objectType": type_id, "properties": {"year": 2000}}}),
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    env.answered(&id,
            "custom_objects.create",
            json!({"parameters": {"objectType": type_id, "properties": {"model": "Copy", "vin": "VIN-2"}}}), StatusCode::CONFLICT).await;
    // Spokes checks the input's shape before sending.
    env.refused(
        &id,
        "custom_objects.create",
        json!({"parameters": {"objectType": type_id}, "fields": {"model": "X"}}),
        StatusCode::BAD_REQUEST,
        "invalid_parameters",
    )
    .await;

    env.ok(
        &id,
        "custom_objects.delete",
        json!({"parameters": {"objectType": type_id, "id": ids[2]}}),
    )
    .await;
    env.refused(
        &id,
        "custom_objects.get",
        json!({"parameters": {"objectType": type_id, "id": ids[2]}}),
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    env.answered(
        &id,
        "custom_objects.get_schema",
        json!({"parameters": {"objectType": "2-999"}}),
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn custom_records_are_listed_new_and_updated_since_a_time() {
    let env = TestEnv::start().await;
    let id = env.connected_for_custom().await;
    let schema = env.create_cars_schema(&id).await;
    let type_id = schema["objectTypeId"].as_str().expect("objectTypeId");
    let create = |model: &'static str| {
        let env = &env;
        let id = &id;
        async move {
            let record = env
                .data(
                    id,
                    "custom_objects.create",
                    json!({"parameters": {"objectType": type_id, "properties": {"model": model}}}),
                )
                .await;
            record["id"].as_str().expect("id").to_string()
        }
    };
    let pause = || tokio::time::sleep(std::time::Duration::from_millis(10));
    let old = create("Model T").await;
    create("Beetle").await;
    pause().await;
    let since = spokes_core::SystemClock.now_ms().to_string();
    pause().await;
    let mut new = Vec::new();
    for model in ["Mini", "Golf", "Polo"] {
        new.push(create(model).await);
        pause().await;
    }

    // By type id and by fully qualified name: exactly the records created since, oldest first.
    for object_type in [type_id, "p24682001_cars"] {
        let listed = env
            .data(
                &id,
                "custom_objects.list_new",
                json!({"parameters": {"objectType": object_type, "since": since, "properties": ["model"]}, "paging": {"all": true}}),
            )
            .await;
        assert_eq!(ids_of(&listed), new, "{object_type}: {listed}");
        assert_eq!(listed[0]["properties"]["model"], "Mini");
    }
    // Page by page (a window query or two each), the cursors lead through them once each.
    let mut paged = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..10 {
        let mut input =
            json!({"parameters": {"objectType": type_id, "since": since}, "paging": {"limit": 2}});
        if let Some(after) = &after {
            input["paging"]["after"] = json!(after);
        }
        let page = env.ok(&id, "custom_objects.list_new", input).await;
        paged.extend(ids_of(&page["data"]));
        match page["paging"]["next"].as_str() {
            Some(next) => after = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(paged, new);

    // A change moves an older record into the updated window, after the new ones.
    env.data(
        &id,
        "custom_objects.update",
        json!({"parameters": {"objectType": type_id, "id": old, "properties": {"year": 1927}}}),
    )
    .await;
    let updated = env
        .data(
            &id,
            "custom_objects.list_updated",
            json!({"parameters": {"objectType": type_id, "since": since}, "paging": {"all": true}}),
        )
        .await;
    let mut expected = new.clone();
    expected.push(old);
    assert_eq!(ids_of(&updated), expected, "{updated}");
    let none = env
        .data(
            &id,
            "custom_objects.list_new",
            json!({"parameters": {"objectType": type_id, "since": "2999-01-01T00:00:00Z"}}),
        )
        .await;
    assert_eq!(none, json!([]));
}

#[tokio::test]
async fn custom_object_methods_need_their_scopes() {
    let env = TestEnv::start().await;
    let id = env.connected().await;
    env.refused(
        &id,
        "custom_objects.list",
        json!({"parameters": {"objectType": "2-1"}}),
        StatusCode::FORBIDDEN,
        "missing_scopes",
    )
    .await;
    env.refused(
        &id,
        "timeline.create_event",
        json!({"parameters": {"eventTemplateId": "1", "tokens": {}}}),
        StatusCode::FORBIDDEN,
        "missing_scopes",
    )
    .await;
}

#[tokio::test]
async fn timeline_events_are_created_once() {
    let env = TestEnv::start().await;
    let id = env.connected_for_custom().await;
    // The template is the app's, made with its developer API key (not a portal's token).
    let apps = env.sim_json(Method::GET, "/_sim/apps", None).await;
    let app = apps[0]["app_id"].as_i64().expect("app id");
    let key = apps[0]["developer_api_key"].as_str().expect("key");
    let template = env
        .sim_json(
            Method::POST,
            &format!("/integrators/timeline/v3/{app}/event-templates?hapikey={key}"),
            Some(json!({
                "name": "Webinar registration",
                "objectType": "contacts",
                "headerTemplate": "Registered for {{webinar}}",
                "tokens": [{"name": "webinar", "label": "Webinar", "type": "string"}]
            })),
        )
        .await;
    let template_id = template["id"].as_str().expect("template id");
    let contact = env
        .data(
            &id,
            "contacts.create",
            json!({"fields": {"email": "grace@example.com", "firstname": "Grace"}}),
        )
        .await;
    let contact_id = contact["id"].as_str().expect("contact id");

    let input = json!({"parameters": {
        "eventTemplateId": template_id,
        "objectId": contact_id,
        "id": "webinar-42-grace",
        "timestamp": "2026-12-01T15:00:00Z",
        "tokens": {"webinar": "Spokes 101"},
        "extraData": {"seat": 7}
    }});
    let event = env.data(&id, "timeline.create_event", input.clone()).await;
    assert_eq!(event["id"], "webinar-42-grace");
    assert_eq!(event["objectId"], json!(contact_id));
    assert_eq!(event["objectType"], "contacts");
    assert_eq!(event["tokens"], json!({"webinar": "Spokes 101"}));
    assert_eq!(event["timestamp"], "2026-12-01T15:00:00.000Z");

    // The same id again: HubSpot refuses it, and the event stays as it was.
    let mut again = input.clone();
    again["parameters"]["tokens"]["webinar"] = json!("Spokes 102");
    // HubSpot answers a re-sent id with 400 "Event ID already in use…": the event is there.
    let body = env
        .refused(
            &id,
            "timeline.create_event",
            again,
            StatusCode::CONFLICT,
            "conflict",
        )
        .await;
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("Event ID already in use")),
        "{body}"
    );
    assert_eq!(env.sim.sim.timeline_event_count(24_682_001), 1);
    let stored = env
        .through_timeline(
            &id,
            &format!("/integrators/timeline/v3/events/{template_id}/webinar-42-grace"),
        )
        .await;
    assert_eq!(stored["tokens"]["webinar"], "Spokes 101");

    // By email, without an id of our own.
    let event = env
        .data(
            &id,
            "timeline.create_event",
            json!({"parameters": {"eventTemplateId": template_id, "email": "grace@example.com", "tokens": {}}}),
        )
        .await;
    assert_eq!(event["objectId"], json!(contact_id));
    assert_eq!(env.sim.sim.timeline_event_count(24_682_001), 2);

    // Checked before sending: the template id and the tokens are required.
    env.refused(
        &id,
        "timeline.create_event",
        json!({"parameters": {"objectId": contact_id}}),
        StatusCode::BAD_REQUEST,
        "invalid_parameters",
    )
    .await;
    // An unknown template: HubSpot's 404.
    env.answered(
        &id,
        "timeline.create_event",
        json!({"parameters": {"eventTemplateId": "999", "objectId": contact_id, "tokens": {}}}),
        StatusCode::NOT_FOUND,
    )
    .await;
}

impl TestEnv {
    /// `path` at HubSpot through the installation's proxy.
    async fn through_timeline(&self, id: &str, path: &str) -> Value {
        let (status, answer) = self
            .get_json(&format!("/v1/accounts/acme/connectors/{id}/proxy{path}"))
            .await;
        assert_eq!(status, StatusCode::OK, "{path}: {answer}");
        answer
    }
}

#[tokio::test]
async fn a_copied_category_binds_the_record_methods_to_one_schema() {
    let env = TestEnv::start().await;
    let id = env.connected_for_custom().await;
    let schema = env.create_cars_schema(&id).await;
    let copies = "/v1/connectors/hubspot/custom-objects";

    let (status, copy) = env
        .send_json(
            Method::PUT,
            &format!("{copies}/cars"),
            json!({"category": "Cars"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{copy}");
    assert_eq!(copy["schema"], "cars");
    let ids = copy["methods"].as_array().expect("methods").clone();
    assert_eq!(ids.len(), 8, "{copy}");
    assert!(ids.contains(&json!("cars.create")) && ids.contains(&json!("cars.list_new")));
    let (_, listed) = env.get_json(copies).await;
    assert_eq!(listed["data"], json!([copy]));

    // The copy shows in the catalogue, under its category, without `objectType`.
    let (_, catalogue) = env
        .get_json("/v1/connectors/hubspot/methods?category=Cars")
        .await;
    let methods = catalogue["methods"].as_array().expect("methods");
    let listed_ids: Vec<Value> = methods.iter().map(|m| m["id"].clone()).collect();
    assert_eq!(listed_ids, ids);
    for method in methods {
        assert!(
            method["parameters"]
                .as_array()
                .expect("parameters")
                .iter()
                .all(|p| p["name"] != "objectType"),
            "{method}"
        );
    }
    let (status, one) = env
        .get_json("/v1/connectors/hubspot/methods/cars.create")
        .await;
    assert_eq!(status, StatusCode::OK, "{one}");
    assert_eq!(one["category"], "Cars");
    assert!(one["input_schema"].to_string().contains("properties"));
    assert!(
        !one["input_schema"].to_string().contains("objectType"),
        "{one}"
    );

    // Called like any method: it acts on the portal's `cars`.
    let car = env
        .data(
            &id,
            "cars.create",
            json!({"parameters": {"properties": {"model": "Model T"}}}),
        )
        .await;
    let car_id = car["id"].as_str().expect("id");
    let got = env
        .data(
            &id,
            "cars.get",
            json!({"parameters": {"id": car_id, "properties": "model"}}),
        )
        .await;
    assert_eq!(got["properties"]["model"], "Model T");
    let generic = env
        .data(
            &id,
            "custom_objects.get",
            json!({"parameters": {"objectType": schema["objectTypeId"], "id": car_id, "properties": "model"}}),
        )
        .await;
    assert_eq!(got, generic);
    let all = env
        .data(&id, "cars.list", json!({"paging": {"all": true}}))
        .await;
    assert_eq!(ids_of(&all), vec![car_id.to_string()]);
    env.refused(
        &id,
        "cars.get",
        json!({"parameters": {"objectType": "p1_other", "id": car_id}}),
        StatusCode::BAD_REQUEST,
        "invalid_parameters",
    )
    .await;

    // Only a partner key copies; names must be schema names that hide no method.
    let restricted = env.create_key(Some("acme")).await;
    let (status, _) = read(
        env.request_as(&restricted, Method::PUT, &format!("{copies}/pets"))
            .json(&json!({"category": "Pets"}))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    for (name, category) in [("Cars", "Cars"), ("contacts", "People"), ("pets", " ")] {
        let (status, body) = env
            .send_json(
                Method::PUT,
                &format!("{copies}/{name}"),
                json!({ "category": category }),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name}: {body}");
        assert_eq!(body["error"]["code"], "invalid_parameters");
    }

    // Renamed, then deleted: its methods are gone.
    let (_, renamed) = env
        .send_json(
            Method::PUT,
            &format!("{copies}/cars"),
            json!({"category": "Our cars"}),
        )
        .await;
    assert_eq!(renamed["category"], "Our cars");
    let (status, _) = env
        .send_json(Method::DELETE, &format!("{copies}/cars"), json!({}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    env.refused(
        &id,
        "cars.get",
        json!({"parameters": {"id": car_id}}),
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let (status, _) = env
        .send_json(Method::DELETE, &format!("{copies}/cars"), json!({}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
