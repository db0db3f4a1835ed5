//! The viewer page: one HTML file embedded in the binary, rendered once with
//! the `--base-path` prefix, served with a Content-Security-Policy that lets
//! it load nothing from anywhere else. It holds no log data, so it is served
//! without a token (it asks for one when the server wants it).

use std::io::Write;

use crate::http::{self, Answer};

const VIEWER: &str = include_str!("viewer.html");

/// What the page may do: its own inline script and style, connections back
/// to this server, nothing else.
pub const CSP: &str = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
connect-src 'self' ws: wss:; img-src 'self' data:; base-uri 'none'; form-action 'none'; \
frame-ancestors 'none'";

/// The page with the base path filled in (`--base-path` is checked to hold
/// only URL-safe characters, so it needs no escaping here).
pub fn render(base_path: &str) -> String {
    VIEWER.replace("__WSTAIL_BASE__", base_path)
}

/// Sends the page and says what was answered.
pub fn serve(out: &mut impl Write, page: &str, head_only: bool) -> Answer {
    let mut answer = Answer::new(200, "served the page");
    let extra = [
        format!("Content-Security-Policy: {CSP}"),
        "Referrer-Policy: no-referrer".to_string(),
        "X-Frame-Options: DENY".to_string(),
    ];
    if let Err(e) = http::respond(
        out,
        200,
        "text/html; charset=utf-8",
        page.as_bytes(),
        &extra,
        head_only,
    ) {
        return answer.cut_short(&e);
    }
    if !head_only {
        answer.sent = page.len() as u64;
    }
    answer
}
