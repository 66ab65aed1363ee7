//! Associations v4: links between CRM records, their type ids and labels.
//!
//! Paths (see the README's "Associations" section):
//!
//! * `GET /crm/v4/objects/{type}/{id}/associations/{toType}`,
//!   `PUT|DELETE .../associations/{toType}/{toId}`, `PUT .../associations/default/{toType}/{toId}`
//!   (also under `/crm/objects/2026-03/...`)
//! * `POST /crm/v4/associations/{from}/{to}/batch/{read|create|archive|labels/archive|associate/default}`
//! * `GET|POST|PUT /crm/v4/associations/{from}/{to}/labels`, `DELETE .../labels/{typeId}`
//!   (the batch and label paths also under `/crm/associations/v4/...` and
//!   `/crm/associations/2026-03/...`)
//!
//! Storage: per portal, per record, a vector of edges sorted by (object kind, record id),
//! each with its type ids. Both directions are stored: A→B with 279 is also B→A with 280.
//! Records created in id order append at the end, so bulk seeding stays linear.

use std::collections::HashMap;
use std::sync::LazyLock;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post, put};
use serde_json::{Map, Value, json};

use crate::auth::{self, Caller, Scopes};
use crate::crm::events::Events;
use crate::crm::http::{self, id_text, json_body, page_after, page_limit, respond};
use crate::crm::schema::ObjectKind;
use crate::crm::store::{PortalCrm, not_found};
use crate::errors::ApiError;
use crate::state::{Sim, now_ms};

/// Default and largest `limit` of the per-record list.
pub const DEFAULT_ASSOC_LIMIT: usize = 500;
/// First type id of user-defined labels in a portal.
pub const FIRST_LABEL_TYPE_ID: u32 = 1000;

/// `HUBSPOT_DEFINED` or `USER_DEFINED`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    HubspotDefined,
    UserDefined,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::HubspotDefined => "HUBSPOT_DEFINED",
            Self::UserDefined => "USER_DEFINED",
        }
    }
}

/// One association type (one direction).
#[derive(Debug, Clone)]
pub struct AssocType {
    pub id: u32,
    pub from: ObjectKind,
    pub to: ObjectKind,
    pub category: Category,
    /// `Primary` for primary types, the text of user-defined labels, else none.
    pub label: Option<String>,
    /// Internal name, e.g. `contact_to_company_unlabeled` (the v3 `type`).
    pub name: String,
    /// The type of the other direction.
    pub inverse: u32,
    pub primary: bool,
}

/// The HubSpot-defined types the simulator knows.
static DEFINED: LazyLock<Vec<AssocType>> = LazyLock::new(|| {
    use ObjectKind::*;
    let mut out = Vec::new();
    let mut pair = |a: u32, from: ObjectKind, to: ObjectKind, b: u32, primary: bool| {
        let name = |f: ObjectKind, t: ObjectKind| {
            let base = format!("{}_to_{}", f.singular(), t.singular());
            let unlabeled = matches!(
                (f, t),
                (Contacts, Companies)
                    | (Companies, Contacts)
                    | (Deals, Companies)
                    | (Companies, Deals)
                    | (Tickets, Companies)
                    | (Companies, Tickets)
            ) && !primary;
            if unlabeled {
                format!("{base}_unlabeled")
            } else {
                base
            }
        };
        let label = primary.then(|| "Primary".to_owned());
        out.push(AssocType {
            id: a,
            from,
            to,
            category: Category::HubspotDefined,
            label: label.clone(),
            name: name(from, to),
            inverse: b,
            primary,
        });
        if a != b {
            out.push(AssocType {
                id: b,
                from: to,
                to: from,
                category: Category::HubspotDefined,
                label,
                name: name(to, from),
                inverse: a,
                primary,
            });
        }
    };
    pair(1, Contacts, Companies, 2, true);
    pair(279, Contacts, Companies, 280, false);
    pair(3, Deals, Contacts, 4, false);
    pair(5, Deals, Companies, 6, true);
    pair(341, Deals, Companies, 342, false);
    pair(15, Contacts, Tickets, 16, false);
    pair(19, Deals, LineItems, 20, false);
    pair(26, Tickets, Companies, 25, true);
    pair(339, Tickets, Companies, 340, false);
    pair(27, Deals, Tickets, 28, false);
    pair(449, Contacts, Contacts, 449, false);
    pair(450, Companies, Companies, 450, false);
    pair(451, Deals, Deals, 451, false);
    pair(452, Tickets, Tickets, 452, false);
    // Engagements: X → engagement = n, engagement → X = n + 1.
    for (eng, company, contact, deal, ticket) in [
        (Calls, 181, 193, 205, 219),
        (Emails, 185, 197, 209, 223),
        (Meetings, 187, 199, 211, 225),
        (Notes, 189, 201, 213, 227),
        (Tasks, 191, 203, 215, 229),
    ] {
        pair(company, Companies, eng, company + 1, false);
        pair(contact, Contacts, eng, contact + 1, false);
        pair(deal, Deals, eng, deal + 1, false);
        pair(ticket, Tickets, eng, ticket + 1, false);
    }
    out
});

/// A HubSpot-defined type by id.
pub fn defined_type(id: u32) -> Option<&'static AssocType> {
    DEFINED.iter().find(|t| t.id == id)
}

/// The unlabeled (default) type id of a pair of object types, if they can be associated.
pub fn default_type(from: ObjectKind, to: ObjectKind) -> Option<u32> {
    DEFINED
        .iter()
        .find(|t| t.from == from && t.to == to && !t.primary)
        .map(|t| t.id)
}

/// One side of an association.
pub type Node = (ObjectKind, u64);

/// The type ids one `add` writes, both ways; see [`Associations::prepare`].
#[derive(Debug)]
pub struct PreparedTypes {
    all: Vec<u32>,
    inverse: Vec<u32>,
    primary: bool,
    /// The primary-company types of the non-company side.
    primary_types: Vec<u32>,
}

/// One direction of an association: the other record and the type ids.
#[derive(Debug, Clone)]
pub struct Edge {
    pub kind: ObjectKind,
    pub id: u64,
    /// Type ids, ascending.
    pub types: Box<[u32]>,
}

impl Edge {
    fn key(&self) -> (usize, u64) {
        (self.kind.index(), self.id)
    }
}

/// A change to report (webhooks): one per direction.
#[derive(Debug, Clone, Copy)]
pub struct AssocChange {
    pub from: Node,
    pub to: Node,
    pub removed: bool,
    pub primary: bool,
}

