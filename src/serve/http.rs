//! The HTTP side of a connection: a bounded reader for the request head
//! (`MAX_REQUEST_HEAD`, `REQUEST_HEAD_TIMEOUT`), a small parser for the
//! request line and headers, and the plain responses used for refusals, the
//! page, the list and downloads. We read the head ourselves so that routing
//! and access are decided before tungstenite ever sees the stream.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use crate::limits::{
    LINGER_BYTES, LINGER_TIME, MAX_LINGERING, MAX_REQUEST_HEAD, REQUEST_HEAD_TIMEOUT,
};
use crate::net::timed_out;
use crate::wire::refusal::{Kind, Refusal};

/// A parsed request head.
#[derive(Debug)]
pub struct Request {
    pub method: String,
    /// The request target as sent (`/var/log/x?tail=1`).
    pub target: String,
    /// The protocol version as sent (`HTTP/1.1`, `HTTP/1.0`).
    pub version: String,
    /// Header names lower-cased; values trimmed.
    pub headers: Vec<(String, String)>,
    /// Bytes read past the head (a pipelining or eager client's next bytes).
    pub(crate) leftover: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// True when a header holds `token` in its comma-separated list.
    pub(crate) fn header_has(&self, name: &str, token: &str) -> bool {
        self.headers
            .iter()
            .filter(|(n, _)| n == name)
            .flat_map(|(_, v)| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    }

    pub(crate) fn is_websocket(&self) -> bool {
        self.header_has("upgrade", "websocket")
    }
}

/// What was answered, for the connection's log line: the status, what
/// happened, and the bytes of content sent. The routes return it; the
/// connection records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub outcome: String,
    pub sent: u64,
}

impl Answer {
    pub fn new(status: u16, outcome: impl Into<String>) -> Self {
        Answer {
            status,
            outcome: outcome.into(),
            sent: 0,
        }
    }

    /// The answer as far as it got when writing it failed.
    pub(crate) fn cut_short(mut self, e: &io::Error) -> Self {
        self.outcome = format!("{}; the client went away: {e}", self.outcome);
        self
    }
}

/// 408: the head did not arrive in time.
fn head_timeout() -> Refusal {
    Refusal::new(
        Kind::Timeout,
        format!(
            "the request head did not arrive within {} s",
            REQUEST_HEAD_TIMEOUT.as_secs()
        ),
    )
}

/// 431: the head is too large.
fn head_too_large() -> Refusal {
    Refusal::new(
        Kind::TooLarge,
        format!("the request head is over {} KiB", MAX_REQUEST_HEAD / 1024),
    )
}

/// Reads one request head from `stream`, at most `MAX_REQUEST_HEAD` bytes
/// within `REQUEST_HEAD_TIMEOUT` (a slow client is not given longer by
/// dribbling bytes: the deadline is for the whole head).
/// Takes `&TcpStream` so that the accept loop can keep a handle to close a
/// connection that is crowded out while it is still sending its head.
/// `Err(None)`: the peer went away first, and there is no one to answer.
pub(crate) fn read_head(stream: &TcpStream) -> Result<Request, Option<Refusal>> {
    let mut reader = stream;
    let deadline = Instant::now() + REQUEST_HEAD_TIMEOUT;
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Some(head_timeout()));
        }
        stream
            .set_read_timeout(Some(left))
            .map_err(|e| Some(unreadable(&e)))?;
        let n = match reader.read(&mut chunk) {
            Ok(0) => return Err(None),
            Ok(n) => n,
            Err(e) if timed_out(&e) => return Err(Some(head_timeout())),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => return Err(None),
            Err(e) => return Err(Some(unreadable(&e))),
        };
        let search_from = buf.len().saturating_sub(3);
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = find_head_end(&buf[search_from..]).map(|e| e + search_from) {
            if end > MAX_REQUEST_HEAD {
                return Err(Some(head_too_large()));
            }
            let leftover = buf.split_off(end);
            return parse_head(&buf, leftover).map_err(Some);
        }
        if buf.len() > MAX_REQUEST_HEAD {
            return Err(Some(head_too_large()));
        }
    }
}

