//! The HubSpot connector as the partner sees it: its parameters (named exactly as in the seed
//! guide), their defaults, and how an installation's effective scopes are worked out.

use std::collections::BTreeMap;

use crate::scopes;

pub const CONNECTOR_ID: &str = "hubspot";
pub const CONNECTOR_NAME: &str = "HubSpot";
pub const CALLBACK_PATH: &str = "/connector/callback";

pub const SCOPES: &str = "Scopes";
pub const OPTIONAL_SCOPES: &str = "OptionalScopes";

pub struct Parameter {
    pub name: &'static str,
    pub description: &'static str,
    pub default: &'static str,
}

/// The seed guide's "Connector Parameters" table.
pub const PARAMETERS: [Parameter; 2] = [
    Parameter {
        name: SCOPES,
        description: "The scopes of the connector. Default value is \"contacts\".",
        default: "contacts",
    },
    Parameter {
        name: OPTIONAL_SCOPES,
        description: "The optional scopes of the connector. Default value is \"content reports e-commerce forms\"",
        default: "content reports e-commerce forms",
    },
];

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PropertyError {
    #[error(
        "unknown property `{0}`: the HubSpot connector's properties are `Scopes` and `OptionalScopes`"
    )]
    UnknownProperty(String),
    #[error(
        "unknown scope(s) in `{property}`: {}; use HubSpot scope names such as `crm.objects.contacts.read` or legacy ones such as `forms`",
        .scopes.join(", ")
    )]
    UnknownScopes {
        property: &'static str,
        scopes: Vec<String>,
    },
}

/// Checks property names and scope names; returns warnings (e.g. the retired `contacts` scope).
pub fn validate_properties(
    properties: &BTreeMap<String, String>,
) -> Result<Vec<String>, PropertyError> {
    let mut warnings = Vec::new();
    for (name, value) in properties {
        let parameter = PARAMETERS
            .iter()
            .find(|p| p.name == name)
            .ok_or_else(|| PropertyError::UnknownProperty(name.clone()))?;
        let check = scopes::check(&scopes::parse_list(value));
        if !check.unknown.is_empty() {
            return Err(PropertyError::UnknownScopes {
                property: parameter.name,
                scopes: check.unknown,
            });
        }
        warnings.extend(check.warnings);
    }
    Ok(warnings)
}

/// The scopes an installation asks for on the consent screen.
#[derive(Debug, Clone, PartialEq)]
pub struct EffectiveScopes {
    pub scopes: Vec<String>,
    pub optional_scopes: Vec<String>,
}

/// Precedence per parameter: the installation's property, else the connector setup's, else the
/// seed default. A given list replaces the default rather than adding to it.
pub fn effective_scopes(
    installation: &BTreeMap<String, String>,
    setup: &BTreeMap<String, String>,
) -> EffectiveScopes {
    let pick = |parameter: &Parameter| {
        let value = installation
            .get(parameter.name)
            .or_else(|| setup.get(parameter.name))
            .map(String::as_str)
            .unwrap_or(parameter.default);
        scopes::parse_list(value)
    };
    let scopes = pick(&PARAMETERS[0]);
    // A scope asked for as required is not asked again as optional.
    let optional_scopes = pick(&PARAMETERS[1])
        .into_iter()
        .filter(|s| !scopes.contains(s))
        .collect();
    EffectiveScopes {
        scopes,
        optional_scopes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_come_from_the_seed() {
        let e = effective_scopes(&props(&[]), &props(&[]));
        assert_eq!(e.scopes, vec!["contacts"]);
        assert_eq!(
            e.optional_scopes,
            vec!["content", "reports", "e-commerce", "forms"]
        );
    }

    #[test]
    fn installation_beats_setup_beats_default() {
        let setup = props(&[
            (SCOPES, "crm.objects.contacts.read"),
            (OPTIONAL_SCOPES, "forms"),
        ]);
        let inst = props(&[(SCOPES, "tickets")]);
        let e = effective_scopes(&inst, &setup);
        assert_eq!(e.scopes, vec!["tickets"]);
        assert_eq!(e.optional_scopes, vec!["forms"]);
    }

    #[test]
    fn rejects_unknown_names() {
        assert_eq!(
            validate_properties(&props(&[("scopes", "contacts")])),
            Err(PropertyError::UnknownProperty("scopes".into()))
        );
        assert!(matches!(
            validate_properties(&props(&[(OPTIONAL_SCOPES, "forms nope")])),
            Err(PropertyError::UnknownScopes { .. })
        ));
        assert_eq!(
            validate_properties(&props(&[(SCOPES, "contacts")])).map(|w| w.len()),
            Ok(1)
        );
    }
}