/// The associations and user-defined labels of one portal.
#[derive(Debug)]
pub struct Associations {
    edges: HashMap<Node, Vec<Edge>>,
    labels: Vec<AssocType>,
    next_label_id: u32,
}

impl Default for Associations {
    fn default() -> Self {
        Self {
            edges: HashMap::new(),
            labels: Vec::new(),
            next_label_id: FIRST_LABEL_TYPE_ID,
        }
    }
}

fn union(a: &[u32], b: &[u32]) -> Box<[u32]> {
    let mut v: Vec<u32> = a.iter().chain(b).copied().collect();
    v.sort_unstable();
    v.dedup();
    v.into_boxed_slice()
}

impl Associations {
    /// A type by id: HubSpot-defined or one of this portal's labels.
    pub fn type_of(&self, id: u32) -> Option<&AssocType> {
        defined_type(id).or_else(|| self.labels.iter().find(|t| t.id == id))
    }

    /// Every type from `from` to `to`.
    pub fn types_between(&self, from: ObjectKind, to: ObjectKind) -> Vec<&AssocType> {
        DEFINED
            .iter()
            .chain(&self.labels)
            .filter(|t| t.from == from && t.to == to)
            .collect()
    }

    fn inverse(&self, id: u32) -> u32 {
        self.type_of(id).map_or(id, |t| t.inverse)
    }

    /// Checks that type `id` goes from `from` to `to` (and, when given, has `category`).
    pub fn check_type(
        &self,
        from: ObjectKind,
        to: ObjectKind,
        id: u32,
        category: Option<&str>,
    ) -> Result<(), ApiError> {
        let t = self.type_of(id).filter(|t| t.from == from && t.to == to);
        match t {
            None => Err(ApiError::validation(format!(
                "associationTypeId {id} is not a valid association type from {} to {}",
                from.plural(),
                to.plural()
            ))),
            Some(t) if category.is_some_and(|c| c != t.category.as_str()) => {
                Err(ApiError::validation(format!(
                    "associationCategory {} does not match associationTypeId {id} ({})",
                    category.unwrap_or_default(),
                    t.category.as_str()
                )))
            }
            Some(_) => Ok(()),
        }
    }

    fn edge_slot(&mut self, from: Node, to: Node) -> (&mut Vec<Edge>, Result<usize, usize>) {
        let list = self.edges.entry(from).or_default();
        let key = (to.0.index(), to.1);
        // Appends (ids in creation order) are the common case: check the end first.
        let pos = match list.last() {
            Some(last) if last.key() < key => Err(list.len()),
            None => Err(0),
            _ => list.binary_search_by_key(&key, Edge::key),
        };
        (list, pos)
    }

    /// Adds `types` (sorted, no duplicates) to the edge `from` → `to`; true when new.
    fn put_types(&mut self, from: Node, to: Node, types: &[u32]) -> bool {
        let (list, pos) = self.edge_slot(from, to);
        match pos {
            Ok(i) => {
                let merged = union(&list[i].types, types);
                let changed = merged.len() != list[i].types.len();
                list[i].types = merged;
                changed
            }
            Err(i) => {
                list.insert(
                    i,
                    Edge {
                        kind: to.0,
                        id: to.1,
                        types: types.into(),
                    },
                );
                true
            }
        }
    }

    fn strip_types(&mut self, from: Node, to: Node, types: &[u32]) {
        let Some(list) = self.edges.get_mut(&from) else {
            return;
        };
        let key = (to.0.index(), to.1);
        if let Ok(i) = list.binary_search_by_key(&key, Edge::key) {
            let kept: Vec<u32> = list[i]
                .types
                .iter()
                .copied()
                .filter(|t| !types.contains(t))
                .collect();
            if kept.is_empty() {
                list.remove(i);
            } else {
                list[i].types = kept.into_boxed_slice();
            }
        }
        if list.is_empty() {
            self.edges.remove(&from);
        }
    }

    /// The type ids from `from` to `to` (empty when not associated).
    pub fn types(&self, from: Node, to: Node) -> &[u32] {
        let key = (to.0.index(), to.1);
        self.edges
            .get(&from)
            .and_then(|l| {
                l.binary_search_by_key(&key, Edge::key)
                    .ok()
                    .map(|i| &*l[i].types)
            })
            .unwrap_or(&[])
    }

    /// The records of kind `to` associated with `from`, in id order, with their types.
    pub fn list(&self, from: Node, to: ObjectKind) -> &[Edge] {
        let Some(list) = self.edges.get(&from) else {
            return &[];
        };
        let start = list.partition_point(|e| e.kind.index() < to.index());
        let end = list.partition_point(|e| e.kind.index() <= to.index());
        &list[start..end]
    }

    /// What [`Associations::add`] writes for `types` between two object kinds: worked out
    /// once, so a bulk insert (seeding) does not repeat it per pair.
    pub fn prepare(&self, from: ObjectKind, to: ObjectKind, types: &[u32]) -> PreparedTypes {
        let mut all: Vec<u32> = types.to_vec();
        if let Some(base) = default_type(from, to)
            && !all.contains(&base)
        {
            all.push(base);
        }
        all.sort_unstable();
        all.dedup();
        let primary = all
            .iter()
            .any(|t| self.type_of(*t).is_some_and(|t| t.primary));
        // The non-company side has at most one primary company.
        let owner = if to == ObjectKind::Companies {
            from
        } else {
            to
        };
        let primary_types: Vec<u32> = DEFINED
            .iter()
            .filter(|t| t.primary && t.from == owner && t.to == ObjectKind::Companies)
            .map(|t| t.id)
            .collect();
        let mut inverse: Vec<u32> = all.iter().map(|t| self.inverse(*t)).collect();
        inverse.sort_unstable();
        inverse.dedup();
        PreparedTypes {
            all,
            inverse,
            primary,
            primary_types,
        }
    }

    /// Adds types (already checked to fit `from` → `to`) and their inverses. A primary
    /// type also adds the pair's unlabeled type and takes the primary flag from the
    /// record's previous primary; a label adds the unlabeled type too. Returns the
    /// changes to report (empty when nothing was new).
    pub fn add(&mut self, from: Node, to: Node, types: &[u32]) -> Vec<AssocChange> {
        let prepared = self.prepare(from.0, to.0, types);
        if !self.add_prepared(from, to, &prepared) {
            return Vec::new();
        }
        let primary = prepared.primary;
        vec![
            AssocChange {
                from,
                to,
                removed: false,
                primary,
            },
            AssocChange {
                from: to,
                to: from,
                removed: false,
                primary,
            },
        ]
    }

