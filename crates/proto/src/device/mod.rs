//! The device TCP protocol, byte-compatible with hologram-python 0.10.3.
//!
//! One frame per connection: the device writes a frame terminated by
//! `\r\r`, the server replies and closes. The codec has the shape
//! mini-redis uses:
//!
//! - [`check`] finds one whole frame in a buffer (enforcing the size limit
//!   before waiting for more bytes),
//! - [`DeviceFrame::parse`] builds the typed frame,
//! - [`DeviceFrame::encode`] writes it.
//!
//! Frames:
//!
//! | frame | bytes | reply |
//! |---|---|---|
//! | [`MessageFrame`] (csrpsk) | `{"k": KEY, "m": META, "t": [TOPICS], "d": DATA}\r\r` (Thingstead's SDK may add `"i": KEY`, an [`IdempotencyKey`]) | `[code,0]` |
//! | [`SmsFrame`] | `S` KEY DESTINATION ` ` TEXT `\r\r` | bare digits, e.g. `0` |
//! | [`TotpFrame`] (Thingstead) | `{"u": UUID, "o": OTP, "m": META, "t": [...], "d": DATA}` or with `"p": DEST` for SMS | like the csrpsk form it stands for |
//!
//! ```
//! use thingstead_proto::device::{check, DeviceFrame, MessageFrame, DeviceKey};
//! let frame = DeviceFrame::Message(MessageFrame {
//!     key: DeviceKey::parse("abcdefgh").unwrap(),
//!     metadata: Some("\u{1}agnostic-0.9.1".into()),
//!     topics: vec!["temp".parse().unwrap()],
//!     data: "21.5".into(),
//!     idempotency_key: None,
//! });
//! let bytes = frame.encode();
//! let len = check(&bytes, 64 * 1024).unwrap().unwrap();
//! assert_eq!(DeviceFrame::parse(&bytes[..len]).unwrap(), frame);
//! ```

mod e164;
mod frame;
mod idempotency;
mod key;
mod message;
mod reply;
mod result_code;
mod sms;
mod topic;
mod totp;

pub use e164::{E164, E164Error};
pub use frame::{DeviceFrame, FrameError, TERMINATOR, check};
pub use idempotency::{IdempotencyKey, IdempotencyKeyError};
pub use key::{DeviceKey, DeviceKeyError};
pub use message::MessageFrame;
pub use reply::{ReplyKind, encode_reply, parse_reply};
pub use result_code::ResultCode;
pub use sms::{SMS_MAX_CHARS, SmsFrame};
pub use topic::{Topic, TopicError};
pub use totp::{TotpFrame, TotpPayload};

/// The default maximum size of one frame, terminator included (64 KiB).
pub const DEFAULT_MAX_FRAME: usize = 64 * 1024;
