//! Unsolicited result codes the SDK acts on: new SMS (27.005), network
//! registration (27.007 7.2, 10.1.22) and u-blox socket events (u-blox AT
//! commands manual, section "Internet protocol transport layer").

use super::Info;

/// An unsolicited result code.
///
/// ```
/// use thingstead_proto::at::{Info, Param, Urc};
/// let line = Info::new("+CMTI", vec![Param::Str("SM".into()), Param::Int(3)]);
/// assert_eq!(Urc::parse(&line), Some(Urc::NewSms { storage: "SM".into(), index: 3 }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Urc {
    /// `+CMTI: <mem>,<index>`: an SMS arrived and is stored at `index`.
    NewSms {
        /// The message storage (`SM`, `ME`...).
        storage: String,
        /// Its index there, for `AT+CMGR=<index>`.
        index: u32,
    },
    /// `+CREG: <stat>[,...]` (circuit switched) or `+CEREG: <stat>[,...]`
    /// (EPS, LTE): the registration changed.
    Registration {
        /// Which network domain.
        domain: Domain,
        /// The new state.
        status: RegStatus,
    },
    /// `+UUSORD: <socket>,<length>`: data waits on a socket.
    SocketData {
        /// The socket.
        socket: u8,
        /// How many bytes wait.
        length: usize,
    },
    /// `+UUSOCL: <socket>`: the peer closed a socket.
    SocketClosed {
        /// The socket.
        socket: u8,
    },
}

/// The domain a registration state is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Domain {
    /// `+CREG`: circuit switched (2G/3G).
    Circuit,
    /// `+CEREG`: EPS (LTE, LTE-M, NB-IoT).
    Eps,
}

/// `<stat>` of `+CREG`/`+CEREG` (27.007 7.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegStatus {
    /// 0: not registered, not searching.
    NotRegistered,
    /// 1: registered, home network.
    Home,
    /// 2: not registered, searching.
    Searching,
    /// 3: registration denied.
    Denied,
    /// 4: unknown.
    Unknown,
    /// 5: registered, roaming.
    Roaming,
    /// Any other value (SMS-only, emergency-only...).
    Other(i64),
}

impl RegStatus {
    /// The state for `<stat>`.
    ///
    /// ```
    /// use thingstead_proto::at::RegStatus;
    /// assert!(RegStatus::from_code(5).is_registered());
    /// assert!(!RegStatus::from_code(2).is_registered());
    /// ```
    pub fn from_code(code: i64) -> Self {
        match code {
            0 => Self::NotRegistered,
            1 => Self::Home,
            2 => Self::Searching,
            3 => Self::Denied,
            4 => Self::Unknown,
            5 => Self::Roaming,
            other => Self::Other(other),
        }
    }

    /// Whether traffic can flow: home or roaming.
    pub fn is_registered(self) -> bool {
        matches!(self, Self::Home | Self::Roaming)
    }
}

impl Urc {
    /// The unsolicited code `line` is, if it is one this module knows.
    /// Only call it for lines that are not the response of the command in
    /// progress: `+CREG: 0,1` answers `AT+CREG?`, `+CREG: 1` is unsolicited.
    pub fn parse(line: &Info) -> Option<Self> {
        let int = |i| line.int(i);
        Some(match line.name.as_str() {
            "+CMTI" => Self::NewSms {
                storage: line.str(0)?.to_owned(),
                index: u32::try_from(int(1)?).ok()?,
            },
            "+CREG" | "+CEREG" => Self::Registration {
                domain: if line.name == "+CREG" {
                    Domain::Circuit
                } else {
                    Domain::Eps
                },
                status: RegStatus::from_code(int(0)?),
            },
            "+UUSORD" => Self::SocketData {
                socket: u8::try_from(int(0)?).ok()?,
                length: usize::try_from(int(1)?).ok()?,
            },
            "+UUSOCL" => Self::SocketClosed {
                socket: u8::try_from(int(0)?).ok()?,
            },
            _ => return None,
        })
    }
}
