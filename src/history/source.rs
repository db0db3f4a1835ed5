//! A generation read by offset, plain or gzip: the one reader that paging
//! back (`before=`, `inode=`), filtered scans, the `since=` search,
//! `from=` resumes and the follower use, so that a gzip generation is read
//! like a plain one, its offsets counting uncompressed bytes.
//!
//! A gzip file is read through an `Inflater` kept between reads (a forward
//! read goes on where the last one stopped), a cache of the last
//! `GZIP_READ_CACHE` inflated bytes (a backward scan finds most of its
//! blocks there), and the restart points shared by every connection
//! (`follow::restart`): any other offset is reached from the nearest point
//! before it. Its size is known after one pass to its end (remembered with
//! the points); a file that stops inflating there (corrupt, truncated)
//! ends where it stopped, and `corrupt` says why.

use std::cell::RefCell;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

use crate::follow::gzip::{self, Inflater};
use crate::follow::restart::{self, End, Key};
use crate::history::window::ReadAt;
use crate::limits::{GZIP_FOLLOW_KEEP, GZIP_READ_CACHE, GZIP_RESTART_EVERY};
use crate::wire::tag::FullRead;

/// Inflated bytes produced per step.
const STEP: usize = 64 * 1024;

/// Bytes dropped from the front of a full read cache at once.
const DROP: usize = 1 << 20;

/// A file read by offset in the bytes it holds.
#[derive(Debug)]
pub enum Source {
    Plain(File),
    Gzip(Box<GzFile>),
}

impl Source {
    /// The file as it is (the gzip file itself for a gzip one).
    pub fn file(&self) -> &File {
        match self {
            Source::Plain(f) => f,
            Source::Gzip(g) => &g.file,
        }
    }

    pub(crate) fn is_gzip(&self) -> bool {
        matches!(self, Source::Gzip(_))
    }

    /// Reads up to `buf.len()` bytes at `offset`; fewer only at the end.
    pub(crate) fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        match self {
            Source::Plain(f) => loop {
                match f.read_at(buf, offset) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    r => return r,
                }
            },
            Source::Gzip(g) => g.read_at(buf, offset),
        }
    }

    /// The bytes it holds now: the file's size, or a gzip file's
    /// uncompressed size (one pass to its end the first time).
    pub fn size(&self) -> io::Result<u64> {
        match self {
            Source::Plain(f) => Ok(f.metadata()?.len()),
            Source::Gzip(g) => g.size(),
        }
    }

    /// Gives back the memory a gzip reader holds between reads.
    pub fn release(&self) {
        if let Source::Gzip(g) = self {
            g.release();
        }
    }

    /// For a gzip file that stopped inflating before its end: why.
    pub fn corrupt(&self) -> Option<String> {
        match self {
            Source::Plain(_) => None,
            Source::Gzip(g) => g.corrupt(),
        }
    }
}

impl FullRead for Source {
    fn read_full_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        match self {
            Source::Plain(f) => f.read_full_at(buf, offset),
            Source::Gzip(g) => g.read_at(buf, offset),
        }
    }
}

impl ReadAt for Source {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        match self {
            Source::Plain(f) => FileExt::read_exact_at(f, buf, offset),
            Source::Gzip(g) => g.read_exact_at(buf, offset),
        }
    }
}

impl Drop for GzFile {
    fn drop(&mut self) {
        self.release();
    }
}

impl std::fmt::Debug for GzFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GzFile").field("key", &self.key).finish()
    }
}

/// A gzip file read by offset in its uncompressed bytes.
pub struct GzFile {
    file: File,
    key: Key,
    inner: RefCell<Inner>,
    /// Read forward only (a follower): the cache keeps `GZIP_FOLLOW_KEEP`
    /// bytes below the last read instead of a restart spacing.
    forward: bool,
}

struct Inner {
    /// Where the last read left the inflater (`None` before the first).
    live: Option<Inflater>,
    /// The last inflated bytes, which end where `live` is.
    cache: Vec<u8>,
    cache_at: u64,
    /// The inflater reached the end of the last member.
    at_end: bool,
    /// The next output offset at which a restart point is offered.
    next_point: u64,
}

impl GzFile {
    pub fn new(file: File) -> io::Result<GzFile> {
        let key = Key::of(&file.metadata()?);
        Ok(GzFile {
            file,
            key,
            inner: RefCell::new(Inner {
                live: None,
                cache: Vec::new(),
                cache_at: 0,
                at_end: false,
                next_point: GZIP_RESTART_EVERY,
            }),
            forward: false,
        })
    }

