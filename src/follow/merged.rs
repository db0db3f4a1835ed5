//! The follow loop of a merged view (`merge=`): several followed files
//! (`Followed`, each walking its own generations as one follower would)
//! sent as one timeline over one WebSocket. Every look reads what each file
//! added and sends the lines in the merged order of `history/merge.rs`:
//! the file whose next line has the smallest key sends its lines up to the
//! next line of another file that comes first, as one message of its own,
//! announced by a `{"source":K}` frame. Each file holds at most one
//! message's worth of read lines (its `pending` bytes), so memory stays
//! bounded whatever the files hold; a line that arrives after a
//! later-stamped line was sent is sent when it arrives (what was sent is
//! never reordered). Offsets, tags, the filter and the HTML colours are
//! each file's own (`Chunker`, `AnsiHtml`), and every offset frame and
//! event carries `"source":K`, so that a client resumes each file alone.

use std::io;
use std::time::{Duration, Instant};

use log::{info, warn};
use tungstenite::{Error as WsError, WebSocket};

use crate::encode::ansi::AnsiHtml;
use crate::encode::chunk::{Chunker, Flush};
use crate::follow::file::{Change, Followed, Skipped};
use crate::follow::liveness::Liveness;
use crate::follow::stream::{self, End, OP_BINARY, OP_TEXT, Timing, previous_of, push_frame};
use crate::history::merge::{self, Key, NO_TIME};
use crate::history::timestamp::YearHint;
use crate::limits::{MAX_MESSAGE_BYTES, ROTATION_CHECK_BUSY};
use crate::logging::connlog::escape;
use crate::net::timed_out;
use crate::serve::stall::Stalling;
use crate::wire::meta::{Meta, Position};
use crate::wire::names::Event;
use crate::wire::query::Format;
use crate::wire::tag::Tag;

/// What a file's start frame says when it is not simply the read
/// position: a window's first byte (with a filter, lines between it and
/// the read position were judged and dropped already), the tag of the
/// bytes before it, and whether a scan stopped at `--scan-limit`.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub first: u64,
    pub tag: Tag,
    pub limited: bool,
}

/// One file of a merged view.
pub struct Source {
    file: Followed,
    /// Bytes read from the file; those from `head` on are not yet given to
    /// `chunker`: at most one message's worth and a line.
    pending: Vec<u8>,
    head: usize,
    /// The next whole line's length and key, once computed (each line's
    /// timestamp is read once).
    next: Option<(usize, i128)>,
    /// `pending` starts inside a line whose head was already sent (a long
    /// line, or a partial line sent after an idle interval).
    mid_line: bool,
    chunker: Chunker,
    html: Option<Box<AnsiHtml>>,
    hint: YearHint,
    /// The time of the last stamped line taken: the key of the lines
    /// without a timestamp after it.
    last: i128,
    /// Where a window (`before=`, or the end of a request without
    /// `tail=1`) stops reading.
    end: Option<u64>,
    /// The file had nothing more to read at the last look.
    exhausted: bool,
    /// The file is being finished (a rotation, the end of a request): its
    /// partial last line is a line.
    ending: bool,
    /// When the file last gave new bytes (a partial line waits one
    /// interval).
    last_data: Instant,
    /// What the start frame says (`None`: the read position).
    window: Option<Window>,
    first_event: Option<Change>,
    /// The file is an older generation of its path (a resume behind a
    /// rotation, `since=`'s choice), not the file at it.
    older: bool,
    /// Reading starts in an older generation `since=` chose: the newer ones
    /// follow up to the file at the path, also without `tail=1`.
    walk_chain: bool,
}

impl Source {
    /// A file of the view, read from the followed file's position on, the
    /// lines before it keyed with `time` (the record the start is in).
    pub fn new(file: Followed, chunker: Chunker, format: Format, hint: YearHint) -> Self {
        let older = !file.at_path();
        Source {
            file,
            pending: Vec::new(),
            head: 0,
            next: None,
            mid_line: false,
            chunker,
            html: (format == Format::Html).then(Box::default),
            hint,
            last: NO_TIME,
            end: None,
            exhausted: false,
            ending: false,
            last_data: Instant::now(),
            window: None,
            first_event: None,
            older,
            walk_chain: false,
        }
    }

