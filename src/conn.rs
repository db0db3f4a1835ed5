//! One connection from start to finish: read the request head, route it
//! (WebSocket follower, page, list, download), apply the token, origin and
//! path rules, and write the connection's one log line when it ends — from a
//! guard's `Drop`, so the line is written on every path, a panic included.

use std::fmt::Write as _;
use std::fs::{File, Metadata};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::{Instant, SystemTime};

use log::{Level, debug, log};
use tungstenite::handshake::derive_accept_key;
use tungstenite::protocol::{Role, WebSocketConfig};
use tungstenite::{Message, WebSocket};

use crate::access;
use crate::chunk::Chunker;
use crate::config::ServeConfig;
use crate::filter::Filter;
use crate::follow::{End, Follower, StartPoint, Timing};
use crate::http::{self, HeadError, Request};
use crate::limits::{MAX_CLIENT_MESSAGE, TAIL_BLOCK, WS_READ_BUFFER};
use crate::logfile::{Change, LogFile};
use crate::meta::Meta;
use crate::query::{self, Query};
use crate::since::{self, Since};
use crate::stall::Stalling;
use crate::tag::Tag;
use crate::timestamp::{self, YearHint};
use crate::{download, generations, list, magic, page};
use crate::{scan, tail};

/// What every connection thread shares: the checked configuration and the
/// page rendered once with the base path.
pub struct Shared {
    pub cfg: ServeConfig,
    pub page: String,
}

impl Shared {
    pub fn new(cfg: ServeConfig) -> Self {
        let page = page::render(&cfg.base_path);
        Shared { cfg, page }
    }
}

/// The connection's log line, written once when it is dropped.
pub struct ConnLog {
    peer: String,
    start: Instant,
    pub target: String,
    pub status: u16,
    pub outcome: String,
    pub sent: u64,
    pub level: Level,
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
            sent: 0,
            level: Level::Info,
            written: false,
        }
    }

    /// Writes the line now (the connection's answer is complete, though its
    /// socket may stay open for a lingering close); the drop then does not.
    pub fn write_now(&mut self) {
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
            self.outcome,
            self.sent,
            self.start.elapsed().as_secs_f64()
        );
    }

    /// Records the request once its head is read.
    pub fn request(&mut self, req: &Request) {
        self.target = format!("{} {}", req.method, log_target(&req.target));
        self.outcome = "closed before an answer".to_string();
    }

    /// Records a refusal (logged at warn).
    pub fn refused(&mut self, status: u16, reason: &str) {
        self.status = status;
        self.outcome = format!("refused: {reason}");
        self.level = Level::Warn;
    }
}

impl Drop for ConnLog {
    fn drop(&mut self) {
        self.write_now();
    }
}

/// The request target as it may appear in the log: the token's value
/// replaced by `***`, control and non-ASCII bytes escaped, and bounded.
pub fn log_target(target: &str) -> String {
    let mut out = String::with_capacity(target.len().min(512));
    let (path, q) = target
        .split_once('?')
        .map_or((target, None), |(p, q)| (p, Some(q)));
    escape_into(&mut out, path);
    if let Some(q) = q {
        out.push('?');
        for (i, pair) in q.split('&').enumerate() {
            if i > 0 {
                out.push('&');
            }
            // Judged by the key as the query parser decodes it, so that
            // a percent-encoded spelling such as `%74oken=` is redacted too.
            let key = pair.split_once('=').map_or(pair, |(k, _)| k);
            if query::form_decode(key) == "token" {
                out.push_str("token=***");
            } else {
                escape_into(&mut out, pair);
            }
        }
    }
    if out.len() > 512 {
        let mut cut = 512;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push_str("...");
    }
    out
}

fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        if c.is_ascii_graphic() && c != '"' && c != '\\' {
            out.push(c);
        } else {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
    }
}

/// Serves one connection from its first byte (`--inetd`'s one connection).
pub fn handle(stream: TcpStream, shared: &Shared) {
    let mut log = ConnLog::new(stream.peer_addr().ok());
    let head = http::read_head(&stream);
    if let Ok(req) = &head {
        log.request(req);
    }
    respond(stream, head, shared, &mut log);
}

