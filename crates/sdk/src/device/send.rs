//! Sending messages, SMS and raw bytes.

use thingstead_proto::device::{
    DeviceFrame, E164, E164Error, IdempotencyKey, MessageFrame, ReplyKind, ResultCode, SMS_MAX_CHARS, SmsFrame, Topic,
    TotpFrame, TotpPayload, parse_reply,
};

use super::client::Settings;
use super::transport::exchange;
use super::{BufferedMessage, DeviceClient, DeviceError, Event, Mode, SendOutcome, frame_metadata};

/// Checks topics as the server will.
pub(crate) fn parse_topics<T: AsRef<str>>(topics: &[T]) -> Result<Vec<Topic>, DeviceError> {
    topics
        .iter()
        .map(|t| {
            Topic::parse(t.as_ref()).map_err(|source| DeviceError::InvalidTopic {
                topic: t.as_ref().to_owned(),
                source,
            })
        })
        .collect()
}

/// Checks an SMS as hologram-python does (destination starts with `+`, at
/// most 160 characters), then the destination as E.164; this is what
/// [`DeviceClient::send_sms`] checks before sending anything.
///
/// ```
/// use thingstead::device::check_sms;
/// assert_eq!(check_sms("+15555550123", "hi").unwrap().as_str(), "+15555550123");
/// assert!(check_sms("+12ab", "hi").is_err());
/// ```
pub fn check_sms(destination: &str, text: &str) -> Result<E164, DeviceError> {
    let invalid = |source| DeviceError::InvalidDestination {
        destination: destination.to_owned(),
        source,
    };
    if !destination.starts_with('+') {
        return Err(invalid(E164Error::NoPlus));
    }
    let chars = text.chars().count();
    if chars > SMS_MAX_CHARS {
        return Err(DeviceError::SmsTooLong { chars });
    }
    E164::parse(destination).map_err(invalid)
}

impl DeviceClient {
    /// Sends one message with its topics (possibly none) and returns the
    /// server's answer.
    ///
    /// In [`Mode::Raw`] the text is sent unchanged (topics are not sent).
    /// When the network is down, the send first tries to connect it, as the
    /// client's [`ConnectPolicy`](super::ConnectPolicy) says (bounded, one
    /// attempt shared by concurrent sends, none while pausing after a
    /// failure). When it stays down or the server cannot be reached, the
    /// message goes to the offline buffer ([`SendOutcome::Buffered`]) if the
    /// client has one, and the send fails with [`DeviceError::NetworkDown`]
    /// or [`DeviceError::Unreachable`] otherwise. While a buffer holds
    /// messages, they are sent first, so messages reach the server in order.
    ///
    /// ```no_run
    /// # async fn demo(client: thingstead::device::DeviceClient) -> Result<(), thingstead::device::DeviceError> {
    /// let outcome = client.send_message("héllo", &["a", "b"]).await?;
    /// println!("{} {}", outcome.code(), outcome.description());
    /// # Ok(()) }
    /// ```
    pub async fn send_message(&self, data: &str, topics: &[&str]) -> Result<SendOutcome, DeviceError> {
        let parsed = parse_topics(topics)?;
        // Outside the send lock: concurrent senders share one attempt.
        let connected = self.connect_for_send().await;
        let Some(buffer) = self.inner.buffer.clone() else {
            if !connected {
                return Err(DeviceError::NetworkDown);
            }
            return self.deliver_message(&self.settings(), &parsed, data, None).await;
        };
        let _order = self.inner.send_lock.lock().await;
        // Read again: the network may have gone (or come) since.
        if self.network().is_connected() {
            let report = self.flush_locked(&buffer).await?;
            if report.remaining == 0 {
                match self.deliver_message(&self.settings(), &parsed, data, None).await {
                    Err(e) if e.is_not_delivered() => tracing::info!(error = %e, "message buffered"),
                    other => return other,
                }
            }
        } else {
            tracing::info!("the network is down: message buffered");
        }
        let message = BufferedMessage {
            topics: topics.iter().map(|t| (*t).to_owned()).collect(),
            data: data.to_owned(),
        };
        self.with_buffer(move |b| b.push(&message).map(drop)).await?;
        Ok(SendOutcome::Buffered)
    }

    /// Sends several messages with the same topics, one connection each, in
    /// order; one result per message.
    ///
    /// ```no_run
    /// # async fn demo(client: thingstead::device::DeviceClient) {
    /// for result in client.send_messages(&["one", "two"], &["batch"]).await {
    ///     println!("{:?}", result.map(|o| o.code()));
    /// }
    /// # }
    /// ```
    pub async fn send_messages(&self, messages: &[&str], topics: &[&str]) -> Vec<Result<SendOutcome, DeviceError>> {
        let mut results = Vec::with_capacity(messages.len());
        for message in messages {
            results.push(self.send_message(message, topics).await);
        }
        results
    }