    /// The time the first lines take until a stamped one comes.
    pub fn with_time(mut self, time: i128) -> Self {
        self.last = time;
        self
    }

    /// The window's start frame, and where reading stops (`before=`, or the
    /// size at the start of a request without `tail=1`).
    pub fn with_window(mut self, window: Option<Window>, end: Option<u64>) -> Self {
        self.window = window;
        self.end = end;
        self
    }

    /// The event sent before the file's data (a resume point that no
    /// longer fits).
    pub fn with_event(mut self, event: Option<Change>) -> Self {
        self.first_event = event;
        self
    }

    /// The file is an older generation `since=` chose: the view walks the
    /// newer ones to the file at the path even when it does not follow.
    pub fn walking_chain(mut self, walk: bool) -> Self {
        self.walk_chain = walk;
        self
    }

    /// True when the file is an older generation read to its end, with
    /// nothing held: the next newer one can be opened at once.
    fn done_with_generation(&self) -> bool {
        self.older
            && self.end.is_none()
            && self.exhausted
            && !self.ending
            && self.head == self.pending.len()
    }

    /// True when a partial last line may go out as a line.
    fn partial_ok(&self, interval: Duration) -> bool {
        self.exhausted && (self.ending || self.last_data.elapsed() >= interval)
    }

    /// The length and key of the next line in `pending`, when it is whole
    /// (or may go out as it is).
    fn next_line(&mut self, interval: Duration) -> Option<(usize, i128)> {
        if self.next.is_none() {
            let line = self.line_at(0, interval)?;
            if self.is_whole(line.0) {
                self.next = Some(line);
            }
            return Some(line);
        }
        self.next
    }

    /// True when the `len` bytes from the head of `pending` end a line.
    fn is_whole(&self, len: usize) -> bool {
        self.pending[self.head + len - 1] == b'\n'
    }

    fn line_at(&self, at: usize, interval: Duration) -> Option<(usize, i128)> {
        let rest = self.pending[self.head..]
            .get(at..)
            .filter(|r| !r.is_empty())?;
        let len = match rest.iter().position(|&b| b == b'\n') {
            Some(p) => p + 1,
            None if rest.len() >= MAX_MESSAGE_BYTES || self.partial_ok(interval) => rest.len(),
            None => return None,
        };
        let time = if at == 0 && self.mid_line {
            None
        } else {
            merge::line_time(&rest[..len], self.hint)
        };
        Some((len, time.unwrap_or(self.last)))
    }

    /// Reads what is new (at most a message's worth beside what is held).
    fn fill(&mut self) -> Result<usize, End> {
        if self.file.is_waiting() {
            self.exhausted = true;
            return Ok(0);
        }
        let mut avail = self.file.available().map_err(End::FileError)?;
        if let Some(end) = self.end {
            avail = avail.min(end.saturating_sub(self.file.pos()));
        }
        // What was given out goes (only a partial line is left when a
        // file is read again).
        self.pending.drain(..self.head);
        self.head = 0;
        self.next = None;
        let room = MAX_MESSAGE_BYTES.saturating_sub(self.pending.len()).max(1);
        let want = avail.min(room as u64) as usize;
        if want == 0 {
            self.exhausted = true;
            return Ok(0);
        }
        let old = self.pending.len();
        self.pending.resize(old + want, 0);
        let n = self.file.read(&mut self.pending[old..]);
        let n = match n {
            Ok(n) => n,
            Err(e) => {
                self.pending.truncate(old);
                return Err(End::FileError(e));
            }
        };
        self.pending.truncate(old + n);
        self.exhausted = n == 0;
        if n > 0 {
            self.last_data = Instant::now();
        }
        Ok(n)
    }

