//! The handling of a request head, everything a client controls before
//! access is decided, on arbitrary bytes. Invariants:
//!
//! - `http::parse_head` never panics; an accepted head has an upper-case
//!   method, a target that starts with `/` and holds no control character,
//!   and lower-case header names that `Request::header` finds;
//! - `query::parse` of the target never panics, and its path is the
//!   target's path part (before `?`, then before `#`) percent-decoded
//!   exactly once, per an independent reference decoder here;
//! - `access::lexical_normalize` gives an absolute path made only of normal
//!   components, and is idempotent;
//! - `connlog::log_target` (the target as the server log shows it) holds
//!   only printable ASCII, no `"` or `\` unescaped, stays bounded, and
//!   never lets a token through: every pair of its query whose key, decoded
//!   the way the server decodes it (`query::form_pairs`), is `token` has the
//!   value `***` (or, in the last pair of a truncated line, a prefix of it;
//!   or none at all).
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::Component;

/// Percent-decodes once; `None` for a `%` without two hex digits.
fn decode_once(raw: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut bytes = raw.bytes();
    while let Some(b) = bytes.next() {
        if b == b'%' {
            let hi = char::from(bytes.next()?).to_digit(16)?;
            let lo = char::from(bytes.next()?).to_digit(16)?;
            out.push((hi * 16 + lo) as u8);
        } else {
            out.push(b);
        }
    }
    Some(out)
}

fn check_target(target: &str) {
    // Path: before the first `?`, then before the first `#`.
    let path_part = target.split('?').next().unwrap_or("");
    let path_part = path_part.split('#').next().unwrap_or("");
    let want = decode_once(path_part);
    match wstail::wire::query::parse(target) {
        Ok(q) => {
            assert_eq!(Some(&q.path), want.as_ref(), "{target:?}");
            check_normalize(&q.path);
        }
        // A refusal of a well-formed path comes from the query.
        Err(_) if want.is_some() => assert!(wstail::wire::query::parse(path_part).is_ok(), "{target:?}"),
        Err(_) => {}
    }
    check_log_target(target);
}

fn check_normalize(raw: &[u8]) {
    if let Some(p) = wstail::access::lexical_normalize(raw) {
        assert!(p.is_absolute());
        assert!(
            p.components()
                .all(|c| matches!(c, Component::RootDir | Component::Normal(_))),
            "{p:?}"
        );
        use std::os::unix::ffi::OsStrExt;
        let again = wstail::access::lexical_normalize(p.as_os_str().as_bytes());
        assert_eq!(again.as_deref(), Some(p.as_path()));
    } else {
        assert!(raw.first() != Some(&b'/') || raw.contains(&0));
    }
}

fn check_log_target(target: &str) {
    let logged = wstail::logging::connlog::log_target(target);
    assert!(logged.len() <= 512 + 3, "{logged:?}");
    let truncated = logged.len() >= 512 && logged.ends_with("...");
    let body = if truncated {
        &logged[..logged.len() - 3]
    } else {
        &logged[..]
    };
    assert!(
        body.bytes().all(|b| (b' '..=b'~').contains(&b) && b != b'"'),
        "{target:?} logged as {logged:?}"
    );
    // Every `\` starts a `\xNN` escape (the last may be cut by truncation).
    for (i, _) in body.match_indices('\\') {
        let esc = &body[i + 1..];
        let hex = esc
            .strip_prefix('x')
            .map(|h| h.bytes().take_while(u8::is_ascii_hexdigit).count());
        let whole_tail = |h: usize| 1 + h == esc.len();
        assert!(
            hex.is_some_and(|h| h >= 2 || truncated && whole_tail(h))
                || truncated && esc.is_empty(),
            "{target:?} logged as {logged:?}"
        );
    }
    let Some((_, query)) = logged.split_once('?') else {
        return;
    };
    let pairs: Vec<_> = wstail::wire::query::form_pairs(query).collect();
    for (i, (key, value)) in pairs.iter().enumerate() {
        if key != "token" {
            continue;
        }
        let last = i + 1 == pairs.len();
        // An empty value hides nothing.
        let ok = value.is_empty()
            || value == "***"
            || truncated
                && last
                && value
                    .strip_suffix("...")
                    .is_some_and(|v| "***".starts_with(v));
        assert!(
            ok,
            "a token reaches the log: {target:?} logged as {logged:?}"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(req) = wstail::serve::http::parse_head(data, Vec::new()) {
        assert!(!req.method.is_empty() && req.method.bytes().all(|b| b.is_ascii_uppercase()));
        assert!(req.target.starts_with('/'));
        assert!(!req.target.bytes().any(|b| b.is_ascii_control()));
        assert!(!req.target.contains(' '));
        for (name, value) in &req.headers {
            assert!(!name.is_empty() && !name.bytes().any(|b| b.is_ascii_uppercase()));
            assert!(req.header(name).is_some());
            assert_eq!(value.trim(), value);
        }
        check_target(&req.target);
    }
    // The same checks on the raw bytes as a target, so that the fuzzer
    // need not build a whole head to reach them.
    if let Ok(s) = std::str::from_utf8(data) {
        check_target(s);
    }
    check_normalize(data);
});
