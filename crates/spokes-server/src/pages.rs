//! Server-rendered HTML of the browser routes: the page an auth link shows, problem pages and
//! the page that ends a consent. The templates are in `templates/` (askama, which escapes every
//! value unless its type says it is already safe HTML).

use std::fmt;

use askama::Template;
use askama::filters::{Html, HtmlSafe};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html as HtmlBody, IntoResponse, Response};
use serde_json::json;

/// Browser pages are never cached, never leak the URL (which may hold a code) onwards and are
/// never framed (the consent start has a button worth clickjacking).
pub fn html(status: StatusCode, body: String) -> Response {
    let mut response = (status, HtmlBody(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// A page from a template. A template that cannot render is a bug: logged, and a fixed page.
pub fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(body) => html(status, body),
        Err(err) => {
            tracing::error!(error = %err, "a page template did not render");
            html(
                StatusCode::INTERNAL_SERVER_ERROR,
                "<!doctype html>\n<title>Error</title><p>This page could not be shown; see the server log.</p>\n".into(),
            )
        }
    }
}

/// Escapes text for HTML content and attribute values, with askama's escaper.
pub fn escape(text: &str) -> String {
    let Ok(escaped) = askama::filters::escape(text, Html);
    escaped.to_string()
}

#[derive(Template)]
#[template(path = "problem.html")]
struct Problem<'a> {
    title: &'a str,
    message: &'a str,
}

/// A page that explains what went wrong in a browser route and what to do.
pub fn problem(status: StatusCode, title: &str, message: &str) -> Response {
    render(status, &Problem { title, message })
}

/// What a GET of an auth link shows: who asks for which HubSpot access, and a button that
/// POSTs the link (only the POST uses it up, so link scanners and previews do not).
#[derive(Template)]
#[template(path = "connect.html")]
pub struct ConnectPage<'a> {
    pub account_name: &'a str,
    pub scopes: &'a [String],
    pub optional_scopes: &'a [String],
    pub token: &'a str,
}

/// JSON placed inside a `<script>` element. `<`, `>` and `&` are written as `\u` escapes, so
/// the value can never close the element or open a comment; U+2028/U+2029 too, for old
/// JavaScript parsers.
pub struct ScriptJson(String);

impl ScriptJson {
    pub fn new(value: &serde_json::Value) -> Self {
        let mut out = String::new();
        for c in value.to_string().chars() {
            match c {
                '<' => out.push_str("\\u003c"),
                '>' => out.push_str("\\u003e"),
                '&' => out.push_str("\\u0026"),
                '\u{2028}' => out.push_str("\\u2028"),
                '\u{2029}' => out.push_str("\\u2029"),
                c => out.push(c),
            }
        }
        Self(out)
    }
}

impl fmt::Display for ScriptJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

// Safe by construction (see `new`), so askama writes it as it is.
impl HtmlSafe for ScriptJson {}

/// What the consent ended in, for the partner's page or the opener window.
pub struct Outcome<'a> {
    pub installation_id: &'a str,
    pub error: Option<(&'a str, &'a str)>,
}

impl Outcome<'_> {
    pub fn status(&self) -> &'static str {
        if self.error.is_some() {
            "failed"
        } else {
            "authenticated"
        }
    }

    pub fn query_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = vec![
            ("installation", self.installation_id.to_string()),
            ("status", self.status().to_string()),
        ];
        if let Some((code, description)) = self.error {
            pairs.push(("error", code.to_string()));
            pairs.push(("error_description", description.to_string()));
        }
        pairs
    }
}

/// How the end of a consent reaches the window that opened it: a `postMessage` to each allowed
/// origin, never to `*` (any page could have opened the window and would read the outcome).
/// With no allowed origin it posts to no one and says so.
pub struct Tell {
    targets: Vec<String>,
    message: ScriptJson,
    targets_json: ScriptJson,
}

impl Tell {
    fn new(outcome: &Outcome<'_>, allowed_origins: &[String]) -> Self {
        let mut targets: Vec<String> = allowed_origins
            .iter()
            .filter_map(|o| spokes_core::urls::origin_of(o))
            .collect();
        targets.sort();
        targets.dedup();
        let message = json!({
            "source": "spokes",
            "installation": outcome.installation_id,
            "status": outcome.status(),
            "error": outcome.error.map(|e| e.0),
            "error_description": outcome.error.map(|e| e.1),
        });
        Self {
            targets_json: ScriptJson::new(&json!(targets)),
            targets,
            message: ScriptJson::new(&message),
        }
    }
}

#[derive(Template)]
#[template(path = "connected.html")]
struct Connected {
    tell: Tell,
}

/// The `Tell` alone, for the end of the partner's failure page.
#[derive(Template)]
#[template(path = "finish_tell.html")]
struct TellFragment {
    tell: Tell,
}

/// The page that ends a consent without a `return_url`: it tells the person what happened and
/// posts the outcome to the window that opened it when that may be an allowed origin.
/// `failure_template` is the partner's page, with `{{error}}` and `{{error_description}}`
/// replaced at runtime (it is a file read at startup, not a compiled template).
pub fn finish(
    outcome: &Outcome<'_>,
    failure_template: &str,
    allowed_origins: &[String],
) -> Response {
    let tell = Tell::new(outcome, allowed_origins);
    let Some((code, description)) = outcome.error else {
        return render(StatusCode::OK, &Connected { tell });
    };
    let fragment = match (TellFragment { tell }).render() {
        Ok(fragment) => fragment,
        Err(err) => {
            tracing::error!(error = %err, "the end of the failure page did not render");
            String::new()
        }
    };
    let mut page = failure_template
        .replace("{{error}}", &escape(code))
        .replace("{{error_description}}", &escape(description));
    // The rendered fragment goes at the end of the body (or the page, if it has none).
    let at = page.rfind("</body>").unwrap_or(page.len());
    page.insert_str(at, &fragment);
    html(StatusCode::OK, page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&#60;a href=&#34;x&#34;&#62;&#38;&#39;"
        );
    }

    #[test]
    fn script_json_cannot_close_the_script() {
        let json = ScriptJson::new(&json!({"e": "</script><!-- & \u{2028}"})).to_string();
        assert!(!json.contains('<') && !json.contains('>') && !json.contains('&'));
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&json).expect("still JSON")["e"],
            "</script><!-- & \u{2028}"
        );
    }

    #[test]
    fn problem_pages_escape_what_they_show() {
        let page = Problem {
            title: "<b>t</b>",
            message: "<script>alert(1)</script>",
        }
        .render()
        .expect("renders");
        assert!(!page.contains("<script>alert") && !page.contains("<b>t"));
        assert!(page.contains("&#60;script&#62;"));
    }
}
