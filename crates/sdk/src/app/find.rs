//! The answer of a find: `{"results": [...], "total": N, ...}`.

use serde_json::{Map, Value};

use super::error::{Error, Result};

/// A page of found items with the server's `total` and any other
/// top-level keys of the answer. Iterable, and a slice.
///
/// ```no_run
/// # async fn demo(app: thingstead::app::App) -> thingstead::app::Result<()> {
/// let found = app.devices().find(&[("name", "pump")]).await?;
/// println!("{} of {}", found.len(), found.total);
/// for device in &found {
///     println!("{}", device.uuid());
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct FindResult<T> {
    /// The items of this answer.
    pub items: Vec<T>,
    /// How many match in all (`total`, or the number of items when absent).
    pub total: u64,
    /// Every other top-level key of the answer.
    pub extra: Map<String, Value>,
}

impl<T> FindResult<T> {
    /// Reads an answer, turning each result into a `T`.
    pub(crate) fn parse(answer: Option<Value>, mut item: impl FnMut(Value) -> Result<T>) -> Result<Self> {
        let Some(Value::Object(mut map)) = answer else {
            return Err(Error::Unexpected("a find answer is not a JSON object".into()));
        };
        let Some(Value::Array(results)) = map.remove("results") else {
            return Err(Error::Unexpected("a find answer has no results array".into()));
        };
        let total = map.remove("total").and_then(|t| t.as_u64());
        let items = results.into_iter().map(&mut item).collect::<Result<Vec<T>>>()?;
        Ok(Self {
            total: total.unwrap_or(items.len() as u64),
            items,
            extra: map,
        })
    }
}

impl<T> std::ops::Deref for FindResult<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.items
    }
}

impl<T> IntoIterator for FindResult<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

impl<'a, T> IntoIterator for &'a FindResult<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}
