//! One connection from start to finish: read the request head, route it
//! (WebSocket follower, page, list, download) once `access::authorize` and
//! the path rule admit it, and record what was answered in the connection's
//! one log line (`connlog.rs`).

use std::fs::{File, Metadata};
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::{Instant, SystemTime};

use log::debug;
use tungstenite::handshake::derive_accept_key;
use tungstenite::protocol::{Role, WebSocketConfig};
use tungstenite::{Message, WebSocket};

use crate::access;
use crate::cli::config::ServeConfig;
use crate::encode::chunk::Chunker;
use crate::encode::filter::Filter;
use crate::follow::file::{Change, Followed};
use crate::follow::stream::{End, Follower, StartPoint, Timing};
use crate::history::since::{self, Since};
use crate::history::timestamp::{self, YearHint};
use crate::limits::{MAX_CLIENT_MESSAGE, TAIL_BLOCK, WS_MAX_WRITE_BUFFER, WS_READ_BUFFER};
use crate::logging::connlog::{ConnLog, log_target};
use crate::serve::http::{self, Answer, Request, valid_client_key};
use crate::serve::stall::Stalling;
use crate::wire::meta::Meta;
use crate::wire::names::Event;
use crate::wire::query::{self, Query};
use crate::wire::refusal::{Kind, Refusal};
use crate::wire::tag::Tag;
use crate::{
    follow::compressed, follow::generations, history::scan, history::start, history::window,
    serve::merged, serve::routes::download, serve::routes::list, serve::routes::page,
};

/// What every connection thread shares: the checked configuration and the
/// page rendered once with the base path.
pub struct Shared {
    pub cfg: ServeConfig,
    pub page: String,
}

impl Shared {
    pub fn new(cfg: ServeConfig) -> Self {
        let page = page::render(&cfg);
        Shared { cfg, page }
    }
}

/// Serves one connection from its first byte (`--inetd`'s one connection).
pub fn handle(stream: TcpStream, shared: &Shared) {
    let mut log = ConnLog::new(stream.peer_addr().ok());
    let head = http::read_head(&stream);
    if let Ok(req) = &head {
        log.request(req);
    }
    serve_request(stream, head, shared, &mut log);
}

/// Answers a connection whose request head has been read (and recorded in
/// `log`), or could not be: a refusal for a bad head, else the route it asks
/// for.
pub fn serve_request(
    mut stream: TcpStream,
    head: Result<Request, Option<Refusal>>,
    shared: &Shared,
    log: &mut ConnLog,
) {
    let req = match head {
        Ok(r) => r,
        Err(None) => return,
        Err(Some(refusal)) => {
            log.refused(&refusal);
            if http::refuse(&mut stream, &refusal).is_ok() {
                log.write_now();
                http::linger(&stream);
            }
            return;
        }
    };
    // From here on every answer may be large (a download, a follower): a
    // client that takes no data for the stall timeout is dropped.
    let mut stream = match Stalling::new(stream) {
        Ok(s) => s,
        Err(e) => {
            log.ended(format!("the socket cannot be set up: {e}"));
            return;
        }
    };
    if req.is_websocket() && query::is_merge(&req.target) {
        return merged::serve(stream, &req, shared, log);
    }
    match route(&mut stream, &req, shared, log) {
        Ok(None) => {}
        Ok(Some(upgrade)) => follow(stream, &req, upgrade, shared, log),
        Err(refusal) => {
            let _ = http::refuse(&mut stream, &refusal);
            log.refused(&refusal);
        }
    }
}

/// A WebSocket request that passed every check, with its file open and
/// where to start in it.
struct Upgrade {
    q: Query,
    key: String,
    canonical: PathBuf,
    file: File,
    id: (u64, u64),
    /// The file's length when it was opened.
    len: u64,
    /// Where a resume point starts (without one, the scan finds the start).
    start: u64,
    /// The event sent before any data (a resume point that no longer fits).
    first_event: Option<Change>,
    /// `file` is the copy `copytruncate` made of the file at the path (a
    /// resume found the rest there).
    reading_copy: bool,
    filter: Filter,
    /// `since=` stopped at the scan limit (`"limit":true`).
    since_limited: bool,
    /// The file's tail holds a NUL byte (`{"event":"binary"}` first).
    binary: bool,
}

