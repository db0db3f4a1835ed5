//! `since=` on log files written by the real programs: Python's logging,
//! structlog, loguru, gunicorn, Flask, Django, uWSGI, pino, winston, bunyan,
//! Ruby's Logger, nginx, Apache, PHP-FPM, Redis, MariaDB, PostgreSQL, squid,
//! mosquitto, BIND, vsftpd and rsyslog (32 files),
//! each driven on 127.0.0.1 by tests/formats/produce.py in bursts two seconds
//! apart, under TZ=Europe/Paris. For each file, `since=` at three burst
//! seconds must land exactly where the burst's lines start, an offset the
//! producer script took from the file's size, not from the timestamps. A
//! producer not installed here is skipped with its reason printed (CI
//! installs them all and sets WSTAIL_FORMATS_REQUIRE=1, which makes a skip
//! a failure). The formats of programs that cannot run here (Go, Java,
//! journald, MongoDB, …) are written as documented, with the same check.
use crate::common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The producers, all at once, take about 15 s; a busy machine more.
const PRODUCE_LIMIT: Duration = Duration::from_secs(150);

/// Where the pip and npm packages are: a venv and a `node_modules` that
/// .ci/run makes (overridable for a run by hand).
fn formats_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/formats")
}

fn python() -> Option<PathBuf> {
    let venv = std::env::var_os("WSTAIL_FORMATS_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| formats_dir().join("venv"));
    let py = venv.join("bin/python");
    if py.exists() {
        return Some(py);
    }
    eprintln!(
        "since_formats: no venv at {} (the pip producers will be skipped)",
        venv.display()
    );
    let ok = Command::new("python3")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    ok.then(|| PathBuf::from("python3"))
}

/// Runs produce.py into `out`; false when it could not run.
fn produce(out: &Path) -> bool {
    let Some(py) = python() else {
        eprintln!("since_formats: skipped: python3 is not installed");
        return false;
    };
    let node = std::env::var_os("WSTAIL_FORMATS_NODE")
        .map(PathBuf::from)
        .unwrap_or_else(|| formats_dir().join("node_modules"));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/formats/produce.py");
    let mut child = Command::new(py)
        .arg(script)
        .arg(out)
        .env("WSTAIL_FORMATS_NODE", node)
        .stdin(Stdio::null())
        .spawn()
        .expect("start produce.py");
    let began = Instant::now();
    loop {
        match child.try_wait().expect("wait for produce.py") {
            Some(status) => {
                assert!(status.success(), "produce.py failed: {status}");
                return true;
            }
            None if began.elapsed() > PRODUCE_LIMIT => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("produce.py still running after {PRODUCE_LIMIT:?}");
            }
            None => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

/// Percent-encodes a query value.
fn enc(v: &str) -> String {
    v.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._:".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// What `since=T` sent: the text to the close, or the refusal's status.
fn since(s: &Server, f: &Path, t: &str) -> Result<String, String> {
    let url = s.ws_url(f, &format!("?format=text&since={}", enc(t)));
    match Ws::try_connect(&url) {
        Ok(mut ws) => {
            let (text, code) = ws.text_to_close(Duration::from_secs(20));
            match code {
                Some(1000) => Ok(text),
                other => Err(format!("closed with {other:?}")),
            }
        }
        Err(tungstenite::Error::Http(r)) => Err(format!("{}", r.status().as_u16())),
        Err(e) => Err(format!("{e}")),
    }
}

#[test]
fn since_lands_on_the_first_line_at_or_after_t_in_real_programs_logs() {
    let _w = watchdog(Duration::from_secs(240));
    let dir = TempDir::new("since-formats");
    if !produce(dir.path()) {
        return;
    }
    let manifest = std::fs::read_to_string(dir.join("manifest.tsv")).expect("manifest");
    let require = std::env::var("WSTAIL_FORMATS_REQUIRE").is_ok_and(|v| v == "1");
    let s = Server::rooted(dir.path(), &["--interval", "0.1"]);

    // Per file: how many points landed right, answered 422, landed wrong.
    let mut files: Vec<(String, usize, usize, usize)> = Vec::new();
    let mut problems = Vec::new();
    for line in manifest.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        match f.as_slice() {
            ["ok", name, file, t, offset] => {
                let path = dir.join(file);
                let content = std::fs::read(&path).expect("read the produced file");
                let offset: usize = offset.parse().expect("offset");
                let want = String::from_utf8_lossy(&content[offset..]).into_owned();
                if !files.iter().any(|e| e.0 == *name) {
                    files.push((name.to_string(), 0, 0, 0));
                }
                let entry = files.iter_mut().find(|e| e.0 == *name).unwrap();
                match since(&s, &path, t) {
                    Ok(got) if got == want => entry.1 += 1,
                    Ok(got) => {
                        entry.3 += 1;
                        let at = if content.ends_with(got.as_bytes()) {
                            (content.len() - got.len()).to_string()
                        } else {
                            "? (not a suffix of the file)".into()
                        };
                        problems.push(format!(
                            "{name}: since={t} landed at byte {at}, not {offset}"
                        ));
                    }
                    Err(why) => {
                        entry.2 += 1;
                        problems.push(format!("{name}: since={t}: {why}"));
                    }
                }
            }
            ["skip", name, reason] => {
                eprintln!("since_formats: {name} skipped: {reason}");
                if require {
                    problems.push(format!("{name}: skipped ({reason}) though required"));
                }
            }
            ["fail", name, reason] => {
                problems.push(format!("{name}: the producer failed: {reason}"))
            }
            _ => panic!("bad manifest line {line:?}"),
        }
    }
    let wrong_files = files.iter().filter(|e| e.3 > 0).count();
    let refused_files = files.iter().filter(|e| e.2 > 0 && e.3 == 0).count();
    eprintln!(
        "since_formats: {} files from real programs: {} right at every point, {} answered 422 (or refused), {} landed on a wrong line",
        files.len(),
        files.len() - wrong_files - refused_files,
        refused_files,
        wrong_files
    );
    for (name, ok, refused, wrong) in &files {
        eprintln!("  {name}: {ok} right, {refused} refused, {wrong} wrong");
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(files.iter().all(|e| e.1 >= 3), "each file has three points");
}

/// One line of a documented format at a time: `utc` seconds since 1970 plus
/// `ms` milliseconds, written as a program in Europe/Paris in winter (UTC+1)
/// writes it. (name, zoned, the line's text).
type Form = (&'static str, bool, fn(i64, u32) -> String);

/// The date and clock of `secs` (a wall clock counted as if UTC).
struct Wall {
    y: i64,
    mo: u32,
    d: u32,
    h: i64,
    mi: i64,
    s: i64,
    wd: usize,
}

fn wall(secs: i64) -> Wall {
    let days = secs.div_euclid(86_400);
    let (y, mo, d) = wstail::history::timestamp::civil_from_days(days);
    let t = secs.rem_euclid(86_400);
    Wall {
        y,
        mo,
        d,
        h: t / 3600,
        mi: t / 60 % 60,
        s: t % 60,
        wd: (days + 4).rem_euclid(7) as usize,
    }
}

const MON: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const DAY: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
/// Paris in winter.
const PARIS: i64 = 3600;

fn iso_paris(u: i64, ms: u32, sep: char, zone: &str) -> String {
    let w = wall(u + PARIS);
    format!(
        "{:04}-{:02}-{:02}{sep}{:02}:{:02}:{:02}.{ms:03}{zone}",
        w.y, w.mo, w.d, w.h, w.mi, w.s
    )
}

fn iso_utc(u: i64, ms: u32) -> String {
    let w = wall(u);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{ms:03}Z",
        w.y, w.mo, w.d, w.h, w.mi, w.s
    )
}

/// The formats of programs that do not run here (Go, Java, journald, Rust
/// crates, MongoDB, Elasticsearch, Caddy, Docker, Kubernetes, apt), as
/// their documentation and source write them.
const DOCUMENTED: &[Form] = &[
    ("journalctl-short-full", true, |u, _| {
        let w = wall(u + PARIS);
        format!(
            "{} {:04}-{:02}-{:02} {:02}:{:02}:{:02} CET vm app[12]: hello",
            DAY[w.wd], w.y, w.mo, w.d, w.h, w.mi, w.s
        )
    }),
    ("journalctl-short-unix", true, |u, ms| {
        format!("{u}.{ms:03}456 vm app[12]: hello")
    }),
    ("journalctl-short-iso", true, |u, _| {
        let w = wall(u + PARIS);
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}+0100 vm app[12]: hello",
            w.y, w.mo, w.d, w.h, w.mi, w.s
        )
    }),
    ("journalctl-json", true, |u, ms| {
        format!(
            "{{\"__CURSOR\":\"s=0;i={u}\",\"__REALTIME_TIMESTAMP\":\"{u}{ms:03}000\",\"__MONOTONIC_TIMESTAMP\":\"12345678\",\"MESSAGE\":\"hello\"}}"
        )
    }),
    ("apt-history", false, |u, _| {
        let w = wall(u + PARIS);
        format!(
            "Start-Date: {:04}-{:02}-{:02}  {:02}:{:02}:{:02}\nCommandline: apt-get install -y hello",
            w.y, w.mo, w.d, w.h, w.mi, w.s
        )
    }),
    ("go-log", false, |u, _| {
        let w = wall(u + PARIS);
        format!(
            "{:04}/{:02}/{:02} {:02}:{:02}:{:02} hello",
            w.y, w.mo, w.d, w.h, w.mi, w.s
        )
    }),
    ("slog-text", true, |u, ms| {
        format!(
            "time={} level=INFO msg=hello",
            iso_paris(u, ms, 'T', "+01:00")
        )
    }),
    ("slog-json", true, |u, ms| {
        format!(
            "{{\"time\":\"{}\",\"level\":\"INFO\",\"msg\":\"hello\"}}",
            iso_paris(u, ms, 'T', "+01:00")
        )
    }),
    ("logrus-text", true, |u, _| {
        let t = iso_paris(u, 0, 'T', "+01:00").replace(".000", "");
        format!("time=\"{t}\" level=info msg=hello")
    }),
    ("logrus-json", true, |u, _| {
        let t = iso_paris(u, 0, 'T', "+01:00").replace(".000", "");
        format!("{{\"level\":\"info\",\"msg\":\"hello\",\"time\":\"{t}\"}}")
    }),
    ("zap-production", true, |u, ms| {
        format!(
            "{{\"level\":\"info\",\"ts\":{u}.{ms:03}4567,\"caller\":\"app/main.go:12\",\"msg\":\"hello\"}}"
        )
    }),
    ("zap-development", true, |u, ms| {
        format!(
            "{}\tINFO\tapp/main.go:12\thello",
            iso_paris(u, ms, 'T', "+0100")
        )
    }),
    ("klog", false, |u, ms| {
        let w = wall(u + PARIS);
        format!(
            "I{:02}{:02} {:02}:{:02}:{:02}.{ms:03}456   12345 main.go:10] hello",
            w.mo, w.d, w.h, w.mi, w.s
        )
    }),
    ("java-util-logging", false, |u, _| {
        let w = wall(u + PARIS);
        let h12 = if w.h % 12 == 0 { 12 } else { w.h % 12 };
        let ampm = if w.h < 12 { "AM" } else { "PM" };
        format!(
            "{} {:02}, {:04} {h12}:{:02}:{:02} {ampm} com.example.Main main\nINFO: hello",
            MON[w.mo as usize - 1],
            w.d,
            w.y,
            w.mi,
            w.s
        )
    }),
    ("log4j", false, |u, ms| {
        format!(
            "{} INFO  [main] com.example.Main - hello",
            iso_paris(u, ms, ' ', "").replace('.', ",")
        )
    }),
    ("logback", false, |u, ms| {
        let w = wall(u + PARIS);
        format!(
            "{:02}:{:02}:{:02}.{ms:03} [main] INFO  com.example.Main - hello",
            w.h, w.mi, w.s
        )
    }),
    ("env_logger", true, |u, _| {
        let t = iso_utc(u, 0).replace(".000", "");
        format!("[{t} INFO  app] hello")
    }),
    ("tracing", true, |u, ms| {
        format!(
            "\u{1b}[2m{}\u{1b}[0m \u{1b}[32m INFO\u{1b}[0m \u{1b}[2mapp\u{1b}[0m\u{1b}[2m:\u{1b}[0m hello",
            iso_utc(u, ms).replace('Z', "456Z")
        )
    }),
    ("caddy", true, |u, ms| {
        format!(
            "{{\"level\":\"info\",\"ts\":{u}.{ms:03}5678,\"logger\":\"http.log.access\",\"msg\":\"handled request\"}}"
        )
    }),
    ("mongodb", true, |u, ms| {
        format!(
            "{{\"t\":{{\"$date\":\"{}\"}},\"s\":\"I\",  \"c\":\"NETWORK\",  \"id\":22943,   \"ctx\":\"listener\",\"msg\":\"Connection accepted\"}}",
            iso_paris(u, ms, 'T', "+01:00")
        )
    }),
    ("elasticsearch", false, |u, ms| {
        format!(
            "[{}][INFO ][o.e.n.Node               ] [node-1] started",
            iso_paris(u, ms, 'T', "").replace('.', ",")
        )
    }),
    ("elasticsearch-json", true, |u, ms| {
        format!(
            "{{\"@timestamp\":\"{}\", \"log.level\": \"INFO\", \"message\":\"started\", \"ecs.version\": \"1.2.0\"}}",
            iso_utc(u, ms)
        )
    }),
    ("docker-json-file", true, |u, ms| {
        format!(
            "{{\"log\":\"2020-01-01 00:00:00 the app's own line\\n\",\"stream\":\"stdout\",\"time\":\"{}\"}}",
            iso_utc(u, ms).replace('Z', "456789Z")
        )
    }),
    ("kubernetes-cri", true, |u, ms| {
        format!(
            "{} stdout F hello",
            iso_paris(u, ms, 'T', "+01:00").replace("+01:00", "456789+01:00")
        )
    }),
];

#[test]
fn since_lands_on_the_first_line_at_or_after_t_in_documented_formats() {
    let _w = watchdog(Duration::from_secs(60));
    let dir = TempDir::new("since-documented");
    let s = Server::rooted(dir.path(), &["--interval", "0.1"]);
    // Ten lines a second apart from 2026-12-06 21:28:40 UTC (22:28:40 in
    // Paris), 123 ms into each second; the file modified at 23:28:40 UTC the
    // same day (the year-less forms take their year from it, and logback's
    // time alone its date: the day before only for a time of day later than
    // the modification time's, compared in UTC).
    let base: i64 = 1_796_592_520;
    let mtime = std::time::UNIX_EPOCH + Duration::from_secs((base + 7200) as u64);
    let mut problems = Vec::new();
    for &(name, zoned, line) in DOCUMENTED {
        let mut content = String::new();
        let mut starts = Vec::new();
        for i in 0..10 {
            starts.push(content.len());
            content.push_str(&line(base + i, 123));
            content.push('\n');
            if i % 3 == 1 {
                content.push_str("    a continuation line without a time\n");
            }
        }
        let path = dir.join(&format!("{name}.log"));
        std::fs::write(&path, &content).unwrap();
        std::fs::File::options()
            .write(true)
            .open(&path)
            .and_then(|f| f.set_modified(mtime))
            .unwrap();
        for i in [2usize, 5, 8] {
            let u = base + i as i64;
            let t = if zoned {
                let w = wall(u);
                format!(
                    "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
                    w.y, w.mo, w.d, w.h, w.mi, w.s
                )
            } else {
                let w = wall(u + PARIS);
                format!(
                    "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
                    w.y, w.mo, w.d, w.h, w.mi, w.s
                )
            };
            match since(&s, &path, &t) {
                Ok(got) if got == content[starts[i]..] => {}
                Ok(got) => problems.push(format!(
                    "{name}: since={t} landed at byte {}, not {}",
                    content.len() - got.len().min(content.len()),
                    starts[i]
                )),
                Err(why) => problems.push(format!("{name}: since={t}: {why}")),
            }
        }
    }
    // A file with none of them: 422, and the reason lists the forms.
    let plain = dir.join("plain.log");
    std::fs::write(&plain, "no\ntimes\nhere\n").unwrap();
    let (status, text) = s.ws_status(&format!("{}?since=-1h", url_path(&plain)), "");
    assert_eq!(status, 422, "{text}");
    for form in [
        "JSON",
        "__REALTIME_TIMESTAMP",
        "logfmt",
        "64 bytes",
        "+0100",
        "CET",
        "ctime",
        "01-Dec-2026",
        "Redis",
        "MySQL",
        "Java",
        "klog",
        "epoch",
        "a time alone",
        "brackets within 200 bytes",
    ] {
        assert!(text.contains(form), "{form} not in the reason: {text}");
    }
    eprintln!(
        "since_formats: {} documented formats, {} problems",
        DOCUMENTED.len(),
        problems.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
