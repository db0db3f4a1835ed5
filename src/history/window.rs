//! The last N lines, or the last N lines before a byte (`before=`): found
//! by reading the file backwards in blocks of `TAIL_BLOCK` bytes, so the
//! time to the first message does not grow with the file's size. With a
//! filter only kept lines count; each block is cut at its first line start
//! and the filter judges the block's whole lines at once (`kept_lines`).
//! A filtered scan's blocks grow from `TAIL_BLOCK` to `SCAN_BLOCK` bytes as
//! it goes. The scan is bounded (`--scan-limit` bytes) and reports after
//! every block, so that its caller can send progress and stop when the
//! client is gone.
//! Only offsets are computed here; the bytes from the window's start on
//! flow through the same pipeline as followed data.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

use crate::encode::filter::{Filter, MAX_JUDGED_LINE};
use crate::limits::{SCAN_BLOCK, TAIL_BLOCK};

/// What to look for: the last `lines` kept lines that end at or before
/// `before` (moved down to a line boundary; `None`: the end of the file).
#[derive(Debug, Clone, Copy)]
pub struct Ask<'a> {
    pub lines: usize,
    pub before: Option<u64>,
    pub filter: &'a Filter,
    /// Most bytes the scan may cover, counted down from `before` (or the
    /// end): `--scan-limit`.
    pub limit: u64,
}

/// The window found: what is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// The window's first byte, as the client is told (the start frame's
    /// offset): the next older window is `before=` it. Every kept line from
    /// here to `end` is sent.
    pub first: u64,
    /// Where sending starts: `first`, or, with a filter, the first kept
    /// line after it (the lines between were judged already and are not
    /// read twice).
    pub start: u64,
    /// Where the window ends: `before=` moved down to a line boundary, or
    /// the file's size.
    pub end: u64,
    /// The scan limit stopped the scan before `lines` lines were found:
    /// nothing before `first` was searched.
    pub limited: bool,
}

/// The offset where the last `n` lines of the first `len` bytes of `file`
/// start (an unterminated last line counts as a line, as with `tail -n`).
/// With a filter, only kept lines are counted.
#[cfg(test)]
pub fn start_of_last_lines(
    file: &impl ReadAt,
    len: u64,
    n: usize,
    filter: &Filter,
) -> io::Result<u64> {
    let ask = Ask {
        lines: n,
        before: None,
        filter,
        limit: u64::MAX,
    };
    let window = find_window(file, len, &ask, &mut |_| true)?;
    Ok(window.map_or(len, |w| w.start))
}

/// Finds the window `ask` describes in the first `len` bytes of `file`.
/// `go_on` is called after every block read with the bytes covered so far;
/// when it returns false the scan stops and `None` is returned.
pub fn find_window(
    file: &impl ReadAt,
    len: u64,
    ask: &Ask,
    go_on: &mut dyn FnMut(u64) -> bool,
) -> io::Result<Option<Window>> {
    find_with_block(file, len, ask, go_on, TAIL_BLOCK)
}

/// Why a backward read did not happen.
enum Stop {
    /// The scan limit is reached.
    Limit,
    /// The caller said to stop.
    Gone,
    Io(io::Error),
}

impl From<io::Error> for Stop {
    fn from(e: io::Error) -> Self {
        Stop::Io(e)
    }
}

/// Block reads backwards from a top offset, each accounted against the
/// scan limit and reported to the caller.
struct Backwards<'a, R: ReadAt> {
    file: &'a R,
    buf: Vec<u8>,
    block: usize,
    /// Where the scan began; nothing below `top - limit` is read.
    top: u64,
    floor: u64,
    /// The lowest offset read so far.
    lowest: u64,
    go_on: &'a mut dyn FnMut(u64) -> bool,
}

