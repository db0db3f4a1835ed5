//! Filtered scans are bounded: at most 16 `match=` and 16 `exclude=` texts
//! of at most 256 bytes, at most `--scan-limit` bytes per request (the
//! start frame then says `"limit":true`), progress frames while a scan
//! runs (`meta=1`), and the scan stops when the client is gone.
use crate::common::*;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use wstail::wire::meta::Meta;

/// The meta frames and text of one request, to its close.
fn frames(s: &Server, f: &Path, query: &str) -> (Vec<Meta>, String) {
    let mut ws = s.ws(f, query);
    let mut metas = Vec::new();
    let mut text = String::new();
    loop {
        match ws.next(Duration::from_secs(60)) {
            Got::Text(t) => text.push_str(&t),
            Got::Binary(b) => metas.push(Meta::parse(b.as_bytes()).expect("a meta frame")),
            Got::Closed(code) => {
                assert_eq!(code, Some(1000));
                return (metas, text);
            }
            Got::Timeout => panic!("no close"),
        }
    }
}

#[test]
fn filter_texts_are_bounded() {
    let _w = watchdog(Duration::from_secs(60));
    let dir = TempDir::new("scan-texts");
    let f = dir.join("app.log");
    std::fs::write(&f, "one\n").unwrap();
    let s = Server::rooted(dir.path(), &[]);
    let path = url_path(&f);
    for name in ["match", "exclude"] {
        let texts = |n: usize| -> String { (0..n).map(|i| format!("&{name}=t{i}")).collect() };
        let (status, _) = s.ws_status(&format!("{path}?lines=1{}", texts(16)), "");
        assert_eq!(status, 101, "16 {name}= texts");
        let (status, answer) = s.ws_status(&format!("{path}?lines=1{}", texts(17)), "");
        assert_eq!(status, 400, "17 {name}= texts");
        assert!(answer.contains("at most 16"), "{answer}");
        let long = "x".repeat(256);
        let (status, _) = s.ws_status(&format!("{path}?{name}={long}"), "");
        assert_eq!(status, 101);
        let (status, answer) = s.ws_status(&format!("{path}?{name}={long}x"), "");
        assert_eq!(status, 400);
        assert!(answer.contains("over 256 bytes"), "{answer}");
    }
}

#[test]
fn the_scan_limit_stops_the_scan_and_the_start_frame_says_so() {
    let _w = watchdog(Duration::from_secs(60));
    let dir = TempDir::new("scan-limit");
    let f = dir.join("app.log");
    // 1000 lines of 100 bytes; only the first holds "needle".
    let mut content = format!("{:<99}\n", "0 needle");
    for i in 1..1000 {
        content.push_str(&format!("{:<99}\n", i));
    }
    std::fs::write(&f, &content).unwrap();
    let s = Server::rooted(dir.path(), &["--scan-limit", "10K"]);
    let (metas, text) = frames(&s, &f, "?format=text&meta=1&match=needle&lines=5");
    let Some(Meta::Position(start)) = metas.first() else {
        panic!("{metas:?}")
    };
    assert!(start.limit, "{metas:?}");
    assert!(text.is_empty());
    // 10 KiB from the end: 102 whole lines were searched, nothing before.
    assert_eq!(start.offset, 100_000 - 10_200);
    // Paging on with before= reaches the line, and that window is whole.
    let mut before = start.offset;
    let mut found = String::new();
    for _ in 0..20 {
        let (metas, text) = frames(
            &s,
            &f,
            &format!("?format=text&meta=1&match=needle&lines=5&before={before}"),
        );
        let Some(Meta::Position(p)) = metas.first() else {
            panic!()
        };
        found.push_str(&text);
        if p.offset == 0 {
            assert!(!p.limit);
            break;
        }
        assert!(p.limit && p.offset < before);
        before = p.offset;
    }
    assert_eq!(found, format!("{:<99}\n", "0 needle"));
    // Within the limit, no "limit".
    let (metas, text) = frames(&s, &f, "?format=text&meta=1&lines=5");
    assert!(matches!(&metas[0], Meta::Position(p) if !p.limit));
    assert_eq!(text.len(), 500);
}

/// A file that makes each text a slow (linear, but not fast) search: lines
/// of `a`s, texts of more `a`s than a line holds. 16 texts in a release
/// build, 1 in a debug build (whose scan is many times slower), so that
/// the scan lasts about a second either way.
pub(crate) fn slow_scan(dir: &TempDir) -> (PathBuf, String) {
    let texts = if cfg!(debug_assertions) { 1 } else { 16 };
    let f = dir.join("big.log");
    let mut line = vec![b'a'; 199];
    line.push(b'\n');
    std::fs::write(&f, line.repeat((32 << 20) / 200)).unwrap();
    let query: String = (0..texts)
        .map(|i| format!("&match={}", "a".repeat(240 + i)))
        .collect();
    (f, query)
}

