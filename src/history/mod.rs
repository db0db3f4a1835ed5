//! Where sending starts and what lies before it: the last lines and windows
//! (`window`), filtered scans with progress (`scan`), the time search
//! (`since`) and the timestamp forms (`timestamp`), the resume decision
//! (`start`), the order of several files as one timeline (`merge`); the
//! turns CPU-heavy work takes (`turns`).

pub(crate) mod chain;
pub mod merge;
pub(crate) mod scan;
pub(crate) mod since;
pub mod source;
pub(crate) mod start;
pub(crate) mod timeline;
pub mod timestamp;
pub(crate) mod turns;
pub(crate) mod window;
