//! The URLs of the command line, read by hand: which scheme is spoken
//! (`ws://`, and `http://` meaning the same), the host (a name, IPv4, or an
//! IPv6 literal in brackets) and port to connect to, the path, the user's own
//! query parameters kept, and the line prefix each source gets when several
//! are followed. Host names are ASCII: a log server needs no IDNA (a
//! Unicode name is given in its `xn--` form), which is why there is no URL
//! crate here.

use std::fmt;
use std::net::Ipv6Addr;

use crate::wire::query::{decode, form_decode};

/// What was wrong with a URL on the command line (exit status 2).
#[derive(Debug, PartialEq)]
pub enum UrlError {
    Invalid(String),
    Tls,
    Scheme(String),
    NoHost,
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UrlError::Invalid(e) => write!(f, "not a URL ({e}); use ws://HOST:PORT/ABSOLUTE/PATH"),
            UrlError::Tls => f.write_str(
                "wss:// and https:// are not spoken: wstail has no TLS. Reach the server as \
                 ws://HOST:PORT/PATH on a trusted network or through 'ssh -L', or run a local \
                 TLS-terminating proxy towards the server's TLS front end (e.g. 'socat \
                 TCP-LISTEN:8766,bind=127.0.0.1,fork,reuseaddr OPENSSL:HOST:443' and \
                 'wstail tail ws://127.0.0.1:8766/PATH'); see 'man wstail'",
            ),
            UrlError::Scheme(s) => write!(
                f,
                "the scheme '{s}:' is not spoken; use ws://HOST:PORT/ABSOLUTE/PATH (http:// means the same)"
            ),
            UrlError::NoHost => {
                f.write_str("the URL names no host; use ws://HOST:PORT/ABSOLUTE/PATH")
            }
        }
    }
}

/// The port of `ws://` and `http://` when the URL names none.
const DEFAULT_PORT: u16 = 80;

/// One URL of the command line, checked.
#[derive(Debug, Clone)]
pub(super) struct Source {
    /// The URL as given, for messages.
    pub given: String,
    /// The host to connect to: a name (lower-cased), an IPv4 address, or an
    /// IPv6 address without its brackets.
    pub host: String,
    pub port: u16,
    /// The path as it goes into the request: percent-encoded where needed.
    path: String,
    /// The user's own query parameters (match=, exclude=) as given, but none
    /// of those the client sets itself; empty when there are none.
    query: String,
    /// The user's query holds match= or exclude=: text bytes then no longer
    /// equal file bytes.
    pub filtered: bool,
    /// Line prefix with several URLs (empty with one).
    pub prefix: String,
}

/// Query parameters the client sets itself; the user's values are dropped.
const OWN_PARAMS: [&str; 8] = [
    "tail", "lines", "format", "meta", "from", "inode", "tag", "born",
];

fn invalid<T>(why: impl Into<String>) -> Result<T, UrlError> {
    Err(UrlError::Invalid(why.into()))
}

impl Source {
    /// `SCHEME://HOST[:PORT][/PATH][?QUERY][#FRAGMENT]`.
    pub fn parse(given: &str) -> Result<Source, UrlError> {
        let Some((scheme, rest)) = given.split_once(':') else {
            return invalid("no scheme such as ws://");
        };
        let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
        if !scheme_ok {
            return invalid("no scheme such as ws://");
        }
        match scheme.to_ascii_lowercase().as_str() {
            "ws" | "http" => {}
            "wss" | "https" => return Err(UrlError::Tls),
            other => return Err(UrlError::Scheme(other.to_string())),
        }
        let Some(rest) = rest.strip_prefix("//") else {
            return invalid(format!("'//' must follow '{scheme}:'"));
        };
        let rest = rest.split_once('#').map_or(rest, |(r, _)| r);
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, rest) = rest.split_at(end);
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (host, port) = host_and_port(authority)?;
        let kept: Vec<&str> = query
            .split('&')
            .filter(|p| !p.is_empty())
            .filter(|p| {
                let key = form_decode(p.split_once('=').map_or(p, |(k, _)| k));
                !OWN_PARAMS.contains(&key.as_ref())
            })
            .collect();
        let filtered = kept.iter().any(|p| {
            let key = form_decode(p.split_once('=').map_or(p, |(k, _)| k));
            key == "match" || key == "exclude"
        });
        Ok(Source {
            given: given.to_string(),
            host,
            port,
            path: encode(if path.is_empty() { "/" } else { path }),
            query: encode(&kept.join("&")),
            filtered,
            prefix: String::new(),
        })
    }

    /// The `Host:` header, and the URL's authority as a browser writes it:
    /// the port only when it is not 80.
    pub fn host_header(&self) -> String {
        if self.port == DEFAULT_PORT {
            self.url_host()
        } else {
            format!("{}:{}", self.url_host(), self.port)
        }
    }

    /// The request target before the client's own parameters: the path and
    /// the user's own query.
    pub fn target(&self) -> String {
        if self.query.is_empty() {
            self.path.clone()
        } else {
            format!("{}?{}", self.path, self.query)
        }
    }

    /// The file path, percent-decoded, for the line prefix (a `%` without
    /// two hex digits is shown as it is).
    pub fn path(&self) -> String {
        String::from_utf8_lossy(&decode(self.path.as_bytes())).into_owned()
    }

    /// `HOST:PORT`, for messages and prefixes.
    pub fn authority(&self) -> String {
        format!("{}:{}", self.url_host(), self.port)
    }

    /// The host as a URL writes it: an IPv6 address in brackets.
    fn url_host(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        }
    }
}

