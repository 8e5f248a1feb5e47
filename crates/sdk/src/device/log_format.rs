//! An optional `tracing-subscriber` formatter that prints the SDK's logs as
//! hologram-python does: `INFO:<classtype>,<msg>` (feature `log-format`).
//!
//! The class type is the SDK component that logged: `DeviceClient`,
//! `OfflineBuffer`, `Network`, `Receiver`, `TotpSigner`; for other targets,
//! the last segment of the target.

use std::fmt;

use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// Formats events as `LEVEL:<classtype>,<msg>`.
///
/// ```
/// use thingstead::device::log_format::ClassTypeFormat;
/// let subscriber = tracing_subscriber::fmt().event_format(ClassTypeFormat).finish();
/// tracing::subscriber::with_default(subscriber, || tracing::info!("hello"));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct ClassTypeFormat;

/// The class type shown for a tracing target.
///
/// ```
/// use thingstead::device::log_format::class_type;
/// assert_eq!(class_type("thingstead::device::send"), "DeviceClient");
/// assert_eq!(class_type("myapp::sensors"), "sensors");
/// ```
pub fn class_type(target: &str) -> &str {
    let mut segments = target.split("::");
    if segments.next() == Some("thingstead") && segments.next() == Some("device") {
        return match segments.next() {
            Some("send" | "flush" | "periodic" | "client" | "builder") => "DeviceClient",
            Some("buffer") => "OfflineBuffer",
            Some("network") => "Network",
            Some("inbound") => "Receiver",
            Some("totp") => "TotpSigner",
            Some(other) => other,
            None => "device",
        };
    }
    target.rsplit("::").next().unwrap_or(target)
}

impl<S, N> FormatEvent<S, N> for ClassTypeFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(&self, ctx: &FmtContext<'_, S, N>, mut writer: Writer<'_>, event: &Event<'_>) -> fmt::Result {
        let meta = event.metadata();
        write!(writer, "{}:{},", meta.level(), class_type(meta.target()))?;
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

/// Installs a global subscriber printing `INFO:<classtype>,<msg>` lines to
/// stderr, filtered by `RUST_LOG` (default `info`).
///
/// ```no_run
/// thingstead::device::log_format::init().ok();
/// ```
pub fn init() -> Result<(), tracing_subscriber::util::TryInitError> {
    use tracing_subscriber::EnvFilter;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .event_format(ClassTypeFormat)
        .finish()
        .try_init()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<u8>>>);

    impl Write for Capture {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lines_are_level_classtype_message() {
        let capture = Capture::default();
        let out = capture.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || out.clone())
            .event_format(ClassTypeFormat)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(target: "thingstead::device::flush", "A buffered message has been sent");
            tracing::warn!(target: "app", "careful");
        });
        let text = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
        assert_eq!(
            text,
            "INFO:DeviceClient,A buffered message has been sent\nWARN:app,careful\n"
        );
    }
}
