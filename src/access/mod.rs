//! Who may read what: the path rule and open-then-verify (`path`), and who
//! may ask at all — Host, Origin and token (`policy`).

mod path;
mod policy;
pub(crate) use path::*;
pub use path::{lexical_normalize, open_path, stat_verified};
pub(crate) use policy::*;
