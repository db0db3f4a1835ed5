//! `GET /PATH?timeline&buckets=N[&since=T1&until=T2]`: the log's volume over
//! its whole history as JSON, for the page's strip. The file and its older
//! generations (gzip ones through their restart points) are counted by
//! `history::timeline`, which finds each bucket edge by binary search and
//! never reads the log; the same access rules, token and scan limit as a
//! WebSocket scan, and a turn among the CPU-heavy requests.

use std::fs::{File, Metadata};
use std::io;
use std::net::TcpStream;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use log::debug;

use crate::follow::compressed;
use crate::follow::generations::{self, Generation};
use crate::history::source::{GzFile, Source};
use crate::history::timeline::{self, Counts, Part};
use crate::history::timestamp::{self, STAMP_HEAD, Target, YearHint, line_time};
use crate::history::turns;
use crate::limits::{TAIL_BLOCK, TIMELINE_DEFAULT_BUCKETS, TIMELINE_MAX_BUCKETS};
use crate::serve::http::{self, Answer};
use crate::serve::routes::list::json_string;
use crate::wire::names::Compression;
use crate::wire::query::{Query, Start};
use crate::wire::refusal::{Kind, Refusal};

/// One file of a timeline: the file at the path or an older generation,
/// opened for reading by offset.
pub struct Member {
    pub file: Source,
    pub modified: SystemTime,
}

/// The files of one log, oldest first: its readable older generations
/// (plain and gzip, up to the first that cannot be read), then the file at
/// the path. A file at the path compressed with xz, zstd or bzip2 is 415.
pub fn chain(
    canonical: &Path,
    roots: &[PathBuf],
    file: File,
    meta: &Metadata,
) -> Result<Vec<Member>, Refusal> {
    let read_failed = |e: io::Error| Refusal::read_failed(&e);
    let current = match compressed::file_compression(&file).map_err(read_failed)? {
        None => Source::Plain(file),
        Some(Compression::Gzip) => Source::Gzip(Box::new(GzFile::new(file).map_err(read_failed)?)),
        Some(other) => {
            return Err(Refusal::new(
                Kind::Compressed,
                format!("the file is compressed with {other}: download it (?download)"),
            ));
        }
    };
    let mut members: Vec<Member> = generations::older(canonical, roots)
        .into_iter()
        .take_while(Generation::readable)
        .filter_map(|g| {
            Some(Member {
                file: g.source(roots)?,
                modified: g.modified,
            })
        })
        .collect();
    members.reverse();
    members.push(Member {
        file: current,
        modified: meta.modified().unwrap_or(UNIX_EPOCH),
    });
    Ok(members)
}

/// The first timestamp of the oldest file that has one in its first block.
pub fn first_instant(members: &[Member]) -> Option<i128> {
    members.iter().find_map(|m| {
        let hint = YearHint::from_time(m.modified);
        let mut buf = vec![0u8; TAIL_BLOCK];
        let n = match &m.file {
            Source::Gzip(g) => g.head(&mut buf).ok()?,
            plain => plain.read_at(&mut buf, 0).ok()?,
        };
        buf[..n]
            .split(|&b| b == b'\n')
            .find_map(|line| line_time(&line[..line.len().min(STAMP_HEAD)], &hint))
            .map(|s| s.instant())
    })
}

/// What a timeline request asks: N buckets from T1 to T2.
pub struct Range {
    pub buckets: usize,
    pub since: Option<i128>,
    pub until: i128,
}

/// Reads `buckets=`, `since=` and `until=`: 400 for a count of 0 or over
/// the bound, or an empty range.
pub fn range(q: &Query) -> Result<Range, Refusal> {
    let buckets = q.buckets.unwrap_or(TIMELINE_DEFAULT_BUCKETS as u64);
    if buckets == 0 || buckets > TIMELINE_MAX_BUCKETS as u64 {
        return Err(Refusal::bad_request(format!(
            "buckets={buckets} is out of range: 1 to {TIMELINE_MAX_BUCKETS}"
        )));
    }
    let instant = |t: &Target| match *t {
        // A time without a zone is taken as UTC here, as a zone-less
        // timestamp is when compared with a zoned time.
        Target::Instant(ns) | Target::Wall(ns) => ns,
    };
    let since = match &q.start {
        Start::Since(t) => Some(instant(t)),
        _ => None,
    };
    let until = q.until.as_ref().map_or_else(now, instant);
    if let Some(s) = since
        && s >= until
    {
        return Err(Refusal::bad_request("until= must be later than since="));
    }
    Ok(Range {
        buckets: buckets as usize,
        since,
        until,
    })
}

fn now() -> i128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i128)
}

