//! gzip generations read like plain ones, with the real tools (logrotate,
//! gzip, zcat): a history over plain and gzip generations paged back with
//! `before=`/`inode=` gives every line exactly once, in order (compared
//! with `zcat`), with `compress` + `delaycompress`, `compress` alone and
//! `dateext`; a resume whose file was compressed while the client was away
//! goes on in its gzip copy; a corrupt gzip generation ends the chain with
//! `{"event":"skipped","path":P,"reason":"corrupt gzip"}`; `since=` without
//! `inode=` lands in a gzip generation, and across a gap between two
//! generations; `wstail tail --retry` loses nothing when the server is
//! killed and restarted while logrotate `compress` rotates.
use crate::common::*;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

const T: Duration = Duration::from_secs(20);

/// Lines `from..to` with a timestamp each (one a second from 10:00:00).
fn lines(from: u64, to: u64) -> String {
    (from..to)
        .map(|n| {
            let (h, m, s) = (10 + n / 3600, n / 60 % 60, n % 60);
            format!(
                "2026-12-01 {h:02}:{m:02}:{s:02} line {n:06} {}\n",
                "q".repeat(n as usize % 37)
            )
        })
        .collect()
}

fn have_tools() -> bool {
    ["/usr/sbin/logrotate", "/usr/bin/gzip", "/usr/bin/zcat"]
        .iter()
        .all(|t| Path::new(t).exists())
}

/// The text of a file as `zcat` (or `cat`) gives it.
fn text_of(path: &Path) -> String {
    let gz = std::fs::read(path)
        .unwrap_or_default()
        .starts_with(&[0x1f, 0x8b]);
    if !gz {
        return std::fs::read_to_string(path).unwrap();
    }
    let out = Command::new("/usr/bin/zcat").arg(path).output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

/// One window: its text, its start frame and the events after it.
struct Window {
    text: String,
    start: Position,
    events: Vec<Meta>,
    close: Option<u16>,
}

fn window(s: &Server, f: &Path, query: &str) -> Window {
    let mut ws = s.ws(f, query);
    let (mut text, mut start, mut events) = (String::new(), None, Vec::new());
    loop {
        match ws.next(T) {
            Got::Text(t) => text.push_str(&t),
            Got::Binary(b) => match meta(&b) {
                Meta::Position(p) if start.is_none() => start = Some(p),
                Meta::Position(_) | Meta::Progress { .. } | Meta::Waiting { .. } => {}
                e @ Meta::Event { .. } => events.push(e),
            },
            Got::Closed(close) => {
                return Window {
                    text,
                    start: start.expect("a start frame"),
                    events,
                    close,
                };
            }
            Got::Timeout => panic!("no close within {T:?}: {query}"),
        }
    }
}

/// Pages back from the end of `f` as the page does: `before=` the
/// window's first byte, and at 0 the generation the start frame names.
/// Returns the text, oldest first, and the number of requests.
fn page_back(s: &Server, f: &Path, lines: usize) -> (String, usize) {
    let mut pages = Vec::new();
    let mut w = window(s, f, &format!("?format=text&meta=1&lines={lines}"));
    for n in 1..10_000 {
        pages.push(std::mem::take(&mut w.text));
        let p = &w.start;
        let query = if p.offset > 0 {
            format!(
                "?format=text&meta=1&lines={lines}&before={}&inode={}",
                p.offset, p.inode
            )
        } else {
            match &p.previous {
                Some(Previous::File { inode, size, .. }) => {
                    format!("?format=text&meta=1&lines={lines}&before={size}&inode={inode}")
                }
                _ => {
                    pages.reverse();
                    return (pages.concat(), n);
                }
            }
        };
        w = window(s, f, &query);
        assert_eq!(w.close, Some(1000));
    }
    panic!("paging back did not end");
}

/// Writes `total` lines into `app.log` in `rotations + 1` parts, rotating
/// with logrotate's `conf_body` after each but the last; `pause` between
/// rotations (dateext names by the second).
fn history(dir: &TempDir, conf_body: &str, total: u64, rotations: u64, pause: Duration) {
    let f = dir.join("app.log");
    let conf = dir.join("logrotate.conf");
    std::fs::write(&conf, format!("{} {{\n{conf_body}}}\n", f.display())).unwrap();
    std::fs::write(&f, "").unwrap();
    let per = total / (rotations + 1);
    for r in 0..=rotations {
        let end = if r == rotations { total } else { (r + 1) * per };
        append(&f, lines(r * per, end).as_bytes());
        if r < rotations {
            logrotate(&conf, &dir.join("state"));
            std::thread::sleep(pause);
        }
    }
    let _ = std::fs::remove_file(&conf);
    let _ = std::fs::remove_file(dir.join("state"));
}

/// The generations in the directory, oldest first, as `ls -tr` orders them.
fn chain_text(dir: &TempDir) -> String {
    let mut files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("app.log")
        })
        .collect();
    files.sort_by_key(|p| {
        let m = std::fs::metadata(p).unwrap();
        (m.modified().unwrap(), std::cmp::Reverse(p.clone()))
    });
    files.iter().map(|p| text_of(p)).collect()
}

