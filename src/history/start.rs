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
//! the event that says why. A resume whose file was rotated and compressed
//! meanwhile (logrotate `compress`) starts at N in its gzip copy, found by
//! the tag at N of its uncompressed bytes.
//!
//! Every file is read through `history::source`: a gzip file (opened
//! directly, or a generation) like a plain one, its offsets counting its
//! uncompressed bytes — opened by its own path, it is sent and not
//! followed. `since=` without `inode=` chooses the file of the chain first
//! (`chain.rs`).

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
use crate::history::chain::{self, Choice, Opened};
use crate::history::since::{self, Since};
use crate::history::source::{GzFile, Source};
use crate::history::timestamp::{self, Target, YearHint};
use crate::history::{scan, window};
use crate::limits::{MAX_GZIP_COPY_CANDIDATES, TAIL_BLOCK};
use crate::serve::stall::Stalling;
use crate::wire::meta::Born;
use crate::wire::names::Compression;
use crate::wire::query::{Pick, Start};
use crate::wire::refusal::{Kind, Refusal};
use crate::wire::tag::{TAG_BYTES, Tag};

/// What the opening decided before the handshake: the file to read, and
/// where in it (or the scan that will find where, once the WebSocket is
/// open).
#[derive(Debug)]
pub struct Opening {
    pub file: Source,
    /// The file's own path (a generation's, with `inode=`).
    pub path: PathBuf,
    pub id: (u64, u64),
    /// The file's length when it was opened (`None` for a gzip file: its
    /// uncompressed size is found after the handshake, by one pass).
    pub len: Option<u64>,
    place: Place,
    /// A gzip file opened by its own path: sent, not followed.
    no_follow: bool,
    /// Reading starts in an older generation that `since=` chose.
    walk_chain: bool,
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
    /// `since=`: the search, after the handshake; when every line is
    /// before T, from 0 of `later` instead (the next newer file).
    Since(Target, Option<Box<Opened>>),
}

/// Where a follower starts: the one answer to "where to start" that the
/// follower takes (`Follower::new`).
#[derive(Debug)]
pub struct Begin {
    pub file: Source,
    /// The file's own path (a generation's when one is read).
    pub path: PathBuf,
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
    /// A gzip file opened by its own path: its text is sent, not followed
    /// (`tail=1` ends with 1000 after the last line).
    pub no_follow: bool,
    /// Reading starts in an older generation chosen by `since=`: the newer
    /// ones follow, also without `tail=1`.
    pub walk_chain: bool,
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
    let at_path_id = access::file_id(&at_path.1);
    let (file, meta, path) = pick_file(canonical, roots, at_path, pick, start)?;
    let file = open_source(file)?;
    let id = access::file_id(&meta);
    let no_follow = file.is_gzip() && id == at_path_id;
    let len = (!file.is_gzip()).then_some(meta.len());
    let mut walk_chain = false;
    let mut listing = None;
    let (file, path, id, place) = match start {
        Start::Resume {
            from,
            inode,
            tag,
            born,
        } => {
            let size = match len {
                Some(n) => n,
                None => file.size().map_err(read_failed)?,
            };
            resume(
                canonical,
                roots,
                (file, path, id, size),
                (*from, *inode, *tag),
                *born,
                &mut listing,
            )
        }
        Start::Since(target) => {
            let hint = year_hint(&meta);
            let has = |f: &Source, len: Option<u64>| -> Result<bool, Refusal> {
                let len = match len {
                    Some(n) => n,
                    None => f.size().map_err(read_failed)?,
                };
                since::has_timestamps(f, len, hint).map_err(read_failed)
            };
            let no_timestamps = |what: &str| {
                Refusal::new(
                    Kind::NoTimestamps,
                    format!(
                        "since= needs timestamps, and none was recognised {what}; known formats: {}",
                        timestamp::KNOWN_FORMATS
                    ),
                )
            };
            if pick.is_some() || no_follow {
                // inode= (or a gzip file by its own name): that file only.
                if !has(&file, len)? {
                    return Err(no_timestamps("at the start of the file or at its end"));
                }
                (file, path, id, Place::Since(*target, None))
            } else {
                // Without inode=: the whole chain.
                let current_has = has(&file, len)?;
                let current = Opened {
                    file,
                    path,
                    id,
                    modified: meta.modified().unwrap_or_else(|_| SystemTime::now()),
                    generation: false,
                };
                match chain::choose(canonical, roots, current, current_has, target) {
                    Choice::Search { file, later } => {
                        walk_chain = file.generation;
                        let later = later.map(Box::new);
                        (file.file, file.path, file.id, Place::Since(*target, later))
                    }
                    Choice::Start(file) => {
                        walk_chain = file.generation;
                        let place = Place::At {
                            at: 0,
                            event: None,
                            copy: false,
                        };
                        (file.file, file.path, file.id, place)
                    }
                    Choice::None => {
                        return Err(no_timestamps(
                            "at the start of the file, at its end or at the start of its older generations",
                        ));
                    }
                }
            }
        }
        Start::Last { lines, before } => (
            file,
            path,
            id,
            Place::Last {
                lines: lines.unwrap_or(limits.lines).min(limits.max_lines),
                before: *before,
            },
        ),
    };
    // Another file than the one opened (a resume into a generation, the
    // chain's choice): its length is found when it is read.
    let len = len.filter(|_| id == access::file_id(&meta));
    Ok(Opening {
        file,
        path,
        id,
        len,
        place,
        no_follow,
        walk_chain,
        listing,
    })
}

