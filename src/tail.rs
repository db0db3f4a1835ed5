//! The last N lines: found by reading the file backwards from its end in
//! blocks of `TAIL_BLOCK` bytes, so the time to the first message does not
//! grow with the file's size. Only the start offset is computed here; the
//! bytes from there on flow through the same pipeline as followed data.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

use crate::filter::{Filter, MAX_JUDGED_LINE};
use crate::limits::TAIL_BLOCK;

/// The offset where the last `n` lines of the first `len` bytes of `file`
/// start (an unterminated last line counts as a line, as with `tail -n`).
/// With a filter, only kept lines are counted.
pub fn start_of_last_lines(
    file: &impl ReadAt,
    len: u64,
    n: usize,
    filter: &Filter,
) -> io::Result<u64> {
    start_with_block(file, len, n, filter, TAIL_BLOCK)
}

fn start_with_block(
    file: &impl ReadAt,
    len: u64,
    n: usize,
    filter: &Filter,
    block: usize,
) -> io::Result<u64> {
    if n == 0 || len == 0 {
        return Ok(len);
    }
    let mut buf = vec![0u8; block.min(len as usize)];
    // The last line ends at `len`; its own trailing newline is not a boundary.
    let mut line_end = len;
    let mut scan_end = len;
    let mut found = 0usize;
    let mut first = true;
    while scan_end > 0 {
        let start = scan_end.saturating_sub(block as u64);
        let chunk = &mut buf[..(scan_end - start) as usize];
        read_exact_at(file, chunk, start)?;
        let mut upto = chunk.len();
        if first {
            first = false;
            if chunk.last() == Some(&b'\n') {
                upto -= 1;
            }
        }
        while let Some(i) = chunk[..upto].iter().rposition(|&b| b == b'\n') {
            let line_start = start + i as u64 + 1;
            if line_is_kept(file, filter, chunk, start, line_start, line_end)? {
                found += 1;
                if found == n {
                    return Ok(line_start);
                }
            }
            line_end = line_start;
            upto = i;
        }
        scan_end = start;
    }
    // Fewer lines than asked: everything is sent from the start (with a
    // filter the pipeline drops what is not kept), unless nothing is kept.
    if found == 0 && !line_is_kept(file, filter, &buf[..0], 0, 0, line_end)? {
        return Ok(len);
    }
    Ok(0)
}

/// Judges the line `[line_start, line_end)` against the filter, using the
/// block in memory when it holds the line's start, else reading its head.
fn line_is_kept(
    file: &impl ReadAt,
    filter: &Filter,
    chunk: &[u8],
    chunk_start: u64,
    line_start: u64,
    line_end: u64,
) -> io::Result<bool> {
    if filter.is_empty() {
        return Ok(true);
    }
    let want = ((line_end - line_start) as usize).min(MAX_JUDGED_LINE);
    let chunk_end = chunk_start + chunk.len() as u64;
    if line_start >= chunk_start && line_start + want as u64 <= chunk_end {
        let at = (line_start - chunk_start) as usize;
        return Ok(filter.keep(&chunk[at..at + want]));
    }
    let mut head = vec![0u8; want];
    read_exact_at(file, &mut head, line_start)?;
    Ok(filter.keep(&head))
}

/// Positional reads; a trait so that a test can count the bytes read.
pub trait ReadAt {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()>;
}

impl ReadAt for File {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        FileExt::read_exact_at(self, buf, offset)
    }
}

fn read_exact_at(file: &impl ReadAt, buf: &mut [u8], offset: u64) -> io::Result<()> {
    file.read_exact_at(buf, offset).map_err(|e| {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the file shrank while its last lines were being read",
            )
        } else {
            e
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file_with(content: &[u8]) -> (File, u64) {
        let path = std::env::temp_dir().join(format!(
            "wstail-tail-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        let mut f = File::create(&path).unwrap();
        f.write_all(content).unwrap();
        let f = File::open(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        (f, content.len() as u64)
    }

    static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

    /// What `tail -n n` prints, computed the slow obvious way.
    fn reference(content: &[u8], n: usize, filter: &Filter) -> Vec<u8> {
        let mut lines: Vec<&[u8]> = content.split_inclusive(|&b| b == b'\n').collect();
        lines.retain(|l| filter.keep(l));
        lines[lines.len().saturating_sub(n)..].concat()
    }

    fn check(content: &[u8], n: usize, filter: &Filter) {
        for block in [1, 2, 3, 7, 64, TAIL_BLOCK] {
            let (f, len) = file_with(content);
            let start = start_with_block(&f, len, n, filter, block).unwrap() as usize;
            let got: Vec<u8> = content[start..]
                .split_inclusive(|&b| b == b'\n')
                .filter(|l| filter.keep(l))
                .collect::<Vec<_>>()
                .concat();
            assert_eq!(
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(&reference(content, n, filter)),
                "content {:?} n {n} block {block}",
                String::from_utf8_lossy(content)
            );
        }
    }

    #[test]
    fn last_lines_cases() {
        let none = Filter::default();
        for content in [
            &b""[..],
            b"\n",
            b"\n\n\n",
            b"one",
            b"one\n",
            b"one\ntwo\nthree\n",
            b"one\ntwo\nthree",
            b"a\r\nb\r\nc\r\n",
            b"\n\nx\n\n",
        ] {
            for n in 0..6 {
                check(content, n, &none);
            }
        }
    }

    #[test]
    fn lines_zero_starts_at_the_end() {
        let (f, len) = file_with(b"a\nb\n");
        assert_eq!(
            start_of_last_lines(&f, len, 0, &Filter::default()).unwrap(),
            4
        );
    }

    #[test]
    fn a_line_longer_than_the_block() {
        let mut content = vec![b'x'; 3 * TAIL_BLOCK + 17];
        content.push(b'\n');
        content.extend_from_slice(b"short\n");
        let (f, len) = file_with(&content);
        let none = Filter::default();
        assert_eq!(
            start_of_last_lines(&f, len, 1, &none).unwrap(),
            3 * TAIL_BLOCK as u64 + 18
        );
        assert_eq!(start_of_last_lines(&f, len, 2, &none).unwrap(), 0);
    }

    #[test]
    fn filtered_lines_are_counted() {
        let filter = Filter::new(&["err".to_string()], &["skip".to_string()]);
        let content = b"err 1\nok\nERR 2\nerr skip\nok\nerr 3\nok";
        for n in 0..5 {
            check(content, n, &filter);
        }
        check(b"ok\nok\n", 2, &filter);
    }

    /// A file of 1 GiB of 120-byte lines, made up on the fly, that counts
    /// the bytes read: the tail of 1000 lines must read two blocks, not 1 GiB.
    struct Synthetic {
        len: u64,
        read: std::cell::Cell<u64>,
    }

    impl ReadAt for Synthetic {
        fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
            self.read.set(self.read.get() + buf.len() as u64);
            for (i, b) in buf.iter_mut().enumerate() {
                *b = if (offset + i as u64) % 120 == 119 {
                    b'\n'
                } else {
                    b'x'
                };
            }
            Ok(())
        }
    }

    #[test]
    fn reads_only_the_end_of_a_large_file() {
        for len in [10 * 120 * 1000, 120 << 23] {
            let f = Synthetic {
                len,
                read: std::cell::Cell::new(0),
            };
            let start = start_of_last_lines(&f, f.len, 1000, &Filter::default()).unwrap();
            assert_eq!(start, len - 120 * 1000);
            assert_eq!(f.read.get(), 2 * TAIL_BLOCK as u64, "file of {len} bytes");
        }
    }
}
