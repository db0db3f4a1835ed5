//! Server-side line filters (`match=` / `exclude=`): plain substrings, ASCII
//! case-insensitive, judged on whole lines — in the initial tail (which
//! counts kept lines) and in followed data, including lines that arrive in
//! pieces across reads.
use crate::common::*;

use std::time::Duration;

const LOG: &str = "\
2026-01-01 INFO start
2026-01-01 ERROR disk full
2026-01-01 debug error retry
2026-01-01 Warn slow
2026-01-01 error: healthcheck failed
2026-01-01 INFO café
2026-01-01 ERROR again
2026-01-01 INFO CAFÉ
2026-01-01 warning last";

fn setup(tag: &str) -> (TempDir, std::path::PathBuf, Server) {
    let dir = TempDir::new(tag);
    let f = dir.join("app.log");
    std::fs::write(&f, LOG).unwrap();
    let s = Server::rooted(dir.path(), &["--interval", "0.05"]);
    (dir, f, s)
}

/// The kept lines of LOG, computed the obvious way.
fn kept(pred: impl Fn(&str) -> bool, last: usize) -> String {
    let lines: Vec<&str> = LOG.split_inclusive('\n').filter(|l| pred(l)).collect();
    lines[lines.len().saturating_sub(last)..].concat()
}

#[test]
fn the_initial_tail_counts_kept_lines() {
    let _w = watchdog(Duration::from_secs(60));
    let (_d, f, s) = setup("tail");
    let ask = |q: &str| s.ws(&f, q).text_to_close(Duration::from_secs(10)).0;
    let has = |l: &str, t: &str| l.to_ascii_lowercase().contains(t);

    assert_eq!(
        ask("?format=text&lines=2&match=error"),
        kept(|l| has(l, "error"), 2)
    );
    assert_eq!(
        ask("?format=text&lines=100&match=ERROR"),
        kept(|l| has(l, "error"), 100)
    );
    // Several match texts: any; exclude: none of them.
    assert_eq!(
        ask("?format=text&lines=3&match=error&match=warn&exclude=debug&exclude=HEALTH"),
        kept(
            |l| (has(l, "error") || has(l, "warn")) && !has(l, "debug") && !has(l, "health"),
            3
        )
    );
    // The unterminated last line counts, and is kept or not like the others.
    assert_eq!(
        ask("?format=text&lines=1&match=warn"),
        "2026-01-01 warning last"
    );
    assert_eq!(
        ask("?format=text&lines=1&exclude=warning"),
        "2026-01-01 INFO CAFÉ\n"
    );
    // Non-ASCII letters are compared exactly.
    assert_eq!(
        ask("?format=text&lines=10&match=caf%C3%A9"),
        "2026-01-01 INFO café\n"
    );
    // Nothing matches across a line end, and a text no line holds gives
    // nothing at all.
    assert_eq!(ask("?format=text&lines=10&match=full%0A2026"), "");
    assert_eq!(ask("?format=text&lines=10&match=nowhere"), "");
    // HTML too.
    assert_eq!(ask("?lines=1&match=again"), "2026-01-01 ERROR again\n");
}

#[test]
fn followed_lines_are_judged_whole_even_when_they_arrive_in_pieces() {
    let _w = watchdog(Duration::from_secs(60));
    let (_d, f, s) = setup("follow");
    let mut ws = s.ws(&f, "?tail=1&format=text&lines=0&match=error&exclude=debug");
    // The unterminated last line of LOG is completed, and is not kept.
    append(&f, b" and more\n");
    // Each piece sits alone in the file for several intervals, so the
    // follower reads (and the idle flush considers) every part on its own.
    let pause = || std::thread::sleep(Duration::from_millis(200));
    let pieces: &[&[u8]] = &[
        b"1 info fine\n2 ER",    // the match text split across reads
        b"ROR disk\n3 error de", // kept; then an exclude text split
        b"bug trace\n4 info",    // dropped
        b" nothing\n5 Error: x", // dropped; a kept line held until its end
        b"yz\n6 err",            // kept
        b"\nor 7\n",             // "err" and "or" on two lines: no match
        "8 erreur é error ü\n".as_bytes(),
    ];
    for p in pieces {
        append(&f, p);
        pause();
    }
    let want = "2 ERROR disk\n5 Error: xyz\n8 erreur é error ü\n";
    let got = ws.text_until(Duration::from_secs(10), |t| t.len() >= want.len());
    assert_eq!(got, want);
    // Nothing else comes.
    assert_eq!(ws.next(Duration::from_millis(300)), Got::Timeout);
}

#[test]
fn a_kept_line_is_sent_whole_and_offsets_count_dropped_lines() {
    let _w = watchdog(Duration::from_secs(60));
    let (_d, f, s) = setup("meta");
    std::fs::write(&f, "").unwrap();
    let mut ws = s.ws(&f, "?tail=1&format=text&lines=0&meta=1&exclude=noise");
    // The starting point comes first, before any text.
    let inode = std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(&f).unwrap());
    match ws.next(Duration::from_secs(5)) {
        Got::Binary(b) => assert_eq!(position(&b), Some((0, inode))),
        other => panic!("{other:?}"),
    }
    append(&f, b"noise 1\nkeep 1\nnoise 2\n");
    assert_eq!(
        ws.next(Duration::from_secs(5)),
        Got::Text("keep 1\n".into())
    );
    match ws.next(Duration::from_secs(5)) {
        Got::Binary(b) => assert_eq!(position(&b), Some((23, inode))),
        other => panic!("{other:?}"),
    }
    // A kept line that grows in pieces is not sent before its end: a
    // filter can only judge whole lines.
    append(&f, b"keep 2 ");
    std::thread::sleep(Duration::from_millis(300));
    append(&f, b"noise after all\nkeep 3\n");
    assert!(matches!(ws.next(Duration::from_secs(5)), Got::Text(t) if t == "keep 3\n"));
}
