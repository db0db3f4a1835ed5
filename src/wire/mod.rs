//! What the server, the client and the page all speak: the query (`query`),
//! meta frames (`meta`), the names of events and compressions (`names`),
//! the tag (`tag`) and refusals with their kinds (`refusal`). `base64`
//! serves only the page's CSP hashes, which go with the page's split.

pub mod base64;
pub mod meta;
pub mod names;
pub mod query;
pub mod refusal;
pub mod tag;
