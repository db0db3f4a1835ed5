//! Who may ask at all: the Host rule against DNS rebinding, the browser
//! origin rule against cross-site WebSocket hijacking, and the token rule
//! (with its constant-time compare), decided by `authorize` from an
//! `AccessPolicy` that the checked configuration holds (so that this file
//! needs nothing of `cli/`). Origins, as the browser sends them and as
//! `--allow-origin` names them, are read by `url`. Each rule is a small
//! function with a table-driven test.

use std::net::{Ipv4Addr, Ipv6Addr};

use url::Url;

use crate::serve::http::Request;
use crate::wire::query::Query;
use crate::wire::refusal::{Kind, Refusal};

/// Who may ask: the token, the origins and host names admitted, and the
/// machine's own name.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessPolicy {
    pub token: Option<String>,
    /// `--allow-origin`.
    pub origins: Origins,
    /// `--allow-host`.
    pub hosts: Hosts,
    /// The machine's host name as the kernel has it, read once at start.
    pub hostname: Option<String>,
}

/// Browser origins allowed besides the server's own (`--allow-origin`).
#[derive(Debug, Clone, PartialEq)]
pub enum Origins {
    Any,
    List(Vec<String>),
}

/// DNS names accepted in the `Host` header besides IP literals, `localhost`
/// and the machine's own name (`--allow-host`), lower-cased.
#[derive(Debug, Clone, PartialEq)]
pub enum Hosts {
    Any,
    List(Vec<String>),
}

/// `scheme://host[:port]` → `scheme://host:port`, lower-cased, with the
/// scheme's default port made explicit, as `url` reads it (WHATWG URL: what
/// a browser sends is what it parses). `None` for anything else: another
/// scheme, a user, a path, a query or a fragment (an origin has none).
pub fn normalize_origin(origin: &str) -> Option<String> {
    // "http:host" and "http:/host" are URLs to the WHATWG parser, not
    // origins.
    let (_, rest) = origin.split_once("://")?;
    if rest.is_empty() {
        return None;
    }
    let url = Url::parse(origin).ok()?;
    if !matches!(url.scheme(), "http" | "https" | "ws" | "wss")
        || !url.username().is_empty()
        || url.password().is_some()
        || url.path() != "/"
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return None;
    }
    let host = url.host_str()?;
    let port = url.port_or_known_default()?;
    Some(format!("{}://{host}:{port}", url.scheme()))
}

/// `host[:port]` (IPv6 in brackets) → lower-case host and port.
fn split_host_port(s: &str, default_port: u16) -> Option<(String, u16)> {
    if s.is_empty() || s.contains(['/', '?', '#', '@', ' ']) {
        return None;
    }
    let (host, port) = if let Some(v6) = s.strip_prefix('[') {
        let (addr, after) = v6.split_once(']')?;
        let port = match after {
            "" => default_port,
            p => p.strip_prefix(':')?.parse().ok()?,
        };
        (format!("[{addr}]"), port)
    } else {
        match s.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), p.parse().ok()?),
            None => (s.to_string(), default_port),
        }
    };
    if host.is_empty() || host.contains(':') && !host.starts_with('[') {
        return None;
    }
    Some((host.to_ascii_lowercase(), port))
}

/// The origin rule: no `Origin` header (not a browser) is allowed; an origin
/// whose host and port equal the `Host` header's is allowed; others only if
/// listed. `localhost` is not `127.0.0.1`: names are compared literally.
pub fn origin_allowed(origin: Option<&str>, host: Option<&str>, allowed: &Origins) -> bool {
    let Some(origin) = origin else { return true };
    if *allowed == Origins::Any {
        return true;
    }
    let Some(norm) = normalize_origin(origin.trim()) else {
        return false;
    };
    if let Origins::List(list) = allowed
        && list.contains(&norm)
    {
        return true;
    }
    let Some(host) = host else { return false };
    // The Host header carries no scheme: its default port is the origin's.
    let scheme_default = if norm.starts_with("https://") {
        443
    } else {
        80
    };
    let Some((h, p)) = split_host_port(host.trim(), scheme_default) else {
        return false;
    };
    norm.split_once("://").map(|(_, hp)| hp) == Some(format!("{h}:{p}").as_str())
}

