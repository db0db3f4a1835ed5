//! wstail: `tail -f` over WebSocket.
//!
//! One small binary that serves log files to browsers and terminals. It is
//! synchronous on purpose: one thread per client, blocking reads with
//! timeouts, no async runtime — each connection's whole life reads top to
//! bottom in `serve/conn.rs` and `follow/stream.rs`. It holds no unsafe code (forbidden
//! below), so a security review can concentrate on `access/` (who may
//! read what) and `logging/connlog.rs` (what reaches the log).
//!
//! Data flows one way, and the folders follow it:
//!
//! | folder | owns |
//! |---|---|
//! | `cli/` | the argument loop and help, the checked configurations |
//! | `serve/` | accept and slots, one connection head → route → answer, the HTTP routes |
//! | `access/` | the path rule and open-then-verify |
//! | `history/` | where sending starts: last lines, windows, scans, `since=`, timestamps, resume |
//! | `follow/` | the follow loop, the followed file, its generations, compression |
//! | `encode/` | bytes → messages: chunks, filters, ANSI → HTML |
//! | `wire/` | what server, client and page speak: query, meta frames, tag, refusals |
//! | `logging/` | the server's log and the connection's log line |
//! | `client/` | `wstail tail` |
//! | `page/` | the viewer page's files, embedded in the binary |
//! | `net.rs`, `limits.rs` | socket policies; every bound with its reason |
//!
//! The `pub` face is only what `main.rs`, the tests, the benches and the
//! fuzz targets name: the folders, and inside them the modules and items
//! those use (or a `pub` signature carries). Everything else is private or
//! `pub(crate)`, so that the compiler reports code nothing uses.

#![forbid(unsafe_code)]

pub mod access;
pub mod cli;
pub mod client;
pub mod encode;
pub mod follow;
pub mod history;
pub mod limits;
pub mod logging;
pub(crate) mod net;
pub mod serve;
#[cfg(test)]
mod test_rng;
pub mod wire;
