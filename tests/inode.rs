//! `inode=I` (without `from=`) picks the file among the path and its older
//! generations, as the real tools leave them: logrotate (numbered, with
//! `compress`/`delaycompress`, and `dateext`) run for real, and the names of
//! Python's TimedRotatingFileHandler and loguru. An older generation is sent
//! and closed, or with `tail=1` followed on into the newer ones; its start
//! frame at 0 names the one older than it; a compressed one is 415; an inode
//! that is none of them is 410. `since=` and `before=` work on the
//! generation picked.
use crate::common::*;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const T: Duration = Duration::from_secs(10);

fn ino(p: &Path) -> u64 {
    std::fs::metadata(p).unwrap().ino()
}

/// Runs the real logrotate with `rules` for `log`, forced.
fn logrotate(dir: &TempDir, log: &Path, rules: &str) {
    let conf = dir.join("logrotate.conf");
    std::fs::write(&conf, format!("{} {{\n{rules}\n}}\n", log.display())).unwrap();
    let bin = [
        "/usr/sbin/logrotate",
        "/sbin/logrotate",
        "/usr/bin/logrotate",
    ]
    .into_iter()
    .find(|b| Path::new(b).exists())
    .unwrap_or("logrotate");
    let out = Command::new(bin)
        .arg("-f")
        .arg("-s")
        .arg(dir.join("logrotate.state"))
        .arg(&conf)
        .output()
        .expect("logrotate is installed (apt-get install logrotate)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The text of a request, and its close code.
fn read(s: &Server, log: &Path, query: &str) -> (String, Option<u16>) {
    s.ws(log, query).text_to_close(T)
}

#[test]
fn logrotate_numbered_and_compressed() {
    let _w = watchdog(Duration::from_secs(120));
    let dir = TempDir::new("inode-numbered");
    let logs = dir.join("logs");
    std::fs::create_dir(&logs).unwrap();
    let log = logs.join("app.log");
    let rules = "rotate 5\ncompress\ndelaycompress\ncreate\nmissingok";
    for text in [
        "one\n",
        "2026-12-01 14:00:00 two\n2026-12-01 14:05:00 two b\n",
    ] {
        std::fs::write(&log, text).unwrap();
        logrotate(&dir, &log, rules);
    }
    std::fs::write(&log, "now\n").unwrap();
    let (one, two) = (logs.join("app.log.2.gz"), logs.join("app.log.1"));
    assert!(
        one.exists() && two.exists(),
        "logrotate left app.log.1 and app.log.2.gz"
    );
    let other = logs.join("other.log");
    std::fs::write(&other, "other\n").unwrap();
    let s = Server::rooted(dir.path(), &["--interval", "0.1"]);

    assert_eq!(
        read(&s, &log, &format!("?format=text&inode={}", ino(&log))).0,
        "now\n"
    );
    let two_text = "2026-12-01 14:00:00 two\n2026-12-01 14:05:00 two b\n";
    assert_eq!(
        read(&s, &log, &format!("?format=text&inode={}", ino(&two))),
        (two_text.to_string(), Some(1000)),
        "an older generation, then close"
    );
    // Its start frame at 0 names the generation older than it (the
    // compressed one); the current file's names app.log.1.
    let start_frame = |inode: u64| match s.ws(&log, &format!("?meta=1&inode={inode}")).next(T) {
        Got::Binary(b) => b,
        other => panic!("expected the start frame, got {other:?}"),
    };
    let b = start_frame(ino(&two));
    assert!(
        b.contains("\"offset\":0")
            && b.contains("app.log.2.gz")
            && b.contains("\"compressed\":\"gzip\""),
        "{b}"
    );
    // since= before the first line: from 0, with the same hint.
    match s
        .ws(
            &log,
            &format!("?meta=1&since=2026-12-01+13:00&inode={}", ino(&two)),
        )
        .next(T)
    {
        Got::Binary(b) => assert!(
            b.contains("\"offset\":0") && b.contains("app.log.2.gz"),
            "{b}"
        ),
        other => panic!("expected the start frame, got {other:?}"),
    }
    let b = start_frame(ino(&log));
    assert!(b.contains(&format!("\"inode\":{}", ino(&two))), "{b}");
    // Followed, an older generation goes on to the newer ones and the file
    // at the path, as a resume into it would.
    let mut ws = s.ws(&log, &format!("?format=text&tail=1&inode={}", ino(&two)));
    append(&log, b"later\n");
    let want = format!("{two_text}now\nlater\n");
    assert_eq!(ws.text_until(T, |t| t.len() >= want.len()), want);
    ws.close();
    assert_eq!(
        read(
            &s,
            &log,
            &format!("?format=text&since=2026-12-01+14:01&inode={}", ino(&two))
        )
        .0,
        "2026-12-01 14:05:00 two b\n"
    );

    // Paging back in an older generation: before= with its inode.
    let two_len = std::fs::metadata(&two).unwrap().len();
    assert_eq!(
        read(
            &s,
            &log,
            &format!(
                "?format=text&lines=1&before={}&inode={}",
                two_len,
                ino(&two)
            )
        )
        .0,
        "2026-12-01 14:05:00 two b\n"
    );
    assert_eq!(
        read(
            &s,
            &log,
            &format!("?format=text&lines=5&before=24&inode={}", ino(&two))
        )
        .0,
        "2026-12-01 14:00:00 two\n"
    );

    let path = url_path(&log);
    // The gzip generation is read like the others (its inode, its text).
    assert_eq!(
        read(&s, &log, &format!("?format=text&inode={}", ino(&one))),
        ("one\n".to_string(), Some(1000))
    );
    for gone in [ino(&other), 1] {
        let (status, text) = s.ws_status(&format!("{path}?inode={gone}"), "");
        assert_eq!(status, 410, "inode {gone}: {text}");
        assert!(text.contains("without inode="), "{text}");
        // The page opened on it answers with the same status.
        assert_eq!(s.get(&format!("{path}?inode={gone}")).0, 410);
    }
    assert_eq!(s.get(&format!("{path}?inode={}", ino(&two))).0, 200);
}

#[test]
fn logrotate_dateext_and_python_and_loguru_names() {
    let _w = watchdog(Duration::from_secs(120));
    let dir = TempDir::new("inode-dated");
    let logs = dir.join("logs");
    std::fs::create_dir(&logs).unwrap();
    let log = logs.join("app.log");
    std::fs::write(&log, "dated\n").unwrap();
    logrotate(
        &dir,
        &log,
        "rotate 5\ndateext\ndateformat -%Y%m%d-%s\ncreate",
    );
    let dated = std::fs::read_dir(&logs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains("app.log-"))
        .expect("logrotate dateext left app.log-YYYYMMDD-SECS");
    // The names Python's TimedRotatingFileHandler and loguru give.
    let timed = logs.join("app.log.2026-12-01_14-02");
    std::fs::write(&timed, "timed\n").unwrap();
    let loguru = logs.join("app.2026-12-01_14-02-03_123456.log");
    std::fs::write(&loguru, "loguru\n").unwrap();
    std::fs::write(&log, "now\n").unwrap();
    let s = Server::rooted(dir.path(), &[]);
    for (g, want) in [
        (&dated, "dated\n"),
        (&timed, "timed\n"),
        (&loguru, "loguru\n"),
    ] {
        assert_eq!(
            read(&s, &log, &format!("?format=text&inode={}", ino(g))),
            (want.to_string(), Some(1000)),
            "{}",
            g.display()
        );
    }
}
