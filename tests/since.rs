//! `since=T` against the real server: each timestamp format and zone rule,
//! continuation lines, the edges (every line before T: only new lines; the
//! first already after T: the whole file), 422 for a file without
//! timestamps and 400 for a time not understood; with `tail=1` and with
//! filters.
use crate::common::*;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use wstail::history::timestamp::civil_from_days;

const T: Duration = Duration::from_secs(10);

fn serve(dir: &TempDir) -> Server {
    Server::rooted(dir.path(), &["--interval", "0.1"])
}

/// The text a non-following `since=` request receives.
fn since(s: &Server, f: &Path, t: &str) -> String {
    let (text, code) = s
        .ws(f, &format!("?format=text&since={}", enc(t)))
        .text_to_close(T);
    assert_eq!(code, Some(1000), "since={t}");
    text
}

/// Percent-encodes a query value (`+` and space matter here).
fn enc(v: &str) -> String {
    v.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._:".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The file's text from its line that starts with `needle` on.
fn from_line(content: &str, needle: &str) -> String {
    let at = content
        .find(&format!("\n{needle}"))
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("{needle} not in the file"));
    content[at..].to_string()
}

fn write(dir: &TempDir, name: &str, content: &str) -> std::path::PathBuf {
    let f = dir.join(name);
    std::fs::write(&f, content).unwrap();
    f
}

