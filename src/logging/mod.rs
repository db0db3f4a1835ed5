//! The server's own log: the logger (`logger`) and the connection's one
//! log line (`connlog`).

pub mod connlog;
pub mod logger;
