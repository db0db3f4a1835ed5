//! One connection to a wstail server: the TCP connect (each address of the
//! host in turn), tungstenite's blocking client handshake — the whole
//! answer bounded by one deadline, a refusal's status, kind and reason
//! read from it —, then the messages one at a time, with the server's Pings
//! answered and a silent server probed with a Ping of our own. Whether to
//! connect again is not decided here but in `mod.rs` (from `refusal.rs`'s
//! verdict).

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use tungstenite::client::IntoClientRequest;
use tungstenite::error::ProtocolError;
use tungstenite::handshake::HandshakeError;
use tungstenite::http::Uri;
use tungstenite::protocol::WebSocketConfig;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::{Bytes, ClientRequestBuilder, Error as WsError, Message, Utf8Bytes, WebSocket};
use url::Url;

use super::refusal::{KIND_HEADER, refusal};
use super::resume::Resume;
use super::source::Source;
use crate::cli::VERSION;
use crate::cli::config::TailConfig;
use crate::net::{Restarting, timed_out};

/// Time allowed to open a TCP connection to one address of the server.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Time allowed for the whole handshake: the request written and the
/// server's whole answer read. A server that drips its answer a byte at a
/// time must not hold the client longer than this.
pub(super) const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Time allowed for any write once connected: a server that stops reading
/// must not hang the client for ever.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// How often a blocked read wakes up to check that the server is alive.
const READ_POLL: Duration = Duration::from_secs(5);

/// After this long without hearing anything (the server pings every 30 s by
/// default), the client sends a Ping of its own ...
const PROBE_AFTER: Duration = Duration::from_secs(60);

/// ... and counts the connection as lost when nothing comes back this soon
/// after it. A vanished host (no FIN, no RST) is noticed in 90 s at most.
const PROBE_TIMEOUT: Duration = Duration::from_secs(30);

/// Most of a refusal's body read to show its reason, and how long to wait
/// for the rest of it after the answer's head (within the handshake's
/// deadline): the status alone is shown if it does not come.
const MAX_REFUSAL_BODY: usize = 2048;
const REFUSAL_READ: Duration = Duration::from_secs(2);

/// Largest message accepted from a server. The server sends at most 64 KiB of
/// file bytes per message; HTML escaping and colour spans can grow that
/// several times. tungstenite's default (64 MiB) would let a hostile server
/// make us allocate far more.
const MAX_MESSAGE: usize = 8 << 20;

/// Why a connection ended, short of a normal close. The texts are as the
/// server gave them: `Stream::say` filters them on the way to the terminal.
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

/// Where a connection starts when there is no resume point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Fresh<'a> {
    /// The last N lines.
    Lines(usize),
    /// The first line stamped at or after the time (`--since`).
    Since(&'a str),
}

impl Fresh<'_> {
    pub fn of(cfg: &TailConfig) -> Fresh<'_> {
        match &cfg.since {
            Some(t) => Fresh::Since(t),
            None => Fresh::Lines(cfg.lines),
        }
    }
}

/// The URL of one connection: the user's URL with the client's own
/// parameters, resuming at `point` when there is one, else at `fresh`.
/// `follow` asks for `tail=1`, `meta` for the offset frames.
pub(super) fn request_url(
    source: &Source,
    cfg: &TailConfig,
    follow: bool,
    meta: bool,
    fresh: Fresh,
    point: Option<Resume>,
) -> Url {
    let mut own: Vec<(&str, String)> =
        vec![("format", if cfg.html { "html" } else { "text" }.into())];
    if follow {
        own.push(("tail", "1".into()));
    }
    if meta {
        own.push(("meta", "1".into()));
    }
    own.extend(cfg.matches.iter().map(|t| ("match", t.clone())));
    own.extend(cfg.excludes.iter().map(|t| ("exclude", t.clone())));
    match (point, fresh) {
        // A resume point says where to start, not `--since` again.
        (Some(r), _) => {
            own.push(("from", r.offset.to_string()));
            own.push(("inode", r.inode.to_string()));
            if let Some(tag) = r.tag {
                own.push(("tag", tag.to_string()));
            }
            if let Some(born) = r.born {
                own.push(("born", born.to_string()));
            }
        }
        (None, Fresh::Since(t)) => own.push(("since", t.to_string())),
        (None, Fresh::Lines(n)) => own.push(("lines", n.to_string())),
    }
    source.request(&own)
}

