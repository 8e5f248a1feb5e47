//! The Engine.IO payload codec: exact bytes the EXP SDK (socketIO-client
//! 0.7.2) reads and writes (WIRE.md B.6), the text and record-separated
//! framings, limits, and `parse(encode(x)) == x` round trips.

use proptest::prelude::*;
use serde_json::json;
use thingstead_proto::engineio::*;

fn limits() -> PayloadLimits {
    PayloadLimits::default()
}

#[test]
fn binary_length_97_is_bytes_09_07() {
    let packet = Packet::Message("a".repeat(96));
    let bytes = binary::encode(std::slice::from_ref(&packet));
    assert_eq!(&bytes[..5], &[0x00, 0x09, 0x07, 0xFF, b'4']);
    assert_eq!(bytes.len(), 4 + 97);
    assert_eq!(binary::check(&bytes, &limits()).unwrap(), Some(bytes.len()));
    assert_eq!(binary::parse(&bytes, &limits()).unwrap(), vec![packet]);
}

#[test]
fn binary_handshake_connect_and_events_as_the_sdk_sees_them() {
    let open = r#"0{"sid":"s1","upgrades":[],"pingInterval":25000,"pingTimeout":60000}"#;
    let mut wire = vec![0x00];
    wire.extend(open.len().to_string().bytes().map(|d| d - b'0'));
    wire.push(0xFF);
    wire.extend_from_slice(open.as_bytes());
    let packets = binary::parse(&wire, &limits()).unwrap();
    assert_eq!(packets, vec![Packet::Open(open[1..].to_owned())]);
    assert_eq!(binary::encode(&packets), wire);

    // The first poll: socket.io CONNECT `40`, then the client's PONG.
    let poll = [0x00, 2, 0xFF, b'4', b'0', 0x00, 1, 0xFF, b'3'];
    let packets = binary::parse(&poll, &limits()).unwrap();
    assert_eq!(packets, vec![Packet::Message("0".into()), Packet::Pong(String::new())]);
    assert_eq!(
        SocketIoPacket::from_engineio(&packets[0]).unwrap(),
        SocketIoPacket::Connect(None)
    );
}

#[test]
fn binary_reads_and_writes_what_socketio_client_0_7_2_writes() {
    // socketIO-client 0.7.2 `encode_engineIO_content` on Python 2.7.18 for
    // [(2, ''), (4, u'2["subscribe",["org:1:ch"]]'), (4, u'2["x","é€"]'), (1, '')]
    // (its `decode_engineIO_content` reads our encoding back the same way).
    let python: &[u8] = &[
        0x00, 0x01, 0xff, 0x32, 0x00, 0x02, 0x08, 0xff, 0x34, 0x32, 0x5b, 0x22, 0x73, 0x75, 0x62, 0x73, 0x63, 0x72,
        0x69, 0x62, 0x65, 0x22, 0x2c, 0x5b, 0x22, 0x6f, 0x72, 0x67, 0x3a, 0x31, 0x3a, 0x63, 0x68, 0x22, 0x5d, 0x5d,
        0x00, 0x01, 0x05, 0xff, 0x34, 0x32, 0x5b, 0x22, 0x78, 0x22, 0x2c, 0x22, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0x22,
        0x5d, 0x00, 0x01, 0xff, 0x31,
    ];
    let packets = vec![
        Packet::Ping(String::new()),
        SocketIoPacket::event("subscribe", vec![json!(["org:1:ch"])]).to_engineio(),
        SocketIoPacket::event("x", vec![json!("é€")]).to_engineio(),
        Packet::Close,
    ];
    assert_eq!(binary::parse(python, &limits()).unwrap(), packets);
    assert_eq!(binary::encode(&packets), python);
}

