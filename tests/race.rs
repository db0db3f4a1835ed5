//! The path rule against an attacker who can write in a root and swaps what
//! a path names while the server checks and opens it: a symlink to an
//! outside file renamed over the log and a hard link renamed back, in a
//! loop, as fast as it goes. Open-then-verify must never let a byte, a size
//! or a time of the outside file through — on the WebSocket, `?download`,
//! `?list` and the re-open after a rotation. Each test swaps for a bounded
//! time (at most ~12 s) and counts what came back.
use crate::common::*;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

/// The tests below each keep a core busy swapping: one at a time, so that
/// they neither slow each other nor load the machine for other tests twice.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// The outside file's content: a marker no inside file holds.
fn marker() -> String {
    format!("OUTSIDE-MARKER-{}-7f3a", std::process::id())
}

/// A temp dir with `root/` (to serve) and, beside it, `outside.secret`
/// holding `outside`: (dir, root, outside file).
fn tree(tag: &str, outside: &[u8]) -> (TempDir, PathBuf, PathBuf) {
    let dir = TempDir::new(tag);
    let root = dir.join("root");
    std::fs::create_dir_all(&root).unwrap();
    let file = dir.join("outside.secret");
    std::fs::write(&file, outside).unwrap();
    (dir, root, file)
}

/// Swaps `target` in a loop until `stop`: a symlink to `outside` renamed
/// over it, then a hard link of `keep` (a regular file inside the root)
/// renamed back. Both renames are atomic, so the path always names
/// something. Returns the number of swaps.
fn swap_file(target: PathBuf, keep: PathBuf, outside: PathBuf, stop: Arc<AtomicBool>) -> usize {
    let dir = target.parent().unwrap().to_path_buf();
    let sym = dir.join(".swap-sym");
    let hard = dir.join(".swap-hard");
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        let _ = std::fs::remove_file(&sym);
        let _ = std::os::unix::fs::symlink(&outside, &sym);
        let _ = std::fs::rename(&sym, &target);
        let _ = std::fs::remove_file(&hard);
        let _ = std::fs::hard_link(&keep, &hard);
        let _ = std::fs::rename(&hard, &target);
        n += 1;
    }
    n
}

/// Swaps the directory `target` with a symlink to `outside_dir` until
/// `stop`: the real directory renamed aside, the symlink renamed in, and
/// back. Leaves the real directory in place.
fn swap_dir(target: PathBuf, outside_dir: PathBuf, stop: Arc<AtomicBool>) -> usize {
    let parent = target.parent().unwrap().to_path_buf();
    let aside = parent.join(".swap-real");
    let sym = parent.join(".swap-dirsym");
    let _ = std::fs::remove_file(&sym);
    std::os::unix::fs::symlink(&outside_dir, &sym).unwrap();
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        let _ = std::fs::rename(&target, &aside);
        let _ = std::fs::rename(&sym, &target);
        let _ = std::fs::rename(&target, &sym);
        let _ = std::fs::rename(&aside, &target);
        n += 1;
    }
    n
}

/// What a run of requests gave.
#[derive(Default, Debug)]
struct Tally {
    ws: usize,
    ws_refused: usize,
    download: usize,
    download_refused: usize,
    /// Answers that held the outside file's marker.
    ws_leaks: usize,
    download_leaks: usize,
}

