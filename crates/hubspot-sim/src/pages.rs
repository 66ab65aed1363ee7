//! The HTML pages of the authorize flow: the account chooser and HubSpot's failure pages.
//!
//! Every value that reaches a page goes through [`escape`]. The pages need no JavaScript.

use std::fmt::Write as _;

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::portals::{Portal, SimUser};
use crate::state::SimApp;

/// Escapes text for HTML element content and double-quoted attribute values (the
/// only kind these pages use, so `'` needs no escaping and HubSpot's sentences with
/// apostrophes stay as they are).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:sans-serif;max-width:42rem;margin:2rem auto;color:#33475b}\
h1{font-size:1.5rem}ul{padding-left:0;list-style:none}\
li.portal{border:1px solid #cbd6e2;border-radius:4px;margin:.5rem 0;padding:.75rem}\
.hub,.type,.products{display:block;font-size:.9rem;color:#516f90}\
.warn{color:#b3261e}.error{border-left:4px solid #b3261e;padding-left:1rem}\
button{margin-right:.5rem;padding:.5rem 1rem}";

/// A whole page. `title` and `body` must already be escaped.
fn layout(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{title} | HubSpot</title><style>{STYLE}</style></head>\
         <body>{body}</body></html>\n"
    )
}

/// A failure page shown instead of redirecting. `details` lines are shown under the
/// message, each escaped.
pub fn failure(status: StatusCode, message: &str, details: &[String]) -> Response {
    let mut body = format!(
        "<div class=\"error\"><h1>Couldn't complete the connection</h1><p id=\"message\">{}</p>",
        escape(message)
    );
    if !details.is_empty() {
        body.push_str("<ul class=\"details\">");
        for d in details {
            let _ = write!(body, "<li>{}</li>", escape(d));
        }
        body.push_str("</ul>");
    }
    body.push_str("</div>");
    (status, Html(layout("Authorization failed", &body))).into_response()
}

/// Unknown or missing `client_id`.
pub fn unknown_client(client_id: &str) -> Response {
    failure(
        StatusCode::BAD_REQUEST,
        &format!("Authorization failed because the client ID '{client_id}' is not a valid app."),
        &[],
    )
}

/// `redirect_uri` is not registered on the app.
pub fn redirect_mismatch(redirect_uri: &str) -> Response {
    failure(
        StatusCode::BAD_REQUEST,
        &format!(
            "Authorization failed as the redirect URL '{redirect_uri}' doesn't match the app's registered redirect URL"
        ),
        &[],
    )
}

/// A requested scope is not configured on the app.
pub fn scopes_not_configured(scopes: &[String]) -> Response {
    failure(
        StatusCode::BAD_REQUEST,
        "The app developer doesn't have permissions to request the set of scopes.",
        &[format!(
            "Scopes not configured on the app: {}",
            scopes.join(" ")
        )],
    )
}

/// The chosen portal lacks features behind required scopes.
pub fn account_lacks_features(portal: &Portal, scopes: &[String]) -> Response {
    failure(
        StatusCode::BAD_REQUEST,
        "This account doesn't have access to some HubSpot features that are required by this app.",
        &[format!(
            "{} ({}) lacks the features behind: {}",
            portal.name,
            portal.id,
            scopes.join(" ")
        )],
    )
}

/// The portal in `/oauth/{portalId}/authorize` or in the form is not the user's.
pub fn unknown_portal(portal_id: &str) -> Response {
    failure(
        StatusCode::BAD_REQUEST,
        &format!("You don't have access to the HubSpot account '{portal_id}'."),
        &[],
    )
}

/// Any other malformed authorize request.
pub fn bad_request(message: &str) -> Response {
    failure(StatusCode::BAD_REQUEST, message, &[])
}

fn account_type_label(account_type: &str) -> &'static str {
    match account_type {
        "STANDARD" => "Standard account",
        "APP_DEVELOPER" => "App developer account",
        "DEVELOPER_TEST" => "Developer test account",
        "SANDBOX" => "Sandbox account",
        _ => "Account",
    }
}

/// What the "Choose an Account" page shows.
pub struct Chooser<'a> {
    pub app: &'a SimApp,
    pub user: SimUser,
    pub portals: Vec<&'static Portal>,
    pub required_scopes: &'a [String],
    pub optional_scopes: &'a [String],
    /// The original authorize parameters, carried as hidden inputs.
    pub hidden: Vec<(&'static str, &'a str)>,
}

