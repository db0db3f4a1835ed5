//! HTTP details of issue 10 point 8: the page's status is the WebSocket
//! request's (without a token, the lexical check only), the upgrade's key
//! and version, `Range` as RFC 9110, a file named as a directory, RFC 6266
//! file names, a root given through a symlink, the bounded `?list` walk,
//! reason phrases, and a bounded log line.
use crate::common::*;
use std::time::{Duration, Instant};

fn body(text: &str) -> &str {
    text.split_once("\r\n\r\n").map_or("", |(_, b)| b)
}

fn setup(extra: &[&str]) -> (TempDir, Server) {
    let dir = TempDir::new("httpd");
    std::fs::create_dir_all(dir.join("root/sub")).unwrap();
    std::fs::write(dir.join("root/a.log"), "0123456789").unwrap();
    std::fs::write(dir.join("secret"), "outside").unwrap();
    std::os::unix::fs::symlink(dir.join("secret"), dir.join("root/escape")).unwrap();
    let s = Server::rooted(&dir.join("root"), extra);
    (dir, s)
}

#[test]
fn the_page_answers_with_the_websocket_status() {
    let _w = watchdog(Duration::from_secs(60));
    let (dir, s) = setup(&[]);
    let root = url_path(&dir.join("root"));
    for (target, want) in [
        ("/".to_string(), 200),
        (format!("{root}/a.log"), 200),
        (format!("{root}/nothere.log"), 404),
        (format!("{root}/sub"), 403),
        (format!("{root}/escape"), 403),
        (format!("{root}/a.log/"), 404),
        ("/../../etc/passwd".to_string(), 403),
        ("/etc/passwd".to_string(), 403),
    ] {
        let (status, text) = s.get(&target);
        assert_eq!(status, want, "{target}");
        assert!(
            text.contains("Content-Type: text/html") && body(&text).contains("<title>"),
            "{target}: the body is the page either way"
        );
        if target != "/" {
            let ws_want = if want == 200 { 101 } else { want };
            assert_eq!(s.ws_status(&target, "").0, ws_want, "ws {target}");
        }
    }
}

#[test]
fn without_the_token_the_page_status_is_lexical_only() {
    let _w = watchdog(Duration::from_secs(60));
    let (dir, s) = setup(&["--token", "s3cret"]);
    let root = url_path(&dir.join("root"));
    // No file-system lookup: inside the roots is 200 whether or not
    // anything is there; lexically outside is 403.
    for (target, want) in [
        (format!("{root}/a.log"), 200),
        (format!("{root}/nothere.log"), 200),
        (format!("{root}/escape"), 200),
        ("/etc/passwd".to_string(), 403),
        (format!("{root}/nothere.log?token=wrong"), 200),
        // With the token, the whole rule.
        (format!("{root}/nothere.log?token=s3cret"), 404),
        (format!("{root}/escape?token=s3cret"), 403),
    ] {
        assert_eq!(s.get(&target).0, want, "{target}");
    }
}

#[test]
fn a_bad_key_or_http_1_0_upgrade_is_400() {
    let _w = watchdog(Duration::from_secs(60));
    let (dir, s) = setup(&[]);
    let p = url_path(&dir.join("root/a.log"));
    let upgrade = |version: &str, key: &str| {
        s.http(&format!(
            "GET {p} {version}\r\nHost: 127.0.0.1:{}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {key}\r\n\r\n",
            s.port
        ))
        .0
    };
    for key in [
        "x",
        "dGhlIHNhbXBsZSBub25jZQ",
        "dGhlIHNhbXBsZSBub25jZQ==AAAA",
        "!!!!!!!!!!!!!!!!!!!!!!==",
    ] {
        assert_eq!(upgrade("HTTP/1.1", key), 400, "{key}");
    }
    assert_eq!(upgrade("HTTP/1.0", "dGhlIHNhbXBsZSBub25jZQ=="), 400);
    assert_eq!(upgrade("HTTP/1.1", "dGhlIHNhbXBsZSBub25jZQ=="), 101);
}

#[test]
fn ranges_as_rfc_9110() {
    let _w = watchdog(Duration::from_secs(60));
    let (dir, s) = setup(&[]);
    let p = url_path(&dir.join("root/a.log"));
    let range = |r: &str| {
        s.http(&format!(
            "GET {p}?download HTTP/1.1\r\nHost: localhost\r\nRange: {r}\r\n\r\n"
        ))
    };
    // A last byte beyond the end is clamped.
    let (status, text) = range("bytes=2-100");
    assert_eq!(status, 206);
    assert!(text.contains("Content-Range: bytes 2-9/10"), "{text}");
    assert_eq!(body(&text), "23456789");
    // A malformed or invalid header is ignored: the whole file.
    for r in [
        "bytes=x-1",
        "bytes=5-2",
        "bytes=+1-2",
        "bytes=",
        "lines=1-2",
    ] {
        let (status, text) = range(r);
        assert_eq!(status, 200, "{r}");
        assert_eq!(body(&text), "0123456789", "{r}");
    }
    assert_eq!(range("bytes=10-").0, 416);
}

