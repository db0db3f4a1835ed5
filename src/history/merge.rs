//! Several files as one timeline: the order of a merged view. A line's
//! place is its key — its timestamp's instant (a zone-less time taken as
//! UTC), or, for a line without one (a stack trace, a continuation line),
//! the time of the stamped line before it in its own file — then its
//! file's index in the `merge=` list, then its place in its file. The
//! merged sequence is the k-way merge of the files by that key: a line
//! never passes the lines before it in its own file, and equal times keep
//! the list's order.
//!
//! The last N lines of the merged sequence are found backwards, as for one
//! file (`window.rs`): each file is read back from its end in blocks, record
//! by record (a stamped line with the continuation lines after it), and
//! the record with the latest key is taken first, until N lines are taken —
//! a cost that grows with N, not with the files' sizes. Only offsets are
//! computed here; the bytes flow through the follow loop
//! (`follow/merged.rs`), which sends them in the same order.

use std::cell::Cell;
use std::collections::VecDeque;
use std::io;

use crate::encode::filter::{Filter, MAX_JUDGED_LINE};
use crate::history::timestamp::{self, YearHint};
use crate::history::window::ReadAt;
use crate::limits::TAIL_BLOCK;

/// The time of a line before the first stamped line of what was read (a
/// preamble): it goes before every stamped line.
pub(crate) const NO_TIME: i128 = i128::MIN;

/// A line's head, as much as the timestamp forms look at (a JSON line's
/// keys within its first 4 KiB).
pub(crate) const STAMP_READ: usize = timestamp::STAMP_HEAD;

/// A line's place in the merged order: its time, then its file's index in
/// the list (the place in its own file is the order lines are taken in).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Key {
    pub time: i128,
    pub source: usize,
}

/// The instant of a line's timestamp (zone-less taken as UTC), if it has
/// one it is recognised by.
pub fn line_time(line: &[u8], hint: YearHint) -> Option<i128> {
    timestamp::line_time(line, &hint).map(|s| s.instant())
}

/// Of the next lines of several files (`None`: the file has no line to
/// offer now), the one that comes first: the smallest key.
pub fn first(keys: &[Option<i128>]) -> Option<usize> {
    keys.iter()
        .enumerate()
        .filter_map(|(source, t)| t.map(|time| Key { time, source }))
        .min()
        .map(|k| k.source)
}

/// Why a backward read stopped.
#[derive(Debug)]
pub(crate) enum Stop {
    /// The scan limit (`--scan-limit`, shared by every file) is reached.
    Limit,
    Io(io::Error),
}

impl From<io::Error> for Stop {
    fn from(e: io::Error) -> Self {
        Stop::Io(e)
    }
}

/// A stamped line and the lines after it that carry no timestamp, read
/// backwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Record {
    /// Its time (`NO_TIME` for lines before a file's first stamped line).
    pub time: i128,
    /// The starts of its kept lines, in file order: at most the last `cap`
    /// of them (the caller never needs more).
    pub lines: Vec<u64>,
    /// Where the record starts.
    pub start: u64,
}

/// A file's lines read backwards from a line boundary, in blocks of
/// `TAIL_BLOCK` bytes; a line longer than `MAX_JUDGED_LINE` is judged by its
/// head, read apart.
pub(crate) struct Backward<'a, R: ReadAt> {
    file: &'a R,
    hint: YearHint,
    /// What is still unread ends here (a line boundary).
    top: u64,
    /// The bytes `[buf_at, top)`, or a block of them.
    buf: Vec<u8>,
    buf_at: u64,
    line: Vec<u8>,
}

impl<'a, R: ReadAt> Backward<'a, R> {
    /// Lines ending at or before `top`, which must be a line boundary (0,
    /// just after a `\n`, or the end of what is read).
    pub fn new(file: &'a R, top: u64, hint: YearHint) -> Self {
        Backward {
            file,
            hint,
            top,
            buf: Vec::new(),
            buf_at: top,
            line: Vec::new(),
        }
    }