    /// Sends an SMS through the server. The destination must start with `+`
    /// and the text be at most 160 characters (as hologram-python checks),
    /// and the destination must be an E.164 number; otherwise nothing is
    /// sent. SMS are not buffered; raw mode has no SMS. A down network is
    /// connected first as for [`DeviceClient::send_message`]; when it stays
    /// down the send fails with [`DeviceError::NetworkDown`].
    ///
    /// ```no_run
    /// # async fn demo(client: thingstead::device::DeviceClient) -> Result<(), thingstead::device::DeviceError> {
    /// let outcome = client.send_sms("+15555550123", "hello").await?;
    /// assert!(client.send_sms("15555550123", "no plus").await.is_err());
    /// # Ok(()) }
    /// ```
    pub async fn send_sms(&self, destination: &str, text: &str) -> Result<SendOutcome, DeviceError> {
        let destination = check_sms(destination, text)?;
        let settings = self.settings();
        if settings.mode == Mode::Raw {
            return Err(DeviceError::Unsupported("SMS in raw mode"));
        }
        if !self.connect_for_send().await {
            return Err(DeviceError::NetworkDown);
        }
        let frame = match &settings.totp {
            None => DeviceFrame::Sms(SmsFrame {
                key: settings.credentials.devicekey()?,
                destination,
                text: text.to_owned(),
            }),
            Some(signer) => DeviceFrame::Totp(TotpFrame {
                uuid: settings.credentials.device_id.clone().unwrap_or_default(),
                otp: signer.next_code().await?,
                payload: TotpPayload::Sms {
                    destination,
                    text: text.to_owned(),
                },
            }),
        };
        tracing::info!("Sending SMS with body of length {}", text.len());
        self.deliver_frame(&settings, &frame.encode(), frame.reply_kind()).await
    }

    /// Sends bytes unchanged on a fresh connection and returns the raw reply
    /// (at most 1024 bytes), whatever the mode. Not buffered; a down
    /// network is connected first as for [`DeviceClient::send_message`].
    ///
    /// ```no_run
    /// # async fn demo(client: thingstead::device::DeviceClient) -> Result<(), thingstead::device::DeviceError> {
    /// let reply = client.send_raw(b"PING\r\r").await?;
    /// # Ok(()) }
    /// ```
    pub async fn send_raw(&self, bytes: &[u8]) -> Result<Vec<u8>, DeviceError> {
        if !self.connect_for_send().await {
            return Err(DeviceError::NetworkDown);
        }
        let settings = self.settings();
        self.exchange(&settings, bytes).await
    }

    /// Frames (or, in raw mode, passes through) one message and sends it.
    pub(crate) async fn deliver_message(
        &self,
        settings: &Settings,
        topics: &[Topic],
        data: &str,
        idempotency_key: Option<IdempotencyKey>,
    ) -> Result<SendOutcome, DeviceError> {
        tracing::info!("Sending message with body of length {}", data.len());
        if settings.mode == Mode::Raw {
            return self
                .deliver_frame(settings, data.as_bytes(), ReplyKind::of_bytes(data.as_bytes()))
                .await;
        }
        let frame = match &settings.totp {
            None => DeviceFrame::Message(MessageFrame {
                key: settings.credentials.devicekey()?,
                metadata: Some(frame_metadata()),
                topics: topics.to_vec(),
                data: data.to_owned(),
                idempotency_key,
            }),
            Some(signer) => DeviceFrame::Totp(TotpFrame {
                uuid: settings.credentials.device_id.clone().unwrap_or_default(),
                otp: signer.next_code().await?,
                payload: TotpPayload::Message {
                    metadata: Some(frame_metadata()),
                    topics: topics.to_vec(),
                    data: data.to_owned(),
                    idempotency_key,
                },
            }),
        };
        self.deliver_frame(settings, &frame.encode(), frame.reply_kind()).await
    }

    async fn deliver_frame(
        &self,
        settings: &Settings,
        frame: &[u8],
        kind: ReplyKind,
    ) -> Result<SendOutcome, DeviceError> {
        let reply = self.exchange(settings, frame).await?;
        let code: ResultCode = parse_reply(kind, &reply);
        tracing::info!("Received response: {}", code);
        self.inner.events.broadcast(&Event::MessageSent(code));
        Ok(SendOutcome::Answered { code, reply })
    }

    async fn exchange(&self, settings: &Settings, frame: &[u8]) -> Result<Vec<u8>, DeviceError> {
        let credentials = &settings.credentials;
        let events = &self.inner.events;
        let network = self.network();
        let timeouts = self.inner.timeouts;
        if let Some(carried) = network
            .carry(&credentials.host, credentials.port, frame, timeouts)
            .await
        {
            // The network's own stack (a modem's socket) carried it.
            return carried.map_err(|e| DeviceError::Unreachable {
                target: format!("{}:{}", credentials.host, credentials.port),
                source: std::io::Error::other(e.to_string()),
            });
        }
        let mut opened = false;
        let result = exchange(&credentials.host, credentials.port, frame, timeouts, || {
            opened = true;
            events.broadcast(&Event::SocketConnected);
        })
        .await;
        if opened {
            events.broadcast(&Event::SocketClosed);
        }
        Ok(result?.reply)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sms_checks_match_hologram_then_e164() {
        assert!(check_sms("+15555550123", "hello").is_ok());
        assert!(matches!(
            check_sms("15555550123", "x"),
            Err(DeviceError::InvalidDestination {
                source: E164Error::NoPlus,
                ..
            })
        ));
        assert!(matches!(
            check_sms("+12ab", "x"),
            Err(DeviceError::InvalidDestination {
                source: E164Error::Digits,
                ..
            })
        ));
        assert!(check_sms("+15555550123", &"é".repeat(160)).is_ok());
        assert!(matches!(
            check_sms("+15555550123", &"é".repeat(161)),
            Err(DeviceError::SmsTooLong { chars: 161 })
        ));
    }

    #[test]
    fn topics_are_checked_before_sending() {
        assert_eq!(parse_topics(&["a", "ü"]).unwrap().len(), 2);
        assert!(matches!(parse_topics(&[""]), Err(DeviceError::InvalidTopic { .. })));
        assert!(matches!(parse_topics(&["a\nb"]), Err(DeviceError::InvalidTopic { .. })));
    }
}