#[test]
fn binary_counts_utf8_bytes_not_characters() {
    // 42["broadcast","é€😀"]: 21 characters, 27 UTF-8 bytes.
    let text = "2[\"broadcast\",\"é€😀\"]";
    let packet = Packet::Message(text.into());
    let bytes = binary::encode(std::slice::from_ref(&packet));
    assert_eq!(packet.encode().chars().count(), 21);
    assert_eq!(&bytes[..4], &[0x00, 2, 7, 0xFF]);
    assert_eq!(binary::parse(&bytes, &limits()).unwrap(), vec![packet]);
}

#[test]
fn binary_several_packets_in_one_payload() {
    let packets = vec![
        Packet::Ping("probe".into()),
        Packet::Pong("probe".into()),
        Packet::Upgrade,
        Packet::Noop,
        Packet::Close,
        SocketIoPacket::event("subscribe", vec![json!(["a", "b"])]).to_engineio(),
    ];
    let bytes = binary::encode(&packets);
    assert_eq!(&bytes[..10], &[0x00, 6, 0xFF, b'2', b'p', b'r', b'o', b'b', b'e', 0x00]);
    assert_eq!(binary::parse(&bytes, &limits()).unwrap(), packets);
}

#[test]
fn binary_truncated_input_is_incomplete_not_an_error() {
    let bytes = binary::encode(&[Packet::Noop, Packet::Message("2[\"x\",\"é\"]".into())]);
    for cut in 0..bytes.len() {
        if cut == 4 {
            // After the whole first packet: a whole payload of one packet.
            assert_eq!(binary::check(&bytes[..cut], &limits()).unwrap(), Some(4));
            continue;
        }
        assert_eq!(binary::check(&bytes[..cut], &limits()).unwrap(), None, "cut at {cut}");
    }
    assert_eq!(
        binary::parse(&bytes[..bytes.len() - 1], &limits()),
        Err(PayloadError::Truncated)
    );
}

#[test]
fn binary_garbage_is_refused() {
    let cases: &[&[u8]] = &[
        b"97:0{}",                    // text framing where binary is expected
        &[0x02, 1, 0xFF, b'6'],       // unknown marker
        &[0x00, 0xFF, b'6'],          // no length digits
        &[0x00, 1, 10, 0xFF],         // a digit byte above 9
        &[0x00, 0, 0xFF],             // empty packet
        &[0x00, 1, 0xFF, b'9'],       // unknown packet type
        &[0x00, 2, 0xFF, 0xC3, 0x28], // not UTF-8
        &[0x00, 2, 0xFF, b'4', 0xC3], // the length splits a character
    ];
    for case in cases {
        assert!(
            matches!(binary::parse(case, &limits()), Err(PayloadError::Invalid(_))),
            "{case:?} gave {:?}",
            binary::parse(case, &limits())
        );
    }
    assert_eq!(binary::parse(&[0x01, 1, 0xFF, 4], &limits()), Err(PayloadError::Binary));
    assert_eq!(binary::check(&[0x01], &limits()), Err(PayloadError::Binary));
    assert_eq!(
        binary::parse(&[0x00, 2, 0xFF, b'b', b'4'], &limits()),
        Err(PayloadError::Binary)
    );
    assert_eq!(
        binary::parse(&[], &limits()),
        Err(PayloadError::Invalid("empty payload"))
    );
}

