//! The command line, read by hand from `std::env::args_os` (no framework),
//! the way lexopt does: `Parser` splits the arguments into options and
//! values (`--lines=5`, `--lines 5`, `-n5`, `-n 5`, clustered flags such as
//! `-fn 20`, `--` before values that start with `-`), and one loop per
//! subcommand matches each option into a `RawServe` or `RawTail`. Checking
//! the values is `config.rs`'s job, and so is every usage error. Values stay
//! `OsString` until checked, so a path may hold any bytes.
//!
//! The help texts live here too; they print each default from its named
//! constant in `config.rs`.

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};

use crate::cli::config::{
    DEFAULT_HEARTBEAT_SECS, DEFAULT_INTERVAL_SECS, DEFAULT_LISTEN, DEFAULT_LOG_LEVEL,
    DEFAULT_MAX_BEHIND, DEFAULT_MAX_CLIENTS, DEFAULT_MAX_LINES, DEFAULT_MAX_PER_ADDRESS,
    DEFAULT_PONG_TIMEOUT_SECS, DEFAULT_SCAN_LIMIT, DEFAULT_SERVE_LINES, DEFAULT_TAIL_LINES,
    RawServe, RawTail, ServeConfig, TOKEN_VARIABLE, TailConfig, UsageError,
};
use crate::limits::INTERVAL_RANGE;

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

pub(crate) const HELP: &str = "\
wstail - tail -f over WebSocket

Usage:
  wstail serve [OPTIONS]           serve log files to browsers and terminals
  wstail tail [OPTIONS] URL...     print (and follow) files from a wstail server
  wstail --help | --version

Run 'wstail serve --help' or 'wstail tail --help' for their options,
and 'man wstail' for the protocol, the security model and examples.
";

