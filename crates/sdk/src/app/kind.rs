//! The kinds of document resources (WIRE.md B.3) and where they live.

/// A kind of document resource: its collection path. Implemented by the
/// marker types [`Device`], [`Thing`], [`Experience`], [`Location`],
/// [`Feed`] and [`Content`].
///
/// ```
/// use thingstead::app::{Feed, Kind};
/// assert_eq!(Feed::BASE, "/api/connectors/feeds");
/// ```
pub trait Kind: Send + Sync + 'static {
    /// The collection's path, e.g. `/api/devices`.
    const BASE: &'static str;
    /// The singular name used in messages, e.g. `device`.
    const LABEL: &'static str;
}

macro_rules! kind {
    ($(#[$doc:meta])* $name:ident, $base:literal, $label:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $name;
        impl Kind for $name {
            const BASE: &'static str = $base;
            const LABEL: &'static str = $label;
        }
    };
}

kind!(
    /// Devices (`/api/devices`).
    ///
    /// ```
    /// # use thingstead::app::{Device, Kind};
    /// assert_eq!(Device::BASE, "/api/devices");
    /// ```
    Device, "/api/devices", "device"
);
kind!(
    /// Things (`/api/things`).
    ///
    /// ```
    /// # use thingstead::app::{Thing, Kind};
    /// assert_eq!(Thing::BASE, "/api/things");
    /// ```
    Thing, "/api/things", "thing"
);
kind!(
    /// Experiences (`/api/experiences`); names are unique.
    ///
    /// ```
    /// # use thingstead::app::{Experience, Kind};
    /// assert_eq!(Experience::BASE, "/api/experiences");
    /// ```
    Experience, "/api/experiences", "experience"
);
kind!(
    /// Locations (`/api/locations`) with their zones.
    ///
    /// ```
    /// # use thingstead::app::{Location, Kind};
    /// assert_eq!(Location::BASE, "/api/locations");
    /// ```
    Location, "/api/locations", "location"
);
kind!(
    /// Feeds (`/api/connectors/feeds`).
    ///
    /// ```
    /// # use thingstead::app::{Feed, Kind};
    /// assert_eq!(Feed::LABEL, "feed");
    /// ```
    Feed, "/api/connectors/feeds", "feed"
);
kind!(
    /// Content items (`/api/content`), read only.
    ///
    /// ```
    /// # use thingstead::app::{Content, Kind};
    /// assert_eq!(Content::BASE, "/api/content");
    /// ```
    Content, "/api/content", "content"
);
