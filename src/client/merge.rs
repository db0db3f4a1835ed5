//! The order of `wstail tail --merge`, as pure data: each source's lines
//! in a queue in the order they arrived, each with a key — the instant of
//! its timestamp (the server's recognition, `history::timestamp`; a
//! zone-less time taken as UTC), or, for a line without one, the key of
//! the line before it in the same source, so that a traceback stays after
//! its line. The next line is the smallest head by (key, source index):
//! equal times keep the order of the URLs, and a source's own lines are
//! never reordered, whatever their stamps say.
//!
//! Two ways to take lines out. `next_known` is the exact k-way merge of
//! the initial lines: it gives a line only when every source still sending
//! its initial lines has one queued, so the order does not depend on which
//! connection was faster. `next_arrived` is for following: the smallest
//! among what has arrived, never waiting for a source that is quiet.

use std::collections::VecDeque;
use std::time::SystemTime;

use crate::history::timestamp::{YearHint, line_time};

/// A line's place in the merged order: its instant in nanoseconds, or
/// `None` before the source's first timestamp (such lines come first).
pub(super) type Key = Option<i128>;

/// Gives each line of one source its key.
#[derive(Debug)]
pub(super) struct Keyer {
    last: Key,
    /// Syslog's lines carry no year: the current one (or the one before,
    /// for a month later in the year).
    hint: YearHint,
}

impl Keyer {
    pub fn new() -> Keyer {
        Keyer {
            last: None,
            hint: YearHint::from_time(SystemTime::now()),
        }
    }

    /// The key of the next line of the source (with or without its `\n`).
    pub fn key(&mut self, line: &[u8]) -> Key {
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        if let Some(s) = line_time(line, &self.hint) {
            self.last = Some(s.instant());
        }
        self.last
    }
}

/// Whole lines of several sources, waiting for their turn.
#[derive(Debug)]
pub(super) struct Merge {
    queues: Vec<VecDeque<(Key, Vec<u8>)>>,
    /// Per source: more of its initial lines may still come.
    open: Vec<bool>,
}

impl Merge {
    /// `sources` sources, all open.
    pub fn new(sources: usize) -> Merge {
        Merge {
            queues: vec![VecDeque::new(); sources],
            open: vec![true; sources],
        }
    }

    /// A line of `source`, after those it sent before.
    pub fn push(&mut self, source: usize, key: Key, line: Vec<u8>) {
        self.queues[source].push_back((key, line));
    }

    /// `source` has sent all its initial lines (or ended).
    pub fn close(&mut self, source: usize) {
        self.open[source] = false;
    }

    /// A source that `next_known` waits for: still open, nothing queued.
    pub fn waiting_on(&self) -> Option<usize> {
        (0..self.queues.len()).find(|&s| self.open[s] && self.queues[s].is_empty())
    }

    /// The next line of the exact merge, once it can be known.
    pub fn next_known(&mut self) -> Option<(usize, Vec<u8>)> {
        if self.waiting_on().is_some() {
            return None;
        }
        self.next_arrived()
    }