fn check_paging(tag: &str, conf_body: &str, total: u64, rotations: u64, pause: Duration) {
    if !have_tools() {
        eprintln!("no logrotate/gzip: skipped");
        return;
    }
    let dir = TempDir::new(tag);
    history(&dir, conf_body, total, rotations, pause);
    let gz = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".gz"))
        .count();
    assert!(gz >= 2, "{gz} gzip generations");
    let want = chain_text(&dir);
    assert_eq!(want, lines(0, total), "the tools' own view of the history");
    let s = Server::rooted(dir.path(), &[]);
    let (got, requests) = page_back(&s, &dir.join("app.log"), 1000);
    if got != want {
        let n = |t: &str| t.lines().count();
        panic!(
            "paged back {} lines, want {} (in {requests} requests)",
            n(&got),
            n(&want)
        );
    }
    eprintln!("{tag}: {total} lines over {gz} gzip generations paged back in {requests} requests");
}

/// 25,000 lines over the current file, one plain generation and eight gzip
/// ones (`compress` + `delaycompress`, as Debian's logrotate files have it),
/// paged back 1000 lines at a time: every line once, in order (before: the
/// first `.gz` ended the chain, at 5,000 of 25,000 lines).
#[test]
fn paging_back_through_plain_and_gzip_generations_with_delaycompress() {
    let _w = watchdog(Duration::from_secs(240));
    check_paging(
        "gz-delay",
        "  rotate 20\n  compress\n  delaycompress\n  create\n  missingok\n",
        25_000,
        9,
        Duration::ZERO,
    );
}

/// `compress` alone: every generation is gzip.
#[test]
fn paging_back_through_gzip_generations_with_compress() {
    let _w = watchdog(Duration::from_secs(120));
    check_paging(
        "gz-compress",
        "  rotate 20\n  compress\n  create\n  missingok\n",
        6_000,
        4,
        Duration::ZERO,
    );
}

/// `dateext`: generations named by date (here by the second).
#[test]
fn paging_back_through_dateext_gzip_generations() {
    let _w = watchdog(Duration::from_secs(120));
    check_paging(
        "gz-dateext",
        "  rotate 20\n  compress\n  dateext\n  dateformat -%Y%m%d-%s\n  create\n  missingok\n",
        4_000,
        3,
        Duration::from_millis(1100),
    );
}

