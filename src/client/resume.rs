//! Where a stream picks up after a dropped connection (`--retry`): the last
//! position the server reported in an offset frame, advanced by the text
//! bytes printed since when those are exactly file bytes, with the tag that
//! lets the server check that the file still holds what was printed.

use crate::wire::meta::Born;
use crate::wire::tag::{Recent, TAG_BYTES, Tag};

/// A position in the followed file, as the server reports it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Resume {
    pub offset: u64,
    pub inode: u64,
    /// The tag of the bytes before `offset`, when known.
    pub tag: Option<Tag>,
    /// The birth time of the file, when the server gave it.
    pub born: Option<Born>,
}

/// What has been shown of one URL, across its connections.
#[derive(Debug)]
pub(super) struct Position {
    /// The last position the server reported.
    reported: Option<Resume>,
    /// Text bytes printed since that report. The server sends each text
    /// message and its offset frame in one write, and its starting point
    /// before any text, so this is almost always 0 when a connection drops.
    unconfirmed: u64,
    /// Those bytes are exactly file bytes (text format, no filter, no U+FFFD
    /// replacement), so the resume point may be advanced by them.
    unconfirmed_exact: bool,
    /// The last of those bytes, for the tag of the advanced point.
    recent: Recent,
}

impl Position {
    pub fn new() -> Position {
        Position {
            reported: None,
            unconfirmed: 0,
            unconfirmed_exact: true,
            recent: Recent::default(),
        }
    }

    /// An offset frame arrived. Only start frames and those after an event
    /// carry the birth time: the others keep the one of the same file.
    pub fn reported(&mut self, mut at: Resume) {
        if at.born.is_none()
            && let Some(prev) = self.reported
            && prev.inode == at.inode
        {
            at.born = prev.born;
        }
        self.reported = Some(at);
        self.unconfirmed = 0;
        self.unconfirmed_exact = true;
        self.recent.clear();
    }

    /// `data` was printed; `exact` when its bytes are the file's bytes.
    pub fn printed(&mut self, data: &[u8], exact: bool) {
        self.unconfirmed += data.len() as u64;
        if !exact || contains_replacement(data) {
            self.unconfirmed_exact = false;
        }
        self.recent.push(data);
    }

    /// Where a new connection should start, if anywhere but the last lines.
    pub fn point(&self) -> Option<Resume> {
        let mut r = self.reported?;
        if self.unconfirmed_exact && self.unconfirmed > 0 {
            r.offset += self.unconfirmed;
            // The tag of the new point, when the bytes printed since cover
            // all it checks; without one the server checks inode and size.
            r.tag = (self.unconfirmed >= TAG_BYTES as u64).then(|| self.recent.tag());
        }
        Some(r)
    }
}

/// U+FFFD in UTF-8: the server replaced invalid bytes, so text bytes no
/// longer count file bytes.
fn contains_replacement(data: &[u8]) -> bool {
    data.windows(3).any(|w| w == "\u{fffd}".as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printed_bytes_advance_the_point_while_exact() {
        let mut p = Position::new();
        assert_eq!(p.point(), None);
        p.printed(b"before any report", true);
        assert_eq!(p.point(), None);
        let tag = Some(Tag::of(b"x"));
        let born = Some(Born { secs: 5, nanos: 6 });
        p.reported(Resume {
            offset: 10,
            inode: 3,
            tag,
            born,
        });
        assert_eq!(p.point().unwrap().tag, tag);
        p.printed(b"12345", true);
        assert_eq!(
            p.point(),
            Some(Resume {
                offset: 15,
                inode: 3,
                tag: None,
                born,
            })
        );
        // 64 bytes printed since the report: their tag is the point's.
        let more = [b'y'; 70];
        p.printed(&more, true);
        assert_eq!(p.point().unwrap().offset, 85);
        assert_eq!(p.point().unwrap().tag, Some(Tag::of(&more[6..])));
        p.printed("\u{fffd}".as_bytes(), true);
        assert_eq!(p.point().map(|r| (r.offset, r.tag)), Some((10, tag)));
        // The birth time stays with the file, until another file's point.
        p.reported(Resume {
            offset: 20,
            inode: 3,
            tag: None,
            born: None,
        });
        assert_eq!(p.point().unwrap().born, born);
        p.reported(Resume {
            offset: 0,
            inode: 4,
            tag: None,
            born: None,
        });
        assert_eq!(p.point().unwrap().born, None);
        p.reported(Resume {
            offset: 20,
            inode: 3,
            tag: None,
            born: None,
        });
        p.printed(b"abc", false);
        assert_eq!(p.point().map(|r| r.offset), Some(20));
    }
}
