//! Bytes to messages: cutting into whole lines (`chunk`), match/exclude
//! (`filter`), and SGR colours to spans (`ansi`).

pub mod ansi;
pub mod chunk;
pub mod filter;
