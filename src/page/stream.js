// The live stream: one WebSocket (tail=1) that appends below, its resume
// point (offset, inode, tag, born: a reconnect names the file by more than
// its reusable inode number), and reconnecting as the terminal client does
// (0.5 s doubling to 10 s, reset by every connection that opens), so that a
// server restart costs no line. A handshake the browser cannot explain is
// asked again over plain HTTP for its status and reason.
//
// A merged view (v.merged) is one connection for all its files: a
// {"source":K} frame says whose lines the next text message holds, every
// offset frame and event names its file, and the resume point is one per
// file (from=N1,N2…&inode=I1,I2…).

import {
  Backoff, compressionOf, openSocket, closeSocket, pointQuery, pointsQuery, shownName, splitFragment, validBorn, validTag,
} from './?asset=util.js';

const MAX_404_RETRIES = 5; // a followed file may vanish briefly during rotation

export function createStream(v) {
  const { app } = v;
  const S = {
    ws: null,
    /** Bumped by every new connection and stop: a stale socket's events are ignored. */
    gen: 0,
    /** The resume point: where the next text starts, in which file. */
    offset: null, inode: null, tag: null, born: null,
    /** No start frame yet (the first offset frame starts the history above). */
    needStart: true,
    /** The message being received (its end comes with the next offset frame). */
    curMsg: null,
    hadOpen: false, stopped: false, n404: 0,
    backoff: new Backoff(),
    retryTimer: 0, tickTimer: 0, retryAt: 0, retryWhy: '',
    // A merged view: each file's resume point, the file of the next text,
    // the start frames seen, the file whose line is open.
    pts: [], src: 0, starts: [], openSrc: -1,
  };
  const n = v.sources.length;
  const allPts = () => S.pts.length === n && S.pts.every((p) => p && p.offset !== null && p.inode !== null);

  function query() {
    const w = v.where;
    let q;
    if (v.merged) {
      if (allPts()) q = pointsQuery('from', S.pts);
      else if (w.at) q = pointsQuery('from', w.at.pts);
      else if (w.since) q = 'since=' + encodeURIComponent(w.since);
      else q = 'lines=' + w.initial;
    } else if (S.offset !== null && S.inode !== null) q = pointQuery('from', S);
    else if (w.at) q = pointQuery('from', w.at);
    else if (w.since) q = 'since=' + encodeURIComponent(w.since);
    else q = 'lines=' + w.initial;
    if (w.q) q += '&match=' + encodeURIComponent(w.q);
    return q;
  }

  function onText(msg) {
    const { lines, rest } = splitFragment(msg);
    if (v.view.gapBelow) { S.curMsg = null; v.view.take(lines, rest, null, msg.length); return; }
    if (v.merged) { mergedText(lines, rest, msg.length); return; }
    const m = v.newMsg(S.inode, S.born, S.offset, S.tag, v.view.openLine());
    S.curMsg = m;
    v.view.take(lines, rest, m, msg.length);
  }
  // A merged view's text: file K's lines (K from the source frame before
  // it), remembered with where every file stood (pos: a permalink of a line
  // names every file's place, and a window above ends there).
  function mergedText(lines, rest, chars) {
    const K = S.src, p = S.pts[K] || { offset: null, inode: null, born: null, tag: null };
    // An unfinished line of another file is not continued by this text.
    if (v.view.openLine() && S.openSrc !== K) v.view.closeLine();
    const pos = S.pts.map((x) => (x ? { ...x } : null));
    const m = v.newMsg(p.inode, p.born, p.offset, p.tag, v.view.openLine(), K, pos);
    S.curMsg = m;
    v.view.take(lines, rest, m, chars);
    S.openSrc = rest !== null ? K : -1;
  }
  function onMeta(o) {
    if (o.progress) { v.history.setProgress(o.progress); return; }
    const K = Number.isInteger(o.source) && o.source >= 0 && o.source < n ? o.source : 0;
    if (typeof o.event === 'string') {
      if (o.event === 'binary' && !v.merged) { v.notText('binary'); return; }
      // Opened at a time or on a line, the events are history: no clock time.
      const at = v.targetMode() ? '' : ' at ' + new Date().toLocaleTimeString();
      const who = v.merged ? shownName(v.names[K]) + ': ' : '';
      if (o.event === 'skipped' && typeof o.path === 'string' && typeof o.reason === 'string') {
        v.view.pushMarker('— ' + who + 'skipped the rest of ' + shownName(o.path) + ' (' + shownName(o.reason) + ')' + at + ' —', 'event');
        return;
      }
      const what = o.event === 'binary' ? 'holds binary data (NUL bytes)' : 'file ' + o.event.replace(/[^a-z]/g, '');
      v.view.pushMarker('— ' + who + what + at + ' —', 'event');
      if (o.event === 'rotated' || o.event === 'truncated') v.strip.redrawSoon();
      return;
    }
    if (v.merged && typeof o.offset !== 'number') { if (Number.isInteger(o.source)) S.src = K; return; }
    if (typeof o.offset !== 'number') return;
    if (v.merged) { mergedOffset(o, K); return; }
    if (S.curMsg) { S.curMsg.end = o.offset; S.curMsg = null; }
    if (o.inode !== undefined) {
      const inode = String(o.inode);
      // The birth time comes with start frames and after events; a client
      // keeps it for the offsets that follow in the same file.
      if (inode !== S.inode) S.born = null;
      S.inode = inode;
    }
    if (o.born !== undefined) S.born = validBorn(o.born);
    // The tag checks the content before the offset on a resume.
    S.tag = validTag(o.tag);
    S.offset = String(o.offset);
    if (S.needStart) {
      S.needStart = false;
      v.history.started({ inode: S.inode, born: S.born, tag: S.tag, offset: o.offset, previous: o.previous }, !!o.limit);
      v.view.updateCount();
    }
  }

  function mergedOffset(o, K) {
    if (S.curMsg && S.curMsg.source === K) { S.curMsg.end = o.offset; S.curMsg = null; }
    const p = S.pts[K] || (S.pts[K] = { offset: null, inode: null, born: null, tag: null });
    if (o.inode !== undefined) {
      const inode = String(o.inode);
      if (inode !== p.inode) p.born = null;
      p.inode = inode;
    }
    if (o.born !== undefined) p.born = validBorn(o.born);
    p.tag = validTag(o.tag);
    p.offset = String(o.offset);
    if (S.needStart && !S.starts[K]) {
      S.starts[K] = { inode: p.inode, born: p.born, tag: p.tag, offset: o.offset, previous: o.previous, limit: !!o.limit };
      if (S.starts.filter(Boolean).length === n) {
        S.needStart = false;
        v.history.started({ pts: S.starts.slice() }, S.starts.some((x) => x.limit));
        v.view.updateCount();
      }
    }
  }
  function clearTimers() {
    clearTimeout(S.retryTimer); S.retryTimer = 0;
    clearInterval(S.tickTimer); S.tickTimer = 0;
  }
  function connect() {
    clearTimers();
    S.stopped = false;
    app.retryBtn.hidden = true;
    const gen = ++S.gen;
    app.setStatus('connecting', S.offset !== null ? 'reconnecting…' : 'connecting…');
    let opened = false;
    S.ws = openSocket({ base: app.base, ...v.target('tail=1&format=html&' + query()), token: app.token }, {
      onOpen() {
        if (gen !== S.gen) return;
        opened = true;
        S.n404 = 0;
        S.backoff.reset();
        S.src = 0; S.openSrc = -1;
        if (S.hadOpen && !v.view.openLine()) v.view.pushMarker('— reconnected at ' + new Date().toLocaleTimeString() + ' —', 'reconnect');
        S.hadOpen = true;
        app.setStatus('following', 'following');
        v.view.updateCount();
      },
      onText(msg) { if (gen === S.gen) onText(msg); },
      onMeta(o) { if (gen === S.gen) onMeta(o); },
      onClose(ev) {
        if (gen !== S.gen) return;
        S.ws = null;
        if (ev.code === 0 && !opened && ev.reason) { refuse('cannot connect: ' + ev.reason); return; }
        if (opened) later('connection closed' + (ev.code && ev.code !== 1006 ? ' (' + ev.code + (ev.reason ? ': ' + ev.reason : '') + ')' : ''));
        else probe(gen);
      },
    });
  }
  // A refused handshake looks like a network error to a page; ask the same
  // URL over plain HTTP to learn the status (401/403/404 …) and its reason.
  // The file's first bytes also tell a compressed file (the server's 415).
  async function probe(gen) {
    app.setStatus('connecting', 'checking why the connection failed…');
    if (v.merged) { probeMerged(gen); return; }
    let res;
    try {
      res = await fetch(v.downloadUrl(v.filePath), { headers: { Range: 'bytes=0-7' }, cache: 'no-store' });
    } catch (e) {
      if (gen === S.gen) later('server unreachable');
      return;
    }
    if (gen !== S.gen) return;
    const st = res.status;
    if (st === 200 || st === 206 || st === 416) {
      let head = new Uint8Array(0);
      try {
        const rd = res.body.getReader();
        const { value } = await rd.read();
        if (value) head = value;
        await rd.cancel();
      } catch (e) { /* ignore */ }
      if (gen !== S.gen) return;
      const z = compressionOf(head, app.compressions);
      // gzip files are shown as text by the server: not the reason.
      if (z && z !== 'gzip') { v.notText('compressed', z); return; }
      // The page's own URL with the stream's query answers with the status
      // the WebSocket request got: 410 (a permalink's file is gone), 422 (no
      // timestamps for since=), 415, 400.
      let st2 = 0;
      try {
        const r2 = await fetch(app.withToken(app.here(v.filePath, query())), { cache: 'no-store' });
        st2 = r2.status;
        try { await r2.body.cancel(); } catch (e) { /* ignore */ }
      } catch (e) { /* ignore */ }
      if (gen !== S.gen) return;
      const said = {
        400: 'the server did not accept this request (' + query().replace(/&.*/, '') + ')',
        410: 'the file this link names is no longer among the log’s generations',
        415: 'the file is compressed — download it',
        422: 'no timestamp recognised in this file, so it cannot be opened at a time',
      }[st2];
      if (said) { refuse('refused: ' + app.phrase(st2) + ': ' + said); return; }
      later('connection failed');
      return;
    }
    const why = await app.refusalText(res);
    if (gen !== S.gen) return;
    if (st === 404 && S.hadOpen && S.n404 < MAX_404_RETRIES) { S.n404++; later('file gone (404), waiting for it'); return; }
    if (st >= 500 || st === 408 || st === 429) { later('server answered ' + why); return; }
    refuse('refused: ' + why);
    if (st === 401) app.askToken(app.token ? 'the token was refused' : '', () => { v.tokenChanged(); connect(); });
  }
  // A merged view's refusal: each file asked in list order over plain HTTP
  // (its first bytes), the first refused one named.
  async function probeMerged(gen) {
    for (let K = 0; K < n; K++) {
      let res;
      try {
        res = await fetch(v.downloadUrl(v.sources[K]), { headers: { Range: 'bytes=0-7' }, cache: 'no-store' });
      } catch (e) {
        if (gen === S.gen) later('server unreachable');
        return;
      }
      if (gen !== S.gen) return;
      try { await res.body.cancel(); } catch (e) { /* ignore */ }
      const st = res.status;
      if (st === 200 || st === 206 || st === 416) continue;
      const why = await app.refusalText(res);
      if (gen !== S.gen) return;
      if (st >= 500 || st === 408 || st === 429) { later('server answered ' + why); return; }
      refuse('refused: ' + shownName(v.sources[K]) + ': ' + why);
      if (st === 401) app.askToken(app.token ? 'the token was refused' : '', () => { v.tokenChanged(); connect(); });
      return;
    }
    if (S.hadOpen) { later('connection failed'); return; }
    refuse('refused: the server did not open these files together (each must have timestamps; '
      + (v.where.since ? 'since=' + v.where.since + ', ' : '') + 'at most 16 files)');
  }
  function later(why) {
    clearTimers();
    const delay = S.backoff.next();
    S.retryAt = Date.now() + delay;
    S.retryWhy = why;
    const tick = () => {
      const s = Math.max(1, Math.ceil((S.retryAt - Date.now()) / 1000));
      app.setStatus('reconnecting', 'reconnecting in ' + s + ' s' + (S.retryWhy ? ' — ' + S.retryWhy : ''));
    };
    tick();
    S.tickTimer = setInterval(tick, 250);
    S.retryTimer = setTimeout(connect, delay);
    app.retryBtn.hidden = false;
  }
  function refuse(text) {
    clearTimers();
    S.stopped = true;
    app.setStatus('refused', text);
    app.retryBtn.hidden = false;
    v.view.updateCount();
  }
  /** Closes the connection and stops retrying. */
  function stop() {
    S.gen++; S.stopped = true;
    closeSocket(S.ws); S.ws = null;
    clearTimers();
  }

  app.retryBtn.onclick = () => { S.backoff.reset(); S.n404 = 0; connect(); };
  window.addEventListener('online', () => { if (S.retryTimer) connect(); });

  return {
    connect, stop,
    /** A new view: no resume point, first connection. */
    start() {
      stop();
      S.offset = null; S.inode = null; S.tag = null; S.born = null;
      S.hadOpen = false; S.curMsg = null; S.needStart = !v.where.at;
      S.pts = []; S.starts = []; S.src = 0; S.openSrc = -1;
      S.backoff.reset();
      connect();
    },
    /** Far up in history, far from the end: stop taking what is only counted. */
    detach() {
      stop();
      app.setStatus('idle', 'reading history — the end is far below, End reloads it');
    },
    forgetMessage() { S.curMsg = null; },
    waitingForStart: () => S.needStart,
    /** The resume point, when the stream has one and no line is open. */
    position: () => (v.merged ? (allPts() ? { pts: S.pts.map((p) => ({ ...p })) } : null)
      : S.offset !== null && S.inode !== null ? { offset: S.offset, inode: S.inode, born: S.born, tag: S.tag } : null),
  };
}