/// The Host rule against DNS rebinding: a page on any site can rebind its
/// own name to 127.0.0.1, and its requests then reach the server with that
/// name in `Host` and a matching `Origin`. So a name is allowed only when
/// it cannot be an attacker's: an IP literal, `localhost`, the machine's
/// own name (`hostname`, as the kernel has it), or a name listed. Compared
/// without the port, case aside. A request without `Host` (not a browser)
/// is allowed. `Err` holds the name refused.
pub fn host_allowed(
    host: Option<&str>,
    allowed: &Hosts,
    hostname: Option<&str>,
) -> Result<(), String> {
    let Some(host) = host else { return Ok(()) };
    if *allowed == Hosts::Any {
        return Ok(());
    }
    let Some((name, _)) = split_host_port(host.trim(), 0) else {
        return Err(host.trim().to_ascii_lowercase());
    };
    let is_ip = match name.strip_prefix('[').and_then(|n| n.strip_suffix(']')) {
        Some(v6) => v6.parse::<Ipv6Addr>().is_ok(),
        None => name.parse::<Ipv4Addr>().is_ok(),
    };
    let own = hostname.is_some_and(|h| h.eq_ignore_ascii_case(&name));
    let listed = matches!(allowed, Hosts::List(list) if list.contains(&name));
    if is_ip || name == "localhost" || own || listed {
        Ok(())
    } else {
        Err(name)
    }
}

/// Whether a request may be answered: the Host rule (unless a token is
/// required: a rebinding page cannot know it), the origin rule, then the
/// token rule. The page needs no token (it holds no log data and asks for
/// the token itself); the WebSocket, `?list` and `?download` need it when
/// the server has one, given as `token=` or as `Authorization: Bearer`.
pub fn authorize(req: &Request, q: &Query, cfg: &AccessPolicy) -> Result<(), Refusal> {
    if cfg.token.is_none()
        && let Err(name) = host_allowed(req.header("host"), &cfg.hosts, cfg.hostname.as_deref())
    {
        return Err(Refusal::new(
            Kind::Host,
            format!(
                "the Host header names '{name}', which is not an IP address, localhost or this machine's name (a guard against DNS rebinding); if the server is meant to be reached by that name, start it with --allow-host {name}"
            ),
        ));
    }
    if !origin_allowed(req.header("origin"), req.header("host"), &cfg.origins) {
        return Err(Refusal::new(
            Kind::Origin,
            "this browser origin is not allowed (see --allow-origin)",
        ));
    }
    let needs_token = req.is_websocket() || q.list || q.download || q.timeline;
    let Some(expected) = cfg.token.as_deref().filter(|_| needs_token) else {
        return Ok(());
    };
    match given_token(req, q) {
        None => Err(Refusal::new(Kind::Token, "a token is required")),
        Some(g) if token_matches(expected, g.trim()) => Ok(()),
        Some(_) => Err(Refusal::new(Kind::Token, "the token is wrong")),
    }
}

/// The token a request gives: `token=`, else `Authorization: Bearer`.
fn given_token<'a>(req: &'a Request, q: &'a Query) -> Option<&'a str> {
    q.token.as_deref().or_else(|| {
        req.header("authorization").and_then(|a| {
            a.strip_prefix("Bearer ")
                .or_else(|| a.strip_prefix("bearer "))
        })
    })
}

/// Whether the request may look at the file system for what it names: no
/// token is required, or it gives the right one. Without, the page's status
/// comes from the lexical check alone (no existence oracle).
pub fn token_holder(req: &Request, q: &Query, cfg: &AccessPolicy) -> bool {
    match cfg.token.as_deref() {
        None => true,
        Some(expected) => given_token(req, q).is_some_and(|g| token_matches(expected, g.trim())),
    }
}

/// Compares a given token with the expected one in time that depends only
/// on the given token's length (as darkhttpd's `password_equal`): neither
/// where they first differ nor the secret's length shows. The loop runs over
/// the given bytes, each compared with the expected token read cyclically;
/// a length difference is one more flag, not a shorter loop.
pub fn token_matches(expected: &str, given: &str) -> bool {
    compare_tokens(expected.as_bytes(), given.as_bytes()).0
}

