//! Wire types and codecs shared by the Thingstead server and its SDK.
//!
//! This crate is pure: no I/O and no async runtime. A codec lives here once
//! and serves both sides of the wire, so the server decodes exactly what the
//! SDK encodes.
//!
//! - [`device`]: the Hologram-compatible device TCP protocol (frames,
//!   result codes, device keys, topics, E.164 numbers).
//! - [`channel`]: realtime channel ids of the application platform.
//! - [`engineio`]: Engine.IO 3/4 polling payload framings and the socket.io
//!   packets they carry, for the realtime face.

pub mod at;
pub mod channel;
pub mod device;
pub mod engineio;
mod pyjson;
