//! One refusal type for every "no" the server answers: a kind, which names
//! the HTTP status and is sent as `X-Wstail-Refusal: KIND` so that clients
//! decide on it (never on the wording), and a one-line reason, which the
//! client reads in the answer's body and the operator in the connection's
//! log line. The request head reader, the query parser, the access rules
//! and the routes all refuse with it; `http::refuse` writes it, with the
//! header its status requires.
//!
//! A reason may echo what the client sent (`format=…`, a Host name, a
//! path). It is escaped once, here, where the refusal is built: control
//! characters (C0, DEL, C1), bidi overrides and line separators become
//! `\xNN` (one per byte, as the log writes them), so that no client byte
//! reaches a body, a terminal or a page raw, whoever builds the reason. The
//! log writes the reason escaped for itself, leaving these escapes as they
//! are (`ConnLog::refused`).

use std::borrow::Cow;
use std::fmt::{self, Write as _};

/// What kind of "no": it names the status, and clients act on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// 400: the head, the query or the upgrade headers are malformed.
    BadRequest,
    /// 405: not GET (or HEAD for plain HTTP).
    Method,
    /// 408: the head did not arrive in time, or was crowded out.
    Timeout,
    /// 426: a WebSocket version other than 13.
    Version,
    /// 431: the head is over its bound.
    TooLarge,
    /// 403: the path is (or leads) outside the served roots.
    OutsideRoots,
    /// 403: a directory, FIFO, socket or device.
    NotRegular,
    /// 403: the server may not read it, or cannot verify what it opened.
    Unreadable,
    /// 403: the path changed between its check and its open.
    Changed,
    /// 404: nothing is there, inside a root.
    NotFound,
    /// 410: `inode=` names no file among the path's generations.
    Gone,
    /// 415: compressed with xz, zstd or bzip2.
    Compressed,
    /// 422: `since=` on a file in which no timestamp is recognised.
    NoTimestamps,
    /// 403: the Host header is not admitted (DNS rebinding guard).
    Host,
    /// 403: the browser origin is not admitted.
    Origin,
    /// 401: a token is required and missing or wrong.
    Token,
    /// 503: the server serves its maximum of clients.
    Busy,
    /// 429: this peer address holds its maximum of followers.
    PerAddress,
    /// 500: reading the file failed.
    Internal,
}

impl Kind {
    pub const ALL: [Kind; 19] = [
        Kind::BadRequest,
        Kind::Method,
        Kind::Timeout,
        Kind::Version,
        Kind::TooLarge,
        Kind::OutsideRoots,
        Kind::NotRegular,
        Kind::Unreadable,
        Kind::Changed,
        Kind::NotFound,
        Kind::Gone,
        Kind::Compressed,
        Kind::NoTimestamps,
        Kind::Host,
        Kind::Origin,
        Kind::Token,
        Kind::Busy,
        Kind::PerAddress,
        Kind::Internal,
    ];

    /// The name sent in `X-Wstail-Refusal`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::BadRequest => "bad-request",
            Kind::Method => "method",
            Kind::Timeout => "timeout",
            Kind::Version => "version",
            Kind::TooLarge => "too-large",
            Kind::OutsideRoots => "outside-roots",
            Kind::NotRegular => "not-regular",
            Kind::Unreadable => "unreadable",
            Kind::Changed => "changed",
            Kind::NotFound => "not-found",
            Kind::Gone => "gone",
            Kind::Compressed => "compressed",
            Kind::NoTimestamps => "no-timestamps",
            Kind::Host => "host",
            Kind::Origin => "origin",
            Kind::Token => "token",
            Kind::Busy => "busy",
            Kind::PerAddress => "per-address",
            Kind::Internal => "internal",
        }
    }

    /// The kind of that name; `None` for one this version does not know.
    pub fn parse(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// The HTTP status a refusal of this kind is answered with.
    pub fn status(self) -> u16 {
        match self {
            Kind::BadRequest => 400,
            Kind::Token => 401,
            Kind::OutsideRoots
            | Kind::NotRegular
            | Kind::Unreadable
            | Kind::Changed
            | Kind::Host
            | Kind::Origin => 403,
            Kind::NotFound => 404,
            Kind::Method => 405,
            Kind::Timeout => 408,
            Kind::Gone => 410,
            Kind::Compressed => 415,
            Kind::NoTimestamps => 422,
            Kind::Version => 426,
            Kind::PerAddress => 429,
            Kind::TooLarge => 431,
            Kind::Internal => 500,
            Kind::Busy => 503,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a request is not served: its kind (and so its status) and the
/// reason, escaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    kind: Kind,
    reason: Cow<'static, str>,
}

impl Refusal {
    /// A refusal; the reason is escaped here (see the module's paragraph).
    pub fn new(kind: Kind, reason: impl Into<Cow<'static, str>>) -> Self {
        let reason = reason.into();
        let reason = if reason.chars().any(needs_escape) {
            Cow::Owned(escape(&reason))
        } else {
            reason
        };
        Refusal { kind, reason }
    }

    /// 400: the request cannot be understood.
    pub(crate) fn bad_request(reason: impl Into<Cow<'static, str>>) -> Self {
        Refusal::new(Kind::BadRequest, reason)
    }

    /// 404: inside a root, but nothing is there.
    pub(crate) fn not_found() -> Self {
        Refusal::new(Kind::NotFound, "no such file under the served roots")
    }

    /// 500: reading the file failed.
    pub(crate) fn read_failed(e: &std::io::Error) -> Self {
        Refusal::new(Kind::Internal, format!("reading the file failed: {e}"))
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    pub fn status(&self) -> u16 {
        self.kind.status()
    }

    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status(), self.reason)
    }
}

/// Characters that never reach a reason raw: controls (C0, DEL, C1), which
/// a terminal obeys; bidi overrides and isolates, which reorder what is
/// shown; line and paragraph separators, which would break the one line.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
                | '\u{2028}' | '\u{2029}'
        )
}

/// `s` with every character `needs_escape` names written `\xNN` for each
/// of its bytes; everything else as it is.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if needs_escape(c) {
            for b in c.encode_utf8(&mut [0; 4]).bytes() {
                let _ = write!(out, "\\x{b:02x}");
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_parses_back() {
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.as_str()), Some(k));
            assert!((400..600).contains(&k.status()), "{k}");
        }
    }

    #[test]
    fn reasons_are_escaped_where_they_are_built() {
        let r = Refusal::bad_request(format!(
            "format={} is not 'html' or 'text'",
            "a\nb\x1b[2J\x07\u{9b}\u{202e}é\t\\"
        ));
        assert_eq!(
            r.reason(),
            "format=a\\x0ab\\x1b[2J\\x07\\xc2\\x9b\\xe2\\x80\\xaeé\\x09\\ is not 'html' or 'text'"
        );
        assert!(!r.reason().chars().any(needs_escape));
        // Nothing to escape: the text as given.
        assert_eq!(
            Refusal::not_found().reason(),
            "no such file under the served roots"
        );
    }
}
