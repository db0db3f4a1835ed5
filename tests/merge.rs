//! Several files as one timeline (`?merge=`): three logs written by real
//! producers (a Python logging app with tracebacks, nginx's access and error
//! logs under `ab`) merged by the server and compared with a merge computed
//! here, independently; paging back to the start of every history exactly
//! once; a resume after a dropped connection; a rotation while merged; the
//! refusals.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

/// A merged view's URL for these files.
fn merge_url(server: &Server, files: &[&Path], query: &str) -> String {
    let list: Vec<String> = files
        .iter()
        .map(|f| format!("merge={}", url_path(f)))
        .collect();
    let sep = if query.is_empty() { "" } else { "&" };
    format!(
        "ws://127.0.0.1:{}/?{}{sep}{query}",
        server.port,
        list.join("&")
    )
}

/// What a merged view sent: each text message with its source, and the
/// meta frames (all of which must name a source).
#[derive(Default, Debug)]
struct View {
    texts: Vec<(usize, String)>,
    metas: Vec<(usize, String)>,
    close: Option<u16>,
}

impl View {
    /// The text of source `k`, in order.
    fn text_of(&self, k: usize) -> String {
        self.texts
            .iter()
            .filter(|(s, _)| *s == k)
            .map(|(_, t)| t.as_str())
            .collect()
    }

    /// The lines in the order sent, each with its source.
    fn lines(&self) -> Vec<(usize, String)> {
        let mut out = Vec::new();
        for (k, t) in &self.texts {
            for l in t.split_inclusive('\n') {
                out.push((*k, l.to_string()));
            }
        }
        out
    }

    /// Source `k`'s first meta frame (its start frame).
    fn start(&self, k: usize) -> Position {
        let (_, json) = self
            .metas
            .iter()
            .find(|(s, _)| *s == k)
            .unwrap_or_else(|| panic!("no frame for source {k}: {self:?}"));
        match meta(json) {
            Meta::Position(p) => p,
            other => panic!("source {k} starts with {other:?}"),
        }
    }

    /// Source `k`'s last resume point.
    fn last_position(&self, k: usize) -> Option<Position> {
        self.metas.iter().rev().find_map(|(s, j)| match meta(j) {
            Meta::Position(p) if *s == k => Some(p),
            _ => None,
        })
    }

    fn events(&self, k: usize) -> Vec<String> {
        self.metas
            .iter()
            .filter(|(s, _)| *s == k)
            .filter_map(|(_, j)| event(j))
            .collect()
    }
}

