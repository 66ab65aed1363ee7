//! The utility connectors that cycle steps call (connector id `utility`): an HTTP request
//! through an SSRF guard, key/value and object storage per cycle or per account, the
//! cross-update preventer that stops A→B→A loops in two-way syncs, and entity cross
//! references. [`Utilities::methods`] describes them for template validation and the
//! catalogue; [`Utilities::call`] runs one.

mod guard;
mod http;
mod preventer;
mod storage;
mod xref;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};
use spokes_core::Clock;
use spokes_cycles::validate::{Chain, HubSpotCatalogue, MethodCatalogue, MethodInfo, ParamInfo};
use spokes_hubspot::catalogue::JsonType;
use spokes_store::{Store, StoreError};

use self::http::HttpUtility;

/// The connector id of the utility methods in templates.
pub const UTILITY_CONNECTOR: &str = "utility";

/// The utility methods for template validation (`spokes_cycles::validate`).
#[derive(Debug, Clone, Copy, Default)]
pub struct UtilityCatalogue;

impl MethodCatalogue for UtilityCatalogue {
    fn method(&self, connector: &str, method: &str) -> Option<MethodInfo> {
        if connector != UTILITY_CONNECTOR {
            return None;
        }
        let def = Utilities::method(method)?;
        Some(MethodInfo {
            id: def.id.to_owned(),
            params: def
                .params
                .iter()
                .map(|p| ParamInfo {
                    name: p.name.to_owned(),
                    required: p.required,
                })
                .collect(),
            writes: def.writes,
            has_since: false,
            takes_fields: false,
            scopes: Vec::new(),
        })
    }

    fn has_connector(&self, connector: &str) -> bool {
        connector == UTILITY_CONNECTOR
    }

    fn close_matches(&self, connector: &str, method: &str) -> Vec<String> {
        if connector != UTILITY_CONNECTOR {
            return Vec::new();
        }
        // Same family (`storage.`, `xref.`…) first: a misspelt verb is the usual mistake.
        let family = method.split('.').next().unwrap_or_default();
        METHODS
            .iter()
            .filter(|m| m.id.starts_with(&format!("{family}.")))
            .map(|m| m.id.to_owned())
            .collect()
    }
}

/// Every method a cycle's steps may call: HubSpot's catalogue and the utility connector's.
pub fn step_catalogue() -> Chain<HubSpotCatalogue, UtilityCatalogue> {
    Chain(HubSpotCatalogue, UtilityCatalogue)
}

/// How the HTTP utility may be used.
#[derive(Debug, Clone)]
pub struct UtilityConfig {
    /// Host names, or `*.suffix` for any subdomain of suffix; empty: any public host.
    pub http_allowed_hosts: Vec<String>,
    /// Host names or networks (`10.0.0.0/8`, `127.0.0.1/32`, a single address) that requests
    /// may reach although they are private, loopback or link-local.
    pub http_allow_private: Vec<String>,
    pub http_timeout: Duration,
    /// A larger response is refused (`response_too_large`).
    pub http_max_response_bytes: usize,
}

impl Default for UtilityConfig {
    fn default() -> Self {
        Self {
            http_allowed_hosts: Vec::new(),
            http_allow_private: Vec::new(),
            http_timeout: Duration::from_secs(30),
            http_max_response_bytes: 1024 * 1024,
        }
    }
}

/// Where a call runs: the account, and the cycle whose step calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UtilityScope {
    pub account_id: String,
    pub cycle_id: String,
}

/// Why a utility call failed. `transient`: the same call may succeed later (a network error,
/// a 5xx or 429 answer, a store error), so the step may be retried.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct UtilityError {
    /// `unknown_method`, `invalid_parameters`, `host_not_allowed`, `private_address`,
    /// `network_error`, `http_error`, `response_too_large`, `limit_reached`, `not_found`,
    /// `store_error`.
    pub code: &'static str,
    pub message: String,
    pub transient: bool,
}

impl UtilityError {
    pub(crate) fn new(code: &'static str, message: impl Into<String>, transient: bool) -> Self {
        Self {
            code,
            message: message.into(),
            transient,
        }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::new("invalid_parameters", message, false)
    }
}

impl From<StoreError> for UtilityError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound(what) => Self::new("not_found", what, false),
            other => Self::new("store_error", format!("the store failed: {other}"), true),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UtilityParam {
    pub name: &'static str,
    pub required: bool,
    /// `None`: any JSON value.
    pub json_type: Option<JsonType>,
}

/// One method of the utility connector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UtilityMethod {
    pub id: &'static str,
    pub description: &'static str,
    pub params: &'static [UtilityParam],
    /// Changes something: a request that may write, or stored data.
    pub writes: bool,
}

const fn req(name: &'static str, json_type: JsonType) -> UtilityParam {
    UtilityParam {
        name,
        required: true,
        json_type: Some(json_type),
    }
}

const fn opt(name: &'static str, json_type: JsonType) -> UtilityParam {
    UtilityParam {
        name,
        required: false,
        json_type: Some(json_type),
    }
}

