//! `wstail tail`: the terminal client. It asks a wstail server for
//! `format=text` (so colours pass through to the terminal), prints what comes,
//! and answers the server's heartbeats. Like the server it is synchronous:
//! one thread per URL, each a blocking tungstenite connection with read
//! timeouts, and a channel that tells `run` how each one ended.
//!
//! With one URL the text is printed as it arrives, flushed per message. With
//! several, each thread keeps its partial line and prints only whole lines,
//! each prefixed with its source like `grep` does with several files, under
//! one lock on standard output, so lines never mix mid-line.
//!
//! `--retry` behaves like `tail -F`: a dropped connection (or one that cannot
//! be made, or a refusal that may go away: 404, 408, 429, 5xx) is tried again
//! after 0.5 s, doubling to at most 30 s. The client asks for `meta=1` and
//! keeps the last `{"offset":N,"inode":I}` it got, and resumes with
//! `from=N&inode=I`, so nothing is lost or printed twice.
//!
//! A closed standard output (`wstail tail -f URL | head -3`) ends the client
//! quietly with status 0, as coreutils' `tail` does: the reader has what it
//! wanted. Rust ignores SIGPIPE, so this shows up as a `BrokenPipe` error.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tungstenite::client::IntoClientRequest;
use tungstenite::error::ProtocolError;
use tungstenite::handshake::HandshakeError;
use tungstenite::http::HeaderValue;
use tungstenite::protocol::WebSocketConfig;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::{Error as WsError, Message, WebSocket};
use url::Url;

use crate::cli::VERSION;
use crate::config::TailConfig;
use crate::meta::Meta;

/// Time allowed to open a TCP connection to one address of the server.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Time allowed for the server's handshake answer, and for any write: a
/// server that stops reading must not hang the client for ever.
const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// How often a blocked read wakes up to check that the server is alive.
const READ_POLL: Duration = Duration::from_secs(5);

/// After this long without hearing anything (the server pings every 30 s by
/// default), the client sends a Ping of its own ...
const PROBE_AFTER: Duration = Duration::from_secs(60);

/// ... and counts the connection as lost when nothing comes back this soon
/// after it. A vanished host (no FIN, no RST) is noticed in 90 s at most.
const PROBE_TIMEOUT: Duration = Duration::from_secs(30);

/// Most of a refusal's body read to show its reason, and how long to wait
/// for it: the status alone is shown if it does not come.
const MAX_REFUSAL_BODY: usize = 2048;
const REFUSAL_READ: Duration = Duration::from_secs(2);

/// First pause before reconnecting, doubled after each failed try ...
const RETRY_FIRST: Duration = Duration::from_millis(500);

/// ... up to this cap, like `tail -F` that keeps trying at a slow pace.
const RETRY_CAP: Duration = Duration::from_secs(30);

/// Largest message accepted from a server. The server sends at most 64 KiB of
/// file bytes per message; HTML escaping and colour spans can grow that
/// several times. tungstenite's default (64 MiB) would let a hostile server
/// make us allocate far more.
const MAX_MESSAGE: usize = 8 << 20;

/// With several URLs, a partial line longer than this is printed (with a
/// newline added) rather than held: a file without newlines must not grow
/// the client's memory without bound.
const MAX_HELD_LINE: usize = 1 << 20;

/// Runs `wstail tail` until every stream has ended. `Ok` when each ended
/// normally, or when standard output was closed by its reader.
pub fn run(cfg: TailConfig) -> Result<(), TailError> {
    let mut sources = Vec::with_capacity(cfg.urls.len());
    for given in &cfg.urls {
        match Source::parse(given) {
            Ok(s) => sources.push(s),
            Err(error) => {
                return Err(TailError::Url {
                    given: given.clone(),
                    error,
                });
            }
        }
    }
    let multi = sources.len() > 1;
    if multi {
        set_prefixes(&mut sources);
    }
    let (tx, rx) = mpsc::channel();
    let mut started = 0;
    for source in sources {
        let tx = tx.clone();
        let cfg = cfg.clone();
        std::thread::Builder::new()
            .name("wstail-tail".to_string())
            .spawn(move || {
                let outcome = Stream::new(source, &cfg, multi).run();
                let _ = tx.send(outcome);
            })
            .map_err(TailError::Thread)?;
        started += 1;
    }
    drop(tx);
    let mut failed = false;
    let mut ended = 0;
    // Ends when every thread has sent its outcome (or died without one).
    while let Ok(outcome) = rx.recv() {
        ended += 1;
        match outcome {
            Outcome::Done => {}
            Outcome::Failed => failed = true,
            // The reader is gone: nothing more can be shown to anyone.
            Outcome::PipeClosed => return Ok(()),
            Outcome::OutputError(e) => return Err(TailError::Output(e)),
        }
    }
    if failed || ended < started {
        Err(TailError::Failed)
    } else {
        Ok(())
    }
}

