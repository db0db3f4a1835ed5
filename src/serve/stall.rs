//! The stall rule: a client that takes no data for `SEND_STALL_TIMEOUT` is
//! dropped. A socket send timeout alone cannot say that — Linux returns a
//! partial count when any byte fitted, so a nearly stuck client would reset
//! the timer for ever. This wrapper writes with a short send timeout and
//! counts how long the socket has accepted nothing at all.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::limits::SEND_STALL_TIMEOUT;
use crate::net::{restart, timed_out};

/// Each blocking write waits at most this long before the stall clock is
/// checked again.
const WRITE_POLL: Duration = Duration::from_secs(1);

/// A `TcpStream` whose writes fail with `TimedOut` once the peer has taken
/// no byte for the stall timeout.
pub struct Stalling {
    stream: TcpStream,
    /// When the socket last refused to take any byte, if it is refusing now.
    blocked_since: Option<Instant>,
    limit: Duration,
}

impl Stalling {
    pub fn new(stream: TcpStream) -> io::Result<Self> {
        stream.set_write_timeout(Some(WRITE_POLL))?;
        Ok(Stalling {
            stream,
            blocked_since: None,
            limit: SEND_STALL_TIMEOUT,
        })
    }

    pub fn get_ref(&self) -> &TcpStream {
        &self.stream
    }

    /// Shortens the stall limit (used when closing: do not wait 30 s more).
    pub fn set_limit(&mut self, limit: Duration) {
        self.limit = limit;
        self.blocked_since = None;
    }
}

impl Read for Stalling {
    /// A read that a signal interrupts is made again (see `sockio`).
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        restart(|| self.stream.read(buf))
    }
}

impl Write for Stalling {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        loop {
            match self.stream.write(buf) {
                Ok(n) => {
                    if n > 0 {
                        self.blocked_since = None;
                    }
                    return Ok(n);
                }
                Err(e) if timed_out(&e) => {
                    let since = *self
                        .blocked_since
                        .get_or_insert_with(|| Instant::now() - WRITE_POLL.min(self.limit));
                    if since.elapsed() >= self.limit {
                        return Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            "the client took no data for the stall timeout",
                        ));
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}
