//! Shared helpers for the integration tests: start the real binary on a free
//! port of 127.0.0.1, talk to it as a WebSocket or HTTP client, and bound
//! every wait in time. tests.rs and panic.rs include it with `mod common;`,
//! benches/bench.rs with `#[path]`.
#![allow(dead_code)] // each test binary uses a different part

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

#[allow(unused_imports)] // each test binary uses a different part
pub use wstail::wire::meta::{Meta, Position, Previous};
#[allow(unused_imports)]
pub use wstail::wire::names::{Compression, Event};

pub const BIN: &str = env!("CARGO_BIN_EXE_wstail");

/// A binary frame's meta object; fails the test for anything else.
pub fn meta(frame: &str) -> Meta {
    Meta::parse(frame.as_bytes()).unwrap_or_else(|| panic!("not a meta frame: {frame}"))
}

/// A binary frame's resume point (offset, inode), if it is one.
pub fn position(frame: &str) -> Option<(u64, u64)> {
    match meta(frame) {
        Meta::Position(p) => Some((p.offset, p.inode)),
        _ => None,
    }
}

/// A binary frame's event name, if it is one.
pub fn event(frame: &str) -> Option<String> {
    match meta(frame) {
        Meta::Event { event, .. } => Some(event.as_str().to_string()),
        _ => None,
    }
}

/// A fresh directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "wstail-test-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("create temp dir");
        // Canonical, so paths in URLs match what the server resolves.
        TempDir(std::fs::canonicalize(&p).expect("canonicalize temp dir"))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running `wstail serve`, killed on drop. Its log (stderr) is collected.
pub struct Server {
    pub child: Child,
    pub port: u16,
    pub log: Arc<Mutex<String>>,
}

impl Server {
    /// Starts `wstail serve --listen 127.0.0.1:0 ARGS` and waits for its
    /// "listening on" line.
    pub fn start(args: &[&str]) -> Server {
        Self::start_on("127.0.0.1:0", args)
    }

    /// Starts `wstail serve --root ROOT ARGS` on a free port.
    pub fn rooted(root: &Path, args: &[&str]) -> Server {
        let root = root.to_str().expect("a UTF-8 temp path");
        let mut all = vec!["--root", root];
        all.extend_from_slice(args);
        Self::start(&all)
    }

    pub fn start_on(listen: &str, args: &[&str]) -> Server {
        Self::start_wrapped(&[], listen, args)
    }

