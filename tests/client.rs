//! `wstail tail` end to end against the real server: the last lines, `-f`,
//! several URLs with prefixes and no mid-line mixing, refusals and exit
//! statuses, tokens, heartbeats, a closed pipe, and `--retry` resuming across
//! a server restart with nothing lost or repeated.
use crate::common::*;

use std::io::Read;
use std::net::TcpListener;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A running `wstail tail`, its output collected; killed on drop.
pub(crate) struct Tail {
    pub(crate) child: Child,
    out: Arc<Mutex<Vec<u8>>>,
    err: Arc<Mutex<Vec<u8>>>,
}

fn collect(mut r: impl Read + Send + 'static) -> Arc<Mutex<Vec<u8>>> {
    let buf = Arc::new(Mutex::new(Vec::new()));
    let b = Arc::clone(&buf);
    std::thread::spawn(move || {
        let mut chunk = [0u8; 8192];
        while let Ok(n) = r.read(&mut chunk) {
            if n == 0 {
                break;
            }
            b.lock().unwrap().extend_from_slice(&chunk[..n]);
        }
    });
    buf
}

impl Tail {
    pub(crate) fn spawn(args: &[&str]) -> Tail {
        Self::spawn_env(args, &[])
    }

    fn spawn_env(args: &[&str], env: &[(&str, &str)]) -> Tail {
        let mut cmd = Command::new(BIN);
        cmd.arg("tail")
            .args(args)
            .env_remove("WSTAIL_TOKEN")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start wstail tail");
        let out = collect(child.stdout.take().unwrap());
        let err = collect(child.stderr.take().unwrap());
        Tail { child, out, err }
    }

    pub(crate) fn out(&self) -> String {
        String::from_utf8_lossy(&self.out.lock().unwrap()).into_owned()
    }

    pub(crate) fn err(&self) -> String {
        String::from_utf8_lossy(&self.err.lock().unwrap()).into_owned()
    }

    pub(crate) fn wait_out(&self, within: Duration, pred: impl Fn(&str) -> bool) -> bool {
        wait_until(within, || pred(&self.out()))
    }

