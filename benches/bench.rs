//! `cargo bench`: the release binary measured against `tail`, side by side
//! in one run, printed as a table (each figure, the reference, the ratio,
//! the target, PASS or MISS).
//!
//! - initial tail: connect → the last of 1000 initial lines, for files of
//!   10 MB and 1 GB made on the fly, next to `tail -n 1000` of the same file;
//! - throughput: 500 MB appended in one go (`cat big.log >> file`) to one
//!   `format=text` and one `format=html` follower, next to
//!   `tail -n 0 -F file` into a pipe; every line checked to arrive once, in
//!   order;
//! - latency: a line every 50 ms, write → receipt, p50 and p99, at
//!   `--interval 0.05` and at the default (1 s);
//! - fan-out: 1000 followers on one file (each with the default 1000-line
//!   tail): server RSS and threads, one appended line → all 1000, server CPU
//!   while they sit idle for 10 s, at the default interval and at 0.05; and
//!   10,000 followers when the open-file limit allows (each follower holds a
//!   socket and a file in the server: 2 descriptors);
//! - before: `before=` at 10 %, 50 % and 90 % of a 1 GB file (1000 lines,
//!   connect → close), next to the plain tail of the same file;
//! - filter: a `match=` text no line holds, over a 1 GB file (the whole
//!   backward scan, connect → close), next to `grep -c -F -i` of the same
//!   text and file;
//! - since: `since=` on a 1 GB file of timestamped lines, T at 10 %, 50 % and 90 %
//!   and after the end: block reads (from the server's debug log) and time to
//!   the first message, next to the plain tail's;
//! - gzip: inflating throughput next to `gzip -dc`; paging back through a
//!   150 MB gzip file next to the same pages of the plain file; `since=`
//!   into the eighth of 14 gzip generations next to `zcat | grep -m1`; a
//!   `match=` no line holds over the gzip file next to `zgrep -c -F -i`;
//!   the server's RSS (the restart points are bounded);
//! - busy: 300 followers of a file appended at a steady rate for 30 s: the
//!   server's RSS idle and busy;
//! - busy-rotate (only when named): the same through logrotate rotations
//!   every 2 s, a tenth of the followers slow readers: the server's RSS
//!   idle, busy, at its peak and after they left, and where it is (thread
//!   stacks, allocator, files);
//! - merge: a merged view (`?merge=`) of three files of 200 MB each (kept at
//!   200 MB on a shared machine): `since=` at 50 %, time to the first
//!   message, next to `since=` on one of the files and to lnav (`lnav -n`,
//!   `:goto T`, the screen written out) on the same three files; and the
//!   throughput of three files appended at once (`cat` × 3) to one merged
//!   follower, next to three single followers.
//!
//! Arguments (after `cargo bench --bench bench --`): `quick` (smaller files
//! and fewer samples, for a try), or any of `tail`, `throughput`, `latency`,
//! `fanout` (or only `fanout1` / `fanout005`), `busy`, `busy-rotate`, `10k`, `before`, `filter`, `since`, `gzip`, `merge` to run only those parts. Big files go to `$TMPDIR` (or
//! `/tmp`) and are removed as soon as each part is done.

use std::fmt::Write as _;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use tungstenite::protocol::WebSocketConfig;
use tungstenite::{Message, WebSocket};

// The integration tests' helpers: the server, temp dirs, appending.
#[path = "../tests/common/mod.rs"]
mod common;
use common::{BIN, Server, TempDir, append, threads_and_fds, url_path, vm_rss_kb};

/// Bytes per generated log line, newline included.
const LINE: usize = 120;
const MB: f64 = 1e6;

// ---------------------------------------------------------------- report --

struct Row {
    what: String,
    wstail: String,
    reference: String,
    ratio: String,
    target: String,
    pass: Option<bool>,
}

#[derive(Default)]
struct Report {
    rows: Vec<Row>,
}

impl Report {
    fn row(&mut self, what: &str, wstail: String, reference: &str, ratio: &str, target: &str) {
        self.add(what, wstail, reference, ratio, target, None);
    }

    fn add(
        &mut self,
        what: &str,
        wstail: String,
        reference: &str,
        ratio: &str,
        target: &str,
        pass: Option<bool>,
    ) {
        let r = Row {
            what: what.to_string(),
            wstail,
            reference: reference.to_string(),
            ratio: ratio.to_string(),
            target: target.to_string(),
            pass,
        };
        eprintln!(
            "  {}: {} | {} | {} | {} {}",
            r.what,
            r.wstail,
            r.reference,
            r.ratio,
            r.target,
            verdict(r.pass)
        );
        self.rows.push(r);
    }

    fn print(&self) {
        let heads = ["measurement", "wstail", "reference", "ratio", "target", ""];
        let cells: Vec<[String; 6]> = self
            .rows
            .iter()
            .map(|r| {
                [
                    r.what.clone(),
                    r.wstail.clone(),
                    r.reference.clone(),
                    r.ratio.clone(),
                    r.target.clone(),
                    verdict(r.pass).to_string(),
                ]
            })
            .collect();
        let mut w = [0usize; 6];
        for (i, h) in heads.iter().enumerate() {
            w[i] = h.chars().count();
        }
        for c in &cells {
            for i in 0..6 {
                w[i] = w[i].max(c[i].chars().count());
            }
        }
        let line = |c: &[String]| {
            let mut s = String::from("|");
            for i in 0..6 {
                let _ = write!(s, " {}{} |", c[i], " ".repeat(w[i] - c[i].chars().count()));
            }
            s
        };
        let heads: Vec<String> = heads.iter().map(|s| s.to_string()).collect();
        println!("{}", line(&heads));
        let mut sep = String::from("|");
        for x in w {
            let _ = write!(sep, "{}|", "-".repeat(x + 2));
        }
        println!("{sep}");
        for c in &cells {
            println!("{}", line(c));
        }
    }
}

fn verdict(p: Option<bool>) -> &'static str {
    match p {
        Some(true) => "PASS",
        Some(false) => "MISS",
        None => "",
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn percentile(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i]
}

// ----------------------------------------------------------------- setup --

/// Line `n`: exactly `LINE` bytes, a 10-digit number first, some ANSI
/// colour and HTML-special characters in the middle (reset before the end).
fn make_line(n: u64, out: &mut Vec<u8>) {
    let start = out.len();
    let _ = write!(
        out,
        "{n:010} 2026-01-01T12:{:02}:{:02}.{:03} INFO  \x1b[32mworker-{}\x1b[0m request id={:08x} <ok> & done ",
        (n / 60_000) % 60,
        (n / 1000) % 60,
        n % 1000,
        n % 8,
        n.wrapping_mul(2_654_435_761) & 0xffff_ffff
    );
    let used = out.len() - start;
    out.extend(std::iter::repeat_n(b'x', LINE - 1 - used));
    out.push(b'\n');
}

/// Writes `bytes` (rounded down to whole lines) of numbered lines.
fn make_file(path: &Path, bytes: u64) -> u64 {
    let mut f = File::create(path).unwrap();
    let lines = bytes / LINE as u64;
    let mut buf = Vec::with_capacity(1 << 20);
    let mut n = 0;
    while n < lines {
        buf.clear();
        while buf.len() + LINE <= 1 << 20 && n < lines {
            make_line(n, &mut buf);
            n += 1;
        }
        f.write_all(&buf).unwrap();
    }
    lines
}

/// User + system CPU time of the server so far.
fn cpu(server: &Server) -> Duration {
    let s = fs::read_to_string(format!("/proc/{}/stat", server.pid())).unwrap();
    let f: Vec<&str> = s[s.rfind(')').unwrap() + 2..].split(' ').collect();
    let ticks: u64 = f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap();
    Duration::from_millis(ticks * 10) // USER_HZ is 100 on Linux
}

/// The server's warnings and errors, other than refusals, shown at the end
/// of a part.
fn show_warnings(server: &Server) {
    for line in server.log().lines() {
        if (line.contains("[WARN]") || line.contains("[ERROR]")) && !line.contains("refused") {
            eprintln!("  server: {line}");
        }
    }
}

type Ws = WebSocket<TcpStream>;

fn connect(url: &str) -> Ws {
    let addr = url["ws://".len()..].split('/').next().unwrap().to_string();
    let stream = TcpStream::connect(addr).expect("connect");
    let config = WebSocketConfig::default().read_buffer_size(16 * 1024);
    let (ws, _) =
        tungstenite::client::client_with_config(url, stream, Some(config)).expect("handshake");
    ws
}

/// The soft limit on open files of this process (the server inherits it).
fn open_file_limit() -> (u64, u64) {
    let s = fs::read_to_string("/proc/self/limits").unwrap();
    let l = s.lines().find(|l| l.starts_with("Max open files")).unwrap();
    let v: Vec<u64> = l
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    (v[0], v[1])
}

// ---------------------------------------------------------- initial tail --

