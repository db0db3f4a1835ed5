//! Raw options → checked configuration. `cli.rs` reads the command line into
//! a `RawServe` or `RawTail` (every value still an `OsString`, as given);
//! this module checks each value, canonicalizes the roots and fills in the
//! defaults, giving the `ServeConfig` or `TailConfig` the rest of the crate
//! uses. Each default is named once here, and the help text prints the same
//! names. Every usage error is a `UsageError`, written in one `Display`.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::access::{AccessPolicy, Hosts, Origins, normalize_origin};
use crate::history::timestamp;
use crate::limits::{HEARTBEAT_RANGE, INTERVAL_RANGE, MAX_TOKEN_LEN, PONG_TIMEOUT_RANGE};

/// `wstail serve --listen`.
pub(crate) const DEFAULT_LISTEN: &str = "127.0.0.1:8765";
/// `wstail serve --root`, when none is given: the current directory.
pub(crate) const DEFAULT_ROOT: &str = ".";
/// `wstail serve --lines`: lines sent first when a request names none.
pub(crate) const DEFAULT_SERVE_LINES: usize = 1000;
/// `wstail serve --max-lines`.
pub(crate) const DEFAULT_MAX_LINES: usize = 10_000;
/// `wstail serve --interval`, in seconds.
pub(crate) const DEFAULT_INTERVAL_SECS: f64 = 1.0;
/// `wstail serve --heartbeat`, in seconds.
pub(crate) const DEFAULT_HEARTBEAT_SECS: f64 = 30.0;
/// `wstail serve --pong-timeout`, in seconds.
pub(crate) const DEFAULT_PONG_TIMEOUT_SECS: f64 = 5.0;
/// `wstail serve --max-clients`.
pub(crate) const DEFAULT_MAX_CLIENTS: usize = 1000;
/// `wstail serve --max-per-address`: WebSocket connections one peer
/// address (an IPv6 /64) holds at most; 0 = no such bound.
pub(crate) const DEFAULT_MAX_PER_ADDRESS: usize = 64;
/// `wstail serve --scan-limit`: the most file bytes one request's backward
/// scan (filtered lines, `before=`) covers, as the help prints it.
pub(crate) const DEFAULT_SCAN_LIMIT: &str = "1G";
/// `wstail serve --max-behind`: how far a follower may fall behind the end
/// of a file no longer linked (renamed and deleted) before it is closed, so
/// that a slow reader cannot pin a deleted file's disk space.
pub(crate) const DEFAULT_MAX_BEHIND: &str = "256M";
/// `wstail serve --log-level`.
pub(crate) const DEFAULT_LOG_LEVEL: log::LevelFilter = log::LevelFilter::Info;
/// `wstail tail --lines`.
pub(crate) const DEFAULT_TAIL_LINES: usize = 10;
/// Where the kernel keeps the machine's host name, which the Host rule
/// accepts besides `--allow-host` names.
pub(crate) const HOSTNAME_FILE: &str = "/proc/sys/kernel/hostname";
/// The environment variable read when no `--token` is given.
pub(crate) const TOKEN_VARIABLE: &str = "WSTAIL_TOKEN";

/// What `wstail serve` runs with, every value checked.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub listen: String,
    /// Canonical roots, each an existing directory, without repeats.
    pub roots: Vec<PathBuf>,
    /// Each root as it was given, where that differs from its canonical
    /// path (a symlink on the way), with the canonical path: a request may
    /// use either spelling (`access::unalias`).
    pub(crate) root_aliases: Vec<(PathBuf, PathBuf)>,
    pub lines: usize,
    pub(crate) max_lines: usize,
    pub interval: Duration,
    pub heartbeat: Option<Duration>,
    pub(crate) pong_timeout: Duration,
    pub(crate) max_clients: usize,
    /// `--max-per-address`; 0 = none (behind a proxy).
    pub(crate) max_per_address: usize,
    /// `--max-scans`: CPU-heavy requests at once (`history::turns`).
    pub(crate) max_scans: usize,
    /// Most file bytes one request's backward scan covers.
    pub(crate) scan_limit: u64,
    /// `--max-behind`: bytes a follower may lag behind a deleted file's
    /// end (0: no bound).
    pub(crate) max_behind: u64,
    /// Who may ask: token, `--allow-origin`, `--allow-host`, the machine's
    /// name.
    pub access: AccessPolicy,
    pub(crate) base_path: String,
    pub inetd: bool,
    pub log_file: Option<PathBuf>,
    pub log_level: log::LevelFilter,
}

