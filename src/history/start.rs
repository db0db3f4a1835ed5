//! Where a resumed follower starts (`from=N&inode=I&tag=T`): at N in the
//! file at the path when it is still inode I and still holds the bytes the
//! client had before N (the tag); at N in one of the path's older
//! generations when the path was rotated while the client was away (the
//! follower then goes on through the newer generations to the current
//! file); at N in the copy `copytruncate` made when the file was truncated
//! meanwhile and the copy holds the tagged bytes (then the file from its
//! start, after `truncated`); at N in the gzip copy of the file when it
//! was rotated and compressed meanwhile (logrotate `compress`): found by
//! the tag at N of its uncompressed bytes; otherwise from the start of
//! the file at the path, after the event that says why.

use std::path::{Path, PathBuf};

use crate::follow::file::Change;
use crate::follow::generations::{self, Generation};
use crate::history::source::Source;
use crate::limits::MAX_GZIP_COPY_CANDIDATES;
use crate::wire::meta::Born;
use crate::wire::tag::{TAG_BYTES, Tag};

/// Where to start.
#[derive(Debug)]
pub enum Start {
    /// At this offset of the file at the path.
    Here(u64),
    /// At this offset of an older generation (opened, with its path and
    /// identity); `copy`: the copy `copytruncate` made of the file at the
    /// path.
    Generation {
        file: Source,
        path: PathBuf,
        id: (u64, u64),
        at: u64,
        copy: bool,
    },
    /// From 0 of the file at the path, after this event.
    Over(Change),
}

/// Decides where a resume starts. `file`, `id` and `len` are the file at
/// `path`, just opened.
pub fn start(
    path: &Path,
    roots: &[PathBuf],
    (file, id, len): (&Source, (u64, u64), u64),
    (from, inode, tag): (u64, u64, Option<Tag>),
    born: Option<Born>,
) -> Start {
    // A birth time, where both the client and the file system know it,
    // tells a file recreated under a reused inode number from the same one.
    let same_birth = |b: Option<Born>| born.is_none() || b.is_none() || born == b;
    // Without a tag (an older client), the inode and the size decide alone.
    let same_content = |f: &Source| tag.is_none_or(|t| Tag::of_file(f, from).is_ok_and(|x| x == t));
    if inode == id.1 {
        // The same inode number: the same file, unless it shrank below N or
        // the bytes before N changed (truncated and written again, or
        // deleted and recreated under a reused inode number).
        let file_born = file.file().metadata().ok().and_then(|m| Born::of(&m));
        if !same_birth(file_born) {
            return Start::Over(Change::Recreated);
        }
        if from <= len && same_content(file) {
            return Start::Here(from);
        }
        // Truncated meanwhile: its copy may hold the rest (only a whole tag
        // can tell that the copy holds what the client had: a few first
        // bytes, such as a date, are common to many files).
        if tag.is_some() && from >= TAG_BYTES as u64 {
            // The copy may be compressed since (copytruncate + compress).
            let copy = generations::older(path, roots)
                .into_iter()
                .filter(|g| g.readable() && g.text_size(roots) >= from)
                .take(MAX_GZIP_COPY_CANDIDATES)
                .find_map(|g| {
                    let f = g.source(roots)?;
                    same_content(&f).then_some((g, f))
                });
            if let Some((g, f)) = copy {
                return Start::Generation {
                    file: f,
                    path: g.path,
                    id: (g.dev, g.inode),
                    at: from,
                    copy: true,
                };
            }
        }
        return Start::Over(Change::Truncated);
    }
    if let Some(g) = generations::find(path, roots, inode)
        && g.readable()
        && same_birth(g.created.and_then(Born::at))
        && from <= g.text_size(roots)
        && let Some(gfile) = g.source(roots)
        && same_content(&gfile)
    {
        return Start::Generation {
            file: gfile,
            path: g.path,
            id: (g.dev, g.inode),
            at: from,
            copy: false,
        };
    }
    // Rotated and compressed meanwhile: its gzip copy holds the same bytes
    // before N (only a whole tag can tell).
    if tag.is_some()
        && from >= TAG_BYTES as u64
        && let Some((g, f)) = gzip_copy(path, roots, from, &same_content)
    {
        return Start::Generation {
            file: f,
            path: g.path,
            id: (g.dev, g.inode),
            at: from,
            copy: false,
        };
    }
    Start::Over(Change::Rotated)
}

/// The newest gzip generation whose uncompressed bytes before `from` are
/// the client's (`same`), among the few newest that hold `from` bytes by
/// their trailers: the file the client read, compressed since.
fn gzip_copy(
    path: &Path,
    roots: &[PathBuf],
    from: u64,
    same: &dyn Fn(&Source) -> bool,
) -> Option<(Generation, Source)> {
    generations::older(path, roots)
        .into_iter()
        .filter(|g| g.compressed == Some("gzip") && g.text_size(roots) >= from)
        .take(MAX_GZIP_COPY_CANDIDATES)
        .find_map(|g| {
            let f = g.source(roots)?;
            same(&f).then_some((g, f))
        })
}