/// `YYYY-MM-DDTHH:MM:SSZ` of a Unix time.
fn rfc3339(secs: i64) -> String {
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

#[test]
fn every_known_format() {
    let _w = watchdog(Duration::from_secs(120));
    let dir = TempDir::new("since-formats");
    let s = serve(&dir);

    let rfc = "2026-12-01T14:01:00Z a\n2026-12-01T14:02:00Z b\n2026-12-01T14:03:00Z c\n";
    let f = write(&dir, "rfc.log", rfc);
    assert_eq!(
        since(&s, &f, "2026-12-01T14:01:30Z"),
        from_line(rfc, "2026-12-01T14:02")
    );
    assert_eq!(
        since(&s, &f, "2026-12-01T14:02:00Z"),
        from_line(rfc, "2026-12-01T14:02")
    );
    assert_eq!(
        since(&s, &f, "2026-12-01T15:02:30+01:00"),
        from_line(rfc, "2026-12-01T14:03"),
        "T's own zone"
    );

    // Zoned lines against an absolute T: instants; against a zone-less T:
    // the clock as written.
    let zoned =
        "2026-12-01T15:01:00+01:00 a\n2026-12-01T15:02:00+01:00 b\n2026-12-01T15:03:00+01:00 c\n";
    let f = write(&dir, "zoned.log", zoned);
    assert_eq!(
        since(&s, &f, "2026-12-01T14:02:00Z"),
        from_line(zoned, "2026-12-01T15:02")
    );
    assert_eq!(
        since(&s, &f, "2026-12-01 15:03"),
        from_line(zoned, "2026-12-01T15:03")
    );

    // Python logging: a space, a `,123` fraction, no zone; with a stack
    // trace that belongs to the line before it.
    let py = "2026-12-01 14:02:03,100 INFO a\n2026-12-01 14:02:03,900 ERROR b\nTraceback (most recent call last):\n  File \"x.py\", line 1\n2026-12-01 14:02:04,000 INFO c\n";
    let f = write(&dir, "py.log", py);
    assert_eq!(
        since(&s, &f, "2026-12-01 14:02:03.5"),
        from_line(py, "2026-12-01 14:02:03,9")
    );
    assert_eq!(
        since(&s, &f, "2026-12-01T14:02:04"),
        from_line(py, "2026-12-01 14:02:04"),
        "the stack trace stays with its line"
    );

    // Bracketed (Python's `[%(asctime)s]`, many others).
    let br = "[2026-12-01 14:01:00] a\n[2026-12-01 14:02:00] b\n";
    let f = write(&dir, "br.log", br);
    assert_eq!(
        since(&s, &f, "2026-12-01 14:01:30"),
        from_line(br, "[2026-12-01 14:02")
    );

    // Common/combined log format, in brackets after the client's address.
    let clf = "203.0.113.9 - - [01/Dec/2026:14:01:00 +0000] \"GET /a HTTP/1.1\" 200 5\n\
               203.0.113.9 - frank [01/Dec/2026:14:02:00 +0000] \"GET /b HTTP/1.1\" 200 5 \"-\" \"curl/8\"\n";
    let f = write(&dir, "access.log", clf);
    assert_eq!(
        since(&s, &f, "2026-12-01T14:01:30Z"),
        from_line(clf, "203.0.113.9 - frank")
    );

    // nginx's error log.
    let ngx = "2026/12/01 14:01:00 [error] 1#1: a\n2026/12/01 14:02:00 [warn] 1#1: b\n";
    let f = write(&dir, "error.log", ngx);
    assert_eq!(
        since(&s, &f, "2026-12-01 14:02"),
        from_line(ngx, "2026/12/01 14:02")
    );

    // Syslog: no year; the file's modification time gives it (a December
    // line in a file written in January is from the year before).
    let sys =
        "Dec 31 23:59:00 host app: a\nJan  1 00:00:30 host app: b\nJan  1 00:01:00 host app: c\n";
    let f = write(&dir, "syslog", sys);
    let jan_2027 = UNIX_EPOCH + Duration::from_secs(1_798_761_600 + 3600); // 2027-01-01T01:00Z
    std::fs::File::options()
        .write(true)
        .open(&f)
        .unwrap()
        .set_modified(jan_2027)
        .unwrap();
    assert_eq!(
        since(&s, &f, "2027-01-01 00:00"),
        from_line(sys, "Jan  1 00:00:30")
    );
    assert_eq!(
        since(&s, &f, "2026-12-31 23:00"),
        sys,
        "the first line is after T"
    );
}

#[test]
fn relative_times_are_counted_from_now() {
    let _w = watchdog(Duration::from_secs(120));
    let dir = TempDir::new("since-relative");
    let s = serve(&dir);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let content: String = [3 * 3600, 90 * 60, 20 * 60, 60, 0]
        .iter()
        .map(|ago| format!("{} ago {ago}\n", rfc3339(now - ago)))
        .collect();
    let f = write(&dir, "rel.log", &content);
    let from = |ago: i64| from_line(&content, &rfc3339(now - ago));
    assert_eq!(since(&s, &f, "-15m"), from(60));
    assert_eq!(since(&s, &f, "-1h"), from(20 * 60));
    assert_eq!(since(&s, &f, "-2h"), from(90 * 60));
    assert_eq!(since(&s, &f, "-1d"), content);
    assert_eq!(since(&s, &f, "-90s"), from(60));
}

#[test]
fn edges_new_lines_only_whole_file_and_refusals() {
    let _w = watchdog(Duration::from_secs(120));
    let dir = TempDir::new("since-edges");
    let s = serve(&dir);
    let content = "preamble without a time\n2026-12-01 14:00:00 a\n2026-12-01 14:05:00 b\n";
    let f = write(&dir, "e.log", content);

    assert_eq!(
        since(&s, &f, "2026-12-01 13:00"),
        content,
        "first line already after T: from 0"
    );
    assert_eq!(
        since(&s, &f, "2026-12-01 15:00"),
        "",
        "every line before T: nothing old"
    );

    // Every line before T, following: only what is appended from now.
    let mut ws = s.ws(&f, "?format=text&tail=1&meta=1&since=2026-12-01+15:00");
    match ws.next(T) {
        Got::Binary(b) => assert!(
            b.contains(&format!("\"offset\":{}", content.len())),
            "starts at the end: {b}"
        ),
        other => panic!("expected the start frame, got {other:?}"),
    }
    append(&f, b"2026-12-01 15:01:00 new\n");
    assert_eq!(
        ws.text_until(T, |t| t.ends_with('\n')),
        "2026-12-01 15:01:00 new\n"
    );
    ws.close();

    // Following from the middle, with a filter.
    let mut ws = s.ws(
        &f,
        "?format=text&tail=1&since=2026-12-01T14:01:00&match=new&exclude=skip",
    );
    append(
        &f,
        b"2026-12-01 15:02:00 new skip\n2026-12-01 15:03:00 new two\n",
    );
    assert_eq!(
        ws.text_until(T, |t| t.ends_with("two\n")),
        "2026-12-01 15:01:00 new\n2026-12-01 15:03:00 new two\n"
    );
    ws.close();

    // No timestamp the server knows: 422 naming the formats.
    let plain = write(&dir, "plain.log", "no\ntimes\nhere\n");
    let (status, text) = s.ws_status(&format!("{}?since=-1h", url_path(&plain)), "");
    assert_eq!(status, 422, "{text}");
    assert!(
        text.contains("RFC 3339") && text.contains("syslog") && text.contains("common"),
        "{text}"
    );

    // A time not understood: 400 with the forms accepted.
    let (status, text) = s.ws_status(&format!("{}?since=yesterday", url_path(&f)), "");
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("-15m"), "{text}");
}

