//! `wstail tail --merge` end to end against two real servers (two
//! `wstail serve` processes on free ports): the initial lines of both files
//! in timestamp order (`-n`: the last N of the merged sequence; `--since`),
//! ties in URL order, continuation lines after their line, the appends of
//! a followed merge, each source resuming on its own with `--retry`, and a
//! source that is not there yet not holding back the other.
use crate::client::{Tail, run};
use crate::common::*;

use std::path::PathBuf;
use std::time::Duration;

/// An application log: ISO 8601 with a zone, a traceback.
const APP: &str = "\
2026-12-01T10:00:01Z a1
2026-12-01T10:00:03Z a3 ERROR
Traceback (most recent call last):
  File \"x.py\", line 1
2026-12-01T10:00:05Z a5
2026-12-01T10:00:06Z a6
";

/// An nginx access log (common log format, one line in another zone) and
/// an error-log line (zone-less: taken as UTC).
const WEB: &str = "\
127.0.0.1 - - [01/Dec/2026:10:00:02 +0000] \"GET /b2 HTTP/1.1\" 200 5
127.0.0.1 - - [01/Dec/2026:10:00:03 +0000] \"GET /b3 HTTP/1.1\" 200 5
2026/12/01 10:00:04 [error] 1#1: b4
127.0.0.1 - - [01/Dec/2026:11:00:06 +0100] \"GET /b6 HTTP/1.1\" 200 5
";

/// Two servers, each serving one directory with one file.
struct Two {
    _dirs: (TempDir, TempDir),
    files: (PathBuf, PathBuf),
    servers: (Option<Server>, Option<Server>),
    listen_b: String,
    root_b: String,
}

impl Two {
    fn new(tag: &str, a: &str, b: Option<&str>) -> Two {
        let (da, db) = (
            TempDir::new(&format!("{tag}-a")),
            TempDir::new(&format!("{tag}-b")),
        );
        let (fa, fb) = (da.join("app.log"), db.join("access.log"));
        std::fs::write(&fa, a).unwrap();
        if let Some(b) = b {
            std::fs::write(&fb, b).unwrap();
        }
        let sa = Server::rooted(da.path(), &["--interval", "0.05"]);
        let sb = Server::rooted(db.path(), &["--interval", "0.05"]);
        let listen_b = format!("127.0.0.1:{}", sb.port);
        let root_b = db.path().to_str().unwrap().to_string();
        Two {
            _dirs: (da, db),
            files: (fa, fb),
            servers: (Some(sa), Some(sb)),
            listen_b,
            root_b,
        }
    }

    fn urls(&self) -> (String, String) {
        let (sa, sb) = (self.servers.0.as_ref(), self.servers.1.as_ref());
        let a = sa.unwrap().ws_url(&self.files.0, "");
        let b = format!("ws://{}{}", self.listen_b, url_path(&self.files.1));
        assert!(sb.is_none() || sb.unwrap().ws_url(&self.files.1, "") == b);
        (a, b)
    }

    /// Each line of `text` with the URL's prefix (`HOST:PORT/PATH:`).
    fn prefixed(url: &str, text: &str) -> String {
        let prefix = format!("{}:", url.trim_start_matches("ws://"));
        text.lines().map(|l| format!("{prefix}{l}\n")).collect()
    }

    /// The server of B again, on the same port.
    fn restart_b(&mut self) {
        self.servers.1 = Some(Server::start_on(
            &self.listen_b,
            &["--root", &self.root_b, "--interval", "0.05"],
        ));
    }
}

/// The lines `wanted` of a (`A`) and b (`B`), in this order, prefixed.
fn expect(a: &str, b: &str, wanted: &[(char, &str)]) -> String {
    wanted
        .iter()
        .map(|&(which, line)| {
            let url = if which == 'A' { a } else { b };
            Two::prefixed(url, line)
        })
        .collect()
}

