//! Engine.IO polling payloads and the socket.io packets inside them.
//!
//! The EXP SDK (socketIO-client 0.7.2) speaks Engine.IO 3 over HTTP
//! long-polling and reads only XHR2 binary framing; socketioxide writes
//! text framing for protocol 3 and record-separated payloads for
//! protocol 4. This module holds the three framings in one place so the
//! server's adapter can translate between them:
//!
//! | framing | packet record | module |
//! |---|---|---|
//! | XHR2 binary (EIO 3) | `0x00`, length digits as bytes 0–9 (UTF-8 bytes), `0xFF`, text | [`binary`] |
//! | text (EIO 3) | `<length>:<text>`, length in UTF-16 units | [`text`] |
//! | record separator (EIO 4) | texts joined by `0x1e` | [`record_separator`] |
//!
//! Each has the codec shape of [`device`](crate::device): `check` finds a
//! whole payload enforcing the [`PayloadLimits`] before waiting for more,
//! `parse` builds the typed [`Packet`]s, `encode` writes them. Binary
//! packets (marker `0x01`, or base64 `b...`) are refused with
//! [`PayloadError::Binary`]: the EXP SDK sends none.
//!
//! ```
//! use thingstead_proto::engineio::{binary, Packet, PayloadLimits, SocketIoPacket};
//! let packets = vec![SocketIoPacket::Connect(None).to_engineio(), Packet::Pong(String::new())];
//! let bytes = binary::encode(&packets);
//! assert_eq!(bytes, [0, 2, 0xFF, b'4', b'0', 0, 1, 0xFF, b'3']);
//! assert_eq!(binary::parse(&bytes, &PayloadLimits::default()).unwrap(), packets);
//! ```

pub mod binary;
mod error;
mod framing;
mod limits;
mod packet;
pub mod record_separator;
mod socketio;
pub mod text;

pub use error::PayloadError;
pub use framing::Framing;
pub use limits::PayloadLimits;
pub use packet::Packet;
pub use socketio::{SocketIoError, SocketIoPacket};
pub use text::LengthUnit;