impl Opening {
    /// What `begin` does, for the log line of a client that left during it.
    pub fn scan_name(&self) -> &'static str {
        match self.place {
            Place::At { .. } => "the opening",
            Place::Last { .. } => "the backward scan",
            Place::Since(..) => "the since= search",
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
            mut file,
            mut path,
            mut id,
            len,
            place,
            no_follow,
            mut walk_chain,
            listing,
        } = self;
        // A gzip file's size: one pass through it the first time (which
        // leaves its restart points for the scan that follows).
        let len = match len {
            Some(n) => n,
            None => file.size().map_err(End::FileError)?,
        };
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
            Place::Since(target, later) => {
                let (at, limited) = search(ws, &file, len, &target, meta, limits)?;
                match later {
                    // A gap: every line of this file is before T, and the
                    // next newer one starts after it.
                    Some(later) if at >= len && !limited => {
                        walk_chain = later.generation;
                        (file, path, id) = (later.file, later.path, later.id);
                        (0, Some((0, false)), None, None, false)
                    }
                    _ => (at, Some((at, limited)), None, None, false),
                }
            }
        };
        let (first, limited) = limited.unwrap_or((start, false));
        let tag = Tag::of_file(&file, first).map_err(End::FileError)?;
        // The file's own length: a resume may have picked another generation.
        let binary = meta
            && match &file {
                Source::Plain(f) => f.metadata().is_ok_and(|m| tail_is_binary(f, m.len())),
                Source::Gzip(_) => false,
            };
        Ok(Begin {
            file,
            path,
            id,
            start,
            first,
            tag,
            limited,
            end,
            event,
            copy,
            binary,
            no_follow,
            walk_chain,
            listing,
        })
    }
}

