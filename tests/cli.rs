//! The command line and the server's own log: help and version, one-line
//! usage errors with exit status 2, a taken address with exit status 1, and
//! one log line per connection (peer, path, outcome, bytes, duration) in
//! `--log-file`, filtered by `--log-level`.
use crate::common::*;
use std::process::Command;
use std::time::Duration;

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(BIN).args(args).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn help_and_version() {
    let (code, out, _) = run(&["--help"]);
    assert_eq!(code, Some(0));
    assert!(out.contains("wstail serve") && out.contains("wstail tail"));
    // Every option is checked against the man page in tests/manpage.rs and
    // against its default in src/cli/args.rs; here, that the binary prints them.
    let (code, out, _) = run(&["serve", "--help"]);
    assert_eq!(code, Some(0));
    for default in [
        "127.0.0.1:8765",
        "1000]",
        "10000]",
        "[default: 1]",
        "30]",
        "5]",
        "WSTAIL_TOKEN",
        "info]",
    ] {
        assert!(
            out.contains(default),
            "serve --help lacks the default {default}"
        );
    }
    let (code, out, _) = run(&["--version"]);
    assert_eq!(code, Some(0));
    assert_eq!(out.trim(), format!("wstail {}", env!("CARGO_PKG_VERSION")));
}

#[test]
fn usage_errors_are_one_line_with_status_2() {
    for (args, needle) in [
        (&["serve", "--bogus"][..], "'--bogus'"),
        (&["serve", "--lines", "many"], "'--lines'"),
        (&["serve", "--interval", "0.001"], "'--interval'"),
        (&["serve", "--heartbeat", "-1"], "'--heartbeat'"),
        (&["serve", "--log-level", "chatty"], "'--log-level'"),
        (&["serve", "--root"], "'--root' needs a value"),
        (&["nonsense"], "'nonsense'"),
        (&[], "missing command"),
    ] {
        let (code, out, err) = run(args);
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(out.is_empty());
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(
            err.starts_with("wstail: ") && err.contains(needle),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn a_root_that_is_not_utf8_is_served() {
    use std::os::unix::ffi::OsStrExt;
    let _w = watchdog(Duration::from_secs(30));
    let dir = TempDir::new("root-bytes");
    let root = dir.path().join(std::ffi::OsStr::from_bytes(b"logs-\xff"));
    std::fs::create_dir(&root).unwrap();
    std::fs::write(root.join("a.log"), "one\ntwo\n").unwrap();
    // The test's own arguments are &str: bash appends the byte 0xff.
    let script = format!(
        "exec \"$0\" \"$@\" --root \"{}$(printf '\\377')\"",
        dir.join("logs-").display()
    );
    let s = Server::start_wrapped(&["bash", "-c", &script], "127.0.0.1:0", &[]);
    let (text, _) = s
        .ws(&root.join("a.log"), "?format=text")
        .text_to_close(Duration::from_secs(5));
    assert_eq!(text, "one\ntwo\n");
}

#[test]
fn a_taken_address_fails_fast_with_status_1() {
    let _w = watchdog(Duration::from_secs(30));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let start = std::time::Instant::now();
    let (code, _, err) = run(&["serve", "--listen", &addr]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("address already in use"), "{err}");
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[test]
fn one_log_line_per_connection_in_the_log_file() {
    let _w = watchdog(Duration::from_secs(60));
    let dir = TempDir::new("logfile");
    let f = dir.join("x.log");
    std::fs::write(&f, "0123456789\n").unwrap();
    let log_path = dir.join("server.log");
    let s = Server::rooted(dir.path(), &["--log-file", log_path.to_str().unwrap()]);
    let (text, _) = s
        .ws(&f, "?format=text&token=abc")
        .text_to_close(Duration::from_secs(5));
    assert_eq!(text, "0123456789\n");
    assert_eq!(s.get("/nope/../etc/shadow?download").0, 403);
    let read = || std::fs::read_to_string(&log_path).unwrap_or_default();
    assert!(
        wait_until(Duration::from_secs(5), || read().lines().count() >= 3),
        "{}",
        read()
    );
    let log = read();
    let lines: Vec<&str> = log.lines().collect();
    assert!(
        lines[0].contains("[INFO] listening on http://127.0.0.1:"),
        "{log}"
    );
    let conn = lines
        .iter()
        .find(|l| l.contains("x.log"))
        .expect("the follower's line");
    assert!(conn.contains("[INFO] 127.0.0.1:"), "{conn}");
    assert!(
        conn.contains("token=***") && !conn.contains("abc"),
        "{conn}"
    );
    assert!(
        conn.contains("101 sent the tail and closed; sent 11 bytes in "),
        "{conn}"
    );
    assert!(conn.trim_end().ends_with('s'), "duration: {conn}");
    let refusal = lines
        .iter()
        .find(|l| l.contains("shadow"))
        .expect("the refusal's line");
    assert!(
        refusal.contains("[WARN]")
            && refusal.contains("403 refused: the path is outside the served roots"),
        "{refusal}"
    );
    assert_eq!(
        lines.iter().filter(|l| l.contains("x.log")).count(),
        1,
        "one line per connection"
    );
}

#[test]
fn log_level_warn_keeps_only_refusals() {
    let _w = watchdog(Duration::from_secs(60));
    let dir = TempDir::new("loglevel");
    let f = dir.join("x.log");
    std::fs::write(&f, "x\n").unwrap();
    let log_path = dir.join("server.log");
    let s = Server::rooted(
        dir.path(),
        &[
            "--log-file",
            log_path.to_str().unwrap(),
            "--log-level",
            "warn",
        ],
    );
    let _ = s
        .ws(&f, "?format=text")
        .text_to_close(Duration::from_secs(5));
    assert_eq!(s.get("/etc/passwd?download").0, 403);
    let read = || std::fs::read_to_string(&log_path).unwrap_or_default();
    assert!(
        wait_until(Duration::from_secs(5), || read().contains("passwd")),
        "{}",
        read()
    );
    std::thread::sleep(Duration::from_millis(200));
    let log = read();
    assert!(!log.contains("[INFO]"), "{log}");
    assert_eq!(log.lines().count(), 1, "{log}");
}

#[test]
fn an_empty_or_url_mangled_token_is_a_usage_error() {
    for (env, args) in [
        (Some(""), &["serve", "--listen", "127.0.0.1:0"][..]),
        (Some("a&b"), &["serve", "--listen", "127.0.0.1:0"]),
        (
            None,
            &["serve", "--listen", "127.0.0.1:0", "--token", "a#b"],
        ),
        (
            None,
            &["serve", "--listen", "127.0.0.1:0", "--token", "50%"],
        ),
        (
            None,
            &["serve", "--listen", "127.0.0.1:0", "--token", "why?"],
        ),
        (
            None,
            &["serve", "--listen", "127.0.0.1:0", "--token", "a\u{1}b"],
        ),
    ] {
        // Under `timeout`: a server that accepted the token would run on.
        let mut cmd = Command::new("timeout");
        cmd.arg("10").arg(BIN).args(args).env_remove("WSTAIL_TOKEN");
        if let Some(v) = env {
            cmd.env("WSTAIL_TOKEN", v);
        }
        let out = cmd.stdin(std::process::Stdio::null()).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{env:?} {args:?}: {err}");
        assert!(
            err.contains("is empty") || err.contains("A-Z a-z 0-9"),
            "{env:?} {args:?}: {err}"
        );
    }
}
