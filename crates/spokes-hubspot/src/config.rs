//! Where HubSpot lives and which API versions we speak; the sandbox points these at the simulator.

use std::time::Duration;

use serde::Deserialize;

use crate::catalogue::{ApiPath, Family};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
pub enum OAuthApiVersion {
    /// The legacy endpoints, unsupported by HubSpot from 2027-02-16.
    #[serde(rename = "v1")]
    V1,
    #[serde(rename = "v3")]
    V3,
    #[default]
    #[serde(rename = "2026-03")]
    V2026_03,
}

impl OAuthApiVersion {
    pub fn path_segment(self) -> &'static str {
        match self {
            Self::V1 => "v1",
            Self::V3 => "v3",
            Self::V2026_03 => "2026-03",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HubSpotConfig {
    /// Where the consent page is (`/oauth/authorize`).
    pub app_url: String,
    /// Where the API is.
    pub api_url: String,
    pub oauth_version: OAuthApiVersion,
    /// Date version of the account-info API, e.g. `2026-03` (or `v3`).
    pub account_info_version: String,
    /// Version of the CRM APIs: a date version (`2026-03`: `/crm/objects/2026-03/…`) or `v3`
    /// (`/crm/v3/objects/…`).
    pub crm_version: String,
    pub request_timeout_secs: u64,
    /// Calls per rolling 10 s per portal (HubSpot's public-app limit: 110).
    pub rate_limit_per_10s: u32,
    /// Search calls per second per portal (HubSpot: 5).
    pub search_per_second: u32,
    /// The share of each portal's budget Spokes may use, in (0, 1]: the portal's other apps
    /// spend the same budget.
    pub budget_share: f64,
}

impl Default for HubSpotConfig {
    fn default() -> Self {
        Self {
            app_url: "https://app.hubspot.com".into(),
            api_url: "https://api.hubapi.com".into(),
            oauth_version: OAuthApiVersion::default(),
            account_info_version: "2026-03".into(),
            crm_version: "2026-03".into(),
            request_timeout_secs: 30,
            rate_limit_per_10s: 110,
            search_per_second: 5,
            budget_share: 1.0,
        }
    }
}

impl HubSpotConfig {
    /// A config that talks to a simulator (or anything else) at `base_url` for both the
    /// consent page and the API.
    pub fn pointing_at(base_url: &str) -> Self {
        let base = base_url.trim_end_matches('/').to_string();
        Self {
            app_url: base.clone(),
            api_url: base,
            ..Self::default()
        }
    }

    pub(crate) fn api(&self, path: &str) -> String {
        format!("{}{}", self.api_url.trim_end_matches('/'), path)
    }

    /// The path of a catalogue request for the configured versions (`{account_info_version}`
    /// filled in; path parameters still as placeholders).
    pub fn method_path(&self, path: &ApiPath) -> String {
        let name = match path.family {
            Family::Fixed => {
                return path
                    .rest
                    .replace("{account_info_version}", &self.account_info_version);
            }
            Family::Objects => "objects",
            Family::Properties => "properties",
            Family::Associations => "associations",
            Family::Pipelines => "pipelines",
            Family::Owners => "owners",
        };
        let version = &self.crm_version;
        if version.starts_with('v') {
            // Associations are HubSpot's v4; the other families stay on the version given.
            let version = if path.family == Family::Associations {
                "v4"
            } else {
                version
            };
            format!("/crm/{version}/{name}{}", path.rest)
        } else {
            format!("/crm/{name}/{version}{}", path.rest)
        }
    }

    pub fn limiter_config(&self) -> crate::limiter::LimiterConfig {
        crate::limiter::LimiterConfig {
            per_ten_seconds: self.rate_limit_per_10s,
            search_per_second: self.search_per_second,
            share: self.budget_share,
            ..crate::limiter::LimiterConfig::default()
        }
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs.max(1))
    }
}
