//! Who may read what: the path rule (lexical check, then the path resolved
//! component by component as the kernel does, a symlink that leads out of
//! the roots ending the walk with 403, regular files only; a path naming
//! nothing is 404 only where its existing part lies in a root),
//! open-then-verify (what was opened is checked again, so a symlink swapped
//! in between the check and the open does not win), and `authorize`, which
//! decides whether a request may be answered at all — the Host rule against
//! DNS rebinding, the browser origin rule against cross-site WebSocket
//! hijacking and the token rule (with its constant-time compare). Each is a
//! small function with a table-driven test, because this file is where a
//! security reviewer should spend the afternoon.

use std::ffi::OsStr;
use std::fs::{File, Metadata, OpenOptions};
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Component, Path, PathBuf};
use std::sync::OnceLock;

use crate::cli::config::ServeConfig;
use crate::limits::MAX_SYMLINKS;
use crate::serve::http::Request;
use crate::wire::query::Query;
use crate::wire::refusal::Kind;
pub use crate::wire::refusal::Refusal;

/// Browser origins allowed besides the server's own (`--allow-origin`).
#[derive(Debug, Clone, PartialEq)]
pub enum Origins {
    Any,
    List(Vec<String>),
}

/// DNS names accepted in the `Host` header besides IP literals, `localhost`
/// and the machine's own name (`--allow-host`), lower-cased.
#[derive(Debug, Clone, PartialEq)]
pub enum Hosts {
    Any,
    List(Vec<String>),
}

/// `O_NONBLOCK` (Linux, all architectures Rust supports there): opening a
/// FIFO that was swapped in after the check must not block the thread.
const O_NONBLOCK: i32 = 0o4000;

/// `O_NOFOLLOW`: a symlink in the last component is not followed (`ELOOP`,
/// or with `O_PATH` the link itself is opened). ARM and PowerPC number it
/// differently from the other Linux architectures.
#[cfg(any(
    target_arch = "arm",
    target_arch = "aarch64",
    target_arch = "powerpc",
    target_arch = "powerpc64"
))]
const O_NOFOLLOW: i32 = 0o100000;
#[cfg(not(any(
    target_arch = "arm",
    target_arch = "aarch64",
    target_arch = "powerpc",
    target_arch = "powerpc64"
)))]
const O_NOFOLLOW: i32 = 0o400000;

/// `O_PATH`: a handle that names a file without opening it for reading (no
/// side effect of opening a device or a FIFO); enough for `fstat`.
const O_PATH: i32 = 0o10000000;

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

/// The lexical part of the path rule alone (no file-system lookup): the
/// normalized path if it lies under a root, else 403 (400 if it is not an
/// absolute path). The page's status without a token is this.
pub fn lexical_check(roots: &[PathBuf], raw: &[u8]) -> Result<PathBuf, Refusal> {
    let lexical =
        lexical_normalize(raw).ok_or(Refusal::bad_request("the path is not an absolute path"))?;
    if !within_any(&lexical, roots) {
        return Err(Refusal::new(
            Kind::OutsideRoots,
            "the path is outside the served roots",
        ));
    }
    Ok(lexical)
}

/// A path under a root's other spelling (`ServeConfig::root_aliases`: the
/// root as given, through a symlink) rewritten under the canonical root, so
/// that the root is reachable under both spellings; any other path as it
/// is. The rewritten path is lexically normalized (the path rule does that
/// first anyway).
pub fn unalias<'a>(aliases: &[(PathBuf, PathBuf)], raw: &'a [u8]) -> std::borrow::Cow<'a, [u8]> {
    use std::borrow::Cow;
    let Some(lexical) = lexical_normalize(raw) else {
        return Cow::Borrowed(raw);
    };
    for (alias, canonical) in aliases {
        if let Ok(rest) = lexical.strip_prefix(alias) {
            let path = if rest.as_os_str().is_empty() {
                canonical.clone()
            } else {
                canonical.join(rest)
            };
            return Cow::Owned(path.as_os_str().as_bytes().to_vec());
        }
    }
    Cow::Borrowed(raw)
}

/// The full path rule. Returns the canonical path of a regular file under a
/// root, or why not. `raw` is the percent-decoded URL path (decoded once).
/// This is the check only: open through `open_path`, which checks the
/// opened descriptor again.
pub fn check_path(roots: &[PathBuf], raw: &[u8]) -> Result<PathBuf, Refusal> {
    if raw.contains(&0) {
        return Err(Refusal::bad_request("the path holds a NUL byte"));
    }
    let lexical = lexical_check(roots, raw)?;
    let canonical = canonical_within(roots, &lexical)?;
    let meta = std::fs::metadata(&canonical).map_err(|e| io_refusal(&e))?;
    check_regular(&meta)?;
    Ok(canonical)
}

