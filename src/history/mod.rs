//! Where sending starts and what lies before it: the last lines and windows
//! (`window`), filtered scans with progress (`scan`), the time search
//! (`since`) and the timestamp forms (`timestamp`), the resume decision
//! (`start`), the order of several files as one timeline (`merge`); the
//! turns CPU-heavy work takes (`turns`).

pub mod chain;
pub mod merge;
pub mod scan;
pub mod since;
pub mod source;
pub mod start;
pub mod timeline;
pub mod timestamp;
pub mod turns;
pub mod window;
