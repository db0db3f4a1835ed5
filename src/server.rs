//! Where connections come from: a bound `TcpListener` with one thread per
//! client (explicit small stack), or `--inetd`'s one connection on standard
//! input. Client slots bound the threads (`--max-clients`); the connection
//! after the last slot is answered 503 by a small, itself bounded, set of
//! refusal threads. Accept errors (EMFILE and the like) are logged and
//! survived with a short pause, never a busy loop or an exit.

use std::fmt;
use std::fs::File;
use std::io;
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use log::{error, info, warn};

use crate::cli::ServeConfig;
use crate::conn::{self, ConnLog, Shared};
use crate::http;
use crate::limits::{ACCEPT_ERROR_PAUSE, CLIENT_STACK, MAX_REFUSING, REFUSAL_READ};

/// A failure that ends the server: exit status 1 (or 2 for `Usage`).
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

/// Runs the server until the process is killed (or, with `--inetd`, until
/// the one connection ends).
pub fn serve(cfg: ServeConfig) -> Result<(), ServeError> {
    if cfg.inetd {
        return serve_inetd(cfg);
    }
    let listener =
        TcpListener::bind(&cfg.listen).map_err(|e| ServeError::Bind(cfg.listen.clone(), e))?;
    let local = listener
        .local_addr()
        .map_or_else(|_| cfg.listen.clone(), |a| a.to_string());
    let roots: Vec<String> = cfg.roots.iter().map(|r| r.display().to_string()).collect();
    let url = format!("http://{local}{}/", cfg.base_path);
    info!("listening on {url} serving {}", roots.join(", "));
    if cfg.log_file.is_some() {
        eprintln!("wstail: listening on {url} serving {}", roots.join(", "));
    }
    let max_clients = cfg.max_clients;
    let shared = Arc::new(Shared::new(cfg));
    let active = Arc::new(AtomicUsize::new(0));
    let refusing = Arc::new(AtomicUsize::new(0));
    loop {
        let stream = match listener.accept() {
            Ok((s, _)) => s,
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
        if let Some(slot) = Slot::take(&active, max_clients) {
            let shared = Arc::clone(&shared);
            spawn("wstail-client", move || {
                let _slot = slot;
                conn::handle(stream, &shared);
            });
        } else if let Some(slot) = Slot::take(&refusing, MAX_REFUSING) {
            spawn("wstail-refuse", move || {
                let _slot = slot;
                refuse_busy(stream, max_clients);
            });
        } else {
            warn!(
                "dropped a connection: {max_clients} clients and {MAX_REFUSING} refusals in progress"
            );
        }
    }
}

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) {
    let r = std::thread::Builder::new()
        .name(name.to_string())
        .stack_size(CLIENT_STACK)
        .spawn(f);
    if let Err(e) = r {
        // The closure (and so the stream and its slot) is dropped.
        error!("cannot start a thread for a connection: {e}; the connection is closed");
    }
}

/// Answers 503 to a connection beyond `--max-clients`, after reading its head
/// (closing with the request unread would reset the connection and the
/// client would never see the answer).
fn refuse_busy(mut stream: TcpStream, max: usize) {
    let mut log = ConnLog::new(stream.peer_addr().ok());
    let _ = stream.set_read_timeout(Some(REFUSAL_READ));
    let _ = stream.set_write_timeout(Some(REFUSAL_READ));
    if let Ok(req) = http::read_head(&mut stream) {
        log.target = format!("{} {}", req.method, conn::log_target(&req.target));
    }
    let reason = format!("the server is serving its maximum of {max} clients; try again later");
    log.status = 503;
    log.outcome = format!("refused: {reason}");
    log.level = log::Level::Warn;
    let _ = http::refuse(&mut stream, 503, &reason, &["Retry-After: 5".to_string()]);
}

/// `--inetd`: the connection is standard input (inetd, xinetd, systemd
/// `Accept=yes`, tcpserver). No unsafe code is needed to adopt it.
fn serve_inetd(cfg: ServeConfig) -> Result<(), ServeError> {
    let fd = io::stdin()
        .as_fd()
        .try_clone_to_owned()
        .map_err(|e| ServeError::NotASocket(format!("standard input cannot be used: {e}")))?;
    let meta = File::from(
        fd.try_clone()
            .map_err(|e| ServeError::NotASocket(format!("standard input cannot be used: {e}")))?,
    )
    .metadata();
    let is_socket = meta.is_ok_and(|m| std::os::unix::fs::FileTypeExt::is_socket(&m.file_type()));
    if !is_socket {
        return Err(ServeError::NotASocket(
            "standard input is not a socket".to_string(),
        ));
    }
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