/// 400: reading the head failed for another reason.
fn unreadable(e: &io::Error) -> Refusal {
    Refusal::bad_request(format!("the request could not be read: {e}"))
}

/// Lingering closes in progress (bounded by `MAX_LINGERING`).
static LINGERING: AtomicUsize = AtomicUsize::new(0);

/// Closes after an answer sent while the client's bytes were left unread:
/// half-close, then read and discard what still comes (at most
/// `LINGER_BYTES` within `LINGER_TIME`) until the client closes too. Closing
/// with unread bytes would make the kernel reset the connection, and a
/// client still sending its request would get "connection reset" instead of
/// our answer.
pub fn linger(stream: &TcpStream) {
    if LINGERING.fetch_add(1, Ordering::AcqRel) >= MAX_LINGERING {
        LINGERING.fetch_sub(1, Ordering::AcqRel);
        return;
    }
    let _ = stream.shutdown(Shutdown::Write);
    let deadline = Instant::now() + LINGER_TIME;
    let mut reader = stream;
    let mut buf = [0u8; 4096];
    let mut discarded = 0u64;
    while discarded < LINGER_BYTES {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            break;
        }
        match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => discarded += n as u64,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    LINGERING.fetch_sub(1, Ordering::AcqRel);
}

/// The index just past the blank line ending the head (`\r\n\r\n` or `\n\n`).
fn find_head_end(buf: &[u8]) -> Option<usize> {
    for i in 0..buf.len() {
        if buf[i..].starts_with(b"\r\n\r\n") {
            return Some(i + 4);
        }
        if buf[i..].starts_with(b"\n\n") {
            return Some(i + 2);
        }
    }
    None
}

/// Headers a request may hold once: a second copy is a 400 (a proxy and
/// the server must not each read a different copy; RFC 6455 4.1 gives the
/// handshake's one key and one version).
const SINGLE_HEADERS: [&str; 5] = [
    "host",
    "origin",
    "authorization",
    "sec-websocket-key",
    "sec-websocket-version",
];

/// Parses a complete head (request line and header lines).
pub fn parse_head(head: &[u8], leftover: Vec<u8>) -> Result<Request, Refusal> {
    let text = std::str::from_utf8(head)
        .map_err(|_| Refusal::bad_request("the request head is not valid UTF-8"))?;
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let request_line = lines.next().unwrap_or("");
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Refusal::bad_request(
            "the request line is not 'METHOD TARGET HTTP/1.1'",
        ));
    };
    if !version.starts_with("HTTP/1.") {
        return Err(Refusal::bad_request("only HTTP/1.x requests are served"));
    }
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(Refusal::bad_request("the request method is malformed"));
    }
    if !target.starts_with('/') || target.bytes().any(|b| b.is_ascii_control()) {
        return Err(Refusal::bad_request(
            "the request target must be an absolute path",
        ));
    }
    let mut headers = Vec::new();
    for line in lines {
        if line.is_empty() {
            continue;
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(Refusal::bad_request("a header line has no ':'"));
        };
        if name.is_empty() || name.bytes().any(|b| !b.is_ascii_graphic()) {
            return Err(Refusal::bad_request("a header name is malformed"));
        }
        if value.bytes().any(|b| b.is_ascii_control() && b != b'\t') {
            return Err(Refusal::bad_request(
                "a header value holds control characters",
            ));
        }
        let name = name.to_ascii_lowercase();
        if SINGLE_HEADERS.contains(&name.as_str()) && headers.iter().any(|(n, _)| *n == name) {
            // RFC 9112, 3.2 for Host; for the others, which copy would be
            // checked and which obeyed is exactly what must not be guessed.
            return Err(Refusal::bad_request(format!(
                "the request has more than one {name} header"
            )));
        }
        headers.push((name, value.trim().to_string()));
    }
    Ok(Request {
        method: method.to_string(),
        target: target.to_string(),
        version: version.to_string(),
        headers,
        leftover,
    })
}