#[test]
fn binary_limits_are_enforced_before_the_bytes_arrive() {
    // Ten length digits: refused at the eighth digit, with nothing else sent.
    let attack = [0x00, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9];
    assert_eq!(
        binary::check(&attack, &limits()),
        Err(PayloadError::LengthTooLong { max: 7 })
    );
    assert_eq!(binary::check(&attack[..8], &limits()), Ok(None));
    // A length that cannot fit the payload limit is refused on its header.
    let small = PayloadLimits {
        max_payload_bytes: 100,
        ..limits()
    };
    assert_eq!(
        binary::check(&[0x00, 9, 7, 0xFF], &small),
        Err(PayloadError::TooLarge { max: 100 })
    );
    assert_eq!(binary::check(&[0x00, 9, 6, 0xFF], &small), Ok(None));
    let too_long = binary::encode(&[Packet::Message("x".repeat(200))]);
    assert_eq!(
        binary::check(&too_long, &small),
        Err(PayloadError::TooLarge { max: 100 })
    );
    // One packet too many.
    let few = PayloadLimits {
        max_packets: 3,
        ..limits()
    };
    let bytes = binary::encode(&[Packet::Noop, Packet::Noop, Packet::Noop, Packet::Noop]);
    assert_eq!(binary::check(&bytes[..12], &few), Ok(Some(12)));
    assert_eq!(
        binary::check(&bytes, &few),
        Err(PayloadError::TooManyPackets { max: 3 })
    );
    assert_eq!(
        binary::check(&bytes[..13], &few),
        Err(PayloadError::TooManyPackets { max: 3 })
    );
    // A configured digit limit above 18 still cannot overflow.
    let huge = PayloadLimits {
        max_length_digits: 100,
        max_payload_bytes: usize::MAX,
        ..limits()
    };
    let mut header = vec![0x00];
    header.extend([9; 30]);
    assert_eq!(
        binary::check(&header, &huge),
        Err(PayloadError::LengthTooLong { max: 18 })
    );
}

#[test]
fn text_framing_counts_utf16_units() {
    let packet = Packet::Message("2[\"é😀\"]".into());
    // 4 2 [ " é 😀(2 units) " ] = 9 UTF-16 units, 8 chars, 12 bytes.
    assert_eq!(
        text::encode(std::slice::from_ref(&packet), LengthUnit::Utf16),
        "9:42[\"é😀\"]".as_bytes()
    );
    assert_eq!(
        text::encode(std::slice::from_ref(&packet), LengthUnit::Chars),
        "8:42[\"é😀\"]".as_bytes()
    );
    let wire = "9:42[\"é😀\"]1:6".as_bytes();
    assert_eq!(
        text::parse(wire, LengthUnit::Utf16, &limits()).unwrap(),
        vec![packet.clone(), Packet::Noop]
    );
    // Read with the wrong unit, the length ends inside the next record.
    assert!(text::parse(wire, LengthUnit::Chars, &limits()).is_err());
    // A length that ends between the two halves of a surrogate pair.
    assert_eq!(
        text::parse("2:4😀".as_bytes(), LengthUnit::Utf16, &limits()),
        Err(PayloadError::Invalid("packet length splits a character"))
    );
}

#[test]
fn text_framing_truncated_garbage_and_limits() {
    let wire = "9:42[\"é😀\"]".as_bytes();
    for cut in 1..wire.len() {
        assert_eq!(
            text::check(&wire[..cut], LengthUnit::Utf16, &limits()),
            Ok(None),
            "cut at {cut}"
        );
    }
    assert_eq!(
        text::parse(&wire[..5], LengthUnit::Utf16, &limits()),
        Err(PayloadError::Truncated)
    );
    for case in [&b"x:6"[..], b":6", b"0:", b"1:9", b"2:4\xff", b"\x00\x01\xff6"] {
        assert!(
            matches!(
                text::parse(case, LengthUnit::Utf16, &limits()),
                Err(PayloadError::Invalid(_))
            ),
            "{case:?}"
        );
    }
    assert_eq!(
        text::parse(b"3:b4A", LengthUnit::Utf16, &limits()),
        Err(PayloadError::Binary)
    );
    assert_eq!(
        text::check(b"12345678", LengthUnit::Utf16, &limits()),
        Err(PayloadError::LengthTooLong { max: 7 })
    );
    let small = PayloadLimits {
        max_payload_bytes: 100,
        ..limits()
    };
    assert_eq!(
        text::check(b"98:", LengthUnit::Utf16, &small),
        Err(PayloadError::TooLarge { max: 100 })
    );
}

