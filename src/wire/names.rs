//! The words of the wire that the server sets and the client, the page and
//! the tests compare: the names of events (`{"event":"rotated"}`) and of
//! compressions (`"compressed":"gzip"`, the 415 reason). Each is an enum with
//! `as_str()` (its one spelling) and `parse`, so that a name is written in
//! one place and matched as a value everywhere else, never as text.

use std::fmt;

/// An event of a meta frame (`{"event":"…"}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Event {
    /// The path was renamed away and a new file is there.
    Rotated,
    /// The file shrank below the read position.
    Truncated,
    /// The file was deleted; the follower waits for it to come back.
    Deleted,
    /// A file is at the path again after a deletion.
    Recreated,
    /// The path no longer names a readable regular file; the follower waits.
    Unreadable,
    /// The file's tail holds a NUL byte: it is sent anyway, announced.
    Binary,
    /// Data the server knows it skipped (`"bytes":N` when it knows how much).
    Skipped,
}

impl Event {
    pub const ALL: [Event; 7] = [
        Event::Rotated,
        Event::Truncated,
        Event::Deleted,
        Event::Recreated,
        Event::Unreadable,
        Event::Binary,
        Event::Skipped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Event::Rotated => "rotated",
            Event::Truncated => "truncated",
            Event::Deleted => "deleted",
            Event::Recreated => "recreated",
            Event::Unreadable => "unreadable",
            Event::Binary => "binary",
            Event::Skipped => "skipped",
        }
    }

    /// The event of that name; `None` for a name this version does not know
    /// (a newer server's event, which a client ignores).
    pub fn parse(name: &str) -> Option<Event> {
        Event::ALL.into_iter().find(|e| e.as_str() == name)
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A compression a file's first bytes (or, while it is being written, its
/// name) announce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Compression {
    Gzip,
    Xz,
    Zstd,
    Bzip2,
}

impl Compression {
    pub const ALL: [Compression; 4] = [
        Compression::Gzip,
        Compression::Xz,
        Compression::Zstd,
        Compression::Bzip2,
    ];

    /// Its usual name, as the compressor's command spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Xz => "xz",
            Compression::Zstd => "zstd",
            Compression::Bzip2 => "bzip2",
        }
    }

    /// The extension its compressor adds to a file's name.
    pub(crate) fn extension(self) -> &'static str {
        match self {
            Compression::Gzip => ".gz",
            Compression::Xz => ".xz",
            Compression::Zstd => ".zst",
            Compression::Bzip2 => ".bz2",
        }
    }

    /// The compression of that name; `None` for one this version does not
    /// know.
    pub fn parse(name: &str) -> Option<Compression> {
        Compression::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_parses_back_and_unknown_names_do_not() {
        for e in Event::ALL {
            assert_eq!(Event::parse(e.as_str()), Some(e));
        }
        for c in Compression::ALL {
            assert_eq!(Compression::parse(c.as_str()), Some(c));
        }
        assert_eq!(Event::parse("Rotated"), None);
        assert_eq!(Compression::parse("gz"), None);
        assert_eq!(Compression::Zstd.extension(), ".zst");
    }
}
