//! Resume and metadata (`meta=1`, `from=N&inode=I`): the offset frame after
//! each text message, and a reconnection from the last offset that receives
//! every line exactly once — after a quiet drop, in the middle of a stream,
//! and with the events that say why a resume starts the file over (rotated,
//! truncated).
use crate::common::*;

use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

fn line(n: u64) -> String {
    format!("line {n:06} {}\n", "y".repeat((n % 37) as usize))
}

fn lines(r: std::ops::Range<u64>) -> String {
    r.map(line).collect()
}

/// A `meta=1` reader: text counts once its offset frame has arrived, as a
/// client that resumes must count it.
#[derive(Default)]
struct Reader {
    committed: String,
    pending: String,
    at: Option<(u64, u64)>,
    events: Vec<String>,
    messages: usize,
}

impl Reader {
    /// Reads one frame; false on timeout or close.
    fn step(&mut self, ws: &mut Ws, within: Duration) -> bool {
        match ws.next(within) {
            Got::Text(t) => {
                assert!(
                    self.pending.is_empty(),
                    "two text messages without an offset"
                );
                self.pending = t;
                true
            }
            Got::Binary(b) => {
                if let Some(e) = event(&b) {
                    self.events.push(e);
                } else {
                    let at = position(&b).unwrap_or_else(|| panic!("bad frame {b}"));
                    // An offset without a text message is a starting point
                    // (at the start, after an event).
                    if !self.pending.is_empty() {
                        self.committed.push_str(&std::mem::take(&mut self.pending));
                        self.messages += 1;
                    }
                    self.at = Some(at);
                }
                true
            }
            Got::Closed(_) | Got::Timeout => false,
        }
    }

    /// Reads until the committed offset reaches `len` (bounded).
    fn until_offset(&mut self, ws: &mut Ws, len: u64) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.at.map(|a| a.0) != Some(len) {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                self.step(ws, left),
                "offset {len} never came; at {:?}",
                self.at
            );
        }
    }
}

fn len(p: &Path) -> u64 {
    std::fs::metadata(p).unwrap().len()
}

fn inode(p: &Path) -> u64 {
    std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(p).unwrap())
}

fn server(tag: &str) -> (TempDir, std::path::PathBuf, Server) {
    let dir = TempDir::new(tag);
    let f = dir.join("app.log");
    let s = Server::rooted(dir.path(), &["--interval", "0.05"]);
    (dir, f, s)
}

/// Follow with `meta=1`, drop the connection, append 1000 lines, reconnect
/// with the last offset and inode: every line arrives exactly once.
#[test]
fn resume_after_a_drop_loses_and_repeats_nothing() {
    let _w = watchdog(Duration::from_secs(60));
    let (_d, f, s) = server("drop");
    std::fs::write(&f, lines(0..1000)).unwrap();
    let mut ws = s.ws(&f, "?tail=1&format=text&meta=1&lines=1000");
    let mut first = Reader::default();
    first.until_offset(&mut ws, len(&f));
    assert_eq!(first.committed, lines(0..1000));
    append(&f, lines(1000..1100).as_bytes());
    first.until_offset(&mut ws, len(&f));
    let (offset, ino) = first.at.unwrap();
    assert_eq!(ino, inode(&f));
    // Dropped without a closing handshake, like a lost network.
    drop(ws);

    append(&f, lines(1100..2100).as_bytes());
    let mut ws = s.ws(
        &f,
        &format!("?tail=1&format=text&meta=1&from={offset}&inode={ino}"),
    );
    let mut second = Reader::default();
    second.until_offset(&mut ws, len(&f));
    assert_eq!(second.committed, lines(1100..2100));
    assert!(second.events.is_empty(), "{:?}", second.events);
    // And it follows on.
    append(&f, lines(2100..2101).as_bytes());
    second.until_offset(&mut ws, len(&f));
    assert_eq!(first.committed + &second.committed, lines(0..2101));
}