/// The connection's stream: during the handshake every read and write is
/// bounded by the handshake's deadline (the socket's timeout set to what
/// is left of it before each call); after it, by the socket's own
/// timeouts. Wrapped in `Restarting`, a call that a signal interrupts
/// (Ctrl-Z and `fg`) is made again — with the time left recounted —,
/// never taken for a lost connection.
pub(super) struct Bounded {
    tcp: TcpStream,
    deadline: Option<Instant>,
}

impl Bounded {
    /// Sets the socket's timeout for one call to what is left before the
    /// deadline; an error once it has passed.
    fn limit(&self, set: fn(&TcpStream, Option<Duration>) -> io::Result<()>) -> io::Result<()> {
        let Some(deadline) = self.deadline else {
            return Ok(());
        };
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the handshake's time ran out",
            ));
        }
        set(&self.tcp, Some(left))
    }
}

impl Read for Bounded {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.limit(TcpStream::set_read_timeout)?;
        self.tcp.read(buf)
    }
}

impl Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.limit(TcpStream::set_write_timeout)?;
        self.tcp.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.tcp.flush()
    }
}

type Stream = Restarting<Bounded>;

/// An open WebSocket connection.
pub(super) struct Session {
    ws: WebSocket<Stream>,
    last_heard: Instant,
    probe_sent: Option<Instant>,
}

