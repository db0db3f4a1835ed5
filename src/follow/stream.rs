//! The WebSocket loop of one follower: read what is new in the file, cut it
//! into messages, encode and send them (each as one frame written whole);
//! when nothing is new, wait on the socket with a read timeout (that wait is
//! where Pong and Close frames arrive) of `--interval` — shorter right after
//! new data, starting at 1 ms and doubling, so that a writer still writing
//! is followed at once; send a Ping every `--heartbeat` and drop a client
//! that answers none within `--pong-timeout`; act on rotation, truncation and
//! deletion like `tail -F`. An idle follower holds no read or write buffer.

use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use log::{info, warn};
use tungstenite::error::ProtocolError;
use tungstenite::protocol::CloseFrame;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::{Error as WsError, Message, WebSocket};

use crate::encode::ansi::AnsiHtml;
use crate::encode::chunk::{Chunker, Flush};
use crate::encode::filter::Filter;
use crate::follow::file::{Change, Followed, Skipped};
use crate::follow::generations;
use crate::follow::liveness::Liveness;
use crate::history::start::Begin;
use crate::limits::{MAX_CLIENT_MESSAGE, ROTATION_CHECK_BUSY, SEND_STALL_TIMEOUT};
use crate::logging::connlog::escape;
use crate::net::timed_out;
use crate::serve::stall::Stalling;
use crate::wire::meta::{Born, Meta, Position, Previous};
use crate::wire::names::Event;
use crate::wire::query::Format;
use crate::wire::tag::Tag;

/// The first wait after the file had new data: a writer that is still
/// writing (a burst, `cat big.log >> file`) is followed at once instead of
/// one `--interval` later; the wait then doubles up to the interval, so an
/// idle follower still wakes once per interval.
const BURST_POLL: Duration = Duration::from_millis(1);

/// Timing of the loop, from the command line.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub interval: Duration,
    pub heartbeat: Option<Duration>,
    pub pong_timeout: Duration,
}

/// How a follower ended; written into the connection's log line.
#[derive(Debug)]
pub enum End {
    /// Not following: the tail was sent and the connection closed normally.
    Finished,
    /// The client sent a Close frame or closed the connection.
    ClientClosed,
    /// No Pong (or text `pong`) within the pong timeout.
    NoPong(Duration),
    /// The client took no data for the stall timeout.
    Stalled,
    /// The client sent a message over the size limit.
    TooLarge,
    /// The client broke the WebSocket protocol (a malformed frame, a frame
    /// a client may not send, a text message that is not UTF-8): the
    /// connection is failed with this close code (RFC 6455, 7.1.7).
    Protocol(CloseCode, String),
    /// Reading the file failed.
    FileError(io::Error),
    /// Anything else on the socket.
    Socket(String),
    /// The follower fell more than `--max-behind` bytes behind the end of a
    /// file no longer linked.
    Behind(u64),
}

impl End {
    /// True when the connection ends with the client's bytes unread (a
    /// refused frame): the caller then closes lingering (`http::linger`), so
    /// that a client still sending sees the Close, not a reset.
    pub fn leaves_input_unread(&self) -> bool {
        matches!(self, End::TooLarge | End::Protocol(..))
    }

    /// A short description for the log line.
    pub fn describe(&self) -> String {
        match self {
            End::Finished => "sent the tail and closed".to_string(),
            End::ClientClosed => "closed by the client".to_string(),
            End::NoPong(t) => format!("dropped: no pong within {:.1}s", t.as_secs_f64()),
            End::Stalled => format!(
                "dropped: took no data for {}s",
                SEND_STALL_TIMEOUT.as_secs()
            ),
            End::TooLarge => format!(
                "dropped: client message over {} KiB",
                MAX_CLIENT_MESSAGE / 1024
            ),
            End::Protocol(_, e) => format!("dropped: {e}"),
            End::FileError(e) => format!("ended: reading the file failed: {e}"),
            End::Socket(e) => format!("ended: {e}"),
            End::Behind(n) => format!(
                "dropped: more than {n} bytes behind the end of a deleted file (--max-behind)"
            ),
        }
    }
}

/// Text as it is, or HTML fragments (the converter, and the buffer it
/// writes into, kept from message to message).
enum Encoder {
    Text,
    Html(Box<AnsiHtml>, String),
}