impl<R: ReadAt> Backwards<'_, R> {
    /// Reads the block that ends at `hi` (`hi` > 0) into `buf`; returns
    /// where it starts.
    fn read_before(&mut self, hi: u64) -> Result<u64, Stop> {
        if hi <= self.floor {
            return Err(Stop::Limit);
        }
        let lo = hi.saturating_sub(self.block as u64).max(self.floor);
        let n = (hi - lo) as usize;
        self.buf.resize(n, 0);
        read_exact_at(self.file, &mut self.buf, lo)?;
        self.lowest = self.lowest.min(lo);
        if !(self.go_on)(self.top - self.lowest) {
            return Err(Stop::Gone);
        }
        Ok(lo)
    }

    /// Where the line holding byte `at - 1` starts: just after the last
    /// `\n` before `at`, or 0.
    fn line_start(&mut self, at: u64) -> Result<u64, Stop> {
        let mut hi = at;
        while hi > 0 {
            let lo = self.read_before(hi)?;
            if let Some(i) = self.buf.iter().rposition(|&b| b == b'\n') {
                return Ok(lo + i as u64 + 1);
            }
            hi = lo;
        }
        Ok(0)
    }
}

fn find_with_block(
    file: &impl ReadAt,
    len: u64,
    ask: &Ask,
    go_on: &mut dyn FnMut(u64) -> bool,
    block: usize,
) -> io::Result<Option<Window>> {
    let top = ask.before.map_or(len, |b| b.min(len));
    let mut back = Backwards {
        file,
        buf: Vec::new(),
        block: block.max(1),
        top,
        floor: top.saturating_sub(ask.limit),
        lowest: top,
        go_on,
    };
    // The window's end: a line boundary at or before `before=`.
    let end = if ask.before.is_some() {
        match back.line_start(top) {
            Ok(e) => e,
            Err(Stop::Limit) => {
                // One line longer than the limit: skip what was searched.
                let first = back.lowest;
                return Ok(Some(Window {
                    first,
                    start: first,
                    end: first,
                    limited: true,
                }));
            }
            Err(Stop::Gone) => return Ok(None),
            Err(Stop::Io(e)) => return Err(e),
        }
    } else {
        len
    };
    let mut scan = Scan {
        back,
        filter: ask.filter,
        want: ask.lines,
        found: 0,
        hi: end,
        earliest: None,
        starts: Vec::new(),
    };
    if ask.lines == 0 || end == 0 {
        return Ok(Some(Window {
            first: end,
            start: end,
            end,
            limited: false,
        }));
    }
    let window = |first: u64, earliest: Option<u64>, limited: bool| Window {
        first,
        start: earliest.unwrap_or(end),
        end,
        limited,
    };
    match scan.run() {
        Ok(Some(start)) => Ok(Some(Window {
            first: start,
            start,
            end,
            limited: false,
        })),
        Ok(None) => Ok(Some(window(0, scan.earliest, false))),
        Err(Stop::Limit) => {
            // Resume below what was judged. When not even the last line
            // was: at the window's end if finding it used up part of the
            // limit (a fresh scan from there has all of it), else below
            // what was read (that line is longer than the limit).
            let first = if scan.hi < end || end < top {
                scan.hi
            } else {
                scan.back.lowest
            };
            Ok(Some(window(first, scan.earliest, true)))
        }
        Err(Stop::Gone) => Ok(None),
        Err(Stop::Io(e)) => Err(e),
    }
}

/// The backward count of kept lines below `hi`.
struct Scan<'a, R: ReadAt> {
    back: Backwards<'a, R>,
    filter: &'a Filter,
    want: usize,
    found: usize,
    /// Every line from here to the window's end has been judged; `hi` is
    /// a line boundary.
    hi: u64,
    /// The start of the earliest kept line found.
    earliest: Option<u64>,
    /// Kept line starts of the current block (reused).
    starts: Vec<usize>,
}

