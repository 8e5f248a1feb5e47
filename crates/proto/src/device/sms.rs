use super::frame::FrameError;
use super::{DeviceKey, E164};

/// The longest SMS text the SDK accepts, in characters.
pub const SMS_MAX_CHARS: usize = 160;

/// An SMS to send through the cloud: `S` KEY DESTINATION ` ` TEXT `\r\r`.
///
/// ```
/// use thingstead_proto::device::{DeviceFrame, SmsFrame, DeviceKey, E164};
/// let f = SmsFrame { key: DeviceKey::parse("abcdefgh").unwrap(), destination: E164::parse("+15555550123").unwrap(), text: "hello".into() };
/// assert_eq!(DeviceFrame::Sms(f).encode(), b"Sabcdefgh+15555550123 hello\r\r");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsFrame {
    /// The 8-character device key.
    pub key: DeviceKey,
    /// Where the SMS goes.
    pub destination: E164,
    /// The text, at most [`SMS_MAX_CHARS`] characters.
    pub text: String,
}

impl SmsFrame {
    pub(crate) fn parse(body: &str) -> Result<Self, FrameError> {
        let rest = body.strip_prefix('S').ok_or(FrameError::Parse("not an SMS frame"))?;
        let key = rest.get(..DeviceKey::LEN).ok_or(FrameError::Auth)?;
        let key = DeviceKey::parse(key).map_err(|_| FrameError::Auth)?;
        let rest = &rest[DeviceKey::LEN..];
        let (destination, text) = rest
            .split_once(' ')
            .ok_or(FrameError::Parse("SMS frame has no space after the destination"))?;
        let destination = E164::parse(destination).map_err(FrameError::Destination)?;
        if text.chars().count() > SMS_MAX_CHARS {
            return Err(FrameError::Payload("SMS text is longer than 160 characters"));
        }
        Ok(Self {
            key,
            destination,
            text: text.to_owned(),
        })
    }

    pub(crate) fn write(&self, out: &mut String) {
        out.push('S');
        out.push_str(self.key.as_str());
        out.push_str(self.destination.as_str());
        out.push(' ');
        out.push_str(&self.text);
    }
}