    /// The start of the line before `top` (its bytes, at most
    /// `MAX_JUDGED_LINE`, in `self.line`), or `None` at the file's start.
    /// `budget` counts the bytes every file may still read.
    fn prev_line(&mut self, budget: &Cell<u64>) -> Result<Option<u64>, Stop> {
        if self.top == 0 {
            return Ok(None);
        }
        // The line's own newline (at top - 1) is not its start's marker.
        let mut search_end = self.top - 1;
        let mut long = false;
        let start = loop {
            let hi = search_end.saturating_sub(self.buf_at) as usize;
            if let Some(j) = self.buf[..hi.min(self.buf.len())]
                .iter()
                .rposition(|&b| b == b'\n')
            {
                break self.buf_at + j as u64 + 1;
            }
            if self.buf_at == 0 {
                break 0;
            }
            let n = (TAIL_BLOCK as u64).min(self.buf_at);
            if budget.get() < n {
                return Err(Stop::Limit);
            }
            budget.set(budget.get() - n);
            let at = self.buf_at - n;
            let mut block = vec![0u8; n as usize];
            self.file.read_exact_at(&mut block, at)?;
            if self.buf.len() >= MAX_JUDGED_LINE {
                // A long line: its bytes are not kept, only its start
                // looked for; its head is read apart below.
                long = true;
                search_end = self.buf_at;
                self.buf = block;
            } else {
                block.extend_from_slice(&self.buf);
                self.buf = block;
            }
            self.buf_at = at;
        };
        self.line.clear();
        if long {
            let n = ((self.top - start) as usize).min(MAX_JUDGED_LINE);
            self.line.resize(n, 0);
            self.file.read_exact_at(&mut self.line, start)?;
        } else {
            let from = (start - self.buf_at) as usize;
            let to = ((self.top - self.buf_at) as usize).min(self.buf.len());
            let to = to.min(from + MAX_JUDGED_LINE);
            self.line.extend_from_slice(&self.buf[from..to]);
        }
        self.buf.truncate((start - self.buf_at) as usize);
        self.top = start;
        Ok(Some(start))
    }

    /// The record before `top`: the lines up to and including the nearest
    /// stamped one, of which the last `cap` kept ones are listed. `None`
    /// when nothing is left.
    pub(crate) fn prev_record(
        &mut self,
        cap: usize,
        filter: &Filter,
        budget: &Cell<u64>,
    ) -> Result<Option<Record>, Stop> {
        let mut lines = VecDeque::new();
        let mut seen = false;
        while let Some(start) = self.prev_line(budget)? {
            seen = true;
            let body = self.line.strip_suffix(b"\n").unwrap_or(&self.line);
            if filter.keep(body) && lines.len() < cap {
                lines.push_front(start);
            }
            if let Some(time) = line_time(body, self.hint) {
                return Ok(Some(Record {
                    time,
                    lines: lines.into(),
                    start,
                }));
            }
        }
        Ok(seen.then(|| Record {
            time: NO_TIME,
            lines: lines.into(),
            start: 0,
        }))
    }
}

/// One file of a backward selection: its bytes up to `end` (a line
/// boundary, or its size), and the year its syslog stamps take.
pub struct Tail<'a, R: ReadAt> {
    pub file: &'a R,
    pub end: u64,
    pub hint: YearHint,
}

