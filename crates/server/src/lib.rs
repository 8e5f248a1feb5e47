//! The Thingstead server: listeners, faces and wiring.
//!
//! [`start`] opens the store, binds every listener, starts the workers and
//! writes the ready file; [`run`] does the same and serves until a shutdown
//! future resolves, then stops gracefully.

pub mod activity;
mod app;
pub mod data_dir;
pub mod faces;
pub mod http;
pub mod mail;
pub mod proxy_header;
pub mod push;
mod ready;
pub mod realtime;
pub mod redact;
mod retention;
pub mod settings;
pub mod sms;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;

pub use app::{BoundAddrs, OpenMode, RunningServer, StartError, open_platform, run, start};
pub use settings::{FlagOverrides, LogFormat, Settings};