/// `token_matches`, and the number of byte comparisons made (for the test
/// that it is the given token's length, whatever the secret's).
fn compare_tokens(e: &[u8], g: &[u8]) -> (bool, usize) {
    if e.is_empty() {
        // Never configured (an empty token is a usage error); deny.
        return (false, 0);
    }
    let mut diff = u8::from(e.len() != g.len());
    let mut steps = 0;
    for (i, &b) in g.iter().enumerate() {
        diff |= b ^ e[i % e.len()];
        steps += 1;
    }
    (diff == 0, steps)
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_table() {
        let none = Origins::List(vec![]);
        let listed = Origins::List(vec!["https://ops.example:443".into()]);
        let cases: &[(Option<&str>, Option<&str>, &Origins, bool)] = &[
            (None, Some("h:1"), &none, true),
            (
                Some("http://127.0.0.1:8765"),
                Some("127.0.0.1:8765"),
                &none,
                true,
            ),
            (
                Some("http://LOCALHOST:8765"),
                Some("localhost:8765"),
                &none,
                true,
            ),
            (
                Some("http://localhost:8765"),
                Some("127.0.0.1:8765"),
                &none,
                false,
            ),
            (
                Some("http://evil.example"),
                Some("127.0.0.1:8765"),
                &none,
                false,
            ),
            (
                Some("http://logs.example"),
                Some("logs.example"),
                &none,
                true,
            ),
            (
                Some("https://logs.example"),
                Some("logs.example"),
                &none,
                true,
            ),
            (
                Some("https://logs.example"),
                Some("logs.example:80"),
                &none,
                false,
            ),
            (
                Some("http://127.0.0.1:8766"),
                Some("127.0.0.1:8765"),
                &none,
                false,
            ),
            (Some("null"), Some("127.0.0.1:8765"), &none, false),
            (
                Some("https://ops.example"),
                Some("127.0.0.1:8765"),
                &listed,
                true,
            ),
            (
                Some("https://ops.example:8443"),
                Some("127.0.0.1:8765"),
                &listed,
                false,
            ),
            (Some("http://anything"), Some("x"), &Origins::Any, true),
            (Some("http://[::1]:8765"), Some("[::1]:8765"), &none, true),
        ];
        for (origin, host, allowed, want) in cases {
            assert_eq!(
                origin_allowed(*origin, *host, allowed),
                *want,
                "{origin:?} {host:?}"
            );
        }
    }

    /// A policy as `wstail serve` options give it (the machine's name
    /// aside: none here).
    fn config(args: &[&str]) -> AccessPolicy {
        let mut p = AccessPolicy {
            token: None,
            origins: Origins::List(vec![]),
            hosts: Hosts::List(vec![]),
            hostname: None,
        };
        match args {
            [] => {}
            ["--token", t] => p.token = Some(t.to_string()),
            ["--allow-host", h] => p.hosts = Hosts::List(vec![h.to_string()]),
            _ => unreachable!("{args:?}"),
        }
        p
    }

    #[test]
    fn host_table() {
        let none = Hosts::List(vec![]);
        let listed = Hosts::List(vec!["logs.example.org".into(), "ops".into()]);
        let own = Some("MyHost");
        let cases: &[(Option<&str>, &Hosts, bool)] = &[
            (None, &none, true),
            (Some("127.0.0.1:8765"), &none, true),
            (Some("10.1.2.3"), &none, true),
            (Some("[::1]:8765"), &none, true),
            (Some("[fe80::1]"), &none, true),
            (Some("localhost:8765"), &none, true),
            (Some("LocalHost"), &none, true),
            (Some("myhost:8765"), &none, true),
            (Some("MYHOST"), &none, true),
            (Some("myhost.lan"), &none, false),
            (Some("rebind.attacker.example:8765"), &none, false),
            (Some("x"), &none, false),
            (Some("localhost.attacker.example"), &none, false),
            (Some("127.0.0.1.attacker.example"), &none, false),
            (Some("[::1"), &none, false),
            (Some("[not-ip]:80"), &none, false),
            (Some(""), &none, false),
            (Some("logs.example.org"), &listed, true),
            (Some("LOGS.example.org:443"), &listed, true),
            (Some("ops:8765"), &listed, true),
            (Some("example.org"), &listed, false),
            (Some("xlogs.example.org"), &listed, false),
            (Some("logs.example.org.attacker.example"), &listed, false),
            (Some("rebind.attacker.example"), &Hosts::Any, true),
        ];
        for (host, allowed, want) in cases {
            assert_eq!(
                host_allowed(*host, allowed, own).is_ok(),
                *want,
                "{host:?} {allowed:?}"
            );
        }
        assert!(host_allowed(Some("myhost"), &none, None).is_err());
        assert_eq!(
            host_allowed(Some("Rebind.Example:1"), &none, None),
            Err("rebind.example".to_string())
        );
    }

    #[test]
    fn authorize_table() {
        let open = config(&[]);
        let token = config(&["--token", "s3cret"]);
        let named = config(&["--allow-host", "logs.example.org"]);
        let ws = "Upgrade: websocket\r\nConnection: Upgrade\r\n";
        // (configuration, target, extra header lines, expected status or 0)
        let cases: &[(&AccessPolicy, &str, &str, u16)] = &[
            (&open, "/", "", 0),
            (&open, "/f", ws, 0),
            (&open, "/?list", "", 0),
            (&open, "/f?download", "Origin: http://127.0.0.1:8765\r\n", 0),
            (&open, "/f?download", "Origin: http://evil.example\r\n", 403),
            (&open, "/", "Origin: http://evil.example\r\n", 403),
            // The page needs no token; everything else does.
            (&token, "/", "", 0),
            (&token, "/f", ws, 401),
            (&token, "/?list", "", 401),
            (&token, "/f?download", "", 401),
            (&token, "/f?download&token=s3cret", "", 0),
            (&token, "/f?download&token=wrong", "", 401),
            (&token, "/f?token=s3cret", ws, 0),
            (
                &token,
                "/f",
                &format!("{ws}Authorization: Bearer s3cret\r\n"),
                0,
            ),
            (
                &token,
                "/f",
                &format!("{ws}Authorization: bearer s3cret\r\n"),
                0,
            ),
            (
                &token,
                "/f",
                &format!("{ws}Authorization: Bearer wrong\r\n"),
                401,
            ),
            (
                &token,
                "/f",
                &format!("{ws}Authorization: Basic czNjcmV0\r\n"),
                401,
            ),
            // The Host rule: DNS names only when listed, or with a token.
            (&open, "/f", &format!("{ws}Host: rebind.example\r\n"), 403),
            (&open, "/?list", "Host: rebind.example\r\n", 403),
            (&open, "/f?download", "Host: rebind.example\r\n", 403),
            (&open, "/", "Host: rebind.example\r\n", 403),
            (&open, "/", "Host: localhost:8765\r\n", 0),
            (&named, "/?list", "Host: logs.example.org\r\n", 0),
            (&named, "/?list", "Host: rebind.example\r\n", 403),
            (&token, "/?list&token=s3cret", "Host: rebind.example\r\n", 0),
            (&token, "/?list", "Host: rebind.example\r\n", 401),
            // The origin rule comes before the token rule.
            (
                &token,
                "/f?token=s3cret",
                &format!("{ws}Origin: http://evil.example\r\n"),
                403,
            ),
        ];
        for (cfg, target, headers, want) in cases {
            let host = if headers.contains("Host:") {
                ""
            } else {
                "Host: 127.0.0.1:8765\r\n"
            };
            let head = format!("GET {target} HTTP/1.1\r\n{host}{headers}\r\n");
            let req = crate::serve::http::parse_head(head.as_bytes(), vec![]).unwrap();
            let q = crate::wire::query::parse(target).unwrap();
            let got = authorize(&req, &q, cfg).err().map_or(0, |r| r.status());
            assert_eq!(got, *want, "{target} {headers:?}");
        }
    }

    #[test]
    fn tokens() {
        assert!(token_matches("s3cret", "s3cret"));
        assert!(!token_matches("s3cret", "s3cre"));
        assert!(!token_matches("s3cret", "s3cret!"));
        assert!(!token_matches("s3cret", ""));
        assert!(!token_matches("s3cret", "S3cret"));
        // A repetition of the secret matches it cyclically, byte for byte:
        // only the length flag refuses it.
        assert!(!token_matches("s3cret", "s3crets3cret"));
        assert!(!token_matches("ab", "a"));
        assert!(!token_matches("", ""));
        assert!(!token_matches("", "x"));
        // The work is the given token's length, whatever the secret's.
        for secret in ["s", "s3cret", &"x".repeat(1000)] {
            for given in ["", "a", "s3cret", &"y".repeat(50)] {
                let (_, steps) = compare_tokens(secret.as_bytes(), given.as_bytes());
                assert_eq!(steps, given.len(), "{secret:?} {given:?}");
            }
        }
    }

    #[test]
    fn origins_are_read_as_urls() {
        for (given, want) in [
            ("http://LOGS.example", Some("http://logs.example:80")),
            ("HTTPS://logs.example/", Some("https://logs.example:443")),
            ("wss://[::1]:8443", Some("wss://[::1]:8443")),
            (
                "http://logs.example:65535",
                Some("http://logs.example:65535"),
            ),
            ("http://logs.example:65536", None),
            ("http://u@logs.example", None),
            ("http://logs.example/x", None),
            ("http://logs.example?q", None),
            ("http://logs.example#f", None),
            ("ftp://logs.example", None),
            ("http:logs.example", None),
            ("http://", None),
            ("null", None),
        ] {
            assert_eq!(normalize_origin(given).as_deref(), want, "{given}");
        }
    }
}
