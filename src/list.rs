//! `GET /?list`: the files a client may open, as a JSON array of
//! `{"path", "size", "modified"}`. The walk is bounded (depth, entries), each
//! entry (a symlink resolved) is admitted only if it passes the same path
//! rule as a WebSocket request, its size and time are read from a verified
//! descriptor (`access::stat_verified`), and the JSON is written by hand
//! with every file name escaped (quotes, backslashes, control characters;
//! bytes that are not UTF-8 become U+FFFD, since JSON strings cannot carry
//! them).

use std::fs;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use crate::access;
use crate::http::{self, Answer};
use crate::limits::{LIST_MAX_DEPTH, LIST_MAX_ENTRIES};
use crate::magic;

/// One listed file.
#[derive(Debug, PartialEq)]
pub struct Entry {
    pub path: PathBuf,
    pub size: u64,
    pub modified: u64,
    /// The compression its first bytes announce (`"compressed":"gzip"`).
    pub compressed: Option<&'static str>,
}

/// Walks the roots, depth first in name order, within the bounds.
pub fn collect(roots: &[PathBuf]) -> Vec<Entry> {
    let mut out = Vec::new();
    for root in roots {
        walk(root, 1, roots, &mut out);
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out.dedup_by(|a, b| a.path == b.path);
    out
}

fn walk(dir: &Path, depth: usize, roots: &[PathBuf], out: &mut Vec<Entry>) {
    if depth > LIST_MAX_DEPTH || out.len() >= LIST_MAX_ENTRIES {
        return;
    }
    let Ok(read) = fs::read_dir(dir) else { return };
    let mut names: Vec<PathBuf> = read.filter_map(|e| e.ok().map(|e| e.path())).collect();
    names.sort();
    for path in names {
        if out.len() >= LIST_MAX_ENTRIES {
            return;
        }
        let Ok(lmeta) = fs::symlink_metadata(&path) else {
            continue;
        };
        if lmeta.is_dir() {
            walk(&path, depth + 1, roots, out);
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
        out.push(Entry {
            path,
            size: meta.len(),
            modified,
            compressed: magic::file_compression(&file).ok().flatten(),
        });
    }
}

/// Appends `s` as a JSON string (quotes included).
pub fn json_string(out: &mut String, bytes: &[u8]) {
    out.push('"');
    for c in String::from_utf8_lossy(bytes).chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            // Also U+2028/2029, which some JavaScript parsers mishandle.
            c if (c as u32) < 0x20 || c == '\u{7f}' || c == '\u{2028}' || c == '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
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
    let entries = collect(roots);
    let body = to_json(&entries);
    let mut answer = Answer::new(200, format!("listed {} files", entries.len()));
    answer.sent = body.len() as u64;
    match http::respond(
        out,
        200,
        "application/json",
        body.as_bytes(),
        &[],
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
        let names: Vec<String> = collect(&roots)
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
        let json = to_json(&collect(&roots));
        assert!(json.contains("odd\\\"\\n\u{fffd}name"));
        let _ = fs::remove_dir_all(&dir);
    }
}
