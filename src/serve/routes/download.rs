//! `GET /FILE?download`: the raw file as an attachment, streamed through a
//! fixed buffer (memory does not grow with the file), with single `Range`
//! requests honoured (`bytes=A-B`, `bytes=A-`, `bytes=-N`) and 416 for a
//! range outside the file. Multi-range requests get the whole file.

use std::fs::{File, Metadata};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::limits::DOWNLOAD_BUFFER;
use crate::serve::http::{self, Answer, Request};

/// A `Range` header → the inclusive byte range to send, for a file of
/// `len` bytes, as RFC 9110 (14.2) says. `Ok(None)`: send the whole file —
/// no header, another unit, several ranges, or a header that is not valid
/// (malformed, or a last byte before the first: ignored, not refused);
/// `Err(())`: 416, the one range asked for lies wholly past the end (a
/// first byte at or past it, a suffix of 0 bytes, any range of an empty
/// file). A last byte past the end is clamped to it.
#[allow(clippy::result_unit_err)] // the only error is "not satisfiable"
pub fn parse_range(header: Option<&str>, len: u64) -> Result<Option<(u64, u64)>, ()> {
    let Some((unit, spec)) = header.and_then(|h| h.trim().split_once('=')) else {
        return Ok(None);
    };
    if !unit.trim().eq_ignore_ascii_case("bytes") || spec.contains(',') {
        return Ok(None);
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return Ok(None);
    };
    // Digits only: `u64::from_str` would also take a sign.
    let number = |t: &str| {
        if t.is_empty() || !t.bytes().all(|c| c.is_ascii_digit()) {
            None
        } else {
            // Longer than u64: as good as infinite.
            Some(t.parse::<u64>().unwrap_or(u64::MAX))
        }
    };
    let range = match (a.trim(), b.trim()) {
        ("", n) => {
            let Some(n) = number(n) else { return Ok(None) };
            if n == 0 || len == 0 {
                return Err(());
            }
            (len.saturating_sub(n), len - 1)
        }
        (a, b) => {
            let Some(start) = number(a) else {
                return Ok(None);
            };
            let end = if b.is_empty() {
                u64::MAX
            } else {
                match number(b) {
                    Some(end) if end >= start => end,
                    _ => return Ok(None),
                }
            };
            if start >= len {
                return Err(());
            }
            (start, end.min(len - 1))
        }
    };
    Ok(Some(range))
}

/// The `Content-Disposition` value for a file, as RFC 6266 says: a quoted
/// `filename=` with the name as it is where it is printable ASCII (`"` and
/// `\` escaped), and for any other name also `filename*=UTF-8''…` with the
/// name percent-encoded (RFC 8187; bytes that are not UTF-8 become U+FFFD),
/// the quoted one then a fallback with `_` for each other byte.
fn content_disposition(path: &Path) -> String {
    let name = path.file_name().map_or(&b"download"[..], |n| n.as_bytes());
    let mut quoted = String::with_capacity(name.len());
    for &b in name {
        match b {
            b'"' | b'\\' => {
                quoted.push('\\');
                quoted.push(char::from(b));
            }
            b' '..=b'~' => quoted.push(char::from(b)),
            _ => quoted.push('_'),
        }
    }
    let mut value = format!("attachment; filename=\"{quoted}\"");
    if name.iter().any(|b| !(b' '..=b'~').contains(b)) {
        value.push_str("; filename*=UTF-8''");
        for &b in String::from_utf8_lossy(name).as_bytes() {
            if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
                value.push(char::from(b));
            } else {
                value.push_str(&format!("%{b:02X}"));
            }
        }
    }
    value
}

/// Sends the file (or the range asked for) and says what was answered.
pub fn serve(
    out: &mut impl Write,
    req: &Request,
    path: &Path,
    mut file: File,
    meta: &Metadata,
    head_only: bool,
) -> Answer {
    let len = meta.len();
    let mut extra = vec![
        format!("Content-Disposition: {}", content_disposition(path)),
        "Accept-Ranges: bytes".to_string(),
    ];
    let range = match parse_range(req.header("range"), len) {
        Ok(r) => r,
        Err(()) => {
            let answer = Answer::new(416, "range not satisfiable");
            extra.push(format!("Content-Range: bytes */{len}"));
            let body = format!("416 Range Not Satisfiable: the file holds {len} bytes\n");
            return match http::write_response(
                out,
                416,
                "text/plain; charset=utf-8",
                body.as_bytes(),
                &extra,
                head_only,
            ) {
                Ok(()) => answer,
                Err(e) => answer.cut_short(&e),
            };
        }
    };
    let (status, start, count) = match range {
        Some((a, b)) => {
            extra.push(format!("Content-Range: bytes {a}-{b}/{len}"));
            (206, a, b - a + 1)
        }
        None => (200, 0, len),
    };
    let mut answer = Answer::new(status, "download");
    match send(out, &mut file, start, count, &extra, head_only, &mut answer) {
        Ok(()) => answer,
        Err(e) => answer.cut_short(&e),
    }
}