    /// [`Associations::add`] with the types worked out beforehand; true when anything was new.
    pub fn add_prepared(&mut self, from: Node, to: Node, prepared: &PreparedTypes) -> bool {
        if prepared.primary {
            let (owner, company) = if to.0 == ObjectKind::Companies {
                (from, to)
            } else {
                (to, from)
            };
            let prim = &prepared.primary_types;
            let old: Vec<u64> = self
                .list(owner, ObjectKind::Companies)
                .iter()
                .filter(|e| e.id != company.1 && e.types.iter().any(|t| prim.contains(t)))
                .map(|e| e.id)
                .collect();
            for c in old {
                let c = (ObjectKind::Companies, c);
                let inv: Vec<u32> = prim.iter().map(|t| self.inverse(*t)).collect();
                self.strip_types(owner, c, prim);
                self.strip_types(c, owner, &inv);
            }
        }
        let a = self.put_types(from, to, &prepared.all);
        let b = self.put_types(to, from, &prepared.inverse);
        a || b
    }

    /// Removes every type between two records (both directions).
    pub fn remove_pair(&mut self, a: Node, b: Node) -> Vec<AssocChange> {
        let types = self.types(a, b).to_vec();
        if types.is_empty() {
            return Vec::new();
        }
        let primary = types
            .iter()
            .any(|t| self.type_of(*t).is_some_and(|t| t.primary));
        let back = self.types(b, a).to_vec();
        self.strip_types(a, b, &types);
        self.strip_types(b, a, &back);
        vec![
            AssocChange {
                from: a,
                to: b,
                removed: true,
                primary,
            },
            AssocChange {
                from: b,
                to: a,
                removed: true,
                primary,
            },
        ]
    }

    /// Removes some types (and their inverses); removing the unlabeled type removes
    /// the whole association.
    pub fn remove_types(&mut self, a: Node, b: Node, types: &[u32]) -> Vec<AssocChange> {
        if default_type(a.0, b.0).is_some_and(|d| types.contains(&d)) {
            return self.remove_pair(a, b);
        }
        let inv: Vec<u32> = types.iter().map(|t| self.inverse(*t)).collect();
        self.strip_types(a, b, types);
        self.strip_types(b, a, &inv);
        Vec::new()
    }

    /// Drops every association of a record (archived, merged away, deleted).
    pub fn remove_record(&mut self, node: Node) {
        let Some(list) = self.edges.remove(&node) else {
            return;
        };
        for e in list {
            let other = (e.kind, e.id);
            if let Some(back) = self.edges.get_mut(&other) {
                back.retain(|x| !(x.kind == node.0 && x.id == node.1));
                if back.is_empty() {
                    self.edges.remove(&other);
                }
            }
        }
    }

    /// Moves the associations of `merged` to `primary` (links between the two are
    /// dropped).
    pub fn merge_into(&mut self, kind: ObjectKind, merged: u64, primary: u64) {
        let Some(list) = self.edges.get(&(kind, merged)).cloned() else {
            return;
        };
        self.remove_record((kind, merged));
        for e in list {
            if e.kind == kind && e.id == primary {
                continue;
            }
            // Keep the primary record's own primary company, if it has one.
            let types: Vec<u32> = e
                .types
                .iter()
                .copied()
                .filter(|t| {
                    !self.type_of(*t).is_some_and(|t| t.primary)
                        || self
                            .list((kind, primary), ObjectKind::Companies)
                            .iter()
                            .all(|x| x.types.iter().all(|y| !is_primary(*y)))
                })
                .collect();
            self.add((kind, primary), (e.kind, e.id), &types);
        }
    }

    /// Creates a user-defined label from `from` to `to`; returns its type(s).
    pub fn create_label(
        &mut self,
        from: ObjectKind,
        to: ObjectKind,
        name: &str,
        label: &str,
        inverse_label: Option<&str>,
    ) -> Result<Vec<AssocType>, ApiError> {
        if default_type(from, to).is_none() {
            return Err(ApiError::validation(format!(
                "{} cannot be associated with {}",
                from.plural(),
                to.plural()
            )));
        }
        if self
            .labels
            .iter()
            .any(|t| t.from == from && t.to == to && t.name == name)
        {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "CONFLICT",
                format!(
                    "An association label named {name} already exists from {} to {}",
                    from.plural(),
                    to.plural()
                ),
            ));
        }
        let id = self.next_label_id;
        let single = from == to && inverse_label.is_none();
        let inv_id = if single { id } else { id + 1 };
        self.next_label_id = inv_id + 1;
        let make = |id, from, to, label: &str, inverse| AssocType {
            id,
            from,
            to,
            category: Category::UserDefined,
            label: Some(label.to_owned()),
            name: name.to_owned(),
            inverse,
            primary: false,
        };
        let mut out = vec![make(id, from, to, label, inv_id)];
        if !single {
            out.push(make(inv_id, to, from, inverse_label.unwrap_or(label), id));
        }
        self.labels.extend(out.iter().cloned());
        Ok(out)
    }

    fn user_label(&self, from: ObjectKind, to: ObjectKind, id: u32) -> Result<u32, ApiError> {
        match self.type_of(id) {
            Some(t) if t.from == from && t.to == to && t.category == Category::UserDefined => {
                Ok(t.inverse)
            }
            Some(t) if t.from == from && t.to == to => Err(ApiError::validation(format!(
                "associationTypeId {id} is HUBSPOT_DEFINED and cannot be changed"
            ))),
            _ => Err(ApiError::not_found(format!(
                "No association label {id} from {} to {}",
                from.plural(),
                to.plural()
            ))),
        }
    }

    /// Renames a user-defined label (and its inverse when `inverse_label` is given).
    pub fn update_label(
        &mut self,
        from: ObjectKind,
        to: ObjectKind,
        id: u32,
        label: &str,
        inverse_label: Option<&str>,
    ) -> Result<(), ApiError> {
        let inv = self.user_label(from, to, id)?;
        for t in &mut self.labels {
            if t.id == id {
                t.label = Some(label.to_owned());
            } else if t.id == inv
                && let Some(l) = inverse_label
            {
                t.label = Some(l.to_owned());
            }
        }
        Ok(())
    }

    /// Deletes a user-defined label (both directions) and strips it from every record.
    pub fn delete_label(
        &mut self,
        from: ObjectKind,
        to: ObjectKind,
        id: u32,
    ) -> Result<(), ApiError> {
        let inv = self.user_label(from, to, id)?;
        self.labels.retain(|t| t.id != id && t.id != inv);
        for list in self.edges.values_mut() {
            for e in list.iter_mut() {
                if e.types.iter().any(|t| *t == id || *t == inv) {
                    e.types = e
                        .types
                        .iter()
                        .copied()
                        .filter(|t| *t != id && *t != inv)
                        .collect();
                }
            }
        }
        Ok(())
    }

    /// `associationTypes` entries (`{category, typeId, label}`).
    fn specs(&self, types: &[u32]) -> Vec<Value> {
        types
            .iter()
            .filter_map(|id| self.type_of(*id))
            .map(|t| json!({"category": t.category.as_str(), "typeId": t.id, "label": t.label}))
            .collect()
    }

    /// The labels (non-null) of some types.
    fn label_texts(&self, types: &[u32]) -> Vec<Value> {
        types
            .iter()
            .filter_map(|id| self.type_of(*id)?.label.clone())
            .map(Value::String)
            .collect()
    }
}

