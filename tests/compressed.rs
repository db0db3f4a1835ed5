//! Compressed and binary files: the WebSocket shows a gzip file's text
//! (not followed) and refuses xz, zstd and bzip2 with 415 naming the
//! compression (judged by its first bytes, not its name),
//! `?list` marks it `"compressed"`, `?download` serves its bytes as they
//! are; a file whose tail holds NUL bytes gets `{"event":"binary"}` first.
use crate::common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

const T: Duration = Duration::from_secs(10);

/// gzip of "hello\n" (as `gzip -n` writes it).
const GZIP: &[u8] = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xcb\x48\xcd\xc9\xc9\xe7\x02\x00\x20\x30\x3a\x36\x06\x00\x00\x00";

#[test]
fn compressed_files_are_refused_listed_and_downloadable() {
    let _w = watchdog(Duration::from_secs(120));
    let dir = TempDir::new("compressed");
    let s = Server::rooted(dir.path(), &[]);
    // The name says nothing: the first bytes do.
    let gz = dir.join("app.log.1");
    std::fs::write(&gz, GZIP).unwrap();
    let xz = dir.join("app.log.2.xz");
    std::fs::write(&xz, b"\xfd7zXZ\x00\x00\x04rest").unwrap();
    let plain = dir.join("app.log");
    std::fs::write(&plain, "text\n").unwrap();

    // gzip is shown as text, and not followed: tail=1 ends with 1000
    // after the last line.
    let mut ws = s.ws(&gz, "?tail=1&format=text");
    assert_eq!(ws.text_to_close(T), ("hello\n".to_string(), Some(1000)));
    let (status, text) = s.ws_status(&format!("{}?tail=1", url_path(&xz)), "");
    assert_eq!(status, 415, "{text}");
    assert!(text.contains("xz"), "{text}");
    assert!(s.wait_log(" 415 ", T), "the refusal is logged");

    let (status, list) = s.get("/?list");
    assert_eq!(status, 200);
    let entry = |name: &str| -> String {
        let at = list.find(&format!("/{name}\"")).expect(name);
        let end = at + list[at..].find('}').unwrap();
        list[at..end].to_string()
    };
    assert!(
        entry("app.log.1").contains("\"compressed\":\"gzip\""),
        "{list}"
    );
    assert!(
        entry("app.log.2.xz").contains("\"compressed\":\"xz\""),
        "{list}"
    );
    assert!(!entry("app.log").contains("compressed"), "{list}");

    // The download is the file's bytes, untouched.
    let mut c = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    c.set_read_timeout(Some(T)).unwrap();
    write!(
        c,
        "GET {}?download HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n",
        url_path(&gz),
        s.port
    )
    .unwrap();
    let mut answer = Vec::new();
    let _ = c.read_to_end(&mut answer);
    assert!(
        answer.starts_with(b"HTTP/1.1 200"),
        "{:?}",
        String::from_utf8_lossy(&answer)
    );
    assert!(answer.ends_with(GZIP), "the body is the gzip file as it is");
}

#[test]
fn a_binary_tail_is_announced_first() {
    let _w = watchdog(Duration::from_secs(120));
    let dir = TempDir::new("binary");
    let s = Server::rooted(dir.path(), &[]);
    let bin = dir.join("core.log");
    std::fs::write(&bin, b"text\n\x00\x01\x02 bytes\n").unwrap();
    let mut ws = s.ws(&bin, "?meta=1");
    assert_eq!(
        ws.next(T),
        Got::Binary("{\"event\":\"binary\"}".to_string())
    );
    match ws.next(T) {
        Got::Binary(b) => assert!(b.contains("\"offset\":0"), "{b}"),
        other => panic!("expected the start frame, got {other:?}"),
    }
    // Text files get no such event; without meta=1 no binary frame at all.
    let txt = dir.join("ok.log");
    std::fs::write(&txt, b"text\n").unwrap();
    let mut ws = s.ws(&txt, "?meta=1");
    match ws.next(T) {
        Got::Binary(b) => assert!(b.contains("\"offset\""), "{b}"),
        other => panic!("expected the start frame, got {other:?}"),
    }
    let mut ws = s.ws(&bin, "");
    assert!(matches!(ws.next(T), Got::Text(_)));
}
