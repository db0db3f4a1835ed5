//! A log's older generations: the files that rotation left beside it in the
//! same directory. For `DIR/NAME` they are the regular files of DIR named
//! `NAME.1`, `NAME.2`, … (logrotate, Python's `RotatingFileHandler`),
//! `NAME-DATE` or `NAME.DATE` where DATE holds digits, `-` and `_`
//! (logrotate `dateext`, Python's `TimedRotatingFileHandler`), and for
//! `STEM.EXT`, `STEM.DATE.EXT` (loguru, which may add `.N` after the date);
//! each may end in the extension its compressor gave it (`.gz`, `.xz`,
//! `.zst`, `.bz2`). They come newest first by modification time, each
//! admitted by the same path rules as any request (a symlink out of the
//! roots is skipped). Whether one is compressed is judged by its first
//! bytes, not its name: gzip generations are part of the chain (read
//! through `history::source`), and the first xz, zstd or bzip2 one ends
//! it — what is older cannot be read as text anyway. A compressed file
//! whose plain original is still listed beside it (`NAME.1.gz` next to
//! `NAME.1`) is being written by its compressor, which deletes the
//! original when done: the original is the generation until then.

use std::ffi::OsStr;
use std::fs::File;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::SystemTime;

use crate::access;
use crate::follow::compressed;
use crate::follow::gzip;
use crate::follow::restart::{self, End, Key};
use crate::history::source::{GzFile, Source};
use crate::limits::{
    DIRECTORY_READ_WAIT, MAX_DIRECTORY_READS, MAX_GENERATION_DIR_ENTRIES, MAX_GENERATIONS,
};
use crate::wire::names::Compression;

/// One file of a log's chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generation {
    /// Its path in the log's directory.
    pub path: PathBuf,
    pub dev: u64,
    pub inode: u64,
    pub size: u64,
    pub modified: SystemTime,
    /// Its birth time, where the file system records it.
    pub created: Option<SystemTime>,
    /// `Some(Compression::Gzip)` (and so on) when its first bytes say so.
    pub compressed: Option<Compression>,
}

impl Generation {
    /// Opens it again through the path rules; `None` when its path no
    /// longer names this file (rotated on since it was listed, deleted,
    /// swapped for a symlink out of the roots).
    pub fn open(&self, roots: &[PathBuf]) -> Option<File> {
        let (_, file, meta) = access::open_verified(roots, &self.path).ok()?;
        (access::file_id(&meta) == (self.dev, self.inode)).then_some(file)
    }

    /// Opens it as a reader of its text: a plain file, or a gzip one
    /// through the inflater; `None` for the other compressions.
    pub fn source(&self, roots: &[PathBuf]) -> Option<Source> {
        let file = self.open(roots)?;
        match self.compressed {
            None => Some(Source::Plain(file)),
            Some(Compression::Gzip) => Some(Source::Gzip(Box::new(GzFile::new(file).ok()?))),
            Some(_) => None,
        }
    }

    /// The bytes of its text: its size, or for a gzip file the size a
    /// pass through it found, else what its trailer says (exact for a file
    /// of one member under 4 GiB, as logrotate and gzip write them).
    pub fn text_size(&self, roots: &[PathBuf]) -> u64 {
        if self.compressed != Some(Compression::Gzip) {
            return self.size;
        }
        let key = Key {
            dev: self.dev,
            inode: self.inode,
            len: self.size,
            modified: Some(self.modified),
        };
        match restart::end(&key) {
            Some(End::Size(n) | End::Corrupt(n, _)) => n,
            None => self
                .open(roots)
                .and_then(|f| gzip::trailer(&f, self.size))
                .map_or(0, |t| u64::from(t.size)),
        }
    }

    /// True when its text can be read: plain or gzip.
    pub fn readable(&self) -> bool {
        matches!(self.compressed, None | Some(Compression::Gzip))
    }

    fn of(path: PathBuf, roots: &[PathBuf]) -> Option<Generation> {
        let (_, file, meta) = access::open_verified(roots, &path).ok()?;
        let (dev, inode) = access::file_id(&meta);
        let compressed = match compressed::file_compression(&file).ok()? {
            // Named by a compressor and still too short to hold its magic
            // number: being written by it (logrotate `compress` running).
            None if meta.len() < compressed::MAGIC_LEN as u64 => compressor_named(&path),
            c => c,
        };
        Some(Generation {
            path,
            dev,
            inode,
            size: meta.len(),
            modified: meta.modified().ok()?,
            created: meta.created().ok(),
            compressed,
        })
    }
}