/// Requests `path` from `threads` threads, alternating a WebSocket tail
/// and a `?download`, until each kind ran `want` times or `limit` passed.
fn hammer(server: &Server, path: &Path, want: usize, limit: Duration) -> Tally {
    let ws_n = Arc::new(AtomicUsize::new(0));
    let dl_n = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + limit;
    let port = server.port;
    let ws_url = server.ws_url(path, "?lines=5");
    let target = format!("{}?download", url_path(path));
    let mark = marker();
    let workers: Vec<_> = (0..3)
        .map(|i| {
            let (ws_n, dl_n) = (Arc::clone(&ws_n), Arc::clone(&dl_n));
            let (ws_url, target, mark) = (ws_url.clone(), target.clone(), mark.clone());
            std::thread::spawn(move || {
                let mut t = Tally::default();
                let mut k = i;
                while Instant::now() < deadline
                    && (ws_n.load(Ordering::Relaxed) < want || dl_n.load(Ordering::Relaxed) < want)
                {
                    k += 1;
                    if k % 2 == 0 {
                        ws_n.fetch_add(1, Ordering::Relaxed);
                        t.ws += 1;
                        match Ws::try_connect(&ws_url) {
                            Ok(mut ws) => {
                                let text = ws.text_until(Duration::from_secs(5), |_| false);
                                if text.contains(&mark) {
                                    t.ws_leaks += 1;
                                }
                            }
                            Err(_) => t.ws_refused += 1,
                        }
                    } else {
                        dl_n.fetch_add(1, Ordering::Relaxed);
                        t.download += 1;
                        let (status, text) = http_raw(
                            port,
                            format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n")
                                .as_bytes(),
                        );
                        if status != 200 {
                            t.download_refused += 1;
                        }
                        if text.contains(&mark) {
                            t.download_leaks += 1;
                        }
                    }
                }
                t
            })
        })
        .collect();
    let mut all = Tally::default();
    for w in workers {
        let t = w.join().unwrap();
        all.ws += t.ws;
        all.ws_refused += t.ws_refused;
        all.download += t.download;
        all.download_refused += t.download_refused;
        all.ws_leaks += t.ws_leaks;
        all.download_leaks += t.download_leaks;
    }
    all
}

/// Runs `swap` on a thread while `work` runs; returns both results.
fn while_swapping<T>(
    swap: impl FnOnce(Arc<AtomicBool>) -> usize + Send + 'static,
    work: impl FnOnce() -> T,
) -> (T, usize) {
    let stop = Arc::new(AtomicBool::new(false));
    let s = Arc::clone(&stop);
    let swapper = std::thread::spawn(move || swap(s));
    let out = work();
    stop.store(true, Ordering::Relaxed);
    (out, swapper.join().unwrap())
}

/// `root/race.log` swapped between a regular file and a symlink to a file
/// outside the root while WebSocket and download requests name it.
#[test]
fn a_symlink_swapped_in_never_serves_the_outside_file() {
    let _serial = one_at_a_time();
    let _w = watchdog(Duration::from_secs(90));
    let (_dir, root, outside) = tree("race-file", format!("{}\n", marker()).repeat(4).as_bytes());
    let log = root.join("race.log");
    std::fs::write(&log, "inside line\n".repeat(4)).unwrap();
    let keep = root.join("keep.log");
    std::fs::hard_link(&log, &keep).unwrap();
    let server = Server::rooted(&root, &[]);

    let (log2, keep2, outside2) = (log.clone(), keep.clone(), outside.clone());
    let (tally, swaps) = while_swapping(
        move |stop| swap_file(log2, keep2, outside2, stop),
        || hammer(&server, &log, 1000, Duration::from_secs(30)),
    );
    eprintln!("file swap: {swaps} swaps, {tally:?}");
    assert!(tally.ws >= 300 && tally.download >= 300, "{tally:?}");
    assert!(
        tally.ws > tally.ws_refused && tally.download > tally.download_refused,
        "some requests must get the inside file: {tally:?}"
    );
    assert_eq!(
        (tally.ws_leaks, tally.download_leaks),
        (0, 0),
        "outside bytes served: {tally:?}"
    );
    // Not swapped any more: served as ever.
    assert_eq!(server.get(&format!("{}?download", url_path(&log))).0, 200);
}