/// Why `wstail tail` failed; `main` prints it and picks the exit status.
#[derive(Debug)]
pub enum TailError {
    /// A URL on the command line is wrong (exit status 2).
    Url { given: String, error: UrlError },
    /// A stream's thread could not be started.
    Thread(io::Error),
    /// Standard output failed (not by its reader closing it).
    Output(io::Error),
    /// A stream was refused or lost; it said why on standard error.
    Failed,
}

impl TailError {
    pub fn exit_status(&self) -> u8 {
        match self {
            TailError::Url { .. } => 2,
            _ => 1,
        }
    }
}

impl fmt::Display for TailError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TailError::Url { given, error } => write!(f, "{given}: {error}"),
            TailError::Thread(e) => write!(f, "cannot start a thread: {e}"),
            TailError::Output(e) => write!(f, "cannot write to standard output: {e}"),
            TailError::Failed => f.write_str("a stream failed"),
        }
    }
}

/// How one URL's stream ended.
#[derive(Debug)]
enum Outcome {
    /// The server closed normally (code 1000): the tail was complete.
    Done,
    /// A refusal or a lost connection, already reported on standard error.
    Failed,
    /// Standard output was closed by its reader.
    PipeClosed,
    /// Standard output failed otherwise (disk full ...).
    OutputError(io::Error),
}

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
struct Source {
    /// The URL as given, for messages.
    given: String,
    /// `ws://` URL with the user's own query parameters (match=, exclude=)
    /// but none of those the client sets itself.
    base: Url,
    host: String,
    port: u16,
    /// The user's query holds match= or exclude=: text bytes then no longer
    /// equal file bytes.
    filtered: bool,
    /// Line prefix with several URLs (empty with one).
    prefix: String,
}

/// Query parameters the client sets itself; the user's values are dropped.
const OWN_PARAMS: [&str; 6] = ["tail", "lines", "format", "meta", "from", "inode"];

