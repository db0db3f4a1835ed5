//! `since=T` without `inode=`: the search covers the log's whole chain.
//! The newest file whose first timestamp is at or before T holds the line
//! (the file at the path first, then its older generations, newest first);
//! only the first block of each file passed over is read — for a gzip
//! generation only its first block is inflated — so that the binary search
//! (`since.rs`, after the handshake) runs over one file. When T falls in a
//! gap between two generations (every line of the chosen one before T),
//! sending starts at 0 of the next newer one (`later`); when T is before
//! every timestamp, at 0 of the oldest generation that has one. The
//! follower then goes through the newer generations to the file at the
//! path.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::follow::generations::{self, Generation};
use crate::history::source::Source;
use crate::history::timestamp::{STAMP_HEAD, Stamp, Target, YearHint, line_time};
use crate::limits::TAIL_BLOCK;

/// One file of the chain, opened.
#[derive(Debug)]
pub struct Opened {
    pub file: Source,
    /// Its own path (the log's path for the file at the path).
    pub path: PathBuf,
    pub id: (u64, u64),
    pub modified: SystemTime,
    /// An older generation, not the file at the path.
    pub generation: bool,
}

/// What the chain's first timestamps say.
#[derive(Debug)]
pub enum Choice {
    /// Search this file; when every line of it is before T, start at 0 of
    /// `later` (the next newer file with a timestamp) instead.
    Search { file: Opened, later: Option<Opened> },
    /// Every first timestamp is after T: from 0 of this file (the oldest).
    Start(Opened),
    /// No file of the chain starts with a timestamp.
    None,
}

/// Chooses the file of the chain of `path` to search for `target`.
/// `current` is the file at the path; `current_has_stamps`: whether its
/// first or last block holds a timestamp (a file that starts with lines
/// without one is still searched, as with `inode=`).
pub fn choose(
    path: &Path,
    roots: &[PathBuf],
    current: Opened,
    current_has_stamps: bool,
    target: &Target,
) -> Choice {
    let mut later: Option<Opened> = None;
    match first_stamp(&current) {
        Some(s) if !target.reached_by(&s) => {
            return Choice::Search {
                file: current,
                later: None,
            };
        }
        Some(_) => later = Some(current),
        None if current_has_stamps => {
            return Choice::Search {
                file: current,
                later: None,
            };
        }
        None => {}
    }
    let chain: Vec<Generation> = generations::older(path, roots)
        .into_iter()
        .take_while(Generation::readable)
        .collect();
    for g in chain {
        let Some(file) = g.source(roots) else {
            continue;
        };
        let opened = Opened {
            file,
            path: g.path.clone(),
            id: (g.dev, g.inode),
            modified: g.modified,
            generation: true,
        };
        match first_stamp(&opened) {
            Some(s) if !target.reached_by(&s) => {
                return Choice::Search {
                    file: opened,
                    later,
                };
            }
            Some(_) => later = Some(opened),
            None => {}
        }
    }
    match later {
        Some(file) => Choice::Start(file),
        None => Choice::None,
    }
}

/// The first timestamp in a file's first block (inflated without the
/// whole-file check for a gzip file: it only chooses where to search).
fn first_stamp(opened: &Opened) -> Option<Stamp> {
    let hint = YearHint::from_time(opened.modified);
    let mut buf = vec![0u8; TAIL_BLOCK];
    let n = match &opened.file {
        Source::Gzip(g) => g.head(&mut buf).ok()?,
        plain => plain.read_at(&mut buf, 0).ok()?,
    };
    buf[..n]
        .split(|&b| b == b'\n')
        .find_map(|line| line_time(&line[..line.len().min(STAMP_HEAD)], &hint))
}