    /// From now on read forward only, from `pos`, as a follower reads:
    /// what the cache keeps below the read position is `GZIP_FOLLOW_KEEP`
    /// (enough for the bytes a follower checks just before its position),
    /// not the restart spacing a backward scan wants — a follower walking a
    /// gzip generation without a pause (a slow reader, a resume far behind)
    /// otherwise held `GZIP_READ_CACHE` (5 MiB) the whole way. What the
    /// cache holds below that is given up now; what it holds past `pos`
    /// (inflated by a look at the file before it was followed) is kept
    /// until read, rather than inflated again.
    pub fn forward_only(&mut self, pos: u64) {
        self.forward = true;
        let inner = self.inner.get_mut();
        let keep_from = pos.saturating_sub(GZIP_FOLLOW_KEEP as u64);
        if keep_from > inner.cache_at {
            let drop = usize::try_from(keep_from - inner.cache_at)
                .map_or(inner.cache.len(), |n| n.min(inner.cache.len()));
            inner.cache.drain(..drop);
            inner.cache_at += drop as u64;
        }
        inner.cache.shrink_to_fit();
    }

    /// Bytes below a read that the cache keeps.
    fn keep_below(&self) -> u64 {
        if self.forward {
            GZIP_FOLLOW_KEEP as u64
        } else {
            GZIP_RESTART_EVERY
        }
    }

    /// The uncompressed size: known from an earlier pass, or found by one
    /// now (from the last restart point on). For a file that stops
    /// inflating, the bytes before that point.
    pub fn size(&self) -> io::Result<u64> {
        match restart::end(&self.key) {
            Some(End::Size(n) | End::Corrupt(n, _)) => return Ok(n),
            None => {}
        }
        let mut inner = self.inner.borrow_mut();
        // From the last restart point known (or where the inflater is).
        self.position(&mut inner, u64::MAX);
        // A forward reader starts at its position, not at the end: it
        // keeps nothing of this pass but its last step.
        let keep = if self.forward { u64::MAX } else { 0 };
        self.advance(&mut inner, u64::MAX, keep)?;
        match restart::end(&self.key) {
            Some(End::Size(n) | End::Corrupt(n, _)) => Ok(n),
            None => Ok(inner.cache_at + inner.cache.len() as u64),
        }
    }

    /// The first bytes of the text, inflated from the start without the
    /// whole-file check that `read_at` waits for: only to look at (the
    /// first timestamp), never to send.
    pub fn head(&self, buf: &mut [u8]) -> io::Result<usize> {
        let mut inflater = Inflater::new();
        let mut done = 0;
        while done < buf.len() {
            match inflater.read(&self.file, &mut buf[done..]) {
                Ok(0) => break,
                Ok(n) => done += n,
                Err(e) if done > 0 && gzip::is_corrupt(&e) => break,
                Err(e) => return Err(e),
            }
        }
        Ok(done)
    }

    /// Gives back the read cache (an idle follower): what it holds is kept
    /// for the next reader of the file, within the shared bound.
    pub fn release(&self) {
        let mut inner = self.inner.borrow_mut();
        let bytes = std::mem::take(&mut inner.cache);
        let at = inner.cache_at;
        inner.cache_at += bytes.len() as u64;
        restart::keep_span(&self.key, at, bytes);
    }

    /// Why the file stops inflating before its end, once a pass found it.
    pub fn corrupt(&self) -> Option<String> {
        match restart::end(&self.key) {
            Some(End::Corrupt(_, why)) => Some(why),
            _ => None,
        }
    }

