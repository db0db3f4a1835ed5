//! `before=N`: the last lines that end at or before byte N, then a normal
//! close. Paging back with `before=` the start frame's offset gives every
//! byte of the file exactly once.
use crate::common::*;

use std::path::Path;
use std::time::Duration;

use wstail::wire::meta::{Meta, Position};

/// One window: its text, its start frame, its close code.
struct Page {
    text: Vec<u8>,
    start: Position,
    close: Option<u16>,
}

fn page(s: &Server, f: &Path, query: &str) -> Page {
    let mut ws = s.ws(f, &format!("?format=text&meta=1{query}"));
    let mut text = Vec::new();
    let mut start = None;
    loop {
        match ws.next(Duration::from_secs(20)) {
            Got::Text(t) => text.extend_from_slice(t.as_bytes()),
            Got::Binary(b) => {
                if let Some(Meta::Position(p)) = Meta::parse(b.as_bytes())
                    && start.is_none()
                {
                    start = Some(p);
                }
            }
            Got::Closed(code) => {
                return Page {
                    text,
                    start: start.expect("a start frame"),
                    close: code,
                };
            }
            Got::Timeout => panic!("no close for {query}"),
        }
    }
}

/// Lines of random lengths (one longer than the 64 KiB read block, some
/// empty), ASCII, each numbered.
fn random_log(lines: usize, seed: u64) -> Vec<u8> {
    let mut x = seed;
    let mut next = |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    let mut out = Vec::new();
    for i in 0..lines {
        let len = match next(20) {
            0 => 0,
            1 => next(3000),
            _ => next(100),
        };
        let len = if i == lines / 3 { 150_000 } else { len };
        out.extend_from_slice(format!("{i:05} ").as_bytes());
        out.extend((0..len).map(|j| b'a' + ((i as u64 + j) % 26) as u8));
        out.push(b'\n');
    }
    out
}

/// Pages back from the end until the start frame says 0; the pages, oldest
/// first.
fn page_back(s: &Server, f: &Path, query: &str) -> Vec<u8> {
    let mut pages = Vec::new();
    let mut q = query.to_string();
    for _ in 0..1000 {
        let p = page(s, f, &q);
        assert_eq!(p.close, Some(1000), "{q}");
        assert!(!p.start.limit);
        pages.push(p.text);
        if p.start.offset == 0 {
            pages.reverse();
            return pages.concat();
        }
        q = format!("{query}&before={}", p.start.offset);
    }
    panic!("paging did not reach the start");
}

#[test]
fn paging_back_covers_the_whole_file_exactly_once() {
    let _w = watchdog(Duration::from_secs(120));
    let dir = TempDir::new("before-pages");
    let f = dir.join("app.log");
    let mut content = random_log(400, 0x9e37_79b9_7f4a_7c15);
    content.extend_from_slice(b"an unterminated last line");
    std::fs::write(&f, &content).unwrap();
    let s = Server::rooted(dir.path(), &[]);
    let got = page_back(&s, &f, "&lines=13");
    assert_eq!(got.len(), content.len());
    assert!(got == content, "the pages differ from the file");

    // With a filter: every kept line once, in order.
    let got = page_back(&s, &f, "&lines=5&match=A&exclude=b");
    let want: Vec<u8> = content
        .split_inclusive(|&b| b == b'\n')
        .filter(|l| {
            let l = l.strip_suffix(b"\n").unwrap_or(l);
            let l = &l[..l.len().min(64 * 1024)];
            l.contains(&b'a') && !l.contains(&b'b')
        })
        .collect::<Vec<_>>()
        .concat();
    assert!(!want.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(&want)
    );
}

#[test]
fn before_is_moved_down_to_a_line_boundary_and_clamped() {
    let _w = watchdog(Duration::from_secs(60));
    let dir = TempDir::new("before-bounds");
    let f = dir.join("app.log");
    std::fs::write(&f, "one\ntwo\nthree\nfour").unwrap();
    let s = Server::rooted(dir.path(), &["--max-lines", "2"]);
    let text = |q: &str| String::from_utf8(page(&s, &f, q).text).unwrap();
    // In the middle of "three": the lines that end before it.
    assert_eq!(text("&lines=1&before=10"), "two\n");
    // Just after a newline: that line is the last.
    assert_eq!(text("&lines=1&before=14"), "three\n");
    // Beyond the size: the size, where "four" (no newline yet) is not a
    // whole line.
    assert_eq!(text("&lines=1&before=999999"), "three\n");
    // lines= is bounded by --max-lines.
    assert_eq!(text("&lines=100&before=14"), "two\nthree\n");
    // Nothing before 0 or the first line end.
    let p = page(&s, &f, "&lines=5&before=3");
    assert_eq!((p.text.len(), p.start.offset, p.close), (0, 0, Some(1000)));
    // The start frame: the window's first byte; lines=0 sends nothing and
    // starts at the boundary.
    assert_eq!(page(&s, &f, "&lines=2&before=14").start.offset, 4);
    let p = page(&s, &f, "&lines=0&before=12");
    assert_eq!((p.text.len(), p.start.offset), (0, 8));
    // Without meta=1, no binary frame; html works too.
    let mut ws = s.ws(&f, "?lines=1&before=8");
    assert_eq!(ws.next(Duration::from_secs(5)), Got::Text("two\n".into()));
    assert_eq!(ws.next(Duration::from_secs(5)), Got::Closed(Some(1000)));
}

#[test]
fn before_with_tail_and_a_wrong_inode_are_refused() {
    let _w = watchdog(Duration::from_secs(60));
    let dir = TempDir::new("before-refused");
    let f = dir.join("app.log");
    std::fs::write(&f, "one\ntwo\n").unwrap();
    let s = Server::rooted(dir.path(), &[]);
    let path = url_path(&f);
    let (status, answer) = s.ws_status(&format!("{path}?before=4&tail=1"), "");
    assert_eq!(status, 400, "{answer}");
    assert!(answer.contains("tail=1"), "{answer}");
    let (status, _) = s.ws_status(&format!("{path}?before=x"), "");
    assert_eq!(status, 400);
    let inode = std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(&f).unwrap());
    let (status, _) = s.ws_status(&format!("{path}?before=4&inode={}", inode + 1), "");
    assert_eq!(status, 410);
    let p = page(&s, &f, &format!("&lines=1&before=8&inode={inode}"));
    assert_eq!((p.text, p.start.inode), (b"two\n".to_vec(), inode));
}