impl<R: ReadAt> Scan<'_, R> {
    /// The start of the `want`-th kept line counted back from the end;
    /// `None` when the file's start came first.
    fn run(&mut self) -> Result<Option<u64>, Stop> {
        while self.hi > 0 {
            let lo = self.back.read_before(self.hi)?;
            let chunk = &self.back.buf;
            // The first line start in the block: the lines from there to
            // `hi` are whole. The line ending at `hi` has its own newline
            // at `hi - 1`, which does not start a line in the block.
            let whole_from = if lo == 0 {
                Some(0)
            } else {
                chunk[..chunk.len() - 1]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map(|i| i + 1)
            };
            let Some(from) = whole_from else {
                // A line longer than the block: find its start, judge its head.
                let line_start = self.back.line_start(self.hi - 1)?;
                if self.judge_long(line_start)? {
                    return Ok(Some(line_start));
                }
                self.hi = line_start;
                continue;
            };
            self.starts.clear();
            self.filter.kept_lines(&chunk[from..], &mut self.starts);
            let base = lo + from as u64;
            let k = self.starts.len();
            if self.found + k >= self.want {
                return Ok(Some(
                    base + self.starts[k - (self.want - self.found)] as u64,
                ));
            }
            self.found += k;
            if let Some(&first) = self.starts.first() {
                self.earliest = Some(base + first as u64);
            }
            self.hi = base;
            if !self.filter.is_empty() {
                // A filtered scan may go far: larger reads, fewer calls.
                self.back.block = (self.back.block * 2).min(SCAN_BLOCK.max(self.back.block));
            }
        }
        Ok(None)
    }

    /// Judges the line `[line_start, hi)` on its head; true when it is the
    /// last one wanted.
    fn judge_long(&mut self, line_start: u64) -> Result<bool, Stop> {
        let kept = self.filter.is_empty() || {
            let want = ((self.hi - line_start) as usize).min(MAX_JUDGED_LINE);
            let mut head = vec![0u8; want];
            read_exact_at(self.back.file, &mut head, line_start)?;
            self.filter.keep(&head)
        };
        if kept {
            self.found += 1;
            self.earliest = Some(line_start);
        }
        Ok(kept && self.found == self.want)
    }
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

