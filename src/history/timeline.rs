//! `?timeline`: a log's volume over time, found by binary search at the
//! bucket edges and never by reading the log. For N buckets between T1 and
//! T2 the N + 1 edges are searched in every file of the chain as `since=`
//! searches them (`since::find`: the first line at or after the edge, a
//! line without a timestamp belonging to the line before it); the bytes
//! between two edges' offsets are the bucket's bytes, exact to a line
//! boundary. Lines are estimated from the mean line length of the blocks
//! the searches read. The cost is at most about (N + 1) × log2(size ÷
//! block) block reads per file, whatever the log's size.

use std::cell::Cell;
use std::io;

use crate::history::since::{self, Since};
use crate::history::timestamp::{STAMP_HEAD, Target, YearHint, civil_from_days, line_time};
use crate::history::window::ReadAt;
use crate::limits::TIMELINE_BLOCK;

/// One file of the chain to count: its bytes, and the hint its year-less
/// timestamps take their year from.
pub struct Part<'a, F: ReadAt> {
    pub file: &'a F,
    pub len: u64,
    pub hint: YearHint,
}

/// What the searches over one file found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Counts {
    /// Bytes per bucket, exact to a line boundary.
    pub bytes: Vec<u64>,
    /// Newlines and bytes in the blocks the searches read: the mean line
    /// length that estimates the lines.
    pub sampled_lines: u64,
    pub sampled_bytes: u64,
    /// Block reads made.
    pub reads: u64,
    /// The scan limit cut a search short (its edge is then the last line
    /// seen before it).
    pub limit: bool,
    /// No timestamp recognised in this file.
    pub no_timestamps: bool,
}

impl Counts {
    fn new(buckets: usize) -> Counts {
        Counts {
            bytes: vec![0; buckets],
            ..Counts::default()
        }
    }

    /// Adds another file's counts (the chain's files add up).
    pub fn add(&mut self, other: &Counts) {
        for (a, b) in self.bytes.iter_mut().zip(&other.bytes) {
            *a += b;
        }
        self.sampled_lines += other.sampled_lines;
        self.sampled_bytes += other.sampled_bytes;
        self.reads += other.reads;
        self.limit |= other.limit;
    }

    /// Lines per bucket, estimated from the mean line length of the blocks
    /// read (0 where the bucket holds no byte, at least 1 where it holds
    /// some).
    pub fn lines(&self) -> Vec<u64> {
        let mean = if self.sampled_lines == 0 {
            None
        } else {
            Some(self.sampled_bytes as f64 / self.sampled_lines as f64)
        };
        self.bytes
            .iter()
            .map(|&b| match (b, mean) {
                (0, _) => 0,
                (b, Some(m)) if m > 0.0 => ((b as f64 / m).round() as u64).max(1),
                _ => 1,
            })
            .collect()
    }
}

/// The N + 1 edges of N buckets from `from` to `to` (nanoseconds since
/// 1970 UTC): edge k is from + (to − from)·k / N.
pub fn edges(from: i128, to: i128, buckets: usize) -> Vec<i128> {
    let n = buckets.max(1) as i128;
    (0..=n).map(|k| from + (to - from) * k / n).collect()
}