#[test]
fn initial_lines_of_two_servers_in_timestamp_order() {
    let _w = watchdog(Duration::from_secs(90));
    let two = Two::new("cm-initial", APP, Some(WEB));
    let (a, b) = two.urls();
    let all: &[(char, &str)] = &[
        ('A', "2026-12-01T10:00:01Z a1"),
        (
            'B',
            "127.0.0.1 - - [01/Dec/2026:10:00:02 +0000] \"GET /b2 HTTP/1.1\" 200 5",
        ),
        ('A', "2026-12-01T10:00:03Z a3 ERROR"),
        ('A', "Traceback (most recent call last):"),
        ('A', "  File \"x.py\", line 1"),
        (
            'B',
            "127.0.0.1 - - [01/Dec/2026:10:00:03 +0000] \"GET /b3 HTTP/1.1\" 200 5",
        ),
        ('B', "2026/12/01 10:00:04 [error] 1#1: b4"),
        ('A', "2026-12-01T10:00:05Z a5"),
        ('A', "2026-12-01T10:00:06Z a6"),
        (
            'B',
            "127.0.0.1 - - [01/Dec/2026:11:00:06 +0100] \"GET /b6 HTTP/1.1\" 200 5",
        ),
    ];
    let (code, out, err) = run(&["--merge", "-n", "100", &a, &b]);
    assert_eq!((code, err.as_str()), (0, ""));
    assert_eq!(out, expect(&a, &b, all));
    // -n: the last N of the merged sequence, not N of each.
    let (code, out, _) = run(&["--merge", "-n", "5", &a, &b]);
    assert_eq!((code, out), (0, expect(&a, &b, &all[5..])));
    let (_, out, _) = run(&["--merge", "-n", "1", &a, &b]);
    assert_eq!(out, expect(&a, &b, &all[9..]));
    // The other URL order: equal times the other way round (b3 before
    // a3's traceback, b6 before a6).
    let (_, out, _) = run(&["--merge", "-n", "3", &b, &a]);
    assert_eq!(
        out,
        expect(&a, &b, &[all[7], all[9], all[8]]),
        "URL order decides ties"
    );
    let (_, out, _) = run(&["--merge", "-n", "100", &b, &a]);
    let want: Vec<(char, &str)> = vec![
        all[0], all[1], all[5], all[2], all[3], all[4], all[6], all[7], all[9], all[8],
    ];
    assert_eq!(out, expect(&a, &b, &want));
    // --since: from the first line at or after T in each, merged.
    let (code, out, _) = run(&["--merge", "--since", "2026-12-01T10:00:03Z", &a, &b]);
    assert_eq!((code, out), (0, expect(&a, &b, &all[2..])));
}

#[test]
fn a_followed_merge_prints_appends_as_they_come() {
    let _w = watchdog(Duration::from_secs(90));
    let two = Two::new("cm-follow", APP, Some(WEB));
    let (a, b) = two.urls();
    let (fa, fb) = (&two.files.0, &two.files.1);
    let t = Tail::spawn(&["-f", "--merge", "-n", "2", &a, &b]);
    let mut want = expect(
        &a,
        &b,
        &[
            ('A', "2026-12-01T10:00:06Z a6"),
            (
                'B',
                "127.0.0.1 - - [01/Dec/2026:11:00:06 +0100] \"GET /b6 HTTP/1.1\" 200 5",
            ),
        ],
    );
    let expect_out = |want: &str| {
        assert!(
            t.wait_out(Duration::from_secs(20), |o| o == want),
            "got {:?}\nwant {want:?}\nerr {}",
            t.out(),
            t.err()
        );
    };
    expect_out(&want);
    append(fb, b"2026/12/01 10:00:07 [error] 1#1: b7\n");
    want += &expect(&a, &b, &[('B', "2026/12/01 10:00:07 [error] 1#1: b7")]);
    expect_out(&want);
    // A line in two writes comes out whole; its traceback after it.
    append(fa, b"2026-12-01T10:00:08Z a8 ");
    std::thread::sleep(Duration::from_millis(300));
    append(fa, b"ERROR\nTraceback:\n  boom\n");
    want += &expect(
        &a,
        &b,
        &[
            ('A', "2026-12-01T10:00:08Z a8 ERROR"),
            ('A', "Traceback:"),
            ('A', "  boom"),
        ],
    );
    expect_out(&want);
    // A line stamped before what was printed is printed when it comes:
    // what was printed is never reordered.
    append(fb, b"2026/12/01 10:00:05 [error] 1#1: late b5\n");
    want += &expect(&a, &b, &[('B', "2026/12/01 10:00:05 [error] 1#1: late b5")]);
    expect_out(&want);
    assert_eq!(t.err(), "");
}

#[test]
fn with_retry_each_source_resumes_on_its_own() {
    let _w = watchdog(Duration::from_secs(120));
    let mut two = Two::new("cm-retry", APP, Some(WEB));
    let (a, b) = two.urls();
    let (fa, fb) = (two.files.0.clone(), two.files.1.clone());
    let t = Tail::spawn(&["-f", "--retry", "--merge", "-n", "1", &a, &b]);
    let b6 = "127.0.0.1 - - [01/Dec/2026:11:00:06 +0100] \"GET /b6 HTTP/1.1\" 200 5";
    let mut want = expect(&a, &b, &[('B', b6)]);
    let expect_out = |want: &str| {
        assert!(
            t.wait_out(Duration::from_secs(30), |o| o == want),
            "got {:?}\nwant {want:?}\nerr {}",
            t.out(),
            t.err()
        );
    };
    expect_out(&want);
    // B's server goes away; lines are written to both files meanwhile.
    two.servers.1 = None;
    assert!(wait_until(Duration::from_secs(20), || t
        .err()
        .contains("connection lost")));
    append(&fb, b"2026/12/01 10:00:07 [error] 1#1: b7 while away\n");
    append(&fa, b"2026-12-01T10:00:08Z a8\n");
    // A goes on without B.
    want += &expect(&a, &b, &[('A', "2026-12-01T10:00:08Z a8")]);
    expect_out(&want);
    two.restart_b();
    want += &expect(
        &a,
        &b,
        &[('B', "2026/12/01 10:00:07 [error] 1#1: b7 while away")],
    );
    expect_out(&want);
    append(&fa, b"2026-12-01T10:00:09Z a9\n");
    want += &expect(&a, &b, &[('A', "2026-12-01T10:00:09Z a9")]);
    expect_out(&want);
    assert!(
        t.err().contains("reconnected; resuming at byte"),
        "{}",
        t.err()
    );
    assert!(
        !t.err().contains(&a),
        "A never lost its connection: {}",
        t.err()
    );
}

