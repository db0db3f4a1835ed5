//! Who may read what: the path rule (lexical check, then the canonical path
//! re-checked component by component, regular files only), the browser
//! origin rule against cross-site WebSocket hijacking, and the token compare.
//! Each is a small function with a table-driven test, because this file is
//! where a security reviewer should spend the afternoon.

use std::ffi::OsStr;
use std::fs::{File, Metadata, OpenOptions};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Component, Path, PathBuf};

/// Browser origins allowed besides the server's own (`--allow-origin`).
#[derive(Debug, Clone, PartialEq)]
pub enum Origins {
    Any,
    List(Vec<String>),
}

/// `O_NONBLOCK` (Linux, all architectures Rust supports there): opening a
/// FIFO that was swapped in after the check must not block the thread.
const O_NONBLOCK: i32 = 0o4000;

/// Why a path is refused; `status` gives the HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// 400: not an absolute path, or it holds a NUL byte.
    Malformed(&'static str),
    /// 403: outside the roots, or not a regular file, or unreadable.
    Forbidden(&'static str),
    /// 404: inside a root, but nothing is there.
    NotFound,
}

impl Refusal {
    pub fn status(&self) -> u16 {
        match self {
            Refusal::Malformed(_) => 400,
            Refusal::Forbidden(_) => 403,
            Refusal::NotFound => 404,
        }
    }

    pub fn reason(&self) -> &'static str {
        match self {
            Refusal::Malformed(r) | Refusal::Forbidden(r) => r,
            Refusal::NotFound => "no such file under the served roots",
        }
    }
}

/// Resolves `.` and `..` without touching the filesystem; `None` unless the
/// path is absolute and free of NUL bytes. `..` at the top stays at `/`.
pub fn lexical_normalize(raw: &[u8]) -> Option<PathBuf> {
    if raw.first() != Some(&b'/') || raw.contains(&0) {
        return None;
    }
    let mut parts: Vec<&[u8]> = Vec::new();
    for part in raw.split(|&b| b == b'/') {
        match part {
            b"" | b"." => {}
            b".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    let mut out = Vec::with_capacity(raw.len());
    for p in parts {
        out.push(b'/');
        out.extend_from_slice(p);
    }
    if out.is_empty() {
        out.push(b'/');
    }
    Some(PathBuf::from(OsStr::from_bytes(&out)))
}

/// True when `path` is `root` or lies below it, compared component by
/// component: root `/x/logs` does not admit `/x/logs2/secret`.
pub fn is_within(path: &Path, root: &Path) -> bool {
    let mut p = path.components();
    for r in root.components() {
        if p.next() != Some(r) {
            return false;
        }
    }
    // Only normal components may follow (no `..` sneaking back up).
    p.all(|c| matches!(c, Component::Normal(_)))
}

fn within_any(path: &Path, roots: &[PathBuf]) -> bool {
    roots.iter().any(|r| is_within(path, r))
}

/// The full path rule. Returns the canonical path of a regular file under a
/// root, or why not. `raw` is the percent-decoded URL path (decoded once).
pub fn check_path(roots: &[PathBuf], raw: &[u8]) -> Result<PathBuf, Refusal> {
    if raw.contains(&0) {
        return Err(Refusal::Malformed("the path holds a NUL byte"));
    }
    let lexical =
        lexical_normalize(raw).ok_or(Refusal::Malformed("the path is not an absolute path"))?;
    if !within_any(&lexical, roots) {
        return Err(Refusal::Forbidden("the path is outside the served roots"));
    }
    let canonical = match std::fs::canonicalize(&lexical) {
        Ok(c) => c,
        Err(e) => return Err(io_refusal(&e)),
    };
    if !within_any(&canonical, roots) {
        return Err(Refusal::Forbidden(
            "the path leads outside the served roots",
        ));
    }
    let meta = std::fs::metadata(&canonical).map_err(|e| io_refusal(&e))?;
    check_regular(&meta)?;
    Ok(canonical)
}

fn io_refusal(e: &io::Error) -> Refusal {
    match e.kind() {
        // ENOTDIR too: `/root/file.log/x` names nothing.
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory => Refusal::NotFound,
        _ => Refusal::Forbidden("the file cannot be read by the server"),
    }
}

fn check_regular(meta: &Metadata) -> Result<(), Refusal> {
    if meta.is_file() {
        Ok(())
    } else if meta.is_dir() {
        Err(Refusal::Forbidden(
            "the path is a directory, not a regular file",
        ))
    } else {
        Err(Refusal::Forbidden("the path is not a regular file"))
    }
}

/// Opens a path that `check_path` admitted, without blocking on a FIFO that
/// may have been swapped in since, and checks again that what was opened is a
/// regular file.
pub fn open_checked(canonical: &Path) -> Result<(File, Metadata), Refusal> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(O_NONBLOCK)
        .open(canonical)
        .map_err(|e| io_refusal(&e))?;
    let meta = file.metadata().map_err(|e| io_refusal(&e))?;
    check_regular(&meta)?;
    Ok((file, meta))
}

/// Checks and opens in one step (used again when a followed file reappears).
pub fn open_path(roots: &[PathBuf], raw: &[u8]) -> Result<(PathBuf, File, Metadata), Refusal> {
    let canonical = check_path(roots, raw)?;
    let (file, meta) = open_checked(&canonical)?;
    Ok((canonical, file, meta))
}

/// Device and inode: what identifies "the same file" across renames.
pub fn file_id(meta: &Metadata) -> (u64, u64) {
    (meta.dev(), meta.ino())
}

/// `scheme://host[:port]` → `scheme://host:port`, lower-cased, with the
/// scheme's default port made explicit. `None` for anything else.
pub fn normalize_origin(origin: &str) -> Option<String> {
    let (scheme, rest) = origin.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" | "ws" => 80,
        "https" | "wss" => 443,
        _ => return None,
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let (host, port) = split_host_port(rest, default_port)?;
    Some(format!("{scheme}://{host}:{port}"))
}

/// `host[:port]` (IPv6 in brackets) → lower-case host and port.
fn split_host_port(s: &str, default_port: u16) -> Option<(String, u16)> {
    if s.is_empty() || s.contains(['/', '?', '#', '@', ' ']) {
        return None;
    }
    let (host, port) = if let Some(v6) = s.strip_prefix('[') {
        let (addr, after) = v6.split_once(']')?;
        let port = match after {
            "" => default_port,
            p => p.strip_prefix(':')?.parse().ok()?,
        };
        (format!("[{addr}]"), port)
    } else {
        match s.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), p.parse().ok()?),
            None => (s.to_string(), default_port),
        }
    };
    if host.is_empty() || host.contains(':') && !host.starts_with('[') {
        return None;
    }
    Some((host.to_ascii_lowercase(), port))
}

