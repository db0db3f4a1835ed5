//! Where connections come from: a bound `TcpListener` with one thread per
//! client (explicit small stack), or `--inetd`'s one connection on standard
//! input. A connection first sends its request head; while it does, it holds
//! no client slot but one of `MAX_HANDSHAKES` handshake places, and a new
//! connection beyond those closes the oldest (408). With its head read it
//! takes one of the `--max-clients` slots or is answered 503. So idle or
//! slow sockets can neither starve real clients nor pile up threads. Accept
//! errors (EMFILE and the like) are logged and survived with a short pause,
//! never a busy loop or an exit.

use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use log::{error, info, warn};

use crate::cli::config::ServeConfig;
use crate::limits::{
    ACCEPT_ERROR_PAUSE, CLIENT_STACK, HANDSHAKE_GRACE, MAX_HANDSHAKES, REFUSAL_WRITE,
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

/// A slot counter whose guard gives the slot back when dropped (also when a
/// client thread panics and unwinds).
struct Slot(Arc<AtomicUsize>);

impl Slot {
    fn take(counter: &Arc<AtomicUsize>, max: usize) -> Option<Slot> {
        counter
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()
            .map(|_| Slot(Arc::clone(counter)))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
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
        && exposed_without_token(&addr, cfg.token.is_some())
    {
        warn!(
            "listening on {addr}, which is not a loopback address, without a token: anyone who can reach it may read the logs under the roots; give --token (or WSTAIL_TOKEN), or listen on 127.0.0.1 behind a proxy that authenticates"
        );
    }
    let shared = Arc::new(Shared::new(cfg));
    let active = Arc::new(AtomicUsize::new(0));
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
        let (shared, active, hs) = (
            Arc::clone(&shared),
            Arc::clone(&active),
            Arc::clone(&handshakes),
        );
        let started = spawn("wstail-client", move || {
            connection(stream, id, &hs, &active, &shared, serve_request);
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
    active: &Arc<AtomicUsize>,
    shared: &Shared,
    serve_request: ServeRequest,
) {
    let start = Instant::now();
    let mut log = ConnLog::new(stream.peer_addr().ok());
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
    let max = shared.cfg.max_clients;
    let slot = match &head {
        Ok(_) => match Slot::take(active, max) {
            Some(slot) => Some(slot),
            None => {
                refuse_busy(stream, max, &mut log);
                return;
            }
        },
        Err(_) => None,
    };
    let _slot = slot;
    serve_request(stream, head, shared, &mut log);
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

/// Answers 503 to a request beyond `--max-clients`; its head has been read
/// (closing with the request unread would reset the connection and the
/// client would never see the answer).
fn refuse_busy(mut stream: TcpStream, max: usize, log: &mut ConnLog) {
    let refusal = Refusal::new(
        Kind::Busy,
        format!("the server is serving its maximum of {max} clients; try again later"),
    );
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
