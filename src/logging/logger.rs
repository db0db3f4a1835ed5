//! The server's own log: standard error by default, or appended to
//! `--log-file`, one line per record, `TIME [LEVEL] message`, the time in
//! UTC (RFC 3339 to the nanosecond, trailing zeros of the fraction left
//! out, as simplelog writes it) so that lines from several hosts compare. simplelog's `WriteLogger` writes it, with an allow filter on
//! wstail's own targets: a dependency's debug/trace records may quote what
//! a client sent (tungstenite's quote text frames raw), and wstail's own
//! records escape every client byte (`connlog::escape`). In front of it a
//! fence (`Fence`) admits wstail's targets only (exactly: `wstail` or
//! `wstail::…`) and escapes a message that still holds a control character
//! (a bug), so that a record stays one line whatever happens; each line
//! reaches the file in one write (`LineWriter`). Under `--inetd`, standard
//! error is often the client's socket itself: logging there would corrupt
//! the connection, so without `--log-file` the log is then dropped. Panics
//! go to the log too (`log_panics`).

use std::fs::OpenOptions;
use std::io::{self, LineWriter, Write};
use std::path::Path;

use log::{LevelFilter, Log, Metadata, Record};
use simplelog::{ConfigBuilder, LevelPadding, WriteLogger};

use crate::logging::connlog::escape;
use crate::net::is_socket;

/// Starts logging at `level` to `file` or standard error, panics included.
pub fn init(level: LevelFilter, file: Option<&Path>, inetd: bool) -> Result<(), String> {
    log_panics();
    let out: Box<dyn Write + Send> = match file {
        Some(path) => Box::new(
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| {
                    format!(
                        "cannot open the log file '{}': {e} (check --log-file and its directory's permissions)",
                        path.display()
                    )
                })?,
        ),
        None if inetd && is_socket(&io::stderr()) => return Ok(()),
        None => Box::new(io::stderr()),
    };
    let logger = Box::leak(Box::new(Fence {
        inner: writer(level, out),
    }));
    log::set_logger(logger).map_err(|e| format!("cannot start logging: {e}"))?;
    log::set_max_level(level);
    Ok(())
}

/// simplelog's logger with wstail's format, writing each line in one write.
fn writer<W: Write + Send + 'static>(
    level: LevelFilter,
    out: W,
) -> Box<WriteLogger<LineWriter<W>>> {
    let config = ConfigBuilder::new()
        .add_filter_allow_str("wstail")
        .set_time_format_rfc3339()
        .set_level_padding(LevelPadding::Off)
        .set_thread_level(LevelFilter::Off)
        .set_target_level(LevelFilter::Off)
        .set_location_level(LevelFilter::Off)
        .build();
    WriteLogger::new(level, config, LineWriter::new(out))
}

/// Admits wstail's own records only and keeps each one line, then hands
/// it to simplelog.
struct Fence<L> {
    inner: L,
}

/// True for a record of wstail's own (the library or the binary), judged by
/// its target, which is the module path unless a record names another.
fn is_own(target: &str) -> bool {
    target == "wstail" || target.starts_with("wstail::")
}

impl<L: Log> Log for Fence<L> {
    fn enabled(&self, meta: &Metadata) -> bool {
        is_own(meta.target()) && self.inner.enabled(meta)
    }

    fn log(&self, record: &Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        // Every client byte in a message is already escaped; a message that
        // still holds a control character (a bug) is escaped whole.
        let message = record.args().to_string();
        if !message.chars().any(char::is_control) {
            return self.inner.log(record);
        }
        let escaped = escape(message.as_bytes());
        self.inner.log(
            &Record::builder()
                .args(format_args!("{escaped}"))
                .metadata(record.metadata().clone())
                .module_path(record.module_path())
                .file(record.file())
                .line(record.line())
                .build(),
        );
    }

    fn flush(&self) {
        self.inner.flush();
    }
}

/// Sends a panic's message to the log instead of standard error (which
/// under `--inetd` may be the client's socket). A panic in a client's thread
/// ends that thread only: its connection closes, its slot is given back
/// (guards' `Drop`) and the server goes on; the connection's own log line
/// then says that its thread panicked.
fn log_panics() {
    std::panic::set_hook(Box::new(|info| {
        let thread = std::thread::current();
        let name = thread.name().unwrap_or("unnamed");
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(no message)".to_string());
        let at = info
            .location()
            .map_or_else(String::new, |l| format!(" at {}:{}", l.file(), l.line()));
        // The message may quote a client's bytes.
        log::error!(
            "BUG: thread '{name}' panicked{at}: {}; only its connection is closed (please report this with the lines around it)",
            escape(what.as_bytes())
        );
    }));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[test]
    fn only_wstail_records_are_written() {
        for (target, own) in [
            ("wstail", true),
            ("wstail::serve::conn", true),
            ("tungstenite::protocol", false),
            ("wstail_other", false),
            ("", false),
        ] {
            assert_eq!(is_own(target), own, "{target}");
        }
    }

    /// What the logger wrote, shared with the test.
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_record_is_one_line() {
        let sink = Sink::default();
        let fence = Fence {
            inner: writer(LevelFilter::Trace, sink.clone()),
        };
        let record = |target: &'static str, args| {
            fence.log(
                &Record::builder()
                    .args(args)
                    .level(log::Level::Info)
                    .target(target)
                    .build(),
            )
        };
        record("wstail::x", format_args!("evil\n\x1b]0;pwned\x07"));
        record("tungstenite::protocol", format_args!("raw\n"));
        record("wstail_other", format_args!("raw\n"));
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        let (time, line) = text.split_once(' ').unwrap();
        assert_eq!(line, "[INFO] evil\\x0a\\x1b]0;pwned\\x07\n");
        assert_rfc3339_utc(time);
    }

    /// `2026-12-02T06:00:13.301268798Z`, the fraction's trailing zeros (or
    /// the whole fraction) left out.
    fn assert_rfc3339_utc(time: &str) {
        let t = time.as_bytes();
        let digits = |r: std::ops::Range<usize>| t[r].iter().all(u8::is_ascii_digit);
        assert!(t.len() >= 20 && t.len() <= 30, "{time}");
        assert!(digits(0..4) && digits(5..7) && digits(8..10), "{time}");
        assert!(digits(11..13) && digits(14..16) && digits(17..19), "{time}");
        assert_eq!(
            (t[4], t[7], t[10], t[13], t[16], t[t.len() - 1]),
            (b'-', b'-', b'T', b':', b':', b'Z'),
            "{time}"
        );
        if t.len() > 20 {
            assert!(t[19] == b'.' && digits(20..t.len() - 1), "{time}");
            assert_ne!(t[t.len() - 2], b'0', "{time}");
        }
    }
}
