//! `wstail serve --inetd`: the binary is started with an accepted TCP socket
//! as its standard input, as inetd, systemd (`Accept=yes`) and tcpserver do,
//! and serves that one connection with the same roots, token, heartbeat and
//! limits as the listening server; anything else on standard input is a
//! usage error (status 2) with a clear message. Also the fast failure of a
//! second start on a taken address, which a cron watchdog relies on.
use crate::common::*;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::OwnedFd;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tungstenite::{Message, WebSocket};

/// A connected pair: our end, and the server's end for the child's stdin.
fn socket_pair() -> (TcpStream, TcpStream) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let ours = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let (theirs, _) = l.accept().unwrap();
    (ours, theirs)
}

/// Starts `wstail serve --inetd ARGS` on the server end. With `all_fds`,
/// stdout and stderr are the socket too (as inetd and tcpserver hand them).
fn start(theirs: TcpStream, args: &[&str], all_fds: bool) -> Child {
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--inetd"]).args(args);
    if all_fds {
        cmd.stdout(Stdio::from(OwnedFd::from(theirs.try_clone().unwrap())))
            .stderr(Stdio::from(OwnedFd::from(theirs.try_clone().unwrap())));
    } else {
        cmd.stdout(Stdio::null()).stderr(Stdio::piped());
    }
    cmd.stdin(Stdio::from(OwnedFd::from(theirs)))
        .spawn()
        .expect("start wstail serve --inetd")
}

fn wait_exit(child: &mut Child, within: Duration) -> i32 {
    let deadline = Instant::now() + within;
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st.code().unwrap_or(-1);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("wstail serve --inetd did not exit within {within:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn stderr_of(child: &mut Child) -> String {
    let mut s = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut s);
    }
    s
}

fn handshake(ours: TcpStream, path: &Path, query: &str) -> WebSocket<TcpStream> {
    ours.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let url = format!("ws://127.0.0.1/{}{query}", &url_path(path)[1..]);
    let (ws, _) = tungstenite::client(url.as_str(), ours).expect("handshake over --inetd");
    ws
}

fn next_text(ws: &mut WebSocket<TcpStream>) -> String {
    loop {
        match ws.read().expect("read") {
            Message::Text(t) => return t.to_string(),
            Message::Close(f) => panic!("closed: {f:?}"),
            _ => {}
        }
    }
}

fn setup(tag: &str) -> (TempDir, std::path::PathBuf, String) {
    let dir = TempDir::new(tag);
    let f = dir.join("app.log");
    std::fs::write(&f, "one\ntwo\n").unwrap();
    let root = dir.path().to_str().unwrap().to_string();
    (dir, f, root)
}

#[test]
fn a_whole_session_on_standard_input() {
    let _w = watchdog(Duration::from_secs(60));
    let (_d, f, root) = setup("inetd-session");
    for all_fds in [false, true] {
        std::fs::write(&f, "one\ntwo\n").unwrap();
        let (ours, theirs) = socket_pair();
        let mut child = start(theirs, &["--root", &root, "--interval", "0.05"], all_fds);
        let mut ws = handshake(ours, &f, "?tail=1&format=text&lines=1");
        assert_eq!(next_text(&mut ws), "two\n");
        append(&f, b"three\n");
        assert_eq!(next_text(&mut ws), "three\n");
        ws.close(None).unwrap();
        let _ = ws.flush();
        // The one connection was handled: exit 0.
        assert_eq!(wait_exit(&mut child, Duration::from_secs(10)), 0);
        if !all_fds {
            let log = stderr_of(&mut child);
            assert!(log.contains("closed by the client"), "{log}");
        }
    }
}