fn is_primary(id: u32) -> bool {
    defined_type(id).is_some_and(|t| t.primary)
}

// ---------------------------------------------------------------------------------
// Create-time associations and `associations=` on object reads
// ---------------------------------------------------------------------------------

/// One `associations` entry of an object create, checked: the target and its types.
pub type Planned = (Node, Vec<u32>);

/// Checks the `associations` of a create of a `kind` record:
/// `[{"to": {"id": "…"}, "types": [{"associationCategory", "associationTypeId"}]}]`.
/// Each type must go from `kind` to a live target record.
pub fn plan_create(
    crm: &PortalCrm,
    kind: ObjectKind,
    value: Option<&Value>,
) -> Result<Vec<Planned>, ApiError> {
    let items = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(a)) => a,
        Some(other) => {
            return Err(ApiError::validation(format!(
                "Invalid input JSON: associations must be an array, got {other}"
            )));
        }
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let to_id = item
            .get("to")
            .and_then(|t| t.get("id"))
            .and_then(id_text)
            .ok_or_else(|| {
                ApiError::validation("Invalid input JSON: every association needs `to.id`")
            })?;
        let specs = parse_specs(item.get("types"))?;
        if specs.is_empty() {
            return Err(ApiError::validation(
                "Invalid input JSON: every association needs at least one type",
            ));
        }
        let mut target: Option<ObjectKind> = None;
        let mut types = Vec::new();
        for (category, id) in specs {
            let t = crm.associations.type_of(id).filter(|t| t.from == kind);
            let Some(t) = t else {
                return Err(ApiError::validation(format!(
                    "associationTypeId {id} is not a valid association type from {}",
                    kind.plural()
                )));
            };
            if target.is_some_and(|k| k != t.to) {
                return Err(ApiError::validation(format!(
                    "The types of the association to {to_id} name different object types"
                )));
            }
            crm.associations
                .check_type(kind, t.to, id, category.as_deref())?;
            target = Some(t.to);
            types.push(id);
        }
        let to_kind = target.unwrap_or(kind);
        let id = to_id
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|id| crm.store(to_kind).live.contains_key(id))
            .ok_or_else(|| {
                let mut err = ApiError::validation(format!(
                    "Could not create associations: {} {to_id} does not exist",
                    to_kind.singular()
                ));
                err.body.context.insert("toObjectId".into(), json!([to_id]));
                err
            })?;
        out.push(((to_kind, id), types));
    }
    Ok(out)
}

/// Applies checked create-time associations of the new record `(kind, id)`.
pub fn apply_create(
    crm: &mut PortalCrm,
    kind: ObjectKind,
    id: u64,
    planned: Vec<Planned>,
    ev: &mut Events,
) {
    for (to, types) in planned {
        let changes = crm.associations.add((kind, id), to, &types);
        ev.associations(&changes);
    }
}

/// The v3 `associations` member of a record read:
/// `{"companies": {"results": [{"id": "…", "type": "contact_to_company"}]}}`.
/// Unknown object type names are ignored; types without associations are left out.
pub fn v3_json(crm: &PortalCrm, kind: ObjectKind, id: u64, wanted: &[String]) -> Option<Value> {
    let mut out = Map::new();
    for name in wanted {
        let Some(to) = ObjectKind::parse(name) else {
            continue;
        };
        if out.contains_key(to.plural()) {
            continue;
        }
        let mut results = Vec::new();
        for e in crm.associations.list((kind, id), to) {
            for t in e.types.iter().filter_map(|t| crm.associations.type_of(*t)) {
                results.push(json!({"id": e.id.to_string(), "type": t.name}));
            }
        }
        if !results.is_empty() {
            out.insert(to.plural().to_owned(), json!({ "results": results }));
        }
    }
    (!out.is_empty()).then_some(Value::Object(out))
}

/// Adds `associations` to a record JSON (its `id` member names the record).
pub fn attach(crm: &PortalCrm, kind: ObjectKind, record: &mut Value, wanted: &[String]) {
    if wanted.is_empty() {
        return;
    }
    let Some(id) = record
        .get("id")
        .and_then(Value::as_str)
        .and_then(|s| s.parse::<u64>().ok())
    else {
        return;
    };
    if let (Some(a), Some(obj)) = (v3_json(crm, kind, id, wanted), record.as_object_mut()) {
        obj.insert("associations".into(), a);
    }
}

// ---------------------------------------------------------------------------------
// Rust helpers (seeding, tests)
// ---------------------------------------------------------------------------------

impl Sim {
    /// Associates two live records as the simulator (no scope checks, no webhook
    /// events). `type_id` must go from `from_type` to `to_type` (e.g. 279 contact →
    /// company; 0 = the pair's unlabeled default). The other direction is added too.
    pub fn crm_associate(
        &self,
        portal_id: i64,
        from_type: &str,
        from_id: u64,
        to_type: &str,
        to_id: u64,
        type_id: u32,
    ) -> Result<(), ApiError> {
        self.crm_associate_many(portal_id, from_type, to_type, type_id, [(from_id, to_id)])
            .map(|_| ())
    }

