//! `since=T` without `inode=`: the search covers the log's whole chain.
//! The newest file whose first timestamp is at or before T holds the line
//! (the file at the path first, then its older generations, newest first);
//! only its first block is read from each file passed over — for a gzip
//! generation, only its first block is inflated — so that the binary search
//! (`since.rs`) runs over one file. When T falls in a gap between two
//! generations (every line of the one before T, the next one starting
//! after it), sending starts at 0 of the later one; when T is before every
//! timestamp, at 0 of the oldest generation. The follower then goes
//! through the newer generations to the file at the path.

use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::follow::generations;
use crate::history::since::{self, Since};
use crate::history::source::Source;
use crate::history::timestamp::{STAMP_HEAD, Stamp, Target, YearHint, line_stamp};
use crate::limits::TAIL_BLOCK;

/// One file of the chain, opened.
pub struct Opened {
    pub file: Source,
    /// Its own path (the log's path for the file at the path).
    pub path: PathBuf,
    pub id: (u64, u64),
    pub modified: SystemTime,
}

/// Where `since=` starts in the chain.
pub struct Found {
    pub opened: Opened,
    pub at: u64,
    /// The scan limit stopped the search (`"limit":true`).
    pub limited: bool,
    /// It is an older generation, not the file at the path.
    pub generation: bool,
}

/// Searches the chain of the log at `path`, whose current file is
/// `current`. `Ok(None)`: no timestamp recognised in any file.
pub fn since_in_chain(
    path: &Path,
    roots: &[PathBuf],
    current: Opened,
    target: &Target,
    limit: u64,
) -> io::Result<Option<Found>> {
    // The newest file seen whose first timestamp is after T.
    let mut later: Option<(Opened, bool)> = None;
    let mut older = None;
    let mut next = Some(current);
    let mut generation = false;
    while let Some(file) = next.take() {
        let hint = YearHint::from_time(file.modified);
        match first_stamp(&file.file, hint) {
            Some(s) if !target.reached_by(&s) => {
                let len = file.file.size()?;
                let (found, _) = since::find(&file.file, len, target, hint, limit)?;
                let (at, limited) = match found {
                    Since::At(at) => (at, false),
                    Since::Limit(at) => (at, true),
                    Since::NoTimestamps => (len, false),
                };
                if at >= len
                    && let Some((opened, generation)) = later
                {
                    // Every line before T: the next file starts after it.
                    return Ok(Some(Found {
                        opened,
                        at: 0,
                        limited: false,
                        generation,
                    }));
                }
                return Ok(Some(Found {
                    opened: file,
                    at,
                    limited,
                    generation,
                }));
            }
            Some(_) => later = Some((file, generation)),
            None => {}
        }
        // The older generations, listed once.
        let chain = older.get_or_insert_with(|| {
            generations::older(path, roots)
                .into_iter()
                .take_while(generations::Generation::readable)
                .collect::<Vec<_>>()
                .into_iter()
        });
        for g in chain.by_ref() {
            if let Some(file) = g.source(roots) {
                next = Some(Opened {
                    file,
                    path: g.path.clone(),
                    id: (g.dev, g.inode),
                    modified: g.modified,
                });
                break;
            }
        }
        generation = true;
    }
    // T is before every timestamp: the oldest file that has one, from 0.
    Ok(later.map(|(opened, generation)| Found {
        opened,
        at: 0,
        limited: false,
        generation,
    }))
}

/// The first timestamp in a file's first block (inflated without the
/// whole-file check for a gzip file: it only chooses where to search).
fn first_stamp(file: &Source, hint: YearHint) -> Option<Stamp> {
    let mut buf = vec![0u8; TAIL_BLOCK];
    let n = match file {
        Source::Gzip(g) => g.head(&mut buf).ok()?,
        Source::Plain(_) => file.read_at(&mut buf, 0).ok()?,
    };
    buf[..n]
        .split(|&b| b == b'\n')
        .find_map(|line| line_stamp(&line[..line.len().min(STAMP_HEAD)], hint))
}
