//! Restart points of gzip files, shared by every connection: the inflater's
//! state and its 32 KiB window (`gzip::Snapshot`) about every
//! `GZIP_RESTART_EVERY` bytes of output, so that reading a gzip generation
//! at an offset (paging back, a binary search, a resume) inflates from the
//! nearest point before it instead of from the file's start — after the
//! first pass, about one spacing's inflating. Also what a pass to the end
//! learned: the uncompressed size, or where the file stopped inflating.
//!
//! The points of all files together hold at most `GZIP_RESTART_MEMORY`
//! bytes; past it the least recently used point is dropped (and an entry
//! left without points is dropped with it when the entries are more than
//! `GZIP_INDEXED_FILES`). A file is known by its device, inode, size and
//! modification time, so a file rewritten in place is never read with
//! another file's points.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};
use std::time::SystemTime;

use crate::follow::gzip::Snapshot;
use crate::limits::{
    GZIP_INDEXED_FILES, GZIP_RESTART_EVERY, GZIP_RESTART_MEMORY, GZIP_SHARED_SPANS,
};

/// Which file (and which content of it) points belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub dev: u64,
    pub inode: u64,
    pub len: u64,
    pub modified: Option<SystemTime>,
}

impl Key {
    pub fn of(meta: &std::fs::Metadata) -> Key {
        use std::os::unix::fs::MetadataExt;
        Key {
            dev: meta.dev(),
            inode: meta.ino(),
            len: meta.len(),
            modified: meta.modified().ok(),
        }
    }
}

/// How a pass to the end of a file ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// Every member inflated: the uncompressed size.
    Size(u64),
    /// Inflating stopped at this offset (of the uncompressed bytes), for
    /// this reason: a corrupt or truncated file.
    Corrupt(u64, String),
}

struct Point {
    snap: Arc<Snapshot>,
    used: u64,
}

#[derive(Default)]
struct Index {
    /// By output offset.
    points: Vec<Point>,
    end: Option<End>,
    used: u64,
}

#[derive(Default)]
struct Cache {
    files: HashMap<Key, Index>,
    points: usize,
    tick: u64,
}

static CACHE: LazyLock<Mutex<Cache>> = LazyLock::new(Mutex::default);

fn cache() -> MutexGuard<'static, Cache> {
    // A panic elsewhere while the lock was held leaves consistent data
    // (every change is one push or remove): go on with it.
    CACHE.lock().unwrap_or_else(|e| e.into_inner())
}

/// How many points, at most, the memory bound holds.
fn max_points() -> usize {
    (GZIP_RESTART_MEMORY / Snapshot::BYTES).max(1)
}

/// The point with the largest offset at or before `at`, if any.
pub(crate) fn best(key: &Key, at: u64) -> Option<Arc<Snapshot>> {
    let mut c = cache();
    c.tick += 1;
    let tick = c.tick;
    let index = c.files.get_mut(key)?;
    index.used = tick;
    let k = index.points.partition_point(|p| p.snap.out_pos <= at);
    let p = index.points.get_mut(k.checked_sub(1)?)?;
    p.used = tick;
    Some(Arc::clone(&p.snap))
}

/// Keeps `snap` as a point of `key` unless one is within a spacing before
/// it already; drops the least recently used points past the bound.
pub fn add(key: &Key, snap: Snapshot) {
    let mut c = cache();
    c.tick += 1;
    let tick = c.tick;
    let index = c.files.entry(*key).or_default();
    index.used = tick;
    let at = snap.out_pos;
    let k = index.points.partition_point(|p| p.snap.out_pos <= at);
    if k > 0 && at - index.points[k - 1].snap.out_pos < GZIP_RESTART_EVERY {
        return;
    }
    if index
        .points
        .get(k)
        .is_some_and(|p| p.snap.out_pos - at < GZIP_RESTART_EVERY / 2)
    {
        return;
    }
    index.points.insert(
        k,
        Point {
            snap: Arc::new(snap),
            used: tick,
        },
    );
    c.points += 1;
    while c.points > max_points() {
        evict_point(&mut c);
    }
    if c.files.len() > GZIP_INDEXED_FILES {
        evict_file(&mut c);
    }
}

