//! One connection from start to finish: read the request head, route it
//! (WebSocket follower, page, list, download) once `access::authorize` and
//! the path rule admit it, and record what was answered in the connection's
//! one log line (`connlog.rs`).

use std::fs::File;
use std::net::TcpStream;
use std::path::PathBuf;

use tungstenite::WebSocket;
use tungstenite::handshake::derive_accept_key;
use tungstenite::protocol::{Role, WebSocketConfig};

use crate::access;
use crate::cli::config::ServeConfig;
use crate::encode::filter::Filter;
use crate::follow::stream::{Follower, Setup, Timing};
use crate::history::start::{self, Opening};
use crate::limits::{MAX_CLIENT_MESSAGE, WS_MAX_WRITE_BUFFER, WS_READ_BUFFER};
use crate::logging::connlog::{ConnLog, log_target};
use crate::serve::http::{self, Answer, Request, valid_client_key};
use crate::serve::stall::Stalling;
use crate::wire::query::{self, Query};
use crate::wire::refusal::{Kind, Refusal};
use crate::{
    serve::merged, serve::routes::download, serve::routes::list, serve::routes::page,
    serve::routes::timeline,
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
pub(crate) fn handle(stream: TcpStream, shared: &Shared) {
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
/// the opening decided (`history::start`).
struct Upgrade {
    q: Query,
    key: String,
    canonical: PathBuf,
    opening: Opening,
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
    access::authorize(req, &q, &cfg.access)?;
    if let Some(key) = key {
        return websocket_checks(key, q, cfg).map(Some);
    }
    let answer = if q.list {
        if q.path != b"/" {
            return Err(Refusal::bad_request("?list is served at / only"));
        }
        list::serve(stream, &cfg.roots, req.version == "HTTP/1.0", head_only)
    } else if q.download {
        let (canonical, file, meta) = open_named(cfg, &q.path)?;
        download::serve(stream, req, &canonical, file, &meta, head_only)
    } else if q.timeline {
        let logs = timeline_logs(cfg, &q)?;
        let socket = stream
            .get_ref()
            .try_clone()
            .map_err(|e| Refusal::read_failed(&e))?;
        timeline::serve(&socket, stream, &q, logs, cfg.scan_limit, head_only)?
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

/// The logs a `?timeline` counts, each with its chain of generations: the
/// file at the path, or every file of a merged list (`/?timeline&merge=…`),
/// the first refused refusing the request with a reason naming it.
fn timeline_logs(
    cfg: &ServeConfig,
    q: &Query,
) -> Result<Vec<(PathBuf, Vec<timeline::Member>)>, Refusal> {
    let one = |raw: &[u8]| -> Result<(PathBuf, Vec<timeline::Member>), Refusal> {
        let (canonical, file, meta) = open_named(cfg, raw)?;
        let members = timeline::chain(&canonical, &cfg.roots, file, &meta)?;
        Ok((canonical, members))
    };
    match &q.merge {
        None => Ok(vec![one(&q.path)?]),
        Some(m) => m
            .paths
            .iter()
            .enumerate()
            .map(|(i, p)| one(p).map_err(|r| merged::naming(i, p, r)))
            .collect(),
    }
}

/// The status of the page opened on a path: the one the WebSocket request
/// would get (200, 403, 404, 410 for `inode=`), so that curl and scanners see the truth. When
/// a token is required and not given, the lexical check only: no file-system
/// lookup, so no existence oracle for those without the token.
fn page_status(req: &Request, q: &Query, cfg: &ServeConfig) -> u16 {
    if q.path == b"/" {
        return 200;
    }
    let checked = if access::token_holder(req, q, &cfg.access) {
        // inode= too: the page asks this way whether a generation is gone.
        open_named(cfg, &q.path)
            .and_then(|(canonical, file, meta)| {
                start::pick_file(&canonical, &cfg.roots, (file, meta), q.pick, &q.start)
            })
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
    let (canonical, file, meta) = open_named(cfg, &q.path)?;
    let opening = start::open(
        &canonical,
        &cfg.roots,
        (file, meta),
        &q.start,
        q.pick,
        limits(cfg),
    )?;
    Ok(Upgrade {
        key,
        canonical,
        opening,
        q,
    })
}

/// What bounds an opening (`history::start`), from the configuration.
pub(crate) fn limits(cfg: &ServeConfig) -> start::Limits {
    start::Limits {
        lines: cfg.lines,
        max_lines: cfg.max_lines,
        scan_limit: cfg.scan_limit,
    }
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
    let filter = Filter::new(&up.q.matches, &up.q.excludes);
    let during = up.opening.scan_name();
    let begin = match up.opening.begin(&mut ws, &filter, up.q.meta, limits(cfg)) {
        Ok(b) => b,
        Err(end) => {
            log.ended(format!("{} (during {during})", end.describe()));
            crate::follow::stream::close(&mut ws, &end);
            return;
        }
    };
    let label = format!(
        "{} {}",
        log.peer(),
        log_target(&up.canonical.to_string_lossy())
    );
    let setup = Setup {
        path: up.canonical,
        roots: cfg.roots.clone(),
        filter,
        format: up.q.format,
        follow: up.q.follow,
        meta: up.q.meta,
        timing: Timing {
            interval: cfg.interval,
            heartbeat: cfg.heartbeat,
            pong_timeout: cfg.pong_timeout,
        },
        label,
        max_behind: cfg.max_behind,
    };
    let mut follower = Follower::new(&mut ws, begin, setup);
    let end = follower.run();
    let mut answer = Answer::new(101, end.describe());
    answer.sent = follower.sent;
    log.answered(answer);
    drop(follower);
    if end.leaves_input_unread() {
        log.write_now();
        http::linger(ws.get_ref().get_ref());
    }
}