/// An optional parameter of any JSON value.
const fn opt_any(name: &'static str) -> UtilityParam {
    UtilityParam {
        name,
        required: false,
        json_type: None,
    }
}

use JsonType::{Boolean, Integer, Object, String as Str};

const SCOPE: UtilityParam = opt("scope", Str);

static METHODS: &[UtilityMethod] = &[
    UtilityMethod {
        id: "http.request",
        description: "Sends an HTTP request (GET, POST, PUT, PATCH or DELETE) to an http(s) URL; \
                      the body is sent as JSON. Answers {status, headers, body}. Private \
                      addresses and hosts off the allow-list are refused; redirects are \
                      answered, not followed.",
        params: &[
            req("method", Str),
            req("url", Str),
            opt("headers", Object),
            opt("query", Object),
            opt_any("body"),
        ],
        writes: true,
    },
    UtilityMethod {
        id: "storage.set",
        description: "Sets a text value (at most 1,024 characters) under a key (at most 128) \
                      in the cycle's store or the account's (`scope`: cycle, the default, or \
                      account).",
        params: &[req("key", Str), req("value", Str), SCOPE],
        writes: true,
    },
    UtilityMethod {
        id: "storage.get",
        description: "The text value of a key, or null.",
        params: &[req("key", Str), SCOPE],
        writes: false,
    },
    UtilityMethod {
        id: "storage.delete",
        description: "Deletes a key's text value.",
        params: &[req("key", Str), SCOPE],
        writes: true,
    },
    UtilityMethod {
        id: "storage.set_object",
        description: "Sets a JSON object (at most 1,024 characters as JSON) under a key.",
        params: &[req("key", Str), req("object", Object), SCOPE],
        writes: true,
    },
    UtilityMethod {
        id: "storage.get_object",
        description: "The object of a key, or null.",
        params: &[req("key", Str), SCOPE],
        writes: false,
    },
    UtilityMethod {
        id: "storage.delete_object",
        description: "Deletes a key's object.",
        params: &[req("key", Str), SCOPE],
        writes: true,
    },
    UtilityMethod {
        id: "storage.list_objects",
        description: "Objects by key, those whose key starts with `prefix`, at most `limit` \
                      (default 100, at most 1,000) after the key `after`. Answers {items, \
                      next_after}; next_after is null on the last page.",
        params: &[
            opt("prefix", Str),
            opt("limit", Integer),
            opt("after", Str),
            SCOPE,
        ],
        writes: false,
    },
    UtilityMethod {
        id: "preventer.mark",
        description: "Records that this cycle just wrote a record of `system`, for \
                      `ttl_minutes` (default 60): the cycle syncing the other way skips the \
                      change event this write causes.",
        params: &[
            req("system", Str),
            req("record_id", Str),
            opt("ttl_minutes", Integer),
        ],
        writes: true,
    },
    UtilityMethod {
        id: "preventer.check",
        description: "Whether a cycle recently wrote this record ({recently_written}); a mark \
                      found is used up unless `consume` is false.",
        params: &[
            req("system", Str),
            req("record_id", Str),
            opt("consume", Boolean),
        ],
        writes: false,
    },
    UtilityMethod {
        id: "xref.set",
        description: "Records that two records of two systems are the same entity; each \
                      record has at most one counterpart per system.",
        params: &[
            req("left_system", Str),
            req("left_id", Str),
            req("right_system", Str),
            req("right_id", Str),
        ],
        writes: true,
    },
    UtilityMethod {
        id: "xref.lookup",
        description: "The records linked to a record ({matches}: [{system, id}], null when \
                      none), only those of `other_system` when given.",
        params: &[req("system", Str), req("id", Str), opt("other_system", Str)],
        writes: false,
    },
    UtilityMethod {
        id: "xref.delete",
        description: "Unlinks a record from its counterpart in `other_system`, or from all.",
        params: &[req("system", Str), req("id", Str), opt("other_system", Str)],
        writes: true,
    },
];

/// The utility connector: its store, clock and guarded HTTP client.
pub struct Utilities {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    http: HttpUtility,
    max_items: u64,
}

