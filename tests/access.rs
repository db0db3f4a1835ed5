//! The path, token and origin rules, checked through the real server: every
//! refusal is a plain HTTP answer with the right status, before any file
//! data is sent, and a FIFO is refused at once instead of hanging.
use crate::common::*;
use std::time::{Duration, Instant};

struct Fixture {
    dir: TempDir,
    server: Server,
}

/// root `<dir>/logs` with a file, a subdirectory, a FIFO and symlinks; a
/// sibling `<dir>/logs2/secret` and `<dir>/outside`.
fn fixture(extra: &[&str]) -> Fixture {
    let dir = TempDir::new("access");
    let logs = dir.join("logs");
    std::fs::create_dir_all(logs.join("sub")).unwrap();
    std::fs::create_dir_all(dir.join("logs2")).unwrap();
    std::fs::write(logs.join("app.log"), "hello\n").unwrap();
    std::fs::write(logs.join("sub/deep.log"), "deep\n").unwrap();
    std::fs::write(dir.join("logs2/secret"), "secret\n").unwrap();
    std::fs::write(dir.join("outside"), "outside\n").unwrap();
    std::os::unix::fs::symlink(dir.join("outside"), logs.join("escape")).unwrap();
    std::os::unix::fs::symlink(logs.join("app.log"), logs.join("alias")).unwrap();
    let fifo = logs.join("fifo");
    let ok = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(ok.success(), "mkfifo");
    let server = Server::rooted(&logs, extra);
    Fixture { dir, server }
}

#[test]
fn path_rules_table() {
    let _w = watchdog(Duration::from_secs(120));
    let f = fixture(&[]);
    let d = f.dir.path().to_str().unwrap();
    let cases: Vec<(String, u16)> = vec![
        (format!("{d}/logs/app.log"), 101),
        (format!("{d}/logs/alias"), 101),
        (format!("{d}/logs/sub/deep.log"), 101),
        (format!("{d}/logs//sub/./deep.log"), 101),
        (format!("{d}/logs/sub/../app.log"), 101),
        (format!("{d}/logs%2fapp.log"), 101),
        (format!("{d}/logs/sub/%2e%2e/app.log"), 101),
        // Outside the root, whether or not the file exists.
        (format!("{d}/logs/../outside"), 403),
        (format!("{d}/logs/%2e%2e/outside"), 403),
        (format!("{d}/logs/sub/..%2f..%2foutside"), 403),
        (format!("{d}/logs/%2e%2e%2f%2e%2e%2fetc/passwd"), 403),
        (format!("{d}/logs/../nonexistent"), 403),
        ("/etc/passwd".to_string(), 403),
        ("/nonexistent/file".to_string(), 403),
        (format!("{d}/logs2/secret"), 403),
        (format!("{d}/logs/escape"), 403),
        // Inside the root but not a regular file.
        (format!("{d}/logs/sub"), 403),
        (format!("{d}/logs"), 403),
        (format!("{d}/logs/fifo"), 403),
        // Inside the root, nothing there.
        (format!("{d}/logs/missing.log"), 404),
        (format!("{d}/logs/app.log/x"), 404),
        // Decoded exactly once: %252e%252e is the name "%2e%2e".
        (format!("{d}/logs/%252e%252e/outside"), 404),
        // Malformed.
        (format!("{d}/logs/app.log%00"), 400),
        (format!("{d}/logs/%zz"), 400),
    ];
    for (target, want) in cases {
        let start = Instant::now();
        let (status, text) = f.server.ws_status(&target, "");
        assert_eq!(status, want, "{target}: {text}");
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{target} took {:?}",
            start.elapsed()
        );
        if want != 101 {
            assert!(
                !text.contains("secret\n") && !text.contains("outside\n"),
                "{text}"
            );
            let body = text.split("\r\n\r\n").nth(1).unwrap_or("");
            assert!(
                body.starts_with(&format!("{want} ")),
                "refusal body names the status: {body}"
            );
        }
    }
    // The same rules guard downloads.
    assert_eq!(f.server.get(&format!("{d}/logs/app.log?download")).0, 200);
    assert_eq!(
        f.server.get(&format!("{d}/logs/../outside?download")).0,
        403
    );
    assert_eq!(f.server.get(&format!("{d}/logs/escape?download")).0, 403);
    assert_eq!(f.server.get(&format!("{d}/logs/fifo?download")).0, 403);
    assert_eq!(f.server.get(&format!("{d}/logs/nope?download")).0, 404);
    assert!(f.server.wait_log("refused", Duration::from_secs(5)));
    assert!(
        f.server.log().contains("[WARN]"),
        "refusals are logged at warn"
    );
}

#[test]
fn token_required_and_redacted() {
    let _w = watchdog(Duration::from_secs(60));
    let f = fixture(&["--token", "s3cret-token"]);
    let d = f.dir.path().to_str().unwrap();
    let file = format!("{d}/logs/app.log");
    assert_eq!(f.server.ws_status(&file, "").0, 401);
    assert_eq!(
        f.server.ws_status(&format!("{file}?token=wrong"), "").0,
        401
    );
    assert_eq!(
        f.server
            .ws_status(&format!("{file}?token=s3cret-token"), "")
            .0,
        101
    );
    assert_eq!(
        f.server
            .ws_status(&file, "Authorization: Bearer s3cret-token\r\n")
            .0,
        101
    );
    assert_eq!(
        f.server
            .ws_status(&file, "Authorization: Bearer nope\r\n")
            .0,
        401
    );
    // A percent-encoded key is the same parameter to the server; it is
    // accepted, and redacted in the log like the plain one.
    assert_eq!(
        f.server
            .ws_status(&format!("{file}?%74oken=s3cret-token"), "")
            .0,
        101
    );
    assert_eq!(f.server.get("/?list").0, 401);
    assert_eq!(f.server.get("/?list&token=s3cret-token").0, 200);
    assert_eq!(f.server.get(&format!("{file}?download")).0, 401);
    // The page holds no log data: served without a token.
    assert_eq!(f.server.get("/").0, 200);
    assert_eq!(f.server.get(&file).0, 200);
    assert!(f.server.wait_log("token=***", Duration::from_secs(5)));

    assert!(
        !f.server.log().contains("s3cret-token"),
        "the token never reaches the log"
    );
}

