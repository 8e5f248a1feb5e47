//! The one table from core error kinds to device result codes.

use thingstead_core::ErrorKind;
use thingstead_proto::device::ResultCode;

/// The result code a device hears for a core error of this kind.
pub(crate) fn result_code(kind: ErrorKind) -> ResultCode {
    match kind {
        ErrorKind::Invalid | ErrorKind::TooLarge => ResultCode::PayloadInvalid,
        // Unknown key or uuid, bad code, or a device that may not do this:
        // all one answer, so the code tells a guesser nothing more.
        ErrorKind::Unauthorized | ErrorKind::Forbidden | ErrorKind::NotFound => ResultCode::AuthInvalid,
        ErrorKind::Conflict | ErrorKind::Unavailable | ErrorKind::Internal => ResultCode::Internal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_device_code() {
        let table = [
            (ErrorKind::Invalid, 4),
            (ErrorKind::NotFound, 3),
            (ErrorKind::Conflict, 6),
            (ErrorKind::Unauthorized, 3),
            (ErrorKind::Forbidden, 3),
            (ErrorKind::Unavailable, 6),
            (ErrorKind::Internal, 6),
        ];
        for (kind, code) in table {
            assert_eq!(result_code(kind).code(), code, "{kind:?}");
        }
    }
}
