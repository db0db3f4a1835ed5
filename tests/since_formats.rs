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
//! a failure).
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