/// Bytes in memory (the merge's tests and its fuzz target).
impl ReadAt for Vec<u8> {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        let src = usize::try_from(offset)
            .ok()
            .and_then(|at| self.get(at..at.checked_add(buf.len())?))
            .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "past the end"))?;
        buf.copy_from_slice(src);
        Ok(())
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

    /// The kept lines of `content[from..to]`.
    fn kept(content: &[u8], from: u64, to: u64, filter: &Filter) -> Vec<u8> {
        content[from as usize..to as usize]
            .split_inclusive(|&b| b == b'\n')
            .filter(|l| filter.keep(l))
            .collect::<Vec<_>>()
            .concat()
    }

    fn window(content: &[u8], ask: &Ask, block: usize) -> Window {
        let (f, len) = file_with(content);
        find_with_block(&f, len, ask, &mut |_| true, block)
            .unwrap()
            .unwrap()
    }

    fn ask(lines: usize, before: Option<u64>, filter: &Filter) -> Ask<'_> {
        Ask {
            lines,
            before,
            filter,
            limit: u64::MAX,
        }
    }

    fn check(content: &[u8], n: usize, filter: &Filter) {
        for block in [1, 2, 3, 7, 64, TAIL_BLOCK] {
            let w = window(content, &ask(n, None, filter), block);
            let got = kept(content, w.start, w.end, filter);
            assert_eq!(
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(&reference(content, n, filter)),
                "content {:?} n {n} block {block}",
                String::from_utf8_lossy(content)
            );
            // Nothing kept is skipped between the first byte and the start.
            assert!(w.first <= w.start);
            assert!(kept(content, w.first, w.start, filter).is_empty());
            for before in 0..content.len() as u64 + 2 {
                check_before(content, n, before, filter, block);
            }
        }
    }

    /// `before=`: the last n kept lines of the bytes before the last line
    /// boundary at or before `before`.
    fn check_before(content: &[u8], n: usize, before: u64, filter: &Filter, block: usize) {
        let w = window(content, &ask(n, Some(before), filter), block);
        let top = (before as usize).min(content.len());
        let end = content[..top]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let what = format!(
            "content {:?} n {n} before {before} block {block}",
            String::from_utf8_lossy(content)
        );
        assert_eq!(w.end, end as u64, "{what}");
        assert_eq!(
            kept(content, w.start, w.end, filter),
            reference(&content[..end], n, filter),
            "{what}"
        );
        assert!(kept(content, w.first, w.start, filter).is_empty(), "{what}");
        assert!(!w.limited);
        // The first byte is a line boundary, and only 0 when the window
        // holds fewer than n lines.
        assert!(
            w.first == 0 || content[w.first as usize - 1] == b'\n',
            "{what}"
        );
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

    /// Paging back with `before=` the first byte of each window gives every
    /// kept line exactly once, also when the scan limit cuts windows short.
    #[test]
    fn paging_back_covers_the_file_once() {
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: u64| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng % n
        };
        let filters = [
            Filter::default(),
            Filter::new(&["7".to_string()], &[]),
            Filter::new(&[], &["3".to_string()]),
        ];
        for round in 0..40 {
            let mut content = Vec::new();
            for i in 0..next(60) {
                let len = if next(10) == 0 { next(300) } else { next(12) };
                content.extend((0..len).map(|j| b'a' + ((i + j) % 26) as u8));
                content.extend_from_slice(format!(" {i}\n").as_bytes());
            }
            if round % 2 == 1 {
                content.extend_from_slice(b"unterminated 7");
            }
            for filter in &filters {
                for limit in [u64::MAX, 50, 200] {
                    let block = [1, 5, 64][round % 3];
                    let n = 1 + next(5) as usize;
                    let mut pages = Vec::new();
                    let mut a = Ask {
                        lines: n,
                        before: None,
                        filter,
                        limit,
                    };
                    for _ in 0..10_000 {
                        let w = window(&content, &a, block);
                        pages.push(kept(&content, w.start, w.end, filter));
                        if w.first == 0 {
                            break;
                        }
                        a.before = Some(w.first);
                    }
                    pages.reverse();
                    // A line longer than the limit cannot be judged: it is
                    // skipped. Every other kept line comes once, in order.
                    let short = |t: Vec<u8>| -> String {
                        let lines = t.split_inclusive(|&b| b == b'\n');
                        let short: Vec<&[u8]> =
                            lines.filter(|l| (l.len() as u64) < limit).collect();
                        String::from_utf8_lossy(&short.concat()).into_owned()
                    };
                    assert_eq!(
                        short(pages.concat()),
                        short(kept(&content, 0, content.len() as u64, filter)),
                        "limit {limit} block {block} n {n}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_scan_limit_stops_the_scan_and_says_so() {
        // 100 lines of 10 bytes; only the first matches.
        let mut content = b"match 000\n".to_vec();
        for i in 1..100 {
            content.extend_from_slice(format!("other {i:03}\n").as_bytes());
        }
        let filter = Filter::new(&["match".to_string()], &[]);
        let mut a = ask(1, None, &filter);
        a.limit = 505;
        let w = window(&content, &a, 64);
        // 50 whole lines fit in 505 bytes: nothing below them was searched.
        assert_eq!(
            w,
            Window {
                first: 500,
                start: 1000,
                end: 1000,
                limited: true
            }
        );
        a.limit = 1000;
        assert_eq!(window(&content, &a, 64).first, 0);
        assert!(!window(&content, &a, 64).limited);
    }

    #[test]
    fn the_scan_stops_when_told() {
        let content = b"x\n".repeat(10 * 64);
        let (f, len) = file_with(&content);
        let mut calls = Vec::new();
        let r = find_with_block(
            &f,
            len,
            &ask(1, None, &Filter::new(&["y".to_string()], &[])),
            &mut |scanned| {
                calls.push(scanned);
                calls.len() < 3
            },
            64,
        )
        .unwrap();
        assert_eq!(r, None);
        assert_eq!(calls.len(), 3);
        assert!(calls[0] == 64 && calls[1] > 64 && calls[2] > calls[1]);
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
