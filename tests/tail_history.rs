//! `wstail tail --since T`, `--match TEXT`, `--exclude TEXT` (repeatable)
//! against the real server: where printing starts, which lines are kept
//! (texts with `&`, `+`, `%` and spaces arrive as typed), `-f` going on
//! after `--since`, and a `--since` not understood being a usage error.
use crate::common::*;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const LOG: &str = "\
2026-12-01 14:00:00 INFO start
2026-12-01 14:01:00 ERROR disk a&b full
Traceback (most recent call last):
2026-12-01 14:02:00 WARN 100% busy
2026-12-01 14:03:00 INFO healthcheck error ignored
2026-12-01 14:04:00 info c+d done
";

/// Runs `wstail tail ARGS` to its end (bounded): status, stdout, stderr.
fn run(args: &[&str]) -> (i32, String, String) {
    let mut child = Command::new(BIN)
        .arg("tail")
        .args(args)
        .env_remove("WSTAIL_TOKEN")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start wstail tail");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("wstail tail {args:?} did not end");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let (mut out, mut err) = (String::new(), String::new());
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (status.code().unwrap_or(-1), out, err)
}

/// The lines of `LOG` that contain any of `needles`.
fn lines_with(needles: &[&str]) -> String {
    LOG.lines()
        .filter(|l| needles.iter().any(|n| l.contains(n)))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn since_match_and_exclude() {
    let _w = watchdog(Duration::from_secs(120));
    let dir = TempDir::new("tail-history");
    let f = dir.join("app.log");
    std::fs::write(&f, LOG).unwrap();
    let s = Server::rooted(dir.path(), &["--interval", "0.1"]);
    let url = s.ws_url(&f, "");

    let (code, out, err) = run(&["--since", "2026-12-01 14:00:30", &url]);
    assert_eq!((code, err.as_str()), (0, ""));
    assert_eq!(out, &LOG[LOG.find("2026-12-01 14:01").unwrap()..]);

    let (code, out, _) = run(&["--since", "2026-12-01T14:03:30", &url]);
    assert_eq!(
        (code, out.as_str()),
        (0, "2026-12-01 14:04:00 info c+d done\n")
    );

    // Any --match, no --exclude; case-insensitive; texts sent as typed.
    let (code, out, _) = run(&[
        "--match",
        "ERROR",
        "--match",
        "warn",
        "--exclude",
        "healthcheck",
        &url,
    ]);
    assert_eq!(code, 0);
    assert_eq!(out, lines_with(&["ERROR disk", "WARN"]));
    for text in ["a&b", "100%", "c+d", "disk a&b full"] {
        let (code, out, _) = run(&["--match", text, &url]);
        assert_eq!((code, out), (0, lines_with(&[text])), "--match {text:?}");
    }
    let (_, out, _) = run(&["--exclude", "info", "--exclude", "%", &url]);
    assert_eq!(out, lines_with(&["ERROR disk", "Traceback"]));

    // Combined: the kept lines from T on (-n does not apply with --since).
    let (_, out, _) = run(&[
        "-n",
        "1",
        "--since",
        "2026-12-01 14:00:30",
        "--match",
        "error",
        &url,
    ]);
    assert_eq!(out, lines_with(&["ERROR disk", "healthcheck"]));

    // A time not understood is a usage error, before any connection.
    let (code, _, err) = run(&["--since", "yesterday", &url]);
    assert_eq!(code, 2);
    assert!(err.contains("--since") && err.contains("-15m"), "{err}");
}

#[test]
fn follow_goes_on_after_since() {
    let _w = watchdog(Duration::from_secs(120));
    let dir = TempDir::new("tail-history-f");
    let f = dir.join("app.log");
    std::fs::write(&f, LOG).unwrap();
    let s = Server::rooted(dir.path(), &["--interval", "0.1"]);
    let mut child = Command::new(BIN)
        .args([
            "tail",
            "-f",
            "--retry",
            "--since",
            "2026-12-01 14:04",
            "--exclude",
            "skip",
        ])
        .arg(s.ws_url(&f, ""))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    append(
        &f,
        b"2026-12-01 14:05:00 skip me\n2026-12-01 14:06:00 new\n",
    );
    let want = "2026-12-01 14:04:00 info c+d done\n2026-12-01 14:06:00 new\n";
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while got.len() < want.len() {
        let n = stdout.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
    }
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(String::from_utf8_lossy(&got), want);
}