/// One log's counts over the range, all its files added up; `None` when
/// the client left. `budget` is the scan limit left.
pub fn count_log(
    members: &[Member],
    edges: &[i128],
    budget: &mut u64,
    go_on: &mut dyn FnMut(u64) -> bool,
) -> io::Result<Option<Counts>> {
    let mut total = Counts {
        bytes: vec![0; edges.len().saturating_sub(1)],
        no_timestamps: true,
        ..Counts::default()
    };
    for m in members {
        let len = m.file.size()?;
        let part = Part {
            file: &m.file,
            len,
            hint: YearHint::from_time(m.modified),
        };
        let Some(c) = timeline::count(&part, edges, budget, go_on)? else {
            return Ok(None);
        };
        if !c.no_timestamps {
            total.no_timestamps = false;
            total.add(&c);
        }
    }
    Ok(Some(total))
}

/// The JSON answer: `{"from","to","bucket_seconds","sources":[{"path",
/// "bytes","lines"}]}` (with `"limit":true` when the scan limit cut a
/// search short).
pub fn to_json(from: i128, to: i128, buckets: usize, logs: &[(&Path, Counts)]) -> String {
    let seconds = (to - from) as f64 / 1e9 / buckets as f64;
    let mut out = format!(
        "{{\"from\":\"{}\",\"to\":\"{}\",\"bucket_seconds\":{seconds},",
        timeline::rfc3339(from),
        timeline::rfc3339(to)
    );
    if logs.iter().any(|(_, c)| c.limit) {
        out.push_str("\"limit\":true,");
    }
    out.push_str("\"sources\":[");
    for (i, (path, c)) in logs.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"path\":");
        json_string(&mut out, path.as_os_str().as_bytes());
        let list = |v: &[u64]| v.iter().map(u64::to_string).collect::<Vec<_>>().join(",");
        out.push_str(&format!(
            ",\"bytes\":[{}],\"lines\":[{}]}}",
            list(&c.bytes),
            list(&c.lines())
        ));
    }
    out.push_str("]}");
    out
}

/// Answers `?timeline` for the logs named (one path, or a merged list):
/// each log's chain counted over the same range and written as JSON.
pub fn serve(
    stream: &TcpStream,
    out: &mut impl io::Write,
    q: &Query,
    logs: Vec<(PathBuf, Vec<Member>)>,
    scan_limit: u64,
    head_only: bool,
) -> Result<Answer, Refusal> {
    let started = std::time::Instant::now();
    let range = range(q)?;
    let from = match range.since {
        Some(t) => t,
        None => logs
            .iter()
            .filter_map(|(_, m)| first_instant(m))
            .min()
            .unwrap_or(range.until),
    };
    let to = range.until.max(from + 1);
    let edges = timeline::edges(from, to, range.buckets);
    // The client is looked at (a peek that must not block) while waiting
    // and after every block read.
    let _ = stream.set_nonblocking(true);
    // A timeline is CPU-heavy work (and may inflate a gzip generation for
    // the first time): it takes its turn among the scans (`--max-scans`).
    let Some((_permit, waited)) = turns::shared().take(|| client_is_there(stream)) else {
        let _ = stream.set_nonblocking(false);
        return Ok(Answer::new(499, "client left while waiting its turn"));
    };
    if waited {
        debug!(target: "wstail::timeline", "waited its turn");
    }
    let mut budget = scan_limit;
    let mut counted = Vec::with_capacity(logs.len());
    let mut reads = 0;
    let mut go_on = |_: u64| client_is_there(stream);
    for (path, members) in &logs {
        let c = count_log(members, &edges, &mut budget, &mut go_on);
        let c = match c {
            Ok(Some(c)) => c,
            Ok(None) => {
                let _ = stream.set_nonblocking(false);
                return Ok(Answer::new(499, "client left during the timeline"));
            }
            Err(e) => {
                let _ = stream.set_nonblocking(false);
                return Err(Refusal::read_failed(&e));
            }
        };
        if c.no_timestamps {
            let _ = stream.set_nonblocking(false);
            return Err(Refusal::new(
                Kind::NoTimestamps,
                format!(
                    "a timeline needs timestamps, and none was recognised in {}; known formats: {}",
                    path.display(),
                    timestamp::KNOWN_FORMATS
                ),
            ));
        }
        reads += c.reads;
        counted.push((path.as_path(), c));
    }
    let _ = stream.set_nonblocking(false);
    debug!(
        target: "wstail::timeline",
        "{} buckets, {reads} block reads in {:.3} ms",
        range.buckets,
        started.elapsed().as_secs_f64() * 1e3
    );
    let body = to_json(from, to, range.buckets, &counted);
    let written = http::write_response(
        out,
        200,
        "application/json",
        body.as_bytes(),
        &[],
        head_only,
    );
    let answer = Answer::new(200, format!("timeline of {} buckets", range.buckets));
    Ok(match written {
        Ok(()) => answer,
        Err(e) => answer.cut_short(&e),
    })
}

/// Whether the client is still connected: a peek on the non-blocking
/// socket that finds the end of its stream says it left.
fn client_is_there(stream: &TcpStream) -> bool {
    match stream.peek(&mut [0u8; 1]) {
        Ok(0) => false,
        Ok(_) => true,
        Err(e) => crate::net::timed_out(&e) || e.kind() == io::ErrorKind::Interrupted,
    }
}
