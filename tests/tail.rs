//! The initial tail and the shape of messages: the last N lines (found from
//! the end of the file), `lines=` bounds, files without a final newline,
//! empty files, long lines, CRLF, `format=text` / `format=html`, and the
//! rule that messages never split a character or an escape sequence.
use crate::common::*;
use std::time::Duration;

const T: Duration = Duration::from_secs(10);

fn serve(dir: &TempDir, extra: &[&str]) -> Server {
    let mut args = vec!["--interval", "0.1"];
    args.extend_from_slice(extra);
    Server::rooted(dir.path(), &args)
}

fn numbered(n: usize) -> String {
    (1..=n).map(|i| format!("line {i}\n")).collect()
}

#[test]
fn last_lines_and_bounds() {
    let _w = watchdog(Duration::from_secs(120));
    let dir = TempDir::new("tail");
    let f = dir.join("n.log");
    std::fs::write(&f, numbered(50)).unwrap();
    let s = serve(&dir, &["--lines", "5", "--max-lines", "20"]);
    let get = |q: &str| s.ws(&f, q).text_to_close(T).0;
    assert_eq!(get("?format=text&lines=3"), "line 48\nline 49\nline 50\n");
    assert_eq!(
        get("?format=text"),
        numbered(50)
            .split_inclusive('\n')
            .skip(45)
            .collect::<String>(),
        "default --lines"
    );
    assert_eq!(
        get("?format=text&lines=1000").lines().count(),
        20,
        "lines= is capped by --max-lines, not refused"
    );
    assert_eq!(get("?format=text&lines=0"), "");
}

#[test]
fn edge_files() {
    let _w = watchdog(Duration::from_secs(120));
    let dir = TempDir::new("tail-edges");
    let s = serve(&dir, &[]);
    let case = |name: &str, content: &[u8], q: &str| -> String {
        let f = dir.join(name);
        std::fs::write(&f, content).unwrap();
        s.ws(&f, q).text_to_close(T).0
    };
    assert_eq!(
        case("noeol.log", b"a\nb\nc", "?format=text&lines=2"),
        "b\nc",
        "an unterminated last line counts"
    );
    assert_eq!(case("empty.log", b"", "?format=text&lines=10"), "");
    assert_eq!(
        case("crlf.log", b"a\r\nb\r\nc\r\n", "?format=text&lines=2"),
        "b\r\nc\r\n"
    );
    assert_eq!(
        case("crlf2.log", b"a\r\nb\r\nc\r\n", "?format=html&lines=2"),
        "b\nc\n",
        "HTML drops the CR"
    );
    let long = "y".repeat(200_000) + "\nshort\n";
    let got = case("long.log", long.as_bytes(), "?format=text&lines=2");
    assert_eq!(got, long, "a line longer than the read block");
    assert_eq!(
        case("long2.log", long.as_bytes(), "?format=text&lines=1"),
        "short\n"
    );
    assert_eq!(
        case("bad.log", b"ok \xff\xfe end\n", "?format=text"),
        "ok \u{fffd}\u{fffd} end\n"
    );
}

