//! Webhook events of CRM writes, handed to the webhooks module.
//!
//! Events are built only when some app has a webhook subscription, and only for the
//! object types webhooks know (contacts, companies, deals, tickets, products, line
//! items). They are emitted after the state lock is released.

use crate::crm::associations::AssocChange;
use crate::crm::schema::ObjectKind;
use crate::crm::store::{Changes, ObjectStore};
use crate::state::{Sim, State};
use crate::webhooks::{AssociationChange, ChangeEvent, ChangeKind};

/// `changeSource` of changes made through the API by an app.
const API_CHANGE_SOURCE: &str = "INTEGRATION";

/// Events of one request.
#[derive(Debug, Default)]
pub struct Events {
    enabled: bool,
    /// Some app has a subscription (association events of any object type).
    subscribed: bool,
    app: i64,
    events: Vec<ChangeEvent>,
}

impl Events {
    /// Collects events for `kind` when some app subscribes to webhooks.
    pub fn new(state: &State, kind: ObjectKind, app: i64) -> Self {
        let subscribed = !state.webhooks.subscriptions.is_empty();
        Self {
            enabled: kind.webhook_type().is_some() && subscribed,
            subscribed,
            app,
            events: Vec::new(),
        }
    }

    fn event(&self, kind: ObjectKind, id: u64, change: ChangeKind) -> Option<ChangeEvent> {
        let object_type = kind.webhook_type()?;
        let id = i64::try_from(id).ok()?;
        let mut event =
            ChangeEvent::new(object_type, id, change).with_change_source(API_CHANGE_SOURCE);
        if self.app > 0 {
            event.source_id = Some(self.app.to_string());
        }
        Some(event)
    }

    fn push(&mut self, kind: ObjectKind, id: u64, change: ChangeKind) -> Option<&mut ChangeEvent> {
        if !self.enabled {
            return None;
        }
        let event = self.event(kind, id, change)?;
        self.events.push(event);
        self.events.last_mut()
    }

    /// `creation` plus a `propertyChange` per value set.
    pub fn created(&mut self, store: &ObjectStore, id: u64, changes: &Changes) {
        self.push(store.kind, id, ChangeKind::Creation);
        self.changed(store, id, changes);
    }

    /// A `propertyChange` per changed value (a cleared value is an empty string).
    pub fn changed(&mut self, store: &ObjectStore, id: u64, changes: &Changes) {
        if !self.enabled {
            return;
        }
        for (idx, value) in changes {
            let name = store.def(*idx).name.clone();
            if let Some(e) = self.push(store.kind, id, ChangeKind::PropertyChange) {
                e.property_name = Some(name);
                e.property_value = Some(value.as_deref().unwrap_or_default().to_owned());
            }
        }
    }

    pub fn deleted(&mut self, kind: ObjectKind, id: u64) {
        self.push(kind, id, ChangeKind::Deletion);
    }

    pub fn restored(&mut self, kind: ObjectKind, id: u64) {
        self.push(kind, id, ChangeKind::Restore);
    }

    pub fn privacy_deleted(&mut self, kind: ObjectKind, id: u64) {
        self.push(kind, id, ChangeKind::PrivacyDeletion);
    }

    pub fn merged(&mut self, kind: ObjectKind, primary: u64, merged: u64) {
        let merged = i64::try_from(merged).unwrap_or_default();
        if let Some(e) = self.push(kind, primary, ChangeKind::Merge) {
            e.primary_object_id = e.object_id.into();
            e.merged_object_ids = vec![merged];
        }
    }

    /// `associationChange` events, one per direction, for the object types that have
    /// them (not products, not engagements).
    pub fn associations(&mut self, changes: &[AssocChange]) {
        if !self.subscribed {
            return;
        }
        for c in changes {
            let Some(object_type) = c.from.0.webhook_type() else {
                continue;
            };
            if !crate::webhooks::event_type_supported(object_type, ChangeKind::AssociationChange) {
                continue;
            }
            let (Ok(from), Ok(to)) = (i64::try_from(c.from.1), i64::try_from(c.to.1)) else {
                continue;
            };
            let change = AssociationChange {
                association_type: format!(
                    "{}_TO_{}",
                    c.from.0.singular().to_uppercase(),
                    c.to.0.singular().to_uppercase()
                ),
                from_object_id: from,
                to_object_id: to,
                association_removed: c.removed,
                is_primary_association: c.primary,
            };
            let mut event = ChangeEvent::association_change(object_type, change)
                .with_change_source(API_CHANGE_SOURCE);
            if self.app > 0 {
                event.source_id = Some(self.app.to_string());
            }
            self.events.push(event);
        }
    }

    /// Hands the events to the webhook sender (call without holding the state lock).
    pub fn emit(self, sim: &Sim, portal_id: i64) {
        if !self.events.is_empty() {
            sim.emit_webhooks(portal_id, self.events);
        }
    }
}