/// Routes a request: answers an HTTP route and records the answer, or
/// returns the WebSocket upgrade to perform, or the refusal to answer.
fn route(
    stream: &mut Stalling,
    req: &Request,
    shared: &Shared,
    log: &mut ConnLog,
) -> Result<Option<Upgrade>, Refusal> {
    let cfg = &shared.cfg;
    let websocket = req.is_websocket();
    let head_only = req.method == "HEAD" && !websocket;
    // DESIGN.md's order, so that a malformed request is 400 whatever else
    // is wrong with it: the head's syntax (read_head), the method, the
    // upgrade headers, the query, then Host, Origin and token, then the path.
    if req.method != "GET" && !head_only {
        return Err(Refusal::new(Kind::Method, "only GET is served"));
    }
    let key = if websocket {
        Some(upgrade_key(req)?)
    } else {
        None
    };
    let q = query::parse(&req.target)?;
    access::authorize(req, &q, cfg)?;
    if let Some(key) = key {
        return websocket_checks(key, q, cfg).map(Some);
    }
    let answer = if q.list {
        if q.path != b"/" {
            return Err(Refusal::bad_request("?list is served at / only"));
        }
        list::serve(stream, &cfg.roots, head_only)
    } else if q.download {
        let (canonical, file, meta) = open_named(cfg, &q.path)?;
        download::serve(stream, req, &canonical, file, &meta, head_only)
    } else if let Some(name) = &q.asset {
        if q.path != b"/" {
            return Err(Refusal::bad_request("?asset is served at / only"));
        }
        page::serve_asset(stream, req, name, head_only)?
    } else if q.path == b"/favicon.ico" {
        return Err(Refusal::new(Kind::NotFound, "no favicon"));
    } else {
        let status = page_status(req, &q, cfg);
        page::serve(stream, &shared.page, status, head_only)
    };
    log.answered(answer);
    Ok(None)
}

/// Opens the file a request names: a root's other spelling folded into its
/// canonical one (`access::unalias`), the path rule with open-then-verify
/// (`access::open_path`), and a regular file named as a directory (`a.log/`,
/// `a.log/.`) is 404, as the kernel would answer (ENOTDIR).
pub(crate) fn open_named(
    cfg: &ServeConfig,
    raw: &[u8],
) -> Result<(PathBuf, File, std::fs::Metadata), Refusal> {
    let opened = access::open_path(&cfg.roots, &access::unalias(&cfg.root_aliases, raw))?;
    if raw.ends_with(b"/") || raw.ends_with(b"/.") {
        return Err(Refusal::new(
            Kind::NotFound,
            "the path names a directory, and a file is no directory (remove the trailing '/')",
        ));
    }
    Ok(opened)
}

/// The status of the page opened on a path: the one the WebSocket request
/// would get (200, 403, 404, 410 for `inode=`), so that curl and scanners see the truth. When
/// a token is required and not given, the lexical check only: no file-system
/// lookup, so no existence oracle for those without the token.
fn page_status(req: &Request, q: &Query, cfg: &ServeConfig) -> u16 {
    if q.path == b"/" {
        return 200;
    }
    let checked = if access::token_holder(req, q, cfg) {
        // inode= too: the page asks this way whether a generation is gone.
        open_named(cfg, &q.path)
            .and_then(|opened| pick_generation(&cfg.roots, opened, q.inode))
            .map(drop)
    } else {
        access::lexical_check(&cfg.roots, &access::unalias(&cfg.root_aliases, &q.path)).map(drop)
    };
    checked.map_or_else(|r| r.status(), |()| 200)
}

/// The upgrade headers of a WebSocket request (RFC 6455, 4.1): its
/// `Sec-WebSocket-Key`, or the refusal (426 for another version, else 400).
pub(crate) fn upgrade_key(req: &Request) -> Result<String, Refusal> {
    if !req.header_has("connection", "upgrade") {
        return Err(Refusal::bad_request(
            "a WebSocket request needs 'Connection: Upgrade'",
        ));
    }
    if req.header("sec-websocket-version") != Some("13") {
        return Err(Refusal::new(
            Kind::Version,
            "only WebSocket version 13 is spoken",
        ));
    }
    if req.version != "HTTP/1.1" {
        return Err(Refusal::bad_request(
            "a WebSocket upgrade needs HTTP/1.1 (RFC 6455, 4.1)",
        ));
    }
    let Some(key) = req
        .header("sec-websocket-key")
        .filter(|k| valid_client_key(k))
    else {
        return Err(Refusal::bad_request(
            "the Sec-WebSocket-Key header is missing or is not 16 bytes in base64",
        ));
    };
    Ok(key.to_string())
}