/// A larger file: the answer is the same as reading it line by line, for
/// T at many places (lines of random lengths, some longer than a block).
#[test]
fn a_large_file_agrees_with_reading_it_all() {
    let _w = watchdog(Duration::from_secs(120));
    let dir = TempDir::new("since-large");
    let s = serve(&dir);
    let mut content = String::new();
    let mut seed = 7u64;
    let mut stamps = Vec::new();
    for i in 0..3_000i64 {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let stamp = rfc3339(1_780_000_000 + i * 2);
        stamps.push((stamp.clone(), content.len()));
        let extra = match seed >> 58 {
            0 => "z".repeat(70_000),
            1..=12 => "  continuation\n  more".to_string(),
            _ => "x".repeat((seed >> 40) as usize % 200),
        };
        content.push_str(&format!("{stamp} line {i} {extra}\n"));
    }
    let f = write(&dir, "big.log", &content);
    for k in [1, 2, 777, 1500, 2345, 2999] {
        // T between two lines' times: the later line.
        let t = rfc3339(1_780_000_000 + k * 2 - 1);
        let got = since(&s, &f, &t);
        assert_eq!(got.len(), content.len() - stamps[k as usize].1, "T {t}");
        assert!(got.starts_with(&stamps[k as usize].0), "T {t}");
    }
}

/// A search that would read more than `--scan-limit` (a long stretch
/// without timestamps) starts at the last line it saw before T, and the
/// start frame says `"limit":true`; `since=` with `before=` is a 400.
#[test]
fn the_scan_limit_bounds_the_search() {
    let _w = watchdog(Duration::from_secs(120));
    let dir = TempDir::new("since-limit");
    let s = Server::rooted(dir.path(), &["--scan-limit", "128K"]);
    let mut content = "2026-12-01 14:00:00 first\n".to_string();
    content.push_str(&"  continuation without a time\n".repeat(20_000));
    content.push_str("2026-12-01 15:00:00 last\n");
    let f = write(&dir, "long.log", &content);
    let mut ws = s.ws(&f, "?format=text&meta=1&since=2026-12-01+14:30");
    match ws.next(T) {
        Got::Binary(b) => assert!(
            b.contains("\"offset\":0") && b.contains("\"limit\":true"),
            "{b}"
        ),
        other => panic!("expected the start frame, got {other:?}"),
    }
    assert_eq!(ws.text_to_close(T).0, content, "nothing after T is missed");
    let (status, text) = s.ws_status(&format!("{}?since=-1h&before=10", url_path(&f)), "");
    assert_eq!(status, 400, "{text}");
}

/// Empty lines between the two timestamped ones: each is a line for the
/// search to look at, so that the whole search takes seconds of CPU.
const STRETCH: usize = 256 << 20;

#[test]
fn the_search_runs_after_the_handshake_and_stops_when_the_client_leaves() {
    let _w = watchdog(Duration::from_secs(120));
    let dir = TempDir::new("since-leave");
    // One timestamped line, a long stretch of lines without one, and one
    // more: the search before T reads the whole stretch, line by line.
    let f = dir.join("stretch.log");
    let mut content = b"2026-12-01 14:00:00 first\n".to_vec();
    content.extend_from_slice(&b"\n".repeat(STRETCH));
    content.extend_from_slice(b"2026-12-01 15:00:00 last\n");
    std::fs::write(&f, &content).unwrap();
    drop(content);
    let s = Server::rooted(dir.path(), &[]);
    let query = format!("?format=text&meta=1&since={}", enc("2026-12-01 14:30"));
    // The whole search, for scale.
    let before = cpu_ticks(s.pid());
    let asked = std::time::Instant::now();
    let (text, code) = s.ws(&f, &query).text_to_close(Duration::from_secs(100));
    let whole = cpu_ticks(s.pid()) - before;
    eprintln!("whole search: {whole} ticks, {:?}", asked.elapsed());
    assert!(
        whole >= 50,
        "the search took {whole} ticks: too short for this test to tell a stop"
    );
    assert_eq!(
        (text.as_str(), code),
        ("2026-12-01 15:00:00 last\n", Some(1000))
    );
    // Asked again: the handshake is answered at once and progress frames
    // come while the search runs (before, the search ran before the 101).
    let mut ws = s.ws(&f, &query);
    match ws.next(Duration::from_secs(60)) {
        Got::Binary(b) => assert!(
            matches!(Meta::parse(b.as_bytes()), Some(Meta::Progress { .. })),
            "{b}"
        ),
        other => panic!("{other:?}"),
    }
    drop(ws);
    // Within a second of the client leaving, the server's CPU time stops
    // growing: the search was stopped, not run to its end.
    std::thread::sleep(Duration::from_secs(1));
    let settled = cpu_ticks(s.pid());
    std::thread::sleep(Duration::from_secs(2));
    let after = cpu_ticks(s.pid()) - settled;
    assert!(
        after <= 5,
        "{after} ticks of CPU 1-3 s after the client left (a whole search: {whole})"
    );
    assert!(s.wait_log(
        "closed by the client (during the since= search)",
        Duration::from_secs(5)
    ));
}
