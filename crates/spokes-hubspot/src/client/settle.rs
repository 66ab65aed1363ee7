//! A create whose answer was lost after it was sent (a broken connection, a timeout): HubSpot
//! may have created the record. For records HubSpot keeps unique by a property, Spokes looks
//! the record up by that value before anything else: found, that is the outcome; surely not
//! created (a read by `idProperty` answered 404), the create is sent once more; otherwise the
//! outcome stays unknown, with what the lookup saw.

use serde_json::{Value, json};

use super::{ApiClient, Caller, MethodError, MethodInput, Outgoing};
use crate::catalogue::{MethodDef, UniqueProperty};

impl ApiClient {
    pub(super) async fn settle_lost_create(
        &self,
        method: &MethodDef,
        input: &MethodInput,
        outgoing: &Outgoing,
        caller: Caller<'_>,
        lost: MethodError,
    ) -> Result<Value, MethodError> {
        let Some(unique) = method.unique_property else {
            return Err(lost);
        };
        let (UniqueProperty::IdProperty(name) | UniqueProperty::Searched(name)) = unique;
        let Some(value) = input.fields.get(name).and_then(Value::as_str) else {
            return Err(lost);
        };
        let base = self.config.method_path(&method.path);
        let found = match unique {
            UniqueProperty::IdProperty(_) => {
                let lookup = Outgoing {
                    url: self.config.api(&format!(
                        "{base}/{}?idProperty={name}",
                        crate::oauth::percent_encode(value)
                    )),
                    body: None,
                    verb: Some(reqwest::Method::GET),
                };
                match self.send(method, &lookup, caller).await {
                    Ok(record) => Some(record),
                    Err(e) if e.code == "not_found" => None,
                    Err(_) => return Err(with_lookup(lost, name, value, "the lookup failed")),
                }
            }
            UniqueProperty::Searched(_) => {
                let search = Outgoing {
                    url: self.config.api(&format!("{base}/search")),
                    body: Some(json!({
                        "filterGroups": [{"filters": [{"propertyName": name, "operator": "EQ", "value": value}]}],
                        "limit": 1,
                    })),
                    verb: Some(reqwest::Method::POST),
                };
                match self.send::<Value>(method, &search, caller).await {
                    Ok(answer) => answer["results"].get(0).cloned(),
                    Err(_) => return Err(with_lookup(lost, name, value, "the lookup failed")),
                }
            }
        };
        match (found, unique) {
            (Some(record), _) => {
                tracing::info!(method = %method.id, "a create's answer was lost; the record it made was found by its unique value");
                Ok(record)
            }
            (None, UniqueProperty::IdProperty(_)) => {
                tracing::info!(method = %method.id, "a create's answer was lost and no record was made; sending it again");
                self.send(method, outgoing, caller).await
            }
            (None, UniqueProperty::Searched(_)) => Err(with_lookup(
                lost,
                name,
                value,
                "HubSpot's search does not show it yet (its index lags writes)",
            )),
        }
    }
}

fn with_lookup(mut error: MethodError, name: &str, value: &str, seen: &str) -> MethodError {
    error.message = format!("{}; looked up by `{name}`: {seen}", error.message);
    error.details = json!({"looked_up": {"property": name, "value": value, "found": false}});
    error
}