fn bench_tail(report: &mut Report, dir: &TempDir, quick: bool) {
    eprintln!("initial tail …");
    let sizes: &[(u64, &str)] = if quick {
        &[(10_000_000, "10 MB"), (200_000_000, "200 MB")]
    } else {
        &[(10_000_000, "10 MB"), (1_000_000_000, "1 GB")]
    };
    let runs = if quick { 10 } else { 30 };
    let server = Server::rooted(dir.path(), &[]);
    let mut results = Vec::new();
    for &(size, label) in sizes {
        let path = dir.join(&format!("tail-{label}.log").replace(' ', ""));
        let t = Instant::now();
        make_file(&path, size);
        eprintln!("  made {label} in {:.1}s", t.elapsed().as_secs_f64());
        // Warm both (page cache), then measure alternately.
        let url = server.ws_url(&path, "?format=text&lines=1000");
        let mut ours = Vec::new();
        let mut theirs = Vec::new();
        for i in 0..runs + 2 {
            let t = Instant::now();
            let mut ws = connect(&url);
            let mut lines = 0;
            while lines < 1000 {
                match ws.read().expect("read the tail") {
                    Message::Text(t) => {
                        lines += t.as_bytes().iter().filter(|&&b| b == b'\n').count()
                    }
                    Message::Close(_) => break,
                    _ => {}
                }
            }
            let took = t.elapsed();
            assert_eq!(lines, 1000);
            drop(ws);
            let t = Instant::now();
            let out = Command::new("tail")
                .args(["-n", "1000"])
                .arg(&path)
                .stdout(Stdio::piped())
                .output()
                .unwrap();
            let took_tail = t.elapsed();
            assert_eq!(out.stdout.len(), 1000 * LINE);
            if i >= 2 {
                ours.push(took);
                theirs.push(took_tail);
            }
        }
        let (o, t) = (median(&mut ours), median(&mut theirs));
        let ratio = o.as_secs_f64() / t.as_secs_f64();
        report.add(
            &format!("initial tail, {label} (median of {runs})"),
            ms(o),
            &format!("tail -n 1000: {}", ms(t)),
            &format!("{ratio:.2}×"),
            "≤ 3× tail",
            Some(ratio <= 3.0),
        );
        results.push(o);
        fs::remove_file(&path).unwrap();
    }
    show_warnings(&server);
    let r = results[1].as_secs_f64() / results[0].as_secs_f64();
    report.add(
        &format!("initial tail, {} vs 10 MB", sizes[1].1),
        format!("{:.2}× the 10 MB time", r),
        "",
        &format!("{r:.2}×"),
        "≤ 2×",
        Some(r <= 2.0),
    );
}

// ----------------------------------------------------------------- since --

/// Line `n` of the `since=` file: `LINE` bytes, stamped `n` milliseconds
/// after 2026-01-01T00:00:00Z.
fn make_stamped_line(n: u64, out: &mut Vec<u8>) {
    let start = out.len();
    let _ = write!(
        out,
        "{} INFO  worker-{} request {n:010} <ok> & done ",
        stamp(n),
        n % 8
    );
    let used = out.len() - start;
    out.extend(std::iter::repeat_n(b'x', LINE - 1 - used));
    out.push(b'\n');
}

/// The RFC 3339 time of stamped line `n`.
fn stamp(n: u64) -> String {
    let s = n / 1000;
    format!(
        "2026-01-01T{:02}:{:02}:{:02}.{:03}Z",
        s / 3600,
        s / 60 % 60,
        s % 60,
        n % 1000
    )
}

/// `since=` on a large file: block reads (from the server's debug log) and
/// time to the first message, for T at 10 %, 50 % and 90 % of the file and
/// after its end, next to the plain tail's time to its first message.
fn bench_since(report: &mut Report, dir: &TempDir, quick: bool) {
    eprintln!("since= …");
    let (size, label) = if quick {
        (200_000_000u64, "200 MB")
    } else {
        (1_000_000_000, "1 GB")
    };
    let runs = if quick { 5 } else { 20 };
    let path = dir.join("since.log");
    let t = Instant::now();
    let lines = size / LINE as u64;
    {
        let mut f = File::create(&path).unwrap();
        let mut buf = Vec::with_capacity(1 << 20);
        let mut n = 0;
        while n < lines {
            buf.clear();
            while buf.len() + LINE <= 1 << 20 && n < lines {
                make_stamped_line(n, &mut buf);
                n += 1;
            }
            f.write_all(&buf).unwrap();
        }
    }
    eprintln!("  made {label} in {:.1}s", t.elapsed().as_secs_f64());
    let log = dir.join("since-server.log");
    let log_arg = log.to_string_lossy().into_owned();
    let server = Server::rooted(
        dir.path(),
        &["--log-level", "debug", "--log-file", &log_arg],
    );
    // Connect → the first text message (or the close, when nothing is old).
    let first = |query: &str| -> Duration {
        let t = Instant::now();
        let mut ws = connect(&server.ws_url(&path, query));
        loop {
            match ws.read() {
                Ok(Message::Text(_) | Message::Close(_)) | Err(_) => break,
                Ok(_) => {}
            }
        }
        t.elapsed()
    };
    let timed = |query: &str| -> Duration {
        let mut v: Vec<Duration> = (0..runs + 2).map(|_| first(query)).skip(2).collect();
        median(&mut v)
    };
    let plain = timed("?format=text&lines=1000");
    report.row(
        &format!("plain tail, {label}: first message (median of {runs})"),
        ms(plain),
        "",
        "",
        "",
    );
    let reads_logged = || -> Vec<u32> {
        fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| {
                let at = l.find(" block reads")?;
                l[..at].rsplit(' ').next()?.parse().ok()
            })
            .collect()
    };
    for (what, n) in [
        ("10 %", lines / 10),
        ("50 %", lines / 2),
        ("90 %", lines * 9 / 10),
        ("after the end", lines + 1000),
    ] {
        let before = reads_logged().len();
        let took = timed(&format!("?format=text&since={}", stamp(n)));
        let reads = reads_logged()[before..].iter().copied().max().unwrap_or(0);
        let ratio = took.as_secs_f64() / plain.as_secs_f64();
        report.add(
            &format!("since= at {what} of {label}: first message"),
            format!("{} ({reads} block reads of 64 KiB)", ms(took)),
            &format!("plain tail: {}", ms(plain)),
            &format!("{ratio:.2}×"),
            "≤ 64 reads",
            Some(reads > 0 && reads <= 64),
        );
    }
    drop(server);
    fs::remove_file(&path).unwrap();
}

// ----------------------------------------------------------------- merge --

/// Writes file `k` of a merged view: `bytes` of `LINE`-byte lines, stamped
/// in milliseconds after 2026-01-01T00:00:00Z so that the three files take
/// turns every `burst` lines (1: line by line, the worst case, where every
/// message holds one line).
fn make_merge_file(path: &Path, bytes: u64, k: u64, burst: u64) -> u64 {
    let mut f = File::create(path).unwrap();
    let lines = bytes / LINE as u64;
    let mut buf = Vec::with_capacity(1 << 20);
    let mut n = 0;
    while n < lines {
        buf.clear();
        while buf.len() + LINE <= 1 << 20 && n < lines {
            let start = buf.len();
            let _ = write!(
                buf,
                "{} INFO  file-{k} request {n:010} <ok> & done ",
                stamp((n / burst) * 3 * burst + k * burst + n % burst)
            );
            let used = buf.len() - start;
            buf.extend(std::iter::repeat_n(b'x', LINE - 1 - used));
            buf.push(b'\n');
            n += 1;
        }
        f.write_all(&buf).unwrap();
    }
    lines
}

/// The merged view's URL of these files.
fn merge_url(server: &Server, files: &[&Path], query: &str) -> String {
    let list: Vec<String> = files
        .iter()
        .map(|f| format!("merge={}", common::url_path(f)))
        .collect();
    format!("ws://127.0.0.1:{}/?{}&{query}", server.port, list.join("&"))
}

/// Connect → the first text message (or the close).
fn first_message(url: &str) -> Duration {
    let t = Instant::now();
    let mut ws = connect(url);
    loop {
        match ws.read() {
            Ok(Message::Text(_) | Message::Close(_)) | Err(_) => break,
            Ok(_) => {}
        }
    }
    t.elapsed()
}

