//! The scans of a request run over its open WebSocket — the backward scan
//! for the last lines (`window::find_window`) and the time search of
//! `since=` (`since::find`): a scan may cover up to `--scan-limit` bytes,
//! so while it runs, after every block, the client is looked at — gone (its connection
//! closed, or a Close frame) stops the scan at once — and, with `meta=1`,
//! a `{"progress":{"scanned":B,"total":T}}` frame goes out at most every
//! `PROGRESS_EVERY`. The socket is non-blocking while the scan runs, so that
//! each look is one `peek`.

use std::io;
use std::time::{Duration, Instant};

use tungstenite::{Error as WsError, Message, WebSocket};

use crate::follow::stream::End;
use crate::history::window::{self, Ask, Window};
use crate::limits::PROGRESS_EVERY;
use crate::net::timed_out;
use crate::serve::stall::Stalling;
use crate::wire::meta::Meta;

/// Runs the scan `ask` describes over the first `len` bytes of `file`.
/// `Err` when the client left (or the socket failed) or reading failed.
pub fn run(
    ws: &mut WebSocket<Stalling>,
    file: &impl window::ReadAt,
    len: u64,
    ask: &Ask,
    meta: bool,
) -> Result<Window, End> {
    let top = ask.before.map_or(len, |b| b.min(len));
    watched(ws, meta, top.min(ask.limit), |go_on| {
        window::find_window(file, len, ask, go_on)
    })
}

/// Runs `work` — a scan that calls its argument after every block with the
/// bytes covered so far, and stops with `Ok(None)` when told to — while
/// the client is watched: gone, it stops the scan; with `meta=1` it gets
/// progress frames (`total`: the most bytes the scan can cover). `Err`
/// when the client left (or the socket failed) or reading failed.
pub fn watched<T>(
    ws: &mut WebSocket<Stalling>,
    meta: bool,
    total: u64,
    work: impl FnOnce(&mut dyn FnMut(u64) -> bool) -> io::Result<Option<T>>,
) -> Result<T, End> {
    let mut watch = Watch {
        ws,
        meta,
        total,
        started: Instant::now(),
        last: None,
        end: None,
    };
    watch.nonblocking(true)?;
    let found = work(&mut |scanned| watch.go_on(scanned));
    let end = watch.end.take();
    watch.nonblocking(false)?;
    match found {
        Ok(Some(found)) => Ok(found),
        Ok(None) => Err(end.unwrap_or(End::ClientClosed)),
        Err(e) => Err(End::FileError(e)),
    }
}

/// The client's side of a running scan.
struct Watch<'a> {
    ws: &'a mut WebSocket<Stalling>,
    meta: bool,
    /// The most bytes the scan can cover (`"total"`).
    total: u64,
    started: Instant,
    /// When the last progress frame was sent.
    last: Option<Instant>,
    /// Why the scan was stopped.
    end: Option<End>,
}

impl Watch<'_> {
    /// After each block: false (and `end` set) when the scan is to stop.
    fn go_on(&mut self, scanned: u64) -> bool {
        match self.look().and_then(|()| self.progress(scanned)) {
            Ok(()) => true,
            Err(end) => {
                self.end = Some(end);
                false
            }
        }
    }

    /// Whether the client is still there: one `peek`; only when it sent
    /// something is that read (a Close frame ends the scan, a Ping is
    /// answered).
    fn look(&mut self) -> Result<(), End> {
        let stream = self.ws.get_ref().get_ref();
        match stream.peek(&mut [0u8; 1]) {
            Ok(0) => Err(End::ClientClosed),
            Ok(_) => self.read_client(),
            Err(e) if timed_out(&e) || e.kind() == io::ErrorKind::Interrupted => Ok(()),
            Err(_) => Err(End::ClientClosed),
        }
    }

    /// Reads what the client sent, waiting at most a millisecond for the
    /// rest of a frame. The socket blocks meanwhile (with that timeout), so
    /// that a Pong that tungstenite writes in reply to a Ping is written
    /// under the stall rule.
    fn read_client(&mut self) -> Result<(), End> {
        self.nonblocking(false)?;
        let _ = self
            .ws
            .get_ref()
            .get_ref()
            .set_read_timeout(Some(Duration::from_millis(1)));
        let read = self.read_frames();
        self.nonblocking(true)?;
        read
    }

    fn read_frames(&mut self) -> Result<(), End> {
        for _ in 0..16 {
            match self.ws.read() {
                Ok(Message::Close(_)) => return Err(End::ClientClosed),
                Ok(_) => {}
                Err(WsError::Io(e)) if timed_out(&e) => return Ok(()),
                Err(e) => return Err(End::of(e)),
            }
        }
        Ok(())
    }

    /// With `meta=1`, a progress frame when one is due. The frame is
    /// written with the socket blocking again (the stall rule applies).
    fn progress(&mut self, scanned: u64) -> Result<(), End> {
        let due = self.last.unwrap_or(self.started).elapsed() >= PROGRESS_EVERY;
        if !self.meta || !due {
            return Ok(());
        }
        self.last = Some(Instant::now());
        let json = Meta::Progress {
            scanned: scanned.min(self.total),
            total: self.total,
        }
        .to_json();
        self.nonblocking(false)?;
        let sent = self
            .ws
            .send(Message::binary(json.into_bytes()))
            .map_err(End::of);
        self.nonblocking(true)?;
        sent
    }

    fn nonblocking(&self, on: bool) -> Result<(), End> {
        self.ws
            .get_ref()
            .get_ref()
            .set_nonblocking(on)
            .map_err(|e| End::Socket(format!("setting the socket (non-)blocking failed: {e}")))
    }
}
