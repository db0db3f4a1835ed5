//! The followed file, as `tail -F` sees it: an open descriptor read at a
//! position, and the path it came from, whose identity (device, inode) and
//! size are checked to notice rotation (the path now names another file),
//! truncation (the file shrank below the read position) and deletion (the
//! path names nothing; wait for it to come back). The descriptor is kept
//! until its last byte has been read, so the rest of a rotated or deleted
//! file is never lost.

use std::fs::File;
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::PathBuf;

use crate::access::{self, Refusal};

/// What happened to the file under the follower.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The path was renamed away and a new file is there: the new file is
    /// now followed from its start.
    Rotated,
    /// The file shrank below the read position: reading restarts at 0.
    Truncated,
    /// The path names nothing any more: waiting for it to come back.
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
}

impl LogFile {
    pub fn new(path: PathBuf, roots: Vec<PathBuf>, file: File, id: (u64, u64), pos: u64) -> Self {
        LogFile {
            path,
            roots,
            file: Some(file),
            id,
            pos,
        }
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
    /// waiting for a deleted file to come back).
    pub fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(file) = &self.file else { return Ok(0) };
        loop {
            match file.read_at(buf, self.pos) {
                Ok(n) => {
                    self.pos += n as u64;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Bytes known to be readable now (from the descriptor's size), so that
    /// a read buffer is no larger than what is there.
    pub fn available(&self) -> io::Result<u64> {
        match &self.file {
            Some(f) => Ok(f.metadata()?.len().saturating_sub(self.pos)),
            None => Ok(0),
        }
    }

    /// Checks the path against the open file. Call it when a read returned 0
    /// (so the open file has been read to its end), or periodically. On a
    /// change, the caller must first send out everything read so far, then
    /// call `switch` with the returned change.
    pub fn check(&mut self) -> Option<Change> {
        let Some(file) = &self.file else {
            // Waiting: does the path name a file again?
            return match std::fs::metadata(&self.path) {
                Ok(_) => Some(Change::Recreated),
                Err(_) => None,
            };
        };
        let Ok(ours) = file.metadata() else {
            return None;
        };
        match std::fs::metadata(&self.path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Some(Change::Deleted),
            Err(_) => None,
            Ok(now) if (now.dev(), now.ino()) != self.id => {
                // A new file at the path. A writer may still be finishing
                // the old one (logrotate `create` before the application
                // reopens): keep reading the old file until the new one has
                // data, then switch.
                if now.len() == 0 && ours.nlink() > 0 {
                    None
                } else if ours.nlink() == 0 {
                    Some(Change::Recreated)
                } else {
                    Some(Change::Rotated)
                }
            }
            Ok(_) if ours.len() < self.pos => Some(Change::Truncated),
            Ok(_) => None,
        }
    }

    /// Acts on a change reported by `check`, after the caller sent out all
    /// it had read. A deleted file is closed; a new one is opened (and
    /// admitted again by the path rule) and read from its start.
    pub fn switch(&mut self, change: Change) -> Result<(), Refusal> {
        match change {
            Change::Truncated => {
                self.pos = 0;
                Ok(())
            }
            Change::Deleted => {
                self.file = None;
                Ok(())
            }
            Change::Rotated | Change::Recreated => {
                let raw = self.path.as_os_str().as_encoded_bytes().to_vec();
                match access::open_path(&self.roots, &raw) {
                    Ok((_, file, meta)) => {
                        self.id = access::file_id(&meta);
                        self.file = Some(file);
                        self.pos = 0;
                        Ok(())
                    }
                    Err(Refusal::NotFound) => {
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
