//! HubSpot's scope catalogue, legacy and granular, and the checks on a partner's scope lists.
//!
//! The seed guide predates granular scopes; Spokes accepts both styles. The legacy `contacts`
//! scope (the seed's default) was retired by HubSpot in 2022: it is still accepted, with a
//! warning naming its granular replacements.

/// Legacy (coarse) scopes still accepted in install URLs.
const LEGACY: &[&str] = &[
    "oauth",
    "contacts",
    "content",
    "reports",
    "social",
    "automation",
    "timeline",
    "business-intelligence",
    "forms",
    "files",
    "hubdb",
    "integration-sync",
    "tickets",
    "e-commerce",
    "sales-email-read",
    "forms-uploaded-files",
    "transactional-email",
    "crm.import",
    "crm.export",
    "crm.lists.read",
    "crm.lists.write",
];

/// CRM objects that have `crm.objects.<name>.read` / `.write` granular scopes.
const GRANULAR_OBJECTS: &[&str] = &[
    "contacts",
    "companies",
    "deals",
    "products",
    "line_items",
    "quotes",
    "custom",
    "goals",
    "leads",
    "invoices",
    "orders",
    "carts",
    "subscriptions",
    "partner-clients",
    "marketing_events",
    "feedback_submissions",
];

/// Objects whose schemas have `crm.schemas.<name>.read` / `.write` scopes.
const GRANULAR_SCHEMAS: &[&str] = &[
    "contacts",
    "companies",
    "deals",
    "custom",
    "quotes",
    "line_items",
    "invoices",
];

/// Granular scopes that do not follow the object patterns above.
const GRANULAR_OTHER: &[&str] = &[
    "crm.objects.owners.read",
    "crm.objects.users.read",
    "crm.objects.users.write",
    "tax_rates.read",
    "settings.users.read",
    "settings.users.write",
    "settings.users.teams.read",
    "settings.users.teams.write",
    "settings.currencies.read",
    "hubdb.tables.read",
    "hubdb.tables.write",
    "account-info.security.read",
    "communication_preferences.read",
    "communication_preferences.read_write",
    "conversations.read",
    "conversations.write",
    "automation.sequences.read",
    "automation.sequences.enrollments.write",
    "marketing.campaigns.read",
    "marketing.campaigns.write",
    "media_bridge.read",
    "media_bridge.write",
    "scheduler.meetings.meeting-link.read",
];

/// What the retired legacy `contacts` scope granted, in granular scopes.
pub const CONTACTS_GRANULAR_EQUIVALENTS: &[&str] = &[
    "crm.objects.contacts.read",
    "crm.objects.contacts.write",
    "crm.objects.companies.read",
    "crm.objects.companies.write",
    "crm.objects.deals.read",
    "crm.objects.deals.write",
    "crm.objects.owners.read",
];

pub fn is_known(scope: &str) -> bool {
    if LEGACY.contains(&scope) || GRANULAR_OTHER.contains(&scope) {
        return true;
    }
    let granular = |prefix: &str, names: &[&str]| {
        scope
            .strip_prefix(prefix)
            .and_then(|rest| rest.rsplit_once('.'))
            .is_some_and(|(name, access)| {
                names.contains(&name) && (access == "read" || access == "write")
            })
    };
    granular("crm.objects.", GRANULAR_OBJECTS) || granular("crm.schemas.", GRANULAR_SCHEMAS)
}

/// Splits a space-separated list (commas tolerated), dropping duplicates, keeping order.
pub fn parse_list(value: &str) -> Vec<String> {
    let mut scopes: Vec<String> = Vec::new();
    for scope in value
        .split([' ', ',', '\t', '\n'])
        .filter(|s| !s.is_empty())
    {
        if !scopes.iter().any(|s| s == scope) {
            scopes.push(scope.to_string());
        }
    }
    scopes
}

/// The result of checking a scope list: unknown scopes are errors, retired ones warnings.
#[derive(Debug, Default, PartialEq)]
pub struct ScopeCheck {
    pub unknown: Vec<String>,
    pub warnings: Vec<String>,
}

pub fn check(scopes: &[String]) -> ScopeCheck {
    let mut result = ScopeCheck::default();
    for scope in scopes {
        if !is_known(scope) {
            result.unknown.push(scope.clone());
        } else if scope == "contacts" {
            result.warnings.push(format!(
                "the legacy scope `contacts` was retired by HubSpot in 2022 and only works for apps \
                 not yet migrated; its granular equivalents are {}",
                CONTACTS_GRANULAR_EQUIVALENTS.join(" ")
            ));
        }
    }
    result
}

/// True when `granted` holds every scope of at least one of the `alternatives` sets (no sets:
/// nothing is needed).
pub fn satisfies(granted: &[String], alternatives: &[Vec<String>]) -> bool {
    alternatives.is_empty()
        || alternatives
            .iter()
            .any(|set| set.iter().all(|s| granted.iter().any(|g| g == s)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_both_styles() {
        for scope in [
            "contacts",
            "e-commerce",
            "crm.objects.contacts.read",
            "crm.objects.line_items.write",
            "crm.schemas.deals.read",
            "crm.objects.owners.read",
        ] {
            assert!(is_known(scope), "{scope}");
        }
        for scope in [
            "crm.objects.contacts.delete",
            "contact",
            "crm.objects.owners.write",
            "",
        ] {
            assert!(!is_known(scope), "{scope}");
        }
    }

    #[test]
    fn warns_on_retired_contacts_scope() {
        let check = check(&parse_list("contacts crm.objects.deals.read bogus"));
        assert_eq!(check.unknown, vec!["bogus"]);
        assert_eq!(check.warnings.len(), 1);
        assert!(check.warnings[0].contains("crm.objects.contacts.read"));
    }

    #[test]
    fn parses_space_separated_lists() {
        assert_eq!(
            parse_list(" content  reports,forms content "),
            vec!["content", "reports", "forms"]
        );
    }
}