/// What `wstail tail` runs with.
#[derive(Debug, Clone)]
pub struct TailConfig {
    pub lines: usize,
    pub follow: bool,
    pub html: bool,
    pub token: Option<String>,
    pub retry: bool,
    /// `--since T`, as given (checked; a relative time is counted by the
    /// server, when it is asked).
    pub since: Option<String>,
    /// `--match` / `--exclude` texts, sent as `match=` / `exclude=`.
    pub matches: Vec<String>,
    pub(crate) excludes: Vec<String>,
    /// `--merge`: the URLs as one stream in timestamp order.
    pub merge: bool,
    pub urls: Vec<String>,
}

/// `wstail serve`'s options as given (`None`: not given).
#[derive(Debug, Default)]
pub(crate) struct RawServe {
    pub listen: Option<OsString>,
    pub roots: Vec<OsString>,
    pub lines: Option<OsString>,
    pub(crate) max_lines: Option<OsString>,
    pub interval: Option<OsString>,
    pub heartbeat: Option<OsString>,
    pub(crate) pong_timeout: Option<OsString>,
    pub(crate) max_clients: Option<OsString>,
    pub(crate) max_per_address: Option<OsString>,
    pub(crate) max_scans: Option<OsString>,
    pub(crate) scan_limit: Option<OsString>,
    pub(crate) max_behind: Option<OsString>,
    pub token: Option<OsString>,
    pub(crate) origins: Vec<OsString>,
    pub hosts: Vec<OsString>,
    pub(crate) base_path: Option<OsString>,
    pub inetd: bool,
    pub log_file: Option<OsString>,
    pub log_level: Option<OsString>,
}

/// `wstail tail`'s options as given.
#[derive(Debug, Default)]
pub(crate) struct RawTail {
    pub lines: Option<OsString>,
    pub follow: bool,
    pub html: bool,
    pub token: Option<OsString>,
    pub retry: bool,
    pub since: Option<OsString>,
    pub matches: Vec<OsString>,
    pub(crate) excludes: Vec<OsString>,
    pub merge: bool,
    pub urls: Vec<OsString>,
}

