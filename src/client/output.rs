//! Standard output of `wstail tail`. With one URL the text is printed as it
//! arrives, flushed per message. With several, each stream keeps its partial
//! line and prints only whole lines, each prefixed with its source like
//! `grep` does with several files, in one write under the lock on standard
//! output, so lines of different streams never mix mid-line.

use std::io::{self, Write};

/// With several URLs, a partial line longer than this is printed (with a
/// newline added) rather than held: a file without newlines must not grow
/// the client's memory without bound.
const MAX_HELD_LINE: usize = 1 << 20;

/// One stream's side of standard output.
pub(super) struct Output {
    /// The line prefix with several URLs; `None` with one.
    prefix: Option<String>,
    /// With several URLs: the partial last line, held until its newline.
    held: Vec<u8>,
}

impl Output {
    pub fn new(prefix: Option<String>) -> Output {
        Output {
            prefix,
            held: Vec::new(),
        }
    }

    /// Prints one text message (with a prefix: its whole lines).
    pub fn text(&mut self, data: &[u8]) -> io::Result<()> {
        if self.prefix.is_none() {
            let mut out = io::stdout().lock();
            out.write_all(data)?;
            return out.flush();
        }
        self.held.extend_from_slice(data);
        let whole = match self.held.iter().rposition(|&b| b == b'\n') {
            Some(i) => i + 1,
            None if self.held.len() > MAX_HELD_LINE => {
                self.held.push(b'\n');
                self.held.len()
            }
            None => return Ok(()),
        };
        let rest = self.held.split_off(whole);
        let lines = std::mem::replace(&mut self.held, rest);
        self.print_prefixed(&lines)
    }

    /// At the end of a stream: a held partial line is printed with a newline.
    pub fn finish(&mut self) -> io::Result<()> {
        if self.held.is_empty() {
            return Ok(());
        }
        let mut line = std::mem::take(&mut self.held);
        line.push(b'\n');
        self.print_prefixed(&line)
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
