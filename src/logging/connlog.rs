//! The connection's one log line (peer, request, status, outcome, bytes
//! sent, duration), written once when the connection ends — from a guard's
//! `Drop`, so on every path, a panic included — and the one escaping
//! function for every byte a client chose that reaches the log: the path,
//! the query, echoed headers and the values that refusal reasons quote. A
//! client must not be able to forge a log line or send the operator's
//! terminal an escape sequence; and the token never reaches the log.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::Instant;

use log::{Level, log};

use crate::serve::http::{Answer, Request};
use crate::wire::query::form_decode;
use crate::wire::refusal::Refusal;

use crate::limits::{MAX_LOGGED_OUTCOME, MAX_LOGGED_TARGET};

/// The connection's log line, written once when it is dropped.
pub struct ConnLog {
    peer: String,
    start: Instant,
    /// The method and target, escaped and the token redacted.
    target: String,
    status: u16,
    /// Raw: escaped when written.
    outcome: String,
    /// The outcome is a refusal's reason, whose client bytes are escaped
    /// already (`wire::refusal`): its `\` are written as they are, so that
    /// an escape is not escaped twice.
    refusal: bool,
    sent: u64,
    level: Level,
    /// Set once the line is written (by `write_now` or the drop).
    written: bool,
}

impl ConnLog {
    pub fn new(peer: Option<SocketAddr>) -> Self {
        ConnLog {
            peer: peer.map_or_else(|| "-".to_string(), |p| p.to_string()),
            start: Instant::now(),
            target: "-".to_string(),
            status: 0,
            outcome: "closed before sending a request".to_string(),
            refusal: false,
            sent: 0,
            level: Level::Info,
            written: false,
        }
    }

    /// The peer's address as the line shows it.
    pub fn peer(&self) -> &str {
        &self.peer
    }

    /// Records the request once its head is read.
    pub fn request(&mut self, req: &Request) {
        self.target = format!(
            "{} {}",
            escape(req.method.as_bytes()),
            log_target(&req.target)
        );
        self.outcome = "closed before an answer".to_string();
    }

    /// Records a refusal (logged at warn).
    pub fn refused(&mut self, refusal: &Refusal) {
        self.status = refusal.status();
        self.outcome = format!("refused: {}", refusal.reason());
        self.refusal = true;
        self.level = Level::Warn;
    }

    /// Records what a route answered.
    pub fn answered(&mut self, answer: Answer) {
        self.status = answer.status;
        self.outcome = answer.outcome;
        self.refusal = false;
        self.sent = answer.sent;
    }

    /// Records how the connection ended without an answer.
    pub fn ended(&mut self, outcome: String) {
        self.outcome = outcome;
        self.refusal = false;
    }

    /// Writes the line now (the connection's answer is complete, though its
    /// socket may stay open for a lingering close); the drop then does not.
    pub(crate) fn write_now(&mut self) {
        if self.written {
            return;
        }
        self.written = true;
        if std::thread::panicking() {
            self.outcome = format!("{} (the connection's thread panicked)", self.outcome);
            self.level = Level::Error;
        }
        log!(
            self.level,
            "{} \"{}\" {} {}; sent {} bytes in {:.3}s",
            self.peer,
            self.target,
            self.status,
            logged_outcome(&self.outcome, self.refusal),
            self.sent,
            self.start.elapsed().as_secs_f64()
        );
    }
}

impl Drop for ConnLog {
    fn drop(&mut self) {
        self.write_now();
    }
}

/// The outcome as the log line holds it: escaped (see `escape`) and
/// bounded, as the target is — a refusal reason may echo a long value the
/// client chose, and every byte of it may take four characters escaped.
fn logged_outcome(outcome: &str, refusal: bool) -> String {
    let mut out = String::with_capacity(outcome.len());
    for part in outcome.split_inclusive('\\') {
        match part.strip_suffix('\\').filter(|_| refusal) {
            Some(before) => {
                escape_into(&mut out, before.as_bytes());
                out.push('\\');
            }
            None => escape_into(&mut out, part.as_bytes()),
        }
    }
    if out.len() > MAX_LOGGED_OUTCOME {
        // `out` is ASCII: any cut is a character boundary.
        out.truncate(MAX_LOGGED_OUTCOME);
        out.push_str("...");
    }
    out
}