    /// Waits for the exit (bounded); the status.
    pub(crate) fn wait(&mut self, within: Duration) -> ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                // Let the collectors drain the pipes.
                std::thread::sleep(Duration::from_millis(50));
                return st;
            }
            if Instant::now() >= deadline {
                panic!(
                    "wstail tail did not exit within {within:?}; out {:?} err {:?}",
                    self.out(),
                    self.err()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Tail {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `wstail tail ARGS` to its end: (status code, stdout, stderr).
pub(crate) fn run(args: &[&str]) -> (i32, String, String) {
    let mut t = Tail::spawn(args);
    let st = t.wait(Duration::from_secs(20));
    (st.code().unwrap_or(-1), t.out(), t.err())
}

fn setup(tag: &str, content: &str, args: &[&str]) -> (TempDir, std::path::PathBuf, Server) {
    let dir = TempDir::new(tag);
    let f = dir.join("app.log");
    std::fs::write(&f, content).unwrap();
    let root = dir.path().to_str().unwrap().to_string();
    let mut all = vec!["--root", &root, "--interval", "0.05"];
    all.extend_from_slice(args);
    let s = Server::start(&all);
    (dir, f, s)
}

fn numbered(from: usize, to: usize) -> String {
    (from..=to).map(|i| format!("line {i}\n")).collect()
}

#[test]
fn prints_the_last_lines_and_exits_0() {
    let _w = watchdog(Duration::from_secs(60));
    let (_d, f, s) = setup("c-last", &numbered(1, 50), &[]);
    let url = s.ws_url(&f, "");
    let (code, out, err) = run(&["-n", "3", &url]);
    assert_eq!(
        (code, out.as_str(), err.as_str()),
        (0, "line 48\nline 49\nline 50\n", "")
    );
    // The default is 10 lines, like tail; http:// means the same as ws://.
    let http = url.replacen("ws://", "http://", 1);
    let (code, out, _) = run(&[&http]);
    assert_eq!((code, out), (0, numbered(41, 50)));
    // An unterminated last line is printed as it is, colours pass through.
    std::fs::write(&f, "a\n\x1b[31mred\x1b[0m <b>").unwrap();
    let (code, out, _) = run(&["-n2", &url]);
    assert_eq!((code, out.as_str()), (0, "a\n\x1b[31mred\x1b[0m <b>"));
    let (code, out, _) = run(&["-n1", "--html", &url]);
    assert_eq!(
        (code, out.as_str()),
        (0, "<span style=\"color:#cd0000\">red</span> &lt;b&gt;")
    );
}

#[test]
fn follows_with_f() {
    let _w = watchdog(Duration::from_secs(60));
    let (_d, f, s) = setup("c-follow", "old\n", &[]);
    let t = Tail::spawn(&["-f", "-n", "1", &s.ws_url(&f, "")]);
    assert!(
        t.wait_out(Duration::from_secs(10), |o| o == "old\n"),
        "{:?}",
        t.out()
    );
    append(&f, b"new 1\n");
    assert!(t.wait_out(Duration::from_secs(10), |o| o == "old\nnew 1\n"));
    append(&f, b"new 2\n");
    assert!(t.wait_out(Duration::from_secs(10), |o| o == "old\nnew 1\nnew 2\n"));
    assert_eq!(t.err(), "");
}

/// Sends `signal` (`STOP`, `CONT`) to a process we started.
pub(crate) fn signal(pid: u32, signal: &str) {
    let st = Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(st.success(), "kill -{signal} {pid}");
}

/// Ctrl-Z and `fg`: after SIGSTOP and SIGCONT, Linux ends a socket read
/// that has a timeout (SO_RCVTIMEO) with EINTR even without a signal
/// handler (signal(7)). The client (or the server, with `server`) reads
/// on: every line once, no reconnection, no exit.
fn survives_stop_and_continue(tag: &str, extra: &[&str], server: bool) {
    let _w = watchdog(Duration::from_secs(60));
    let (_d, f, s) = setup(tag, &numbered(1, 3), &[]);
    let url = s.ws_url(&f, "");
    let mut args = vec!["-f", "-n", "3"];
    args.extend_from_slice(extra);
    args.push(&url);
    let mut t = Tail::spawn(&args);
    assert!(t.wait_out(Duration::from_secs(10), |o| o == numbered(1, 3)));
    let pid = if server { s.pid() } else { t.child.id() };
    let mut next = 4;
    for _ in 0..5 {
        // Stopped while idle in its read, and while lines arrive.
        std::thread::sleep(Duration::from_millis(100));
        signal(pid, "STOP");
        for _ in 0..3 {
            append(&f, format!("line {next}\n").as_bytes());
            next += 1;
        }
        std::thread::sleep(Duration::from_millis(300));
        signal(pid, "CONT");
        let want = numbered(1, next - 1);
        assert!(
            t.wait_out(Duration::from_secs(10), |o| o == want),
            "got {:?}\nwant {want:?}\nerr {}",
            t.out(),
            t.err()
        );
    }
    assert!(t.child.try_wait().unwrap().is_none(), "{}", t.err());
    assert_eq!(t.err(), "");
    assert!(!s.log().contains("error"), "{}", s.log());
}

#[test]
fn follows_on_after_ctrl_z_and_fg() {
    survives_stop_and_continue("c-stop", &[], false);
}

#[test]
fn retry_does_not_reconnect_after_ctrl_z_and_fg() {
    survives_stop_and_continue("c-stop-retry", &["--retry"], false);
}

#[test]
fn the_server_follows_on_after_ctrl_z_and_fg() {
    survives_stop_and_continue("c-stop-server", &["--retry"], true);
}

/// Ctrl-Z and `fg` during the handshake: while the client waits for the
/// answer's head, and for a refusal's reason after it.
#[test]
fn the_handshake_reads_on_after_ctrl_z_and_fg() {
    use std::io::Write;
    let _w = watchdog(Duration::from_secs(60));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut t = Tail::spawn(&[&format!("ws://127.0.0.1:{port}/x")]);
    let (mut conn, _) = listener.accept().unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 8192 {
        assert_eq!(conn.read(&mut byte).unwrap(), 1, "the request head ended");
        head.push(byte[0]);
    }
    let pid = t.child.id();
    let reason = b"403 Forbidden: the path is outside the served roots\n";
    for part in [
        format!(
            "HTTP/1.1 403 Forbidden\r\nContent-Length: {}\r\n\r\n",
            reason.len()
        )
        .as_bytes(),
        reason,
    ] {
        std::thread::sleep(Duration::from_millis(200));
        signal(pid, "STOP");
        std::thread::sleep(Duration::from_millis(200));
        signal(pid, "CONT");
        std::thread::sleep(Duration::from_millis(200));
        conn.write_all(part).unwrap();
    }
    let st = t.wait(Duration::from_secs(10));
    assert_eq!(st.code(), Some(1));
    assert_eq!(
        t.err(),
        format!(
            "wstail: ws://127.0.0.1:{port}/x: 403 Forbidden: the path is outside the served roots\n"
        )
    );
}

#[test]
fn clustered_short_options_like_tail() {
    let _w = watchdog(Duration::from_secs(60));
    let (_d, f, s) = setup("c-cluster", "old 1\nold 2\n", &[]);
    let t = Tail::spawn(&["-fn", "1", &s.ws_url(&f, "")]);
    assert!(
        t.wait_out(Duration::from_secs(10), |o| o == "old 2\n"),
        "{:?} {:?}",
        t.out(),
        t.err()
    );
    append(&f, b"new\n");
    assert!(t.wait_out(Duration::from_secs(10), |o| o == "old 2\nnew\n"));
    assert_eq!(t.err(), "");
}

#[test]
fn several_urls_get_prefixes_and_never_mix_lines() {
    let _w = watchdog(Duration::from_secs(90));
    let dir = TempDir::new("c-multi");
    let a = dir.join("a.log");
    let b = dir.join("b.log");
    // Long lines, so that messages end mid-line at 64 KiB boundaries.
    let line = |tag: &str, i: usize| format!("{tag} {i} {}\n", "x".repeat(700 + i % 300));
    let a_text: String = (0..3000).map(|i| line("A", i)).collect();
    let b_text: String = (0..3000).map(|i| line("B", i)).collect();
    std::fs::write(&a, &a_text).unwrap();
    // b has no final newline: the last partial line is printed with one.
    std::fs::write(&b, b_text.trim_end()).unwrap();
    let s = Server::rooted(dir.path(), &[]);
    let (ua, ub) = (s.ws_url(&a, ""), s.ws_url(&b, ""));
    let (code, out, err) = run(&["-n", "3000", &ua, &ub]);
    assert_eq!((code, err.as_str()), (0, ""));
    let pa = format!("{}:", a.display());
    let pb = format!("{}:", b.display());
    let (mut got_a, mut got_b) = (String::new(), String::new());
    for l in out.split_inclusive('\n') {
        if let Some(rest) = l.strip_prefix(&pa) {
            assert!(rest.starts_with("A "), "mixed line: {l:.80}");
            got_a.push_str(rest);
        } else if let Some(rest) = l.strip_prefix(&pb) {
            assert!(rest.starts_with("B "), "mixed line: {l:.80}");
            got_b.push_str(rest);
        } else {
            panic!("line without a prefix: {l:.80}");
        }
    }
    assert_eq!(got_a, a_text);
    assert_eq!(got_b, b_text);

    // Following two files: appended lines come out whole and prefixed.
    let t = Tail::spawn(&["-f", "-n", "0", &ua, &ub]);
    std::thread::sleep(Duration::from_millis(500));
    append(&a, b"partial ");
    append(&b, b"\nfrom b\n");
    std::thread::sleep(Duration::from_millis(300));
    append(&a, b"then whole\n");
    let want_a = format!("{pa}partial then whole\n");
    let want_b = format!("{pb}from b\n");
    assert!(
        t.wait_out(Duration::from_secs(10), |o| o.contains(&want_a)
            && o.contains(&want_b)),
        "{:?}",
        t.out()
    );
}

#[test]
fn refusals_are_printed_with_status_and_reason() {
    let _w = watchdog(Duration::from_secs(60));
    let (d, f, s) = setup("c-refuse", "x\n", &[]);
    let outside = format!("ws://127.0.0.1:{}/etc/passwd", s.port);
    let (code, out, err) = run(&[&outside]);
    assert_eq!(code, 1);
    assert_eq!(out, "");
    assert_eq!(
        err,
        format!("wstail: {outside}: 403 Forbidden: the path is outside the served roots\n")
    );
    let missing = s.ws_url(&d.join("nope.log"), "");
    let (code, _, err) = run(&[&missing]);
    assert_eq!(code, 1);
    assert!(
        err.starts_with(&format!("wstail: {missing}: 404 Not Found: ")),
        "{err}"
    );
    // One good URL and one refused: the good one is printed, status 1.
    let (code, out, _) = run(&["-n1", &s.ws_url(&f, ""), &outside]);
    assert_eq!(code, 1);
    assert_eq!(out, format!("{}:x\n", f.display()));
}

#[test]
fn bad_urls_are_usage_errors() {
    let (code, _, err) = run(&["wss://example.org/var/log/syslog"]);
    assert_eq!(code, 2);
    assert!(err.contains("TLS-terminating proxy"), "{err}");
    let (code, _, err) = run(&["https://example.org/x"]);
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = run(&["/var/log/syslog"]);
    assert_eq!(code, 2);
    assert!(err.contains("not a URL"), "{err}");
    let (code, _, err) = run(&["ftp://h/x"]);
    assert_eq!(code, 2);
    assert!(err.contains("'ftp:'"), "{err}");
}

#[test]
fn no_server_without_retry_is_status_1() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("ws://127.0.0.1:{port}/x");
    let (code, _, err) = run(&[&url]);
    assert_eq!(code, 1);
    assert!(err.contains("cannot connect"), "{err}");
}

#[test]
fn tokens_from_the_option_or_the_environment() {
    let _w = watchdog(Duration::from_secs(60));
    let (_d, f, s) = setup("c-token", "secret line\n", &["--token", "s3cret"]);
    let url = s.ws_url(&f, "");
    let (code, _, err) = run(&[&url]);
    assert_eq!(code, 1);
    assert_eq!(
        err,
        format!("wstail: {url}: 401 Unauthorized: a token is required\n")
    );
    let (code, _, err) = run(&["--token", "wrong", &url]);
    assert_eq!(code, 1);
    assert!(
        err.ends_with("401 Unauthorized: the token is wrong\n"),
        "{err}"
    );
    let (code, out, _) = run(&["--token", "s3cret", &url]);
    assert_eq!((code, out.as_str()), (0, "secret line\n"));
    let mut t = Tail::spawn_env(&[&url], &[("WSTAIL_TOKEN", "s3cret")]);
    assert!(t.wait(Duration::from_secs(10)).success(), "{}", t.err());
    assert_eq!(t.out(), "secret line\n");
    // The token travels in a header, so the server's log never holds it.
    assert!(!s.log().contains("s3cret"));
}

#[test]
fn heartbeats_are_answered() {
    let _w = watchdog(Duration::from_secs(60));
    let (_d, f, s) = setup(
        "c-heartbeat",
        "start\n",
        &["--heartbeat", "0.2", "--pong-timeout", "0.5"],
    );
    let t = Tail::spawn(&["-f", &s.ws_url(&f, "")]);
    assert!(t.wait_out(Duration::from_secs(10), |o| o == "start\n"));
    // Well past several pings and pong timeouts.
    std::thread::sleep(Duration::from_secs(3));
    append(&f, b"still here\n");
    assert!(
        t.wait_out(Duration::from_secs(10), |o| o == "start\nstill here\n"),
        "{:?} {}",
        t.out(),
        s.log()
    );
    assert!(!s.log().contains("no pong"), "{}", s.log());
}

#[test]
fn a_closed_pipe_ends_quietly_with_status_0() {
    let _w = watchdog(Duration::from_secs(60));
    // Far more than a pipe buffer holds, so the client must meet EPIPE.
    let (_d, f, s) = setup("c-pipe", &numbered(1, 10_000), &[]);
    let url = s.ws_url(&f, "");
    for args in [vec!["-n", "5000"], vec!["-f", "-n", "5000"]] {
        let now = std::fs::read_to_string(&f).unwrap();
        let all: Vec<&str> = now.split_inclusive('\n').collect();
        let want = all[all.len() - 5000..][..3].concat();
        let mut cmd = Command::new(BIN);
        let mut child = cmd
            .arg("tail")
            .args(&args)
            .arg(&url)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let err = collect(child.stderr.take().unwrap());
        // Like `| head -3`: read three lines, then close the pipe.
        let mut stdout = child.stdout.take().unwrap();
        let mut got = Vec::new();
        let mut byte = [0u8; 1];
        while got.iter().filter(|&&b| b == b'\n').count() < 3 {
            assert_eq!(stdout.read(&mut byte).unwrap(), 1);
            got.push(byte[0]);
        }
        assert_eq!(got, want.as_bytes());
        drop(stdout);
        // With -f the client notices at its next write: give it one.
        append(&f, b"one more\n");
        let deadline = Instant::now() + Duration::from_secs(10);
        let status = loop {
            if let Some(st) = child.try_wait().unwrap() {
                break st;
            }
            assert!(Instant::now() < deadline, "{args:?}: did not exit");
            std::thread::sleep(Duration::from_millis(20));
        };
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(status.code(), Some(0), "{args:?}");
        assert_eq!(
            String::from_utf8_lossy(&err.lock().unwrap()),
            "",
            "{args:?}"
        );
    }
}

#[test]
fn retry_waits_for_the_server_and_resumes_without_loss_or_repeat() {
    let _w = watchdog(Duration::from_secs(120));
    let dir = TempDir::new("c-retry");
    let f = dir.join("app.log");
    std::fs::write(&f, numbered(1, 5)).unwrap();
    let root = dir.path().to_str().unwrap().to_string();
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let listen = format!("127.0.0.1:{port}");
    let url = format!("ws://{listen}{}", url_path(&f));
    let args = ["--root", root.as_str(), "--interval", "0.05"];

    // No server yet: the client keeps trying, like tail -F.
    let t = Tail::spawn(&["-f", "--retry", "-n", "2", &url]);
    assert!(wait_until(Duration::from_secs(10), || t
        .err()
        .contains("retrying in 1 s")));
    let server = Server::start_on(&listen, &args);
    assert!(
        t.wait_out(Duration::from_secs(30), |o| o == numbered(4, 5)),
        "{:?} {}",
        t.out(),
        t.err()
    );
    assert!(t.err().contains("reconnected"), "{}", t.err());

    // Lines appended while connected, while the server is down, and just
    // before it is killed (perhaps unsent): each is printed exactly once.
    let mut next = 6;
    let mut add = |n: usize, pause: u64| {
        for _ in 0..n {
            append(&f, format!("line {next}\n").as_bytes());
            next += 1;
            std::thread::sleep(Duration::from_millis(pause));
        }
        next - 1
    };
    let last = add(20, 10);
    assert!(t.wait_out(Duration::from_secs(10), |o| {
        o.ends_with(&format!("line {last}\n"))
    }));
    drop(server);
    assert!(wait_until(Duration::from_secs(10), || t
        .err()
        .contains("connection lost")));
    add(20, 0);
    let server = Server::start_on(&listen, &args);
    let last = add(20, 10);
    assert!(t.wait_out(Duration::from_secs(20), |o| {
        o.ends_with(&format!("line {last}\n"))
    }));
    add(20, 0);
    drop(server);
    assert!(wait_until(Duration::from_secs(10), || t
        .err()
        .matches("connection lost")
        .count()
        >= 2));
    add(5, 0);
    let _server = Server::start_on(&listen, &args);
    let last = add(15, 10);
    let want = numbered(4, last);
    assert!(
        t.wait_out(Duration::from_secs(30), |o| o == want),
        "got {:?}\nwant {:?}\nerr {}",
        t.out(),
        want,
        t.err()
    );
    let err = t.err();
    assert!(
        err.contains(&format!(
            "wstail: {url}: connection lost; retrying in 0.5 s"
        )),
        "{err}"
    );
    assert!(err.contains("reconnected; resuming at byte"), "{err}");
}

/// `wstail tail -f --retry -n N` on a file that held `content`, once it
/// printed `first` and the server was stopped and the client noticed.
struct Outage {
    dir: TempDir,
    f: std::path::PathBuf,
    t: Tail,
    listen: String,
}

impl Outage {
    fn start(tag: &str, content: &str, n: &str, first: &str) -> Outage {
        let (dir, f, s) = setup(tag, content, &[]);
        let listen = format!("127.0.0.1:{}", s.port);
        let t = Tail::spawn(&["-f", "--retry", "-n", n, &s.ws_url(&f, "")]);
        assert!(t.wait_out(Duration::from_secs(10), |o| o == first));
        drop(s);
        assert!(wait_until(Duration::from_secs(10), || t
            .err()
            .contains("connection lost")));
        Outage { dir, f, t, listen }
    }

    /// The server again, on the same port.
    fn restart(&self) -> Server {
        let root = self.dir.path().to_str().unwrap();
        Server::start_on(&self.listen, &["--root", root, "--interval", "0.05"])
    }

    /// Waits (bounded) until the client printed exactly `want`.
    fn expect(&self, want: &str) {
        assert!(
            self.t.wait_out(Duration::from_secs(20), |o| o == want),
            "{:?} {}",
            self.t.out(),
            self.t.err()
        );
    }
}

#[test]
fn retry_after_a_rotation_while_disconnected_prints_the_new_file() {
    let _w = watchdog(Duration::from_secs(90));
    let o = Outage::start("c-rotate", &numbered(1, 3), "1", "line 3\n");
    std::fs::rename(&o.f, o.dir.join("app.log.1")).unwrap();
    std::fs::write(&o.f, "new 1\nnew 2\n").unwrap();
    let _s = o.restart();
    o.expect("line 3\nnew 1\nnew 2\n");
    assert!(
        o.t.err().contains("file replaced; following the new file"),
        "{}",
        o.t.err()
    );
}

/// Lines appended just before the rotation, while the client was away,
/// come first: the rest of the old generation, then the new file.
#[test]
fn retry_after_a_rotation_prints_the_rest_of_the_old_file_first() {
    let _w = watchdog(Duration::from_secs(90));
    let o = Outage::start("c-rotate-rest", &numbered(1, 3), "1", "line 3\n");
    append(&o.f, numbered(4, 5).as_bytes());
    std::fs::rename(&o.f, o.dir.join("app.log.1")).unwrap();
    std::fs::write(&o.f, "new 1\nnew 2\n").unwrap();
    let _s = o.restart();
    o.expect("line 3\nline 4\nline 5\nnew 1\nnew 2\n");
}

/// The file is rewritten in place (same inode, longer) while the client is
/// away: the tag it passes back tells, and the new content is printed from
/// its start instead of from the old offset.
#[test]
fn retry_passes_the_tag_back() {
    let _w = watchdog(Duration::from_secs(90));
    let o = Outage::start("c-tag", &numbered(1, 3), "3", &numbered(1, 3));
    let new: String = (1..=9).map(|i| format!("other {i}\n")).collect();
    let mut out = std::fs::OpenOptions::new().write(true).open(&o.f).unwrap();
    out.set_len(0).unwrap();
    std::io::Write::write_all(&mut out, new.as_bytes()).unwrap();
    drop(out);
    let _s = o.restart();
    o.expect(&(numbered(1, 3) + &new));
    assert!(o.t.err().contains("file truncated"), "{}", o.t.err());
}

/// `--retry` waits while the path is a directory (403, not a regular
/// file), like `tail -F`, and follows the file once one is there.
#[test]
fn retry_waits_while_the_path_is_not_a_regular_file() {
    let _w = watchdog(Duration::from_secs(90));
    let (_d, f, s) = setup("c-dir", "", &[]);
    std::fs::remove_file(&f).unwrap();
    std::fs::create_dir(&f).unwrap();
    let t = Tail::spawn(&["-f", "--retry", "-n", "5", &s.ws_url(&f, "")]);
    assert!(
        wait_until(Duration::from_secs(10), || t
            .err()
            .contains("not a regular file; retrying in 1 s")),
        "{}",
        t.err()
    );
    std::fs::remove_dir(&f).unwrap();
    std::fs::write(&f, "here\n").unwrap();
    assert!(
        t.wait_out(Duration::from_secs(20), |o| o == "here\n"),
        "{:?} {}",
        t.out(),
        t.err()
    );
}

/// A fake server: a listener on a free port of 127.0.0.1.
fn fake_server() -> (TcpListener, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    (listener, port)
}

/// Accepts one connection (bounded) and reads its request head.
fn accept_head(listener: &TcpListener) -> (std::net::TcpStream, String) {
    listener.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut conn = loop {
        match listener.accept() {
            Ok((c, _)) => break c,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("no connection: {e}"),
        }
    };
    conn.set_nonblocking(false).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 8192 {
        assert_eq!(conn.read(&mut byte).unwrap(), 1, "the request head ended");
        head.push(byte[0]);
    }
    (conn, String::from_utf8_lossy(&head).into_owned())
}

/// What a terminal would act on: ESC, BEL, C1 controls, bidi overrides.
fn raw_controls(s: &str) -> Vec<char> {
    s.chars()
        .filter(|&c| {
            let n = u32::from(c);
            (n < 0x20 && c != '\n')
                || (0x7f..=0x9f).contains(&n)
                || (0x202a..=0x202e).contains(&n)
                || (0x2066..=0x2069).contains(&n)
        })
        .collect()
}

/// A refusal's reason and status phrase, a Close reason and an event name
/// holding OSC 52 (clipboard), a clear screen, BEL and a bidi override:
/// stderr shows them escaped; the log text on stdout stays as it is.
#[test]
fn a_servers_words_reach_the_terminal_escaped() {
    use std::io::Write;
    let _w = watchdog(Duration::from_secs(60));
    let nasty = "\x1b]52;c;aGk=\x07 \x1b[2J\x1b[H\u{202e}gol\x07";
    let escaped = "\\x1b]52;c;aGk=\\x07 \\x1b[2J\\x1b[H\\xe2\\x80\\xaegol\\x07";

    // A refusal: the phrase and the body's reason.
    let (listener, port) = fake_server();
    let url = format!("ws://127.0.0.1:{port}/x");
    let t = Tail::spawn(&[&url]);
    let (mut conn, _) = accept_head(&listener);
    let body = format!("403 Forbidden: {nasty}\n");
    let answer = format!(
        "HTTP/1.1 403 Forbidden \u{202e}\u{9b}\r\nContent-Length: {}\r\nX-Wstail-Refusal: outside-roots\r\n\r\n{body}",
        body.len()
    );
    conn.write_all(answer.as_bytes()).unwrap();
    let mut t = t;
    assert_eq!(t.wait(Duration::from_secs(20)).code(), Some(1));
    let err = t.err();
    assert_eq!(err, format!("wstail: {url}: 403 Forbidden: {escaped}\n"));
    assert_eq!(raw_controls(&err), []);

    // A phrase with ESC and BEL is no HTTP: said so, without them.
    let (listener, port) = fake_server();
    let url = format!("ws://127.0.0.1:{port}/x");
    let mut t = Tail::spawn(&[&url]);
    let (mut conn, _) = accept_head(&listener);
    let answer = format!("HTTP/1.1 403 {nasty}\r\nContent-Length: 0\r\n\r\n");
    conn.write_all(answer.as_bytes()).unwrap();
    assert_eq!(t.wait(Duration::from_secs(20)).code(), Some(1));
    let err = t.err();
    assert!(
        err.starts_with(&format!("wstail: {url}: the handshake failed (")),
        "{err}"
    );
    assert_eq!(raw_controls(&err), []);

    // A Close frame's reason, an event's name; and the log text.
    let (listener, port) = fake_server();
    let url = format!("ws://127.0.0.1:{port}/x");
    let mut t = Tail::spawn(&["-f", &url]);
    let (conn, _) = {
        listener.set_nonblocking(true).unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            match listener.accept() {
                Ok(c) => break c,
                Err(_) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                Err(e) => panic!("no connection: {e}"),
            }
        }
    };
    conn.set_nonblocking(false).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut ws = tungstenite::accept(conn).expect("handshake");
    let log = "\x1b[31mred\x1b[0m \x1b]0;the file's own title\x07\n";
    ws.send(tungstenite::Message::text(log)).unwrap();
    let event = format!(
        "{{\"event\":\"{}\"}}",
        nasty.replace('\x1b', "\\u001b").replace('\x07', "\\u0007")
    );
    ws.send(tungstenite::Message::binary(event.into_bytes()))
        .unwrap();
    ws.close(Some(tungstenite::protocol::CloseFrame {
        code: tungstenite::protocol::frame::coding::CloseCode::Error,
        reason: nasty.into(),
    }))
    .unwrap();
    for _ in 0..10 {
        if ws.read().is_err() {
            break;
        }
    }
    assert_eq!(t.wait(Duration::from_secs(20)).code(), Some(1));
    assert_eq!(t.out(), log);
    let err = t.err();
    assert_eq!(
        err,
        format!("wstail: {url}: the server closed the connection (1011: {escaped})\n")
    );
    assert_eq!(raw_controls(&err), []);
}

/// A server that drips its answer a byte every 2 s holds the client 10 s
/// in all, not a read time-out per byte (hours).
#[test]
fn the_whole_handshake_answer_must_come_within_10_s() {
    use std::io::Write;
    let _w = watchdog(Duration::from_secs(90));
    let (listener, port) = fake_server();
    let url = format!("ws://127.0.0.1:{port}/x");
    let started = Instant::now();
    let mut t = Tail::spawn(&[&url]);
    let (mut conn, _) = accept_head(&listener);
    let dripper = std::thread::spawn(move || {
        for &b in b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n".iter() {
            if conn.write_all(&[b]).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_secs(2));
        }
    });
    let st = t.wait(Duration::from_secs(60));
    let took = started.elapsed();
    assert_eq!(st.code(), Some(1), "{}", t.err());
    assert_eq!(
        t.err(),
        format!("wstail: {url}: the server did not answer the handshake within 10 s\n")
    );
    // Not sooner than the bound; and far sooner than the 28 bytes' 56 s.
    assert!(took >= Duration::from_millis(9500), "{took:?}");
    assert!(took < Duration::from_secs(45), "{took:?}");
    drop(dripper);
}

