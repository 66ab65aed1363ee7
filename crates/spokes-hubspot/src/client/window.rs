//! "List new" and "list updated": every record whose date property is at or after `since`,
//! in (date, id) order, through HubSpot's search API, exactly once each.
//!
//! HubSpot's search stops at 10,000 results (`after` beyond it answers 400) and sorts by one
//! property, so paging one query with `after` loses records past the cap and cannot order
//! records that share a timestamp. Each page is instead a fresh query from the last
//! `(date, id)` handed out, never with `after`:
//!
//! 1. the rest of the records at that date: `date = d AND hs_object_id > i`, by id;
//! 2. when those are done, the records after it: `date > d`, by date. Of that answer only the
//!    records before its last date are handed out (their order is settled); the last date's
//!    records start the next page at step 1, by id.
//!
//! The cursor is `d:i` (`i` empty for "none yet"), so a page is always one or two queries of
//! at most 100 records however many records share one timestamp. Hand-written: no crate
//! pages HubSpot's search this way.

use serde_json::{Value, json};

use super::{ApiClient, Caller, Outgoing};
use crate::catalogue::MethodDef;
use crate::client::{MethodError, MethodInput};

/// Where the next page starts: records at `date` with an id above `id` (all of them when
/// `None`), then the records after `date`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Cursor {
    pub(super) date: i64,
    pub(super) id: Option<u64>,
}

impl Cursor {
    pub(super) fn parse(text: &str) -> Option<Self> {
        let (date, id) = text.split_once(':')?;
        Some(Self {
            date: date.parse().ok()?,
            id: if id.is_empty() {
                None
            } else {
                Some(id.parse().ok()?)
            },
        })
    }

    pub(super) fn encode(self) -> String {
        format!(
            "{}:{}",
            self.date,
            self.id.map(|i| i.to_string()).unwrap_or_default()
        )
    }
}

/// `since` as Unix milliseconds: RFC 3339 text or a number of milliseconds.
pub(super) fn parse_since(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse::<i64>().ok().or_else(|| {
            s.parse::<jiff::Timestamp>()
                .ok()
                .map(|t| t.as_millisecond())
        }),
        _ => None,
    }
}

/// A record's date (HubSpot returns RFC 3339 text, or milliseconds) and id.
fn date_and_id(record: &Value, date_property: &str) -> Option<(i64, u64)> {
    let date = parse_since(&record["properties"][date_property])?;
    let id = record["id"].as_str()?.parse().ok()?;
    Some((date, id))
}

impl ApiClient {
    /// The records after `cursor` (steps 1 and 2 of the module comment) and the next cursor.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn window_page(
        &self,
        method: &MethodDef,
        input: &MethodInput,
        date_property: &str,
        since: i64,
        cursor: Cursor,
        limit: u32,
        caller: Caller<'_>,
    ) -> Result<(Vec<Value>, Option<Cursor>), MethodError> {
        let mut properties: Vec<Value> = input
            .parameters
            .get("properties")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for needed in [date_property, "hs_object_id"] {
            if !properties.iter().any(|p| p == needed) {
                properties.push(needed.into());
            }
        }
        // A record the search index places in the window but whose date says otherwise
        // (HubSpot's index lags writes) is not part of it.
        let in_window = |record: &Value| {
            date_and_id(record, date_property).is_some_and(|(date, _)| date >= since)
        };

        // 1. The rest of the records at the cursor's date, by id.
        // Fixed filters of the method (a list of one owner's records) go into both queries.
        let fixed = super::equals_filters(method, input);
        let mut ties = vec![
            json!({"propertyName": date_property, "operator": "EQ", "value": cursor.date.to_string()}),
        ];
        ties.extend(fixed.iter().cloned());
        if let Some(id) = cursor.id {
            ties.push(
                json!({"propertyName": "hs_object_id", "operator": "GT", "value": id.to_string()}),
            );
        }
        let body = json!({
            "filterGroups": [{"filters": ties}],
            "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
            "properties": properties,
            "limit": limit,
        });
        let tied = results(&self.search(method, input, body, caller).await?);
        if let Some((_, last_id)) = tied.last().and_then(|r| date_and_id(r, date_property)) {
            // The next page asks for more at this date first; an empty answer moves on.
            let next = Cursor {
                date: cursor.date,
                id: Some(last_id),
            };
            return Ok((tied.into_iter().filter(in_window).collect(), Some(next)));
        }

        // 2. The records after the cursor's date, by date.
        let mut after = vec![
            json!({"propertyName": date_property, "operator": "GT", "value": cursor.date.to_string()}),
        ];
        after.extend(fixed);
        let body = json!({
            "filterGroups": [{"filters": after}],
            "sorts": [{"propertyName": date_property, "direction": "ASCENDING"}],
            "properties": properties,
            "limit": limit,
        });
        let later = results(&self.search(method, input, body, caller).await?);
        let Some(last_date) = later
            .last()
            .and_then(|r| date_and_id(r, date_property))
            .map(|(d, _)| d)
        else {
            return Ok((Vec::new(), None));
        };
        if (later.len() as u32) < limit {
            // The whole rest of the window: nothing left to order later, but records that
            // share a date still come by id.
            let mut records: Vec<Value> = later.into_iter().filter(in_window).collect();
            records.sort_by_key(|r| date_and_id(r, date_property));
            return Ok((records, None));
        }
        let mut settled: Vec<Value> = later
            .into_iter()
            .filter(|r| date_and_id(r, date_property).is_some_and(|(d, _)| d < last_date))
            .filter(in_window)
            .collect();
        settled.sort_by_key(|r| date_and_id(r, date_property));
        Ok((
            settled,
            Some(Cursor {
                date: last_date,
                id: None,
            }),
        ))
    }

    /// One query of the window, at the method's URL with its path parameters filled in (a
    /// custom object's `{objectType}`).
    async fn search(
        &self,
        method: &MethodDef,
        input: &MethodInput,
        body: Value,
        caller: Caller<'_>,
    ) -> Result<Value, MethodError> {
        let outgoing = Outgoing {
            body: Some(body),
            ..self.request(method, input, None)
        };
        self.send(method, &outgoing, caller).await
    }
}

fn results(answer: &Value) -> Vec<Value> {
    answer["results"].as_array().cloned().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        for cursor in [
            Cursor {
                date: 1_700_000_000_000,
                id: None,
            },
            Cursor {
                date: 5,
                id: Some(42),
            },
        ] {
            assert_eq!(Cursor::parse(&cursor.encode()), Some(cursor));
        }
        assert_eq!(Cursor::parse("nonsense"), None);
    }

    #[test]
    fn since_is_rfc3339_or_milliseconds() {
        assert_eq!(
            parse_since(&json!(1_700_000_000_000i64)),
            Some(1_700_000_000_000)
        );
        assert_eq!(
            parse_since(&json!("1700000000000")),
            Some(1_700_000_000_000)
        );
        assert_eq!(
            parse_since(&json!("2023-11-14T22:13:20Z")),
            Some(1_700_000_000_000)
        );
        assert_eq!(parse_since(&json!("yesterday")), None);
    }
}
