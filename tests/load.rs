//! Load, on loopback: a thousand followers each receive every line of a
//! 10-second stream, exactly and in order; a thousand idle followers, every
//! slot taken, leave the page and the list served; ten thousand connections
//! of every kind, opened and closed from eight clients at once, leave the
//! server with the threads and descriptors it had before.
use crate::common::*;
use std::io::Write;
use std::net::TcpStream;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tungstenite::protocol::WebSocketConfig;
use tungstenite::{Message, WebSocket};

/// The two tests each load the machine: run them one after the other, so
/// that the figures they print are each test's own.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// A WebSocket client with a small read buffer (tungstenite's default is
/// 128 KiB; a thousand of them would cost the test 128 MB).
fn small_client(url: &str, port: u16) -> WebSocket<TcpStream> {
    let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    // The handshake's reads and writes are bounded too.
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
        .set_write_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let config = WebSocketConfig::default().read_buffer_size(4096);
    let (ws, _) = tungstenite::client::client_with_config(url, stream, Some(config))
        .unwrap_or_else(|e| panic!("handshake {url}: {e}"));
    ws
}

/// Line `n` of the stream: unique, numbered, 64 bytes.
fn stream_line(n: usize) -> String {
    format!("line {n:04} of the 10-second stream {}\n", "s".repeat(27))
}

const FOLLOWERS: usize = 1000;
const LINES: usize = 1000;
/// 100 lines a second for 10 seconds.
const LINE_EVERY: Duration = Duration::from_millis(10);

/// 1000 followers, all connected and set up before the stream starts;
/// then 100 lines a second for 10 s: every follower's text, concatenated,
/// is exactly the 1000 lines in order. Prints how long after the last line
/// was written the last follower had it.
#[test]
fn a_thousand_followers_each_get_every_line_of_a_10_s_stream() {
    let _serial = one_at_a_time();
    let _w = watchdog(Duration::from_secs(150));
    let dir = TempDir::new("fanout");
    let f = dir.join("fanout.log");
    std::fs::write(&f, "written before anyone followed\n").unwrap();
    // All from one address: no per-address bound.
    let s = Server::rooted(
        dir.path(),
        &[
            "--max-clients",
            "1100",
            "--max-per-address",
            "0",
            "--interval",
            "0.1",
        ],
    );
    std::thread::sleep(Duration::from_millis(200));
    let before = threads_and_fds(s.pid());
    let url = s.ws_url(&f, "?tail=1&format=text&lines=0&meta=1");

    // Connect all, one after the other; each is set up when its first
    // offset frame (`{"offset":N,...}`, sent before any text) arrives.
    let t = Instant::now();
    let mut clients = Vec::with_capacity(FOLLOWERS);
    for i in 0..FOLLOWERS {
        let mut ws = small_client(&url, s.port);
        ws.get_ref()
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        match ws.read() {
            Ok(Message::Binary(b)) => assert!(
                b.starts_with(b"{\"offset\":31,"),
                "follower {i}: {}",
                String::from_utf8_lossy(&b)
            ),
            other => panic!("follower {i}: {other:?}\n{}", s.log()),
        }
        clients.push(ws);
    }
    let connected = t.elapsed();
    assert_eq!(threads_and_fds(s.pid()).0, before.0 + FOLLOWERS);

    let expected: String = (1..=LINES).map(stream_line).collect();
    let deadline = Instant::now() + Duration::from_secs(40);
    let readers: Vec<_> = clients
        .into_iter()
        .enumerate()
        .map(|(i, mut ws)| {
            let want = expected.len();
            std::thread::Builder::new()
                .name(format!("follower-{i}"))
                .stack_size(64 * 1024)
                .spawn(move || {
                    ws.get_ref()
                        .set_read_timeout(Some(Duration::from_secs(1)))
                        .unwrap();
                    let mut got = String::with_capacity(want);
                    let mut done = None;
                    while Instant::now() < deadline {
                        match ws.read() {
                            Ok(Message::Text(t)) => {
                                got.push_str(&t);
                                if got.len() >= want {
                                    done = Some(Instant::now());
                                    break;
                                }
                            }
                            Ok(Message::Close(c)) => panic!("follower {i} closed: {c:?}"),
                            Ok(_) => {}
                            Err(tungstenite::Error::Io(e))
                                if matches!(
                                    e.kind(),
                                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                                ) => {}
                            Err(e) => panic!("follower {i}: {e}"),
                        }
                    }
                    let _ = ws.close(None);
                    let _ = ws.flush();
                    (got, done)
                })
                .expect("spawn a follower thread")
        })
        .collect();

    // The stream: line n at n × 10 ms, each appended and flushed alone.
    let mut file = std::fs::OpenOptions::new().append(true).open(&f).unwrap();
    let t0 = Instant::now();
    for n in 1..=LINES {
        let at = t0 + LINE_EVERY * n as u32;
        std::thread::sleep(at.saturating_duration_since(Instant::now()));
        file.write_all(stream_line(n).as_bytes()).unwrap();
    }
    let last_written = Instant::now();
    let stream_took = last_written - t0;

    let mut slowest = Duration::ZERO;
    for (i, h) in readers.into_iter().enumerate() {
        let (got, done) = h.join().expect("a follower thread");
        assert!(
            got == expected,
            "follower {i} got {} bytes, not the {} expected; first difference at byte {}",
            got.len(),
            expected.len(),
            got.bytes()
                .zip(expected.bytes())
                .position(|(a, b)| a != b)
                .unwrap_or(got.len().min(expected.len()))
        );
        let took = done
            .expect("complete")
            .saturating_duration_since(last_written);
        slowest = slowest.max(took);
    }
    println!(
        "{FOLLOWERS} followers connected in {connected:?}; {LINES} lines written in {stream_took:?}; \
         the last follower had the last line {slowest:?} after it was written"
    );
    // Every thread and descriptor of the followers is given back.
    s.assert_back_to(before, Duration::from_secs(20));
    assert!(!s.log().contains("panicked"));
}

