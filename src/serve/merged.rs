//! The route of a merged view (`ws://HOST/?merge=/A&merge=/B…`): the same
//! checks as one file's WebSocket route, in the same order (method, query,
//! Host/Origin/token, upgrade headers), then each file in list order
//! through the path rule, `inode=`, compression and the timestamp check —
//! the first file refused refuses the request, its reason naming the file
//! —, then where each file starts (a resume point, `since=`, or its part of
//! the last `lines` merged lines), and the merged follow loop
//! (`follow/merged.rs`). One connection, one client slot.

use std::fs::File;
use std::path::PathBuf;
use std::time::SystemTime;

use crate::access;
use crate::cli::config::ServeConfig;
use crate::encode::chunk::Chunker;
use crate::encode::filter::Filter;
use crate::follow::file::{Change, Followed};
use crate::follow::merged::{Merged, Source};
use crate::follow::stream::{End, StartPoint, Timing};
use crate::history::merge::{self, Tail};
use crate::history::since::{self, Since};
use crate::history::start::{self, Start};
use crate::history::timestamp::{self, YearHint};
use crate::logging::connlog::{ConnLog, escape};
use crate::serve::conn::{self, Shared};
use crate::serve::http::{self, Answer, Request};
use crate::serve::stall::Stalling;
use crate::wire::query::{self, Merge, Query};
use crate::wire::refusal::{Kind, Refusal};
use crate::wire::tag::Tag;

/// Most bytes of a file's path shown in a refusal's reason.
const SHOWN_PATH: usize = 200;

/// One admitted file of the view.
struct Admitted {
    canonical: PathBuf,
    file: File,
    id: (u64, u64),
    len: u64,
    hint: YearHint,
    /// Where reading starts, when known before the handshake (a resume
    /// point, `since=`); `None`: the window is found after it.
    start: Option<u64>,
    first_event: Option<Change>,
    reading_copy: bool,
    since_limited: bool,
}

/// Serves a merged view's WebSocket request from its head on.
pub fn serve(mut stream: Stalling, req: &Request, shared: &Shared, log: &mut ConnLog) {
    let admitted = admit(req, &shared.cfg);
    let (q, key, files) = match admitted {
        Ok(a) => a,
        Err(refusal) => {
            let _ = http::refuse(&mut stream, &refusal);
            log.refused(&refusal);
            return;
        }
    };
    let mut ws = match conn::accept(stream, req, &key) {
        Ok(ws) => ws,
        Err(e) => {
            log.ended(e);
            return;
        }
    };
    let cfg = &shared.cfg;
    let sources = match sources(&q, files, cfg) {
        Ok(s) => s,
        Err(e) => {
            log.ended(format!("reading a file failed: {e}"));
            crate::history::scan::close(&mut ws, &End::FileError(e));
            return;
        }
    };
    let timing = Timing {
        interval: cfg.interval,
        heartbeat: cfg.heartbeat,
        pong_timeout: cfg.pong_timeout,
    };
    let label = format!("{} merged view of {} files", log.peer(), sources.len());
    let mut merged = Merged::new(&mut ws, sources, q.follow, timing, label);
    let end = merged.run();
    let mut answer = Answer::new(101, end.describe());
    answer.sent = merged.sent;
    log.answered(answer);
    drop(merged);
    if end.leaves_input_unread() {
        log.write_now();
        http::linger(ws.get_ref().get_ref());
    }
}

/// The checks of the route, then each file's: the query, the WebSocket key
/// and the admitted files, or the refusal.
fn admit(req: &Request, cfg: &ServeConfig) -> Result<(Query, String, Vec<Admitted>), Refusal> {
    if req.method != "GET" {
        return Err(Refusal::new(Kind::Method, "only GET is served"));
    }
    let q = query::parse(&req.target)?;
    access::authorize(req, &q, cfg)?;
    let key = conn::upgrade_key(req)?;
    let Some(m) = &q.merge else {
        return Err(Refusal::bad_request("a merged view needs merge= files"));
    };
    let mut files = Vec::with_capacity(m.paths.len());
    for (i, path) in m.paths.iter().enumerate() {
        let named = |r: Refusal| {
            let shown = escape(&path[..path.len().min(SHOWN_PATH)]);
            Refusal::new(
                r.kind(),
                format!("merge= file {} (\"{shown}\"): {}", i + 1, r.reason()),
            )
        };
        files.push(admit_file(cfg, &q, m, i, path).map_err(named)?);
    }
    Ok((q, key, files))
}

