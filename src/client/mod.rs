//! `wstail tail`: the terminal client. It asks a wstail server for
//! `format=text` (so colours pass through to the terminal), prints what comes,
//! and answers the server's heartbeats. Like the server it is synchronous:
//! one thread per URL, each a blocking tungstenite connection with read
//! timeouts, and a channel that tells `run` how each one ended.
//!
//! `--retry` behaves like `tail -F`: a dropped connection (or one that cannot
//! be made, or a refusal that may go away: 404, 408, 429, 5xx) is tried again
//! after 0.5 s, doubling to at most 30 s. The client asks for `meta=1` and
//! keeps the last `{"offset":N,"inode":I,"tag":T}` it got, and resumes with
//! `from=N&inode=I&tag=T`, so nothing is lost or printed twice.
//!
//! A closed standard output (`wstail tail -f URL | head -3`) ends the client
//! quietly with status 0, as coreutils' `tail` does: the reader has what it
//! wanted. Rust ignores SIGPIPE, so this shows up as a `BrokenPipe` error.
//!
//! This file holds the run: one thread per URL, each following its URL
//! through connections one after another (the backoff lives here), and how
//! each ended. `source.rs` checks the URLs, `session.rs` is one connection,
//! `resume.rs` where to pick up, `output.rs` the printing (plain or with
//! prefixes).

mod output;
mod resume;
mod session;
mod source;

use std::fmt;
use std::io;
use std::sync::{Arc, mpsc};
use std::time::Duration;

use crate::cli::config::TailConfig;
use crate::wire::meta::Meta;
use crate::wire::names::Event;
use output::Output;
use resume::{Position, Resume};
use session::{Received, Session, Stop};
use source::{Source, set_prefixes};

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
    let (tx, rx) = mpsc::channel();
    let mut started = 0;
    for source in sources {
        let tx = tx.clone();
        let cfg = Arc::clone(&cfg);
        std::thread::Builder::new()
            .name("wstail-tail".to_string())
            .spawn(move || {
                let outcome = Stream::new(source, &cfg, multi).follow();
                let _ = tx.send(outcome);
            })
            .map_err(TailError::Thread)?;
        started += 1;
    }
    drop(tx);
    let mut failed = false;
    let mut ended = 0;
    // Ends when every thread has sent its outcome (or died without one).
    while let Ok(outcome) = rx.recv() {
        ended += 1;
        match outcome {
            Outcome::Done => {}
            Outcome::Failed => failed = true,
            // The reader is gone: nothing more can be shown to anyone.
            Outcome::PipeClosed => return Ok(()),
            Outcome::OutputError(e) => return Err(TailError::Output(e)),
        }
    }
    if failed || ended < started {
        Err(TailError::Failed)
    } else {
        Ok(())
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
            TailError::Url { given, error } => write!(f, "{given}: {error}"),
            TailError::Thread(e) => write!(f, "cannot start a thread: {e}"),
            TailError::Output(e) => write!(f, "cannot write to standard output: {e}"),
            TailError::Failed => f.write_str("a stream failed"),
        }
    }
}

/// How one URL's stream ended.
#[derive(Debug)]
enum Outcome {
    /// The server closed normally (code 1000): the tail was complete.
    Done,
    /// A refusal or a lost connection, already reported on standard error.
    Failed,
    /// Standard output was closed by its reader.
    PipeClosed,
    /// Standard output failed otherwise (disk full ...).
    OutputError(io::Error),
}

/// One URL's stream: its connections, one after another with `--retry`.
struct Stream<'a> {
    source: Source,
    cfg: &'a TailConfig,
    position: Position,
    output: Output,
}

impl Stream<'_> {
    fn new(source: Source, cfg: &TailConfig, multi: bool) -> Stream<'_> {
        let prefix = multi.then(|| source.prefix.clone());
        Stream {
            source,
            cfg,
            position: Position::new(),
            output: Output::new(prefix),
        }
    }

    fn say(&self, what: &str) {
        eprintln!("wstail: {}: {what}", self.source.given);
    }

    /// Connects (again and again with `--retry`, backing off) until the
    /// stream ends.
    fn follow(mut self) -> Outcome {
        let mut delay = RETRY_FIRST;
        // Every connection but the first is a retry.
        let mut retrying = false;
        loop {
            let point = self.position.point();
            let target = session::request_target(&self.source, self.cfg, point);
            let stop = match Session::open(&self.source, self.cfg.token.as_deref(), &target) {
                Ok(session) => {
                    if retrying {
                        match point {
                            Some(r) => {
                                self.say(&format!("reconnected; resuming at byte {}", r.offset))
                            }
                            None => self.say("reconnected"),
                        }
                    }
                    delay = RETRY_FIRST;
                    match self.receive(session) {
                        Ok(()) => {
                            return match self.output.finish() {
                                Ok(()) => Outcome::Done,
                                Err(e) => output_outcome(e),
                            };
                        }
                        Err(stop) => stop,
                    }
                }
                Err(stop) => stop,
            };
            match stop {
                Stop::Output(e) => return output_outcome(e),
                Stop::Retry(why) if self.cfg.retry => {
                    self.say(&format!("{why}; retrying in {}", seconds(delay)));
                    std::thread::sleep(delay);
                    delay = (delay * 2).min(RETRY_CAP);
                    retrying = true;
                }
                Stop::Retry(why) | Stop::Fatal(why) => {
                    self.say(&why);
                    let _ = self.output.finish();
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
                    if let Err(e) = self.output.text(data) {
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
                path: Some(path),
                reason: Some(reason),
                ..
            }) => {
                self.say(&format!("the rest of {path} skipped: {reason}"));
                return;
            }
            Some(Meta::Event {
                event: Event::Skipped,
                bytes,
                ..
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
