//! A log is a chain of generations: nothing is lost when the path rotates
//! twice between two looks (Python's RotatingFileHandler itself), when the
//! file is copied and truncated (the real logrotate binary,
//! `copytruncate`), when a client resumes across rotations, or resumes on a
//! file rewritten under the same inode (the tag), or when the path stops
//! being a readable regular file for a while. Each test compares the bytes
//! received with what the producer wrote, or with what the files hold.
use crate::common::*;

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// What a `meta=1` follower received, in order.
#[derive(Default, Debug)]
struct Seen {
    /// All text, concatenated.
    text: String,
    /// Text counted only once its offset frame came (what a resuming client
    /// may count).
    committed: String,
    pending: String,
    /// Events and text, in arrival order: `event NAME` or `text`.
    flow: Vec<String>,
    /// The last resume point.
    at: Option<Position>,
}

impl Seen {
    fn events(&self) -> Vec<&str> {
        self.flow
            .iter()
            .filter_map(|f| f.strip_prefix("event "))
            .collect()
    }

    /// Reads frames until `done(self)` holds or `within` passes; false on
    /// a timeout or close.
    fn until(&mut self, ws: &mut Ws, within: Duration, done: impl Fn(&Seen) -> bool) -> bool {
        let deadline = Instant::now() + within;
        while !done(self) {
            let left = deadline.saturating_duration_since(Instant::now());
            match ws.next(left) {
                Got::Text(t) => {
                    if self.flow.last().map(String::as_str) != Some("text") {
                        self.flow.push("text".into());
                    }
                    self.text.push_str(&t);
                    self.pending.push_str(&t);
                }
                Got::Binary(b) => match meta(&b) {
                    Meta::Position(p) => {
                        self.committed.push_str(&std::mem::take(&mut self.pending));
                        self.at = Some(p);
                    }
                    Meta::Event { event, .. } => self.flow.push(format!("event {event}")),
                    Meta::Progress { .. } | Meta::Waiting { .. } => {}
                },
                Got::Closed(c) => panic!("closed ({c:?}); saw {:?}", self.flow),
                Got::Timeout => return false,
            }
        }
        true
    }
}

fn inode(p: &Path) -> u64 {
    std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(p).unwrap())
}

/// The numbers of `line N` lines, in order; fails on any other line.
fn numbers(text: &str) -> Vec<u64> {
    text.lines()
        .map(|l| {
            l.split_whitespace()
                .nth(1)
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("not a numbered line: {l:?}"))
        })
        .collect()
}

/// Line `n` of the resume tests, and a range of them.
fn line(n: u64) -> String {
    format!("line {n:06}\n")
}

fn lines(r: std::ops::Range<u64>) -> String {
    r.map(line).collect()
}

/// Follows `f` with `query` until the resume point reaches the file's end,
/// then drops the connection like a lost network; what was seen.
fn follow_to_the_end(s: &Server, f: &Path, query: &str) -> Seen {
    let len = std::fs::metadata(f).unwrap().len();
    let mut ws = s.ws(f, query);
    let mut seen = Seen::default();
    assert!(seen.until(&mut ws, Duration::from_secs(5), |s| {
        s.at.as_ref().is_some_and(|p| p.offset == len)
    }));
    seen
}

/// The query that resumes at `at`, with its tag.
fn resume_query(at: &Position) -> String {
    format!(
        "?tail=1&format=text&meta=1&from={}&inode={}&tag={}",
        at.offset,
        at.inode,
        at.tag.expect("offset frames carry a tag")
    )
}