/// File `i` of the list: the path rule, its generation (`inode=`), no
/// compression, timestamps, and where a resume or `since=` starts in it.
fn admit_file(
    cfg: &ServeConfig,
    q: &Query,
    m: &Merge,
    i: usize,
    path: &[u8],
) -> Result<Admitted, Refusal> {
    let at_path = conn::open_named(cfg, path)?;
    let resume = match (&m.from, &m.inode) {
        (Some(from), Some(inode)) => Some((from[i], inode[i])),
        _ => None,
    };
    let inode = if resume.is_some() {
        None
    } else {
        m.inode.as_ref().map(|v| v[i])
    };
    let (canonical, file, meta) = conn::pick_generation(&cfg.roots, at_path, inode)?;
    conn::refuse_compressed(&file)?;
    let read_failed =
        |e: std::io::Error| Refusal::new(Kind::Internal, format!("reading the file failed: {e}"));
    let len = meta.len();
    let hint = YearHint::from_time(meta.modified().unwrap_or_else(|_| SystemTime::now()));
    // since= judges the file itself (its first and last blocks too).
    if q.since.is_none() && !merge::has_stamps(&file, len, hint).map_err(read_failed)? {
        return Err(no_stamps());
    }
    let mut a = Admitted {
        canonical,
        id: access::file_id(&meta),
        len,
        hint,
        start: None,
        first_event: None,
        reading_copy: false,
        since_limited: false,
        file,
    };
    if let Some((from, inode)) = resume {
        let tag = m.tag.as_ref().map(|t| t[i]);
        let born = m.born.as_ref().map(|b| b[i]);
        let decided = start::start(
            &a.canonical,
            &cfg.roots,
            (&a.file, a.id, len),
            (from, inode, tag),
            born,
        );
        a.start = Some(match decided {
            Start::Here(at) => at,
            Start::Generation { file, id, at, copy } => {
                a.file = file;
                a.id = id;
                a.reading_copy = copy;
                a.len = a.file.metadata().map_err(read_failed)?.len();
                at
            }
            Start::Over(change) => {
                a.first_event = Some(change);
                0
            }
        });
    } else if let Some(target) = &q.since {
        let found = since::find(&a.file, len, target, hint, cfg.scan_limit);
        a.start = Some(match found.map_err(read_failed)?.0 {
            Since::At(at) => at,
            Since::Limit(at) => {
                a.since_limited = true;
                at
            }
            Since::NoTimestamps if len > 0 => return Err(no_stamps()),
            Since::NoTimestamps => len,
        });
    }
    Ok(a)
}

/// 422: no timestamp recognised in the file.
fn no_stamps() -> Refusal {
    Refusal::new(
        Kind::NoTimestamps,
        format!(
            "a merged view orders lines by their timestamps, and none was recognised at the start of this file or at its end; known formats: {}",
            timestamp::KNOWN_FORMATS
        ),
    )
}

/// Each file's source: where it starts (its part of the last `lines`
/// merged lines when no resume point or `since=` said it), with the time
/// its first lines take.
fn sources(q: &Query, files: Vec<Admitted>, cfg: &ServeConfig) -> std::io::Result<Vec<Source>> {
    let filter = Filter::new(&q.matches, &q.excludes);
    let before = q.merge.as_ref().and_then(|m| m.before.clone());
    // A window: the last `lines` merged lines, before `before=` or at the
    // files' ends.
    let window = if files.iter().all(|f| f.start.is_none()) {
        let mut ends = Vec::with_capacity(files.len());
        for (i, f) in files.iter().enumerate() {
            ends.push(match &before {
                Some(b) => merge::line_boundary(&f.file, b[i].min(f.len))?,
                None => f.len,
            });
        }
        let tails: Vec<Tail<File>> = files
            .iter()
            .zip(&ends)
            .map(|(f, &end)| Tail {
                file: &f.file,
                end,
                hint: f.hint,
            })
            .collect();
        let lines = q.lines.unwrap_or(cfg.lines).min(cfg.max_lines);
        let (starts, limited) = merge::last_lines(&tails, lines, &filter, cfg.scan_limit)?;
        Some((starts, ends, limited))
    } else {
        None
    };
    let mut out = Vec::with_capacity(files.len());
    for (i, f) in files.into_iter().enumerate() {
        let (start, point) = match &window {
            Some((starts, ends, limited)) => {
                let first = starts[i];
                let point = StartPoint {
                    first,
                    start: first,
                    tag: Tag::of_file(&f.file, first)?,
                    limited: *limited,
                    end: before.as_ref().map(|_| ends[i]),
                };
                (first, Some(point))
            }
            None => {
                let at = f.start.unwrap_or(f.len);
                let point = f.since_limited.then(|| StartPoint {
                    first: at,
                    start: at,
                    tag: Tag::of_file(&f.file, at).unwrap_or(Tag(0)),
                    limited: true,
                    end: None,
                });
                (at, point)
            }
        };
        let time = merge::time_at(&f.file, f.len, start, f.hint, cfg.scan_limit);
        let end = point.and_then(|p| p.end);
        let mut followed = Followed::new(f.canonical, cfg.roots.clone(), f.file, f.id, start);
        if f.reading_copy {
            followed.reading_copy();
        }
        let chunker = Chunker::new(start, filter.clone()).with_before(followed.before().clone());
        out.push(
            Source::new(followed, chunker, q.format, f.hint)
                .with_time(time)
                .with_window(point, end)
                .with_event(f.first_event),
        );
    }
    Ok(out)
}
