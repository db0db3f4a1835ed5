//! The path rule as the server applies it: a request target is split and
//! percent-decoded by `query::parse`, then `access::open_path` checks it and
//! opens it (open-then-verify: the descriptor is checked again) against the
//! canonicalized roots (as `config.rs` canonicalizes them), over a real tree
//! (built once under the temp directory):
//!
//! ```text
//! base/
//!   root/                     the served root
//!     a.log  b.txt  .hidden
//!     sub/c.log  sub/deep/d.log
//!     sub/up -> ..            (back to root: inside)
//!     sub/upup -> ../..       (base: outside)
//!     in_file -> BASE/root/a.log      in_dir -> BASE/root/sub
//!     rel_in -> sub/c.log
//!     out_dir -> BASE/outside         out_file -> BASE/outside/secret
//!     rel_out -> ../outside/secret    root2_file -> ../root2/secret
//!     etc -> /etc    passwd -> /etc/passwd
//!     dangling -> missing    loop -> loop    fifo (a FIFO)
//!     sub2 -> BASE/outside/dir
//!     d_exists -> sub2/../secret   d_missing -> sub2/../nothere
//!     in_deep -> sub/deep     updown -> in_deep/../c.log  (the kernel's
//!                             `..`: sub/c.log, not the missing c.log)
//!     out_loop -> BASE/outside/loop
//!   root2/secret              (a sibling whose name extends the root's)
//!   outside/secret  outside/other.log  outside/dir/f  outside/loop -> loop
//!   other/o.log               (a second root, for half the inputs)
//! ```
//!
//! A twin tree is built beside it, the same but for what lies in `outside/`
//! (there `secret/` is a directory, `other.log` a link loop, `loop` and
//! `nothere` files, `dir/g` for `dir/f`). Every target is judged in both
//! trees.
//!
//! Invariants, whenever the file is opened: the returned path is canonical
//! (`fs::canonicalize` gives it back) and inside a root component by
//! component; what was opened is a regular file that really lies under a
//! root (its device and inode are among those found by walking the roots
//! without following links) and is none of the files under `outside/`,
//! `root2/` or `/etc/passwd`. And whenever the path is refused: a path
//! outside every root lexically is a 403 (or 400 for a NUL), never a 404
//! that would tell whether it exists; a 404 only where the longest existing
//! part of the path leads inside a root (`etc/nonexistent` is 403). And the
//! answer never depends on what exists outside the roots: the twin gives
//! the same status and reason (or opens the same file); whatever is
//! opened, `stat_verified` admits it too.
//!
//! Layout of the fuzz input: byte 0 picks what the target is prefixed with
//! (bits 0–2: nothing, the root, the base, `/etc`, `outside`, `root2`, the
//! second root, the root with a trailing `/`) and whether the second root
//! is served (bit 3); the rest is the request target (UTF-8).
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::collections::HashSet;
use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt, symlink};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

struct Tree {
    base: String,
    root: PathBuf,
    other: PathBuf,
    /// (device, inode) of every regular file really inside `root` / `other`.
    inside_root: HashSet<(u64, u64)>,
    inside_other: HashSet<(u64, u64)>,
    /// (device, inode) of files that must never be served.
    forbidden: HashSet<(u64, u64)>,
}

fn id(p: &Path) -> (u64, u64) {
    let m = fs::metadata(p).unwrap_or_else(|e| panic!("{p:?}: {e}"));
    (m.dev(), m.ino())
}

/// Regular files under `dir`, links not followed.
fn walk(dir: &Path, into: &mut HashSet<(u64, u64)>) {
    for e in fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let t = e.file_type().unwrap();
        if t.is_dir() {
            walk(&e.path(), into);
        } else if t.is_file() {
            into.insert(id(&e.path()));
        }
    }
}