fn bench_merge(report: &mut Report, dir: &TempDir, quick: bool) {
    eprintln!("merge …");
    let (size, label) = if quick {
        (50_000_000u64, "3 × 50 MB")
    } else {
        (200_000_000, "3 × 200 MB")
    };
    let runs = if quick { 5 } else { 15 };
    let t = Instant::now();
    let files: Vec<std::path::PathBuf> = (0..3).map(|k| dir.join(&format!("m{k}.log"))).collect();
    let mut lines = 0;
    for (k, f) in files.iter().enumerate() {
        lines = make_merge_file(f, size, k as u64, 1);
    }
    eprintln!("  made {label} in {:.1}s", t.elapsed().as_secs_f64());
    let paths: Vec<&Path> = files.iter().map(|p| p.as_path()).collect();
    let server = Server::rooted(dir.path(), &[]);
    let at = stamp(3 * (lines / 2));
    // A pause between runs: the previous connection's thread, still
    // sending when its client left, is gone before the next is timed.
    let timed = |url: &str| -> Duration {
        let mut v: Vec<Duration> = (0..runs + 2)
            .map(|_| {
                thread::sleep(Duration::from_millis(100));
                first_message(url)
            })
            .skip(2)
            .collect();
        median(&mut v)
    };
    let one = timed(&server.ws_url(&files[0], &format!("?format=text&since={at}")));
    let merged = timed(&merge_url(
        &server,
        &paths,
        &format!("format=text&since={at}"),
    ));
    let ratio = merged.as_secs_f64() / one.as_secs_f64();
    report.add(
        &format!("merge, {label}: since= at 50 %, first message (median of {runs})"),
        ms(merged),
        &format!("one file: {}", ms(one)),
        &format!("{ratio:.2}×"),
        "≤ 3× one file",
        Some(ratio <= 3.0),
    );
    // lnav on the same files: to the first screen at T, written out.
    let home = dir.join("lnav-home");
    fs::create_dir_all(&home).unwrap();
    let lnav = Command::new("lnav").arg("-V").output().is_ok();
    if lnav {
        let lnav_runs = if quick { 1 } else { 3 };
        let mut v: Vec<Duration> = (0..lnav_runs)
            .map(|_| {
                let t = Instant::now();
                let st = Command::new("lnav")
                    .env("HOME", &home)
                    .arg("-n")
                    .args([
                        "-c",
                        &format!(":goto {at}"),
                        "-c",
                        ":write-screen-to /dev/null",
                    ])
                    .args(&files)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .unwrap();
                assert!(st.success(), "lnav failed");
                t.elapsed()
            })
            .collect();
        let lnav_took = median(&mut v);
        report.row(
            &format!("merge, {label}: lnav -n, :goto T, first screen (median of {lnav_runs})"),
            ms(merged),
            &format!("lnav: {}", ms(lnav_took)),
            &format!("{:.3}×", merged.as_secs_f64() / lnav_took.as_secs_f64()),
            "(the reference)",
        );
    }
    drop(server);
    for f in &files {
        fs::remove_file(f).unwrap();
    }

    // Throughput: three files appended at full speed at once, taking turns
    // line by line (the worst case) and every 1000 lines.
    let each = if quick { 30_000_000u64 } else { 100_000_000 };
    for burst in [1, 1000] {
        let bigs: Vec<std::path::PathBuf> =
            (0..3).map(|k| dir.join(&format!("big{k}.log"))).collect();
        let mut total = 0;
        for (k, b) in bigs.iter().enumerate() {
            total += make_merge_file(b, each, k as u64, burst) * LINE as u64;
        }
        let mut singles = Vec::new();
        let mut mergeds = Vec::new();
        let rounds = if quick { 1 } else { 3 };
        for _ in 0..rounds {
            singles.push(three_followers_rate(dir, &bigs, total, false));
            mergeds.push(three_followers_rate(dir, &bigs, total, true));
        }
        for b in &bigs {
            fs::remove_file(b).unwrap();
        }
        singles.sort_by(f64::total_cmp);
        mergeds.sort_by(f64::total_cmp);
        let (single, merged) = (singles[rounds / 2], mergeds[rounds / 2]);
        let ratio = merged / single;
        report.add(
            &format!(
                "merge, 3 × {} MB appended at once, turns every {burst} line(s): one merged follower (median of {rounds})",
                each / 1_000_000
            ),
            format!("{merged:.0} MB/s"),
            &format!("3 single followers: {single:.0} MB/s"),
            &format!("{ratio:.2}×"),
            "≥ 0.5× the three",
            Some(ratio >= 0.5),
        );
    }
}

/// MB/s (of the three files together) from `cat big >> file` × 3 to the
/// last byte at one merged follower (`merged`) or at three single ones.
fn three_followers_rate(
    dir: &TempDir,
    bigs: &[std::path::PathBuf],
    total: u64,
    merged: bool,
) -> f64 {
    let files: Vec<std::path::PathBuf> = (0..3).map(|k| dir.join(&format!("t{k}.log"))).collect();
    for f in &files {
        File::create(f).unwrap();
    }
    let server = Server::rooted(dir.path(), &[]);
    let paths: Vec<&Path> = files.iter().map(|p| p.as_path()).collect();
    let urls: Vec<String> = if merged {
        vec![merge_url(&server, &paths, "tail=1&lines=0&format=text")]
    } else {
        files
            .iter()
            .map(|f| server.ws_url(f, "?tail=1&lines=0&format=text"))
            .collect()
    };
    let got = Arc::new(AtomicU64::new(0));
    // The files are of one size: each reader waits for its share.
    let want = total / urls.len() as u64;
    let readers: Vec<thread::JoinHandle<()>> = urls
        .into_iter()
        .map(|url| {
            let got = Arc::clone(&got);
            let mut ws = connect(&url);
            thread::spawn(move || {
                let mut mine = 0;
                while mine < want {
                    match ws.read() {
                        Ok(Message::Text(t)) => {
                            mine += t.len() as u64;
                            got.fetch_add(t.len() as u64, Ordering::Relaxed);
                        }
                        Ok(Message::Close(_)) | Err(_) => return,
                        Ok(_) => {}
                    }
                }
            })
        })
        .collect();
    thread::sleep(Duration::from_millis(300));
    let t = Instant::now();
    let cats: Vec<thread::JoinHandle<()>> = bigs
        .iter()
        .zip(&files)
        .map(|(b, f)| cat_append(b, f))
        .collect();
    for r in readers {
        r.join().unwrap();
    }
    let took = t.elapsed();
    for c in cats {
        c.join().unwrap();
    }
    assert_eq!(got.load(Ordering::Relaxed), total, "bytes received");
    show_warnings(&server);
    drop(server);
    for f in &files {
        fs::remove_file(f).unwrap();
    }
    total as f64 / MB / took.as_secs_f64()
}

// ------------------------------------------------------------ throughput --

/// Checks a stream of whole-or-cut lines: each line's 10-digit number must
/// be the next one (once, in order). `html`: the text is HTML fragments.
struct Checker {
    next: u64,
    carry: Vec<u8>,
    bytes: u64,
}

impl Checker {
    fn new() -> Checker {
        Checker {
            next: 0,
            carry: Vec::new(),
            bytes: 0,
        }
    }

    fn feed(&mut self, data: &[u8]) {
        self.bytes += data.len() as u64;
        let mut at = 0;
        if !self.carry.is_empty() {
            let Some(nl) = data.iter().position(|&b| b == b'\n') else {
                self.carry.extend_from_slice(data);
                return;
            };
            let mut line = std::mem::take(&mut self.carry);
            line.extend_from_slice(&data[..=nl]);
            self.line(&line);
            at = nl + 1;
        }
        while at < data.len() {
            match data[at..].iter().position(|&b| b == b'\n') {
                Some(i) => {
                    self.line(&data[at..at + i + 1]);
                    at += i + 1;
                }
                None => {
                    self.carry.extend_from_slice(&data[at..]);
                    break;
                }
            }
        }
    }

    fn line(&mut self, l: &[u8]) {
        let n: u64 = std::str::from_utf8(&l[..10])
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("not a numbered line: {:?}", String::from_utf8_lossy(l)));
        assert_eq!(n, self.next, "line {n} arrived where {} was due", self.next);
        self.next += 1;
    }
}

fn bench_throughput(report: &mut Report, dir: &TempDir, quick: bool) {
    eprintln!("throughput …");
    let size: u64 = if quick { 100_000_000 } else { 500_000_000 };
    let runs = if quick { 1 } else { 3 };
    let big = dir.join("big.log");
    let lines = make_file(&big, size);
    let total = lines * LINE as u64;
    let label = format!("{} MB", total / 1_000_000);

    // Taken in turns, so that a busy moment of the machine does not fall on
    // one side only; the median of each.
    let mut limit = Vec::new();
    let mut ours: [Vec<(f64, f64, u64)>; 2] = [Vec::new(), Vec::new()];
    for _ in 0..runs {
        limit.push(tail_follow_rate(dir, &big, total));
        for (i, format) in ["text", "html"].into_iter().enumerate() {
            ours[i].push(follower_rate(dir, &big, lines, format));
        }
    }
    fs::remove_file(&big).unwrap();
    limit.sort_by(f64::total_cmp);
    let tail_rate = limit[runs / 2];
    report.row(
        &format!("throughput, {label} appended: tail -n 0 -F | pipe (median of {runs})"),
        String::new(),
        &format!("{tail_rate:.0} MB/s"),
        "",
        "(the limit)",
    );
    for (i, (format, target)) in [("text", 0.30), ("html", 0.15)].into_iter().enumerate() {
        let v = &mut ours[i];
        v.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (rate, cpu, sent) = v[runs / 2];
        let ratio = rate / tail_rate;
        report.add(
            &format!("throughput, {label} appended: format={format} (median of {runs})"),
            format!(
                "{rate:.0} MB/s (server CPU {cpu:.0}%, {} MB sent)",
                sent / 1_000_000
            ),
            &format!("tail -F: {tail_rate:.0} MB/s"),
            &format!("{ratio:.2}×"),
            &format!("≥ {target:.2}× tail -F"),
            Some(ratio >= target),
        );
    }
}

/// MB/s from `cat big >> file` to the last byte out of `tail -n 0 -F file`
/// through a pipe.
fn tail_follow_rate(dir: &TempDir, big: &Path, total: u64) -> f64 {
    let file = dir.join("tailF.log");
    File::create(&file).unwrap();
    let mut tail = Command::new("tail")
        .args(["-n", "0", "-F"])
        .arg(&file)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = tail.stdout.take().unwrap();
    thread::sleep(Duration::from_millis(500));
    let t = Instant::now();
    let cat = cat_append(big, &file);
    let mut buf = vec![0u8; 1 << 20];
    let mut got = 0u64;
    while got < total {
        let n = out.read(&mut buf).unwrap();
        assert!(n > 0, "tail -F ended early");
        got += n as u64;
    }
    let took = t.elapsed();
    cat.join().unwrap();
    let _ = tail.kill();
    let _ = tail.wait();
    fs::remove_file(&file).unwrap();
    total as f64 / MB / took.as_secs_f64()
}

