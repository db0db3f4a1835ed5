//! The C library's allocator, tuned for a thread per follower. glibc gives
//! every thread a cache of freed small blocks (its "tcache": up to 7 blocks
//! of each of 64 sizes up to 1 KiB, about 240 KB a thread at most), which
//! only that thread can use again and which is given back only when the
//! thread ends. A follower's thread frees blocks of many sizes at every
//! rotation (paths, listings, log lines), so its cache filled up over a
//! day's rotations: 300 busy followers through logrotate held 10–16 MB more
//! after a minute (issue 21, `cargo bench --bench bench -- busy-rotate`),
//! ~195 KB each in a 10-minute soak, none of it in use. Without unsafe
//! code the server cannot call `malloc_trim` or `mallopt`; what it can do
//! is start itself again at once with `GLIBC_TUNABLES` set
//! (`MALLOC_TUNABLES`), before it does anything else, when the operator
//! has not set that variable. The process keeps its id (an `exec`), so
//! systemd, a supervisor or a test sees the same process.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;

use crate::limits::MALLOC_TUNABLES;

/// The variable glibc reads its allocator settings from, at start.
pub const TUNABLES_VAR: &str = "GLIBC_TUNABLES";

/// Starts the server again with `GLIBC_TUNABLES=MALLOC_TUNABLES`, when it
/// is not set (an operator who set it, even empty, chose their own; the
/// started one finds it set and goes on). Returns only when it does not
/// (set already, not glibc, or the `exec` failed: the server then runs
/// with the library's defaults).
pub fn restart_tuned(args: &[OsString]) {
    if !cfg!(all(target_os = "linux", target_env = "gnu"))
        || std::env::var_os(TUNABLES_VAR).is_some()
    {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    // Started through the dynamic loader (`ld-linux-x86-64.so.2 wstail
    // serve …`): the running program is the loader, which would take
    // `serve` for the program to load.
    if exe
        .file_name()
        .is_some_and(|n| n.as_bytes().starts_with(b"ld-"))
    {
        return;
    }
    let arg0 = std::env::args_os()
        .next()
        .unwrap_or_else(|| exe.clone().into_os_string());
    // The running file itself (the same inode), even when the binary was
    // replaced or deleted on disk since. Only returns on failure.
    let _ = std::process::Command::new("/proc/self/exe")
        .arg0(arg0)
        .args(args)
        .env(TUNABLES_VAR, MALLOC_TUNABLES)
        .exec();
}
