//! The method catalogue: stable ids partners call through `/methods/{method}`.
//! Only `account.get` exists so far; it proves the token path end to end.

use crate::config::HubSpotConfig;

pub struct Method {
    pub id: &'static str,
    pub category: &'static str,
    pub display_name: &'static str,
    /// Any one of these scopes suffices.
    pub required_scopes: &'static [&'static str],
}

pub const METHODS: &[Method] = &[Method {
    id: "account.get",
    category: "Account",
    display_name: "Get Account Details",
    required_scopes: &["oauth"],
}];

pub fn find(id: &str) -> Option<&'static Method> {
    METHODS.iter().find(|m| m.id == id)
}

/// The path of `GET account details` for the configured API version.
pub fn account_details_path(config: &HubSpotConfig) -> String {
    format!("/account-info/{}/details", config.account_info_version)
}
