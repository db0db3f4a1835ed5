//! `wstail tail --merge URL…`: several URLs, on one server or several,
//! printed as one stream in the order of their lines' timestamps (the order
//! itself is `merge.rs`). Each source is followed by its own thread, as
//! without `--merge`, and its text is cut into keyed lines (`Feed`) for the
//! one printer, this module's `run`, which alone writes standard output.
//!
//! A source makes two kinds of connection. The first, without `tail=1`,
//! brings its initial lines (`-n N` or `--since T`) and closes normally;
//! its last offset frame says where the second, with `tail=1`, resumes —
//! so the initial lines of every source are known complete, and merged
//! exactly (`-n N`: the last N of the merged sequence), before anything
//! appended is shown, with nothing lost or repeated in between. While
//! following, what arrives within a short pause is ordered together;
//! a line that arrives after a later-stamped one was printed is printed
//! when it arrives (what was printed is never reordered). With `--retry`
//! each source resumes on its own; a source whose initial lines cannot be
//! had yet does not hold back the others' (it joins when it can).

use std::collections::VecDeque;
use std::io::{self, Write};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::time::{Duration, Instant};

use super::merge::{Key, Keyer, Merge};
use super::output::Lines;
use super::session::Fresh;
use super::source::Source;
use super::{Ask, Ends, Outcome, Retry, Sink, Stream, TailError};
use crate::cli::config::TailConfig;
use crate::wire::refusal::escape;

/// Notes a source may have queued for the printer while its initial lines
/// are merged (each holds the lines of at most one server message, 64 KiB
/// of file bytes): the exact merge waits for the slowest source, and the
/// others wait for it with this much in memory, whatever `--since` asks.
const FEED_DEPTH: usize = 16;

/// While following: lines that arrive within this pause of each other are
/// ordered together ...
const SETTLE: Duration = Duration::from_millis(50);

/// ... for at most this long after the first of them.
const SETTLE_MAX: Duration = Duration::from_millis(500);

/// Printed output is written out once this much has gathered.
const PRINT_BUFFER: usize = 64 * 1024;

/// What a source's thread tells the printer.
enum Note {
    /// Whole lines of the source, keyed, in its order.
    Lines {
        source: usize,
        lines: Vec<(Key, Vec<u8>)>,
    },
    /// The source's initial lines are all sent (its first channel only).
    InitialDone,
    /// The source has ended.
    End { outcome: Outcome },
}

/// One source's text on its way to the printer: cut into whole lines,
/// each keyed, sent on the source's own bounded channel for the initial
/// lines and then on the channel all sources share.
pub(super) struct Feed {
    source: usize,
    keyer: Keyer,
    lines: Lines,
    initial: Option<SyncSender<Note>>,
    later: Sender<Note>,
}

impl Feed {
    fn new(source: usize, initial: SyncSender<Note>, later: Sender<Note>) -> Feed {
        Feed {
            source,
            keyer: Keyer::new(),
            lines: Lines::default(),
            initial: Some(initial),
            later,
        }
    }

    /// Text of a message: its whole lines go to the printer.
    pub fn text(&mut self, data: &[u8]) -> io::Result<()> {
        match self.lines.push(data) {
            Some(whole) => self.send_lines(&whole),
            None => Ok(()),
        }
    }

    /// The end of the source: a held partial line, with a newline.
    pub fn finish(&mut self) -> io::Result<()> {
        match self.lines.rest() {
            Some(line) => self.send_lines(&line),
            None => Ok(()),
        }
    }

    fn send_lines(&mut self, whole: &[u8]) -> io::Result<()> {
        let lines = whole
            .split_inclusive(|&b| b == b'\n')
            .map(|l| (self.keyer.key(l), l.to_vec()))
            .collect();
        self.send(Note::Lines {
            source: self.source,
            lines,
        })
    }

    /// A closed channel means the printer has ended (its reader closed
    /// standard output): as a closed pipe for this thread.
    fn send(&self, note: Note) -> io::Result<()> {
        let sent = match &self.initial {
            Some(tx) => tx.send(note).is_ok(),
            None => self.later.send(note).is_ok(),
        };
        if sent {
            Ok(())
        } else {
            Err(io::ErrorKind::BrokenPipe.into())
        }
    }

    /// The initial lines are all sent; what follows goes on the shared
    /// channel. Said once.
    fn initial_done(&mut self) {
        if self.initial.is_some() {
            let _ = self.send(Note::InitialDone);
            self.initial = None;
        }
    }
}

/// Runs `--merge` until every source has ended.
pub(super) fn run(sources: Vec<Source>, cfg: Arc<TailConfig>) -> Result<(), TailError> {
    let count = sources.len();
    let prefixes = sources
        .iter()
        .map(|s| match count {
            1 => Vec::new(),
            _ => escape(&s.prefix).into_bytes(),
        })
        .collect();
    let (later_tx, later_rx) = mpsc::channel();
    let mut initial = Vec::with_capacity(count);
    for (index, source) in sources.into_iter().enumerate() {
        let (tx, rx) = mpsc::sync_channel(FEED_DEPTH);
        initial.push(rx);
        let later = later_tx.clone();
        let cfg = Arc::clone(&cfg);
        std::thread::Builder::new()
            .name("wstail-tail".to_string())
            .spawn(move || follow_source(source, &cfg, Feed::new(index, tx, later)))
            .map_err(TailError::Thread)?;
    }
    drop(later_tx);
    let keep = cfg.since.is_none().then_some(cfg.lines);
    let mut printer = Printer {
        prefixes,
        buf: Vec::new(),
    };
    match print(&mut printer, initial, later_rx, keep) {
        Ok(result) => result,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(TailError::Output(e)),
    }
}