/// Room left in front of a message's payload for its frame header (at most
/// 10 bytes), so that the frame is written in one call without copying the
/// payload again.
///
/// Data frames are written here rather than through tungstenite's `write`:
/// tungstenite copies each frame into its write buffer, which then keeps its
/// largest size (64 KiB per follower, 64 MB for a thousand idle ones) and
/// costs one more copy of every byte. Control frames (Ping, Close, the
/// replies tungstenite queues) still go through tungstenite, which is always
/// flushed before a data frame is written, so frames never interleave.
const HEADROOM: usize = 10;

pub(crate) const OP_TEXT: u8 = 0x1;
pub(crate) const OP_BINARY: u8 = 0x2;

/// Writes the header of an unmasked, final frame of `len` payload bytes just
/// before `buf[at..]`; returns where the frame starts.
fn put_header(buf: &mut [u8], at: usize, opcode: u8, len: usize) -> usize {
    let (start, lenbytes): (usize, &[u8]) = if len < 126 {
        (at - 2, &[])
    } else if len <= 0xFFFF {
        (at - 4, &(len as u16).to_be_bytes())
    } else {
        (at - 10, &(len as u64).to_be_bytes())
    };
    buf[start] = 0x80 | opcode;
    buf[start + 1] = match lenbytes.len() {
        0 => len as u8,
        2 => 126,
        _ => 127,
    };
    buf[start + 2..at].copy_from_slice(lenbytes);
    start
}

/// Appends a whole frame (header and payload) to `buf`.
pub(crate) fn push_frame(buf: &mut Vec<u8>, opcode: u8, payload: &[u8]) {
    let at = buf.len() + HEADROOM;
    buf.resize(at, 0);
    let start = put_header(buf, at, opcode, payload.len());
    buf.drain(at - HEADROOM..start);
    buf.extend_from_slice(payload);
}

/// One follower's state.
pub struct Follower<'a> {
    ws: &'a mut WebSocket<Stalling>,
    file: Followed,
    chunker: Chunker,
    encoder: Encoder,
    /// The frames being written: `HEADROOM` bytes, then the payload.
    out: Vec<u8>,
    follow: bool,
    meta: bool,
    timing: Timing,
    live: Liveness,
    /// Payload bytes sent in text messages.
    pub sent: u64,
    /// Label for log lines (peer and path).
    label: String,
    /// What the start frame says: the offset, its tag, `"limit":true`.
    first: (u64, Tag, bool),
    /// Reading stops here (`before=`); `None`: at the end of the file.
    end: Option<u64>,
    /// The event sent before any data (`Begin::event`).
    first_event: Option<Change>,
    /// `{"event":"binary"}` first.
    binary: bool,
    /// `--max-behind` (0: no bound).
    max_behind: u64,
    /// Reading started in an older generation and, even without `tail=1`,
    /// goes on through the newer ones to the end of the file at the path.
    walk_chain: bool,
}

/// How a follower works, besides where it starts (`Begin`): the request's
/// choices and the server's timing.
pub struct Setup {
    /// The canonical path that was admitted, and the roots it was admitted
    /// under (every generation and reopen passes them again).
    pub path: PathBuf,
    pub roots: Vec<PathBuf>,
    pub filter: Filter,
    pub format: Format,
    /// `tail=1`.
    pub follow: bool,
    /// `meta=1`.
    pub meta: bool,
    pub timing: Timing,
    /// Label for log lines (peer and path).
    pub label: String,
    /// `--max-behind` (0: no bound).
    pub max_behind: u64,
}

impl<'a> Follower<'a> {
    /// A follower starting where the opening decided (`history::start`).
    pub fn new(ws: &'a mut WebSocket<Stalling>, begin: Begin, setup: Setup) -> Self {
        let mut file = Followed::new(
            setup.path,
            setup.roots,
            (begin.file, begin.path),
            begin.id,
            begin.start,
        )
        .with_listing(begin.listing);
        if begin.copy {
            file.reading_copy();
        }
        let chunker = Chunker::new(begin.start, setup.filter).with_before(file.before().clone());
        let encoder = match setup.format {
            Format::Text => Encoder::Text,
            Format::Html => Encoder::Html(Box::default(), String::new()),
        };
        let timing = setup.timing;
        Follower {
            ws,
            file,
            chunker,
            encoder,
            out: Vec::new(),
            // A gzip file by its own name is a finished file.
            follow: setup.follow && !begin.no_follow,
            meta: setup.meta,
            timing,
            live: Liveness::new(timing),
            sent: 0,
            label: setup.label,
            first: (begin.first, begin.tag, begin.limited),
            end: begin.end,
            first_event: begin.event,
            binary: begin.binary,
            max_behind: setup.max_behind,
            walk_chain: begin.walk_chain,
        }
    }