/// A writer appends all the time; the reader drops after some messages,
/// keeps what came with an offset, reconnects from there.
#[test]
fn resume_in_the_middle_of_a_stream() {
    let _w = watchdog(Duration::from_secs(60));
    let (_d, f, s) = server("midstream");
    std::fs::write(&f, "").unwrap();
    let total = 30_000;
    let mut ws = s.ws(&f, "?tail=1&format=text&meta=1&lines=0");
    let f2 = f.clone();
    let writer = thread::spawn(move || {
        for chunk in (0..total).collect::<Vec<u64>>().chunks(100) {
            append(&f2, lines(chunk[0]..chunk[chunk.len() - 1] + 1).as_bytes());
            thread::sleep(Duration::from_millis(2));
        }
    });
    let mut first = Reader::default();
    while first.messages < 20 {
        assert!(first.step(&mut ws, Duration::from_secs(10)));
    }
    // One more text message without its offset frame, if it comes: lost
    // with the connection, so not counted.
    let _ = first.step(&mut ws, Duration::from_millis(100));
    drop(ws);
    let (offset, ino) = first.at.unwrap();
    thread::sleep(Duration::from_millis(100));

    let mut ws = s.ws(
        &f,
        &format!("?tail=1&format=text&meta=1&from={offset}&inode={ino}"),
    );
    writer.join().unwrap();
    let mut second = Reader::default();
    second.until_offset(&mut ws, len(&f));
    assert!(second.events.is_empty(), "{:?}", second.events);
    let all = first.committed + &second.committed;
    let want = lines(0..total);
    if all != want {
        let i = all
            .bytes()
            .zip(want.bytes())
            .take_while(|(a, b)| a == b)
            .count();
        panic!(
            "lost or repeated lines: resumed at {offset}; first difference at byte {i}: {:?} instead of {:?}",
            &all[i.saturating_sub(20)..(i + 40).min(all.len())],
            &want[i.saturating_sub(20)..(i + 40).min(want.len())]
        );
    }
}

/// The path names another file now: an event says so and the new file is
/// sent from its start (the rest of the old one is not reachable by path).
#[test]
fn resume_after_rotation_starts_the_new_file() {
    let _w = watchdog(Duration::from_secs(60));
    let (d, f, s) = server("rotated");
    std::fs::write(&f, lines(0..50)).unwrap();
    let mut ws = s.ws(&f, "?tail=1&format=text&meta=1&lines=10");
    let mut first = Reader::default();
    first.until_offset(&mut ws, len(&f));
    assert_eq!(first.committed, lines(40..50));
    drop(ws);
    let (offset, ino) = first.at.unwrap();
    std::fs::rename(&f, d.join("app.log.1")).unwrap();
    std::fs::write(&f, lines(50..60)).unwrap();
    let mut ws = s.ws(
        &f,
        &format!("?tail=1&format=text&meta=1&from={offset}&inode={ino}"),
    );
    let mut second = Reader::default();
    second.until_offset(&mut ws, len(&f));
    assert_eq!(second.events, ["rotated"]);
    assert_eq!(second.committed, lines(50..60));
    assert_eq!(second.at.unwrap().1, inode(&f));
}

/// Same file, now shorter than the offset: an event says so, and the file
/// is sent from its start.
#[test]
fn resume_after_truncation_starts_over() {
    let _w = watchdog(Duration::from_secs(60));
    let (_d, f, s) = server("truncated");
    std::fs::write(&f, lines(0..50)).unwrap();
    let mut ws = s.ws(&f, "?tail=1&format=text&meta=1&lines=5");
    let mut first = Reader::default();
    first.until_offset(&mut ws, len(&f));
    drop(ws);
    let (offset, ino) = first.at.unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&f)
        .unwrap()
        .set_len(0)
        .unwrap();
    append(&f, lines(50..53).as_bytes());
    let mut ws = s.ws(
        &f,
        &format!("?tail=1&format=text&meta=1&from={offset}&inode={ino}"),
    );
    let mut second = Reader::default();
    second.until_offset(&mut ws, len(&f));
    assert_eq!(second.events, ["truncated"]);
    assert_eq!(second.committed, lines(50..53));

    // Resuming exactly at the end sends nothing old; what is appended comes.
    drop(ws);
    let (offset, ino) = second.at.unwrap();
    let mut ws = s.ws(
        &f,
        &format!("?tail=1&format=text&meta=1&from={offset}&inode={ino}"),
    );
    // Only the starting point.
    match ws.next(Duration::from_secs(5)) {
        Got::Binary(b) => assert_eq!(position(&b), Some((offset, ino))),
        other => panic!("{other:?}"),
    }
    assert_eq!(ws.next(Duration::from_millis(300)), Got::Timeout);
    append(&f, lines(53..54).as_bytes());
    let mut third = Reader::default();
    third.until_offset(&mut ws, len(&f));
    assert_eq!(third.committed, lines(53..54));
    assert!(third.events.is_empty());
}

