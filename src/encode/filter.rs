//! Server-side line filters (`match=` / `exclude=`): plain substrings, ASCII
//! case-insensitive, no regular expressions (nothing a client sends can make
//! matching slow beyond its length). A line is kept when it contains one of
//! the `match` texts (or there are none) and none of the `exclude` texts; it
//! is judged without its newline, so no text matches across two lines.
//!
//! The search is written for the backward scan over a large file: each text
//! is looked for over a whole block of lines at once (`kept_lines`), by its
//! least common byte, many bytes per step, so a block in which no line is
//! kept costs about one pass over it per text.

/// A line longer than this is judged on its first this-many bytes: the
/// follower sends such a line in pieces and must decide on the first piece.
pub(crate) const MAX_JUDGED_LINE: usize = crate::limits::MAX_MESSAGE_BYTES;

#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// One finder per `match` text that can occur in a line (a text that
    /// holds a newline never does).
    matches: Vec<Finder>,
    /// True when any `match` text was given: a line must then hold one.
    match_required: bool,
    excludes: Vec<Finder>,
}

impl Filter {
    pub fn new(matches: &[String], excludes: &[String]) -> Self {
        let finders = |v: &[String]| -> Vec<Finder> {
            v.iter()
                .map(|s| s.as_bytes())
                .filter(|s| !s.contains(&b'\n'))
                .map(Finder::new)
                .collect()
        };
        Filter {
            matches: finders(matches),
            match_required: !matches.is_empty(),
            excludes: finders(excludes),
        }
    }

    /// True when no line is ever dropped.
    pub fn is_empty(&self) -> bool {
        !self.match_required && self.excludes.is_empty()
    }

    /// Whether a line (with or without its `\n`) is kept. The line is
    /// judged without its `\n`, so that no text matches across lines.
    pub fn keep(&self, line: &[u8]) -> bool {
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        let line = &line[..line.len().min(MAX_JUDGED_LINE)];
        (!self.match_required || self.matches.iter().any(|m| m.find(line).is_some()))
            && !self.excludes.iter().any(|x| x.find(line).is_some())
    }

    /// The kept lines of `region`, which holds whole lines (it starts at a
    /// line start and ends at a line end; a last line without its `\n`
    /// counts): the index of each kept line's start is appended to `out`,
    /// in order. Each text is searched for over the whole region at once,
    /// so a block in which no line is kept costs one search per text.
    pub(crate) fn kept_lines(&self, region: &[u8], out: &mut Vec<usize>) {
        if self.is_empty() {
            push_line_starts(region, 0, region.len(), out);
            return;
        }
        // With match texts, only a line holding one can be kept; without,
        // every line is, but one holding an exclude text.
        let finders = if self.match_required {
            &self.matches
        } else {
            &self.excludes
        };
        // Where each text occurs next, at or after `pos` (None: nowhere).
        let mut next: Vec<Option<usize>> = finders.iter().map(|f| f.find(region)).collect();
        let mut pos = 0;
        while pos < region.len() {
            let mut hit: Option<usize> = None;
            for (k, f) in finders.iter().enumerate() {
                if let Some(at) = next[k]
                    && at < pos
                {
                    next[k] = f.find(&region[pos..]).map(|i| pos + i);
                }
                if let Some(at) = next[k] {
                    hit = Some(hit.map_or(at, |h| h.min(at)));
                }
            }
            let Some(at) = hit else {
                if !self.match_required {
                    push_line_starts(region, pos, region.len(), out);
                }
                return;
            };
            let line_start = region[pos..at]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(pos, |i| pos + i + 1);
            let line_end = region[at..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(region.len(), |i| at + i + 1);
            if !self.match_required {
                // Every line before the one holding an exclude text is kept.
                push_line_starts(region, pos, line_start, out);
            }
            if self.keep(&region[line_start..line_end]) {
                out.push(line_start);
            }
            pos = line_end;
        }
    }
}

/// Appends the start of every line that starts in `region[from..to]`
/// (`from` is a line start).
fn push_line_starts(region: &[u8], from: usize, to: usize, out: &mut Vec<usize>) {
    let mut at = from;
    while at < to {
        out.push(at);
        match region[at..to].iter().position(|&b| b == b'\n') {
            Some(i) => at += i + 1,
            None => break,
        }
    }
}

/// Bytes in roughly falling order of frequency in log text (letters
/// lower-case): the byte of a text that comes last here (or not at all) is
/// the one a search looks for first, as it occurs least often.
const COMMON: &[u8] = b" e0t1a2o:3i-n5s4r.h9l6d7c8u/m=_f,pg\"w[]y()bv'kx>";

/// How common a byte is in logs (higher: more common).
fn commonness(b: u8) -> usize {
    let b = b.to_ascii_lowercase();
    COMMON
        .iter()
        .position(|&c| c == b)
        .map_or(0, |i| COMMON.len() - i)
}

/// Candidate positions judged at once when looking for a text's two rarest
/// bytes: a loop without an early exit over this many, which the compiler
/// turns into vector instructions.
const LANES: usize = 32;

/// One byte of a text as the search compares it: the bit set before
/// comparing (0x20 for a letter, so that both cases compare equal; else 0)
/// and the byte (lower-case).
#[derive(Debug, Clone, Copy)]
struct Probe {
    at: usize,
    fold: u8,
    target: u8,
}

impl Probe {
    fn new(needle: &[u8], at: usize) -> Self {
        let target = needle[at];
        let fold = if target.is_ascii_lowercase() { 0x20 } else { 0 };
        Probe { at, fold, target }
    }

