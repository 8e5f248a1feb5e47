//! Turns one device frame into a platform call and a result code.

use std::net::SocketAddr;

use thingstead_core::{CoreError, DeviceAuth, ErrorKind, IncomingMessage, Tenant, records::DeviceRecord};
use thingstead_proto::device::{DeviceFrame, E164, IdempotencyKey, ResultCode, Topic, TotpPayload};

use super::DeviceFace;
use super::auth_guard::Method;
use super::codes::result_code;

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
    // Each arm asks the guard before any store look-up: a throttled address
    // or a locked-out device learns nothing from its frame.
    let result = match frame {
        // The hot path: key look-up and insert in one store round trip.
        DeviceFrame::Message(m) => {
            let method = Method::DeviceKey(m.key.as_str());
            if face.guard.refuses(peer, method) {
                return ResultCode::AuthInvalid;
            }
            let message = incoming(&m.topics, m.data, peer, m.metadata.as_deref(), m.idempotency_key);
            match face.platform.ingest_by_devicekey(m.key.as_str(), message).await {
                Ok(_) => {
                    face.guard.succeeded(peer, method);
                    Ok(())
                }
                Err(e) if e.kind() == ErrorKind::Unauthorized => return auth_failed(face, peer, method),
                Err(e) => Err(e),
            }
        }
        DeviceFrame::Sms(s) => {
            let method = Method::DeviceKey(s.key.as_str());
            if face.guard.refuses(peer, method) {
                return ResultCode::AuthInvalid;
            }
            match authenticate(face, DeviceAuth::DeviceKey(s.key.as_str().to_owned()), peer, method).await {
                Ok((tenant, device)) => queue_sms(face, &tenant, &device, &s.destination, &s.text).await,
                Err(code) => return code,
            }
        }
        DeviceFrame::Totp(t) => {
            let method = Method::Totp(&t.uuid);
            if face.guard.refuses(peer, method) {
                return ResultCode::AuthInvalid;
            }
            let auth = DeviceAuth::Totp {
                uuid: t.uuid.clone(),
                code: t.otp,
            };
            match authenticate(face, auth, peer, method).await {
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
                    TotpPayload::Sms { destination, text } => {
                        queue_sms(face, &tenant, &device, &destination, &text).await
                    }
                },
                Err(code) => return code,
            }
        }
    };
    match result {
        Ok(()) => ResultCode::Sent,
        Err(e) => not_stored(&e, peer),
    }
}

/// Checks credentials; failures are counted against the address (and the
/// device, for TOTP) and answered 3.
async fn authenticate(
    face: &DeviceFace,
    auth: DeviceAuth,
    peer: SocketAddr,
    method: Method<'_>,
) -> Result<(Tenant, DeviceRecord), ResultCode> {
    match face.platform.authenticate_device(&auth).await {
        Ok(found) => {
            face.guard.succeeded(peer, method);
            Ok(found)
        }
        Err(e) => match result_code(e.kind()) {
            ResultCode::AuthInvalid => Err(auth_failed(face, peer, method)),
            _ => Err(not_stored(&e, peer)),
        },
    }
}

fn auth_failed(face: &DeviceFace, peer: SocketAddr, method: Method<'_>) -> ResultCode {
    face.guard.failed(peer, method);
    ResultCode::AuthInvalid
}

/// The code for a failure past authentication, logged with its context.
fn not_stored(e: &CoreError, peer: SocketAddr) -> ResultCode {
    let code = result_code(e.kind());
    match e.kind() {
        ErrorKind::Internal => tracing::error!(%peer, error = %e, code = code.code(), "device frame not stored"),
        ErrorKind::Unavailable | ErrorKind::Conflict => {
            tracing::warn!(%peer, error = %e, code = code.code(), "device frame not stored")
        }
        _ => tracing::debug!(%peer, error = %e, code = code.code(), "device frame refused"),
    }
    code
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
