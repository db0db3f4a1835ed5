//! Events say what happened, with the real logrotate binary: `compress`
//! without `delaycompress` (the renamed file is compressed and deleted at
//! once) and `rotate 0` (it is deleted) are rotations, reported `rotated`,
//! not `recreated`; when a generation, or a `copytruncate` copy, was
//! compressed with gzip before the follower read it, the follower reads it
//! through the inflater (nothing lost); with xz it says what it skipped
//! (`{"event":"skipped"}` and a log line). "Between two looks" is made
//! certain by stopping the server (SIGSTOP) while logrotate runs.
use crate::common::*;

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// What a `meta=1` follower received: all text, and the events in order
/// (`NAME` or `NAME bytes=N`).
#[derive(Default)]
struct Got2 {
    text: String,
    events: Vec<String>,
}

impl Got2 {
    /// Reads until the text holds `needle` (bounded); false on a timeout.
    fn until_text(&mut self, ws: &mut Ws, needle: &str) -> bool {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !self.text.contains(needle) {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match ws.next(left) {
                Got::Text(t) => self.text.push_str(&t),
                Got::Binary(b) => {
                    if let Meta::Event { event, bytes, .. } = meta(&b) {
                        self.events.push(match bytes {
                            Some(n) => format!("{event} bytes={n}"),
                            None => event.as_str().to_string(),
                        });
                    }
                }
                Got::Closed(c) => panic!("closed ({c:?}); events {:?}", self.events),
                Got::Timeout => return false,
            }
        }
        true
    }
}

/// Fails, briefly, unless `got` is exactly `want` (both made of `lines`).
fn assert_lines(got: &str, want: &str, events: &[String]) {
    if got != want {
        let n = |t: &str| -> Vec<String> {
            t.lines()
                .map(|l| l.split_whitespace().nth(1).unwrap_or("?").to_string())
                .collect()
        };
        let (g, w) = (n(got), n(want));
        let missing: Vec<&String> = w.iter().filter(|x| !g.contains(x)).collect();
        panic!(
            "received {} lines, want {}; missing {} ({:?}…); events {events:?}",
            g.len(),
            w.len(),
            missing.len(),
            &missing[..missing.len().min(5)]
        );
    }
}

/// Lines `from..to`, each 40 bytes.
fn lines(from: u64, to: u64) -> String {
    (from..to)
        .map(|n| format!("line {n:06} {}\n", "z".repeat(27)))
        .collect()
}

fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .arg(sig)
        .arg(pid.to_string())
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "kill {sig} {pid}");
    if sig == "-STOP" {
        // Stopped for certain before anything else happens.
        let stopped = wait_until(Duration::from_secs(5), || {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|s| s.rsplit_once(") ").map(|(_, r)| r.starts_with('T')))
                .unwrap_or(false)
        });
        assert!(stopped, "the server did not stop");
    }
}

/// A log directory with an empty `app.log`, a logrotate configuration for
/// it with `conf_body`, and a server looking every 0.2 s.
struct Setup {
    dir: TempDir,
    f: std::path::PathBuf,
    conf: std::path::PathBuf,
    s: Server,
}

impl Setup {
    fn new(tag: &str, conf_body: &str) -> Setup {
        let dir = TempDir::new(tag);
        let f = dir.join("app.log");
        std::fs::write(&f, "").unwrap();
        let conf = dir.join("logrotate.conf");
        std::fs::write(&conf, format!("{} {{\n{conf_body}}}\n", f.display())).unwrap();
        let s = Server::rooted(dir.path(), &["--interval", "0.2"]);
        Setup { dir, f, conf, s }
    }

    fn rotate(&self) {
        logrotate(&self.conf, &self.dir.join("state"));
    }

    /// A `meta=1` follower of new lines.
    fn follower(&self) -> Ws {
        self.s.ws(&self.f, "?tail=1&format=text&meta=1&lines=0")
    }
}

