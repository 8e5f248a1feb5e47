//! Categories of a space: their name rule and shapes (WIRE.md A.4 Category).

use serde_json::{Map, Value};

use super::model::{ThingModel, model_json};
use crate::CoreError;
use crate::records::rfc3339;

/// Checks a category name: 1 to 26 of `[a-zA-Z0-9_:-]` (WIRE.md A.4).
pub fn check_category_name(name: &str) -> Result<(), CoreError> {
    let ok = (1..=26).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b':' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(CoreError::Invalid(format!(
            "category name {name:?}: use 1 to 26 characters of [a-zA-Z0-9_:-]"
        )))
    }
}

/// A category as a client describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryDraft {
    /// Its name, checked with [`check_category_name`].
    pub name: String,
    /// Its description.
    pub description: Option<String>,
    /// The thing model it stands for.
    pub model: Option<ThingModel>,
}

impl CategoryDraft {
    /// Parses `{name, description?, model?}` (`null` members absent,
    /// unknown members ignored). Descriptions are at most 4096 bytes.
    pub fn from_json(v: &Value) -> Result<Self, CoreError> {
        let Value::Object(m) = v else {
            return Err(CoreError::Invalid("a category is a JSON object".into()));
        };
        let name = match m.get("name") {
            Some(Value::String(n)) => n.clone(),
            _ => return Err(CoreError::Invalid("a category needs a string name".into())),
        };
        check_category_name(&name)?;
        let description = match m.get("description") {
            None | Some(Value::Null) => None,
            Some(Value::String(d)) if d.len() <= 4096 => Some(d.clone()),
            Some(_) => {
                return Err(CoreError::Invalid(
                    "description must be a string of at most 4096 bytes".into(),
                ));
            }
        };
        let model = match m.get("model") {
            None | Some(Value::Null) => None,
            Some(v) => Some(ThingModel::from_json(v)?),
        };
        Ok(Self {
            name,
            description,
            model,
        })
    }
}

/// A category of a space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category {
    /// Its name (unique in the space).
    pub name: String,
    /// Its description.
    pub description: Option<String>,
    /// The thing model it stands for.
    pub model: Option<ThingModel>,
    /// Created, epoch ms.
    pub created_ms: i64,
    /// Last changed, epoch ms.
    pub modified_ms: i64,
}

impl Category {
    /// The category as the things API shows it: `{name, description,
    /// model?, created, modified}`.
    pub fn to_json(&self) -> Value {
        let mut o = Map::new();
        o.insert("name".into(), Value::String(self.name.clone()));
        o.insert(
            "description".into(),
            Value::String(self.description.clone().unwrap_or_default()),
        );
        if let Some(m) = &self.model {
            o.insert("model".into(), model_json(m));
        }
        o.insert("created".into(), Value::String(rfc3339::format(self.created_ms)));
        o.insert("modified".into(), Value::String(rfc3339::format(self.modified_ms)));
        Value::Object(o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn category_names_follow_the_rule() {
        for ok in ["a", "Sensors", "x:y-z_1", &"a".repeat(26)] {
            assert!(check_category_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a b", "é", &"a".repeat(27), "a/b"] {
            assert!(check_category_name(bad).is_err(), "{bad}");
        }
    }
}
