//! Refusals (issue 22, points 6 and 7): every reason is escaped where it is
//! built, so that no byte a client chose reaches a body raw; every refusal
//! names its kind in `X-Wstail-Refusal`; a second Host, Origin,
//! Authorization or Sec-WebSocket-Key header is 400; and the checks run in
//! DESIGN.md's order (head 400/431, method 405, upgrade 426/400, query 400,
//! Host/Origin/token 403/401, then the path).
use crate::common::*;
use std::time::Duration;

/// A line feed, a forged line, "clear the screen", a bell, a C1 CSI and a
/// right-to-left override, percent-encoded.
const EVIL: &str = "1%0A2026-12-01T00:00:00Z%20forged%1B[2J%07%C2%9B31m%E2%80%AE";

fn body(text: &str) -> &str {
    text.split_once("\r\n\r\n").map_or("", |(_, b)| b)
}

/// The refusal's kind, from its header.
fn kind(text: &str) -> Option<&str> {
    text.split("\r\n")
        .take_while(|l| !l.is_empty())
        .find_map(|l| l.strip_prefix("X-Wstail-Refusal: "))
}

/// Fails when the body holds a control character (but its final line
/// feed), a bidi override or a line separator.
fn assert_body_clean(what: &str, text: &str) {
    let b = body(text);
    let b = b.strip_suffix('\n').unwrap_or(b);
    assert!(
        !b.chars().any(|c| c.is_control()
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}')),
        "{what}: a raw control byte reached the body: {b:?}"
    );
}