#[test]
fn record_separated_framing() {
    let packets = vec![
        Packet::Ping(String::new()),
        Packet::Message("2[\"é\"]".into()),
        Packet::Noop,
    ];
    let bytes = record_separator::encode(&packets).unwrap();
    assert_eq!(bytes, "2\u{1e}42[\"é\"]\u{1e}6".as_bytes());
    assert_eq!(record_separator::parse(&bytes, &limits()).unwrap(), packets);
    assert!(record_separator::encode(&[Packet::Message("a\u{1e}b".into())]).is_err());
    assert!(record_separator::parse(b"2\x1e\x1e6", &limits()).is_err());
    let few = PayloadLimits {
        max_packets: 2,
        ..limits()
    };
    assert_eq!(
        record_separator::check(b"2\x1e2\x1e2", &few),
        Err(PayloadError::TooManyPackets { max: 2 })
    );
}

#[test]
fn framings_translate_socketioxide_text_into_xhr2() {
    // What socketioxide writes for an EIO 3 poll, re-framed for the SDK.
    let from = "2:4035:42[\"broadcast\",{\"payload\":\"grüße\"}]".as_bytes();
    let packets = Framing::Text(LengthUnit::Utf16).parse(from, &limits()).unwrap();
    let to = Framing::Binary.encode(&packets).unwrap();
    assert_eq!(&to[..5], &[0x00, 2, 0xFF, b'4', b'0']);
    // 35 characters, 37 UTF-8 bytes (ü and ß take two each).
    assert_eq!(&to[5..9], &[0x00, 3, 7, 0xFF]);
    assert_eq!(Framing::Binary.parse(&to, &limits()).unwrap(), packets);
}