    /// Associates many `(from_id, to_id)` pairs with one type under one lock; all or
    /// nothing (every record must be live). Returns the number of pairs.
    pub fn crm_associate_many(
        &self,
        portal_id: i64,
        from_type: &str,
        to_type: &str,
        type_id: u32,
        pairs: impl IntoIterator<Item = (u64, u64)>,
    ) -> Result<usize, ApiError> {
        let from = http::object_kind(from_type)?;
        let to = http::object_kind(to_type)?;
        let pairs: Vec<(u64, u64)> = pairs.into_iter().collect();
        self.with(|s| {
            let crm = s.crm.portal(portal_id);
            let type_id = if type_id == 0 {
                default_type(from, to).unwrap_or(0)
            } else {
                type_id
            };
            crm.associations.check_type(from, to, type_id, None)?;
            let (fs, ts) = (crm.store(from), crm.store(to));
            for &(a, b) in &pairs {
                if !fs.live.contains_key(&a) {
                    return Err(not_found(from, a));
                }
                if !ts.live.contains_key(&b) {
                    return Err(not_found(to, b));
                }
                if from == to && a == b {
                    return Err(ApiError::validation(format!(
                        "A record cannot be associated with itself ({a})"
                    )));
                }
            }
            let prepared = crm.associations.prepare(from, to, &[type_id]);
            for &(a, b) in &pairs {
                crm.associations.add_prepared((from, a), (to, b), &prepared);
            }
            Ok(pairs.len())
        })
    }

    /// The records of `to_type` associated with a record: `(id, type ids)` in id order.
    pub fn crm_associations(
        &self,
        portal_id: i64,
        from_type: &str,
        from_id: u64,
        to_type: &str,
    ) -> Result<Vec<(u64, Vec<u32>)>, ApiError> {
        let from = http::object_kind(from_type)?;
        let to = http::object_kind(to_type)?;
        Ok(self.with(|s| {
            s.crm
                .portal(portal_id)
                .associations
                .list((from, from_id), to)
                .iter()
                .map(|e| (e.id, e.types.to_vec()))
                .collect()
        }))
    }
}

// ---------------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------------

/// Per-record path prefixes (v4 and date-versioned).
const RECORD_BASES: [&str; 2] = ["/crm/v4/objects", "/crm/objects/2026-03"];
/// Batch and label path prefixes.
const PAIR_BASES: [&str; 3] = [
    "/crm/v4/associations",
    "/crm/associations/v4",
    "/crm/associations/2026-03",
];

/// The association routes.
pub fn routes() -> Router<Sim> {
    let mut router = Router::new();
    for base in RECORD_BASES {
        router = router
            .route(
                &format!("{base}/{{object_type}}/{{object_id}}/associations/{{to_type}}"),
                get(list),
            )
            .route(
                &format!(
                    "{base}/{{object_type}}/{{object_id}}/associations/{{to_type}}/{{to_id}}"
                ),
                put(put_labels).delete(delete_pair),
            )
            .route(
                &format!(
                    "{base}/{{object_type}}/{{object_id}}/associations/default/{{to_type}}/{{to_id}}"
                ),
                put(put_default),
            );
    }
    for base in PAIR_BASES {
        router = router
            .route(
                &format!("{base}/{{from}}/{{to}}/batch/{{action}}"),
                post(batch),
            )
            .route(
                &format!("{base}/{{from}}/{{to}}/batch/{{action}}/{{sub}}"),
                post(batch_nested),
            )
            .route(
                &format!("{base}/{{from}}/{{to}}/labels"),
                get(labels_list).post(labels_create).put(labels_update),
            )
            .route(
                &format!("{base}/{{from}}/{{to}}/labels/{{type_id}}"),
                axum::routing::delete(labels_delete),
            );
    }
    router
}

/// Bearer, both object types, the read scopes of both (HubSpot's v4 rule), the seat.
fn authorize_pair(
    sim: &Sim,
    headers: &HeaderMap,
    from: &str,
    to: &str,
) -> Result<(Caller, ObjectKind, ObjectKind), ApiError> {
    let caller = auth::authenticate(sim, headers)?;
    let from = http::object_kind(from)?;
    let to = http::object_kind(to)?;
    caller.require(Scopes::AnyOf(from.read_scopes()))?;
    caller.require(Scopes::AnyOf(to.read_scopes()))?;
    http::check_seat(sim, &caller, from)?;
    http::check_seat(sim, &caller, to)?;
    Ok((caller, from, to))
}

fn live_id(crm: &PortalCrm, kind: ObjectKind, reference: &str) -> Result<u64, ApiError> {
    reference
        .trim()
        .parse::<u64>()
        .ok()
        .filter(|id| crm.store(kind).live.contains_key(id))
        .ok_or_else(|| not_found(kind, reference))
}

/// `[{associationCategory, associationTypeId}]` → `(category, id)` pairs.
fn parse_specs(value: Option<&Value>) -> Result<Vec<(Option<String>, u32)>, ApiError> {
    let items = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(a)) => a,
        Some(other) => {
            return Err(ApiError::validation(format!(
                "Invalid input JSON: association types must be an array, got {other}"
            )));
        }
    };
    items
        .iter()
        .map(|spec| {
            let id = spec
                .get("associationTypeId")
                .and_then(|v| match v {
                    Value::Number(n) => n.as_u64(),
                    Value::String(s) => s.trim().parse().ok(),
                    _ => None,
                })
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| {
                    ApiError::validation(
                        "Invalid input JSON: every association type needs a numeric `associationTypeId`",
                    )
                })?;
            let category = spec
                .get("associationCategory")
                .and_then(Value::as_str)
                .map(str::to_owned);
            Ok((category, id))
        })
        .collect()
}

fn checked_types(
    crm: &PortalCrm,
    from: ObjectKind,
    to: ObjectKind,
    specs: &[(Option<String>, u32)],
) -> Result<Vec<u32>, ApiError> {
    if specs.is_empty() {
        return Err(ApiError::validation(
            "Invalid input JSON: at least one association type is required",
        ));
    }
    specs
        .iter()
        .map(|(c, id)| {
            crm.associations.check_type(from, to, *id, c.as_deref())?;
            Ok(*id)
        })
        .collect()
}

/// `LabelsBetweenObjectPair`.
fn pair_json(crm: &PortalCrm, from: Node, to: Node) -> Value {
    let types = crm.associations.types(from, to);
    json!({
        "fromObjectTypeId": from.0.type_id(),
        "fromObjectId": from.1,
        "toObjectTypeId": to.0.type_id(),
        "toObjectId": to.1,
        "labels": crm.associations.label_texts(types),
    })
}

/// One page of a record's associations to a type (`after` = first `toObjectId`).
fn page(
    crm: &PortalCrm,
    from: Node,
    to: ObjectKind,
    after: u64,
    limit: usize,
) -> (Vec<Value>, Option<u64>) {
    let list = crm.associations.list(from, to);
    let start = list.partition_point(|e| e.id < after);
    let mut results = Vec::new();
    let mut next = None;
    for e in &list[start..] {
        if results.len() == limit {
            next = Some(e.id);
            break;
        }
        results.push(json!({
            "toObjectId": e.id,
            "associationTypes": crm.associations.specs(&e.types),
        }));
    }
    (results, next)
}

