//! The command line, read by hand from `std::env::args` (no framework): one
//! loop per subcommand that matches each option, then a check that turns the
//! raw values into a `ServeConfig` or `TailConfig`. Every usage error is one
//! line that names the option and what to do; `main` prints it and exits 2.

use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::limits::{INTERVAL_RANGE, MAX_TOKEN_LEN};

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

pub const HELP: &str = "\
wstail - tail -f over WebSocket

Usage:
  wstail serve [OPTIONS]           serve log files to browsers and terminals
  wstail tail [OPTIONS] URL...     print (and follow) files from a wstail server
  wstail --help | --version

Run 'wstail serve --help' or 'wstail tail --help' for their options,
and 'man wstail' for the protocol, the security model and examples.
";

pub const SERVE_HELP: &str = "\
Usage: wstail serve [OPTIONS]

Serves the files under the roots: the viewer page at http://ADDR/, WebSocket
followers at ws://ADDR/ABSOLUTE/PATH?tail=1, downloads and a file list.

Options:
  -l, --listen ADDR         address to bind [default: 127.0.0.1:8765]
  -r, --root DIR            serve regular files under DIR; repeatable
                            [default: the current directory]
  -n, --lines N             lines sent first when a request names none
                            [default: 1000]
      --max-lines N         upper bound on a request's lines= [default: 10000]
      --interval SECS       idle wait between reads, 0.01-60 [default: 1]
      --heartbeat SECS      send a Ping this often; 0 = off [default: 30]
      --pong-timeout SECS   close a client that has not answered a Ping by
                            then [default: 5]
      --max-clients N       connections served at once; more get HTTP 503
                            [default: 1000]
      --token TOKEN         require this token (query token= or
                            Authorization: Bearer) [default: $WSTAIL_TOKEN,
                            else none]
      --allow-origin ORIGIN browser origin allowed to connect; repeatable;
                            '*' allows any [default: same host only]
      --base-path PREFIX    URL prefix under which a reverse proxy serves us,
                            e.g. /logs [default: none]
      --inetd               serve one connection on standard input (inetd,
                            systemd Accept=yes, tcpserver) [default: off]
      --log-file PATH       append the server's log to PATH
                            [default: standard error]
      --log-level LEVEL     error, warn, info, debug or trace [default: info]
  -h, --help                print this help
  -V, --version             print the version
";

pub const TAIL_HELP: &str = "\
Usage: wstail tail [OPTIONS] URL...

Prints the last lines of each URL (ws://HOST:PORT/ABSOLUTE/PATH; http:// means
the same) and, with -f, follows them. With several URLs every line is prefixed
with its source.

Options:
  -n, --lines N             print the last N lines [default: 10]
  -f, --follow              keep following the files [default: off]
      --html                print the server's HTML fragments instead of text
                            [default: off]
      --token TOKEN         send this token [default: $WSTAIL_TOKEN, else none]
      --retry               reconnect with backoff when a connection drops,
                            resuming without loss or repeats [default: off]
  -h, --help                print this help
  -V, --version             print the version
";

/// What the command line asks for.
#[derive(Debug)]
pub enum Command {
    Help(&'static str),
    Version,
    Serve(ServeConfig),
    Tail(TailConfig),
}

/// Browser origins allowed besides the server's own.
#[derive(Debug, Clone, PartialEq)]
pub enum Origins {
    Any,
    List(Vec<String>),
}

#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub listen: String,
    /// Canonical roots; `config.rs`-style checking happens in `parse_serve`.
    pub roots: Vec<PathBuf>,
    pub lines: usize,
    pub max_lines: usize,
    pub interval: Duration,
    pub heartbeat: Option<Duration>,
    pub pong_timeout: Duration,
    pub max_clients: usize,
    pub token: Option<String>,
    pub origins: Origins,
    pub base_path: String,
    pub inetd: bool,
    pub log_file: Option<PathBuf>,
    pub log_level: log::LevelFilter,
}