/// A directory on the path swapped for a symlink to an outside directory
/// that holds a file of the same name.
#[test]
fn a_directory_swapped_for_a_symlink_never_serves_outside() {
    let _serial = one_at_a_time();
    let _w = watchdog(Duration::from_secs(90));
    let dir = TempDir::new("race-dir");
    let root = dir.join("root");
    std::fs::create_dir_all(root.join("d")).unwrap();
    std::fs::create_dir_all(dir.join("outdir")).unwrap();
    std::fs::write(
        dir.join("outdir/race.log"),
        format!("{}\n", marker()).repeat(4),
    )
    .unwrap();
    let log = root.join("d/race.log");
    std::fs::write(&log, "inside line\n".repeat(4)).unwrap();
    let server = Server::rooted(&root, &[]);

    let (d, outdir) = (root.join("d"), dir.join("outdir"));
    let (tally, swaps) = while_swapping(
        move |stop| swap_dir(d, outdir, stop),
        || hammer(&server, &log, 1000, Duration::from_secs(30)),
    );
    eprintln!("directory swap: {swaps} swaps, {tally:?}");
    assert!(tally.ws >= 300 && tally.download >= 300, "{tally:?}");
    assert_eq!(
        (tally.ws_leaks, tally.download_leaks),
        (0, 0),
        "outside bytes served: {tally:?}"
    );
}

/// A follower whose file is rotated, the new file at the path being swapped
/// with a symlink to an outside file: the re-open never follows it.
#[test]
fn the_reopen_after_rotation_never_follows_a_swapped_symlink() {
    let _serial = one_at_a_time();
    let _w = watchdog(Duration::from_secs(150));
    let (_dir, root, outside) = tree(
        "race-rotate",
        format!("{}\n", marker()).repeat(4).as_bytes(),
    );
    let log = root.join("app.log");
    let keep = root.join("next.log");
    let server = Server::rooted(&root, &["--interval", "0.01"]);
    let mark = marker();
    let (mut tries, mut leaks, mut reopened) = (0, 0, 0);
    let started = Instant::now();
    // Bounded by count, with time for a loaded machine (a 10 s bound once
    // left 56 tries of the 80 asked for while the whole suite ran).
    while tries < 200 && started.elapsed() < Duration::from_secs(60) {
        let _ = std::fs::remove_file(&keep);
        let _ = std::fs::remove_file(&log);
        std::fs::write(&log, "old line\n").unwrap();
        // Four followers at once: four re-opens per rotation.
        let followers: Vec<Ws> = (0..4)
            .map(|_| {
                let mut ws = server.ws(&log, "?tail=1&lines=1");
                let first = ws.text_until(Duration::from_secs(5), |t| t.contains("old line"));
                assert!(first.contains("old line"), "{first:?}");
                ws
            })
            .collect();
        // Rotate: the old file moves away; the new one, with data, is
        // swapped with the symlink for a while.
        std::fs::rename(&log, root.join("app.log.1")).unwrap();
        std::fs::write(&keep, "new line\n").unwrap();
        std::fs::hard_link(&keep, &log).unwrap();
        let (log2, keep2, outside2) = (log.clone(), keep.clone(), outside.clone());
        let (texts, _) = while_swapping(
            move |stop| swap_file(log2, keep2, outside2, stop),
            || {
                let readers: Vec<_> = followers
                    .into_iter()
                    .map(|mut ws| {
                        std::thread::spawn(move || {
                            let text = ws.text_until(Duration::from_millis(150), |_| false);
                            (text, ws)
                        })
                    })
                    .collect();
                readers
                    .into_iter()
                    .map(|r| r.join().unwrap())
                    .collect::<Vec<_>>()
            },
        );
        for (text, mut ws) in texts {
            tries += 1;
            let rest = ws.text_until(Duration::from_millis(20), |_| false);
            if text.contains(&mark) || rest.contains(&mark) {
                leaks += 1;
            }
            if text.contains("new line") {
                reopened += 1;
            }
            ws.close();
        }
    }
    eprintln!(
        "rotation: {tries} followers rotated, {leaks} leaked, {reopened} re-opened the new file"
    );
    assert!(tries >= 80, "{tries} tries");
    assert!(reopened > 0, "the new file must be followed in some tries");
    assert_eq!(
        leaks, 0,
        "outside bytes after a rotation in {leaks} of {tries}"
    );
}

