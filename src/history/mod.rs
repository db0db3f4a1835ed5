//! Where sending starts and what lies before it: the last lines and windows
//! (`window`), filtered scans with progress (`scan`), the time search
//! (`since`) and the timestamp forms (`timestamp`), the resume decision
//! (`start`), and the order of several files as one timeline (`merge`).

pub mod merge;
pub mod scan;
pub mod since;
pub mod start;
pub mod timestamp;
pub mod window;