#[test]
fn progress_frames_come_at_most_every_100_ms_while_a_scan_runs() {
    let _w = watchdog(Duration::from_secs(120));
    let dir = TempDir::new("scan-progress");
    let (f, texts) = slow_scan(&dir);
    let size = std::fs::metadata(&f).unwrap().len();
    let s = Server::rooted(dir.path(), &[]);
    let asked = Instant::now();
    let mut ws = s.ws(&f, &format!("?format=text&meta=1&lines=1{texts}"));
    let mut seen = Vec::new();
    let mut start = None;
    loop {
        match ws.next(Duration::from_secs(60)) {
            Got::Binary(b) => match Meta::parse(b.as_bytes()) {
                Some(Meta::Progress { scanned, total }) => {
                    assert_eq!(total, size);
                    seen.push((Instant::now(), scanned));
                }
                Some(Meta::Position(p)) => start = Some(p),
                other => panic!("{other:?}"),
            },
            Got::Closed(code) => {
                assert_eq!(code, Some(1000));
                break;
            }
            other => panic!("{other:?}"),
        }
    }
    let start = start.expect("a start frame");
    assert_eq!((start.offset, start.limit), (0, false));
    assert!(!seen.is_empty(), "no progress frame");
    for w in seen.windows(2) {
        assert!(w[1].1 >= w[0].1, "scanned goes up");
    }
    // At most one frame per 100 ms of the scan (which took less than the
    // whole exchange), none in its first 100 ms. Judged by count: the
    // frames' arrival times say little on a loaded machine.
    let took = asked.elapsed();
    assert!(
        (seen.len() as u128) <= took.as_millis() / 100,
        "{} progress frames in {took:?}",
        seen.len()
    );
    // Without meta=1, none (a shorter scan).
    let s = Server::rooted(dir.path(), &["--scan-limit", "8M"]);
    let mut ws = s.ws(&f, &format!("?format=text&lines=1{texts}"));
    assert_eq!(ws.next(Duration::from_secs(60)), Got::Closed(Some(1000)));
}

#[test]
fn the_scan_stops_when_the_client_leaves() {
    let _w = watchdog(Duration::from_secs(120));
    let dir = TempDir::new("scan-leave");
    let (f, texts) = slow_scan(&dir);
    let s = Server::rooted(dir.path(), &[]);
    // Settle the server's own threads first.
    s.ws(&dir.join("big.log"), "?lines=0").close();
    std::thread::sleep(Duration::from_millis(200));
    let baseline = threads_and_fds(s.pid());
    // With meta=1 a progress frame written to a client gone fails too;
    // without, only looking at the socket notices.
    for (meta, polite) in [(false, false), (false, true), (true, false), (true, true)] {
        let mut ws = s.ws(
            &f,
            &format!("?format=text&meta={}&lines=1{texts}", meta as u8),
        );
        if meta {
            // The scan runs: its first progress frame came.
            match ws.next(Duration::from_secs(30)) {
                Got::Binary(b) => assert!(
                    matches!(Meta::parse(b.as_bytes()), Some(Meta::Progress { .. })),
                    "{b}"
                ),
                other => panic!("{other:?}"),
            }
        } else {
            assert_eq!(ws.next(Duration::from_millis(300)), Got::Timeout);
        }
        if polite {
            ws.close();
        } else {
            drop(ws);
        }
        s.assert_back_to(baseline, Duration::from_secs(1));
    }
    assert!(s.wait_log(
        "closed by the client (during the backward scan)",
        Duration::from_secs(1)
    ));
}

/// What one client of `scans_take_turns…` saw, with when: waiting frames,
/// progress frames of its running scan, and its start frame.
#[derive(Default)]
struct Turn {
    waiting: Vec<Instant>,
    scanning: Vec<Instant>,
    start: Option<Instant>,
}

impl std::fmt::Debug for Turn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} waiting, {} scanning frames",
            self.waiting.len(),
            self.scanning.len()
        )
    }
}

fn scan_turn(url: &str) -> Turn {
    let mut ws = Ws::connect(url);
    let mut t = Turn::default();
    loop {
        match ws.next(Duration::from_secs(60)) {
            Got::Binary(b) => match Meta::parse(b.as_bytes()) {
                Some(Meta::Waiting { .. }) => t.waiting.push(Instant::now()),
                Some(Meta::Progress { .. }) => t.scanning.push(Instant::now()),
                Some(Meta::Position(_)) => t.start = Some(Instant::now()),
                other => panic!("{other:?}"),
            },
            Got::Closed(code) => {
                assert_eq!(code, Some(1000));
                return t;
            }
            other => panic!("{other:?}"),
        }
    }
}

