/// Bounds applied while decoding a payload, all enforced before anything
/// is allocated for the packets they bound.
///
/// ```
/// use thingstead_proto::engineio::PayloadLimits;
/// let limits = PayloadLimits { max_packets: 16, ..PayloadLimits::default() };
/// assert_eq!(limits.max_length_digits, 7);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PayloadLimits {
    /// The most packets one payload may hold.
    pub max_packets: usize,
    /// The most bytes one payload may hold, framing included.
    pub max_payload_bytes: usize,
    /// The most decimal digits a packet length may have (a length of ten
    /// digits announces gigabytes and is refused as soon as it is seen).
    pub max_length_digits: usize,
}

impl Default for PayloadLimits {
    /// 256 packets, 1 MB, 7 length digits.
    fn default() -> Self {
        Self {
            max_packets: 256,
            max_payload_bytes: 1_000_000,
            max_length_digits: 7,
        }
    }
}

impl PayloadLimits {
    /// The digit limit actually applied: never more than 18, so a length
    /// cannot overflow `usize` whatever the caller configured.
    pub(crate) fn digits(&self) -> usize {
        self.max_length_digits.min(18)
    }
}