    /// Runs until the connection ends; closes it as well as it can.
    pub fn run(&mut self) -> End {
        let end = match self.run_inner() {
            Ok(()) => End::Finished,
            Err(end) => end,
        };
        self.close(&end);
        end
    }

    fn run_inner(&mut self) -> Result<(), End> {
        if self.binary {
            self.write_meta(&Meta::event(Event::Binary))?;
            self.flush()?;
        }
        if let Some(change) = self.first_event.take() {
            self.send_event(change)?;
        } else if self.meta {
            // The starting point, before any text: a client that drops before
            // the first message (an empty tail) can still resume exactly.
            // A history window starts at its first byte; a start at 0 names
            // the newest older generation, where reading back goes on.
            let (first, tag, limited) = self.first;
            let mut start = Position::new(first, self.file.inode(), tag);
            start.limit = limited;
            if start.offset == 0 {
                start.previous = self.previous();
            }
            start.born = self.file.born();
            self.write_meta(&Meta::Position(start))?;
            self.flush()?;
        }
        let mut last_check = Instant::now();
        let mut last_data = Instant::now();
        let mut pause = BURST_POLL;
        let mut waited = false;
        loop {
            // After a wait, one stat of the path most often says that
            // nothing changed: then that is all an idle round costs.
            if waited && self.file.unchanged() {
                self.idle_round(last_data, pause)?;
                pause = (pause * 2).min(self.timing.interval);
                continue;
            }
            waited = false;
            let n = self.read_file()?;
            if n > 0 {
                last_data = Instant::now();
                pause = BURST_POLL;
                self.send_pieces(Flush::Lines)?;
                if last_check.elapsed() >= ROTATION_CHECK_BUSY {
                    last_check = Instant::now();
                    // Only truncation is acted on mid-stream: a rotated or
                    // deleted file is first read to its end.
                    if self.file.check() == Some(Change::Truncated) {
                        self.change(Change::Truncated)?;
                    }
                    self.check_behind()?;
                    self.drain_incoming()?;
                }
                self.heartbeat()?;
                continue;
            }
            if !self.follow && self.walk_chain && !self.file.at_path() {
                // An older generation read to its end: the next newer one.
                if let Some(change) = self.file.check() {
                    self.change(change)?;
                    continue;
                }
            }
            if !self.follow {
                self.send_pieces(Flush::End)?;
                if let Some(skipped) = self.file.take_corrupt() {
                    self.report_skipped(&skipped)?;
                }
                return Ok(());
            }
            last_check = Instant::now();
            if let Some(change) = self.file.check() {
                self.change(change)?;
                pause = BURST_POLL;
                continue;
            }
            self.idle_round(last_data, pause)?;
            waited = true;
            // Right after data, the writer is likely still writing: look
            // again soon, then less and less often, up to the interval.
            pause = (pause * 2).min(self.timing.interval);
        }
    }

    /// Ends a follower that holds a file no longer linked and has fallen
    /// more than `--max-behind` behind its end: a slow reader must not pin
    /// a deleted file's disk space.
    fn check_behind(&self) -> Result<(), End> {
        match self.file.behind_unlinked() {
            Some(n) if self.max_behind > 0 && n > self.max_behind => {
                Err(End::Behind(self.max_behind))
            }
            _ => Ok(()),
        }
    }

    /// Nothing new in the file: send a partial last line that has waited one
    /// interval, give back buffers sized for a burst (so that followers that
    /// are not receiving hold none, and a thousand clients connecting at
    /// once never hold theirs all together), then wait.
    fn idle_round(&mut self, last_data: Instant, pause: Duration) -> Result<(), End> {
        if last_data.elapsed() >= self.timing.interval {
            self.send_pieces(Flush::Idle)?;
        }
        self.release();
        self.file.waited();
        self.heartbeat()?;
        self.wait(pause)
    }