fn paging(next: Option<u64>) -> Option<Value> {
    next.map(|n| json!({"next": {"after": n.to_string(), "link": format!("?after={n}")}}))
}

/// `GET .../{objectType}/{objectId}/associations/{toObjectType}?after&limit`.
async fn list(
    State(sim): State<Sim>,
    Path((object_type, object_id, to_type)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (caller, from, to) = authorize_pair(&sim, &headers, &object_type, &to_type)?;
    let mut limit = DEFAULT_ASSOC_LIMIT;
    let mut after = 0;
    for (k, v) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match k.as_ref() {
            "limit" => limit = page_limit(&v, DEFAULT_ASSOC_LIMIT)?,
            "after" if !v.trim().is_empty() => after = page_after(&v)?,
            _ => {}
        }
    }
    let id: u64 = object_id
        .trim()
        .parse()
        .map_err(|_| not_found(from, &object_id))?;
    let (results, next) =
        sim.with(|s| page(s.crm.portal(caller.portal.id), (from, id), to, after, limit));
    let mut body = json!({ "results": results });
    if let (Some(p), Some(obj)) = (paging(next), body.as_object_mut()) {
        obj.insert("paging".into(), p);
    }
    Ok(respond(&caller, StatusCode::OK, body))
}

/// `PUT .../{objectType}/{objectId}/associations/{toObjectType}/{toObjectId}` with
/// `[{associationCategory, associationTypeId}]` → 201 `LabelsBetweenObjectPair`.
async fn put_labels(
    State(sim): State<Sim>,
    Path((object_type, object_id, to_type, to_id)): Path<(String, String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (caller, from, to) = authorize_pair(&sim, &headers, &object_type, &to_type)?;
    let body = json_body(&headers, &body)?;
    if !body.is_array() {
        return Err(ApiError::validation(
            "Invalid input JSON: the body must be an array of association types",
        ));
    }
    let specs = parse_specs(Some(&body))?;
    let (out, ev) = sim.with(|s| {
        let mut ev = Events::new(s, from, caller.token.app_id);
        let crm = s.crm.portal(caller.portal.id);
        let a = live_id(crm, from, &object_id)?;
        let b = live_id(crm, to, &to_id)?;
        if from == to && a == b {
            return Err(ApiError::validation(format!(
                "A record cannot be associated with itself ({a})"
            )));
        }
        let types = checked_types(crm, from, to, &specs)?;
        let changes = crm.associations.add((from, a), (to, b), &types);
        ev.associations(&changes);
        Ok((pair_json(crm, (from, a), (to, b)), ev))
    })?;
    ev.emit(&sim, caller.portal.id);
    Ok(respond(&caller, StatusCode::CREATED, out))
}

/// `PublicDefaultAssociation` results for both directions of a pair.
fn default_results(from: Node, to: Node, type_id: u32, inverse: u32) -> [Value; 2] {
    let one = |a: Node, b: Node, t: u32| {
        json!({
            "from": {"id": a.1.to_string()},
            "to": {"id": b.1.to_string()},
            "associationSpec": {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": t},
        })
    };
    [one(from, to, type_id), one(to, from, inverse)]
}

/// Associates with the pair's unlabeled type; returns the results.
fn associate_default(
    crm: &mut PortalCrm,
    from: Node,
    to: Node,
    ev: &mut Events,
) -> Result<[Value; 2], ApiError> {
    let t = default_type(from.0, to.0).ok_or_else(|| {
        ApiError::validation(format!(
            "{} cannot be associated with {}",
            from.0.plural(),
            to.0.plural()
        ))
    })?;
    if from == to {
        return Err(ApiError::validation(format!(
            "A record cannot be associated with itself ({})",
            from.1
        )));
    }
    let changes = crm.associations.add(from, to, &[t]);
    ev.associations(&changes);
    Ok(default_results(from, to, t, crm.associations.inverse(t)))
}

/// `PUT .../associations/default/{toObjectType}/{toObjectId}` → 200.
async fn put_default(
    State(sim): State<Sim>,
    Path((object_type, object_id, to_type, to_id)): Path<(String, String, String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (caller, from, to) = authorize_pair(&sim, &headers, &object_type, &to_type)?;
    let started = now_ms();
    let (results, ev) = sim.with(|s| {
        let mut ev = Events::new(s, from, caller.token.app_id);
        let crm = s.crm.portal(caller.portal.id);
        let a = live_id(crm, from, &object_id)?;
        let b = live_id(crm, to, &to_id)?;
        let results = associate_default(crm, (from, a), (to, b), &mut ev)?;
        Ok::<_, ApiError>((results, ev))
    })?;
    ev.emit(&sim, caller.portal.id);
    Ok(http::batch_reply(
        &caller,
        StatusCode::OK,
        started,
        results.into(),
        Vec::new(),
    ))
}

/// `DELETE .../{objectType}/{objectId}/associations/{toObjectType}/{toObjectId}` → 204
/// (also when the records were not associated).
async fn delete_pair(
    State(sim): State<Sim>,
    Path((object_type, object_id, to_type, to_id)): Path<(String, String, String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (caller, from, to) = authorize_pair(&sim, &headers, &object_type, &to_type)?;
    if let (Ok(a), Ok(b)) = (object_id.trim().parse::<u64>(), to_id.trim().parse::<u64>()) {
        let ev = sim.with(|s| {
            let mut ev = Events::new(s, from, caller.token.app_id);
            let crm = s.crm.portal(caller.portal.id);
            let changes = crm.associations.remove_pair((from, a), (to, b));
            ev.associations(&changes);
            ev
        });
        ev.emit(&sim, caller.portal.id);
    }
    Ok(http::no_content(&caller))
}

/// One error of a batch.
fn item_error(err: &ApiError, context: Value) -> Value {
    let mut e = json!({
        "status": "error",
        "category": err.body.category,
        "message": err.body.message,
        "context": context,
        "errors": err.body.errors,
        "links": {},
    });
    if let (Some(sub), Some(obj)) = (&err.body.sub_category, e.as_object_mut()) {
        obj.insert("subCategory".into(), json!(sub));
    }
    e
}

fn input_ref(v: &Value, field: &str) -> Result<String, ApiError> {
    let node = v.get(field);
    node.and_then(|n| n.get("id").and_then(id_text).or_else(|| id_text(n)))
        .ok_or_else(|| {
            ApiError::validation(format!(
                "Invalid input JSON: every input needs `{field}.id`"
            ))
        })
}

/// `POST .../batch/{labels|associate}/{archive|default}`.
async fn batch_nested(
    State(sim): State<Sim>,
    Path((from, to, action, sub)): Path<(String, String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let action = match (action.as_str(), sub.as_str()) {
        ("labels", "archive") => "labels/archive",
        ("associate", "default") => "associate/default",
        _ => return Err(ApiError::not_found("Resource not found")),
    };
    run_batch(&sim, &headers, (&from, &to), action, &body)
}

/// `POST .../batch/{read|create|archive}`.
async fn batch(
    State(sim): State<Sim>,
    Path((from, to, action)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    if !matches!(action.as_str(), "read" | "create" | "archive") {
        return Err(ApiError::not_found("Resource not found"));
    }
    run_batch(&sim, &headers, (&from, &to), &action, &body)
}

fn run_batch(
    sim: &Sim,
    headers: &HeaderMap,
    (from, to): (&str, &str),
    action: &str,
    body: &[u8],
) -> Result<Response, ApiError> {
    let (caller, from, to) = authorize_pair(sim, headers, from, to)?;
    let body = json_body(headers, body)?;
    let inputs = body
        .get("inputs")
        .and_then(Value::as_array)
        .ok_or_else(|| ApiError::validation("Invalid input JSON: `inputs` must be an array"))?;
    http::batch_limit(
        inputs.len(),
        sim.with(|s| s.config.association_batch_max_inputs),
    )?;
    let started = now_ms();
    let portal = caller.portal.id;
    let app = caller.token.app_id;
    match action {
        "read" => {
            let mut refs = Vec::with_capacity(inputs.len());
            for i in inputs {
                let id = i.get("id").and_then(id_text).ok_or_else(|| {
                    ApiError::validation("Invalid input JSON: every input needs an `id`")
                })?;
                let after = i
                    .get("after")
                    .and_then(id_text)
                    .filter(|a| !a.trim().is_empty())
                    .map(|a| {
                        a.trim().parse::<u64>().map_err(|_| {
                            ApiError::validation(format!("Invalid paging cursor after='{a}'"))
                        })
                    })
                    .transpose()?
                    .unwrap_or(0);
                refs.push((id, after));
            }
            let (results, errors) = sim.with(|s| {
                let crm = s.crm.portal(portal);
                let mut results = Vec::new();
                let mut errors = Vec::new();
                for (reference, after) in &refs {
                    let id = reference.trim().parse::<u64>().unwrap_or(0);
                    let (to_list, next) = page(crm, (from, id), to, *after, DEFAULT_ASSOC_LIMIT);
                    if to_list.is_empty() {
                        let mut err = ApiError::not_found(format!(
                            "No {} is associated with {} {reference}.",
                            to.singular(),
                            from.singular()
                        ));
                        err.body.sub_category =
                            Some("crm.associations.NO_ASSOCIATIONS_FOUND".into());
                        errors.push(item_error(&err, json!({"fromObjectId": [reference]})));
                        continue;
                    }
                    let mut r = json!({"from": {"id": id.to_string()}, "to": to_list});
                    if let (Some(p), Some(obj)) = (paging(next), r.as_object_mut()) {
                        obj.insert("paging".into(), p);
                    }
                    results.push(r);
                }
                (results, errors)
            });
            Ok(http::batch_reply(
                &caller,
                StatusCode::OK,
                started,
                results,
                errors,
            ))
        }
        "create" | "labels/archive" => {
            let mut parsed = Vec::with_capacity(inputs.len());
            for i in inputs {
                parsed.push((
                    input_ref(i, "from")?,
                    input_ref(i, "to")?,
                    parse_specs(i.get("types"))?,
                ));
            }
            let (results, errors, ev) = sim.with(|s| {
                let mut ev = Events::new(s, from, app);
                let crm = s.crm.portal(portal);
                let mut results = Vec::new();
                let mut errors = Vec::new();
                for (a, b, specs) in &parsed {
                    let context = json!({"fromObjectId": [a], "toObjectId": [b]});
                    let checked = (|| {
                        let types = checked_types(crm, from, to, specs)?;
                        if action == "create" {
                            let a = live_id(crm, from, a)?;
                            let b = live_id(crm, to, b)?;
                            if from == to && a == b {
                                return Err(ApiError::validation(format!(
                                    "A record cannot be associated with itself ({a})"
                                )));
                            }
                            Ok((a, b, types))
                        } else {
                            let a = a.trim().parse::<u64>().unwrap_or(0);
                            let b = b.trim().parse::<u64>().unwrap_or(0);
                            Ok((a, b, types))
                        }
                    })();
                    match checked {
                        Ok((a, b, types)) => {
                            let changes = if action == "create" {
                                crm.associations.add((from, a), (to, b), &types)
                            } else {
                                crm.associations.remove_types((from, a), (to, b), &types)
                            };
                            ev.associations(&changes);
                            if action == "create" {
                                results.push(pair_json(crm, (from, a), (to, b)));
                            }
                        }
                        Err(e) => errors.push(item_error(&e, context)),
                    }
                }
                (results, errors, ev)
            });
            ev.emit(sim, portal);
            if action == "create" {
                Ok(http::batch_reply(
                    &caller,
                    StatusCode::CREATED,
                    started,
                    results,
                    errors,
                ))
            } else if errors.is_empty() {
                Ok(http::no_content(&caller))
            } else {
                Ok(http::batch_reply(
                    &caller,
                    StatusCode::OK,
                    started,
                    results,
                    errors,
                ))
            }
        }
        "archive" => {
            let mut parsed = Vec::with_capacity(inputs.len());
            for i in inputs {
                let a = input_ref(i, "from")?;
                let tos: Vec<String> = match i.get("to") {
                    Some(Value::Array(list)) => list
                        .iter()
                        .filter_map(|t| t.get("id").and_then(id_text).or_else(|| id_text(t)))
                        .collect(),
                    _ => vec![input_ref(i, "to")?],
                };
                parsed.push((a, tos));
            }
            let ev = sim.with(|s| {
                let mut ev = Events::new(s, from, app);
                let crm = s.crm.portal(portal);
                for (a, tos) in &parsed {
                    let Ok(a) = a.trim().parse::<u64>() else {
                        continue;
                    };
                    for b in tos {
                        if let Ok(b) = b.trim().parse::<u64>() {
                            let changes = crm.associations.remove_pair((from, a), (to, b));
                            ev.associations(&changes);
                        }
                    }
                }
                ev
            });
            ev.emit(sim, portal);
            Ok(http::no_content(&caller))
        }
        _ => {
            // associate/default
            let mut parsed = Vec::with_capacity(inputs.len());
            for i in inputs {
                parsed.push((input_ref(i, "from")?, input_ref(i, "to")?));
            }
            let (results, errors, ev) = sim.with(|s| {
                let mut ev = Events::new(s, from, app);
                let crm = s.crm.portal(portal);
                let mut results = Vec::new();
                let mut errors = Vec::new();
                for (a, b) in &parsed {
                    let context = json!({"fromObjectId": [a], "toObjectId": [b]});
                    let done = live_id(crm, from, a).and_then(|a| {
                        let b = live_id(crm, to, b)?;
                        associate_default(crm, (from, a), (to, b), &mut ev)
                    });
                    match done {
                        Ok(r) => results.extend(r),
                        Err(e) => errors.push(item_error(&e, context)),
                    }
                }
                (results, errors, ev)
            });
            ev.emit(sim, portal);
            Ok(http::batch_reply(
                &caller,
                StatusCode::OK,
                started,
                results,
                errors,
            ))
        }
    }
}

fn label_json(t: &AssocType) -> Value {
    json!({"category": t.category.as_str(), "typeId": t.id, "label": t.label})
}

/// `GET .../{from}/{to}/labels` → every type from `from` to `to`.
async fn labels_list(
    State(sim): State<Sim>,
    Path((from, to)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (caller, from, to) = authorize_pair(&sim, &headers, &from, &to)?;
    let results: Vec<Value> = sim.with(|s| {
        s.crm
            .portal(caller.portal.id)
            .associations
            .types_between(from, to)
            .into_iter()
            .map(label_json)
            .collect()
    });
    Ok(respond(
        &caller,
        StatusCode::OK,
        json!({ "results": results }),
    ))
}

fn text_field<'a>(body: &'a Value, field: &str) -> Result<&'a str, ApiError> {
    body.get(field)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| ApiError::validation(format!("Invalid input JSON: `{field}` is required")))
}

/// `POST .../{from}/{to}/labels` `{label, name, inverseLabel?}` → 200 with the new
/// `USER_DEFINED` type(s).
async fn labels_create(
    State(sim): State<Sim>,
    Path((from, to)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (caller, from, to) = authorize_pair(&sim, &headers, &from, &to)?;
    let body = json_body(&headers, &body)?;
    let label = text_field(&body, "label")?;
    let name = text_field(&body, "name")?;
    let inverse = body.get("inverseLabel").and_then(Value::as_str);
    let created = sim.with(|s| {
        s.crm
            .portal(caller.portal.id)
            .associations
            .create_label(from, to, name, label, inverse)
    })?;
    let results: Vec<Value> = created.iter().map(label_json).collect();
    Ok(respond(
        &caller,
        StatusCode::OK,
        json!({ "results": results }),
    ))
}

/// `PUT .../{from}/{to}/labels` `{associationTypeId, label, inverseLabel?}` → 204.
async fn labels_update(
    State(sim): State<Sim>,
    Path((from, to)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (caller, from, to) = authorize_pair(&sim, &headers, &from, &to)?;
    let body = json_body(&headers, &body)?;
    let specs = parse_specs(Some(&Value::Array(vec![body.clone()])))?;
    let id = specs.first().map(|s| s.1).unwrap_or_default();
    let label = text_field(&body, "label")?;
    let inverse = body.get("inverseLabel").and_then(Value::as_str);
    sim.with(|s| {
        s.crm
            .portal(caller.portal.id)
            .associations
            .update_label(from, to, id, label, inverse)
    })?;
    Ok(http::no_content(&caller))
}

/// `DELETE .../{from}/{to}/labels/{associationTypeId}` → 204.
async fn labels_delete(
    State(sim): State<Sim>,
    Path((from, to, type_id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (caller, from, to) = authorize_pair(&sim, &headers, &from, &to)?;
    let id: u32 = type_id
        .trim()
        .parse()
        .map_err(|_| ApiError::validation(format!("Invalid associationTypeId '{type_id}'")))?;
    sim.with(|s| {
        s.crm
            .portal(caller.portal.id)
            .associations
            .delete_label(from, to, id)
    })?;
    Ok(http::no_content(&caller))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ObjectKind::{Companies, Contacts, Deals};

    #[test]
    fn type_table_is_consistent() {
        for t in DEFINED.iter() {
            let inv = defined_type(t.inverse).unwrap_or_else(|| panic!("{}", t.id));
            assert_eq!((inv.from, inv.to, inv.inverse), (t.to, t.from, t.id));
            assert_eq!(DEFINED.iter().filter(|x| x.id == t.id).count(), 1);
        }
        assert_eq!(default_type(Contacts, Companies), Some(279));
        assert_eq!(default_type(Deals, Contacts), Some(3));
        assert_eq!(default_type(ObjectKind::Notes, Contacts), Some(202));
        assert_eq!(default_type(Contacts, ObjectKind::Notes), Some(201));
        assert_eq!(default_type(ObjectKind::Products, Contacts), None);
    }

    #[test]
    fn add_remove_merge() {
        let mut a = Associations::default();
        let (c1, c2, co) = ((Contacts, 1), (Contacts, 2), (Companies, 3));
        assert_eq!(a.add(c1, co, &[1]).len(), 2);
        assert_eq!(a.types(c1, co), &[1, 279]);
        assert_eq!(a.types(co, c1), &[2, 280]);
        assert!(a.add(c1, co, &[279]).is_empty());
        a.add(c2, co, &[279]);
        // Merging c1 into c2 moves the primary company.
        a.merge_into(Contacts, 1, 2);
        assert_eq!(a.types(c2, co), &[1, 279]);
        assert!(a.types(c1, co).is_empty());
        assert_eq!(a.list(co, Contacts).len(), 1);
        a.remove_types(c2, co, &[1]);
        assert_eq!(a.types(co, c2), &[280]);
        a.remove_record(co);
        assert!(a.types(c2, co).is_empty());
        assert!(a.edges.is_empty());
    }

    /// `cargo test --release -p hubspot-sim --lib assoc_scale -- --ignored --nocapture`
    #[test]
    #[ignore = "slow in debug builds"]
    fn assoc_scale() {
        let mut a = Associations::default();
        let start = std::time::Instant::now();
        for i in 0..1_000_000u64 {
            a.add((Contacts, 10_000 + i), (Companies, 1 + i % 1000), &[279]);
        }
        let took = start.elapsed();
        println!(
            "1000000 associations in {took:?} ({:.0}/s)",
            1e6 / took.as_secs_f64()
        );
    }
}
