//! Actions: `.../things/{t}/actions[/{a}[/{id}]]`, the
//! [`activities`](super::activities) handles for [`ActionKind`].

use super::activities::{ActionKind, Activities, ActivityInstance, ActivityRef};

/// Every action request of a thing.
///
/// ```no_run
/// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
/// let all = api.space("acme").thing("boiler-3").actions().list().collect_all(1000).await?;
/// # Ok(()) }
/// ```
pub type Actions = Activities<ActionKind>;

/// One action of a thing: request it ([`create`](ActivityRef::create)),
/// list its requests.
pub type ActionRef = ActivityRef<ActionKind>;

/// One request of an action: get, [`update`](ActivityInstance::update), delete.
pub type ActionInstance = ActivityInstance<ActionKind>;

impl Actions {
    /// Action `name`.
    ///
    /// ```no_run
    /// # fn demo(api: thingstead::things::ThingsApi) {
    /// let reboot = api.space("acme").thing("boiler-3").actions().action("reboot");
    /// # }
    /// ```
    pub fn action(&self, name: &str) -> ActionRef {
        self.named(name)
    }
}
