//! The URLs of the command line: which scheme is spoken (`ws://`, and
//! `http://` meaning the same), the host and port to connect to, the user's
//! own query parameters kept, and the line prefix each source gets when
//! several are followed.

use std::fmt;

use url::Url;

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
    /// `ws://` URL with the user's own query parameters (match=, exclude=)
    /// but none of those the client sets itself.
    pub base: Url,
    pub host: String,
    pub port: u16,
    /// The user's query holds match= or exclude=: text bytes then no longer
    /// equal file bytes.
    pub filtered: bool,
    /// Line prefix with several URLs (empty with one).
    pub prefix: String,
}

/// Query parameters the client sets itself; the user's values are dropped.
const OWN_PARAMS: [&str; 6] = ["tail", "lines", "format", "meta", "from", "inode"];

impl Source {
    pub fn parse(given: &str) -> Result<Source, UrlError> {
        let mut url = Url::parse(given).map_err(|e| UrlError::Invalid(e.to_string()))?;
        match url.scheme() {
            "ws" => {}
            "http" => url
                .set_scheme("ws")
                .map_err(|()| UrlError::Scheme("http".into()))?,
            "wss" | "https" => return Err(UrlError::Tls),
            other => return Err(UrlError::Scheme(other.to_string())),
        }
        let host = match url.host() {
            Some(url::Host::Domain(d)) => d.to_string(),
            Some(url::Host::Ipv4(a)) => a.to_string(),
            Some(url::Host::Ipv6(a)) => a.to_string(),
            None => return Err(UrlError::NoHost),
        };
        let port = url.port_or_known_default().unwrap_or(80);
        url.set_fragment(None);
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| !OWN_PARAMS.contains(&k.as_ref()))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let filtered = kept.iter().any(|(k, _)| k == "match" || k == "exclude");
        if kept.is_empty() {
            url.set_query(None);
        } else {
            url.query_pairs_mut().clear().extend_pairs(kept);
        }
        Ok(Source {
            given: given.to_string(),
            base: url,
            host,
            port,
            filtered,
            prefix: String::new(),
        })
    }

    /// The file path, percent-decoded, for the line prefix (a `%` without
    /// two hex digits is shown as it is).
    pub fn path(&self) -> String {
        let raw = self.base.path().as_bytes();
        let decoded = crate::query::percent_decode(raw).unwrap_or_else(|_| raw.to_vec());
        String::from_utf8_lossy(&decoded).into_owned()
    }

    pub fn authority(&self) -> String {
        match self.base.host() {
            Some(url::Host::Ipv6(a)) => format!("[{a}]:{}", self.port),
            _ => format!("{}:{}", self.host, self.port),
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

    #[test]
    fn urls_and_schemes() {
        let s = source("http://example.org/var/log/a%20b.log?match=err&lines=3&tail=0#x");
        assert_eq!(
            s.base.as_str(),
            "ws://example.org/var/log/a%20b.log?match=err"
        );
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
