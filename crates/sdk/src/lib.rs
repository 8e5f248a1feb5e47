//! The Thingstead client SDK.
//!
//! - [`app`]: the application side (EXP-compatible): log in, resources,
//!   realtime channels.
//! - [`things`]: the things API (IoT Studio compatible): OAuth2 client
//!   credentials, spaces, categories, WoT things, properties and their
//!   history, actions, events, e-mail; async with a blocking facade.
//! - [`device`]: the device side: send messages and SMS to a Thingstead
//!   server over the Hologram-compatible TCP protocol, receive
//!   cloud-to-device messages, buffer messages offline, follow the network.
//!
//! ```no_run
//! use thingstead::device::{Credentials, DeviceClient};
//! # async fn demo() -> Result<(), thingstead::device::DeviceError> {
//! let client = DeviceClient::new(Credentials::from_devicekey("abcd1234")?.with_host("127.0.0.1").with_port(9999))?;
//! let outcome = client.send_message("hello", &["greetings"]).await?;
//! println!("{}: {}", outcome.code(), outcome.description());
//! # Ok(()) }
//! ```

pub mod app;
pub mod device;
mod http;
pub mod things;
