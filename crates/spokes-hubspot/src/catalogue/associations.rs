//! Associations between records on HubSpot's associations v4 API: the batch create, and the
//! pairs the seed connector names (a contact's companies, a deal's contacts, companies and
//! line items), each as a default (unlabelled) association.
//!
//! The per-record v4 paths live under `/crm/v4/objects/…` (the date-versioned alias is
//! `/crm/objects/2026-03/…`); the `Objects` family would give `/crm/v3/objects/…` on a
//! `v3` configuration, which serves the older v3 associations, so these paths are fixed v4.

use serde_json::{Value, json};

use super::crm::{OBJECTS, ObjectType, fixed_path, param, records_schema, sets};
use super::{
    ApiPath, Body, Composite, Family, JsonType, Location, MethodDef, Paging, ScopeSets, Verb,
};

/// The standard object type named `plural` (contacts, companies, deals, …).
pub(super) fn object(plural: &str) -> &'static ObjectType {
    OBJECTS
        .iter()
        .find(|o| o.plural == plural)
        .unwrap_or_else(|| panic!("`{plural}` is not a standard object type of the catalogue"))
}

/// Every set that takes one alternative of `a` and one of `b`, without the sets that
/// contain another (they add nothing).
fn both(a: &ScopeSets, b: &ScopeSets) -> ScopeSets {
    let mut combined: ScopeSets = Vec::new();
    for x in a {
        for y in b {
            let mut set = x.clone();
            for scope in y {
                if !set.contains(scope) {
                    set.push(scope.clone());
                }
            }
            combined.push(set);
        }
    }
    let covers = |small: &Vec<String>, big: &Vec<String>| small.iter().all(|s| big.contains(s));
    let mut minimal: ScopeSets = Vec::new();
    for (i, set) in combined.iter().enumerate() {
        let redundant = combined.iter().enumerate().any(|(j, other)| {
            j != i
                && covers(other, set)
                && (other.len() < set.len() || (other.len() == set.len() && j < i))
        });
        if !redundant {
            minimal.push(set.clone());
        }
    }
    minimal
}

/// Reading associations takes the read scopes of both objects.
fn read_pair(from: &ObjectType, to: &ObjectType) -> ScopeSets {
    both(&sets(from.read), &sets(to.read))
}

/// Changing associations takes the write scopes of both objects, and their read scopes too:
/// HubSpot's v4 endpoints check the read scopes of both object types on every call.
fn write_pair(from: &ObjectType, to: &ObjectType) -> ScopeSets {
    let access = |o: &ObjectType| both(&sets(o.read), &sets(o.write));
    both(&access(from), &access(to))
}

/// `contactId` for contacts, `lineItemId` for line items.
fn id_name(o: &ObjectType) -> String {
    let mut words = o.singular.split(' ');
    let mut name = words.next().unwrap_or_default().to_lowercase();
    for word in words {
        name.push_str(word);
    }
    name.push_str("Id");
    name
}

fn record_param(o: &ObjectType) -> super::Param {
    param(
        &id_name(o),
        Location::Path,
        JsonType::String,
        true,
        &format!("The {} record id.", o.singular.to_lowercase()),
    )
}

fn default_association_schema() -> Value {
    json!({"type": "object", "properties": {
        "status": {"type": "string"},
        "results": {"type": "array", "description": "Both directions of the new association.", "items": {"type": "object", "properties": {
            "from": {"type": "object", "properties": {"id": {"type": "string"}}},
            "to": {"type": "object", "properties": {"id": {"type": "string"}}},
            "associationSpec": {"type": "object", "properties": {
                "associationCategory": {"type": "string"}, "associationTypeId": {"type": "integer"}
            }}
        }}},
        "startedAt": {"type": "string", "format": "date-time"},
        "completedAt": {"type": "string", "format": "date-time"}
    }})
}

fn associated_schema() -> Value {
    json!({"type": "array", "items": {"type": "object", "properties": {
        "toObjectId": {"type": ["integer", "string"], "description": "The associated record's id."},
        "associationTypes": {"type": "array", "items": {"type": "object", "properties": {
            "category": {"type": "string"}, "typeId": {"type": "integer"}, "label": {"type": ["string", "null"]}
        }}}
    }}})
}

