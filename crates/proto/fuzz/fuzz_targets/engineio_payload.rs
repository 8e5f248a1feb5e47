//! Fuzzes the Engine.IO payload codec without a network: `check` and
//! `parse` of every framing and the socket.io packet parser must never
//! panic, and whatever parses must survive an encode round trip (a
//! socket.io packet must at least parse again).
//!
//! Run: `cd crates/proto/fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run engineio_payload -- -max_total_time=60`
#![no_main]

use libfuzzer_sys::fuzz_target;
use thingstead_proto::engineio::{Framing, LengthUnit, PayloadLimits, SocketIoPacket};

const FRAMINGS: [Framing; 4] = [
    Framing::Binary,
    Framing::Text(LengthUnit::Utf16),
    Framing::Text(LengthUnit::Chars),
    Framing::RecordSeparator,
];

fuzz_target!(|data: &[u8]| {
    let limits = PayloadLimits {
        max_packets: 64,
        max_payload_bytes: 4096,
        max_length_digits: 7,
    };
    for framing in FRAMINGS {
        let _ = framing.check(data, &limits);
        if let Ok(packets) = framing.parse(data, &limits) {
            let bytes = framing.encode(&packets).ok();
            assert!(bytes.is_some(), "parsed packets must encode");
            if let Some(bytes) = bytes {
                assert_eq!(framing.parse(&bytes, &limits).ok(), Some(packets.clone()));
            }
            for packet in &packets {
                // Equality is not asserted: a JSON float may re-read one ULP apart.
                if let Ok(sio) = SocketIoPacket::from_engineio(packet) {
                    assert!(SocketIoPacket::from_engineio(&sio.to_engineio()).is_ok());
                }
            }
        }
    }
});
