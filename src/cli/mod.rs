//! Command line: the raw argument loop and help (`args`), and the checked
//! configurations every usage error comes from (`config`).

mod args;
pub mod config;

pub use args::*;
