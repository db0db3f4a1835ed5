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
//! bytes, not its name, and the first compressed one ends the chain: what
//! is older cannot be read as text anyway.

use std::ffi::OsStr;
use std::fs::File;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::access;
use crate::follow::compressed;
use crate::limits::{MAX_GENERATION_DIR_ENTRIES, MAX_GENERATIONS};
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
/// includes) the first compressed one.
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

/// The chain, opened lazily: the candidates are found by name and ordered
/// by a plain `stat`; each is then opened through the path rules (those
/// that fail them are skipped), and the first compressed one is the last
/// (unless `through`).
fn chain<'a>(
    path: &Path,
    roots: &'a [PathBuf],
    through: bool,
) -> impl Iterator<Item = Generation> + 'a {
    let current = std::fs::metadata(path).ok().map(|m| access::file_id(&m));
    let mut ended = false;
    candidates(path).into_iter().filter_map(move |p| {
        if ended {
            return None;
        }
        let g = Generation::of(p, roots)?;
        if current == Some((g.dev, g.inode)) {
            return None; // a second link to the file being written
        }
        ended = g.compressed.is_some() && !through;
        Some(g)
    })
}

/// The paths named like generations of the log at `path`, newest first by
/// modification time; equal times (a coarse clock, a fast rotation) by the
/// number (`NAME.1` is newer than `NAME.2`), then by name.
fn candidates(path: &Path) -> Vec<PathBuf> {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return Vec::new();
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<(PathBuf, SystemTime, Option<u64>)> = Vec::new();
    for entry in entries.take(MAX_GENERATION_DIR_ENTRIES).flatten() {
        let entry_name = entry.file_name();
        let Some(rank) = generation_rank(name, &entry_name) else {
            continue;
        };
        let p = dir.join(&entry_name);
        let Ok(modified) = std::fs::metadata(&p).and_then(|m| m.modified()) else {
            continue;
        };
        found.push((p, modified, rank));
    }
    found.sort_by(|(pa, ma, ra), (pb, mb, rb)| {
        mb.cmp(ma)
            .then_with(|| ra.unwrap_or(u64::MAX).cmp(&rb.unwrap_or(u64::MAX)))
            .then_with(|| pb.cmp(pa))
    });
    // Cut after sorting, so that the newest are the ones kept.
    found.truncate(MAX_GENERATIONS);
    found.into_iter().map(|(p, _, _)| p).collect()
}

/// The file with `inode`: the one at `path`, or one of its generations.
pub fn find(path: &Path, roots: &[PathBuf], inode: u64) -> Option<Generation> {
    if let Some(g) = Generation::of(path.to_path_buf(), roots)
        && g.inode == inode
    {
        return Some(g);
    }
    // A plain `stat` of each candidate first: an `inode=` that names none of
    // them (a guess, a stale link) costs no open of the whole chain.
    let named = candidates(path).iter().any(|p| {
        std::fs::metadata(p).is_ok_and(|m| std::os::unix::fs::MetadataExt::ino(&m) == inode)
    });
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
    fn newest_first_and_a_compressed_one_ends_the_chain() {
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
        write(&d.0, "other.log.1", b"x\n", 5);
        let log = d.0.join("app.log");
        let gens = older(&log, &roots);
        assert_eq!(
            names(&gens),
            ["app.log.1", "app.log.2", "app.log-20261201", "app.log.3.gz"]
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
                "app.log.5.xz"
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
}
