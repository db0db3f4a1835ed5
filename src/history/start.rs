//! The opening decision: where a follower starts, made once for the four
//! start points a request may name (`query::Start`). Before the handshake
//! (`open`): which file of the path's chain is read (`inode=`, checked with
//! `born=`/`tag=` so that a reused inode number is never taken for the file
//! the client saw: 410), a compressed file refused (415), a `since=` on a
//! file without timestamps refused (422), a resume point judged, and a
//! binary tail noticed. After the handshake (`Opening::begin`): the scans
//! that may read up to `--scan-limit` bytes — the last lines and `since=`'s
//! search — run with progress frames and stop when the client leaves.
//!
//! A resume (`from=N&inode=I&tag=T&born=B`) starts at N in the file at the
//! path when it is still that file and still holds the bytes the client
//! had before N (the tag); at N in one of the path's older generations when
//! the path was rotated while the client was away (the follower then goes
//! on through the newer generations to the current file); at N in the copy
//! `copytruncate` made when the file was truncated meanwhile and the copy
//! holds the tagged bytes (then the file from its start, after
//! `truncated`); otherwise from the start of the file at the path, after
//! the event that says why.

use std::fs::{File, Metadata};
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

use log::debug;
use tungstenite::WebSocket;

use crate::access;
use crate::encode::filter::Filter;
use crate::follow::compressed;
use crate::follow::file::Change;
use crate::follow::generations::{self, Generation, Listing};
use crate::follow::stream::End;
use crate::history::since::{self, Since};
use crate::history::timestamp::{self, Target, YearHint};
use crate::history::{scan, window};
use crate::limits::TAIL_BLOCK;
use crate::serve::stall::Stalling;
use crate::wire::meta::Born;
use crate::wire::query::{Pick, Start};
use crate::wire::refusal::{Kind, Refusal};
use crate::wire::tag::{TAG_BYTES, Tag};

/// What the opening decided before the handshake: the file to read, and
/// where in it (or the scan that will find where, once the WebSocket is
/// open).
#[derive(Debug)]
pub struct Opening {
    pub file: File,
    pub id: (u64, u64),
    /// The file's length when it was opened.
    pub len: u64,
    place: Place,
    /// The generations a resume listed (the follower walks them).
    listing: Option<Listing>,
}

/// Where in the file, as far as it is known before the handshake.
#[derive(Debug)]
enum Place {
    /// A resume point: here (0 after `event`); `copy`: the file is the copy
    /// `copytruncate` made of the file at the path.
    At {
        at: u64,
        event: Option<Change>,
        copy: bool,
    },
    /// The last `lines` lines, at the end or before `before=`.
    Last { lines: usize, before: Option<u64> },
    /// `since=`: the search, after the handshake.
    Since(Target),
}

/// Where a follower starts: the one answer to "where to start" that the
/// follower takes (`Follower::new`).
#[derive(Debug)]
pub struct Begin {
    pub file: File,
    pub id: (u64, u64),
    /// Where reading starts.
    pub start: u64,
    /// The offset the start frame gives: `start`, or a history window's
    /// first byte (with a filter, lines between it and `start` were judged
    /// and dropped already). The next older window is `before=` it.
    pub first: u64,
    /// The tag of the bytes before `first`.
    pub tag: Tag,
    /// A scan stopped at `--scan-limit` (`"limit":true`).
    pub limited: bool,
    /// Reading stops here (`before=`); `None`: at the end of the file.
    pub end: Option<u64>,
    /// The event sent before any data (a resume point that no longer fits).
    pub event: Option<Change>,
    /// The file is the copy `copytruncate` made (leaving it for the path is
    /// `truncated`).
    pub copy: bool,
    /// With `meta=1`: the file's tail holds a NUL byte (`{"event":"binary"}`
    /// first).
    pub binary: bool,
    /// The generations as the opening listed them, for the follower's walk
    /// (listed once per resume).
    pub listing: Option<Listing>,
}

/// The limits an opening works within (from the configuration).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// `--lines`: the lines sent when a request names none.
    pub lines: usize,
    /// `--max-lines`.
    pub max_lines: usize,
    /// `--scan-limit`.
    pub scan_limit: u64,
}