/// The tree, or with `twin` its twin (other things in `outside/`).
fn build(twin: bool) -> Tree {
    const PREFIX: &str = "wstail-fuzz-access-";
    let tmp = std::env::temp_dir();
    // Trees left by earlier runs whose process is gone.
    for e in fs::read_dir(&tmp).into_iter().flatten().flatten() {
        let name = e.file_name();
        let pid = name
            .to_str()
            .and_then(|n| n.strip_prefix(PREFIX))
            .map(|n| n.split('.').next().unwrap_or(n));
        if pid.is_some_and(|p| !Path::new("/proc").join(p).exists()) {
            let _ = fs::remove_dir_all(e.path());
        }
    }
    let suffix = if twin { ".twin" } else { "" };
    let base = tmp.join(format!("{PREFIX}{}{suffix}", std::process::id()));
    let _ = fs::remove_dir_all(&base);
    let root = base.join("root");
    fs::create_dir_all(root.join("sub/deep")).unwrap();
    fs::create_dir_all(base.join("root2")).unwrap();
    fs::create_dir_all(base.join("outside")).unwrap();
    fs::create_dir_all(base.join("other")).unwrap();
    for (p, text) in [
        ("root/a.log", "a\n"),
        ("root/b.txt", "b\n"),
        ("root/.hidden", "h\n"),
        ("root/sub/c.log", "c\n"),
        ("root/sub/deep/d.log", "d\n"),
        ("root2/secret", "root2 secret\n"),
        ("other/o.log", "o\n"),
    ] {
        fs::write(base.join(p), text).unwrap();
    }
    // What lies outside: different in the twin.
    let out = base.join("outside");
    if twin {
        fs::create_dir_all(out.join("secret")).unwrap();
        fs::write(out.join("secret/x"), "twin x\n").unwrap();
        symlink("other.log", out.join("other.log")).unwrap();
        fs::write(out.join("loop"), "twin loop\n").unwrap();
        fs::write(out.join("nothere"), "twin nothere\n").unwrap();
        fs::create_dir_all(out.join("dir")).unwrap();
        fs::write(out.join("dir/g"), "twin g\n").unwrap();
    } else {
        fs::write(out.join("secret"), "outside secret\n").unwrap();
        fs::write(out.join("other.log"), "outside\n").unwrap();
        fs::create_dir_all(out.join("dir")).unwrap();
        fs::write(out.join("dir/f"), "outside f\n").unwrap();
        symlink("loop", out.join("loop")).unwrap();
    }
    let links: [(&str, PathBuf); 21] = [
        ("root/sub/up", "..".into()),
        ("root/sub/upup", "../..".into()),
        ("root/in_file", root.join("a.log")),
        ("root/in_dir", root.join("sub")),
        ("root/rel_in", "sub/c.log".into()),
        ("root/out_dir", base.join("outside")),
        ("root/out_file", base.join("outside/secret")),
        ("root/rel_out", "../outside/secret".into()),
        ("root/root2_file", "../root2/secret".into()),
        ("root/etc", "/etc".into()),
        ("root/passwd", "/etc/passwd".into()),
        ("root/dangling", "missing".into()),
        ("root/loop", "loop".into()),
        (
            "root/sub/deep/rel_out2",
            "../../../outside/other.log".into(),
        ),
        ("other/back", "../root/a.log".into()),
        ("root/sub2", base.join("outside/dir")),
        ("root/d_exists", "sub2/../secret".into()),
        ("root/d_missing", "sub2/../nothere".into()),
        ("root/in_deep", "sub/deep".into()),
        ("root/updown", "in_deep/../c.log".into()),
        ("root/out_loop", base.join("outside/loop")),
    ];
    for (at, to) in links {
        symlink(to, base.join(at)).unwrap();
    }
    let fifo = root.join("fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    assert!(
        made.is_ok_and(|s| s.success())
            && fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo(),
        "mkfifo failed"
    );

    // The roots as `cli.rs` makes them.
    let root = fs::canonicalize(&root).unwrap();
    let other = fs::canonicalize(base.join("other")).unwrap();
    let mut inside_root = HashSet::new();
    walk(&root, &mut inside_root);
    let mut inside_other = HashSet::new();
    walk(&other, &mut inside_other);
    let mut forbidden = HashSet::new();
    walk(&base.join("outside"), &mut forbidden);
    walk(&base.join("root2"), &mut forbidden);
    forbidden.insert(id(Path::new("/etc/passwd")));
    assert_eq!(inside_root.len(), 5);
    assert_eq!(forbidden.len(), if twin { 6 } else { 5 });
    Tree {
        base: base.to_str().unwrap().to_string(),
        root,
        other,
        inside_root,
        inside_other,
        forbidden,
    }
}

fn tree() -> &'static Tree {
    static TREE: OnceLock<Tree> = OnceLock::new();
    TREE.get_or_init(|| build(false))
}

fn twin() -> &'static Tree {
    static TWIN: OnceLock<Tree> = OnceLock::new();
    TWIN.get_or_init(|| build(true))
}

/// The request target for `tree`: the prefix that byte 0 picks, then `rest`;
/// and the roots served.
fn target(t: &Tree, pick: u8, rest: &str) -> (String, Vec<PathBuf>) {
    let root = t.root.to_str().unwrap();
    let prefix = match pick & 7 {
        0 => String::new(),
        1 => root.to_string(),
        2 => t.base.clone(),
        3 => "/etc".to_string(),
        4 => format!("{}/outside", t.base),
        5 => format!("{}/root2", t.base),
        6 => t.other.to_str().unwrap().to_string(),
        _ => format!("{root}/"),
    };
    let roots = if pick & 8 != 0 {
        vec![t.root.clone(), t.other.clone()]
    } else {
        vec![t.root.clone()]
    };
    (format!("{prefix}{rest}"), roots)
}

