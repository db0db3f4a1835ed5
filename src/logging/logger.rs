//! The server's own log: standard error by default, or appended to
//! `--log-file`, one line per record, `TIME [LEVEL] message`, the time in
//! UTC (RFC 3339, nanoseconds) so that lines from several hosts sort
//! together. Only wstail's own records are written: a dependency's
//! debug/trace records may quote what a client sent (tungstenite's quote
//! text frames raw), and wstail's own records escape every client byte
//! (`connlog::escape`). Under `--inetd`, standard error is often the
//! client's socket itself: logging there would corrupt the connection, so
//! without `--log-file` the log is then dropped. This is a small `log::Log`
//! rather than a logging crate: the format is one line, and the crate and
//! its date library cost more than this file.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::path::Path;
use std::sync::{Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use log::{LevelFilter, Log, Metadata, Record};

use crate::logging::connlog::escape;

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
        None if inetd && stderr_is_socket() => return Ok(()),
        None => Box::new(io::stderr()),
    };
    let logger = Box::leak(Box::new(Logger {
        level,
        out: Mutex::new(out),
    }));
    log::set_logger(logger).map_err(|e| format!("cannot start logging: {e}"))?;
    log::set_max_level(level);
    Ok(())
}

/// Writes each of wstail's records as one line, in one write.
struct Logger {
    level: LevelFilter,
    out: Mutex<Box<dyn Write + Send>>,
}

/// True for a record of wstail's own (the library or the binary), judged by
/// its target, which is the module path unless a record names another.
fn is_own(target: &str) -> bool {
    target == "wstail" || target.starts_with("wstail::")
}

impl Log for Logger {
    fn enabled(&self, meta: &Metadata) -> bool {
        meta.level() <= self.level && is_own(meta.target())
    }

    fn log(&self, record: &Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let line = format_line(SystemTime::now(), record);
        let mut out = self.out.lock().unwrap_or_else(PoisonError::into_inner);
        // Nowhere to report a failing log: the record is lost, not the server.
        let _ = out.write_all(line.as_bytes());
        let _ = out.flush();
    }

    fn flush(&self) {
        let _ = self
            .out
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .flush();
    }
}

/// `TIME [LEVEL] message\n`. Every client byte in a message is already
/// escaped; a message that still holds a control character (a bug) is
/// escaped whole, so that a record stays one line whatever happens.
fn format_line(now: SystemTime, record: &Record) -> String {
    let mut message = record.args().to_string();
    if message.chars().any(char::is_control) {
        message = escape(message.as_bytes());
    }
    format!("{} [{}] {message}\n", rfc3339(now), record.level())
}

/// UTC as RFC 3339 with nanoseconds: `2026-12-02T06:00:13.301268798Z`
/// (always nine digits, so that lines sort by time as text).
fn rfc3339(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, day) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}.{:09}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        d.subsec_nanos()
    )
}

/// Days since 1970-01-01 → (year, month, day) in the proleptic Gregorian
/// calendar (Howard Hinnant's `civil_from_days`, for days ≥ 0).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
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

fn stderr_is_socket() -> bool {
    let Ok(fd) = io::stderr().as_fd().try_clone_to_owned() else {
        return false;
    };
    File::from(fd)
        .metadata()
        .is_ok_and(|m| std::os::unix::fs::FileTypeExt::is_socket(&m.file_type()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn times_are_rfc3339_utc() {
        let at = |s: u64, n: u32| rfc3339(UNIX_EPOCH + Duration::new(s, n));
        assert_eq!(at(0, 0), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(at(951_782_400, 5), "2000-02-29T00:00:00.000000005Z");
        assert_eq!(
            at(1_796_191_213, 301_268_798),
            "2026-12-02T06:00:13.301268798Z"
        );
        assert_eq!(at(4_107_542_399, 0), "2100-02-28T23:59:59.000000000Z");
        assert_eq!(at(4_107_542_400, 0), "2100-03-01T00:00:00.000000000Z");
    }

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

    #[test]
    fn a_record_is_one_line() {
        let args = format_args!("evil\n\x1b]0;pwned\x07");
        let record = Record::builder()
            .args(args)
            .level(log::Level::Info)
            .target("wstail::x")
            .build();
        let line = format_line(UNIX_EPOCH, &record);
        assert_eq!(
            line,
            "1970-01-01T00:00:00.000000000Z [INFO] evil\\x0a\\x1b]0;pwned\\x07\n"
        );
    }
}
