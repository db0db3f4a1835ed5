//! The `wstail` binary: reads the command line and hands over to the
//! server or the client (see `lib.rs` for the crate's policy and map).

#![forbid(unsafe_code)]

use std::process::ExitCode;

use wstail::cli::{self, Command};
use wstail::{client, logging::logger as logging, serve::listener as server};

fn main() -> ExitCode {
    let args: Vec<_> = std::env::args_os().skip(1).collect();
    let command = match cli::parse(args.clone()) {
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
            // A server of one connection (inetd) has one thread: nothing
            // to tune.
            if !cfg.inetd {
                wstail::serve::malloc::restart_tuned(&args);
            }
            if let Err(e) = logging::init(cfg.log_level, cfg.log_file.as_deref(), cfg.inetd) {
                eprintln!("wstail: {e}");
                return ExitCode::from(2);
            }
            let log_elsewhere = cfg.log_file.is_some();
            match server::serve(cfg) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    // Standard error always says why; the log file too, when
                    // the log goes there (else it would say it twice).
                    if log_elsewhere {
                        log::error!("{e}");
                    }
                    eprintln!("wstail: {e}");
                    match e {
                        server::ServeError::NotASocket(_) => ExitCode::from(2),
                        server::ServeError::Bind(..) => ExitCode::from(1),
                    }
                }
            }
        }
        Command::Tail(cfg) => match client::run(cfg) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                // A failed stream has already said why, on its own line.
                if !matches!(e, client::TailError::Failed) {
                    eprintln!("wstail: {e}");
                }
                ExitCode::from(e.exit_status())
            }
        },
    }
}
