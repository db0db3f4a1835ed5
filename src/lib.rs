//! wstail: `tail -f` over WebSocket.
//!
//! One small binary that serves log files to browsers and terminals. It is
//! synchronous on purpose: one thread per client, blocking reads with
//! timeouts, no async runtime — each connection's whole life reads top to
//! bottom in `conn.rs` and `follow.rs`. It holds no unsafe code (forbidden
//! below), so a security review can concentrate on `access.rs` (who may
//! read what) and `connlog.rs` (what reaches the log).
//!
//! Data flows one way: accept (`server.rs`) → request head and route
//! (`http.rs`, `conn.rs`) → access check (`access.rs`) → tail (`tail.rs`) →
//! follow (`follow.rs`, `followed.rs`) → cut and encode (`chunk.rs`,
//! `ansi.rs`) → send.

#![forbid(unsafe_code)]

pub mod access;
pub mod ansi;
pub mod base64;
pub mod chunk;
pub mod cli;
pub mod client;
pub mod config;
pub mod conn;
pub mod connlog;
pub mod download;
pub mod filter;
pub mod follow;
pub mod followed;
pub mod generations;
pub mod gzip;
pub mod handshake;
pub mod http;
pub mod limits;
pub mod list;
pub mod logging;
pub mod magic;
pub mod meta;
pub mod page;
pub mod query;
pub mod refusal;
pub mod resume;
pub mod scan;
pub mod server;
pub mod since;
pub mod sockio;
pub mod stall;
pub mod tag;
pub mod tail;
#[cfg(test)]
mod test_rng;
pub mod timestamp;
