//! Walking a paged method one page at a time: the one implementation of every paging mode
//! (HubSpot's `after` cursors, the offset pagers of the legacy and list APIs, the "since"
//! cut of newest-first feeds, and the search windows of `list_new` / `list_updated`).
//!
//! A [`Pages`] holds only where the walk stands; each [`ApiClient::next_page`] sends the
//! requests of one page and hands its records out. Nothing is fetched ahead, so a consumer
//! that streams the records holds one page at a time however many there are; `paging.all`
//! without streaming collects the same walk.

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use super::window::{self, Cursor};
use super::{ApiClient, Caller, MethodError, MethodInput, id_text, split_page};
use crate::catalogue::{Data, MethodDef, Pager, Paging};

/// The records of one page: parsed, or as HubSpot wrote them when Spokes only passes them
/// on (a stream of a plain cursor-paged list: no parse into a tree, no writing it again).
#[derive(Debug)]
pub enum Records {
    Parsed(Vec<Value>),
    Raw(Vec<Box<RawValue>>),
}

impl Records {
    pub fn len(&self) -> usize {
        match self {
            Self::Parsed(records) => records.len(),
            Self::Raw(records) => records.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The records as JSON values (raw ones parsed).
    pub fn into_values(self) -> Vec<Value> {
        match self {
            Self::Parsed(records) => records,
            Self::Raw(records) => records
                .iter()
                // Each raw record was read as valid JSON.
                .filter_map(|r| serde_json::from_str(r.get()).ok())
                .collect(),
        }
    }

    /// One JSON document a line (NDJSON).
    pub fn to_lines(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len() * 512);
        match self {
            Self::Parsed(records) => {
                for record in records {
                    // A `Value` always serialises.
                    let _ = serde_json::to_writer(&mut out, record);
                    out.push(b'\n');
                }
            }
            Self::Raw(records) => {
                for record in records {
                    let start = out.len();
                    out.extend_from_slice(record.get().as_bytes());
                    // JSON strings escape line breaks, so a raw one is whitespace between
                    // tokens (pretty-printed JSON): a space keeps the record on its line.
                    for byte in &mut out[start..] {
                        if matches!(*byte, b'\n' | b'\r') {
                            *byte = b' ';
                        }
                    }
                    out.push(b'\n');
                }
            }
        }
        out
    }
}

/// A page of HubSpot's v3 shape with its records left as written: `results` and
/// `paging.next.after`.
#[derive(Deserialize, Default)]
pub(super) struct RawPage {
    #[serde(default)]
    results: Vec<Box<RawValue>>,
    #[serde(default)]
    paging: Option<RawPaging>,
}

#[derive(Deserialize)]
struct RawPaging {
    next: Option<RawNext>,
}

#[derive(Deserialize)]
struct RawNext {
    after: Option<Value>,
}

impl RawPage {
    fn next(&self) -> Option<String> {
        id_text(self.paging.as_ref()?.next.as_ref()?.after.as_ref()?)
    }
}

/// Whether the records of `method`'s pages go on as HubSpot wrote them: Spokes neither
/// filters nor reshapes them (HubSpot's `after` cursor, records in `results`).
fn passes_records_through(method: &MethodDef) -> bool {
    let shape = &method.shape;
    method.paging == Paging::Cursor
        && method.composite.is_none()
        && shape.records == "results"
        && shape.data == Data::AsIs
        && shape.pager == Pager::After
        && shape.keep.is_none()
        && shape.since.is_none()
}

/// Where a walk through a method's pages stands.
#[derive(Debug, Clone)]
pub struct Pages {
    at: At,
    /// Every page was handed out.
    done: bool,
}

/// The next page of a walk.
#[derive(Debug, Clone)]
enum At {
    /// HubSpot pages the method itself (`after` or an offset): its cursor (`None` for the
    /// first page); `since` cuts the records of methods that filter by date while paging.
    Cursor {
        after: Option<String>,
        since: Option<i64>,
    },
    /// A search window (see `client::window`).
    Window {
        date_property: &'static str,
        since: i64,
        limit: u32,
        cursor: Cursor,
    },
}

impl Pages {
    /// A walk from `paging.after` (or the first page) of a paged `method`.
    pub(super) fn start(
        method: &MethodDef,
        input: &MethodInput,
        since: Option<i64>,
    ) -> Result<Self, MethodError> {
        let invalid = |problem: &str| MethodError::invalid_parameters(method, vec![problem.into()]);
        let after = input.paging.after.clone();
        let at = match method.paging {
            Paging::None => return Err(invalid("this method does not page; leave out `paging`")),
            Paging::Cursor => At::Cursor { after, since },
            Paging::Window { date_property } => {
                let since = input
                    .parameters
                    .get("since")
                    .and_then(window::parse_since)
                    .ok_or_else(|| {
                        invalid("parameter `since` must be an RFC 3339 time or Unix milliseconds")
                    })?;
                let cursor = match after.as_deref() {
                    Some(text) => Cursor::parse(text).ok_or_else(|| {
                        invalid("`paging.after` is not a cursor this method handed out")
                    })?,
                    None => Cursor {
                        date: since,
                        id: None,
                    },
                };
                At::Window {
                    date_property,
                    since,
                    limit: input
                        .paging
                        .limit
                        .unwrap_or(super::MAX_PAGE)
                        .clamp(1, super::MAX_PAGE),
                    cursor,
                }
            }
        };
        Ok(Self { at, done: false })
    }