/// MB/s (of the file) from `cat big >> file` to the last line at one
/// follower, every line checked; also the server's CPU share and the bytes
/// it sent.
fn follower_rate(dir: &TempDir, big: &Path, lines: u64, format: &str) -> (f64, f64, u64) {
    let file = dir.join(&format!("{format}.log"));
    File::create(&file).unwrap();
    let server = Server::rooted(dir.path(), &[]);
    let mut ws = connect(&server.ws_url(&file, &format!("?tail=1&lines=0&format={format}")));
    thread::sleep(Duration::from_millis(200));
    let cpu0 = cpu(&server);
    let t = Instant::now();
    let cat = cat_append(big, &file);
    let mut check = Checker::new();
    while check.next < lines {
        match ws.read().expect("read") {
            Message::Text(t) => check.feed(t.as_bytes()),
            Message::Close(c) => panic!("closed: {c:?}"),
            _ => {}
        }
    }
    let took = t.elapsed();
    let cpu = cpu(&server) - cpu0;
    cat.join().unwrap();
    drop(ws);
    show_warnings(&server);
    fs::remove_file(&file).unwrap();
    let rate = (lines * LINE as u64) as f64 / MB / took.as_secs_f64();
    (
        rate,
        cpu.as_secs_f64() / took.as_secs_f64() * 100.0,
        check.bytes,
    )
}

/// `cat big >> file`, in a thread.
fn cat_append(big: &Path, file: &Path) -> thread::JoinHandle<()> {
    let (big, file) = (big.to_path_buf(), file.to_path_buf());
    thread::spawn(move || {
        let st = Command::new("sh")
            .args(["-c", "cat \"$0\" >> \"$1\""])
            .arg(&big)
            .arg(&file)
            .status()
            .unwrap();
        assert!(st.success());
    })
}

// --------------------------------------------------------------- latency --

fn bench_latency(report: &mut Report, dir: &TempDir, quick: bool) {
    eprintln!("latency …");
    let samples = if quick { 60 } else { 200 };
    for (interval, label) in [(0.05, "--interval 0.05"), (1.0, "default --interval 1")] {
        let file = dir.join("latency.log");
        File::create(&file).unwrap();
        let server = if interval == 1.0 {
            Server::rooted(dir.path(), &[])
        } else {
            Server::rooted(dir.path(), &["--interval", "0.05"])
        };
        let mut ws = connect(&server.ws_url(&file, "?tail=1&lines=0&format=text"));
        let base = Instant::now();
        let f2 = file.clone();
        let writer = thread::spawn(move || {
            let mut f = OpenOptions::new().append(true).open(&f2).unwrap();
            for i in 0..samples {
                let next = base + Duration::from_millis(200 + 50 * i as u64);
                thread::sleep(next.saturating_duration_since(Instant::now()));
                let line = format!("{} line {i}\n", base.elapsed().as_nanos());
                f.write_all(line.as_bytes()).unwrap();
            }
        });
        let mut lat = Vec::new();
        while lat.len() < samples {
            if let Message::Text(t) = ws.read().expect("read") {
                let now = base.elapsed();
                for l in t.lines() {
                    let sent: u64 = l.split(' ').next().unwrap().parse().unwrap();
                    lat.push(now - Duration::from_nanos(sent));
                }
            }
        }
        writer.join().unwrap();
        drop(ws);
        show_warnings(&server);
        drop(server);
        fs::remove_file(&file).unwrap();
        let p50 = percentile(&mut lat, 0.5);
        let p99 = percentile(&mut lat, 0.99);
        let limit = Duration::from_secs_f64(interval) + Duration::from_millis(20);
        report.add(
            &format!("latency, a line every 50 ms, {label} ({samples} lines)"),
            format!("p50 {}, p99 {}", ms(p50), ms(p99)),
            "",
            "",
            &format!("p99 ≤ {}", ms(limit)),
            Some(p99 <= limit),
        );
    }
}

// --------------------------------------------------------------- fan-out --

/// N followers, each in its own small thread, all reading one file.
struct Crowd {
    /// Followers that have received their initial tail.
    ready: Arc<AtomicUsize>,
    /// Followers that have received the marker line, and the latest time.
    got_marker: Arc<AtomicUsize>,
    last_marker: Arc<AtomicU64>,
    failed: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicUsize>,
    threads: Vec<thread::JoinHandle<()>>,
}

impl Crowd {
    fn connect(server: &Server, file: &Path, n: usize, base: Instant) -> Crowd {
        let mut c = Crowd {
            ready: Arc::new(AtomicUsize::new(0)),
            got_marker: Arc::new(AtomicUsize::new(0)),
            last_marker: Arc::new(AtomicU64::new(0)),
            failed: Arc::new(Mutex::new(Vec::new())),
            stop: Arc::new(AtomicUsize::new(0)),
            threads: Vec::new(),
        };
        let url = server.ws_url(file, "?tail=1&format=text");
        for _ in 0..n {
            // Connect here, serially, so that the server's accept backlog
            // never overflows; read in the thread.
            let stream = match TcpStream::connect(("127.0.0.1", server.port)) {
                Ok(s) => s,
                Err(e) => {
                    c.failed.lock().unwrap().push(format!("connect: {e}"));
                    return c;
                }
            };
            let config = WebSocketConfig::default().read_buffer_size(4096);
            let mut ws =
                match tungstenite::client::client_with_config(url.as_str(), stream, Some(config)) {
                    Ok((ws, _)) => ws,
                    Err(e) => {
                        c.failed.lock().unwrap().push(format!("handshake: {e}"));
                        return c;
                    }
                };
            let (ready, got, last, failed, stop) = (
                Arc::clone(&c.ready),
                Arc::clone(&c.got_marker),
                Arc::clone(&c.last_marker),
                Arc::clone(&c.failed),
                Arc::clone(&c.stop),
            );
            let t = thread::Builder::new()
                .stack_size(64 * 1024)
                .spawn(move || {
                    let _ = ws
                        .get_ref()
                        .set_read_timeout(Some(Duration::from_millis(500)));
                    let mut lines = 0;
                    let mut is_ready = false;
                    while stop.load(Ordering::Relaxed) == 0 {
                        match ws.read() {
                            Ok(Message::Text(t)) => {
                                lines += t.as_bytes().iter().filter(|&&b| b == b'\n').count();
                                if !is_ready && lines >= 1000 {
                                    is_ready = true;
                                    ready.fetch_add(1, Ordering::SeqCst);
                                }
                                if t.contains("MARKER") {
                                    last.fetch_max(
                                        base.elapsed().as_nanos() as u64,
                                        Ordering::SeqCst,
                                    );
                                    got.fetch_add(1, Ordering::SeqCst);
                                }
                            }
                            Ok(Message::Close(_)) => {
                                failed.lock().unwrap().push("closed by the server".into());
                                return;
                            }
                            Ok(_) => {}
                            Err(tungstenite::Error::Io(e))
                                if matches!(
                                    e.kind(),
                                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                                ) => {}
                            Err(e) => {
                                failed.lock().unwrap().push(format!("read: {e}"));
                                return;
                            }
                        }
                    }
                    let _ = ws.close(None);
                    let _ = ws.flush();
                })
                .expect("spawn a follower thread");
            c.threads.push(t);
        }
        c
    }

    fn wait(&self, counter: &AtomicUsize, n: usize, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while counter.load(Ordering::SeqCst) < n {
            if Instant::now() > deadline || !self.failed.lock().unwrap().is_empty() {
                return false;
            }
            thread::sleep(Duration::from_millis(2));
        }
        true
    }

    fn end(self) {
        self.stop.store(1, Ordering::SeqCst);
        for t in self.threads {
            let _ = t.join();
        }
    }
}

