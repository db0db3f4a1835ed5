//! Where connections come from: a bound `TcpListener` with one thread per
//! client (explicit small stack), or `--inetd`'s one connection on standard
//! input. A connection first sends its request head; while it does, it holds
//! no client slot but one of `MAX_HANDSHAKES` handshake places, and a new
//! connection beyond those closes the oldest (408). With its head read it
//! takes one of the `--max-clients` slots or is answered 503. So idle or
//! slow sockets can neither starve real clients nor pile up threads. The
//! slots come in two pools: WebSocket followers take one of `--max-clients`,
//! of which one peer address holds at most `--max-per-address` (more: 429);
//! plain HTTP requests (the page, `?list`, downloads, timelines) take one of
//! the `MAX_HTTP_REQUESTS`, waiting a little for one when all are taken, so
//! that followers can never lock the page out. Accept errors (EMFILE and
//! the like) are logged and survived with a short pause, never a busy loop
//! or an exit.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::io;
use std::net::{IpAddr, Shutdown, TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use log::{error, info, warn};

use crate::cli::config::ServeConfig;
use crate::history::turns;
use crate::limits::{
    ACCEPT_ERROR_PAUSE, CLIENT_STACK, HANDSHAKE_GRACE, HTTP_SLOT_WAIT, MAX_HANDSHAKES,
    MAX_HTTP_PER_ADDRESS, MAX_HTTP_REQUESTS, MAX_HTTP_WAITING, REFUSAL_WRITE,
};
use crate::logging::connlog::ConnLog;
use crate::net;
use crate::serve::conn::{self, Shared};
use crate::serve::http;
use crate::wire::refusal::{Kind, Refusal};

/// A failure that ends the server: exit status 1, or 2 for `NotASocket`
/// (`--inetd` used the wrong way, like a usage error); `main` picks it.
#[derive(Debug)]
pub enum ServeError {
    /// The address cannot be bound.
    Bind(String, io::Error),
    /// `--inetd` without a socket on standard input.
    NotASocket(String),
}

impl fmt::Display for ServeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServeError::Bind(addr, e) if e.kind() == io::ErrorKind::AddrInUse => write!(
                f,
                "cannot listen on {addr}: address already in use (another wstail may be running; choose another address with --listen)"
            ),
            ServeError::Bind(addr, e) => {
                write!(
                    f,
                    "cannot listen on {addr}: {e} (check the address given with --listen)"
                )
            }
            ServeError::NotASocket(why) => write!(
                f,
                "--inetd needs a connected TCP socket on standard input ({why}); run it from inetd, systemd (Accept=yes) or tcpserver, or drop --inetd"
            ),
        }
    }
}

/// What one peer counts as for the per-address bounds: its IPv4 address
/// (an IPv4-mapped IPv6 one as IPv4), or the /64 of its IPv6 address — one
/// IPv6 host is usually given a whole /64, and would otherwise have
/// endless addresses to spread over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Peer(IpAddr);

impl Peer {
    pub fn of(ip: IpAddr) -> Peer {
        match ip.to_canonical() {
            IpAddr::V6(v6) => {
                let bits = u128::from(v6) & !((1u128 << 64) - 1);
                Peer(IpAddr::V6(bits.into()))
            }
            v4 => Peer(v4),
        }
    }
}

/// Connections held per peer, for one pool.
#[derive(Default)]
struct PerPeer(HashMap<Peer, usize>);

impl PerPeer {
    fn count(&self, peer: Peer) -> usize {
        self.0.get(&peer).copied().unwrap_or(0)
    }

    fn add(&mut self, peer: Peer) {
        *self.0.entry(peer).or_insert(0) += 1;
    }

    fn remove(&mut self, peer: Peer) {
        if let Some(n) = self.0.get_mut(&peer) {
            *n -= 1;
            if *n == 0 {
                self.0.remove(&peer);
            }
        }
    }
}

/// A pool of slots with a bound per peer (none when `per_peer` is 0), and
/// a line of waiters (`wait_for`; none wait when `waiting` is 0).
struct Pool {
    max: usize,
    per_peer: usize,
    waiting: usize,
    state: Mutex<PoolState>,
    freed: Condvar,
}

#[derive(Default)]
struct PoolState {
    in_use: usize,
    peers: PerPeer,
    waiting: usize,
}

/// Why a pool gave no slot.
#[derive(Debug, PartialEq, Eq)]
enum Full {
    /// Every slot is taken.
    All,
    /// The peer holds its share.
    Peer,
}