fn evict_point(c: &mut Cache) {
    let oldest = c
        .files
        .iter()
        .flat_map(|(key, index)| {
            index
                .points
                .iter()
                .enumerate()
                .map(move |(i, p)| (p.used, *key, i))
        })
        .min_by_key(|&(used, _, _)| used);
    let Some((_, key, i)) = oldest else {
        c.points = 0;
        return;
    };
    if let Some(index) = c.files.get_mut(&key) {
        index.points.remove(i);
        c.points -= 1;
    }
}

fn evict_file(c: &mut Cache) {
    let oldest = c
        .files
        .iter()
        .min_by_key(|(_, index)| index.used)
        .map(|(key, _)| *key);
    if let Some(key) = oldest
        && let Some(index) = c.files.remove(&key)
    {
        c.points -= index.points.len();
    }
}

/// What a pass to the end of `key` found, if one was made.
pub fn end(key: &Key) -> Option<End> {
    cache().files.get(key)?.end.clone()
}

/// Records how a pass to the end of `key` ended.
pub(crate) fn set_end(key: &Key, end: End) {
    let mut c = cache();
    c.tick += 1;
    let tick = c.tick;
    let index = c.files.entry(*key).or_default();
    index.used = tick;
    index.end = Some(end);
    if c.files.len() > GZIP_INDEXED_FILES {
        evict_file(&mut c);
    }
}

/// An inflated stretch a reader left behind: `bytes` start at `at`.
struct Span {
    key: Key,
    at: u64,
    bytes: Vec<u8>,
    used: u64,
}

#[derive(Default)]
struct Spans {
    spans: Vec<Span>,
    held: usize,
    tick: u64,
}

static SPANS: LazyLock<Mutex<Spans>> = LazyLock::new(Mutex::default);

fn spans() -> MutexGuard<'static, Spans> {
    SPANS.lock().unwrap_or_else(|e| e.into_inner())
}

/// Keeps an inflated stretch of `key` for the next reader of it (within
/// `GZIP_SHARED_SPANS`, least recently used dropped).
pub(crate) fn keep_span(key: &Key, at: u64, bytes: Vec<u8>) {
    if bytes.is_empty() || bytes.len() > GZIP_SHARED_SPANS {
        return;
    }
    let mut s = spans();
    s.tick += 1;
    let used = s.tick;
    s.held += bytes.len();
    s.spans.push(Span {
        key: *key,
        at,
        bytes,
        used,
    });
    while s.held > GZIP_SHARED_SPANS {
        let Some(k) = (0..s.spans.len()).min_by_key(|&k| s.spans[k].used) else {
            break;
        };
        let gone = s.spans.swap_remove(k);
        s.held -= gone.bytes.len();
    }
}

/// Copies what a kept stretch of `key` holds at `at` into `buf` (as much
/// as it holds, from `at` on); `None` when none holds `at`.
pub(crate) fn read_span(key: &Key, at: u64, buf: &mut [u8]) -> Option<usize> {
    let mut s = spans();
    s.tick += 1;
    let tick = s.tick;
    let span = s
        .spans
        .iter_mut()
        .find(|sp| sp.key == *key && sp.at <= at && at < sp.at + sp.bytes.len() as u64)?;
    span.used = tick;
    let from = (at - span.at) as usize;
    let n = buf.len().min(span.bytes.len() - from);
    buf[..n].copy_from_slice(&span.bytes[from..from + n]);
    Some(n)
}

/// Points held now, and the bytes they hold (for tests and the benchmark).
pub fn held() -> (usize, usize) {
    let c = cache();
    (c.points, c.points * Snapshot::BYTES)
}