/// Delays, in order, between appending a line to `f` and a follower of it
/// receiving it: `n` lines, one every 150 ms.
fn follower_delays(s: &Server, f: &Path, n: usize) -> Vec<Duration> {
    let mut ws = s.ws(f, "?tail=1&format=text&lines=0");
    let mut delays = Vec::new();
    for i in 0..n {
        let line = format!("line {i}\n");
        let t = Instant::now();
        append(f, line.as_bytes());
        let got = ws.text_until(Duration::from_secs(30), |all| all.ends_with(&line));
        assert!(got.ends_with(&line), "line {i}: {got:?}");
        delays.push(t.elapsed());
        std::thread::sleep(Duration::from_millis(150));
    }
    delays
}

fn median(mut d: Vec<Duration>) -> Duration {
    d.sort();
    d[d.len() / 2]
}

/// CPU-heavy requests take turns: with `--max-scans 1`, three filtered
/// scans asked for at once run one after the other — the two that wait
/// say so with `"waiting":true` frames, and no scan's progress frames come
/// before the previous scan's start frame — while a follower of another
/// file gets its lines with the delay it has without the scans.
#[test]
fn filtered_scans_take_turns_and_a_follower_is_not_delayed() {
    let _w = watchdog(Duration::from_secs(180));
    let dir = TempDir::new("scan-turns");
    let (f, texts) = slow_scan(&dir);
    let small = dir.join("small.log");
    std::fs::write(&small, "").unwrap();
    let s = Server::rooted(dir.path(), &["--max-scans", "1", "--interval", "0.1"]);
    let quiet = follower_delays(&s, &small, 8);
    let url = s.ws_url(&f, &format!("?format=text&meta=1&lines=1{texts}"));
    let clients: Vec<_> = (0..3)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || scan_turn(&url))
        })
        .collect();
    let busy = follower_delays(&s, &small, 8);
    let mut turns: Vec<Turn> = clients.into_iter().map(|c| c.join().unwrap()).collect();
    turns.sort_by_key(|t| t.start);
    let waited = turns.iter().filter(|t| !t.waiting.is_empty()).count();
    assert!(waited >= 2, "{waited} of 3 waited: {turns:?}");
    for pair in turns.windows(2) {
        let before = pair[0].start.expect("a start frame");
        if let Some(first) = pair[1].scanning.first() {
            assert!(*first >= before, "two scans ran at once: {turns:?}");
        }
    }
    let (quiet, busy) = (median(quiet), median(busy));
    println!("follower delay: {quiet:?} alone, {busy:?} while scans wait their turns");
    assert!(
        busy <= quiet + Duration::from_millis(500),
        "follower delay {busy:?} with scans, {quiet:?} without"
    );
}

/// A `since=` search is CPU-heavy too: with `--max-scans 1` and a filtered
/// scan running, it waits its turn, saying so (`"waiting":true`), then
/// runs and finds its line.
#[test]
fn a_since_search_waits_its_turn_behind_a_scan() {
    let _w = watchdog(Duration::from_secs(120));
    let dir = TempDir::new("scan-since-turn");
    let (f, texts) = slow_scan(&dir);
    let stamped = dir.join("stamped.log");
    let lines: String = (0..100)
        .map(|i| format!("2026-12-01T14:{:02}:00Z line {i}\n", i % 60))
        .collect();
    std::fs::write(&stamped, lines).unwrap();
    let s = Server::rooted(dir.path(), &["--max-scans", "1"]);
    let mut scan = s.ws(&f, &format!("?format=text&meta=1&lines=1{texts}"));
    // The scan runs: its first progress frame came.
    match scan.next(Duration::from_secs(30)) {
        Got::Binary(b) => assert!(
            matches!(Meta::parse(b.as_bytes()), Some(Meta::Progress { .. })),
            "{b}"
        ),
        other => panic!("{other:?}"),
    }
    let mut since = s.ws(&stamped, "?format=text&meta=1&since=2026-12-01T14:59:00Z");
    let mut waited = 0;
    let mut text = String::new();
    loop {
        match since.next(Duration::from_secs(60)) {
            Got::Binary(b) => {
                if let Some(Meta::Waiting { .. }) = Meta::parse(b.as_bytes()) {
                    waited += 1;
                }
            }
            Got::Text(t) => {
                text.push_str(&t);
                if text.contains("line 59\n") {
                    break;
                }
            }
            other => panic!("{other:?} after {text:?}"),
        }
    }
    assert!(waited > 0, "the since= search did not wait for the scan");
    assert!(text.starts_with("2026-12-01T14:59:00Z line 59\n"), "{text}");
    drop(scan);
}
