//! What became of a message the application sent.

use thingstead_proto::device::ResultCode;

/// The outcome of one send that did not fail locally.
///
/// ```
/// use thingstead::device::SendOutcome;
/// use thingstead_proto::device::ResultCode;
/// let ok = SendOutcome::Answered { code: ResultCode::Sent, reply: b"[0,0]".to_vec() };
/// assert!(ok.is_success());
/// assert_eq!(ok.description(), "Message sent successfully");
/// assert!(!SendOutcome::Buffered.is_success());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// The server answered. In [`Mode::Raw`](super::Mode::Raw) the code is
    /// read from the raw reply as hologram-python reads replies, and
    /// [`ResultCode::Unknown`] when it is not one.
    Answered {
        /// The result code (unknown, -1, for no or an unreadable reply).
        code: ResultCode,
        /// The reply bytes as received (at most 1024).
        reply: Vec<u8>,
    },
    /// The network was down or the server unreachable: the message waits in
    /// the offline buffer and will be sent when the network is connected.
    Buffered,
}

impl SendOutcome {
    /// The result code; `None` when buffered.
    ///
    /// ```
    /// assert_eq!(thingstead::device::SendOutcome::Buffered.result_code(), None);
    /// ```
    pub fn result_code(&self) -> Option<ResultCode> {
        match self {
            Self::Answered { code, .. } => Some(*code),
            Self::Buffered => None,
        }
    }

    /// The numeric code as hologram-python reports it; -1 when buffered.
    ///
    /// ```
    /// assert_eq!(thingstead::device::SendOutcome::Buffered.code(), -1);
    /// ```
    pub fn code(&self) -> i32 {
        self.result_code().map_or(-1, ResultCode::code)
    }

    /// The description of the code (hologram-python's `getResultString`).
    ///
    /// ```
    /// assert!(thingstead::device::SendOutcome::Buffered.description().contains("buffered"));
    /// ```
    pub fn description(&self) -> &'static str {
        match self {
            Self::Answered { code, .. } => code.description(),
            Self::Buffered => "Message buffered until the network is connected",
        }
    }

    /// True when the server accepted the message (codes 0 and 1).
    ///
    /// ```
    /// use thingstead::device::SendOutcome;
    /// use thingstead_proto::device::ResultCode;
    /// assert!(!SendOutcome::Answered { code: ResultCode::AuthInvalid, reply: vec![] }.is_success());
    /// ```
    pub fn is_success(&self) -> bool {
        self.result_code().is_some_and(ResultCode::is_success)
    }

    /// The raw reply bytes; `None` when buffered.
    ///
    /// ```
    /// assert!(thingstead::device::SendOutcome::Buffered.reply().is_none());
    /// ```
    pub fn reply(&self) -> Option<&[u8]> {
        match self {
            Self::Answered { reply, .. } => Some(reply),
            Self::Buffered => None,
        }
    }
}