/// Python's RotatingFileHandler (maxBytes=10000, backupCount=20) writes
/// bursts of 400 lines, each burst rotating the file twice within a
/// millisecond, while the follower looks once a second: every line arrives
/// exactly once, in order (before, 1,768 of 2,400 lines were lost).
#[test]
fn rotating_file_handler_two_rotations_between_two_looks() {
    let _w = watchdog(Duration::from_secs(60));
    let dir = TempDir::new("rfh");
    let f = dir.join("app.log");
    std::fs::write(&f, "").unwrap();
    let s = Server::rooted(dir.path(), &["--interval", "1"]);
    let mut ws = s.ws(&f, "?tail=1&format=text&meta=1&lines=0");
    let mut seen = Seen::default();
    assert!(seen.until(&mut ws, Duration::from_secs(5), |s| s.at.is_some()));
    let (bursts, per_burst) = (4u64, 400u64);
    let script = format!(
        "import logging, logging.handlers, sys, time\n\
         h = logging.handlers.RotatingFileHandler(sys.argv[1], maxBytes=10000, backupCount=20)\n\
         h.setFormatter(logging.Formatter('%(message)s'))\n\
         log = logging.getLogger('burst')\n\
         log.addHandler(h)\n\
         log.setLevel(logging.INFO)\n\
         n = 0\n\
         for b in range({bursts}):\n\
         \x20   for i in range({per_burst}):\n\
         \x20       log.info('line %06d %s', n, 'x' * 40)\n\
         \x20       n += 1\n\
         \x20   time.sleep(1.5)\n"
    );
    let status = Command::new("python3")
        .args(["-c", &script])
        .arg(&f)
        .status()
        .expect("run python3");
    assert!(status.success());
    let total = bursts * per_burst;
    let last = format!("line {:06} ", total - 1);
    seen.until(&mut ws, Duration::from_secs(10), |s| s.text.contains(&last));
    let got = numbers(&seen.text);
    let want: Vec<u64> = (0..total).collect();
    assert!(
        got == want,
        "received {} of {total} lines; first gap after {:?}; events {:?}",
        got.len(),
        got.windows(2).find(|w| w[1] != w[0] + 1),
        seen.events()
    );
    let rotations = std::fs::read_dir(dir.path()).unwrap().count() - 1;
    assert!(rotations >= 6, "only {rotations} rotations");
    assert!(seen.events().iter().all(|e| *e == "rotated"));
    assert_eq!(seen.events().len(), rotations);
}

/// The real logrotate with `copytruncate`, several rotations while a
/// writer writes a line every 5 ms and the follower looks every 0.5 s:
/// every line any file still holds arrives, once and in order. Only the
/// lines written between logrotate's copy and its truncate may be missing —
/// they are in no file (before, what was written between the follower's
/// last read and the truncation was lost too).
#[test]
fn logrotate_copytruncate_loses_only_what_no_file_holds() {
    let _w = watchdog(Duration::from_secs(60));
    let dir = TempDir::new("copytruncate");
    let f = dir.join("app.log");
    std::fs::write(&f, "").unwrap();
    let conf = dir.join("logrotate.conf");
    std::fs::write(
        &conf,
        format!(
            "{} {{\n  copytruncate\n  rotate 50\n  missingok\n}}\n",
            f.display()
        ),
    )
    .unwrap();
    let s = Server::rooted(dir.path(), &["--interval", "0.5"]);
    let mut ws = s.ws(&f, "?tail=1&format=text&meta=1&lines=0");
    let mut seen = Seen::default();
    assert!(seen.until(&mut ws, Duration::from_secs(5), |s| s.at.is_some()));

    let writer_path = f.clone();
    let writer = std::thread::spawn(move || {
        let mut out = OpenOptions::new().append(true).open(&writer_path).unwrap();
        for n in 0..1200u64 {
            out.write_all(format!("line {n:06} {}\n", "y".repeat(30)).as_bytes())
                .unwrap();
            std::thread::sleep(Duration::from_millis(5));
        }
    });
    for _ in 0..8 {
        std::thread::sleep(Duration::from_millis(700));
        logrotate(&conf, &dir.join("state"));
    }
    writer.join().unwrap();
    let last = format!("line {:06} ", 1199);
    seen.until(&mut ws, Duration::from_secs(10), |s| s.text.contains(&last));

    // What the files hold, in the order they were written.
    let mut on_disk = Vec::new();
    for k in (1..=50).rev() {
        if let Ok(t) = std::fs::read_to_string(dir.join(&format!("app.log.{k}"))) {
            on_disk.extend(numbers(&t));
        }
    }
    on_disk.extend(numbers(&std::fs::read_to_string(&f).unwrap()));
    let got = numbers(&seen.text);
    assert!(
        got.windows(2).all(|w| w[0] < w[1]),
        "repeated or out of order: {:?}",
        got.windows(2).find(|w| w[0] >= w[1])
    );
    let missing: Vec<u64> = on_disk
        .iter()
        .copied()
        .filter(|n| got.binary_search(n).is_err())
        .collect();
    assert!(
        missing.is_empty(),
        "{} lines held by the files never arrived: {:?}…; events {:?}",
        missing.len(),
        &missing[..missing.len().min(10)],
        seen.events()
    );
    let lost_by_logrotate = 1200 - on_disk.len();
    eprintln!(
        "copytruncate: {} lines received, {lost_by_logrotate} in no file (written between copy and truncate)",
        got.len()
    );
}