/// `path` resolved as the kernel resolves it (symlinks followed, a link's
/// `..` taken from where the link really leads) and inside a root, or why
/// not. Resolved component by component: at each symlink of `path` itself,
/// just that prefix is resolved, and if it leads out of the roots the answer
/// is 403 without a look at anything past it. So a symlink to an outside
/// directory is no oracle: what exists behind it, or cannot be searched, or
/// loops, makes no difference to the answer nor to the work done for it.
/// What names nothing is 404 only where the part that exists lies inside a
/// root.
fn canonical_within(roots: &[PathBuf], path: &Path) -> Result<PathBuf, Refusal> {
    let mut links = 0;
    match resolve(Resolved::root(), path, Some(roots), &mut links) {
        Ok(r) if within_any(&r.path, roots) => Ok(r.path),
        Ok(_) | Err(Stop::Outside) => Err(outside()),
        Err(Stop::Missing(at)) if within_any(&at, roots) => Err(Refusal::not_found()),
        Err(Stop::Denied(at)) if within_any(&at, roots) => Err(Refusal::new(
            Kind::Unreadable,
            "the file cannot be read by the server",
        )),
        Err(Stop::Loop(at)) if within_any(&at, roots) => Err(Refusal::new(
            Kind::Unreadable,
            "the path leads through too many symlinks",
        )),
        // Whatever stopped the walk out there, the answer is the same.
        Err(Stop::Missing(_) | Stop::Denied(_) | Stop::Loop(_)) => Err(outside()),
    }
}

fn outside() -> Refusal {
    Refusal::new(
        Kind::OutsideRoots,
        "the path leads outside the served roots",
    )
}

/// A path resolved so far: canonical (no symlink, `.` or `..` in it), and it
/// exists; whether it is a directory (only a directory has names below it,
/// and `..` after anything else is `ENOTDIR`, as for the kernel).
struct Resolved {
    path: PathBuf,
    is_dir: bool,
}

impl Resolved {
    fn root() -> Resolved {
        Resolved {
            path: PathBuf::from("/"),
            is_dir: true,
        }
    }
}

/// Where and why resolving stopped short. `at` is the canonical part that
/// exists, which decides the answer: inside a root the real reason, outside
/// the same 403 whatever the reason.
enum Stop {
    /// A symlink of the judged path leads out of the roots.
    Outside,
    /// The next name is not there (or what is there is not a directory).
    Missing(PathBuf),
    /// `at` cannot be searched or a link in it not read (`EACCES` and the
    /// like).
    Denied(PathBuf),
    /// More than `MAX_SYMLINKS` links followed (a loop, or a long chain).
    Loop(PathBuf),
}

impl Stop {
    fn from_io(e: &io::Error, at: &Path) -> Stop {
        if is_missing(e) {
            Stop::Missing(at.to_path_buf())
        } else {
            Stop::Denied(at.to_path_buf())
        }
    }
}

/// Resolves `path`'s components one by one from `from`, without any lexical
/// shortcut: each name is looked at with `lstat`, a symlink's target is
/// resolved from the directory holding the link (from `/` if absolute) by
/// this same function, and `..` goes to the parent of the canonical path
/// reached so far, which is where the kernel's `..` goes. With `judge`
/// (the path a client named), each symlink's resolution must lie inside a
/// root or the walk stops there (`Stop::Outside`); a link's own target is
/// resolved unjudged (an absolute target starts outside the roots), and only
/// where it leads counts. `links` counts every link followed, as the
/// kernel's limit does.
fn resolve(
    from: Resolved,
    path: &Path,
    judge: Option<&[PathBuf]>,
    links: &mut usize,
) -> Result<Resolved, Stop> {
    let mut cur = from;
    for c in path.components() {
        let name = match c {
            Component::RootDir => {
                cur = Resolved::root();
                continue;
            }
            Component::CurDir | Component::Prefix(_) => continue,
            Component::ParentDir if !cur.is_dir => return Err(Stop::Missing(cur.path)),
            Component::ParentDir => {
                cur.path.pop(); // `/..` is `/`
                continue;
            }
            Component::Normal(name) => name,
        };
        if !cur.is_dir {
            return Err(Stop::Missing(cur.path));
        }
        let next = cur.path.join(name);
        let meta = std::fs::symlink_metadata(&next).map_err(|e| Stop::from_io(&e, &cur.path))?;
        if !meta.file_type().is_symlink() {
            cur = Resolved {
                path: next,
                is_dir: meta.is_dir(),
            };
            continue;
        }
        *links += 1;
        if *links > MAX_SYMLINKS {
            return Err(Stop::Loop(cur.path));
        }
        let target = std::fs::read_link(&next).map_err(|e| Stop::from_io(&e, &cur.path))?;
        let text = target.as_os_str().as_bytes();
        if text.is_empty() {
            return Err(Stop::Missing(cur.path)); // `ENOENT`, as for the kernel
        }
        let dir_only = text.ends_with(b"/") || text.ends_with(b"/.");
        let to = resolve(cur, &target, None, links)?;
        if dir_only && !to.is_dir {
            return Err(Stop::Missing(to.path));
        }
        if let Some(roots) = judge
            && !within_any(&to.path, roots)
        {
            // Nothing past this link is looked at.
            return Err(Stop::Outside);
        }
        cur = to;
    }
    Ok(cur)
}

