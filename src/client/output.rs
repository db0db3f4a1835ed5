//! Standard output of `wstail tail`. With one URL the text is printed as it
//! arrives, flushed per message. With several, each stream keeps its partial
//! line and prints only whole lines, each prefixed with its source like
//! `grep` does with several files, in one write under the lock on standard
//! output, so lines of different streams never mix mid-line. `Lines` (the
//! partial line held until its newline) also serves `--merge`.

use std::io::{self, Write};

/// A partial line longer than this is passed on (with a newline added)
/// rather than held: a file without newlines must not grow the client's
/// memory without bound.
const MAX_HELD_LINE: usize = 1 << 20;

/// Text cut into whole lines: the partial last line is held until its
/// newline comes.
#[derive(Debug, Default)]
pub(super) struct Lines {
    held: Vec<u8>,
}

impl Lines {
    /// The whole lines that `data` completes (each with its newline), if any.
    pub fn push(&mut self, data: &[u8]) -> Option<Vec<u8>> {
        self.held.extend_from_slice(data);
        let whole = match self.held.iter().rposition(|&b| b == b'\n') {
            Some(i) => i + 1,
            None if self.held.len() > MAX_HELD_LINE => {
                self.held.push(b'\n');
                self.held.len()
            }
            None => return None,
        };
        let rest = self.held.split_off(whole);
        Some(std::mem::replace(&mut self.held, rest))
    }

    /// At the end: the held partial line, with a newline.
    pub fn rest(&mut self) -> Option<Vec<u8>> {
        if self.held.is_empty() {
            return None;
        }
        let mut line = std::mem::take(&mut self.held);
        line.push(b'\n');
        Some(line)
    }
}

/// One stream's side of standard output.
pub(super) struct Output {
    /// The line prefix with several URLs; `None` with one.
    prefix: Option<String>,
    /// With several URLs: the partial last line.
    lines: Lines,
}

impl Output {
    pub fn new(prefix: Option<String>) -> Output {
        Output {
            prefix,
            lines: Lines::default(),
        }
    }

    /// Prints one text message (with a prefix: its whole lines).
    pub fn text(&mut self, data: &[u8]) -> io::Result<()> {
        if self.prefix.is_none() {
            let mut out = io::stdout().lock();
            out.write_all(data)?;
            return out.flush();
        }
        match self.lines.push(data) {
            Some(lines) => self.print_prefixed(&lines),
            None => Ok(()),
        }
    }

    /// At the end of a stream: a held partial line is printed with a newline.
    pub fn finish(&mut self) -> io::Result<()> {
        match self.lines.rest() {
            Some(line) => self.print_prefixed(&line),
            None => Ok(()),
        }
    }

    /// Writes whole lines, each with the prefix, in one locked write.
    fn print_prefixed(&self, lines: &[u8]) -> io::Result<()> {
        let prefix = self.prefix.as_deref().unwrap_or_default().as_bytes();
        let count = lines.iter().filter(|&&b| b == b'\n').count();
        let mut buf = Vec::with_capacity(lines.len() + count * prefix.len());
        for line in lines.split_inclusive(|&b| b == b'\n') {
            buf.extend_from_slice(prefix);
            buf.extend_from_slice(line);
        }
        let mut out = io::stdout().lock();
        out.write_all(&buf)?;
        out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_held_until_whole() {
        let mut l = Lines::default();
        assert_eq!(l.push(b"a"), None);
        assert_eq!(l.push(b"b\nc\nd"), Some(b"ab\nc\n".to_vec()));
        assert_eq!(l.rest(), Some(b"d\n".to_vec()));
        assert_eq!(l.rest(), None);
        let long = vec![b'x'; MAX_HELD_LINE + 1];
        assert_eq!(l.push(&long).map(|v| v.len()), Some(MAX_HELD_LINE + 2));
    }
}
