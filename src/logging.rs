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

/// Starts logging at `level` to `file` or standard error.
pub fn init(level: LevelFilter, file: Option<&Path>, inetd: bool) -> Result<(), String> {
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

fn stderr_is_socket() -> bool {
    let Ok(fd) = io::stderr().as_fd().try_clone_to_owned() else {
        return false;
    };
    File::from(fd)
        .metadata()
        .is_ok_and(|m| std::os::unix::fs::FileTypeExt::is_socket(&m.file_type()))
}
