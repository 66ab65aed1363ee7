//! What every CRM endpoint shares: authorization (bearer, scopes, seat), JSON bodies,
//! query parameters, the URI length limit and response helpers.

use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::auth::{self, Caller, Scopes};
use crate::crm::schema::ObjectKind;
use crate::crm::time;
use crate::crm::types::Surface;
use crate::errors::ApiError;
use crate::state::{Sim, now_ms};

/// Longest request target (path and query) the simulator accepts on any path; longer → 414.
pub const MAX_URI_BYTES: usize = 16 * 1024;
/// Default `limit` of list endpoints.
pub const DEFAULT_LIMIT: usize = 10;
/// Largest `limit` of list endpoints.
pub const MAX_LIMIT: usize = 100;
/// Largest `limit` (and batch size) when property history is asked for.
pub const MAX_LIMIT_WITH_HISTORY: usize = 50;

/// Read or write access to an object type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

/// Authenticates and resolves the object type of a path segment for the objects and
/// search APIs, then checks, in this order: writes of read-only types (405), the
/// type's scopes (403 `MISSING_SCOPES`), activation of activatable types (403) and,
/// for products and line items, the paid Sales Hub seat (403).
pub fn authorize(
    sim: &Sim,
    headers: &HeaderMap,
    object_type: &str,
    access: Access,
) -> Result<(Caller, ObjectKind), ApiError> {
    let caller = auth::authenticate(sim, headers)?;
    let kind = match ObjectKind::parse(object_type).filter(|k| k.surface() == Surface::Full) {
        Some(kind) => kind,
        None => sim
            .with(|s| crate::crm::custom::resolve(s.crm.portal(caller.portal.id), object_type))
            .ok_or_else(|| unknown_object_type(object_type))?,
    };
    if access == Access::Write && kind.read_only() {
        return Err(read_only(kind));
    }
    let scopes = match access {
        Access::Read => kind.read_scopes(),
        Access::Write => kind.write_scopes(),
    };
    caller.require(Scopes::AnyOf(scopes))?;
    crate::crm::library::check(sim, &caller, kind)?;
    check_seat(sim, &caller, kind)?;
    Ok((caller, kind))
}

/// 405 for a write to a read-only type (HubSpot documents only reads for it).
pub fn read_only(kind: ObjectKind) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "VALIDATION_ERROR",
        format!(
            "HTTP method not allowed for this resource: {} ({}) records are read-only; \
             they cannot be created, updated or archived through the API",
            kind.plural(),
            kind.type_id()
        ),
    )
}

/// 400 for an unknown object type, in HubSpot's words.
pub fn unknown_object_type(object_type: &str) -> ApiError {
    ApiError::validation(format!("Unable to infer object type from: {object_type}"))
}

/// A built-in object type with records, or 400: unknown types (and types without
/// records, like `deal_split`) in HubSpot's words, custom object types
/// (`2-…`, `p<portal>_…`) with the simulator's own message, as only the objects and
/// search APIs (through [`authorize`]) take them.
pub fn object_kind(object_type: &str) -> Result<ObjectKind, ApiError> {
    let kind = ObjectKind::parse(object_type).filter(|k| k.surface() == Surface::Full);
    kind.ok_or_else(|| {
        if crate::crm::custom::looks_custom(object_type) {
            crate::crm::custom::unsupported_here(object_type)
        } else {
            unknown_object_type(object_type)
        }
    })
}

/// Products and line items need a paid Sales Hub seat (when the switch is on).
pub fn check_seat(sim: &Sim, caller: &Caller, kind: ObjectKind) -> Result<(), ApiError> {
    let gate = sim.with(|s| s.config.require_sales_hub_seat);
    if gate && kind.needs_sales_seat() && !caller.portal.paid_sales_hub_seat {
        let mut err = ApiError::new(
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            format!(
                "The {} API requires a paid Sales Hub seat. The user who installed this app \
                 has no paid Sales Hub seat in portal {}.",
                kind.plural(),
                caller.portal.id
            ),
        );
        err.body.sub_category = Some("PAID_SALES_HUB_SEAT_REQUIRED".into());
        return Err(err);
    }
    Ok(())
}