/// The older generations of the log at `path` (not the file at `path`
/// itself), newest first by modification time; the chain ends at (and
/// includes) the first one compressed with xz, zstd or bzip2.
pub fn older(path: &Path, roots: &[PathBuf]) -> Vec<Generation> {
    chain(path, roots, false).collect()
}

/// Like `older`, but on past compressed generations: every generation,
/// newest first (to tell which ones were compressed before a follower read
/// them).
pub fn all(path: &Path, roots: &[PathBuf]) -> Vec<Generation> {
    chain(path, roots, true).collect()
}

/// The newest older generation of the log at `path`, if any (the hint of a
/// start frame at 0): only it is opened.
pub fn newest(path: &Path, roots: &[PathBuf]) -> Option<Generation> {
    chain(path, roots, false).next()
}

/// The chain, opened lazily: the candidates are found by name, judged by
/// the path rule and ordered (`candidates`); each is then opened through
/// the path rules (those that fail them by now are skipped), and the first
/// that is compressed but not with gzip is the last (unless `through`).
fn chain<'a>(
    path: &Path,
    roots: &'a [PathBuf],
    through: bool,
) -> impl Iterator<Item = Generation> + 'a {
    let current = std::fs::metadata(path).ok().map(|m| access::file_id(&m));
    let mut ended = false;
    candidates(path, roots).into_iter().filter_map(move |c| {
        if ended {
            return None;
        }
        let g = Generation::of(c.path, roots)?;
        if current == Some((g.dev, g.inode)) {
            return None; // a second link to the file being written
        }
        ended = !g.readable() && !through;
        Some(g)
    })
}

/// A file named like a generation, admitted by the path rule, with what
/// the listing read of it.
struct Candidate {
    path: PathBuf,
    modified: SystemTime,
    rank: Option<u64>,
    /// Its device and inode.
    id: (u64, u64),
}

/// The files named like generations of the log at `path` that the path
/// rule admits, newest first by modification time; equal times (a coarse
/// clock, a fast rotation) by the number (`NAME.1` is newer than `NAME.2`),
/// then by name.
///
/// No look follows a link before the path rule has judged it: each entry is
/// looked at with `symlink_metadata`; a regular file there (the log's
/// directory lies in a root) is taken as it is, a symlink is judged by the
/// path rule (`access::stat_verified`, which stops at a link that leads out
/// of the roots without a look past it) and only then stat'ed, and
/// anything else is no generation. So a link named like a generation that
/// leads out (`app.log.5000 -> /etc/shadow`) tells nothing of its target —
/// whether it exists, its time, its inode — and a dead mount behind it
/// hangs nothing.
fn candidates(path: &Path, roots: &[PathBuf]) -> Vec<Candidate> {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return Vec::new();
    };
    // The names first, the directory closed, then the looks: what a
    // listing holds open (the C library's 32 KiB buffer of directory
    // entries) is held by a few followers at once only
    // (`MAX_DIRECTORY_READS`), however many a rotation wakes together.
    let named: Vec<(PathBuf, Option<u64>)> = {
        let _turn = DirectoryReads::take();
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Vec::new();
        };
        entries
            .take(MAX_GENERATION_DIR_ENTRIES)
            .flatten()
            .filter_map(|entry| {
                let entry_name = entry.file_name();
                let rank = generation_rank(name, &entry_name)?;
                Some((dir.join(&entry_name), rank))
            })
            .collect()
    };
    #[cfg(test)]
    LISTINGS.with(|n| n.set(n.get() + 1));
    let mut found: Vec<Candidate> = Vec::new();
    for (p, rank) in named {
        let Ok(lmeta) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        let meta = if lmeta.file_type().is_file() {
            lmeta
        } else if lmeta.file_type().is_symlink() {
            match access::stat_verified(roots, &p) {
                Ok((_, meta)) if meta.is_file() => meta,
                _ => continue,
            }
        } else {
            continue;
        };
        let Ok(modified) = meta.modified() else {
            continue;
        };
        found.push(Candidate {
            path: p,
            modified,
            rank,
            id: access::file_id(&meta),
        });
    }
    // A compressor still writing `NAME.1.gz` has not deleted `NAME.1` yet.
    let names: std::collections::HashSet<Vec<u8>> = found
        .iter()
        .filter_map(|c| Some(c.path.file_name()?.as_bytes().to_vec()))
        .collect();
    found.retain(|c| {
        let name = c.path.file_name().map_or(&[][..], |n| n.as_bytes());
        let plain = strip_compression(name);
        plain.len() == name.len() || !names.contains(plain)
    });
    found.sort_by(|a, b| {
        b.modified
            .cmp(&a.modified)
            .then_with(|| a.rank.unwrap_or(u64::MAX).cmp(&b.rank.unwrap_or(u64::MAX)))
            .then_with(|| b.path.cmp(&a.path))
    });
    // Cut after sorting, so that the newest are the ones kept.
    found.truncate(MAX_GENERATIONS);
    found
}