    fn hits(self, b: u8) -> bool {
        (b | self.fold) == self.target
    }
}

/// An ASCII case-insensitive substring search for one text: looks for the
/// text's two least common bytes at their distance (both cases at once),
/// `LANES` candidate positions per step, and compares the whole text only
/// where both occur. When those comparisons cost more than a few per byte
/// (a text of bytes that are everywhere, such as `aaaa…` in a line of
/// `a`s), the rest of the haystack is searched by Knuth–Morris–Pratt, so
/// that no text makes a search slower than linear in the haystack.
#[derive(Debug, Clone)]
struct Finder {
    /// The text, lower-case.
    needle: Vec<u8>,
    /// The rarest byte of the text and the second rarest (the same byte
    /// when the text has one byte); none for the empty text.
    probes: Option<(Probe, Probe)>,
    /// Knuth–Morris–Pratt: for each prefix length `i + 1`, the length of its
    /// longest proper prefix that is also its suffix.
    border: Vec<usize>,
}

/// Bytes compared by the candidate checks, at most, per haystack byte
/// passed (plus `SLACK`), before a search goes over to Knuth–Morris–Pratt.
const WORK_PER_BYTE: usize = 4;
const SLACK: usize = 4096;

impl Finder {
    fn new(text: &[u8]) -> Self {
        let needle = text.to_ascii_lowercase();
        let mut order: Vec<usize> = (0..needle.len()).collect();
        order.sort_by_key(|&i| commonness(needle[i]));
        let probes = match order[..] {
            [] => None,
            [one] => Some((Probe::new(&needle, one), Probe::new(&needle, one))),
            [first, second, ..] => Some((Probe::new(&needle, first), Probe::new(&needle, second))),
        };
        let mut border = vec![0; needle.len()];
        let mut k = 0;
        for i in 1..needle.len() {
            while k > 0 && needle[i] != needle[k] {
                k = border[k - 1];
            }
            if needle[i] == needle[k] {
                k += 1;
            }
            border[i] = k;
        }
        Finder {
            needle,
            probes,
            border,
        }
    }

    /// Where the text first occurs in `hay`, ASCII case aside.
    fn find(&self, hay: &[u8]) -> Option<usize> {
        let Some((p1, p2)) = self.probes else {
            return Some(0);
        };
        let n = self.needle.len();
        if hay.len() < n {
            return None;
        }
        // A match at `s` (for `s` in 0..=hay.len() - n) has the probed
        // bytes at `s + p1.at` and `s + p2.at`.
        let starts = hay.len() - n + 1;
        let one = &hay[p1.at..p1.at + starts];
        let two = &hay[p2.at..p2.at + starts];
        let mut base = 0;
        let mut work = 0;
        for (c1, c2) in one.chunks_exact(LANES).zip(two.chunks_exact(LANES)) {
            let any = c1
                .iter()
                .zip(c2)
                .fold(false, |acc, (&a, &b)| acc | (p1.hits(a) & p2.hits(b)));
            if any {
                if let Some(i) = self.first_match(hay, base, base + LANES, &mut work) {
                    return Some(i);
                }
                if work > WORK_PER_BYTE * base + SLACK {
                    return self.kmp(&hay[base + LANES..]).map(|i| i + base + LANES);
                }
            }
            base += LANES;
        }
        self.first_match(hay, base, starts, &mut work)
    }

