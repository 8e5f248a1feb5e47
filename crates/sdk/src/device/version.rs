//! The SDK version and the metadata it puts in every message frame.

/// The version of this SDK, as sent in the metadata of every message frame.
///
/// ```
/// assert!(!thingstead::device::SDK_VERSION.is_empty());
/// ```
pub const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The metadata string of message frames: `\u{1}agnostic-` + [`SDK_VERSION`],
/// shaped like hologram-python's (`agnostic` because no modem is involved).
///
/// ```
/// let m = thingstead::device::frame_metadata();
/// assert!(m.starts_with("\u{1}agnostic-"));
/// ```
pub fn frame_metadata() -> String {
    format!("\u{1}agnostic-{SDK_VERSION}")
}