impl Session {
    /// Connects and makes the handshake for `url`.
    pub fn open(source: &Source, token: Option<&str>, url: &Url) -> Result<Session, Stop> {
        let tcp = connect(source)?;
        let _ = tcp.set_nodelay(true);
        let deadline = Instant::now() + HANDSHAKE_TIMEOUT;
        // A second handle on the socket, to read the rest of a refusal's
        // body after tungstenite has given up the stream with the error.
        let spare = tcp.try_clone().ok();
        let stream = Restarting(Bounded {
            tcp,
            deadline: Some(deadline),
        });
        let uri: Uri = url
            .as_str()
            .parse()
            .map_err(|e| Stop::Fatal(format!("the URL cannot be requested ({e})")))?;
        let mut request =
            ClientRequestBuilder::new(uri).with_header("User-Agent", format!("wstail/{VERSION}"));
        if let Some(token) = token {
            if !token.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(Stop::Fatal("the token cannot be sent in a header".into()));
            }
            // A header rather than token= keeps it out of proxies' access logs.
            request = request.with_header("Authorization", format!("Bearer {token}"));
        }
        let request = request
            .into_client_request()
            .map_err(|e| Stop::Fatal(format!("the request cannot be made ({e})")))?;
        let config = WebSocketConfig::default()
            .max_message_size(Some(MAX_MESSAGE))
            .max_frame_size(Some(MAX_MESSAGE));
        let mut attempt = tungstenite::client::client_with_config(request, stream, Some(config));
        let mut ws = loop {
            match attempt {
                Ok((ws, _answer)) => break ws,
                // A read ran into the socket's timeout, which was the time
                // left: the next read finds the deadline passed.
                Err(HandshakeError::Interrupted(mid)) => attempt = mid.handshake(),
                Err(HandshakeError::Failure(e)) => {
                    return Err(handshake_failed(e, spare, deadline));
                }
            }
        };
        let bounded = &mut ws.get_mut().0;
        bounded.deadline = None;
        let _ = bounded.tcp.set_read_timeout(Some(READ_POLL));
        let _ = bounded.tcp.set_write_timeout(Some(WRITE_TIMEOUT));
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

/// What a failed handshake means: a refusal (with the rest of its body
/// read through `spare`, within the deadline), a time-out, a lost
/// connection, an answer that is no WebSocket upgrade.
fn handshake_failed(e: WsError, spare: Option<TcpStream>, deadline: Instant) -> Stop {
    match e {
        WsError::Http(answer) => {
            let mut body = answer.body().clone().unwrap_or_default();
            if let Some(tcp) = spare {
                let until = deadline.min(Instant::now() + REFUSAL_READ);
                read_first_line(tcp, until, &mut body);
            }
            let kind = answer
                .headers()
                .get(KIND_HEADER)
                .and_then(|v| v.to_str().ok());
            refusal(answer.status().as_u16(), kind, &body)
        }
        WsError::Io(e) if timed_out(&e) => Stop::Retry(format!(
            "the server did not answer the handshake within {} s",
            HANDSHAKE_TIMEOUT.as_secs()
        )),
        WsError::Io(e) => Stop::Retry(format!("connection lost during the handshake ({e})")),
        WsError::Protocol(ProtocolError::HandshakeIncomplete) => {
            Stop::Retry("connection lost during the handshake (the server closed it)".into())
        }
        WsError::Url(e) => Stop::Fatal(format!("the URL cannot be requested ({e})")),
        WsError::HttpFormat(e) => Stop::Fatal(format!("the request cannot be made ({e})")),
        // Not HTTP, not an upgrade, a wrong Sec-WebSocket-Accept, a head too
        // long: another program answers there, or a proxy in between.
        e => Stop::Retry(format!("the handshake failed ({e})")),
    }
}

/// Reads on until `body` holds a newline (the server's reason is one line),
/// bounded in size and time: the body is only there to be shown.
fn read_first_line(tcp: TcpStream, until: Instant, body: &mut Vec<u8>) {
    let mut stream = Restarting(Bounded {
        tcp,
        deadline: Some(until),
    });
    let mut chunk = [0u8; 512];
    while !body.contains(&b'\n') && body.len() < MAX_REFUSAL_BODY {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    body.truncate(MAX_REFUSAL_BODY);
}

#[cfg(test)]
mod tests {
    use super::super::resume::Position;
    use super::*;
    use crate::wire::meta::Born;
    use crate::wire::tag::Tag;

    fn cfg() -> TailConfig {
        TailConfig {
            lines: 7,
            follow: true,
            html: false,
            token: None,
            retry: true,
            since: None,
            matches: vec![],
            excludes: vec![],
            merge: false,
            urls: vec![],
        }
    }

    fn url(source: &Source, cfg: &TailConfig, point: Option<Resume>) -> String {
        request_url(source, cfg, cfg.follow, true, Fresh::of(cfg), point).to_string()
    }

    #[test]
    fn request_urls() {
        let cfg = cfg();
        let source = Source::parse("ws://h:1/f?match=a").unwrap();
        let mut position = Position::new();
        assert_eq!(
            url(&source, &cfg, position.point()),
            "ws://h:1/f?match=a&format=text&tail=1&meta=1&lines=7"
        );
        position.reported(Resume {
            offset: 10,
            inode: 3,
            tag: Some(Tag(0xab)),
            born: Some(Born { secs: 7, nanos: 8 }),
        });
        assert_eq!(
            url(&source, &cfg, position.point()),
            "ws://h:1/f?match=a&format=text&tail=1&meta=1&from=10&inode=3&tag=00000000000000ab&born=7.000000008"
        );
        position.printed(b"12345", true);
        assert_eq!(
            url(&source, &cfg, position.point()),
            "ws://h:1/f?match=a&format=text&tail=1&meta=1&from=15&inode=3&born=7.000000008"
        );
        position.printed(b"", false);
        assert_eq!(position.point().unwrap().offset, 10);
        // The first connection of a merged source: no tail=1, meta=1.
        assert_eq!(
            request_url(&source, &cfg, false, true, Fresh::Lines(0), None).as_str(),
            "ws://h:1/f?match=a&format=text&meta=1&lines=0"
        );
    }

    #[test]
    fn history_parameters() {
        let cfg = TailConfig {
            since: Some("2026-12-01 14:02".into()),
            matches: vec!["a&b".into(), "100% +x".into()],
            excludes: vec!["\u{e9}".into()],
            ..cfg()
        };
        let source = Source::parse("ws://h:1/f").unwrap();
        assert_eq!(
            url(&source, &cfg, None),
            "ws://h:1/f?format=text&tail=1&meta=1&match=a%26b&match=100%25+%2Bx&exclude=%C3%A9&since=2026-12-01+14%3A02"
        );
        // Resuming: from= says where, not --since again.
        let resume = Some(Resume {
            offset: 10,
            inode: 3,
            tag: None,
            born: None,
        });
        assert_eq!(
            url(&source, &cfg, resume),
            "ws://h:1/f?format=text&tail=1&meta=1&match=a%26b&match=100%25+%2Bx&exclude=%C3%A9&from=10&inode=3"
        );
    }

    /// Every URL the `url` crate writes is one tungstenite's request takes:
    /// the characters a path or query may still hold pass `http::Uri`.
    #[test]
    fn url_spellings_are_requests() {
        for given in [
            "ws://h/a|b^c[d]!$'()*,;=:@~",
            "ws://h/%zz/\u{e9}\u{1f600} x",
            "ws://[::1]:8765/x?match=a|b^c[d]{e}\"<>`",
            "http://127.0.0.1/x",
        ] {
            let source = Source::parse(given).unwrap();
            let url = source.request(&[("match", "a b&c\u{7f}".into())]);
            let uri: Result<Uri, _> = url.as_str().parse();
            assert!(uri.is_ok(), "{given}: {url} {uri:?}");
            let request = ClientRequestBuilder::new(uri.unwrap()).into_client_request();
            assert!(request.is_ok(), "{given}");
        }
    }
}