    /// Up to `buf.len()` bytes at `offset`; 0 at the end. Where the file
    /// stops inflating, the error that says why.
    pub(crate) fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        // Nothing is read before one pass has checked the whole file (its
        // members' CRCs): a corrupt member never shows as text.
        let len = self.size()?;
        let mut inner = self.inner.borrow_mut();
        let mut done = 0;
        while done < buf.len() {
            let want = (buf.len() - done).min(GZIP_READ_CACHE - DROP - STEP);
            let at = offset + done as u64;
            if at >= len {
                if done == 0
                    && let Some(why) = self.corrupt()
                {
                    return Err(io::Error::new(io::ErrorKind::InvalidData, why));
                }
                break;
            }
            let want = want.min((len - at) as usize);
            let n = self.read_some(&mut inner, &mut buf[done..done + want], at)?;
            if n == 0 {
                break;
            }
            done += n;
        }
        Ok(done)
    }

    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        if self.read_at(buf, offset)? < buf.len() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "read past the end of the gzip file's text",
            ));
        }
        Ok(())
    }

    /// One read of at most `GZIP_READ_CACHE - DROP - STEP` bytes, through
    /// the cache (and what earlier readers left behind).
    fn read_some(&self, inner: &mut Inner, buf: &mut [u8], at: u64) -> io::Result<usize> {
        let end = at.saturating_add(buf.len() as u64);
        let cache_end = inner.cache_at + inner.cache.len() as u64;
        let hit = at >= inner.cache_at && (end <= cache_end || (inner.at_end && at <= cache_end));
        if !hit && let Some(n) = restart::read_span(&self.key, at, buf) {
            return Ok(n);
        }
        if !hit {
            self.position(inner, at);
            // Kept: up to a restart spacing below `at` — all that was
            // inflated from the restart point, where a backward scan reads
            // next.
            self.advance(inner, end, at.saturating_sub(self.keep_below()))?;
        }
        let cache_end = inner.cache_at + inner.cache.len() as u64;
        if at >= cache_end {
            return Ok(0);
        }
        let from = (at - inner.cache_at) as usize;
        let n = buf.len().min(inner.cache.len() - from);
        buf[..n].copy_from_slice(&inner.cache[from..from + n]);
        Ok(n)
    }

    /// Places the inflater so that it can reach `at`: where it is, when
    /// that is at or before `at` and no restart point lies between; else
    /// the nearest restart point at or before `at`, or the file's start.
    fn position(&self, inner: &mut Inner, at: u64) {
        // The cache always ends where the inflater is.
        let cache_end = inner.cache_at + inner.cache.len() as u64;
        let point = restart::best(&self.key, at);
        let live_ok = inner.live.is_some()
            && at >= inner.cache_at
            && (at <= cache_end || point.as_ref().is_none_or(|p| p.out_pos <= cache_end));
        if live_ok {
            return;
        }
        let live = match point {
            Some(p) => Inflater::resume((*p).clone()),
            None => Inflater::new(),
        };
        inner.cache.clear();
        inner.cache_at = live.out_pos();
        inner.next_point = live.out_pos() + GZIP_RESTART_EVERY;
        inner.at_end = false;
        inner.live = Some(live);
    }

    /// Inflates until the output reaches `end` (or the file's end), keeping
    /// in the cache what lies at or after `keep` (at most the cache's size,
    /// the last bytes first), and offering restart points on the way.
    fn advance(&self, inner: &mut Inner, end: u64, keep: u64) -> io::Result<()> {
        if inner.live.is_none() {
            self.position(inner, 0);
        }
        let Inner {
            live,
            cache,
            cache_at,
            at_end,
            next_point,
        } = inner;
        let Some(live) = live.as_mut() else {
            return Ok(());
        };
        while !*at_end && live.out_pos() < end {
            if live.out_pos() >= *next_point
                && let Some(snap) = live.snapshot()
            {
                restart::add(&self.key, snap);
                *next_point = live.out_pos() + GZIP_RESTART_EVERY;
            }
            if self.forward && keep <= live.out_pos() && keep > *cache_at {
                // A forward reader: what lies below `keep` goes, so that
                // the cache stays within its bound.
                let drop = (keep - *cache_at).min(cache.len() as u64) as usize;
                cache.drain(..drop);
                *cache_at += drop as u64;
            } else if keep > live.out_pos() + STEP as u64 || cache.len() + STEP > GZIP_READ_CACHE {
                // Not wanted (yet), or room needed: drop the oldest.
                let drop = if keep > live.out_pos() {
                    cache.len()
                } else {
                    cache.len().min(DROP)
                };
                cache.drain(..drop);
                *cache_at += drop as u64;
            }
            let old = cache.len();
            if self.forward {
                // Its exact size: a doubled capacity would be its bound again.
                cache.reserve_exact(STEP);
            }
            cache.resize(old + STEP, 0);
            let got = live.read(&self.file, &mut cache[old..]);
            let n = *got.as_ref().unwrap_or(&0);
            cache.truncate(old + n);
            match got {
                Ok(0) => {
                    *at_end = true;
                    restart::set_end(&self.key, End::Size(live.out_pos()));
                }
                Ok(_) => {}
                Err(e) if gzip::is_corrupt(&e) => {
                    // A file cut short inflated right up to its end; in a
                    // member that does not inflate or check, even the bytes
                    // that came out may be wrong: it ends where it began.
                    *at_end = true;
                    let stop = if e.kind() == io::ErrorKind::UnexpectedEof {
                        live.out_pos()
                    } else {
                        live.member_start()
                    };
                    restart::set_end(&self.key, End::Corrupt(stop, e.to_string()));
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::path::{Path, PathBuf};
    use std::process::{Command, Stdio};

    struct Dir(PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn dir(tag: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("wstail-source-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }

    /// `gzip -c -n` of `text`; `None` where gzip is not installed.
    fn gzip(text: &[u8], level: &str) -> Option<Vec<u8>> {
        let mut child = Command::new("gzip")
            .args(["-c", "-n", level])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .ok()?;
        let mut stdin = child.stdin.take()?;
        let text = text.to_vec();
        let writer = std::thread::spawn(move || stdin.write_all(&text));
        let out = child.wait_with_output().ok()?;
        writer.join().ok()?.ok()?;
        out.status.success().then_some(out.stdout)
    }

    fn text(lines: usize, seed: u64) -> Vec<u8> {
        let mut rng = crate::test_rng::Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let mut t = Vec::new();
        for i in 0..lines {
            let words = 3 + rng.below(20);
            t.extend_from_slice(
                format!("2026-12-01T14:{:02}:{:02} line {i}", i / 60 % 60, i % 60).as_bytes(),
            );
            for _ in 0..words {
                t.extend_from_slice(format!(" w{}", rng.below(5000)).as_bytes());
            }
            t.push(b'\n');
        }
        t
    }

    fn source(path: &Path) -> Source {
        Source::Gzip(Box::new(GzFile::new(File::open(path).unwrap()).unwrap()))
    }

    fn all(s: &Source) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        let mut buf = vec![0u8; 7777];
        loop {
            let n = s.read_at(&mut buf, out.len() as u64)?;
            if n == 0 {
                return Ok(out);
            }
            out.extend_from_slice(&buf[..n]);
        }
    }

    /// RFC 1952's optional header fields, which `gzip` itself never
    /// writes but other tools do: FEXTRA, FCOMMENT, FHCRC (with FNAME).
    fn with_header_fields(gz: &[u8]) -> Vec<u8> {
        let mut h = vec![0x1f, 0x8b, 8, 0x02 | 0x04 | 0x08 | 0x10, 0, 0, 0, 0, 0, 3];
        h.extend_from_slice(&[5, 0, b'A', b'B', 1, 0, 9]);
        h.extend_from_slice(b"app.log\0");
        h.extend_from_slice(b"a comment\0");
        let mut crc = gzip::Crc32::default();
        crc.update(&h);
        h.extend_from_slice(&((crc.value() & 0xFFFF) as u16).to_le_bytes());
        // `gzip -n` writes a 10-byte header without fields.
        assert_eq!(gz[3], 0);
        h.extend_from_slice(&gz[10..]);
        h
    }

    #[test]
    fn members_headers_and_corruption() {
        let d = dir("members");
        let (a, b) = (text(3000, 1), text(5, 2));
        let (Some(ga), Some(gb)) = (gzip(&a, "-6"), gzip(&b, "-1")) else {
            eprintln!("no gzip: skipped");
            return;
        };
        let p = d.0.join("x.gz");
        let check = |bytes: &[u8], want: &[u8]| {
            std::fs::write(&p, bytes).unwrap();
            let s = source(&p);
            assert_eq!(all(&s).unwrap(), want);
            assert_eq!(s.size().unwrap(), want.len() as u64);
            assert_eq!(s.corrupt(), None);
        };
        check(&ga, &a);
        // Two members (`cat a.gz b.gz`), fields, trailing zeros.
        check(&[&ga[..], &gb[..]].concat(), &[&a[..], &b[..]].concat());
        check(&with_header_fields(&ga), &a);
        check(
            &[&gb[..], &with_header_fields(&ga)[..], &[0u8; 9][..]].concat(),
            &[&b[..], &a[..]].concat(),
        );
        // Truncated, and corrupt: the bytes that inflated, then the error.
        for (bytes, what) in [
            (ga[..ga.len() / 2].to_vec(), "truncated"),
            (ga[..ga.len() - 3].to_vec(), "truncated"),
            (
                {
                    let mut x = ga.clone();
                    let k = x.len() / 3;
                    x[k] ^= 0x55;
                    x
                },
                "",
            ),
            (
                {
                    let mut x = ga.clone();
                    let k = x.len() - 6;
                    x[k] ^= 1;
                    x
                },
                "CRC",
            ),
            (
                {
                    let mut x = with_header_fields(&ga);
                    x[20] ^= 1;
                    x
                },
                "header",
            ),
        ] {
            std::fs::write(&p, &bytes).unwrap();
            let s = source(&p);
            let e = all(&s).unwrap_err();
            assert!(gzip::is_corrupt(&e), "{e}");
            assert!(e.to_string().contains(what), "{e}");
            let len = s.size().unwrap();
            assert!(a.starts_with(&all_until_error(&s)));
            assert!(len <= a.len() as u64);
            assert!(s.corrupt().is_some());
        }
    }

    fn all_until_error(s: &Source) -> Vec<u8> {
        let mut out = Vec::new();
        let mut buf = vec![0u8; 4096];
        while let Ok(n) = s.read_at(&mut buf, out.len() as u64) {
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        out
    }

    #[test]
    fn read_anywhere_with_restart_points() {
        let d = dir("random");
        // About 11 MB: restart points at 4 and 8 MiB.
        let t = text(160_000, 3);
        let Some(gz) = gzip(&t, "-6") else {
            eprintln!("no gzip: skipped");
            return;
        };
        let p = d.0.join("big.gz");
        std::fs::write(&p, &gz).unwrap();
        let s = source(&p);
        assert_eq!(s.size().unwrap(), t.len() as u64);
        // A second reader of the same file starts from the points.
        let s2 = source(&p);
        let mut rng = crate::test_rng::Rng(0x1234_5678_9abc_def1);
        let mut buf = vec![0u8; 70_000];
        for _ in 0..60 {
            let at = rng.below(t.len() + 10) as u64;
            let want = rng
                .below(buf.len())
                .min(t.len().saturating_sub(at as usize));
            let n = s2.read_at(&mut buf[..want], at).unwrap();
            assert_eq!(&buf[..n], &t[at as usize..at as usize + want], "at {at}");
        }
        // Backward, block by block, as a scan reads.
        let mut hi = t.len() as u64;
        while hi > 0 {
            let lo = hi.saturating_sub(65_536);
            let n = (hi - lo) as usize;
            ReadAt::read_exact_at(&s2, &mut buf[..n], lo).unwrap();
            assert_eq!(&buf[..n], &t[lo as usize..hi as usize]);
            hi = lo;
        }
        assert!(restart::held().0 >= 2);
    }

    /// A follower's reader (`forward_only`) keeps a bounded cache however
    /// long it reads on without a pause; a backward reader's cache grows to
    /// a restart spacing below its reads. Each read checks the 64 bytes
    /// just before it first, as a follower does.
    #[test]
    fn a_forward_reader_keeps_a_bounded_cache() {
        let d = dir("forward");
        let t = text(120_000, 7); // about 12 MB
        let Some(gz) = gzip(&t, "-1") else {
            return;
        };
        let p = d.0.join("walk.gz");
        std::fs::write(&p, &gz).unwrap();
        let held = |forward: bool| {
            let mut g = GzFile::new(File::open(&p).unwrap()).unwrap();
            if forward {
                g.forward_only(0);
            }
            let mut buf = vec![0u8; 64 * 1024];
            let mut before = [0u8; 64];
            let (mut at, mut most) = (0usize, 0usize);
            while at < t.len() {
                if at >= 64 {
                    g.read_exact_at(&mut before, (at - 64) as u64).unwrap();
                    assert_eq!(&before[..], &t[at - 64..at]);
                }
                let n = g.read_at(&mut buf, at as u64).unwrap();
                assert!(n > 0, "no progress at {at}");
                assert_eq!(&buf[..n], &t[at..at + n], "at {at}");
                at += n;
                most = most.max(g.inner.borrow().cache.capacity());
            }
            most
        };
        // What it keeps below a read, the read, one step of inflating.
        let bound = GZIP_FOLLOW_KEEP + 64 * 1024 + STEP;
        let forward = held(true);
        assert!(forward <= bound, "a follower's cache held {forward} bytes");
        // The same walk without it: the bound is the forward reader's own.
        let backward = held(false);
        assert!(
            backward > bound,
            "a scan's cache held only {backward} bytes"
        );

        // A follower that starts mid-file (a resume) after a look at the
        // whole file: what was inflated past its position is kept, so its
        // first read inflates nothing again.
        let p = d.0.join("resume.gz"); // a file no reader has inflated yet
        std::fs::write(&p, &gz).unwrap();
        let mut g = GzFile::new(File::open(&p).unwrap()).unwrap();
        assert_eq!(g.size().unwrap(), t.len() as u64);
        let pos = t.len() as u64 - 1_000_000;
        let mut before = [0u8; 64];
        g.read_exact_at(&mut before, pos - 64).unwrap();
        g.forward_only(pos);
        let (at, len) = {
            let inner = g.inner.borrow();
            (inner.cache_at, inner.cache.len() as u64)
        };
        assert!(
            at <= pos - 64 && at + len > pos,
            "kept [{at}, {}) for a read at {pos}",
            at + len
        );
        assert!(
            pos - at <= GZIP_FOLLOW_KEEP as u64,
            "kept {} below",
            pos - at
        );
    }
}
