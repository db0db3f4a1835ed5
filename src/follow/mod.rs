//! Following a file: the WebSocket loop and how it ends (`stream`), the
//! followed file and its changes (`file`), the chain of older generations
//! (`generations`), and compression (`compressed`, `gzip`).

pub mod compressed;
pub mod file;
pub mod generations;
pub mod gzip;
pub mod restart;
pub mod stream;
