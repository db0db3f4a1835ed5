// The history above the view: what older lines there are and how to get
// them. Each older window is one short WebSocket request — before= the
// offset where the view's first line begins, in the same file (inode=, with
// its birth time and tag so that a reused inode number is never taken for
// it), the last WINDOW lines before it. At the start of a file the view
// goes on into the previous generation behind a separator, and ends with
// "start of history" (or the compressed generation's download). The line
// above the first one (#top) says which of the states of `Top` it is in.
// Permalinks ask their line's offset with the same kind of request.
//
// In a merged view the place above is one per file (before=N1,N2…&inode=
// I1,I2…: the last WINDOW merged lines ending there), and each file steps
// into its previous generation on its own; the history ends when every
// file is at its start.

import {
  Top, isTopState, baseName, fmtBytes, offsetOfMatch, openSocket, closeSocket, pointQuery, pointsQuery,
  shownName, splitFragment, joinRuns, utf8len, validBorn, validTag,
} from './?asset=util.js';

const WINDOW = 2000;   // lines per older window (before=)
const CONTEXT = 200;   // lines above a permalink's line

export function createHistory(v) {
  const { app } = v;
  const topEl = v.view.topEl;
  const S = {
    /** Where the next older window ends: { inode, born, tag, end, skip, prev, gen }. */
    top: null,
    state: Top.NONE,
    /** The error, or the compressed generation's path. */
    why: '',
    /** The compressed generation's compression. */
    kind: '',
    ws: null, gen: 0, loadTimer: 0,
    /** Generations already shown (a hint naming one again ends the history). */
    seen: new Set(),
    /** The progress frame of the scan running (a search). */
    progress: null,
    drawn: '',
  };
  function set(state, why) {
    if (!isTopState(state)) throw new Error('no such history state: ' + state);
    S.state = state;
    if (why !== undefined) S.why = why;
  }

  function loadSoon() {
    if (S.loadTimer || S.ws || !S.top || S.state !== Top.IDLE) return;
    S.loadTimer = setTimeout(() => { S.loadTimer = 0; load(); }, 30);
  }
  function stop() {
    clearTimeout(S.loadTimer); S.loadTimer = 0;
    S.gen++;
    closeSocket(S.ws); S.ws = null;
    if (S.state === Top.LOADING) S.state = Top.IDLE;
  }
  function load() {
    if (S.ws || !S.top || v.view.shown) return;
    const t = S.top;
    if (t.pts) { loadMerged(t); return; }
    if (t.end <= 0) { stepGeneration(t); return; }
    const want = Math.min(app.maxLines, (v.where.at && !v.view.nLines ? CONTEXT : WINDOW) + t.skip);
    let q = pointQuery('before', { offset: t.end, inode: t.inode, born: t.born, tag: t.tag }) + '&lines=' + want + '&format=html';
    if (v.where.q) q += '&match=' + encodeURIComponent(v.where.q);
    const hg = ++S.gen;
    set(Top.LOADING); S.progress = null;
    render();
    // The window as it arrives: its lines, its first offset (start frame),
    // the previous generation when it reaches the file's start.
    const W = { inode: t.inode, born: t.born, tag: null, off: null, start: null, prev: null, limit: false, items: [], open: false, cur: null, opened: false };
    S.ws = openSocket({ base: app.base, path: v.filePath, query: q, token: app.token }, {
      onOpen() { W.opened = true; },
      onText(msg) { if (hg === S.gen) windowText(W, msg); },
      onMeta(o) {
        if (hg !== S.gen) return;
        if (o.progress) { S.progress = o.progress; render(); return; }
        if (typeof o.offset !== 'number') return;
        if (o.inode !== undefined) W.inode = String(o.inode);
        if (o.born !== undefined) W.born = validBorn(o.born);
        if (W.start === null) { W.start = o.offset; W.tag = validTag(o.tag); W.prev = o.previous || null; W.limit = !!o.limit; }
        if (W.cur) { W.cur.end = o.offset; W.cur = null; }
        W.off = o.offset;
      },
      onClose(ev) {
        if (hg !== S.gen) return;
        S.ws = null;
        if (!W.opened) { refused(t); return; }
        if (ev.code !== 1000 || W.start === null) { failed('closed' + (ev.code ? ' (' + ev.code + (ev.reason ? ': ' + ev.reason : '') + ')' : '')); return; }
        if (W.start >= t.end && W.items.length > t.skip) {
          // A server that does not know before= sent the end of the file again.
          S.top = null; set(Top.UNSUPPORTED); render();
          return;
        }
        let items = W.items;
        if (t.skip) items = items.slice(0, Math.max(0, items.length - t.skip));
        if (t.gen) items.push({ t: 'm', text: '— above: ' + shownName(t.gen) + ' (older generation) —', cls: 'gen' });
        S.top = { inode: W.inode, born: W.born, tag: W.tag, end: W.start, skip: 0, prev: W.prev };
        set(W.limit ? Top.LIMIT : Top.IDLE);
        S.progress = null;
        v.view.prepend(items);
        render();
        if (v.where.at && !v.view.userMoved) v.view.position();
        // A window that fills less than the view: go on at once.
        if (S.state === Top.IDLE && (v.view.fitsInView() || (v.view.nearTopEdge() && v.view.readerScrolling()))) loadSoon();
        if (S.state === Top.IDLE && S.top.end <= 0 && !S.top.prev) { S.top = null; set(Top.START); render(); }
      },
    });
  }
  // ------------------------------------------------ a merged view's windows
  // The places above, one per file: { pts: [{inode, born, tag, end, prev, done, gen}], skip, marks }.
  const mergedTop = (pts, skip = 0) => ({
    pts: pts.map((p) => ({ inode: p.inode === null || p.inode === undefined ? null : String(p.inode), born: p.born || null, tag: p.tag || null, end: Number(p.offset ?? p.end) || 0, prev: p.previous || p.prev || null, done: false })),
    skip, marks: [],
  });
  const usablePrev = (p, K, inode) => !!(p && typeof p.path === 'string' && p.inode !== undefined && !p.compressed
    && !S.seen.has(K + ':' + p.inode) && String(p.inode) !== String(inode));
  // A file at its start goes on into its previous generation, or is done.
  function stepFile(t, K) {
    const pt = t.pts[K], p = pt.prev;
    S.seen.add(K + ':' + pt.inode);
    if (usablePrev(p, K, pt.inode)) {
      t.pts[K] = { inode: String(p.inode), born: validBorn(p.born), tag: null, end: Number(p.size) || 0, prev: null, done: false };
      t.marks.push({ t: 'm', text: '— above: ' + shownName(v.names[K]) + ' continues in ' + shownName(p.path) + ' (older generation) —', cls: 'gen' });
      if (t.pts[K].end <= 0) t.pts[K].done = true;
      return;
    }
    pt.done = true;
    if (p && typeof p.path === 'string' && p.compressed) { t.compressed = p.path; S.kind = String(p.compressed).replace(/[^a-z0-9]/g, ''); }
  }
  function loadMerged(t) {
    t.pts.forEach((pt, K) => { if (pt.end <= 0 && !pt.done) stepFile(t, K); });
    if (t.pts.every((pt) => pt.done)) {
      if (t.marks.length) v.view.prepend(t.marks);
      S.top = null;
      if (t.compressed) set(Top.COMPRESSED, t.compressed); else set(Top.START);
      render();
      return;
    }
    const want = Math.min(app.maxLines, (v.where.at && !v.view.nLines ? CONTEXT : WINDOW) + t.skip);
    let q = pointsQuery('before', t.pts.map((pt) => ({ offset: pt.done ? 0 : pt.end, inode: pt.inode, born: pt.born, tag: pt.tag })))
      + '&lines=' + want + '&format=html';
    if (v.where.q) q += '&match=' + encodeURIComponent(v.where.q);
    const hg = ++S.gen;
    set(Top.LOADING); S.progress = null;
    render();
    const W = { src: 0, starts: [], items: [], open: false, openSrc: -1, cur: null, opened: false, pts: t.pts.map((pt) => ({ ...pt, offset: pt.end })) };
    S.ws = openSocket({ base: app.base, ...v.target(q), token: app.token }, {
      onOpen() { W.opened = true; },
      onText(msg) {
        if (hg !== S.gen) return;
        if (W.open && W.openSrc !== W.src) W.open = false;
        const p = W.pts[W.src];
        windowText(W, msg, W.src, p ? W.pts.map((x) => ({ ...x })) : null);
        W.openSrc = W.open ? W.src : -1;
      },
      onMeta(o) {
        if (hg !== S.gen) return;
        if (o.progress) { S.progress = o.progress; render(); return; }
        const K = Number.isInteger(o.source) && o.source >= 0 && o.source < t.pts.length ? o.source : -1;
        if (K < 0) return;
        if (typeof o.offset !== 'number') { W.src = K; return; }
        const p = W.pts[K];
        if (o.inode !== undefined) p.inode = String(o.inode);
        if (o.born !== undefined) p.born = validBorn(o.born);
        if (!W.starts[K]) {
          W.starts[K] = { inode: p.inode, born: p.born, tag: validTag(o.tag), offset: o.offset, previous: o.previous || null, limit: !!o.limit };
        }
        if (W.cur && W.cur.source === K) { W.cur.end = o.offset; W.cur = null; }
        p.offset = o.offset; p.tag = validTag(o.tag);
      },
      onClose(ev) {
        if (hg !== S.gen) return;
        S.ws = null;
        if (!W.opened) { failed('refused'); return; }
        if (ev.code !== 1000 || W.starts.filter(Boolean).length !== t.pts.length) { failed('closed' + (ev.code ? ' (' + ev.code + (ev.reason ? ': ' + ev.reason : '') + ')' : '')); return; }
        let items = W.items;
        if (t.skip) items = items.slice(0, Math.max(0, items.length - t.skip));
        // No line and no file moved back (a search that found nothing older:
        // the merged route answers at the offsets it was given, where one
        // file's answers at 0): nothing more above.
        const stuck = !W.items.length && !W.starts.some((x) => x.limit)
          && W.starts.every((x, K) => x.offset >= t.pts[K].end || t.pts[K].done);
        if (stuck) {
          if (t.marks.length) v.view.prepend(t.marks);
          S.top = null; set(t.compressed ? Top.COMPRESSED : Top.START, t.compressed || undefined); S.progress = null; render();
          return;
        }
        // A file whose start this window reached goes on in its previous
        // generation, which the server's window did not read: the other
        // files' lines above that file's first line are older than it and
        // belong among the generation's lines. They are left for the next
        // window, which starts where every file stood at that line.
        let cut = -1;
        W.starts.forEach((st, K) => {
          if (st.offset > 0 || !usablePrev(st.previous, K, st.inode)) return;
          const i = items.findIndex((it) => it.t === 'l' && it.m && it.m.source === K);
          if (i > cut) cut = i;
        });
        let next;
        if (cut > 0 && items[cut].m.pos) {
          const pos = items[cut].m.pos;
          next = mergedTop(pos.map((p, J) => ({
            inode: p.inode, born: p.born, tag: p.tag, offset: p.offset,
            previous: Number(p.offset) === 0 && W.starts[J] ? W.starts[J].previous : null,
          })));
          items = items.slice(cut);
        } else next = mergedTop(W.starts);
        items.push(...t.marks);
        // A file already done stays done (its before=0 answers at 0 again).
        next.pts.forEach((pt, K) => { if (t.pts[K].done) { pt.done = true; pt.prev = null; } });
        next.compressed = t.compressed;
        S.top = next;
        const limit = W.starts.some((x) => x.limit);
        set(limit ? Top.LIMIT : Top.IDLE);
        S.progress = null;
        v.view.prepend(items);
        render();
        if (v.where.at && !v.view.userMoved) v.view.position();
        if (S.state === Top.IDLE && next.pts.every((pt) => pt.end <= 0 && (pt.done || !pt.prev))) { loadMerged(next); return; }
        if (S.state === Top.IDLE && (v.view.fitsInView() || (v.view.nearTopEdge() && v.view.readerScrolling()))) loadSoon();
      },
    });
  }

  function windowText(W, msg, source = 0, pos = null) {
    const { lines, rest } = splitFragment(msg);
    const p = pos ? pos[source] : null;
    const m = pos ? v.newMsg(p.inode, p.born, p.offset, null, W.open, source, pos) : v.newMsg(W.inode, W.born, W.off, null, W.open);
    W.cur = m;
    let cont = W.open;
    const last = () => W.items[W.items.length - 1];
    for (const r of lines) {
      if (cont && W.items.length) { last().r = joinRuns(last().r, r); cont = false; continue; }
      cont = false;
      W.items.push({ t: 'l', r, m, k: m.n++ });
    }
    if (rest !== null) {
      if (cont && W.items.length) last().r = joinRuns(last().r, rest);
      else W.items.push({ t: 'l', r: rest, m, k: m.n });
      W.open = true;
    } else W.open = false;
  }
  // The start of a file: the previous generation, or the end of history.
  function stepGeneration(t) {
    const p = t.prev;
    S.seen.add(String(t.inode));
    // A gzip generation is read like a plain one (its inode, its text's size).
    if (p && typeof p.path === 'string' && p.inode !== undefined && (!p.compressed || p.compressed === 'gzip') && !S.seen.has(String(p.inode))) {
      S.top = { inode: String(p.inode), born: validBorn(p.born), tag: null, end: Number(p.size) || 0, skip: 0, prev: null, gen: p.path };
      set(Top.IDLE);
      if (S.top.end <= 0) {
        // An empty generation: nothing to show, and nothing said about the next.
        v.view.prepend([{ t: 'm', text: '— above: ' + shownName(p.path) + ' (older generation, empty) —', cls: 'gen' }]);
        S.top = null; set(Top.START); render();
        return;
      }
      load();
      return;
    }
    S.top = null;
    if (p && typeof p.path === 'string' && p.compressed) {
      set(Top.COMPRESSED, p.path);
      S.kind = String(p.compressed).replace(/[^a-z0-9]/g, '');
    } else set(Top.START);
    render();
  }
  function failed(why) {
    set(Top.ERROR, why);
    render();
  }
  async function refused(t) {
    // Ask the same request over plain HTTP for its status (410: the
    // generation is gone, or the inode number now names another file;
    // 400: the server does not know before=).
    let st = 0;
    try {
      const r = await fetch(app.withToken(app.here(v.filePath, pointQuery('before', { offset: t.end, inode: t.inode, born: t.born, tag: t.tag }))), { cache: 'no-store' });
      st = r.status;
      try { await r.body.cancel(); } catch (e) { /* ignore */ }
    } catch (e) { /* unreachable */ }
    if (st === 410) { S.top = null; set(Top.GONE); render(); return; }
    failed(st ? 'refused (' + app.phrase(st) + ')' : 'server unreachable');
  }

  // ------------------------------------------------ the line above the first one
  function render() {
    const st = S.state, q = v.where.q, waiting = v.stream.waitingForStart();
    // Drawn only when what it says changed (it is called on every drop).
    const key = JSON.stringify([st, !!S.top, !!(S.top && S.top.end <= 0 && S.top.prev), q, st === Top.LIMIT && S.top ? S.top.end : 0,
      S.progress && S.progress.scanned, waiting, S.why, v.view.keep]);
    if (key === S.drawn) return;
    S.drawn = key;
    topEl.dataset.state = st;
    topEl.replaceChildren();
    const text = (s) => topEl.appendChild(document.createTextNode(s));
    const button = (label, fn) => {
      const b = document.createElement('button'); b.type = 'button'; b.textContent = label;
      b.addEventListener('click', fn);
      topEl.appendChild(b);
    };
    const progress = () => {
      const p = S.progress;
      if (!p || !(p.total > 0)) return;
      const bar = document.createElement('progress');
      bar.max = p.total; bar.value = Math.min(p.scanned, p.total);
      topEl.appendChild(bar);
      text(' ' + Math.floor(100 * Math.min(1, p.scanned / p.total)) + ' % of ' + fmtBytes(p.total));
    };
    if (waiting && q && S.progress) { text('searching the history for “' + q + '” '); progress(); topEl.hidden = false; return; }
    topEl.hidden = st === Top.NONE || (st === Top.IDLE && !S.top);
    if (topEl.hidden) return;
    switch (st) {
      case Top.IDLE:
        button(S.top && S.top.end <= 0 && S.top.prev ? '↑ previous generation' : q ? '↑ search older lines' : '↑ older lines', () => load());
        break;
      case Top.LOADING:
        text(q ? 'searching older lines for “' + q + '”… ' : 'loading older lines… ');
        progress();
        break;
      case Top.LIMIT:
        text('the scan limit stopped the search ' + (S.top && !S.top.pts ? fmtBytes(S.top.end) + ' into the file' : 'here') + ' — ');
        button('search further', () => { set(Top.IDLE); load(); });
        break;
      case Top.START:
        text('— start of history —');
        break;
      case Top.COMPRESSED: {
        text('— older generations are compressed: ');
        const a = document.createElement('a'); a.href = v.downloadUrl(S.why);
        a.textContent = 'download ' + shownName(baseName(S.why));
        a.title = shownName(S.why);
        topEl.appendChild(a);
        text(' (' + S.kind + ') —');
        break;
      }
      case Top.DROPPED:
        text('— older lines dropped (keep ' + v.view.keep.toLocaleString('en-US') + ') —');
        break;
      case Top.GONE:
        text('— the older file is gone (rotated away and deleted) —');
        break;
      case Top.UNSUPPORTED:
        text('— this server cannot read older lines (before=) —');
        break;
      case Top.ERROR:
        text('loading older lines failed: ' + S.why + ' — ');
        button('retry', () => { set(Top.IDLE); load(); });
        break;
      default:
        break;
    }
  }

  // ------------------------------------------------ permalinks
  // One short request: the text (format=text) of the last `lines` lines
  // before `end` in the file (inode, born), and the window's first byte
  // with its tag.
  function fetchWindow(end, m, lines) {
    const q = pointQuery('before', { offset: end, inode: m.inode, born: m.born }) + '&lines=' + lines + '&format=text';
    return new Promise((resolve) => {
      let start = null, tag = null, text = '';
      // One file's request, a merged view's line too (its own file's path).
      const ws = openSocket({ base: app.base, path: v.sources[m.source || 0], query: q, token: app.token }, {
        onText(t) { text += t; },
        onMeta(o) { if (typeof o.offset === 'number' && start === null) { start = o.offset; tag = validTag(o.tag); } },
        onClose(ev) { clearTimeout(timer); resolve(ev.code === 1000 && start !== null ? { start, tag, text } : null); },
      });
      const timer = setTimeout(() => { closeSocket(ws); resolve(null); }, 5000);
    });
  }
  /**
   * Where a line starts: { offset, tag } (tag where known). A line knows
   * its message's end offset and its index in it; the server counts the
   * lines back from there (before= the end, as many lines as follow it in
   * the message: the window's first byte is the line's).
   */
  async function lineOffset(m, k) {
    if (!m || m.end === null) return null;
    const partial = k >= m.n;
    if (!m.q) {
      if (k === 0 && !m.cont && m.start !== null) return { offset: m.start, tag: m.tag };
      // The window of the lines from this one to the message's end starts
      // at this line; a partial line starts where the last whole one ends.
      const w = await fetchWindow(m.end, m, partial ? 1 : m.n - k);
      if (!w) return null;
      if (!partial) return { offset: w.start, tag: w.tag };
      return m.n || m.cont ? { offset: w.start + utf8len(w.text), tag: null } : { offset: m.start, tag: m.tag };
    }
    // A search result: the server's window with the filter starts anywhere
    // after the previous match, so read the lines before the message's end
    // without it and count the matching ones back.
    const w = await fetchWindow(m.end, m, app.maxLines);
    if (!w) return null;
    if (partial) return { offset: w.start + utf8len(w.text), tag: null };
    const at = offsetOfMatch(w.text, w.start, m.q, m.n - k);
    return at === null ? null : { offset: at, tag: null };
  }

  /** A merged view's file J at a time: its first line at or after `ms` ({offset, inode, born, tag}), or null. */
  function pointAtTime(J, ms) {
    const q = 'since=' + encodeURIComponent(new Date(ms).toISOString()) + '&format=text';
    return new Promise((resolve) => {
      let done = false;
      const end = (r) => { if (!done) { done = true; clearTimeout(timer); closeSocket(ws); resolve(r); } };
      const ws = openSocket({ base: app.base, path: v.sources[J], query: q, token: app.token }, {
        onMeta(o) {
          if (typeof o.offset === 'number' && o.inode !== undefined) {
            end({ offset: o.offset, inode: String(o.inode), born: validBorn(o.born), tag: validTag(o.tag) });
          }
        },
        onClose() { end(null); },
      });
      const timer = setTimeout(() => end(null), 5000);
    });
  }

  return {
    loadSoon, load, stop, render, lineOffset, pointAtTime,
    /** Before the start frame of a new view. */
    reset() { S.top = null; set(Top.NONE); S.progress = null; S.seen = new Set(); render(); },
    /** Nothing above: a file not shown as text. */
    none() { stop(); S.top = null; set(Top.NONE); render(); },
    /** A permalink's line: its context above comes from before= its offset. */
    above(at) {
      S.top = at.pts ? mergedTop(at.pts) : { inode: at.inode, born: at.born, tag: at.tag, end: at.offset, skip: 0, prev: null };
      set(Top.IDLE); render();
    },
    /** The stream's start frame: where the text begins, so where history ends. */
    started(p, limit) {
      S.progress = null;
      S.top = p.pts ? mergedTop(p.pts) : { inode: p.inode, born: p.born, tag: p.tag, end: p.offset, skip: 0, prev: p.previous || null };
      set(limit ? Top.LIMIT : Top.IDLE);
      // A merged view opened at the start of every file: nothing above.
      if (!limit && S.top.pts && S.top.pts.every((pt) => pt.end <= 0 && !pt.prev)) { S.top = null; set(Top.START); }
      render();
    },
    /** After Clear: what is above is everything before the stream's position. */
    cleared(p) {
      stop();
      S.top = p && p.pts ? mergedTop(p.pts) : p ? { inode: p.inode, born: p.born, tag: p.tag, end: Number(p.offset), skip: 0, prev: null } : null;
      set(S.top ? Top.IDLE : Top.NONE);
      render();
    },
    /**
     * After the oldest lines went: the next older window ends just above the
     * first line left — its message's end, less the lines of that message
     * from it on (the server counts lines back from a line boundary).
     */
    afterDrop(first, pendingLeft) {
      stop();
      const m = first && first.m;
      if (m && m.pos && m.end !== null && m.pos.every(Boolean)) {
        // A merged view: every file where it stood when that message came,
        // its own file at the message's end.
        const pts = m.pos.map((p) => ({ ...p }));
        pts[m.source] = { inode: m.inode, born: m.born, tag: null, offset: m.end };
        S.top = mergedTop(pts, Math.max(0, m.n - first.k));
        set(Top.IDLE);
      } else if (m && !m.pos && m.end !== null && m.inode !== null) {
        S.top = { inode: m.inode, born: m.born, tag: null, end: m.end, skip: Math.max(0, m.n - first.k), prev: null };
        set(Top.IDLE);
      } else if (first || pendingLeft) {
        S.top = null; set(Top.DROPPED);
      }
      render();
    },
    setProgress(p) { S.progress = p; render(); },
    stoppedAtLimit: () => S.state === Top.LIMIT,
  };
}
