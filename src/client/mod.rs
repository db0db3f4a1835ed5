//! `wstail tail`: the terminal client. It asks a wstail server for
//! `format=text` (so colours pass through to the terminal), prints what comes,
//! and answers the server's heartbeats. Like the server it is synchronous:
//! one thread per URL, each a blocking tungstenite connection with read
//! timeouts, and a channel that tells `run` how each one ended.
//!
//! `--retry` behaves like `tail -F`: a dropped connection (or one that cannot
//! be made, or a refusal whose kind may go away: a missing file, a path
//! that is not a readable regular file for now, a busy server) is tried
//! again after 0.5 s, doubling to at most 30 s. The client asks for `meta=1`
//! and keeps the last `{"offset":N,"inode":I,"tag":T}` it got, and resumes
//! with `from=N&inode=I&tag=T`, so nothing is lost or printed twice.
//!
//! A closed standard output (`wstail tail -f URL | head -3`) ends the client
//! quietly with status 0, as coreutils' `tail` does: the reader has what it
//! wanted. Rust ignores SIGPIPE, so this shows up as a `BrokenPipe` error.
//!
//! Everything the client says on standard error passes one filter, the
//! wire's `escape` (the one the server's refusals pass): control characters
//! (C0, DEL, C1), bidi overrides and isolates and line separators become
//! `\xNN` (each of their bytes), so that no title change, cleared screen or OSC 52
//! clipboard write a server (or a crafted URL it echoes) chose reaches the
//! terminal. The log text on standard output is printed as it is: that is
//! `tail -f`'s contract.
//!
//! This file holds the run: one thread per URL, each following its URL
//! through connections one after another (the backoff lives here), and how
//! each ended. `source.rs` checks the URLs, `session.rs` is one connection,
//! `refusal.rs` reads a refused one, `resume.rs` where to pick up,
//! `output.rs` the printing (plain or with prefixes); `timeline.rs` runs
//! `--merge`, in the order of `merge.rs`.

mod merge;
mod output;
mod refusal;
mod resume;
mod session;
mod source;
mod timeline;

use std::fmt;
use std::io;
use std::sync::{Arc, mpsc};
use std::time::Duration;

use crate::cli::config::TailConfig;
use crate::wire::meta::Meta;
use crate::wire::names::Event;
use crate::wire::refusal::escape;
use output::Output;
use resume::{Position, Resume};
use session::{Fresh, Received, Session, Stop};
use source::{Source, set_prefixes};
use timeline::Feed;

pub use source::UrlError;

/// First pause before reconnecting, doubled after each failed try ...
const RETRY_FIRST: Duration = Duration::from_millis(500);

/// ... up to this cap, like `tail -F` that keeps trying at a slow pace.
const RETRY_CAP: Duration = Duration::from_secs(30);

/// Runs `wstail tail` until every stream has ended. `Ok` when each ended
/// normally, or when standard output was closed by its reader.
pub fn run(cfg: TailConfig) -> Result<(), TailError> {
    let mut sources = Vec::with_capacity(cfg.urls.len());
    for given in &cfg.urls {
        match Source::parse(given) {
            Ok(s) => sources.push(s),
            Err(error) => {
                return Err(TailError::Url {
                    given: given.clone(),
                    error,
                });
            }
        }
    }
    let multi = sources.len() > 1;
    if multi {
        set_prefixes(&mut sources);
    }
    let cfg = Arc::new(cfg);
    if cfg.merge {
        return timeline::run(sources, cfg);
    }
    let (tx, rx) = mpsc::channel();
    let mut started = 0;
    for source in sources {
        let tx = tx.clone();
        let cfg = Arc::clone(&cfg);
        std::thread::Builder::new()
            .name("wstail-tail".to_string())
            .spawn(move || {
                let prefix = multi.then(|| escape(&source.prefix));
                let mut stream = Stream::new(source, &cfg, Sink::Print(Output::new(prefix)));
                let ask = Ask {
                    follow: cfg.follow,
                    meta: cfg.follow || cfg.retry,
                    fresh: Fresh::of(&cfg),
                    retry: if cfg.retry { Retry::Always } else { Retry::No },
                };
                let outcome = stream.follow(&ask);
                let _ = tx.send(stream.finish(outcome));
            })
            .map_err(TailError::Thread)?;
        started += 1;
    }
    drop(tx);
    let mut ends = Ends::default();
    // Ends when every thread has sent its outcome (or died without one).
    while let Ok(outcome) = rx.recv() {
        if let Some(result) = ends.note(outcome) {
            return result;
        }
    }
    ends.result(started)
}

