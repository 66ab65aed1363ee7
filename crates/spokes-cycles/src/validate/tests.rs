use serde_json::{Value, json};

use super::*;

fn template(document: Value) -> Template {
    serde_json::from_value(document).expect("the test template deserializes")
}

fn problems(document: Value) -> Vec<Problem> {
    validate(&template(document), &HubSpotCatalogue).expect_err("the template has problems")
}

/// `(step, field)` of each problem, as text, for comparing.
fn places(problems: &[Problem]) -> Vec<String> {
    problems
        .iter()
        .map(|p| {
            format!(
                "{}:{}",
                p.step.as_deref().unwrap_or("-"),
                p.field.as_deref().unwrap_or("-")
            )
        })
        .collect()
}

fn assert_has(problems: &[Problem], place: &str, words: &str) {
    let found = problems
        .iter()
        .zip(places(problems))
        .any(|(p, at)| at == place && p.reason.contains(words));
    assert!(
        found,
        "no problem at {place} saying `{words}` in {problems:#?}"
    );
}

/// New contacts → the company of their email domain, created when there is none.
fn contacts_to_companies() -> Value {
    json!({
        "name": "Contacts to companies",
        "variables": [{"name": "owner", "default": "1"}],
        "trigger": {
            "kind": "poll", "connector": "hubspot", "method": "contacts.list_new",
            "parameters": {"properties": {"source": "static", "value": "email,firstname"}},
            "next": "find"
        },
        "steps": [
            {
                "kind": "method", "id": "find", "connector": "hubspot",
                "method": "companies.get_by_domain",
                "parameters": {"domain": {
                    "source": "step", "step": "trigger", "path": "properties.email",
                    "transform": "value | email_domain"
                }},
                "next": "known"
            },
            {
                "kind": "decision", "id": "known", "operator": "is_empty",
                "left": {"source": "step", "step": "find", "path": "id"},
                "on_true": "create", "on_false": "done"
            },
            {
                "kind": "method", "id": "create", "connector": "hubspot",
                "method": "companies.create",
                "fields": {
                    "domain": {"source": "text", "text": "{{ trigger.properties.email | email_domain }}"},
                    "hubspot_owner_id": {"source": "variable", "name": "owner"},
                    "description": {"source": "system", "name": "Now", "format": "%Y-%m-%d"}
                },
                "error_policy": {"action": "retry", "waits_minutes": [1, 10]},
                "next": "wait"
            },
            {"kind": "delay", "id": "wait", "minutes": 60, "next": "done"},
            {"kind": "stop", "id": "done"}
        ]
    })
}