/// `since=`'s search over the first `len` bytes of `file`, with the client
/// watched: where sending starts, and whether the scan limit stopped it.
fn search(
    ws: &mut WebSocket<Stalling>,
    file: &Source,
    len: u64,
    target: &Target,
    meta: bool,
    limits: Limits,
) -> Result<(u64, bool), End> {
    let hint = file.file().metadata().map_or_else(
        |_| YearHint::from_time(SystemTime::now()),
        |m| year_hint(&m),
    );
    let began = Instant::now();
    let total = len.min(limits.scan_limit);
    let (found, cost) = scan::watched(ws, meta, total, true, |go_on| {
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
) -> Result<(File, Metadata, PathBuf), Refusal> {
    let (file, meta) = at_path;
    let Some(pick) = pick else {
        return Ok((file, meta, canonical.to_path_buf()));
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
    let (file, meta, path) = if pick.inode == access::file_id(&meta).1 {
        (file, meta, canonical.to_path_buf())
    } else {
        let gone_now = || gone("deleted, or compressed with xz, zstd or bzip2");
        let g = generations::find(canonical, roots, pick.inode).ok_or_else(gone_now)?;
        let file = g.open(roots).ok_or_else(gone_now)?;
        let meta = file.metadata().map_err(read_failed)?;
        (file, meta, g.path)
    };
    if !same_birth(pick.born, Born::of(&meta)) {
        return Err(gone("the number now names a file born later"));
    }
    if let (Some(tag), Some(n)) = (pick.tag, before) {
        // A gzip file's tag counts its uncompressed bytes.
        let f = open_source(file.try_clone().map_err(read_failed)?)?;
        if !Tag::of_file(&f, n).is_ok_and(|t| t == tag) {
            return Err(gone("the bytes before before= are not those the tag names"));
        }
    }
    Ok((file, meta, path))
}

/// A birth time, where both the client and the file system know it, tells
/// a file recreated under a reused inode number from the same one.
fn same_birth(asked: Option<Born>, file: Option<Born>) -> bool {
    asked.is_none() || file.is_none() || asked == file
}

/// Decides where a resume starts. `file`, `path`, `id` and `len` are the
/// file at `path`, just opened (`len`: the bytes of its text). The
/// generations, when they had to be listed, are left in `listing` for the
/// follower to walk.
fn resume(
    path: &Path,
    roots: &[PathBuf],
    (file, own_path, id, len): (Source, PathBuf, (u64, u64), u64),
    (from, inode, tag): (u64, u64, Option<Tag>),
    born: Option<Born>,
    listing: &mut Option<Listing>,
) -> (Source, PathBuf, (u64, u64), Place) {
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
    let same_content = |f: &Source| tag.is_none_or(|t| Tag::of_file(f, from).is_ok_and(|x| x == t));
    if inode == id.1 {
        // The same inode number: the same file, unless it was born at
        // another time (deleted and recreated under a reused number), it
        // shrank below N or the bytes before N changed (truncated and
        // written again).
        let file_born = file.file().metadata().ok().and_then(|m| Born::of(&m));
        if !same_birth(born, file_born) {
            return (file, own_path, id, over(Change::Recreated));
        }
        if from <= len && same_content(&file) {
            return (file, own_path, id, here(from));
        }
        // Truncated meanwhile: its copy may hold the rest (only a whole tag
        // can tell that the copy holds what the client had: a few first
        // bytes, such as a date, are common to many files) — compressed
        // since, perhaps (copytruncate with compress).
        if tag.is_some() && from >= TAG_BYTES as u64 {
            let copy = generations::older(path, roots)
                .into_iter()
                .take_while(Generation::readable)
                .filter(|g| g.text_size(roots) >= from)
                .take(MAX_GZIP_COPY_CANDIDATES)
                .find_map(|g| {
                    let f = g.source(roots)?;
                    same_content(&f).then_some((g, f))
                });
            if let Some((g, f)) = copy {
                let place = Place::At {
                    at: from,
                    event: None,
                    copy: true,
                };
                return (f, g.path, (g.dev, g.inode), place);
            }
        }
        return (file, own_path, id, over(Change::Truncated));
    }
    let generation = |g: &Generation| {
        g.readable() && same_birth(born, g.created.and_then(Born::at)) && from <= g.text_size(roots)
    };
    let listed = listing.insert(Listing::of(path, roots));
    if let Some(g) = listed.older().iter().find(|g| g.inode == inode)
        && generation(g)
        && let Some(gfile) = g.source(roots)
        && same_content(&gfile)
    {
        return (gfile, g.path.clone(), (g.dev, g.inode), here(from));
    }
    // Rotated and compressed meanwhile (logrotate `compress`): its gzip
    // copy holds the same bytes before N — only a whole tag can tell.
    if tag.is_some() && from >= TAG_BYTES as u64 {
        let copy = listed
            .older()
            .iter()
            .filter(|g| g.compressed == Some(Compression::Gzip) && g.text_size(roots) >= from)
            .take(MAX_GZIP_COPY_CANDIDATES)
            .find_map(|g| {
                let f = g.source(roots)?;
                same_content(&f).then_some((g, f))
            });
        if let Some((g, f)) = copy {
            return (f, g.path.clone(), (g.dev, g.inode), here(from));
        }
    }
    (file, own_path, id, over(Change::Rotated))
}

/// The reader of an opened file: plain, or gzip through the inflater
/// (judged by its first bytes); 415 for xz, zstd and bzip2, which are not
/// shown as text — the reason says to download it.
fn open_source(file: File) -> Result<Source, Refusal> {
    match compressed::file_compression(&file) {
        Ok(None) => Ok(Source::Plain(file)),
        Ok(Some(Compression::Gzip)) => Ok(Source::Gzip(Box::new(
            GzFile::new(file).map_err(read_failed)?,
        ))),
        Ok(Some(c)) => Err(Refusal::new(
            Kind::Compressed,
            format!(
                "the file is {c}-compressed and is not followed; download it with ?download and decompress it"
            ),
        )),
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
