//! The scans of a request run over its open WebSocket — the backward scan
//! for the last lines (`window::find_window`) and the time search of
//! `since=` (`since::find`): a scan may cover up to `--scan-limit` bytes,
//! so while it runs, after every block, the client is looked at — gone (its connection
//! closed, or a Close frame) stops the scan at once — and, with `meta=1`,
//! a `{"progress":{"scanned":B,"total":T}}` frame goes out at most every
//! `PROGRESS_EVERY`. The socket is non-blocking while the scan runs, so that
//! each look is one `peek`. A filtered scan is CPU-heavy: it first takes
//! its turn (`turns.rs`, `--max-scans`), and while it waits the client is
//! looked at the same way and, with `meta=1`, told so
//! (`{"progress":{"scanned":0,"total":T,"waiting":true}}`). `wait_turn`
//! does that for any other heavy work done over an open WebSocket.

use std::io;
use std::time::{Duration, Instant};

use tungstenite::{Error as WsError, Message, WebSocket};

use crate::follow::stream::End;
use crate::history::turns::{self, Permit};
use crate::history::window::{self, Ask, Window};
use crate::limits::PROGRESS_EVERY;
use crate::net::timed_out;
use crate::serve::stall::Stalling;
use crate::wire::meta::Meta;

/// Runs the scan `ask` describes over the first `len` bytes of `file`.
/// `Err` when the client left (or the socket failed) or reading failed.
/// An unfiltered scan stops at the lines asked for, which are near: only a
/// filtered one may search far, and takes its turn first.
pub fn run(
    ws: &mut WebSocket<Stalling>,
    file: &impl window::ReadAt,
    len: u64,
    ask: &Ask,
    meta: bool,
) -> Result<Window, End> {
    let top = ask.before.map_or(len, |b| b.min(len));
    let heavy = !ask.filter.is_empty();
    watched(ws, meta, top.min(ask.limit), heavy, |go_on| {
        window::find_window(file, len, ask, go_on)
    })
}

/// Runs `work` — a scan that calls its argument after every block with the
/// bytes covered so far, and stops with `Ok(None)` when told to — while
/// the client is watched: gone, it stops the scan; with `meta=1` it gets
/// progress frames (`total`: the most bytes the scan can cover). `heavy`
/// work (a filtered scan, a `since=` search) first waits for its turn
/// (`turns.rs`), the client watched meanwhile too. `Err` when the client
/// left (or the socket failed) or reading failed.
pub fn watched<T>(
    ws: &mut WebSocket<Stalling>,
    meta: bool,
    total: u64,
    heavy: bool,
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
    let turn = if heavy {
        match watch.wait_turn(turns::shared()) {
            Ok(permit) => Some(permit),
            Err(end) => {
                let _ = watch.nonblocking(false);
                return Err(end);
            }
        }
    } else {
        None
    };
    let found = work(&mut |scanned| watch.go_on(scanned));
    drop(turn);
    let end = watch.end.take();
    watch.nonblocking(false)?;
    match found {
        Ok(Some(found)) => Ok(found),
        Ok(None) => Err(end.unwrap_or(End::ClientClosed)),
        Err(e) => Err(End::FileError(e)),
    }
}

/// Waits for a turn of `turns` before heavy work over `total` bytes, over
/// an open WebSocket: the client is looked at every `TURN_LOOK` (gone, or a
/// Close: `Err`, and its place in line is given up) and, with `meta`, sent
/// a waiting frame. The socket is left blocking, as it was given.
pub fn wait_turn<'t>(
    ws: &mut WebSocket<Stalling>,
    turns: &'t turns::Turns,
    total: u64,
    meta: bool,
) -> Result<Permit<'t>, End> {
    let mut watch = Watch {
        ws,
        meta,
        total,
        started: Instant::now(),
        last: None,
        end: None,
    };
    watch.nonblocking(true)?;
    let permit = watch.wait_turn(turns);
    watch.nonblocking(false)?;
    permit
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

    /// A turn of `turns`, looking at the client while waiting for it (the
    /// socket non-blocking, as during the scan).
    fn wait_turn<'t>(&mut self, turns: &'t turns::Turns) -> Result<Permit<'t>, End> {
        let taken = turns.take(|| match self.look().and_then(|()| self.waiting()) {
            Ok(()) => true,
            Err(end) => {
                self.end = Some(end);
                false
            }
        });
        match taken {
            Some((permit, _)) => {
                // The scan's own progress counts from its start.
                self.started = Instant::now();
                self.last = None;
                Ok(permit)
            }
            None => Err(self.end.take().unwrap_or(End::ClientClosed)),
        }
    }

    /// With `meta=1`, a waiting frame (at most every `TURN_LOOK`, which is
    /// how often this is called).
    fn waiting(&mut self) -> Result<(), End> {
        if !self.meta {
            return Ok(());
        }
        let json = Meta::Waiting { total: self.total }.to_json();
        self.send(json)
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
        self.send(json)
    }

    /// Sends one meta frame, with the socket blocking meanwhile (the stall
    /// rule applies).
    fn send(&mut self, json: String) -> Result<(), End> {
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