/// The answer, as comparable between the trees: the opened path below the
/// tree's base, or the refusal's status and reason.
fn answer(t: &Tree, roots: &[PathBuf], path: &[u8]) -> Result<PathBuf, (u16, String)> {
    match wstail::access::open_path(roots, path) {
        Ok((canonical, _, _)) => Ok(canonical
            .strip_prefix(&t.base)
            .map(Path::to_path_buf)
            .unwrap_or(canonical)),
        Err(r) => Err((r.status(), r.reason().to_string())),
    }
}

/// Component-wise containment, written without `access::is_within`.
fn under(path: &Path, root: &Path) -> bool {
    path.starts_with(root)
        && path
            .strip_prefix(root)
            .unwrap()
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)))
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(rest) = std::str::from_utf8(rest) else {
        return;
    };
    let t = tree();
    let two_roots = pick & 8 != 0;
    let (target, roots) = target(t, pick, rest);
    let Ok(q) = wstail::wire::query::parse(&target) else {
        return;
    };
    // The twin: the same request, another `outside/`, the same answer.
    let (twin_target, twin_roots) = target_for_twin(pick, rest);
    if let Ok(tq) = wstail::wire::query::parse(&twin_target) {
        let here = answer(t, &roots, &q.path);
        let there = answer(twin(), &twin_roots, &tq.path);
        assert_eq!(
            here, there,
            "{target:?}: the answer depends on what exists outside the roots"
        );
    }
    match wstail::access::open_path(&roots, &q.path) {
        Ok((canonical, file, meta)) => {
            let stat = wstail::access::stat_verified(&roots, &canonical);
            assert_eq!(
                stat.as_ref().map(|(p, m)| (p, m.dev(), m.ino())).ok(),
                Some((&canonical, meta.dev(), meta.ino())),
                "{target:?}: stat_verified disagrees with open_path"
            );
            assert!(
                roots.iter().any(|r| under(&canonical, r)),
                "{target:?} → {canonical:?} is outside the roots"
            );
            assert_eq!(
                fs::canonicalize(&canonical).ok().as_ref(),
                Some(&canonical),
                "{target:?}: not canonical"
            );
            let fmeta = file.metadata().unwrap();
            assert!(
                meta.is_file() && fmeta.is_file(),
                "{target:?}: not a regular file"
            );
            let fid = (fmeta.dev(), fmeta.ino());
            assert_eq!((meta.dev(), meta.ino()), fid);
            assert!(
                !t.forbidden.contains(&fid),
                "{target:?} opened a forbidden file"
            );
            assert!(
                t.inside_root.contains(&fid) || two_roots && t.inside_other.contains(&fid),
                "{target:?} opened {canonical:?}, not a file under a root"
            );
        }
        Err(refusal) => {
            let status = refusal.status();
            assert!(matches!(status, 400 | 403 | 404), "{target:?}: {refusal:?}");
            if q.path.contains(&0) {
                assert_eq!(status, 400, "{target:?}");
            } else {
                // Outside every root lexically: 403 (400 if not absolute),
                // whether or not something is there.
                let lexical = lexical(&q.path);
                let inside = lexical
                    .as_deref()
                    .is_some_and(|p| roots.iter().any(|r| under(p, r)));
                if !inside {
                    let want = if lexical.is_some() { 403 } else { 400 };
                    assert_eq!(status, want, "{target:?}: {refusal:?}");
                }
                // A 404 never tells what exists outside: the longest part of
                // the path that exists leads inside a root.
                if status == 404
                    && let Some(p) = &lexical
                {
                    let base = p
                        .ancestors()
                        .find_map(|a| fs::canonicalize(a).ok())
                        .unwrap_or_default();
                    assert!(
                        roots.iter().any(|r| under(&base, r)),
                        "{target:?}: 404 behind {base:?}, outside the roots"
                    );
                }
            }
        }
    }
});

fn target_for_twin(pick: u8, rest: &str) -> (String, Vec<PathBuf>) {
    target(twin(), pick, rest)
}

/// `.` and `..` resolved on the text of an absolute path (an independent
/// copy of the lexical step: `..` at the top stays at `/`).
fn lexical(raw: &[u8]) -> Option<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    if raw.first() != Some(&b'/') {
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
    let mut p = PathBuf::from("/");
    for part in parts {
        p.push(std::ffi::OsStr::from_bytes(part));
    }
    Some(p)
}