/// Answers a connection whose request head has been read (and recorded in
/// `log`), or could not be: a refusal for a bad head, else the route it asks
/// for.
pub fn respond(
    mut stream: TcpStream,
    head: Result<Request, HeadError>,
    shared: &Shared,
    log: &mut ConnLog,
) {
    let req = match head {
        Ok(r) => r,
        Err(e) => {
            let (status, reason) = match e {
                HeadError::Timeout => (
                    408,
                    "the request head did not arrive within 10 s".to_string(),
                ),
                HeadError::TooLarge => (431, "the request head is over 8 KiB".to_string()),
                HeadError::Malformed(r) => (400, r.to_string()),
                HeadError::Closed => return,
                HeadError::Io(e) => (400, format!("the request could not be read: {e}")),
            };
            log.refused(status, &reason);
            if http::refuse(&mut stream, status, &reason, &[]).is_ok() {
                log.write_now();
                http::linger(&stream);
            }
            return;
        }
    };
    // From here on every answer may be large (a download, a follower): a
    // client that takes no data for the stall timeout is dropped.
    let stream = match Stalling::new(stream) {
        Ok(s) => s,
        Err(e) => {
            log.outcome = format!("the socket cannot be set up: {e}");
            return;
        }
    };
    if let Err((status, reason)) = route(stream, &req, shared, log) {
        log.refused(status, &reason);
    }
}

/// A refusal that was answered: status and reason, for the log line.
type Refused = (u16, String);

/// Routes a request; returns the refusal that was answered, if any.
fn route(
    mut stream: Stalling,
    req: &Request,
    shared: &Shared,
    log: &mut ConnLog,
) -> Result<(), Refused> {
    let cfg = &shared.cfg;
    let refuse = |stream: &mut Stalling, status: u16, reason: &str, extra: &[String]| {
        let _ = http::refuse(stream, status, reason, extra);
        Err((status, reason.to_string()))
    };
    let websocket = req.is_websocket();
    let head_only = req.method == "HEAD" && !websocket;
    if req.method != "GET" && !head_only {
        return refuse(
            &mut stream,
            405,
            "only GET is served",
            &["Allow: GET, HEAD".to_string()],
        );
    }
    let q = match query::parse(&req.target) {
        Ok(q) => q,
        Err(reason) => return refuse(&mut stream, 400, &reason, &[]),
    };
    if !access::origin_allowed(req.header("origin"), req.header("host"), &cfg.origins) {
        return refuse(
            &mut stream,
            403,
            "this browser origin is not allowed (see --allow-origin)",
            &[],
        );
    }
    let needs_token = websocket || q.list || q.download;
    if needs_token && let Some(expected) = &cfg.token {
        let given = q.token.as_deref().or_else(|| {
            req.header("authorization").and_then(|a| {
                a.strip_prefix("Bearer ")
                    .or_else(|| a.strip_prefix("bearer "))
            })
        });
        if !given.is_some_and(|g| access::token_matches(expected, g.trim())) {
            let reason = if given.is_none() {
                "a token is required"
            } else {
                "the token is wrong"
            };
            return refuse(
                &mut stream,
                401,
                reason,
                &["WWW-Authenticate: Bearer".to_string()],
            );
        }
    }
    if websocket {
        return serve_websocket(stream, req, &q, shared, log);
    }
    let result = if q.list {
        if q.path != b"/" {
            return refuse(&mut stream, 400, "?list is served at / only", &[]);
        }
        list::serve(&mut stream, &cfg.roots, head_only, log)
    } else if q.download {
        match access::open_path(&cfg.roots, &q.path) {
            Ok((canonical, file, meta)) => {
                download::serve(&mut stream, req, &canonical, file, &meta, head_only, log)
            }
            Err(r) => return refuse(&mut stream, r.status(), r.reason(), &[]),
        }
    } else if q.path == b"/favicon.ico" {
        return refuse(&mut stream, 404, "no favicon", &[]);
    } else {
        page::serve(&mut stream, &shared.page, head_only, log)
    };
    if let Err(e) = result {
        log.outcome = format!("{}; the client went away: {e}", log.outcome);
    }
    Ok(())
}