#[derive(Debug, Clone)]
pub struct TailConfig {
    pub lines: usize,
    pub follow: bool,
    pub html: bool,
    pub token: Option<String>,
    pub retry: bool,
    pub urls: Vec<String>,
}

/// A usage error: printed as one line, exit status 2.
#[derive(Debug, PartialEq)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn usage<T>(msg: impl Into<String>) -> Result<T, UsageError> {
    Err(UsageError(msg.into()))
}

/// One argument at a time, splitting `--opt=value` and `-nVALUE`.
struct Args {
    rest: std::vec::IntoIter<String>,
    /// A value glued to the option just read (`--lines=5`, `-n5`).
    glued: Option<String>,
    cmd: &'static str,
}

impl Args {
    /// The value of option `opt`, glued or next.
    fn value(&mut self, opt: &str) -> Result<String, UsageError> {
        if let Some(v) = self.glued.take() {
            return Ok(v);
        }
        match self.rest.next() {
            Some(v) => Ok(v),
            None => usage(format!(
                "option '{opt}' needs a value (see 'wstail {} --help')",
                self.cmd
            )),
        }
    }
}

/// Splits `--name=value` / `-xVALUE`; returns the option name and the glued value.
fn split_opt(arg: &str) -> (String, Option<String>) {
    if let Some(long) = arg.strip_prefix("--") {
        match long.split_once('=') {
            Some((name, value)) => (format!("--{name}"), Some(value.to_string())),
            None => (arg.to_string(), None),
        }
    } else if arg.len() > 2 && arg.starts_with('-') && arg.is_char_boundary(2) {
        (arg[..2].to_string(), Some(arg[2..].to_string()))
    } else {
        (arg.to_string(), None)
    }
}

fn parse_count(opt: &str, value: &str, min: usize) -> Result<usize, UsageError> {
    match value.parse::<usize>() {
        Ok(n) if n >= min => Ok(n),
        _ => usage(format!(
            "invalid value '{value}' for '{opt}': expected a whole number of at least {min}"
        )),
    }
}

fn parse_secs(opt: &str, value: &str, min: f64, max: f64) -> Result<Duration, UsageError> {
    match value.parse::<f64>() {
        Ok(s) if s.is_finite() && (min..=max).contains(&s) => Ok(Duration::from_secs_f64(s)),
        _ => usage(format!(
            "invalid value '{value}' for '{opt}': expected seconds from {min} to {max}"
        )),
    }
}

fn check_token(opt: &str, token: String) -> Result<String, UsageError> {
    if token.is_empty()
        || token.len() > MAX_TOKEN_LEN
        || !token.bytes().all(|b| b.is_ascii_graphic())
    {
        return usage(format!(
            "invalid token from {opt}: use 1 to {MAX_TOKEN_LEN} printable ASCII characters without spaces"
        ));
    }
    Ok(token)
}

/// The token from the environment, if set (an empty variable means none).
fn env_token() -> Result<Option<String>, UsageError> {
    match std::env::var_os("WSTAIL_TOKEN") {
        None => Ok(None),
        Some(v) if v.is_empty() => Ok(None),
        Some(v) => match v.into_string() {
            Ok(s) => check_token("WSTAIL_TOKEN", s).map(Some),
            Err(_) => usage("invalid token from WSTAIL_TOKEN: it is not valid UTF-8"),
        },
    }
}

/// Parses the whole command line (without the program name).
pub fn parse(args: Vec<OsString>) -> Result<Command, UsageError> {
    let mut strings = Vec::with_capacity(args.len());
    for a in args {
        match a.into_string() {
            Ok(s) => strings.push(s),
            Err(a) => {
                return usage(format!(
                    "argument '{}' is not valid UTF-8",
                    a.to_string_lossy()
                ));
            }
        }
    }
    let mut it = strings.into_iter();
    match it.next().as_deref() {
        None => {
            usage("missing command: use 'wstail serve' or 'wstail tail URL' (see 'wstail --help')")
        }
        Some("-h" | "--help" | "help") => Ok(Command::Help(HELP)),
        Some("-V" | "--version") => Ok(Command::Version),
        Some("serve") => parse_serve(Args {
            rest: it,
            glued: None,
            cmd: "serve",
        }),
        Some("tail") => parse_tail(Args {
            rest: it,
            glued: None,
            cmd: "tail",
        }),
        Some(other) => usage(format!(
            "unknown command '{other}': use 'wstail serve' or 'wstail tail URL' (see 'wstail --help')"
        )),
    }
}