/// A resume point names the content before it: the file truncated and
/// written again past the offset while the client was away (same inode) is
/// sent from its start after `truncated`, not read on mid-line.
#[test]
fn resume_checks_the_tag() {
    let _w = watchdog(Duration::from_secs(30));
    let dir = TempDir::new("tag");
    let f = dir.join("app.log");
    let old: String = (0..50).map(|n| format!("n{n} 00004 é中 text\n")).collect();
    std::fs::write(&f, &old).unwrap();
    let s = Server::rooted(dir.path(), &["--interval", "0.05"]);
    let seen = follow_to_the_end(&s, &f, "?tail=1&format=text&meta=1&lines=5");
    let at = seen.at.unwrap();
    assert!(at.tag.is_some(), "offset frames carry a tag");
    assert_eq!(at.inode, inode(&f));

    // Same inode, rewritten with lines of the same length, and longer.
    let new: String = (0..80).map(|n| format!("m{n} 00004 é中 text\n")).collect();
    let mut out = OpenOptions::new().write(true).open(&f).unwrap();
    out.set_len(0).unwrap();
    out.write_all(new.as_bytes()).unwrap();
    drop(out);
    assert_eq!(inode(&f), at.inode);
    let mut ws = s.ws(&f, &resume_query(&at));
    let mut again = Seen::default();
    let new_len = new.len() as u64;
    again.until(&mut ws, Duration::from_secs(5), |s| {
        s.at.as_ref().is_some_and(|p| p.offset == new_len)
    });
    assert_eq!(again.events(), ["truncated"]);
    assert_eq!(again.text, new);

    // The right tag resumes where it says.
    let at = again.at.clone().unwrap();
    drop(ws);
    std::fs::OpenOptions::new()
        .append(true)
        .open(&f)
        .unwrap()
        .write_all(b"after\n")
        .unwrap();
    let mut ws = s.ws(&f, &resume_query(&at));
    let mut third = Seen::default();
    third.until(&mut ws, Duration::from_secs(5), |s| {
        s.text.contains("after")
    });
    assert_eq!(third.text, "after\n");
    assert!(third.events().is_empty());
    // A malformed tag is a 400.
    let (status, _) = s.ws_status(&format!("{}?from=1&inode=1&tag=xyz", url_path(&f)), "");
    assert_eq!(status, 400);
}

