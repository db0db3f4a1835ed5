//! The server's log holds only escaped text: a client that puts a line feed,
//! a forged log line and a terminal escape into a query value, the path or
//! a WebSocket message never gets them into the log raw — before the token
//! check too, and at `--log-level trace`.
use crate::common::*;
use std::time::Duration;

/// A line feed, a forged record and "clear the screen", percent-encoded.
const EVIL: &str = "1%0A2026-12-01T00:00:00Z%20[INFO]%20forged%1B[2J";
/// The same as the log shows it, escaped.
const EVIL_ESCAPED: &str = "1\\x0a2026-12-01T00:00:00Z [INFO] forged\\x1b[2J";

/// Fails when the log holds a raw control byte or a line that does not
/// start as the server's own lines do.
fn assert_clean(log: &str) {
    for line in log.lines() {
        assert!(
            !line.starts_with("2026-12-01T00:00:00Z"),
            "a forged line reached the log: {line:?}\n{log}"
        );
        assert!(
            !line.contains(|c: char| c.is_control()),
            "a control character reached the log: {line:?}"
        );
    }
}

/// Every query value that a refusal reason echoes, with and without a
/// token (the query is read before the token is checked).
#[test]
fn query_values_reach_the_log_escaped() {
    let _w = watchdog(Duration::from_secs(60));
    let dir = TempDir::new("logq");
    for extra in [&[][..], &["--token", "s3cret"][..]] {
        let s = Server::rooted(dir.path(), extra);
        for param in [
            "lines", "format", "tail", "meta", "list", "download", "inode", "before",
        ] {
            let (status, body) = s.get(&format!("/x?{param}={EVIL}"));
            assert_eq!(status, 400, "{param}: {body}");
            let needle = format!("{param}={EVIL_ESCAPED}");
            assert!(
                s.wait_log(&needle, Duration::from_secs(5)),
                "{param} {extra:?}: {}",
                s.log()
            );
        }
        assert_clean(&s.log());
    }
}

/// A file whose name holds a line feed and an escape, asked for by a
/// client (percent-encoded): its follower's lines and its rotation's line
/// show the name escaped.
#[test]
fn the_path_reaches_the_log_escaped() {
    let _w = watchdog(Duration::from_secs(60));
    let dir = TempDir::new("logp");
    let name = "a\n2026-12-01T00:00:00Z [INFO] forged\x1b[2J.log";
    let f = dir.join(name);
    std::fs::write(&f, "one\n").unwrap();
    let s = Server::rooted(dir.path(), &[]);
    let mut ws = s.ws(&f, "?tail=1&format=text&lines=1");
    assert_eq!(
        ws.text_until(Duration::from_secs(5), |t| t.contains("one\n")),
        "one\n"
    );
    // Rotate: the follower logs the event with the path.
    std::fs::rename(&f, dir.join("old.log")).unwrap();
    std::fs::write(&f, "two\n").unwrap();
    ws.text_until(Duration::from_secs(10), |t| t.contains("two\n"));
    assert!(
        s.wait_log("forged\\x1b[2J.log\": file rotated", Duration::from_secs(5)),
        "{}",
        s.log()
    );
    ws.close();
    assert_eq!(s.get(&format!("{}?download", url_path(&f))).0, 200);
    let escaped_target = "a%0A2026-12-01T00%3A00%3A00Z%20%5BINFO%5D%20forged%1B%5B2J.log?download";
    assert!(
        s.wait_log(escaped_target, Duration::from_secs(5)),
        "{}",
        s.log()
    );
    assert!(
        s.wait_log("closed by the client", Duration::from_secs(5)),
        "{}",
        s.log()
    );
    assert_clean(&s.log());
}

/// At trace level, tungstenite would log each client message raw: only
/// wstail's own records are written.
#[test]
fn trace_level_writes_only_wstails_records() {
    let _w = watchdog(Duration::from_secs(60));
    let dir = TempDir::new("logt");
    let f = dir.join("x.log");
    std::fs::write(&f, "x\n").unwrap();
    let s = Server::rooted(dir.path(), &["--log-level", "trace"]);
    let mut ws = s.ws(&f, "?tail=1&format=text");
    ws.text_until(Duration::from_secs(5), |t| t.contains("x\n"));
    ws.ws
        .send(tungstenite::Message::text("evil\n\x1b]0;pwned\x07"))
        .unwrap();
    // Something to answer after the text, so the server has read it.
    ws.ws
        .send(tungstenite::Message::Ping(vec![1].into()))
        .unwrap();
    let _ = ws.next(Duration::from_millis(500));
    ws.close();
    assert!(
        s.wait_log("closed by the client", Duration::from_secs(5)),
        "{}",
        s.log()
    );
    let log = s.log();
    assert!(!log.contains("pwned"), "{log}");
    assert_clean(&log);
}

/// A header the server quotes (the Host name it refuses) reaches the log
/// escaped: a C1 control (U+009B, CSI to many terminals) and a quote.
#[test]
fn echoed_headers_reach_the_log_escaped() {
    let _w = watchdog(Duration::from_secs(60));
    let dir = TempDir::new("logh");
    let s = Server::rooted(dir.path(), &[]);
    let (status, body) = s.http(
        "GET /?list HTTP/1.1\r\nHost: evil\"\u{9b}[2J.example\r\nUser-Agent: x\u{9b}[2J\r\n\r\n",
    );
    assert_eq!(status, 403, "{body}");
    assert!(
        s.wait_log(
            "--allow-host evil\\x22\\xc2\\x9b[2j.example",
            Duration::from_secs(5)
        ),
        "{}",
        s.log()
    );
    assert_clean(&s.log());
}