/// Counts one file's bytes per bucket between consecutive `edges`.
/// `budget` is the bytes the searches may still read (the scan limit, shared
/// by the files of one request); `go_on` is called after every block read
/// and stops the work when it returns false (`Ok(None)`: the client left).
pub fn count<F: ReadAt>(
    part: &Part<'_, F>,
    edges: &[i128],
    budget: &mut u64,
    go_on: &mut dyn FnMut(u64) -> bool,
) -> io::Result<Option<Counts>> {
    let buckets = edges.len().saturating_sub(1);
    let mut counts = Counts::new(buckets);
    if part.len == 0 || buckets == 0 {
        return Ok(Some(counts));
    }
    let sampled = Sampling {
        inner: part.file,
        reads: Cell::new(0),
        bytes: Cell::new(0),
        newlines: Cell::new(0),
    };
    // An edge at or before the file's first timestamp is at 0, one after
    // its last is at its end: only the edges inside its span are searched
    // (a chain's file spans a few of a timeline's buckets).
    let span = span(&sampled, part.len, part.hint)?;
    let mut offsets = Vec::with_capacity(edges.len());
    for &edge in edges {
        let known = match span {
            Some((first, _)) if edge <= first => Some(0),
            Some((_, last)) if edge > last => Some(part.len),
            _ => None,
        };
        if let Some(at) = known {
            let prev = offsets.last().copied().unwrap_or(0);
            offsets.push(at.max(prev));
            continue;
        }
        let target = Target::Instant(edge);
        let Some((found, cost)) = since::find_with_block(
            &sampled,
            part.len,
            &target,
            part.hint,
            *budget,
            TIMELINE_BLOCK,
            go_on,
        )?
        else {
            return Ok(None);
        };
        *budget = budget.saturating_sub(cost.bytes);
        let at = match found {
            Since::At(at) => at,
            Since::Limit(at) => {
                counts.limit = true;
                at
            }
            Since::NoTimestamps => {
                counts.no_timestamps = true;
                return Ok(Some(counts));
            }
        };
        // The edges rise, so must their offsets (a file whose timestamps
        // go back now and then is still counted once per byte).
        let prev = offsets.last().copied().unwrap_or(0);
        offsets.push(at.max(prev));
    }
    for (k, w) in offsets.windows(2).enumerate() {
        counts.bytes[k] = w[1] - w[0];
    }
    counts.reads = sampled.reads.get();
    counts.sampled_bytes = sampled.bytes.get();
    counts.sampled_lines = sampled.newlines.get();
    Ok(Some(counts))
}

/// The instants of the first timestamp in the file's first block and of
/// the last one in its last block (two reads); `None` when either has none.
fn span<F: ReadAt>(file: &F, len: u64, hint: YearHint) -> io::Result<Option<(i128, i128)>> {
    let block = (TIMELINE_BLOCK.max(STAMP_HEAD) as u64).min(len);
    let mut buf = vec![0u8; block as usize];
    file.read_exact_at(&mut buf, 0)?;
    let stamp = |line: &[u8]| line_time(&line[..line.len().min(STAMP_HEAD)], &hint);
    let Some(first) = buf.split(|&b| b == b'\n').find_map(stamp) else {
        return Ok(None);
    };
    file.read_exact_at(&mut buf, len - block)?;
    // The block's first line may be cut: it is not judged, unless the block
    // is the whole file.
    let whole = if block == len {
        &buf[..]
    } else {
        buf.iter()
            .position(|&b| b == b'\n')
            .map_or(&[][..], |k| &buf[k + 1..])
    };
    let Some(last) = whole.rsplit(|&b| b == b'\n').find_map(stamp) else {
        return Ok(None);
    };
    Ok(Some((first.instant(), last.instant())))
}

/// A reader that counts the reads and the newlines in what it read.
struct Sampling<'a, F: ReadAt> {
    inner: &'a F,
    reads: Cell<u64>,
    bytes: Cell<u64>,
    newlines: Cell<u64>,
}

impl<F: ReadAt> ReadAt for Sampling<'_, F> {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        self.inner.read_exact_at(buf, offset)?;
        self.reads.set(self.reads.get() + 1);
        self.bytes.set(self.bytes.get() + buf.len() as u64);
        let nl = buf.iter().filter(|&&b| b == b'\n').count() as u64;
        self.newlines.set(self.newlines.get() + nl);
        Ok(())
    }
}

