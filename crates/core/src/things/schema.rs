//! Data schemas (the subset WIRE.md A.4 lists) and validating property
//! values against them.
//!
//! A property affordance is itself a data schema (W3C WoT TD 1.1 §5.3.2):
//! `{"type": "number", "minimum": 0, ...}` at its top level. The data
//! schemas of actions (`input`, `output`) and events (`data`,
//! `subscription`, `cancellation`) are *strict*: the iots client parses them
//! with a model that refuses other keys, so a TD carrying other keys there
//! is refused here rather than stored and unreadable later.

use serde_json::Value;

use crate::CoreError;

/// The keys a strict data schema may hold.
pub const STRICT_SCHEMA_KEYS: [&str; 16] = [
    "@type",
    "const",
    "description",
    "enum",
    "items",
    "maxItems",
    "maximum",
    "minItems",
    "minimum",
    "oneOf",
    "properties",
    "readOnly",
    "required",
    "title",
    "type",
    "unit",
];

/// The JSON types a schema's `type` may name.
pub const TYPES: [&str; 7] = ["boolean", "integer", "number", "string", "object", "array", "null"];

/// How deep schemas (and values checked against them) may nest.
pub const MAX_DEPTH: usize = 32;

fn invalid(at: &str, msg: impl std::fmt::Display) -> CoreError {
    CoreError::Invalid(format!("{at}: {msg}"))
}

/// Checks the shape of a data schema at `at` (a path for messages):
/// `type` one of [`TYPES`], numbers where numbers belong, `enum`/`required`/
/// `oneOf` arrays, nested `properties`/`items`/`oneOf` schemas. With
/// `strict`, keys outside [`STRICT_SCHEMA_KEYS`] are refused (recursively).
pub fn check_schema(schema: &Value, at: &str, strict: bool) -> Result<(), CoreError> {
    check_schema_at(schema, at, strict, 0)
}

fn check_schema_at(schema: &Value, at: &str, strict: bool, depth: usize) -> Result<(), CoreError> {
    if depth > MAX_DEPTH {
        return Err(invalid(at, format!("schemas nest at most {MAX_DEPTH} deep")));
    }
    let Value::Object(s) = schema else {
        return Err(invalid(at, "a data schema is a JSON object"));
    };
    for (k, v) in s {
        if strict && !STRICT_SCHEMA_KEYS.contains(&k.as_str()) {
            return Err(invalid(
                at,
                format!(
                    "`{k}` is not allowed in this data schema (allowed: {})",
                    STRICT_SCHEMA_KEYS.join(", ")
                ),
            ));
        }
        let here = format!("{at}.{k}");
        match (k.as_str(), v) {
            (_, Value::Null) if !strict => {}
            ("type", Value::String(t)) if TYPES.contains(&t.as_str()) => {}
            ("type", _) => return Err(invalid(&here, format!("must be one of {}", TYPES.join(", ")))),
            ("minimum" | "maximum", Value::Number(_)) => {}
            ("minimum" | "maximum", _) => return Err(invalid(&here, "must be a number")),
            ("minItems" | "maxItems", Value::Number(n)) if n.is_u64() => {}
            ("minItems" | "maxItems", _) => return Err(invalid(&here, "must be a non-negative integer")),
            ("enum", Value::Array(a)) if !a.is_empty() => {}
            ("enum", _) => return Err(invalid(&here, "must be a non-empty array")),
            ("required", Value::Array(a)) if a.iter().all(Value::is_string) => {}
            ("required", _) => return Err(invalid(&here, "must be an array of strings")),
            ("readOnly" | "writeOnly" | "observable", Value::Bool(_)) => {}
            ("readOnly" | "writeOnly" | "observable", _) => return Err(invalid(&here, "must be a boolean")),
            ("title" | "description" | "unit", Value::String(_)) => {}
            ("title" | "description" | "unit", _) => return Err(invalid(&here, "must be a string")),
            ("@type", Value::String(_)) => {}
            ("@type", Value::Array(a)) if a.iter().all(Value::is_string) => {}
            ("@type", _) => return Err(invalid(&here, "must be a string or an array of strings")),
            ("properties", Value::Object(props)) => {
                for (name, p) in props {
                    check_schema_at(p, &format!("{here}.{name}"), strict, depth + 1)?;
                }
            }
            ("properties", _) => return Err(invalid(&here, "must be an object of data schemas")),
            ("items", Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    check_schema_at(item, &format!("{here}[{i}]"), strict, depth + 1)?;
                }
            }
            ("items", item) => check_schema_at(item, &here, strict, depth + 1)?,
            ("oneOf", Value::Array(items)) if !items.is_empty() => {
                for (i, item) in items.iter().enumerate() {
                    check_schema_at(item, &format!("{here}[{i}]"), strict, depth + 1)?;
                }
            }
            ("oneOf", _) => return Err(invalid(&here, "must be a non-empty array of data schemas")),
            _ => {}
        }
    }
    if let (Some(min), Some(max)) = (
        s.get("minimum").and_then(Value::as_f64),
        s.get("maximum").and_then(Value::as_f64),
    ) && min > max
    {
        return Err(invalid(at, "minimum is greater than maximum"));
    }
    Ok(())
}

