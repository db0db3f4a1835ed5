//! Everything a client controls before access is decided: the request head,
//! the target's query, and the path rule's lexical step. Never panics; a
//! normalized path is absolute and holds no `.` or `..` component.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::Component;

fuzz_target!(|data: &[u8]| {
    if let Ok(req) = wstail::http::parse_head(data, Vec::new()) {
        if let Ok(q) = wstail::query::parse(&req.target) {
            if let Some(p) = wstail::access::lexical_normalize(&q.path) {
                assert!(p.is_absolute());
                assert!(p.components().all(|c| matches!(c, Component::RootDir | Component::Normal(_))));
            }
        }
    }
    let _ = wstail::query::parse(&String::from_utf8_lossy(data));
    if let Some(p) = wstail::access::lexical_normalize(data) {
        assert!(p.components().all(|c| matches!(c, Component::RootDir | Component::Normal(_))));
    }
});
