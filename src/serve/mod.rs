//! The server: accept and slots (`listener`), one connection from head to
//! answer (`conn`), the request head (`http`), the stall rule (`stall`) and
//! the plain HTTP routes (`routes`); the allocator's setting (`malloc`).

pub mod conn;
pub mod http;
pub mod listener;
pub mod malloc;
pub(crate) mod merged;
pub(crate) mod routes;
pub(crate) mod stall;
