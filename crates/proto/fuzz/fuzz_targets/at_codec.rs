//! Fuzzes the AT codec (modem output, command lines, SMS text): nothing
//! panics, and whatever parses and encodes reads back the same.
//!
//! Run: `cd crates/proto/fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run at_codec -- -max_total_time=60`
#![no_main]

use libfuzzer_sys::fuzz_target;
use thingstead_proto::at::{Command, Output, Urc, check, check_command, check_sms_body, parse_sms_body};

fuzz_target!(|data: &[u8]| {
    let _ = check(data, 1024);
    let _ = check_command(data, 1024);
    let _ = check_sms_body(data, 1024);
    let _ = parse_sms_body(data);
    if let Ok(output) = Output::parse(data) {
        if let Output::Info(info) = &output {
            let _ = Urc::parse(info);
        }
        if let Ok(bytes) = output.encode() {
            assert_eq!(Output::parse(&bytes).ok(), Some(output));
        }
    }
    if let Ok(command) = Command::parse(data) {
        if let Ok(bytes) = command.encode() {
            assert_eq!(Command::parse(&bytes).ok(), Some(command));
        }
    }
});
