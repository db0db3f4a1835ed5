//! `since=T`: the first line whose timestamp is at or after T, found by
//! binary search over the file's bytes — a number of block reads that grows
//! with log(size), not with the size. A probe at an offset reads forward to
//! the first line that starts there or later and carries a timestamp; lines
//! without one (stack traces, continuation lines) belong to the timestamped
//! line before them, so the search only ever lands on a timestamped line.
//! Only the start offset is computed here; the bytes from there on flow
//! through the same pipeline as any tail.

use std::io;

use crate::history::timestamp::{STAMP_HEAD, Stamp, Target, YearHint, line_time};
use crate::history::window::ReadAt;
use crate::limits::TAIL_BLOCK;

/// Where sending starts for `since=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Since {
    /// At this offset (0 when the first timestamp is already at or after T;
    /// the file's size when every timestamp is before T).
    At(u64),
    /// The search would have scanned more than its limit (a long stretch of
    /// lines without a timestamp): sending starts at this line, the last one
    /// seen before T, so that nothing at or after T is missed.
    Limit(u64),
    /// No timestamp was recognised in the file's first and last blocks.
    NoTimestamps,
}

/// What a search read: block reads and bytes (for the debug log and the
/// benchmark).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cost {
    pub reads: u32,
    pub bytes: u64,
}

/// Finds where `since=target` starts in the first `len` bytes of `file`,
/// reading at most about `scan_limit` bytes. `go_on` is called after every
/// block read with the bytes read so far; when it returns false the search
/// stops and `None` is returned (the client left).
pub fn find(
    file: &impl ReadAt,
    len: u64,
    target: &Target,
    hint: YearHint,
    scan_limit: u64,
    go_on: &mut dyn FnMut(u64) -> bool,
) -> io::Result<Option<(Since, Cost)>> {
    find_with_block(file, len, target, hint, scan_limit, TAIL_BLOCK, go_on)
}

/// `find` with probes of `block` bytes: the timeline makes N + 1 searches
/// and needs no more than a line's head at each probe.
pub fn find_with_block(
    file: &impl ReadAt,
    len: u64,
    target: &Target,
    hint: YearHint,
    scan_limit: u64,
    block: usize,
    go_on: &mut dyn FnMut(u64) -> bool,
) -> io::Result<Option<(Since, Cost)>> {
    let mut search = Search {
        go_on,
        stopped: false,
        file,
        len,
        hint,
        block,
        scanned: 0,
        reads: 0,
        limit: scan_limit,
        buf: Vec::new(),
        buf_at: 0,
    };
    let since = search.run(target)?;
    if search.stopped {
        return Ok(None);
    }
    let cost = Cost {
        reads: search.reads,
        bytes: search.scanned,
    };
    Ok(Some((since, cost)))
}

/// Whether `since=` can be answered for the first `len` bytes of `file`: a
/// timestamp is recognised in its first block or in its last one (the
/// search's own first step, two block reads at most). Asked before the
/// handshake, so that a file without timestamps is a 422.
pub fn has_timestamps(file: &impl ReadAt, len: u64, hint: YearHint) -> io::Result<bool> {
    let mut search = Search {
        go_on: &mut |_| true,
        stopped: false,
        file,
        len,
        hint,
        block: TAIL_BLOCK,
        scanned: 0,
        reads: 0,
        limit: u64::MAX,
        buf: Vec::new(),
        buf_at: 0,
    };
    let block = TAIL_BLOCK as u64;
    if len == 0 {
        return Ok(false);
    }
    if matches!(search.scan(0, block.min(len), |_| true)?, Found::Line(..)) {
        return Ok(true);
    }
    Ok(len > block && matches!(search.scan(len - block, len, |_| true)?, Found::Line(..)))
}

struct Search<'a, F: ReadAt> {
    /// Called after every block read; false stops the search.
    go_on: &'a mut dyn FnMut(u64) -> bool,
    /// `go_on` said stop.
    stopped: bool,
    file: &'a F,
    len: u64,
    hint: YearHint,
    block: usize,
    scanned: u64,
    reads: u32,
    limit: u64,
    /// The last block read, and its offset in the file.
    buf: Vec<u8>,
    buf_at: u64,
}

/// A forward scan's answer.
enum Found {
    /// The first line in range with a timestamp the test accepted: its
    /// start and its stamp.
    Line(u64, Stamp),
    None,
    /// The scan limit was reached first.
    Limit,
}

