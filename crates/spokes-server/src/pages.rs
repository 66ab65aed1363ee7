//! Server-rendered HTML: problem pages of the browser routes and the page that ends a consent.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::json;

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Browser pages are never cached and never leak the URL (which may hold a code) onwards.
pub fn html(status: StatusCode, body: String) -> Response {
    let mut response = (status, Html(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    response
}

pub fn layout(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>{STYLE}</style></head><body>{body}</body></html>\n",
        title = escape(title),
    )
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1f2933}\
h1{font-size:1.4rem}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #d9e2ec;padding:.4rem;text-align:left;vertical-align:top}\
code{background:#f0f4f8;padding:.1rem .3rem;border-radius:3px}label{display:block;margin-top:.8rem;font-weight:600}\
input[type=text],input[type=password]{width:100%;padding:.4rem;box-sizing:border-box}.hint{color:#52606d;font-size:.9rem;font-weight:normal}\
.warn{color:#8d2b0b}button{margin-top:1rem;padding:.4rem 1rem}nav a{margin-right:1rem}";

/// A page that explains what went wrong in a browser route and what to do.
pub fn problem(status: StatusCode, title: &str, message: &str) -> Response {
    let body = format!("<h1>{}</h1><p>{}</p>", escape(title), escape(message));
    html(status, layout(title, &body))
}

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

/// The page that ends a consent without a `return_url`: it tells the person what happened and
/// posts the outcome to the window that opened it.
pub fn finish(
    outcome: &Outcome<'_>,
    failure_template: &str,
    opener_origins: &[String],
) -> Response {
    let message = json!({
        "source": "spokes",
        "installation": outcome.installation_id,
        "status": outcome.status(),
        "error": outcome.error.map(|e| e.0),
        "error_description": outcome.error.map(|e| e.1),
    });
    // JSON inside <script>: escape `<` so the payload cannot close the script element.
    let payload = message.to_string().replace('<', "\\u003c");
    let targets = if opener_origins.is_empty() {
        "[\"*\"]".to_string()
    } else {
        serde_json::to_string(opener_origins)
            .unwrap_or_else(|_| "[]".into())
            .replace('<', "\\u003c")
    };
    let script = format!(
        "<script>(function(){{var m={payload};if(window.opener){{{targets}.forEach(function(o){{try{{window.opener.postMessage(m,o)}}catch(e){{}}}})}}}})();</script>"
    );
    let (status, page) = match outcome.error {
        None => (
            StatusCode::OK,
            layout(
                "HubSpot connected",
                "<h1>HubSpot is connected</h1><p>Your HubSpot account is now connected. You can close this window.</p>",
            ),
        ),
        Some((code, description)) => (
            StatusCode::OK,
            failure_template
                .replace("{{error}}", &escape(code))
                .replace("{{error_description}}", &escape(description)),
        ),
    };
    let page = match page.rfind("</body>") {
        Some(at) => format!("{}{script}{}", &page[..at], &page[at..]),
        None => format!("{page}{script}"),
    };
    html(status, page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
