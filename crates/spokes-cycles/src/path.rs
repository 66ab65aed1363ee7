//! Dotted paths into a step's JSON output: `properties.email`, `results.0.id`, and
//! `[results].id` for a field of every element of a list.
//!
//! Hand-written rather than a JSONPath crate: JSONPath is a different syntax (`$.a[*].b`)
//! from the one templates use, and the grammar here is a few lines.

use std::fmt;

use serde_json::Value;

/// A parsed path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// An object's member, or an array's element when the key is a number.
    Key(String),
    /// `[key]`: the member is a list, and the rest of the path applies to each element.
    Each(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("the path is empty")]
    Empty,
    #[error("the path has an empty segment (two dots, or a dot at an end)")]
    EmptySegment,
    #[error("`{0}` is not a segment: brackets enclose a whole segment, as in `[results].id`")]
    Brackets(String),
}

pub fn parse(text: &str) -> Result<Path, PathError> {
    if text.is_empty() {
        return Err(PathError::Empty);
    }
    let segments = text
        .split('.')
        .map(|segment| {
            if segment.is_empty() {
                return Err(PathError::EmptySegment);
            }
            let inner = segment
                .strip_prefix('[')
                .and_then(|rest| rest.strip_suffix(']'));
            match inner {
                Some(key) if !key.is_empty() && !key.contains(['[', ']']) => {
                    Ok(Segment::Each(key.to_owned()))
                }
                None if !segment.contains(['[', ']']) => Ok(Segment::Key(segment.to_owned())),
                _ => Err(PathError::Brackets(segment.to_owned())),
            }
        })
        .collect::<Result<_, _>>()?;
    Ok(Path { segments })
}

impl Path {
    /// The value at the path, or `None` when a member along it is missing. Under an
    /// `[each]` segment the answer is an array with one entry per element (`null` where the
    /// element lacks the rest of the path), so positions stay aligned; `[a].[b].c` gives an
    /// array of arrays.
    pub fn get(&self, value: &Value) -> Option<Value> {
        get(&self.segments, value)
    }
}

fn get(segments: &[Segment], value: &Value) -> Option<Value> {
    let Some((first, rest)) = segments.split_first() else {
        return Some(value.clone());
    };
    match first {
        Segment::Key(key) => get(rest, member(value, key)?),
        Segment::Each(key) => {
            let elements = member(value, key)?.as_array()?;
            Some(Value::Array(
                elements
                    .iter()
                    .map(|element| get(rest, element).unwrap_or(Value::Null))
                    .collect(),
            ))
        }
    }
}

fn member<'v>(value: &'v Value, key: &str) -> Option<&'v Value> {
    match value {
        Value::Object(map) => map.get(key),
        Value::Array(items) => items.get(key.parse::<usize>().ok()?),
        _ => None,
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.segments.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            match segment {
                Segment::Key(key) => f.write_str(key)?,
                Segment::Each(key) => write!(f, "[{key}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn at(path: &str, value: &Value) -> Option<Value> {
        parse(path).unwrap().get(value)
    }

    #[test]
    fn members_and_indexes() {
        let contact = json!({"id": "7", "properties": {"email": "ann@example.com", "phone": null}});
        assert_eq!(at("id", &contact), Some(json!("7")));
        assert_eq!(
            at("properties.email", &contact),
            Some(json!("ann@example.com"))
        );
        assert_eq!(at("properties.phone", &contact), Some(Value::Null));
        assert_eq!(at("properties.fax", &contact), None);
        assert_eq!(at("properties.email.domain", &contact), None);

        let page = json!({"results": [{"id": "1"}, {"id": "2"}]});
        assert_eq!(at("results.1.id", &page), Some(json!("2")));
        assert_eq!(at("results.2.id", &page), None);
    }

    #[test]
    fn numeric_and_dashed_keys_of_objects() {
        let value = json!({"vid-offset": 5, "0": "zero", "has-more": true});
        assert_eq!(at("vid-offset", &value), Some(json!(5)));
        assert_eq!(at("0", &value), Some(json!("zero")));
        assert_eq!(at("has-more", &value), Some(json!(true)));
    }

    #[test]
    fn a_field_of_every_element() {
        let page = json!({"results": [{"id": "1"}, {"name": "no id"}, {"id": "3"}]});
        assert_eq!(at("[results].id", &page), Some(json!(["1", null, "3"])));
        assert_eq!(at("[results]", &page), page.get("results").cloned());
        assert_eq!(at("[missing].id", &page), None);
        assert_eq!(at("[results].id", &json!({"results": "not a list"})), None);
    }

    #[test]
    fn nested_lists() {
        let deals = json!({"deals": [
            {"items": [{"sku": "a"}, {"sku": "b"}]},
            {"items": []},
        ]});
        assert_eq!(
            at("[deals].[items].sku", &deals),
            Some(json!([["a", "b"], []]))
        );
    }

    #[test]
    fn malformed_paths_are_refused() {
        assert_eq!(parse(""), Err(PathError::Empty));
        assert_eq!(parse("a..b"), Err(PathError::EmptySegment));
        assert_eq!(parse("a."), Err(PathError::EmptySegment));
        assert_eq!(parse("[]"), Err(PathError::Brackets("[]".into())));
        assert_eq!(parse("[a"), Err(PathError::Brackets("[a".into())));
        assert_eq!(parse("a[0]"), Err(PathError::Brackets("a[0]".into())));
    }

    #[test]
    fn displays_as_written() {
        for text in [
            "properties.email",
            "[results].id",
            "results.0.id",
            "[a].[b].c",
        ] {
            assert_eq!(parse(text).unwrap().to_string(), text);
        }
    }
}