/// One source's thread: its initial lines, then (with `-f`) its appends.
fn follow_source(source: Source, cfg: &TailConfig, feed: Feed) {
    let mut stream = Stream::new(source, cfg, Sink::Feed(feed));
    let retry = match (cfg.retry, cfg.follow) {
        (false, _) => Retry::No,
        (true, false) => Retry::Always,
        (true, true) => Retry::Later,
    };
    let first = Ask {
        follow: false,
        meta: true,
        fresh: Fresh::of(cfg),
        retry,
    };
    let outcome = match stream.follow(&first) {
        // Resumed where the first connection ended (from its last offset
        // frame; a server that sent none: what is appended from now).
        Outcome::Done if cfg.follow => appends(&mut stream, Fresh::Lines(0)),
        // The others' initial lines go out without these; this source
        // joins once it can, with its own initial lines.
        Outcome::Unavailable(why) => {
            if let Sink::Feed(f) = &mut stream.sink {
                f.initial_done();
            }
            stream.back_off(&why);
            appends(&mut stream, Fresh::of(cfg))
        }
        other => other,
    };
    let outcome = stream.finish(outcome);
    if let Sink::Feed(f) = &stream.sink {
        let _ = f.send(Note::End { outcome });
    }
}

/// The second part of a followed source: `tail=1`, from where the first
/// ended, or at `fresh` when it gave no resume point.
fn appends(stream: &mut Stream, fresh: Fresh) -> Outcome {
    if let Sink::Feed(f) = &mut stream.sink {
        f.initial_done();
    }
    let ask = Ask {
        follow: true,
        meta: true,
        fresh,
        retry: if stream.cfg.retry {
            Retry::Always
        } else {
            Retry::No
        },
    };
    stream.follow(&ask)
}

/// Standard output, written by the printer alone: each line with its
/// source's prefix (filtered: it comes from the URL).
struct Printer {
    prefixes: Vec<Vec<u8>>,
    buf: Vec<u8>,
}

impl Printer {
    fn line(&mut self, source: usize, line: &[u8]) -> io::Result<()> {
        self.buf.extend_from_slice(&self.prefixes[source]);
        self.buf.extend_from_slice(line);
        if self.buf.len() >= PRINT_BUFFER {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let mut out = io::stdout().lock();
        out.write_all(&self.buf)?;
        out.flush()?;
        self.buf.clear();
        Ok(())
    }
}

/// The printer: the initial lines merged exactly (the last `keep` of them,
/// or all with `--since`), then the appends, until the sources have ended
/// (their verdict inside); an error when standard output failed.
fn print(
    printer: &mut Printer,
    initial: Vec<Receiver<Note>>,
    later: Receiver<Note>,
    keep: Option<usize>,
) -> io::Result<Result<(), TailError>> {
    let count = initial.len();
    let mut merge = Merge::new(initial.len());
    let mut ends = Ends::default();
    let mut last: VecDeque<(usize, Vec<u8>)> = VecDeque::new();
    loop {
        while let Some((source, line)) = merge.next_known() {
            match keep {
                None => printer.line(source, &line)?,
                Some(0) => {}
                Some(n) => {
                    if last.len() == n {
                        last.pop_front();
                    }
                    last.push_back((source, line));
                }
            }
        }
        let Some(source) = merge.waiting_on() else {
            break;
        };
        printer.flush()?;
        match initial[source].recv() {
            Ok(Note::Lines { lines, .. }) => {
                for (key, line) in lines {
                    merge.push(source, key, line);
                }
            }
            // A thread that died says nothing more either.
            Ok(Note::InitialDone) | Err(_) => merge.close(source),
            Ok(Note::End { outcome }) => {
                merge.close(source);
                if let Some(result) = ends.note(outcome) {
                    return Ok(result);
                }
            }
        }
    }
    for (source, line) in last {
        printer.line(source, &line)?;
    }
    printer.flush()?;
    drop(initial);
    // Following: whatever arrives, ordered within what has arrived.
    while let Ok(first) = later.recv() {
        let started = Instant::now();
        let mut note = Some(first);
        while let Some(n) = note.take() {
            match n {
                Note::Lines { source, lines } => {
                    for (key, line) in lines {
                        merge.push(source, key, line);
                    }
                }
                Note::InitialDone => {}
                Note::End { outcome } => {
                    if let Some(result) = ends.note(outcome) {
                        return Ok(result);
                    }
                }
            }
            // A steady stream is printed every SETTLE_MAX all the same.
            let left = SETTLE_MAX.saturating_sub(started.elapsed());
            if !left.is_zero() {
                note = later.recv_timeout(SETTLE.min(left)).ok();
            }
        }
        while let Some((source, line)) = merge.next_arrived() {
            printer.line(source, &line)?;
        }
        printer.flush()?;
    }
    Ok(ends.result(count))
}