#[test]
fn origin_rule() {
    let _w = watchdog(Duration::from_secs(60));
    let f = fixture(&["--allow-origin", "https://ops.example"]);
    let d = f.dir.path().to_str().unwrap();
    let file = format!("{d}/logs/app.log");
    let port = f.server.port;
    let with = |origin: &str| {
        f.server
            .ws_status(&file, &format!("Origin: {origin}\r\n"))
            .0
    };
    assert_eq!(with(&format!("http://127.0.0.1:{port}")), 101);
    assert_eq!(with("https://ops.example"), 101);
    assert_eq!(with("https://evil.example"), 403);
    assert_eq!(
        with(&format!("http://localhost:{port}")),
        403,
        "localhost is not 127.0.0.1"
    );
    assert_eq!(with("null"), 403);
    assert_eq!(
        f.server.ws_status(&file, "").0,
        101,
        "no Origin: not a browser"
    );
    let (status, _) = f.server.http(&format!(
        "GET /?list HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: https://evil.example\r\n\r\n"
    ));
    assert_eq!(status, 403);
}

/// `WSTAIL_TOKEN` keeps the token out of `ps`: the server takes it from the
/// environment, and `--token` given as well wins.
#[test]
fn token_from_the_environment() {
    let _w = watchdog(Duration::from_secs(60));
    let dir = TempDir::new("env-token");
    std::fs::write(dir.join("app.log"), "hello\n").unwrap();
    let root = dir.path().to_str().unwrap();
    let file = format!("{root}/app.log");
    let s = Server::start_wrapped(
        &["env", "WSTAIL_TOKEN=from-the-env"],
        "127.0.0.1:0",
        &["--root", root],
    );
    assert_eq!(s.ws_status(&file, "").0, 401);
    assert_eq!(
        s.ws_status(&format!("{file}?token=from-the-env"), "").0,
        101
    );
    assert_eq!(s.get("/?list&token=from-the-env").0, 200);
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", s.pid())).unwrap();
    assert!(!String::from_utf8_lossy(&cmdline).contains("from-the-env"));
    drop(s);
    let s = Server::start_wrapped(
        &["env", "WSTAIL_TOKEN=from-the-env"],
        "127.0.0.1:0",
        &["--root", root, "--token", "from-the-line"],
    );
    assert_eq!(
        s.ws_status(&format!("{file}?token=from-the-env"), "").0,
        401
    );
    assert_eq!(
        s.ws_status(&format!("{file}?token=from-the-line"), "").0,
        101
    );
}

/// Several `--allow-origin`s each admit their origin and no other; `*`
/// admits every origin; the HTTP routes that carry log data (download,
/// list) follow the same rule as the WebSocket.
#[test]
fn allow_origin_list_and_any() {
    let _w = watchdog(Duration::from_secs(60));
    let f = fixture(&[
        "--allow-origin",
        "https://ops.example",
        "--allow-origin",
        "http://dash.example:8080",
    ]);
    let d = f.dir.path().to_str().unwrap();
    let file = format!("{d}/logs/app.log");
    let port = f.server.port;
    let ws = |origin: &str| {
        f.server
            .ws_status(&file, &format!("Origin: {origin}\r\n"))
            .0
    };
    assert_eq!(ws("https://ops.example"), 101);
    assert_eq!(
        ws("https://ops.example:443"),
        101,
        "the default port spelled out"
    );
    assert_eq!(ws("http://dash.example:8080"), 101);
    assert_eq!(ws("http://dash.example"), 403, "another port");
    assert_eq!(ws("http://ops.example"), 403, "another scheme");
    assert_eq!(ws("https://evil.example"), 403);
    let download = |origin: &str| {
        f.server
            .http(&format!(
                "GET {file}?download HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: {origin}\r\n\r\n"
            ))
            .0
    };
    assert_eq!(download("https://evil.example"), 403);
    assert_eq!(download("https://ops.example"), 200);
    assert_eq!(download(&format!("http://127.0.0.1:{port}")), 200);

    let any = Server::rooted(&f.dir.join("logs"), &["--allow-origin", "*"]);
    let any_port = any.port;
    assert_eq!(
        any.ws_status(&file, "Origin: https://evil.example\r\n").0,
        101
    );
    assert_eq!(any.ws_status(&file, "Origin: null\r\n").0, 101);
    let (status, _) = any.http(&format!(
        "GET /?list HTTP/1.1\r\nHost: 127.0.0.1:{any_port}\r\nOrigin: https://evil.example\r\n\r\n"
    ));
    assert_eq!(status, 200);
}

#[test]
fn a_root_that_does_not_exist_is_a_usage_error() {
    let out = std::process::Command::new(BIN)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--root",
            "/nonexistent/wstail-root",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("root '/nonexistent/wstail-root'"), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
}