/// A usage error: `main` prints it as one line and exits with status 2.
#[derive(Debug, Clone, PartialEq)]
pub enum UsageError {
    MissingCommand,
    UnknownCommand(String),
    /// An option the subcommand does not have (`cmd` is "serve" or "tail").
    UnknownOption {
        cmd: &'static str,
        opt: String,
    },
    MissingValue {
        cmd: &'static str,
        opt: String,
    },
    /// `--inetd=1`: a flag given a value.
    UnexpectedValue(String),
    /// A bare argument to `wstail serve`.
    ServeArgument(String),
    MissingUrl,
    UrlNotUtf8(String),
    /// A value that is not valid UTF-8 where text is needed.
    NotUtf8 {
        opt: &'static str,
        value: String,
    },
    Count {
        opt: &'static str,
        value: String,
        min: usize,
    },
    Seconds {
        opt: &'static str,
        value: String,
        range: (f64, f64),
    },
    /// A token from `from` (`--token` or the environment variable) with a
    /// character outside `TOKEN_ALPHABET`, or too long.
    Token(&'static str),
    /// `WSTAIL_TOKEN` (or `--token`) set to nothing.
    EmptyToken(&'static str),
    BasePath(String),
    Origin(String),
    Host(String),
    LogLevel(String),
    Root {
        root: String,
        error: String,
    },
    RootNotDir(String),
    /// `--since` not understood: the reason names the forms accepted.
    Since(String),
    /// `--merge` with `--html`.
    MergeHtml,
    /// `--scan-limit`.
    Bytes {
        opt: &'static str,
        value: String,
    },
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use UsageError::*;
        let commands = "use 'wstail serve' or 'wstail tail URL' (see 'wstail --help')";
        match self {
            MissingCommand => write!(f, "missing command: {commands}"),
            UnknownCommand(c) => write!(f, "unknown command '{c}': {commands}"),
            UnknownOption { cmd, opt } => write!(
                f,
                "unknown option '{opt}' for 'wstail {cmd}' (see 'wstail {cmd} --help')"
            ),
            MissingValue { cmd, opt } => write!(
                f,
                "option '{opt}' needs a value (see 'wstail {cmd} --help')"
            ),
            UnexpectedValue(opt) => write!(f, "option '{opt}' takes no value"),
            ServeArgument(a) => write!(
                f,
                "unexpected argument '{a}' for 'wstail serve': roots are given with --root DIR"
            ),
            MissingUrl => f.write_str(
                "missing URL: use 'wstail tail ws://HOST:PORT/PATH' (see 'wstail tail --help')",
            ),
            UrlNotUtf8(u) => write!(
                f,
                "URL '{u}' is not valid UTF-8: percent-encode the path's bytes (%XX)"
            ),
            NotUtf8 { opt, value } => {
                write!(
                    f,
                    "invalid value '{value}' for '{opt}': it is not valid UTF-8"
                )
            }
            Count { opt, value, min } => write!(
                f,
                "invalid value '{value}' for '{opt}': expected a whole number of at least {min}"
            ),
            Seconds {
                opt,
                value,
                range: (min, max),
            } => write!(
                f,
                "invalid value '{value}' for '{opt}': expected seconds from {min} to {max}"
            ),
            Since(reason) => write!(f, "invalid value for '--since': {reason}"),
            Token(from) => write!(
                f,
                "invalid token from {from}: use 1 to {MAX_TOKEN_LEN} characters of {TOKEN_ALPHABET_TEXT} (a URL would mangle others: & # % ? + space, control bytes); for example 'openssl rand -hex 32'"
            ),
            EmptyToken(from) => write!(
                f,
                "the token from {from} is empty: give a token, or leave {from} unset to serve without one"
            ),
            BasePath(v) => write!(
                f,
                "invalid value '{v}' for '--base-path': use a URL path such as /logs (letters, digits, / . _ ~ -)"
            ),
            Origin(v) => write!(
                f,
                "invalid value '{v}' for '--allow-origin': use a browser origin such as https://logs.example.com or '*'"
            ),
            Host(v) => write!(
                f,
                "invalid value '{v}' for '--allow-host': use a host name such as logs.example.org (no port or scheme), or '*'"
            ),
            LogLevel(v) => write!(
                f,
                "invalid value '{v}' for '--log-level': use error, warn, info, debug or trace"
            ),
            Root { root, error } => write!(
                f,
                "root '{root}' cannot be used: {error} (give an existing directory with --root)"
            ),
            RootNotDir(root) => write!(
                f,
                "root '{root}' is not a directory (give a directory with --root)"
            ),
            MergeHtml => f.write_str(
                "'--merge' orders lines by the timestamps of their text: it cannot be used with '--html'",
            ),
            Bytes { opt, value } => write!(
                f,
                "invalid value '{value}' for '{opt}': expected a number of bytes of at least 1, with an optional K, M or G suffix (powers of 1024), such as 512M"
            ),
        }
    }
}

impl std::error::Error for UsageError {}

fn lossy(s: &OsStr) -> String {
    s.to_string_lossy().into_owned()
}

/// A value that must be text (numbers, addresses, names).
fn text(opt: &'static str, value: OsString) -> Result<String, UsageError> {
    value.into_string().map_err(|v| UsageError::NotUtf8 {
        opt,
        value: lossy(&v),
    })
}

fn count(
    opt: &'static str,
    value: Option<OsString>,
    min: usize,
    default: usize,
) -> Result<usize, UsageError> {
    let Some(value) = value else {
        return Ok(default);
    };
    let value = text(opt, value)?;
    match value.parse::<usize>() {
        Ok(n) if n >= min => Ok(n),
        _ => Err(UsageError::Count { opt, value, min }),
    }
}

/// A size in bytes: digits with an optional `K`, `M` or `G` (powers of
/// 1024, either case), at least 1.
fn bytes(opt: &'static str, value: Option<OsString>, default: &str) -> Result<u64, UsageError> {
    let value = match value {
        Some(v) => text(opt, v)?,
        None => default.to_string(),
    };
    let (digits, shift) = match value.as_bytes().last().map(u8::to_ascii_uppercase) {
        Some(b'K') => (&value[..value.len() - 1], 10),
        Some(b'M') => (&value[..value.len() - 1], 20),
        Some(b'G') => (&value[..value.len() - 1], 30),
        _ => (&value[..], 0),
    };
    match digits.parse::<u64>() {
        Ok(n) if n >= 1 && digits.bytes().all(|b| b.is_ascii_digit()) => n
            .checked_mul(1 << shift)
            .ok_or(UsageError::Bytes { opt, value }),
        _ => Err(UsageError::Bytes { opt, value }),
    }
}

fn seconds(
    opt: &'static str,
    value: Option<OsString>,
    range: (f64, f64),
    default: f64,
) -> Result<Duration, UsageError> {
    let Some(value) = value else {
        return Ok(Duration::from_secs_f64(default));
    };
    let value = text(opt, value)?;
    match value.parse::<f64>() {
        Ok(s) if s.is_finite() && (range.0..=range.1).contains(&s) => {
            Ok(Duration::from_secs_f64(s))
        }
        _ => Err(UsageError::Seconds { opt, value, range }),
    }
}

/// The characters a token may hold, as the usage error names them: those
/// that pass through a URL's query unchanged (`&`, `#`, `%`, `?`, `+` and
/// space would end, cut or change it on the way; quotes, brackets and the
/// like get percent-encoded by some clients).
const TOKEN_ALPHABET_TEXT: &str = "A-Z a-z 0-9 - . _ ~ ! $ ' ( ) * , ; = : @ /";

/// Whether `b` may appear in a token (see `TOKEN_ALPHABET_TEXT`).
fn token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$'()*,;=:@/".contains(&b)
}

