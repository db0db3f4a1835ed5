//! The followed file, as `tail -F` sees it: an open descriptor read at a
//! position, and the path it came from, whose identity (device, inode) and
//! size are checked to notice rotation (the path now names another file),
//! truncation (the file shrank below the read position, or the bytes just
//! before it changed: truncated and rewritten past it between two looks) and
//! deletion (the file is gone; wait for the path to come back). The
//! descriptor is kept until its last byte has been read, so the rest of a
//! rotated or deleted file is never lost; a file renamed away with nothing
//! new at its path yet, or only an empty new file (logrotate `create` before
//! the application reopens its log), is read on, because its writer may
//! still be adding to it.

use std::fs::File;
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::PathBuf;

use crate::access::{self, Refusal};
use crate::tag::{Tag, Window};

/// What happened to the file under the follower.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The path was renamed away and a new file is there: the new file is
    /// now followed from its start.
    Rotated,
    /// The file shrank below the read position (or was rewritten under it):
    /// reading restarts at 0.
    Truncated,
    /// The file was deleted and the path names nothing: waiting for it to
    /// come back.
    Deleted,
    /// The path names a file again after a deletion, or the old file was
    /// deleted and replaced between two checks: followed from its start.
    Recreated,
}

impl Change {
    pub fn name(self) -> &'static str {
        match self {
            Change::Rotated => "rotated",
            Change::Truncated => "truncated",
            Change::Deleted => "deleted",
            Change::Recreated => "recreated",
        }
    }
}

pub struct LogFile {
    /// The canonical path that was admitted.
    path: PathBuf,
    roots: Vec<PathBuf>,
    /// `None` while the path is deleted and we wait for it.
    file: Option<File>,
    id: (u64, u64),
    pos: u64,
    /// The bytes before `pos`, as they were read. A log is append-only, so
    /// they never change — unless the file was truncated and written again
    /// past the read position between two looks (a fast writer after
    /// `copytruncate`), which its size alone cannot show. They are compared
    /// with the file on every read.
    before: Window,
    /// The bytes before `pos` changed: the file was rewritten under us.
    rewritten: bool,
    /// Size and link count from the last `available`, for the `check` that
    /// follows it (one `fstat` per idle round instead of two).
    stat: Option<(u64, u64)>,
}

impl LogFile {
    /// A followed file, read from `pos` on. The bytes just before `pos` are
    /// remembered, so that a rewrite is noticed from the first read.
    pub fn new(path: PathBuf, roots: Vec<PathBuf>, file: File, id: (u64, u64), pos: u64) -> Self {
        let mut lf = LogFile {
            path,
            roots,
            file: None,
            id,
            pos,
            before: Window::default(),
            rewritten: false,
            stat: None,
        };
        if lf.before.fill_from(&file, pos).is_err() {
            lf.before.clear();
        }
        lf.file = Some(file);
        lf
    }

    /// The bytes just before the read position.
    pub fn before(&self) -> &Window {
        &self.before
    }

    /// The tag of the read position.
    pub fn tag(&self) -> Tag {
        self.before.tag()
    }

    /// The followed path (canonical).
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    pub fn pos(&self) -> u64 {
        self.pos
    }

    pub fn inode(&self) -> u64 {
        self.id.1
    }

    pub fn is_waiting(&self) -> bool {
        self.file.is_none()
    }

    /// Reads what is new into `buf`; 0 at the end of the file (or while
    /// waiting for a deleted file to come back, or when the file was found
    /// rewritten under the read position: `check` then says `Truncated`).
    pub fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(file) = &self.file else { return Ok(0) };
        if self.rewritten {
            return Ok(0);
        }
        let n = loop {
            match file.read_at(buf, self.pos) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        if n == 0 {
            return Ok(0);
        }
        // Checked after the read: if the bytes before `pos` are still what
        // they were, what was just read follows them in the same content.
        if !self.before.still_in(file, self.pos)? {
            self.rewritten = true;
            return Ok(0);
        }
        self.pos += n as u64;
        self.before.push(&buf[..n]);
        Ok(n)
    }