/// The `"source":K` of a meta frame.
fn source_of(json: &str) -> Option<usize> {
    let at = json.find("\"source\":")? + "\"source\":".len();
    let digits: String = json[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// Reads a view until `done(view)` holds, the server closes, or `within`
/// passes. Every text message must follow a `{"source":K}` frame.
fn read_view(ws: &mut Ws, view: &mut View, within: Duration, done: impl Fn(&View) -> bool) {
    let deadline = Instant::now() + within;
    let mut announced: Option<usize> = None;
    // `done` is asked after meta frames only: a text message's offset frame
    // follows it, and a client resumes from the last offset it has.
    let mut after_text = false;
    while after_text || !done(view) {
        let left = deadline.saturating_duration_since(Instant::now());
        match ws.next(left) {
            Got::Text(t) => {
                let k = announced
                    .take()
                    .unwrap_or_else(|| panic!("a text message without a source frame: {t:?}"));
                view.texts.push((k, t));
                after_text = true;
            }
            Got::Binary(b) => {
                after_text = false;
                let k = source_of(&b).unwrap_or_else(|| panic!("a meta frame without source: {b}"));
                if b == format!("{{\"source\":{k}}}") {
                    assert!(announced.is_none(), "two source frames in a row");
                    announced = Some(k);
                } else {
                    view.metas.push((k, b));
                }
            }
            Got::Closed(code) => {
                view.close = code;
                return;
            }
            Got::Timeout => return,
        }
    }
}

/// A whole non-following view, to its close.
fn whole_view(url: &str) -> View {
    let mut ws = Ws::connect(url);
    let mut view = View::default();
    read_view(&mut ws, &mut view, Duration::from_secs(60), |_| false);
    assert_eq!(view.close, Some(1000), "{url}");
    view
}

// ---- the independent merge -------------------------------------------------

/// The time of a line as (year, month, day, h, m, s, fraction as
/// nanoseconds), for the three forms the producers here write: Python's
/// `2026-12-06 21:17:09,123`, nginx's access log `[06/Dec/2026:21:17:09
/// +0000]` and error log `2026/12/06 21:17:09` (all UTC: TZ=UTC).
fn time_of(line: &str) -> Option<(u32, u32, u32, u32, u32, u32, u32)> {
    let num = |s: &str| s.parse::<u32>().ok();
    let b = line.as_bytes();
    if b.len() >= 19 && (b[4] == b'-' || b[4] == b'/') && b[10] == b' ' && b[13] == b':' {
        let frac = if b.len() >= 23 && b[19] == b',' {
            num(&line[20..23])? * 1_000_000
        } else {
            0
        };
        return Some((
            num(&line[0..4])?,
            num(&line[5..7])?,
            num(&line[8..10])?,
            num(&line[11..13])?,
            num(&line[14..16])?,
            num(&line[17..19])?,
            frac,
        ));
    }
    let at = line.find('[')? + 1;
    let s = line.get(at..at + 20)?;
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| *m == &s[3..6])? as u32 + 1;
    Some((
        num(&s[7..11])?,
        month,
        num(&s[0..2])?,
        num(&s[12..14])?,
        num(&s[15..17])?,
        num(&s[18..20])?,
        0,
    ))
}

type Time = (u32, u32, u32, u32, u32, u32, u32);

/// The files' lines merged by time (a line without one takes the time of
/// the line before it in its file; the first lines of a file without one
/// come first), ties in list order, each file's order kept.
fn merge_here(files: &[String]) -> Vec<(usize, String)> {
    let keyed: Vec<Vec<(Time, String)>> = files
        .iter()
        .map(|f| {
            let mut last = (0, 0, 0, 0, 0, 0, 0);
            f.split_inclusive('\n')
                .map(|l| {
                    if let Some(t) = time_of(l) {
                        last = t;
                    }
                    (last, l.to_string())
                })
                .collect()
        })
        .collect();
    let mut at = vec![0usize; files.len()];
    let mut out = Vec::new();
    loop {
        let next = (0..files.len())
            .filter(|&i| at[i] < keyed[i].len())
            .min_by_key(|&i| (keyed[i][at[i]].0, i));
        let Some(i) = next else {
            return out;
        };
        out.push((i, keyed[i][at[i]].1.clone()));
        at[i] += 1;
    }
}

// ---- the producers ---------------------------------------------------------

/// nginx on a free port, logging into `dir`, killed on drop.
struct Nginx {
    child: Child,
    port: u16,
}

impl Nginx {
    fn start(dir: &Path) -> Nginx {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let www = dir.join("www");
        std::fs::create_dir_all(&www).unwrap();
        std::fs::write(www.join("index.html"), "hello\n").unwrap();
        let d = dir.display();
        let conf = format!(
            "daemon off; master_process off; pid {d}/nginx.pid; error_log {d}/error.log info;\n\
             events {{ worker_connections 64; }}\n\
             http {{ access_log {d}/access.log; client_body_temp_path {d}/tmp; proxy_temp_path {d}/tmp;\n\
               fastcgi_temp_path {d}/tmp; uwsgi_temp_path {d}/tmp; scgi_temp_path {d}/tmp;\n\
               server {{ listen 127.0.0.1:{port}; root {www}; }} }}\n",
            www = www.display()
        );
        std::fs::write(dir.join("nginx.conf"), conf).unwrap();
        let child = Command::new("nginx")
            .args(["-p", &d.to_string(), "-e", &format!("{d}/error.log"), "-c"])
            .arg(dir.join("nginx.conf"))
            .env("TZ", "UTC")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nginx");
        let up = wait_until(Duration::from_secs(10), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        assert!(up, "nginx did not start");
        Nginx { child, port }
    }

    /// `ab` against an existing page and a missing one (an error-log line
    /// each), `n` requests each.
    fn load(&self, n: usize) {
        for path in ["/index.html", "/missing.html"] {
            let url = format!("http://127.0.0.1:{}{path}", self.port);
            let st = Command::new("ab")
                .args(["-q", "-n", &n.to_string(), "-c", "4", &url])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .expect("run ab");
            assert!(st.success(), "ab failed");
        }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A Python app that logs with `logging` (asctime with milliseconds,
/// tracebacks from `logger.exception`) for about `secs` seconds, each
/// `RotatingFileHandler` rotating at `max_bytes` (0: never).
fn python_app(log: &Path, secs: f64, max_bytes: u64) -> Child {
    let script = format!(
        r#"
import logging, logging.handlers, time
h = logging.handlers.RotatingFileHandler({log:?}, maxBytes={max_bytes}, backupCount=5)
h.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
log = logging.getLogger("shop")
log.addHandler(h)
log.setLevel(logging.INFO)
end = time.time() + {secs}
i = 0
while time.time() < end:
    i += 1
    if i % 7 == 0:
        try:
            {{}}["order-%d" % i]
        except KeyError:
            log.exception("order %d failed", i)
    else:
        log.info("order %d placed", i)
    time.sleep(0.002)
"#,
        log = log.display().to_string()
    );
    Command::new("python3")
        .args(["-c", &script])
        .env("TZ", "UTC")
        .spawn()
        .expect("start python3")
}

/// Three logs from the producers, written at the same time.
fn produce(dir: &TempDir, secs: f64, max_bytes: u64) -> [PathBuf; 3] {
    let app = dir.join("app.log");
    let mut py = python_app(&app, secs, max_bytes);
    let nginx = Nginx::start(dir.path());
    let started = Instant::now();
    while started.elapsed().as_secs_f64() < secs {
        nginx.load(200);
    }
    let st = py.wait().expect("wait for python");
    assert!(st.success());
    drop(nginx);
    [app, dir.join("access.log"), dir.join("error.log")]
}

fn read(p: &Path) -> String {
    String::from_utf8(std::fs::read(p).expect("read a log")).expect("UTF-8 log")
}

#[test]
fn three_real_logs_merge_as_computed_here() {
    let _w = watchdog(Duration::from_secs(180));
    let dir = TempDir::new("merge-real");
    let files = produce(&dir, 1.5, 0);
    let contents: Vec<String> = files.iter().map(|f| read(f)).collect();
    assert!(contents[0].contains("Traceback (most recent call last):"));
    assert!(contents[2].contains("open() "), "{}", contents[2]);
    let server = Server::rooted(dir.path(), &["--max-lines", "1000000"]);
    let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let want = merge_here(&contents);
    let total = want.len();
    assert!(total > 1000, "{total} lines");

    // Everything: the merge computed here, line by line.
    let view = whole_view(&merge_url(&server, &paths, "format=text&lines=1000000"));
    for (k, c) in contents.iter().enumerate() {
        assert_eq!(&view.text_of(k), c, "source {k}");
        assert_eq!(view.start(k).offset, 0);
    }
    let got = view.lines();
    let first_diff = got.iter().zip(&want).position(|(a, b)| a != b);
    assert_eq!(first_diff, None, "first difference at line {first_diff:?}");
    assert_eq!(got.len(), want.len());

    // The last 300 merged lines: the end of the same sequence, each file's
    // start frame at its part.
    let view = whole_view(&merge_url(&server, &paths, "format=text&lines=300"));
    assert_eq!(view.lines(), want[total - 300..].to_vec());
    for (k, c) in contents.iter().enumerate() {
        let n: usize = want[total - 300..]
            .iter()
            .filter(|(s, _)| *s == k)
            .map(|(_, l)| l.len())
            .sum();
        assert_eq!(view.start(k).offset, (c.len() - n) as u64, "source {k}");
    }

    // A filter: only the kept lines, in the same order.
    let view = whole_view(&merge_url(
        &server,
        &paths,
        "format=text&lines=1000000&match=404&match=failed",
    ));
    let kept: Vec<(usize, String)> = want
        .iter()
        .filter(|(_, l)| l.to_lowercase().contains("404") || l.contains("failed"))
        .cloned()
        .collect();
    assert_eq!(view.lines(), kept);

    // since=: every file from its first line at or after T.
    let (_, mid) = &want[total / 2];
    let t = time_of(mid).expect("a stamped middle line");
    let since = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.0, t.1, t.2, t.3, t.4, t.5
    );
    let view = whole_view(&merge_url(
        &server,
        &paths,
        &format!("format=text&since={since}"),
    ));
    let from = want
        .iter()
        .position(|(_, l)| {
            time_of(l)
                .is_some_and(|x| (x.0, x.1, x.2, x.3, x.4, x.5) >= (t.0, t.1, t.2, t.3, t.4, t.5))
        })
        .unwrap();
    let got = view.lines();
    // Each file starts at its first line at or after T; lines of other
    // files before it with a time before T may not come.
    assert!(got.iter().all(|(_, l)| {
        time_of(l).is_none_or(|x| (x.0, x.1, x.2, x.3, x.4, x.5) >= (t.0, t.1, t.2, t.3, t.4, t.5))
    }));
    let want_since: Vec<(usize, String)> = want[from..].to_vec();
    assert_eq!(got, want_since);

    // format=html: the same lines (escaped), still announced per source.
    let view = whole_view(&merge_url(&server, &paths, "lines=50"));
    assert_eq!(view.lines().len(), 50);
    assert!(
        view.lines()
            .iter()
            .all(|(_, l)| !l.contains('"') || l.contains("&quot;") || !l.contains('<'))
    );
}

#[test]
fn paging_back_reaches_the_start_of_every_history_once() {
    let _w = watchdog(Duration::from_secs(240));
    let dir = TempDir::new("merge-pages");
    // The app's log rotates (app.log.1, app.log.2, …): its history spans
    // generations.
    let files = produce(&dir, 1.5, 12_000);
    let server = Server::rooted(dir.path(), &["--max-lines", "1000000"]);
    let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    // Each file's generations, newest first, as (inode, content).
    let chain = |p: &Path| {
        let mut gens = vec![p.to_path_buf()];
        for i in 1..=5 {
            let g = PathBuf::from(format!("{}.{i}", p.display()));
            if g.exists() {
                gens.push(g);
            }
        }
        gens
    };
    let app_gens = chain(&files[0]);
    assert!(app_gens.len() >= 2, "the app log did not rotate");

    // Page 1: the last 200 merged lines.
    let first = whole_view(&merge_url(&server, &paths, "format=text&lines=200"));
    // What each source received, per inode, newest page first.
    let mut got: Vec<std::collections::HashMap<u64, Vec<String>>> = vec![Default::default(); 3];
    let mut view = first;
    let mut pages = 0;
    loop {
        pages += 1;
        assert!(pages < 2000, "paging does not end");
        let mut befores = Vec::new();
        let mut inodes = Vec::new();
        let mut done = 0;
        for (k, got) in got.iter_mut().enumerate() {
            let start = view.start(k);
            got.entry(start.inode).or_default().push(view.text_of(k));
            if start.offset > 0 {
                befores.push(start.offset);
                inodes.push(start.inode);
                continue;
            }
            match start.previous {
                Some(Previous::File { inode, size, .. }) => {
                    befores.push(size);
                    inodes.push(inode);
                }
                _ => {
                    befores.push(0);
                    inodes.push(start.inode);
                    done += 1;
                }
            }
        }
        if done == 3 {
            break;
        }
        let list = |v: &[u64]| v.iter().map(u64::to_string).collect::<Vec<_>>().join(",");
        let q = format!(
            "format=text&lines=200&before={}&inode={}",
            list(&befores),
            list(&inodes)
        );
        view = whole_view(&merge_url(&server, &paths, &q));
    }
    // Every generation of every file, whole, exactly once.
    use std::os::unix::fs::MetadataExt;
    for (k, f) in files.iter().enumerate() {
        let gens = chain(f);
        let mut seen = 0;
        for g in &gens {
            let ino = std::fs::metadata(g).unwrap().ino();
            let pages = got[k].remove(&ino).unwrap_or_default();
            let whole: String = pages.iter().rev().map(String::as_str).collect();
            assert_eq!(whole, read(g), "{} (source {k})", g.display());
            seen += 1;
        }
        assert_eq!(seen, gens.len());
        assert!(
            got[k].values().all(|p| p.iter().all(String::is_empty)),
            "source {k}: pages of other files"
        );
    }
    assert!(pages > 5, "{pages} pages");
}

/// Lines stamped now, for tests that write their own logs.
fn stamped(tag: &str, i: usize) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    let secs = now.as_secs();
    let (h, m, s) = ((secs / 3600) % 24, (secs / 60) % 60, secs % 60);
    format!(
        "2026-12-06 {h:02}:{m:02}:{s:02},{:03} {tag} line {i}\n",
        now.subsec_millis()
    )
}

#[test]
fn a_resume_after_a_drop_loses_and_repeats_nothing_in_any_file() {
    let _w = watchdog(Duration::from_secs(120));
    let dir = TempDir::new("merge-resume");
    let names = ["a.log", "b.log", "c.log"];
    let files: Vec<PathBuf> = names.iter().map(|n| dir.join(n)).collect();
    for (k, f) in files.iter().enumerate() {
        append(f, stamped(&format!("f{k} old"), 0).as_bytes());
    }
    let server = Server::rooted(dir.path(), &["--interval", "0.05"]);
    let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let mut ws = Ws::connect(&merge_url(&server, &paths, "format=text&tail=1&lines=0"));
    let mut view = View::default();
    read_view(&mut ws, &mut view, Duration::from_secs(10), |v| {
        (0..3).all(|k| v.metas.iter().any(|(s, _)| *s == k))
    });
    let mut written = vec![String::new(); 3];
    for i in 0..30 {
        for (k, f) in files.iter().enumerate() {
            let l = stamped(&format!("f{k}"), i);
            append(f, l.as_bytes());
            written[k].push_str(&l);
        }
    }
    read_view(&mut ws, &mut view, Duration::from_secs(20), |v| {
        (0..3).all(|k| v.text_of(k).len() >= written[k].len() / 2)
    });
    drop(ws); // dropped, no Close
    // More lines while nobody follows.
    for i in 30..60 {
        for (k, f) in files.iter().enumerate() {
            let l = stamped(&format!("f{k}"), i);
            append(f, l.as_bytes());
            written[k].push_str(&l);
        }
    }
    let mut from = Vec::new();
    let mut inode = Vec::new();
    let mut tag = Vec::new();
    for k in 0..3 {
        let p = view.last_position(k).expect("a resume point");
        from.push(p.offset.to_string());
        inode.push(p.inode.to_string());
        tag.push(p.tag.expect("a tag").to_string());
    }
    let q = format!(
        "format=text&tail=1&from={}&inode={}&tag={}",
        from.join(","),
        inode.join(","),
        tag.join(",")
    );
    let mut ws = Ws::connect(&merge_url(&server, &paths, &q));
    let mut again = View::default();
    read_view(&mut ws, &mut again, Duration::from_secs(20), |v| {
        (0..3).all(|k| view.text_of(k).len() + v.text_of(k).len() >= written[k].len())
    });
    for (k, written) in written.iter().enumerate() {
        let both = view.text_of(k) + &again.text_of(k);
        assert_eq!(&both, written, "source {k}");
        assert!(again.events(k).is_empty(), "{:?}", again.events(k));
    }
}

#[test]
fn a_rotation_of_one_file_while_merged() {
    let _w = watchdog(Duration::from_secs(120));
    let dir = TempDir::new("merge-rotate");
    let files: Vec<PathBuf> = ["a.log", "b.log"].iter().map(|n| dir.join(n)).collect();
    for (k, f) in files.iter().enumerate() {
        append(f, stamped(&format!("f{k}"), 0).as_bytes());
    }
    let server = Server::rooted(dir.path(), &["--interval", "0.05"]);
    let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let mut ws = Ws::connect(&merge_url(&server, &paths, "format=text&tail=1"));
    let mut view = View::default();
    read_view(&mut ws, &mut view, Duration::from_secs(10), |v| {
        v.text_of(0).contains("line 0") && v.text_of(1).contains("line 0")
    });
    append(&files[0], stamped("f0", 1).as_bytes());
    std::fs::rename(&files[0], dir.join("a.log.1")).unwrap();
    append(&files[0], stamped("f0 new", 2).as_bytes());
    append(&files[1], stamped("f1", 3).as_bytes());
    read_view(&mut ws, &mut view, Duration::from_secs(20), |v| {
        v.text_of(0).contains("f0 new line 2") && v.text_of(1).contains("line 3")
    });
    let want0 = read(&dir.join("a.log.1")) + &read(&files[0]);
    assert_eq!(view.text_of(0), want0);
    assert_eq!(view.text_of(1), read(&files[1]));
    assert_eq!(view.events(0), vec!["rotated".to_string()]);
    assert!(view.events(1).is_empty());
    assert!(server.wait_log("a.log\": file rotated", Duration::from_secs(5)));
}

#[test]
fn refusals_name_the_file() {
    let dir = TempDir::new("merge-refuse");
    let outside = TempDir::new("merge-outside");
    let good = dir.join("good.log");
    std::fs::write(&good, stamped("g", 0)).unwrap();
    let plain = dir.join("plain.log");
    std::fs::write(&plain, "no time at all\n").unwrap();
    let secret = outside.join("s.log");
    std::fs::write(&secret, stamped("s", 0)).unwrap();
    let server = Server::rooted(dir.path(), &[]);
    let g = url_path(&good);
    let status = |q: &str| server.ws_status(&format!("/?{q}"), "");
    let (s, body) = status(&format!("merge={g}"));
    assert_eq!(s, 400, "{body}");
    let many: Vec<String> = (0..17).map(|_| format!("merge={g}")).collect();
    assert_eq!(status(&many.join("&")).0, 400);
    let sixteen: Vec<String> = (0..16).map(|_| format!("merge={g}")).collect();
    assert_eq!(status(&sixteen.join("&")).0, 101);
    assert_eq!(status(&format!("merge={g}&merge={g}&before=1")).0, 400);
    assert_eq!(
        status(&format!("merge={g}&merge={g}&before=1,2&tail=1")).0,
        400
    );
    assert_eq!(status(&format!("merge={g}&merge={g}&from=1,2")).0, 400);
    assert_eq!(status(&format!("merge={g}&merge={g}&inode=1,x")).0, 400);
    assert_eq!(status(&format!("merge={g}&merge={g}&tag=1,2")).0, 400);
    assert_eq!(
        server.ws_status(&format!("{g}?merge={g}&merge={g}"), "").0,
        400
    );
    let (s, body) = status(&format!("merge={g}&merge={}", url_path(&secret)));
    assert_eq!(s, 403, "{body}");
    assert!(
        body.contains("merge= file 2") && body.contains("s.log"),
        "{body}"
    );
    let (s, body) = status(&format!(
        "merge={g}&merge={}",
        url_path(&dir.join("none.log"))
    ));
    assert_eq!(s, 404, "{body}");
    assert!(body.contains("merge= file 2"), "{body}");
    let (s, body) = status(&format!("merge={}&merge={g}", url_path(&plain)));
    assert_eq!(s, 422, "{body}");
    assert!(
        body.contains("merge= file 1") && body.contains("plain.log"),
        "{body}"
    );
    // The first refused file decides.
    let (s, body) = status(&format!(
        "merge={}&merge={}",
        url_path(&dir.join("none.log")),
        url_path(&secret)
    ));
    assert_eq!(s, 404, "{body}");
}

#[test]
fn following_sends_each_look_in_time_order_and_never_reorders() {
    let _w = watchdog(Duration::from_secs(120));
    let dir = TempDir::new("merge-follow");
    let files: Vec<PathBuf> = ["a.log", "b.log", "c.log"]
        .iter()
        .map(|n| dir.join(n))
        .collect();
    for f in &files {
        append(f, b"2026-12-06 09:00:00,000 started\n");
    }
    // A long interval: once idle, the follower looks every 2 s, and the
    // three appends below land between two looks.
    let server = Server::rooted(dir.path(), &["--interval", "2"]);
    let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let mut ws = Ws::connect(&merge_url(&server, &paths, "format=text&tail=1&lines=0"));
    let mut view = View::default();
    read_view(&mut ws, &mut view, Duration::from_secs(10), |v| {
        (0..3).all(|k| v.metas.iter().any(|(s, _)| *s == k))
    });
    std::thread::sleep(Duration::from_secs(6));
    // Times interleaved across the files, file c's the latest first.
    let line = |ms: u32, k: usize| format!("2026-12-06 10:00:00,{ms:03} from {k}\n");
    let mut batches = vec![String::new(); 3];
    for ms in 0..90u32 {
        let k = (ms as usize * 7 + ms as usize / 5) % 3;
        batches[k].push_str(&line(ms, k));
        if ms % 10 == 3 {
            batches[k].push_str("  continuation\n");
        }
    }
    for k in [2, 1, 0] {
        append(&files[k], batches[k].as_bytes());
    }
    read_view(&mut ws, &mut view, Duration::from_secs(20), |v| {
        (0..3).all(|k| v.text_of(k) == batches[k])
    });
    let got = view.lines();
    let want = merge_here(&batches);
    assert_eq!(got, want);
    // A line stamped before what was sent arrives later: it is sent when it
    // arrives, after what was sent.
    append(&files[0], line(1, 0).as_bytes());
    append(&files[1], line(999, 1).as_bytes());
    read_view(&mut ws, &mut view, Duration::from_secs(20), |v| {
        v.lines().len() == want.len() + 2
    });
    let got = view.lines();
    assert_eq!(&got[..want.len()], &want[..]);
    assert_eq!(got.len(), want.len() + 2);
}

#[test]
fn a_gzip_generation_pages_back_and_resumes_in_a_merged_view() {
    use std::os::unix::fs::MetadataExt;
    let _w = watchdog(Duration::from_secs(120));
    let dir = TempDir::new("merge-gzip");
    let (a, b) = (dir.join("a.log"), dir.join("b.log"));
    let old = dir.join("a.log.1");
    // a.log's older generation, compressed by logrotate's `compress`: lines
    // stamped before every line of a.log and b.log.
    let old_text: String = (0..300)
        .map(|i| format!("2026-12-06 10:00:{:02},{:03} old line {i}\n", i / 10, i))
        .collect();
    std::fs::write(&old, &old_text).unwrap();
    let gz = Command::new("gzip").arg(&old).status().unwrap();
    assert!(gz.success());
    let gz_path = dir.join("a.log.1.gz");
    let a_text: String = (0..50)
        .map(|i| format!("2026-12-06 11:00:{:02},000 a line {i}\n", i))
        .collect();
    let b_text: String = (0..50)
        .map(|i| format!("2026-12-06 11:00:{:02},500 b line {i}\n", i))
        .collect();
    std::fs::write(&a, &a_text).unwrap();
    std::fs::write(&b, &b_text).unwrap();
    let server = Server::rooted(dir.path(), &[]);
    let paths = [a.as_path(), b.as_path()];
    // Page 1: both files whole, a's start frame names the gzip generation.
    let first = whole_view(&merge_url(&server, &paths, "format=text&lines=1000"));
    assert_eq!(first.text_of(0), a_text);
    assert_eq!(first.text_of(1), b_text);
    let gz_inode = std::fs::metadata(&gz_path).unwrap().ino();
    let size = match first.start(0).previous {
        Some(Previous::File {
            inode,
            size,
            compressed,
            ..
        }) => {
            assert_eq!(inode, gz_inode);
            assert!(compressed.is_some(), "{compressed:?}");
            size
        }
        other => panic!("a's previous: {other:?}"),
    };
    assert_eq!(size, old_text.len() as u64);
    // Page 2: into the gzip generation, its text inflated, in time order.
    let b_inode = first.start(1).inode;
    let q = format!("format=text&lines=1000&before={size},0&inode={gz_inode},{b_inode}");
    let second = whole_view(&merge_url(&server, &paths, &q));
    assert_eq!(second.text_of(0), old_text);
    assert_eq!(second.start(0).inode, gz_inode);
    assert_eq!(second.text_of(1), "");
    // A resume at the middle of the gzip generation (the offset counts its
    // uncompressed bytes): the rest of it, then a.log, then b.log's lines
    // in order among them.
    let mid = old_text
        .lines()
        .take(150)
        .map(|l| l.len() + 1)
        .sum::<usize>();
    let q = format!("format=text&tail=1&from={mid},0&inode={gz_inode},{b_inode}");
    let mut ws = Ws::connect(&merge_url(&server, &paths, &q));
    let mut view = View::default();
    let want_a = old_text.len() - mid + a_text.len();
    read_view(&mut ws, &mut view, Duration::from_secs(30), |v| {
        v.text_of(0).len() >= want_a && v.text_of(1).len() >= b_text.len()
    });
    assert_eq!(view.text_of(0), format!("{}{a_text}", &old_text[mid..]));
    assert_eq!(view.text_of(1), b_text);
    let lines = view.lines();
    let order: Vec<&str> = lines.iter().map(|(_, l)| &l[..23]).collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted, "not in time order");
}

#[test]
fn since_runs_over_each_files_generations() {
    let _w = watchdog(Duration::from_secs(120));
    let dir = TempDir::new("merge-since-chain");
    let stamp = |m: u32, s: u32, ms: u32| format!("2026-12-06 10:{m:02}:{s:02},{ms:03}");
    // a.log.1 spans T (with a traceback line after it); a.log is after T.
    let mut a_old = String::new();
    for i in 0..40 {
        a_old += &format!("{} a old {i}\n", stamp(0, i, 0));
        if i == 25 {
            a_old += "  Traceback line of a old 25\n";
        }
    }
    let a_new: String = (0..40)
        .map(|i| format!("{} a new {i}\n", stamp(1, i, 0)))
        .collect();
    // b.log.1 is wholly before T; b.log spans it.
    let b_old: String = (0..40)
        .map(|i| format!("2026-12-06 09:59:{i:02},000 b old {i}\n"))
        .collect();
    let b_new: String = (0..60)
        .map(|i| format!("{} b new {i}\n", stamp(0, i, 500)))
        .collect();
    let hour_ago = std::time::SystemTime::now() - Duration::from_secs(3600);
    for (name, text, older) in [
        ("a.log.1", &a_old, true),
        ("a.log", &a_new, false),
        ("b.log.1", &b_old, true),
        ("b.log", &b_new, false),
    ] {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        if older {
            let f = std::fs::File::options().write(true).open(&p).unwrap();
            f.set_modified(hour_ago).unwrap();
        }
    }
    let t = (2026, 12, 6, 10, 0, 20, 0);
    // Computed here: every line at or after T of each chain, merged.
    let at_or_after = |text: String| -> String {
        let mut last = (0, 0, 0, 0, 0, 0, 0);
        text.split_inclusive('\n')
            .filter(|l| {
                if let Some(x) = time_of(l) {
                    last = x;
                }
                last >= t
            })
            .collect()
    };
    let want = merge_here(&[
        at_or_after(a_old.clone() + &a_new),
        at_or_after(b_old.clone() + &b_new),
    ]);
    assert!(want.iter().any(|(_, l)| l.contains("a old 20")));
    assert!(want.iter().any(|(_, l)| l.contains("b new 20")));
    let server = Server::rooted(dir.path(), &["--interval", "0.05"]);
    let (a, b) = (dir.join("a.log"), dir.join("b.log"));
    let paths = [a.as_path(), b.as_path()];
    let query = "format=text&since=2026-12-06T10:00:20Z";
    // Without tail=1: the chain to the file at the path, then 1000.
    let view = whole_view(&merge_url(&server, &paths, query));
    assert_eq!(view.lines(), want);
    assert_eq!(view.events(0), vec!["rotated".to_string()]);
    assert!(view.events(1).is_empty(), "{:?}", view.events(1));
    assert_eq!(view.start(0).inode, inode_of(&dir.join("a.log.1")));
    assert_eq!(view.start(1).inode, inode_of(&b));
    // With tail=1: the same, then followed.
    let mut ws = Ws::connect(&merge_url(&server, &paths, &format!("{query}&tail=1")));
    let mut view = View::default();
    read_view(&mut ws, &mut view, Duration::from_secs(30), |v| {
        v.lines().len() >= want.len()
    });
    assert_eq!(view.lines(), want);
    assert_eq!(view.events(0), vec!["rotated".to_string()]);
    let more = format!("{} a newer\n", stamp(2, 0, 0));
    append(&a, more.as_bytes());
    read_view(&mut ws, &mut view, Duration::from_secs(30), |v| {
        v.text_of(0).ends_with(&more)
    });
    assert_eq!(view.lines().len(), want.len() + 1);
}

fn inode_of(p: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(p).unwrap().ino()
}