impl Source {
    fn parse(given: &str) -> Result<Source, UrlError> {
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

    /// The file path, percent-decoded, for the line prefix.
    fn path(&self) -> String {
        let raw = self.base.path().as_bytes();
        let mut out = Vec::with_capacity(raw.len());
        let mut i = 0;
        while i < raw.len() {
            let hex = |b: Option<&u8>| b.and_then(|&b| (b as char).to_digit(16));
            if raw[i] == b'%'
                && let (Some(h), Some(l)) = (hex(raw.get(i + 1)), hex(raw.get(i + 2)))
            {
                out.push((h * 16 + l) as u8);
                i += 3;
            } else {
                out.push(raw[i]);
                i += 1;
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    fn authority(&self) -> String {
        match self.base.host() {
            Some(url::Host::Ipv6(a)) => format!("[{a}]:{}", self.port),
            _ => format!("{}:{}", self.host, self.port),
        }
    }
}

/// Line prefixes for several URLs, like grep's `FILE:`: the file path when
/// every URL names the same server, else `HOST:PORT/PATH`.
fn set_prefixes(sources: &mut [Source]) {
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

/// Where to pick up after a dropped connection.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Resume {
    offset: u64,
    inode: u64,
}

/// Why a connection ended, short of a normal close.
enum Stop {
    /// Worth trying again with `--retry`; the text says what happened.
    Retry(String),
    /// Will not get better by waiting (a 401, a 403 ...).
    Fatal(String),
    /// Standard output is gone or broken.
    Output(io::Error),
}

/// One URL's stream: its connections, one after another with `--retry`.
struct Stream {
    source: Source,
    lines: usize,
    follow: bool,
    html: bool,
    token: Option<String>,
    retry: bool,
    /// `--since`, `--match`, `--exclude` as query pairs (`since` first).
    history: Vec<(&'static str, String)>,
    multi: bool,
    /// The last position the server reported.
    resume: Option<Resume>,
    /// Text bytes printed since that report. The server sends each text
    /// message and its offset frame in one write, and its starting point
    /// before any text, so this is almost always 0 when a connection drops.
    unconfirmed: u64,
    /// Those bytes are exactly file bytes (text format, no filter, no U+FFFD
    /// replacement), so the resume point may be advanced by them.
    unconfirmed_exact: bool,
    /// With several URLs: the partial last line, held until its newline.
    held: Vec<u8>,
}

impl Stream {
    fn new(source: Source, cfg: &TailConfig, multi: bool) -> Stream {
        Stream {
            source,
            lines: cfg.lines,
            follow: cfg.follow,
            html: cfg.html,
            token: cfg.token.clone(),
            retry: cfg.retry,
            history: history_params(cfg),
            multi,
            resume: None,
            unconfirmed: 0,
            unconfirmed_exact: true,
            held: Vec::new(),
        }
    }

    fn say(&self, what: &str) {
        eprintln!("wstail: {}: {what}", self.source.given);
    }

    /// Connects (again and again with `--retry`) until the stream ends.
    fn run(mut self) -> Outcome {
        let mut delay = RETRY_FIRST;
        let mut retrying = false;
        loop {
            let result = self.session(&mut retrying, &mut delay);
            let stop = match result {
                Ok(()) => {
                    return match self.finish() {
                        Ok(()) => Outcome::Done,
                        Err(e) => output_outcome(e),
                    };
                }
                Err(stop) => stop,
            };
            match stop {
                Stop::Output(e) => return output_outcome(e),
                Stop::Retry(why) if self.retry => {
                    self.say(&format!("{why}; retrying in {}", seconds(delay)));
                    std::thread::sleep(delay);
                    delay = (delay * 2).min(RETRY_CAP);
                    retrying = true;
                }
                Stop::Retry(why) | Stop::Fatal(why) => {
                    self.say(&why);
                    let _ = self.finish();
                    return Outcome::Failed;
                }
            }
        }
    }

    /// The request URL for the next connection.
    fn request_url(&self) -> Url {
        let mut url = self.source.base.clone();
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("format", if self.html { "html" } else { "text" });
            if self.follow {
                q.append_pair("tail", "1");
            }
            if self.follow || self.retry {
                q.append_pair("meta", "1");
            }
            let resume = self.resume_point();
            for (key, value) in &self.history {
                // A resume point says where to start; since= would not.
                if !(*key == "since" && resume.is_some()) {
                    q.append_pair(key, value);
                }
            }
            match resume {
                Some(r) => {
                    q.append_pair("from", &r.offset.to_string());
                    q.append_pair("inode", &r.inode.to_string());
                }
                None if self.history.first().is_some_and(|(k, _)| *k == "since") => {}
                None => {
                    q.append_pair("lines", &self.lines.to_string());
                }
            }
        }
        url
    }

    /// Where a new connection should start, if anywhere but the last lines.
    fn resume_point(&self) -> Option<Resume> {
        let mut r = self.resume?;
        if self.unconfirmed_exact {
            r.offset += self.unconfirmed;
        }
        Some(r)
    }

    /// One connection, from the TCP connect to its end.
    fn session(&mut self, retrying: &mut bool, delay: &mut Duration) -> Result<(), Stop> {
        let url = self.request_url();
        let mut stream = self.connect()?;
        let _ = stream.set_read_timeout(Some(IO_TIMEOUT));
        let _ = stream.set_write_timeout(Some(IO_TIMEOUT));
        let _ = stream.set_nodelay(true);
        let mut request = url
            .as_str()
            .into_client_request()
            .map_err(|e| Stop::Fatal(format!("cannot build the request: {e}")))?;
        let headers = request.headers_mut();
        if let Ok(ua) = HeaderValue::from_str(&format!("wstail/{VERSION}")) {
            headers.insert("User-Agent", ua);
        }
        if let Some(token) = &self.token {
            // A header rather than token= keeps it out of proxies' access logs.
            let value = HeaderValue::from_str(&format!("Bearer {token}"))
                .map_err(|_| Stop::Fatal("the token cannot be sent in a header".into()))?;
            headers.insert("Authorization", value);
        }
        let config = WebSocketConfig::default()
            .max_message_size(Some(MAX_MESSAGE))
            .max_frame_size(Some(MAX_MESSAGE));
        // The handshake borrows the stream, so that a refusal's body can
        // still be read from it when tungstenite has not read it all.
        let mut ws =
            match tungstenite::client::client_with_config(request, &mut stream, Some(config)) {
                Ok((ws, _)) => ws,
                Err(HandshakeError::Interrupted(_)) => {
                    return Err(Stop::Retry(format!(
                        "the server did not answer the handshake within {} s",
                        IO_TIMEOUT.as_secs()
                    )));
                }
                Err(HandshakeError::Failure(WsError::Http(response))) => {
                    let mut body = response.body().clone().unwrap_or_default();
                    read_first_line(&mut stream, &mut body);
                    return Err(refusal(
                        response.status().as_u16(),
                        response.status().canonical_reason(),
                        Some(&body),
                    ));
                }
                Err(HandshakeError::Failure(WsError::Io(e))) => {
                    return Err(Stop::Retry(format!(
                        "connection lost during the handshake ({e})"
                    )));
                }
                Err(HandshakeError::Failure(e)) => {
                    return Err(Stop::Retry(format!("the handshake failed ({e})")));
                }
            };
        if *retrying {
            match self.resume_point() {
                Some(r) => self.say(&format!("reconnected; resuming at byte {}", r.offset)),
                None => self.say("reconnected"),
            }
            *retrying = false;
        }
        *delay = RETRY_FIRST;
        let _ = ws.get_ref().set_read_timeout(Some(READ_POLL));
        let result = self.receive(&mut ws);
        if let Err(Stop::Output(_)) = &result {
            // Be polite on the way out: the server logs a clean close.
            let _ = ws.close(None);
            let _ = ws.flush();
        }
        result
    }

    /// Opens the TCP connection, trying each address of the host in turn.
    fn connect(&self) -> Result<TcpStream, Stop> {
        let host = self.source.host.as_str();
        let addrs = (host, self.source.port)
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
                self.source.authority()
            ),
            None => format!("'{host}' has no address"),
        }))
    }

