//! The application side of Thingstead, compatible with the EXP SDK
//! (WIRE.md B): log in as a user, a device or a consumer app; read and
//! write resources; broadcast and listen on channels in realtime.
//!
//! | what | where |
//! |---|---|
//! | start, stop, auth | [`App`], [`Options`], [`Login`], [`Auth`], [`stop_all`] |
//! | errors | [`Error`] |
//! | channels | [`Channel`], [`Listener`], [`Broadcast`] |
//! | resources | [`Collection`], [`Document`], [`FindResult`], [`Zone`], [`Data`], [`DataCollection`] |
//! | kinds | [`Device`], [`Thing`], [`Experience`], [`Location`], [`Feed`], [`Content`] |
//! | without async | [`blocking`] |
//!
//! ```no_run
//! use std::time::Duration;
//! use thingstead::app::{App, Options};
//! # async fn demo() -> thingstead::app::Result<()> {
//! let app = App::start(Options::new("http://127.0.0.1:8080").user("alice", "secret", "acme")).await?;
//! let lobby = app.get_channel("lobby", false, false)?;
//! let listener = lobby.listen("hello", Duration::from_secs(10), Duration::from_secs(60)).await?;
//! lobby.broadcast("hello", serde_json::json!({"from": "me"}), Duration::from_millis(100)).await?;
//! if let Some(b) = listener.wait(Duration::from_secs(5)).await? {
//!     println!("{}", b.payload);
//! }
//! app.stop();
//! # Ok(()) }
//! ```

mod auth;
pub mod blocking;
mod channel;
mod collection;
mod content;
mod context;
mod data;
mod document;
mod error;
mod find;
mod http;
mod instance;
mod jwt;
mod kind;
mod listener;
mod options;
mod realtime;
mod registry;
mod relations;
mod session;
mod socket;
mod tls;
mod zone;

pub use auth::{Auth, Identity};
pub use channel::{Channel, DEFAULT_BROADCAST_TIMEOUT, DEFAULT_LISTEN_TIMEOUT};
pub use collection::Collection;
pub use data::{Data, DataCollection};
pub use document::Document;
pub use error::{Error, Result};
pub use find::FindResult;
pub use instance::App;
pub use kind::{Content, Device, Experience, Feed, Kind, Location, Thing};
pub use listener::{Broadcast, DEFAULT_MAX_AGE, LISTENER_CAPACITY, Listener};
pub use options::{DEFAULT_API_TIMEOUT, Login, Options};
pub use registry::stop_all;
pub use socket::MAX_RECONNECT_BACKOFF;
pub use zone::Zone;

/// The HTTP method type of [`App::request`].
pub use reqwest::Method;
