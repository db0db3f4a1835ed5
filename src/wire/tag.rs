//! The tag: a check of a file's content at a position, so that a resume
//! point (`from=N&tag=T`) and the follower's own read position are trusted
//! only while the bytes before them are still the bytes that were sent. It
//! is the FNV-1a 64-bit hash of the up to `TAG_BYTES` file bytes just before
//! the position, written as 16 lowercase hex digits. A log is append-only,
//! so those bytes never change — unless the file was truncated and written
//! again, or deleted and recreated under the same inode number.

use crate::net::read_full_at;
use std::fmt;
use std::fs::File;
use std::io;

/// How many bytes before a position the tag covers: enough that two lines
/// of a regular log, which often end alike (`... é中 text\n`), differ — a
/// line number or timestamp 64 bytes back is within reach — and little
/// enough that computing one costs a single small read.
pub const TAG_BYTES: usize = 64;

/// The check of the bytes before a position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tag(pub u64);

impl Tag {
    /// The tag of `bytes` (the up to `TAG_BYTES` bytes before a position;
    /// only the last `TAG_BYTES` count when more are given).
    pub fn of(bytes: &[u8]) -> Tag {
        let bytes = &bytes[bytes.len().saturating_sub(TAG_BYTES)..];
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        Tag(h)
    }

    /// The tag of `file` at `offset`, read from the file now. An offset
    /// beyond the end reads what is there (the tag then differs).
    pub fn of_file(file: &(impl FullRead + ?Sized), offset: u64) -> io::Result<Tag> {
        let mut w = Recent::default();
        w.fill_from(file, offset)?;
        Ok(w.tag())
    }

    /// Parses 16 hex digits (either case); `None` for anything else.
    pub fn parse(s: &str) -> Option<Tag> {
        if s.len() != 16 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        u64::from_str_radix(s, 16).ok().map(Tag)
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// The last `TAG_BYTES` bytes before a position, kept as bytes pass it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recent {
    bytes: [u8; TAG_BYTES],
    len: usize,
}

impl Default for Recent {
    fn default() -> Self {
        Recent {
            bytes: [0; TAG_BYTES],
            len: 0,
        }
    }
}

impl Recent {
    /// Forgets everything (the position is 0 of a new content).
    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// The bytes held, oldest first.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// The position moved past `data`.
    pub fn push(&mut self, data: &[u8]) {
        if data.len() >= TAG_BYTES {
            self.bytes.copy_from_slice(&data[data.len() - TAG_BYTES..]);
            self.len = TAG_BYTES;
            return;
        }
        let keep = (TAG_BYTES - data.len()).min(self.len);
        self.bytes.copy_within(self.len - keep..self.len, 0);
        self.bytes[keep..keep + data.len()].copy_from_slice(data);
        self.len = keep + data.len();
    }

    /// Holds what `file` has just before `offset` now (fewer bytes only
    /// near the start, or when the file is shorter than `offset`).
    pub fn fill_from(&mut self, file: &(impl FullRead + ?Sized), offset: u64) -> io::Result<()> {
        let want = offset.min(TAG_BYTES as u64) as usize;
        let mut buf = [0u8; TAG_BYTES];
        let got = file.read_full_at(&mut buf[..want], offset - want as u64)?;
        self.len = 0;
        self.push(&buf[..got]);
        Ok(())
    }

    pub fn tag(&self) -> Tag {
        Tag::of(self.bytes())
    }

    /// True when `file` still holds these bytes just before `offset`.
    pub fn still_in(&self, file: &(impl FullRead + ?Sized), offset: u64) -> io::Result<bool> {
        let mut buf = [0u8; TAG_BYTES];
        let len = self.len.min(offset as usize);
        let got = file.read_full_at(&mut buf[..len], offset - len as u64)?;
        Ok(got == self.len && buf[..got] == self.bytes[..self.len])
    }
}

/// What a tag is computed over: a file's bytes by offset — a plain file,
/// or the uncompressed bytes of a gzip generation (`history::source`).
pub trait FullRead {
    /// Reads up to `buf.len()` bytes at `offset`, fewer only at the end.
    fn read_full_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize>;
}

impl FullRead for File {
    fn read_full_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        read_full_at(self, buf, offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_64_reference_values() {
        // The published FNV-1a 64 test vectors.
        assert_eq!(Tag::of(b"").0, 0xcbf29ce484222325);
        assert_eq!(Tag::of(b"a").0, 0xaf63dc4c8601ec8c);
        assert_eq!(Tag::of(b"foobar").0, 0x85944171f73967e8);
        assert_eq!(Tag::of(b"").to_string(), "cbf29ce484222325");
        assert_eq!(Tag::parse("CBF29CE484222325"), Some(Tag::of(b"")));
        assert_eq!(Tag::parse("cbf29ce48422232"), None);
        assert_eq!(Tag::parse("+bf29ce484222325"), None);
    }

    #[test]
    fn only_the_last_64_bytes_count() {
        let long = [b"x".repeat(100), b"y".repeat(64)].concat();
        assert_eq!(Tag::of(&long), Tag::of(&b"y".repeat(64)));
        // Lines that end in the same 16 bytes differ within 64.
        assert_ne!(
            Tag::of("n0 00004 é中 text\n".as_bytes()),
            Tag::of("n1 00004 é中 text\n".as_bytes())
        );
    }

    #[test]
    fn window_follows_pushes_of_any_size() {
        let data: Vec<u8> = (0..300u32).map(|i| (i % 251) as u8).collect();
        for step in [1, 7, 63, 64, 65, 200] {
            let mut w = Recent::default();
            for (i, c) in data.chunks(step).enumerate() {
                w.push(c);
                let end = (i * step + c.len()).min(data.len());
                let want = &data[end.saturating_sub(TAG_BYTES)..end];
                assert_eq!(w.bytes(), want, "step {step}, end {end}");
            }
        }
    }
}