/// Writes the head and `count` bytes from `start`, counting them in
/// `answer`.
fn send(
    out: &mut impl Write,
    file: &mut File,
    start: u64,
    count: u64,
    extra: &[String],
    head_only: bool,
    answer: &mut Answer,
) -> io::Result<()> {
    http::write_head(out, answer.status, "application/octet-stream", count, extra)?;
    if head_only {
        return out.flush();
    }
    file.seek(SeekFrom::Start(start))?;
    let mut left = count;
    let mut buf = vec![0u8; DOWNLOAD_BUFFER];
    while left > 0 {
        let want = buf.len().min(left as usize);
        let n = file.read(&mut buf[..want])?;
        if n == 0 {
            // The file shrank: the promised length can no longer be kept, so
            // end the connection rather than pad.
            answer.outcome = "download cut short: the file shrank".to_string();
            break;
        }
        out.write_all(&buf[..n])?;
        left -= n as u64;
        answer.sent += n as u64;
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range(None, 10), Ok(None));
        assert_eq!(parse_range(Some("bytes=0-0"), 10), Ok(Some((0, 0))));
        assert_eq!(parse_range(Some("bytes=2-"), 10), Ok(Some((2, 9))));
        assert_eq!(parse_range(Some("bytes=-3"), 10), Ok(Some((7, 9))));
        assert_eq!(parse_range(Some("bytes=-30"), 10), Ok(Some((0, 9))));
        assert_eq!(parse_range(Some("Bytes = 1-1"), 10), Ok(Some((1, 1))));
        // A last byte past the end is clamped.
        assert_eq!(parse_range(Some("bytes=2-100"), 10), Ok(Some((2, 9))));
        assert_eq!(
            parse_range(Some("bytes=2-99999999999999999999999"), 10),
            Ok(Some((2, 9)))
        );
        // Unsatisfiable: 416.
        assert_eq!(parse_range(Some("bytes=10-"), 10), Err(()));
        assert_eq!(parse_range(Some("bytes=10-20"), 10), Err(()));
        assert_eq!(parse_range(Some("bytes=-0"), 10), Err(()));
        assert_eq!(parse_range(Some("bytes=0-0"), 0), Err(()));
        // Not valid, or not ours: ignored, the whole file.
        for ignored in [
            "bytes=5-2",
            "bytes=x-1",
            "bytes=1-x",
            "bytes=+1-2",
            "bytes=-+3",
            "bytes=--3",
            "bytes=-",
            "bytes=",
            "bytes=1",
            "bytes 1-2",
            "bytes=0-1,3-4",
            "items=0-1",
            "garbage",
        ] {
            assert_eq!(parse_range(Some(ignored), 10), Ok(None), "{ignored}");
        }
    }

    #[test]
    fn content_disposition_as_rfc_6266() {
        let cd = |name: &[u8]| {
            content_disposition(&Path::new("/var/log").join(std::ffi::OsStr::from_bytes(name)))
        };
        assert_eq!(cd(b"a.log"), "attachment; filename=\"a.log\"");
        assert_eq!(
            cd(b"raw bytes.log"),
            "attachment; filename=\"raw bytes.log\""
        );
        assert_eq!(
            cd(b"sys\"q\\x.log"),
            "attachment; filename=\"sys\\\"q\\\\x.log\""
        );
        assert_eq!(
            cd("h\u{e9}\u{202e}.log".as_bytes()),
            "attachment; filename=\"h_____.log\"; filename*=UTF-8''h%C3%A9%E2%80%AE.log"
        );
        assert_eq!(
            cd(b"a\nb\xff c;.log"),
            "attachment; filename=\"a_b_ c;.log\"; filename*=UTF-8''a%0Ab%EF%BF%BD%20c%3B.log"
        );
    }
}