#[test]
fn socketio_packets_the_face_needs() {
    let cases = [
        ("0", SocketIoPacket::Connect(None)),
        (r#"0{"sid":"abc"}"#, SocketIoPacket::connected("abc")),
        (
            r#"4{"message":"invalid token"}"#,
            SocketIoPacket::connect_error("invalid token"),
        ),
        (
            r#"2["subscribe",["org:1:chan"]]"#,
            SocketIoPacket::event("subscribe", vec![json!(["org:1:chan"])]),
        ),
        (
            r#"2["broadcast",{"name":"ünï"}]"#,
            SocketIoPacket::event("broadcast", vec![json!({"name": "ünï"})]),
        ),
        (
            r#"212["ping"]"#,
            SocketIoPacket::Event {
                name: "ping".into(),
                args: vec![],
                ack: Some(12),
            },
        ),
        (
            r#"312[true]"#,
            SocketIoPacket::Ack {
                id: 12,
                args: vec![json!(true)],
            },
        ),
        ("1", SocketIoPacket::Disconnect),
    ];
    for (text, packet) in cases {
        assert_eq!(SocketIoPacket::parse(text).unwrap(), packet, "{text}");
        assert_eq!(packet.encode(), text);
    }
    // Protocol 4 (socket.io 2.x) CONNECT_ERROR carries a bare string; the default
    // namespace may be written out.
    assert_eq!(
        SocketIoPacket::parse(r#"4"nope""#).unwrap(),
        SocketIoPacket::connect_error("nope")
    );
    assert_eq!(SocketIoPacket::parse("0/,").unwrap(), SocketIoPacket::Connect(None));
}

#[test]
fn socketio_refuses_other_namespaces_binary_and_garbage() {
    assert_eq!(
        SocketIoPacket::parse(r#"2/admin,["x"]"#),
        Err(SocketIoError::Namespace("/admin".into()))
    );
    assert_eq!(
        SocketIoPacket::parse("0/chat"),
        Err(SocketIoError::Namespace("/chat".into()))
    );
    assert_eq!(
        SocketIoPacket::parse(r#"51-["x",{"_placeholder":true,"num":0}]"#),
        Err(SocketIoError::Binary)
    );
    assert_eq!(
        SocketIoPacket::from_engineio(&Packet::Noop),
        Err(SocketIoError::NotMessage)
    );
    for bad in [
        "",
        "2",
        "2{}",
        "2[1]",
        "2[]",
        "3[]",
        "0[]",
        "4{}",
        "7",
        "299999999999999999999[\"x\"]",
    ] {
        assert!(
            matches!(SocketIoPacket::parse(bad), Err(SocketIoError::Invalid(_))),
            "{bad:?}"
        );
    }
}

fn packet() -> impl Strategy<Value = Packet> {
    prop_oneof![
        any::<String>().prop_map(Packet::Open),
        Just(Packet::Close),
        any::<String>().prop_map(Packet::Ping),
        any::<String>().prop_map(Packet::Pong),
        any::<String>().prop_map(Packet::Message),
        Just(Packet::Upgrade),
        Just(Packet::Noop),
    ]
}

fn payload() -> impl Strategy<Value = Vec<Packet>> {
    prop::collection::vec(packet(), 1..8)
}

fn wide_limits() -> PayloadLimits {
    PayloadLimits {
        max_payload_bytes: usize::MAX,
        ..PayloadLimits::default()
    }
}

fn framings() -> impl Strategy<Value = Framing> {
    prop_oneof![
        Just(Framing::Binary),
        Just(Framing::Text(LengthUnit::Utf16)),
        Just(Framing::Text(LengthUnit::Chars)),
        Just(Framing::RecordSeparator),
    ]
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<String>().prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..4)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

fn socketio_packet() -> impl Strategy<Value = SocketIoPacket> {
    prop_oneof![
        Just(SocketIoPacket::Connect(None)),
        any::<String>().prop_map(|sid| SocketIoPacket::connected(&sid)),
        Just(SocketIoPacket::Disconnect),
        (
            any::<String>(),
            prop::collection::vec(json_value(), 0..4),
            any::<Option<u64>>()
        )
            .prop_map(|(name, args, ack)| SocketIoPacket::Event { name, args, ack }),
        (any::<u64>(), prop::collection::vec(json_value(), 0..4))
            .prop_map(|(id, args)| SocketIoPacket::Ack { id, args }),
        any::<String>().prop_map(SocketIoPacket::connect_error),
    ]
}

proptest! {
    #[test]
    fn payload_roundtrip_in_every_framing(packets in payload(), framing in framings()) {
        let has_separator = packets.iter().any(|p| p.data().contains('\u{1e}'));
        let encoded = framing.encode(&packets);
        if framing == Framing::RecordSeparator && has_separator {
            prop_assert!(encoded.is_err());
            return Ok(());
        }
        let bytes = encoded.unwrap();
        prop_assert_eq!(framing.check(&bytes, &wide_limits()).unwrap(), Some(bytes.len()));
        prop_assert_eq!(framing.parse(&bytes, &wide_limits()).unwrap(), packets);
    }

    #[test]
    fn length_prefixed_prefixes_are_incomplete(packets in payload(), cut in any::<prop::sample::Index>(), text in any::<bool>()) {
        let framing = if text { Framing::Text(LengthUnit::Utf16) } else { Framing::Binary };
        let bytes = framing.encode(&packets).unwrap();
        let cut = cut.index(bytes.len());
        // A prefix is either a whole payload of fewer packets or incomplete, never an error.
        prop_assert!(framing.check(&bytes[..cut], &wide_limits()).is_ok());
    }

    #[test]
    fn socketio_roundtrip(packet in socketio_packet()) {
        let engineio = packet.to_engineio();
        prop_assert_eq!(SocketIoPacket::from_engineio(&engineio).unwrap(), packet);
    }

    #[test]
    fn parsers_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..64), framing in framings()) {
        let _ = framing.check(&bytes, &limits());
        let _ = framing.parse(&bytes, &limits());
        if let Ok(text) = std::str::from_utf8(&bytes) {
            let _ = SocketIoPacket::parse(text);
        }
    }
}