/// Whether a client's `Sec-WebSocket-Key` is what RFC 6455 (4.1) asks for:
/// 16 bytes in base64 — 22 base64 characters then `==`, the last of the 22
/// carrying only 2 bits (its low 4 bits zero: `A`, `Q`, `g` or `w`).
pub(crate) fn valid_client_key(key: &str) -> bool {
    let k = key.as_bytes();
    let base64 = |c: &u8| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/';
    k.len() == 24
        && k.ends_with(b"==")
        && k[..22].iter().all(base64)
        && matches!(k[21], b'A' | b'Q' | b'g' | b'w')
}

pub(crate) fn reason_phrase(status: u16) -> &'static str {
    match status {
        101 => "Switching Protocols",
        200 => "OK",
        206 => "Partial Content",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        410 => "Gone",
        415 => "Unsupported Media Type",
        416 => "Range Not Satisfiable",
        422 => "Unprocessable Content",
        426 => "Upgrade Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

/// Writes a response head. `extra` lines are complete `Name: value` headers
/// (a `Cache-Control` among them replaces the default `no-store`).
pub(crate) fn write_head(
    out: &mut impl Write,
    status: u16,
    content_type: &str,
    length: u64,
    extra: &[String],
) -> io::Result<()> {
    // `no-store` unless the caller says otherwise (the page's assets).
    let cache = if extra.iter().any(|h| h.starts_with("Cache-Control:")) {
        ""
    } else {
        "Cache-Control: no-store\r\n"
    };
    let mut head = format!(
        "HTTP/1.1 {status} {}\r\nServer: wstail\r\nContent-Type: {content_type}\r\nContent-Length: {length}\r\nX-Content-Type-Options: nosniff\r\n{cache}Connection: close\r\n",
        reason_phrase(status)
    );
    for h in extra {
        head.push_str(h);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    out.write_all(head.as_bytes())
}

/// The head of a response whose length is not known when it starts (the
/// list, streamed as it is walked): `extra` says how its end is told
/// (`Transfer-Encoding: chunked`, or nothing: the connection's close).
pub(crate) fn write_head_streamed(
    out: &mut impl Write,
    status: u16,
    content_type: &str,
    extra: &[String],
) -> io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {status} {}\r\nServer: wstail\r\nContent-Type: {content_type}\r\nX-Content-Type-Options: nosniff\r\nCache-Control: no-store\r\nConnection: close\r\n",
        reason_phrase(status)
    );
    for h in extra {
        head.push_str(h);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    out.write_all(head.as_bytes())
}

/// A complete small response (refusals, the page).
pub(crate) fn write_response(
    out: &mut impl Write,
    status: u16,
    content_type: &str,
    body: &[u8],
    extra: &[String],
    head_only: bool,
) -> io::Result<()> {
    write_head(out, status, content_type, body.len() as u64, extra)?;
    if !head_only {
        out.write_all(body)?;
    }
    out.flush()
}

/// A refusal: status line, its kind (`X-Wstail-Refusal`), the header its
/// status requires, and a one-line text body naming the reason (escaped
/// when the refusal was built).
pub fn refuse(out: &mut impl Write, refusal: &Refusal) -> io::Result<()> {
    let status = refusal.status();
    let body = format!("{status} {}: {}\n", reason_phrase(status), refusal.reason());
    let required: &[&str] = match status {
        401 => &["WWW-Authenticate: Bearer"],
        405 => &["Allow: GET, HEAD"],
        426 => &["Sec-WebSocket-Version: 13"],
        429 | 503 => &["Retry-After: 5"],
        _ => &[],
    };
    let mut extra = vec![format!("X-Wstail-Refusal: {}", refusal.kind())];
    extra.extend(required.iter().map(|h| (*h).to_string()));
    write_response(
        out,
        status,
        "text/plain; charset=utf-8",
        body.as_bytes(),
        &extra,
        false,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_websocket_request() {
        let head = b"GET /var/log/x?tail=1 HTTP/1.1\r\nHost: a:1\r\nUpgrade: WebSocket\r\nConnection: keep-alive, Upgrade\r\n\r\n";
        let r = parse_head(head, vec![]).unwrap();
        assert_eq!(r.method, "GET");
        assert_eq!(r.target, "/var/log/x?tail=1");
        assert_eq!(r.header("host"), Some("a:1"));
        assert!(r.is_websocket());
        assert!(r.header_has("connection", "upgrade"));
    }

    #[test]
    fn rejects_malformed_heads() {
        for head in [
            &b"GET /x\r\n\r\n"[..],
            b"GET /x HTTP/2\r\n\r\n",
            b"GET x HTTP/1.1\r\n\r\n",
            b"get /x HTTP/1.1\r\n\r\n",
            b"GET /x HTTP/1.1\r\nNoColon\r\n\r\n",
            b"GET /x HTTP/1.1\r\nA: b\x01c\r\n\r\n",
            b"GET /x\x7f HTTP/1.1\r\n\r\n",
            b"GET /\xff HTTP/1.1\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n",
            b"GET / HTTP/1.1\r\nOrigin: http://a\r\nOrigin: http://a\r\n\r\n",
            b"GET / HTTP/1.1\r\nAuthorization: Bearer a\r\nAUTHORIZATION: Bearer b\r\n\r\n",
            b"GET / HTTP/1.1\r\nSec-WebSocket-Key: a\r\nSec-WebSocket-Key: b\r\n\r\n",
            b"GET / HTTP/1.1\r\nSec-WebSocket-Version: 13\r\nsec-websocket-version: 8\r\n\r\n",
        ] {
            assert!(
                parse_head(head, vec![]).is_err_and(|r| r.status() == 400),
                "{:?}",
                String::from_utf8_lossy(head)
            );
        }
    }

    #[test]
    fn a_refusal_carries_the_header_its_status_requires() {
        for (kind, header) in [
            (Kind::Token, Some("WWW-Authenticate: Bearer\r\n")),
            (Kind::Method, Some("Allow: GET, HEAD\r\n")),
            (Kind::Version, Some("Sec-WebSocket-Version: 13\r\n")),
            (Kind::Busy, Some("Retry-After: 5\r\n")),
            (Kind::Origin, None),
        ] {
            let status = kind.status();
            let mut out = Vec::new();
            refuse(&mut out, &Refusal::new(kind, "why")).unwrap();
            let text = String::from_utf8(out).unwrap();
            assert!(text.starts_with(&format!("HTTP/1.1 {status} ")), "{text}");
            assert!(text.ends_with(": why\n"), "{text}");
            assert!(
                text.contains(&format!("\r\nX-Wstail-Refusal: {kind}\r\n")),
                "{text}"
            );
            if let Some(h) = header {
                assert!(text.contains(h), "{text}");
            }
        }
    }

    #[test]
    fn every_status_answered_has_its_phrase() {
        for status in [
            101, 200, 206, 304, 400, 401, 403, 404, 405, 408, 410, 415, 416, 422, 426, 431, 500,
            503,
        ]
        .into_iter()
        .chain(Kind::ALL.map(Kind::status))
        {
            assert_ne!(reason_phrase(status), "Unknown", "{status}");
        }
    }

    #[test]
    fn only_16_byte_keys_are_valid() {
        assert!(valid_client_key("dGhlIHNhbXBsZSBub25jZQ=="));
        assert!(valid_client_key(
            &tungstenite::handshake::client::generate_key()
        ));
        for bad in [
            "",
            "x",
            "dGhlIHNhbXBsZSBub25jZQ",
            "dGhlIHNhbXBsZSBub25jZQ=",
            "dGhlIHNhbXBsZSBub25jZR==",
            "dGhlIHNhbXBsZSBub25j*Q==",
            "dGhlIHNhbXBsZSBub25jZQ==x",
            "dGhlIHNhbXBsZSBub25jZQ=?",
            "dGhlIHNhbXBsZSBub25jZQ1Z",
        ] {
            assert!(!valid_client_key(bad), "{bad:?}");
        }
    }

    #[test]
    fn the_accept_key_is_the_rfc_example() {
        // RFC 6455, 1.3 (computed by tungstenite).
        assert_eq!(
            tungstenite::handshake::derive_accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn finds_the_end_of_a_head() {
        assert_eq!(find_head_end(b"GET / HTTP/1.1\r\n\r\nrest"), Some(18));
        assert_eq!(find_head_end(b"GET / HTTP/1.1\n\n"), Some(16));
        assert_eq!(find_head_end(b"GET / HTTP/1.1\r\n"), None);
    }
}