fn bench_fanout(report: &mut Report, dir: &TempDir, n: usize, interval: Option<f64>) {
    let label = match interval {
        None => "default --interval 1".to_string(),
        Some(i) => format!("--interval {i}"),
    };
    eprintln!("fan-out: {n} followers, {label} …");
    let file = dir.join("fanout.log");
    make_file(&file, 2000 * LINE as u64);
    let max = (n + 100).to_string();
    let iv = interval.map(|i| i.to_string());
    // One address for the whole crowd: the per-address bound (64 by
    // default) is not what this measures.
    let mut args = vec!["--max-clients", &max, "--max-per-address", "0"];
    if let Some(i) = &iv {
        args.extend(["--interval", i]);
    }
    let server = Server::rooted(dir.path(), &args);
    let base = Instant::now();
    let t = Instant::now();
    let crowd = Crowd::connect(&server, &file, n, base);
    let all_ready = crowd.wait(&crowd.ready, n, Duration::from_secs(120));
    let connect_time = t.elapsed();
    let failed = crowd.failed.lock().unwrap().clone();
    if !all_ready {
        report.add(
            &format!("fan-out, {n} followers ({label})"),
            format!(
                "{} of {n} served; first failure: {}",
                crowd.ready.load(Ordering::SeqCst),
                failed.first().map_or("timeout", String::as_str)
            ),
            "",
            "",
            &format!("{n} served"),
            Some(false),
        );
        crowd.end();
        fs::remove_file(&file).unwrap();
        return;
    }
    thread::sleep(Duration::from_secs(2));
    let rss_kb = vm_rss_kb(server.pid());
    let threads = threads_and_fds(server.pid()).0 as u64;
    let iv_secs = interval.unwrap_or(1.0);
    // The targets are for 1000 followers; larger crowds are reported as
    // they are (served, or not).
    let targeted = n <= 1000;
    let rss_limit = 64.0;
    report.add(
        &format!("fan-out, {n} followers ({label}): server memory"),
        format!(
            "VmRSS {:.1} MB, {threads} threads ({} connected in {:.1}s)",
            rss_kb as f64 / 1024.0,
            n,
            connect_time.as_secs_f64()
        ),
        "",
        &format!("{:.1} KB/follower", rss_kb as f64 / n as f64),
        &if targeted {
            format!("≤ {rss_limit:.0} MB")
        } else {
            format!("{n} served")
        },
        Some(!targeted || (rss_kb as f64 / 1024.0) <= rss_limit),
    );
    // WSTAIL_BENCH_IDLE=SECS lengthens the idle phase (to attach perf).
    let secs = std::env::var("WSTAIL_BENCH_IDLE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    eprintln!("  idle for {secs} s: server pid {}", server.pid());
    let cpu0 = cpu(&server);
    let t = Instant::now();
    thread::sleep(Duration::from_secs(secs));
    let cpu = (cpu(&server) - cpu0).as_secs_f64() / t.elapsed().as_secs_f64() * 100.0;
    let limit = if iv_secs >= 1.0 { 5.0 } else { 10.0 };
    report.add(
        &format!("fan-out, {n} followers ({label}): idle CPU over {secs} s"),
        format!("{cpu:.1}% of one core"),
        "",
        "",
        &if targeted {
            format!("≤ {limit:.0}%")
        } else {
            String::new()
        },
        targeted.then_some(cpu <= limit),
    );
    let written = base.elapsed();
    append(&file, b"MARKER one line for everyone\n");
    let all = crowd.wait(&crowd.got_marker, n, Duration::from_secs(30));
    let reach =
        Duration::from_nanos(crowd.last_marker.load(Ordering::SeqCst)).saturating_sub(written);
    let limit = Duration::from_secs_f64(iv_secs) + Duration::from_millis(500);
    report.add(
        &format!("fan-out, {n} followers ({label}): one line → all"),
        if all {
            ms(reach)
        } else {
            format!("{} of {n} got it", crowd.got_marker.load(Ordering::SeqCst))
        },
        "",
        "",
        &format!("≤ {}", ms(limit)),
        Some(all && reach <= limit),
    );
    crowd.end();
    show_warnings(&server);
    drop(server);
    fs::remove_file(&file).unwrap();
}

/// Issue 21.7: the server's memory for busy followers (a file appended at
/// a steady rate), next to the idle figure of `bench_fanout`. Run it again
/// with `MALLOC_ARENA_MAX=2` in the environment (the server inherits it)
/// to see what glibc's per-thread arenas cost.
fn bench_fanout_busy(report: &mut Report, dir: &TempDir, n: usize) {
    const SECS: u64 = 30;
    // WSTAIL_BENCH_RATE=lines_per_sec (default 1000) for a faster writer.
    let lines_per_sec: u64 = std::env::var("WSTAIL_BENCH_RATE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let arenas = std::env::var("MALLOC_ARENA_MAX").unwrap_or_else(|_| "glibc default".into());
    eprintln!(
        "busy fan-out: {n} followers, {lines_per_sec} lines/s for {SECS} s, MALLOC_ARENA_MAX {arenas} …"
    );
    let file = dir.join("busy.log");
    make_file(&file, 2000 * LINE as u64);
    let max = (n + 100).to_string();
    // All from one address: no per-address bound.
    let server = Server::rooted(
        dir.path(),
        &["--max-clients", &max, "--max-per-address", "0"],
    );
    let crowd = Crowd::connect(&server, &file, n, Instant::now());
    let all_ready = crowd.wait(&crowd.ready, n, Duration::from_secs(120));
    thread::sleep(Duration::from_secs(2));
    let idle_kb = vm_rss_kb(server.pid());
    let t = Instant::now();
    let mut written = 0u64;
    let mut peak_kb = idle_kb;
    while t.elapsed() < Duration::from_secs(SECS) {
        let due = (t.elapsed().as_secs_f64() * lines_per_sec as f64) as u64;
        let mut batch = Vec::new();
        while written < due {
            batch.extend_from_slice(format!("{written:08} {}\n", "b".repeat(LINE - 10)).as_bytes());
            written += 1;
        }
        append(&file, &batch);
        peak_kb = peak_kb.max(vm_rss_kb(server.pid()));
        thread::sleep(Duration::from_millis(10));
    }
    let busy_kb = vm_rss_kb(server.pid());
    report.add(
        &format!("fan-out, {n} busy followers ({lines_per_sec} lines/s, MALLOC_ARENA_MAX {arenas}): server memory"),
        format!(
            "VmRSS {:.1} MB idle → {:.1} MB after {SECS} s busy (peak {:.1} MB){}",
            idle_kb as f64 / 1024.0,
            busy_kb as f64 / 1024.0,
            peak_kb as f64 / 1024.0,
            if all_ready { "" } else { "; not all served" }
        ),
        "",
        &format!(
            "{:.1} KB/follower busy, {:.1} idle",
            busy_kb as f64 / n as f64,
            idle_kb as f64 / n as f64
        ),
        "",
        None,
    );
    crowd.end();
    show_warnings(&server);
    drop(server);
    fs::remove_file(&file).unwrap();
}

/// Where a process's resident memory is, from `/proc/PID/smaps`: thread
/// stacks (anonymous mappings of the client threads' 256 KiB stack size),
/// the allocator's (`[heap]` and the other anonymous mappings), and mapped
/// files, in KiB.
fn rss_parts(pid: u32) -> (u64, u64, u64) {
    let smaps = fs::read_to_string(format!("/proc/{pid}/smaps")).unwrap_or_default();
    let (mut stacks, mut heap, mut files) = (0, 0, 0);
    let mut kind = 0;
    for line in smaps.lines() {
        let mut f = line.split_whitespace();
        let first = f.next().unwrap_or("");
        if let Some((a, b)) = first.split_once('-')
            && let (Ok(a), Ok(b)) = (u64::from_str_radix(a, 16), u64::from_str_radix(b, 16))
        {
            let name = f.nth(4).unwrap_or("");
            let kib = (b - a) / 1024;
            kind = if name.starts_with('/') {
                2
            } else if name.is_empty() && (256..=272).contains(&kib) {
                0
            } else {
                1
            };
        } else if first == "Rss:" {
            let kb: u64 = f.next().and_then(|v| v.parse().ok()).unwrap_or(0);
            match kind {
                0 => stacks += kb,
                1 => heap += kb,
                _ => files += kb,
            }
        }
    }
    (stacks, heap, files)
}

/// The slow readers of `bench_busy_rotate`: one python3 process holding
/// `n` WebSocket connections, each with a 4 KiB receive buffer, taking at
/// most 1 KiB from each every 100 ms (about 10 KB/s each), so that they
/// fall behind a writer of 120 KB/s and the server blocks in its writes
/// to them. It ends when its standard input closes.
const SLOW_READERS_PY: &str = r#"
import socket, sys, time, base64, os, select
port, target, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
socks = []
for i in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n" % (target, port, key)).encode())
    head = b""
    while b"\r\n\r\n" not in head:
        b = s.recv(1)
        if not b:
            sys.exit("slow reader: closed during the handshake")
        head += b
    if b" 101 " not in head.split(b"\r\n")[0]:
        sys.exit("slow reader: " + head.split(b"\r\n")[0].decode())
    s.setblocking(False)
    socks.append(s)
print("ready", flush=True)
got = 0
while True:
    r, _, _ = select.select([sys.stdin], [], [], 0.1)
    if r and not sys.stdin.read(1):
        break
    for s in socks:
        try:
            b = s.recv(1024)
            got += len(b)
        except BlockingIOError:
            pass
print("got", got, flush=True)
"#;

/// Issue 21.7, the soak's shape: `n` followers of one file appended at
/// `WSTAIL_BENCH_RATE` lines/s (default 1000) for `WSTAIL_BENCH_SECS`
/// (default 60), the file rotated every 2 s by the real `logrotate`
/// (`WSTAIL_BENCH_ROTATE`: `compress` — the default, rename and gzip at
/// once —, `delaycompress`, `copytruncate` or `rename`), `slow` of the
/// followers slow readers (`SLOW_READERS_PY`). The server's VmRSS idle,
/// at the end of the busy phase, its peak, and after the followers left.
/// `WSTAIL_BENCH_WRAP` runs the server under a wrapper (`heaptrack`,
/// `valgrind --tool=massif`) to see where its memory goes.
fn bench_busy_rotate(report: &mut Report, dir: &TempDir, n: usize, slow: usize) {
    let env_u64 = |k: &str, d: u64| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let lines_per_sec = env_u64("WSTAIL_BENCH_RATE", 1000);
    let secs = env_u64("WSTAIL_BENCH_SECS", 60);
    let how = std::env::var("WSTAIL_BENCH_ROTATE").unwrap_or_else(|_| "compress".into());
    let arenas = std::env::var("MALLOC_ARENA_MAX").unwrap_or_else(|_| "glibc default".into());
    // Unset, the server sets its own (`MALLOC_TUNABLES`); set, it keeps
    // the operator's: `GLIBC_TUNABLES=glibc.malloc.tcache_count=7` is
    // glibc's default, to compare.
    let tunables = std::env::var("GLIBC_TUNABLES").unwrap_or_else(|_| "the server's".into());
    if Command::new("logrotate").arg("--version").output().is_err() {
        report.add(
            "busy followers through logrotate rotations",
            "skipped: no logrotate".into(),
            "",
            "",
            "",
            None,
        );
        return;
    }
    eprintln!(
        "busy-rotate: {n} followers ({slow} slow), {lines_per_sec} lines/s for {secs} s, \
         logrotate {how} every 2 s, MALLOC_ARENA_MAX {arenas}, GLIBC_TUNABLES {tunables} …"
    );
    let logs = dir.join("rotate");
    let _ = fs::remove_dir_all(&logs);
    fs::create_dir_all(&logs).unwrap();
    let file = logs.join("app.log");
    make_file(&file, 2000 * LINE as u64);
    let options = match how.as_str() {
        "compress" => "compress\n    create",
        "delaycompress" => "compress\n    delaycompress\n    create",
        "copytruncate" => "compress\n    delaycompress\n    copytruncate",
        _ => "create",
    };
    let conf = logs.join("logrotate.conf");
    fs::write(
        &conf,
        format!(
            "{} {{\n    rotate 20\n    missingok\n    {options}\n}}\n",
            file.display()
        ),
    )
    .unwrap();
    let state = logs.join("logrotate.state");
    let max = (n + 100).to_string();
    let wrap = std::env::var("WSTAIL_BENCH_WRAP").unwrap_or_default();
    let wrapper: Vec<&str> = wrap.split_whitespace().collect();
    let server = Server::start_wrapped(
        &wrapper,
        "127.0.0.1:0",
        &[
            "--root",
            dir.path().to_str().unwrap(),
            "--max-clients",
            &max,
            "--max-per-address",
            "0",
        ],
    );
    let pid = server.pid();
    let crowd = Crowd::connect(&server, &file, n - slow, Instant::now());
    let all_ready = crowd.wait(&crowd.ready, n - slow, Duration::from_secs(120));
    let mut readers = Command::new("python3")
        .args([
            "-c",
            SLOW_READERS_PY,
            &server.port.to_string(),
            &format!("{}?tail=1&format=text", url_path(&file)),
            &slow.to_string(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start python3 (the slow readers)");
    let mut out = readers.stdout.take().unwrap();
    let mut first = [0u8; 6];
    let slow_ready = out.read_exact(&mut first).is_ok() && &first == b"ready\n";
    thread::sleep(Duration::from_secs(2));
    let idle_kb = vm_rss_kb(pid);
    let parts_idle = rss_parts(pid);
    let cpu0 = cpu(&server);
    let t = Instant::now();
    let mut written = 0u64;
    let mut peak_kb = idle_kb;
    let mut rotations = 0;
    let mut next_rotation = Duration::from_secs(2);
    let mut samples = Vec::new();
    while t.elapsed() < Duration::from_secs(secs) {
        let due = (t.elapsed().as_secs_f64() * lines_per_sec as f64) as u64;
        let mut batch = Vec::new();
        while written < due {
            batch.extend_from_slice(format!("{written:08} {}\n", "r".repeat(LINE - 10)).as_bytes());
            written += 1;
        }
        append(&file, &batch);
        if t.elapsed() >= next_rotation {
            next_rotation += Duration::from_secs(2);
            let ok = Command::new("logrotate")
                .args(["-f", "-s"])
                .arg(&state)
                .arg(&conf)
                .status()
                .is_ok_and(|s| s.success());
            rotations += usize::from(ok);
        }
        let rss = vm_rss_kb(pid);
        peak_kb = peak_kb.max(rss);
        if samples.len() < (t.elapsed().as_secs() / 10) as usize + 1 {
            samples.push(rss);
        }
        thread::sleep(Duration::from_millis(10));
    }
    let busy_kb = vm_rss_kb(pid);
    let parts_busy = rss_parts(pid);
    if !wrapper.is_empty() {
        // A profiler writes its findings when the server ends normally.
        let _ = Command::new("kill").arg(pid.to_string()).status();
        thread::sleep(Duration::from_secs(5));
    }
    let cpu_pct = (cpu(&server) - cpu0).as_secs_f64() / t.elapsed().as_secs_f64() * 100.0;
    let failed = crowd.failed.lock().unwrap().clone();
    crowd.end();
    drop(readers.stdin.take());
    let mut rest = String::new();
    let _ = out.read_to_string(&mut rest);
    let _ = readers.wait();
    thread::sleep(Duration::from_secs(3));
    let after_kb = vm_rss_kb(pid);
    let mb = |kb: u64| kb as f64 / 1024.0;
    eprintln!(
        "  VmRSS in MB (thread stacks + allocator + files): idle {:.1} + {:.1} + {:.1}, \
         busy {:.1} + {:.1} + {:.1}",
        mb(parts_idle.0),
        mb(parts_idle.1),
        mb(parts_idle.2),
        mb(parts_busy.0),
        mb(parts_busy.1),
        mb(parts_busy.2)
    );
    report.add(
        &format!(
            "{n} busy followers ({slow} slow readers), {lines_per_sec} lines/s for {secs} s, \
             logrotate {how} every 2 s, MALLOC_ARENA_MAX {arenas}, GLIBC_TUNABLES {tunables}: \
             server memory"
        ),
        format!(
            "VmRSS {:.1} MB idle → {:.1} MB after {secs} s ({rotations} rotations; peak {:.1}; \
             every 10 s: {}) → {:.1} MB after they left; server {cpu_pct:.0}% CPU{}{}",
            mb(idle_kb),
            mb(busy_kb),
            mb(peak_kb),
            samples
                .iter()
                .map(|&k| format!("{:.1}", mb(k)))
                .collect::<Vec<_>>()
                .join(" "),
            mb(after_kb),
            if all_ready && slow_ready {
                ""
            } else {
                "; not all served"
            },
            failed
                .first()
                .map_or(String::new(), |f| format!("; a follower failed: {f}")),
        ),
        "",
        &format!(
            "{:.1} KB/follower busy ({:.1} at the peak), {:.1} idle; slow readers: {}",
            busy_kb as f64 / n as f64,
            peak_kb as f64 / n as f64,
            idle_kb as f64 / n as f64,
            rest.trim()
        ),
        "",
        None,
    );
    show_warnings(&server);
    drop(server);
    let _ = fs::remove_dir_all(&logs);
}

// --------------------------------------------------------------- history --

/// One request that sends a window and closes: connect → close, and the
/// lines it sent.
fn window(url: &str) -> (Duration, usize) {
    let t = Instant::now();
    let mut ws = connect(url);
    let mut lines = 0;
    loop {
        match ws.read() {
            Ok(Message::Text(t)) => lines += t.as_bytes().iter().filter(|&&b| b == b'\n').count(),
            Ok(Message::Close(_)) | Err(_) => break,
            Ok(_) => {}
        }
    }
    (t.elapsed(), lines)
}

fn bench_before(report: &mut Report, dir: &TempDir, quick: bool) {
    eprintln!("before= …");
    let (size, label) = if quick {
        (200_000_000u64, "200 MB")
    } else {
        (1_000_000_000, "1 GB")
    };
    let runs = if quick { 10 } else { 30 };
    let path = dir.join("before.log");
    let t = Instant::now();
    make_file(&path, size);
    eprintln!("  made {label} in {:.1}s", t.elapsed().as_secs_f64());
    let server = Server::rooted(dir.path(), &[]);
    let plain = server.ws_url(&path, "?format=text&lines=1000");
    let points = [10u64, 50, 90];
    let urls: Vec<String> = points
        .iter()
        .map(|p| {
            let before = size / 100 * p;
            server.ws_url(&path, &format!("?format=text&lines=1000&before={before}"))
        })
        .collect();
    let mut theirs = Vec::new();
    let mut ours: Vec<Vec<Duration>> = vec![Vec::new(); points.len()];
    // Warm up, then measure alternately.
    for i in 0..runs + 2 {
        let (took, lines) = window(&plain);
        assert_eq!(lines, 1000);
        for (k, url) in urls.iter().enumerate() {
            let (t, lines) = window(url);
            assert_eq!(lines, 1000);
            if i >= 2 {
                ours[k].push(t);
            }
        }
        if i >= 2 {
            theirs.push(took);
        }
    }
    let t = median(&mut theirs);
    for (k, p) in points.iter().enumerate() {
        let o = median(&mut ours[k]);
        let ratio = o.as_secs_f64() / t.as_secs_f64();
        report.add(
            &format!("before= at {p} % of {label}, 1000 lines (median of {runs})"),
            ms(o),
            &format!("plain tail: {}", ms(t)),
            &format!("{ratio:.2}×"),
            "≤ 2× the plain tail",
            Some(ratio <= 2.0),
        );
    }
    show_warnings(&server);
    drop(server);
    fs::remove_file(&path).unwrap();
}

fn bench_filter(report: &mut Report, dir: &TempDir, quick: bool) {
    eprintln!("filter …");
    let (size, label) = if quick {
        (200_000_000u64, "200 MB")
    } else {
        (1_000_000_000, "1 GB")
    };
    let runs = if quick { 3 } else { 7 };
    // No generated line holds it, so the scan covers the whole file.
    let text = "OutOfMemoryError";
    let path = dir.join("filter.log");
    let t = Instant::now();
    make_file(&path, size);
    eprintln!("  made {label} in {:.1}s", t.elapsed().as_secs_f64());
    let server = Server::rooted(dir.path(), &[]);
    let url = server.ws_url(&path, &format!("?format=text&lines=1000&match={text}"));
    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    for i in 0..runs + 1 {
        let (took, lines) = window(&url);
        assert_eq!(lines, 0);
        let t = Instant::now();
        let out = Command::new("grep")
            .args(["-c", "-F", "-i", text])
            .arg(&path)
            .output()
            .unwrap();
        let took_grep = t.elapsed();
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "0");
        if i >= 1 {
            ours.push(took);
            theirs.push(took_grep);
        }
    }
    let (o, t) = (median(&mut ours), median(&mut theirs));
    let ratio = o.as_secs_f64() / t.as_secs_f64();
    report.add(
        &format!("match= no line holds, {label} (median of {runs})"),
        format!(
            "{} ({:.1} GB/s)",
            ms(o),
            size as f64 / o.as_secs_f64() / 1e9
        ),
        &format!("grep -c -F -i: {}", ms(t)),
        &format!("{ratio:.2}×"),
        "≤ 2× grep",
        Some(ratio <= 2.0),
    );
    show_warnings(&server);
    drop(server);
    fs::remove_file(&path).unwrap();
}

/// `?timeline` of 120 buckets over a log of `size` bytes plus five plain
/// generations of a fifth of it each: time to the answer and block reads
/// (from the server's debug log), next to reading the same files once with
/// `wc -l` (the bound a full scan cannot beat) and lnav's histogram.
fn bench_timeline(report: &mut Report, dir: &TempDir, quick: bool) {
    eprintln!("timeline …");
    let (size, label) = if quick {
        (200_000_000u64, "200 MB + 5 × 40 MB")
    } else {
        (1_000_000_000, "1 GB + 5 × 200 MB")
    };
    let runs = if quick { 5 } else { 11 };
    let sub = dir.join("timeline");
    fs::create_dir_all(&sub).unwrap();
    let path = sub.join("app.log");
    let t = Instant::now();
    // Generation k (5 the oldest) holds the lines of day 6 - k, so that the
    // chain is one history, oldest first.
    let mut files = Vec::new();
    for k in (0..=5u64).rev() {
        let name = if k == 0 {
            path.clone()
        } else {
            sub.join(format!("app.log.{k}"))
        };
        let bytes = if k == 0 { size } else { size / 5 };
        let lines = bytes / LINE as u64;
        let mut f = File::create(&name).unwrap();
        let mut buf = Vec::with_capacity(1 << 20);
        let mut n = 0;
        while n < lines {
            buf.clear();
            while buf.len() + LINE <= 1 << 20 && n < lines {
                let start = buf.len();
                let secs = (6 - k) * 86_400 + n * 86_400 / lines;
                let _ = write!(
                    buf,
                    "2026-01-{:02}T{:02}:{:02}:{:02}Z INFO request {n:010} ",
                    1 + secs / 86_400,
                    secs / 3600 % 24,
                    secs / 60 % 60,
                    secs % 60
                );
                let used = buf.len() - start;
                buf.extend(std::iter::repeat_n(b'x', LINE - 1 - used));
                buf.push(b'\n');
                n += 1;
            }
            f.write_all(&buf).unwrap();
        }
        drop(f);
        // Older generations older on disk too (the chain's order).
        let ok = Command::new("touch")
            .arg("-d")
            .arg(format!("2026-01-{:02} 23:59:59Z", 7 - k))
            .arg(&name)
            .status()
            .unwrap();
        assert!(ok.success());
        files.push(name);
    }
    eprintln!("  made {label} in {:.1}s", t.elapsed().as_secs_f64());
    let log = dir.join("timeline-server.log");
    let log_arg = log.to_string_lossy().into_owned();
    let server = Server::rooted(&sub, &["--log-level", "debug", "--log-file", &log_arg]);
    // The range the log spans (its six days), so that every bucket edge
    // falls inside some file: the default range runs to now and would put
    // the whole log into a few buckets.
    let target = format!(
        "{}?timeline&buckets=120&since=2026-01-01T00:00:00Z&until=2026-01-07T00:00:00Z",
        common::url_path(&path)
    );
    let mut v: Vec<Duration> = (0..runs + 2)
        .map(|_| {
            let t = Instant::now();
            let (status, text) = server.get(&target);
            assert_eq!(status, 200, "{text}");
            t.elapsed()
        })
        .skip(2)
        .collect();
    let ours = median(&mut v);
    let reads: Vec<u64> = fs::read_to_string(&log)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let at = l.find(" block reads")?;
            l[..at].rsplit(' ').next()?.parse().ok()
        })
        .collect();
    let reads = reads.last().copied().unwrap_or(0);
    // The server's own time for the work (its debug line), without the
    // connection and the HTTP exchange.
    let mut inside: Vec<f64> = fs::read_to_string(&log)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let at = l.find(" block reads in ")?;
            l[at + 16..].split(' ').next()?.parse().ok()
        })
        .collect();
    inside.sort_by(f64::total_cmp);
    let inside = inside.get(inside.len() / 2).copied().unwrap_or(0.0);
    let mut w: Vec<Duration> = (0..runs.min(5) + 1)
        .map(|_| {
            let t = Instant::now();
            let out = Command::new("wc").arg("-l").args(&files).output().unwrap();
            assert!(out.status.success());
            t.elapsed()
        })
        .skip(1)
        .collect();
    let wc = median(&mut w);
    let ratio = ours.as_secs_f64() / wc.as_secs_f64();
    report.add(
        &format!(
            "timeline, 120 buckets, {label}: answer (median of {runs}; {reads} block reads, {inside:.1} ms of it in the search)"
        ),
        ms(ours),
        &format!("wc -l {}", ms(wc)),
        &format!("{ratio:.4}×"),
        "≤ 0.01×",
        Some(ratio <= 0.01),
    );
    // lnav reads and indexes every line before its histogram can show.
    if Command::new("lnav").arg("-V").output().is_ok() {
        let t = Instant::now();
        let out = Command::new("timeout")
            .arg("300")
            .arg("lnav")
            .arg("-n")
            .arg("-c")
            .arg(":switch-to-view histogram")
            .args(&files)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let lnav = t.elapsed();
        let ok = out.map(|s| s.success()).unwrap_or(false);
        report.row(
            &format!("timeline, {label}: lnav's histogram (lnav -n, one run)"),
            ms(ours),
            &format!(
                "lnav {}{}",
                ms(lnav),
                if ok { "" } else { " (failed or timed out)" }
            ),
            &format!("{:.4}×", ours.as_secs_f64() / lnav.as_secs_f64()),
            "",
        );
    }
    for f in files {
        let _ = fs::remove_file(f);
    }
}