    /// Reads what is new into the chunker; the read is sized to what the
    /// file holds, so an idle follower holds no large buffer.
    fn read_file(&mut self) -> Result<usize, End> {
        if self.file.is_waiting() {
            return Ok(0);
        }
        let mut avail = self.file.available().map_err(End::FileError)?;
        if let Some(end) = self.end {
            avail = avail.min(end.saturating_sub(self.file.pos()));
        }
        if avail == 0 {
            return Ok(0);
        }
        let want = (avail.min(self.chunker.room() as u64)) as usize;
        let space = self.chunker.space(want);
        let n = self.file.read(space);
        let n = match n {
            Ok(n) => n,
            Err(e) => {
                self.chunker.commit(want, 0);
                return Err(End::FileError(e));
            }
        };
        self.chunker.commit(want, n);
        Ok(n)
    }

    /// Sends out everything read, then follows the file's change.
    fn change(&mut self, change: Change) -> Result<(), End> {
        if change != Change::Truncated {
            // The path names another file or none. The old file was read to
            // its end before the check, but its writer may have added its
            // last lines between that read and the check (a writer moves to
            // the new file only after finishing the old one): read it to its
            // end again, so they come before the new file's first line.
            while self.read_file()? > 0 {
                self.send_pieces(Flush::Lines)?;
            }
        }
        self.send_pieces(Flush::End)?;
        let event = self.file.switch(change);
        self.chunker
            .restart(self.file.pos(), self.file.before().clone());
        for skipped in self.file.take_skipped() {
            self.report_skipped(&skipped)?;
        }
        if let Some(event) = event {
            // The path came from a client: escaped, in quotes.
            info!(
                "{}: \"{}\": file {}",
                self.label,
                escape(self.file.path().as_os_str().as_bytes()),
                event.event()
            );
            self.send_event(event)?;
        }
        Ok(())
    }

    /// Sends every message the chunker gives out now: one text frame each
    /// (and, with `meta=1`, its offset frame), written in one call.
    fn send_pieces(&mut self, flush: Flush) -> Result<(), End> {
        if self.chunker.is_empty() {
            return Ok(()); // the common idle case: no allocation, nothing to do
        }
        loop {
            self.out.clear();
            self.out.resize(HEADROOM, 0);
            let Some(end) = self.chunker.next_into(flush, &mut self.out) else {
                return Ok(());
            };
            if self.out.len() == HEADROOM {
                continue; // the filter dropped every line
            }
            match &mut self.encoder {
                Encoder::Text => {
                    if std::str::from_utf8(&self.out[HEADROOM..]).is_err() {
                        let fixed = String::from_utf8_lossy(&self.out[HEADROOM..]).into_owned();
                        self.out.truncate(HEADROOM);
                        self.out.extend_from_slice(fixed.as_bytes());
                    }
                }
                Encoder::Html(conv, html) => {
                    html.clear();
                    conv.convert(&String::from_utf8_lossy(&self.out[HEADROOM..]), html);
                    self.out.truncate(HEADROOM);
                    self.out.extend_from_slice(html.as_bytes());
                }
            }
            let len = self.out.len() - HEADROOM;
            if len == 0 {
                continue;
            }
            self.sent += len as u64;
            let start = put_header(&mut self.out, HEADROOM, OP_TEXT, len);
            if self.meta {
                let json = Meta::position(end, self.file.inode(), self.chunker.tag()).to_json();
                push_frame(&mut self.out, OP_BINARY, json.as_bytes());
            }
            self.write_frames(start)?;
        }
    }

    /// Writes `self.out[start..]` (whole frames) to the socket, after what
    /// tungstenite may hold (a queued Pong).
    fn write_frames(&mut self, start: usize) -> Result<(), End> {
        self.flush()?;
        io::Write::write_all(self.ws.get_mut(), &self.out[start..])
            .map_err(|e| End::of(WsError::Io(e)))
    }

    /// Gives back the memory of buffers an idle follower does not need.
    fn release(&mut self) {
        self.chunker.release();
        self.file.release();
        self.out = Vec::new();
        if let Encoder::Html(_, html) = &mut self.encoder {
            *html = String::new();
        }
    }

