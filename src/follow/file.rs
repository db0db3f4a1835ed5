//! The followed file, as `tail -F` sees it: an open descriptor read at a
//! position, and the path it came from, whose identity (device, inode) and
//! size are checked to notice rotation (the path now names another file),
//! truncation (the file shrank below the read position, or the bytes just
//! before it changed: truncated and rewritten between two looks), deletion
//! (the file is gone; wait for the path to come back) and a path that is no
//! longer a readable regular file (wait the same way). The descriptor is
//! kept until its last byte has been read, so the rest of a rotated or
//! deleted file is never lost; a file renamed away with nothing new at its
//! path yet, or only an empty new file (logrotate `create` before the
//! application reopens its log), is read on, because its writer may still
//! be adding to it.
//!
//! A log is a chain of generations (`generations.rs`): when the path was
//! rotated, the follower goes on with the generation just newer than the
//! file it finished — the path may have rotated several times between two
//! looks — and only then with the file at the path. When the file was
//! truncated (logrotate `copytruncate`), the newest generation is the copy:
//! if its bytes before the read position are those that were read, the
//! copy is read on from there first, so that what was written after the
//! last read and before the truncation is not lost. While fewer bytes
//! than a tag covers were read of the file at the path (a short line, a
//! file truncated after every write), those bytes cannot tell a copy, and
//! a file copied and truncated back to its read position between two looks
//! shows no change of size: the generations as they were when its content
//! began to be read are kept, and a plain generation that has come since
//! (listed again only when the file and its directory changed), holding
//! exactly the bytes read, is the copy.
//!
//! Events say what happened: a file renamed away is `rotated`, even when it
//! was deleted soon after (logrotate `compress` without `delaycompress`
//! compresses the renamed file and deletes it; `rotate 0` deletes it) —
//! the name the open file last had (`/proc/self/fd`) tells a rename from a
//! deletion at the path, which alone is `deleted` and then `recreated`.
//! What a follower knows it skipped (a generation compressed before it was
//! read, a `copytruncate` copy compressed before the rest of it was read)
//! it reports (`Skipped`).

use std::fs::File;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::time::SystemTime;

use crate::access;
use crate::follow::generations::{self, Generation, Listing, Stamp};
use crate::follow::gzip;
use crate::history::source::Source;
use crate::limits::{
    GENERATION_RELIST, MAX_COPY_CHECK, MAX_GZIP_COPY_CANDIDATES, MAX_MESSAGE_BYTES, MAX_SEEN,
    MAX_WALK_LISTINGS,
};
use crate::wire::meta::Born;
use crate::wire::names::{Compression, Event};
use crate::wire::tag::{Recent, TAG_BYTES, Tag};

/// What happened to the file under the follower.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The path was renamed away and a new file is there: the generation
    /// just newer than the finished file (or the new file) is now followed
    /// from its start.
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
    /// The path names something that is not a readable regular file (a
    /// directory, a file the server may not read, a symlink out of the
    /// roots): waiting for a readable regular file to appear there.
    Unreadable,
}

impl Change {
    /// The event that tells a client about it.
    pub fn event(self) -> Event {
        match self {
            Change::Rotated => Event::Rotated,
            Change::Truncated => Event::Truncated,
            Change::Deleted => Event::Deleted,
            Change::Recreated => Event::Recreated,
            Change::Unreadable => Event::Unreadable,
        }
    }
}

/// Data a follower knows it skipped: it was compressed before it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The compressed file that holds it.
    pub path: PathBuf,
    /// How many bytes (from a gzip trailer; `None` for other compressions,
    /// whose size is not known without decompressing).
    pub bytes: Option<u64>,
    /// Why, when not compressed before it was read: `"is a corrupt gzip
    /// file"` (the rest of it, after the bytes that inflated).
    pub reason: Option<&'static str>,
}

/// What an `fstat` of the open file said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stat {
    len: u64,
    nlink: u64,
    modified: Option<SystemTime>,
}

impl Stat {
    /// `len`: the bytes of the text (a gzip file's uncompressed size).
    fn of(m: &std::fs::Metadata, len: u64) -> Stat {
        Stat {
            len,
            nlink: m.nlink(),
            modified: m.modified().ok(),
        }
    }
}

/// A file a follower has read: its identity, and its birth time where the
/// file system records it — inode numbers are reused at once (ext4), so a
/// new generation may carry the number of one deleted since it was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Seen {
    id: (u64, u64),
    born: Option<SystemTime>,
}

impl Seen {
    fn of(id: (u64, u64), file: &File) -> Seen {
        Seen {
            id,
            born: file.metadata().and_then(|m| m.created()).ok(),
        }
    }

    fn of_generation(g: &Generation) -> Seen {
        Seen {
            id: (g.dev, g.inode),
            born: g.created,
        }
    }

    /// The same file: the same identity, born at the same time (when both
    /// birth times are known).
    fn same(&self, other: &Seen) -> bool {
        self.id == other.id
            && match (self.born, other.born) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    }
}

/// While fewer than `TAG_BYTES` of the file at the path were read: what
/// tells a `copytruncate` copy of it.
struct Short {
    /// The generations (identity and birth) as they were when the file's
    /// content began to be read: a copy made of it since is none of them.
    files: Vec<Seen>,
    /// When they were listed: while the directory is unchanged since, no
    /// copy came. `None` when a copy already there was left out of them
    /// (`copy_pending`): the directory need not change for it to count.
    stamp: Option<Stamp>,
    /// The file's modification time at the last look (`None`: look again).
    last: Option<SystemTime>,
}