/// The path rotated twice while the client was away: the rest of its old
/// file from the offset, then each newer generation whole after `rotated`,
/// then the current file (before, the client got only the current file).
#[test]
fn resume_across_two_rotations() {
    let _w = watchdog(Duration::from_secs(30));
    let dir = TempDir::new("resume-rotated");
    let f = dir.join("app.log");
    std::fs::write(&f, lines(0..10)).unwrap();
    let s = Server::rooted(dir.path(), &["--interval", "0.05"]);
    let seen = follow_to_the_end(&s, &f, "?tail=1&format=text&meta=1&lines=3");
    let at = seen.at.clone().unwrap();

    append(&f, lines(10..15).as_bytes());
    std::fs::rename(&f, dir.join("app.log.1")).unwrap();
    std::fs::write(&f, lines(15..20)).unwrap();
    std::thread::sleep(Duration::from_millis(20));
    std::fs::rename(dir.join("app.log.1"), dir.join("app.log.2")).unwrap();
    std::fs::rename(&f, dir.join("app.log.1")).unwrap();
    std::fs::write(&f, lines(20..25)).unwrap();

    let mut ws = s.ws(&f, &resume_query(&at));
    let mut again = Seen::default();
    again.until(&mut ws, Duration::from_secs(10), |s| {
        s.text.contains("line 000024")
    });
    assert_eq!(seen.committed + &again.text, lines(7..25));
    assert_eq!(
        again.flow,
        ["text", "event rotated", "text", "event rotated", "text"]
    );
    assert_eq!(again.at.unwrap().inode, inode(&f));
}

/// The path is replaced by a directory: the rest of the old file, an
/// `unreadable` event, and when a regular file is back, `recreated` and
/// that file (before, the server closed with 1008). Tests run as root, for
/// whom `chmod 000` does not stop reading; the directory stands for both.
#[test]
fn a_path_that_becomes_a_directory_is_waited_for() {
    let _w = watchdog(Duration::from_secs(30));
    let dir = TempDir::new("unreadable");
    let f = dir.join("app.log");
    std::fs::write(&f, "one\n").unwrap();
    let s = Server::rooted(dir.path(), &["--interval", "0.05"]);
    let mut ws = s.ws(&f, "?tail=1&format=text&meta=1");
    let mut seen = Seen::default();
    assert!(seen.until(&mut ws, Duration::from_secs(5), |s| s.text == "one\n"));
    append(&f, b"two\n");
    std::fs::rename(&f, dir.join("app.log.old")).unwrap();
    std::fs::create_dir(&f).unwrap();
    assert!(
        seen.until(&mut ws, Duration::from_secs(5), |s| !s.events().is_empty()),
        "no event; saw {:?}",
        seen.flow
    );
    // It stays a directory for a while: nothing more is sent.
    assert!(!seen.until(&mut ws, Duration::from_millis(400), |s| s.flow.len() > 2));
    std::fs::remove_dir(&f).unwrap();
    std::fs::write(&f, "three\n").unwrap();
    assert!(seen.until(&mut ws, Duration::from_secs(5), |s| {
        s.text.ends_with("three\n")
    }));
    assert_eq!(seen.text, "one\ntwo\nthree\n");
    assert_eq!(seen.events(), ["unreadable", "recreated"]);
    assert!(s.wait_log("file unreadable", Duration::from_secs(2)));
}

