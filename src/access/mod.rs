//! Who may read what: the path rule and open-then-verify (`path`).

mod path;
pub use path::*;