    /// Starts the server through a wrapper command, e.g.
    /// `["bash", "-c", "ulimit -n 16; exec \"$0\" \"$@\""]`.
    pub fn start_wrapped(wrapper: &[&str], listen: &str, args: &[&str]) -> Server {
        let mut cmd = match wrapper.split_first() {
            Some((first, rest)) => {
                let mut c = Command::new(first);
                c.args(rest).arg(BIN);
                c
            }
            None => Command::new(BIN),
        };
        let mut child = cmd
            .arg("serve")
            .args(["--listen", listen])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start wstail");
        let stderr = child.stderr.take().expect("stderr");
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let log2 = Arc::clone(&log);
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(at) = line.find("listening on http://127.0.0.1:") {
                    let rest = &line[at + "listening on http://127.0.0.1:".len()..];
                    let port: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(port.parse::<u16>().unwrap_or(0));
                    }
                }
                let mut l = log2.lock().unwrap();
                l.push_str(&line);
                l.push('\n');
            }
        });
        let port = match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(p) => p,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("server did not start: {}", log.lock().unwrap());
            }
        };
        Server { child, port, log }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Waits (bounded) until the server holds exactly the threads and
    /// descriptors of `before`; fails the test if it does not.
    pub fn assert_back_to(&self, before: (usize, usize), within: Duration) {
        let settled = wait_until(within, || threads_and_fds(self.pid()) == before);
        assert!(
            settled,
            "threads and fds: before {before:?}, after {:?}",
            threads_and_fds(self.pid())
        );
    }

    /// Waits until the log holds `needle` (bounded).
    pub fn wait_log(&self, needle: &str, within: Duration) -> bool {
        wait_until(within, || self.log().contains(needle))
    }

    pub fn ws_url(&self, path: &Path, query: &str) -> String {
        format!("ws://127.0.0.1:{}{}{}", self.port, url_path(path), query)
    }

    pub fn ws(&self, path: &Path, query: &str) -> Ws {
        Ws::connect(&self.ws_url(path, query))
    }

    /// A raw HTTP request; returns (status, headers+body as text).
    pub fn http(&self, request: &str) -> (u16, String) {
        http_raw(self.port, request.as_bytes())
    }

    /// A GET that may take long (much work behind it): waits `within`.
    pub fn get_within(&self, target: &str, within: Duration) -> (u16, String) {
        let request = format!(
            "GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n\r\n",
            self.port
        );
        http_raw_within(self.port, request.as_bytes(), within)
    }

    pub fn get(&self, target: &str) -> (u16, String) {
        self.http(&format!(
            "GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n\r\n",
            self.port
        ))
    }

    /// A WebSocket handshake that is expected to be refused; the status.
    pub fn ws_status(&self, target: &str, extra_headers: &str) -> (u16, String) {
        self.http(&format!(
            "GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{extra_headers}\r\n",
            self.port
        ))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The tail of each rotation test: the follower received the event `what`
/// exactly `n` times, and the server's log notes it `n` times for `file`, at
/// info (the log is read by another thread: waited for, bounded).
pub fn assert_events_noted(server: &Server, events: &[String], file: &str, what: &str, n: usize) {
    let received = events.iter().filter(|e| *e == what).count();
    assert_eq!(received, n, "'{what}' events: {events:?}");
    let suffix = format!("{file}\": file {what}");
    let logged = || {
        let log = server.log();
        log.lines()
            .filter(|l| l.contains("[INFO]") && l.ends_with(&suffix))
            .count()
    };
    wait_until(Duration::from_secs(5), || logged() >= n);
    assert_eq!(logged(), n, "'file {what}' in the log:\n{}", server.log());
}

/// Percent-encodes a path for a URL (keeps `/` and unreserved characters).
pub fn url_path(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let mut out = String::new();
    for &b in path.as_os_str().as_bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Sends raw bytes, reads the whole answer (bounded by 60 s: the time a
/// small request may take on a loaded machine; a request that does much
/// work gives its own bound to `http_raw_within`).
pub fn http_raw(port: u16, request: &[u8]) -> (u16, String) {
    http_raw_within(port, request, Duration::from_secs(60))
}

/// Sends raw bytes, reads the whole answer, waiting at most `within`.
pub fn http_raw_within(port: u16, request: &[u8], within: Duration) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(within)).unwrap();
    s.write_all(request).expect("send request");
    let mut buf = Vec::new();
    let deadline = Instant::now() + within;
    let mut chunk = [0u8; 8192];
    while Instant::now() < deadline {
        match s.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(_) => break,
        }
        // A 101 answer never ends by itself.
        if buf.starts_with(b"HTTP/1.1 101") && buf.windows(4).any(|w| w == b"\r\n\r\n") {
            break;
        }
    }
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text)
}

