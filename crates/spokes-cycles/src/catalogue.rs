//! What validation needs to know of the methods steps call, whatever connector offers them:
//! HubSpot's catalogue here, Spokes' utility methods elsewhere.

use spokes_hubspot::catalogue::{self, Body, MethodDef, Paging};

/// The connector of HubSpot's method catalogue.
pub const HUBSPOT: &str = "hubspot";

/// A method's traits that a template's validity depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MethodInfo {
    pub id: String,
    pub params: Vec<ParamInfo>,
    /// Changes data (creates, updates, deletes).
    pub writes: bool,
    /// Lists records at or after a `since` parameter, so it can feed a poll trigger.
    pub has_since: bool,
    /// Takes a record's properties as `fields`.
    pub takes_fields: bool,
    /// Scope alternatives: every scope of at least one set must be granted.
    pub scopes: Vec<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamInfo {
    pub name: String,
    pub required: bool,
}

impl MethodInfo {
    pub fn param(&self, name: &str) -> Option<&ParamInfo> {
        self.params.iter().find(|p| p.name == name)
    }
}

/// The methods of one or more connectors.
pub trait MethodCatalogue {
    fn method(&self, connector: &str, method: &str) -> Option<MethodInfo>;

    /// Whether the connector exists at all, so that a problem can say which name is wrong.
    fn has_connector(&self, _connector: &str) -> bool {
        true
    }

    /// Method ids like `method`, for "did you mean".
    fn close_matches(&self, _connector: &str, _method: &str) -> Vec<String> {
        Vec::new()
    }
}

/// HubSpot's method catalogue (`spokes_hubspot::catalogue`) as connector `hubspot`.
#[derive(Debug, Clone, Copy, Default)]
pub struct HubSpotCatalogue;

impl MethodCatalogue for HubSpotCatalogue {
    fn method(&self, connector: &str, method: &str) -> Option<MethodInfo> {
        if connector != HUBSPOT {
            return None;
        }
        catalogue::find(method).map(MethodInfo::from)
    }

    fn has_connector(&self, connector: &str) -> bool {
        connector == HUBSPOT
    }

    fn close_matches(&self, connector: &str, method: &str) -> Vec<String> {
        if connector != HUBSPOT {
            return Vec::new();
        }
        catalogue::close_matches(method)
            .into_iter()
            .map(str::to_owned)
            .collect()
    }
}

impl From<&MethodDef> for MethodInfo {
    fn from(def: &MethodDef) -> Self {
        Self {
            id: def.id.clone(),
            params: def
                .params
                .iter()
                .map(|p| ParamInfo {
                    name: p.name.clone(),
                    required: p.required,
                })
                .collect(),
            writes: def.writes,
            has_since: def.shape.since.is_some() || matches!(def.paging, Paging::Window { .. }),
            // As `catalogue::input_schema`: a batch upsert takes its records as a parameter.
            takes_fields: matches!(
                def.body,
                Body::Properties { .. } | Body::Upsert { batch: false, .. }
            ),
            scopes: def.scopes.clone(),
        }
    }
}

/// Two catalogues as one (HubSpot's and the utility connector's): the first that knows a
/// method answers for it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Chain<A, B>(pub A, pub B);

impl<A: MethodCatalogue, B: MethodCatalogue> MethodCatalogue for Chain<A, B> {
    fn method(&self, connector: &str, method: &str) -> Option<MethodInfo> {
        self.0
            .method(connector, method)
            .or_else(|| self.1.method(connector, method))
    }

    fn has_connector(&self, connector: &str) -> bool {
        self.0.has_connector(connector) || self.1.has_connector(connector)
    }

    fn close_matches(&self, connector: &str, method: &str) -> Vec<String> {
        let mut close = self.0.close_matches(connector, method);
        close.extend(self.1.close_matches(connector, method));
        close
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Utility;

    impl MethodCatalogue for Utility {
        fn method(&self, connector: &str, method: &str) -> Option<MethodInfo> {
            (connector == "utility" && method == "sleep").then(|| MethodInfo {
                id: "sleep".into(),
                params: Vec::new(),
                writes: false,
                has_since: false,
                takes_fields: false,
                scopes: Vec::new(),
            })
        }

        fn has_connector(&self, connector: &str) -> bool {
            connector == "utility"
        }
    }

    #[test]
    fn hubspot_methods_as_validation_sees_them() {
        let list_new = HubSpotCatalogue
            .method(HUBSPOT, "contacts.list_new")
            .unwrap();
        assert!(list_new.has_since && !list_new.writes && !list_new.takes_fields);
        assert!(list_new.param("since").is_some_and(|p| p.required));

        let create = HubSpotCatalogue.method(HUBSPOT, "contacts.create").unwrap();
        assert!(create.writes && create.takes_fields && !create.has_since);
        assert!(!create.scopes.is_empty());

        assert!(
            HubSpotCatalogue
                .method("utility", "contacts.create")
                .is_none()
        );
        assert!(HubSpotCatalogue.method(HUBSPOT, "contacts.creat").is_none());
        let close = HubSpotCatalogue.close_matches(HUBSPOT, "contacts.creat");
        assert!(!close.is_empty());
        assert!(
            close
                .iter()
                .all(|id| id.contains("contacts") || id.contains("creat"))
        );
        assert!(
            HubSpotCatalogue
                .close_matches("utility", "contacts.creat")
                .is_empty()
        );
    }

    #[test]
    fn catalogues_combine() {
        let both = Chain(HubSpotCatalogue, Utility);
        assert!(both.method("utility", "sleep").is_some());
        assert!(both.method(HUBSPOT, "contacts.get").is_some());
        assert!(both.has_connector("utility") && both.has_connector(HUBSPOT));
        assert!(!both.has_connector("salesforce"));

        let template = serde_json::from_value(serde_json::json!({
            "name": "both",
            "trigger": {"kind": "webhook", "next": "nap"},
            "steps": [{"kind": "method", "id": "nap", "connector": "utility", "method": "sleep"}]
        }))
        .unwrap();
        assert_eq!(crate::validate(&template, &both), Ok(()));
        assert!(crate::validate(&template, &HubSpotCatalogue).is_err());
    }
}