/// A resume whose file was rotated and compressed while the client was
/// away (`compress` without `delaycompress`: the file the client read is
/// only in `app.log.1.gz` now): found by the tag at the offset of its
/// inflated bytes, read on from there, then `rotated` and the new file —
/// nothing lost or repeated (before: `rotated` and the new file, the rest
/// of the old one lost).
#[test]
fn resume_across_a_compression() {
    let _w = watchdog(Duration::from_secs(60));
    if !have_tools() {
        eprintln!("no logrotate: skipped");
        return;
    }
    let dir = TempDir::new("gz-resume");
    let f = dir.join("app.log");
    std::fs::write(&f, lines(0, 100)).unwrap();
    let conf = dir.join("logrotate.conf");
    std::fs::write(
        &conf,
        format!("{} {{\n  rotate 5\n  compress\n  create\n}}\n", f.display()),
    )
    .unwrap();
    let s = Server::rooted(dir.path(), &["--interval", "0.1"]);
    let mut ws = s.ws(&f, "?tail=1&format=text&meta=1&lines=0");
    append(&f, lines(100, 200).as_bytes());
    let mut last = None;
    let mut text = String::new();
    while !text.contains("line 000199 ") {
        match ws.next(T) {
            Got::Text(t) => text.push_str(&t),
            Got::Binary(b) => {
                if let Meta::Position(p) = meta(&b) {
                    last = Some(p);
                }
            }
            other => panic!("{other:?}"),
        }
    }
    // The resume point after the last text message.
    while last
        .as_ref()
        .is_none_or(|p| p.offset != lines(0, 200).len() as u64)
    {
        match ws.next(T) {
            Got::Binary(b) => {
                if let Meta::Position(p) = meta(&b) {
                    last = Some(p);
                }
            }
            other => panic!("{other:?}"),
        }
    }
    ws.close();
    let p = last.expect("a resume point");
    assert_eq!(text, lines(100, 200));
    // Away: more lines, a rotation with compression, the new file.
    append(&f, lines(200, 250).as_bytes());
    logrotate(&conf, &dir.join("state"));
    assert!(dir.join("app.log.1.gz").exists());
    append(&f, lines(250, 300).as_bytes());
    let q = format!(
        "?tail=1&format=text&meta=1&from={}&inode={}&tag={}",
        p.offset,
        p.inode,
        p.tag.unwrap()
    );
    let mut ws = s.ws(&f, &q);
    let (mut text, mut events) = (String::new(), Vec::new());
    while !text.contains("line 000299 ") {
        match ws.next(T) {
            Got::Text(t) => text.push_str(&t),
            Got::Binary(b) => {
                if let Some(e) = event(&b) {
                    events.push(e);
                }
            }
            other => panic!("{other:?}; got {text:?}"),
        }
    }
    assert_eq!(text, lines(200, 300));
    assert_eq!(events, ["rotated"]);
}

/// A corrupt gzip generation (cut short, or a flipped byte): its good
/// bytes, then `{"event":"skipped","path":P,"reason":"corrupt gzip"}`; the
/// chain ends there (no `previous`); opened directly, the same and a
/// normal close — never garbage or a dropped connection.
#[test]
fn a_corrupt_gzip_generation_ends_the_chain_with_an_event() {
    let _w = watchdog(Duration::from_secs(60));
    if !have_tools() {
        eprintln!("no gzip: skipped");
        return;
    }
    let dir = TempDir::new("gz-corrupt");
    let f = dir.join("app.log");
    let old = lines(0, 3000);
    let gz = |text: &str| -> Vec<u8> {
        let p = dir.join("tmp");
        std::fs::write(&p, text).unwrap();
        let out = Command::new("/usr/bin/gzip")
            .arg("-c")
            .arg(&p)
            .output()
            .unwrap();
        std::fs::remove_file(&p).unwrap();
        out.stdout
    };
    let age = |name: &str, secs: u64| {
        std::fs::File::options()
            .write(true)
            .open(dir.join(name))
            .unwrap()
            .set_modified(std::time::SystemTime::now() - Duration::from_secs(secs))
            .unwrap();
    };
    // app.log.2.gz is fine; app.log.1.gz is cut short.
    std::fs::write(dir.join("app.log.2.gz"), gz(&old)).unwrap();
    let middle = lines(3000, 6000);
    let full = gz(&middle);
    std::fs::write(dir.join("app.log.1.gz"), &full[..full.len() * 2 / 3]).unwrap();
    std::fs::write(&f, lines(6000, 6010)).unwrap();
    age("app.log.2.gz", 200);
    age("app.log.1.gz", 100);
    let s = Server::rooted(dir.path(), &[]);

    let w = window(&s, &f, "?format=text&meta=1&lines=100");
    let Some(Previous::File { inode, size, .. }) = w.start.previous.clone() else {
        panic!("{:?}", w.start);
    };
    let w = window(
        &s,
        &f,
        &format!("?format=text&meta=1&lines=100000&before={size}&inode={inode}"),
    );
    assert_eq!(w.close, Some(1000));
    assert!(!w.text.is_empty() && middle.starts_with(&w.text), "garbage");
    assert!(w.text.ends_with('\n'));
    assert_eq!(w.start.offset, 0);
    assert_eq!(w.start.previous, None, "the chain ends at a corrupt file");
    let p = dir.join("app.log.1.gz").to_string_lossy().into_owned();
    let skipped = Meta::Event {
        event: wstail::wire::names::Event::Skipped,
        bytes: None,
        path: Some(p),
        reason: Some("corrupt gzip".into()),
    };
    assert_eq!(w.events, std::slice::from_ref(&skipped));

    // Opened directly: the lines that inflated, the event, a normal close.
    let w = window(
        &s,
        &dir.join("app.log.1.gz"),
        "?format=text&meta=1&tail=1&lines=5",
    );
    assert_eq!(w.close, Some(1000));
    assert!(middle.contains(&w.text) && w.text.lines().count() == 5);
    assert_eq!(w.events, [skipped]);

    // A flipped byte in the deflate data: no text of that member at all
    // (its CRC cannot vouch for any of it), and the same event.
    let mut bad = full.clone();
    let k = bad.len() / 2;
    bad[k] ^= 0x40;
    std::fs::write(dir.join("app.log.1.gz"), &bad).unwrap();
    let w = window(&s, &dir.join("app.log.1.gz"), "?format=text&meta=1&lines=5");
    assert_eq!((w.text.as_str(), w.close), ("", Some(1000)));
    assert_eq!(w.events.len(), 1);
    assert!(s.log().contains("corrupt gzip"), "log: {}", s.log());
}