/// A slot of a pool, given back on drop (also when a client thread panics
/// and unwinds).
struct PoolSlot {
    pool: Arc<Pool>,
    peer: Option<Peer>,
}

impl Drop for PoolSlot {
    fn drop(&mut self) {
        let mut s = self.pool.lock();
        s.in_use -= 1;
        if let Some(peer) = self.peer {
            s.peers.remove(peer);
        }
        drop(s);
        self.pool.freed.notify_all();
    }
}

impl Pool {
    fn new(max: usize, per_peer: usize, waiting: usize) -> Arc<Pool> {
        Arc::new(Pool {
            max,
            per_peer,
            waiting,
            state: Mutex::new(PoolState::default()),
            freed: Condvar::new(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PoolState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether `peer` may take a slot now.
    fn room(&self, s: &PoolState, peer: Option<Peer>) -> Result<(), Full> {
        if let Some(peer) = peer
            && self.per_peer > 0
            && s.peers.count(peer) >= self.per_peer
        {
            return Err(Full::Peer);
        }
        if s.in_use >= self.max {
            return Err(Full::All);
        }
        Ok(())
    }

    /// A slot for `peer` (`None`: an unknown peer, counted in the pool
    /// only), waiting up to `wait` for one when the pool has a line and a
    /// place in it is free.
    fn take(
        self: &Arc<Self>,
        peer: Option<Peer>,
        wait: std::time::Duration,
    ) -> Result<PoolSlot, Full> {
        let deadline = Instant::now() + wait;
        let mut s = self.lock();
        let mut queued = false;
        let taken = loop {
            match self.room(&s, peer) {
                Ok(()) => break Ok(()),
                Err(full) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() || (!queued && s.waiting >= self.waiting) {
                        break Err(full);
                    }
                    if !queued {
                        queued = true;
                        s.waiting += 1;
                    }
                    s = self
                        .freed
                        .wait_timeout(s, left)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                }
            }
        };
        if queued {
            s.waiting -= 1;
        }
        taken?;
        s.in_use += 1;
        if let Some(peer) = peer {
            s.peers.add(peer);
        }
        Ok(PoolSlot {
            pool: Arc::clone(self),
            peer,
        })
    }
}

/// The two pools: WebSocket followers, and plain HTTP requests.
struct Pools {
    websocket: Arc<Pool>,
    http: Arc<Pool>,
}

impl Pools {
    fn new(cfg: &ServeConfig) -> Pools {
        let per_http = if cfg.max_per_address == 0 {
            0
        } else {
            MAX_HTTP_PER_ADDRESS
        };
        Pools {
            websocket: Pool::new(cfg.max_clients, cfg.max_per_address, 0),
            http: Pool::new(MAX_HTTP_REQUESTS, per_http, MAX_HTTP_WAITING),
        }
    }
}

/// The connections still sending their request head, oldest first, each
/// with a handle that lets a newer connection close it.
struct Handshakes {
    /// The last id given, and the waiting connections with their ids.
    list: Mutex<(u64, VecDeque<Waiting>)>,
}

/// A connection still sending its head: its id, when it was accepted, and a
/// handle to close it.
type Waiting = (u64, Instant, Arc<TcpStream>);

impl Handshakes {
    fn new() -> Self {
        Handshakes {
            list: Mutex::new((0, VecDeque::with_capacity(MAX_HANDSHAKES))),
        }
    }

    /// Registers a new connection. When all places are taken, the oldest is
    /// taken off the list and its reading half shut, so that its thread's
    /// read ends at once and the thread answers 408 — but only once it has
    /// had `HANDSHAKE_GRACE`: until then the accept loop waits (a burst of
    /// real clients whose heads are already in flight, or whose threads have
    /// not run yet, must not evict each other). Returns the new id.
    fn admit(&self, stream: &Arc<TcpStream>) -> u64 {
        loop {
            let now = Instant::now();
            let (id, evicted) = {
                let mut guard = self.list.lock().unwrap_or_else(PoisonError::into_inner);
                let (next, list) = &mut *guard;
                let evicted = match list.front() {
                    Some((_, since, _)) if list.len() >= MAX_HANDSHAKES => {
                        let age = now.saturating_duration_since(*since);
                        if age < HANDSHAKE_GRACE {
                            drop(guard);
                            std::thread::sleep(HANDSHAKE_GRACE - age);
                            continue;
                        }
                        list.pop_front()
                    }
                    _ => None,
                };
                *next += 1;
                list.push_back((*next, now, Arc::clone(stream)));
                (*next, evicted)
            };
            if let Some((_, _, old)) = evicted {
                let _ = old.shutdown(Shutdown::Read);
            }
            return id;
        }
    }

    /// Takes a connection off the list once its head is read (or failed);
    /// false when a newer connection had already closed it.
    fn finish(&self, id: u64) -> bool {
        let mut guard = self.list.lock().unwrap_or_else(PoisonError::into_inner);
        let list = &mut guard.1;
        match list.iter().position(|(i, _, _)| *i == id) {
            Some(at) => {
                list.remove(at);
                true
            }
            None => false,
        }
    }
}

/// What answers a connection once its head is read: `conn::serve_request`, or in
/// a test a wrapper that makes it fail.
pub type ServeRequest =
    fn(TcpStream, Result<http::Request, Option<Refusal>>, &Shared, &mut ConnLog);

/// Runs the server until the process is killed (or, with `--inetd`, until
/// the one connection ends).
pub fn serve(cfg: ServeConfig) -> Result<(), ServeError> {
    turns::init(cfg.max_scans);
    if cfg.inetd {
        return serve_inetd(cfg);
    }
    let listener =
        TcpListener::bind(&cfg.listen).map_err(|e| ServeError::Bind(cfg.listen.clone(), e))?;
    run(listener, cfg, conn::serve_request)
}

/// Whether the server is reachable beyond this machine with no token asked
/// (then it warns at start).
fn exposed_without_token(addr: &std::net::SocketAddr, has_token: bool) -> bool {
    !has_token && !addr.ip().is_loopback()
}

/// The accept loop on a bound listener; it never returns.
pub fn run(listener: TcpListener, cfg: ServeConfig, serve_request: ServeRequest) -> ! {
    let local = listener
        .local_addr()
        .map_or_else(|_| cfg.listen.clone(), |a| a.to_string());
    let roots: Vec<String> = cfg.roots.iter().map(|r| r.display().to_string()).collect();
    let url = format!("http://{local}{}/", cfg.base_path);
    info!("listening on {url} serving {}", roots.join(", "));
    if cfg.log_file.is_some() {
        eprintln!("wstail: listening on {url} serving {}", roots.join(", "));
    }
    if let Ok(addr) = listener.local_addr()
        && exposed_without_token(&addr, cfg.access.token.is_some())
    {
        warn!(
            "listening on {addr}, which is not a loopback address, without a token: anyone who can reach it may read the logs under the roots; give --token (or WSTAIL_TOKEN), or listen on 127.0.0.1 behind a proxy that authenticates"
        );
    }
    let pools = Arc::new(Pools::new(&cfg));
    let shared = Arc::new(Shared::new(cfg));
    let handshakes = Arc::new(Handshakes::new());
    loop {
        let stream = match listener.accept() {
            Ok((s, _)) => Arc::new(s),
            Err(e) => {
                match e.kind() {
                    io::ErrorKind::Interrupted | io::ErrorKind::ConnectionAborted => {}
                    _ => {
                        warn!(
                            "accepting a connection failed: {e}; retrying (is the open-file limit too low? see LimitNOFILE / ulimit -n)"
                        );
                        std::thread::sleep(ACCEPT_ERROR_PAUSE);
                    }
                }
                continue;
            }
        };
        let id = handshakes.admit(&stream);
        let (shared, pools, hs) = (
            Arc::clone(&shared),
            Arc::clone(&pools),
            Arc::clone(&handshakes),
        );
        let started = spawn("wstail-client", move || {
            connection(stream, id, &hs, &pools, &shared, serve_request);
        });
        if !started {
            handshakes.finish(id);
        }
    }
}

/// A connection thread's whole life: its head, then a slot, then its answer.
fn connection(
    stream: Arc<TcpStream>,
    id: u64,
    handshakes: &Handshakes,
    pools: &Pools,
    shared: &Shared,
    serve_request: ServeRequest,
) {
    let start = Instant::now();
    let peer_addr = stream.peer_addr().ok();
    let mut log = ConnLog::new(peer_addr);
    let head = http::read_head(&stream);
    if !handshakes.finish(id) {
        let refusal = Refusal::new(
            Kind::Timeout,
            format!(
                "{MAX_HANDSHAKES} newer connections were sending their request heads; this one had sent none complete in {:.1}s",
                start.elapsed().as_secs_f64()
            ),
        );
        log.refused(&refusal);
        let _ = http::refuse(&mut &*stream, &refusal);
        return;
    }
    let Ok(stream) = Arc::try_unwrap(stream) else {
        // Only an evicted connection is shared, and that one returned above.
        error!("a connection was still shared after its handshake; it is closed");
        return;
    };
    if let Ok(req) = &head {
        log.request(req);
    }
    let peer = peer_addr.map(|a| Peer::of(a.ip()));
    let slot = match &head {
        Ok(req) if req.is_websocket() => pools.websocket.take(peer, Duration::ZERO),
        Ok(_) => pools.http.take(peer, HTTP_SLOT_WAIT),
        Err(_) => {
            serve_request(stream, head, shared, &mut log);
            return;
        }
    };
    match slot {
        Ok(_slot) => serve_request(stream, head, shared, &mut log),
        Err(full) => refuse_full(
            stream,
            &full,
            head.is_ok_and(|r| r.is_websocket()),
            &shared.cfg,
            &mut log,
        ),
    }
}

/// Starts a client thread; false (logged) when the system refuses one.
fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> bool {
    let r = std::thread::Builder::new()
        .name(name.to_string())
        .stack_size(CLIENT_STACK)
        .spawn(f);
    if let Err(e) = &r {
        // The closure (and so the stream) is dropped.
        error!("cannot start a thread for a connection: {e}; the connection is closed");
    }
    r.is_ok()
}

/// Answers a request for which its pool had no slot; its head has been
/// read (closing with the request unread would reset the connection and
/// the client would never see the answer): 429 when its address holds its
/// share, else 503.
fn refuse_full(
    mut stream: TcpStream,
    full: &Full,
    websocket: bool,
    cfg: &ServeConfig,
    log: &mut ConnLog,
) {
    let refusal = match (full, websocket) {
        (Full::Peer, true) => Refusal::new(
            Kind::PerAddress,
            format!(
                "this address holds its maximum of {} WebSocket connections (--max-per-address); close one or try again later",
                cfg.max_per_address
            ),
        ),
        (Full::Peer, false) => Refusal::new(
            Kind::PerAddress,
            format!(
                "this address has its maximum of {MAX_HTTP_PER_ADDRESS} HTTP requests in progress; try again later"
            ),
        ),
        (Full::All, true) => Refusal::new(
            Kind::Busy,
            format!(
                "the server is serving its maximum of {} clients; try again later",
                cfg.max_clients
            ),
        ),
        (Full::All, false) => Refusal::new(
            Kind::Busy,
            format!(
                "the server is answering its maximum of {MAX_HTTP_REQUESTS} HTTP requests; try again later"
            ),
        ),
    };
    log.refused(&refusal);
    let _ = stream.set_write_timeout(Some(REFUSAL_WRITE));
    let _ = http::refuse(&mut stream, &refusal);
}

/// `--inetd`: the connection is standard input (inetd, xinetd, systemd
/// `Accept=yes`, tcpserver). No unsafe code is needed to adopt it.
fn serve_inetd(cfg: ServeConfig) -> Result<(), ServeError> {
    if !net::is_socket(&io::stdin()) {
        return Err(ServeError::NotASocket(
            "standard input is not a socket".to_string(),
        ));
    }
    let fd = io::stdin()
        .as_fd()
        .try_clone_to_owned()
        .map_err(|e| ServeError::NotASocket(format!("standard input cannot be used: {e}")))?;
    let stream = TcpStream::from(fd);
    if let Err(e) = stream.peer_addr() {
        return Err(ServeError::NotASocket(format!(
            "standard input is not a connected TCP socket: {e}"
        )));
    }
    let shared = Shared::new(cfg);
    conn::handle(stream, &shared);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warns_when_exposed_without_a_token() {
        let at = |s: &str| s.parse::<std::net::SocketAddr>().unwrap();
        assert!(exposed_without_token(&at("0.0.0.0:8765"), false));
        assert!(exposed_without_token(&at("[::]:8765"), false));
        assert!(exposed_without_token(&at("192.0.2.1:8765"), false));
        assert!(!exposed_without_token(&at("0.0.0.0:8765"), true));
        assert!(!exposed_without_token(&at("127.0.0.1:8765"), false));
        assert!(!exposed_without_token(&at("127.1.2.3:8765"), false));
        assert!(!exposed_without_token(&at("[::1]:8765"), false));
    }
}