pub struct Followed {
    /// The canonical path that was admitted.
    path: PathBuf,
    roots: Vec<PathBuf>,
    /// `None` while the path is deleted (or unreadable) and we wait for it.
    /// A generation may be a gzip file, read through the inflater.
    file: Option<Source>,
    /// The path the file being read had when it was opened (the log's
    /// path, or a generation's).
    file_path: PathBuf,
    /// The gzip file being read stopped inflating (corrupt, truncated):
    /// reported as skipped when the follower leaves it.
    corrupt: bool,
    id: (u64, u64),
    pos: u64,
    /// The bytes before `pos`, as they were read. A log is append-only, so
    /// they never change — unless the file was truncated and written again
    /// past the read position between two looks (a fast writer after
    /// `copytruncate`), which its size alone cannot show. They are compared
    /// with the file after every read, and whenever its size or
    /// modification time changed.
    before: Recent,
    /// The size and modification time at which `before` was last found in
    /// the file.
    verified: Option<(u64, Option<SystemTime>)>,
    /// The modification time the file had when it was last about to be
    /// read and had not shrunk: a `copytruncate` copy made since is at
    /// least as recent.
    read_modified: Option<SystemTime>,
    /// The bytes before `pos` changed: the file was rewritten under us.
    rewritten: bool,
    /// While fewer than `TAG_BYTES` of the file at the path were read: what
    /// tells a `copytruncate` copy of it (see `short_copy_made`).
    short: Option<Short>,
    /// The copy `short_copy_made` found, for `switch` to read on.
    short_copy: Option<(Generation, Source)>,
    /// A copy the walk did not read because the file at the path still
    /// held it all (copied, not truncated yet): if the truncation comes
    /// before the file is opened, that copy holds what the file held — it
    /// is not counted among the generations the file's reading began with.
    copy_pending: Option<Seen>,
    /// What the last `available` saw, for the `check` that follows it (one
    /// `fstat` per idle round instead of two).
    stat: Option<Stat>,
    /// Reading the copy that `copytruncate` left: the event to report when
    /// the follower leaves it for the file at the path.
    leaving_copy: Option<Change>,
    /// The files this follower has read (the most recent `MAX_SEEN`): a
    /// generation is never sent twice, even when coarse modification times
    /// (the kernel's clock tick) leave the order of two generations open.
    seen: Vec<Seen>,
    /// The modification time of the first file followed: generations older
    /// than it were rotated away before the follower started.
    floor: Option<SystemTime>,
    /// The empty new file at the path for which newer generations were
    /// looked for (see `check`), with its modification time: a file
    /// `copytruncate` truncated again (the same inode) is looked past again.
    looked_past: Option<((u64, u64), Option<SystemTime>)>,
    /// The open file was seen renamed away from the path (for a system
    /// without `/proc`, where its last name cannot be read).
    renamed: bool,
    /// What the last `switch` knows it skipped, for the caller to report.
    skipped: Vec<Skipped>,
    /// The generations as last listed, walked by index (`next_generation`);
    /// dropped when the follower reaches the file at the path.
    listing: Option<Listing>,
    /// Listings made since a file last yielded data, the follower last
    /// waited or reached the file at the path (at most `MAX_WALK_LISTINGS`).
    walk_listings: usize,
    /// The open file left the path (deleted, or the path became something
    /// else) and was reported so: it is read on — its writer may still be
    /// writing — until a regular file is at the path again.
    orphan: bool,
}

impl Followed {
    /// A followed file, read from `pos` on. `file` is the file at `path`,
    /// or one of its older generations (a resume that starts behind a
    /// rotation). The bytes just before `pos` are remembered, so that a
    /// rewrite is noticed from the first read.
    pub fn new(
        path: PathBuf,
        roots: Vec<PathBuf>,
        (file, file_path): (Source, PathBuf),
        id: (u64, u64),
        pos: u64,
    ) -> Self {
        let mut before = Recent::default();
        if before.fill_from(&file, pos).is_err() {
            before.clear();
        }
        let floor = file.file().metadata().and_then(|m| m.modified()).ok();
        let seen = vec![Seen::of(id, file.file())];
        let mut file = file;
        if let Source::Gzip(g) = &mut file {
            g.forward_only(pos); // a follower reads on, never back
        }
        let mut followed = Followed {
            path,
            roots,
            file: Some(file),
            file_path,
            corrupt: false,
            id,
            pos,
            before,
            verified: None,
            read_modified: None,
            rewritten: false,
            short: None,
            short_copy: None,
            copy_pending: None,
            stat: None,
            leaving_copy: None,
            seen,
            floor,
            looked_past: None,
            renamed: false,
            skipped: Vec::new(),
            listing: None,
            walk_listings: 0,
            orphan: false,
        };
        followed.begin_short(None);
        followed
    }

    /// Starts with the generations a resume has already listed, so that the
    /// walk from it does not list them again (kept only for a walk: a
    /// follower starting at the path lists when it has to).
    pub fn with_listing(mut self, listing: Option<Listing>) -> Self {
        if self.file_path != self.path {
            self.listing = listing;
        }
        self
    }

    /// The follower waits for data: the bound on listings
    /// (`MAX_WALK_LISTINGS`) starts again, as when a file yields data. It
    /// bounds the listings made without progress; looks made over time are
    /// paced by the wait.
    pub fn waited(&mut self) {
        self.walk_listings = 0;
    }

    /// Lists the generations unless a listing is held; false when the
    /// walk's bound on listings is reached. `fresh`: listed just now.
    fn ensure_listing(&mut self, fresh: &mut bool) -> bool {
        if self.listing.is_some() {
            return true;
        }
        if self.walk_listings >= MAX_WALK_LISTINGS {
            return false;
        }
        self.walk_listings += 1;
        self.listing = Some(Listing::of(&self.path, &self.roots));
        *fresh = true;
        true
    }

    /// The file being read is the copy `copytruncate` made of the file at
    /// the path (a resume found it): leaving it for the path is reported as
    /// `truncated`.
    pub fn reading_copy(&mut self) {
        self.leaving_copy = Some(Change::Truncated);
    }

    /// What the last `switch` knows it skipped (compressed before it was
    /// read), oldest first; reported before the event it returned.
    pub fn take_skipped(&mut self) -> Vec<Skipped> {
        std::mem::take(&mut self.skipped)
    }

    /// Follows another file from now on, from the read position.
    fn set_file(&mut self, mut file: Source, id: (u64, u64), path: PathBuf) {
        if let Source::Gzip(g) = &mut file {
            g.forward_only(self.pos); // a follower reads on, never back
        }
        let seen = Seen::of(id, file.file());
        self.file = Some(file);
        self.file_path = path;
        self.corrupt = false;
        self.id = id;
        self.renamed = false;
        // Newer generations are looked for again from this file.
        self.looked_past = None;
        if !self.seen.iter().any(|s| s.same(&seen)) {
            if self.seen.len() >= MAX_SEEN {
                self.seen.remove(0);
            }
            self.seen.push(seen);
        }
    }

    /// The followed path (canonical).
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// The roots the path was admitted under.
    pub fn roots(&self) -> &[PathBuf] {
        &self.roots
    }

    pub fn pos(&self) -> u64 {
        self.pos
    }

    pub fn inode(&self) -> u64 {
        self.id.1
    }

    /// The bytes just before the read position.
    pub fn before(&self) -> &Recent {
        &self.before
    }

    /// The tag of the read position.
    pub fn tag(&self) -> Tag {
        self.before.tag()
    }

    /// The birth time of the file being read, where it is recorded.
    pub fn born(&self) -> Option<Born> {
        Born::of(&self.file.as_ref()?.file().metadata().ok()?)
    }