impl<F: ReadAt> Search<'_, F> {
    fn run(&mut self, target: &Target) -> io::Result<Since> {
        let len = self.len;
        let block = self.block as u64;
        if len == 0 {
            return Ok(Since::NoTimestamps);
        }
        // The first block: no timestamp there and none in the last block
        // either means the file is not in a format known here.
        let first = match self.scan(0, block.min(len), |_| true)? {
            Found::Line(_, s) if target.reached_by(&s) => return Ok(Since::At(0)),
            Found::Line(..) => true,
            _ => false,
        };
        if !first
            && len > block
            && !matches!(self.scan(len - block, len, |_| true)?, Found::Line(..))
        {
            return Ok(Since::NoTimestamps);
        }
        if !first && len <= block {
            return Ok(Since::NoTimestamps);
        }
        // The answer is the first timestamped line starting in [lo, end)
        // that is at or after T, or `best` when there is none; `safe` is
        // the start of a line known to be before T.
        let (mut lo, mut end, mut best, mut safe) = (0u64, len, len, 0u64);
        while lo < end {
            if end - lo <= block {
                match self.scan(lo, end, |s| target.reached_by(s))? {
                    Found::Line(p, _) => best = p,
                    Found::None => {}
                    Found::Limit => return Ok(Since::Limit(safe)),
                }
                break;
            }
            let mid = lo + (end - lo) / 2;
            match self.scan(mid, end, |_| true)? {
                Found::Line(p, s) if target.reached_by(&s) => (best, end) = (p, p),
                Found::Line(p, _) => (lo, safe) = (p + 1, p),
                Found::None => end = mid,
                Found::Limit => return Ok(Since::Limit(safe)),
            }
        }
        // No line before T was seen: if `best` is the file's first
        // timestamped line, what comes before it (a preamble without
        // timestamps) belongs to it, and sending starts at 0.
        if !first
            && lo == 0
            && best < len
            && let Found::Line(p, _) = self.scan(0, best + 1, |_| true)?
            && p == best
        {
            return Ok(Since::At(0));
        }
        Ok(Since::At(best))
    }

    /// The first line that starts at or after `at` (0, or just after a
    /// `\n`) and before `end`, whose timestamp `accept` takes.
    fn scan(&mut self, at: u64, end: u64, accept: impl Fn(&Stamp) -> bool) -> io::Result<Found> {
        let len = self.len;
        // Reading from `at - 1` shows whether `at` itself starts a line.
        let mut pos = at.saturating_sub(1);
        let mut mid_line = at > 0;
        let read_len = self.block.max(STAMP_HEAD + 1) as u64;
        loop {
            if pos >= end || pos >= len {
                return Ok(Found::None);
            }
            let stop = (pos + read_len).min(len);
            let n = (stop - pos) as usize;
            // The last block read often holds this one (a small file, the
            // last probes of a search): then it is not read again.
            let held = self.buf_at <= pos && stop <= self.buf_at + self.buf.len() as u64;
            if !held {
                if self.stopped || self.scanned >= self.limit {
                    return Ok(Found::Limit);
                }
                self.buf.resize(n, 0);
                self.file.read_exact_at(&mut self.buf, pos)?;
                self.buf_at = pos;
                self.scanned += n as u64;
                self.reads += 1;
                if !(self.go_on)(self.scanned) {
                    // Ends the search at once, as the scan limit does.
                    self.stopped = true;
                    return Ok(Found::Limit);
                }
            }
            let from = (pos - self.buf_at) as usize;
            let buf = &self.buf[from..from + n];
            let mut i = 0;
            if mid_line {
                match buf.iter().position(|&b| b == b'\n') {
                    Some(k) => {
                        i = k + 1;
                        mid_line = false;
                    }
                    None => {
                        pos = stop;
                        continue;
                    }
                }
            }
            loop {
                let start = pos + i as u64;
                if start >= end || start >= len {
                    return Ok(Found::None);
                }
                let rest = &buf[i..];
                let nl = rest.iter().position(|&b| b == b'\n');
                if nl.is_none() && rest.len() < STAMP_HEAD && stop < len {
                    // The line's head runs past the buffer: read on from it.
                    pos = start;
                    break;
                }
                let head = &rest[..nl.unwrap_or(rest.len()).min(STAMP_HEAD)];
                if let Some(s) = line_time(head, &self.hint)
                    && accept(&s)
                {
                    return Ok(Found::Line(start, s));
                }
                match nl {
                    Some(k) => i += k + 1,
                    None => {
                        // A line longer than the buffer: skip to its end.
                        pos = stop;
                        mid_line = true;
                        break;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::timestamp::{civil_from_days, parse_target};
    use std::cell::Cell;
    use std::time::UNIX_EPOCH;

    const HINT: YearHint = YearHint::at(2026, 12, 20, 12 * 3600);

    /// A file in memory that counts its reads.
    struct Mem {
        bytes: Vec<u8>,
        reads: Cell<u32>,
    }

    impl ReadAt for Mem {
        fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
            self.reads.set(self.reads.get() + 1);
            let at = offset as usize;
            buf.copy_from_slice(&self.bytes[at..at + buf.len()]);
            Ok(())
        }
    }

    fn wall_target(t: &str) -> Target {
        parse_target(t, UNIX_EPOCH).unwrap()
    }

    /// The answer the slow obvious way: the first timestamped line at or
    /// after T (0 when that is the first timestamped line), else the end.
    fn reference(content: &[u8], target: &Target) -> Since {
        let mut at = 0;
        let mut first = true;
        let mut any = false;
        for line in content.split_inclusive(|&b| b == b'\n') {
            if let Some(s) = line_time(line, &HINT) {
                any = true;
                if target.reached_by(&s) {
                    return Since::At(if first { 0 } else { at as u64 });
                }
                first = false;
            }
            at += line.len();
        }
        if any {
            Since::At(content.len() as u64)
        } else {
            Since::NoTimestamps
        }
    }

    fn check(content: &[u8], target: &str) {
        let t = wall_target(target);
        for block in [STAMP_HEAD + 1, 256, 300, 1000, TAIL_BLOCK] {
            let f = Mem {
                bytes: content.to_vec(),
                reads: Cell::new(0),
            };
            let got = Search {
                go_on: &mut |_| true,
                stopped: false,
                file: &f,
                len: content.len() as u64,
                hint: HINT,
                block,
                scanned: 0,
                reads: 0,
                limit: u64::MAX,
                buf: Vec::new(),
                buf_at: 0,
            }
            .run(&t)
            .unwrap();
            assert_eq!(got, reference(content, &t), "T {target} block {block}");
        }
    }

    /// Lines one second apart from 14:00:00, with a stack trace under every
    /// seventh and a long line now and then.
    fn log(lines: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for i in 0..lines {
            let s = 14 * 3600 + i;
            out.extend_from_slice(
                format!(
                    "2026-12-01 {:02}:{:02}:{:02},{:03} INFO line {i}\n",
                    s / 3600,
                    s / 60 % 60,
                    s % 60,
                    i % 1000
                )
                .as_bytes(),
            );
            if i % 7 == 3 {
                out.extend_from_slice(
                    b"Traceback (most recent call last):\n  File \"x.py\", line 1\n",
                );
            }
            if i % 50 == 10 {
                out.extend_from_slice(&vec![b'y'; 700]);
                out.push(b'\n');
            }
        }
        out
    }

    #[test]
    fn finds_the_first_line_at_or_after_t() {
        let content = log(400);
        for t in [
            "2026-12-01 13:00",
            "2026-12-01 14:00",
            "2026-12-01 14:00:01",
            "2026-12-01 14:00:03.5",
            "2026-12-01 14:02:03",
            "2026-12-01 14:06:39",
            "2026-12-01 14:06:40",
            "2026-12-02",
        ] {
            check(&content, t);
        }
    }

    #[test]
    fn edges() {
        // Every line before T: the end. The first already after: 0, even
        // with lines before it that carry no timestamp.
        let content = b"preamble\n2026-12-01 14:00:00 a\n  more\n2026-12-01 14:00:05 b\n";
        check(content, "2026-12-01 14:00:06");
        check(content, "2026-12-01 14:00:00");
        check(content, "2026-12-01 14:00:03");
        check(b"2026-12-01 14:00:00 no newline", "2026-12-01 13:00");
        check(b"2026-12-01 14:00:00 no newline", "2026-12-01 15:00");
        check(b"\n\n\n2026-12-01 14:00:00\n\n\n", "2026-12-01 14:00");
        // Nothing known anywhere.
        check(b"just text\nno times\n", "2026-12-01 14:00");
        check(b"", "2026-12-01 14:00");
        let f = Mem {
            bytes: vec![b'z'; 3 * TAIL_BLOCK],
            reads: Cell::new(0),
        };
        let t = wall_target("2026-12-01 14:00");
        assert_eq!(
            find(&f, f.bytes.len() as u64, &t, HINT, u64::MAX, &mut |_| true)
                .unwrap()
                .unwrap()
                .0,
            Since::NoTimestamps
        );
    }

    #[test]
    fn the_scan_limit_starts_early_rather_than_miss_lines() {
        let mut content = b"2026-12-01 14:00:00 a\n".to_vec();
        for _ in 0..50_000 {
            content.extend_from_slice(b"  continuation without a time\n");
        }
        content.extend_from_slice(b"2026-12-01 15:00:00 b\n");
        let f = Mem {
            bytes: content.clone(),
            reads: Cell::new(0),
        };
        let t = wall_target("2026-12-01 14:30");
        let len = content.len() as u64;
        assert_eq!(
            find(&f, len, &t, HINT, 3 * TAIL_BLOCK as u64, &mut |_| true)
                .unwrap()
                .unwrap()
                .0,
            Since::Limit(0)
        );
        assert_eq!(
            find(&f, len, &t, HINT, u64::MAX, &mut |_| true)
                .unwrap()
                .unwrap()
                .0,
            Since::At(len - 22)
        );
    }

    #[test]
    fn a_search_stops_within_one_block_of_being_told() {
        let mut content = b"2026-12-01 14:00:00 a\n".to_vec();
        for _ in 0..50_000 {
            content.extend_from_slice(b"  continuation without a time\n");
        }
        content.extend_from_slice(b"2026-12-01 15:00:00 b\n");
        let f = Mem {
            bytes: content.clone(),
            reads: Cell::new(0),
        };
        let t = wall_target("2026-12-01 14:30");
        let mut calls = 0;
        let found = find(&f, content.len() as u64, &t, HINT, u64::MAX, &mut |_| {
            calls += 1;
            calls < 3
        })
        .unwrap();
        assert_eq!(found, None);
        assert_eq!(
            (calls, f.reads.get()),
            (3, 3),
            "no block read after the stop"
        );
        let has = |c: &[u8]| {
            let m = Mem {
                bytes: c.to_vec(),
                reads: Cell::new(0),
            };
            has_timestamps(&m, c.len() as u64, HINT).unwrap()
        };
        assert!(has(&content));
        assert!(!has(&vec![b'z'; 3 * TAIL_BLOCK]));
        assert!(!has(b""));
    }

    /// 1 GiB (and smaller) of 64-byte lines one second apart, made up on the
    /// fly; counts the reads.
    struct Synthetic {
        len: u64,
        reads: Cell<u32>,
    }

    const LINE: u64 = 64;

    fn synthetic_line(i: u64) -> Vec<u8> {
        let secs = 1_780_000_000 + i as i64; // 2026-05-28
        let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
        let s = secs.rem_euclid(86_400);
        let mut l = format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z line {i}",
            s / 3600,
            s / 60 % 60,
            s % 60
        )
        .into_bytes();
        l.resize(LINE as usize - 1, b' ');
        l.push(b'\n');
        l
    }

    impl ReadAt for Synthetic {
        fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
            self.reads.set(self.reads.get() + 1);
            let mut line = u64::MAX;
            let mut bytes = Vec::new();
            for (k, b) in buf.iter_mut().enumerate() {
                let at = offset + k as u64;
                if at / LINE != line {
                    line = at / LINE;
                    bytes = synthetic_line(line);
                }
                *b = bytes[(at % LINE) as usize];
            }
            Ok(())
        }
    }

    #[test]
    fn block_reads_grow_with_log_size() {
        let mut reads = Vec::new();
        for shift in [20u32, 24, 27, 30] {
            let len = 1u64 << shift;
            let lines = len / LINE;
            // T = the time of a line two thirds in, and just after the end.
            for (want_line, at_end) in [(lines * 2 / 3, false), (lines, true)] {
                let f = Synthetic {
                    len,
                    reads: Cell::new(0),
                };
                let secs = 1_780_000_000 + want_line as i64;
                let t = Target::Instant(i128::from(secs) * 1_000_000_000);
                let (got, cost) = find(&f, f.len, &t, HINT, u64::MAX, &mut |_| true)
                    .unwrap()
                    .unwrap();
                let want = if at_end { len } else { want_line * LINE };
                assert_eq!(got, Since::At(want), "size 2^{shift}");
                assert_eq!(cost.reads, f.reads.get());
                reads.push((shift, f.reads.get()));
            }
        }
        eprintln!("block reads by log2(size): {reads:?}");
        let max_at = |s: u32| {
            reads
                .iter()
                .filter(|r| r.0 == s)
                .map(|r| r.1)
                .max()
                .unwrap()
        };
        assert!(max_at(30) <= 64, "{reads:?}");
        // 1024 times the size costs about log2(1024) = 10 probes more, not
        // 1024 times the reads.
        assert!(max_at(30) <= max_at(20) + 2 * 10 + 2, "{reads:?}");
    }
}
