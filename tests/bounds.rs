//! The bounds that keep one client from hurting the others: the request
//! head (8 KiB, 10 s), `--max-clients` (503), `--max-per-address` (429,
//! while another address and the page still get in), idle sockets that never send a
//! head (the handshake places), no thread or descriptor that outlives its
//! connection, and accept errors (EMFILE) survived.
use crate::common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn setup(tag: &str, extra: &[&str]) -> (TempDir, std::path::PathBuf, Server) {
    let dir = TempDir::new(tag);
    let f = dir.join("b.log");
    std::fs::write(&f, "one\ntwo\n").unwrap();
    let mut args = vec!["--interval", "0.1"];
    args.extend_from_slice(extra);
    let s = Server::rooted(dir.path(), &args);
    (dir, f, s)
}

#[test]
fn a_head_over_8_kib_gets_431() {
    let _w = watchdog(Duration::from_secs(60));
    let (_d, _f, s) = setup("431", &[]);
    let big = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nX-Pad: {}\r\n\r\n",
        "a".repeat(9000)
    );
    let (status, _) = s.http(&big);
    assert_eq!(status, 431);
    // Just under the bound is fine.
    let ok = format!(
        "GET / HTTP/1.1\r\nHost: localhost\r\nX-Pad: {}\r\n\r\n",
        "a".repeat(7000)
    );
    assert_eq!(s.http(&ok).0, 200);
}

#[test]
fn a_head_not_complete_within_10_s_gets_408() {
    let _w = watchdog(Duration::from_secs(60));
    let (_d, _f, s) = setup("408", &[]);
    let mut c = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    let t = Instant::now();
    // Dribble a byte a second, watching for the answer in between: the
    // deadline is for the whole head.
    let mut answer = Vec::new();
    let mut buf = [0u8; 512];
    for b in b"GET / HTTP/1.1\r\nHost: x\r\n".iter().take(14) {
        if c.write_all(&[*b]).is_err() {
            break;
        }
        if let Ok(n) = c.read(&mut buf) {
            answer.extend_from_slice(&buf[..n]);
            break;
        }
    }
    let took = t.elapsed();
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let _ = c.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(
        took >= Duration::from_secs(9) && took < Duration::from_secs(14),
        "{took:?}"
    );
}

#[test]
fn max_clients_answers_503() {
    let _w = watchdog(Duration::from_secs(60));
    let (_d, f, s) = setup("503", &["--max-clients", "2"]);
    let mut a = s.ws(&f, "?tail=1&format=text");
    let mut b = s.ws(&f, "?tail=1&format=text");
    assert_eq!(
        a.next(Duration::from_secs(3)),
        Got::Text("one\ntwo\n".into())
    );
    assert_eq!(
        b.next(Duration::from_secs(3)),
        Got::Text("one\ntwo\n".into())
    );
    let (status, text) = s.ws_status(&url_path(&f), "");
    assert_eq!(status, 503, "{text}");
    assert!(text.contains("maximum of 2 clients"), "{text}");
    a.close();
    // The slot is given back: a new client gets in.
    assert!(wait_until(Duration::from_secs(5), || s
        .ws_status(&url_path(&f), "")
        .0
        == 101));
    drop(b);
}