    /// With `meta=1`: the resume point `{"offset":N,"inode":I,"tag":T}` of
    /// the read position, when everything read was sent.
    fn write_position(&mut self) -> Result<(), End> {
        if self.meta {
            let mut p = Position::new(self.file.pos(), self.file.inode(), self.file.tag());
            p.born = self.file.born();
            self.write_meta(&Meta::Position(p))?;
        }
        Ok(())
    }

    /// The generation just older than the file being read, for a start
    /// frame at 0: the newest older one when it is the file at the path, the
    /// next in the chain when it is itself an older generation (`inode=`).
    fn previous(&self) -> Option<Previous> {
        previous_of(&self.file)
    }

    /// Queues one meta frame.
    fn write_meta(&mut self, m: &Meta) -> Result<(), End> {
        self.write(Message::binary(m.to_json().into_bytes()))
    }

    /// Data the follower knows it skipped (compressed with xz, zstd or
    /// bzip2 before it was read, or the rest of a corrupt gzip file): a log
    /// line, and with `meta=1` `{"event":"skipped","bytes":N}` (no `bytes`
    /// when the size is not known), or for a corrupt gzip file
    /// `{"event":"skipped","path":P,"reason":"corrupt gzip"}`.
    fn report_skipped(&mut self, skipped: &Skipped) -> Result<(), End> {
        let size = match skipped.bytes {
            Some(n) => format!("{n} bytes"),
            None => "an unknown number of bytes".to_string(),
        };
        let why = skipped
            .reason
            .unwrap_or("was compressed before it was read");
        warn!(
            "{}: \"{}\": skipped {size}: \"{}\" {why}",
            self.label,
            escape(self.file.path().as_os_str().as_bytes()),
            escape(skipped.path.as_os_str().as_bytes()),
        );
        if self.meta {
            self.write_meta(&Meta::Event {
                event: Event::Skipped,
                bytes: skipped.bytes,
                path: skipped
                    .reason
                    .map(|_| skipped.path.to_string_lossy().into_owned()),
                reason: skipped.reason.map(|_| "corrupt gzip".to_string()),
            })?;
            self.flush()?;
        }
        Ok(())
    }

    /// With `meta=1`: the event, then the new resume point, so that a client
    /// that drops before the next text message still resumes exactly.
    fn send_event(&mut self, change: Change) -> Result<(), End> {
        if self.meta {
            self.write_meta(&Meta::event(change.event()))?;
            if !self.file.is_waiting() {
                self.write_position()?;
            }
            self.flush()?;
        }
        Ok(())
    }

    /// Queues a message; tungstenite may already write it out. The socket's
    /// write timeout is the stall timeout, so a write that times out means
    /// the client took no data for that long.
    fn write(&mut self, msg: Message) -> Result<(), End> {
        self.ws.write(msg).map_err(End::of)
    }

    /// Pushes queued frames out. The socket's write timeout is the stall
    /// timeout: a write that makes no progress for that long drops the client.
    fn flush(&mut self) -> Result<(), End> {
        self.ws.flush().map_err(End::of)
    }

    /// Sends a Ping when one is due; ends a client whose Pong is overdue.
    fn heartbeat(&mut self) -> Result<(), End> {
        self.live.heartbeat(self.ws)
    }

    /// Waits on the socket up to `pause` (see `Liveness::wait`).
    fn wait(&mut self, pause: Duration) -> Result<(), End> {
        self.live.wait(self.ws, pause)
    }

    /// Reads whatever the client already sent, without waiting.
    fn drain_incoming(&mut self) -> Result<(), End> {
        self.live.drain_incoming(self.ws)
    }

    /// Closes the connection as well as the way it ended allows.
    fn close(&mut self, end: &End) {
        close(self.ws, end);
    }
}