    /// Bytes known to be readable now (from the descriptor's size), so that
    /// a read buffer is no larger than what is there.
    pub fn available(&mut self) -> io::Result<u64> {
        match &self.file {
            Some(f) if !self.rewritten => {
                let m = f.metadata()?;
                self.stat = Some((m.len(), m.nlink()));
                Ok(m.len().saturating_sub(self.pos))
            }
            _ => Ok(0),
        }
    }

    /// One look for an idle follower: true when the path still names the
    /// open file and its size is the read position — nothing new, nothing
    /// changed. One stat of the path says it (the path's inode is ours, so
    /// is its size), so an idle round costs one system call besides its
    /// wait; when this says false, read and `check` as usual.
    pub fn unchanged(&self) -> bool {
        if self.file.is_none() || self.rewritten {
            return false;
        }
        std::fs::metadata(&self.path)
            .is_ok_and(|m| (m.dev(), m.ino()) == self.id && m.len() == self.pos)
    }

    /// Checks the path against the open file. Call it when a read returned 0
    /// (so the open file has been read to its end), or periodically. On a
    /// change, the caller must first read the old file to its end again (a
    /// writer may have added its last lines since), send out everything
    /// read, then call `switch` with the returned change.
    pub fn check(&mut self) -> Option<Change> {
        let Some(file) = &self.file else {
            // Waiting: does the path name a file again?
            return match std::fs::metadata(&self.path) {
                Ok(_) => Some(Change::Recreated),
                Err(_) => None,
            };
        };
        if self.rewritten {
            return Some(Change::Truncated);
        }
        let (len, nlink) = match self.stat.take() {
            Some(s) => s,
            None => {
                let Ok(m) = file.metadata() else {
                    return None;
                };
                (m.len(), m.nlink())
            }
        };
        let linked = nlink > 0;
        match std::fs::metadata(&self.path) {
            // Deleted: the rest is read from the descriptor, then we wait.
            // Renamed away with nothing at the path yet: read on (the writer
            // may still write to it) until a new file appears.
            Err(e) if e.kind() == io::ErrorKind::NotFound => (!linked).then_some(Change::Deleted),
            Err(_) => None,
            Ok(now) if (now.dev(), now.ino()) != self.id => {
                if !linked {
                    Some(Change::Recreated)
                } else if now.len() == 0 {
                    // A new, still empty file: a writer may still be
                    // finishing the old one (logrotate `create` before the
                    // application reopens); keep reading the old file until
                    // the new one has data, then switch.
                    None
                } else {
                    Some(Change::Rotated)
                }
            }
            Ok(_) if len < self.pos => Some(Change::Truncated),
            Ok(_) => None,
        }
    }