    /// Reads messages until the connection ends.
    fn receive(&mut self, ws: &mut WebSocket<&mut TcpStream>) -> Result<(), Stop> {
        let mut last_heard = Instant::now();
        let mut probe_sent: Option<Instant> = None;
        loop {
            let msg = match ws.read() {
                Ok(m) => m,
                Err(WsError::Io(e))
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    if let Some(sent) = probe_sent {
                        if sent.elapsed() >= PROBE_TIMEOUT {
                            return Err(Stop::Retry(format!(
                                "connection lost (no answer from the server for {} s)",
                                last_heard.elapsed().as_secs()
                            )));
                        }
                    } else if last_heard.elapsed() >= PROBE_AFTER {
                        probe_sent = Some(Instant::now());
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
            last_heard = Instant::now();
            probe_sent = None;
            match msg {
                Message::Text(t) => self.text(t.as_bytes()).map_err(Stop::Output)?,
                Message::Binary(b) => self.meta(&b),
                // tungstenite queued the Pong; send it now.
                Message::Ping(_) => {
                    let _ = ws.flush();
                }
                Message::Pong(_) | Message::Frame(_) => {}
                Message::Close(frame) => {
                    // Let tungstenite answer the Close.
                    let _ = ws.flush();
                    return match frame {
                        None => Ok(()),
                        Some(f) if f.code == CloseCode::Normal => Ok(()),
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

    /// Prints one text message.
    fn text(&mut self, data: &[u8]) -> io::Result<()> {
        self.unconfirmed += data.len() as u64;
        if self.html || self.source.filtered || contains_replacement(data) {
            self.unconfirmed_exact = false;
        }
        if !self.multi {
            let mut out = io::stdout().lock();
            out.write_all(data)?;
            return out.flush();
        }
        self.held.extend_from_slice(data);
        let whole = match self.held.iter().rposition(|&b| b == b'\n') {
            Some(i) => i + 1,
            None if self.held.len() > MAX_HELD_LINE => {
                self.held.push(b'\n');
                self.held.len()
            }
            None => return Ok(()),
        };
        let rest = self.held.split_off(whole);
        let lines = std::mem::replace(&mut self.held, rest);
        self.print_prefixed(&lines)
    }

    /// Writes whole lines, each with the prefix, in one locked write.
    fn print_prefixed(&self, lines: &[u8]) -> io::Result<()> {
        let prefix = self.source.prefix.as_bytes();
        let count = lines.iter().filter(|&&b| b == b'\n').count();
        let mut buf = Vec::with_capacity(lines.len() + count * prefix.len());
        for line in lines.split_inclusive(|&b| b == b'\n') {
            buf.extend_from_slice(prefix);
            buf.extend_from_slice(line);
        }
        let mut out = io::stdout().lock();
        out.write_all(&buf)?;
        out.flush()
    }

    /// At the end of a stream: a held partial line is printed with a newline.
    fn finish(&mut self) -> io::Result<()> {
        if self.held.is_empty() {
            return Ok(());
        }
        let mut line = std::mem::take(&mut self.held);
        line.push(b'\n');
        self.print_prefixed(&line)
    }

    /// A binary frame: a resume point or an event; never printed as data.
    fn meta(&mut self, data: &[u8]) {
        let event = match Meta::parse(data) {
            Some(Meta::Position(p)) => {
                self.resume = Some(Resume {
                    offset: p.offset,
                    inode: p.inode,
                });
                self.unconfirmed = 0;
                self.unconfirmed_exact = true;
                return;
            }
            Some(Meta::Event(e)) => e.name,
            _ => return,
        };
        let notice = match event.as_str() {
            "rotated" => "file replaced; following the new file from its start",
            "truncated" => "file truncated; following it from its start",
            "deleted" => "file deleted; waiting for it to come back",
            "recreated" => "file appeared again; following it from its start",
            _ => return,
        };
        self.say(notice);
    }
}

/// Reads on until `body` holds a newline (the server's reason is one line),
/// bounded in size and time: the body is only there to be shown.
fn read_first_line(stream: &mut TcpStream, body: &mut Vec<u8>) {
    let _ = stream.set_read_timeout(Some(REFUSAL_READ));
    let mut chunk = [0u8; 512];
    while !body.contains(&b'\n') && body.len() < MAX_REFUSAL_BODY {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
}

/// An HTTP refusal of the handshake: `403 Forbidden: reason`.
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
    // busy or restarting server, a proxy whose backend is down.
    if matches!(status, 404 | 408 | 429) || status >= 500 {
        Stop::Retry(text)
    } else {
        Stop::Fatal(text)
    }
}

fn output_outcome(e: io::Error) -> Outcome {
    if e.kind() == io::ErrorKind::BrokenPipe {
        Outcome::PipeClosed
    } else {
        Outcome::OutputError(e)
    }
}

/// "0.5 s", "2 s".
fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0} s")
    } else {
        format!("{s:.1} s")
    }
}

/// U+FFFD in UTF-8: the server replaced invalid bytes, so text bytes no
/// longer count file bytes.
fn contains_replacement(data: &[u8]) -> bool {
    data.windows(3).any(|w| w == "\u{fffd}".as_bytes())
}

/// The History parameters of `wstail tail`: `since=` first, then every
/// `match=` and `exclude=`, as query pairs.
fn history_params(cfg: &TailConfig) -> Vec<(&'static str, String)> {
    let since = cfg.since.iter().map(|t| ("since", t.clone()));
    let matches = cfg.matches.iter().map(|t| ("match", t.clone()));
    let excludes = cfg.excludes.iter().map(|t| ("exclude", t.clone()));
    since.chain(matches).chain(excludes).collect()
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
        let mut st = Stream::new(source("ws://h:1/f?match=a"), &cfg, false);
        assert_eq!(
            st.request_url().as_str(),
            "ws://h:1/f?match=a&format=text&tail=1&meta=1&lines=7"
        );
        st.resume = Some(Resume {
            offset: 10,
            inode: 3,
        });
        st.unconfirmed = 5;
        assert_eq!(
            st.request_url().as_str(),
            "ws://h:1/f?match=a&format=text&tail=1&meta=1&from=15&inode=3"
        );
        st.unconfirmed_exact = false;
        assert_eq!(st.resume_point().unwrap().offset, 10);
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
    }

    #[test]
    fn seconds_are_short() {
        assert_eq!(seconds(Duration::from_millis(500)), "0.5 s");
        assert_eq!(seconds(Duration::from_secs(30)), "30 s");
    }
}