#[test]
fn the_token_and_the_roots_apply() {
    let _w = watchdog(Duration::from_secs(60));
    let (_d, f, root) = setup("inetd-rules");
    let args = ["--root", root.as_str(), "--token", "s3cret"];
    // No token: refused with 401, and that is a clean end (status 0).
    let (mut ours, theirs) = socket_pair();
    let mut child = start(theirs, &args, false);
    let target = url_path(&f);
    write!(
        ours,
        "GET {target} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    ours.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let _ = ours.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 401 "), "{answer}");
    assert_eq!(wait_exit(&mut child, Duration::from_secs(10)), 0);
    assert!(stderr_of(&mut child).contains("401"));

    // A path outside the roots: 403.
    let (mut ours, theirs) = socket_pair();
    let mut child = start(theirs, &args, false);
    write!(
        ours,
        "GET /etc/passwd?download&token=s3cret HTTP/1.1\r\nHost: localhost\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    ours.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let _ = ours.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 403 "), "{answer}");
    assert_eq!(wait_exit(&mut child, Duration::from_secs(10)), 0);

    // With the token: served.
    let (ours, theirs) = socket_pair();
    let mut child = start(theirs, &args, false);
    let mut ws = handshake(ours, &f, "?format=text&lines=5&token=s3cret");
    assert_eq!(next_text(&mut ws), "one\ntwo\n");
    drop(ws);
    assert_eq!(wait_exit(&mut child, Duration::from_secs(10)), 0);
}

#[test]
fn heartbeat_and_limits_apply() {
    let _w = watchdog(Duration::from_secs(60));
    let (_d, f, root) = setup("inetd-limits");
    // A client that never answers Pings is closed after the pong timeout.
    let (ours, theirs) = socket_pair();
    let args = [
        "--root",
        root.as_str(),
        "--heartbeat",
        "0.2",
        "--pong-timeout",
        "0.3",
    ];
    let mut child = start(theirs, &args, false);
    let ws = handshake(ours, &f, "?tail=1&lines=0");
    assert_eq!(wait_exit(&mut child, Duration::from_secs(10)), 0);
    assert!(stderr_of(&mut child).contains("no pong"));
    drop(ws);

    // A request head over 8 KiB: 431.
    let (mut ours, theirs) = socket_pair();
    let mut child = start(theirs, &["--root", &root], false);
    let big = format!(
        "GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: {}\r\n\r\n",
        "a".repeat(9000)
    );
    let _ = ours.write_all(big.as_bytes());
    let mut answer = Vec::new();
    ours.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let _ = ours.read_to_end(&mut answer);
    assert!(answer.starts_with(b"HTTP/1.1 431 "));
    assert_eq!(wait_exit(&mut child, Duration::from_secs(10)), 0);
}

/// Runs `--inetd` with the given stdin; (status, stderr).
fn run_with_stdin(stdin: Stdio) -> (i32, String) {
    let out = Command::new(BIN)
        .args(["serve", "--inetd"])
        .stdin(stdin)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn standard_input_that_is_no_connected_socket_is_status_2() {
    let _w = watchdog(Duration::from_secs(60));
    let d = TempDir::new("inetd-notsock");
    let file = d.join("f");
    std::fs::write(&file, "x").unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let (unix, _other) = std::os::unix::net::UnixStream::pair().unwrap();
    let cases: Vec<(&str, Stdio)> = vec![
        ("/dev/null", Stdio::null()),
        ("a file", Stdio::from(std::fs::File::open(&file).unwrap())),
        ("a pipe", Stdio::piped()),
        (
            "a listening socket",
            Stdio::from(OwnedFd::from(listener.try_clone().unwrap())),
        ),
        ("a Unix socket", Stdio::from(OwnedFd::from(unix))),
    ];
    for (what, stdin) in cases {
        let (code, err) = run_with_stdin(stdin);
        assert_eq!(code, 2, "{what}: {err}");
        assert!(
            err.contains("wstail: --inetd needs a connected TCP socket on standard input"),
            "{what}: {err}"
        );
        assert!(err.contains("drop --inetd"), "{what}: {err}");
    }
}

/// The cron watchdog line (`*/5 * * * * wstail serve ...`) relies on this:
/// while a server runs, a second start on its address fails at once with
/// status 1 and says why, on standard error and in the log file.
#[test]
fn a_second_start_fails_fast_with_status_1() {
    let _w = watchdog(Duration::from_secs(60));
    let (d, _f, root) = setup("second-start");
    let first = Server::start(&["--root", &root]);
    let listen = format!("127.0.0.1:{}", first.port);
    let log = d.join("wstail.log");
    let t = Instant::now();
    let out = Command::new(BIN)
        .args(["serve", "--listen", &listen, "--root", &root, "--log-file"])
        .arg(&log)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "wstail: cannot listen on {listen}: address already in use"
        )),
        "{err}"
    );
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("address already in use"), "{logged}");
    // The first server is unharmed.
    let (status, _) = first.get("/");
    assert_eq!(status, 200);
}