#[test]
fn a_source_not_there_yet_does_not_hold_back_the_other() {
    let _w = watchdog(Duration::from_secs(90));
    let two = Two::new("cm-late", APP, None);
    let (a, b) = two.urls();
    let t = Tail::spawn(&["-f", "--retry", "--merge", "-n", "1", &a, &b]);
    let mut want = expect(&a, &b, &[('A', "2026-12-01T10:00:06Z a6")]);
    assert!(
        t.wait_out(Duration::from_secs(20), |o| o == want),
        "{:?} {}",
        t.out(),
        t.err()
    );
    assert!(
        wait_until(Duration::from_secs(10), || t
            .err()
            .contains("404 Not Found")
            && t.err().contains("retrying in")),
        "{}",
        t.err()
    );
    std::fs::write(&two.files.1, WEB).unwrap();
    want += &expect(
        &a,
        &b,
        &[(
            'B',
            "127.0.0.1 - - [01/Dec/2026:11:00:06 +0100] \"GET /b6 HTTP/1.1\" 200 5",
        )],
    );
    assert!(
        t.wait_out(Duration::from_secs(30), |o| o == want),
        "{:?} {}",
        t.out(),
        t.err()
    );
}

#[test]
fn without_retry_a_refused_source_fails_the_run_after_the_others() {
    let _w = watchdog(Duration::from_secs(60));
    let two = Two::new("cm-refused", APP, None);
    let (a, b) = two.urls();
    let (code, out, err) = run(&["--merge", "-n", "2", &a, &b]);
    assert_eq!(code, 1);
    assert_eq!(
        out,
        expect(
            &a,
            &b,
            &[
                ('A', "2026-12-01T10:00:05Z a5"),
                ('A', "2026-12-01T10:00:06Z a6")
            ]
        )
    );
    assert!(
        err.starts_with(&format!("wstail: {b}: 404 Not Found")),
        "{err}"
    );
    // One server, two files: the prefix is the path alone, as grep's.
    let s = two.servers.0.as_ref().unwrap();
    let other = two.files.0.with_file_name("other.log");
    std::fs::write(&other, "2026-12-01T10:00:05.5Z o\n").unwrap();
    let (code, out, _) = run(&["--merge", "-n", "2", &a, &s.ws_url(&other, "")]);
    assert_eq!(code, 0);
    assert_eq!(
        out,
        format!(
            "{}:2026-12-01T10:00:05.5Z o\n{}:2026-12-01T10:00:06Z a6\n",
            other.display(),
            two.files.0.display()
        )
    );
}

/// A source appended to without a pause is printed as it comes, not held
/// until it pauses; `| head` ends a merge quietly with status 0.
#[test]
fn a_steady_stream_is_printed_while_it_flows_and_a_closed_pipe_ends_it() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let _w = watchdog(Duration::from_secs(90));
    let two = Two::new("cm-steady", APP, Some(WEB));
    let (a, b) = two.urls();
    let t = Tail::spawn(&["-f", "--merge", "-n", "0", &a, &b]);
    std::thread::sleep(Duration::from_millis(500));
    let started = std::time::Instant::now();
    let mut i = 0;
    while t.out().is_empty() && started.elapsed() < Duration::from_secs(20) {
        append(
            &two.files.0,
            format!("2026-12-01T11:00:00Z steady {i}\n").as_bytes(),
        );
        i += 1;
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(
        t.out().contains("steady 0\n"),
        "nothing printed while the file grew: {}",
        t.err()
    );
    drop(t);

    // Many lines, read three, close the pipe.
    let many: String = (0..20_000)
        .map(|i| {
            format!(
                "2026-12-01T12:{:02}:{:02}Z many {i}\n",
                i / 600 % 60,
                i / 10 % 60
            )
        })
        .collect();
    std::fs::write(&two.files.0, &many).unwrap();
    let mut child = Command::new(BIN)
        .args(["tail", "--merge", "-n", "20000", &a, &b])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut got = Vec::new();
    let mut byte = [0u8; 1];
    while got.iter().filter(|&&b| b == b'\n').count() < 3 {
        assert_eq!(stdout.read(&mut byte).unwrap(), 1);
        got.push(byte[0]);
    }
    drop(stdout);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        assert!(std::time::Instant::now() < deadline, "did not exit");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0));
}
