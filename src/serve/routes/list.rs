//! `GET /?list`: the files a client may open, as a JSON array of
//! `{"path", "size", "modified"}`. The walk is bounded (depth, entries
//! returned, directories read and entries looked at; a list cut short by a
//! bound carries `X-Wstail-Truncated: 1`), each
//! entry (a symlink resolved) is admitted only if it passes the same path
//! rule as a WebSocket request, its size and time are read from a verified
//! descriptor (`access::open_verified`, which also reads the first bytes
//! to mark compressed files), and the JSON is written by hand
//! with every file name escaped (quotes, backslashes, control characters;
//! bytes that are not UTF-8 become U+FFFD, since JSON strings cannot carry
//! them).
//!
//! The list is streamed as it is walked (chunked, through a buffer of
//! `LIST_BUFFER` bytes), so that a connection holds a bounded number of
//! bytes however long the list, and a hundred slow readers do not hold a
//! hundred lists. The header must say whether the list is cut before the
//! first entry is judged, so a first walk reads the directories only
//! (names and types, no file opened) and tells whether a bound will be
//! reached; the second walk judges and writes each entry.

use std::ffi::OsString;
use std::fs;
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use crate::access;
use crate::limits::{
    LIST_BUFFER, LIST_MAX_DEPTH, LIST_MAX_DIRS, LIST_MAX_ENTRIES, LIST_MAX_VISITED,
};
use crate::serve::http::{self, Answer};
use crate::{follow::compressed, wire::meta, wire::names::Compression};

/// One listed file.
#[derive(Debug, PartialEq)]
pub struct Entry {
    pub path: PathBuf,
    pub size: u64,
    pub modified: u64,
    /// The compression its first bytes announce (`"compressed":"gzip"`).
    pub compressed: Option<Compression>,
}

/// The work of one walk, against the bounds.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Work {
    /// Directory entries looked at.
    pub visited: usize,
    /// Directories read.
    pub dirs: usize,
    /// Files counted: every file and symlink met in the first walk, the
    /// files admitted in the second.
    pub files: usize,
    /// A bound cut the walk short.
    pub truncated: bool,
}

/// Walks the roots, depth first in name order (so the files come in path
/// order), within the bounds: depth, files, and the work itself —
/// directories read and entries looked at, so that a directory of 100,000
/// symlinks costs no more than `LIST_MAX_VISITED` looks. `file` is given
/// each file or symlink met and says whether it counts (an `Err` ends the
/// walk: the client is gone). A root inside another root is walked where
/// the outer walk meets it, its depth counted from itself, or after the
/// others if the outer walk did not reach it.
fn walk_roots(
    roots: &[PathBuf],
    file: &mut dyn FnMut(&Path) -> io::Result<bool>,
) -> io::Result<Work> {
    let mut sorted: Vec<&PathBuf> = roots.iter().collect();
    sorted.sort();
    let mut w = Walker {
        roots: &sorted,
        reached: vec![false; sorted.len()],
        work: Work::default(),
        file,
    };
    for (i, root) in sorted.iter().enumerate() {
        let nested = sorted[..i]
            .iter()
            .any(|outer| root.starts_with(outer) && root != outer);
        if !nested {
            w.walk(root, 1)?;
        }
    }
    // Nested roots the outer walks did not reach (a root already walked
    // returns at once).
    for root in &sorted {
        w.walk(root, 1)?;
    }
    Ok(w.work)
}

struct Walker<'a, 'f> {
    roots: &'a [&'a PathBuf],
    /// The roots whose directory the walk has read (or tried to).
    reached: Vec<bool>,
    work: Work,
    file: &'f mut dyn FnMut(&Path) -> io::Result<bool>,
}

impl Walker<'_, '_> {
    fn walk(&mut self, dir: &Path, depth: usize) -> io::Result<()> {
        let depth = match self.roots.iter().position(|r| r.as_path() == dir) {
            Some(i) if self.reached[i] => return Ok(()),
            Some(i) => {
                self.reached[i] = true;
                1
            }
            None => depth,
        };
        if depth > LIST_MAX_DEPTH {
            return Ok(());
        }
        let w = &mut self.work;
        if w.files >= LIST_MAX_ENTRIES || w.visited >= LIST_MAX_VISITED || w.dirs >= LIST_MAX_DIRS {
            w.truncated = true;
            return Ok(());
        }
        let Ok(read) = fs::read_dir(dir) else {
            return Ok(());
        };
        w.dirs += 1;
        // Names (and whether each is a directory, from the directory entry
        // itself: no link is followed) up to what may still be visited.
        let mut names: Vec<(OsString, bool)> = Vec::new();
        for e in read {
            if w.visited + names.len() >= LIST_MAX_VISITED {
                w.truncated = true;
                break;
            }
            if let Ok(e) = e {
                let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
                names.push((e.file_name(), is_dir));
            }
        }
        w.visited += names.len();
        names.sort();
        for (name, is_dir) in names {
            if self.work.files >= LIST_MAX_ENTRIES {
                self.work.truncated = true;
                return Ok(());
            }
            let path = dir.join(&name);
            if is_dir {
                self.walk(&path, depth + 1)?;
            } else if (self.file)(&path)? {
                self.work.files += 1;
            }
        }
        Ok(())
    }
}