/// `--token`, else the environment variable. Set but empty is an error, not
/// "no token": a deployment that meant to require one must not silently
/// serve without.
fn token(given: Option<OsString>) -> Result<Option<String>, UsageError> {
    let (from, value) = match given {
        Some(v) => ("--token", v),
        None => match std::env::var_os(TOKEN_VARIABLE) {
            Some(v) => (TOKEN_VARIABLE, v),
            None => return Ok(None),
        },
    };
    if value.is_empty() {
        return Err(UsageError::EmptyToken(from));
    }
    match value.into_string() {
        Ok(t) if t.len() <= MAX_TOKEN_LEN && t.bytes().all(token_byte) => Ok(Some(t)),
        _ => Err(UsageError::Token(from)),
    }
}

impl RawServe {
    /// Checks every value; the roots must exist (they are canonicalized).
    pub fn check(self) -> Result<ServeConfig, UsageError> {
        let listen = match self.listen {
            Some(v) => text("--listen", v)?,
            None => DEFAULT_LISTEN.to_string(),
        };
        let max_lines = count("--max-lines", self.max_lines, 0, DEFAULT_MAX_LINES)?;
        let lines = count("--lines", self.lines, 0, DEFAULT_SERVE_LINES)?.min(max_lines);
        let interval = seconds(
            "--interval",
            self.interval,
            INTERVAL_RANGE,
            DEFAULT_INTERVAL_SECS,
        )?;
        let heartbeat = seconds(
            "--heartbeat",
            self.heartbeat,
            HEARTBEAT_RANGE,
            DEFAULT_HEARTBEAT_SECS,
        )?;
        let pong_timeout = seconds(
            "--pong-timeout",
            self.pong_timeout,
            PONG_TIMEOUT_RANGE,
            DEFAULT_PONG_TIMEOUT_SECS,
        )?;
        let max_clients = count("--max-clients", self.max_clients, 1, DEFAULT_MAX_CLIENTS)?;
        let max_per_address = count(
            "--max-per-address",
            self.max_per_address,
            0,
            DEFAULT_MAX_PER_ADDRESS,
        )?;
        let max_scans = count(
            "--max-scans",
            self.max_scans,
            1,
            crate::history::turns::default_max(),
        )?;
        let scan_limit = bytes("--scan-limit", self.scan_limit, DEFAULT_SCAN_LIMIT)?;
        let max_behind = match self.max_behind {
            Some(v) if v == "0" => 0,
            v => bytes("--max-behind", v, DEFAULT_MAX_BEHIND)?,
        };
        let token = token(self.token)?;
        let origins = origins(self.origins)?;
        let hosts = hosts(self.hosts)?;
        let base_path = match self.base_path {
            Some(v) => base_path(text("--base-path", v)?)?,
            None => String::new(),
        };
        let log_level = match self.log_level {
            Some(v) => log_level(text("--log-level", v)?)?,
            None => DEFAULT_LOG_LEVEL,
        };
        let given = if self.roots.is_empty() {
            vec![OsString::from(DEFAULT_ROOT)]
        } else {
            self.roots
        };
        let roots = roots(&given)?;
        let root_aliases = root_aliases(&given);
        Ok(ServeConfig {
            listen,
            roots,
            root_aliases,
            lines,
            max_lines,
            interval,
            heartbeat: (!heartbeat.is_zero()).then_some(heartbeat),
            pong_timeout,
            max_clients,
            max_per_address,
            max_scans,
            scan_limit,
            max_behind,
            access: AccessPolicy {
                token,
                origins,
                hosts,
                hostname: hostname(),
            },
            base_path,
            inetd: self.inetd,
            log_file: self.log_file.map(PathBuf::from),
            log_level,
        })
    }
}

