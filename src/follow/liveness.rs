//! Whether the client is still there, for a follower of one file
//! (`stream`) and of several (`merged`) alike: the heartbeat (a Ping when
//! one is due, the end of a client whose Pong is overdue), the wait on the
//! socket between two looks at the file, and what the client sent
//! meanwhile (Pong, Close, Ping), read without waiting.

use std::io;
use std::time::{Duration, Instant};

use tungstenite::{Error as WsError, Message, WebSocket};

use crate::follow::stream::{End, Timing};
use crate::net::timed_out;
use crate::serve::stall::Stalling;

/// One connection's heartbeat state and the socket's read timeout as last
/// set (set again only when it changes: one system call less per wait).
pub struct Liveness {
    timing: Timing,
    /// When the Ping still unanswered was sent.
    ping_sent: Option<Instant>,
    next_ping: Instant,
    read_timeout: Option<Duration>,
}

impl Liveness {
    pub fn new(timing: Timing) -> Self {
        Liveness {
            timing,
            ping_sent: None,
            next_ping: Instant::now() + timing.heartbeat.unwrap_or(Duration::ZERO),
            read_timeout: None,
        }
    }

    /// Sends a Ping when one is due; ends a client whose Pong is overdue.
    pub fn heartbeat(&mut self, ws: &mut WebSocket<Stalling>) -> Result<(), End> {
        let Some(every) = self.timing.heartbeat else {
            return Ok(());
        };
        let now = Instant::now();
        if let Some(sent) = self.ping_sent
            && now.duration_since(sent) >= self.timing.pong_timeout
        {
            // Last chance: the Pong may sit unread in the socket.
            self.drain_incoming(ws)?;
            if self.ping_sent.is_some() {
                return Err(End::NoPong(self.timing.pong_timeout));
            }
        }
        if now >= self.next_ping {
            self.next_ping = now + every;
            ws.write(Message::Ping(Vec::new().into()))
                .map_err(End::of)?;
            ws.flush().map_err(End::of)?;
            self.ping_sent.get_or_insert(now);
        }
        Ok(())
    }

    /// Waits on the socket up to `pause` (at most one interval, less when a
    /// heartbeat deadline comes sooner).
    pub fn wait(&mut self, ws: &mut WebSocket<Stalling>, pause: Duration) -> Result<(), End> {
        let mut timeout = pause.min(self.timing.interval);
        if self.timing.heartbeat.is_some() {
            let now = Instant::now();
            timeout = timeout.min(self.next_ping.saturating_duration_since(now));
            if let Some(sent) = self.ping_sent {
                timeout =
                    timeout.min((sent + self.timing.pong_timeout).saturating_duration_since(now));
            }
        }
        self.set_read_timeout(ws, timeout.max(Duration::from_millis(1)))?;
        // Most waits end with nothing from the client: wait for its next
        // byte with a plain peek (tungstenite's read costs more, for the
        // same wait), and let tungstenite read only when something came.
        match ws.get_ref().get_ref().peek(&mut [0u8; 1]) {
            Ok(_) => self.drain_incoming(ws),
            Err(e) if timed_out(&e) || e.kind() == io::ErrorKind::Interrupted => Ok(()),
            Err(e) => Err(End::of(WsError::Io(e))),
        }
    }

    /// Reads whatever the client already sent, without waiting.
    pub fn drain_incoming(&mut self, ws: &mut WebSocket<Stalling>) -> Result<(), End> {
        for _ in 0..64 {
            let before = self.ping_sent;
            let got = self.read_once(ws, Duration::from_millis(1))?;
            if !got && before == self.ping_sent {
                break;
            }
        }
        Ok(())
    }

    /// One read with a timeout; true when a message arrived.
    fn read_once(&mut self, ws: &mut WebSocket<Stalling>, timeout: Duration) -> Result<bool, End> {
        self.set_read_timeout(ws, timeout)?;
        match ws.read() {
            Ok(Message::Pong(_)) => self.ping_sent = None,
            Ok(Message::Text(t)) if t.trim() == "pong" => self.ping_sent = None,
            Ok(Message::Close(_)) => return Err(End::ClientClosed),
            Ok(Message::Ping(_)) => {
                // tungstenite queued the Pong; push it out.
                ws.flush().map_err(End::of)?;
            }
            Ok(_) => {}
            Err(WsError::Io(e)) if timed_out(&e) => return Ok(false),
            Err(e) => return Err(End::of(e)),
        }
        Ok(true)
    }

    fn set_read_timeout(
        &mut self,
        ws: &mut WebSocket<Stalling>,
        timeout: Duration,
    ) -> Result<(), End> {
        if self.read_timeout != Some(timeout) {
            ws.get_ref()
                .get_ref()
                .set_read_timeout(Some(timeout))
                .map_err(|e| End::Socket(format!("setting a read timeout failed: {e}")))?;
            self.read_timeout = Some(timeout);
        }
        Ok(())
    }
}
