//! Server-side line filters (`match=` / `exclude=`): plain substrings, ASCII
//! case-insensitive, no regular expressions (nothing a client sends can make
//! matching slow beyond its length). A line is kept when it contains one of
//! the `match` texts (or there are none) and none of the `exclude` texts; it
//! is judged without its newline, so no text matches across two lines.

/// A line longer than this is judged on its first this-many bytes: the
/// follower sends such a line in pieces and must decide on the first piece.
pub const MAX_JUDGED_LINE: usize = crate::limits::MAX_MESSAGE_BYTES;

#[derive(Debug, Clone, Default)]
pub struct Filter {
    matches: Vec<Vec<u8>>,
    excludes: Vec<Vec<u8>>,
}

impl Filter {
    pub fn new(matches: &[String], excludes: &[String]) -> Self {
        let lower = |v: &[String]| -> Vec<Vec<u8>> {
            v.iter()
                .map(|s| s.as_bytes().to_ascii_lowercase())
                .collect()
        };
        Filter {
            matches: lower(matches),
            excludes: lower(excludes),
        }
    }

    /// True when no line is ever dropped.
    pub fn is_empty(&self) -> bool {
        self.matches.is_empty() && self.excludes.is_empty()
    }

    /// Whether a line (with or without its `\n`) is kept. The line is
    /// judged without its `\n`, so that no text matches across lines.
    pub fn keep(&self, line: &[u8]) -> bool {
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        let line = &line[..line.len().min(MAX_JUDGED_LINE)];
        (self.matches.is_empty() || self.matches.iter().any(|m| contains_ci(line, m)))
            && !self.excludes.iter().any(|x| contains_ci(line, x))
    }
}

/// ASCII case-insensitive substring search; `needle` is already lower-case.
fn contains_ci(hay: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else {
        return true;
    };
    if hay.len() < needle.len() {
        return false;
    }
    let upper = first.to_ascii_uppercase();
    let last_start = hay.len() - needle.len();
    let mut i = 0;
    while i <= last_start {
        let b = hay[i];
        if (b == first || b == upper)
            && hay[i + 1..i + needle.len()]
                .iter()
                .zip(rest)
                .all(|(h, n)| h.to_ascii_lowercase() == *n)
        {
            return true;
        }
        i += 1;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
