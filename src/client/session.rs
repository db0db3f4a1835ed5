//! One connection to a wstail server: the TCP connect (each address of the
//! host in turn), the WebSocket handshake (a refusal's status and reason
//! read from the answer), then the messages one at a time, with the
//! server's Pings answered and a silent server probed with a Ping of our
//! own. Whether to connect again is not decided here but in `mod.rs`.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use tungstenite::error::ProtocolError;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::{Role, WebSocketConfig};
use tungstenite::{Bytes, Error as WsError, Message, Utf8Bytes, WebSocket};

use super::resume::Resume;
use super::source::Source;
use crate::cli::VERSION;
use crate::cli::config::TailConfig;
use crate::net::{Restarting, timed_out};
use tungstenite::handshake::client::generate_key as client_key;
use tungstenite::handshake::derive_accept_key;

/// Time allowed to open a TCP connection to one address of the server.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Time allowed for the server's handshake answer, and for any write: a
/// server that stops reading must not hang the client for ever.
pub(super) const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// How often a blocked read wakes up to check that the server is alive.
const READ_POLL: Duration = Duration::from_secs(5);

/// After this long without hearing anything (the server pings every 30 s by
/// default), the client sends a Ping of its own ...
const PROBE_AFTER: Duration = Duration::from_secs(60);

/// ... and counts the connection as lost when nothing comes back this soon
/// after it. A vanished host (no FIN, no RST) is noticed in 90 s at most.
const PROBE_TIMEOUT: Duration = Duration::from_secs(30);

/// Longest answer head read from a server: its own are a few lines.
const MAX_ANSWER_HEAD: usize = 16 * 1024;

/// Most of a refusal's body read to show its reason, and how long to wait
/// for it: the status alone is shown if it does not come.
const MAX_REFUSAL_BODY: usize = 2048;
const REFUSAL_READ: Duration = Duration::from_secs(2);

/// Largest message accepted from a server. The server sends at most 64 KiB of
/// file bytes per message; HTML escaping and colour spans can grow that
/// several times. tungstenite's default (64 MiB) would let a hostile server
/// make us allocate far more.
const MAX_MESSAGE: usize = 8 << 20;

/// Why a connection ended, short of a normal close.
pub(super) enum Stop {
    /// Worth trying again with `--retry`; the text says what happened.
    Retry(String),
    /// Will not get better by waiting (a 401, a 403 ...).
    Fatal(String),
    /// Standard output is gone or broken.
    Output(io::Error),
}

/// A message worth handing on.
pub(super) enum Received {
    /// File text, to print.
    Text(Utf8Bytes),
    /// A binary frame: a resume point or an event, never printed as data.
    Meta(Bytes),
}

/// The request target for a connection: the user's path and query with
/// the client's own parameters, resuming at `point` when there is one.
pub(super) fn request_target(source: &Source, cfg: &TailConfig, point: Option<Resume>) -> String {
    let mut own = vec![format!("format={}", if cfg.html { "html" } else { "text" })];
    if cfg.follow {
        own.push("tail=1".into());
    }
    if cfg.follow || cfg.retry {
        own.push("meta=1".into());
    }
    for t in &cfg.matches {
        own.push(format!("match={}", query_value(t)));
    }
    for t in &cfg.excludes {
        own.push(format!("exclude={}", query_value(t)));
    }
    match (point, &cfg.since) {
        // A resume point says where to start, not `--since` again.
        (Some(r), _) => {
            own.push(format!("from={}", r.offset));
            own.push(format!("inode={}", r.inode));
            if let Some(tag) = r.tag {
                own.push(format!("tag={tag}"));
            }
            if let Some(born) = r.born {
                own.push(format!("born={born}"));
            }
        }
        (None, Some(t)) => own.push(format!("since={}", query_value(t))),
        (None, None) => own.push(format!("lines={}", cfg.lines)),
    }
    let base = source.target();
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}{}", own.join("&"))
}