/// The listed files, judged by the same rule as a request (for tests and
/// tools: the route streams them instead).
#[cfg(test)]
pub fn collect(roots: &[PathBuf]) -> (Vec<Entry>, Work) {
    let mut entries = Vec::new();
    let work = walk_roots(roots, &mut |p| {
        Ok(judge(roots, p).map(|e| entries.push(e)).is_some())
    })
    .unwrap_or_default();
    (entries, work)
}

/// A file or symlink met by the walk, if it is listed: admitted only by the
/// same rule as a request, and the size and time shown are those of the
/// verified descriptor (never of an outside file swapped in after the
/// check). Opened (not only looked at) so that its first bytes can say
/// whether it is compressed.
fn judge(roots: &[PathBuf], path: &Path) -> Option<Entry> {
    let (_, file, meta) = access::open_verified(roots, path).ok()?;
    let modified = meta
        .modified()
        .ok()
        .and_then(|m| m.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs());
    Some(Entry {
        path: path.to_path_buf(),
        size: meta.len(),
        modified,
        compressed: compressed::file_compression(&file).ok().flatten(),
    })
}

/// Appends `bytes` as a JSON string (quotes included); bytes that are not
/// UTF-8 become U+FFFD.
pub fn json_string(out: &mut String, bytes: &[u8]) {
    // Writing into a String cannot fail.
    let _ = meta::write_string(out, &String::from_utf8_lossy(bytes));
}

/// One entry's JSON object.
pub fn entry_json(out: &mut String, e: &Entry) {
    out.push_str("{\"path\":");
    json_string(out, e.path.as_os_str().as_bytes());
    out.push_str(&format!(",\"size\":{},\"modified\":{}", e.size, e.modified));
    if let Some(c) = e.compressed {
        out.push_str(&format!(",\"compressed\":\"{c}\""));
    }
    out.push('}');
}

/// The whole list as one JSON array (for tests: the route streams it).
#[cfg(test)]
pub fn to_json(entries: &[Entry]) -> String {
    let mut out = String::with_capacity(64 * entries.len() + 2);
    out.push('[');
    for (i, e) in entries.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        entry_json(&mut out, e);
    }
    out.push(']');
    out
}

/// The list's response: its head waits until the first `LIST_BUFFER`
/// bytes of the body are there. A list that fits goes out whole, with its
/// `Content-Length`; a longer one in HTTP/1.1 chunks of about that size (or,
/// for HTTP/1.0, which knows no chunks, ended by the connection's close).
/// Counts the body bytes sent.
struct Body<'a, W: Write> {
    out: &'a mut W,
    http10: bool,
    /// The head's extra headers, until the head is written.
    head: Option<Vec<String>>,
    buf: Vec<u8>,
    sent: u64,
}

impl<W: Write> Body<'_, W> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.buf.extend_from_slice(bytes);
        if self.buf.len() >= LIST_BUFFER {
            self.flush_chunk()?;
        }
        Ok(())
    }

    fn flush_chunk(&mut self) -> io::Result<()> {
        if let Some(mut extra) = self.head.take() {
            if !self.http10 {
                extra.push("Transfer-Encoding: chunked".to_string());
            }
            http::write_head_streamed(self.out, 200, "application/json", &extra)?;
        }
        if self.buf.is_empty() {
            return Ok(());
        }
        if self.http10 {
            self.out.write_all(&self.buf)?;
        } else {
            write!(self.out, "{:x}\r\n", self.buf.len())?;
            self.out.write_all(&self.buf)?;
            self.out.write_all(b"\r\n")?;
        }
        self.sent += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }

    fn finish(mut self) -> io::Result<u64> {
        if let Some(extra) = self.head.take() {
            http::write_response(self.out, 200, "application/json", &self.buf, &extra, false)?;
            return Ok(self.buf.len() as u64);
        }
        self.flush_chunk()?;
        if !self.http10 {
            self.out.write_all(b"0\r\n\r\n")?;
        }
        self.out.flush()?;
        Ok(self.sent)
    }
}