/// Sends `request` to the server from the loopback address `source` (the
/// test's own connections come from 127.0.0.1; std cannot bind a client
/// socket, python3 can) and returns the answer's head.
fn head_from(source: &str, port: u16, request: &str) -> String {
    let script = r#"
import socket, sys
s = socket.socket()
s.settimeout(20)
s.bind((sys.argv[1], 0))
s.connect(("127.0.0.1", int(sys.argv[2])))
s.sendall(sys.argv[3].encode())
head = b""
while b"\r\n\r\n" not in head:
    b = s.recv(4096)
    if not b:
        break
    head += b
sys.stdout.write(head.split(b"\r\n\r\n")[0].decode("latin-1"))
"#;
    let out = std::process::Command::new("python3")
        .args(["-c", script, source, &port.to_string(), request])
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// One address holds at most `--max-per-address` (default 64) followers:
/// the 65th from 127.0.0.1 is 429 with `Retry-After` and
/// `X-Wstail-Refusal: per-address`, while a follower from 127.0.0.2 and the
/// page from 127.0.0.1 still get in; once one closes, the next gets in.
#[test]
fn one_address_holds_at_most_64_followers() {
    let _w = watchdog(Duration::from_secs(120));
    let (_d, f, s) = setup("per-address", &[]);
    let url = s.ws_url(&f, "?tail=1&format=text&lines=0");
    let mut held: Vec<Ws> = (0..64).map(|_| Ws::connect(&url)).collect();
    let (status, text) = s.ws_status(&url_path(&f), "");
    assert_eq!(status, 429, "{text}");
    assert!(text.contains("\r\nRetry-After: 5\r\n"), "{text}");
    assert!(
        text.contains("\r\nX-Wstail-Refusal: per-address\r\n"),
        "{text}"
    );
    assert!(text.contains("--max-per-address"), "{text}");
    let upgrade = format!(
        "GET {} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
        url_path(&f),
        s.port
    );
    let other = head_from("127.0.0.2", s.port, &upgrade);
    assert!(other.starts_with("HTTP/1.1 101 "), "{other}");
    let (status, text) = s.get("/");
    assert_eq!(status, 200, "{text}");
    // One leaves: the next from this address gets in.
    held.pop().expect("a follower").close();
    assert!(wait_until(Duration::from_secs(10), || s
        .ws_status(&url_path(&f), "")
        .0
        == 101));
    drop(held);
}

/// `--max-per-address 0` (behind a proxy, every peer is the proxy): no
/// per-address bound, only `--max-clients`.
#[test]
fn max_per_address_0_bounds_only_the_total() {
    let _w = watchdog(Duration::from_secs(120));
    let (_d, f, s) = setup(
        "per-address-0",
        &["--max-per-address", "0", "--max-clients", "70"],
    );
    let url = s.ws_url(&f, "?tail=1&format=text&lines=0");
    let held: Vec<Ws> = (0..70).map(|_| Ws::connect(&url)).collect();
    let (status, text) = s.ws_status(&url_path(&f), "");
    assert_eq!(status, 503, "{text}");
    assert_eq!(s.get("/").0, 200);
    drop(held);
}

/// The server's handshake places (src/limits.rs `MAX_HANDSHAKES`).
const MAX_HANDSHAKES: usize = 128;

/// 500 sockets that connect and never send a byte, against a server that
/// serves at most 50 clients: they hold no client slot, at most
/// `MAX_HANDSHAKES` of them hold a thread, the oldest are closed with a 408,
/// and a real client is served within a second all the same.
#[test]
fn idle_sockets_never_starve_a_real_client() {
    let _w = watchdog(Duration::from_secs(60));
    let (_d, f, s) = setup("idle", &["--max-clients", "50"]);
    std::thread::sleep(Duration::from_millis(200));
    let before = threads_and_fds(s.pid());
    let mut idle = Vec::new();
    for _ in 0..500 {
        idle.push(TcpStream::connect(("127.0.0.1", s.port)).unwrap());
    }
    // The server has taken them all in once the newest have threads.
    assert!(wait_until(Duration::from_secs(10), || {
        threads_and_fds(s.pid()).0 >= before.0 + MAX_HANDSHAKES
    }));
    std::thread::sleep(Duration::from_millis(300));
    let (threads, _) = threads_and_fds(s.pid());
    assert!(
        threads <= before.0 + MAX_HANDSHAKES + 2,
        "{threads} threads for 500 idle sockets (before: {})",
        before.0
    );

    let t = Instant::now();
    let mut ws = s.ws(&f, "?tail=1&format=text");
    assert_eq!(
        ws.next(Duration::from_secs(1)),
        Got::Text(
            "one
two
"
            .into()
        )
    );
    let (status, _) = s.get("/");
    let took = t.elapsed();
    assert_eq!(status, 200);
    println!("with 500 idle sockets, a follower and a page were served in {took:?}");
    // Starved, they would wait for the idle sockets' 10 s head timeout;
    // served, they take milliseconds — 5 s leaves room for a loaded machine.
    assert!(took < Duration::from_secs(5), "served after {took:?}");

    // The oldest idle socket was closed with an answer that says why.
    let mut first = idle.remove(0);
    first
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut answer = String::new();
    let _ = first.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    assert!(
        s.wait_log(
            "newer connections were sending their request heads",
            Duration::from_secs(2)
        ),
        "{}",
        s.log()
    );

    ws.close();
    drop(first);
    drop(idle);
    s.assert_back_to(before, Duration::from_secs(10));
}

/// 1000 real clients at once, more than the handshake places, all with their
/// heads sent: none is crowded out by the others (each connection gets a
/// grace before a newer one may close it), every one gets its page.
#[test]
fn a_burst_of_real_clients_is_served_whole() {
    let _w = watchdog(Duration::from_secs(60));
    let (_d, _f, s) = setup("burst", &[]);
    let port = s.port;
    let request = format!("GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let request = request.clone();
            std::thread::spawn(move || {
                let mut conns = Vec::new();
                for _ in 0..250 {
                    let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
                    c.write_all(request.as_bytes()).unwrap();
                    conns.push(c);
                }
                let mut statuses = Vec::new();
                for mut c in conns {
                    c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
                    let mut answer = Vec::new();
                    let _ = c.read_to_end(&mut answer);
                    statuses.push(
                        String::from_utf8_lossy(&answer)
                            .chars()
                            .take(12)
                            .collect::<String>(),
                    );
                }
                statuses
            })
        })
        .collect();
    let mut statuses: Vec<String> = Vec::new();
    for w in workers {
        statuses.extend(w.join().unwrap());
    }
    let bad: Vec<_> = statuses.iter().filter(|st| *st != "HTTP/1.1 200").collect();
    assert!(
        bad.is_empty(),
        "{} of 1000 not served: {:?}",
        bad.len(),
        &bad[..bad.len().min(5)]
    );
}