/// `wstail serve --help`.
pub(crate) fn serve_help() -> String {
    let (interval_min, interval_max) = INTERVAL_RANGE;
    let log_level = DEFAULT_LOG_LEVEL.as_str().to_ascii_lowercase();
    format!(
        "\
Usage: wstail serve [OPTIONS]

Serves the files under the roots: the viewer page at http://ADDR/, WebSocket
followers at ws://ADDR/ABSOLUTE/PATH?tail=1, downloads and a file list. A log's
older generations are read too, gzip ones through the inflater.

Options:
  -l, --listen ADDR         address to bind [default: {DEFAULT_LISTEN}]
  -r, --root DIR            serve regular files under DIR; repeatable
                            [default: the current directory]
  -n, --lines N             lines sent first when a request names none
                            [default: {DEFAULT_SERVE_LINES}]
      --max-lines N         upper bound on a request's lines= [default: {DEFAULT_MAX_LINES}]
      --interval SECS       idle wait between reads, {interval_min}-{interval_max} [default: {DEFAULT_INTERVAL_SECS}]
      --heartbeat SECS      send a Ping this often; 0 = off [default: {DEFAULT_HEARTBEAT_SECS}]
      --pong-timeout SECS   close a client that has not answered a Ping by
                            then [default: {DEFAULT_PONG_TIMEOUT_SECS}]
      --max-clients N       connections served at once; more get HTTP 503
                            [default: {DEFAULT_MAX_CLIENTS}]
      --max-per-address N   WebSocket connections one client address (IPv6:
                            its /64) may hold; more get HTTP 429; 0 = no
                            bound, behind a proxy [default: {DEFAULT_MAX_PER_ADDRESS}]
      --max-scans N         CPU-heavy requests (filtered scans, since=,
                            timelines, gzip) run at once; the next waits
                            its turn [default: the number of CPUs]
      --scan-limit BYTES    most file bytes one request may scan for
                            filtered lines, before= or since= (a gzip file's
                            uncompressed bytes); K, M, G suffixes
                            [default: {DEFAULT_SCAN_LIMIT}]
      --max-behind BYTES    close a follower that falls this far behind the
                            end of a deleted file; 0 = no bound
                            [default: {DEFAULT_MAX_BEHIND}]
      --token TOKEN         require this token (query token= or
                            Authorization: Bearer) [default: ${TOKEN_VARIABLE},
                            else none]
      --allow-origin ORIGIN browser origin allowed to connect; repeatable;
                            '*' allows any [default: same host only]
      --allow-host NAME     DNS name accepted in the Host header (against
                            DNS rebinding); repeatable; '*' accepts any; any
                            name is accepted when a token is required
                            [default: IP addresses, localhost and this
                            machine's host name]
      --base-path PREFIX    URL prefix under which a reverse proxy serves us,
                            e.g. /logs [default: none]
      --inetd               serve one connection on standard input (inetd,
                            systemd Accept=yes, tcpserver) [default: off]
      --log-file PATH       append the server's log to PATH
                            [default: standard error]
      --log-level LEVEL     error, warn, info, debug or trace [default: {log_level}]
  -h, --help                print this help
  -V, --version             print the version
"
    )
}

/// `wstail tail --help`.
pub(crate) fn tail_help() -> String {
    format!(
        "\
Usage: wstail tail [OPTIONS] URL...

Prints the last lines of each URL (ws://HOST:PORT/ABSOLUTE/PATH; http:// means
the same) and, with -f, follows them. With several URLs every line is prefixed
with its source. The log text is printed as it is; what a server says about a
connection (a refusal, a close) is printed with control characters escaped.

Options:
  -n, --lines N             print the last N lines [default: {DEFAULT_TAIL_LINES}]
  -f, --follow              keep following the files [default: off]
      --html                print the server's HTML fragments instead of text
                            [default: off]
      --token TOKEN         send this token [default: ${TOKEN_VARIABLE}, else none]
      --retry               reconnect with backoff when a connection drops or
                            the file is missing or not a readable regular
                            file, resuming without loss or repeats
                            [default: off]
      --since T             start at the first line stamped at or after T
                            instead of at the last lines: 2026-12-01T14:02:00Z,
                            \"2026-12-01 14:02\" (the file's own clock),
                            -90s, -15m, -2h, -1d [default: off]
      --match TEXT          print only lines that contain TEXT (repeatable:
                            any of them; plain text, ASCII case-insensitive)
      --exclude TEXT        leave out lines that contain TEXT (repeatable)
      --merge               print the URLs (on one server or several) as one
                            stream in the order of the lines' timestamps:
                            the last N lines of the merged sequence (or those
                            since T), then what is appended; ties in the
                            order of the URLs [default: off]
  -h, --help                print this help
  -V, --version             print the version
"
    )
}

/// What the command line asks for.
#[derive(Debug)]
// Made once per process and moved once: boxing the large variant saves nothing.
#[allow(clippy::large_enum_variant)]
pub enum Command {
    Help(String),
    Version,
    Serve(ServeConfig),
    Tail(TailConfig),
}

/// Parses the whole command line (without the program name).
pub fn parse(args: Vec<OsString>) -> Result<Command, UsageError> {
    let mut args = args.into_iter();
    let Some(first) = args.next() else {
        return Err(UsageError::MissingCommand);
    };
    match first.to_str() {
        Some("-h" | "--help" | "help") => Ok(Command::Help(HELP.to_string())),
        Some("-V" | "--version") => Ok(Command::Version),
        Some("serve") => parse_serve(Parser::new(args, "serve")),
        Some("tail") => parse_tail(Parser::new(args, "tail")),
        _ => Err(UsageError::UnknownCommand(
            first.to_string_lossy().into_owned(),
        )),
    }
}

fn parse_serve(mut p: Parser) -> Result<Command, UsageError> {
    let mut raw = RawServe::default();
    while let Some(arg) = p.next()? {
        let opt = match arg {
            Arg::Opt(opt) => opt,
            Arg::Value(v) => {
                return Err(UsageError::ServeArgument(v.to_string_lossy().into_owned()));
            }
        };
        match opt.as_str() {
            "-h" | "--help" => return Ok(Command::Help(serve_help())),
            "-V" | "--version" => return Ok(Command::Version),
            "-l" | "--listen" => raw.listen = Some(p.value()?),
            "-r" | "--root" => raw.roots.push(p.value()?),
            "-n" | "--lines" => raw.lines = Some(p.value()?),
            "--max-lines" => raw.max_lines = Some(p.value()?),
            "--interval" => raw.interval = Some(p.value()?),
            "--heartbeat" => raw.heartbeat = Some(p.value()?),
            "--pong-timeout" => raw.pong_timeout = Some(p.value()?),
            "--max-clients" => raw.max_clients = Some(p.value()?),
            "--max-per-address" => raw.max_per_address = Some(p.value()?),
            "--max-scans" => raw.max_scans = Some(p.value()?),
            "--scan-limit" => raw.scan_limit = Some(p.value()?),
            "--max-behind" => raw.max_behind = Some(p.value()?),
            "--token" => raw.token = Some(p.value()?),
            "--allow-origin" => raw.origins.push(p.value()?),
            "--allow-host" => raw.hosts.push(p.value()?),
            "--base-path" => raw.base_path = Some(p.value()?),
            "--inetd" => raw.inetd = true,
            "--log-file" => raw.log_file = Some(p.value()?),
            "--log-level" => raw.log_level = Some(p.value()?),
            _ => return Err(p.unknown(opt)),
        }
    }
    raw.check().map(Command::Serve)
}

fn parse_tail(mut p: Parser) -> Result<Command, UsageError> {
    let mut raw = RawTail::default();
    while let Some(arg) = p.next()? {
        let opt = match arg {
            Arg::Opt(opt) => opt,
            Arg::Value(url) => {
                raw.urls.push(url);
                continue;
            }
        };
        match opt.as_str() {
            "-h" | "--help" => return Ok(Command::Help(tail_help())),
            "-V" | "--version" => return Ok(Command::Version),
            "-n" | "--lines" => raw.lines = Some(p.value()?),
            "-f" | "--follow" => raw.follow = true,
            "--html" => raw.html = true,
            "--token" => raw.token = Some(p.value()?),
            "--retry" => raw.retry = true,
            "--since" => raw.since = Some(p.value()?),
            "--match" => raw.matches.push(p.value()?),
            "--exclude" => raw.excludes.push(p.value()?),
            "--merge" => raw.merge = true,
            _ => return Err(p.unknown(opt)),
        }
    }
    raw.check().map(Command::Tail)
}

/// One item of the command line.
#[derive(Debug, PartialEq)]
enum Arg {
    /// An option as spelled: `-n` or `--lines`.
    Opt(String),
    /// Anything else (or anything after `--`).
    Value(OsString),
}

/// Splits arguments into options and values, with lexopt's rules.
struct Parser {
    args: std::vec::IntoIter<OsString>,
    /// What follows the last short option in its cluster: `n20` after the
    /// `f` of `-fn20`. More options, or the value of the last one.
    cluster: Option<Vec<u8>>,
    /// The value after `=` of the last long option (`--lines=5`).
    glued: Option<OsString>,
    /// The last option read, for errors.
    last: String,
    /// After `--`, every argument is a value.
    only_values: bool,
    cmd: &'static str,
}

impl Parser {
    fn new(args: std::vec::IntoIter<OsString>, cmd: &'static str) -> Parser {
        Parser {
            args,
            cluster: None,
            glued: None,
            last: String::new(),
            only_values: false,
            cmd,
        }
    }

    /// The next option or value; `None` at the end.
    fn next(&mut self) -> Result<Option<Arg>, UsageError> {
        if self.glued.is_some() {
            // The option before took no value, yet one was glued to it.
            return Err(UsageError::UnexpectedValue(std::mem::take(&mut self.last)));
        }
        if let Some(rest) = self.cluster.take() {
            return Ok(Some(self.short(&rest)));
        }
        let Some(arg) = self.args.next() else {
            return Ok(None);
        };
        if self.only_values {
            return Ok(Some(Arg::Value(arg)));
        }
        let bytes = arg.as_bytes();
        if bytes == b"--" {
            self.only_values = true;
            return self.next();
        }
        if let Some(long) = bytes.strip_prefix(b"--") {
            let (name, value) = match long.iter().position(|&b| b == b'=') {
                Some(i) => (&long[..i], Some(&long[i + 1..])),
                None => (long, None),
            };
            self.last = format!("--{}", String::from_utf8_lossy(name));
            self.glued = value.map(|v| OsString::from_vec(v.to_vec()));
            return Ok(Some(Arg::Opt(self.last.clone())));
        }
        if bytes.len() > 1 && bytes[0] == b'-' {
            return Ok(Some(self.short(&bytes[1..])));
        }
        Ok(Some(Arg::Value(arg)))
    }

    /// The first short option of `rest`; what follows waits in `cluster`.
    fn short(&mut self, rest: &[u8]) -> Arg {
        let valid = match std::str::from_utf8(rest) {
            Ok(s) => s,
            Err(e) => std::str::from_utf8(&rest[..e.valid_up_to()]).unwrap_or_default(),
        };
        let Some(c) = valid.chars().next() else {
            // Not UTF-8: name the whole rest as the unknown option.
            self.last = format!("-{}", String::from_utf8_lossy(rest));
            return Arg::Opt(self.last.clone());
        };
        let after = &rest[c.len_utf8()..];
        if !after.is_empty() {
            self.cluster = Some(after.to_vec());
        }
        self.last = format!("-{c}");
        Arg::Opt(self.last.clone())
    }

    /// The value of the option just read: glued (`--lines=5`, `-n5`, `-n=5`)
    /// or the next argument, whatever it looks like.
    fn value(&mut self) -> Result<OsString, UsageError> {
        if let Some(v) = self.glued.take() {
            return Ok(v);
        }
        if let Some(rest) = self.cluster.take() {
            let rest = rest.strip_prefix(b"=").unwrap_or(&rest);
            return Ok(OsString::from_vec(rest.to_vec()));
        }
        self.args.next().ok_or_else(|| UsageError::MissingValue {
            cmd: self.cmd,
            opt: std::mem::take(&mut self.last),
        })
    }

    fn unknown(&mut self, opt: String) -> UsageError {
        // An unknown option's glued value is not looked at.
        self.glued = None;
        self.cluster = None;
        UsageError::UnknownOption { cmd: self.cmd, opt }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Origins;
    use std::time::Duration;

    fn run(args: &[&str]) -> Result<Command, UsageError> {
        parse(args.iter().map(OsString::from).collect())
    }

    fn serve(args: &[&str]) -> ServeConfig {
        match run(args) {
            Ok(Command::Serve(c)) => c,
            other => panic!("expected serve config, got {other:?}"),
        }
    }

    fn tail(args: &[&str]) -> TailConfig {
        match run(args) {
            Ok(Command::Tail(c)) => c,
            other => panic!("expected tail config, got {other:?}"),
        }
    }

    fn err(args: &[&str]) -> String {
        match run(args) {
            Err(e) => e.to_string(),
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
        assert_eq!(c.max_per_address, 64);
        assert_eq!(
            c.max_scans,
            std::thread::available_parallelism().map_or(1, |n| n.get())
        );
        assert_eq!(c.scan_limit, 1 << 30);
        assert_eq!(c.access.origins, Origins::List(vec![]));
        assert_eq!(c.log_level, log::LevelFilter::Info);
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
            c.access.origins,
            Origins::List(vec!["https://a.example:443".into()])
        );
        assert_eq!(c.log_level, log::LevelFilter::Debug);
        assert_eq!(serve(&["serve", "-n5"]).lines, 5);
        assert_eq!(serve(&["serve", "-n=5"]).lines, 5);
        assert_eq!(serve(&["serve", "-l0.0.0.0:2"]).listen, "0.0.0.0:2");
        let any = serve(&["serve", "--allow-origin", "nope", "--allow-origin=*"]);
        assert_eq!(any.access.origins, Origins::Any);
    }

    #[test]
    fn scan_limit_takes_suffixes() {
        for (given, bytes) in [
            ("1", 1u64),
            ("4096", 4096),
            ("64K", 64 << 10),
            ("512m", 512 << 20),
            ("2G", 2 << 30),
        ] {
            assert_eq!(serve(&["serve", "--scan-limit", given]).scan_limit, bytes);
        }
        for bad in [
            "0",
            "",
            "K",
            "1T",
            "-1",
            "1.5G",
            "+1",
            "99999999999999999999G",
        ] {
            assert!(
                err(&["serve", "--scan-limit", bad]).starts_with(&format!(
                    "invalid value '{bad}' for '--scan-limit': expected a number of bytes"
                )),
                "{bad}"
            );
        }
    }

    const BAD_TOKEN: &str = "invalid token from --token: use 1 to 1024 characters of A-Z a-z 0-9 - . _ ~ ! $ ' ( ) * , ; = : @ / (a URL would mangle others: & # % ? + space, control bytes); for example 'openssl rand -hex 32'";

    #[test]
    fn usage_errors_are_exact() {
        let cases: &[(&[&str], &str)] = &[
            (
                &[],
                "missing command: use 'wstail serve' or 'wstail tail URL' (see 'wstail --help')",
            ),
            (
                &["frobnicate"],
                "unknown command 'frobnicate': use 'wstail serve' or 'wstail tail URL' (see 'wstail --help')",
            ),
            (
                &["serve", "--nope"],
                "unknown option '--nope' for 'wstail serve' (see 'wstail serve --help')",
            ),
            (
                &["serve", "--nope=1"],
                "unknown option '--nope' for 'wstail serve' (see 'wstail serve --help')",
            ),
            (
                &["serve", "-x"],
                "unknown option '-x' for 'wstail serve' (see 'wstail serve --help')",
            ),
            (
                &["serve", "stray"],
                "unexpected argument 'stray' for 'wstail serve': roots are given with --root DIR",
            ),
            (
                &["serve", "--listen"],
                "option '--listen' needs a value (see 'wstail serve --help')",
            ),
            (
                &["serve", "-r"],
                "option '-r' needs a value (see 'wstail serve --help')",
            ),
            (&["serve", "--inetd=1"], "option '--inetd' takes no value"),
            (
                &["serve", "--max-scans", "0"],
                "invalid value '0' for '--max-scans': expected a whole number of at least 1",
            ),
            (
                &["serve", "--lines", "x"],
                "invalid value 'x' for '--lines': expected a whole number of at least 0",
            ),
            (
                &["serve", "-n", "-1"],
                "invalid value '-1' for '--lines': expected a whole number of at least 0",
            ),
            (
                &["serve", "--max-clients", "0"],
                "invalid value '0' for '--max-clients': expected a whole number of at least 1",
            ),
            (
                &["serve", "--interval", "0"],
                "invalid value '0' for '--interval': expected seconds from 0.01 to 60",
            ),
            (
                &["serve", "--interval", "61"],
                "invalid value '61' for '--interval': expected seconds from 0.01 to 60",
            ),
            (
                &["serve", "--interval", "NaN"],
                "invalid value 'NaN' for '--interval': expected seconds from 0.01 to 60",
            ),
            (
                &["serve", "--heartbeat", "-1"],
                "invalid value '-1' for '--heartbeat': expected seconds from 0 to 86400",
            ),
            (
                &["serve", "--pong-timeout", "0"],
                "invalid value '0' for '--pong-timeout': expected seconds from 0.1 to 3600",
            ),
            (
                &["serve", "--root", "/nonexistent/dir"],
                "root '/nonexistent/dir' cannot be used: No such file or directory (os error 2) (give an existing directory with --root)",
            ),
            (
                &["serve", "--root", "/dev/null"],
                "root '/dev/null' is not a directory (give a directory with --root)",
            ),
            (
                &["serve", "--base-path", "/a b"],
                "invalid value '/a b' for '--base-path': use a URL path such as /logs (letters, digits, / . _ ~ -)",
            ),
            (
                &["serve", "--allow-origin", "nope"],
                "invalid value 'nope' for '--allow-origin': use a browser origin such as https://logs.example.com or '*'",
            ),
            (
                &["serve", "--log-level", "loud"],
                "invalid value 'loud' for '--log-level': use error, warn, info, debug or trace",
            ),
            (&["serve", "--token", "a b"], BAD_TOKEN),
            (&["serve", "--token", "a&b"], BAD_TOKEN),
            (&["serve", "--token", "a#b"], BAD_TOKEN),
            (&["serve", "--token", "a%41"], BAD_TOKEN),
            (&["serve", "--token", "a?b"], BAD_TOKEN),
            (&["serve", "--token", "a+b"], BAD_TOKEN),
            (&["serve", "--token", "a\x1bb"], BAD_TOKEN),
            (&["tail", "--token", "a\tb", "ws://a/b"], BAD_TOKEN),
            (
                &["serve", "--token="],
                "the token from --token is empty: give a token, or leave --token unset to serve without one",
            ),
            (
                &["tail"],
                "missing URL: use 'wstail tail ws://HOST:PORT/PATH' (see 'wstail tail --help')",
            ),
            (
                &["tail", "-x", "ws://a/b"],
                "unknown option '-x' for 'wstail tail' (see 'wstail tail --help')",
            ),
            (
                &["tail", "-fx", "ws://a/b"],
                "unknown option '-x' for 'wstail tail' (see 'wstail tail --help')",
            ),
            (
                &["tail", "-f5", "ws://a/b"],
                "unknown option '-5' for 'wstail tail' (see 'wstail tail --help')",
            ),
            (
                &["tail", "ws://a/b", "-fn"],
                "option '-n' needs a value (see 'wstail tail --help')",
            ),
            (
                &["tail", "--follow=yes", "ws://a/b"],
                "option '--follow' takes no value",
            ),
            (
                &["tail", "-n", "many", "ws://a/b"],
                "invalid value 'many' for '--lines': expected a whole number of at least 0",
            ),
        ];
        for (args, want) in cases {
            assert_eq!(err(args), *want, "{args:?}");
        }
    }

    #[test]
    fn lines_default_is_capped_by_max_lines() {
        assert_eq!(serve(&["serve", "--max-lines", "10"]).lines, 10);
    }

    #[test]
    fn tail_options() {
        let t = tail(&["tail", "-n5", "-f", "--retry", "ws://h:1/a", "--", "-odd"]);
        assert_eq!(t.lines, 5);
        assert!(t.follow && t.retry && !t.html);
        assert_eq!(t.urls, vec!["ws://h:1/a", "-odd"]);
        let d = tail(&["tail", "ws://h:1/a", "-"]);
        assert_eq!(d.lines, 10);
        assert!(!d.follow && !d.retry);
        assert_eq!(d.urls, vec!["ws://h:1/a", "-"]);
        assert!(d.since.is_none() && d.matches.is_empty() && d.excludes.is_empty());
        assert!(!d.merge);
        let m = tail(&["tail", "--merge", "-f", "ws://h:1/a", "ws://g:2/b"]);
        assert!(m.merge && m.follow);
        assert_eq!(
            err(&["tail", "--merge", "--html", "ws://h:1/a"]),
            "'--merge' orders lines by the timestamps of their text: it cannot be used with '--html'"
        );
    }

    #[test]
    fn history_options() {
        let t = tail(&[
            "tail",
            "--since",
            "-15m",
            "--match",
            "error",
            "--match=warn ing",
            "--exclude",
            "healthcheck",
            "ws://h:1/a",
        ]);
        assert_eq!(t.since.as_deref(), Some("-15m"));
        assert_eq!(t.matches, vec!["error", "warn ing"]);
        assert_eq!(t.excludes, vec!["healthcheck"]);
        assert!(
            tail(&["tail", "--since", "2026-12-01 14:02", "ws://h/a"])
                .since
                .is_some()
        );
        let e = err(&["tail", "--since", "yesterday", "ws://h:1/a"]);
        assert!(
            e.starts_with("invalid value for '--since': 'yesterday' is not a time")
                && e.contains("-15m"),
            "{e}"
        );
        assert!(err(&["tail", "ws://h:1/a", "--match"]).contains("needs a value"));
    }

    #[test]
    fn clustered_short_options() {
        for args in [
            &["tail", "-fn", "20", "ws://h:1/a"][..],
            &["tail", "-fn20", "ws://h:1/a"],
            &["tail", "-fn=20", "ws://h:1/a"],
            &["tail", "ws://h:1/a", "-f", "-n20"],
            &["tail", "-f", "--lines=20", "ws://h:1/a"],
        ] {
            let t = tail(args);
            assert!(t.follow, "{args:?}");
            assert_eq!(t.lines, 20, "{args:?}");
            assert_eq!(t.urls, vec!["ws://h:1/a"], "{args:?}");
        }
        assert!(matches!(run(&["tail", "-fh"]), Ok(Command::Help(_))));
    }

    #[test]
    fn a_root_may_be_any_bytes() {
        let not_utf8 = |prefix: &[u8]| {
            let mut b = prefix.to_vec();
            b.push(0xff);
            OsString::from_vec(b)
        };
        let dir = std::env::temp_dir().join(not_utf8(
            format!("wstail-cli-root-{}-", std::process::id()).as_bytes(),
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let log = dir.join(not_utf8(b"log"));
        let args = vec![
            OsString::from("serve"),
            OsString::from("--root"),
            dir.clone().into_os_string(),
            OsString::from("--log-file"),
            log.clone().into_os_string(),
        ];
        let got = parse(args);
        let canonical = dir.canonicalize().unwrap();
        let _ = std::fs::remove_dir(&dir);
        match got {
            Ok(Command::Serve(c)) => {
                assert_eq!(c.roots, vec![canonical]);
                assert_eq!(c.log_file, Some(log));
            }
            other => panic!("{other:?}"),
        }
        let bad = vec![OsString::from("tail"), not_utf8(b"ws://h/")];
        assert_eq!(
            parse(bad).unwrap_err().to_string(),
            "URL 'ws://h/\u{fffd}' is not valid UTF-8: percent-encode the path's bytes (%XX)"
        );
        let bad = vec![OsString::from("serve"), not_utf8(b"--listen=")];
        assert_eq!(
            parse(bad).unwrap_err().to_string(),
            "invalid value '\u{fffd}' for '--listen': it is not valid UTF-8"
        );
    }

    #[test]
    fn help_shows_the_named_defaults() {
        let help = serve_help();
        for line in [
            "  -l, --listen ADDR         address to bind [default: 127.0.0.1:8765]",
            "                            [default: 1000]",
            "      --max-lines N         upper bound on a request's lines= [default: 10000]",
            "      --interval SECS       idle wait between reads, 0.01-60 [default: 1]",
            "      --heartbeat SECS      send a Ping this often; 0 = off [default: 30]",
            "                            then [default: 5]",
            "                            Authorization: Bearer) [default: $WSTAIL_TOKEN,",
            "      --log-level LEVEL     error, warn, info, debug or trace [default: info]",
        ] {
            assert!(help.lines().any(|l| l == line), "{line:?} not in\n{help}");
        }
        assert!(
            tail_help()
                .lines()
                .any(|l| l == "  -n, --lines N             print the last N lines [default: 10]")
        );
    }

    #[test]
    fn help_lists_every_option_with_its_default() {
        let help = serve_help();
        for opt in [
            "--listen",
            "--root",
            "--lines",
            "--max-lines",
            "--interval",
            "--heartbeat",
            "--pong-timeout",
            "--max-clients",
            "--max-per-address",
            "--max-scans",
            "--scan-limit",
            "--max-behind",
            "--token",
            "--allow-origin",
            "--base-path",
            "--inetd",
            "--log-file",
            "--log-level",
        ] {
            let at = help.find(opt).unwrap_or_else(|| panic!("{opt} missing"));
            let rest = &help[at..];
            let entry_end = rest[2..].find("\n  -").map_or(rest.len(), |i| i + 2);
            assert!(
                rest[..entry_end].contains("[default:"),
                "{opt} has no default"
            );
        }
    }
}