/// A log rotated by logrotate with `conf_body`, a follower on it: lines
/// 0..100 before the rotation; 100..110 written afterwards through the
/// writer's old descriptor (it has not reopened yet: the renamed file may be
/// compressed and deleted already, so these lines are in no file, but the
/// follower's own descriptor still reads them); 110..200 after the writer
/// reopened the path. Every line once, in order. Returns what it received.
fn rotate_once(tag: &str, conf_body: &str) -> Got2 {
    let t = Setup::new(tag, conf_body);
    let (f, mut ws) = (&t.f, t.follower());
    let mut got = Got2::default();
    let mut writer = std::fs::OpenOptions::new().append(true).open(f).unwrap();
    writer.write_all(lines(0, 100).as_bytes()).unwrap();
    assert!(got.until_text(&mut ws, "line 000099 "));
    t.rotate();
    std::thread::sleep(Duration::from_millis(300)); // the follower looks
    writer.write_all(lines(100, 110).as_bytes()).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    // The writer reopens its log (logrotate `create` made it).
    append(f, lines(110, 200).as_bytes());
    assert!(
        got.until_text(&mut ws, "line 000199 "),
        "events {:?}",
        got.events
    );
    assert_lines(&got.text, &lines(0, 200), &got.events);
    got
}

/// `compress` without `delaycompress`: logrotate renames the log, compresses
/// it and deletes it before the follower looks again. A rotation (before:
/// reported `recreated`, "the file appeared again").
#[test]
fn compress_without_delaycompress_is_a_rotation() {
    let _w = watchdog(Duration::from_secs(30));
    let got = rotate_once(
        "compress",
        "  rotate 5\n  compress\n  create\n  missingok\n",
    );
    assert_eq!(got.events, ["rotated"]);
}

/// `rotate 0`: logrotate renames the log and deletes it. A rotation too.
#[test]
fn rotate_0_is_a_rotation() {
    let _w = watchdog(Duration::from_secs(30));
    let got = rotate_once("rotate0", "  rotate 0\n  create\n  missingok\n");
    assert_eq!(got.events, ["rotated"]);
}

/// Deleted at the path and created again between two looks: `recreated`
/// still (only the name the old file last had tells this from `rotate 0`).
#[test]
fn deleted_and_created_again_is_recreated() {
    let _w = watchdog(Duration::from_secs(30));
    let dir = TempDir::new("rm-recreate");
    let f = dir.join("app.log");
    std::fs::write(&f, lines(0, 10)).unwrap();
    let s = Server::rooted(dir.path(), &["--interval", "0.2"]);
    let mut ws = s.ws(&f, "?tail=1&format=text&meta=1&lines=0");
    let mut got = Got2::default();
    append(&f, lines(10, 20).as_bytes());
    assert!(got.until_text(&mut ws, "line 000019 "));
    signal(s.pid(), "-STOP");
    std::fs::remove_file(&f).unwrap();
    std::fs::write(&f, lines(20, 30)).unwrap();
    signal(s.pid(), "-CONT");
    assert!(got.until_text(&mut ws, "line 000029 "));
    assert_eq!(got.events, ["recreated"]);
}

/// Two rotations between two looks, with logrotate's `conf_body`: the
/// middle generation was compressed before the follower could read it.
/// Returns what the follower received (lines 0..400 written) and the
/// middle generation's text.
fn two_rotations_between_two_looks(tag: &str, conf_body: &str) -> (Got2, String, Server) {
    let t = Setup::new(tag, conf_body);
    let (f, mut ws) = (&t.f, t.follower());
    let mut got = Got2::default();
    append(f, lines(0, 100).as_bytes());
    assert!(got.until_text(&mut ws, "line 000099 "));

    signal(t.s.pid(), "-STOP");
    append(f, lines(100, 150).as_bytes()); // still read from the open file
    t.rotate();
    let middle = lines(150, 300);
    append(f, middle.as_bytes());
    t.rotate();
    append(f, lines(300, 400).as_bytes());
    signal(t.s.pid(), "-CONT");

    assert!(
        got.until_text(&mut ws, "line 000399 "),
        "events {:?}",
        got.events
    );
    let Setup { s, .. } = t;
    (got, middle, s)
}

/// Two rotations with `compress` (no `delaycompress`) between two looks:
/// the middle generation, compressed before the follower could read it,
/// is read through the inflater — nothing skipped (before: its 150 of 400
/// lines were, reported `{"event":"skipped","bytes":6000}`).
#[test]
fn a_generation_compressed_before_it_was_read_is_read_through_the_inflater() {
    let _w = watchdog(Duration::from_secs(30));
    let (got, _middle, s) = two_rotations_between_two_looks(
        "inflated",
        "  rotate 5\n  compress\n  create\n  missingok\n",
    );
    assert_lines(&got.text, &lines(0, 400), &got.events);
    assert_eq!(got.events, ["rotated", "rotated"]);
    assert!(!s.log().contains("skipped"), "log: {}", s.log());
    eprintln!("compress, two rotations between two looks: 0 of 400 lines lost");
}