    /// The first match starting in `from..to` whose probed bytes are right;
    /// the bytes compared are added to `work`.
    fn first_match(&self, hay: &[u8], from: usize, to: usize, work: &mut usize) -> Option<usize> {
        let (p1, p2) = self.probes?;
        (from..to).find(|&s| {
            if !(p1.hits(hay[s + p1.at]) && p2.hits(hay[s + p2.at])) {
                return false;
            }
            let same = hay[s..s + self.needle.len()]
                .iter()
                .zip(&self.needle)
                .take_while(|(h, n)| h.to_ascii_lowercase() == **n)
                .count();
            *work += same + 1;
            same == self.needle.len()
        })
    }

    /// Knuth–Morris–Pratt over `hay`, ASCII case aside: linear in
    /// `hay.len()` whatever the text.
    fn kmp(&self, hay: &[u8]) -> Option<usize> {
        let n = self.needle.len();
        let mut k = 0;
        for (i, &b) in hay.iter().enumerate() {
            let b = b.to_ascii_lowercase();
            while k > 0 && b != self.needle[k] {
                k = self.border[k - 1];
            }
            if b == self.needle[k] {
                k += 1;
                if k == n {
                    return Some(i + 1 - n);
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_rng::Rng;

    fn f(m: &[&str], x: &[&str]) -> Filter {
        let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        Filter::new(&s(m), &s(x))
    }

    #[test]
    fn substring_case_insensitive() {
        let e = f(&["error"], &[]);
        assert!(e.keep(b"2026 ERROR disk full\n"));
        assert!(e.keep(b"error"));
        assert!(!e.keep(b"2026 INFO ok\n"));
        assert!(!e.keep(b"err"));
        assert!(f(&[], &[]).keep(b"anything"));
        assert!(f(&[], &[]).is_empty());
    }

    #[test]
    fn match_any_exclude_all() {
        let m = f(&["warn", "error"], &["healthcheck"]);
        assert!(m.keep(b"WARN low disk"));
        assert!(m.keep(b"Error: x"));
        assert!(!m.keep(b"error in HealthCheck"));
        assert!(!m.keep(b"info"));
        let x = f(&[], &["debug"]);
        assert!(x.keep(b"info"));
        assert!(!x.keep(b"DEBUG x"));
    }

    #[test]
    fn nothing_matches_across_the_line_end() {
        assert!(!f(&["r\n"], &[]).keep(b"error\n"));
        assert!(f(&[], &["r\n"]).keep(b"error\n"));
        assert!(f(&["error"], &[]).keep(b"error\n"));
    }

    #[test]
    fn non_ascii_is_compared_exactly() {
        let m = f(&["é"], &[]);
        assert!(m.keep("café".as_bytes()));
        assert!(!m.keep("CAFÉ".as_bytes()));
    }

    /// Bytes from a small alphabet (so that texts do occur), with both
    /// cases, a newline, a non-ASCII byte and bytes one bit away from
    /// letters (`@`, `[`, 0xC1), which a wrong case fold would match.
    fn random_bytes(rng: &mut Rng, max: usize) -> Vec<u8> {
        let n = rng.below(max + 1);
        const ALPHABET: &[u8] = b"abAB\n @[\xc1e";
        (0..n)
            .map(|_| ALPHABET[rng.below(ALPHABET.len())])
            .collect()
    }

    /// The obvious search, for comparison.
    fn naive_find(hay: &[u8], needle: &[u8]) -> Option<usize> {
        if needle.is_empty() {
            return Some(0);
        }
        hay.windows(needle.len())
            .position(|w| w.eq_ignore_ascii_case(needle))
    }

    #[test]
    fn find_agrees_with_the_naive_search() {
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        for _ in 0..20_000 {
            let hay = random_bytes(&mut rng, 150);
            let needle = random_bytes(&mut rng, 4);
            let f = Finder::new(&needle);
            assert_eq!(
                f.find(&hay),
                naive_find(&hay, &needle),
                "hay {hay:?} needle {needle:?}"
            );
        }
        // Long haystacks: the vector loop, its remainder, a match in each.
        for len in [31, 32, 33, 63, 64, 65, 200] {
            for at in 0..len - 3 {
                let mut hay = vec![b'.'; len];
                hay[at..at + 3].copy_from_slice(b"XyZ");
                assert_eq!(Finder::new(b"xYz").find(&hay), Some(at));
                assert_eq!(Finder::new(b"xYz?").find(&hay), None);
            }
        }
    }

    #[test]
    fn kmp_agrees_with_the_naive_search() {
        let mut rng = Rng(0x1234_5678_9abc_def1);
        for _ in 0..20_000 {
            let hay = random_bytes(&mut rng, 100);
            let needle = random_bytes(&mut rng, 5);
            if needle.is_empty() {
                continue;
            }
            let f = Finder::new(&needle);
            assert_eq!(f.kmp(&hay), naive_find(&hay, &needle), "{hay:?} {needle:?}");
        }
    }

    /// A text of bytes that are everywhere costs a linear search: the
    /// candidate checks give way to Knuth–Morris–Pratt.
    #[test]
    fn a_text_of_common_bytes_does_not_make_the_search_quadratic() {
        let mut hay = vec![b'a'; 1 << 20];
        let f = Finder::new(&[b'A'; 256]);
        let mut work = 0;
        // The candidate checks alone would compare 256 bytes per position.
        assert_eq!(f.first_match(&hay, 0, 64, &mut work), Some(0));
        assert!(work >= 256);
        let f = Finder::new(&[b'a'; 257]);
        hay.iter_mut().step_by(200).for_each(|b| *b = b'\n');
        let t = std::time::Instant::now();
        assert_eq!(f.find(&hay), None);
        let at = hay.len() - 1000;
        hay[at..at + 300].copy_from_slice(&[b'A'; 300]);
        // The run of `a`s that holds the text starts after the newline before.
        let run = hay[..at].iter().rposition(|&b| b == b'\n').unwrap() + 1;
        assert_eq!(f.find(&hay), Some(run));
        // 1 MiB × 200 byte comparisons would take far longer than this
        // even in a debug build; the linear search takes milliseconds.
        assert!(t.elapsed() < std::time::Duration::from_secs(2));
    }

    /// The kept lines of a region, the slow obvious way.
    fn naive_kept(filter: &Filter, region: &[u8]) -> Vec<usize> {
        let mut out = Vec::new();
        let mut at = 0;
        for line in region.split_inclusive(|&b| b == b'\n') {
            if filter.keep(line) {
                out.push(at);
            }
            at += line.len();
        }
        out
    }

    #[test]
    fn kept_lines_agrees_with_judging_each_line() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..5_000 {
            let region = random_bytes(&mut rng, 300);
            let texts = |rng: &mut Rng| -> Vec<String> {
                (0..rng.below(3))
                    .map(|_| String::from_utf8_lossy(&random_bytes(rng, 3)).into_owned())
                    .collect()
            };
            let (m, x) = (texts(&mut rng), texts(&mut rng));
            let filter = Filter::new(&m, &x);
            let mut got = Vec::new();
            filter.kept_lines(&region, &mut got);
            assert_eq!(
                got,
                naive_kept(&filter, &region),
                "region {region:?} match {m:?} exclude {x:?}"
            );
        }
    }

    #[test]
    fn a_long_line_is_judged_on_its_head() {
        let mut line = vec![b'x'; MAX_JUDGED_LINE + 10];
        line[MAX_JUDGED_LINE + 2..MAX_JUDGED_LINE + 5].copy_from_slice(b"err");
        line.push(b'\n');
        let mut region = b"err\n".to_vec();
        region.extend_from_slice(&line);
        region.extend_from_slice(b"ok err\n");
        let mut got = Vec::new();
        f(&["err"], &[]).kept_lines(&region, &mut got);
        assert_eq!(got, vec![0, 4 + line.len()]);
        got.clear();
        f(&[], &["err"]).kept_lines(&region, &mut got);
        assert_eq!(got, vec![4]);
    }
}
