//! Seed data: the signed-in user and the portals (HubSpot accounts) they can choose from.
//!
//! This data is fixed so that the sandbox and every test see the same hub ids.

use serde::Serialize;

/// The user who is "signed in to HubSpot" when the consent page is shown.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct SimUser {
    pub user_id: i64,
    pub email: &'static str,
}

/// The default (and only) signed-in user.
pub const DEFAULT_USER: SimUser = SimUser {
    user_id: 4021,
    email: "owner@acme.example",
};

/// One HubSpot portal (account) of the signed-in user.
#[derive(Debug, Clone, Serialize)]
pub struct Portal {
    /// The hub id (portal id).
    pub id: i64,
    pub name: &'static str,
    /// `STANDARD`, `APP_DEVELOPER`, `DEVELOPER_TEST` or `SANDBOX`.
    pub account_type: &'static str,
    /// Whether the signed-in user has a paid Sales Hub seat in this portal.
    pub paid_sales_hub_seat: bool,
    /// The HubSpot products (hubs) attached to the portal, as the account chooser shows them.
    pub products: &'static [&'static str],
    /// The portal's domain, as reported in `hub_domain` by the token metadata endpoints.
    pub hub_domain: &'static str,
    /// Scopes whose features this portal does not have. Required scopes in this list
    /// make the install fail; optional ones are dropped from the grant.
    pub unavailable_scopes: &'static [&'static str],
    pub time_zone: &'static str,
    pub utc_offset_milliseconds: i64,
    pub company_currency: &'static str,
    pub additional_currencies: &'static [&'static str],
    pub ui_domain: &'static str,
    pub data_hosting_location: &'static str,
}

impl Portal {
    /// Whether the portal has the features behind `scope`.
    pub fn supports(&self, scope: &str) -> bool {
        !self.unavailable_scopes.contains(&scope)
    }

    /// The UTC offset as HubSpot formats it, e.g. `-07:00` or `+05:30`.
    pub fn utc_offset(&self) -> String {
        let ms = self.utc_offset_milliseconds;
        let sign = if ms < 0 { '-' } else { '+' };
        let minutes = ms.abs() / 60_000;
        format!("{sign}{:02}:{:02}", minutes / 60, minutes % 60)
    }
}

/// Scopes behind Sales Hub paid features (products, line items, quotes, sales email).
const SALES_HUB_PAID_SCOPES: &[&str] = &[
    "e-commerce",
    "crm.objects.products.read",
    "crm.objects.products.write",
    "crm.objects.line_items.read",
    "crm.objects.line_items.write",
    "crm.objects.quotes.read",
    "crm.objects.quotes.write",
    "crm.schemas.line_items.read",
    "crm.schemas.quotes.read",
    "sales-email-read",
];

/// What an app developer account lacks: no CMS, no reporting, no commerce objects.
const DEVELOPER_ACCOUNT_MISSING: &[&str] = &[
    "content",
    "reports",
    "e-commerce",
    "crm.objects.products.read",
    "crm.objects.products.write",
    "crm.objects.line_items.read",
    "crm.objects.line_items.write",
    "crm.objects.quotes.read",
    "crm.objects.quotes.write",
    "crm.schemas.line_items.read",
    "crm.schemas.quotes.read",
];

/// Hub id of "Acme Inc", the main account.
pub const ACME_INC: i64 = 24_682_001;
/// Hub id of "Acme Developer", the app developer account.
pub const ACME_DEVELOPER: i64 = 24_682_002;
/// Hub id of "Acme Test", a developer test account.
pub const ACME_TEST: i64 = 24_682_003;
/// Hub id of "Acme Starter", a standard account without a paid Sales Hub seat.
pub const ACME_STARTER: i64 = 24_682_004;

static PORTALS: [Portal; 4] = [
    Portal {
        id: ACME_INC,
        name: "Acme Inc",
        account_type: "STANDARD",
        paid_sales_hub_seat: true,
        products: &[
            "Marketing Hub Professional",
            "Sales Hub Professional",
            "Service Hub Starter",
        ],
        hub_domain: "acme-inc.hs-sites.com",
        unavailable_scopes: &[],
        time_zone: "America/Phoenix",
        utc_offset_milliseconds: -7 * 3_600_000,
        company_currency: "USD",
        additional_currencies: &["EUR", "GBP"],
        ui_domain: "app.hubspot.com",
        data_hosting_location: "na1",
    },
    Portal {
        id: ACME_DEVELOPER,
        name: "Acme Developer",
        account_type: "APP_DEVELOPER",
        paid_sales_hub_seat: false,
        products: &[],
        hub_domain: "acme-developer.hs-sites.com",
        unavailable_scopes: DEVELOPER_ACCOUNT_MISSING,
        time_zone: "UTC",
        utc_offset_milliseconds: 0,
        company_currency: "USD",
        additional_currencies: &[],
        ui_domain: "app.hubspot.com",
        data_hosting_location: "na1",
    },
    Portal {
        id: ACME_TEST,
        name: "Acme Test",
        account_type: "DEVELOPER_TEST",
        paid_sales_hub_seat: true,
        products: &[],
        hub_domain: "acme-test.hs-sites.com",
        unavailable_scopes: &[],
        time_zone: "Asia/Tokyo",
        utc_offset_milliseconds: 9 * 3_600_000,
        company_currency: "JPY",
        additional_currencies: &[],
        ui_domain: "app.hubspot.com",
        data_hosting_location: "na1",
    },
    Portal {
        id: ACME_STARTER,
        name: "Acme Starter",
        account_type: "STANDARD",
        paid_sales_hub_seat: false,
        products: &["Marketing Hub Starter"],
        hub_domain: "acme-starter.hs-sites.com",
        unavailable_scopes: SALES_HUB_PAID_SCOPES,
        time_zone: "Asia/Kolkata",
        utc_offset_milliseconds: 19_800_000,
        company_currency: "INR",
        additional_currencies: &["USD"],
        ui_domain: "app.hubspot.com",
        data_hosting_location: "na1",
    },
];

/// All portals of the signed-in user, in the order the account chooser lists them.
pub fn all() -> &'static [Portal] {
    &PORTALS
}

/// The portal with hub id `id`.
pub fn find(id: i64) -> Option<&'static Portal> {
    PORTALS.iter().find(|p| p.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_offsets() {
        assert_eq!(
            find(ACME_INC).map(Portal::utc_offset).as_deref(),
            Some("-07:00")
        );
        assert_eq!(
            find(ACME_STARTER).map(Portal::utc_offset).as_deref(),
            Some("+05:30")
        );
        assert_eq!(
            find(ACME_DEVELOPER).map(Portal::utc_offset).as_deref(),
            Some("+00:00")
        );
    }

    #[test]
    fn unavailable_scopes_are_in_the_catalogue() {
        for p in all() {
            for s in p.unavailable_scopes {
                assert!(crate::catalogue::is_known(s), "{s}");
            }
        }
    }
}