/// The WebSocket route's checks once the request is admitted: the path
/// rule, and where to start.
fn websocket_checks(key: String, q: Query, cfg: &ServeConfig) -> Result<Upgrade, Refusal> {
    let at_path = open_named(cfg, &q.path)?;
    let (canonical, file, meta) = pick_generation(&cfg.roots, at_path, q.inode)?;
    let id = access::file_id(&meta);
    let len = meta.len();
    let filter = Filter::new(&q.matches, &q.excludes);
    refuse_compressed(&file)?;

    // Where to start: a resume point, or the last N lines.
    let mut first_event = None;
    let mut since_limited = false;
    let mut reading_copy = false;
    let (mut file, mut id) = (file, id);
    let start = match q.resume {
        Some((from, inode)) => {
            match start::start(
                &canonical,
                &cfg.roots,
                (&file, id, len),
                (from, inode, q.tag),
                q.born,
            ) {
                start::Start::Here(at) => at,
                start::Start::Generation {
                    file: g,
                    id: gid,
                    at,
                    copy,
                } => {
                    (file, id) = (g, gid);
                    reading_copy = copy;
                    at
                }
                start::Start::Over(change) => {
                    first_event = Some(change);
                    0
                }
            }
        }
        None if q.since.is_some() => {
            let (at, limited) = since_start(&file, &meta, &q, cfg.scan_limit)?;
            since_limited = limited;
            at
        }
        // The last lines (before= a byte or at the end): scanned for once
        // the WebSocket is open (`scan_window`).
        None => len,
    };
    // The file's own length: a resume may have picked another generation.
    let binary = q.meta
        && file
            .metadata()
            .is_ok_and(|m| tail_is_binary(&file, m.len()));
    Ok(Upgrade {
        key,
        canonical,
        file,
        id,
        len,
        start,
        first_event,
        reading_copy,
        filter,
        since_limited,
        binary,
        q,
    })
}

/// The handshake's answer (101), then the WebSocket over the stream with
/// the server's limits; `Err` when the client went away meanwhile.
pub(crate) fn accept(
    mut stream: Stalling,
    req: &Request,
    key: &str,
) -> Result<WebSocket<Stalling>, String> {
    let accept = derive_accept_key(key.as_bytes());
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\nServer: wstail\r\n\r\n"
    );
    if let Err(e) = std::io::Write::write_all(&mut stream, response.as_bytes()) {
        return Err(format!("the client went away during the handshake: {e}"));
    }
    let _ = stream.get_ref().set_nodelay(true);
    let config = WebSocketConfig::default()
        .read_buffer_size(WS_READ_BUFFER)
        .write_buffer_size(0)
        .max_write_buffer_size(WS_MAX_WRITE_BUFFER)
        .max_message_size(Some(MAX_CLIENT_MESSAGE))
        .max_frame_size(Some(MAX_CLIENT_MESSAGE));
    Ok(WebSocket::from_partially_read(
        stream,
        req.leftover.clone(),
        Role::Server,
        Some(config),
    ))
}

/// The WebSocket route once admitted: the handshake, then the follower.
fn follow(stream: Stalling, req: &Request, up: Upgrade, shared: &Shared, log: &mut ConnLog) {
    let cfg = &shared.cfg;
    let mut ws = match accept(stream, req, &up.key) {
        Ok(ws) => ws,
        Err(e) => {
            log.ended(e);
            return;
        }
    };
    if up.binary
        && let Err(e) = ws.send(Message::binary(Meta::event(Event::Binary).to_json()))
    {
        log.ended(format!("the client went away: {e}"));
        return;
    }
    let (start, window) = if up.q.resume.is_none() && up.q.since.is_none() {
        match scan_window(&mut ws, &up.file, up.len, &up.q, cfg, &up.filter) {
            Ok(w) => (w.start, Some(w)),
            Err(end) => {
                log.ended(format!("{} (during the backward scan)", end.describe()));
                scan::close(&mut ws, &end);
                return;
            }
        }
    } else if up.since_limited {
        // since= stopped at the scan limit: the start frame says so.
        match Tag::of_file(&up.file, up.start) {
            Ok(tag) => (
                up.start,
                Some(StartPoint {
                    first: up.start,
                    start: up.start,
                    tag,
                    limited: true,
                    end: None,
                }),
            ),
            Err(e) => {
                log.ended(format!("reading the file failed: {e}"));
                return;
            }
        }
    } else {
        (up.start, None)
    };
    let label = format!(
        "{} {}",
        log.peer(),
        log_target(&up.canonical.to_string_lossy())
    );
    let mut followed = Followed::new(up.canonical, cfg.roots.clone(), up.file, up.id, start);
    if up.reading_copy {
        followed.reading_copy();
    }
    let before = followed.before().clone();
    let timing = Timing {
        interval: cfg.interval,
        heartbeat: cfg.heartbeat,
        pong_timeout: cfg.pong_timeout,
    };
    let mut follower = Follower::new(
        &mut ws,
        followed,
        Chunker::new(start, up.filter).with_before(before),
        up.q.format,
        up.q.follow,
        up.q.meta,
        timing,
        label,
    );
    if let Some(w) = window {
        follower.set_window(w);
    }
    let end = follower.run(up.first_event);
    let mut answer = Answer::new(101, end.describe());
    answer.sent = follower.sent;
    log.answered(answer);
    drop(follower);
    if end.leaves_input_unread() {
        log.write_now();
        http::linger(ws.get_ref().get_ref());
    }
}

