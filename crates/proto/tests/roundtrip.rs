//! Property tests: `parse(encode(x)) == x` for every frame kind, and the
//! parser never panics on arbitrary bytes.

use proptest::prelude::*;
use thingstead_proto::device::*;

fn key() -> impl Strategy<Value = DeviceKey> {
    "[a-z0-9]{8}".prop_map(|s| DeviceKey::parse(&s).unwrap())
}

fn topics() -> impl Strategy<Value = Vec<Topic>> {
    prop::collection::vec("[^\\p{Cc}]{1,20}".prop_map(|s| Topic::parse(&s).unwrap()), 0..4)
}

fn metadata() -> impl Strategy<Value = Option<String>> {
    prop::option::of("[a-z0-9.-]{0,20}".prop_map(|s| format!("\u{1}{s}")))
}

fn e164() -> impl Strategy<Value = E164> {
    "\\+[1-9][0-9]{7,14}".prop_map(|s| E164::parse(&s).unwrap())
}

fn idempotency_key() -> impl Strategy<Value = Option<IdempotencyKey>> {
    prop::option::of("[A-Za-z0-9_.:-]{1,64}".prop_map(|s| IdempotencyKey::parse(&s).unwrap()))
}

fn frame() -> impl Strategy<Value = DeviceFrame> {
    prop_oneof![
        (key(), metadata(), topics(), any::<String>(), idempotency_key()).prop_map(
            |(key, metadata, topics, data, idempotency_key)| DeviceFrame::Message(MessageFrame {
                key,
                metadata,
                topics,
                data,
                idempotency_key
            })
        ),
        (key(), e164(), "[^\r]{0,160}").prop_map(|(key, destination, text)| DeviceFrame::Sms(SmsFrame {
            key,
            destination,
            text
        })),
        (
            "[a-f0-9-]{36}",
            "[0-9]{6}",
            metadata(),
            topics(),
            any::<String>(),
            idempotency_key()
        )
            .prop_map(|(uuid, otp, metadata, topics, data, idempotency_key)| {
                DeviceFrame::Totp(TotpFrame {
                    uuid,
                    otp,
                    payload: TotpPayload::Message {
                        metadata,
                        topics,
                        data,
                        idempotency_key,
                    },
                })
            }),
        ("[a-f0-9-]{36}", "[0-9]{6}", e164(), "[^\r]{0,160}").prop_map(|(uuid, otp, destination, text)| {
            DeviceFrame::Totp(TotpFrame {
                uuid,
                otp,
                payload: TotpPayload::Sms { destination, text },
            })
        }),
    ]
}

proptest! {
    #[test]
    fn parse_encode_roundtrip(f in frame()) {
        let bytes = f.encode();
        let len = check(&bytes, bytes.len() + 1).unwrap().unwrap();
        prop_assert_eq!(len, bytes.len());
        prop_assert_eq!(DeviceFrame::parse(&bytes).unwrap(), f);
    }

    #[test]
    fn parser_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = check(&bytes, 256);
        let _ = DeviceFrame::parse(&bytes);
        let _ = parse_reply(ReplyKind::Json, &bytes);
        let _ = parse_reply(ReplyKind::Digits, &bytes);
    }
}

#[test]
fn hologram_python_frame_parses() {
    let raw = b"{\"k\": \"abcdefgh\", \"m\": \"\\u0001agnostic-0.9.1\", \"t\": [\"a\", \"b\"], \"d\": \"hello\"}\r\r";
    let DeviceFrame::Message(m) = DeviceFrame::parse(raw).unwrap() else {
        panic!("not a message")
    };
    assert_eq!(m.key.as_str(), "abcdefgh");
    assert_eq!(m.metadata.as_deref(), Some("\u{1}agnostic-0.9.1"));
    assert_eq!(m.topics.iter().map(Topic::as_str).collect::<Vec<_>>(), ["a", "b"]);
    assert_eq!(m.data, "hello");
    assert_eq!(DeviceFrame::Message(m).encode(), raw);
}

#[test]
fn errors_map_to_documented_codes() {
    let code = |b: &[u8]| DeviceFrame::parse(b).unwrap_err().result_code().code();
    assert_eq!(code(b"not json\r\r"), 2);
    assert_eq!(code(b"{\"k\": \"abc\r\r"), 2);
    assert_eq!(code(b"{\"d\": \"x\"}\r\r"), 3);
    assert_eq!(code(b"{\"k\": \"abcdefgh\", \"t\": [\"\"], \"d\": \"x\"}"), 8);
    assert_eq!(code(b"{\"k\": \"abcdefgh\", \"t\": [1], \"d\": \"x\"}"), 8);
    assert_eq!(code(b"{\"k\": \"abcdefgh\", \"m\": 5, \"d\": \"x\"}"), 7);
    assert_eq!(code(b"{\"k\": \"abcdefgh\", \"d\": 5}"), 4);
    assert_eq!(code(b"Sabcdefgh+12ab hello\r\r"), 2);
    assert_eq!(code(b"Sabc"), 3);
    assert_eq!(code(b"{\"k\": \"abcdefgh\", \"d\": \"x\", \"i\": \"has space\"}"), 2);
    assert_eq!(code(b"{\"k\": \"abcdefgh\", \"d\": \"x\", \"i\": 7}"), 2);
    assert_eq!(check(&[b'x'; 10], 10).unwrap_err().result_code().code(), 5);
}
