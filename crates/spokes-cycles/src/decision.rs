//! A decision step's comparison of two JSON values.
//!
//! HubSpot gives numbers and dates as text (`"42"`, `"2024-05-01T10:00:00Z"`), so values
//! are compared by what they hold: numbers (and numeric text) numerically, then dates when
//! both sides are RFC 3339, else as text, case-sensitively.

use std::cmp::Ordering;

use jiff::Timestamp;
use serde_json::Value;

use crate::template::Operator;

/// Whether `left <operator> right` holds. A missing `right` (for an operator that takes one)
/// counts as `null`; a missing value of a step's output should be passed as `null` too.
pub fn decide(operator: Operator, left: &Value, right: Option<&Value>) -> bool {
    let right = right.unwrap_or(&Value::Null);
    match operator {
        Operator::Equals => equals(left, right),
        Operator::NotEquals => !equals(left, right),
        Operator::Contains => contains(left, right),
        Operator::NotContains => !contains(left, right),
        Operator::StartsWith => text_pair(left, right).is_some_and(|(l, r)| l.starts_with(&r)),
        Operator::EndsWith => text_pair(left, right).is_some_and(|(l, r)| l.ends_with(&r)),
        Operator::GreaterThan => order(left, right).is_some_and(Ordering::is_gt),
        Operator::GreaterOrEqual => order(left, right).is_some_and(Ordering::is_ge),
        Operator::LessThan => order(left, right).is_some_and(Ordering::is_lt),
        Operator::LessOrEqual => order(left, right).is_some_and(Ordering::is_le),
        Operator::IsEmpty => is_empty(left),
        Operator::IsNotEmpty => !is_empty(left),
    }
}

/// `null`, `""`, `[]` and `{}`.
pub fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
        Value::Bool(_) | Value::Number(_) => false,
    }
}

/// Lists and objects are equal when they are the same JSON; scalars by what they hold, so
/// `"5" == 5` and an empty property (`null`) equals `""`.
fn equals(left: &Value, right: &Value) -> bool {
    match (left, right) {
        (Value::Array(_) | Value::Object(_), _) | (_, Value::Array(_) | Value::Object(_)) => {
            left == right
        }
        _ => compare_scalars(left, right) == Ordering::Equal,
    }
}

/// A list contains an equal element, an object a key, a text a piece of text.
fn contains(left: &Value, right: &Value) -> bool {
    match left {
        Value::Array(items) => items.iter().any(|item| equals(item, right)),
        Value::Object(map) => scalar_text(right).is_some_and(|key| map.contains_key(&key)),
        Value::Null => false,
        _ => text_pair(left, right).is_some_and(|(l, r)| l.contains(&r)),
    }
}

/// Ordering comparisons hold for neither side missing nor for lists and objects.
fn order(left: &Value, right: &Value) -> Option<Ordering> {
    let scalar = |v: &Value| !matches!(v, Value::Null | Value::Array(_) | Value::Object(_));
    (scalar(left) && scalar(right)).then(|| compare_scalars(left, right))
}

fn compare_scalars(left: &Value, right: &Value) -> Ordering {
    if let (Some(l), Some(r)) = (number(left), number(right)) {
        return l.compare(&r);
    }
    if let (Some(l), Some(r)) = (date(left), date(right)) {
        return l.cmp(&r);
    }
    let text = |v: &Value| scalar_text(v).unwrap_or_default();
    text(left).cmp(&text(right))
}

fn text_pair(left: &Value, right: &Value) -> Option<(String, String)> {
    Some((scalar_text(left)?, scalar_text(right)?))
}

/// A scalar as text (`null` is `""`); lists and objects have none.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::Null => Some(String::new()),
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Array(_) | Value::Object(_) => None,
    }
}

/// Integers compare exactly (as `f64` two ids past 2^53 could look equal); anything else
/// numeric as `f64`.
#[derive(Debug, Clone, Copy)]
enum Number {
    Integer(i128),
    Float(f64),
}

impl Number {
    fn compare(&self, other: &Number) -> Ordering {
        match (self, other) {
            (Self::Integer(a), Self::Integer(b)) => a.cmp(b),
            _ => self.as_f64().total_cmp(&other.as_f64()),
        }
    }

    fn as_f64(&self) -> f64 {
        match *self {
            // Precision lost here only matters beyond 2^53, against a fraction.
            Self::Integer(i) => i as f64,
            Self::Float(f) => f,
        }
    }
}

fn number(value: &Value) -> Option<Number> {
    match value {
        Value::Number(n) => n
            .as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
            .map(Number::Integer)
            .or_else(|| n.as_f64().map(Number::Float)),
        Value::String(s) => {
            let s = s.trim();
            if s.is_empty() {
                return None;
            }
            if let Ok(i) = s.parse::<i128>() {
                return Some(Number::Integer(i));
            }
            // Rust parses `inf` and `NaN` too; they are words here, not numbers.
            s.parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .map(Number::Float)
        }
        _ => None,
    }
}