/// The request target as it may appear in the log: the token's value
/// replaced by `***`, escaped (see `escape`), and bounded.
pub fn log_target(target: &str) -> String {
    let mut out = String::with_capacity(target.len().min(MAX_LOGGED_TARGET));
    let (path, q) = target
        .split_once('?')
        .map_or((target, None), |(p, q)| (p, Some(q)));
    escape_into(&mut out, path.as_bytes());
    if let Some(q) = q {
        out.push('?');
        for (i, pair) in q.split('&').enumerate() {
            if i > 0 {
                out.push('&');
            }
            // Judged by the key as the query parser decodes it, so that
            // a percent-encoded spelling such as `%74oken=` is redacted too.
            let key = pair.split_once('=').map_or(pair, |(k, _)| k);
            if form_decode(key) == "token" {
                out.push_str("token=***");
            } else {
                escape_into(&mut out, pair.as_bytes());
            }
        }
    }
    if out.len() > MAX_LOGGED_TARGET {
        // `out` is ASCII: any cut is a character boundary.
        out.truncate(MAX_LOGGED_TARGET);
        out.push_str("...");
    }
    out
}

/// Client-chosen text as the log may hold it: printable ASCII stays (space
/// included), every other byte — control characters (a line feed that would
/// start a forged line, ESC that would drive the operator's terminal),
/// bytes of non-ASCII characters, and `"` and `\` (which delimit and escape
/// fields) — becomes `\xNN`. The result is one line of printable ASCII.
pub fn escape(text: &[u8]) -> String {
    let mut out = String::with_capacity(text.len());
    escape_into(&mut out, text);
    out
}

/// `escape`, appending to `out`.
pub(crate) fn escape_into(out: &mut String, text: &[u8]) {
    for &b in text {
        if (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\' {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_target_redacts_and_escapes() {
        assert_eq!(
            log_target("/a?tail=1&token=s3cret&x=1"),
            "/a?tail=1&token=***&x=1"
        );
        assert_eq!(log_target("/a?%74oken=s3cret"), "/a?token=***");
        assert_eq!(log_target("/a?%74%6Fken=s3cret&x=1"), "/a?token=***&x=1");
        assert_eq!(log_target("/a?token"), "/a?token=***");
        assert_eq!(log_target("/a?tokens=1"), "/a?tokens=1");
        assert_eq!(log_target("/a\"b\\c"), "/a\\x22b\\x5cc");
        assert!(log_target(&"/x".repeat(400)).ends_with("..."));
    }

    #[test]
    fn the_outcome_is_bounded() {
        let reason = format!("refused: invalid format '{}'", "\u{e9}".repeat(4000));
        let logged = logged_outcome(&reason, false);
        assert_eq!(logged.len(), MAX_LOGGED_OUTCOME + 3);
        assert!(logged.starts_with("refused: invalid format '\\xc3\\xa9"));
        assert!(logged.ends_with("..."));
        assert_eq!(logged_outcome("served the page", false), "served the page");
        // A refusal's reason is escaped once: its escapes stay as they are.
        let r = Refusal::bad_request("lines=1\n\"é\\ is not a whole number");
        assert_eq!(
            logged_outcome(&format!("refused: {}", r.reason()), true),
            "refused: lines=1\\x0a\\x22\\xc3\\xa9\\ is not a whole number"
        );
        assert_eq!(logged_outcome("a\\b", false), "a\\x5cb");
    }

    #[test]
    fn escape_table() {
        let cases: &[(&[u8], &str)] = &[
            (b"plain text/ok?a=1&b", "plain text/ok?a=1&b"),
            (b"1\n2026 [INFO] forged", "1\\x0a2026 [INFO] forged"),
            (b"\x1b[2J\x1b]0;pwned\x07", "\\x1b[2J\\x1b]0;pwned\\x07"),
            (b"cr\rtab\tdel\x7f", "cr\\x0dtab\\x09del\\x7f"),
            (b"\"q\" \\", "\\x22q\\x22 \\x5c"),
            ("é\u{9b}".as_bytes(), "\\xc3\\xa9\\xc2\\x9b"),
            (b"\xff\x00", "\\xff\\x00"),
        ];
        for (raw, want) in cases {
            assert_eq!(escape(raw), *want, "{:?}", String::from_utf8_lossy(raw));
        }
    }
}
