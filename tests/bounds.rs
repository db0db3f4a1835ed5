//! The bounds that keep one client from hurting the others: the request
//! head (8 KiB, 10 s), `--max-clients` (503), idle sockets that never send a
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
    assert!(took < Duration::from_secs(1), "served after {took:?}");

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
