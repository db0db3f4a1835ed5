//! Refusal reasons on arbitrary client bytes (issue 22, point 6): a reason
//! is escaped once, where the `Refusal` is built, so whatever a client
//! sends, no reason — and no refusal's body — holds a control character
//! (C0, DEL, C1), a bidi override or isolate, or a line separator.
//! Invariants:
//!
//! - `Refusal::new` on any text: the reason is clean, and it is the text
//!   with exactly the unsafe characters written `\xNN` per byte (checked
//!   against a reference written here);
//! - the refusals the request's own parsers build from client bytes
//!   (`http::parse_head`, `query::parse`) have clean reasons;
//! - `http::refuse` writes one head, `X-Wstail-Refusal: KIND` in it, and a
//!   body of exactly one line.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::fmt::Write as _;
use wstail::wire::refusal::{Kind, Refusal};

fn unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
                | '\u{2028}'
                | '\u{2029}'
        )
}

fn reference(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if unsafe_char(c) {
            for b in c.to_string().bytes() {
                let _ = write!(out, "\\x{b:02x}");
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn assert_clean(r: &Refusal) {
    assert!(
        !r.reason().chars().any(unsafe_char),
        "unescaped: {:?}",
        r.reason()
    );
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let kind = Kind::ALL[usize::from(data.first().copied().unwrap_or(0)) % Kind::ALL.len()];
    let r = Refusal::new(kind, format!("format={text} is not 'html' or 'text'"));
    assert_clean(&r);
    assert_eq!(
        r.reason(),
        format!("format={} is not 'html' or 'text'", reference(&text))
    );
    assert_eq!(r.kind(), kind);

    // What the request's parsers refuse, from the client's bytes.
    if let Err(r) = wstail::serve::http::parse_head(data, Vec::new()) {
        assert_clean(&r);
    }
    let target = format!("/x?{text}");
    if let Err(r) = wstail::wire::query::parse(&target) {
        assert_clean(&r);
    }

    // The answer as written.
    let mut out = Vec::new();
    wstail::serve::http::refuse(&mut out, &r).unwrap();
    let answer = String::from_utf8(out).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    assert!(format!("{head}\r\n").contains(&format!("\r\nX-Wstail-Refusal: {kind}\r\n")));
    assert_eq!(body.matches('\n').count(), 1, "{body:?}");
    assert!(body.ends_with('\n'));
});
