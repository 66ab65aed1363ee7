//! The simulator's scope catalogue: every scope an app may configure and request.
//!
//! Legacy (coarse) scopes and granular scopes are listed separately because the
//! MISSING_SCOPES error names them under different keys (`requiredScopes` vs
//! `requiredGranularScopes`).

/// Legacy scope names still accepted in install URLs.
pub const LEGACY_SCOPES: &[&str] = &[
    "oauth",
    "contacts",
    "content",
    "reports",
    "social",
    "automation",
    "timeline",
    "forms",
    "files",
    "hubdb",
    "tickets",
    "e-commerce",
    "crm.import",
    "crm.export",
    "crm.lists.read",
    "crm.lists.write",
    "sales-email-read",
    "business-intelligence",
    "integration-sync",
];

/// Granular scope names.
pub const GRANULAR_SCOPES: &[&str] = &[
    "crm.objects.contacts.read",
    "crm.objects.contacts.write",
    "crm.objects.companies.read",
    "crm.objects.companies.write",
    "crm.objects.deals.read",
    "crm.objects.deals.write",
    "crm.objects.owners.read",
    "crm.objects.products.read",
    "crm.objects.products.write",
    "crm.objects.line_items.read",
    "crm.objects.line_items.write",
    "crm.objects.quotes.read",
    "crm.objects.quotes.write",
    "crm.objects.custom.read",
    "crm.objects.custom.write",
    "crm.objects.users.read",
    "crm.objects.users.write",
    "crm.objects.marketing_events.read",
    "crm.objects.marketing_events.write",
    "crm.objects.invoices.read",
    "crm.objects.invoices.write",
    "crm.objects.orders.read",
    "crm.objects.orders.write",
    "crm.objects.carts.read",
    "crm.objects.carts.write",
    "crm.objects.commercepayments.read",
    "crm.objects.commercepayments.write",
    "crm.objects.subscriptions.read",
    "crm.objects.subscriptions.write",
    "crm.objects.leads.read",
    "crm.objects.leads.write",
    "crm.objects.goals.read",
    "crm.objects.goals.write",
    "crm.objects.feedback_submissions.read",
    "crm.objects.projects.read",
    "crm.objects.projects.write",
    "crm.objects.appointments.read",
    "crm.objects.appointments.write",
    "crm.objects.courses.read",
    "crm.objects.courses.write",
    "crm.objects.listings.read",
    "crm.objects.listings.write",
    "crm.objects.services.read",
    "crm.objects.services.write",
    "crm.dealsplits.read_write",
    "marketing.campaigns.read",
    "marketing.campaigns.write",
    "crm.schemas.contacts.read",
    "crm.schemas.contacts.write",
    "crm.schemas.companies.read",
    "crm.schemas.companies.write",
    "crm.schemas.deals.read",
    "crm.schemas.deals.write",
    "crm.schemas.custom.read",
    "crm.schemas.custom.write",
    "crm.schemas.line_items.read",
    "crm.schemas.quotes.read",
    "account-info.security.read",
    "forms-uploaded-files",
    "media_bridge.read",
    "tax_rates.read",
    "hubdb.tables.read",
    "hubdb.tables.write",
];

/// Whether `scope` is in the catalogue.
pub fn is_known(scope: &str) -> bool {
    is_legacy(scope) || GRANULAR_SCOPES.contains(&scope)
}

/// Whether `scope` is a legacy (coarse) scope.
pub fn is_legacy(scope: &str) -> bool {
    LEGACY_SCOPES.contains(&scope)
}

/// Every scope in the catalogue, legacy first.
pub fn all_scopes() -> Vec<String> {
    LEGACY_SCOPES
        .iter()
        .chain(GRANULAR_SCOPES)
        .map(|s| (*s).to_owned())
        .collect()
}

/// Splits a space-separated scope parameter (`scope`, `optional_scope`).
/// Empty items are skipped and duplicates removed, keeping the first occurrence.
pub fn parse_scope_list(value: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in value.split_whitespace() {
        if !out.iter().any(|s| s == item) {
            out.push(item.to_owned());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_has_no_duplicates() {
        let all = all_scopes();
        let mut sorted = all.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(all.len(), sorted.len());
    }

    #[test]
    fn parses_space_separated_scopes() {
        assert_eq!(
            parse_scope_list("  oauth crm.objects.contacts.read  oauth "),
            vec!["oauth", "crm.objects.contacts.read"]
        );
        assert!(parse_scope_list("").is_empty());
    }

    #[test]
    fn classifies_scopes() {
        assert!(is_legacy("crm.lists.read"));
        assert!(!is_legacy("crm.objects.contacts.read"));
        assert!(is_known("crm.objects.contacts.read"));
        assert!(!is_known("crm.objects.nonsense.read"));
    }
}
