//! The server's own log, through `log` and `simplelog`: standard error by
//! default, or appended to `--log-file`. Timestamps are UTC (RFC 3339) so
//! that lines from several hosts sort together. Under `--inetd`, standard
//! error is often the client's socket itself: logging there would corrupt
//! the connection, so without `--log-file` the log is then dropped.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsFd;
use std::path::Path;

use simplelog::{ConfigBuilder, LevelFilter, WriteLogger};

/// Starts logging at `level` to `file` or standard error, panics included.
pub fn init(level: LevelFilter, file: Option<&Path>, inetd: bool) -> Result<(), String> {
    log_panics();
    let config = ConfigBuilder::new()
        .set_time_format_rfc3339()
        .set_thread_level(LevelFilter::Off)
        .set_target_level(LevelFilter::Off)
        .set_location_level(LevelFilter::Off)
        .build();
    let result = match file {
        Some(path) => {
            let f = OpenOptions::new().create(true).append(true).open(path).map_err(|e| {
                format!(
                    "cannot open the log file '{}': {e} (check --log-file and its directory's permissions)",
                    path.display()
                )
            })?;
            WriteLogger::init(level, config, f)
        }
        None if inetd && stderr_is_socket() => return Ok(()),
        None => WriteLogger::init(level, config, io::stderr()),
    };
    result.map_err(|e| format!("cannot start logging: {e}"))
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
        log::error!(
            "BUG: thread '{name}' panicked{at}: {what}; only its connection is closed (please report this with the lines around it)"
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