/// A start frame at offset 0 names the newest older generation; a
/// compressed one by its compression.
#[test]
fn a_start_frame_at_zero_names_the_previous_generation() {
    let _w = watchdog(Duration::from_secs(30));
    let dir = TempDir::new("previous");
    let f = dir.join("app.log");
    std::fs::write(&f, "now\n").unwrap();
    std::fs::write(dir.join("app.log.1"), "before\n").unwrap();
    let s = Server::rooted(dir.path(), &["--interval", "0.05"]);
    let first = |ws: &mut Ws| match ws.next(Duration::from_secs(5)) {
        Got::Binary(b) => match meta(&b) {
            Meta::Position(p) => p,
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    };
    let mut ws = s.ws(&f, "?format=text&meta=1");
    let p = first(&mut ws);
    assert_eq!(p.offset, 0);
    assert_eq!(
        p.previous,
        Some(Previous::File {
            path: dir.join("app.log.1").to_string_lossy().into_owned(),
            inode: inode(&dir.join("app.log.1")),
            born: std::fs::metadata(dir.join("app.log.1"))
                .ok()
                .and_then(|m| wstail::wire::meta::Born::of(&m)),
            size: 7,
            compressed: None,
        })
    );
    // Not at 0: no hint.
    let q = format!("?format=text&meta=1&from=2&inode={}", inode(&f));
    let p = first(&mut s.ws(&f, &q));
    assert_eq!((p.offset, p.previous), (2, None));
    // A gzip generation is part of the chain: its inode, its text's size
    // (from its trailer), and its compression.
    std::fs::write(
        dir.join("app.log.1"),
        b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xcb\x48\xcd\xc9\xc9\xe7\x02\x00\x20\x30\x3a\x36\x06\x00\x00\x00",
    )
    .unwrap();
    let p = first(&mut s.ws(&f, "?format=text&meta=1"));
    assert_eq!(
        p.previous,
        Some(Previous::File {
            path: dir.join("app.log.1").to_string_lossy().into_owned(),
            inode: inode(&dir.join("app.log.1")),
            born: std::fs::metadata(dir.join("app.log.1"))
                .ok()
                .and_then(|m| wstail::wire::meta::Born::of(&m)),
            size: 6,
            compressed: Some(Compression::Gzip),
        })
    );
    // xz ends the chain: named by its compression, without an inode.
    std::fs::write(dir.join("app.log.1"), b"\xfd7zXZ\x00\x00\x04rest").unwrap();
    let p = first(&mut s.ws(&f, "?format=text&meta=1"));
    assert_eq!(
        p.previous,
        Some(Previous::Compressed {
            path: dir.join("app.log.1").to_string_lossy().into_owned(),
            compression: Compression::Xz,
        })
    );
}

/// The file was copied and truncated (`copytruncate`) while the client was
/// away, after lines it had not received: the rest of the copy from the
/// offset, then `truncated` and the file from its start (before, the rest
/// of the copy was skipped).
#[test]
fn resume_after_copytruncate_reads_the_copy_first() {
    let _w = watchdog(Duration::from_secs(30));
    let dir = TempDir::new("resume-copy");
    let f = dir.join("app.log");
    std::fs::write(&f, lines(0..10)).unwrap();
    let s = Server::rooted(dir.path(), &["--interval", "0.05"]);
    let seen = follow_to_the_end(&s, &f, "?tail=1&format=text&meta=1&lines=10");
    let at = seen.at.clone().unwrap();

    append(&f, lines(10..15).as_bytes());
    std::fs::copy(&f, dir.join("app.log.1")).unwrap();
    OpenOptions::new()
        .write(true)
        .open(&f)
        .unwrap()
        .set_len(0)
        .unwrap();
    append(&f, lines(15..40).as_bytes()); // longer than the offset
    let mut ws = s.ws(&f, &resume_query(&at));
    let mut again = Seen::default();
    again.until(&mut ws, Duration::from_secs(10), |s| {
        s.text.contains("line 000039")
    });
    assert_eq!(seen.committed + &again.text, lines(0..40));
    assert_eq!(again.flow, ["text", "event truncated", "text"]);
    assert_eq!(again.at.unwrap().inode, inode(&f));
}

/// Where the file system records birth times, start frames carry the
/// file's (`"born"`), and a resume whose `born=` differs — the file was
/// deleted and recreated under a reused inode number, perhaps with the same
/// first bytes — starts over after `recreated`.
#[test]
fn resume_checks_the_birth_time() {
    let _w = watchdog(Duration::from_secs(30));
    let dir = TempDir::new("born");
    let f = dir.join("app.log");
    std::fs::write(&f, lines(0..10)).unwrap();
    if std::fs::metadata(&f).unwrap().created().is_err() {
        eprintln!("no birth times on this file system: nothing to check");
        return;
    }
    let s = Server::rooted(dir.path(), &["--interval", "0.05"]);
    let seen = follow_to_the_end(&s, &f, "?tail=1&format=text&meta=1&lines=10");
    let at = seen.at.clone().unwrap();
    let mut start = s.ws(&f, "?format=text&meta=1&lines=1");
    let born = match start.next(Duration::from_secs(5)) {
        Got::Binary(b) => match meta(&b) {
            Meta::Position(p) => p.born.expect("a start frame carries the birth time"),
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    };

    // The same inode, the same bytes, another birth: recreated.
    let other = format!("{}.{:09}", born.secs - 1, born.nanos);
    let mut ws = s.ws(&f, &format!("{}&born={other}", resume_query(&at)));
    let mut again = Seen::default();
    again.until(&mut ws, Duration::from_secs(5), |s| {
        s.text.contains("line 000009")
    });
    assert_eq!(again.events(), ["recreated"]);
    assert_eq!(again.text, lines(0..10));

    // The right one resumes where the offset says.
    append(&f, lines(10..11).as_bytes());
    let mut ws = s.ws(&f, &format!("{}&born={born}", resume_query(&at)));
    let mut third = Seen::default();
    third.until(&mut ws, Duration::from_secs(5), |s| {
        s.text.contains("line 000010")
    });
    assert_eq!(third.text, lines(10..11));
    assert!(third.events().is_empty());
}

/// Issue 21.3: the real logrotate `copytruncate` right after each short
/// write (one 37-byte line a cycle), so that the follower never has 64
/// bytes read: each line is on disk (in `app.log.N`), and the follower
/// must send every one exactly once — whether it read the line before the
/// truncation, or the line was copied and truncated away before it looked
/// (then the file is back at position 0, and only the fresh copy shows it).
#[test]
fn logrotate_copytruncate_after_each_short_write() {
    let _w = watchdog(Duration::from_secs(60));
    let dir = TempDir::new("shortcopy");
    let f = dir.join("app.log");
    std::fs::write(&f, "").unwrap();
    let conf = dir.join("logrotate.conf");
    std::fs::write(
        &conf,
        format!(
            "{} {{\n  copytruncate\n  rotate 100\n  missingok\n}}\n",
            f.display()
        ),
    )
    .unwrap();
    let s = Server::rooted(dir.path(), &["--interval", "0.1"]);
    let mut ws = s.ws(&f, "?tail=1&format=text&meta=1&lines=0");
    let mut seen = Seen::default();
    assert!(seen.until(&mut ws, Duration::from_secs(5), |s| s.at.is_some()));

    const CYCLES: u64 = 24;
    let st = dir.join("state");
    for n in 0..CYCLES {
        let line = format!("short {n:04} {}\n", "x".repeat(25));
        assert_eq!(line.len(), 37);
        append(&f, line.as_bytes());
        logrotate(&conf, &st);
        // Varying pauses: the follower looks before the next cycle, or not.
        std::thread::sleep(Duration::from_millis([0, 40, 150, 300][(n % 4) as usize]));
    }
    let last = format!("short {:04} ", CYCLES - 1);
    seen.until(&mut ws, Duration::from_secs(10), |s| s.text.contains(&last));
    // A moment more: a line sent twice would come now.
    seen.until(&mut ws, Duration::from_millis(500), |_| false);

    let on_disk: usize = (1..=100)
        .filter_map(|k| std::fs::read_to_string(dir.join(&format!("app.log.{k}"))).ok())
        .map(|t| t.lines().count())
        .sum();
    assert_eq!(on_disk as u64, CYCLES, "every line is in a copy");
    let got: Vec<u64> = seen
        .text
        .lines()
        .filter_map(|l| l.strip_prefix("short ")?.get(..4)?.parse().ok())
        .collect();
    let want: Vec<u64> = (0..CYCLES).collect();
    let lost = want.iter().filter(|n| !got.contains(n)).count();
    assert_eq!(
        got,
        want,
        "{lost} of {CYCLES} lines lost (or repeated); events {:?}",
        seen.events()
    );
}