impl Utilities {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, config: UtilityConfig) -> Self {
        Self {
            store,
            clock,
            http: HttpUtility::new(&config),
            max_items: storage::MAX_ITEMS,
        }
    }

    /// Another item limit per store than the 1,000,000 of the seed platform (for tests).
    pub fn with_storage_limit(mut self, max_items: u64) -> Self {
        self.max_items = max_items;
        self
    }

    /// The methods, for template validation and the catalogue.
    pub fn methods() -> &'static [UtilityMethod] {
        METHODS
    }

    pub fn method(id: &str) -> Option<&'static UtilityMethod> {
        METHODS.iter().find(|m| m.id == id)
    }

    pub async fn call(
        &self,
        scope: &UtilityScope,
        method: &str,
        parameters: &Map<String, Value>,
    ) -> Result<Value, UtilityError> {
        let Some(def) = Self::method(method) else {
            return Err(UtilityError::new(
                "unknown_method",
                format!("the utility connector has no method {method:?}"),
                false,
            ));
        };
        let started = Instant::now();
        let result = self.run(scope, def, parameters).await;
        let outcome = match &result {
            Ok(_) => "ok",
            Err(e) => e.code,
        };
        metrics::counter!("spokes_utility_calls_total", "method" => def.id, "outcome" => outcome)
            .increment(1);
        metrics::histogram!("spokes_utility_call_duration_seconds", "method" => def.id)
            .record(started.elapsed().as_secs_f64());
        result
    }

    async fn run(
        &self,
        scope: &UtilityScope,
        def: &UtilityMethod,
        parameters: &Map<String, Value>,
    ) -> Result<Value, UtilityError> {
        if scope.account_id.is_empty() {
            return Err(UtilityError::invalid("the call has no account"));
        }
        let params = Params::checked(def, parameters)?;
        let now = self.clock.now_ms();
        let store = self.store.as_ref();
        match def.id {
            "http.request" => self.http.request(&params).await,
            "preventer.mark" => preventer::mark(store, scope, &params, now).await,
            "preventer.check" => preventer::check(store, scope, &params, now).await,
            "xref.set" => xref::set(store, scope, &params, now).await,
            "xref.lookup" => xref::lookup(store, scope, &params).await,
            "xref.delete" => xref::delete(store, scope, &params).await,
            id => storage::call(store, scope, id, &params, self.max_items, now).await,
        }
    }
}

/// A call's parameters, checked against the method: no unknown ones, the required ones
/// present (null counts as absent). The typed getters check the types.
pub(crate) struct Params<'a> {
    map: &'a Map<String, Value>,
}

impl<'a> Params<'a> {
    fn checked(def: &UtilityMethod, map: &'a Map<String, Value>) -> Result<Self, UtilityError> {
        if let Some(unknown) = map
            .keys()
            .find(|k| !def.params.iter().any(|p| p.name == *k))
        {
            return Err(UtilityError::invalid(format!(
                "{} has no parameter {unknown:?}",
                def.id
            )));
        }
        let params = Self { map };
        if let Some(missing) = def
            .params
            .iter()
            .find(|p| p.required && params.opt(p.name).is_none())
        {
            return Err(UtilityError::invalid(format!(
                "{} needs the parameter `{}`",
                def.id, missing.name
            )));
        }
        Ok(params)
    }

    pub fn opt(&self, name: &str) -> Option<&'a Value> {
        self.map.get(name).filter(|v| !v.is_null())
    }

    pub fn str(&self, name: &str) -> Result<&'a str, UtilityError> {
        self.opt_str(name)?
            .ok_or_else(|| UtilityError::invalid(format!("`{name}` is required")))
    }

    pub fn opt_str(&self, name: &str) -> Result<Option<&'a str>, UtilityError> {
        match self.opt(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(UtilityError::invalid(format!("`{name}` must be a string"))),
        }
    }

    /// A string, or a number or boolean as its JSON text (record ids mapped from numbers).
    pub fn text(&self, name: &str) -> Result<String, UtilityError> {
        match self.opt(name) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(v @ (Value::Number(_) | Value::Bool(_))) => Ok(v.to_string()),
            None => Err(UtilityError::invalid(format!("`{name}` is required"))),
            Some(_) => Err(UtilityError::invalid(format!(
                "`{name}` must be a string or a number"
            ))),
        }
    }

    pub fn opt_object(&self, name: &str) -> Result<Option<&'a Map<String, Value>>, UtilityError> {
        match self.opt(name) {
            None => Ok(None),
            Some(Value::Object(o)) => Ok(Some(o)),
            Some(_) => Err(UtilityError::invalid(format!("`{name}` must be an object"))),
        }
    }

    pub fn opt_u64(&self, name: &str) -> Result<Option<u64>, UtilityError> {
        match self.opt(name) {
            None => Ok(None),
            Some(v) => v.as_u64().map(Some).ok_or_else(|| {
                UtilityError::invalid(format!("`{name}` must be a non-negative integer"))
            }),
        }
    }

    pub fn opt_bool(&self, name: &str) -> Result<Option<bool>, UtilityError> {
        match self.opt(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(UtilityError::invalid(format!(
                "`{name}` must be true or false"
            ))),
        }
    }
}

/// The longest key, record id or system name.
pub(crate) const MAX_KEY_CHARS: usize = 128;

/// A non-empty identifier of at most [`MAX_KEY_CHARS`] characters.
pub(crate) fn identifier(params: &Params<'_>, name: &str) -> Result<String, UtilityError> {
    let value = params.text(name)?;
    let chars = value.chars().count();
    if chars == 0 || chars > MAX_KEY_CHARS {
        return Err(UtilityError::invalid(format!(
            "`{name}` must have 1 to {MAX_KEY_CHARS} characters, not {chars}"
        )));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_ids_are_unique_and_params_named_once() {
        let mut ids: Vec<&str> = METHODS.iter().map(|m| m.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), METHODS.len());
        for method in METHODS {
            let mut names: Vec<&str> = method.params.iter().map(|p| p.name).collect();
            names.sort();
            names.dedup();
            assert_eq!(names.len(), method.params.len(), "{}", method.id);
        }
    }
}