impl RawTail {
    pub fn check(self) -> Result<TailConfig, UsageError> {
        let lines = count("--lines", self.lines, 0, DEFAULT_TAIL_LINES)?;
        if self.urls.is_empty() {
            return Err(UsageError::MissingUrl);
        }
        if self.merge && self.html {
            return Err(UsageError::MergeHtml);
        }
        let mut urls = Vec::with_capacity(self.urls.len());
        for u in self.urls {
            urls.push(
                u.into_string()
                    .map_err(|u| UsageError::UrlNotUtf8(lossy(&u)))?,
            );
        }
        let since = match self.since {
            Some(v) => {
                let v = text("--since", v)?;
                if let Err(reason) = timestamp::parse_target(&v, SystemTime::now()) {
                    return Err(UsageError::Since(reason));
                }
                Some(v)
            }
            None => None,
        };
        let texts = |opt, given: Vec<OsString>| -> Result<Vec<String>, UsageError> {
            given.into_iter().map(|v| text(opt, v)).collect()
        };
        Ok(TailConfig {
            lines,
            follow: self.follow,
            html: self.html,
            token: token(self.token)?,
            retry: self.retry,
            since,
            matches: texts("--match", self.matches)?,
            excludes: texts("--exclude", self.excludes)?,
            merge: self.merge,
            urls,
        })
    }
}