/// Directory reads in progress in the whole server: a rotation wakes every
/// follower of the log at once, and each reading the directory through its
/// own 32 KiB buffer left the allocator's arenas holding megabytes
/// (`MAX_DIRECTORY_READS`).
struct DirectoryReads;

static READING: Mutex<usize> = Mutex::new(0);
static READ_DONE: Condvar = Condvar::new();

impl DirectoryReads {
    /// Waits until fewer than `MAX_DIRECTORY_READS` are in progress, or
    /// `DIRECTORY_READ_WAIT` passed (reads stuck on a hung file system
    /// hold the turns: the others go on without one).
    fn take() -> DirectoryReads {
        let deadline = std::time::Instant::now() + DIRECTORY_READ_WAIT;
        let mut n = READING.lock().unwrap_or_else(PoisonError::into_inner);
        while *n >= MAX_DIRECTORY_READS {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                break;
            }
            n = READ_DONE
                .wait_timeout(n, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        *n += 1;
        DirectoryReads
    }
}

impl Drop for DirectoryReads {
    fn drop(&mut self) {
        let mut n = READING.lock().unwrap_or_else(PoisonError::into_inner);
        *n -= 1;
        READ_DONE.notify_one();
    }
}

#[cfg(test)]
thread_local! {
    /// Directory listings made so far by this thread — one connection's
    /// (for tests: a walk through the chain lists it once).
    static LISTINGS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// How many times this thread listed a log's directory for its generations.
#[cfg(test)]
pub fn listings() -> usize {
    LISTINGS.with(std::cell::Cell::get)
}

/// A log's generations as listed once (newest first, on past compressed
/// ones: `all`), walked by index by a follower or a resume instead of
/// listing the directory again at every step. It is listed again only when
/// a generation it names cannot be opened any more (rotated on since), or
/// when the walk reaches its end and the directory changed since.
#[derive(Debug, Clone)]
pub struct Listing {
    pub all: Vec<Generation>,
    stamp: Stamp,
}

/// When a log's directory was listed: its modification time then, and
/// the time of the listing. An unchanged time that was already in the past
/// then (by more than the kernel's clock tick) means no entry came or went
/// since.
#[derive(Debug, Clone, Copy)]
pub struct Stamp {
    dir_modified: Option<SystemTime>,
    listed_at: SystemTime,
}

impl Stamp {
    /// True when no entry of the directory of `path` can have come or gone
    /// since the listing.
    pub fn current(&self, path: &Path) -> bool {
        self.dir_modified.is_some_and(|m| {
            m + CLOCK_TICK_MARGIN < self.listed_at && dir_modified(path) == Some(m)
        })
    }
}

/// How far in the past a directory's modification time must have been
/// when it was listed for an unchanged time to prove that nothing changed
/// since: file times come from the kernel's coarse clock, up to a tick
/// (at most 10 ms) behind.
const CLOCK_TICK_MARGIN: std::time::Duration = std::time::Duration::from_millis(100);

impl Listing {
    /// Lists the generations of the log at `path`.
    pub fn of(path: &Path, roots: &[PathBuf]) -> Listing {
        let listed_at = SystemTime::now();
        let dir_modified = dir_modified(path);
        Listing {
            all: all(path, roots),
            stamp: Stamp {
                dir_modified,
                listed_at,
            },
        }
    }

    /// The chain a follower reads: the generations up to (and with) the
    /// first one compressed with xz, zstd or bzip2 (gzip ones are read).
    pub fn older(&self) -> &[Generation] {
        let end = self
            .all
            .iter()
            .position(|g| !g.readable())
            .map_or(self.all.len(), |k| k + 1);
        &self.all[..end]
    }

    /// True when no entry of the directory of `path` can have come or gone
    /// since the listing.
    pub fn current(&self, path: &Path) -> bool {
        self.stamp.current(path)
    }

    /// When it was listed.
    pub fn stamp(&self) -> Stamp {
        self.stamp
    }
}

fn dir_modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path.parent()?).ok()?.modified().ok()
}