fn batch_schema() -> Value {
    json!({"type": "object", "properties": {
        "status": {"type": "string"},
        "results": {"type": "array", "items": {"type": "object"}},
        "numErrors": {"type": "integer", "description": "Inputs that failed (HubSpot answered 207); `errors` names them."},
        "errors": {"type": "array", "items": {"type": "object"}},
        "startedAt": {"type": "string", "format": "date-time"},
        "completedAt": {"type": "string", "format": "date-time"}
    }})
}

/// `PUT …/associations/default/…`: the pair's default (unlabelled) association.
fn associate(id: &str, category: &str, from: &ObjectType, to: &ObjectType) -> MethodDef {
    let (one, other) = (from.singular.to_lowercase(), to.singular.to_lowercase());
    MethodDef {
        id: id.into(),
        name: format!("Associate {} with {}", from.singular, to.singular),
        description: format!(
            "Associates a {one} with a {other} (HubSpot's default, unlabelled association, both directions); labels already on the pair stay. Unknown records are not found."
        ),
        verb: Verb::Put,
        params: vec![record_param(from), record_param(to)],
        writes: true,
        ..MethodDef::template(
            category,
            fixed_path(format!(
                "/crm/v4/objects/{}/{{{}}}/associations/default/{}/{{{}}}",
                from.plural,
                id_name(from),
                to.plural,
                id_name(to)
            )),
            write_pair(from, to),
            default_association_schema(),
        )
    }
}

/// `DELETE …/associations/…`: every association between the two records.
fn disassociate(id: &str, category: &str, from: &ObjectType, to: &ObjectType) -> MethodDef {
    let (one, other) = (from.singular.to_lowercase(), to.singular.to_lowercase());
    MethodDef {
        name: format!("Disassociate {} from {}", from.singular, to.singular),
        description: format!(
            "Removes every association (all labels, both directions) between a {one} and a {other}; succeeds when there was none."
        ),
        verb: Verb::Delete,
        path: fixed_path(format!(
            "/crm/v4/objects/{}/{{{}}}/associations/{}/{{{}}}",
            from.plural,
            id_name(from),
            to.plural,
            id_name(to)
        )),
        output: json!({"type": "null"}),
        ..associate(id, category, from, to)
    }
}

/// `GET …/associations/{toObjectType}`: the ids of one record's associated records.
fn associated(
    id: &str,
    category: &str,
    name: &str,
    from: &ObjectType,
    to: &ObjectType,
) -> MethodDef {
    let (one, others) = (from.singular.to_lowercase(), to.category.to_lowercase());
    MethodDef {
        id: id.into(),
        name: name.into(),
        description: format!(
            "The {others} associated with a {one}: each `toObjectId` (a {} record id) with its association types and labels, in id order, a page at a time (or all pages with `paging.all`). An unknown {one} has none.",
            to.singular.to_lowercase()
        ),
        params: vec![record_param(from)],
        paging: Paging::Cursor,
        ..MethodDef::template(
            category,
            fixed_path(format!(
                "/crm/v4/objects/{}/{{{}}}/associations/{}",
                from.plural,
                id_name(from),
                to.plural
            )),
            read_pair(from, to),
            associated_schema(),
        )
    }
}

/// A record's object type, as a path parameter of the generic association methods.
fn type_param(name: &str, which: &str) -> super::Param {
    param(
        name,
        Location::Path,
        JsonType::String,
        true,
        &format!(
            "The {which} object type: `contacts`, `companies`, `deals`, `tickets`, `line_items`, `notes`, …, a custom object's `p<portalId>_<name>` (or a type id such as `0-1`)."
        ),
    )
}

fn record_id_param(name: &str, which: &str) -> super::Param {
    param(
        name,
        Location::Path,
        JsonType::String,
        true,
        &format!("The {which} record id."),
    )
}

/// `associations.list` and `associations.create_default`: any two object types, so agents
/// and generic tools need no method per pair. HubSpot checks the scopes of both types.
fn generic() -> Vec<MethodDef> {
    vec![
        MethodDef {
            id: "associations.list".into(),
            name: "List Associations".into(),
            description: "The records of `toObjectType` associated with one record: each `toObjectId` with its association types and labels, in id order, a page at a time (or all pages with `paging.all`). Needs the read scopes of both object types (HubSpot checks them).".into(),
            params: vec![
                type_param("fromObjectType", "record's"),
                record_id_param("objectId", "record's"),
                type_param("toObjectType", "associated records'"),
            ],
            paging: Paging::Cursor,
            ..MethodDef::template(
                "Associations",
                fixed_path("/crm/v4/objects/{fromObjectType}/{objectId}/associations/{toObjectType}"),
                Vec::new(),
                associated_schema(),
            )
        },
        MethodDef {
            id: "associations.create_default".into(),
            name: "Associate Records".into(),
            description: "Associates two records with HubSpot's default (unlabelled) association, both directions; labels already on the pair stay. Needs the read and write scopes of both object types (HubSpot checks them).".into(),
            verb: Verb::Put,
            params: vec![
                type_param("fromObjectType", "first record's"),
                record_id_param("fromObjectId", "first"),
                type_param("toObjectType", "second record's"),
                record_id_param("toObjectId", "second"),
            ],
            writes: true,
            ..MethodDef::template(
                "Associations",
                fixed_path("/crm/v4/objects/{fromObjectType}/{fromObjectId}/associations/default/{toObjectType}/{toObjectId}"),
                Vec::new(),
                default_association_schema(),
            )
        },
    ]
}