    /// Whether every page was handed out.
    pub fn done(&self) -> bool {
        self.done
    }

    /// The partner's `paging.next` after the pages handed out so far.
    pub fn cursor(&self) -> Option<String> {
        match &self.at {
            _ if self.done => None,
            At::Cursor { after, .. } => after.clone(),
            At::Window { cursor, .. } => Some(cursor.encode()),
        }
    }
}

impl ApiClient {
    /// A walk through every page of `method` from `paging.after`, after the same checks as
    /// [`ApiClient::execute`] (nothing is sent to HubSpot but the portal's properties, when a
    /// check needs them). `paging.all` is implied: the walk ends after the last page.
    pub async fn pages(
        &self,
        method: &MethodDef,
        input: &MethodInput,
        caller: Caller<'_>,
    ) -> Result<Pages, MethodError> {
        let since = self.prepare(method, input, caller).await?;
        Pages::start(method, input, since)
    }

    /// The records of the next page of `pages`, `None` after the last. A window page may be
    /// empty while more follow (HubSpot's search index placed records outside the window).
    pub async fn next_page(
        &self,
        method: &MethodDef,
        input: &MethodInput,
        pages: &mut Pages,
        caller: Caller<'_>,
    ) -> Result<Option<Records>, MethodError> {
        if pages.done {
            return Ok(None);
        }
        match &mut pages.at {
            At::Cursor { after, since } => {
                let outgoing = self.request(method, input, after.as_deref());
                let (records, next) = if passes_records_through(method) {
                    let page: RawPage = self.send(method, &outgoing, caller).await?;
                    let next = page.next();
                    (Records::Raw(page.results), next)
                } else {
                    let page =
                        split_page(method, self.send(method, &outgoing, caller).await?, *since);
                    let records = match page.data {
                        Value::Array(records) => records,
                        _ => Vec::new(),
                    };
                    (Records::Parsed(records), page.next)
                };
                match next {
                    // A cursor that does not move would page forever.
                    Some(next) if Some(&next) != after.as_ref() => *after = Some(next),
                    _ => pages.done = true,
                }
                Ok(Some(records))
            }
            At::Window {
                date_property,
                since,
                limit,
                cursor,
            } => {
                let (records, next) = self
                    .window_page(
                        method,
                        input,
                        date_property,
                        *since,
                        *cursor,
                        *limit,
                        caller,
                    )
                    .await?;
                match next {
                    Some(next) => *cursor = next,
                    None => pages.done = true,
                }
                Ok(Some(Records::Parsed(records)))
            }
        }
    }

    /// Every remaining record of `pages`, in one list (`paging.all` without streaming).
    pub(super) async fn collect_pages(
        &self,
        method: &MethodDef,
        input: &MethodInput,
        mut pages: Pages,
        caller: Caller<'_>,
    ) -> Result<Vec<Value>, MethodError> {
        let mut records = Vec::new();
        while let Some(page) = self.next_page(method, input, &mut pages, caller).await? {
            records.extend(page.into_values());
        }
        Ok(records)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_records_are_one_line_each_as_written() {
        let page = serde_json::from_slice::<RawPage>(
            br#"{"results": [{"id": "1", "properties": {"note": "a\nb"}},
                {
                  "id": "2"
                }], "paging": {"next": {"after": "2"}}}"#,
        )
        .expect("a page");
        assert_eq!(page.next().as_deref(), Some("2"));
        let lines = Records::Raw(page.results).to_lines();
        let text = String::from_utf8(lines).expect("utf-8");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert_eq!(lines[0], r#"{"id": "1", "properties": {"note": "a\nb"}}"#);
        let second: Value = serde_json::from_str(lines[1]).expect("JSON");
        assert_eq!(second, serde_json::json!({"id": "2"}));
    }
}