/// `HOST[:PORT]`, `[IPV6][:PORT]`; no user name or password.
fn host_and_port(authority: &str) -> Result<(String, u16), UrlError> {
    if authority.contains('@') {
        return invalid("a user name or password in the URL is not sent; use --token");
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let Some((addr, after)) = v6.split_once(']') else {
            return invalid("an IPv6 address without its closing ']'");
        };
        let Ok(addr) = addr.parse::<Ipv6Addr>() else {
            return invalid(format!("'{addr}' is not an IPv6 address"));
        };
        let port = match after {
            "" => None,
            _ => match after.strip_prefix(':') {
                Some(p) => Some(p),
                None => return invalid(format!("'{after}' after the IPv6 address")),
            },
        };
        (addr.to_string(), port)
    } else {
        let (host, port) = match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        };
        if host.is_empty() {
            return Err(UrlError::NoHost);
        }
        let name_ok = host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b));
        if !name_ok {
            return invalid(format!(
                "the host '{host}' holds characters a host name cannot (a Unicode name is written in its xn-- form)"
            ));
        }
        (host.to_ascii_lowercase(), port)
    };
    let port = match port {
        None | Some("") => DEFAULT_PORT,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 && p.bytes().all(|b| b.is_ascii_digit()) => n,
            _ => return invalid(format!("the port '{p}' is not a number from 1 to 65535")),
        },
    };
    Ok((host, port))
}

/// Percent-encodes what may not stand in a request line: controls, space,
/// quotes, angle brackets, backquote, braces, backslash and every byte
/// beyond ASCII. `%` is left alone: the user's encoding is kept.
fn encode(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for &b in raw.as_bytes() {
        if b <= b' ' || b >= 0x7f || b"\"<>`{}\\".contains(&b) {
            out.push_str(&format!("%{b:02X}"));
        } else {
            out.push(b as char);
        }
    }
    out
}