/// The WebSocket route: checks, handshake, then the follower.
fn serve_websocket(
    mut stream: Stalling,
    req: &Request,
    q: &Query,
    shared: &Shared,
    log: &mut ConnLog,
) -> Result<(), Refused> {
    let cfg = &shared.cfg;
    let mut refuse = |status: u16, reason: &str, extra: &[String]| {
        let _ = http::refuse(&mut stream, status, reason, extra);
        Err((status, reason.to_string()))
    };
    if !req.header_has("connection", "upgrade") {
        return refuse(400, "a WebSocket request needs 'Connection: Upgrade'", &[]);
    }
    if req.header("sec-websocket-version") != Some("13") {
        return refuse(
            426,
            "only WebSocket version 13 is spoken",
            &["Sec-WebSocket-Version: 13".to_string()],
        );
    }
    let Some(key) = req.header("sec-websocket-key").filter(|k| !k.is_empty()) else {
        return refuse(400, "the Sec-WebSocket-Key header is missing", &[]);
    };
    let (canonical, file, meta) = match access::open_path(&cfg.roots, &q.path) {
        Ok(ok) => ok,
        Err(r) => return refuse(r.status(), r.reason(), &[]),
    };
    let (canonical, file, meta, older) =
        match pick_generation(&cfg.roots, (canonical, file, meta), q.inode) {
            Ok(ok) => ok,
            Err((status, reason)) => return refuse(status, &reason, &[]),
        };
    let id = access::file_id(&meta);
    let len = meta.len();
    let filter = Filter::new(&q.matches, &q.excludes);
    if let Err((status, reason)) = refuse_compressed(&file) {
        return refuse(status, &reason, &[]);
    }

    // Where to start: a resume point, or the last N lines.
    let mut first_event = None;
    let mut since_limited = false;
    let start = match q.resume {
        Some((from, inode)) if inode == id.1 && from <= len => from,
        Some((_, inode)) => {
            first_event = Some(if inode != id.1 {
                Change::Rotated
            } else {
                Change::Truncated
            });
            0
        }
        None if q.since.is_some() => match since_start(&file, &meta, q, cfg.scan_limit) {
            Ok((s, limited)) => {
                since_limited = limited;
                s
            }
            Err((status, reason)) => return refuse(status, &reason, &[]),
        },
        // The last lines (before= a byte or at the end): scanned for once
        // the WebSocket is open (`scan_window`).
        None => len,
    };
    let scan = q.resume.is_none() && q.since.is_none();

    let binary = q.meta && tail_is_binary(&file, len);

    let accept = derive_accept_key(key.as_bytes());
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\nServer: wstail\r\n\r\n"
    );
    if let Err(e) = std::io::Write::write_all(&mut stream, response.as_bytes()) {
        log.outcome = format!("the client went away during the handshake: {e}");
        return Ok(());
    }
    log.status = 101;
    let _ = stream.get_ref().set_nodelay(true);
    let config = WebSocketConfig::default()
        .read_buffer_size(WS_READ_BUFFER)
        .write_buffer_size(0)
        .max_write_buffer_size(16 << 20)
        .max_message_size(Some(MAX_CLIENT_MESSAGE))
        .max_frame_size(Some(MAX_CLIENT_MESSAGE));
    let mut ws =
        WebSocket::from_partially_read(stream, req.leftover.clone(), Role::Server, Some(config));
    if binary && let Err(e) = ws.send(Message::binary(Meta::event("binary").to_json())) {
        log.outcome = format!("the client went away: {e}");
        return Ok(());
    }
    let (start, window) = if scan {
        match scan_window(&mut ws, &file, len, q, cfg, &filter) {
            Ok(w) => (w.start, Some(w)),
            Err(end) => {
                log.outcome = end.describe();
                scan::close(&mut ws, &end);
                return Ok(());
            }
        }
    } else if since_limited {
        // since= stopped at the scan limit: the start frame says so.
        match Tag::of_file(&file, start) {
            Ok(tag) => (
                start,
                Some(StartPoint {
                    first: start,
                    start,
                    tag,
                    limited: true,
                    end: None,
                }),
            ),
            Err(e) => {
                log.outcome = format!("reading the file failed: {e}");
                return Ok(());
            }
        }
    } else {
        (start, None)
    };
    let canonical_label = canonical.to_string_lossy().into_owned();
    let logfile = LogFile::new(canonical, cfg.roots.clone(), file, id, start);
    let before = logfile.before().clone();
    let timing = Timing {
        interval: cfg.interval,
        heartbeat: cfg.heartbeat,
        pong_timeout: cfg.pong_timeout,
    };
    let mut follower = Follower::new(
        &mut ws,
        logfile,
        Chunker::new(start, filter).with_before(before),
        q.format,
        // An older generation no longer grows: it is sent, then closed.
        q.follow && !older,
        q.meta,
        timing,
        format!("{} {}", log.peer, log_target(&canonical_label)),
    );
    if let Some(w) = window {
        follower.set_window(w);
    }
    let end = follower.run(first_event);
    log.sent = follower.sent;
    log.outcome = end.describe();
    drop(follower);
    if end.leaves_input_unread() {
        log.write_now();
        http::linger(ws.get_ref().get_ref());
    }
    Ok(())
}