fn parse_serve(mut args: Args) -> Result<Command, UsageError> {
    let mut listen = "127.0.0.1:8765".to_string();
    let mut roots: Vec<String> = Vec::new();
    let mut lines = None;
    let mut max_lines = 10_000;
    let mut interval = Duration::from_secs(1);
    let mut heartbeat = Some(Duration::from_secs(30));
    let mut pong_timeout = Duration::from_secs(5);
    let mut max_clients = 1000;
    let mut token = None;
    let mut origins: Vec<String> = Vec::new();
    let mut base_path = String::new();
    let mut inetd = false;
    let mut log_file = None;
    let mut log_level = log::LevelFilter::Info;

    while let Some(arg) = args.rest.next() {
        let (opt, glued) = split_opt(&arg);
        args.glued = glued;
        match opt.as_str() {
            "-h" | "--help" => return Ok(Command::Help(SERVE_HELP)),
            "-V" | "--version" => return Ok(Command::Version),
            "-l" | "--listen" => listen = args.value(&opt)?,
            "-r" | "--root" => roots.push(args.value(&opt)?),
            "-n" | "--lines" => lines = Some(parse_count(&opt, &args.value(&opt)?, 0)?),
            "--max-lines" => max_lines = parse_count(&opt, &args.value(&opt)?, 0)?,
            "--interval" => {
                let (lo, hi) = INTERVAL_RANGE;
                interval = parse_secs(&opt, &args.value(&opt)?, lo, hi)?;
            }
            "--heartbeat" => {
                let d = parse_secs(&opt, &args.value(&opt)?, 0.0, 86_400.0)?;
                heartbeat = (!d.is_zero()).then_some(d);
            }
            "--pong-timeout" => pong_timeout = parse_secs(&opt, &args.value(&opt)?, 0.1, 3600.0)?,
            "--max-clients" => max_clients = parse_count(&opt, &args.value(&opt)?, 1)?,
            "--token" => token = Some(check_token("--token", args.value(&opt)?)?),
            "--allow-origin" => origins.push(args.value(&opt)?),
            "--base-path" => base_path = check_base_path(&args.value(&opt)?)?,
            "--inetd" => inetd = true,
            "--log-file" => log_file = Some(PathBuf::from(args.value(&opt)?)),
            "--log-level" => {
                let v = args.value(&opt)?;
                log_level = match v.to_ascii_lowercase().as_str() {
                    "error" => log::LevelFilter::Error,
                    "warn" => log::LevelFilter::Warn,
                    "info" => log::LevelFilter::Info,
                    "debug" => log::LevelFilter::Debug,
                    "trace" => log::LevelFilter::Trace,
                    _ => {
                        return usage(format!(
                            "invalid value '{v}' for '--log-level': use error, warn, info, debug or trace"
                        ));
                    }
                };
            }
            _ if opt.starts_with('-') && opt.len() > 1 => {
                return usage(format!(
                    "unknown option '{opt}' for 'wstail serve' (see 'wstail serve --help')"
                ));
            }
            _ => {
                return usage(format!(
                    "unexpected argument '{arg}' for 'wstail serve': roots are given with --root DIR"
                ));
            }
        }
        if args.glued.is_some() {
            return usage(format!("option '{opt}' takes no value"));
        }
    }
    if token.is_none() {
        token = env_token()?;
    }
    let lines = lines.unwrap_or(1000).min(max_lines);
    if roots.is_empty() {
        roots.push(".".to_string());
    }
    let mut canonical = Vec::with_capacity(roots.len());
    for r in &roots {
        let c = std::fs::canonicalize(r).map_err(|e| {
            UsageError(format!(
                "root '{r}' cannot be used: {e} (give an existing directory with --root)"
            ))
        })?;
        if !c.is_dir() {
            return usage(format!(
                "root '{r}' is not a directory (give a directory with --root)"
            ));
        }
        if !canonical.contains(&c) {
            canonical.push(c);
        }
    }
    let origins = if origins.iter().any(|o| o == "*") {
        Origins::Any
    } else {
        let mut list = Vec::new();
        for o in origins {
            list.push(check_origin(&o)?);
        }
        Origins::List(list)
    };
    Ok(Command::Serve(ServeConfig {
        listen,
        roots: canonical,
        lines,
        max_lines,
        interval,
        heartbeat,
        pong_timeout,
        max_clients,
        token,
        origins,
        base_path,
        inetd,
        log_file,
        log_level,
    }))
}

