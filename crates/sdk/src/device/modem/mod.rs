//! Talking to a cellular modem over its serial line: the AT command engine.
//!
//! [`AtEngine`] owns the line (any async byte stream: a serial port, a
//! pseudo-terminal in tests). It runs one command at a time, each with its
//! own timeout, collects the command's response lines up to its final
//! result code, and hands every unsolicited result code (a new SMS, a
//! registration change, socket data) to [`UrcReceiver`], including those
//! that arrive in the middle of a command. The bytes are framed and parsed
//! by [`thingstead_proto::at`].

mod engine;

/// The AT codec the engine speaks ([`thingstead_proto::at`]).
pub use thingstead_proto::at;

pub use engine::{AtEngine, AtEngineError, AtResponse, EngineOptions, UrcReceiver};