#[test]
fn a_file_named_as_a_directory_is_404() {
    let _w = watchdog(Duration::from_secs(60));
    let (dir, s) = setup(&[]);
    let p = url_path(&dir.join("root/a.log"));
    for target in [
        format!("{p}/?download"),
        format!("{p}/.?download"),
        format!("{p}/"),
        format!("{p}/."),
    ] {
        assert_eq!(s.get(&target).0, 404, "{target}");
    }
    assert_eq!(s.ws_status(&format!("{p}/"), "").0, 404);
    assert_eq!(s.ws_status(&format!("{p}/."), "").0, 404);
    // Outside stays 403, a symlink to a file too: no oracle.
    let e = url_path(&dir.join("root/escape"));
    assert_eq!(s.get(&format!("{e}/?download")).0, 403);
    assert_eq!(s.get(&format!("{p}?download")).0, 200);
}

#[test]
fn content_disposition_as_rfc_6266() {
    use std::os::unix::ffi::OsStrExt;
    let _w = watchdog(Duration::from_secs(60));
    let (dir, s) = setup(&[]);
    let name = std::ffi::OsStr::from_bytes("raw bytes h\u{e9}.log".as_bytes());
    let f = dir.join("root").join(name);
    std::fs::write(&f, "x").unwrap();
    let plain = dir.join("root/raw bytes.log");
    std::fs::write(&plain, "y").unwrap();
    let (status, text) = s.get(&format!("{}?download", url_path(&plain)));
    assert_eq!(status, 200);
    assert!(
        text.contains("Content-Disposition: attachment; filename=\"raw bytes.log\"\r\n"),
        "{text}"
    );
    let (status, text) = s.get(&format!("{}?download", url_path(&f)));
    assert_eq!(status, 200);
    assert!(
        text.contains(
            "Content-Disposition: attachment; filename=\"raw bytes h__.log\"; filename*=UTF-8''raw%20bytes%20h%C3%A9.log\r\n"
        ),
        "{text}"
    );
}

#[test]
fn a_root_given_through_a_symlink_is_reachable_under_both_spellings() {
    let _w = watchdog(Duration::from_secs(60));
    let dir = TempDir::new("httpd-alias");
    std::fs::create_dir_all(dir.join("real")).unwrap();
    std::fs::write(dir.join("real/a.log"), "one\n").unwrap();
    std::fs::write(dir.join("outside.log"), "no\n").unwrap();
    std::os::unix::fs::symlink(dir.join("real"), dir.join("link")).unwrap();
    let s = Server::rooted(&dir.join("link"), &[]);
    for base in ["real", "link"] {
        let p = dir.join(base).join("a.log");
        let (status, text) = s.get(&format!("{}?download", url_path(&p)));
        assert_eq!((status, body(&text)), (200, "one\n"), "{base}");
        let (text, _) = s
            .ws(&p, "?format=text")
            .text_to_close(Duration::from_secs(5));
        assert_eq!(text, "one\n", "{base}");
        assert_eq!(s.get(&url_path(&p)).0, 200, "{base}");
    }
    // Under the link's spelling, `..` still leaves the root.
    let out = format!("{}/../outside.log?download", url_path(&dir.join("link")));
    assert_eq!(s.get(&out).0, 403);
}

/// The work of the `n`th `?list` answered (from 1), from its log line:
/// entries looked at, and directories read.
fn list_work(s: &Server, n: usize) -> Option<(usize, usize)> {
    let log = s.log();
    let line = log
        .lines()
        .filter(|l| l.contains("entries looked at in"))
        .nth(n - 1)?;
    let words: Vec<&str> = line.split_whitespace().collect();
    let at = words.iter().position(|w| *w == "entries")?;
    let visited = words
        .get(at.checked_sub(1)?)?
        .trim_matches(',')
        .parse()
        .ok()?;
    let dirs = words.get(at + 4)?.parse().ok()?;
    Some((visited, dirs))
}

