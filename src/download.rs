//! `GET /FILE?download`: the raw file as an attachment, streamed through a
//! fixed buffer (memory does not grow with the file), with single `Range`
//! requests honoured (`bytes=A-B`, `bytes=A-`, `bytes=-N`) and 416 for a
//! range outside the file. Multi-range requests get the whole file.

use std::fs::{File, Metadata};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::http::{self, Answer, Request};
use crate::limits::DOWNLOAD_BUFFER;

/// A `Range` header → the inclusive byte range to send, for a file of
/// `len` bytes. `Ok(None)`: send the whole file; `Err(())`: 416.
#[allow(clippy::result_unit_err)] // the only error is "not satisfiable"
pub fn parse_range(header: Option<&str>, len: u64) -> Result<Option<(u64, u64)>, ()> {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return Ok(None);
    };
    let range = match (a.trim(), b.trim()) {
        ("", "") => return Ok(None),
        ("", n) => {
            let n: u64 = n.parse().map_err(|_| ())?;
            if n == 0 || len == 0 {
                return Err(());
            }
            (len.saturating_sub(n), len - 1)
        }
        (a, b) => {
            let start: u64 = a.parse().map_err(|_| ())?;
            let end: u64 = if b.is_empty() {
                u64::MAX
            } else {
                b.parse().map_err(|_| ())?
            };
            if start >= len || end < start {
                return Err(());
            }
            (start, end.min(len - 1))
        }
    };
    Ok(Some(range))
}

/// The file name for `Content-Disposition`, ASCII only (others become `_`).
fn attachment_name(path: &Path) -> String {
    let name = path.file_name().map_or(&b"download"[..], |n| n.as_bytes());
    name.iter()
        .map(|&b| {
            if b.is_ascii_alphanumeric() || b"._-+".contains(&b) {
                b as char
            } else {
                '_'
            }
        })
        .collect()
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
        format!(
            "Content-Disposition: attachment; filename=\"{}\"",
            attachment_name(path)
        ),
        "Accept-Ranges: bytes".to_string(),
    ];
    let range = match parse_range(req.header("range"), len) {
        Ok(r) => r,
        Err(()) => {
            let answer = Answer::new(416, "range not satisfiable");
            extra.push(format!("Content-Range: bytes */{len}"));
            let body = format!("416 Range Not Satisfiable: the file holds {len} bytes\n");
            return match http::respond(
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
        assert_eq!(parse_range(Some("bytes=2-100"), 10), Ok(Some((2, 9))));
        assert_eq!(parse_range(Some("bytes=-3"), 10), Ok(Some((7, 9))));
        assert_eq!(parse_range(Some("bytes=-30"), 10), Ok(Some((0, 9))));
        assert_eq!(parse_range(Some("bytes=10-"), 10), Err(()));
        assert_eq!(parse_range(Some("bytes=5-2"), 10), Err(()));
        assert_eq!(parse_range(Some("bytes=0-0"), 0), Err(()));
        assert_eq!(parse_range(Some("bytes=x-1"), 10), Err(()));
        assert_eq!(parse_range(Some("bytes=0-1,3-4"), 10), Ok(None));
        assert_eq!(parse_range(Some("items=0-1"), 10), Ok(None));
    }

    #[test]
    fn attachment_names_are_plain() {
        assert_eq!(
            attachment_name(Path::new("/var/log/sys log\"x.log")),
            "sys_log_x.log"
        );
    }
}
