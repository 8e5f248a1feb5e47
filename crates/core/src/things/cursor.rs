//! Opaque paging cursors, the one codec of every things-API list (things,
//! categories, property history, actions, events; see [`crate::paging`]):
//! the list's scope, then the sort-key values of an item of a page
//! (keyset pagination), as unpadded URL-safe base64 of a JSON array
//! `["<scope>", key, ...]`. Clients must treat them as opaque; a cursor
//! that does not decode, belongs to another list (another scope) or does
//! not fit the query it is sent with is an invalid-input error, never a
//! panic or a loop.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use crate::CoreError;
use crate::paging::Direction;

/// Longest cursor accepted, in bytes.
pub const MAX_CURSOR: usize = 4096;

/// Default page size of every things-API list.
pub const DEFAULT_LIMIT: u32 = 50;
/// Largest page size; a larger `limit` is clamped to it.
pub const MAX_LIMIT: u32 = 1000;

/// One sort-key value of a cursor.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyValue {
    /// The item has no value there (sorts last).
    Null,
    /// An integer key (times).
    Int(i64),
    /// A number key (numeric property values).
    Real(f64),
    /// A text key.
    Text(String),
}

/// What type a sort key holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// [`KeyValue::Int`].
    Int,
    /// [`KeyValue::Real`].
    Real,
    /// [`KeyValue::Text`].
    Text,
}

/// The cursor scope of thing lists.
pub const THINGS: &str = "things";
/// The cursor scope of category lists.
pub const CATEGORIES: &str = "categories";
/// The cursor scope of property history lists.
pub const HISTORY: &str = "history";

/// Encodes the sort-key values of an item of the list `scope` as a cursor.
pub fn encode(scope: &str, values: &[KeyValue]) -> String {
    let json: Vec<Value> = std::iter::once(Value::String(scope.to_owned()))
        .chain(values.iter().map(|v| match v {
            KeyValue::Null => Value::Null,
            KeyValue::Int(i) => Value::from(*i),
            KeyValue::Real(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
            KeyValue::Text(s) => Value::String(s.clone()),
        }))
        .collect();
    URL_SAFE_NO_PAD.encode(Value::Array(json).to_string())
}

/// The error of a cursor that is not one of the list it was sent to.
pub fn malformed() -> CoreError {
    CoreError::Invalid(
        "the cursor is not one of this list (pass back paging.next_cursor or paging.previous_cursor as it came)".into(),
    )
}

/// Decodes a cursor of the list `scope` whose values must be of `kinds`, in order.
pub fn decode(scope: &str, cursor: &str, kinds: &[KeyKind]) -> Result<Vec<KeyValue>, CoreError> {
    if cursor.len() > MAX_CURSOR {
        return Err(malformed());
    }
    let bytes = URL_SAFE_NO_PAD.decode(cursor.trim()).map_err(|_| malformed())?;
    let Ok(Value::Array(items)) = serde_json::from_slice::<Value>(&bytes) else {
        return Err(malformed());
    };
    let mut items = items.into_iter();
    if items.next().as_ref().and_then(Value::as_str) != Some(scope) || items.len() != kinds.len() {
        return Err(malformed());
    }
    items
        .zip(kinds)
        .map(|(v, kind)| match (v, kind) {
            (Value::Null, _) => Ok(KeyValue::Null),
            (Value::Number(n), KeyKind::Int) => n.as_i64().map(KeyValue::Int).ok_or_else(malformed),
            (Value::Number(n), KeyKind::Real) => n.as_f64().map(KeyValue::Real).ok_or_else(malformed),
            (Value::String(s), KeyKind::Text) => Ok(KeyValue::Text(s)),
            _ => Err(malformed()),
        })
        .collect()
}

/// Takes the query pair `key=value` when it is a non-empty `next_cursor` or
/// `previous_cursor`: records its direction in `direction` (a cursor of
/// the other direction already there is invalid) and returns the cursor.
pub fn paging_pair(direction: &mut Option<Direction>, key: &str, value: &str) -> Result<Option<String>, CoreError> {
    let d = match key {
        _ if value.is_empty() => return Ok(None),
        "next_cursor" => Direction::Next,
        "previous_cursor" => Direction::Previous,
        _ => return Ok(None),
    };
    if direction.is_some_and(|old| old != d) {
        return Err(CoreError::Invalid(
            "pass next_cursor or previous_cursor, not both".into(),
        ));
    }
    *direction = Some(d);
    Ok(Some(value.to_owned()))
}

/// Parses `limit`: a positive integer; above [`MAX_LIMIT`] it is clamped
/// to [`MAX_LIMIT`]; `0`, negatives and non-numbers are invalid.
pub fn parse_limit(s: &str) -> Result<u32, CoreError> {
    match s.trim().parse::<u64>() {
        Ok(0) | Err(_) => Err(CoreError::Invalid(format!(
            "limit must be a positive integer (at most {MAX_LIMIT})"
        ))),
        Ok(n) => Ok(n.min(u64::from(MAX_LIMIT)) as u32),
    }
}

/// Parses a query-string boolean: `true`/`false` in any case (Python
/// sends `True`/`False`), `1`/`0`.
pub fn parse_bool(name: &str, s: &str) -> Result<bool, CoreError> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(CoreError::Invalid(format!("{name} must be true or false"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_malformed_ones_are_invalid() {
        let kinds = [KeyKind::Real, KeyKind::Text, KeyKind::Int];
        let values = vec![KeyValue::Real(20.5), KeyValue::Text("ü/+".into()), KeyValue::Null];
        assert_eq!(decode(THINGS, &encode(THINGS, &values), &kinds).unwrap(), values);
        let bare = URL_SAFE_NO_PAD.encode("[20.5,\"x\",null]");
        for bad in [
            "",
            "!!",
            "bnVsbA",
            &encode(THINGS, &values[..2]),
            &encode(HISTORY, &values),
            &bare,
            &"A".repeat(5000),
        ] {
            let e = decode(THINGS, bad, &kinds).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::Invalid, "{bad}");
        }
        let text = encode(CATEGORIES, &[KeyValue::Text("x".into())]);
        assert!(decode(CATEGORIES, &text, &[KeyKind::Int]).is_err());
    }

    #[test]
    fn limits_are_clamped_or_refused() {
        assert_eq!(parse_limit("10").unwrap(), 10);
        assert_eq!(parse_limit("5000").unwrap(), MAX_LIMIT);
        assert!(parse_limit("0").is_err() && parse_limit("-1").is_err() && parse_limit("x").is_err());
        assert!(parse_bool("b", "False").is_ok_and(|b| !b) && parse_bool("b", "TRUE").unwrap());
    }
}
