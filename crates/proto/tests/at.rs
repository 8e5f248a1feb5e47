//! Property tests of the AT codec: `parse(encode(x)) == x` for command
//! lines, modem output and SMS text; a stream of modem output splits back
//! into its items; nothing panics on arbitrary bytes.

use proptest::prelude::*;
use thingstead_proto::at::*;

const MAX: usize = 4096;

fn name() -> impl Strategy<Value = String> {
    prop_oneof!["\\+[A-Z][A-Z0-9]{0,8}", "&[A-Z]", "[A-Z][0-9]?"]
}

fn string() -> impl Strategy<Value = String> {
    "[^\"\\p{Cc}]{0,24}"
}

fn arg() -> impl Strategy<Value = Arg> {
    prop_oneof![
        any::<i64>().prop_map(Arg::Int),
        string().prop_map(Arg::Str),
        Just(Arg::Empty)
    ]
}

fn command() -> impl Strategy<Value = Command> {
    prop_oneof![
        Just(Command::exec("")),
        (name(), 0..3u8).prop_map(|(n, f)| match f {
            0 => Command::exec(&n),
            1 => Command::read(&n),
            _ => Command {
                name: n,
                form: Form::Test
            },
        }),
        (name(), prop::collection::vec(arg(), 1..6)).prop_map(|(n, args)| Command::set(&n, args)),
    ]
}

fn error_code() -> impl Strategy<Value = ErrorCode> {
    prop_oneof![
        any::<u16>().prop_map(ErrorCode::Code),
        "[A-Za-z][A-Za-z ]{0,20}[A-Za-z]".prop_map(ErrorCode::Text)
    ]
}

fn param() -> impl Strategy<Value = Param> {
    prop_oneof![
        any::<i64>().prop_map(Param::Int),
        string().prop_map(Param::Str),
        "[A-Za-z][A-Za-z ]{0,10}".prop_map(Param::Bare),
        Just(Param::Empty),
    ]
}

fn output() -> impl Strategy<Value = Output> {
    prop_oneof![
        Just(Output::Blank),
        Just(Output::Prompt),
        prop_oneof![
            Just(Final::Ok),
            Just(Final::Error),
            Just(Final::NoCarrier),
            Just(Final::Busy),
            Just(Final::NoAnswer),
            Just(Final::NoDialtone),
            error_code().prop_map(Final::CmeError),
            error_code().prop_map(Final::CmsError),
        ]
        .prop_map(Output::Final),
        ("\\+[A-Z][A-Z0-9]{0,8}", prop::collection::vec(param(), 0..6))
            .prop_filter("a lone empty parameter reads back as none", |(_, p)| p
                != &[Param::Empty])
            .prop_map(|(n, p)| Output::Info(Info::new(&n, p))),
        // Not "at...": that reads back as an echo.
        "[0-9b-z][0-9a-z ]{0,30}".prop_map(Output::Text),
    ]
}

proptest! {
    #[test]
    fn command_lines_round_trip(cmd in command()) {
        let bytes = cmd.encode().expect("encodable by construction");
        prop_assert_eq!(check_command(&bytes, MAX), Ok(Some(bytes.len())));
        prop_assert_eq!(Command::parse(&bytes), Ok(cmd));
    }

    #[test]
    fn modem_output_round_trips(item in output()) {
        let bytes = item.encode().expect("encodable by construction");
        prop_assert_eq!(check(&bytes, MAX), Ok(Some(bytes.len())));
        prop_assert_eq!(Output::parse(&bytes), Ok(item));
    }

    #[test]
    fn a_stream_of_output_splits_back_into_its_items(items in prop::collection::vec(output(), 0..12)) {
        let mut stream = Vec::new();
        for item in &items {
            stream.extend(item.encode().expect("encodable"));
        }
        let mut got = Vec::new();
        let mut rest = &stream[..];
        while let Some(len) = check(rest, MAX).expect("within the limit") {
            got.push(Output::parse(&rest[..len]).expect("parses"));
            rest = &rest[len..];
        }
        prop_assert!(rest.is_empty());
        prop_assert_eq!(got, items);
    }

    #[test]
    fn sms_text_round_trips(text in "[^\u{1a}\u{1b}]{0,160}") {
        let bytes = encode_sms_body(&text).expect("no Ctrl-Z or ESC");
        prop_assert_eq!(check_sms_body(&bytes, MAX), Ok(Some(bytes.len())));
        prop_assert_eq!(parse_sms_body(&bytes), Ok(Some(text)));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = check(&bytes, 64);
        let _ = check_command(&bytes, 64);
        let _ = check_sms_body(&bytes, 64);
        let _ = parse_sms_body(&bytes);
        if let Ok(Output::Info(info)) = Output::parse(&bytes) {
            let _ = Urc::parse(&info);
        }
        if let Ok(cmd) = Command::parse(&bytes) {
            // What parses writes back to something that parses the same.
            if let Ok(again) = cmd.encode() {
                prop_assert_eq!(Command::parse(&again), Ok(cmd));
            }
        }
    }
}
