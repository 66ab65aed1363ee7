//! The portal's own properties per object type, cached per installation for a short while,
//! so create and update calls can name unknown or read-only properties before sending.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::input::KnownProperty;
use super::{ApiClient, Caller};
use crate::catalogue::{ApiPath, Family};

/// Long enough to spare a properties read per write, short enough that a property the
/// customer just added in HubSpot is known within a minute.
const TTL: Duration = Duration::from_secs(60);
/// Installations × object types kept at most; the oldest entries go first.
const MAX_ENTRIES: usize = 4096;

type Properties = Arc<HashMap<String, KnownProperty>>;

#[derive(Default)]
pub(super) struct PropertyCache {
    entries: Mutex<HashMap<(String, String), (Instant, Properties)>>,
}

impl PropertyCache {
    /// The properties of `object_type` in the caller's portal; `None` when HubSpot would not
    /// list them (e.g. a token without read scope), in which case HubSpot checks the names.
    pub(super) async fn get(
        &self,
        client: &ApiClient,
        object_type: &str,
        caller: Caller<'_>,
    ) -> Option<Properties> {
        let key = (caller.installation_id.to_owned(), object_type.to_owned());
        if let Some((at, properties)) = self.lock().get(&key)
            && at.elapsed() < TTL
        {
            return Some(properties.clone());
        }
        let url = client.config.api(&client.config.method_path(&ApiPath {
            family: Family::Properties,
            rest: format!("/{object_type}"),
        }));
        let response = client
            .http
            .get(url)
            .bearer_auth(caller.access_token)
            .send()
            .await
            .ok()?;
        if !response.status().is_success() {
            tracing::debug!(
                object_type,
                http.status = response.status().as_u16(),
                "could not list the portal's properties; HubSpot will check the names"
            );
            return None;
        }
        let body: Value = response.json().await.ok()?;
        let properties: Properties = Arc::new(
            body["results"]
                .as_array()?
                .iter()
                .filter_map(|p| {
                    let name = p["name"].as_str()?.to_owned();
                    let read_only = p["modificationMetadata"]["readOnlyValue"]
                        .as_bool()
                        .unwrap_or(false)
                        || p["calculated"].as_bool().unwrap_or(false);
                    Some((name, KnownProperty { read_only }))
                })
                .collect(),
        );
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, (at, _)| at.elapsed() < TTL);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(key, (Instant::now(), properties.clone()));
        Some(properties)
    }

    /// Drops what is known of `object_type` for the installation: its properties changed.
    pub(super) fn forget(&self, installation_id: &str, object_type: &str) {
        self.lock()
            .remove(&(installation_id.to_owned(), object_type.to_owned()));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), (Instant, Properties)>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}
