//! Plain HTTP on the same port: the page (at `/` and at a file's path, with
//! the base path filled in and a strict CSP), `?list`, `?download` with
//! `Range`, HEAD, and 405 for other methods.
use crate::common::*;

fn setup(extra: &[&str]) -> (TempDir, Server) {
    let dir = TempDir::new("http");
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::write(dir.join("a.log"), "0123456789").unwrap();
    std::fs::write(dir.join("sub/q\"uote.log"), "x").unwrap();
    let s = Server::rooted(dir.path(), extra);
    (dir, s)
}

fn body(text: &str) -> &str {
    text.split_once("\r\n\r\n").map_or("", |(_, b)| b)
}

#[test]
fn the_page_everywhere_with_the_base_path() {
    let (dir, s) = setup(&["--base-path", "/logs/"]);
    for (target, want) in [
        ("/".to_string(), 200),
        (url_path(&dir.join("a.log")), 200),
        // The status is the WebSocket request's (tests/http_details.rs).
        ("/no/such/file".to_string(), 403),
    ] {
        let (status, text) = s.get(&target);
        assert_eq!(status, want, "{target}");
        assert!(text.contains("Content-Type: text/html; charset=utf-8"));
        assert!(text.contains("Content-Security-Policy: default-src 'none'"));
        assert!(!text.contains("__WSTAIL_BASE__"), "base path substituted");
        assert!(text.contains("\"/logs\""), "the page carries the base path");
        assert!(!text.contains("0123456789"), "the page holds no log data");
    }
    assert_eq!(s.get("/favicon.ico").0, 404);
}

#[test]
fn list_is_json_of_files_under_the_roots() {
    let (dir, s) = setup(&[]);
    let (status, text) = s.get("/?list");
    assert_eq!(status, 200);
    assert!(text.contains("Content-Type: application/json"));
    let d = dir.path().to_str().unwrap();
    let b = body(&text);
    assert!(b.starts_with('[') && b.ends_with(']'), "{b}");
    assert!(
        b.contains(&format!(
            "{{\"path\":\"{d}/a.log\",\"size\":10,\"modified\":"
        )),
        "{b}"
    );
    assert!(
        b.contains(&format!("\"path\":\"{d}/sub/q\\\"uote.log\"")),
        "{b}"
    );
    assert_eq!(s.get("/some/dir?list").0, 400);
}

#[test]
fn download_with_ranges() {
    let (dir, s) = setup(&[]);
    let p = url_path(&dir.join("a.log"));
    let (status, text) = s.get(&format!("{p}?download"));
    assert_eq!(status, 200);
    assert!(text.contains("Content-Disposition: attachment; filename=\"a.log\""));
    assert!(text.contains("Accept-Ranges: bytes"));
    assert_eq!(body(&text), "0123456789");
    let range = |r: &str| {
        s.http(&format!(
            "GET {p}?download HTTP/1.1\r\nHost: localhost\r\nRange: {r}\r\n\r\n"
        ))
    };
    let (status, text) = range("bytes=2-4");
    assert_eq!(status, 206);
    assert!(text.contains("Content-Range: bytes 2-4/10"));
    assert_eq!(body(&text), "234");
    assert_eq!(body(&range("bytes=-3").1), "789");
    assert_eq!(body(&range("bytes=7-").1), "789");
    let (status, text) = range("bytes=10-");
    assert_eq!(status, 416);
    assert!(text.contains("Content-Range: bytes */10"));
    let (status, text) = s.http(&format!(
        "HEAD {p}?download HTTP/1.1\r\nHost: localhost\r\n\r\n"
    ));
    assert_eq!(status, 200);
    assert!(text.contains("Content-Length: 10") && body(&text).is_empty());
}

#[test]
fn other_methods_get_405() {
    let (_dir, s) = setup(&[]);
    for m in ["POST", "PUT", "DELETE", "OPTIONS"] {
        let (status, text) = s.http(&format!(
            "{m} / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n"
        ));
        assert_eq!(status, 405, "{m}");
        assert!(text.contains("Allow: GET, HEAD"));
    }
    // A WebSocket upgrade must be a GET.
    let (status, _) = s.http(
        "HEAD / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
    );
    assert_eq!(status, 405);
    let (status, _) = s.http("GARBAGE\r\n\r\n");
    assert_eq!(status, 400);
}

#[test]
fn the_page_assets_are_served_at_the_root_with_their_types() {
    let (dir, s) = setup(&["--base-path", "/logs/"]);
    for (name, ctype) in [
        ("main.js", "text/javascript; charset=utf-8"),
        ("util.js", "text/javascript; charset=utf-8"),
        ("style.css", "text/css; charset=utf-8"),
    ] {
        let (status, text) = s.get(&format!("/?asset={name}"));
        assert_eq!(status, 200, "{name}");
        assert!(
            text.contains(&format!("Content-Type: {ctype}\r\n")),
            "{text}"
        );
        assert!(text.contains("\r\nETag: \""), "{text}");
        assert!(text.contains("Cache-Control: no-cache\r\n"), "{text}");
    }
    assert_eq!(s.get("/?asset=index.html").0, 404);
    assert_eq!(s.get("/?asset=../../etc/passwd").0, 404);
    assert_eq!(
        s.get(&format!("{}?asset=main.js", url_path(&dir.join("a.log"))))
            .0,
        400
    );
    let (_, page) = s.get("/");
    assert!(page.contains("src=\"/logs/?asset=main.js\""), "{page}");
    assert!(
        page.contains("script-src 'self'; style-src 'self';"),
        "{page}"
    );
}
