//! `wstail tail`: the terminal client (being written; see issue 5).

use std::process::ExitCode;

use crate::cli::TailConfig;

pub fn run(cfg: TailConfig) -> ExitCode {
    let _ = (cfg.lines, cfg.follow, cfg.html, &cfg.token, cfg.retry);
    eprintln!(
        "wstail: 'wstail tail' is not built yet ({} URL(s) given)",
        cfg.urls.len()
    );
    ExitCode::from(1)
}