fn is_missing(e: &io::Error) -> bool {
    // ENOTDIR too: `/root/file.log/x` names nothing.
    matches!(
        e.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
    )
}

fn io_refusal(e: &io::Error) -> Refusal {
    if is_missing(e) {
        Refusal::not_found()
    } else {
        Refusal::new(Kind::Unreadable, "the file cannot be read by the server")
    }
}

fn check_regular(meta: &Metadata) -> Result<(), Refusal> {
    if meta.is_file() {
        Ok(())
    } else if meta.is_dir() {
        Err(Refusal::new(
            Kind::NotRegular,
            "the path is a directory, not a regular file",
        ))
    } else {
        Err(Refusal::new(
            Kind::NotRegular,
            "the path is not a regular file",
        ))
    }
}

/// The refusal when what was opened is not what was checked: a symlink or a
/// directory was swapped in between (or the file was replaced).
fn swapped() -> Refusal {
    Refusal::new(
        Kind::Changed,
        "the path changed while it was opened (a swapped symlink?)",
    )
}

/// Checks and opens a client-named path: the path rule (`check_path`), then
/// open-then-verify (`open_canonical`). Every file a client names is opened
/// through here. Returns the canonical path, the file (opened read-only,
/// non-blocking) and its metadata (from the descriptor).
pub fn open_path(roots: &[PathBuf], raw: &[u8]) -> Result<(PathBuf, File, Metadata), Refusal> {
    let canonical = check_path(roots, raw)?;
    let (file, meta) = open_canonical(roots, &canonical)?;
    Ok((canonical, file, meta))
}

/// `open_path` for a path the server found itself (a rotated generation, a
/// re-opened log): the same rule, the same verification.
pub fn open_verified(roots: &[PathBuf], path: &Path) -> Result<(PathBuf, File, Metadata), Refusal> {
    open_path(roots, path.as_os_str().as_bytes())
}

/// The metadata of a file the path rule admits, verified the same way as an
/// open, without opening it for reading: the file is opened as a handle
/// only (`O_PATH`: no read, no side effect of opening a device) and its
/// descriptor checked. `?list` now uses `open_verified` (it reads the first
/// bytes to mark compressed files); this stays as the cheaper check for
/// metadata alone, and the `access` fuzz target checks that it agrees with
/// `open_path`.
pub fn stat_verified(roots: &[PathBuf], path: &Path) -> Result<(PathBuf, Metadata), Refusal> {
    let canonical = check_path(roots, path.as_os_str().as_bytes())?;
    let (_, meta) = open_handle(roots, &canonical)?;
    Ok((canonical, meta))
}

/// Open, then verify. The check and the open are two steps, so whatever the
/// path names may be swapped in between (a symlink renamed over the file, or
/// over a directory on the way). So:
///
/// 1. the canonical path is opened as a handle only (`O_PATH`), not
///    following a symlink in its last component (`O_NOFOLLOW`: a symlink
///    there now is opened as itself and refused);
/// 2. the handle must be a regular file, and where the kernel says it lives
///    (`/proc/self/fd/N`, bound to the descriptor, not to the path) must be
///    inside a root;
/// 3. the path is checked afresh (canonical, inside a root) and must name
///    the same (device, inode) as the handle, without following a symlink;
/// 4. only then is the file opened for reading, through the handle
///    (`/proc/self/fd/N`), so the same inode is read; its (device, inode)
///    is compared once more.
///
/// Any difference is 403. Without /proc (a container that lacks it), step 2
/// is skipped and step 4 opens the path again (with `O_NOFOLLOW`), still
/// comparing (device, inode): a swapped last component is still caught, a
/// directory swapped back and forth between the steps no longer surely is.
fn open_canonical(roots: &[PathBuf], canonical: &Path) -> Result<(File, Metadata), Refusal> {
    let (handle, hmeta) = open_handle(roots, canonical)?;
    let file = if proc_available() {
        open_read(&fd_link(&handle), O_NONBLOCK)
    } else {
        open_read(canonical, O_NONBLOCK | O_NOFOLLOW)
    }
    .map_err(|e| io_refusal(&e))?;
    let meta = file.metadata().map_err(|e| io_refusal(&e))?;
    if file_id(&meta) != file_id(&hmeta) {
        return Err(swapped());
    }
    check_regular(&meta)?;
    Ok((file, meta))
}