// ------------------------------------------------------------------ gzip --

/// `gzip -c SRC > DST` (default level, as logrotate runs it).
fn gzip_to(src: &Path, dst: &Path) {
    let out = File::create(dst).unwrap();
    let ok = Command::new("gzip")
        .arg("-c")
        .arg(src)
        .stdout(out)
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "gzip -c {}", src.display());
}

/// Wall time of a shell pipeline (for the tools' side).
fn timed_sh(script: &str) -> Duration {
    let t = Instant::now();
    let ok = Command::new("sh")
        .args(["-c", script])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success() || s.code() == Some(1));
    assert!(ok, "{script}");
    t.elapsed()
}

/// One window with `meta=1`: connect → close, its lines and its first
/// byte (the next page is `before=` it).
fn window_meta(url: &str) -> (Duration, usize, u64) {
    let t = Instant::now();
    let mut ws = connect(url);
    let (mut lines, mut first) = (0, None);
    loop {
        match ws.read() {
            Ok(Message::Text(t)) => lines += t.as_bytes().iter().filter(|&&b| b == b'\n').count(),
            Ok(Message::Binary(b)) if first.is_none() => {
                let s = String::from_utf8_lossy(&b);
                first = s
                    .split("\"offset\":")
                    .nth(1)
                    .and_then(|r| r.split([',', '}']).next())
                    .and_then(|n| n.parse().ok());
            }
            Ok(Message::Close(_)) | Err(_) => break,
            Ok(_) => {}
        }
    }
    (t.elapsed(), lines, first.unwrap_or(0))
}