/// Decides, before the handshake, what a request's start point means for
/// the file at `canonical` (`at_path`, just opened through the path rules).
pub fn open(
    canonical: &Path,
    roots: &[PathBuf],
    at_path: (File, Metadata),
    start: &Start,
    pick: Option<Pick>,
    limits: Limits,
) -> Result<Opening, Refusal> {
    let (file, meta) = pick_file(canonical, roots, at_path, pick, start)?;
    refuse_compressed(&file)?;
    let id = access::file_id(&meta);
    let len = meta.len();
    let mut listing = None;
    let (file, id, place) = match start {
        Start::Resume {
            from,
            inode,
            tag,
            born,
        } => resume(
            canonical,
            roots,
            (file, id, len),
            (*from, *inode, *tag),
            *born,
            &mut listing,
        ),
        Start::Since(target) => {
            let hint = year_hint(&meta);
            let found = since::has_timestamps(&file, len, hint).map_err(read_failed)?;
            if !found {
                return Err(Refusal::new(
                    Kind::NoTimestamps,
                    format!(
                        "since= needs timestamps, and none was recognised at the start of the file or at its end; known formats: {}",
                        timestamp::KNOWN_FORMATS
                    ),
                ));
            }
            (file, id, Place::Since(*target))
        }
        Start::Last { lines, before } => (
            file,
            id,
            Place::Last {
                lines: lines.unwrap_or(limits.lines).min(limits.max_lines),
                before: *before,
            },
        ),
    };
    Ok(Opening {
        file,
        id,
        len,
        place,
        listing,
    })
}

impl Opening {
    /// What `begin` does, for the log line of a client that left during it.
    pub fn scan_name(&self) -> &'static str {
        match self.place {
            Place::At { .. } => "the opening",
            Place::Last { .. } => "the backward scan",
            Place::Since(_) => "the since= search",
        }
    }

    /// After the handshake: runs the scan the start point needs (the last
    /// lines, `since=`'s search) with the client watched (`scan::watched`),
    /// and says where the follower starts.
    pub fn begin(
        self,
        ws: &mut WebSocket<Stalling>,
        filter: &Filter,
        meta: bool,
        limits: Limits,
    ) -> Result<Begin, End> {
        let Opening {
            file,
            id,
            len,
            place,
            listing,
        } = self;
        let (start, limited, end, event, copy) = match place {
            Place::At { at, event, copy } => (at, None, None, event, copy),
            Place::Last { lines, before } => {
                let ask = window::Ask {
                    lines,
                    before,
                    filter,
                    limit: limits.scan_limit,
                };
                let w = scan::run(ws, &file, len, &ask, meta)?;
                let window = (w.first, w.limited);
                (w.start, Some(window), before.map(|_| w.end), None, false)
            }
            Place::Since(target) => {
                let (at, limited) = search(ws, &file, len, &target, meta, limits)?;
                (at, Some((at, limited)), None, None, false)
            }
        };
        let (first, limited) = limited.unwrap_or((start, false));
        let tag = Tag::of_file(&file, first).map_err(End::FileError)?;
        // The file's own length: a resume may have picked another generation.
        let binary = meta
            && file
                .metadata()
                .is_ok_and(|m| tail_is_binary(&file, m.len()));
        Ok(Begin {
            file,
            id,
            start,
            first,
            tag,
            limited,
            end,
            event,
            copy,
            binary,
            listing,
        })
    }
}

/// `since=`'s search over the first `len` bytes of `file`, with the client
/// watched: where sending starts, and whether the scan limit stopped it.
fn search(
    ws: &mut WebSocket<Stalling>,
    file: &File,
    len: u64,
    target: &Target,
    meta: bool,
    limits: Limits,
) -> Result<(u64, bool), End> {
    let hint = file.metadata().map_or_else(
        |_| YearHint::from_time(SystemTime::now()),
        |m| year_hint(&m),
    );
    let began = Instant::now();
    let total = len.min(limits.scan_limit);
    let (found, cost) = scan::watched(ws, meta, total, |go_on| {
        since::find(file, len, target, hint, limits.scan_limit, go_on)
    })?;
    debug!(
        "since=: {found:?} of {len} bytes after {} block reads ({} bytes) in {:.3} ms",
        cost.reads,
        cost.bytes,
        began.elapsed().as_secs_f64() * 1000.0
    );
    Ok(match found {
        Since::At(n) => (n, false),
        Since::Limit(n) => (n, true),
        // Checked before the handshake, rewritten since: only new lines.
        Since::NoTimestamps => (len, false),
    })
}

/// `inode=I` without `from=`: the file at the path when it is inode I,
/// else the older generation of it that is (read under the log's path, as
/// a resume into it is: followed, it goes on to the newer generations);
/// none → 410. With `born=` (or, with `before=N`, `tag=`) a file with that
/// number but another birth time (or other bytes before N) is another file
/// under a reused number: 410 too. Without `inode=`, the file at the path.
pub fn pick_file(
    canonical: &Path,
    roots: &[PathBuf],
    at_path: (File, Metadata),
    pick: Option<Pick>,
    start: &Start,
) -> Result<(File, Metadata), Refusal> {
    let (file, meta) = at_path;
    let Some(pick) = pick else {
        return Ok((file, meta));
    };
    let before = match start {
        Start::Last { before, .. } => *before,
        _ => None,
    };
    let gone = |why: &str| {
        Refusal::new(
            Kind::Gone,
            format!(
                "inode={} is neither the file at this path nor one of its older generations ({why}); ask again without inode=",
                pick.inode
            ),
        )
    };
    let (file, meta) = if pick.inode == access::file_id(&meta).1 {
        (file, meta)
    } else {
        let gone_now = || gone("deleted, or compressed");
        let g = generations::find(canonical, roots, pick.inode).ok_or_else(gone_now)?;
        let file = g.open(roots).ok_or_else(gone_now)?;
        let meta = file.metadata().map_err(read_failed)?;
        (file, meta)
    };
    if !same_birth(pick.born, Born::of(&meta)) {
        return Err(gone("the number now names a file born later"));
    }
    if let (Some(tag), Some(n)) = (pick.tag, before)
        && !Tag::of_file(&file, n).is_ok_and(|t| t == tag)
    {
        return Err(gone("the bytes before before= are not those the tag names"));
    }
    Ok((file, meta))
}