/// How the streams ended, counted by `run` and `timeline::run`.
#[derive(Debug, Default)]
struct Ends {
    ended: usize,
    failed: bool,
}

impl Ends {
    /// Notes one stream's end; `Some` when the whole run must end now.
    fn note(&mut self, outcome: Outcome) -> Option<Result<(), TailError>> {
        self.ended += 1;
        match outcome {
            Outcome::Done => None,
            Outcome::Failed | Outcome::Unavailable(_) => {
                self.failed = true;
                None
            }
            // The reader is gone: nothing more can be shown to anyone.
            Outcome::PipeClosed => Some(Ok(())),
            Outcome::OutputError(e) => Some(Err(TailError::Output(e))),
        }
    }

    /// The run's result once no stream is left of `started`.
    fn result(&self, started: usize) -> Result<(), TailError> {
        if self.failed || self.ended < started {
            Err(TailError::Failed)
        } else {
            Ok(())
        }
    }
}

/// Why `wstail tail` failed; `main` prints it and picks the exit status.
#[derive(Debug)]
pub enum TailError {
    /// A URL on the command line is wrong (exit status 2).
    Url { given: String, error: UrlError },
    /// A stream's thread could not be started.
    Thread(io::Error),
    /// Standard output failed (not by its reader closing it).
    Output(io::Error),
    /// A stream was refused or lost; it said why on standard error.
    Failed,
}

impl TailError {
    pub fn exit_status(&self) -> u8 {
        match self {
            TailError::Url { .. } => 2,
            _ => 1,
        }
    }
}

impl fmt::Display for TailError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TailError::Url { given, error } => write!(f, "{}: {error}", escape(given)),
            TailError::Thread(e) => write!(f, "cannot start a thread: {e}"),
            TailError::Output(e) => write!(f, "cannot write to standard output: {e}"),
            TailError::Failed => f.write_str("a stream failed"),
        }
    }
}

/// How one URL's stream (or one part of it, with `--merge`) ended.
#[derive(Debug)]
enum Outcome {
    /// The server closed normally (code 1000): the tail was complete.
    Done,
    /// A refusal or a lost connection, already reported on standard error.
    Failed,
    /// With `Retry::Later`: a stop that waiting may cure, not yet said.
    Unavailable(String),
    /// Standard output was closed by its reader.
    PipeClosed,
    /// Standard output failed otherwise (disk full ...).
    OutputError(io::Error),
}

/// What one run of connections asks for.
struct Ask<'a> {
    /// `tail=1`.
    follow: bool,
    /// `meta=1`: the offset frames a resume needs.
    meta: bool,
    /// Where to start without a resume point.
    fresh: Fresh<'a>,
    retry: Retry,
}

/// What a stop that waiting may cure does.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Retry {
    /// Ends the stream (no `--retry`).
    No,
    /// Connect again, backing off (`--retry`).
    Always,
    /// Ends this run with `Outcome::Unavailable`: the caller goes on
    /// retrying later (a merged source's initial lines, which the others
    /// do not wait for).
    Later,
}

/// Where a stream's text goes.
enum Sink {
    /// Printed by this thread.
    Print(Output),
    /// Cut into lines for `--merge`'s printer.
    Feed(Feed),
}

impl Sink {
    fn text(&mut self, data: &[u8]) -> io::Result<()> {
        match self {
            Sink::Print(o) => o.text(data),
            Sink::Feed(f) => f.text(data),
        }
    }

    /// The stream has ended: a held partial line goes out with a newline.
    fn finish(&mut self) -> io::Result<()> {
        match self {
            Sink::Print(o) => o.finish(),
            Sink::Feed(f) => f.finish(),
        }
    }
}

/// One URL's stream: its connections, one after another with `--retry`.
struct Stream<'a> {
    source: Source,
    cfg: &'a TailConfig,
    position: Position,
    sink: Sink,
    /// The pause before the next try.
    delay: Duration,
    /// The next connection is not the first.
    retrying: bool,
}