/// The origin rule: no `Origin` header (not a browser) is allowed; an origin
/// whose host and port equal the `Host` header's is allowed; others only if
/// listed. `localhost` is not `127.0.0.1`: names are compared literally.
pub fn origin_allowed(origin: Option<&str>, host: Option<&str>, allowed: &Origins) -> bool {
    let Some(origin) = origin else { return true };
    if *allowed == Origins::Any {
        return true;
    }
    let Some(norm) = normalize_origin(origin.trim()) else {
        return false;
    };
    if let Origins::List(list) = allowed
        && list.contains(&norm)
    {
        return true;
    }
    let Some(host) = host else { return false };
    // The Host header carries no scheme: its default port is the origin's.
    let scheme_default = if norm.starts_with("https://") {
        443
    } else {
        80
    };
    let Some((h, p)) = split_host_port(host.trim(), scheme_default) else {
        return false;
    };
    norm.split_once("://").map(|(_, hp)| hp) == Some(format!("{h}:{p}").as_str())
}

/// Compares a given token with the expected one in time that depends only on
/// their lengths, not on where they first differ.
pub fn token_matches(expected: &str, given: &str) -> bool {
    let (a, b) = (expected.as_bytes(), given.as_bytes());
    let mut diff = (a.len() ^ b.len()) as u64;
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0xff);
        diff |= u64::from(x ^ y);
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexical_table() {
        let cases: &[(&[u8], Option<&str>)] = &[
            (b"/var/log/syslog", Some("/var/log/syslog")),
            (b"/var/log/../log/syslog", Some("/var/log/syslog")),
            (b"/var//log/./syslog", Some("/var/log/syslog")),
            (b"/abc/../def/../../", Some("/")),
            (b"/../../etc/passwd", Some("/etc/passwd")),
            (b"/var/log/%2e%2e/x", Some("/var/log/%2e%2e/x")),
            (b"relative/path", None),
            (b"", None),
            (b"/var/log/a\0b", None),
        ];
        for (raw, want) in cases {
            let got = lexical_normalize(raw);
            assert_eq!(
                got.as_deref(),
                want.map(Path::new),
                "{:?}",
                String::from_utf8_lossy(raw)
            );
        }
    }

    #[test]
    fn within_is_component_wise() {
        let root = Path::new("/x/logs");
        assert!(is_within(Path::new("/x/logs"), root));
        assert!(is_within(Path::new("/x/logs/a/b.log"), root));
        assert!(!is_within(Path::new("/x/logs2/secret"), root));
        assert!(!is_within(Path::new("/x/log"), root));
        assert!(!is_within(Path::new("/x"), root));
        assert!(!is_within(Path::new("/x/logs/../etc"), root));
    }

    #[test]
    fn origin_table() {
        let none = Origins::List(vec![]);
        let listed = Origins::List(vec!["https://ops.example:443".into()]);
        let cases: &[(Option<&str>, Option<&str>, &Origins, bool)] = &[
            (None, Some("h:1"), &none, true),
            (
                Some("http://127.0.0.1:8765"),
                Some("127.0.0.1:8765"),
                &none,
                true,
            ),
            (
                Some("http://LOCALHOST:8765"),
                Some("localhost:8765"),
                &none,
                true,
            ),
            (
                Some("http://localhost:8765"),
                Some("127.0.0.1:8765"),
                &none,
                false,
            ),
            (
                Some("http://evil.example"),
                Some("127.0.0.1:8765"),
                &none,
                false,
            ),
            (
                Some("http://logs.example"),
                Some("logs.example"),
                &none,
                true,
            ),
            (
                Some("https://logs.example"),
                Some("logs.example"),
                &none,
                true,
            ),
            (
                Some("https://logs.example"),
                Some("logs.example:80"),
                &none,
                false,
            ),
            (
                Some("http://127.0.0.1:8766"),
                Some("127.0.0.1:8765"),
                &none,
                false,
            ),
            (Some("null"), Some("127.0.0.1:8765"), &none, false),
            (
                Some("https://ops.example"),
                Some("127.0.0.1:8765"),
                &listed,
                true,
            ),
            (
                Some("https://ops.example:8443"),
                Some("127.0.0.1:8765"),
                &listed,
                false,
            ),
            (Some("http://anything"), Some("x"), &Origins::Any, true),
            (Some("http://[::1]:8765"), Some("[::1]:8765"), &none, true),
        ];
        for (origin, host, allowed, want) in cases {
            assert_eq!(
                origin_allowed(*origin, *host, allowed),
                *want,
                "{origin:?} {host:?}"
            );
        }
    }

    #[test]
    fn tokens() {
        assert!(token_matches("s3cret", "s3cret"));
        assert!(!token_matches("s3cret", "s3cre"));
        assert!(!token_matches("s3cret", "s3cret!"));
        assert!(!token_matches("s3cret", ""));
        assert!(!token_matches("s3cret", "S3cret"));
    }

    #[test]
    fn check_path_on_disk() {
        let dir = std::env::temp_dir().join(format!("wstail-access-{}", std::process::id()));
        let logs = dir.join("logs");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(logs.join("sub")).unwrap();
        std::fs::create_dir_all(dir.join("logs2")).unwrap();
        std::fs::write(logs.join("a.log"), "a\n").unwrap();
        std::fs::write(dir.join("logs2/secret"), "s\n").unwrap();
        std::fs::write(dir.join("outside"), "o\n").unwrap();
        std::os::unix::fs::symlink(dir.join("outside"), logs.join("link")).unwrap();
        std::os::unix::fs::symlink(logs.join("a.log"), logs.join("inlink")).unwrap();
        let roots = vec![std::fs::canonicalize(&logs).unwrap()];
        let r = roots[0].to_str().unwrap().to_string();
        let p = |s: &str| check_path(&roots, s.as_bytes());
        assert!(p(&format!("{r}/a.log")).is_ok());
        assert!(p(&format!("{r}/sub/../a.log")).is_ok());
        assert!(p(&format!("{r}/inlink")).is_ok());
        assert_eq!(p(&format!("{r}/link")).unwrap_err().status(), 403);
        assert_eq!(p(&format!("{r}2/secret")).unwrap_err().status(), 403);
        assert_eq!(p(&format!("{r}/../outside")).unwrap_err().status(), 403);
        assert_eq!(p(&format!("{r}/sub")).unwrap_err().status(), 403);
        assert_eq!(p(&format!("{r}/missing")).unwrap_err().status(), 404);
        assert_eq!(p(&format!("{r}/a.log/x")).unwrap_err().status(), 404);
        assert_eq!(p("/definitely/not/here").unwrap_err().status(), 403);
        assert_eq!(p(&format!("{r}/a\0")).unwrap_err().status(), 400);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