    /// Acts on a change reported by `check`, after the caller sent out all
    /// it had read. A deleted file is closed; a new one is opened (admitted
    /// again by the path rule, and verified after the open) and read from
    /// its start.
    pub fn switch(&mut self, change: Change) -> Result<(), Refusal> {
        self.pos = 0;
        self.before.clear();
        self.rewritten = false;
        self.stat = None;
        match change {
            Change::Truncated => Ok(()),
            Change::Deleted => {
                self.file = None;
                Ok(())
            }
            Change::Rotated | Change::Recreated => {
                // Open, then verify (as every open): a symlink swapped in
                // at the path between the check and the open is refused.
                match access::open_verified(&self.roots, &self.path) {
                    Ok((_, file, meta)) => {
                        self.id = access::file_id(&meta);
                        self.file = Some(file);
                        Ok(())
                    }
                    Err(r) if r.status() == 404 => {
                        // Gone again before we could open it: keep waiting.
                        self.file = None;
                        Ok(())
                    }
                    Err(r) => Err(r),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    struct Dir(PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn setup(tag: &str, content: &[u8]) -> (Dir, PathBuf, LogFile) {
        let dir = std::env::temp_dir().join(format!("wstail-logfile-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let dir = std::fs::canonicalize(&dir).unwrap();
        let path = dir.join("a.log");
        std::fs::write(&path, content).unwrap();
        let (_, file, meta) = access::open_verified(std::slice::from_ref(&dir), &path).unwrap();
        let lf = LogFile::new(
            path.clone(),
            vec![dir.clone()],
            file,
            access::file_id(&meta),
            0,
        );
        (Dir(dir), path, lf)
    }

    fn read_all(lf: &mut LogFile) -> Vec<u8> {
        let mut out = Vec::new();
        let mut buf = [0u8; 7]; // small, to cross the mark's length
        loop {
            let n = lf.read(&mut buf).unwrap();
            if n == 0 {
                return out;
            }
            out.extend_from_slice(&buf[..n]);
        }
    }

    fn append(path: &PathBuf, data: &[u8]) {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .unwrap();
        f.write_all(data).unwrap();
    }

    #[test]
    fn truncation_and_rewrite_past_the_position() {
        let (_d, path, mut lf) = setup("trunc", b"line 1\nline 2\n");
        assert_eq!(read_all(&mut lf), b"line 1\nline 2\n");
        assert_eq!(lf.check(), None);
        // Shorter: plain truncation.
        std::fs::write(&path, b"x\n").unwrap();
        assert_eq!(lf.check(), Some(Change::Truncated));
        lf.switch(Change::Truncated).unwrap();
        assert_eq!(read_all(&mut lf), b"x\n");
        // Truncated and written again past the read position: the size
        // cannot tell, the bytes before the position can.
        std::fs::write(&path, b"line 3\nline 4\nline 5\n").unwrap();
        assert_eq!(read_all(&mut lf), b"");
        assert_eq!(lf.check(), Some(Change::Truncated));
        lf.switch(Change::Truncated).unwrap();
        assert_eq!(read_all(&mut lf), b"line 3\nline 4\nline 5\n");
        append(&path, b"line 6\n");
        assert_eq!(read_all(&mut lf), b"line 6\n");
        assert_eq!(lf.check(), None);
    }

    #[test]
    fn one_stat_says_nothing_changed() {
        let (d, path, mut lf) = setup("unchanged", b"a\n");
        assert!(!lf.unchanged(), "unread bytes");
        assert_eq!(read_all(&mut lf), b"a\n");
        assert!(lf.unchanged());
        append(&path, b"b\n");
        assert!(!lf.unchanged(), "grown");
        assert_eq!(read_all(&mut lf), b"b\n");
        assert!(lf.unchanged());
        std::fs::rename(&path, d.0.join("a.log.1")).unwrap();
        assert!(!lf.unchanged(), "renamed away");
    }

    #[test]
    fn renamed_away_is_read_on_until_the_new_file_has_data() {
        let (d, path, mut lf) = setup("rename", b"old 1\n");
        assert_eq!(read_all(&mut lf), b"old 1\n");
        let moved = d.0.join("a.log.1");
        std::fs::rename(&path, &moved).unwrap();
        // Nothing at the path: not a deletion, the writer may write on.
        assert_eq!(lf.check(), None);
        append(&moved, b"old 2\n");
        std::fs::write(&path, b"").unwrap();
        // An empty new file: still the old one.
        assert_eq!(read_all(&mut lf), b"old 2\n");
        assert_eq!(lf.check(), None);
        append(&moved, b"old 3\n");
        append(&path, b"new 1\n");
        assert_eq!(lf.check(), Some(Change::Rotated));
        // The caller reads the old file to its end before switching.
        assert_eq!(read_all(&mut lf), b"old 3\n");
        lf.switch(Change::Rotated).unwrap();
        assert_eq!(read_all(&mut lf), b"new 1\n");
    }

    #[test]
    fn deleted_then_back() {
        let (_d, path, mut lf) = setup("delete", b"a\n");
        append(&path, b"b\n");
        std::fs::remove_file(&path).unwrap();
        assert_eq!(lf.check(), Some(Change::Deleted));
        // What was unread is still read from the descriptor.
        assert_eq!(read_all(&mut lf), b"a\nb\n");
        lf.switch(Change::Deleted).unwrap();
        assert!(lf.is_waiting());
        assert_eq!(lf.check(), None);
        std::fs::write(&path, b"c\n").unwrap();
        assert_eq!(lf.check(), Some(Change::Recreated));
        lf.switch(Change::Recreated).unwrap();
        assert_eq!(read_all(&mut lf), b"c\n");
        // Deleted and replaced between two looks.
        std::fs::remove_file(&path).unwrap();
        std::fs::write(&path, b"").unwrap();
        assert_eq!(lf.check(), Some(Change::Recreated));
    }
}