/// The same with xz (`compresscmd xz`): xz generations are not read, so the
/// middle one is skipped, and said so (`{"event":"skipped"}` without
/// `bytes`: xz does not tell its size without decompressing).
#[test]
fn an_xz_generation_compressed_before_it_was_read_is_reported_skipped() {
    let _w = watchdog(Duration::from_secs(30));
    if !Path::new("/usr/bin/xz").exists() {
        eprintln!("no xz: skipped");
        return;
    }
    let (got, middle, s) = two_rotations_between_two_looks(
        "skipped-xz",
        "  rotate 5\n  compress\n  compresscmd /usr/bin/xz\n  uncompresscmd /usr/bin/unxz\n  compressext .xz\n  create\n  missingok\n",
    );
    let want = [lines(0, 150), lines(300, 400)].concat();
    assert_lines(&got.text, &want, &got.events);
    assert_eq!(lines(0, 400).len() - got.text.len(), middle.len());
    assert_eq!(got.events, ["skipped", "rotated"]);
    assert!(
        s.wait_log("skipped an unknown number of bytes", Duration::from_secs(5)),
        "log: {}",
        s.log()
    );
}

/// `copytruncate` with `compress` (no `delaycompress`): the copy is
/// compressed at once; what was written after the follower's last read and
/// before the copy is read on from the gzip copy, from the same offset of
/// its inflated bytes (checked by the bytes before it) — nothing skipped
/// (before: 50 of 160 lines, reported skipped). Then `truncated`.
#[test]
fn a_copytruncate_copy_compressed_before_it_was_read_is_read_on() {
    let _w = watchdog(Duration::from_secs(30));
    let t = Setup::new(
        "copy-gz",
        "  rotate 5\n  compress\n  copytruncate\n  missingok\n",
    );
    let (f, s, mut ws) = (&t.f, &t.s, t.follower());
    let mut got = Got2::default();
    append(f, lines(0, 100).as_bytes());
    assert!(got.until_text(&mut ws, "line 000099 "));

    signal(s.pid(), "-STOP");
    append(f, lines(100, 150).as_bytes());
    t.rotate();
    append(f, lines(150, 160).as_bytes());
    signal(s.pid(), "-CONT");

    assert!(
        got.until_text(&mut ws, "line 000159 "),
        "events {:?}",
        got.events
    );
    assert_lines(&got.text, &lines(0, 160), &got.events);
    assert_eq!(got.events, ["truncated"]);
    assert!(!s.log().contains("skipped"), "log: {}", s.log());
    eprintln!("copytruncate + compress, between two looks: 0 of 160 lines lost");
}

/// `wstail tail -f` says what the server skipped, on standard error.
#[test]
fn the_terminal_client_says_what_was_skipped() {
    let _w = watchdog(Duration::from_secs(30));
    if !Path::new("/usr/bin/xz").exists() {
        eprintln!("no xz: skipped");
        return;
    }
    // xz: gzip generations are read, not skipped.
    let t = Setup::new(
        "skipped-client",
        "  rotate 5\n  compress\n  compresscmd /usr/bin/xz\n  uncompresscmd /usr/bin/unxz\n  compressext .xz\n  create\n  missingok\n",
    );
    let (dir, f, s) = (&t.dir, &t.f, &t.s);
    append(f, lines(0, 10).as_bytes());
    let (out, err) = (dir.join("out"), dir.join("err"));
    let mut tail = Command::new(BIN)
        .args(["tail", "-f", "-n", "1"])
        .arg(s.ws_url(f, ""))
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .expect("start wstail tail");
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    assert!(wait_until(Duration::from_secs(10), || read(&out)
        .contains("line 000009 ")));
    signal(s.pid(), "-STOP");
    t.rotate();
    let middle = lines(100, 150);
    append(f, middle.as_bytes());
    t.rotate();
    append(f, lines(150, 160).as_bytes());
    signal(s.pid(), "-CONT");
    let said = "some bytes skipped: compressed before they could be read".to_string();
    let _ = &middle;
    let ok = wait_until(Duration::from_secs(10), || {
        read(&err).contains(&said) && read(&out).contains("line 000159 ")
    });
    let _ = tail.kill();
    let _ = tail.wait();
    assert!(ok, "stderr: {}", read(&err));
    // What the client printed: the first file, the skipped middle one
    // missing, the new file.
    let printed = read(&out);
    assert!(!printed.contains("line 000100 ") && printed.contains("line 000150 "));
}
