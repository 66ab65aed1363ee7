//! URL checks shared by the configuration and the API (return URLs, allowed origins).

use url::Url;

/// The origin (`scheme://host[:port]`) of an http(s) URL, for comparing return URLs with the
/// allow list; `None` for anything else (`javascript:`, relative, malformed).
pub fn origin_of(url: &str) -> Option<String> {
    let parsed = Url::parse(url).ok()?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return None;
    }
    Some(parsed.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        assert_eq!(
            origin_of("https://app.example.com:8443/x?y").as_deref(),
            Some("https://app.example.com:8443")
        );
        assert_eq!(origin_of("javascript:alert(1)"), None);
    }
}
