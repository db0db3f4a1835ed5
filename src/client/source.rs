//! The URLs of the command line, read with the `url` crate (the WHATWG
//! reading a browser makes): which scheme is spoken (`ws://`, and `http://`
//! meaning the same; `wss://` and `https://` refused with a pointer to a
//! TLS-terminating proxy), the host and port to connect to, the path, the
//! user's own query parameters kept, and the line prefix each source gets
//! when several are followed. Host names are ASCII: `idna_adapter` is
//! pinned to its ASCII-only release (a log server needs no Unicode name;
//! one is given in its `xn--` form).

use std::fmt;

use url::{Host, Url};

use crate::wire::query::decode;

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

/// One URL of the command line, checked.
#[derive(Debug, Clone)]
pub(super) struct Source {
    /// The URL as given, for messages.
    pub given: String,
    /// The host to connect to: a name (lower-cased), an IPv4 address, or an
    /// IPv6 address without its brackets.
    pub host: String,
    pub port: u16,
    /// The URL asked for, as `ws://`, with the user's own query parameters
    /// (match=, exclude=) but none of those the client sets itself.
    url: Url,
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
        // The scheme and the `//` are checked on the text as given: the
        // WHATWG reading forgives `ws:/h/x` and reads `ws:///x` as the host
        // `x`, where an operator has most likely left out the host.
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
        let Some(after) = rest.strip_prefix("//") else {
            return invalid(format!("'//' must follow '{scheme}:'"));
        };
        if after.is_empty() || after.starts_with(['/', '\\', '?', '#', ':']) {
            return Err(UrlError::NoHost);
        }
        let mut url = Url::parse(given).map_err(|e| {
            UrlError::Invalid(match e {
                url::ParseError::EmptyHost => return UrlError::NoHost,
                url::ParseError::InvalidPort => "the port is not a number from 1 to 65535".into(),
                url::ParseError::IdnaError | url::ParseError::InvalidDomainCharacter => {
                    "the host holds characters a host name cannot (a Unicode name is written \
                     in its xn-- form)"
                        .into()
                }
                url::ParseError::InvalidIpv6Address => "not an IPv6 address in brackets".into(),
                url::ParseError::InvalidIpv4Address => "not an IPv4 address".into(),
                other => other.to_string(),
            })
        })?;
        if !url.username().is_empty() || url.password().is_some() {
            return invalid("a user name or password in the URL is not sent; use --token");
        }
        let host = match url.host() {
            Some(Host::Domain(d)) => d.to_string(),
            Some(Host::Ipv4(a)) => a.to_string(),
            Some(Host::Ipv6(a)) => a.to_string(),
            None => return Err(UrlError::NoHost),
        };
        let port = match url.port_or_known_default() {
            Some(0) | None => return invalid("the port is not a number from 1 to 65535"),
            Some(p) => p,
        };
        // One spelling from here on: ws://, the default port left out.
        if url.set_scheme("ws").is_err() {
            return invalid("cannot be read as a ws:// URL");
        }
        url.set_fragment(None);
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| !OWN_PARAMS.contains(&k.as_ref()))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let filtered = kept.iter().any(|(k, _)| k == "match" || k == "exclude");
        url.set_query(None);
        if !kept.is_empty() {
            url.query_pairs_mut().extend_pairs(&kept);
        }
        Ok(Source {
            given: given.to_string(),
            host,
            port,
            url,
            filtered,
            prefix: String::new(),
        })
    }

    /// The URL of one request: the user's URL with `params` (the client's
    /// own) appended, each value form-encoded once, by the `url` crate.
    pub fn request(&self, params: &[(&str, String)]) -> Url {
        let mut url = self.url.clone();
        if !params.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(params.iter().map(|(k, v)| (k, v)));
        }
        url
    }

    /// The file path, percent-decoded, for the line prefix (a `%` without
    /// two hex digits is shown as it is).
    pub fn path(&self) -> String {
        String::from_utf8_lossy(&decode(self.url.path().as_bytes())).into_owned()
    }

    /// `HOST:PORT`, for messages and prefixes.
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
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
            self.request(&[]).to_string()
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
            ("http://h:8080/x", "h", 8080, "ws://h:8080/x"),
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
                "ws://h/a b/\u{e9}\"<>`{}|",
                "h",
                80,
                "ws://h/a%20b/%C3%A9%22%3C%3E%60%7B%7D|",
            ),
            // The user's parameters are kept (decoded and encoded again by
            // the one form encoder), the client's own dropped.
            (
                "ws://h/x?lines=5&match=a+b&%74ail=1&exclude=%26&&format=html&from=1&inode=2&meta=1",
                "h",
                80,
                "ws://h/x?match=a+b&exclude=%26",
            ),
            ("ws://h/x#frag?lines=1", "h", 80, "ws://h/x"),
            // As a browser reads them: dot segments resolved (also when
            // percent-encoded), a backslash a slash, other escapes kept.
            ("ws://h/a/../b/./c", "h", 80, "ws://h/b/c"),
            ("ws://h/%2e%2e/x%zz", "h", 80, "ws://h/x%zz"),
            ("ws://h/a\\b", "h", 80, "ws://h/a/b"),
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
            (
                "ws://",
                "the URL names no host; use ws://HOST:PORT/ABSOLUTE/PATH",
            ),
            ("ws://h:0/x", "the port is not a number from 1 to 65535"),
            ("ws://h:65536/x", "the port is not a number from 1 to 65535"),
            ("ws://h:+1/x", "the port is not a number from 1 to 65535"),
            ("ws://h:x/x", "the port is not a number from 1 to 65535"),
            ("ws://h:1:2/x", "the port is not a number from 1 to 65535"),
            ("ws://[::1/x", "not an IPv6 address in brackets"),
            ("ws://[::g]/x", "not an IPv6 address in brackets"),
            ("ws://[fe80::1%25eth0]/x", "not an IPv6 address in brackets"),
            ("ws://[::1]x/x", "not an IPv6 address in brackets"),
            (
                "ws://[::1]:99999/x",
                "the port is not a number from 1 to 65535",
            ),
            ("ws://300.1.1.1/x", "not an IPv4 address"),
            (
                "ws://u:p@h/x",
                "a user name or password in the URL is not sent; use --token",
            ),
            (
                "ws://u@h/x",
                "a user name or password in the URL is not sent; use --token",
            ),
            (
                "ws://h\u{e9}.org/x",
                "the host holds characters a host name cannot (a Unicode name is written in its xn-- form)",
            ),
            (
                "ws://h<x/x",
                "the host holds characters a host name cannot (a Unicode name is written in its xn-- form)",
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
    fn the_clients_parameters_are_encoded_once() {
        let s = source("ws://h:1/f?match=a");
        let url = s.request(&[
            ("match", "a&b".into()),
            ("match", "100% +x".into()),
            ("since", "2026-12-01 14:02".into()),
            ("exclude", "\u{e9}".into()),
        ]);
        assert_eq!(
            url.as_str(),
            "ws://h:1/f?match=a&match=a%26b&match=100%25+%2Bx&since=2026-12-01+14%3A02&exclude=%C3%A9"
        );
        // The server's decoder reads them back as they were.
        let pairs: Vec<_> = crate::wire::query::form_pairs(url.query().unwrap())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        assert_eq!(pairs[2], ("match".into(), "100% +x".into()));
        assert_eq!(pairs[3], ("since".into(), "2026-12-01 14:02".into()));
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