    /// Moves the first `n` bytes of `pending` (whole lines, or a partial
    /// line allowed to go) to the chunker.
    fn give(&mut self, n: usize) {
        self.next = None;
        let given = &self.pending[self.head..self.head + n];
        self.chunker.space(n).copy_from_slice(given);
        self.chunker.commit(n, n);
        self.mid_line = given[n - 1] != b'\n';
        self.head += n;
        if self.head == self.pending.len() {
            self.pending.clear();
            self.head = 0;
        }
    }
}

/// The loop of one merged view.
pub struct Merged<'a> {
    ws: &'a mut WebSocket<Stalling>,
    sources: Vec<Source>,
    follow: bool,
    timing: Timing,
    live: Liveness,
    /// Payload bytes sent in text messages.
    pub sent: u64,
    label: String,
    out: Vec<u8>,
    html: String,
    /// Whole frames (data and meta) not yet written: written together, in
    /// one call, when a message's worth is held and at the end of a look.
    batch: Vec<u8>,
    /// The first text message was written.
    started: bool,
}

/// A meta frame's JSON with `"source":K` first.
fn with_source(k: usize, m: &Meta) -> String {
    let json = m.to_json();
    format!("{{\"source\":{k},{}", &json[1..])
}

impl<'a> Merged<'a> {
    pub fn new(
        ws: &'a mut WebSocket<Stalling>,
        sources: Vec<Source>,
        follow: bool,
        timing: Timing,
        label: String,
    ) -> Self {
        Merged {
            ws,
            sources,
            follow,
            timing,
            live: Liveness::new(timing),
            sent: 0,
            label,
            out: Vec::new(),
            html: String::new(),
            batch: Vec::new(),
            started: false,
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
        for k in 0..self.sources.len() {
            self.start_frame(k)?;
        }
        self.flush()?;
        let mut last_check = Instant::now();
        let mut pause = Duration::from_millis(1);
        loop {
            let n = self.look()?;
            if !self.follow {
                if n == 0 && self.sources.iter().all(|s| s.exhausted) {
                    for s in &mut self.sources {
                        s.ending = true;
                    }
                    self.look()?;
                    for k in 0..self.sources.len() {
                        self.send(k, Flush::End)?;
                        if let Some(skipped) = self.sources[k].file.take_corrupt() {
                            self.report_skipped(k, &skipped)?;
                        }
                    }
                    self.flush()?;
                    return Ok(());
                }
                self.heartbeat()?;
                continue;
            }
            if n > 0 {
                // A writer still writing: look again at once; the paths
                // are checked (and the client read) once per
                // ROTATION_CHECK_BUSY meanwhile.
                pause = Duration::from_millis(1);
                self.heartbeat()?;
                if last_check.elapsed() < ROTATION_CHECK_BUSY {
                    continue;
                }
                self.drain_incoming()?;
            }
            last_check = Instant::now();
            let mut changed = false;
            for k in 0..self.sources.len() {
                if self.sources[k].file.unchanged() {
                    continue;
                }
                if let Some(change) = self.sources[k].file.check() {
                    self.change(k, change)?;
                    changed = true;
                }
            }
            if n > 0 || changed {
                continue;
            }
            for s in &mut self.sources {
                s.file.waited();
            }
            self.heartbeat()?;
            self.wait(pause)?;
            pause = (pause * 2).min(self.timing.interval);
        }
    }

    /// The start frame of source `k`: its event when a resume point no
    /// longer fits, else where its text begins (with `previous` at 0).
    fn start_frame(&mut self, k: usize) -> Result<(), End> {
        let s = &self.sources[k];
        if let Some(change) = s.first_event {
            return self.send_event(k, change);
        }
        let mut start = match s.window {
            Some(w) => {
                let mut p = Position::new(w.first, s.file.inode(), w.tag);
                p.limit = w.limited;
                p
            }
            None => Position::new(s.file.pos(), s.file.inode(), s.file.tag()),
        };
        if start.offset == 0 {
            start.previous = previous_of(&s.file);
        }
        start.born = s.file.born();
        self.write_meta(k, &Meta::Position(start))
    }

    /// Reads what every file added and sends it in the merged order; the
    /// bytes read.
    fn look(&mut self) -> Result<usize, End> {
        let interval = self.timing.interval;
        let mut total = 0;
        loop {
            let mut keys = Vec::with_capacity(self.sources.len());
            let mut walk = None;
            for (k, s) in self.sources.iter_mut().enumerate() {
                if s.next_line(interval).is_none() {
                    total += s.fill()?;
                    if walk.is_none() && (self.follow || s.walk_chain) && s.done_with_generation() {
                        walk = Some(k);
                    }
                }
                keys.push(s.next_line(interval).map(|(_, t)| t));
            }
            // An older generation read to its end (a resume behind a
            // rotation, or since='s choice): the next newer one is opened
            // before any other file sends, so that its lines are not taken
            // for late ones.
            if let Some(k) = walk
                && let Some(change) = self.sources[k].file.check()
            {
                self.switch(k, change)?;
                continue;
            }
            let Some(i) = merge::first(&keys) else {
                break;
            };
            // The first key of any other file: file i sends its lines up
            // to it.
            let bound = keys
                .iter()
                .enumerate()
                .filter(|&(j, _)| j != i)
                .filter_map(|(j, t)| t.map(|time| Key { time, source: j }))
                .min();
            let s = &mut self.sources[i];
            let mut take = 0;
            let mut after = None;
            while take < MAX_MESSAGE_BYTES {
                let line = if take == 0 {
                    s.next_line(interval)
                } else {
                    s.line_at(take, interval)
                };
                let Some((len, time)) = line else {
                    break;
                };
                if take > 0 && bound.is_some_and(|b| Key { time, source: i } > b) {
                    after = s.is_whole(take + len).then_some((len, time));
                    break;
                }
                s.last = time;
                take += len;
            }
            s.give(take);
            s.next = after;
            let flush = if s.mid_line {
                Flush::Idle
            } else {
                Flush::Lines
            };
            self.send(i, flush)?;
            if !self.started {
                // The view's first message goes out at once; the rest in
                // batches.
                self.started = true;
                self.write_batch()?;
            }
        }
        self.write_batch()?;
        Ok(total)
    }

    /// Sends what source `k`'s chunker gives out: per message a
    /// `{"source":K}` frame, the text, and its offset frame.
    fn send(&mut self, k: usize, flush: Flush) -> Result<(), End> {
        loop {
            let s = &mut self.sources[k];
            self.out.clear();
            let Some(end) = s.chunker.next_into(flush, &mut self.out) else {
                return Ok(());
            };
            if self.out.is_empty() {
                continue; // the filter dropped every line
            }
            let text = match &mut s.html {
                None => String::from_utf8_lossy(&self.out).into_owned(),
                Some(conv) => {
                    self.html.clear();
                    conv.convert(&String::from_utf8_lossy(&self.out), &mut self.html);
                    std::mem::take(&mut self.html)
                }
            };
            if text.is_empty() {
                continue;
            }
            self.sent += text.len() as u64;
            let position = Meta::position(end, s.file.inode(), s.chunker.tag());
            push_frame(
                &mut self.batch,
                OP_BINARY,
                format!("{{\"source\":{k}}}").as_bytes(),
            );
            push_frame(&mut self.batch, OP_TEXT, text.as_bytes());
            if s.html.is_some() {
                self.html = text; // its buffer, for the next message
            }
            self.write_meta(k, &position)?;
            if self.batch.len() >= MAX_MESSAGE_BYTES {
                self.write_batch()?;
            }
        }
    }

    /// Finishes source `k`'s file and follows its change (rotation,
    /// truncation, deletion), as one follower would.
    fn change(&mut self, k: usize, change: Change) -> Result<(), End> {
        // The rest of the old file, in the merged order: its writer may have
        // added its last lines since the last read.
        self.sources[k].ending = true;
        self.look()?;
        let s = &mut self.sources[k];
        let n = s.pending.len() - s.head;
        if n > 0 {
            s.give(n);
        }
        self.switch(k, change)
    }

    /// Source `k`, whose file was read to its end, goes on to the file
    /// its change names.
    fn switch(&mut self, k: usize, change: Change) -> Result<(), End> {
        self.send(k, Flush::End)?;
        let s = &mut self.sources[k];
        s.ending = false;
        s.mid_line = false;
        let event = s.file.switch(change);
        s.chunker.restart(s.file.pos(), s.file.before().clone());
        s.older = !s.file.at_path();
        let skipped = s.file.take_skipped();
        for sk in &skipped {
            self.report_skipped(k, sk)?;
        }
        if let Some(event) = event {
            info!(
                "{}: \"{}\": file {}",
                self.label,
                escape(self.sources[k].file.path().as_os_str().as_encoded_bytes()),
                event.event()
            );
            self.send_event(k, event)?;
        }
        self.flush()
    }

    /// Bytes of source `k` that were not shown (compressed with xz, zstd or
    /// bzip2 before they were read, or the rest of a corrupt gzip file): a
    /// log line and `{"source":K,"event":"skipped",…}`, as one follower
    /// says it.
    fn report_skipped(&mut self, k: usize, skipped: &Skipped) -> Result<(), End> {
        let size = skipped
            .bytes
            .map_or("an unknown number of bytes".to_string(), |n| {
                format!("{n} bytes")
            });
        let why = skipped
            .reason
            .unwrap_or("was compressed before it was read");
        warn!(
            "{}: source {k}: skipped {size}: \"{}\" {why}",
            self.label,
            escape(skipped.path.as_os_str().as_encoded_bytes()),
        );
        let m = Meta::Event {
            event: Event::Skipped,
            bytes: skipped.bytes,
            path: skipped
                .reason
                .map(|_| skipped.path.to_string_lossy().into_owned()),
            reason: skipped.reason.map(|_| "corrupt gzip".to_string()),
        };
        self.write_meta(k, &m)
    }

    /// The event, then the new resume point of source `k`.
    fn send_event(&mut self, k: usize, change: Change) -> Result<(), End> {
        self.write_meta(k, &Meta::event(change.event()))?;
        let f = &self.sources[k].file;
        if !f.is_waiting() {
            let mut p = Position::new(f.pos(), f.inode(), f.tag());
            p.born = f.born();
            self.write_meta(k, &Meta::Position(p))?;
        }
        Ok(())
    }

    fn write_meta(&mut self, k: usize, m: &Meta) -> Result<(), End> {
        push_frame(&mut self.batch, OP_BINARY, with_source(k, m).as_bytes());
        Ok(())
    }

    /// Writes the batched frames, after what tungstenite may hold (a queued
    /// Pong), so that frames never interleave.
    fn write_batch(&mut self) -> Result<(), End> {
        if self.batch.is_empty() {
            return Ok(());
        }
        self.flush_ws()?;
        let written = io::Write::write_all(self.ws.get_mut(), &self.batch);
        self.batch.clear();
        if self.batch.capacity() > 4 * MAX_MESSAGE_BYTES {
            self.batch = Vec::new();
        }
        match written {
            Ok(()) => Ok(()),
            Err(e) if timed_out(&e) => Err(End::Stalled),
            Err(e) => Err(End::of(WsError::Io(e))),
        }
    }

    /// Writes everything queued: the batch and tungstenite's frames.
    fn flush(&mut self) -> Result<(), End> {
        self.write_batch()?;
        self.flush_ws()
    }

    fn flush_ws(&mut self) -> Result<(), End> {
        match self.ws.flush() {
            Ok(()) => Ok(()),
            Err(WsError::Io(e)) if timed_out(&e) => Err(End::Stalled),
            Err(e) => Err(End::of(e)),
        }
    }

    /// Sends a Ping when one is due (what is batched first); ends a client
    /// whose Pong is overdue.
    fn heartbeat(&mut self) -> Result<(), End> {
        self.write_batch()?;
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

    /// Closes the connection as well as the way it ended allows (as one
    /// follower does).
    fn close(&mut self, end: &End) {
        stream::close(self.ws, end);
    }
}