/// A birth time, where both the client and the file system know it, tells
/// a file recreated under a reused inode number from the same one.
fn same_birth(asked: Option<Born>, file: Option<Born>) -> bool {
    asked.is_none() || file.is_none() || asked == file
}

/// Decides where a resume starts. `file`, `id` and `len` are the file at
/// `path`, just opened. The generations, when they had to be listed, are
/// left in `listing` for the follower to walk.
fn resume(
    path: &Path,
    roots: &[PathBuf],
    (file, id, len): (File, (u64, u64), u64),
    (from, inode, tag): (u64, u64, Option<Tag>),
    born: Option<Born>,
    listing: &mut Option<Listing>,
) -> (File, (u64, u64), Place) {
    let here = |at: u64| Place::At {
        at,
        event: None,
        copy: false,
    };
    let over = |change: Change| Place::At {
        at: 0,
        event: Some(change),
        copy: false,
    };
    // Without a tag (an older client), the inode and the size decide alone.
    let same_content = |f: &File| tag.is_none_or(|t| Tag::of_file(f, from).is_ok_and(|x| x == t));
    if inode == id.1 {
        // The same inode number: the same file, unless it was born at
        // another time (deleted and recreated under a reused number), it
        // shrank below N or the bytes before N changed (truncated and
        // written again).
        let file_born = file.metadata().ok().and_then(|m| Born::of(&m));
        if !same_birth(born, file_born) {
            return (file, id, over(Change::Recreated));
        }
        if from <= len && same_content(&file) {
            return (file, id, here(from));
        }
        // Truncated meanwhile: its copy may hold the rest (only a whole tag
        // can tell that the copy holds what the client had: a few first
        // bytes, such as a date, are common to many files).
        if tag.is_some() && from >= TAG_BYTES as u64 {
            let copy = generations::older(path, roots)
                .into_iter()
                .take_while(|g| g.compressed.is_none())
                .filter(|g| g.size >= from)
                .find_map(|g| {
                    let f = g.open(roots)?;
                    same_content(&f).then_some((g, f))
                });
            if let Some((g, f)) = copy {
                let place = Place::At {
                    at: from,
                    event: None,
                    copy: true,
                };
                return (f, (g.dev, g.inode), place);
            }
        }
        return (file, id, over(Change::Truncated));
    }
    let generation = |g: &Generation| {
        g.compressed.is_none() && same_birth(born, g.created.and_then(Born::at)) && from <= g.size
    };
    let listed = listing.insert(Listing::of(path, roots));
    if let Some(g) = listed.older().iter().find(|g| g.inode == inode)
        && generation(g)
        && let Some(gfile) = g.open(roots)
        && same_content(&gfile)
    {
        return (gfile, (g.dev, g.inode), here(from));
    }
    (file, id, over(Change::Rotated))
}

/// 415 for a compressed file (judged by its first bytes): it is not
/// followed or shown as text; the reason says to download it.
fn refuse_compressed(file: &File) -> Result<(), Refusal> {
    match compressed::file_compression(file) {
        Ok(Some(c)) => Err(Refusal::new(
            Kind::Compressed,
            format!(
                "the file is {c}-compressed and is not followed; download it with ?download and decompress it"
            ),
        )),
        Ok(None) => Ok(()),
        Err(e) => Err(read_failed(e)),
    }
}

fn read_failed(e: std::io::Error) -> Refusal {
    Refusal::read_failed(&e)
}

/// The year a timestamp without one is read in: the file's modification
/// time's.
fn year_hint(meta: &Metadata) -> YearHint {
    YearHint::from_time(meta.modified().unwrap_or_else(|_| SystemTime::now()))
}

/// True when the file's last block (its tail) holds a NUL byte: a binary
/// file, announced with `{"event":"binary"}` before anything else.
fn tail_is_binary(file: &File, len: u64) -> bool {
    let n = len.min(TAIL_BLOCK as u64);
    let mut buf = vec![0u8; n as usize];
    window::ReadAt::read_exact_at(file, &mut buf, len - n).is_ok() && compressed::is_binary(&buf)
}