/// The review's reproduction (F4): 100,000 symlinks to an outside file,
/// none of them listed. The walk's work is bounded — at most 20,000 entries
/// looked at (`LIST_MAX_VISITED`), as the answer's log line says — and the
/// list says it was cut. Judged by the work done, not by the time it took:
/// the request is given all the time the work needs (on a loaded machine
/// the answer once came after a 15 s read timeout).
#[test]
fn the_list_walk_is_bounded_and_says_when_it_is_cut() {
    let _w = watchdog(Duration::from_secs(300));
    let (dir, s) = setup(&[]);
    let (status, text) = s.get("/?list");
    assert_eq!(status, 200);
    assert!(!text.contains("X-Wstail-Truncated"), "{text}");
    let many = dir.join("root/many");
    std::fs::create_dir(&many).unwrap();
    for i in 0..100_000 {
        std::os::unix::fs::symlink(dir.join("secret"), many.join(format!("l{i}"))).unwrap();
    }
    let start = Instant::now();
    let (status, text) = s.get_within("/?list", Duration::from_secs(240));
    let took = start.elapsed();
    assert_eq!(status, 200);
    assert!(text.contains("\r\nX-Wstail-Truncated: 1\r\n"), "{text}");
    assert!(!body(&text).contains("/many/"), "{}", body(&text));
    assert!(
        wait_until(Duration::from_secs(10), || list_work(&s, 2).is_some()),
        "{}",
        s.log()
    );
    let (visited, dirs) = list_work(&s, 2).unwrap_or_default();
    eprintln!(
        "?list over 100,000 symlinks: {visited} entries looked at, {dirs} directories read, {took:?}"
    );
    // The bound, and all of it: the walk did not stop early either.
    assert_eq!(visited, 20_000, "entries looked at");
    assert!(dirs <= 1_000, "{dirs} directories read");
}

#[test]
fn reason_phrases_and_a_bounded_log_line() {
    let _w = watchdog(Duration::from_secs(60));
    let (dir, s) = setup(&[]);
    let p = url_path(&dir.join("root/a.log"));
    let (status, text) = s.ws_status(&format!("{p}?inode=1"), "");
    assert_eq!(status, 410);
    assert!(text.starts_with("HTTP/1.1 410 Gone\r\n"), "{text}");
    // A refusal reason that echoes 1,200 two-byte characters (9,600
    // characters escaped), within the 8 KiB head.
    let value = "%C3%A9".repeat(1200);
    let (status, _) = s.ws_status(&format!("{p}?format={value}"), "");
    assert_eq!(status, 400);
    let line = |log: &str| {
        log.lines()
            .find(|l| l.contains("?format=") && l.contains("refused"))
            .map(str::to_string)
    };
    assert!(
        wait_until(Duration::from_secs(5), || line(&s.log()).is_some()),
        "{}",
        s.log()
    );
    let line = line(&s.log()).unwrap_or_default();
    assert!(line.len() < 1300, "{} chars: {line}", line.len());
}

/// Issue 22.8: `?list` is streamed as it is walked, so a reader that stops
/// reading holds little of the server's memory. 20 readers of the list of
/// 10,000 files (about 1 MB of JSON each) that read the answer's head and
/// then nothing: the server grows by well under 256 KiB per reader (a list
/// held whole cost about 1.3 MB each).
#[test]
fn a_slow_list_reader_holds_little_memory() {
    use std::io::{Read, Write};
    let _w = watchdog(Duration::from_secs(240));
    let (dir, s) = setup(&[]);
    for d in 0..100 {
        let sub = dir.join(&format!("root/service-{d:03}"));
        std::fs::create_dir(&sub).unwrap();
        for f in 0..100 {
            std::fs::write(sub.join(format!("application-events-{f:04}.log")), "x\n").unwrap();
        }
    }
    let (status, _) = s.get_within("/?list", Duration::from_secs(120));
    assert_eq!(status, 200);
    std::thread::sleep(Duration::from_millis(300));
    let before = vm_rss_kb(s.pid());
    let readers: Vec<std::net::TcpStream> = (0..20)
        .map(|_| {
            let mut c = std::net::TcpStream::connect(("127.0.0.1", s.port)).unwrap();
            write!(
                c,
                "GET /?list HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n\r\n",
                s.port
            )
            .unwrap();
            c
        })
        .collect();
    // Each has its head: the list is under way (or, held whole, walked).
    for mut c in &readers {
        c.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
        let mut first = [0u8; 12];
        c.read_exact(&mut first).unwrap();
        assert_eq!(&first, b"HTTP/1.1 200");
    }
    std::thread::sleep(Duration::from_millis(500));
    let grown = vm_rss_kb(s.pid()).saturating_sub(before);
    println!("20 slow ?list readers (10,000 files): the server grew by {grown} KiB");
    assert!(grown < 20 * 256, "{grown} KiB for 20 slow readers");
    drop(readers);
}
