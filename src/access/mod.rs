//! Who may read what: the path rule and open-then-verify (`path`), and who
//! may ask at all — Host, Origin and token (`policy`).

mod path;
mod policy;
pub use path::*;
pub use policy::*;
