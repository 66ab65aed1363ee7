//! Walking a paged method one page at a time: the one implementation of every paging mode
//! (HubSpot's `after` cursors, the offset pagers of the legacy and list APIs, the "since"
//! cut of newest-first feeds, and the search windows of `list_new` / `list_updated`).
//!
//! A [`Pages`] holds only where the walk stands; each [`ApiClient::next_page`] sends the
//! requests of one page and hands its records out. Nothing is fetched ahead, so a consumer
//! that streams the records holds one page at a time however many there are; `paging.all`
//! without streaming collects the same walk.

use serde_json::Value;

use super::window::{self, Cursor};
use super::{ApiClient, Caller, MethodError, MethodInput, split_page};
use crate::catalogue::{MethodDef, Paging};

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
    ) -> Result<Option<Vec<Value>>, MethodError> {
        if pages.done {
            return Ok(None);
        }
        match &mut pages.at {
            At::Cursor { after, since } => {
                let outgoing = self.request(method, input, after.as_deref());
                let page = split_page(method, self.send(method, &outgoing, caller).await?, *since);
                match page.next {
                    // A cursor that does not move would page forever.
                    Some(next) if Some(&next) != after.as_ref() => *after = Some(next),
                    _ => pages.done = true,
                }
                Ok(Some(match page.data {
                    Value::Array(records) => records,
                    _ => Vec::new(),
                }))
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
                Ok(Some(records))
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
            records.extend(page);
        }
        Ok(records)
    }
}
