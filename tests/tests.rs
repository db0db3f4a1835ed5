//! The integration tests, as one binary: each module below is one file of
//! tests/, and all of them share `common`. One binary links the crate once
//! (with the release profile's LTO, a dozen binaries took minutes to link).
//! `panic.rs` stays a binary of its own: it installs a process-wide panic
//! hook and logger.

mod common;

mod abuse;
mod access;
mod before;
mod bounds;
mod cli;
mod client;
mod client_merge;
mod compress;
mod compressed;
mod filter;
mod generations;
mod gzip;
mod hosts;
mod http;
mod http_details;
mod inetd;
mod inode;
mod liveness;
mod load;
mod logging;
mod manpage;
mod merge;
mod oracle;
mod race;
mod refusals;
mod resume;
mod rotation;
mod scan;
mod since;
mod since_formats;
mod smoke;
mod tail;
mod tail_history;
mod timeline;