/// 200 connections of every kind, opened and closed: afterwards the server
/// holds exactly the threads and descriptors it held before.
#[test]
fn no_thread_or_fd_outlives_its_connection() {
    let _w = watchdog(Duration::from_secs(120));
    let (_d, f, s) = setup("leak", &["--heartbeat", "1", "--pong-timeout", "1"]);
    // Let the server settle, then take the baseline.
    std::thread::sleep(Duration::from_millis(300));
    let before = threads_and_fds(s.pid());
    let url = s.ws_url(&f, "?tail=1&format=text");
    let mut held = Vec::new();
    for i in 0..200 {
        match i % 5 {
            // Connect and close without a byte.
            0 => drop(TcpStream::connect(("127.0.0.1", s.port)).unwrap()),
            // Half a request head, then close.
            1 => {
                let mut c = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
                let _ = c.write_all(b"GET /x HTTP/1.1\r\nHo");
            }
            // A follower that gets its tail, then closes properly.
            2 => {
                let mut ws = Ws::connect(&url);
                assert_eq!(
                    ws.next(Duration::from_secs(5)),
                    Got::Text("one\ntwo\n".into())
                );
                ws.close();
            }
            // A follower dropped mid-follow without a Close (TCP close).
            3 => {
                let mut ws = Ws::connect(&url);
                let _ = ws.next(Duration::from_secs(5));
                held.push(ws);
            }
            // A refused request.
            _ => {
                let _ = s.get("/etc/passwd?download");
            }
        }
    }
    append(&f, b"three\n");
    drop(held);
    s.assert_back_to(before, Duration::from_secs(20));
}

/// With a tiny descriptor limit, `accept` fails with EMFILE: the server
/// logs it, does not spin or exit, and serves again once descriptors free.
#[test]
fn accept_errors_are_survived() {
    let _w = watchdog(Duration::from_secs(90));
    let dir = TempDir::new("emfile");
    let f = dir.join("e.log");
    std::fs::write(&f, "alive\n").unwrap();
    let root = dir.path().to_str().unwrap().to_string();
    let s = Server::start_wrapped(
        &["bash", "-c", "ulimit -n 12; exec \"$0\" \"$@\""],
        "127.0.0.1:0",
        &["--root", &root],
    );
    // Hold connections that never send a head until accept runs out of fds.
    let mut hogs = Vec::new();
    for _ in 0..20 {
        hogs.push(TcpStream::connect(("127.0.0.1", s.port)).unwrap());
    }
    assert!(
        s.wait_log("accepting a connection failed", Duration::from_secs(10)),
        "{}",
        s.log()
    );
    // Not a busy loop: the server sleeps between failed accepts.
    let cpu = |pid: u32| -> u64 {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let fields: Vec<&str> = stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .split_whitespace()
            .collect();
        fields
            .get(11)
            .and_then(|u| u.parse::<u64>().ok())
            .unwrap_or(0)
            + fields
                .get(12)
                .and_then(|u| u.parse::<u64>().ok())
                .unwrap_or(0)
    };
    let t0 = cpu(s.pid());
    std::thread::sleep(Duration::from_secs(1));
    let ticks = cpu(s.pid()) - t0;
    assert!(
        ticks < 50,
        "{ticks} clock ticks of CPU in one second: spinning"
    );
    drop(hogs);
    // The hogs' threads end (their peers closed), descriptors free up, and
    // the server serves again.
    let served = wait_until(Duration::from_secs(30), || {
        Ws::try_connect(&s.ws_url(&f, "?format=text"))
            .is_ok_and(|mut ws| ws.text_to_close(Duration::from_secs(5)).0 == "alive\n")
    });
    assert!(served, "{}", s.log());
}
