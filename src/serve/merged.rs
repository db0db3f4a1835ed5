//! The route of a merged view (`ws://HOST/?merge=/A&merge=/B…`): the same
//! checks as one file's WebSocket route, in the same order (method, query,
//! Host/Origin/token, upgrade headers), then each file in list order
//! through the path rule and the opening decision one file gets
//! (`history::start`: `inode=` with `born=`/`tag=`, 410, 415, a resume
//! point judged) and the timestamp check — the first file refused refuses
//! the request, its reason naming the file —, then, after the handshake,
//! where each file starts (a resume point, `since=`'s search in that file —
//! without `inode=` in the generation of its chain that `history::chain`
//! chooses, the newer ones walked after it, also without `tail=1` — or its
//! part of the last `lines` merged lines), and the merged follow loop
//! (`follow/merged.rs`). Files are read through `history::source`, so a
//! gzip generation (or a gzip file) takes part like a plain one. One
//! connection, one client slot.

use std::path::PathBuf;
use std::time::SystemTime;

use tungstenite::WebSocket;

use crate::cli::config::ServeConfig;
use crate::encode::chunk::Chunker;
use crate::encode::filter::Filter;
use crate::follow::file::Followed;
use crate::follow::merged::{self as view, Merged, Window};
use crate::follow::stream::{End, Timing};
use crate::history::merge::{self, Tail};
use crate::history::since::{self, Since};
use crate::history::source::Source;
use crate::history::start::{self, Begin, Opening};
use crate::history::timestamp::{self, Target, YearHint};
use crate::history::{scan, turns};
use crate::logging::connlog::{ConnLog, escape};
use crate::serve::conn::{self, Shared};
use crate::serve::http::{self, Answer, Request};
use crate::serve::stall::Stalling;
use crate::wire::query::{self, Merge, Pick, Query, Start};
use crate::wire::refusal::{Kind, Refusal};
use crate::wire::tag::Tag;

/// Most bytes of a file's path shown in a refusal's reason.
const SHOWN_PATH: usize = 200;

/// One admitted file of the view.
struct Admitted {
    canonical: PathBuf,
    hint: YearHint,
    how: How,
}

/// What was decided for a file before the handshake.
enum How {
    /// A start the opening decided (`history::start`): a resume point, or
    /// `since=` without `inode=`, whose file is chosen over the chain
    /// (`history::chain`); begun after the handshake.
    Open(Box<Opening>),
    /// The file to read (the one at the path, or the generation `inode=`
    /// names): its part of the window, or `since=`'s search, is found
    /// after the handshake.
    Read {
        file: Source,
        path: PathBuf,
        id: (u64, u64),
        len: u64,
    },
}