    /// The next line among those that have arrived.
    pub fn next_arrived(&mut self) -> Option<(usize, Vec<u8>)> {
        let source = (0..self.queues.len())
            .filter_map(|s| self.queues[s].front().map(|(k, _)| (*k, s)))
            .min()?
            .1;
        self.queues[source].pop_front().map(|(_, l)| (source, l))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keys the lines of each source (as `Keyer` does) and merges them all:
    /// the lines as `"K:line"`, K the source.
    fn merged(sources: &[&[&str]]) -> Vec<String> {
        let mut m = Merge::new(sources.len());
        for (s, lines) in sources.iter().enumerate() {
            let mut keyer = Keyer::new();
            for l in *lines {
                m.push(s, keyer.key(l.as_bytes()), l.as_bytes().to_vec());
            }
            m.close(s);
        }
        std::iter::from_fn(|| m.next_known())
            .map(|(s, l)| format!("{s}:{}", String::from_utf8_lossy(&l)))
            .collect()
    }

    #[test]
    fn lines_in_time_order_ties_by_source() {
        let a: &[&str] = &["2026-12-01T10:00:01Z a1", "2026-12-01T10:00:03Z a3"];
        let b: &[&str] = &["2026-12-01T10:00:02Z b2", "2026-12-01T10:00:03Z b3"];
        assert_eq!(
            merged(&[a, b]),
            [
                "0:2026-12-01T10:00:01Z a1",
                "1:2026-12-01T10:00:02Z b2",
                "0:2026-12-01T10:00:03Z a3",
                "1:2026-12-01T10:00:03Z b3",
            ]
        );
        // The other URL order: the tie goes the other way.
        assert_eq!(
            merged(&[b, a]),
            [
                "1:2026-12-01T10:00:01Z a1",
                "0:2026-12-01T10:00:02Z b2",
                "0:2026-12-01T10:00:03Z b3",
                "1:2026-12-01T10:00:03Z a3",
            ]
        );
    }

    #[test]
    fn formats_and_zones_compare_as_instants() {
        // 10:00:02 UTC written four ways, and syslog (no zone: UTC).
        let app: &[&str] = &["2026-12-01 11:00:01,500+01:00 app"];
        let nginx: &[&str] = &[
            "1.2.3.4 - - [01/Dec/2026:10:00:02 +0000] \"GET / HTTP/1.1\" 200",
            "2026/12/01 10:00:03 [error] 7#7: boom",
        ];
        let zoned: &[&str] = &["2026-12-01T05:00:00.5-05:00 zoned\n"];
        let out = merged(&[app, nginx, zoned]);
        assert_eq!(
            out,
            [
                "2:2026-12-01T05:00:00.5-05:00 zoned\n",
                "0:2026-12-01 11:00:01,500+01:00 app",
                "1:1.2.3.4 - - [01/Dec/2026:10:00:02 +0000] \"GET / HTTP/1.1\" 200",
                "1:2026/12/01 10:00:03 [error] 7#7: boom",
            ]
        );
    }

    #[test]
    fn json_lines_with_their_newline() {
        let json: &[&str] = &["{\"time\":\"2026-12-01T10:00:02.5Z\",\"msg\":\"j\"}\n"];
        let text: &[&str] = &["2026-12-01T10:00:02Z t2\n", "2026-12-01T10:00:03Z t3\n"];
        assert_eq!(
            merged(&[text, json]),
            [
                "0:2026-12-01T10:00:02Z t2\n",
                "1:{\"time\":\"2026-12-01T10:00:02.5Z\",\"msg\":\"j\"}\n",
                "0:2026-12-01T10:00:03Z t3\n",
            ]
        );
    }

    #[test]
    fn continuation_lines_stay_after_their_line() {
        let app: &[&str] = &[
            "2026-12-01T10:00:02Z ERROR failed",
            "Traceback (most recent call last):",
            "  File \"app.py\", line 3",
            "ValueError: x",
            "2026-12-01T10:00:04Z INFO on",
        ];
        // Same second as the error, later in the URL list: after the
        // whole traceback; earlier in the list: before the error.
        let web: &[&str] = &["2026-12-01T10:00:02Z web", "2026-12-01T10:00:03Z web3"];
        assert_eq!(
            merged(&[app, web]),
            [
                "0:2026-12-01T10:00:02Z ERROR failed",
                "0:Traceback (most recent call last):",
                "0:  File \"app.py\", line 3",
                "0:ValueError: x",
                "1:2026-12-01T10:00:02Z web",
                "1:2026-12-01T10:00:03Z web3",
                "0:2026-12-01T10:00:04Z INFO on",
            ]
        );
        assert_eq!(
            merged(&[web, app])[..3],
            [
                "0:2026-12-01T10:00:02Z web",
                "1:2026-12-01T10:00:02Z ERROR failed",
                "1:Traceback (most recent call last):",
            ]
        );
    }

    #[test]
    fn a_sources_own_order_is_kept_and_unstamped_heads_come_first() {
        // a's clock goes back: its lines keep their order all the same.
        let a: &[&str] = &["2026-12-01T10:00:05Z a5", "2026-12-01T10:00:01Z a1"];
        let b: &[&str] = &["banner without a time", "2026-12-01T10:00:03Z b3"];
        assert_eq!(
            merged(&[a, b]),
            [
                "1:banner without a time",
                "1:2026-12-01T10:00:03Z b3",
                "0:2026-12-01T10:00:05Z a5",
                "0:2026-12-01T10:00:01Z a1",
            ]
        );
    }

    #[test]
    fn the_exact_merge_waits_for_every_open_source() {
        let mut m = Merge::new(3);
        let t = |s: &str| Some(s.parse::<i128>().unwrap());
        m.push(0, t("5"), b"a5".to_vec());
        m.push(0, t("9"), b"a9".to_vec());
        assert_eq!(m.waiting_on(), Some(1));
        assert_eq!(m.next_known(), None);
        m.push(1, t("7"), b"b7".to_vec());
        // Source 2 may still send an earlier line.
        assert_eq!(m.waiting_on(), Some(2));
        assert_eq!(m.next_known(), None);
        m.close(2);
        assert_eq!(m.next_known(), Some((0, b"a5".to_vec())));
        assert_eq!(m.next_known(), Some((1, b"b7".to_vec())));
        // Source 1 is open and empty again: a9 must wait.
        assert_eq!(m.next_known(), None);
        // Following: what has arrived goes out without waiting.
        assert_eq!(m.next_arrived(), Some((0, b"a9".to_vec())));
        assert_eq!(m.next_arrived(), None);
    }
}