/// `deals.products`: the products of a deal's line items. HubSpot ties products to deals
/// only through line items, so the client makes it of three requests (`Composite`); the
/// path shown is the first, the deal's line items.
fn deal_products(deals: &ObjectType, line_items: &ObjectType, products: &ObjectType) -> MethodDef {
    MethodDef {
        id: "deals.products".into(),
        name: "Get Products For Deal".into(),
        description: format!(
            "The products on a deal's line items, each once, in the order of the line items (by id): HubSpot reaches them through the deal's line items (every page), their `hs_product_id` and a batch read of the products. Line items without a product, and products deleted since, are left out; a deal without line items (or an unknown deal) has none.{}",
            products.note
        ),
        params: vec![
            record_param(deals),
            param(
                "properties",
                Location::Query,
                JsonType::String,
                false,
                "Comma-separated product property names to return (default: HubSpot's default set).",
            ),
        ],
        composite: Some(Composite::DealProducts),
        ..MethodDef::template(
            products.category,
            fixed_path(format!(
                "/crm/v4/objects/{}/{{{}}}/associations/{}",
                deals.plural,
                id_name(deals),
                line_items.plural
            )),
            both(&read_pair(deals, line_items), &sets(products.read)),
            records_schema(),
        )
    }
}

fn batch(id: &str, name: &str, action: &str, description: &str, inputs: &str) -> MethodDef {
    let object_type = |name: &str, side: &str| {
        param(
            name,
            Location::Path,
            JsonType::String,
            true,
            &format!(
                "The object type the associations go {side}: `contacts`, `companies`, `deals`, `tickets`, `line_items`, `notes`, … (or a type id such as `0-1`)."
            ),
        )
    };
    MethodDef {
        id: id.into(),
        name: name.into(),
        description: format!(
            "{description} At most 1,000 inputs; inputs that fail are listed in `errors` while the others are made. Needs the read (HubSpot) and write scopes of both object types: Spokes cannot check them before sending, HubSpot does."
        ),
        verb: Verb::Post,
        params: vec![
            object_type("fromObjectType", "from"),
            object_type("toObjectType", "to"),
            param("inputs", Location::Body, JsonType::Array, true, inputs),
        ],
        body: Body::Params,
        writes: true,
        ..MethodDef::template(
            "Associations",
            ApiPath {
                family: Family::Associations,
                rest: format!("/{{fromObjectType}}/{{toObjectType}}/batch/{action}"),
            },
            // The object types are parameters: HubSpot checks their scopes.
            Vec::new(),
            batch_schema(),
        )
    }
}

