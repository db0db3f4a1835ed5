//! A refused handshake as the client reads it: the status, the kind the
//! server names in `X-Wstail-Refusal`, and the one-line reason of the body.
//! Whether `--retry` tries again is decided here, on the kind (or, from a
//! server or proxy that names none, on the status), never on the reason's
//! wording: the server may reword its reasons freely.

use super::session::Stop;
use crate::wire::refusal::Kind;

/// The header that names a refusal's kind.
pub(super) const KIND_HEADER: &str = "X-Wstail-Refusal";

/// Whether waiting may cure a refusal of this kind, as `tail -F` waits: a
/// file not there yet, a path that is for now not a readable regular file
/// (a directory, a file the server may not read, one replaced while it was
/// opened), a server busy or slow to read the request, one that holds as
/// many of this address's connections as it takes, a read that failed.
/// The rest (the request itself, the roots, the Host, the origin, the
/// token, a compression, a file without timestamps) stays as it is.
fn waiting_may_cure(kind: Kind) -> bool {
    match kind {
        Kind::NotFound
        | Kind::NotRegular
        | Kind::Unreadable
        | Kind::Changed
        | Kind::Timeout
        | Kind::Busy
        | Kind::PerAddress
        | Kind::Internal => true,
        Kind::BadRequest
        | Kind::Method
        | Kind::Version
        | Kind::TooLarge
        | Kind::OutsideRoots
        | Kind::Gone
        | Kind::Compressed
        | Kind::NoTimestamps
        | Kind::Host
        | Kind::Origin
        | Kind::Token => false,
    }
}

/// What a refusal means for `--retry`, and its text (`403 Forbidden: the
/// reason`, not yet filtered: `Stream::say` does that when it prints).
/// `kind` is the `X-Wstail-Refusal` value, `body` what was read of the body.
pub(super) fn refusal(status: u16, kind: Option<&str>, body: &[u8]) -> Stop {
    let phrase = tungstenite::http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error");
    let head = format!("{status} {phrase}");
    // The server's body is "403 Forbidden: the reason\n"; a proxy's may be
    // an HTML page, of which only the status is worth showing.
    let first = String::from_utf8_lossy(body);
    let line = first.lines().next().unwrap_or_default();
    let reason = line
        .strip_prefix(&format!("{status} "))
        .and_then(|r| r.split_once(':'))
        .map(|(_, r)| r.trim())
        .filter(|r| !r.is_empty() && !r.starts_with('<'));
    let text = match reason {
        Some(r) => format!("{head}: {r}"),
        None => head,
    };
    let passes = match kind.map(str::trim).and_then(Kind::parse) {
        Some(k) => waiting_may_cure(k),
        // No kind (an older server, a proxy): a missing file, a timeout, a
        // busy, restarting or unreachable backend may all go away.
        None => matches!(status, 404 | 408 | 429) || status >= 500,
    };
    if passes {
        Stop::Retry(text)
    } else {
        Stop::Fatal(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(stop: Stop) -> (bool, String) {
        match stop {
            Stop::Retry(t) => (true, t),
            Stop::Fatal(t) => (false, t),
            Stop::Output(e) => panic!("{e}"),
        }
    }

    #[test]
    fn the_kind_decides_never_the_wording() {
        let outside = b"403 Forbidden: the path is outside the served roots\n";
        assert_eq!(
            text(refusal(403, Some("outside-roots"), outside)),
            (
                false,
                "403 Forbidden: the path is outside the served roots".into()
            )
        );
        // The old wording of a waitable 403 under a final kind: final.
        let regular = b"403 Forbidden: the path is not a regular file\n";
        assert!(!text(refusal(403, Some("outside-roots"), regular)).0);
        // A new wording under a waitable kind: retried.
        let reworded = b"403 Forbidden: that is a directory\n";
        assert!(text(refusal(403, Some("not-regular"), reworded)).0);
        assert!(text(refusal(403, Some("unreadable"), b"")).0);
        // And without a kind, a 403 is final whatever its reason says.
        assert!(!text(refusal(403, None, regular)).0);
        for (kind, retried) in [
            ("not-found", true),
            ("busy", true),
            ("per-address", true),
            ("changed", true),
            ("timeout", true),
            ("internal", true),
            ("gone", false),
            ("compressed", false),
            ("no-timestamps", false),
            ("host", false),
            ("origin", false),
            ("token", false),
            ("bad-request", false),
            ("method", false),
            ("version", false),
            ("too-large", false),
        ] {
            assert_eq!(text(refusal(400, Some(kind), b"")).0, retried, "{kind}");
        }
        // An unknown kind: the status decides.
        assert!(text(refusal(503, Some("later"), b"")).0);
        assert!(!text(refusal(401, Some("later"), b"")).0);
    }

    #[test]
    fn statuses_without_a_kind() {
        assert_eq!(
            text(refusal(503, None, b"<html>")),
            (true, "503 Service Unavailable".into())
        );
        assert!(text(refusal(404, None, b"")).0);
        assert!(text(refusal(408, None, b"")).0);
        assert!(text(refusal(502, None, b"")).0);
        assert_eq!(
            text(refusal(401, None, b"")),
            (false, "401 Unauthorized".into())
        );
        assert_eq!(text(refusal(599, None, b"")), (true, "599 Error".into()));
        // A body that is not the server's line: only the status.
        assert_eq!(
            text(refusal(400, None, b"no status here: x\n")),
            (false, "400 Bad Request".into())
        );
        assert_eq!(
            text(refusal(400, None, b"400 Whatever: the reason")),
            (false, "400 Bad Request: the reason".into())
        );
    }
}