/// The window of a request that names no resume point: the last `lines=`
/// lines (kept lines, with a filter) at the end of the file or before
/// `before=`, found by the backward scan (`scan.rs`, `tail.rs`) within
/// `--scan-limit`, while the client sees progress and may leave.
fn scan_window(
    ws: &mut WebSocket<Stalling>,
    file: &File,
    len: u64,
    q: &Query,
    cfg: &ServeConfig,
    filter: &Filter,
) -> Result<StartPoint, End> {
    let ask = window::Ask {
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

/// `inode=I` without `from=`: the file at the path when it is inode I, else
/// the older generation of it that is (read under the log's path, as a
/// resume into it is: followed, it goes on to the newer generations); none
/// → 410. Without `inode=`, the file at the path.
pub(crate) fn pick_generation(
    roots: &[PathBuf],
    at_path: (PathBuf, File, Metadata),
    inode: Option<u64>,
) -> Result<(PathBuf, File, Metadata), Refusal> {
    let (canonical, file, meta) = at_path;
    let Some(inode) = inode.filter(|&i| i != access::file_id(&meta).1) else {
        return Ok((canonical, file, meta));
    };
    let gone = || {
        Refusal::new(
            Kind::Gone,
            format!(
                "inode={inode} is neither the file at this path nor one of its older generations (deleted, or compressed); ask again without inode="
            ),
        )
    };
    let g = generations::find(&canonical, roots, inode).ok_or_else(gone)?;
    let file = g.open(roots).ok_or_else(gone)?;
    let meta = file.metadata().map_err(|e| Refusal::read_failed(&e))?;
    // The log's own path: the follower reads the generation as a resume
    // into it would (and, following, goes on to the newer ones).
    Ok((canonical, file, meta))
}

/// 415 for a compressed file (judged by its first bytes): it is not
/// followed or shown as text; the reason says to download it.
pub(crate) fn refuse_compressed(file: &File) -> Result<(), Refusal> {
    match compressed::file_compression(file) {
        Ok(Some(c)) => Err(Refusal::new(
            Kind::Compressed,
            format!(
                "the file is {c}-compressed and is not followed; download it with ?download and decompress it"
            ),
        )),
        Ok(None) => Ok(()),
        Err(e) => Err(Refusal::read_failed(&e)),
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
) -> Result<(u64, bool), Refusal> {
    let Some(target) = &q.since else {
        return Ok((meta.len(), false));
    };
    let hint = YearHint::from_time(meta.modified().unwrap_or_else(|_| SystemTime::now()));
    let began = Instant::now();
    let found = since::find(file, meta.len(), target, hint, limit);
    if let Ok((since, cost)) = &found {
        debug!(
            "since=: {since:?} of {} bytes after {} block reads ({} bytes) in {:.3} ms",
            meta.len(),
            cost.reads,
            cost.bytes,
            began.elapsed().as_secs_f64() * 1000.0
        );
    }
    match found.map(|(since, _)| since) {
        Ok(Since::At(at)) => Ok((at, false)),
        Ok(Since::Limit(at)) => Ok((at, true)),
        Ok(Since::NoTimestamps) => Err(Refusal::new(
            Kind::NoTimestamps,
            format!(
                "since= needs timestamps, and none was recognised at the start of the file or at its end; known formats: {}",
                timestamp::KNOWN_FORMATS
            ),
        )),
        Err(e) => Err(Refusal::read_failed(&e)),
    }
}

/// True when the file's last block (its tail) holds a NUL byte: a binary
/// file, announced with `{"event":"binary"}` before anything else.
fn tail_is_binary(file: &File, len: u64) -> bool {
    let n = len.min(TAIL_BLOCK as u64);
    let mut buf = vec![0u8; n as usize];
    window::ReadAt::read_exact_at(file, &mut buf, len - n).is_ok() && compressed::is_binary(&buf)
}