/// Events arrive in order with the text: the rest of a rotated file, the
/// event, the new file; truncation; deletion and recreation. Without
/// `meta=1` no binary frame is ever sent.
#[test]
fn meta_events_in_order_with_the_text() {
    let _w = watchdog(Duration::from_secs(60));
    let (d, f, s) = server("events");
    std::fs::write(&f, lines(0..3)).unwrap();
    let mut ws = s.ws(&f, "?tail=1&format=text&meta=1");
    let mut plain = s.ws(&f, "?tail=1&format=text");
    let mut plain_seen: Vec<String> = Vec::new();
    // Text messages and events, in arrival order.
    let mut seen: Vec<String> = Vec::new();
    let read_until = |ws: &mut Ws, seen: &mut Vec<String>, stop: &str| {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !seen.last().is_some_and(|l| l.contains(stop)) {
            let left = deadline.saturating_duration_since(Instant::now());
            match ws.next(left) {
                Got::Text(t) => seen.push(format!("text {t}")),
                Got::Binary(b) => {
                    if let Some(e) = event(&b) {
                        seen.push(format!("event {e}"));
                    }
                }
                other => panic!("{other:?} waiting for {stop}; saw {seen:?}"),
            }
        }
    };
    read_until(&mut ws, &mut seen, "line 000002");
    read_until(&mut plain, &mut plain_seen, "line 000002");

    append(&f, lines(3..4).as_bytes());
    std::fs::rename(&f, d.join("app.log.1")).unwrap();
    std::fs::write(&f, lines(4..5)).unwrap();
    read_until(&mut ws, &mut seen, "line 000004");
    read_until(&mut plain, &mut plain_seen, "line 000004");

    std::fs::write(&f, lines(5..6)).unwrap(); // shorter: truncated
    read_until(&mut ws, &mut seen, "line 000005");
    read_until(&mut plain, &mut plain_seen, "line 000005");

    append(&f, lines(6..7).as_bytes());
    std::fs::remove_file(&f).unwrap();
    read_until(&mut ws, &mut seen, "deleted");
    thread::sleep(Duration::from_millis(200));
    std::fs::write(&f, lines(7..8)).unwrap();
    read_until(&mut ws, &mut seen, "line 000007");
    read_until(&mut plain, &mut plain_seen, "line 000007");

    // The first message may carry lines 0-2 at once, later ones may be
    // cut differently; compare the sequence of lines and events.
    let flat: Vec<String> = seen
        .iter()
        .flat_map(|s| {
            if let Some(t) = s.strip_prefix("text ") {
                t.lines().map(|l| l[..11].to_string()).collect::<Vec<_>>()
            } else {
                vec![s.clone()]
            }
        })
        .collect();
    assert_eq!(
        flat,
        [
            "line 000000",
            "line 000001",
            "line 000002",
            "line 000003",
            "event rotated",
            "line 000004",
            "event truncated",
            "line 000005",
            "line 000006",
            "event deleted",
            "event recreated",
            "line 000007",
        ],
        "frames: {seen:?}"
    );

    // The plain follower got the same text and no binary frame.
    let mut plain_text = String::new();
    for s in &plain_seen {
        plain_text.push_str(
            s.strip_prefix("text ")
                .unwrap_or_else(|| panic!("without meta=1: {s}")),
        );
    }
    assert_eq!(plain_text, lines(0..8));
}

#[test]
fn a_resume_into_the_oldest_of_a_thousand_generations_costs_little_cpu() {
    let _w = watchdog(Duration::from_secs(120));
    let dir = TempDir::new("resume-walk");
    let f = dir.join("app.log");
    // app.log.1000 (oldest) .. app.log.1, each one line and modified later
    // than the one before, then app.log.
    let n = 1000u64;
    let base = std::time::SystemTime::now() - Duration::from_secs(5000);
    for k in (1..=n).rev() {
        let g = dir.join(&format!("app.log.{k}"));
        std::fs::write(&g, line(k)).unwrap();
        let t = base + Duration::from_secs(n - k);
        std::fs::File::options()
            .write(true)
            .open(&g)
            .unwrap()
            .set_modified(t)
            .unwrap();
    }
    std::fs::write(&f, "current\n").unwrap();
    let oldest = dir.join("app.log.1000");
    let s = Server::rooted(dir.path(), &["--interval", "0.1"]);
    // Settle the server first.
    s.ws(&f, "?lines=0").close();
    let before = cpu_ticks(s.pid());
    // Resumed at the start of the oldest: every generation, then the file.
    let query = format!("?format=text&tail=1&from=0&inode={}", inode(&oldest));
    let mut ws = s.ws(&f, &query);
    let text = ws.text_until(Duration::from_secs(60), |t| t.ends_with("current\n"));
    let want: String = (1..=n)
        .rev()
        .map(line)
        .chain(["current\n".to_string()])
        .collect();
    assert_eq!(text, want);
    let cost = cpu_ticks(s.pid()) - before;
    // Listing the chain once and walking it costs tens of milliseconds;
    // listing it again at each of the 1,000 steps cost seconds.
    assert!(cost < 50, "{cost} ticks of CPU for the resume");
}
