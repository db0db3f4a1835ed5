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

use std::fs;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use crate::access;
use crate::limits::{LIST_MAX_DEPTH, LIST_MAX_DIRS, LIST_MAX_ENTRIES, LIST_MAX_VISITED};
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

/// A walk's result: the files found, and whether a bound of the walk cut
/// it short (then the list is incomplete, and says so).
#[derive(Debug, Default)]
pub struct Listing {
    pub entries: Vec<Entry>,
    pub truncated: bool,
    /// Directory entries looked at, and directories read.
    visited: usize,
    dirs: usize,
}

/// Walks the roots, depth first in name order, within the bounds: depth,
/// entries returned, and the work itself — directories read and entries
/// looked at, so that a directory of 100,000 symlinks costs no more than
/// `LIST_MAX_VISITED` looks.
pub fn collect(roots: &[PathBuf]) -> Listing {
    let mut l = Listing::default();
    for root in roots {
        walk(root, 1, roots, &mut l);
    }
    l.entries.sort_by(|a, b| a.path.cmp(&b.path));
    l.entries.dedup_by(|a, b| a.path == b.path);
    l
}

fn walk(dir: &Path, depth: usize, roots: &[PathBuf], l: &mut Listing) {
    if depth > LIST_MAX_DEPTH {
        return;
    }
    if l.entries.len() >= LIST_MAX_ENTRIES
        || l.visited >= LIST_MAX_VISITED
        || l.dirs >= LIST_MAX_DIRS
    {
        l.truncated = true;
        return;
    }
    let Ok(read) = fs::read_dir(dir) else { return };
    l.dirs += 1;
    // Names are read up to what may still be visited, then sorted.
    let mut names: Vec<PathBuf> = Vec::new();
    for e in read {
        if l.visited + names.len() >= LIST_MAX_VISITED {
            l.truncated = true;
            break;
        }
        if let Ok(e) = e {
            names.push(e.path());
        }
    }
    l.visited += names.len();
    names.sort();
    for path in names {
        if l.entries.len() >= LIST_MAX_ENTRIES {
            l.truncated = true;
            return;
        }
        let Ok(lmeta) = fs::symlink_metadata(&path) else {
            continue;
        };
        if lmeta.is_dir() {
            walk(&path, depth + 1, roots, l);
            continue;
        }
        // Files and symlinks: admitted only by the same rule as a request,
        // and the size and time shown are those of the verified descriptor
        // (never of an outside file swapped in after the check).
        // Opened (not only looked at) so that its first bytes can say
        // whether it is compressed.
        let Ok((_, file, meta)) = access::open_verified(roots, &path) else {
            continue;
        };
        let modified = meta
            .modified()
            .ok()
            .and_then(|m| m.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs());
        l.entries.push(Entry {
            path,
            size: meta.len(),
            modified,
            compressed: compressed::file_compression(&file).ok().flatten(),
        });
    }
}

/// Appends `bytes` as a JSON string (quotes included); bytes that are not
/// UTF-8 become U+FFFD.
pub fn json_string(out: &mut String, bytes: &[u8]) {
    // Writing into a String cannot fail.
    let _ = meta::write_string(out, &String::from_utf8_lossy(bytes));
}

pub fn to_json(entries: &[Entry]) -> String {
    let mut out = String::with_capacity(64 * entries.len() + 2);
    out.push('[');
    for (i, e) in entries.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"path\":");
        json_string(&mut out, e.path.as_os_str().as_bytes());
        out.push_str(&format!(",\"size\":{},\"modified\":{}", e.size, e.modified));
        if let Some(c) = e.compressed {
            out.push_str(&format!(",\"compressed\":\"{c}\""));
        }
        out.push('}');
    }
    out.push(']');
    out
}

/// Sends the list and says what was answered.
pub fn serve(out: &mut impl Write, roots: &[PathBuf], head_only: bool) -> Answer {
    let listing = collect(roots);
    let body = to_json(&listing.entries);
    let (extra, cut) = if listing.truncated {
        (
            vec!["X-Wstail-Truncated: 1".to_string()],
            " (truncated: a bound of the listing was reached)",
        )
    } else {
        (Vec::new(), "")
    };
    let mut answer = Answer::new(200, format!("listed {} files{cut}", listing.entries.len()));
    answer.sent = body.len() as u64;
    match http::write_response(
        out,
        200,
        "application/json",
        body.as_bytes(),
        &extra,
        head_only,
    ) {
        Ok(()) => answer,
        Err(e) => answer.cut_short(&e),
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
        let listing = collect(&roots);
        assert!(!listing.truncated);
        let names: Vec<String> = listing
            .entries
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
        let json = to_json(&collect(&roots).entries);
        assert!(json.contains("odd\\\"\\n\u{fffd}name"));
        let _ = fs::remove_dir_all(&dir);
    }
}