/// Parses a JSON request body: 415 unless `Content-Type` is JSON, 400 when malformed.
pub fn json_body(headers: &HeaderMap, body: &[u8]) -> Result<Value, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if mime != "application/json" && !mime.ends_with("+json") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "VALIDATION_ERROR",
            format!(
                "Unsupported Media Type: the request body must be application/json, not '{content_type}'"
            ),
        ));
    }
    serde_json::from_slice(body).map_err(|e| {
        let text = e.to_string();
        let detail = text
            .rfind(" at line ")
            .map_or(text.as_str(), |i| &text[..i]);
        ApiError::validation(format!(
            "Invalid input JSON on line {}, column {}: {detail}",
            e.line(),
            e.column()
        ))
    })
}

/// Reads a parsed body into a request type; a wrong shape is a 400.
pub fn input<T: DeserializeOwned>(value: Value) -> Result<T, ApiError> {
    serde_json::from_value(value)
        .map_err(|e| ApiError::validation(format!("Invalid input JSON: {e}")))
}

/// A record id in a body: a string or a number.
pub fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The query parameters of the object endpoints.
#[derive(Debug, Default)]
pub struct ObjectQuery {
    pub limit: Option<usize>,
    pub after: Option<String>,
    pub properties: Vec<String>,
    pub history: Vec<String>,
    pub associations: Vec<String>,
    pub archived: bool,
    pub id_property: Option<String>,
}

/// Comma-separated and repeated parameters both add to the list.
fn push_list(list: &mut Vec<String>, value: &str) {
    list.extend(
        value
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned),
    );
}

impl ObjectQuery {
    pub fn parse(query: Option<&str>) -> Result<Self, ApiError> {
        let mut q = Self::default();
        for (k, v) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            match k.as_ref() {
                "limit" => {
                    q.limit = Some(v.trim().parse().map_err(|_| {
                        ApiError::validation(format!("limit must be a positive integer, got '{v}'"))
                    })?);
                }
                "after" => q.after = Some(v.into_owned()),
                "properties" => push_list(&mut q.properties, &v),
                "propertiesWithHistory" => push_list(&mut q.history, &v),
                "associations" => push_list(&mut q.associations, &v),
                "archived" => {
                    q.archived = match v.to_ascii_lowercase().as_str() {
                        "true" => true,
                        "false" | "" => false,
                        _ => {
                            return Err(ApiError::validation(format!(
                                "archived must be true or false, got '{v}'"
                            )));
                        }
                    };
                }
                "idProperty" => q.id_property = Some(v.into_owned()).filter(|s| !s.is_empty()),
                _ => {}
            }
        }
        Ok(q)
    }

    /// The page size, checked against the limits.
    pub fn page_size(&self) -> Result<usize, ApiError> {
        let max = if self.history.is_empty() {
            MAX_LIMIT
        } else {
            MAX_LIMIT_WITH_HISTORY
        };
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT.min(max));
        if limit == 0 || limit > max {
            let with = if self.history.is_empty() {
                ""
            } else {
                " when propertiesWithHistory is requested"
            };
            return Err(ApiError::validation(format!(
                "limit must be between 1 and {max}{with}, got {limit}"
            )));
        }
        Ok(limit)
    }

    /// The `after` cursor: the id of the first record of the page.
    pub fn after_id(&self) -> Result<u64, ApiError> {
        match self.after.as_deref().map(str::trim) {
            None | Some("") => Ok(0),
            Some(a) => a
                .parse()
                .map_err(|_| ApiError::validation(format!("Invalid paging cursor after='{a}'"))),
        }
    }
}