fn date(value: &Value) -> Option<Timestamp> {
    value.as_str()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use Operator::*;

    fn holds(left: Value, operator: Operator, right: Value) -> bool {
        decide(operator, &left, Some(&right))
    }

    #[test]
    fn equals_compares_what_values_hold() {
        assert!(holds(json!("a"), Equals, json!("a")));
        assert!(!holds(json!("a"), Equals, json!("A")));
        assert!(holds(json!("5"), Equals, json!(5)));
        assert!(holds(json!(5), Equals, json!(5.0)));
        assert!(holds(
            json!("2024-05-01T10:00:00Z"),
            Equals,
            json!("2024-05-01T12:00:00+02:00")
        ));
        assert!(holds(json!(true), Equals, json!("true")));
        assert!(holds(Value::Null, Equals, json!("")));
        assert!(holds(json!([1, 2]), Equals, json!([1, 2])));
        assert!(!holds(json!([1, 2]), Equals, json!("[1,2]")));
        assert!(holds(json!("a"), NotEquals, json!("b")));
        assert!(!holds(json!("7"), NotEquals, json!(7)));
    }

    #[test]
    fn contains_by_kind() {
        assert!(holds(json!("ann@example.com"), Contains, json!("@example")));
        assert!(!holds(json!("ann@example.com"), Contains, json!("EXAMPLE")));
        assert!(holds(json!(["1", "2"]), Contains, json!(2)));
        assert!(!holds(json!(["12"]), Contains, json!("1")));
        assert!(holds(json!({"email": 1}), Contains, json!("email")));
        assert!(!holds(Value::Null, Contains, json!("")));
        assert!(holds(json!(["a"]), NotContains, json!("b")));
        assert!(!holds(json!("abc"), NotContains, json!("b")));
    }

    #[test]
    fn starts_and_ends_with() {
        assert!(holds(json!("Acme Inc"), StartsWith, json!("Acme")));
        assert!(!holds(json!("Acme Inc"), StartsWith, json!("acme")));
        assert!(holds(json!("ann@example.com"), EndsWith, json!(".com")));
        assert!(holds(json!(12345), EndsWith, json!(45)));
        assert!(!holds(json!(["Acme"]), StartsWith, json!("Acme")));
    }

    #[test]
    fn ordering_of_numbers_dates_and_text() {
        // Numerically, not as text ("10" < "9").
        assert!(holds(json!("10"), GreaterThan, json!(9)));
        assert!(holds(json!(2.5), LessThan, json!("3")));
        assert!(holds(json!(3), GreaterOrEqual, json!("3")));
        assert!(holds(json!(3), LessOrEqual, json!(3.0)));
        assert!(!holds(json!(3), LessThan, json!(3)));
        assert!(holds(
            json!(9007199254740993_i64),
            GreaterThan,
            json!(9007199254740992_i64)
        ));
        // As instants, not as text: 11:00+02:00 is before 10:00Z.
        assert!(holds(
            json!("2024-05-01T11:00:00+02:00"),
            LessThan,
            json!("2024-05-01T10:00:00Z")
        ));
        assert!(holds(json!("b"), GreaterThan, json!("a")));
        assert!(holds(json!("B"), LessThan, json!("a")));
        // Nothing is before or after a missing value.
        assert!(!holds(Value::Null, LessThan, json!(5)));
        assert!(!holds(json!(5), GreaterThan, Value::Null));
        assert!(!holds(json!([1]), LessOrEqual, json!([2])));
    }

    #[test]
    fn words_like_nan_are_text() {
        assert!(holds(json!("NaN"), Equals, json!("NaN")));
        assert!(holds(json!("inf"), GreaterThan, json!("abc")));
    }

    #[test]
    fn emptiness() {
        for empty in [Value::Null, json!(""), json!([]), json!({})] {
            assert!(decide(IsEmpty, &empty, None), "{empty} is empty");
            assert!(!decide(IsNotEmpty, &empty, None), "{empty} is empty");
        }
        for full in [
            json!(0),
            json!(false),
            json!(" "),
            json!([null]),
            json!({"a": null}),
        ] {
            assert!(!decide(IsEmpty, &full, None), "{full} is not empty");
            assert!(decide(IsNotEmpty, &full, None), "{full} is not empty");
        }
    }

    #[test]
    fn a_missing_right_operand_is_null() {
        assert!(decide(Equals, &json!(""), None));
        assert!(!decide(GreaterThan, &json!(1), None));
    }
}
