//! [`Space`]: the resources of one space (`/spaces/{space}`).

use super::categories::{Categories, CategoryRef};
use super::client::{ThingsApi, segment};
use super::email::Communications;
use super::things::{ThingRef, Things};

/// One space (an organization): its categories, things and
/// communications.
///
/// ```no_run
/// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
/// let space = api.space("acme");
/// let sensors = space.category("Sensors").things().list(Default::default()).collect_all(1000).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Space {
    api: ThingsApi,
    path: String,
}

impl Space {
    pub(crate) fn new(api: ThingsApi, space: &str) -> Self {
        Self {
            api,
            path: format!("/spaces/{}", segment(space)),
        }
    }

    /// The categories of the space.
    ///
    /// ```no_run
    /// # fn demo(api: thingstead::things::ThingsApi) {
    /// let categories = api.space("acme").categories();
    /// # }
    /// ```
    pub fn categories(&self) -> Categories {
        Categories::new(self.api.clone(), format!("{}/categories", self.path))
    }

    /// Category `name`.
    ///
    /// ```no_run
    /// # fn demo(api: thingstead::things::ThingsApi) {
    /// let sensors = api.space("acme").category("Sensors");
    /// # }
    /// ```
    pub fn category(&self, name: &str) -> CategoryRef {
        CategoryRef::new(self.api.clone(), format!("{}/categories/{}", self.path, segment(name)))
    }

    /// The things of the space.
    ///
    /// ```no_run
    /// # fn demo(api: thingstead::things::ThingsApi) {
    /// let things = api.space("acme").things();
    /// # }
    /// ```
    pub fn things(&self) -> Things {
        Things::new(self.api.clone(), format!("{}/things", self.path))
    }

    /// Thing `uid`.
    ///
    /// ```no_run
    /// # fn demo(api: thingstead::things::ThingsApi) {
    /// let boiler = api.space("acme").thing("boiler-3");
    /// # }
    /// ```
    pub fn thing(&self, uid: &str) -> ThingRef {
        self.things().thing(uid)
    }

    /// Communications (e-mail) from the space.
    ///
    /// ```no_run
    /// # fn demo(api: thingstead::things::ThingsApi) {
    /// let email = api.space("acme").communications().email();
    /// # }
    /// ```
    pub fn communications(&self) -> Communications {
        Communications::new(self.api.clone(), format!("{}/communications", self.path))
    }
}