/// `inode=I` without `from=`: the file at the path when it is inode I, else
/// the older generation of it that is (true in the answer's last place);
/// none → 410. Without `inode=`, the file at the path.
fn pick_generation(
    roots: &[PathBuf],
    at_path: (PathBuf, File, Metadata),
    inode: Option<u64>,
) -> Result<(PathBuf, File, Metadata, bool), Refused> {
    let (canonical, file, meta) = at_path;
    let Some(inode) = inode.filter(|&i| i != access::file_id(&meta).1) else {
        return Ok((canonical, file, meta, false));
    };
    let gone = || {
        (
            410,
            format!(
                "inode={inode} is neither the file at this path nor one of its older generations (deleted, or compressed); ask again without inode="
            ),
        )
    };
    let g = generations::find(&canonical, roots, inode).ok_or_else(gone)?;
    let file = g.open(roots).ok_or_else(gone)?;
    let meta = file
        .metadata()
        .map_err(|e| (500, format!("reading the file failed: {e}")))?;
    Ok((g.path, file, meta, true))
}

/// 415 for a compressed file (judged by its first bytes): it is not
/// followed or shown as text; the reason says to download it.
fn refuse_compressed(file: &File) -> Result<(), Refused> {
    match magic::file_compression(file) {
        Ok(Some(c)) => Err((
            415,
            format!(
                "the file is {c}-compressed and is not followed; download it with ?download and decompress it"
            ),
        )),
        Ok(None) => Ok(()),
        Err(e) => Err((500, format!("reading the file failed: {e}"))),
    }
}

/// Where `since=` starts: the binary search of `since.rs` over the file as
/// it is now, reading at most `limit` bytes (`--scan-limit`; true in the
/// answer when that stopped it); 422 when no timestamp is recognised.
fn since_start(
    file: &File,
    meta: &Metadata,
    q: &Query,
    limit: u64,
) -> Result<(u64, bool), Refused> {
    let Some(target) = &q.since else {
        return Ok((meta.len(), false));
    };
    let hint = YearHint::from_time(meta.modified().unwrap_or_else(|_| SystemTime::now()));
    let found = since::find(file, meta.len(), target, hint, limit);
    if let Ok((since, cost)) = &found {
        debug!(
            "since=: {since:?} of {} bytes after {} block reads ({} bytes)",
            meta.len(),
            cost.reads,
            cost.bytes
        );
    }
    match found.map(|(since, _)| since) {
        Ok(Since::At(at)) => Ok((at, false)),
        Ok(Since::Limit(at)) => Ok((at, true)),
        Ok(Since::NoTimestamps) => Err((
            422,
            format!(
                "since= needs timestamps, and none was recognised at the start of the file or at its end; known formats: {}",
                timestamp::KNOWN_FORMATS
            ),
        )),
        Err(e) => Err((500, format!("reading the file failed: {e}"))),
    }
}

/// True when the file's last block (its tail) holds a NUL byte: a binary
/// file, announced with `{"event":"binary"}` before anything else.
fn tail_is_binary(file: &File, len: u64) -> bool {
    let n = len.min(TAIL_BLOCK as u64);
    let mut buf = vec![0u8; n as usize];
    tail::ReadAt::read_exact_at(file, &mut buf, len - n).is_ok() && magic::is_binary(&buf)
}

/// The window of a request that names no resume point: the last `lines=`
/// lines (kept lines, with a filter) at the end of the file or before
/// `before=`, found by the backward scan (`scan.rs`, `tail.rs`) within
/// `--scan-limit`, while the client sees progress and may leave.
fn scan_window(
    ws: &mut WebSocket<Stalling>,
    file: &std::fs::File,
    len: u64,
    q: &Query,
    cfg: &ServeConfig,
    filter: &Filter,
) -> Result<StartPoint, End> {
    let ask = tail::Ask {
        lines: q.lines.unwrap_or(cfg.lines).min(cfg.max_lines),
        before: q.before,
        filter,
        limit: cfg.scan_limit,
    };
    let w = scan::run(ws, file, len, &ask, q.meta)?;
    let tag = Tag::of_file(file, w.first).map_err(End::FileError)?;
    Ok(StartPoint {
        first: w.first,
        start: w.start,
        tag,
        limited: w.limited,
        end: q.before.map(|_| w.end),
    })
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
}
