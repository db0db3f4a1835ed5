//! `?timeline`: bytes per bucket exact to a line boundary over a log and
//! its generations (plain and gzip, compressed by the real `gzip`), lines
//! estimated, the default range, and the refusals (400, 401, 403, 422).
use crate::common::*;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn body(text: &str) -> &str {
    text.split_once("\r\n\r\n").map_or("", |(_, b)| b)
}

/// The numbers of a JSON array field `"name":[…]` (the first one).
fn numbers(json: &str, name: &str) -> Vec<u64> {
    let key = format!("\"{name}\":[");
    let Some(at) = json.find(&key) else {
        panic!("no {name} in {json}");
    };
    let rest = &json[at + key.len()..];
    let end = rest.find(']').unwrap_or(rest.len());
    rest[..end]
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect()
}

/// A line stamped at `hour:minute:second` of 2026-11-30, UTC.
fn line(h: u32, m: u32, s: u32, text: &str) -> String {
    format!("2026-11-30T{h:02}:{m:02}:{s:02}Z {text}\n")
}

fn touch(path: &Path, when: &str) {
    let ok = Command::new("touch")
        .arg("-d")
        .arg(when)
        .arg(path)
        .status()
        .unwrap();
    assert!(ok.success());
}

/// Three files of one log: `app.log.2.gz` (hours 9–11, gzipped by the real
/// gzip), `app.log.1` (a silent hour 12, then a burst with tracebacks at
/// 13), `app.log` (hours 14–16). Returns the bytes each hour 10–15 holds.
fn write_log(dir: &TempDir) -> [u64; 6] {
    let mut hours = [0u64; 6];
    let mut count = |h: u32, l: &str| {
        if (10..16).contains(&h) {
            hours[(h - 10) as usize] += l.len() as u64;
        }
    };
    let mut gen2 = String::new();
    for m in 50..55 {
        let l = line(9, m, 0, "before the range");
        count(9, &l);
        gen2.push_str(&l);
    }
    for m in 0..60 {
        let l = line(10, m, 7, "one a minute");
        count(10, &l);
        gen2.push_str(&l);
    }
    for i in 0..30 {
        let l = line(11, i * 2, 0, "one every two minutes");
        count(11, &l);
        gen2.push_str(&l);
    }
    let mut gen1 = String::new();
    for i in 0..200 {
        let l = line(13, i / 20, i % 20, "burst")
            + "Traceback (most recent call last):\n  File \"x.py\"\n";
        count(13, &l);
        gen1.push_str(&l);
    }
    let mut cur = String::new();
    for i in 0..10 {
        let l = line(14, i * 6, 0, "quiet");
        count(14, &l);
        cur.push_str(&l);
    }
    for i in 0..100 {
        let l = line(15, i / 2, (i % 2) * 30, "busy");
        count(15, &l);
        cur.push_str(&l);
    }
    for m in 30..35 {
        let l = line(16, m, 0, "after the range");
        count(16, &l);
        cur.push_str(&l);
    }
    std::fs::write(dir.join("root/app.log.2"), gen2).unwrap();
    let ok = Command::new("gzip")
        .arg(dir.join("root/app.log.2"))
        .status()
        .unwrap();
    assert!(ok.success(), "gzip");
    std::fs::write(dir.join("root/app.log.1"), gen1).unwrap();
    std::fs::write(dir.join("root/app.log"), cur).unwrap();
    touch(&dir.join("root/app.log.2.gz"), "2026-11-30 12:00:00Z");
    touch(&dir.join("root/app.log.1"), "2026-11-30 14:00:00Z");
    touch(&dir.join("root/app.log"), "2026-11-30 17:00:00Z");
    hours
}

fn setup(args: &[&str]) -> (TempDir, Server, [u64; 6]) {
    let dir = TempDir::new("timeline");
    std::fs::create_dir_all(dir.join("root")).unwrap();
    let hours = write_log(&dir);
    std::fs::write(dir.join("root/plain.txt"), "no\ntimestamps\nhere\n").unwrap();
    std::fs::write(dir.join("outside.log"), line(10, 0, 0, "outside")).unwrap();
    let s = Server::rooted(&dir.join("root"), args);
    (dir, s, hours)
}

#[test]
fn buckets_hold_the_bytes_of_their_lines_across_generations() {
    let _w = watchdog(Duration::from_secs(60));
    let (dir, s, hours) = setup(&[]);
    let path = url_path(&dir.join("root/app.log"));
    let (status, text) = s.get(&format!(
        "{path}?timeline&buckets=6&since=2026-11-30T10:00:00Z&until=2026-11-30T16:00:00Z"
    ));
    assert_eq!(status, 200, "{text}");
    let json = body(&text);
    assert!(json.starts_with("{\"from\":\"2026-11-30T10:00:00Z\",\"to\":\"2026-11-30T16:00:00Z\",\"bucket_seconds\":3600,"), "{json}");
    assert_eq!(numbers(json, "bytes"), hours.to_vec(), "{json}");
    let lines = numbers(json, "lines");
    assert_eq!(lines[2], 0, "the silent hour: {json}");
    for (k, (&b, &l)) in hours.iter().zip(&lines).enumerate() {
        assert_eq!(b == 0, l == 0, "bucket {k}: {json}");
    }
    assert!(text.contains("Content-Type: application/json"), "{text}");
}

