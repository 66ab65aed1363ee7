//! Times as templates give and want them: RFC 3339 text or Unix milliseconds in, RFC 3339,
//! Unix milliseconds (`unix_ms`) or a `strftime` format out. Always in UTC: a cycle has no
//! time zone of its own.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde_json::Value;

/// The `format` that gives a number of Unix milliseconds.
pub const UNIX_MS: &str = "unix_ms";

/// An instant from RFC 3339 text, or Unix milliseconds as a number or as text.
pub fn parse_instant(value: &Value) -> Option<Timestamp> {
    match value {
        Value::Number(n) => Timestamp::from_millisecond(n.as_i64()?).ok(),
        Value::String(s) => {
            let s = s.trim();
            match s.parse::<i64>() {
                Ok(ms) => Timestamp::from_millisecond(ms).ok(),
                Err(_) => s.parse().ok(),
            }
        }
        _ => None,
    }
}

pub fn from_unix_ms(ms: i64) -> Result<Timestamp, String> {
    Timestamp::from_millisecond(ms).map_err(|e| format!("{ms} is not a time: {e}"))
}

/// `instant` in `format`: RFC 3339 text when there is none.
pub fn format_instant(instant: Timestamp, format: Option<&str>) -> Result<Value, String> {
    match format {
        None => Ok(Value::String(instant.to_string())),
        Some(UNIX_MS) => Ok(Value::from(instant.as_millisecond())),
        Some(format) => {
            // A zoned time so that `%Z` and `%z` have a zone to show.
            let zoned = instant.to_zoned_datetime(TimeZone::UTC);
            jiff::fmt::strtime::format(format, &zoned)
                .map(Value::String)
                .map_err(|e| format!("`{format}` is not a usable date format: {e}"))
        }
    }
}

/// Whether `format` formats a time, for validation ahead of any run.
pub fn check_format(format: &str) -> Result<(), String> {
    format_instant(Timestamp::UNIX_EPOCH, Some(format)).map(drop)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn reads_text_and_milliseconds() {
        let expected: Timestamp = "2024-05-01T10:00:00Z".parse().unwrap();
        let ms = expected.as_millisecond();
        assert_eq!(
            parse_instant(&json!("2024-05-01T12:00:00+02:00")),
            Some(expected)
        );
        assert_eq!(parse_instant(&json!(ms)), Some(expected));
        assert_eq!(parse_instant(&json!(ms.to_string())), Some(expected));
        assert_eq!(parse_instant(&json!("yesterday")), None);
        assert_eq!(parse_instant(&Value::Null), None);
    }

    #[test]
    fn writes_in_each_format() {
        let instant = from_unix_ms(1_714_557_600_123).unwrap();
        assert_eq!(
            format_instant(instant, None).unwrap(),
            json!("2024-05-01T10:00:00.123Z")
        );
        assert_eq!(
            format_instant(instant, Some(UNIX_MS)).unwrap(),
            json!(1_714_557_600_123_i64)
        );
        assert_eq!(
            format_instant(instant, Some("%Y-%m-%d %H:%M %Z")).unwrap(),
            json!("2024-05-01 10:00 UTC")
        );
        assert!(format_instant(instant, Some("%Y %")).is_err());
        assert!(check_format("%d/%m/%Y").is_ok());
        assert!(check_format("%Y-%").is_err());
    }
}