/// Sends the list and says what was answered: first a walk of the
/// directories alone tells whether a bound will cut the list (the header),
/// then the list is walked again and streamed as each file is judged.
pub fn serve(out: &mut impl Write, roots: &[PathBuf], http10: bool, head_only: bool) -> Answer {
    let first = walk_roots(roots, &mut |_| Ok(true)).unwrap_or_default();
    let mut extra = Vec::new();
    if first.truncated {
        extra.push("X-Wstail-Truncated: 1".to_string());
    }
    let cut = if first.truncated {
        " (truncated: a bound of the listing was reached)"
    } else {
        ""
    };
    if head_only {
        // The length is not known without the work: a HEAD answer says how
        // the body would come.
        if !http10 {
            extra.push("Transfer-Encoding: chunked".to_string());
        }
        return match http::write_head_streamed(out, 200, "application/json", &extra)
            .and_then(|()| out.flush())
        {
            Ok(()) => Answer::new(200, format!("the list's head{cut}")),
            Err(e) => Answer::new(200, "the list's head").cut_short(&e),
        };
    }
    let mut body = Body {
        out,
        http10,
        head: Some(extra),
        buf: Vec::with_capacity(LIST_BUFFER + 4096),
        sent: 0,
    };
    let mut json = String::new();
    let mut first_entry = true;
    let walked = body.write(b"[").and_then(|()| {
        walk_roots(roots, &mut |p| {
            let Some(e) = judge(roots, p) else {
                return Ok(false);
            };
            json.clear();
            if !std::mem::take(&mut first_entry) {
                json.push(',');
            }
            entry_json(&mut json, &e);
            body.write(json.as_bytes())?;
            Ok(true)
        })
    });
    let done = walked.and_then(|work| body.write(b"]").map(|()| work));
    match done {
        Ok(work) => {
            let mut answer = Answer::new(
                200,
                format!(
                    "listed {} files, {} entries looked at in {} directories{cut}",
                    work.files, work.visited, work.dirs
                ),
            );
            match body.finish() {
                Ok(sent) => {
                    answer.sent = sent;
                    answer
                }
                Err(e) => answer.cut_short(&e),
            }
        }
        Err(e) => {
            let mut answer = Answer::new(200, "the list");
            answer.sent = body.sent;
            answer.cut_short(&e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn json_escapes_every_name() {
        let mut s = String::new();
        json_string(&mut s, b"a\"b\\c\nd\x01e\x7f\xff\xe2\x80\xa8");
        assert_eq!(s, "\"a\\\"b\\\\c\\nd\\u0001e\\u007f\u{fffd}\\u2028\"");
    }

    #[test]
    fn walks_within_bounds_and_rules() {
        let dir = std::env::temp_dir().join(format!("wstail-list-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let root = dir.join("root");
        fs::create_dir_all(root.join("a/b/c/d")).unwrap();
        fs::write(root.join("top.log"), "x").unwrap();
        fs::write(root.join("a/b/c/level4.log"), "x").unwrap();
        fs::write(root.join("a/b/c/d/level5.log"), "x").unwrap();
        fs::write(dir.join("secret"), "s").unwrap();
        std::os::unix::fs::symlink(dir.join("secret"), root.join("escape")).unwrap();
        std::os::unix::fs::symlink(root.join("top.log"), root.join("inside")).unwrap();
        fs::write(root.join(OsStr::from_bytes(b"odd\"\n\xffname")), "x").unwrap();
        let roots = vec![fs::canonicalize(&root).unwrap()];
        let (entries, work) = collect(&roots);
        assert!(!work.truncated);
        let names: Vec<String> = entries
            .iter()
            .map(|e| {
                e.path
                    .strip_prefix(&roots[0])
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(
            names,
            vec![
                "a/b/c/level4.log",
                "inside",
                "odd\"\n\u{fffd}name",
                "top.log"
            ]
        );
        let json = to_json(&collect(&roots).0);
        assert!(json.contains("odd\\\"\\n\u{fffd}name"));
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn nested_roots_are_listed_once_and_deep_ones_too() {
        let dir = std::env::temp_dir().join(format!("wstail-list-nested-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let outer = dir.join("outer");
        fs::create_dir_all(outer.join("a/b/c/d/e")).unwrap();
        fs::write(outer.join("top.log"), "x").unwrap();
        fs::write(outer.join("a/in-a.log"), "x").unwrap();
        // Level 5 from the outer root, level 2 from the nested one.
        fs::write(outer.join("a/b/c/d/deep.log"), "x").unwrap();
        // Beyond the outer walk's depth, a root of its own.
        fs::write(outer.join("a/b/c/d/e/deeper.log"), "x").unwrap();
        let c = |p: PathBuf| fs::canonicalize(p).unwrap();
        let roots = vec![
            c(outer.join("a/b/c/d/e")),
            c(outer.join("a/b/c")),
            c(outer.clone()),
        ];
        let (entries, _) = collect(&roots);
        let outer = c(outer);
        let names: Vec<String> = entries
            .iter()
            .map(|e| {
                e.path
                    .strip_prefix(&outer)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(
            names,
            [
                "a/b/c/d/deep.log",
                "a/b/c/d/e/deeper.log",
                "a/in-a.log",
                "top.log"
            ]
        );
        let _ = fs::remove_dir_all(&dir);
    }
}