/// A query value percent-encoded: only ASCII letters, digits and `-._~`
/// stand as they are (a `+`, `&` or `%` in a `--match` text is meant).
fn query_value(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The connection's stream: a read or write that a signal interrupts
/// (Ctrl-Z and `fg`) is made again, never taken for a lost connection.
type Stream = Restarting<TcpStream>;

/// An open WebSocket connection.
pub(super) struct Session {
    ws: WebSocket<Stream>,
    last_heard: Instant,
    probe_sent: Option<Instant>,
}

impl Session {
    /// Connects and makes the handshake for `target`.
    pub fn open(source: &Source, token: Option<&str>, target: &str) -> Result<Session, Stop> {
        let tcp = connect(source)?;
        let _ = tcp.set_read_timeout(Some(IO_TIMEOUT));
        let _ = tcp.set_write_timeout(Some(IO_TIMEOUT));
        let _ = tcp.set_nodelay(true);
        let mut stream = Restarting(tcp);
        let key = client_key();
        let mut request = format!(
            "GET {target} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {key}\r\nUser-Agent: wstail/{VERSION}\r\n",
            source.host_header()
        );
        if let Some(token) = token {
            if !token.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(Stop::Fatal("the token cannot be sent in a header".into()));
            }
            // A header rather than token= keeps it out of proxies' access logs.
            request.push_str(&format!("Authorization: Bearer {token}\r\n"));
        }
        request.push_str("\r\n");
        stream
            .write_all(request.as_bytes())
            .map_err(handshake_lost)?;
        let (answer, mut rest) = read_answer(&mut stream)?;
        if answer.status != 101 {
            read_first_line(&mut stream, &mut rest);
            let phrase = Some(answer.phrase.as_str()).filter(|p| !p.is_empty());
            return Err(refusal(answer.status, phrase, Some(&rest)));
        }
        let upgrade = answer
            .header("upgrade")
            .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
        let connection = answer.header("connection").is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim().eq_ignore_ascii_case("upgrade"))
        });
        if !upgrade || !connection {
            return Err(Stop::Retry(
                "the handshake failed (the answer is not a WebSocket upgrade)".into(),
            ));
        }
        if answer.header("sec-websocket-accept") != Some(derive_accept_key(key.as_bytes()).as_str())
        {
            return Err(Stop::Retry(
                "the handshake failed (wrong Sec-WebSocket-Accept)".into(),
            ));
        }
        let config = WebSocketConfig::default()
            .max_message_size(Some(MAX_MESSAGE))
            .max_frame_size(Some(MAX_MESSAGE));
        let ws = WebSocket::from_partially_read(stream, rest, Role::Client, Some(config));
        let _ = ws.get_ref().get_ref().set_read_timeout(Some(READ_POLL));
        Ok(Session {
            ws,
            last_heard: Instant::now(),
            probe_sent: None,
        })
    }

    /// The next text or binary message; `None` after a normal close.
    pub fn next(&mut self) -> Result<Option<Received>, Stop> {
        let ws = &mut self.ws;
        loop {
            let msg = match ws.read() {
                Ok(m) => m,
                Err(WsError::Io(e)) if timed_out(&e) => {
                    if let Some(sent) = self.probe_sent {
                        if sent.elapsed() >= PROBE_TIMEOUT {
                            return Err(Stop::Retry(format!(
                                "connection lost (no answer from the server for {} s)",
                                self.last_heard.elapsed().as_secs()
                            )));
                        }
                    } else if self.last_heard.elapsed() >= PROBE_AFTER {
                        self.probe_sent = Some(Instant::now());
                        let _ = ws.send(Message::Ping(Vec::new().into()));
                    }
                    continue;
                }
                Err(
                    WsError::ConnectionClosed
                    | WsError::AlreadyClosed
                    | WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake),
                ) => {
                    return Err(Stop::Retry("connection lost".into()));
                }
                Err(e) => return Err(Stop::Retry(format!("connection lost ({e})"))),
            };
            self.last_heard = Instant::now();
            self.probe_sent = None;
            match msg {
                Message::Text(t) => return Ok(Some(Received::Text(t))),
                Message::Binary(b) => return Ok(Some(Received::Meta(b))),
                // tungstenite queued the Pong; send it now.
                Message::Ping(_) => {
                    let _ = ws.flush();
                }
                Message::Pong(_) | Message::Frame(_) => {}
                Message::Close(frame) => {
                    // Let tungstenite answer the Close.
                    let _ = ws.flush();
                    return match frame {
                        None => Ok(None),
                        Some(f) if f.code == CloseCode::Normal => Ok(None),
                        Some(f) => Err(Stop::Retry(if f.reason.is_empty() {
                            format!("the server closed the connection ({})", u16::from(f.code))
                        } else {
                            format!(
                                "the server closed the connection ({}: {})",
                                u16::from(f.code),
                                f.reason
                            )
                        })),
                    };
                }
            }
        }
    }

    /// Closes politely on the way out: the server logs a clean close.
    pub fn close(mut self) {
        let _ = self.ws.close(None);
        let _ = self.ws.flush();
    }
}

/// Opens the TCP connection, trying each address of the host in turn.
fn connect(source: &Source) -> Result<TcpStream, Stop> {
    let host = source.host.as_str();
    let addrs = (host, source.port)
        .to_socket_addrs()
        .map_err(|e| Stop::Retry(format!("cannot resolve '{host}': {e}")))?;
    let mut last = None;
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) {
            Ok(s) => return Ok(s),
            Err(e) => last = Some(e),
        }
    }
    Err(Stop::Retry(match last {
        Some(e) => format!(
            "cannot connect to {}: {e} (is 'wstail serve' running there?)",
            source.authority()
        ),
        None => format!("'{host}' has no address"),
    }))
}