/// 1000 idle followers take every one of `--max-clients 1000` slots (one
/// address, no per-address bound, as behind a proxy): the 1001st follower
/// is refused with 503, and the page and the list are served all the same
/// (plain HTTP requests have a pool of their own). Prints the server's
/// threads and memory with the followers connected.
#[test]
fn a_thousand_idle_followers_do_not_lock_the_page_out() {
    let _serial = one_at_a_time();
    let _w = watchdog(Duration::from_secs(150));
    let dir = TempDir::new("idle-followers");
    let f = dir.join("idle.log");
    std::fs::write(&f, "one\n").unwrap();
    let s = Server::rooted(
        dir.path(),
        &["--max-clients", "1000", "--max-per-address", "0"],
    );
    std::thread::sleep(Duration::from_millis(200));
    let before = (threads_and_fds(s.pid()), vm_rss_kb(s.pid()));
    let url = s.ws_url(&f, "?tail=1&format=text&lines=0");
    let mut clients = Vec::with_capacity(1000);
    for _ in 0..1000 {
        clients.push(small_client(&url, s.port));
    }
    let (status, text) = s.ws_status(&url_path(&f), "");
    assert_eq!(status, 503, "{text}");
    let held = (threads_and_fds(s.pid()), vm_rss_kb(s.pid()));
    for target in ["/", "/?list", &format!("{}?download", url_path(&f))] {
        let (status, text) = s.get(target);
        assert_eq!(status, 200, "{target}: {text}");
    }
    println!(
        "1000 idle followers: threads and fds {:?} -> {:?}, RSS {} -> {} KiB; the page, the list and a download served",
        before.0, held.0, before.1, held.1
    );
    drop(clients);
    s.assert_back_to(before.0, Duration::from_secs(30));
}