/// Steps 1 to 3 of `open_canonical`: the verified handle and its metadata.
fn open_handle(roots: &[PathBuf], canonical: &Path) -> Result<(File, Metadata), Refusal> {
    let handle = OpenOptions::new()
        .read(true)
        .custom_flags(O_PATH | O_NOFOLLOW)
        .open(canonical)
        .map_err(|e| {
            if is_missing(&e) {
                // Gone since the check, or a directory on the way swapped:
                // judged afresh, so that a race is no existence oracle.
                match canonical_within(roots, canonical) {
                    Err(r) => r,
                    Ok(_) => swapped(),
                }
            } else {
                io_refusal(&e)
            }
        })?;
    let hmeta = handle.metadata().map_err(|e| io_refusal(&e))?;
    if hmeta.file_type().is_symlink() {
        return Err(swapped());
    }
    check_regular(&hmeta)?;
    // Where the descriptor really is, whatever the path names now.
    if proc_available() {
        let real = std::fs::read_link(fd_link(&handle)).map_err(|_| {
            Refusal::new(
                Kind::Unreadable,
                "the opened file cannot be verified through /proc/self/fd",
            )
        })?;
        if !within_any(&real, roots) {
            return Err(swapped());
        }
    }
    // A fresh check of the path: it must still lead inside a root, to this
    // very file. `symlink_metadata`: a symlink swapped in at the end of the
    // canonical path is not followed.
    let fresh = canonical_within(roots, canonical)?;
    let now = std::fs::symlink_metadata(&fresh).map_err(|e| io_refusal(&e))?;
    if file_id(&now) != file_id(&hmeta) {
        return Err(swapped());
    }
    Ok((handle, hmeta))
}

/// `/proc/self/fd/N` for an open file: the kernel's link to the very file
/// the descriptor holds (reading the link gives where it lives now; opening
/// it opens that same file, whatever its path names by then).
fn fd_link(file: &File) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd()))
}

/// Whether /proc is mounted (looked at once).
fn proc_available() -> bool {
    static PROC: OnceLock<bool> = OnceLock::new();
    *PROC.get_or_init(|| Path::new("/proc/self/fd").is_dir())
}