/// The head of the server's answer to the handshake.
struct Answer {
    status: u16,
    phrase: String,
    /// Names lower-cased, values trimmed.
    headers: Vec<(String, String)>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A read or write of the handshake failed.
fn handshake_lost(e: io::Error) -> Stop {
    Stop::Retry(if timed_out(&e) {
        format!(
            "the server did not answer the handshake within {} s",
            IO_TIMEOUT.as_secs()
        )
    } else {
        format!("connection lost during the handshake ({e})")
    })
}

/// Reads the answer's head (bounded); returns it and the bytes after it.
fn read_answer(stream: &mut Stream) -> Result<(Answer, Vec<u8>), Stop> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        if buf.len() > MAX_ANSWER_HEAD {
            return Err(Stop::Retry(format!(
                "the handshake failed (the answer's head is longer than {} KiB)",
                MAX_ANSWER_HEAD / 1024
            )));
        }
        match stream.read(&mut chunk) {
            Ok(0) => {
                return Err(Stop::Retry(
                    "connection lost during the handshake (the server closed it)".into(),
                ));
            }
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) => return Err(handshake_lost(e)),
        }
    };
    let rest = buf.split_off(end + 4);
    let head = String::from_utf8_lossy(&buf[..end]);
    parse_answer(&head).map(|a| (a, rest))
}

/// `HTTP/1.1 101 Switching Protocols` and the header lines.
fn parse_answer(head: &str) -> Result<Answer, Stop> {
    let not_http = || Stop::Retry("the handshake failed (the answer is not HTTP)".into());
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let rest = status_line.strip_prefix("HTTP/1.").ok_or_else(not_http)?;
    let mut parts = rest.splitn(3, ' ');
    let _minor = parts.next();
    let status = parts
        .next()
        .filter(|c| c.len() == 3)
        .and_then(|c| c.parse::<u16>().ok())
        .ok_or_else(not_http)?;
    let phrase = parts.next().unwrap_or_default().trim().to_string();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Ok(Answer {
        status,
        phrase,
        headers,
    })
}

