//! The thing descriptions property writes validate against, kept in memory
//! so a write does not read and parse its thing's document every time.
//!
//! An entry is the document text and its parsed property affordances. It
//! is never trusted on its own: the store applies a write only if the
//! thing's stored document is still exactly that text (else
//! `Conflict(THING_CHANGED)`, and the writer forgets the entry and reads
//! the document again), and a value a cached TD refuses is checked again
//! against a fresh read before it is refused. So a TD changed by another
//! face or another node is seen at the next write, and losing the cache
//! only costs reads. Bounded: at most [`TD_CACHE_CAPACITY`] things, an
//! arbitrary entry making room for a new one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};

use crate::CoreError;

/// Things whose TD is kept.
pub(super) const TD_CACHE_CAPACITY: usize = 4096;

/// The property affordances of a thing document: all a write needs of it
/// (the rest of the document is skipped, not built, when it is parsed).
#[derive(serde::Deserialize)]
pub(super) struct Declared {
    #[serde(default)]
    pub(super) properties: Option<Map<String, Value>>,
}

impl Declared {
    pub(super) fn parse(uid: &str, body: &str) -> Result<Self, CoreError> {
        serde_json::from_str(body).map_err(|e| CoreError::Internal(format!("thing {uid} does not parse: {e}")))
    }
}

/// A thing's document as read, and its property affordances.
pub(super) struct CachedTd {
    pub(super) body: String,
    pub(super) declared: Declared,
}

/// Thing documents by (tenant id, thing uid).
#[derive(Default)]
pub(super) struct TdCache {
    entries: Mutex<HashMap<(i64, String), Arc<CachedTd>>>,
}

impl TdCache {
    pub(super) fn get(&self, tenant: i64, uid: &str) -> Option<Arc<CachedTd>> {
        let entries = self.entries.lock().ok()?;
        entries.get(&(tenant, uid.to_owned())).cloned()
    }

    pub(super) fn put(&self, tenant: i64, uid: &str, td: Arc<CachedTd>) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= TD_CACHE_CAPACITY
            && !entries.contains_key(&(tenant, uid.to_owned()))
            && let Some(victim) = entries.keys().next().cloned()
        {
            entries.remove(&victim);
        }
        entries.insert((tenant, uid.to_owned()), td);
    }

    pub(super) fn forget(&self, tenant: i64, uid: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(&(tenant, uid.to_owned()));
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.lock().map_or(0, |e| e.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn td(body: &str) -> Arc<CachedTd> {
        Arc::new(CachedTd {
            body: body.to_owned(),
            declared: Declared::parse("t", body).unwrap(),
        })
    }

    #[test]
    fn entries_are_per_tenant_and_thing_and_bounded() {
        let cache = TdCache::default();
        cache.put(1, "a", td(r#"{"properties": {"x": {}}}"#));
        assert!(cache.get(1, "a").is_some());
        assert!(cache.get(2, "a").is_none(), "another tenant's thing of that uid");
        cache.forget(1, "a");
        assert!(cache.get(1, "a").is_none());
        for i in 0..TD_CACHE_CAPACITY + 10 {
            cache.put(1, &format!("t{i}"), td("{}"));
        }
        assert_eq!(cache.len(), TD_CACHE_CAPACITY);
        assert!(
            cache.get(1, &format!("t{}", TD_CACHE_CAPACITY + 9)).is_some(),
            "the newest is kept"
        );
    }
}