#[test]
fn messages_are_bounded_and_concatenate_to_the_file() {
    let _w = watchdog(Duration::from_secs(120));
    let dir = TempDir::new("tail-msgs");
    let f = dir.join("big.log");
    let content: String = (0..30_000)
        .map(|i| format!("{i:08} \x1b[32mgreen\x1b[0m é日 {}\n", "z".repeat(i % 50)))
        .collect();
    std::fs::write(&f, &content).unwrap();
    let s = serve(&dir, &["--max-lines", "100000"]);
    let mut ws = s.ws(&f, "?format=text&lines=100000");
    let mut all = String::new();
    let mut count = 0;
    loop {
        match ws.next(T) {
            Got::Text(t) => {
                assert!(
                    t.len() <= 64 * 1024,
                    "a message carries at most 64 KiB: {}",
                    t.len()
                );
                assert!(t.ends_with('\n'), "whole lines");
                all.push_str(&t);
                count += 1;
            }
            Got::Closed(code) => {
                assert_eq!(code, Some(1000));
                break;
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(count > 10, "{count} messages");
    assert_eq!(all, content);
}

#[test]
fn html_escapes_and_colours() {
    let _w = watchdog(Duration::from_secs(60));
    let dir = TempDir::new("tail-html");
    let f = dir.join("c.log");
    std::fs::write(&f, "<img src=x onerror=\"alert(1)\"> & 'q'\n\x1b[1;31mbold red\x1b[0m \x1b[2Jcleared \x1b]0;title\x07x\n").unwrap();
    let s = serve(&dir, &[]);
    let (html, _) = s.ws(&f, "?lines=2").text_to_close(T);
    assert_eq!(
        html,
        "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; &#39;q&#39;\n<span style=\"color:#cd0000;font-weight:bold\">bold red</span> cleared x\n"
    );
}

/// Writes `parts` with a pause between them; the follower must never see a
/// message that ends inside a character or an escape sequence.
#[test]
fn never_splits_a_character_or_an_escape_sequence() {
    let _w = watchdog(Duration::from_secs(60));
    let dir = TempDir::new("tail-split");
    let f = dir.join("s.log");
    std::fs::write(&f, "").unwrap();
    let s = serve(&dir, &[]);
    let mut text = s.ws(&f, "?format=text&tail=1&lines=0");
    let mut html = s.ws(&f, "?format=html&tail=1&lines=0");
    std::thread::sleep(Duration::from_millis(300));
    let parts: [&[u8]; 6] = [
        b"caf\xc3",
        b"\xa9 \xe6\x97",
        b"\xa5 \x1b[3",
        b"1mred\x1b",
        b"[0m done",
        b"\n",
    ];
    for p in parts {
        append(&f, p);
        std::thread::sleep(Duration::from_millis(350));
    }
    let t = text.text_until(T, |all| all.ends_with('\n'));
    assert_eq!(t, "café 日 \x1b[31mred\x1b[0m done\n");
    let h = html.text_until(T, |all| all.ends_with('\n'));
    assert_eq!(h, "café 日 <span style=\"color:#cd0000\">red</span> done\n");
    assert!(!t.contains('\u{fffd}'));
}

#[test]
fn a_partial_line_waits_for_its_newline_or_one_idle_interval() {
    let _w = watchdog(Duration::from_secs(60));
    let dir = TempDir::new("tail-partial");
    let f = dir.join("p.log");
    std::fs::write(&f, "").unwrap();
    let s = Server::rooted(dir.path(), &["--interval", "1"]);
    let mut ws = s.ws(&f, "?format=text&tail=1&lines=0");
    std::thread::sleep(Duration::from_millis(200));
    append(&f, b"first line\nhalf");
    // The whole line comes at once; the half line is held back.
    assert_eq!(
        ws.next(Duration::from_secs(3)),
        Got::Text("first line\n".into())
    );
    append(&f, b" more");
    std::thread::sleep(Duration::from_millis(300));
    append(&f, b"\n");
    assert_eq!(
        ws.next(Duration::from_secs(3)),
        Got::Text("half more\n".into()),
        "joined: the file never went idle for an interval"
    );
    append(&f, b"prompt> ");
    // After one idle interval the partial line goes out.
    assert_eq!(
        ws.next(Duration::from_secs(5)),
        Got::Text("prompt> ".into())
    );
}

#[test]
fn follow_concatenates_to_exactly_the_file() {
    let _w = watchdog(Duration::from_secs(120));
    let dir = TempDir::new("tail-exact");
    let f = dir.join("w.log");
    std::fs::write(&f, "before 1\nbefore 2\n").unwrap();
    let s = serve(&dir, &["--interval", "0.05"]);
    let mut ws = s.ws(&f, "?format=text&tail=1&lines=1");
    let writer = {
        let f = f.clone();
        std::thread::spawn(move || {
            let mut expected = String::new();
            for i in 0..5000 {
                let chunk = format!("w {i} {}\n", "é".repeat(i % 7));
                // Write some lines in two pieces to split them across reads.
                let (a, b) = chunk.as_bytes().split_at(chunk.len() / 2);
                append(&f, a);
                append(&f, b);
                expected.push_str(&chunk);
            }
            expected
        })
    };
    let expected = "before 2\n".to_string() + &writer.join().unwrap();
    let got = ws.text_until(Duration::from_secs(30), |all| all.len() >= expected.len());
    assert_eq!(got, expected);
}