fn open_read(path: &Path, flags: i32) -> io::Result<File> {
    OpenOptions::new().read(true).custom_flags(flags).open(path)
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

/// The Host rule against DNS rebinding: a page on any site can rebind its
/// own name to 127.0.0.1, and its requests then reach the server with that
/// name in `Host` and a matching `Origin`. So a name is allowed only when
/// it cannot be an attacker's: an IP literal, `localhost`, the machine's
/// own name (`hostname`, as the kernel has it), or a name listed. Compared
/// without the port, case aside. A request without `Host` (not a browser)
/// is allowed. `Err` holds the name refused.
pub fn host_allowed(
    host: Option<&str>,
    allowed: &Hosts,
    hostname: Option<&str>,
) -> Result<(), String> {
    let Some(host) = host else { return Ok(()) };
    if *allowed == Hosts::Any {
        return Ok(());
    }
    let Some((name, _)) = split_host_port(host.trim(), 0) else {
        return Err(host.trim().to_ascii_lowercase());
    };
    let is_ip = match name.strip_prefix('[').and_then(|n| n.strip_suffix(']')) {
        Some(v6) => v6.parse::<Ipv6Addr>().is_ok(),
        None => name.parse::<Ipv4Addr>().is_ok(),
    };
    let own = hostname.is_some_and(|h| h.eq_ignore_ascii_case(&name));
    let listed = matches!(allowed, Hosts::List(list) if list.contains(&name));
    if is_ip || name == "localhost" || own || listed {
        Ok(())
    } else {
        Err(name)
    }
}

/// Whether a request may be answered: the Host rule (unless a token is
/// required: a rebinding page cannot know it), the origin rule, then the
/// token rule. The page needs no token (it holds no log data and asks for
/// the token itself); the WebSocket, `?list` and `?download` need it when
/// the server has one, given as `token=` or as `Authorization: Bearer`.
pub fn authorize(req: &Request, q: &Query, cfg: &ServeConfig) -> Result<(), Refusal> {
    if cfg.token.is_none()
        && let Err(name) = host_allowed(req.header("host"), &cfg.hosts, cfg.hostname.as_deref())
    {
        return Err(Refusal::new(
            Kind::Host,
            format!(
                "the Host header names '{name}', which is not an IP address, localhost or this machine's name (a guard against DNS rebinding); if the server is meant to be reached by that name, start it with --allow-host {name}"
            ),
        ));
    }
    if !origin_allowed(req.header("origin"), req.header("host"), &cfg.origins) {
        return Err(Refusal::new(
            Kind::Origin,
            "this browser origin is not allowed (see --allow-origin)",
        ));
    }
    let needs_token = req.is_websocket() || q.list || q.download;
    let Some(expected) = cfg.token.as_deref().filter(|_| needs_token) else {
        return Ok(());
    };
    match given_token(req, q) {
        None => Err(Refusal::new(Kind::Token, "a token is required")),
        Some(g) if token_matches(expected, g.trim()) => Ok(()),
        Some(_) => Err(Refusal::new(Kind::Token, "the token is wrong")),
    }
}

/// The token a request gives: `token=`, else `Authorization: Bearer`.
fn given_token<'a>(req: &'a Request, q: &'a Query) -> Option<&'a str> {
    q.token.as_deref().or_else(|| {
        req.header("authorization").and_then(|a| {
            a.strip_prefix("Bearer ")
                .or_else(|| a.strip_prefix("bearer "))
        })
    })
}

/// Whether the request may look at the file system for what it names: no
/// token is required, or it gives the right one. Without, the page's status
/// comes from the lexical check alone (no existence oracle).
pub fn token_holder(req: &Request, q: &Query, cfg: &ServeConfig) -> bool {
    match cfg.token.as_deref() {
        None => true,
        Some(expected) => given_token(req, q).is_some_and(|g| token_matches(expected, g.trim())),
    }
}

/// Compares a given token with the expected one in time that depends only
/// on the given token's length (as darkhttpd's `password_equal`): neither
/// where they first differ nor the secret's length shows. The loop runs over
/// the given bytes, each compared with the expected token read cyclically;
/// a length difference is one more flag, not a shorter loop.
pub fn token_matches(expected: &str, given: &str) -> bool {
    compare_tokens(expected.as_bytes(), given.as_bytes()).0
}

/// `token_matches`, and the number of byte comparisons made (for the test
/// that it is the given token's length, whatever the secret's).
fn compare_tokens(e: &[u8], g: &[u8]) -> (bool, usize) {
    if e.is_empty() {
        // Never configured (an empty token is a usage error); deny.
        return (false, 0);
    }
    let mut diff = u8::from(e.len() != g.len());
    let mut steps = 0;
    for (i, &b) in g.iter().enumerate() {
        diff |= b ^ e[i % e.len()];
        steps += 1;
    }
    (diff == 0, steps)
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

    /// A checked configuration from `wstail serve` options.
    fn config(args: &[&str]) -> ServeConfig {
        let mut all = vec!["serve"];
        all.extend_from_slice(args);
        match crate::cli::parse(all.iter().map(Into::into).collect()) {
            Ok(crate::cli::Command::Serve(cfg)) => cfg,
            other => panic!("{args:?}: {other:?}"),
        }
    }

    #[test]
    fn host_table() {
        let none = Hosts::List(vec![]);
        let listed = Hosts::List(vec!["logs.example.org".into(), "ops".into()]);
        let own = Some("MyHost");
        let cases: &[(Option<&str>, &Hosts, bool)] = &[
            (None, &none, true),
            (Some("127.0.0.1:8765"), &none, true),
            (Some("10.1.2.3"), &none, true),
            (Some("[::1]:8765"), &none, true),
            (Some("[fe80::1]"), &none, true),
            (Some("localhost:8765"), &none, true),
            (Some("LocalHost"), &none, true),
            (Some("myhost:8765"), &none, true),
            (Some("MYHOST"), &none, true),
            (Some("myhost.lan"), &none, false),
            (Some("rebind.attacker.example:8765"), &none, false),
            (Some("x"), &none, false),
            (Some("localhost.attacker.example"), &none, false),
            (Some("127.0.0.1.attacker.example"), &none, false),
            (Some("[::1"), &none, false),
            (Some("[not-ip]:80"), &none, false),
            (Some(""), &none, false),
            (Some("logs.example.org"), &listed, true),
            (Some("LOGS.example.org:443"), &listed, true),
            (Some("ops:8765"), &listed, true),
            (Some("example.org"), &listed, false),
            (Some("xlogs.example.org"), &listed, false),
            (Some("logs.example.org.attacker.example"), &listed, false),
            (Some("rebind.attacker.example"), &Hosts::Any, true),
        ];
        for (host, allowed, want) in cases {
            assert_eq!(
                host_allowed(*host, allowed, own).is_ok(),
                *want,
                "{host:?} {allowed:?}"
            );
        }
        assert!(host_allowed(Some("myhost"), &none, None).is_err());
        assert_eq!(
            host_allowed(Some("Rebind.Example:1"), &none, None),
            Err("rebind.example".to_string())
        );
    }

    #[test]
    fn authorize_table() {
        let open = config(&[]);
        let token = config(&["--token", "s3cret"]);
        let named = config(&["--allow-host", "logs.example.org"]);
        let ws = "Upgrade: websocket\r\nConnection: Upgrade\r\n";
        // (configuration, target, extra header lines, expected status or 0)
        let cases: &[(&ServeConfig, &str, &str, u16)] = &[
            (&open, "/", "", 0),
            (&open, "/f", ws, 0),
            (&open, "/?list", "", 0),
            (&open, "/f?download", "Origin: http://127.0.0.1:8765\r\n", 0),
            (&open, "/f?download", "Origin: http://evil.example\r\n", 403),
            (&open, "/", "Origin: http://evil.example\r\n", 403),
            // The page needs no token; everything else does.
            (&token, "/", "", 0),
            (&token, "/f", ws, 401),
            (&token, "/?list", "", 401),
            (&token, "/f?download", "", 401),
            (&token, "/f?download&token=s3cret", "", 0),
            (&token, "/f?download&token=wrong", "", 401),
            (&token, "/f?token=s3cret", ws, 0),
            (
                &token,
                "/f",
                &format!("{ws}Authorization: Bearer s3cret\r\n"),
                0,
            ),
            (
                &token,
                "/f",
                &format!("{ws}Authorization: bearer s3cret\r\n"),
                0,
            ),
            (
                &token,
                "/f",
                &format!("{ws}Authorization: Bearer wrong\r\n"),
                401,
            ),
            (
                &token,
                "/f",
                &format!("{ws}Authorization: Basic czNjcmV0\r\n"),
                401,
            ),
            // The Host rule: DNS names only when listed, or with a token.
            (&open, "/f", &format!("{ws}Host: rebind.example\r\n"), 403),
            (&open, "/?list", "Host: rebind.example\r\n", 403),
            (&open, "/f?download", "Host: rebind.example\r\n", 403),
            (&open, "/", "Host: rebind.example\r\n", 403),
            (&open, "/", "Host: localhost:8765\r\n", 0),
            (&named, "/?list", "Host: logs.example.org\r\n", 0),
            (&named, "/?list", "Host: rebind.example\r\n", 403),
            (&token, "/?list&token=s3cret", "Host: rebind.example\r\n", 0),
            (&token, "/?list", "Host: rebind.example\r\n", 401),
            // The origin rule comes before the token rule.
            (
                &token,
                "/f?token=s3cret",
                &format!("{ws}Origin: http://evil.example\r\n"),
                403,
            ),
        ];
        for (cfg, target, headers, want) in cases {
            let host = if headers.contains("Host:") {
                ""
            } else {
                "Host: 127.0.0.1:8765\r\n"
            };
            let head = format!("GET {target} HTTP/1.1\r\n{host}{headers}\r\n");
            let req = crate::serve::http::parse_head(head.as_bytes(), vec![]).unwrap();
            let q = crate::wire::query::parse(target).unwrap();
            let got = authorize(&req, &q, cfg).err().map_or(0, |r| r.status());
            assert_eq!(got, *want, "{target} {headers:?}");
        }
    }

    #[test]
    fn tokens() {
        assert!(token_matches("s3cret", "s3cret"));
        assert!(!token_matches("s3cret", "s3cre"));
        assert!(!token_matches("s3cret", "s3cret!"));
        assert!(!token_matches("s3cret", ""));
        assert!(!token_matches("s3cret", "S3cret"));
        // A repetition of the secret matches it cyclically, byte for byte:
        // only the length flag refuses it.
        assert!(!token_matches("s3cret", "s3crets3cret"));
        assert!(!token_matches("ab", "a"));
        assert!(!token_matches("", ""));
        assert!(!token_matches("", "x"));
        // The work is the given token's length, whatever the secret's.
        for secret in ["s", "s3cret", &"x".repeat(1000)] {
            for given in ["", "a", "s3cret", &"y".repeat(50)] {
                let (_, steps) = compare_tokens(secret.as_bytes(), given.as_bytes());
                assert_eq!(steps, given.len(), "{secret:?} {given:?}");
            }
        }
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

    /// A fresh directory under the temp dir, removed on drop.
    struct Scratch(PathBuf);
    impl Scratch {
        fn new(tag: &str) -> Scratch {
            let dir =
                std::env::temp_dir().join(format!("wstail-access-{tag}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            Scratch(std::fs::canonicalize(&dir).unwrap())
        }
    }
    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// What does not exist behind an in-root symlink to an outside
    /// directory is 403 like what does exist: no existence oracle.
    #[test]
    fn missing_paths_are_judged_by_where_they_lead() {
        let s = Scratch::new("missing");
        let root = s.0.join("root");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::create_dir_all(s.0.join("outdir")).unwrap();
        std::fs::write(s.0.join("outdir/exists.log"), "x").unwrap();
        std::fs::write(root.join("a.log"), "a").unwrap();
        let link = |target: &Path, name: &str| std::os::unix::fs::symlink(target, root.join(name));
        link(&s.0.join("outdir"), "out").unwrap();
        link(Path::new("/proc/self/root"), "procroot").unwrap();
        link(&s.0.join("outdir/missing.log"), "dangling-out").unwrap();
        link(&root.join("later.log"), "dangling-in").unwrap();
        link(Path::new("later.log"), "dangling-relative").unwrap();
        link(Path::new("../outdir/nothing"), "dangling-up").unwrap();
        link(&root.join("dangling-out"), "chain-out").unwrap();
        link(&root.join("dangling-in"), "chain-in").unwrap();
        link(&root.join("loop-b"), "loop-a").unwrap();
        link(&root.join("loop-a"), "loop-b").unwrap();
        link(&root.join("sub"), "subdir").unwrap();
        let roots = vec![root.clone()];
        let r = root.to_str().unwrap();
        let cases: &[(&str, u16)] = &[
            ("out/exists.log", 403),
            ("out/missing.log", 403),
            ("out/missing/deeper.log", 403),
            ("out/exists.log/x", 403),
            ("procroot/etc/passwd", 403),
            ("procroot/etc/nonexistent", 403),
            ("procroot/nonexistent/x", 403),
            ("dangling-out", 403),
            ("dangling-out/x", 403),
            ("dangling-up", 403),
            ("chain-out", 403),
            ("loop-a", 403),
            ("missing.log", 404),
            ("nodir/missing.log", 404),
            ("a.log/x", 404),
            ("dangling-in", 404),
            ("dangling-relative", 404),
            ("chain-in", 404),
            ("subdir/missing.log", 404),
            ("sub/../missing.log", 404),
        ];
        for (rel, want) in cases {
            let got = check_path(&roots, format!("{r}/{rel}").as_bytes());
            assert_eq!(got.map_err(|e| e.status()), Err(*want), "{rel}");
        }
    }

    /// Link targets are resolved as the kernel resolves them, not on their
    /// text: `sub2/..` after a symlinked directory is the parent of where
    /// `sub2` leads. Whatever lies behind a symlink that leads out of the
    /// roots (a file, nothing, a loop, a directory the walk never enters)
    /// gives one and the same answer; inside, the answer is the kernel's.
    #[test]
    fn link_targets_resolve_as_the_kernel_does() {
        let s = Scratch::new("kernel");
        let root = s.0.join("root");
        let out = s.0.join("out");
        std::fs::create_dir_all(root.join("sub/deep")).unwrap();
        std::fs::create_dir_all(out.join("dir")).unwrap();
        std::fs::write(out.join("secret"), "s").unwrap();
        std::fs::write(root.join("a.log"), "a").unwrap();
        std::fs::write(root.join("sub/a.log"), "sub").unwrap();
        let link = |target: &Path, name: &str| std::os::unix::fs::symlink(target, root.join(name));
        let rel = |target: &str, name: &str| link(Path::new(target), name);
        link(&out.join("dir"), "sub2").unwrap();
        rel("sub2/../secret", "d_exists").unwrap();
        rel("sub2/../nothere", "d_missing").unwrap();
        rel("sub2/../dir/../secret", "d_twice").unwrap();
        rel("sub/deep", "subd").unwrap();
        rel("subd/../a.log", "updown").unwrap();
        rel("sub/../a.log", "plain_up").unwrap();
        rel("../root/a.log", "out_and_back").unwrap();
        rel("..", "up").unwrap();
        rel("a.log/../a.log", "file_then_up").unwrap();
        rel("a.log/", "slash_file").unwrap();
        rel("sub/", "slash_dir").unwrap();
        link(&out, "outd").unwrap();
        std::os::unix::fs::symlink("loop", out.join("loop")).unwrap();
        link(&out.join("loop"), "loopy").unwrap();
        link(&root.join("loop-a"), "loop-a").unwrap();
        link(Path::new("/proc/self/root"), "procroot").unwrap();
        let roots = vec![root.clone()];
        let r = root.to_str().unwrap();
        let outside = outside();
        let refused = |rel: &str| -> (u16, String) {
            match check_path(&roots, format!("{r}/{rel}").as_bytes()) {
                Ok(p) => panic!("{rel}: admitted as {p:?}"),
                Err(e) => (e.status(), e.reason().to_string()),
            }
        };
        for rel in [
            "d_exists",
            "d_missing",
            "d_twice",
            "sub2",
            "sub2/x",
            "up/root/a.log",
            "up/nothing",
            "outd/secret",
            "outd/nothing/x",
            "outd/loop",
            "outd/loop/x",
            "outd/secret/x",
            "loopy",
            "loopy/x",
            "procroot/etc/passwd",
            "procroot/etc/nonexistent",
            "procroot/nonexistent/x",
            "procroot/proc/999999999/root/x",
            "procroot/proc/1/root/x",
        ] {
            assert_eq!(refused(rel), (403, outside.reason().to_string()), "{rel}");
        }
        let served = |rel: &str| check_path(&roots, format!("{r}/{rel}").as_bytes());
        assert_eq!(served("updown").unwrap(), root.join("sub/a.log"));
        assert_eq!(served("plain_up").unwrap(), root.join("a.log"));
        assert_eq!(served("out_and_back").unwrap(), root.join("a.log"));
        assert_eq!(served("slash_dir/a.log").unwrap(), root.join("sub/a.log"));
        assert_eq!(refused("file_then_up").0, 404);
        assert_eq!(refused("slash_file").0, 404);
        assert_eq!(refused("subd/missing").0, 404);
        assert_eq!(refused("slash_dir").0, 403);
        assert_eq!(
            refused("loop-a"),
            (403, "the path leads through too many symlinks".to_string())
        );
    }

    /// The flags are right for this architecture: `O_PATH | O_NOFOLLOW`
    /// opens a symlink itself.
    #[test]
    fn nofollow_handle_opens_the_symlink_itself() {
        let s = Scratch::new("flags");
        std::fs::write(s.0.join("f"), "x").unwrap();
        std::os::unix::fs::symlink(s.0.join("f"), s.0.join("l")).unwrap();
        let h = open_read(&s.0.join("l"), O_PATH | O_NOFOLLOW).unwrap();
        assert!(h.metadata().unwrap().file_type().is_symlink());
        let e = open_read(&s.0.join("l"), O_NONBLOCK | O_NOFOLLOW).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(40), "ELOOP");
    }

    /// What the check admitted, swapped before the open: a symlink over the
    /// file, or over a directory on the way; the open refuses it (403), and
    /// a hard link inside the root is the same file and is served.
    #[test]
    fn a_swap_after_the_check_is_refused_at_the_open() {
        let s = Scratch::new("swap");
        let root = s.0.join("root");
        std::fs::create_dir_all(root.join("d")).unwrap();
        std::fs::create_dir_all(s.0.join("outdir")).unwrap();
        std::fs::write(s.0.join("outdir/race.log"), "outside").unwrap();
        std::fs::write(root.join("race.log"), "inside").unwrap();
        std::fs::write(root.join("d/race.log"), "inside").unwrap();
        let roots = vec![root.clone()];
        let read = |f: File| std::io::read_to_string(f).unwrap();

        let file = check_path(&roots, root.join("race.log").as_os_str().as_bytes()).unwrap();
        let (f, _) = open_canonical(&roots, &file).unwrap();
        assert_eq!(read(f), "inside");
        std::fs::rename(&file, root.join("keep.log")).unwrap();
        std::os::unix::fs::symlink(s.0.join("outdir/race.log"), &file).unwrap();
        assert_eq!(
            open_canonical(&roots, &file).unwrap_err().reason(),
            swapped().reason()
        );
        assert_eq!(stat_verified(&roots, &file).unwrap_err().status(), 403);
        std::fs::remove_file(&file).unwrap();
        std::fs::hard_link(root.join("keep.log"), &file).unwrap();
        let (f, _) = open_canonical(&roots, &file).unwrap();
        assert_eq!(read(f), "inside");

        let deep = check_path(&roots, root.join("d/race.log").as_os_str().as_bytes()).unwrap();
        std::fs::rename(root.join("d"), root.join("d.real")).unwrap();
        std::os::unix::fs::symlink(s.0.join("outdir"), root.join("d")).unwrap();
        assert_eq!(
            open_canonical(&roots, &deep).unwrap_err().reason(),
            swapped().reason()
        );
        assert_eq!(
            open_path(&roots, deep.as_os_str().as_bytes())
                .unwrap_err()
                .status(),
            403
        );
    }
}