/// The file with `inode`: the one at `path`, or one of its generations.
pub fn find(path: &Path, roots: &[PathBuf], inode: u64) -> Option<Generation> {
    if let Some(g) = Generation::of(path.to_path_buf(), roots)
        && g.inode == inode
    {
        return Some(g);
    }
    // The listing's inodes first (of files the path rule admits only): an
    // `inode=` that names none of them (a guess, a stale link, a file out
    // of the roots) costs no open of the whole chain.
    let named = candidates(path, roots).iter().any(|c| c.id.1 == inode);
    if !named {
        return None;
    }
    chain(path, roots, false).find(|g| g.inode == inode)
}

/// Whether `candidate` names a generation of the log `name`: `None` when it
/// does not, `Some(rank)` when it does, with the rank a plain number gives
/// (`NAME.3` → 3) for ordering ties.
fn generation_rank(name: &OsStr, candidate: &OsStr) -> Option<Option<u64>> {
    let name = name.as_bytes();
    let cand = strip_compression(candidate.as_bytes());
    if cand == name {
        return None;
    }
    // NAME.DATE, NAME-DATE, NAME.N
    if let Some(rest) = cand.strip_prefix(name)
        && let Some((&sep, date)) = rest.split_first()
        && (sep == b'.' || sep == b'-')
        && is_date(date)
    {
        let rank = (sep == b'.' && date.iter().all(u8::is_ascii_digit))
            .then(|| std::str::from_utf8(date).ok()?.parse().ok())
            .flatten();
        return Some(rank);
    }
    // STEM.DATE.EXT, STEM.DATE.N.EXT (loguru)
    let dot = name.iter().rposition(|&b| b == b'.').filter(|&d| d > 0)?;
    let (stem, ext) = name.split_at(dot + 1); // stem keeps its dot, ext does not
    let middle = cand
        .strip_prefix(stem)?
        .strip_suffix(ext)?
        .strip_suffix(b".")?;
    let (date, counter) = match middle.iter().rposition(|&b| b == b'.') {
        Some(d) => (&middle[..d], &middle[d + 1..]),
        None => (middle, &b"1"[..]),
    };
    (is_date(date) && !counter.is_empty() && counter.iter().all(u8::is_ascii_digit)).then_some(None)
}