pub(super) fn methods() -> Vec<MethodDef> {
    let contacts = object("contacts");
    let companies = object("companies");
    let deals = object("deals");
    let line_items = object("line_items");
    let products = object("products");
    vec![
        batch(
            "associations.batch_create",
            "Batch Create Associations",
            "create",
            "Associates pairs of records with the association types given (labelled or not), both directions.",
            "`[{from: {id}, to: {id}, types: [{associationCategory: \"HUBSPOT_DEFINED\" | \"USER_DEFINED\", associationTypeId}]}]`; e.g. type 279 (HUBSPOT_DEFINED) for a contact's company, 1 to make it the primary one.",
        ),
        batch(
            "associations.batch_create_default",
            "Batch Create Default Associations",
            "associate/default",
            "Associates pairs of records with HubSpot's default (unlabelled) association type, both directions.",
            "`[{from: {id}, to: {id}}]`: record ids of the two object types.",
        ),
        associate(
            "contacts.associate_company",
            "Company Members",
            contacts,
            companies,
        ),
        disassociate(
            "contacts.disassociate_company",
            "Company Members",
            contacts,
            companies,
        ),
        associated(
            "contacts.companies",
            "Company Members",
            "Get Contact's Companies",
            contacts,
            companies,
        ),
        associated(
            "companies.contacts",
            "Companies",
            "Get Company's Contacts",
            companies,
            contacts,
        ),
        associate("deals.associate_contact", "Deals", deals, contacts),
        associate("deals.associate_company", "Deals", deals, companies),
        associated(
            "companies.deals",
            "Deals",
            "List Company's Deals",
            companies,
            deals,
        ),
        associate("line_items.associate_deal", "Line Items", line_items, deals),
        associated(
            "deals.line_items",
            "Line Items",
            "List Deal's Line Items",
            deals,
            line_items,
        ),
        deal_products(deals, line_items, products),
    ]
    .into_iter()
    .chain(generic())
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pair_scopes_drop_sets_that_add_nothing() {
        assert_eq!(
            write_pair(object("contacts"), object("companies")),
            sets(&[
                &[
                    "crm.objects.contacts.read",
                    "crm.objects.contacts.write",
                    "crm.objects.companies.read",
                    "crm.objects.companies.write"
                ],
                &["contacts"],
            ])
        );
        assert_eq!(
            read_pair(object("deals"), object("line_items")),
            sets(&[
                &["crm.objects.deals.read", "crm.objects.line_items.read"],
                &["crm.objects.deals.read", "e-commerce"],
                &["contacts", "crm.objects.line_items.read"],
                &["contacts", "e-commerce"],
            ])
        );
    }

    #[test]
    fn a_deals_products_take_the_deal_line_item_and_product_reads() {
        let method = crate::catalogue::find("deals.products").expect("deals.products");
        assert_eq!(method.composite, Some(Composite::DealProducts));
        assert_eq!(method.category, "Products");
        assert_eq!(
            method.scopes,
            sets(&[
                &[
                    "crm.objects.deals.read",
                    "crm.objects.line_items.read",
                    "crm.objects.products.read"
                ],
                &["crm.objects.deals.read", "e-commerce"],
                &[
                    "contacts",
                    "crm.objects.line_items.read",
                    "crm.objects.products.read"
                ],
                &["contacts", "e-commerce"],
            ])
        );
    }

    /// Holds for every method of the catalogue: unique ids, path placeholders and path
    /// parameters match, body parameters only where the body is made of them.
    #[test]
    fn the_catalogue_is_consistent() {
        let all = crate::catalogue::all();
        let mut ids: Vec<&str> = all.iter().map(|m| m.id.as_str()).collect();
        ids.sort_unstable();
        let count = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), count, "duplicate method ids");
        for m in all {
            let placeholders: Vec<&str> = m
                .path
                .rest
                .split('{')
                .skip(1)
                .filter_map(|s| s.split_once('}').map(|(name, _)| name))
                .filter(|name| *name != "account_info_version")
                .collect();
            for name in &placeholders {
                assert!(
                    m.param(name).is_some_and(|p| p.location == Location::Path),
                    "{}: `{{{name}}}` has no path parameter",
                    m.id
                );
            }
            for p in &m.params {
                if p.location == Location::Path {
                    assert!(
                        placeholders.contains(&p.name.as_str()),
                        "{}: {} unused",
                        m.id,
                        p.name
                    );
                }
                if p.location == Location::Body {
                    assert!(
                        matches!(m.body, Body::Params | Body::Value(_) | Body::Upsert { .. })
                            || matches!(m.paging, Paging::Window { .. }),
                        "{}: body parameter {}",
                        m.id,
                        p.name
                    );
                }
            }
            assert!(!m.description.is_empty() && !m.name.is_empty(), "{}", m.id);
            if let Body::Value(name) = &m.body {
                assert!(
                    m.param(name)
                        .is_some_and(|p| p.location == Location::Body && p.required),
                    "{}: the body parameter {name} is missing",
                    m.id
                );
            }
            for (_, name) in m.shape.equals {
                assert!(m.param(name).is_some(), "{}: filter parameter {name}", m.id);
            }
            if m.shape.since.is_some() {
                assert!(m.param("since").is_some(), "{}: no `since`", m.id);
            }
        }
    }

    #[test]
    fn id_names_are_camel_case() {
        assert_eq!(id_name(object("contacts")), "contactId");
        assert_eq!(id_name(object("line_items")), "lineItemId");
    }
}