/// Line prefixes for several URLs, like grep's `FILE:`: the file path when
/// every URL names the same server, else `HOST:PORT/PATH`.
pub(super) fn set_prefixes(sources: &mut [Source]) {
    let one_server = sources
        .windows(2)
        .all(|w| w[0].authority() == w[1].authority());
    for s in sources.iter_mut() {
        s.prefix = if one_server {
            format!("{}:", s.path())
        } else {
            format!("{}{}:", s.authority(), s.path())
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(url: &str) -> Source {
        Source::parse(url).unwrap()
    }

    impl Source {
        /// The URL asked for, before the client's own parameters.
        fn base(&self) -> String {
            format!("ws://{}{}", self.host_header(), self.target())
        }
    }

    #[test]
    fn urls_and_schemes() {
        let s = source("http://example.org/var/log/a%20b.log?match=err&lines=3&tail=0#x");
        assert_eq!(s.base(), "ws://example.org/var/log/a%20b.log?match=err");
        assert_eq!((s.host.as_str(), s.port), ("example.org", 80));
        assert!(s.filtered);
        assert_eq!(s.path(), "/var/log/a b.log");
        let s = source("ws://[::1]:8765/x");
        assert_eq!((s.host.as_str(), s.port), ("::1", 8765));
        assert_eq!(s.authority(), "[::1]:8765");
        assert!(!s.filtered);
        assert_eq!(Source::parse("wss://h/x").unwrap_err(), UrlError::Tls);
        assert_eq!(Source::parse("https://h/x").unwrap_err(), UrlError::Tls);
        assert!(matches!(
            Source::parse("ftp://h/x"),
            Err(UrlError::Scheme(_))
        ));
        assert!(matches!(
            Source::parse("/var/log/x"),
            Err(UrlError::Invalid(_))
        ));
        assert!(UrlError::Tls.to_string().contains("TLS-terminating proxy"));
    }

    /// URL → (host, port, base) or the exact error.
    #[test]
    fn url_table() {
        let ok: &[(&str, &str, u16, &str)] = &[
            ("ws://h/x", "h", 80, "ws://h/x"),
            (
                "WS://Logs.Example.ORG:8765/x",
                "logs.example.org",
                8765,
                "ws://logs.example.org:8765/x",
            ),
            ("http://h:80/x", "h", 80, "ws://h/x"),
            ("ws://h:/x", "h", 80, "ws://h/x"),
            ("ws://h", "h", 80, "ws://h/"),
            ("ws://h?match=a", "h", 80, "ws://h/?match=a"),
            (
                "ws://127.0.0.1:1/var/log/x.log",
                "127.0.0.1",
                1,
                "ws://127.0.0.1:1/var/log/x.log",
            ),
            ("ws://[::1]/x", "::1", 80, "ws://[::1]/x"),
            (
                "ws://[0:0:0:0:0:0:0:1]:65535/x",
                "::1",
                65535,
                "ws://[::1]:65535/x",
            ),
            (
                "ws://h/a b/\u{e9}\"<>`{}\\|",
                "h",
                80,
                "ws://h/a%20b/%C3%A9%22%3C%3E%60%7B%7D%5C|",
            ),
            (
                "ws://h/x?lines=5&match=a+b&%74ail=1&exclude=%26&&format=html&from=1&inode=2&meta=1",
                "h",
                80,
                "ws://h/x?match=a+b&exclude=%26",
            ),
            ("ws://h/x#frag?lines=1", "h", 80, "ws://h/x"),
            ("ws://h/%2e%2e/x%zz", "h", 80, "ws://h/%2e%2e/x%zz"),
        ];
        for &(url, host, port, base) in ok {
            let s = Source::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
            assert_eq!(
                (s.host.as_str(), s.port, s.base().as_str()),
                (host, port, base),
                "{url}"
            );
        }
        let bad: &[(&str, &str)] = &[
            ("/var/log/x", "no scheme such as ws://"),
            (
                "h:1/x",
                "the scheme 'h:' is not spoken; use ws://HOST:PORT/ABSOLUTE/PATH (http:// means the same)",
            ),
            (
                "localhost:8765/x",
                "the scheme 'localhost:' is not spoken; use ws://HOST:PORT/ABSOLUTE/PATH (http:// means the same)",
            ),
            ("1.2.3.4:1/x", "no scheme such as ws://"),
            ("ws:/h/x", "'//' must follow 'ws:'"),
            (
                "ws:///x",
                "the URL names no host; use ws://HOST:PORT/ABSOLUTE/PATH",
            ),
            (
                "ws://:1/x",
                "the URL names no host; use ws://HOST:PORT/ABSOLUTE/PATH",
            ),
            ("ws://h:0/x", "the port '0' is not a number from 1 to 65535"),
            (
                "ws://h:65536/x",
                "the port '65536' is not a number from 1 to 65535",
            ),
            (
                "ws://h:+1/x",
                "the port '+1' is not a number from 1 to 65535",
            ),
            ("ws://h:x/x", "the port 'x' is not a number from 1 to 65535"),
            (
                "ws://h:1:2/x",
                "the port '1:2' is not a number from 1 to 65535",
            ),
            ("ws://[::1/x", "an IPv6 address without its closing ']'"),
            ("ws://[::g]/x", "'::g' is not an IPv6 address"),
            (
                "ws://[fe80::1%25eth0]/x",
                "'fe80::1%25eth0' is not an IPv6 address",
            ),
            ("ws://[::1]x/x", "'x' after the IPv6 address"),
            (
                "ws://[::1]:99999/x",
                "the port '99999' is not a number from 1 to 65535",
            ),
            (
                "ws://u:p@h/x",
                "a user name or password in the URL is not sent; use --token",
            ),
            (
                "ws://h\u{e9}.org/x",
                "the host 'h\u{e9}.org' holds characters a host name cannot (a Unicode name is written in its xn-- form)",
            ),
        ];
        for &(url, why) in bad {
            let got = Source::parse(url).unwrap_err();
            let want = if why.starts_with("the scheme") || why.starts_with("the URL names") {
                why.to_string()
            } else {
                format!("not a URL ({why}); use ws://HOST:PORT/ABSOLUTE/PATH")
            };
            assert_eq!(got.to_string(), want, "{url}");
        }
        for tls in ["wss://h/x", "HTTPS://h/x", "wss://[::1]:443/x"] {
            assert_eq!(Source::parse(tls).unwrap_err(), UrlError::Tls, "{tls}");
        }
        assert!(Source::parse("ws://h/x?match=err").unwrap().filtered);
        assert!(Source::parse("ws://h/x?exclud%65=x").unwrap().filtered);
        assert!(!Source::parse("ws://h/x?matches=err").unwrap().filtered);
    }

    #[test]
    fn prefixes_like_grep() {
        let mut same = vec![source("ws://h:1/a.log"), source("ws://h:1/b%20c.log")];
        set_prefixes(&mut same);
        assert_eq!(same[0].prefix, "/a.log:");
        assert_eq!(same[1].prefix, "/b c.log:");
        let mut two = vec![source("ws://h:1/a.log"), source("ws://g:1/a.log")];
        set_prefixes(&mut two);
        assert_eq!(two[0].prefix, "h:1/a.log:");
        assert_eq!(two[1].prefix, "g:1/a.log:");
    }
}