/// `--retry` acts on `X-Wstail-Refusal`, not on the reason's words: a new
/// wording under a waitable kind is retried, the old waitable wording
/// under a final kind is not.
#[test]
fn retry_decides_on_the_refusal_kind() {
    use std::io::Write;
    let _w = watchdog(Duration::from_secs(60));
    let (listener, port) = fake_server();
    let url = format!("ws://127.0.0.1:{port}/x");
    let mut t = Tail::spawn(&["-f", "--retry", &url]);
    let refuse = |conn: &mut std::net::TcpStream, kind: &str, reason: &str| {
        let body = format!("403 Forbidden: {reason}\n");
        let answer = format!(
            "HTTP/1.1 403 Forbidden\r\nContent-Length: {}\r\nX-Wstail-Refusal: {kind}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        conn.write_all(answer.as_bytes()).unwrap();
    };
    let (mut conn, _) = accept_head(&listener);
    refuse(&mut conn, "not-regular", "reworded: a directory is there");
    drop(conn);
    let (mut conn, _) = accept_head(&listener);
    refuse(&mut conn, "outside-roots", "the path is not a regular file");
    drop(conn);
    assert_eq!(t.wait(Duration::from_secs(20)).code(), Some(1));
    assert_eq!(
        t.err(),
        format!(
            "wstail: {url}: 403 Forbidden: reworded: a directory is there; retrying in 0.5 s\n\
             wstail: {url}: 403 Forbidden: the path is not a regular file\n"
        )
    );
}