/// Canonical roots, each an existing directory; any bytes are fine.
fn roots(given: &[OsString]) -> Result<Vec<PathBuf>, UsageError> {
    let mut canonical = Vec::with_capacity(given.len());
    for r in given {
        let c = std::fs::canonicalize(r).map_err(|e| UsageError::Root {
            root: lossy(r),
            error: e.to_string(),
        })?;
        if !c.is_dir() {
            return Err(UsageError::RootNotDir(lossy(r)));
        }
        if !canonical.contains(&c) {
            canonical.push(c);
        }
    }
    Ok(canonical)
}

/// The roots' other spellings: each root as given (made absolute), where it
/// differs from its canonical path, paired with that path. A spelling with
/// `..` is left out: the kernel reads `link/..` through the link, a lexical
/// prefix would not.
fn root_aliases(given: &[OsString]) -> Vec<(PathBuf, PathBuf)> {
    let cwd = std::env::current_dir().unwrap_or_default();
    let mut out = Vec::new();
    for r in given {
        let r = Path::new(r);
        if r.components().any(|c| c == std::path::Component::ParentDir) {
            continue;
        }
        let absolute = cwd.join(r);
        let (Some(alias), Ok(c)) = (
            crate::access::lexical_normalize(absolute.as_os_str().as_bytes()),
            std::fs::canonicalize(r),
        ) else {
            continue;
        };
        if alias != c && !out.iter().any(|(a, _)| *a == alias) {
            out.push((alias, c));
        }
    }
    out
}

/// `--allow-origin`: `*`, or origins `scheme://host[:port]`, lower-cased.
fn origins(given: Vec<OsString>) -> Result<Origins, UsageError> {
    let mut texts = Vec::with_capacity(given.len());
    for o in given {
        texts.push(text("--allow-origin", o)?);
    }
    if texts.iter().any(|o| o == "*") {
        return Ok(Origins::Any);
    }
    let mut list = Vec::with_capacity(texts.len());
    for o in texts {
        list.push(normalize_origin(&o).ok_or(UsageError::Origin(o))?);
    }
    Ok(Origins::List(list))
}

/// `--allow-host`: `*`, or host names (letters, digits, `-`, `_`, `.`),
/// lower-cased.
fn hosts(given: Vec<OsString>) -> Result<Hosts, UsageError> {
    let mut list = Vec::with_capacity(given.len());
    for h in given {
        let h = text("--allow-host", h)?;
        if h == "*" {
            return Ok(Hosts::Any);
        }
        let ok = !h.is_empty()
            && !h.starts_with('.')
            && h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
        if !ok {
            return Err(UsageError::Host(h));
        }
        list.push(h.to_ascii_lowercase());
    }
    Ok(Hosts::List(list))
}

/// The machine's host name from the kernel, if it can be read.
fn hostname() -> Option<String> {
    let name = std::fs::read_to_string(HOSTNAME_FILE).ok()?;
    let name = name.trim();
    (!name.is_empty()).then(|| name.to_string())
}

/// `--base-path`: empty, or `/segment[/segment…]` of URL-safe characters,
/// stored without a trailing slash (it is pasted into URLs and the page).
fn base_path(value: String) -> Result<String, UsageError> {
    let trimmed = value.trim_end_matches('/');
    if trimmed.is_empty() {
        return Ok(String::new());
    }
    let ok = trimmed.starts_with('/')
        && !trimmed.contains("//")
        && trimmed
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._~-".contains(&b));
    if !ok {
        return Err(UsageError::BasePath(value));
    }
    Ok(trimmed.to_string())
}

fn log_level(value: String) -> Result<log::LevelFilter, UsageError> {
    Ok(match value.to_ascii_lowercase().as_str() {
        "error" => log::LevelFilter::Error,
        "warn" => log::LevelFilter::Warn,
        "info" => log::LevelFilter::Info,
        "debug" => log::LevelFilter::Debug,
        "trace" => log::LevelFilter::Trace,
        _ => return Err(UsageError::LogLevel(value)),
    })
}