/// Reads on until `body` holds a newline (the server's reason is one line),
/// bounded in size and time: the body is only there to be shown.
fn read_first_line(stream: &mut Stream, body: &mut Vec<u8>) {
    let _ = stream.get_ref().set_read_timeout(Some(REFUSAL_READ));
    let mut chunk = [0u8; 512];
    while !body.contains(&b'\n') && body.len() < MAX_REFUSAL_BODY {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
}

/// An HTTP refusal of the handshake: `403 Forbidden: reason`.
/// The reasons of the 403s that waiting may cure (`access::Refusal`): the
/// path names something else than a regular file, or a file the server may
/// not read. Outside the roots, a browser origin, a Host: final.
const WAITABLE_403: [&str; 2] = ["not a regular file", "cannot be read by the server"];

fn refusal(status: u16, phrase: Option<&str>, body: Option<&[u8]>) -> Stop {
    let head = format!("{status} {}", phrase.unwrap_or("Error"));
    // The server's body is "403 Forbidden: the reason\n"; a proxy's may be
    // an HTML page, of which only the status line is worth showing.
    let reason = body
        .map(String::from_utf8_lossy)
        .and_then(|b| b.lines().next().map(str::to_string))
        .map(|line| {
            line.strip_prefix(&head)
                .map(|r| r.trim_start_matches(':').trim().to_string())
                .unwrap_or_default()
        })
        .filter(|r| !r.is_empty() && !r.starts_with('<'));
    let text = match reason {
        Some(r) => format!("{head}: {r}"),
        None => head,
    };
    // What may go away by waiting: a file not there yet (like tail -F), a
    // path that is for now not a readable regular file (a directory, a file
    // the server may not read: tail -F waits for those too), a busy or
    // restarting server, a proxy whose backend is down.
    let unreadable = status == 403 && WAITABLE_403.iter().any(|w| text.contains(w));
    if matches!(status, 404 | 408 | 429) || status >= 500 || unreadable {
        Stop::Retry(text)
    } else {
        Stop::Fatal(text)
    }
}

#[cfg(test)]
mod tests {
    use super::super::resume::Position;
    use super::*;
    use crate::wire::meta::Born;
    use crate::wire::tag::Tag;

    fn request_url(source: &Source, cfg: &TailConfig, point: Option<Resume>) -> String {
        let target = request_target(source, cfg, point);
        format!("ws://{}{target}", source.host_header())
    }

    #[test]
    fn request_urls() {
        let cfg = TailConfig {
            lines: 7,
            follow: true,
            html: false,
            token: None,
            retry: true,
            since: None,
            matches: vec![],
            excludes: vec![],
            urls: vec![],
        };
        let source = Source::parse("ws://h:1/f?match=a").unwrap();
        let mut position = Position::new();
        assert_eq!(
            request_url(&source, &cfg, position.point()),
            "ws://h:1/f?match=a&format=text&tail=1&meta=1&lines=7"
        );
        position.reported(Resume {
            offset: 10,
            inode: 3,
            tag: Some(Tag(0xab)),
            born: Some(Born { secs: 7, nanos: 8 }),
        });
        assert_eq!(
            request_url(&source, &cfg, position.point()),
            "ws://h:1/f?match=a&format=text&tail=1&meta=1&from=10&inode=3&tag=00000000000000ab&born=7.000000008"
        );
        position.printed(b"12345", true);
        assert_eq!(
            request_url(&source, &cfg, position.point()),
            "ws://h:1/f?match=a&format=text&tail=1&meta=1&from=15&inode=3&born=7.000000008"
        );
        position.printed(b"", false);
        assert_eq!(position.point().unwrap().offset, 10);
    }

    #[test]
    fn history_parameters() {
        let cfg = TailConfig {
            lines: 7,
            follow: true,
            html: false,
            token: None,
            retry: true,
            since: Some("2026-12-01 14:02".into()),
            matches: vec!["a&b".into(), "100% +x".into()],
            excludes: vec!["é".into()],
            urls: vec![],
        };
        let source = Source::parse("ws://h:1/f").unwrap();
        assert_eq!(
            request_url(&source, &cfg, None),
            "ws://h:1/f?format=text&tail=1&meta=1&match=a%26b&match=100%25%20%2Bx&exclude=%C3%A9&since=2026-12-01%2014%3A02"
        );
        // Resuming: from= says where, not --since again.
        let resume = Some(Resume {
            offset: 10,
            inode: 3,
            tag: None,
            born: None,
        });
        assert_eq!(
            request_url(&source, &cfg, resume),
            "ws://h:1/f?format=text&tail=1&meta=1&match=a%26b&match=100%25%20%2Bx&exclude=%C3%A9&from=10&inode=3"
        );
    }

    #[test]
    fn answers() {
        let a = parse_answer("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nconnection:Upgrade\r\nSec-WebSocket-Accept:  s3pPLMBiTxaQ9kYGzzhZRbK+xOo= ").ok().unwrap();
        assert_eq!((a.status, a.phrase.as_str()), (101, "Switching Protocols"));
        assert_eq!(a.header("upgrade"), Some("websocket"));
        assert_eq!(a.header("connection"), Some("Upgrade"));
        assert_eq!(
            a.header("sec-websocket-accept"),
            Some("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        );
        let a = parse_answer("HTTP/1.0 403 Forbidden").ok().unwrap();
        assert_eq!(
            (a.status, a.phrase.as_str(), a.headers.len()),
            (403, "Forbidden", 0)
        );
        let a = parse_answer("HTTP/1.1 404").ok().unwrap();
        assert_eq!((a.status, a.phrase.as_str()), (404, ""));
        for bad in [
            "",
            "SSH-2.0-OpenSSH",
            "HTTP/2 200 OK",
            "HTTP/1.1 20 OK",
            "HTTP/1.1 abc OK",
        ] {
            match parse_answer(bad) {
                Err(Stop::Retry(t)) => {
                    assert_eq!(
                        t, "the handshake failed (the answer is not HTTP)",
                        "{bad:?}"
                    )
                }
                _ => panic!("{bad:?} passed"),
            }
        }
    }

    #[test]
    fn refusals() {
        let body = b"403 Forbidden: the path is outside the served roots\n";
        match refusal(403, Some("Forbidden"), Some(body)) {
            Stop::Fatal(t) => {
                assert_eq!(t, "403 Forbidden: the path is outside the served roots");
            }
            _ => panic!("403 is final"),
        }
        match refusal(503, Some("Service Unavailable"), Some(b"<html>")) {
            Stop::Retry(t) => assert_eq!(t, "503 Service Unavailable"),
            _ => panic!("503 is retried"),
        }
        assert!(matches!(
            refusal(404, Some("Not Found"), None),
            Stop::Retry(_)
        ));
        assert!(matches!(refusal(401, None, None), Stop::Fatal(_)));
        for waitable in [
            &b"403 Forbidden: the path is a directory, not a regular file\n"[..],
            b"403 Forbidden: the path is not a regular file\n",
            b"403 Forbidden: the file cannot be read by the server\n",
        ] {
            assert!(matches!(
                refusal(403, Some("Forbidden"), Some(waitable)),
                Stop::Retry(_)
            ));
        }
    }
}
