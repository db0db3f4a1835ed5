//! The plain HTTP routes on the WebSocket port: the page, `?list` and
//! `?download`.

pub mod download;
pub mod list;
pub mod page;
pub mod timeline;
