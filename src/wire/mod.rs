//! What the server, the client and the page all speak: the query (`query`),
//! meta frames (`meta`), the names of events and compressions (`names`),
//! the tag (`tag`) and refusals with their kinds (`refusal`).

pub mod meta;
pub mod names;
pub mod query;
pub mod refusal;
pub(crate) mod tag;