/// `?list` while an entry is swapped: never an outside file's size or time.
#[test]
fn the_list_never_shows_an_outside_size_or_time() {
    let _serial = one_at_a_time();
    let _w = watchdog(Duration::from_secs(90));
    // A size and a time no inside file has.
    let (_dir, root, outside) = tree("race-list", &[b'x'; 77_777]);
    let old = SystemTime::UNIX_EPOCH + Duration::from_secs(978_307_200); // 2001-01-01
    std::fs::File::options()
        .write(true)
        .open(&outside)
        .unwrap()
        .set_modified(old)
        .unwrap();
    let log = root.join("race.log");
    std::fs::write(&log, "inside\n").unwrap();
    let keep = root.join("keep.log");
    std::fs::hard_link(&log, &keep).unwrap();
    let server = Server::rooted(&root, &[]);

    let (log2, keep2, outside2) = (log.clone(), keep.clone(), outside.clone());
    let port = server.port;
    let ((lists, leaks, shown), _) = while_swapping(
        move |stop| swap_file(log2, keep2, outside2, stop),
        || {
            let started = Instant::now();
            let lister = move || {
                let (mut lists, mut leaks, mut shown) = (0, 0, 0);
                while lists < 1000 && started.elapsed() < Duration::from_secs(30) {
                    let (status, body) = http_raw(
                        port,
                        format!("GET /?list HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n").as_bytes(),
                    );
                    assert_eq!(status, 200, "{body}");
                    lists += 1;
                    if body.contains("\"size\":77777") || body.contains("\"modified\":978307200") {
                        leaks += 1;
                    }
                    if body.contains("race.log\"") {
                        shown += 1;
                    }
                }
                (lists, leaks, shown)
            };
            let threads: Vec<_> = (0..2).map(|_| std::thread::spawn(lister)).collect();
            threads
                .into_iter()
                .map(|t| t.join().unwrap())
                .fold((0, 0, 0), |a, b| (a.0 + b.0, a.1 + b.1, a.2 + b.2))
        },
    );
    eprintln!("list: {lists} lists, {leaks} leaked, race.log shown in {shown}");
    assert!(lists >= 500, "{lists} lists");
    assert_eq!(leaks, 0, "outside size or time in {leaks} of {lists} lists");
}

/// An in-root symlink to an outside directory must not tell what exists
/// there: an existing and a missing name behind it are both 403.
#[test]
fn a_symlinked_directory_is_no_existence_oracle() {
    let _w = watchdog(Duration::from_secs(60));
    let dir = TempDir::new("oracle");
    let root = dir.join("root");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::create_dir_all(dir.join("outdir")).unwrap();
    std::fs::write(dir.join("outdir/exists.log"), "secret\n").unwrap();
    std::os::unix::fs::symlink(dir.join("outdir"), root.join("out")).unwrap();
    std::os::unix::fs::symlink("/proc/self/root", root.join("procroot")).unwrap();
    std::os::unix::fs::symlink(dir.join("outdir/missing.log"), root.join("dangling")).unwrap();
    std::os::unix::fs::symlink(root.join("later.log"), root.join("pending")).unwrap();
    let server = Server::rooted(&root, &[]);
    let r = root.to_str().unwrap();
    let cases = [
        (format!("{r}/out/exists.log"), 403),
        (format!("{r}/out/missing.log"), 403),
        (format!("{r}/out/missing/deeper.log"), 403),
        (format!("{r}/procroot/etc/passwd"), 403),
        (format!("{r}/procroot/etc/nonexistent"), 403),
        (format!("{r}/procroot/nonexistent/x"), 403),
        (format!("{r}/dangling"), 403),
        // Inside the root, nothing there: still 404.
        (format!("{r}/missing.log"), 404),
        (format!("{r}/pending"), 404),
        (format!("{r}/nodir/missing.log"), 404),
    ];
    for (path, want) in cases {
        assert_eq!(server.ws_status(&path, "").0, want, "WebSocket {path}");
        assert_eq!(
            server.get(&format!("{path}?download")).0,
            want,
            "download {path}"
        );
    }
}