/// gzip generations, next to the tools and to a plain file: inflating
/// throughput against `gzip -dc`; paging back page by page through a gzip
/// file (after its first pass) against the same pages of the plain file;
/// `since=` into the eighth of 14 gzip generations against `zcat | grep
/// -m1`; a `match=` no line holds over a gzip file against `zgrep -c -F -i`;
/// the server's RSS with the restart points' bound. The files are smaller
/// than the issue's (150 MB, 14 × 10 MB instead of 500 MB, 14 × 100 MB,
/// 1 GB): the machine is shared.
fn bench_gzip(report: &mut Report, dir: &TempDir, quick: bool) {
    eprintln!("gzip …");
    let size: u64 = if quick { 50_000_000 } else { 150_000_000 };
    let label = format!("{} MB", size / 1_000_000);
    let plain = dir.join("gz-plain.log");
    let gz = dir.join("gz.log");
    let t = Instant::now();
    make_file(&plain, size);
    gzip_to(&plain, &gz);
    let gz_len = fs::metadata(&gz).unwrap().len();
    eprintln!(
        "  made {label} and its gzip ({:.1} MB) in {:.1}s",
        gz_len as f64 / MB,
        t.elapsed().as_secs_f64()
    );

    // Inflating: one pass through the file, as the server's first reading.
    let theirs = timed_sh(&format!("gzip -dc '{}' > /dev/null", gz.display()));
    let t = Instant::now();
    let g = wstail::history::source::GzFile::new(File::open(&gz).unwrap()).unwrap();
    let n = g.size().unwrap();
    let ours = t.elapsed();
    assert_eq!(n, fs::metadata(&plain).unwrap().len());
    let (o, r) = (
        n as f64 / MB / ours.as_secs_f64(),
        n as f64 / MB / theirs.as_secs_f64(),
    );
    report.add(
        &format!("inflating {label} (one pass, CRC checked)"),
        format!("{o:.0} MB/s"),
        &format!("gzip -dc: {r:.0} MB/s"),
        &format!("{:.2}×", o / r),
        "≥ 1×",
        Some(o >= r),
    );
    drop(g);

    // Paging back: the first request pays the first pass; then pages.
    let server = Server::rooted(dir.path(), &[]);
    let pid = server.pid();
    let rss_before = vm_rss_kb(pid);
    let page = |path: &Path, before: Option<u64>| {
        let q = match before {
            Some(b) => format!("?format=text&meta=1&lines=1000&before={b}"),
            None => "?format=text&meta=1&lines=1000".to_string(),
        };
        window_meta(&server.ws_url(path, &q))
    };
    let (first, lines, _) = page(&gz, None);
    assert_eq!(lines, 1000);
    report.row(
        &format!("gzip {label}: first request (the first pass, restart points made)"),
        ms(first),
        "",
        "",
        "",
    );
    let pages = if quick { 20 } else { 60 };
    let walk = |path: &Path, from: Option<u64>| -> Vec<Duration> {
        let mut at = from;
        let mut took = Vec::new();
        for _ in 0..pages {
            let (t, lines, first) = page(path, at);
            assert_eq!(lines, 1000, "{}", path.display());
            took.push(t);
            at = Some(first);
        }
        took
    };
    for (what, from) in [("from the end", None), ("from the middle", Some(size / 2))] {
        let mut g = walk(&gz, from);
        let mut p = walk(&plain, from);
        let (gm, pm) = (median(&mut g), median(&mut p));
        let ratio = gm.as_secs_f64() / pm.as_secs_f64();
        report.add(
            &format!("paging back {what} of gzip {label}, 1000 lines a page (median of {pages})"),
            format!("{} (p90 {})", ms(gm), ms(percentile(&mut g, 0.9))),
            &format!("plain file: {}", ms(pm)),
            &format!("{ratio:.2}×"),
            "≤ 2× the plain file",
            Some(ratio <= 2.0),
        );
    }

    // A match= no line holds, over the whole gzip file.
    let text = "OutOfMemoryError";
    let q = format!("?format=text&lines=1&match={text}");
    let (ours, _, _) = window_meta(&server.ws_url(&gz, &q));
    let theirs = timed_sh(&format!("zgrep -c -F -i {text} '{}'", gz.display()));
    let ratio = ours.as_secs_f64() / theirs.as_secs_f64();
    report.add(
        &format!("match= (no line matches) over gzip {label}, after its first pass"),
        ms(ours),
        &format!("zgrep -c -F -i: {}", ms(theirs)),
        &format!("{ratio:.2}×"),
        "≤ 1×",
        Some(ratio <= 1.0),
    );
    let rss = vm_rss_kb(pid);
    let (points, held) = wstail::follow::restart::held();
    report.row(
        "server RSS after the gzip requests",
        format!("{:.1} MB", rss as f64 / 1024.0),
        &format!("{:.1} MB before", rss_before as f64 / 1024.0),
        "",
        &format!(
            "restart points bound {} MiB (this process held {points}, {:.1} MB)",
            wstail::limits::GZIP_RESTART_MEMORY >> 20,
            held as f64 / MB
        ),
    );
    show_warnings(&server);
    drop(server);
    fs::remove_file(&plain).unwrap();
    fs::remove_file(&gz).unwrap();

    // since= into the eighth of 14 daily gzip generations.
    let per: u64 = if quick { 2_000_000 } else { 10_000_000 };
    let lines_per = per / LINE as u64;
    let sdir = TempDir::new("bench-since-gz");
    let log = sdir.join("app.log");
    let mut buf = Vec::new();
    for k in (1..=14u64).rev() {
        // app.log.14.gz is the oldest.
        let first = (14 - k) * lines_per;
        buf.clear();
        for n in first..first + lines_per {
            make_stamped_line(n, &mut buf);
        }
        let p = sdir.join(&format!("app.log.{k}"));
        fs::write(&p, &buf).unwrap();
        gzip_to(&p, &sdir.join(&format!("app.log.{k}.gz")));
        fs::remove_file(&p).unwrap();
        let gzp = sdir.join(&format!("app.log.{k}.gz"));
        File::options()
            .write(true)
            .open(&gzp)
            .unwrap()
            .set_modified(std::time::SystemTime::now() - Duration::from_secs(86_400 * k))
            .unwrap();
    }
    buf.clear();
    for n in 14 * lines_per..14 * lines_per + 1000 {
        make_stamped_line(n, &mut buf);
    }
    fs::write(&log, &buf).unwrap();
    // The eighth oldest is app.log.7.gz; T in its middle.
    let eighth = sdir.join("app.log.7.gz");
    let n = 7 * lines_per + lines_per / 2;
    let server = Server::rooted(sdir.path(), &[]);
    let first_message = || -> Duration {
        let t = Instant::now();
        let url = server.ws_url(&log, &format!("?format=text&since={}", stamp(n)));
        let mut ws = connect(&url);
        loop {
            match ws.read() {
                Ok(Message::Text(_) | Message::Close(_)) | Err(_) => break,
                Ok(_) => {}
            }
        }
        t.elapsed()
    };
    let cold = first_message();
    let mut warm: Vec<Duration> = (0..5).map(|_| first_message()).collect();
    let warm = median(&mut warm);
    let theirs = timed_sh(&format!(
        "zcat '{}' | grep -m1 -F '{}'",
        eighth.display(),
        stamp(n)
    ));
    let total = format!("14 × {} MB", per / 1_000_000);
    for (what, t) in [("first time", cold), ("again (median of 5)", warm)] {
        let ratio = t.as_secs_f64() / theirs.as_secs_f64();
        report.add(
            &format!("since= into the 8th of {total} gzip generations, {what}: first message"),
            ms(t),
            &format!("zcat | grep -m1 on that file: {}", ms(theirs)),
            &format!("{ratio:.2}×"),
            "≤ 0.25×",
            Some(ratio <= 0.25),
        );
    }
    show_warnings(&server);
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let quick = args.iter().any(|a| a == "quick");
    let parts: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| *a != "quick")
        .collect();
    let run = |p: &str| parts.is_empty() || parts.contains(&p);
    let dir = TempDir::new("bench");
    let mut report = Report::default();
    let started = Instant::now();
    eprintln!("wstail bench: {BIN}");
    if run("tail") {
        bench_tail(&mut report, &dir, quick);
    }
    if run("since") {
        bench_since(&mut report, &dir, quick);
    }
    if run("throughput") {
        bench_throughput(&mut report, &dir, quick);
    }
    if run("latency") {
        bench_latency(&mut report, &dir, quick);
    }
    if run("fanout") || run("fanout1") {
        bench_fanout(&mut report, &dir, 1000, None);
    }
    if run("fanout") || run("fanout005") {
        bench_fanout(&mut report, &dir, 1000, Some(0.05));
    }
    if run("busy") {
        bench_fanout_busy(&mut report, &dir, 300);
    }
    if parts.contains(&"busy-rotate") {
        // Not in a plain `cargo bench`: a minute of logrotate, on demand.
        let n = std::env::var("WSTAIL_BENCH_FOLLOWERS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(300);
        let slow = std::env::var("WSTAIL_BENCH_SLOW")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(n / 10);
        bench_busy_rotate(&mut report, &dir, n, slow);
    }
    if run("10k") {
        let (soft, hard) = open_file_limit();
        let n = 10_000usize;
        let need = 2 * n as u64 + 64;
        if soft >= need {
            bench_fanout(&mut report, &dir, n, None);
        } else {
            let fit = ((soft.saturating_sub(64)) / 2) as usize;
            report.add(
                &format!("fan-out, {n} followers"),
                format!("skipped: ulimit -n is {soft} (hard {hard}), {need} needed"),
                "",
                "",
                "served when ulimit -n allows",
                None,
            );
            if fit >= 2000 {
                bench_fanout(&mut report, &dir, fit.min(n), None);
            }
        }
    }
    if run("before") {
        bench_before(&mut report, &dir, quick);
    }
    if run("filter") {
        bench_filter(&mut report, &dir, quick);
    }
    if run("timeline") {
        bench_timeline(&mut report, &dir, quick);
    }
    if run("gzip") {
        bench_gzip(&mut report, &dir, quick);
    }
    if run("merge") {
        bench_merge(&mut report, &dir, quick);
    }
    println!();
    println!(
        "wstail benchmark ({} cores, {:.0} s){}",
        thread::available_parallelism().map_or(0, |n| n.get()),
        started.elapsed().as_secs_f64(),
        if quick { ", quick" } else { "" }
    );
    report.print();
}