/// Validates `value` against `schema` (checked with [`check_schema`]):
/// `type` (an integer is a number without a fraction), `const`, `enum`,
/// `minimum`/`maximum`, `required` members and `properties` of objects,
/// `items`/`minItems`/`maxItems` of arrays, `oneOf` (exactly one).
/// Keys it does not know (`unit`, `readOnly`, ...) constrain nothing.
/// `at` names the value in the error (e.g. `property temperature`).
pub fn validate_value(schema: &Value, value: &Value, at: &str) -> Result<(), CoreError> {
    validate_at(schema, value, at, 0)
}

fn type_ok(t: &str, v: &Value) -> bool {
    match t {
        "boolean" => v.is_boolean(),
        "integer" => match v {
            Value::Number(n) => n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0),
            _ => false,
        },
        "number" => v.is_number(),
        "string" => v.is_string(),
        "object" => v.is_object(),
        "array" => v.is_array(),
        "null" => v.is_null(),
        _ => true,
    }
}

fn numbers_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn validate_at(schema: &Value, value: &Value, at: &str, depth: usize) -> Result<(), CoreError> {
    if depth > MAX_DEPTH {
        return Err(invalid(at, format!("values nest at most {MAX_DEPTH} deep")));
    }
    let Value::Object(s) = schema else {
        return Ok(());
    };
    if let Some(Value::String(t)) = s.get("type")
        && !type_ok(t, value)
    {
        return Err(invalid(at, format!("{} is not of type {t}", short(value))));
    }
    if let Some(c) = s.get("const")
        && !numbers_equal(c, value)
    {
        return Err(invalid(at, format!("must be {c}")));
    }
    if let Some(Value::Array(options)) = s.get("enum")
        && !options.iter().any(|o| numbers_equal(o, value))
    {
        return Err(invalid(
            at,
            format!("{} is not one of {}", short(value), Value::Array(options.clone())),
        ));
    }
    if let Some(x) = value.as_f64() {
        if let Some(min) = s.get("minimum").and_then(Value::as_f64)
            && x < min
        {
            return Err(invalid(at, format!("{x} is less than the minimum {min}")));
        }
        if let Some(max) = s.get("maximum").and_then(Value::as_f64)
            && x > max
        {
            return Err(invalid(at, format!("{x} is greater than the maximum {max}")));
        }
    }
    match value {
        Value::Object(members) => {
            if let Some(Value::Array(required)) = s.get("required") {
                for r in required.iter().filter_map(Value::as_str) {
                    if !members.contains_key(r) {
                        return Err(invalid(at, format!("the member `{r}` is required")));
                    }
                }
            }
            if let Some(Value::Object(props)) = s.get("properties") {
                for (k, v) in members {
                    if let Some(p) = props.get(k) {
                        validate_at(p, v, &format!("{at}.{k}"), depth + 1)?;
                    }
                }
            }
        }
        Value::Array(items) => {
            let n = items.len() as u64;
            if let Some(min) = s.get("minItems").and_then(Value::as_u64)
                && n < min
            {
                return Err(invalid(at, format!("at least {min} items")));
            }
            if let Some(max) = s.get("maxItems").and_then(Value::as_u64)
                && n > max
            {
                return Err(invalid(at, format!("at most {max} items")));
            }
            match s.get("items") {
                Some(Value::Array(per_index)) => {
                    for (i, (item, sch)) in items.iter().zip(per_index).enumerate() {
                        validate_at(sch, item, &format!("{at}[{i}]"), depth + 1)?;
                    }
                }
                Some(sch @ Value::Object(_)) => {
                    for (i, item) in items.iter().enumerate() {
                        validate_at(sch, item, &format!("{at}[{i}]"), depth + 1)?;
                    }
                }
                _ => {}
            }
        }
        _ => {}
    }
    if let Some(Value::Array(options)) = s.get("oneOf") {
        let matching = options
            .iter()
            .filter(|o| validate_at(o, value, at, depth + 1).is_ok())
            .count();
        if matching != 1 {
            return Err(invalid(
                at,
                format!("{} must match exactly one schema of oneOf", short(value)),
            ));
        }
    }
    Ok(())
}