impl Stream<'_> {
    fn new(source: Source, cfg: &TailConfig, sink: Sink) -> Stream<'_> {
        Stream {
            source,
            cfg,
            position: Position::new(),
            sink,
            delay: RETRY_FIRST,
            retrying: false,
        }
    }

    /// Says something about this stream on standard error, through the
    /// filter: a server's words (a refusal's reason, a Close reason) are
    /// among what is said.
    fn say(&self, what: &str) {
        eprintln!(
            "wstail: {}",
            escape(&format!("{}: {what}", self.source.given))
        );
    }

    /// Waits before the next try, saying so; the next pause is longer.
    fn back_off(&mut self, why: &str) {
        self.say(&format!("{why}; retrying in {}", seconds(self.delay)));
        std::thread::sleep(self.delay);
        self.delay = (self.delay * 2).min(RETRY_CAP);
        self.retrying = true;
    }

    /// The stream has ended with `outcome`: a held partial line goes out.
    fn finish(&mut self, outcome: Outcome) -> Outcome {
        match (self.sink.finish(), outcome) {
            (Err(e), Outcome::Done) => output_outcome(e),
            (_, outcome) => outcome,
        }
    }

    /// Connects (again and again with `--retry`, backing off) until the
    /// server ends the stream or it fails.
    fn follow(&mut self, ask: &Ask) -> Outcome {
        loop {
            let point = self.position.point();
            let url = session::request_url(
                &self.source,
                self.cfg,
                ask.follow,
                ask.meta,
                ask.fresh,
                point,
            );
            let stop = match Session::open(&self.source, self.cfg.token.as_deref(), &url) {
                Ok(session) => {
                    if self.retrying {
                        match point {
                            Some(r) => {
                                self.say(&format!("reconnected; resuming at byte {}", r.offset))
                            }
                            None => self.say("reconnected"),
                        }
                    }
                    self.delay = RETRY_FIRST;
                    self.retrying = false;
                    match self.receive(session) {
                        Ok(()) => return Outcome::Done,
                        Err(stop) => stop,
                    }
                }
                Err(stop) => stop,
            };
            match (stop, ask.retry) {
                (Stop::Output(e), _) => return output_outcome(e),
                (Stop::Retry(why), Retry::Always) => self.back_off(&why),
                (Stop::Retry(why), Retry::Later) => return Outcome::Unavailable(why),
                (Stop::Retry(why) | Stop::Fatal(why), _) => {
                    self.say(&why);
                    return Outcome::Failed;
                }
            }
        }
    }

    /// Prints and notes what one connection brings, until it ends.
    fn receive(&mut self, mut session: Session) -> Result<(), Stop> {
        while let Some(received) = session.next()? {
            match received {
                Received::Text(t) => {
                    let data = t.as_bytes();
                    let exact = !self.cfg.html && !self.source.filtered;
                    self.position.printed(data, exact);
                    if let Err(e) = self.sink.text(data) {
                        session.close();
                        return Err(Stop::Output(e));
                    }
                }
                Received::Meta(b) => self.meta(&b),
            }
        }
        Ok(())
    }

    /// A binary frame: a resume point or an event; never printed as data.
    fn meta(&mut self, data: &[u8]) {
        let event = match Meta::parse(data) {
            Some(Meta::Position(p)) => {
                self.position.reported(Resume {
                    offset: p.offset,
                    inode: p.inode,
                    tag: p.tag,
                    born: p.born,
                });
                return;
            }
            Some(Meta::Event {
                event: Event::Skipped,
                bytes,
            }) => {
                let what = match bytes {
                    Some(n) => format!("{n} bytes"),
                    None => "some bytes".to_string(),
                };
                self.say(&format!(
                    "{what} skipped: compressed before they could be read"
                ));
                return;
            }
            Some(Meta::Event { event, .. }) => event,
            _ => return,
        };
        let notice = match event {
            Event::Rotated => "file replaced; following the new file from its start",
            Event::Truncated => "file truncated; following it from its start",
            Event::Deleted => "file deleted; waiting for it to come back",
            Event::Recreated => "file appeared again; following it from its start",
            Event::Unreadable => {
                "the path is no longer a readable regular file; waiting for one to appear"
            }
            _ => return,
        };
        self.say(notice);
    }
}

fn output_outcome(e: io::Error) -> Outcome {
    if e.kind() == io::ErrorKind::BrokenPipe {
        Outcome::PipeClosed
    } else {
        Outcome::OutputError(e)
    }
}

/// "0.5 s", "2 s".
fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0} s")
    } else {
        format!("{s:.1} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_are_short() {
        assert_eq!(seconds(Duration::from_millis(500)), "0.5 s");
        assert_eq!(seconds(Duration::from_secs(30)), "30 s");
    }
}