/// Closes a WebSocket as well as the way it ended allows (the follower's
/// end, or a scan's before it): the Close frame its end calls for, then a
/// brief wait for the client's reply; nothing more than the queued reply
/// to the client's own Close when the client is gone or stalled.
pub fn close(ws: &mut WebSocket<Stalling>, end: &End) {
    let (code, reason) = match end {
        End::Finished => (CloseCode::Normal, ""),
        End::ClientClosed | End::Socket(_) | End::Stalled => {
            // Reply to the client's Close (queued by tungstenite) if we can.
            ws.get_mut().set_limit(Duration::from_secs(1));
            let _ = ws.flush();
            return;
        }
        End::NoPong(_) => (CloseCode::Policy, "no pong"),
        End::TooLarge => (CloseCode::Size, "message too large"),
        End::Protocol(code, _) => (*code, "protocol error"),
        End::FileError(_) => (CloseCode::Error, "reading the file failed"),
        End::Behind(_) => (
            CloseCode::Policy,
            "too far behind the end of a deleted file (--max-behind)",
        ),
    };
    ws.get_mut().set_limit(Duration::from_secs(1));
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    if ws.close(Some(frame)).is_err() || ws.flush().is_err() {
        return;
    }
    if end.leaves_input_unread() {
        // tungstenite cannot read on after refusing a frame as too
        // large, and what follows a malformed frame is not to be
        // read as frames (RFC 6455, 7.1.7): the caller discards it
        // (`leaves_input_unread`).
        return;
    }
    // Wait briefly for the client's Close reply (a clean closing handshake).
    let _ = ws
        .get_ref()
        .get_ref()
        .set_read_timeout(Some(Duration::from_secs(1)));
    for _ in 0..16 {
        match ws.read() {
            Ok(_) => continue,
            Err(_) => break,
        }
    }
}

/// The generation just older than the file being read, for a start frame
/// at 0: the newest older one when it is the file at the path, the next in
/// the chain when it is itself an older generation (`inode=`).
pub fn previous_of(file: &Followed) -> Option<Previous> {
    if file.is_corrupt() {
        // A gzip file that stops inflating ends the chain.
        return None;
    }
    let (path, roots) = (file.path(), file.roots());
    let at_path = std::fs::metadata(path).ok().map(|m| m.ino());
    let g = if at_path == Some(file.inode()) {
        generations::newest(path, roots)?
    } else {
        let chain = generations::older(path, roots);
        let at = chain.iter().position(|g| g.inode == file.inode())?;
        chain.into_iter().nth(at + 1)?
    };
    let path = g.path.to_string_lossy().into_owned();
    Some(match g.compressed {
        Some(c) if !g.readable() => Previous::Compressed {
            path,
            compression: c,
        },
        c => Previous::File {
            path,
            inode: g.inode,
            born: g.created.and_then(Born::at),
            size: g.text_size(roots),
            compressed: c,
        },
    })
}

impl End {
    /// How a WebSocket error ends the connection: a timed-out write is a
    /// client that takes no data (the socket's write timeout is the stall
    /// timeout; reads that time out are handled before they get here).
    pub fn of(e: WsError) -> End {
        match e {
            WsError::Io(e) if timed_out(&e) => End::Stalled,
            WsError::ConnectionClosed | WsError::AlreadyClosed => End::ClientClosed,
            WsError::Capacity(_) => End::TooLarge,
            // A peer gone without a Close is not a malformed frame: there is no
            // one left to send a Close to.
            WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake) => {
                End::Socket(e.to_string())
            }
            WsError::Protocol(_) => End::Protocol(CloseCode::Protocol, e.to_string()),
            WsError::Utf8(_) => End::Protocol(CloseCode::Invalid, e.to_string()),
            WsError::Io(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionReset
                        | io::ErrorKind::BrokenPipe
                        | io::ErrorKind::UnexpectedEof
                ) =>
            {
                End::ClientClosed
            }
            other => End::Socket(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_headers_of_every_length_class() {
        for (len, head) in [
            (0usize, vec![0x81, 0]),
            (125, vec![0x81, 125]),
            (126, vec![0x81, 126, 0, 126]),
            (65535, vec![0x81, 126, 0xFF, 0xFF]),
            (65536, vec![0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0]),
        ] {
            let mut buf = vec![0u8; HEADROOM + len];
            let start = put_header(&mut buf, HEADROOM, OP_TEXT, len);
            assert_eq!(&buf[start..HEADROOM], &head[..], "length {len}");
        }
        let mut buf = b"x".to_vec();
        push_frame(&mut buf, OP_BINARY, b"{}");
        assert_eq!(buf, b"x\x82\x02{}");
    }
}