/// `--base-path`: empty, or `/segment[/segment…]` of URL-safe characters,
/// stored without a trailing slash (it is pasted into URLs and the page).
fn check_base_path(value: &str) -> Result<String, UsageError> {
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
        return usage(format!(
            "invalid value '{value}' for '--base-path': use a URL path such as /logs (letters, digits, / . _ ~ -)"
        ));
    }
    Ok(trimmed.to_string())
}

/// `--allow-origin`: `scheme://host[:port]`, lower-cased, without a path.
fn check_origin(value: &str) -> Result<String, UsageError> {
    match crate::access::normalize_origin(value) {
        Some(o) => Ok(o),
        None => usage(format!(
            "invalid value '{value}' for '--allow-origin': use a browser origin such as https://logs.example.com or '*'"
        )),
    }
}

fn parse_tail(mut args: Args) -> Result<Command, UsageError> {
    let mut lines = 10;
    let mut follow = false;
    let mut html = false;
    let mut token = None;
    let mut retry = false;
    let mut urls = Vec::new();
    let mut only_urls = false;
    while let Some(arg) = args.rest.next() {
        if only_urls || !arg.starts_with('-') || arg == "-" {
            urls.push(arg);
            continue;
        }
        let (opt, glued) = split_opt(&arg);
        args.glued = glued;
        match opt.as_str() {
            "--" => only_urls = true,
            "-h" | "--help" => return Ok(Command::Help(TAIL_HELP)),
            "-V" | "--version" => return Ok(Command::Version),
            "-n" | "--lines" => lines = parse_count(&opt, &args.value(&opt)?, 0)?,
            "-f" | "--follow" => follow = true,
            "--html" => html = true,
            "--token" => token = Some(check_token("--token", args.value(&opt)?)?),
            "--retry" => retry = true,
            _ => {
                return usage(format!(
                    "unknown option '{opt}' for 'wstail tail' (see 'wstail tail --help')"
                ));
            }
        }
        if args.glued.is_some() {
            return usage(format!("option '{opt}' takes no value"));
        }
    }
    if urls.is_empty() {
        return usage(
            "missing URL: use 'wstail tail ws://HOST:PORT/PATH' (see 'wstail tail --help')",
        );
    }
    if token.is_none() {
        token = env_token()?;
    }
    Ok(Command::Tail(TailConfig {
        lines,
        follow,
        html,
        token,
        retry,
        urls,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Command, UsageError> {
        parse(args.iter().map(OsString::from).collect())
    }

    fn serve(args: &[&str]) -> ServeConfig {
        match run(args) {
            Ok(Command::Serve(c)) => c,
            other => panic!("expected serve config, got {other:?}"),
        }
    }

    fn err(args: &[&str]) -> String {
        match run(args) {
            Err(UsageError(m)) => m,
            other => panic!("expected usage error, got {other:?}"),
        }
    }

    #[test]
    fn serve_defaults() {
        let c = serve(&["serve"]);
        assert_eq!(c.listen, "127.0.0.1:8765");
        assert_eq!(c.lines, 1000);
        assert_eq!(c.max_lines, 10_000);
        assert_eq!(c.interval, Duration::from_secs(1));
        assert_eq!(c.heartbeat, Some(Duration::from_secs(30)));
        assert_eq!(c.pong_timeout, Duration::from_secs(5));
        assert_eq!(c.max_clients, 1000);
        assert_eq!(c.origins, Origins::List(vec![]));
        assert_eq!(
            c.roots,
            vec![std::env::current_dir().unwrap().canonicalize().unwrap()]
        );
    }

    #[test]
    fn serve_options_both_spellings() {
        let c = serve(&[
            "serve",
            "-l",
            "0.0.0.0:1",
            "--lines=5",
            "--interval",
            "0.05",
            "--heartbeat=0",
            "--base-path",
            "/logs/",
            "--allow-origin",
            "HTTPS://A.example",
            "--log-level",
            "DEBUG",
        ]);
        assert_eq!(c.listen, "0.0.0.0:1");
        assert_eq!(c.lines, 5);
        assert_eq!(c.interval, Duration::from_millis(50));
        assert_eq!(c.heartbeat, None);
        assert_eq!(c.base_path, "/logs");
        assert_eq!(
            c.origins,
            Origins::List(vec!["https://a.example:443".into()])
        );
        assert_eq!(c.log_level, log::LevelFilter::Debug);
    }

    #[test]
    fn usage_errors_name_the_option() {
        assert_eq!(
            err(&["serve", "--nope"]),
            "unknown option '--nope' for 'wstail serve' (see 'wstail serve --help')"
        );
        assert!(err(&["serve", "--lines", "x"]).contains("'--lines'"));
        assert!(err(&["serve", "--interval", "0"]).contains("'--interval'"));
        assert!(err(&["serve", "--interval", "61"]).contains("'--interval'"));
        assert!(err(&["serve", "--interval", "NaN"]).contains("'--interval'"));
        assert!(err(&["serve", "--max-clients", "0"]).contains("'--max-clients'"));
        assert!(err(&["serve", "--listen"]).contains("'--listen' needs a value"));
        assert!(err(&["serve", "--inetd=1"]).contains("'--inetd' takes no value"));
        assert!(err(&["serve", "--root", "/nonexistent/dir"]).contains("root '/nonexistent/dir'"));
        assert!(err(&["serve", "--base-path", "/a b"]).contains("'--base-path'"));
        assert!(err(&["serve", "--allow-origin", "nope"]).contains("'--allow-origin'"));
        assert!(err(&["serve", "--log-level", "loud"]).contains("'--log-level'"));
        assert!(err(&["serve", "--token", "a b"]).contains("--token"));
        assert!(err(&["frobnicate"]).contains("unknown command 'frobnicate'"));
        assert!(err(&["tail"]).contains("missing URL"));
        assert!(err(&["tail", "-x", "ws://a/b"]).contains("unknown option '-x'"));
    }

    #[test]
    fn lines_default_is_capped_by_max_lines() {
        assert_eq!(serve(&["serve", "--max-lines", "10"]).lines, 10);
    }

    #[test]
    fn tail_options() {
        match run(&["tail", "-n5", "-f", "--retry", "ws://h:1/a", "--", "-odd"]) {
            Ok(Command::Tail(t)) => {
                assert_eq!(t.lines, 5);
                assert!(t.follow && t.retry && !t.html);
                assert_eq!(t.urls, vec!["ws://h:1/a", "-odd"]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn help_lists_every_option_with_its_default() {
        for opt in [
            "--listen",
            "--root",
            "--lines",
            "--max-lines",
            "--interval",
            "--heartbeat",
            "--pong-timeout",
            "--max-clients",
            "--token",
            "--allow-origin",
            "--base-path",
            "--inetd",
            "--log-file",
            "--log-level",
        ] {
            let at = SERVE_HELP
                .find(opt)
                .unwrap_or_else(|| panic!("{opt} missing"));
            let rest = &SERVE_HELP[at..];
            let entry_end = rest[2..].find("\n  -").map_or(rest.len(), |i| i + 2);
            assert!(
                rest[..entry_end].contains("[default:"),
                "{opt} has no default"
            );
        }
    }
}