    /// How far the read position is behind the end of the open file when
    /// that file is no longer linked (deleted: its disk space is held only
    /// by readers); `None` while it is linked.
    pub fn behind_unlinked(&self) -> Option<u64> {
        let m = self.file.as_ref()?.file().metadata().ok()?;
        (m.nlink() == 0).then(|| m.len().saturating_sub(self.pos))
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
        let n = match file.read_at(buf, self.pos) {
            Ok(n) => n,
            Err(e) if gzip::is_corrupt(&e) => {
                // The bytes that inflated were read: the rest is skipped.
                self.corrupt = true;
                return Ok(0);
            }
            Err(e) => return Err(e),
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
        // A file yielded data: the walk made progress.
        self.walk_listings = 0;
        if self.pos >= TAG_BYTES as u64 {
            // A tag's bytes tell a copy from now on.
            self.short = None;
        }
        Ok(n)
    }

    /// Bytes known to be readable now (from the descriptor's size), so that
    /// a read buffer is no larger than what is there — none when what is
    /// after the position comes after a `copytruncate` copy's bytes (fewer
    /// than `TAG_BYTES` read; `short_copy_made` may then list the
    /// directory and look into a new generation).
    pub fn available(&mut self) -> io::Result<u64> {
        match &self.file {
            Some(_) if self.corrupt => Ok(0),
            Some(f) if !self.rewritten => {
                let m = f.file().metadata()?;
                let len = match f {
                    Source::Plain(_) => m.len(),
                    Source::Gzip(g) => g.size()?,
                };
                self.stat = Some(Stat::of(&m, len));
                if len >= self.pos {
                    self.read_modified = m.modified().ok();
                    // Before reading on: the bytes after the position may
                    // come after a copy's (copied and truncated, written
                    // again).
                    if self.short_copy_made(m.modified().ok()) {
                        self.rewritten = true;
                        return Ok(0);
                    }
                }
                Ok(len.saturating_sub(self.pos))
            }
            _ => Ok(0),
        }
    }

    /// One look for an idle follower: true when the path still names the
    /// open file, its size is the read position and its modification time
    /// is the one at which the bytes before the position were last checked
    /// — nothing new, nothing changed. One stat of the path says it (the
    /// path's inode is ours, so is its size), so an idle round costs one
    /// system call besides its wait; when this says false, read and `check`
    /// as usual.
    pub fn unchanged(&self) -> bool {
        if self.file.is_none() || self.rewritten {
            return false;
        }
        std::fs::metadata(&self.path).is_ok_and(|m| {
            (m.dev(), m.ino()) == self.id
                && m.len() == self.pos
                && self.verified == Some((m.len(), m.modified().ok()))
        })
    }

    /// Checks the path against the open file. Call it when a read returned 0
    /// (so the open file has been read to its end), or periodically. On a
    /// change, the caller must first read the old file to its end again (a
    /// writer may have added its last lines since), send out everything
    /// read, then call `switch` with the returned change.
    pub fn check(&mut self) -> Option<Change> {
        if self.orphan {
            // Reading on a file that left the path: until a regular file
            // is there again.
            return match std::fs::metadata(&self.path) {
                Ok(m) if m.is_file() => Some(Change::Recreated),
                _ => None,
            };
        }
        let Some(file) = &self.file else {
            // Waiting: does the path name a regular file again?
            return match std::fs::metadata(&self.path) {
                Ok(m) if m.is_file() => Some(Change::Recreated),
                _ => None,
            };
        };
        if self.rewritten {
            return Some(Change::Truncated);
        }
        let st = match self.stat.take() {
            Some(s) => s,
            None => {
                let m = file.file().metadata().ok()?;
                let len = match file {
                    Source::Plain(_) => m.len(),
                    Source::Gzip(g) => g.size().ok()?,
                };
                Stat::of(&m, len)
            }
        };
        let linked = st.nlink > 0;
        match std::fs::metadata(&self.path) {
            // Deleted: the rest is read from the descriptor, then we wait.
            // Renamed away with nothing at the path yet: read on (the writer
            // may still write to it) until a new file appears — also when
            // the renamed file was deleted since (compressed): its writer
            // may not have reopened yet.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                if linked {
                    self.renamed = true;
                }
                (!linked && !self.renamed_away(file.file())).then_some(Change::Deleted)
            }
            Err(_) => None,
            // Something else at the path (a directory, a device): said so,
            // and the open file is read on (`switch`).
            Ok(now) if !now.is_file() => Some(Change::Unreadable),
            Ok(now) if (now.dev(), now.ino()) != self.id => {
                if linked {
                    self.renamed = true;
                }
                // Deleted at the path: recreated. Renamed (and perhaps
                // deleted since: compressed, or `rotate 0`): a rotation.
                if !linked && !self.renamed_away(file.file()) {
                    Some(Change::Recreated)
                } else if now.len() == 0 {
                    // A new, still empty file: a writer may still be
                    // finishing the old one (logrotate `create` before the
                    // application reopens); keep reading the old file until
                    // the new one has data, then switch — unless a
                    // generation newer than the old one is there (the path
                    // rotated again meanwhile): its writer has moved on to
                    // that one. Looked up once per new file at the path.
                    let new_id = ((now.dev(), now.ino()), now.modified().ok());
                    if self.looked_past != Some(new_id) {
                        self.looked_past = Some(new_id);
                        if self.next_generation().is_some() {
                            return Some(Change::Rotated);
                        }
                    }
                    None
                } else {
                    Some(Change::Rotated)
                }
            }
            Ok(_) if st.len < self.pos => Some(Change::Truncated),
            Ok(_) if self.verified != Some((st.len, st.modified)) => {
                // Grown or touched: are the bytes before the position still
                // those that were read? (Truncated and rewritten past it.)
                match self.before.still_in(file, self.pos) {
                    Ok(true) => {
                        self.verified = Some((st.len, st.modified));
                        None
                    }
                    Ok(false) => {
                        self.rewritten = true;
                        Some(Change::Truncated)
                    }
                    Err(_) => None,
                }
            }
            Ok(_) => None,
        }
    }

    /// Acts on a change reported by `check`, after the caller sent out all
    /// it had read; returns the event to report (none when nothing changed
    /// for the reader: a copy is read on, or the path is still not
    /// readable). A deleted file is closed; after a rotation the next newer
    /// generation, or else the file at the path, is opened (and admitted
    /// again by the path rule) and read from its start; after a truncation
    /// the copy `copytruncate` made is read on first when it continues
    /// what was read.
    pub fn switch(&mut self, change: Change) -> Option<Change> {
        let was_waiting = self.file.is_none();
        let verified = self.verified.take().and_then(|(_, m)| m);
        let seen_at = self.read_modified.take().or(verified);
        self.rewritten = false;
        self.stat = None;
        self.skipped.clear();
        match change {
            Change::Truncated => {
                if self.leaving_copy.is_none() {
                    let copy = match self.short_copy.take() {
                        Some(copy) => Some(copy),
                        None => self.copy_of_position(),
                    };
                    if let Some((g, file)) = copy {
                        self.short = None;
                        self.set_file(file, (g.dev, g.inode), g.path);
                        self.leaving_copy = Some(Change::Truncated);
                        return None;
                    }
                    self.skipped = self.compressed_copy(seen_at).into_iter().collect();
                }
                self.restart();
                self.begin_short(None);
                Some(Change::Truncated)
            }
            Change::Deleted | Change::Unreadable => {
                // The open file is read on while its writer may write: a
                // deleted file keeps its data until the last descriptor is
                // closed. It is left when a file is at the path again.
                if self.file.is_some() && !self.orphan {
                    self.orphan = true;
                    return Some(change);
                }
                self.file = None;
                self.restart();
                Some(change)
            }
            Change::Rotated => {
                if self.corrupt {
                    self.skipped.push(Skipped {
                        path: self.file_path.clone(),
                        bytes: None,
                        reason: Some("is a corrupt gzip file"),
                    });
                }
                let unread = self.compressed_unread();
                self.skipped.extend(unread);
                if let Some((g, file)) = self.next_generation() {
                    self.restart();
                    self.set_file(file, (g.dev, g.inode), g.path);
                    return Some(Change::Rotated);
                }
                let event = self.leaving_copy.take().unwrap_or(Change::Rotated);
                self.open_path(event, was_waiting)
            }
            Change::Recreated => {
                self.leaving_copy = None;
                if std::mem::take(&mut self.orphan) {
                    // The file that left the path was read to its end: on
                    // through the generations newer than it, as after a
                    // rotation.
                    if let Some((g, file)) = self.next_generation() {
                        self.restart();
                        self.set_file(file, (g.dev, g.inode), g.path);
                        return Some(Change::Rotated);
                    }
                }
                self.open_path(Change::Recreated, was_waiting)
            }
        }
    }

    fn restart(&mut self) {
        self.pos = 0;
        self.before.clear();
        self.short = None;
        self.short_copy = None;
    }

    /// Reading the file at the path from fewer than `TAG_BYTES` on: keeps
    /// the generations as they were before it was opened (`listing`: the
    /// one on which the walk through them ended, or one made just before
    /// the open), else as they are now, so that a `copytruncate` copy made
    /// of the file from then on is told by its coming (`short_copy_made`).
    /// Without a listing, a file already longer than a tag is left alone:
    /// its first read takes the position past it.
    fn begin_short(&mut self, listing: Option<Listing>) {
        self.short = None;
        let pending = self.copy_pending.take();
        let Some(Source::Plain(file)) = &self.file else {
            return;
        };
        if self.file_path != self.path || self.pos >= TAG_BYTES as u64 {
            return;
        }
        let listing = match listing {
            Some(l) => l,
            None if file.metadata().is_ok_and(|m| m.len() >= TAG_BYTES as u64) => {
                return;
            }
            None => Listing::of(&self.path, &self.roots),
        };
        let mut files: Vec<Seen> = listing.all.iter().map(Seen::of_generation).collect();
        let mut stamp = Some(listing.stamp());
        if let Some(pending) = pending {
            files.retain(|s| !s.same(&pending));
            stamp = None;
        }
        self.short = Some(Short {
            files,
            stamp,
            last: None,
        });
    }

    /// One look while fewer than `TAG_BYTES` of the file at the path were
    /// read, its modification time now `modified`: true when `copytruncate`
    /// copied it (and truncated it) since its content began to be read, the
    /// copy then held in `short_copy`. Lists the directory only when the
    /// file's modification time and the directory changed since the last
    /// look, and only while the path still names the file (a rename is a
    /// rotation, for `check`).
    fn short_copy_made(&mut self, modified: Option<SystemTime>) -> bool {
        let Some(short) = &mut self.short else {
            return false;
        };
        if short.last == modified {
            return false;
        }
        if short.stamp.is_some_and(|s| s.current(&self.path)) {
            short.last = modified;
            return false;
        }
        if !self.at_path() {
            return false;
        }
        let copy = self.short_look();
        if let Some(short) = &mut self.short {
            // Else looked at again at the file's next change: a copy still
            // being written, or a truncation still to come, changes it.
            short.last = modified;
        }
        self.short_copy = copy;
        self.short_copy.is_some()
    }

    /// The copy of what was read, among the plain generations that came
    /// since the content began to be read and were not read: the oldest
    /// that holds exactly the bytes read at its start (at position 0, the
    /// oldest: what came before was copied and truncated before it was
    /// read), unless the file at the path still holds it all — copied and
    /// not truncated yet (the newest), or copied without truncation
    /// (logrotate `copy`).
    fn short_look(&self) -> Option<(Generation, Source)> {
        let short = self.short.as_ref()?;
        let now = Listing::of(&self.path, &self.roots);
        // Oldest first: the listing is newest first (by name where times
        // tie), and the sort keeps that order reversed for equal times.
        let mut copies: Vec<&Generation> = now
            .older()
            .iter()
            .rev()
            .filter(|g| {
                let seen = Seen::of_generation(g);
                g.compressed.is_none()
                    && g.size > 0
                    && (g.dev, g.inode) != self.id
                    && !short.files.iter().any(|s| s.same(&seen))
                    && !self.seen.iter().any(|s| s.same(&seen))
            })
            .collect();
        copies.sort_by_key(|g| (g.created.unwrap_or(g.modified), g.modified));
        let copy = copies
            .into_iter()
            .find_map(|g| self.holds_what_was_read(g))?;
        (!self.path_still_holds(&copy.1, copy.0.size)).then_some(copy)
    }

    /// `g`, opened, when it holds exactly the bytes read (all of them:
    /// fewer than `TAG_BYTES`) at its start.
    fn holds_what_was_read(&self, g: &Generation) -> Option<(Generation, Source)> {
        if self.before.bytes().len() as u64 != self.pos || g.size < self.pos {
            return None;
        }
        let file = g.source(&self.roots)?;
        self.before
            .still_in(&file, self.pos)
            .ok()?
            .then(|| (g.clone(), file))
    }

    /// True when the open file no longer has the path's name: it was
    /// renamed away (perhaps deleted since). Its last name is read from
    /// `/proc/self/fd` (a deleted file keeps the name it last had, followed
    /// by ` (deleted)`); without `/proc`, whether this follower saw it
    /// renamed.
    fn renamed_away(&self, file: &File) -> bool {
        match std::fs::read_link(access::fd_link(file)) {
            Ok(name) => {
                let name = name.as_os_str().as_bytes();
                let name = name.strip_suffix(b" (deleted)").unwrap_or(name);
                name != self.path.as_os_str().as_bytes()
            }
            Err(_) => self.renamed,
        }
    }

    /// After a rotation: the generations newer than the file just finished
    /// that were compressed before they were read, oldest first — what the
    /// follower skips (gzip ones are read, not skipped). A compressed copy
    /// of the finished file itself (the usual `compress`: the renamed file,
    /// compressed at once) is none of them: its modification time is the
    /// file's own (logrotate keeps it).
    fn compressed_unread(&mut self) -> Vec<Skipped> {
        if !self.ensure_listing(&mut false) {
            return Vec::new();
        }
        let (Some(Source::Plain(file)), Some(listing)) = (&self.file, &self.listing) else {
            return Vec::new();
        };
        let Ok(meta) = file.metadata() else {
            return Vec::new();
        };
        let Ok(modified) = meta.modified() else {
            return Vec::new();
        };
        let mut out: Vec<Skipped> = listing
            .all
            .iter()
            .filter(|g| {
                !g.readable()
                    && g.modified > modified
                    && self.floor.is_none_or(|floor| g.modified >= floor)
            })
            // xz, zstd, bzip2: no size to tell without decompressing.
            .map(|g| Skipped {
                path: g.path.clone(),
                bytes: None,
                reason: None,
            })
            .collect();
        out.reverse();
        out
    }

    /// After a truncation with no plain copy to read on: the newest
    /// generation, when it is compressed and was written no earlier than
    /// the file was last seen whole (`seen_at`) — the `copytruncate` copy,
    /// compressed before the rest of it was read. What it holds past the
    /// read position was skipped (known from a gzip trailer).
    fn compressed_copy(&self, seen_at: Option<SystemTime>) -> Option<Skipped> {
        let seen_at = seen_at?;
        let g = generations::all(&self.path, &self.roots)
            .into_iter()
            .next()?;
        if g.readable() || g.modified < seen_at {
            return None;
        }
        let bytes = match g.compressed {
            Some(Compression::Gzip) => {
                let gz = g.open(&self.roots)?;
                let size = u64::from(gzip::trailer(&gz, g.size)?.size);
                if size <= self.pos {
                    return None;
                }
                Some(size - self.pos)
            }
            _ => None,
        };
        Some(Skipped {
            path: g.path,
            bytes,
            reason: None,
        })
    }

    /// Opens the file at the path, from its start; when it cannot be, waits
    /// for it (and says so, unless already waiting).
    fn open_path(&mut self, event: Change, was_waiting: bool) -> Option<Change> {
        self.restart();
        // Open, then verify (as every open): a symlink swapped in at the
        // path between the check and the open is refused.
        // The walk through the generations ends here.
        self.walk_listings = 0;
        // The generations before the open: the walk's last listing (it
        // found none newer), else listed now — a copy made after this is
        // of the file opened. (Not while waiting: a path that stays
        // unreadable is tried at every look; listed after the open then.)
        let before_open = self
            .listing
            .take()
            .or_else(|| (!was_waiting).then(|| Listing::of(&self.path, &self.roots)));
        match access::open_verified(&self.roots, &self.path) {
            Ok((_, file, meta)) => {
                let path = self.path.clone();
                self.set_file(Source::Plain(file), access::file_id(&meta), path);
                self.leaving_copy = None;
                self.begin_short(before_open);
                Some(event)
            }
            Err(refusal) => {
                self.file = None;
                if was_waiting {
                    None
                } else if refusal.status() == 404 {
                    // Gone again before we could open it: keep waiting.
                    Some(event)
                } else {
                    Some(Change::Unreadable)
                }
            }
        }
    }

    /// After a rotation: the oldest generation newer than the file just
    /// finished, opened. Newer means before it in the chain (newest first),
    /// or, when it is not in the chain (renamed to a name no rule knows),
    /// modified later than it. A compressed one cannot be read as text and
    /// is passed over, and so is one already read or older than the first
    /// file followed (equal modification times leave the chain's order open).
    /// After a `copytruncate` copy, only a copy modified later than it is
    /// newer: copies are never read otherwise, so a tie of times cannot be
    /// told from an older copy by what was read.
    fn next_generation(&mut self) -> Option<(Generation, Source)> {
        let modified = self
            .file
            .as_ref()
            .and_then(|f| f.file().metadata().ok())
            .and_then(|m| m.modified().ok())?;
        let mut fresh = false;
        for _ in 0..GENERATION_RELIST {
            if !self.ensure_listing(&mut fresh) {
                return None;
            }
            let chain = self.listing.as_ref()?.older();
            let newer: Vec<&Generation> =
                match chain.iter().position(|g| (g.dev, g.inode) == self.id) {
                    Some(k) => chain[..k].iter().collect(),
                    None => chain.iter().filter(|g| g.modified > modified).collect(),
                };
            let next = newer.into_iter().rev().find(|g| {
                g.readable()
                    && (self.leaving_copy.is_none() || g.modified > modified)
                    && !self.seen.iter().any(|s| s.same(&Seen::of_generation(g)))
                    && self.floor.is_none_or(|floor| g.modified >= floor)
                    && !self.is_gzip_copy_of_current(g)
            });
            let Some(next) = next.cloned() else {
                // The end of the listing: the end of the chain, unless
                // the directory changed since it was listed.
                if fresh || self.listing.as_ref()?.current(&self.path) {
                    return None;
                }
                self.listing = None;
                continue;
            };
            if let Some(file) = next.source(&self.roots) {
                let size = next.text_size(&self.roots);
                if self.leaving_copy.is_some() && self.path_still_holds(&file, size) {
                    // A copy made of the file at the path, which has not been
                    // truncated since: the path's file holds it all.
                    self.copy_pending = Some(Seen::of_generation(&next));
                    return None;
                }
                return Some((next, file));
            }
            // Rotated on since the listing: list again.
            self.listing = None;
        }
        None
    }

    /// True when the file at the path still holds the bytes `copy` has just
    /// before `size` (its end): the copy was made, but the truncation that
    /// follows it has not happened yet.
    fn path_still_holds(&self, copy: &Source, size: u64) -> bool {
        let mut end = Recent::default();
        if end.fill_from(copy, size).is_err() {
            return false;
        }
        access::open_verified(&self.roots, &self.path)
            .ok()
            .and_then(|(_, file, _)| end.still_in(&file, size).ok())
            .unwrap_or(false)
    }

    /// After a truncation: the copy `copytruncate` made of this file,
    /// opened — the newest generation that holds the bytes that were read
    /// just before the read position (and perhaps more after it). Usually
    /// the newest one; an older one when the file was copied and truncated
    /// twice between two looks (the newer copies then follow it).
    fn copy_of_position(&self) -> Option<(Generation, Source)> {
        if self.before.bytes().len() < TAG_BYTES {
            // Fewer bytes than a tag covers (the start of a file, often a
            // date common to many files) cannot tell a copy of this file
            // alone: one that came since the content began to be read, and
            // holds exactly what was read.
            return self.short_look();
        }
        // The copy may have been compressed since (copytruncate with
        // compress): gzip ones are looked into too, a few at most (each
        // costs a pass through it).
        let mut gzip_tries = 0;
        generations::older(&self.path, &self.roots)
            .into_iter()
            .take_while(Generation::readable)
            .filter(|g| {
                (g.dev, g.inode) != self.id && g.text_size(&self.roots) >= self.pos && {
                    gzip_tries += usize::from(g.compressed.is_some());
                    gzip_tries <= MAX_GZIP_COPY_CANDIDATES
                }
            })
            .find_map(|g| {
                let file = g.source(&self.roots)?;
                self.before
                    .still_in(&file, self.pos)
                    .ok()?
                    .then_some((g, file))
            })
    }

    /// True when `g` is a gzip file whose trailer names the text of the
    /// plain file being read: its compressed copy (logrotate `compress`
    /// without `delaycompress`), which is not read again.
    fn is_gzip_copy_of_current(&self, g: &Generation) -> bool {
        let Some(Source::Plain(file)) = &self.file else {
            return false;
        };
        if g.compressed != Some(Compression::Gzip) {
            return false;
        }
        let Some(gz) = g.open(&self.roots) else {
            return false;
        };
        let (Some(t), Ok(meta)) = (gzip::trailer(&gz, g.size), file.metadata()) else {
            return false;
        };
        gzip::is_copy_of(t, file, meta.len(), MAX_COPY_CHECK)
    }

    /// The gzip file being read stopped inflating before its end: what
    /// to report once its good bytes were sent (a follower that ends
    /// there, not following).
    pub fn take_corrupt(&mut self) -> Option<Skipped> {
        // Read up to where it stopped inflating (a window ends there
        // without reading past it), or a read found it.
        let at_stop = self.file.as_ref().is_some_and(|f| {
            f.corrupt().is_some() && f.size().is_ok_and(|n| self.rest_is_one_line(f, n))
        });
        if !std::mem::take(&mut self.corrupt) && !at_stop {
            return None;
        }
        Some(Skipped {
            path: self.file_path.clone(),
            bytes: None,
            reason: Some("is a corrupt gzip file"),
        })
    }

    /// True when what lies between the read position and `end` is at most
    /// one unterminated line (a window ends before it): the reader is at
    /// the end of the text, as far as lines go.
    fn rest_is_one_line(&self, f: &Source, end: u64) -> bool {
        if self.pos >= end {
            return true;
        }
        let Ok(n) = usize::try_from(end - self.pos) else {
            return false;
        };
        if n > MAX_MESSAGE_BYTES {
            return false;
        }
        let mut rest = vec![0u8; n];
        f.read_at(&mut rest, self.pos)
            .is_ok_and(|got| !rest[..got].contains(&b'\n'))
    }

    /// Gives back what a gzip generation's reader holds between reads (an
    /// idle follower).
    pub fn release(&self) {
        if let Some(f) = &self.file {
            f.release();
        }
    }

    /// True when the file being read is the one at the path (not an older
    /// generation).
    pub fn at_path(&self) -> bool {
        std::fs::metadata(&self.path).is_ok_and(|m| (m.dev(), m.ino()) == self.id)
    }

    /// True when the file being read is a gzip file that stopped
    /// inflating before its end (the chain of older generations ends
    /// there).
    pub fn is_corrupt(&self) -> bool {
        self.corrupt || self.file.as_ref().is_some_and(|f| f.corrupt().is_some())
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

    fn setup(tag: &str, content: &[u8]) -> (Dir, PathBuf, Followed) {
        let dir =
            std::env::temp_dir().join(format!("wstail-followed-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let dir = std::fs::canonicalize(&dir).unwrap();
        let path = dir.join("a.log");
        std::fs::write(&path, content).unwrap();
        let (_, file, meta) = access::open_verified(std::slice::from_ref(&dir), &path).unwrap();
        let lf = Followed::new(
            path.clone(),
            vec![dir.clone()],
            (Source::Plain(file), path.clone()),
            access::file_id(&meta),
            0,
        );
        (Dir(dir), path, lf)
    }

    /// Reads as the follow loop does: what `available` says is there (its
    /// stat is then the one the next `check` uses).
    fn read_available(lf: &mut Followed) -> Vec<u8> {
        let mut out = Vec::new();
        while lf.available().unwrap() > 0 {
            let got = read_all(lf);
            if got.is_empty() {
                break;
            }
            out.extend(got);
        }
        out
    }

    fn read_all(lf: &mut Followed) -> Vec<u8> {
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
        lf.switch(Change::Truncated);
        assert_eq!(read_all(&mut lf), b"x\n");
        // Truncated and written again past the read position: the size
        // cannot tell, the bytes before the position can.
        std::fs::write(&path, b"line 3\nline 4\nline 5\n").unwrap();
        assert_eq!(read_all(&mut lf), b"");
        assert_eq!(lf.check(), Some(Change::Truncated));
        lf.switch(Change::Truncated);
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
        // The follower checks after a read found nothing more.
        assert_eq!(lf.check(), None);
        assert!(lf.unchanged());
        append(&path, b"b\n");
        assert!(!lf.unchanged(), "grown");
        assert_eq!(read_all(&mut lf), b"b\n");
        assert_eq!(lf.check(), None);
        assert!(lf.unchanged());
        // Rewritten to the same size: the modification time tells.
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&path, b"c\nd\n").unwrap();
        assert!(!lf.unchanged(), "touched");
        assert_eq!(lf.check(), Some(Change::Truncated));
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
        lf.switch(Change::Rotated);
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
        lf.switch(Change::Deleted);
        // Read on: its writer may still write to it.
        assert!(!lf.is_waiting());
        assert_eq!(lf.check(), None);
        std::fs::write(&path, b"c\n").unwrap();
        assert_eq!(lf.check(), Some(Change::Recreated));
        lf.switch(Change::Recreated);
        assert_eq!(read_all(&mut lf), b"c\n");
        // Deleted and replaced between two looks.
        std::fs::remove_file(&path).unwrap();
        std::fs::write(&path, b"").unwrap();
        assert_eq!(lf.check(), Some(Change::Recreated));
    }

    #[test]
    fn renamed_then_deleted_is_a_rotation() {
        // logrotate `compress` without `delaycompress`: renamed, then
        // deleted once compressed; a new file at the path.
        let (d, path, mut lf) = setup("renamed-deleted", b"a\n");
        assert_eq!(read_all(&mut lf), b"a\n");
        let moved = d.0.join("a.log.1");
        std::fs::rename(&path, &moved).unwrap();
        std::fs::remove_file(&moved).unwrap();
        // Nothing at the path yet: read on, as after a plain rename.
        assert_eq!(lf.check(), None);
        assert!(!lf.is_waiting());
        // An empty new file: its writer may still write the old one (it
        // reopens after logrotate's postrotate): read on.
        std::fs::write(&path, b"").unwrap();
        assert_eq!(lf.check(), None);
        assert!(!lf.is_waiting());
        append(&path, b"new\n");
        assert_eq!(lf.check(), Some(Change::Rotated));
        assert_eq!(lf.switch(Change::Rotated), Some(Change::Rotated));
        assert!(lf.take_skipped().is_empty());
        assert_eq!(read_all(&mut lf), b"new\n");
        // Deleted at the path itself, then created again: recreated.
        std::fs::remove_file(&path).unwrap();
        std::fs::write(&path, b"b\n").unwrap();
        assert_eq!(lf.check(), Some(Change::Recreated));
    }

    /// Sets a file's modification time `secs` seconds ahead (the kernel's
    /// coarse clock gives files written at once the same time).
    fn age(path: &std::path::Path, secs: u64) {
        let now = std::time::SystemTime::now();
        let t = now + std::time::Duration::from_secs(secs);
        std::fs::File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(t)
            .unwrap();
    }

    #[test]
    fn two_rotations_between_two_looks_go_through_the_newer_generation() {
        let (d, path, mut lf) = setup("chain", b"a1\n");
        assert_eq!(read_all(&mut lf), b"a1\n");
        // a.log -> a.log.1, then a.log (b) -> a.log.1 and a.log.1 -> a.log.2,
        // and a new, still empty a.log: the writer writes a.log.1.
        std::fs::rename(&path, d.0.join("a.log.1")).unwrap();
        std::fs::write(&path, b"b1\n").unwrap();
        age(&path, 5);
        std::fs::rename(d.0.join("a.log.1"), d.0.join("a.log.2")).unwrap();
        std::fs::rename(&path, d.0.join("a.log.1")).unwrap();
        std::fs::write(&path, b"").unwrap();
        assert_eq!(lf.check(), Some(Change::Rotated));
        assert_eq!(read_all(&mut lf), b"");
        assert_eq!(lf.switch(Change::Rotated), Some(Change::Rotated));
        assert_eq!(read_all(&mut lf), b"b1\n");
        // Its writer goes on; the empty file at the path waits.
        append(&d.0.join("a.log.1"), b"b2\n");
        assert_eq!(lf.check(), None);
        assert_eq!(read_all(&mut lf), b"b2\n");
        append(&path, b"c1\n");
        assert_eq!(lf.check(), Some(Change::Rotated));
        assert_eq!(lf.switch(Change::Rotated), Some(Change::Rotated));
        assert_eq!(read_all(&mut lf), b"c1\n");
        assert_eq!(lf.check(), None);
    }

    /// Truncates the file in place, as `copytruncate` does.
    fn truncate(path: &PathBuf) {
        let f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
        f.set_len(0).unwrap();
    }

    #[test]
    fn copytruncate_reads_the_copy_on_from_the_position() {
        let old: Vec<u8> = (0..8)
            .flat_map(|i| format!("line {i} of the log\n").into_bytes())
            .collect();
        let (d, path, mut lf) = setup("copy", &old);
        assert_eq!(read_all(&mut lf), old);
        append(&path, b"l3\n"); // written after the last read
        std::fs::copy(&path, d.0.join("a.log.1")).unwrap();
        truncate(&path);
        append(&path, b"n1 and more than before\n");
        assert_eq!(lf.check(), Some(Change::Truncated));
        // No event yet: the copy continues what was read.
        assert_eq!(lf.switch(Change::Truncated), None);
        assert_eq!(read_all(&mut lf), b"l3\n");
        assert_eq!(lf.check(), Some(Change::Rotated));
        assert_eq!(lf.switch(Change::Rotated), Some(Change::Truncated));
        assert_eq!(read_all(&mut lf), b"n1 and more than before\n");
        // Fewer bytes read than a tag covers: a copy holding them is not
        // taken for this file's (a date, say, begins many files).
        std::fs::write(d.0.join("a.log.1"), b"n1 and more than before\nx\n").unwrap();
        truncate(&path);
        assert_eq!(lf.check(), Some(Change::Truncated));
        assert_eq!(lf.switch(Change::Truncated), Some(Change::Truncated));
        assert_eq!(lf.pos(), 0);
        // A copy whose bytes before the position differ is not used.
        append(&path, &old);
        assert_eq!(read_all(&mut lf), old);
        let other: Vec<u8> = old
            .iter()
            .map(|&b| if b == b'g' { b'G' } else { b })
            .collect();
        std::fs::write(d.0.join("a.log.1"), [&other[..], b"more\n"].concat()).unwrap();
        truncate(&path);
        assert_eq!(lf.check(), Some(Change::Truncated));
        assert_eq!(lf.switch(Change::Truncated), Some(Change::Truncated));
        assert_eq!(lf.pos(), 0);
    }

    /// Below `TAG_BYTES` read, a copy is told by its coming since the
    /// content began to be read: also when the file was copied and
    /// truncated back to the read position between two looks (its size
    /// says nothing), and when what was read is a short line.
    #[test]
    fn a_short_file_copied_and_truncated_between_two_looks_is_read_from_its_copy() {
        let tick = std::time::Duration::from_millis(20);
        let (d, path, mut lf) = setup("shortcopy", b"");
        assert_eq!(read_available(&mut lf), b"");
        assert_eq!(lf.check(), None);
        // Position 0: written, copied and truncated back to 0 unseen.
        std::thread::sleep(tick);
        append(&path, b"one\n");
        std::fs::copy(&path, d.0.join("a.log.1")).unwrap();
        truncate(&path);
        assert_eq!(read_available(&mut lf), b"", "nothing read past the copy's");
        assert_eq!(lf.check(), Some(Change::Truncated));
        assert_eq!(lf.switch(Change::Truncated), None, "the copy is read on");
        assert_eq!(read_available(&mut lf), b"one\n");
        // The path is still empty: the copy is kept until it has data.
        assert_eq!(lf.check(), None);
        append(&path, b"two\n");
        assert_eq!(lf.check(), Some(Change::Rotated));
        assert_eq!(lf.switch(Change::Rotated), Some(Change::Truncated));
        assert_eq!(read_available(&mut lf), b"two\n");
        // Four bytes read: written, copied, truncated and written again,
        // longer, before the next look.
        std::thread::sleep(tick);
        append(&path, b"three\n");
        std::fs::rename(d.0.join("a.log.1"), d.0.join("a.log.2")).unwrap();
        std::fs::copy(&path, d.0.join("a.log.1")).unwrap();
        truncate(&path);
        append(&path, b"four\n");
        assert_eq!(
            read_available(&mut lf),
            b"",
            "\"four\" comes after the copy"
        );
        assert_eq!(lf.check(), Some(Change::Truncated));
        assert_eq!(lf.switch(Change::Truncated), None);
        assert_eq!(read_available(&mut lf), b"three\n");
        assert_eq!(lf.check(), Some(Change::Rotated));
        assert_eq!(lf.switch(Change::Rotated), Some(Change::Truncated));
        assert_eq!(read_available(&mut lf), b"four\n");
        // A generation that came since but does not hold what was read is
        // no copy of this file.
        std::thread::sleep(tick);
        std::fs::write(d.0.join("a.log.9"), b"other\n").unwrap();
        append(&path, b"five\n");
        assert_eq!(read_available(&mut lf), b"five\n");
        assert_eq!(lf.check(), None);
    }

    /// What is not a copy, below `TAG_BYTES` read: generations renamed away
    /// (two rotations between two looks), the generations that come while
    /// a deleted file is read on, and copies of a file that was not
    /// truncated (logrotate `copy`). And a copy listed while it was still
    /// being written is found when it is whole.
    #[test]
    fn below_a_tag_only_a_copy_of_the_file_at_the_path_is_taken_for_one() {
        let tick = std::time::Duration::from_millis(20);
        let numbered = |d: &Dir, k: u32| d.0.join(format!("a.log.{k}"));

        // Two rotations between two looks: F's lines, then F2, then F3.
        let (d, path, mut lf) = setup("short-rotated", b"");
        assert_eq!(read_available(&mut lf), b"");
        std::thread::sleep(tick);
        append(&path, b"F1\nF2\n");
        std::fs::rename(&path, numbered(&d, 1)).unwrap();
        append(&path, b"G\n");
        std::fs::rename(numbered(&d, 1), numbered(&d, 2)).unwrap();
        std::fs::rename(&path, numbered(&d, 1)).unwrap();
        append(&path, b"H\n");
        assert_eq!(read_available(&mut lf), b"F1\nF2\n");
        assert_eq!(lf.check(), Some(Change::Rotated));
        assert_eq!(lf.switch(Change::Rotated), Some(Change::Rotated));
        assert_eq!(read_available(&mut lf), b"G\n");
        assert_eq!(lf.check(), Some(Change::Rotated));
        assert_eq!(lf.switch(Change::Rotated), Some(Change::Rotated));
        assert_eq!(read_available(&mut lf), b"H\n");
        drop(d);

        // Deleted while its writer writes on, then a generation appears:
        // the deleted file is still read to its end.
        let (d, path, mut lf) = setup("short-orphan", b"");
        let mut writer = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        assert_eq!(read_available(&mut lf), b"");
        assert_eq!(lf.check(), None);
        std::thread::sleep(tick);
        std::fs::remove_file(&path).unwrap();
        assert_eq!(lf.check(), Some(Change::Deleted));
        assert_eq!(lf.switch(Change::Deleted), Some(Change::Deleted));
        std::fs::write(numbered(&d, 1), b"other\n").unwrap();
        writer.write_all(b"x\n").unwrap();
        assert_eq!(read_available(&mut lf), b"x\n");
        drop(d);

        // logrotate `copy` (no truncation), twice: nothing is sent again.
        let (d, path, mut lf) = setup("short-copy-only", b"ab\n");
        assert_eq!(read_available(&mut lf), b"ab\n");
        std::thread::sleep(tick);
        std::fs::copy(&path, numbered(&d, 1)).unwrap();
        std::fs::rename(numbered(&d, 1), numbered(&d, 2)).unwrap();
        std::fs::copy(&path, numbered(&d, 1)).unwrap();
        append(&path, b"cd\n");
        assert_eq!(read_available(&mut lf), b"cd\n");
        assert_eq!(lf.check(), None);
        // Copied once more, all of it: idle looks list nothing while the
        // file does not change (a merged view looks with `available`).
        std::thread::sleep(tick);
        std::fs::copy(&path, numbered(&d, 3)).unwrap();
        append(&path, b"ef\n");
        assert_eq!(read_available(&mut lf), b"ef\n");
        std::fs::copy(&path, numbered(&d, 4)).unwrap();
        assert_eq!(read_available(&mut lf), b"");
        assert_eq!(lf.check(), None);
        let listed = generations::listings();
        for _ in 0..10 {
            assert_eq!(read_available(&mut lf), b"");
            assert_eq!(lf.check(), None);
        }
        assert_eq!(generations::listings(), listed, "idle looks list nothing");
        drop(d);

        // A copy listed while still empty (being written) is found whole.
        let (d, path, mut lf) = setup("short-copy-written", b"");
        assert_eq!(read_available(&mut lf), b"");
        std::thread::sleep(tick);
        append(&path, b"one\n");
        std::fs::write(numbered(&d, 1), b"").unwrap();
        assert_eq!(read_available(&mut lf), b"one\n");
        std::thread::sleep(tick);
        append(&path, b"two\n");
        std::fs::write(numbered(&d, 1), b"one\ntwo\n").unwrap();
        truncate(&path);
        assert_eq!(lf.check(), Some(Change::Truncated));
        assert_eq!(lf.switch(Change::Truncated), None, "the copy is read on");
        assert_eq!(read_available(&mut lf), b"two\n");
    }

    /// A follower far behind a log that rotates at every step it takes
    /// lists the directory at every step, and reads every generation: the
    /// bound on listings counts only listings made without progress.
    #[test]
    fn a_walk_behind_a_log_rotating_at_every_step_reads_every_generation() {
        let (d, path, _) = setup("walk-churned", b"");
        let roots = vec![d.0.clone()];
        let name = |k: u32| d.0.join(format!("a.log.{k}"));
        let base = std::time::SystemTime::now() - std::time::Duration::from_secs(5000);
        let stamp = |p: &std::path::Path, secs: u64| {
            File::options()
                .write(true)
                .open(p)
                .unwrap()
                .set_modified(base + std::time::Duration::from_secs(secs))
                .unwrap();
        };
        let n = 30u32;
        for k in (1..=n).rev() {
            std::fs::write(name(k), format!("g{}\n", n - k)).unwrap();
            stamp(&name(k), u64::from(n - k));
        }
        std::fs::write(&path, format!("g{n}\n")).unwrap();
        stamp(&path, u64::from(n));
        let oldest = name(n);
        let (_, file, meta) = access::open_verified(&roots, &oldest).unwrap();
        let mut lf = Followed::new(
            path.clone(),
            roots,
            (Source::Plain(file), oldest),
            access::file_id(&meta),
            0,
        );
        let mut text = read_all(&mut lf);
        let mut last = n;
        for _ in 0..3 * n {
            // The log rotates: every name moves up one, a new file at the path.
            for k in (1..=last).rev() {
                std::fs::rename(name(k), name(k + 1)).unwrap();
            }
            std::fs::rename(&path, name(1)).unwrap();
            last += 1;
            std::fs::write(&path, format!("g{last}\n")).unwrap();
            stamp(&path, u64::from(last));
            let Some(change) = lf.check() else { break };
            text.extend(read_all(&mut lf));
            lf.switch(change);
            text.extend(read_all(&mut lf));
            if lf.at_path() {
                break;
            }
        }
        let got = String::from_utf8(text).unwrap();
        let want: String = (0..=n).map(|k| format!("g{k}\n")).collect();
        assert!(got.starts_with(&want), "{got}");
    }

    #[test]
    fn a_walk_through_a_thousand_generations_lists_them_once() {
        let (d, path, _) = setup("walk", b"");
        // a.log.1000 (oldest) .. a.log.1, then a.log: each one line, each
        // modified later than the one before.
        let base = std::time::SystemTime::now() - std::time::Duration::from_secs(5000);
        let n = 1000;
        for k in (1..=n).rev() {
            let g = d.0.join(format!("a.log.{k}"));
            std::fs::write(&g, format!("line of generation {k}\n")).unwrap();
            let t = base + std::time::Duration::from_secs((n - k) as u64);
            File::options()
                .write(true)
                .open(&g)
                .unwrap()
                .set_modified(t)
                .unwrap();
        }
        std::fs::write(&path, b"current\n").unwrap();
        // The directory changed well before the resume lists it.
        std::thread::sleep(std::time::Duration::from_millis(200));
        let before = generations::listings();
        let roots = vec![d.0.clone()];
        let listing = Listing::of(&path, &roots);
        let oldest = listing.older().last().unwrap().clone();
        assert_eq!(oldest.path, d.0.join("a.log.1000"));
        let file = oldest.open(&roots).unwrap();
        let mut lf = Followed::new(
            path.clone(),
            roots,
            (Source::Plain(file), oldest.path.clone()),
            (oldest.dev, oldest.inode),
            0,
        )
        .with_listing(Some(listing));
        let began = std::time::Instant::now();
        let mut text = read_all(&mut lf);
        for _ in 0..=n {
            let Some(change) = lf.check() else { break };
            text.extend(read_all(&mut lf));
            lf.switch(change);
            text.extend(read_all(&mut lf));
        }
        let want: String = (1..=n)
            .rev()
            .map(|k| format!("line of generation {k}\n"))
            .chain(["current\n".to_string()])
            .collect();
        assert_eq!(String::from_utf8(text).unwrap(), want);
        assert_eq!(generations::listings() - before, 1, "listed once");
        assert!(
            began.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            began.elapsed()
        );
    }

    #[test]
    fn a_reused_inode_number_is_another_file_when_birth_times_say_so() {
        let t = std::time::SystemTime::UNIX_EPOCH;
        let born = |secs: u64| Some(t + std::time::Duration::from_secs(secs));
        let a = Seen {
            id: (1, 7),
            born: born(1),
        };
        assert!(a.same(&a));
        assert!(!a.same(&Seen { born: born(2), ..a }));
        assert!(a.same(&Seen { born: None, ..a }));
        assert!(!a.same(&Seen { id: (1, 8), ..a }));
    }
}