/// A value for an error message, cut short.
fn short(v: &Value) -> String {
    let mut s = v.to_string();
    if s.len() > 64 {
        let mut cut = 61;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push_str("...");
    }
    s
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn values_are_checked_against_their_schema() {
        let s = json!({"type": "number", "minimum": -10, "maximum": 50});
        assert!(validate_value(&s, &json!(20.5), "p").is_ok());
        assert!(
            validate_value(&s, &json!(51), "p")
                .unwrap_err()
                .to_string()
                .contains("maximum")
        );
        assert!(validate_value(&s, &json!(-11), "p").is_err());
        assert!(
            validate_value(&s, &json!("20"), "p")
                .unwrap_err()
                .to_string()
                .contains("type number")
        );
        let i = json!({"type": "integer"});
        assert!(validate_value(&i, &json!(3), "p").is_ok());
        assert!(validate_value(&i, &json!(3.0), "p").is_ok());
        assert!(validate_value(&i, &json!(3.5), "p").is_err());
        let e = json!({"type": "string", "enum": ["on", "off"]});
        assert!(validate_value(&e, &json!("on"), "p").is_ok());
        assert!(validate_value(&e, &json!("dim"), "p").is_err());
        let o = json!({"type": "object", "required": ["lat"], "properties": {"lat": {"type": "number"}}});
        assert!(validate_value(&o, &json!({"lat": 1, "x": "y"}), "p").is_ok());
        assert!(
            validate_value(&o, &json!({"lon": 1}), "p")
                .unwrap_err()
                .to_string()
                .contains("lat")
        );
        assert!(validate_value(&o, &json!({"lat": "n"}), "p").is_err());
        let a = json!({"type": "array", "items": {"type": "integer"}, "maxItems": 2});
        assert!(validate_value(&a, &json!([1, 2]), "p").is_ok());
        assert!(validate_value(&a, &json!([1, "x"]), "p").is_err());
        assert!(validate_value(&a, &json!([1, 2, 3]), "p").is_err());
        // No type: anything goes.
        assert!(validate_value(&json!({}), &json!({"any": [1]}), "p").is_ok());
    }

    #[test]
    fn strict_schemas_refuse_other_keys() {
        assert!(check_schema(&json!({"type": "string", "unit": "C"}), "a", true).is_ok());
        let err = check_schema(&json!({"type": "string", "format": "date"}), "a", true).unwrap_err();
        assert!(err.to_string().contains("format"), "{err}");
        assert!(check_schema(&json!({"type": "string", "format": "date"}), "a", false).is_ok());
        assert!(check_schema(&json!({"type": "text"}), "a", false).is_err());
        assert!(check_schema(&json!({"properties": {"x": {"type": "number", "x-y": 1}}}), "a", true).is_err());
        assert!(check_schema(&json!({"minimum": 5, "maximum": 1}), "a", false).is_err());
    }
}