/// Where each file's part of the last `n` merged lines (kept lines, with a
/// filter) ending at each file's `end` starts (its `end` when it has none),
/// reading at most `limit` bytes in all; true when the limit stopped the
/// search before `n` lines were found.
pub fn last_lines<R: ReadAt>(
    files: &[Tail<'_, R>],
    n: usize,
    filter: &Filter,
    limit: u64,
) -> io::Result<(Vec<u64>, bool)> {
    let budget = Cell::new(limit);
    let mut starts: Vec<u64> = files.iter().map(|f| f.end).collect();
    let mut backs: Vec<Backward<R>> = files
        .iter()
        .map(|f| Backward::new(f.file, f.end, f.hint))
        .collect();
    let mut heads = Vec::with_capacity(files.len());
    let mut left = n;
    if left == 0 {
        return Ok((starts, false));
    }
    for b in &mut backs {
        match b.prev_record(left, filter, &budget) {
            Ok(r) => heads.push(r),
            Err(Stop::Limit) => return Ok((starts, true)),
            Err(Stop::Io(e)) => return Err(e),
        }
    }
    loop {
        // The latest record of all: the last in the merged order.
        let latest = heads
            .iter()
            .enumerate()
            .filter_map(|(source, r)| {
                r.as_ref().map(|r| Key {
                    time: r.time,
                    source,
                })
            })
            .max();
        let Some(Key { source: i, .. }) = latest else {
            return Ok((starts, false));
        };
        let Some(rec) = heads[i].take() else {
            return Ok((starts, false));
        };
        let take = left.min(rec.lines.len());
        if take > 0 {
            starts[i] = rec.lines[rec.lines.len() - take];
            left -= take;
        }
        if left == 0 {
            return Ok((starts, false));
        }
        match backs[i].prev_record(left, filter, &budget) {
            Ok(r) => heads[i] = r,
            Err(Stop::Limit) => return Ok((starts, true)),
            Err(Stop::Io(e)) => return Err(e),
        }
    }
}

/// The time of the record the line at `at` belongs to: its own timestamp,
/// or the nearest one before it in the file (`NO_TIME` when there is none
/// within `limit` bytes). A merged view that starts mid-record (a resume, a
/// window that cut a stack trace) keys its first lines with it.
pub(crate) fn time_at<R: ReadAt>(file: &R, len: u64, at: u64, hint: YearHint, limit: u64) -> i128 {
    let n = (len.saturating_sub(at) as usize).min(STAMP_READ);
    let mut head = vec![0u8; n];
    if n > 0 && file.read_exact_at(&mut head, at).is_ok() {
        let line = head.split(|&b| b == b'\n').next().unwrap_or(&[]);
        if let Some(t) = line_time(line, hint) {
            return t;
        }
    }
    let budget = Cell::new(limit);
    let keep_all = Filter::new(&[], &[]);
    match Backward::new(file, at, hint).prev_record(0, &keep_all, &budget) {
        Ok(Some(r)) => r.time,
        _ => NO_TIME,
    }
}

/// `at` moved down to a line boundary (0, or just after a `\n`), as
/// `before=` is for one file.
pub(crate) fn line_boundary<R: ReadAt>(file: &R, at: u64) -> io::Result<u64> {
    let mut hi = at;
    while hi > 0 {
        let n = (TAIL_BLOCK as u64).min(hi);
        let mut buf = vec![0u8; n as usize];
        file.read_exact_at(&mut buf, hi - n)?;
        if let Some(p) = buf.iter().rposition(|&b| b == b'\n') {
            return Ok(hi - n + p as u64 + 1);
        }
        hi -= n;
    }
    Ok(0)
}

/// True when a timestamp is recognised in a line of the file's first or
/// last block (as `since=` judges a file); an empty file has nothing to
/// judge and is taken.
pub(crate) fn has_stamps<R: ReadAt>(file: &R, len: u64, hint: YearHint) -> io::Result<bool> {
    if len == 0 {
        return Ok(true);
    }
    let block = (TAIL_BLOCK as u64).min(len);
    for at in [0, len - block] {
        let mut buf = vec![0u8; block as usize];
        file.read_exact_at(&mut buf, at)?;
        // The last block's first line may be cut: skip it unless it starts
        // the file.
        let skip = if at == 0 {
            0
        } else {
            buf.iter()
                .position(|&b| b == b'\n')
                .map_or(buf.len(), |p| p + 1)
        };
        if buf[skip..]
            .split(|&b| b == b'\n')
            .any(|line| line_time(line, hint).is_some())
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The merged order of whole files in memory, line by line: (file, start,
/// end) of each line, `\n` included. The reference the backward selection
/// and the follow loop are tested against.
pub fn merge_all(files: &[&[u8]], hint: YearHint) -> Vec<(usize, usize, usize)> {
    let mut at = vec![0usize; files.len()];
    let mut last = vec![NO_TIME; files.len()];
    let mut out = Vec::new();
    let line_end = |f: &[u8], from: usize| {
        f[from..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(f.len(), |p| from + p + 1)
    };
    loop {
        let keys: Vec<Option<i128>> = files
            .iter()
            .enumerate()
            .map(|(i, f)| {
                (at[i] < f.len()).then(|| {
                    let end = line_end(f, at[i]);
                    line_time(&f[at[i]..end], hint).unwrap_or(last[i])
                })
            })
            .collect();
        let Some(i) = first(&keys) else {
            return out;
        };
        let end = line_end(files[i], at[i]);
        if let Some(t) = keys[i] {
            last[i] = t;
        }
        out.push((i, at[i], end));
        at[i] = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HINT: YearHint = YearHint::at(2026, 12, 31, 0);

    fn stamped(sec: u32, text: &str) -> String {
        format!("2026-12-01T10:{:02}:{:02}Z {text}\n", sec / 60, sec % 60)
    }

    /// Files with increasing times, ties, continuation lines and a
    /// preamble, built from a seed.
    fn files(seed: u64) -> Vec<Vec<u8>> {
        let mut rng = crate::test_rng::Rng(0x9E37_79B9_7F4A_7C15 ^ (seed + 1));
        (0..3)
            .map(|f| {
                let mut s = String::new();
                if rng.below(4) == 0 {
                    s.push_str("preamble without a time\n");
                }
                let mut t = 0;
                for i in 0..rng.below(40) {
                    t += rng.below(3) as u32;
                    s.push_str(&stamped(t, &format!("f{f} line {i}")));
                    for c in 0..rng.below(3) {
                        s.push_str(&format!("  at continuation {c}\n"));
                    }
                }
                if rng.below(3) == 0 {
                    s.push_str(&stamped(t, "unterminated"));
                    s.pop();
                }
                s.into_bytes()
            })
            .collect()
    }

    #[test]
    fn merged_order_keeps_each_file_and_breaks_ties_by_list() {
        let a = format!("{}{}  trace\n", stamped(1, "a1"), stamped(3, "a3"));
        let b = format!("{}{}", stamped(1, "b1"), stamped(2, "b2"));
        let order: Vec<(usize, usize)> = merge_all(&[a.as_bytes(), b.as_bytes()], HINT)
            .into_iter()
            .map(|(f, s, _)| (f, s))
            .collect();
        let a3 = stamped(1, "a1").len();
        let b2 = stamped(1, "b1").len();
        let trace = a3 + stamped(3, "a3").len();
        assert_eq!(order, vec![(0, 0), (1, 0), (1, b2), (0, a3), (0, trace)]);
    }

    #[test]
    fn the_last_lines_backwards_are_the_merged_sequence_s_end() {
        let none = Filter::new(&[], &[]);
        for seed in 0..300 {
            let files = files(seed);
            let slices: Vec<&[u8]> = files.iter().map(Vec::as_slice).collect();
            let all = merge_all(&slices, HINT);
            let tails: Vec<Tail<Vec<u8>>> = files
                .iter()
                .map(|f| Tail {
                    file: f,
                    end: f.len() as u64,
                    hint: HINT,
                })
                .collect();
            for n in [0, 1, 2, 5, 17, 1000] {
                let (starts, limited) = last_lines(&tails, n, &none, u64::MAX).unwrap();
                assert!(!limited);
                let want_from = all.len().saturating_sub(n);
                let mut want: Vec<u64> = files.iter().map(|f| f.len() as u64).collect();
                for &(f, s, _) in all[want_from..].iter().rev() {
                    want[f] = s as u64;
                }
                assert_eq!(starts, want, "seed {seed}, n {n}");
            }
        }
    }

    #[test]
    fn a_filter_counts_kept_lines_and_the_limit_stops_the_search() {
        let a = format!(
            "{}{}{}",
            stamped(1, "x a"),
            stamped(3, "y a"),
            stamped(5, "x a")
        );
        let b = format!("{}{}", stamped(2, "x b"), stamped(4, "y b"));
        let tails = [
            Tail {
                file: &a.clone().into_bytes(),
                end: a.len() as u64,
                hint: HINT,
            },
            Tail {
                file: &b.clone().into_bytes(),
                end: b.len() as u64,
                hint: HINT,
            },
        ];
        let x = Filter::new(&["x".to_string()], &[]);
        let (starts, _) = last_lines(&tails, 2, &x, u64::MAX).unwrap();
        // The last two x lines: a's at 10:00:05 and b's at 10:00:02.
        assert_eq!(starts, vec![2 * stamped(1, "x a").len() as u64, 0]);
        let (_, limited) = last_lines(&tails, 5, &x, 10).unwrap();
        assert!(limited);
    }

    #[test]
    fn long_lines_are_judged_by_their_head() {
        let long = format!("{}\n", "z".repeat(3 * MAX_JUDGED_LINE));
        let f = format!("{}{long}{}", stamped(1, "first"), stamped(2, "last"));
        let bytes = f.clone().into_bytes();
        let none = Filter::new(&[], &[]);
        let budget = Cell::new(u64::MAX);
        let mut back = Backward::new(&bytes, bytes.len() as u64, HINT);
        let last = back.prev_record(10, &none, &budget).unwrap().unwrap();
        assert_eq!(
            last.lines,
            vec![(f.len() - stamped(2, "last").len()) as u64]
        );
        let first = back.prev_record(10, &none, &budget).unwrap().unwrap();
        assert_eq!(first.lines, vec![0, stamped(1, "first").len() as u64]);
        assert_eq!(back.prev_record(10, &none, &budget).unwrap(), None);
    }

    #[test]
    fn time_at_a_continuation_line_is_its_record_s() {
        let f = format!("{}  trace\n{}", stamped(7, "head"), stamped(9, "next"));
        let bytes = f.into_bytes();
        let len = bytes.len() as u64;
        let trace = stamped(7, "head").len() as u64;
        let head = line_time(stamped(7, "x").as_bytes(), HINT).unwrap();
        assert_eq!(time_at(&bytes, len, trace, HINT, u64::MAX), head);
        assert_eq!(time_at(&bytes, len, 0, HINT, u64::MAX), head);
        assert!(has_stamps(&bytes, len, HINT).unwrap());
        assert_eq!(line_boundary(&bytes, len).unwrap(), len);
        assert_eq!(line_boundary(&bytes, len - 1).unwrap(), trace + 8);
        assert_eq!(line_boundary(&bytes, trace + 3).unwrap(), trace);
        assert_eq!(line_boundary(&bytes, 3).unwrap(), 0);
        let plain = b"no time here\n".to_vec();
        assert!(!has_stamps(&plain, plain.len() as u64, HINT).unwrap());
    }
}
