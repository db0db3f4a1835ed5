//! Following a file: the WebSocket loop and how it ends (`stream`), the
//! followed file and its changes (`file`), the chain of older generations
//! (`generations`), compression (`compressed`, `gzip`), and several files
//! followed as one timeline (`merged`).

pub mod compressed;
pub mod file;
pub mod generations;
pub mod gzip;
pub mod merged;
pub mod restart;
pub mod stream;