/// A `limit` query value: a whole number from 1 to `max` (`v` as given, for the message).
pub fn page_limit<T>(v: &str, max: T) -> Result<T, ApiError>
where
    T: std::str::FromStr + PartialOrd + From<u8> + std::fmt::Display + Copy,
{
    v.trim()
        .parse()
        .ok()
        .filter(|l| (T::from(1)..=max).contains(l))
        .ok_or_else(|| {
            ApiError::validation(format!("limit must be between 1 and {max}, got '{v}'"))
        })
}

/// An `after` query value that is a number (an offset or an id).
pub fn page_after<T: std::str::FromStr>(v: &str) -> Result<T, ApiError> {
    v.trim()
        .parse()
        .map_err(|_| ApiError::validation(format!("Invalid paging cursor after='{v}'")))
}

/// `{total, results, paging?}`: one page of `total` records from offset `after`; `paging.next`
/// while there are more.
pub fn offset_page(total: usize, results: Vec<Value>, limit: usize, after: usize) -> Value {
    let mut body = json!({"total": total, "results": results});
    let next = after + limit;
    if next < total
        && let Some(obj) = body.as_object_mut()
    {
        obj.insert(
            "paging".into(),
            json!({"next": {"after": next.to_string(), "link": format!("?after={next}")}}),
        );
    }
    body
}

/// A success response with the rate-limit headers.
pub fn respond(caller: &Caller, status: StatusCode, body: Value) -> Response {
    (caller.rate_limit_headers(), (status, axum::Json(body))).into_response()
}

/// 400 when a batch has more than `max` inputs.
pub fn batch_limit(given: usize, max: usize) -> Result<(), ApiError> {
    if given > max {
        return Err(ApiError::validation(format!(
            "Too many inputs: {given} were given; a batch takes at most {max}"
        )));
    }
    Ok(())
}

/// A batch answer: `{status, results, startedAt, completedAt}`; with errors 207 and
/// `numErrors`, `errors`.
pub fn batch_reply(
    caller: &Caller,
    ok: StatusCode,
    started_at: i64,
    results: Vec<Value>,
    errors: Vec<Value>,
) -> Response {
    let mut body = json!({
        "status": "COMPLETE",
        "results": results,
        "startedAt": time::iso(started_at),
        "completedAt": time::iso(now_ms()),
    });
    let mut status = ok;
    if !errors.is_empty()
        && let Some(obj) = body.as_object_mut()
    {
        obj.insert("numErrors".into(), json!(errors.len()));
        obj.insert("errors".into(), Value::Array(errors));
        status = StatusCode::MULTI_STATUS;
    }
    respond(caller, status, body)
}

/// 204 with the rate-limit headers.
pub fn no_content(caller: &Caller) -> Response {
    (caller.rate_limit_headers(), StatusCode::NO_CONTENT).into_response()
}

/// 414 for request targets over [`MAX_URI_BYTES`].
pub async fn uri_limit(request: Request, next: Next) -> Response {
    let len = request
        .uri()
        .path_and_query()
        .map_or(0, |pq| pq.as_str().len());
    if len > MAX_URI_BYTES {
        return ApiError::new(
            StatusCode::URI_TOO_LONG,
            "VALIDATION_ERROR",
            format!("URI Too Long: the request URI is {len} bytes; the limit is {MAX_URI_BYTES}"),
        )
        .into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lists_and_limits() {
        let q = ObjectQuery::parse(Some(
            "properties=email,firstname&properties=lastname&limit=50&propertiesWithHistory=email&archived=true",
        ))
        .unwrap_or_default();
        assert_eq!(q.properties, ["email", "firstname", "lastname"]);
        assert!(q.archived);
        assert_eq!(q.page_size().ok(), Some(50));
        let q =
            ObjectQuery::parse(Some("limit=51&propertiesWithHistory=email")).unwrap_or_default();
        assert!(q.page_size().is_err());
        assert!(ObjectQuery::parse(Some("limit=x")).is_err());
        let q = ObjectQuery::parse(None).unwrap_or_default();
        assert_eq!(q.page_size().ok(), Some(10));
        assert_eq!(q.after_id().ok(), Some(0));
    }
}