/// `since=` without `inode=`: the chain is searched. 10:00–10:59 in
/// `app.log.3.gz`, 11:00–11:59 in `app.log.2.gz`, a gap, 13:00–13:59 in
/// `app.log.1`, 14:00 on in `app.log` (and, last, an empty `app.log`
/// just after a rotation: before, 422). T in a gzip generation starts at its first line at
/// or after T, then each newer generation after `rotated`; T in the gap
/// starts at 0 of the generation after it; T before everything at 0 of
/// the oldest. Without `tail=1`, the stream ends with 1000 after the file
/// at the path.
#[test]
fn since_into_a_gzip_generation_and_across_a_gap() {
    let _w = watchdog(Duration::from_secs(60));
    if !have_tools() {
        eprintln!("no gzip: skipped");
        return;
    }
    let dir = TempDir::new("gz-since");
    let f = dir.join("app.log");
    let hour = |h: u64| lines((h - 10) * 3600, (h - 10) * 3600 + 3600);
    let write_gz = |name: &str, text: &str| {
        let p = dir.join(name.trim_end_matches(".gz"));
        std::fs::write(&p, text).unwrap();
        assert!(
            Command::new("/usr/bin/gzip")
                .arg(&p)
                .status()
                .unwrap()
                .success()
        );
    };
    write_gz("app.log.3.gz", &hour(10));
    write_gz("app.log.2.gz", &hour(11));
    std::fs::write(dir.join("app.log.1"), hour(13)).unwrap();
    let now = lines(4 * 3600, 4 * 3600 + 10);
    std::fs::write(&f, &now).unwrap();
    for (i, name) in ["app.log.3.gz", "app.log.2.gz", "app.log.1", "app.log"]
        .iter()
        .enumerate()
    {
        std::fs::File::options()
            .write(true)
            .open(dir.join(name))
            .unwrap()
            .set_modified(std::time::SystemTime::now() - Duration::from_secs(400 - 100 * i as u64))
            .unwrap();
    }
    let s = Server::rooted(dir.path(), &[]);
    let since = |t: &str| window(&s, &f, &format!("?format=text&meta=1&since=2026-12-01T{t}"));

    // Into the middle of a gzip generation.
    let w = since("11:30:00");
    let from = lines(5400, 5400 + 1);
    assert!(
        w.text.starts_with(&from),
        "{:?}",
        &w.text[..80.min(w.text.len())]
    );
    assert_eq!(
        w.text,
        [&hour(11)[hour(11).find(&from).unwrap()..], &hour(13), &now].concat()
    );
    let names: Vec<_> = w.events.iter().map(|e| format!("{e:?}")).collect();
    assert_eq!(w.events.len(), 2, "two rotated: {names:?}");
    assert_eq!(w.close, Some(1000));
    assert_eq!(w.start.inode, inode_of(&dir.join("app.log.2.gz")));

    // In the gap: the first line of the generation after it.
    let w = since("12:30:00");
    assert_eq!(w.text, [hour(13), now.clone()].concat());
    assert_eq!(w.start.offset, 0);
    assert_eq!(w.start.inode, inode_of(&dir.join("app.log.1")));

    // Before everything: the oldest generation from its start.
    let w = since("09:00:00");
    assert_eq!(w.text, [hour(10), hour(11), hour(13), now.clone()].concat());
    assert_eq!(w.start.inode, inode_of(&dir.join("app.log.3.gz")));

    // Just rotated: the file at the path is empty (before: 422).
    std::fs::write(&f, "").unwrap();
    let w = since("13:59:50");
    assert_eq!(w.text, lines(3 * 3600 + 3590, 3 * 3600 + 3600));
    assert_eq!(w.close, Some(1000));

    // With inode=, only that generation.
    let q = format!(
        "?format=text&meta=1&since=2026-12-01T10:59:30&inode={}",
        inode_of(&dir.join("app.log.3.gz"))
    );
    let w = window(&s, &f, &q);
    assert_eq!(w.text, lines(3570, 3600));
}

