//! Fuzzes the device frame codec without a network: `check` and `parse`
//! must never panic, and whatever parses must survive an encode round trip.
//!
//! Run: `cd crates/proto/fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run device_frame -- -max_total_time=60`
#![no_main]

use libfuzzer_sys::fuzz_target;
use thingstead_proto::device::{DeviceFrame, ReplyKind, check, parse_reply};

fuzz_target!(|data: &[u8]| {
    let _ = check(data, 4096);
    let _ = parse_reply(ReplyKind::Json, data);
    let _ = parse_reply(ReplyKind::Digits, data);
    if let Ok(frame) = DeviceFrame::parse(data) {
        let bytes = frame.encode();
        assert_eq!(DeviceFrame::parse(&bytes).ok(), Some(frame));
    }
});