/// Polls `f` until true or `within` passes.
pub fn wait_until(within: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if f() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A WebSocket client with bounded reads.
pub struct Ws {
    pub ws: WebSocket<MaybeTlsStream<TcpStream>>,
}

/// What a read gave.
#[derive(Debug, PartialEq)]
pub enum Got {
    Text(String),
    Binary(String),
    Closed(Option<u16>),
    Timeout,
}

impl Ws {
    pub fn connect(url: &str) -> Ws {
        let (ws, _) = tungstenite::connect(url).unwrap_or_else(|e| panic!("connect {url}: {e}"));
        Ws { ws }
    }

    pub fn try_connect(url: &str) -> Result<Ws, tungstenite::Error> {
        tungstenite::connect(url).map(|(ws, _)| Ws { ws })
    }

    fn stream(&self) -> &TcpStream {
        match self.ws.get_ref() {
            MaybeTlsStream::Plain(s) => s,
            _ => unreachable!("tests use plain TCP"),
        }
    }

    /// The next data message or close, answering pings (tungstenite does).
    pub fn next(&mut self, within: Duration) -> Got {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Got::Timeout;
            }
            self.stream().set_read_timeout(Some(left)).unwrap();
            match self.ws.read() {
                Ok(Message::Text(t)) => return Got::Text(t.to_string()),
                Ok(Message::Binary(b)) => {
                    return Got::Binary(String::from_utf8_lossy(&b).into_owned());
                }
                Ok(Message::Close(f)) => return Got::Closed(f.map(|f| u16::from(f.code))),
                Ok(_) => continue,
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    return Got::Timeout;
                }
                Err(_) => return Got::Closed(None),
            }
        }
    }

    /// Text messages until `pred(all text so far)` holds, or the time is up.
    pub fn text_until(&mut self, within: Duration, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + within;
        let mut all = String::new();
        while !pred(&all) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next(left) {
                Got::Text(t) => all.push_str(&t),
                Got::Binary(_) => {}
                Got::Closed(_) | Got::Timeout => break,
            }
        }
        all
    }

    /// All text messages until the server closes (bounded).
    pub fn text_to_close(&mut self, within: Duration) -> (String, Option<u16>) {
        let deadline = Instant::now() + within;
        let mut all = String::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next(left) {
                Got::Text(t) => all.push_str(&t),
                Got::Binary(_) => {}
                Got::Closed(code) => return (all, code),
                Got::Timeout => panic!("no close within {within:?}; got {all:?}"),
            }
        }
    }

    pub fn close(mut self) {
        let _ = self.ws.close(None);
        let _ = self.ws.flush();
    }
}

/// Appends to a file and flushes.
/// Runs the real logrotate once, forced (`-f`), with its state file:
/// the rotation a test asks for, now.
pub fn logrotate(conf: &Path, state: &Path) {
    let out = std::process::Command::new("/usr/sbin/logrotate")
        .arg("-f")
        .arg("-s")
        .arg(state)
        .arg(conf)
        .output()
        .expect("run /usr/sbin/logrotate");
    assert!(
        out.status.success(),
        "logrotate: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn append(path: &Path, data: &[u8]) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("open for append");
    f.write_all(data).expect("append");
    f.flush().expect("flush");
}

/// Threads and open descriptors of a process (Linux /proc).
pub fn threads_and_fds(pid: u32) -> (usize, usize) {
    let count = |d: String| std::fs::read_dir(d).map(|r| r.count()).unwrap_or(0);
    (
        count(format!("/proc/{pid}/task")),
        count(format!("/proc/{pid}/fd")),
    )
}

/// A watchdog: ends the test process if the test that armed it is still
/// running after `limit`, so a hung server never hangs CI. Dropping the
/// guard (the test finished) disarms it.
#[must_use]
pub struct Watchdog(Arc<std::sync::atomic::AtomicBool>);

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

pub fn watchdog(limit: Duration) -> Watchdog {
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = Arc::clone(&done);
    let name = std::thread::current().name().unwrap_or("?").to_string();
    std::thread::spawn(move || {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if flag.load(Ordering::Relaxed) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        if !flag.load(Ordering::Relaxed) {
            eprintln!("test watchdog: {name} still running after {limit:?}, aborting");
            std::process::exit(101);
        }
    });
    Watchdog(done)
}

/// Resident memory of a process in KiB (`VmRSS` in /proc/PID/status);
/// 0 when it cannot be read.
pub fn vm_rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// A process's CPU time so far (user + system, in clock ticks of 10 ms),
/// from `/proc/PID/stat`.
pub fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // The fields after the command's closing parenthesis: state is the
    // first, utime the 12th and stime the 13th.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split(' ').collect();
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}
