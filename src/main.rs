//! wstail: `tail -f` over WebSocket.
//!
//! One small binary that serves log files to browsers and terminals. It is
//! synchronous on purpose: one thread per client, blocking reads with
//! timeouts, no async runtime — each connection's whole life reads top to
//! bottom in `conn.rs` and `follow.rs`. It holds no unsafe code (forbidden
//! below), so a security review can concentrate on `access.rs`.
//!
//! Data flows one way: accept (`server.rs`) → request head and route
//! (`http.rs`, `conn.rs`) → access check (`access.rs`) → tail (`tail.rs`) →
//! follow (`follow.rs`, `logfile.rs`) → cut and encode (`chunk.rs`,
//! `ansi.rs`) → send.

#![forbid(unsafe_code)]

mod access;
mod ansi;
mod chunk;
mod cli;
mod client;
mod conn;
mod download;
mod filter;
mod follow;
mod http;
mod limits;
mod list;
mod logfile;
mod logging;
mod page;
mod query;
mod server;
mod stall;
mod tail;

use std::process::ExitCode;

use cli::Command;

fn main() -> ExitCode {
    let args: Vec<_> = std::env::args_os().skip(1).collect();
    let command = match cli::parse(args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("wstail: {e}");
            return ExitCode::from(2);
        }
    };
    match command {
        Command::Help(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Command::Version => {
            println!("wstail {}", cli::VERSION);
            ExitCode::SUCCESS
        }
        Command::Serve(cfg) => {
            if let Err(e) = logging::init(cfg.log_level, cfg.log_file.as_deref(), cfg.inetd) {
                eprintln!("wstail: {e}");
                return ExitCode::from(2);
            }
            match server::serve(cfg) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    log::error!("{e}");
                    eprintln!("wstail: {e}");
                    match e {
                        server::ServeError::NotASocket(_) => ExitCode::from(2),
                        server::ServeError::Bind(..) => ExitCode::from(1),
                    }
                }
            }
        }
        Command::Tail(cfg) => client::run(cfg),
    }
}
