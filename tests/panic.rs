//! A panic in one client's thread never takes the server down. The server's
//! own accept loop (`server::run`) runs here in-process with a `ServeRequest` that
//! panics for some requests and hands every other to the real
//! `conn::serve_request`; real clients then connect over loopback. A test hook in
//! the shipped binary would be an attack surface, so the fault is injected
//! here instead.
mod common;
use common::*;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use wstail::cli::{self, Command};
use wstail::logging::connlog::ConnLog;
use wstail::serve::conn::{self, Shared};
use wstail::serve::http::Request;
use wstail::wire::refusal::Refusal;
use wstail::{logging::logger as logging, serve::listener as server};

fn serve_request_or_panic(
    stream: TcpStream,
    head: Result<Request, Option<Refusal>>,
    shared: &Shared,
    log: &mut ConnLog,
) {
    if let Ok(req) = &head
        && req.target.contains("panic=1")
    {
        panic!("injected by the test for {}", req.target);
    }
    conn::serve_request(stream, head, shared, log);
}

#[test]
fn a_panicking_client_thread_leaves_the_server_serving() {
    let _w = watchdog(Duration::from_secs(60));
    let dir = TempDir::new("panic");
    let file = dir.join("app.log");
    std::fs::write(&file, "one\ntwo\n").unwrap();
    let log_file = dir.join("server.log");
    let args = [
        "serve",
        "--root",
        dir.path().to_str().unwrap(),
        "--max-clients",
        "2",
        "--log-file",
        log_file.to_str().unwrap(),
    ];
    let Ok(Command::Serve(cfg)) = cli::parse(args.iter().map(Into::into).collect()) else {
        panic!("the test's command line is valid");
    };
    logging::init(cfg.log_level, cfg.log_file.as_deref(), false).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || server::run(listener, cfg, serve_request_or_panic));

    // Five panics, more than the two client slots: each ends its own
    // connection only, without an answer, and gives its slot back.
    for _ in 0..5 {
        let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        c.write_all(
            format!(
                "GET {}?panic=1 HTTP/1.1\r\nHost: x\r\n\r\n",
                url_path(&file)
            )
            .as_bytes(),
        )
        .unwrap();
        let mut answer = Vec::new();
        let _ = c.read_to_end(&mut answer);
        assert!(answer.is_empty(), "{}", String::from_utf8_lossy(&answer));
    }

    // The server still serves, both slots free: two followers at once.
    let url = format!(
        "ws://127.0.0.1:{port}{}?tail=1&format=text",
        url_path(&file)
    );
    // A panicking thread's socket closes while it unwinds, a moment before
    // its slot is given back: under load a follower may still meet a 503,
    // so each connects again until it is served (bounded).
    let served = || {
        let mut ws = None;
        wait_until(Duration::from_secs(10), || {
            ws = Ws::try_connect(&url).ok();
            ws.is_some()
        });
        ws.expect("a follower is served once the panicked threads are gone")
    };
    let mut a = served();
    let mut b = served();
    for ws in [&mut a, &mut b] {
        assert_eq!(
            ws.next(Duration::from_secs(5)),
            Got::Text("one\ntwo\n".into())
        );
    }
    a.close();
    b.close();

    // Each panic is in the log with where it happened, and the connection's
    // own line says that its thread panicked.
    let log = std::fs::read_to_string(&log_file).unwrap();
    assert_eq!(
        log.matches("panicked at tests/panic.rs").count(),
        5,
        "{log}"
    );
    assert!(log.contains("injected by the test"), "{log}");
    assert_eq!(
        log.matches("?panic=1\" 0 closed before an answer (the connection's thread panicked)")
            .count(),
        5,
        "{log}"
    );
}

/// The property above needs unwinding: `panic = "abort"` in the release
/// profile would turn any client's panic into the whole server's end.
#[test]
fn the_release_build_unwinds() {
    let manifest =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")).unwrap();
    let abort = manifest
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").replace(' ', ""))
        .any(|l| l == "panic=\"abort\"");
    assert!(!abort, "Cargo.toml sets panic = \"abort\"");
}