#[test]
fn the_default_range_runs_from_the_oldest_line_to_now() {
    let _w = watchdog(Duration::from_secs(60));
    let (dir, s, _) = setup(&[]);
    let path = url_path(&dir.join("root/app.log"));
    let (status, text) = s.get(&format!("{path}?timeline"));
    assert_eq!(status, 200, "{text}");
    let json = body(&text);
    assert!(
        json.starts_with("{\"from\":\"2026-11-30T09:50:00Z\""),
        "{json}"
    );
    let bytes = numbers(json, "bytes");
    assert_eq!(bytes.len(), 120);
    let gen2 = {
        let out = Command::new("zcat")
            .arg(dir.join("root/app.log.2.gz"))
            .output()
            .unwrap();
        out.stdout.len() as u64
    };
    let plain = std::fs::metadata(dir.join("root/app.log.1")).unwrap().len()
        + std::fs::metadata(dir.join("root/app.log")).unwrap().len();
    assert_eq!(bytes.iter().sum::<u64>(), gen2 + plain, "{json}");
}

#[test]
fn refusals() {
    let _w = watchdog(Duration::from_secs(60));
    let (dir, s, _) = setup(&[]);
    let path = url_path(&dir.join("root/app.log"));
    for q in [
        "buckets=0",
        "buckets=1001",
        "since=2026-11-30T12:00:00Z&until=2026-11-30T11:00:00Z",
        "until=nonsense",
    ] {
        let (status, text) = s.get(&format!("{path}?timeline&{q}"));
        assert_eq!(status, 400, "{q}: {text}");
    }
    let (status, text) = s.get(&format!(
        "{}?timeline",
        url_path(&dir.join("root/plain.txt"))
    ));
    assert_eq!(status, 422, "{text}");
    assert!(text.contains("X-Wstail-Refusal: no-timestamps"), "{text}");
    let (status, _) = s.get(&format!("{}?timeline", url_path(&dir.join("outside.log"))));
    assert_eq!(status, 403);
    let (status, _) = s.get(&format!(
        "{}?timeline",
        url_path(&dir.join("root/nothere.log"))
    ));
    assert_eq!(status, 404);
}

#[test]
fn a_token_guards_the_timeline() {
    let _w = watchdog(Duration::from_secs(60));
    let (dir, s, _) = setup(&["--token", "s3cret"]);
    let path = url_path(&dir.join("root/app.log"));
    let (status, _) = s.get(&format!("{path}?timeline"));
    assert_eq!(status, 401);
    let (status, text) = s.get(&format!("{path}?timeline&token=s3cret"));
    assert_eq!(status, 200, "{text}");
}

/// A timeline takes its turn among the CPU-heavy requests (`--max-scans`):
/// behind a running filtered scan it waits, then answers.
#[test]
fn a_timeline_waits_its_turn_behind_a_scan() {
    let _w = watchdog(Duration::from_secs(120));
    let dir = TempDir::new("timeline-turn");
    std::fs::create_dir_all(dir.join("root")).unwrap();
    write_log(&dir);
    let (big, texts) = crate::scan::slow_scan(&dir);
    let log = dir.join("server.log");
    let log_arg = log.to_string_lossy().into_owned();
    let s = Server::rooted(
        dir.path(),
        &[
            "--max-scans",
            "1",
            "--log-level",
            "debug",
            "--log-file",
            &log_arg,
        ],
    );
    let mut scan = s.ws(&big, &format!("?format=text&meta=1&lines=1{texts}"));
    // The scan runs: its first progress frame came.
    match scan.next(Duration::from_secs(30)) {
        Got::Binary(_) => {}
        other => panic!("{other:?}"),
    }
    let path = url_path(&dir.join("root/app.log"));
    let (status, text) = s.get(&format!("{path}?timeline&buckets=6"));
    assert_eq!(status, 200, "{text}");
    let logged = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(logged.contains("waited its turn"), "{logged}");
    drop(scan);
}

/// The numbers of the `name` arrays of every source, in order.
fn all_numbers(json: &str, name: &str) -> Vec<Vec<u64>> {
    json.split("{\"path\":")
        .skip(1)
        .map(|source| numbers(source, name))
        .collect()
}

/// `/?timeline&merge=A&merge=B`: one source per file, each counted over
/// its own chain, in list order; the first file refused refuses the
/// request naming it.
#[test]
fn a_merged_timeline_counts_each_file() {
    let _w = watchdog(Duration::from_secs(60));
    let (dir, s, hours) = setup(&[]);
    let mut other = String::new();
    let mut want = [0u64; 6];
    for i in 0..40 {
        let l = line(12, i, 30, "the other log speaks in the silent hour");
        want[2] += l.len() as u64;
        other.push_str(&l);
    }
    std::fs::write(dir.join("root/other.log"), other).unwrap();
    let a = url_path(&dir.join("root/app.log"));
    let b = url_path(&dir.join("root/other.log"));
    let (status, text) = s.get(&format!(
        "/?timeline&merge={a}&merge={b}&buckets=6&since=2026-11-30T10:00:00Z&until=2026-11-30T16:00:00Z"
    ));
    assert_eq!(status, 200, "{text}");
    let json = body(&text);
    assert_eq!(
        all_numbers(json, "bytes"),
        vec![hours.to_vec(), want.to_vec()],
        "{json}"
    );
    assert!(json.contains("other.log"), "{json}");
    let outside = url_path(&dir.join("outside.log"));
    let (status, text) = s.get(&format!("/?timeline&merge={a}&merge={outside}"));
    assert_eq!(status, 403, "{text}");
    assert!(body(&text).contains(": merge= file 2 ("), "{text}");
    let plain = url_path(&dir.join("root/plain.txt"));
    let (status, text) = s.get(&format!("/?timeline&merge={plain}&merge={a}"));
    assert_eq!(status, 422, "{text}");
    assert!(body(&text).contains("plain.txt"), "{text}");
}
