//! Following a file: the WebSocket loop and how it ends (`stream`), the
//! followed file and its changes (`file`), the chain of older generations
//! (`generations`), compression (`compressed`, `gzip`), and several files
//! followed as one timeline (`merged`), and whether the client is still
//! there (`liveness`: heartbeat, waits, what the client sent).

pub(crate) mod compressed;
pub(crate) mod file;
pub(crate) mod generations;
pub(crate) mod gzip;
pub(crate) mod liveness;
pub(crate) mod merged;
pub mod restart;
pub(crate) mod stream;