#[test]
fn client_bytes_in_every_echoed_value_reach_the_body_escaped() {
    let _w = watchdog(Duration::from_secs(120));
    let dir = TempDir::new("refuse");
    std::fs::write(dir.join("a.log"), "x\n").unwrap();
    let s = Server::rooted(dir.path(), &[]);
    let file = url_path(&dir.join("a.log"));
    for param in [
        "lines", "format", "tail", "meta", "list", "download", "inode", "from", "before", "tag",
        "born", "since",
    ] {
        let target = format!("{file}?{param}={EVIL}");
        for (how, (status, text)) in [
            ("http", s.get(&target)),
            ("websocket", s.ws_status(&target, "")),
        ] {
            assert_eq!(status, 400, "{how} {param}: {text}");
            assert_eq!(kind(&text), Some("bad-request"), "{how} {param}: {text}");
            assert_body_clean(&format!("{how} {param}"), &text);
            // The value is echoed, escaped, not dropped.
            if param != "since" {
                assert!(
                    body(&text).contains("\\x0a2026-12-01T00:00:00Z forged\\x1b[2J\\x07"),
                    "{how} {param}: {text}"
                );
            }
        }
    }
    // A Host header's UTF-8 (no ASCII control: the head parser admits it)
    // with a C1 CSI and a right-to-left override, echoed by the 403.
    let (status, text) = s.http(
        "GET / HTTP/1.1\r\nHost: evil\u{9b}31m\u{202e}gro.elpmaxe\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    );
    assert_eq!((status, kind(&text)), (403, Some("host")), "{text}");
    assert_body_clean("host", &text);
    assert!(
        body(&text).contains("evil\\xc2\\x9b31m\\xe2\\x80\\xaegro"),
        "{text}"
    );
}

#[test]
fn every_refusal_names_its_kind() {
    let _w = watchdog(Duration::from_secs(60));
    let dir = TempDir::new("kinds");
    std::fs::create_dir_all(dir.join("root/sub")).unwrap();
    std::fs::write(dir.join("root/a.log"), "x\n").unwrap();
    std::fs::write(dir.join("root/c.log.xz"), b"\xfd7zXZ\x00\x00\x04").unwrap();
    std::fs::write(dir.join("root/plain.log"), "no time here\n").unwrap();
    let root = url_path(&dir.join("root"));
    let s = Server::rooted(&dir.join("root"), &["--allow-host", "ok.example"]);
    let port = s.port;
    for (target, headers, want) in [
        ("/etc/passwd".to_string(), "", (403, "outside-roots")),
        (format!("{root}/nothere.log"), "", (404, "not-found")),
        (format!("{root}/sub"), "", (403, "not-regular")),
        (format!("{root}/a.log?inode=1"), "", (410, "gone")),
        (format!("{root}/c.log.xz"), "", (415, "compressed")),
        (
            format!("{root}/plain.log?since=2026-01-01"),
            "",
            (422, "no-timestamps"),
        ),
        (
            format!("{root}/a.log"),
            "Origin: http://elsewhere.example\r\n",
            (403, "origin"),
        ),
        (format!("{root}/a.log?lines=x"), "", (400, "bad-request")),
    ] {
        let (status, text) = s.ws_status(&target, headers);
        assert_eq!(
            (status, kind(&text)),
            (want.0, Some(want.1)),
            "{target}: {text}"
        );
    }
    let unknown_host = format!(
        "GET / HTTP/1.1\r\nHost: rebind.example:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    );
    let (status, text) = s.http(&unknown_host);
    assert_eq!((status, kind(&text)), (403, Some("host")), "{text}");
    let (status, text) = s.http(&format!(
        "POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"
    ));
    assert_eq!((status, kind(&text)), (405, Some("method")), "{text}");
    let (status, text) = s.http(&format!(
        "GET {root}/a.log HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 8\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    ));
    assert_eq!((status, kind(&text)), (426, Some("version")), "{text}");
    let t = TempDir::new("kindt");
    std::fs::write(t.join("a.log"), "x\n").unwrap();
    let st = Server::rooted(t.path(), &["--token", "s3cret"]);
    let (status, text) = st.ws_status(&url_path(&t.join("a.log")), "");
    assert_eq!((status, kind(&text)), (401, Some("token")), "{text}");
}

#[test]
fn a_second_host_origin_authorization_or_key_header_is_400() {
    let _w = watchdog(Duration::from_secs(60));
    let dir = TempDir::new("dup");
    std::fs::write(dir.join("a.log"), "x\n").unwrap();
    let s = Server::rooted(dir.path(), &["--token", "s3cret"]);
    let port = s.port;
    let file = url_path(&dir.join("a.log"));
    let good = format!(
        "Host: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nAuthorization: Bearer s3cret\r\n"
    );
    // The request as it is: served.
    let (status, text) = s.http(&format!("GET {file} HTTP/1.1\r\n{good}\r\n"));
    assert_eq!(status, 101, "{text}");
    for second in [
        format!("Host: 127.0.0.1:{port}"),
        "host: rebind.example".to_string(),
        format!("Origin: http://127.0.0.1:{port}\r\nOrigin: http://127.0.0.1:{port}"),
        "Authorization: Bearer s3cret".to_string(),
        "Authorization: Bearer wrong".to_string(),
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==".to_string(),
    ] {
        let (status, text) = s.http(&format!("GET {file} HTTP/1.1\r\n{good}{second}\r\n\r\n"));
        assert_eq!(
            (status, kind(&text)),
            (400, Some("bad-request")),
            "{second}: {text}"
        );
    }
    // Plain HTTP too (the page).
    let (status, _) = s.http(&format!(
        "GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nHost: 127.0.0.1:{port}\r\n\r\n"
    ));
    assert_eq!(status, 400);
}

#[test]
fn the_checks_run_in_the_designs_order() {
    let _w = watchdog(Duration::from_secs(60));
    let dir = TempDir::new("order");
    std::fs::write(dir.join("a.log"), "x\n").unwrap();
    let s = Server::rooted(dir.path(), &["--token", "s3cret"]);
    let file = url_path(&dir.join("a.log"));
    let upgrade = "Upgrade: websocket\r\nConnection: Upgrade\r\n";
    let v13 = "Sec-WebSocket-Version: 13\r\n";
    let key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    let bad_host = "Host: rebind.example\r\n";
    let bad_origin = "Origin: http://elsewhere.example\r\n";
    let port = s.port;
    let host = format!("Host: 127.0.0.1:{port}\r\n");
    for (what, request, want) in [
        (
            "no key, unknown Host",
            format!("GET {file}?token=s3cret HTTP/1.1\r\n{bad_host}{upgrade}{v13}\r\n"),
            400,
        ),
        (
            "a bad key, a foreign Origin, no token",
            format!(
                "GET {file} HTTP/1.1\r\n{host}{bad_origin}{upgrade}{v13}Sec-WebSocket-Key: short==\r\n\r\n"
            ),
            400,
        ),
        (
            "version 8, a malformed query, unknown Host",
            format!(
                "GET {file}?lines=x HTTP/1.1\r\n{bad_host}{upgrade}Sec-WebSocket-Version: 8\r\n{key}\r\n"
            ),
            426,
        ),
        (
            "POST with no key",
            format!("POST {file} HTTP/1.1\r\n{bad_host}{upgrade}{v13}\r\n"),
            405,
        ),
        (
            "a malformed query from an unknown Host without the token",
            format!("GET {file}?lines=x HTTP/1.1\r\n{bad_host}{upgrade}{v13}{key}\r\n"),
            400,
        ),
        (
            "unknown Host without the token",
            format!("GET {file} HTTP/1.1\r\n{bad_host}{upgrade}{v13}{key}\r\n"),
            // With --token any Host is admitted (a rebinding page cannot
            // know the token): the token decides.
            401,
        ),
        (
            "a foreign Origin without the token",
            format!("GET {file} HTTP/1.1\r\n{host}{bad_origin}{upgrade}{v13}{key}\r\n"),
            403,
        ),
        (
            "no token, a path outside the roots",
            format!("GET /etc/passwd HTTP/1.1\r\n{host}{upgrade}{v13}{key}\r\n"),
            401,
        ),
    ] {
        let (status, text) = s.http(&request);
        assert_eq!(status, want, "{what}: {text}");
    }
    // Without a token, Host is checked before the path.
    let t = Server::rooted(dir.path(), &[]);
    let (status, text) = t.http(&format!(
        "GET /etc/passwd HTTP/1.1\r\n{bad_host}{upgrade}{v13}{key}\r\n"
    ));
    assert_eq!((status, kind(&text)), (403, Some("host")), "{text}");
}
