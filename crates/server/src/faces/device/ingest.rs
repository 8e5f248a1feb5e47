//! Turns one device frame into a platform call and a result code.

use std::net::SocketAddr;

use thingstead_core::{CoreError, DeviceAuth, ErrorKind, IncomingMessage, Tenant, records::DeviceRecord};
use thingstead_proto::device::{DeviceFrame, E164, IdempotencyKey, ResultCode, Topic, TotpPayload};

use super::DeviceFace;

/// Handles one whole frame; the result code is what the device hears.
/// `Sent` is returned only after the store committed.
pub(crate) async fn handle_frame(face: &DeviceFace, bytes: &[u8], peer: SocketAddr) -> ResultCode {
    let frame = match DeviceFrame::parse(bytes) {
        Ok(f) => f,
        Err(e) => {
            tracing::debug!(%peer, error = %e, "device frame refused");
            return e.result_code();
        }
    };
    let result = match frame {
        // The hot path: key look-up and insert in one store round trip.
        DeviceFrame::Message(m) => face
            .platform
            .ingest_by_devicekey(
                m.key.as_str(),
                incoming(&m.topics, m.data, peer, m.metadata.as_deref(), m.idempotency_key),
            )
            .await
            .map(|_| ()),
        DeviceFrame::Sms(s) => match authenticate(face, DeviceAuth::DeviceKey(s.key.as_str().to_owned())).await {
            Ok((tenant, device)) => queue_sms(face, &tenant, &device, &s.destination, &s.text).await,
            Err(code) => return code,
        },
        DeviceFrame::Totp(t) => match authenticate(
            face,
            DeviceAuth::Totp {
                uuid: t.uuid,
                code: t.otp,
            },
        )
        .await
        {
            Ok((tenant, device)) => match t.payload {
                TotpPayload::Message {
                    metadata,
                    topics,
                    data,
                    idempotency_key,
                } => face
                    .platform
                    .ingest_message(
                        &tenant,
                        &device,
                        incoming(&topics, data, peer, metadata.as_deref(), idempotency_key),
                    )
                    .await
                    .map(|_| ()),
                TotpPayload::Sms { destination, text } => queue_sms(face, &tenant, &device, &destination, &text).await,
            },
            Err(code) => return code,
        },
    };
    match result {
        Ok(()) => ResultCode::Sent,
        Err(e) => {
            let code = match e.kind() {
                ErrorKind::Invalid => ResultCode::PayloadInvalid,
                ErrorKind::Unauthorized => ResultCode::AuthInvalid,
                _ => ResultCode::Internal,
            };
            if code == ResultCode::AuthInvalid {
                // Unknown keys are the client's problem; at warn they would let anyone flood the log.
                tracing::debug!(%peer, error = %e, "device frame refused");
            } else {
                tracing::warn!(%peer, error = %e, code = code.code(), "device frame not stored");
            }
            code
        }
    }
}

async fn authenticate(face: &DeviceFace, auth: DeviceAuth) -> Result<(Tenant, DeviceRecord), ResultCode> {
    face.platform
        .authenticate_device(&auth)
        .await
        .map_err(|e| match e.kind() {
            ErrorKind::Unauthorized | ErrorKind::NotFound => ResultCode::AuthInvalid,
            _ => {
                tracing::warn!(error = %e, "device authentication failed on the store");
                ResultCode::Internal
            }
        })
}

fn incoming<'a>(
    topics: &[Topic],
    data: String,
    peer: SocketAddr,
    metadata: Option<&'a str>,
    idempotency_key: Option<IdempotencyKey>,
) -> IncomingMessage<'a> {
    IncomingMessage {
        topics: topics.iter().map(|t| t.as_str().to_owned()).collect(),
        payload: data.into_bytes(),
        peer: peer.to_string(),
        metadata,
        idempotency_key: idempotency_key.map(|k| k.as_str().to_owned()),
    }
}

async fn queue_sms(
    face: &DeviceFace,
    tenant: &Tenant,
    device: &DeviceRecord,
    destination: &E164,
    text: &str,
) -> Result<(), CoreError> {
    face.platform
        .queue_sms(tenant, Some(&device.uuid), destination, text)
        .await
        .map(|_| ())
}
