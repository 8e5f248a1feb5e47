//! What the modem reports: identity, SIM, operator, signal, registration.

pub use thingstead_proto::at::RegStatus;

/// Who the modem and its SIM are.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ModemIdentity {
    /// `+CGMI`: the manufacturer.
    pub manufacturer: String,
    /// `+CGMM`: the model.
    pub model: String,
    /// `+CCID`: the SIM's ICCID.
    pub iccid: String,
    /// `+CIMI`: the subscriber's IMSI.
    pub imsi: String,
}

/// The SIM's state (`+CPIN?`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum SimStatus {
    /// Ready to use.
    Ready,
    /// No SIM in the modem.
    Missing,
    /// Waiting for a code (`SIM PIN`, `SIM PUK`...).
    Locked(String),
}

/// The signal (`+CSQ`).
///
/// ```
/// use thingstead::device::Signal;
/// let s = Signal::from_rssi(20);
/// assert_eq!((s.dbm, s.bars), (Some(-73), 3));
/// assert_eq!(Signal::from_rssi(99).dbm, None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Signal {
    /// `<rssi>` as the modem gives it: 0-31, 99 when unknown.
    pub rssi: i64,
    /// In dBm (27.007 8.5: `-113 + 2 * rssi`), `None` when unknown.
    pub dbm: Option<i32>,
    /// 0-4 bars.
    pub bars: u8,
}

impl Signal {
    /// The signal for `<rssi>`.
    pub fn from_rssi(rssi: i64) -> Self {
        let dbm = (0..=31).contains(&rssi).then(|| -113 + 2 * rssi as i32);
        // The usual thresholds: below -105 none, then one bar per 10 dB.
        let bars = match dbm {
            None => 0,
            Some(d) if d < -105 => 0,
            Some(d) if d < -95 => 1,
            Some(d) if d < -85 => 2,
            Some(d) if d < -70 => 3,
            Some(_) => 4,
        };
        Self { rssi, dbm, bars }
    }
}

/// An SMS the modem received.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ReceivedSms {
    /// The sender.
    pub from: String,
    /// The service centre's timestamp, as the modem wrote it.
    pub timestamp: String,
    /// The text.
    pub text: String,
}