#[test]
fn a_sound_template_passes() {
    assert_eq!(
        validate(&template(contacts_to_companies()), &HubSpotCatalogue),
        Ok(())
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let found = problems(json!({
        "name": " ",
        "variables": [{"name": "v"}, {"name": "v"}],
        "trigger": {"kind": "webhook", "id": "start", "next": "find"},
        "steps": [
            {
                "kind": "method", "id": "find", "connector": "hubspot", "method": "contacts.creat",
                "next": "read"
            },
            {
                "kind": "method", "id": "read", "connector": "hubspot", "method": "contacts.get",
                "parameters": {
                    "colour": {"source": "static", "value": "red"},
                    "properties": {"source": "step", "step": "later", "path": "a..b"}
                },
                "fields": {
                    "email": {"source": "static", "text": "x"},
                    "name": {"source": "text", "text": "{% if %}"},
                    "zip": {"source": "variable", "name": "nope", "transform": "value |"},
                    "when": {"source": "system", "name": "Tomorrow"}
                },
                "next": "check"
            },
            {
                "kind": "decision", "id": "check", "operator": "equals",
                "left": {"source": "ignore", "default": 1},
                "on_true": "later", "on_false": "missing"
            },
            {"kind": "delay", "id": "later", "minutes": 0, "next": "bad id!"},
            {"kind": "stop", "id": "bad id!"},
            {"kind": "stop", "id": "later"},
            {"kind": "stop", "id": "orphan"}
        ],
        "error_policy": {"action": "retry", "waits_minutes": []}
    }));
    let expected = [
        ("-:name", "needs a name"),
        ("-:variables.1.name", "declared twice"),
        ("find:method", "did you mean"),
        ("read:parameters.colour", "no parameter `colour`"),
        ("read:parameters.id", "required parameter"),
        ("read:fields", "takes no `fields`"),
        ("read:parameters.properties.step", "does not run before"),
        ("read:parameters.properties.path", "empty segment"),
        ("read:fields.email.value", "needs a `value`"),
        (
            "read:fields.email.text",
            "does not belong to a `static` mapping",
        ),
        ("read:fields.name.text", "syntax error"),
        ("read:fields.zip.name", "no variable `nope`"),
        ("read:fields.zip.transform", "syntax error"),
        ("read:fields.when.name", "no system value `Tomorrow`"),
        (
            "check:left.default",
            "does not belong to a `ignore` mapping",
        ),
        ("check:right", "needs a `right`"),
        ("check:on_false", "no step `missing`"),
        ("later:minutes", "1 to 40320"),
        ("bad id!:id", "may only have"),
        ("later:id", "another step has the id"),
        ("orphan:-", "no path from the trigger"),
        ("-:error_policy.waits_minutes", "at least one wait"),
    ];
    for (place, words) in expected {
        assert_has(&found, place, words);
    }
    assert_eq!(found.len(), expected.len(), "{:#?}", places(&found));
}

#[test]
fn loops_are_refused() {
    let found = problems(json!({
        "name": "loop",
        "trigger": {"kind": "webhook", "next": "a"},
        "steps": [
            {"kind": "delay", "id": "a", "minutes": 1, "next": "b"},
            {"kind": "delay", "id": "b", "minutes": 1, "next": "a"},
            {"kind": "delay", "id": "c", "minutes": 1, "next": "trigger"}
        ]
    }));
    assert_has(&found, "b:next", "the steps loop (a → b → a)");
    assert_has(&found, "c:next", "back to the trigger");
    assert_has(&found, "c:-", "no path from the trigger");
    assert_eq!(found.len(), 3, "{found:#?}");
}

#[test]
fn poll_triggers_need_a_method_with_since_and_set_it_themselves() {
    let found = problems(json!({
        "name": "poll",
        "trigger": {
            "kind": "poll", "connector": "hubspot", "method": "contacts.get",
            "parameters": {"id": {"source": "static", "value": "1"}}
        }
    }));
    assert_has(&found, "-:trigger.method", "no `since`");
    assert_eq!(found.len(), 1, "{found:#?}");

    let found = problems(json!({
        "name": "poll",
        "trigger": {
            "kind": "poll", "connector": "hubspot", "method": "contacts.list_new",
            "parameters": {"since": {"source": "system", "name": "Now"}}
        }
    }));
    assert_has(&found, "-:trigger.parameters.since", "Spokes' own");
    assert_eq!(found.len(), 1, "{found:#?}");

    let found = problems(json!({
        "name": "poll",
        "trigger": {"kind": "poll", "connector": "salesforce", "method": "leads.list_new"}
    }));
    assert_has(&found, "-:trigger.connector", "no connector `salesforce`");
}

#[test]
fn webhook_events_are_hubspot_subscription_types() {
    for event in [
        "contact.creation",
        "company.propertyChange",
        "deal.associationChange",
        "line_item.merge",
        "product.restore",
        "contact.privacyDeletion",
        "conversation.newMessage",
    ] {
        assert!(is_subscription_type(event), "{event}");
    }
    for event in [
        "product.associationChange",
        "contact.newMessage",
        "conversation.merge",
        "deal.privacyDeletion",
        "contact",
        "Contact.creation",
        "",
    ] {
        assert!(!is_subscription_type(event), "{event}");
    }
    let found = problems(json!({
        "name": "hooks",
        "trigger": {"kind": "hubspot_webhook", "events": ["deal.creation", "deal.create", "deal.creation"]}
    }));
    assert_has(
        &found,
        "-:trigger.events.1",
        "not a HubSpot subscription type",
    );
    assert_has(&found, "-:trigger.events.2", "named twice");
    assert_eq!(found.len(), 2, "{found:#?}");

    let found =
        problems(json!({"name": "hooks", "trigger": {"kind": "hubspot_webhook", "events": []}}));
    assert_has(&found, "-:trigger.events", "at least one event");
}

#[test]
fn a_step_output_is_read_only_where_the_step_ran_on_every_path() {
    let mut document = contacts_to_companies();
    // `wait` follows `create`, which runs on one branch only, into `done`.
    document["steps"][4] = json!({
        "kind": "method", "id": "done", "connector": "hubspot", "method": "companies.update",
        "parameters": {"id": {"source": "step", "step": "create", "path": "id"}},
        "fields": {"name": {"source": "step", "step": "find", "path": "properties.name"}}
    });
    let found = problems(document);
    assert_has(&found, "done:parameters.id.step", "does not run before");
    assert_eq!(found.len(), 1, "{found:#?}");
}

#[test]
fn merge_fields_name_what_exists_before_them() {
    let mut document = contacts_to_companies();
    document["steps"][2]["fields"]["name"] = json!({
        "source": "text",
        "text": "{{ stpes.find.id }} {{ steps.done.id }} {{ variables.region }} {{ steps.find.id }}"
    });
    document["steps"][2]["fields"]["city"] = json!({
        "source": "static", "value": "x", "transform": "value ~ steps.wait.x ~ CycleId"
    });
    let found = problems(document);
    assert_has(&found, "create:fields.name.text", "`stpes` is not a name");
    assert_has(
        &found,
        "create:fields.name.text",
        "step `done` does not run before",
    );
    assert_has(&found, "create:fields.name.text", "no variable `region`");
    assert_has(
        &found,
        "create:fields.city.transform",
        "step `wait` does not run before",
    );
    assert_eq!(found.len(), 4, "{found:#?}");
}

#[test]
fn mapping_pieces_by_source() {
    let mut document = contacts_to_companies();
    document["steps"][2]["fields"] = json!({
        "a": {"source": "step", "step": "trigger"},
        "b": {"source": "system", "name": "CycleId", "format": "%Y"},
        "c": {"source": "system", "name": "Now", "format": "%Y-%"},
        "d": {"source": "system", "name": "LastSuccessfulRunDate", "format": "unix_ms"},
        "e": {"source": "text", "text": "x", "path": "y"},
        "f": {"source": "static", "value": null}
    });
    let found = problems(document);
    assert_has(&found, "create:fields.a.path", "needs a `path`");
    assert_has(&found, "create:fields.b.format", "not a date");
    assert_has(&found, "create:fields.c.format", "not a usable date format");
    assert_has(
        &found,
        "create:fields.e.path",
        "does not belong to a `text` mapping",
    );
    // serde reads `"value": null` as no value.
    assert_has(&found, "create:fields.f.value", "needs a `value`");
    assert_eq!(found.len(), 5, "{found:#?}");
}

#[test]
fn decisions_take_right_only_when_the_operator_does() {
    let mut document = contacts_to_companies();
    document["steps"][1]["right"] = json!({"source": "static", "value": 1});
    let found = problems(document);
    assert_has(&found, "known:right", "`is_empty` takes no `right`");
    assert_eq!(found.len(), 1, "{found:#?}");
}

#[test]
fn step_error_policies_are_checked() {
    let mut document = contacts_to_companies();
    document["steps"][2]["error_policy"] =
        json!({"action": "retry", "waits_minutes": [5, 0, 10081]});
    let found = problems(document);
    assert_eq!(
        places(&found),
        [
            "create:error_policy.waits_minutes.1",
            "create:error_policy.waits_minutes.2"
        ]
    );
}

#[test]
fn problems_serialize_for_the_api() {
    let problem = Problem {
        step: Some("find".into()),
        field: Some("parameters.domain".into()),
        reason: "a required parameter needs a mapping".into(),
    };
    assert_eq!(
        serde_json::to_value(&problem).unwrap(),
        json!({"step": "find", "field": "parameters.domain", "reason": "a required parameter needs a mapping"})
    );
    assert_eq!(
        problem.to_string(),
        "step `find`, `parameters.domain`: a required parameter needs a mapping"
    );
}

#[test]
fn scopes_by_step() {
    let scopes = required_scopes(&template(contacts_to_companies()), &HubSpotCatalogue);
    let steps: Vec<&str> = scopes.iter().map(|(step, _)| step.as_str()).collect();
    assert_eq!(steps, ["trigger", "find", "create"]);
    assert!(
        scopes[0]
            .1
            .contains(&vec!["crm.objects.contacts.read".to_owned()])
    );
    assert!(
        scopes[2]
            .1
            .contains(&vec!["crm.objects.companies.write".to_owned()])
    );

    let hooks = template(json!({
        "name": "hooks",
        "trigger": {"kind": "hubspot_webhook", "events": ["deal.creation", "deal.deletion", "conversation.newMessage"]}
    }));
    let scopes = required_scopes(&hooks, &HubSpotCatalogue);
    assert_eq!(scopes.len(), 2, "{scopes:?}");
    assert!(scopes[0].1.contains(&vec!["conversations.read".to_owned()]));
    assert!(
        scopes[1]
            .1
            .contains(&vec!["crm.objects.deals.read".to_owned()])
    );
}

#[test]
fn the_example_template_validates() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/templates/contacts-to-companies.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!("skipped: {} is not there", path.display());
        return;
    };
    let example: Template = serde_json::from_str(&text).expect("the example is a template");
    if let Err(problems) = validate(&example, &HubSpotCatalogue) {
        panic!("the example has problems: {problems:#?}");
    }
}