/// 10,000 connections, from 8 clients at once, of six kinds in turn:
/// connect and close without a byte; half a request head, then close; a
/// follower that closes properly; a follower dropped without a Close; a
/// refused request (403); the viewer page. Afterwards the server has
/// exactly the threads and descriptors it had before.
#[test]
fn ten_thousand_connect_close_cycles_leave_nothing_behind() {
    let _serial = one_at_a_time();
    let _w = watchdog(Duration::from_secs(150));
    let dir = TempDir::new("cycles");
    let f = dir.join("cycles.log");
    std::fs::write(&f, "one\ntwo\n").unwrap();
    let s = Server::rooted(dir.path(), &["--interval", "0.1"]);
    std::thread::sleep(Duration::from_millis(300));
    let before = threads_and_fds(s.pid());
    const CLIENTS: usize = 8;
    const CYCLES: usize = 10_000;
    let url = s.ws_url(&f, "?tail=1&format=text");
    let port = s.port;
    let t = Instant::now();
    let deadline = t + Duration::from_secs(100);
    let workers: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let url = url.clone();
            std::thread::spawn(move || {
                let mut counts = [0usize; 6];
                for i in (c..CYCLES).step_by(CLIENTS) {
                    assert!(Instant::now() < deadline, "cycle {i}: out of time");
                    let kind = i % 6;
                    counts[kind] += 1;
                    match kind {
                        0 => drop(TcpStream::connect(("127.0.0.1", port)).unwrap()),
                        1 => {
                            let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
                            let _ = c.write_all(b"GET /x HTTP/1.1\r\nHo");
                        }
                        2 => {
                            let mut ws = small_client(&url, port);
                            ws.get_ref()
                                .set_read_timeout(Some(Duration::from_secs(10)))
                                .unwrap();
                            match ws.read() {
                                Ok(Message::Text(t)) => assert_eq!(t.as_str(), "one\ntwo\n"),
                                other => panic!("cycle {i}: {other:?}"),
                            }
                            ws.close(None).unwrap();
                            // Until the server's Close reply (or the end).
                            while ws.read().is_ok() {}
                        }
                        3 => {
                            let mut ws = small_client(&url, port);
                            ws.get_ref()
                                .set_read_timeout(Some(Duration::from_secs(10)))
                                .unwrap();
                            assert!(ws.read().is_ok(), "cycle {i}");
                            drop(ws);
                        }
                        4 => {
                            let (status, text) = http_raw(
                                port,
                                b"GET /etc/passwd?download HTTP/1.1\r\nHost: localhost\r\n\r\n",
                            );
                            assert_eq!(status, 403, "cycle {i}: {text}");
                        }
                        _ => {
                            let (status, text) =
                                http_raw(port, b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
                            assert_eq!(status, 200, "cycle {i}: {text}");
                        }
                    }
                }
                counts
            })
        })
        .collect();
    let mut counts = [0usize; 6];
    for w in workers {
        for (k, n) in w.join().expect("a client thread").iter().enumerate() {
            counts[k] += n;
        }
    }
    let cycles_took = t.elapsed();
    assert_eq!(counts.iter().sum::<usize>(), CYCLES);
    let t = Instant::now();
    let settled = wait_until(Duration::from_secs(20), || {
        threads_and_fds(s.pid()) == before
    });
    let after = threads_and_fds(s.pid());
    println!(
        "{CYCLES} cycles {counts:?} (plain, half head, closed follower, dropped follower, 403, page) \
         from {CLIENTS} clients in {cycles_took:?}; threads and fds before {before:?}, \
         after {after:?} (settled in {:?})",
        t.elapsed()
    );
    assert!(settled, "before {before:?}, after {after:?}");
    // One log line per connection (the "listening" line aside), and no
    // panic.
    let lines = || s.log().lines().filter(|l| l.contains(" \"")).count();
    wait_until(Duration::from_secs(5), || lines() >= CYCLES);
    assert_eq!(lines(), CYCLES, "log lines");
    assert!(!s.log().contains("panicked"));
}

/// What `/proc/PID/environ` says of a variable (`None`: not set).
fn environ_var(pid: u32, name: &str) -> Option<String> {
    let env = std::fs::read(format!("/proc/{pid}/environ")).expect("read /proc/PID/environ");
    env.split(|&b| b == 0).find_map(|kv| {
        let kv = String::from_utf8_lossy(kv);
        kv.strip_prefix(&format!("{name}=")).map(str::to_string)
    })
}

/// Issue 21.7: glibc's per-thread cache of freed blocks, kept by each
/// follower's thread until it ends, is what made a busy server grow through
/// rotations; the server starts itself with it off (the same process, so
/// its id is the one started), and an operator's own `GLIBC_TUNABLES` is
/// kept as it is.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn the_server_runs_without_the_per_thread_allocator_cache() {
    let dir = TempDir::new("tunables");
    let file = dir.join("app.log");
    std::fs::write(&file, "one\ntwo\n").unwrap();
    let root = dir.path().to_str().unwrap();
    let server = Server::start_wrapped(
        &["env", "-u", "GLIBC_TUNABLES"],
        "127.0.0.1:0",
        &["--root", root],
    );
    assert_eq!(
        environ_var(server.pid(), "GLIBC_TUNABLES").as_deref(),
        Some("glibc.malloc.tcache_count=0")
    );
    let mut ws = server.ws(&file, "?lines=2");
    let text = ws.text_until(Duration::from_secs(10), |t| t.contains("two"));
    assert_eq!(text, "one\ntwo\n");
    drop(server);
    let server = Server::start_wrapped(
        &["env", "GLIBC_TUNABLES=glibc.malloc.tcache_count=7"],
        "127.0.0.1:0",
        &["--root", root],
    );
    assert_eq!(
        environ_var(server.pid(), "GLIBC_TUNABLES").as_deref(),
        Some("glibc.malloc.tcache_count=7")
    );
    drop(server);
    // Started through the dynamic loader: the running program is the
    // loader, not started again (it would take `serve` for a program).
    let loader = ["/lib64/ld-linux-x86-64.so.2", "/lib/ld-linux-aarch64.so.1"]
        .into_iter()
        .find(|l| std::path::Path::new(l).exists());
    if let Some(loader) = loader {
        let server = Server::start_wrapped(
            &["env", "-u", "GLIBC_TUNABLES", loader],
            "127.0.0.1:0",
            &["--root", root],
        );
        let mut ws = server.ws(&file, "?lines=2");
        let text = ws.text_until(Duration::from_secs(10), |t| t.contains("two"));
        assert_eq!(text, "one\ntwo\n");
    }
}