/// A date as rotation writes it: digits, `-` and `_`, starting with a digit.
fn is_date(s: &[u8]) -> bool {
    s.first().is_some_and(u8::is_ascii_digit)
        && s.iter()
            .all(|&b| b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// The compression a file's name announces (`.gz` and so on), if any.
fn compressor_named(path: &Path) -> Option<Compression> {
    let name = path.file_name()?.as_bytes();
    Compression::ALL
        .into_iter()
        .find(|c| name.ends_with(c.extension().as_bytes()))
}

/// The name without the extension a compressor adds (the content decides
/// whether it is compressed; the name only has to be recognised).
fn strip_compression(name: &[u8]) -> &[u8] {
    for c in Compression::ALL {
        if let Some(n) = name.strip_suffix(c.extension().as_bytes()) {
            return n;
        }
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::time::Duration;

    fn is_gen(name: &str, cand: &str) -> bool {
        generation_rank(OsStr::new(name), OsStr::new(cand)).is_some()
    }

    #[test]
    fn names_the_real_tools_give() {
        for cand in [
            // logrotate, RotatingFileHandler
            "app.log.1",
            "app.log.2",
            "app.log.12",
            "app.log.2.gz",
            // logrotate dateext (default -%Y%m%d, and with %s or %H)
            "app.log-20261201",
            "app.log-20261201.gz",
            "app.log-20261201-1764547200",
            "app.log-2026120114.xz",
            // TimedRotatingFileHandler (when=D, H, M, S)
            "app.log.2026-12-01",
            "app.log.2026-12-01_14",
            "app.log.2026-12-01_14-02",
            "app.log.2026-12-01_14-02-03",
            // loguru, with its counter, and compressed
            "app.2026-12-01_14-02-03_123456.log",
            "app.2026-12-01_14-02-03_123456.2.log",
            "app.2026-12-01_14-02-03_123456.log.gz",
        ] {
            assert!(is_gen("app.log", cand), "{cand}");
        }
        for cand in [
            "app.log",
            "app.log.gz",
            "app.log.bak",
            "app.log.1.bak",
            "app.log-old",
            "app.log.-1",
            "app.logx.1",
            "other.log.1",
            "app.log1",
            "app.x.log",
            "app..log",
            "app.log.",
            "app.1.2.3.log",
        ] {
            assert!(!is_gen("app.log", cand), "{cand}");
        }
        // A name without an extension has no loguru form.
        assert!(is_gen("syslog", "syslog.1"));
        assert!(!is_gen("syslog", "syslog"));
        assert!(!is_gen("syslog", "1.syslog"));
        assert_eq!(
            generation_rank(OsStr::new("a"), OsStr::new("a.17")),
            Some(Some(17))
        );
    }

    struct Dir(PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn dir(tag: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("wstail-gen-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Dir(std::fs::canonicalize(&d).unwrap())
    }

    /// Writes a file and sets its modification time `age` seconds back.
    fn write(d: &Path, name: &str, data: &[u8], age: u64) {
        let p = d.join(name);
        let mut f = File::create(&p).unwrap();
        f.write_all(data).unwrap();
        f.set_modified(SystemTime::now() - Duration::from_secs(age))
            .unwrap();
    }

    fn names(gens: &[Generation]) -> Vec<String> {
        gens.iter()
            .map(|g| g.path.file_name().unwrap().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn beyond_the_bound_the_newest_generations_are_kept() {
        // Twice MAX_GENERATIONS: the cut must come after the sort, whatever
        // order the directory lists them in.
        let d = dir("many");
        let roots = vec![d.0.clone()];
        write(&d.0, "app.log", b"now\n", 0);
        let n = 2 * MAX_GENERATIONS as u64;
        for i in 1..=n {
            write(&d.0, &format!("app.log.{i}"), b"x\n", 10 + i);
        }
        let chain = older(&d.0.join("app.log"), &roots);
        assert_eq!(chain.len(), MAX_GENERATIONS);
        let want: Vec<String> = (1..=MAX_GENERATIONS)
            .map(|i| format!("app.log.{i}"))
            .collect();
        assert_eq!(names(&chain), want);
        let newest = d.0.join("app.log.1");
        let inode = std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(&newest).unwrap());
        assert_eq!(
            find(&d.0.join("app.log"), &roots, inode).map(|g| g.path),
            Some(newest)
        );
        assert!(find(&d.0.join("app.log"), &roots, u64::MAX).is_none());
    }

    #[test]
    fn newest_first_through_gzip_and_xz_ends_the_chain() {
        let d = dir("chain");
        let roots = vec![d.0.clone()];
        write(&d.0, "app.log", b"now\n", 0);
        write(&d.0, "app.log.1", b"one\n", 10);
        write(&d.0, "app.log.2", b"two\n", 20);
        write(&d.0, "app.log-20261201", b"dated\n", 30);
        write(&d.0, "app.log.3.gz", b"\x1f\x8b\x08gzip", 40);
        write(&d.0, "app.log.4", b"four\n", 50);
        // Being written by a compressor: too short for its magic number.
        write(&d.0, "app.log.5.xz", b"", 60);
        write(&d.0, "app.log.6", b"six\n", 70);
        write(&d.0, "other.log.1", b"x\n", 5);
        // Being compressed: the original is still there.
        write(&d.0, "app.log.2.gz", b"\x1f\x8b\x08", 1);
        let log = d.0.join("app.log");
        let gens = older(&log, &roots);
        assert_eq!(
            names(&gens),
            [
                "app.log.1",
                "app.log.2",
                "app.log-20261201",
                "app.log.3.gz",
                "app.log.4",
                "app.log.5.xz"
            ]
        );
        assert_eq!(gens[0].size, 4);
        assert_eq!(newest(&log, &roots), Some(gens[0].clone()));
        assert_eq!(gens[3].compressed, Some(Compression::Gzip));
        assert_eq!(gens[0].compressed, None);
        let every = all(&log, &roots);
        assert_eq!(
            names(&every),
            [
                "app.log.1",
                "app.log.2",
                "app.log-20261201",
                "app.log.3.gz",
                "app.log.4",
                "app.log.5.xz",
                "app.log.6"
            ]
        );
        assert_eq!(every[5].compressed, Some(Compression::Xz));
        // find: the path itself, a generation, nothing.
        let ino =
            |n: &str| std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(d.0.join(n)).unwrap());
        assert_eq!(find(&log, &roots, ino("app.log")).unwrap().path, log);
        assert_eq!(
            find(&log, &roots, ino("app.log.2")).unwrap().path,
            d.0.join("app.log.2")
        );
        assert_eq!(find(&log, &roots, ino("other.log.1")), None);
        // Equal times: by number.
        let t = SystemTime::now() - Duration::from_secs(15);
        for n in ["app.log.1", "app.log.2"] {
            File::options()
                .write(true)
                .open(d.0.join(n))
                .unwrap()
                .set_modified(t)
                .unwrap();
        }
        assert_eq!(names(&older(&log, &roots))[..2], ["app.log.1", "app.log.2"]);
        // A generation opens while its path still names it.
        assert!(gens[0].open(&roots).is_some());
        std::fs::rename(d.0.join("app.log.1"), d.0.join("app.log.9")).unwrap();
        assert!(gens[0].open(&roots).is_none());
    }

    #[test]
    fn a_symlink_out_of_the_roots_is_skipped() {
        let d = dir("symlink");
        let outside = dir("symlink-outside");
        write(&d.0, "app.log", b"now\n", 0);
        write(&d.0, "app.log.1", b"one\n", 10);
        write(&outside.0, "secret", b"secret\n", 5);
        std::os::unix::fs::symlink(outside.0.join("secret"), d.0.join("app.log.2")).unwrap();
        // A directory with a generation's name is no generation either.
        std::fs::create_dir(d.0.join("app.log.3")).unwrap();
        let gens = older(&d.0.join("app.log"), std::slice::from_ref(&d.0));
        assert_eq!(names(&gens), ["app.log.1"]);
    }

    #[test]
    fn loguru_generations() {
        let d = dir("loguru");
        write(&d.0, "app.log", b"now\n", 0);
        write(&d.0, "app.2026-12-01_14-02-03_123456.log", b"a\n", 20);
        write(&d.0, "app.2026-12-01_14-02-03_123456.2.log", b"b\n", 10);
        let gens = older(&d.0.join("app.log"), std::slice::from_ref(&d.0));
        assert_eq!(
            names(&gens),
            [
                "app.2026-12-01_14-02-03_123456.2.log",
                "app.2026-12-01_14-02-03_123456.log"
            ]
        );
    }

    /// However many followers list at once (a rotation wakes them all), at
    /// most `MAX_DIRECTORY_READS` hold a directory open, and every one of
    /// them gets its turn.
    #[test]
    fn directory_reads_take_turns() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NOW: AtomicUsize = AtomicUsize::new(0);
        static MOST: AtomicUsize = AtomicUsize::new(0);
        static DONE: AtomicUsize = AtomicUsize::new(0);
        let threads: Vec<_> = (0..16)
            .map(|_| {
                std::thread::spawn(|| {
                    for _ in 0..20 {
                        let _turn = DirectoryReads::take();
                        let n = NOW.fetch_add(1, Ordering::SeqCst) + 1;
                        MOST.fetch_max(n, Ordering::SeqCst);
                        std::thread::sleep(std::time::Duration::from_micros(200));
                        NOW.fetch_sub(1, Ordering::SeqCst);
                        DONE.fetch_add(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(DONE.load(Ordering::SeqCst), 16 * 20);
        let most = MOST.load(Ordering::SeqCst);
        assert!(most <= MAX_DIRECTORY_READS, "{most} at once");

        // Reads stuck on a hung file system hold every turn: another
        // listing goes on after `DIRECTORY_READ_WAIT` instead of waiting
        // for them for ever.
        let stuck: Vec<DirectoryReads> = (0..MAX_DIRECTORY_READS)
            .map(|_| DirectoryReads::take())
            .collect();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _turn = DirectoryReads::take();
            let _ = tx.send(());
        });
        let went_on = rx.recv_timeout(DIRECTORY_READ_WAIT * 30).is_ok();
        drop(stuck);
        assert!(went_on, "a listing waited for stuck reads");
    }
}