fn inode_of(p: &Path) -> u64 {
    std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(p).unwrap())
}

/// `wstail tail -f --retry` while the server is killed (-9) and started
/// again on the same port, and meanwhile logrotate `compress` (without
/// `delaycompress`) rotates: the client resumes into the gzip copy of the
/// file it was reading — every line once (before: the lines written while
/// the server was down, in the `.gz` file, were lost).
#[test]
fn tail_retry_across_a_server_restart_and_a_compression() {
    let _w = watchdog(Duration::from_secs(90));
    if !have_tools() {
        eprintln!("no logrotate: skipped");
        return;
    }
    let dir = TempDir::new("gz-restart");
    let f = dir.join("app.log");
    std::fs::write(&f, lines(0, 100)).unwrap();
    let conf = dir.join("logrotate.conf");
    std::fs::write(
        &conf,
        format!("{} {{\n  rotate 5\n  compress\n  create\n}}\n", f.display()),
    )
    .unwrap();
    let root = dir.path().to_str().unwrap().to_string();
    let mut s = Server::start(&["--root", &root, "--interval", "0.1"]);
    let port = s.port;
    let (out, err) = (dir.join("out"), dir.join("err"));
    let mut tail = Command::new(BIN)
        .args(["tail", "-f", "--retry", "-n", "100"])
        .arg(s.ws_url(&f, ""))
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .expect("start wstail tail");
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    let printed = |n: u64| {
        let needle = format!("line {n:06} ");
        wait_until(Duration::from_secs(20), || read(&out).contains(&needle))
    };
    assert!(printed(99), "stderr: {}", read(&err));
    append(&f, lines(100, 200).as_bytes());
    assert!(printed(199), "stderr: {}", read(&err));
    let _ = s.child.kill();
    let _ = s.child.wait();
    // Down: lines, the rotation with compression, more lines.
    append(&f, lines(200, 300).as_bytes());
    logrotate(&conf, &dir.join("state"));
    append(&f, lines(300, 400).as_bytes());
    // std binds with SO_REUSEADDR: the port is free again at once.
    let s2 = Server::start_on(
        &format!("127.0.0.1:{port}"),
        &["--root", &root, "--interval", "0.1"],
    );
    append(&f, lines(400, 450).as_bytes());
    let ok = printed(449);
    let _ = tail.kill();
    let _ = tail.wait();
    assert!(ok, "stderr: {}", read(&err));
    let got = read(&out);
    if got != lines(0, 450) {
        let numbers: Vec<&str> = got
            .lines()
            .filter_map(|l| l.split(" line ").nth(1)?.get(..6))
            .collect();
        panic!(
            "{} lines printed: {:?} … {:?}; stderr: {}",
            numbers.len(),
            &numbers[..numbers.len().min(3)],
            &numbers[numbers.len().saturating_sub(3)..],
            read(&err)
        );
    }
    drop(s2);
}