/// An instant (nanoseconds since 1970 UTC) in RFC 3339 UTC, with the
/// fraction only when it is not whole seconds (`2026-12-01T14:02:03Z`,
/// `2026-12-01T14:02:03.5Z`).
pub fn rfc3339(ns: i128) -> String {
    let secs = ns.div_euclid(1_000_000_000);
    let frac = ns.rem_euclid(1_000_000_000);
    let days = secs.div_euclid(86_400) as i64;
    let tod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let mut s = format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        tod / 3600,
        tod % 3600 / 60,
        tod % 60
    );
    if frac != 0 {
        let f = format!("{frac:09}");
        s.push('.');
        s.push_str(f.trim_end_matches('0'));
    }
    s.push('Z');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file in memory.
    struct Mem(Vec<u8>);

    impl ReadAt for Mem {
        fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
            let at = offset as usize;
            let src = self
                .0
                .get(at..at + buf.len())
                .ok_or(io::ErrorKind::UnexpectedEof)?;
            buf.copy_from_slice(src);
            Ok(())
        }
    }

    const HINT: YearHint = YearHint::at(2026, 12, 31, 0);
    const SEC: i128 = 1_000_000_000;
    /// 2026-12-01T00:00:00Z.
    const DAY: i128 = 1_796_083_200 * SEC;

    fn line(t: i128, text: &str) -> String {
        let secs = t / SEC;
        let tod = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(secs.div_euclid(86_400) as i64);
        format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z {text}\n",
            tod / 3600,
            tod % 3600 / 60,
            tod % 60
        )
    }

    #[test]
    fn rfc3339_writes_utc() {
        assert_eq!(rfc3339(DAY), "2026-12-01T00:00:00Z");
        assert_eq!(
            rfc3339(DAY + 14 * 3600 * SEC + 2 * 60 * SEC + 3 * SEC + SEC / 2),
            "2026-12-01T14:02:03.5Z"
        );
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn edges_split_the_range_evenly() {
        assert_eq!(edges(0, 100, 4), vec![0, 25, 50, 75, 100]);
        assert_eq!(edges(10, 13, 3), vec![10, 11, 12, 13]);
    }

    /// Bursts and a silent hour: every bucket holds exactly the bytes of
    /// the lines stamped in it, continuation lines with their line.
    #[test]
    fn buckets_hold_exactly_their_lines() {
        let mut text = String::new();
        let mut want = [0u64; 4];
        // Hour 0: 100 lines; hour 1: silent; hour 2: 500 lines with a
        // continuation line each; hour 3: 7 lines.
        for i in 0..100 {
            let l = line(DAY + i * 30 * SEC, "first hour");
            want[0] += l.len() as u64;
            text.push_str(&l);
        }
        for i in 0..500 {
            let l = line(DAY + 2 * 3600 * SEC + i * 7 * SEC, "burst") + "  continuation\n";
            want[2] += l.len() as u64;
            text.push_str(&l);
        }
        for i in 0..7 {
            let l = line(DAY + 3 * 3600 * SEC + i * 500 * SEC, "late");
            want[3] += l.len() as u64;
            text.push_str(&l);
        }
        let file = Mem(text.into_bytes());
        let part = Part {
            file: &file,
            len: file.0.len() as u64,
            hint: HINT,
        };
        let e = edges(DAY, DAY + 4 * 3600 * SEC, 4);
        let mut budget = u64::MAX;
        let c = count(&part, &e, &mut budget, &mut |_| true)
            .unwrap()
            .unwrap();
        assert_eq!(c.bytes, want.to_vec());
        let lines = c.lines();
        assert_eq!(lines[1], 0);
        assert!(
            lines[0] > 0 && lines[2] > lines[0] && lines[3] > 0,
            "{lines:?}"
        );
    }

    /// The searches read a number of blocks that grows with log(size),
    /// never the file: at most about (N + 1) × log2(size ÷ block).
    #[test]
    fn block_reads_grow_with_the_log_of_the_size() {
        let mut text = String::new();
        let mut i = 0;
        while text.len() < 64 << 20 {
            text.push_str(&line(
                DAY + i * SEC,
                "a line of some ordinary length for a log",
            ));
            i += 1;
        }
        let file = Mem(text.into_bytes());
        let len = file.0.len() as u64;
        let part = Part {
            file: &file,
            len,
            hint: HINT,
        };
        let n = 120;
        let e = edges(DAY, DAY + i * SEC, n);
        let mut budget = u64::MAX;
        let c = count(&part, &e, &mut budget, &mut |_| true)
            .unwrap()
            .unwrap();
        let block = TIMELINE_BLOCK as f64;
        let bound = (n as f64 + 1.0) * ((len as f64 / block).log2() + 3.0);
        assert!(
            (c.reads as f64) <= bound,
            "{} reads, bound {bound}",
            c.reads
        );
        assert!(
            c.sampled_bytes < len / 4,
            "read {} of {len} bytes",
            c.sampled_bytes
        );
        assert_eq!(c.bytes.iter().sum::<u64>(), len);
    }

    #[test]
    fn a_file_without_timestamps_says_so() {
        let file = Mem(b"no\ntimes\nhere\n".to_vec());
        let part = Part {
            file: &file,
            len: 14,
            hint: HINT,
        };
        let mut budget = u64::MAX;
        let c = count(&part, &edges(DAY, DAY + SEC, 2), &mut budget, &mut |_| true)
            .unwrap()
            .unwrap();
        assert!(c.no_timestamps);
    }
}