/// The "Choose an Account" consent page.
pub fn chooser(page: &Chooser<'_>) -> Response {
    let mut b = String::new();
    let _ = write!(
        b,
        "<h1>Choose an Account</h1>\
         <p class=\"who\">Signed in as <span id=\"user\">{}</span></p>\
         <p><strong id=\"app\">{}</strong> wants to connect to one of your HubSpot accounts.</p>\
         <form method=\"post\" action=\"/oauth/authorize\">",
        escape(page.user.email),
        escape(&page.app.name),
    );
    for (name, value) in &page.hidden {
        let _ = write!(
            b,
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            escape(name),
            escape(value)
        );
    }
    b.push_str("<fieldset><legend>Accounts</legend><ul class=\"portals\">");
    let only_one = page.portals.len() == 1;
    for p in &page.portals {
        let products = if p.products.is_empty() {
            "No products".to_owned()
        } else {
            format!("Products: {}", p.products.join(", "))
        };
        let _ = write!(
            b,
            "<li class=\"portal\" data-hub-id=\"{id}\" data-account-type=\"{ty}\"><label>\
             <input type=\"radio\" name=\"portal_id\" value=\"{id}\" required{checked}> \
             <strong class=\"name\">{name}</strong>\
             <span class=\"hub\">Hub ID {id}</span>\
             <span class=\"type\">{label}</span>\
             <span class=\"products\">{products}</span></label>",
            id = p.id,
            ty = escape(p.account_type),
            checked = if only_one { " checked" } else { "" },
            name = escape(p.name),
            label = account_type_label(p.account_type),
            products = escape(&products),
        );
        let lacking = |scopes: &[String]| -> String {
            let names: Vec<&str> = scopes
                .iter()
                .filter(|s| !p.supports(s))
                .map(String::as_str)
                .collect();
            escape(&names.join(" "))
        };
        let required = lacking(page.required_scopes);
        if !required.is_empty() {
            let _ = write!(
                b,
                "<p class=\"warn\">This account lacks features this app requires: {required}</p>"
            );
        }
        let optional = lacking(page.optional_scopes);
        if !optional.is_empty() {
            let _ = write!(
                b,
                "<p class=\"note\">Optional access this account can't grant (dropped): {optional}</p>"
            );
        }
        b.push_str("</li>");
    }
    b.push_str("</ul></fieldset><h2>This app is requesting access to</h2><ul class=\"scopes\">");
    for s in page.required_scopes {
        let _ = write!(b, "<li class=\"required\"><code>{}</code></li>", escape(s));
    }
    b.push_str("</ul>");
    if !page.optional_scopes.is_empty() {
        b.push_str(
            "<h3>Optional, granted if the account has the features</h3><ul class=\"scopes\">",
        );
        for s in page.optional_scopes {
            let _ = write!(b, "<li class=\"optional\"><code>{}</code></li>", escape(s));
        }
        b.push_str("</ul>");
    }
    b.push_str(
        "<p><button type=\"submit\" name=\"decision\" value=\"allow\">Connect app</button>\
         <button type=\"submit\" name=\"decision\" value=\"deny\" formnovalidate>Cancel</button></p>\
         </form>",
    );
    (StatusCode::OK, Html(layout("Choose an Account", &b))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;'&amp;'&lt;/a&gt;"
        );
    }
}