/// Serves a merged view's WebSocket request from its head on.
pub fn serve(stream: Stalling, req: &Request, shared: &Shared, log: &mut ConnLog) {
    let mut stream = stream;
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
    let sources = match sources(&mut ws, &q, files, cfg) {
        Ok(s) => s,
        Err(end) => {
            log.ended(format!("{} (during the opening)", end.describe()));
            crate::follow::stream::close(&mut ws, &end);
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
    crate::access::authorize(req, &q, &cfg.access)?;
    let key = conn::upgrade_key(req)?;
    let Some(m) = &q.merge else {
        return Err(Refusal::bad_request("a merged view needs merge= files"));
    };
    let mut files = Vec::with_capacity(m.paths.len());
    for (i, path) in m.paths.iter().enumerate() {
        files.push(admit_file(cfg, &q, m, i, path).map_err(|r| naming(i, path, r))?);
    }
    Ok((q, key, files))
}

/// A refusal of file `i` of a merged list, naming it (its number from 1
/// and its path, cut and escaped).
pub(crate) fn naming(i: usize, path: &[u8], r: Refusal) -> Refusal {
    let shown = escape(&path[..path.len().min(SHOWN_PATH)]);
    Refusal::new(
        r.kind(),
        format!("merge= file {} (\"{shown}\"): {}", i + 1, r.reason()),
    )
}

/// File `i` of the list: the path rule, then the opening decision one file
/// gets (`start::open`: its generation with `inode=`, 410, 415, a resume
/// point judged), then timestamps (422).
fn admit_file(
    cfg: &ServeConfig,
    q: &Query,
    m: &Merge,
    i: usize,
    path: &[u8],
) -> Result<Admitted, Refusal> {
    let (canonical, file, meta) = conn::open_named(cfg, path)?;
    let tag = m.tag.as_ref().map(|t| t[i]);
    let born = m.born.as_ref().map(|b| b[i]);
    let resume = match (&m.from, &m.inode) {
        (Some(from), Some(inode)) => Some(Start::Resume {
            from: from[i],
            inode: inode[i],
            tag,
            born,
        }),
        _ => None,
    };
    let pick = match (&resume, &m.inode) {
        (None, Some(inode)) => Some(Pick {
            inode: inode[i],
            born,
            tag,
        }),
        _ => None,
    };
    // since= without inode=: each file's start is chosen over its chain
    // (the newest generation whose first timestamp is at or before T), as
    // for one file; searched after the handshake.
    if resume.is_none() && pick.is_none() && matches!(q.start, Start::Since(_)) {
        let hint = YearHint::from_time(meta.modified().unwrap_or_else(|_| SystemTime::now()));
        let empty = meta.len() == 0;
        match start::open(
            &canonical,
            &cfg.roots,
            (file, meta),
            &q.start,
            None,
            conn::limits(cfg),
        ) {
            Ok(opening) => {
                return Ok(Admitted {
                    canonical,
                    hint,
                    how: How::Open(Box::new(opening)),
                });
            }
            // An empty file without a stamped generation has nothing to
            // judge: it starts at its end, its new lines followed.
            Err(r) if empty && r.kind() == Kind::NoTimestamps => {
                let (_, file, meta) = conn::open_named(cfg, path)?;
                return read_at_path(canonical, (file, meta), hint);
            }
            Err(r) => return Err(r),
        }
    }
    // The window and since= (with inode=) are found after the handshake,
    // over all the files: the opening only picks the file here.
    let start = resume.unwrap_or(Start::Last {
        lines: None,
        before: m.before.as_ref().map(|b| b[i]),
    });
    let resuming = matches!(start, Start::Resume { .. });
    let opening = start::open(
        &canonical,
        &cfg.roots,
        (file, meta),
        &start,
        pick,
        conn::limits(cfg),
    )?;
    let read_failed = |e: std::io::Error| Refusal::read_failed(&e);
    let len = match opening.len {
        Some(n) => n,
        None => opening.file.size().map_err(read_failed)?,
    };
    let hint = YearHint::from_time(
        opening
            .file
            .file()
            .metadata()
            .and_then(|m| m.modified())
            .unwrap_or_else(|_| SystemTime::now()),
    );
    let stamped = if matches!(q.start, Start::Since(_)) && !resuming {
        // since= judges the file as it does for one file (an empty file
        // has nothing to judge: it starts at its end).
        len == 0 || since::has_timestamps(&opening.file, len, hint).map_err(read_failed)?
    } else {
        merge::has_stamps(&opening.file, len, hint).map_err(read_failed)?
    };
    if !stamped {
        return Err(no_stamps());
    }
    let how = if resuming {
        How::Open(Box::new(opening))
    } else {
        How::Read {
            path: opening.path,
            id: opening.id,
            file: opening.file,
            len,
        }
    };
    Ok(Admitted {
        canonical,
        hint,
        how,
    })
}

/// The file at the path, read from its end (an empty file of a `since=`
/// view).
fn read_at_path(
    canonical: PathBuf,
    (file, meta): (std::fs::File, std::fs::Metadata),
    hint: YearHint,
) -> Result<Admitted, Refusal> {
    let id = crate::access::file_id(&meta);
    Ok(Admitted {
        how: How::Read {
            file: Source::Plain(file),
            path: canonical.clone(),
            id,
            len: meta.len(),
        },
        canonical,
        hint,
    })
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

/// Where each file starts, after the handshake: a resume point, `since=`'s
/// search in each file (the client watched), or each file's part of the
/// last `lines` merged lines; then each file's source, with the time its
/// first lines take.
fn sources(
    ws: &mut WebSocket<Stalling>,
    q: &Query,
    files: Vec<Admitted>,
    cfg: &ServeConfig,
) -> Result<Vec<view::Source>, End> {
    let filter = Filter::new(&q.matches, &q.excludes);
    let limits = conn::limits(cfg);
    let before = q.merge.as_ref().and_then(|m| m.before.clone());
    let since = match &q.start {
        Start::Since(t) => Some(*t),
        _ => None,
    };
    // A window: the last `lines` merged lines, before `before=` or at the
    // files' ends (every file is read, none resumed).
    let reads: Vec<(&Source, u64, YearHint)> = files
        .iter()
        .filter_map(|f| match &f.how {
            How::Read { file, len, .. } => Some((file, *len, f.hint)),
            How::Open(_) => None,
        })
        .collect();
    let window = if since.is_none() && reads.len() == files.len() {
        let mut ends = Vec::with_capacity(reads.len());
        for (i, (file, len, _)) in reads.iter().enumerate() {
            ends.push(match &before {
                Some(b) => merge::line_boundary(*file, b[i].min(*len)).map_err(End::FileError)?,
                None => *len,
            });
        }
        let tails: Vec<Tail<Source>> = reads
            .iter()
            .zip(&ends)
            .map(|(&(file, _, hint), &end)| Tail { file, end, hint })
            .collect();
        let lines = match q.start {
            Start::Last { lines, .. } => lines,
            _ => None,
        };
        let lines = lines.unwrap_or(cfg.lines).min(cfg.max_lines);
        // A filtered selection may search far: it takes its turn among
        // the CPU-heavy requests (as one file's filtered scan does).
        let total = ends.iter().sum::<u64>().min(cfg.scan_limit);
        let turn = if filter.is_empty() {
            None
        } else {
            Some(scan::wait_turn(ws, turns::shared(), total, false)?)
        };
        let (starts, limited) =
            merge::last_lines(&tails, lines, &filter, cfg.scan_limit).map_err(End::FileError)?;
        drop(turn);
        Some((starts, ends, limited))
    } else {
        None
    };
    let mut out = Vec::with_capacity(files.len());
    for (i, f) in files.into_iter().enumerate() {
        let (begin, len) = match f.how {
            How::Open(opening) => {
                let b = opening.begin(ws, &filter, false, limits)?;
                let len = match b.file.size() {
                    Ok(n) => n,
                    Err(e) => return Err(End::FileError(e)),
                };
                (b, len)
            }
            How::Read {
                file,
                path,
                id,
                len,
            } => {
                let (start, limited, end) = match (&window, &since) {
                    (Some((starts, ends, limited)), _) => {
                        (starts[i], *limited, before.as_ref().map(|_| ends[i]))
                    }
                    (None, Some(target)) => {
                        let (at, limited) = search(ws, &file, len, target, f.hint, limits)?;
                        (at, limited, None)
                    }
                    // Not reached: without since=, a view with no resume
                    // point is a window.
                    (None, None) => (len, false, None),
                };
                let tag = Tag::of_file(&file, start).map_err(End::FileError)?;
                // A gzip file named by its own path is a finished file:
                // read to its end, not followed.
                let finished = file.is_gzip() && path == f.canonical;
                let b = Begin {
                    file,
                    path,
                    id,
                    start,
                    first: start,
                    tag,
                    limited,
                    end: end.or(finished.then_some(len)),
                    event: None,
                    copy: false,
                    binary: false,
                    no_follow: finished,
                    walk_chain: false,
                    listing: None,
                };
                (b, len)
            }
        };
        let time = merge::time_at(&begin.file, len, begin.start, f.hint, cfg.scan_limit);
        let window = Window {
            first: begin.first,
            tag: begin.tag,
            limited: begin.limited,
        };
        let end = begin.end;
        let event = begin.event;
        let walk_chain = begin.walk_chain;
        let mut followed = Followed::new(
            f.canonical,
            cfg.roots.clone(),
            (begin.file, begin.path),
            begin.id,
            begin.start,
        )
        .with_listing(begin.listing);
        if begin.copy {
            followed.reading_copy();
        }
        let chunker =
            Chunker::new(begin.start, filter.clone()).with_before(followed.before().clone());
        out.push(
            view::Source::new(followed, chunker, q.format, f.hint)
                .with_time(time)
                .with_window(Some(window), end)
                .with_event(event)
                .walking_chain(walk_chain),
        );
    }
    Ok(out)
}

/// `since=`'s search in one file of the view, with the client watched (no
/// progress frames: they would name no file): where the file starts, and
/// whether the scan limit stopped it.
fn search(
    ws: &mut WebSocket<Stalling>,
    file: &Source,
    len: u64,
    target: &Target,
    hint: YearHint,
    limits: start::Limits,
) -> Result<(u64, bool), End> {
    let limit = limits.scan_limit;
    let (found, _cost) = scan::watched(ws, false, len.min(limit), true, |go_on| {
        since::find(file, len, target, hint, limit, go_on)
    })?;
    Ok(match found {
        Since::At(n) => (n, false),
        Since::Limit(n) => (n, true),
        // An empty file, or stamps rewritten since they were judged: only
        // new lines.
        Since::NoTimestamps => (len, false),
    })
}
