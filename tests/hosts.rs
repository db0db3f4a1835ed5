//! The Host rule against DNS rebinding, through the real server: a page on
//! another site that rebinds its name to 127.0.0.1 sends that name in
//! `Host` (and a matching `Origin`); without a token only IP literals,
//! `localhost`, the machine's own name and `--allow-host` names are served.
use crate::common::*;
use std::time::Duration;

const WS: &str = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";

/// A root with one file, and a server on it with `args`.
fn setup(tag: &str, args: &[&str]) -> (TempDir, Server) {
    let dir = TempDir::new(tag);
    std::fs::write(dir.join("app.log"), "hello\n").unwrap();
    let s = Server::rooted(dir.path(), args);
    (dir, s)
}

/// Status of `GET target` with `Host: host` and a matching `Origin`, as a
/// rebinding page's request would carry, plus `extra` header lines.
fn status(s: &Server, target: &str, host: &str, extra: &str) -> (u16, String) {
    let host = host.replace("PORT", &s.port.to_string());
    s.http(&format!(
        "GET {target} HTTP/1.1\r\nHost: {host}\r\nOrigin: http://{host}\r\n{extra}\r\n"
    ))
}

/// The three routes that give log data: WebSocket, list, download.
fn routes(dir: &TempDir) -> [(String, &'static str); 3] {
    let f = url_path(&dir.join("app.log"));
    [
        (format!("{f}?lines=1"), WS),
        ("/?list".to_string(), ""),
        (format!("{f}?download"), ""),
    ]
}

#[test]
fn a_dns_name_is_refused_on_every_route() {
    let _w = watchdog(Duration::from_secs(60));
    let (dir, s) = setup("host-refused", &[]);
    for (target, extra) in routes(&dir) {
        let (code, body) = status(&s, &target, "rebind.attacker.example:PORT", extra);
        assert_eq!(code, 403, "{target}: {body}");
        assert!(
            body.contains("start it with --allow-host rebind.attacker.example"),
            "{target}: {body}"
        );
        assert!(!body.contains("hello"), "{body}");
    }
    assert_eq!(status(&s, "/", "rebind.attacker.example", "").0, 403);
}

#[test]
fn ip_literals_localhost_and_the_machines_name_are_accepted() {
    let _w = watchdog(Duration::from_secs(60));
    let (dir, s) = setup("host-ip", &[]);
    let own = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let own = format!("{}:PORT", own.trim());
    for host in [
        "127.0.0.1:PORT",
        "127.0.0.1",
        "[::1]:PORT",
        "[::1]",
        "localhost:PORT",
        "LOCALHOST:PORT",
        &own,
    ] {
        for (target, extra) in routes(&dir) {
            let (code, body) = status(&s, &target, host, extra);
            let want = if extra.is_empty() { 200 } else { 101 };
            assert_eq!(code, want, "{host} {target}: {body}");
        }
    }
}

#[test]
fn allow_host_admits_exactly_the_names_listed() {
    let _w = watchdog(Duration::from_secs(60));
    let (dir, s) = setup(
        "host-listed",
        &["--allow-host", "logs.example.org", "--allow-host", "Ops"],
    );
    for (host, want) in [
        ("logs.example.org", 200),
        ("logs.example.org:PORT", 200),
        ("LOGS.Example.org", 200),
        ("ops:PORT", 200),
        ("example.org", 403),
        ("xlogs.example.org", 403),
        ("logs.example.org.attacker.example", 403),
        ("ops.attacker.example", 403),
        ("rebind.attacker.example", 403),
    ] {
        let (code, body) = status(&s, "/?list", host, "");
        assert_eq!(code, want, "{host}: {body}");
    }
    let (target, extra) = &routes(&dir)[0];
    assert_eq!(status(&s, target, "logs.example.org", extra).0, 101);
}

#[test]
fn allow_host_star_admits_any_name() {
    let _w = watchdog(Duration::from_secs(60));
    let (dir, s) = setup("host-star", &["--allow-host", "*"]);
    for (target, extra) in routes(&dir) {
        let (code, body) = status(&s, &target, "rebind.attacker.example:PORT", extra);
        assert!(code == 200 || code == 101, "{target}: {body}");
    }
}

#[test]
fn with_a_token_any_name_is_accepted() {
    let _w = watchdog(Duration::from_secs(60));
    let (dir, s) = setup("host-token", &["--token", "s3cret"]);
    for (target, extra) in routes(&dir) {
        // Without the token: asked for it (401), not refused for the name.
        let (code, body) = status(&s, &target, "rebind.attacker.example:PORT", extra);
        assert_eq!(code, 401, "{target}: {body}");
        let with = format!("{target}&token=s3cret");
        let (code, body) = status(&s, &with, "rebind.attacker.example:PORT", extra);
        let want = if extra.is_empty() { 200 } else { 101 };
        assert_eq!(code, want, "{with}: {body}");
    }
}

#[test]
fn allow_host_values_are_checked() {
    for bad in [
        "logs.example.org:443",
        "https://logs.example.org",
        "",
        ".x",
        "a b",
    ] {
        let out = std::process::Command::new(BIN)
            .args(["serve", "--allow-host", bad])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            err.trim_end(),
            format!(
                "wstail: invalid value '{bad}' for '--allow-host': use a host name such as logs.example.org (no port or scheme), or '*'"
            ),
            "{bad}"
        );
    }
}
