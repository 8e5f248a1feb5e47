//! Events: `.../things/{t}/events[/{e}[/{id}]]`, the
//! [`activities`](super::activities) handles for [`EventKind`].

use super::activities::{Activities, ActivityInstance, ActivityRef, EventKind};

/// Every event occurrence of a thing.
///
/// ```no_run
/// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
/// let all = api.space("acme").thing("boiler-3").events().list().collect_all(1000).await?;
/// # Ok(()) }
/// ```
pub type Events = Activities<EventKind>;

/// One event of a thing: record an occurrence
/// ([`create`](ActivityRef::create)), list them.
pub type EventRef = ActivityRef<EventKind>;

/// One occurrence of an event: get, delete.
pub type EventInstance = ActivityInstance<EventKind>;

impl Events {
    /// Event `name`.
    ///
    /// ```no_run
    /// # fn demo(api: thingstead::things::ThingsApi) {
    /// let overheat = api.space("acme").thing("boiler-3").events().event("overheat");
    /// # }
    /// ```
    pub fn event(&self, name: &str) -> EventRef {
        self.named(name)
    }
}
