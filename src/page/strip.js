// The timeline strip above the log: the log's volume over its whole history
// (`?timeline`, one bar per bucket, stacked and coloured per file in a
// merged view), the part the view holds marked, a title on each bar with
// its time and size, and a click (or Enter on the focused bar) that opens
// the log at the bucket's start (since=, as the jump-to-time field does).
// Redrawn every REDRAW_MS while following and after a rotation. Drawn with
// DOM elements, sized through the CSSOM (the policy allows no style
// attribute). A server without ?timeline (or a file without timestamps)
// leaves the strip hidden.

import {
  bucketCount, bucketLabel, bucketOf, fmtTime, lineTime, mergeQuery, parseTimeline, sinceOf, stackHeights,
} from './?asset=util.js';

const REDRAW_MS = 30000;

export function createStrip(v) {
  const { app } = v;
  const el = app.$('strip'), bars = app.$('bars'), held = app.$('held');
  const S = { tl: null, gen: 0, timer: 0, soon: 0, focus: -1, asked: 0, markTimer: 0 };

  async function fetchTimeline() {
    const n = bucketCount(el.clientWidth || document.body.clientWidth);
    const q = 'timeline&buckets=' + n;
    const url = v.merged ? app.here('/', q + '&' + mergeQuery(v.merged)) : app.here(v.filePath, q);
    const res = await fetch(app.withToken(url), { cache: 'no-store' });
    if (!res.ok || !/json/.test(res.headers.get('content-type') || '')) {
      try { await res.body.cancel(); } catch (e) { /* ignore */ }
      return null;
    }
    return parseTimeline(await res.json());
  }
  async function redraw() {
    clearTimeout(S.soon); S.soon = 0;
    const gen = ++S.gen;
    S.asked = Date.now();
    let tl = null;
    try { tl = await fetchTimeline(); } catch (e) { tl = null; }
    if (gen !== S.gen) return;
    S.tl = tl;
    draw();
    schedule();
  }
  function schedule() {
    clearTimeout(S.timer);
    S.timer = setTimeout(() => {
      // While following: the log grows below. Reading history: it can wait.
      if (v.view.follow && !v.view.paused && !document.hidden) redraw(); else schedule();
    }, REDRAW_MS);
  }
  function draw() {
    const tl = S.tl;
    el.hidden = !tl;
    if (!tl) { bars.replaceChildren(); return; }
    const heights = stackHeights(tl);
    const frag = document.createDocumentFragment();
    heights.forEach((hs, k) => {
      const b = document.createElement('div');
      b.className = 'bucket';
      b.id = 'bucket-' + k;
      b.setAttribute('role', 'option');
      b.dataset.k = String(k);
      b.title = bucketLabel(tl, k, v.merged ? v.names : null) + ' — click to open the log here';
      hs.forEach((h, K) => {
        if (!(h > 0)) return;
        const part = document.createElement('div');
        part.className = 'part s' + K;
        part.style.height = h.toFixed(2) + '%';
        b.appendChild(part);
      });
      frag.appendChild(b);
    });
    bars.replaceChildren(frag);
    // The ends of the strip, in words: the oldest line's time, and now.
    app.$('tlfrom').textContent = fmtTime(tl.from, false);
    app.$('tlto').textContent = Math.abs(Date.now() - tl.to) < 120000 ? 'now' : fmtTime(tl.to, false);
    if (S.focus >= tl.n) S.focus = tl.n - 1;
    showFocus();
    mark();
  }
  // The part of the log the view holds: from its first line's time to its
  // last's (when the page recognises them), as a band over the bars.
  function mark() {
    const tl = S.tl;
    if (!tl) return;
    const lines = v.view.log.getElementsByClassName('line');
    let a = null, b = null;
    for (let i = 0; i < lines.length && i < 50 && a === null; i++) a = lineTime(lines[i].textContent);
    for (let i = lines.length - 1; i >= 0 && i >= lines.length - 50 && b === null; i--) b = lineTime(lines[i].textContent);
    if (a === null || b === null) { held.hidden = true; return; }
    let ka = bucketOf(tl, Math.max(tl.from, Math.min(a, b)));
    let kb = bucketOf(tl, Math.min(tl.to, Math.max(a, b)));
    if (ka < 0 || kb < 0) { held.hidden = true; return; }
    held.style.left = (100 * ka / tl.n).toFixed(3) + '%';
    held.style.width = (100 * (kb - ka + 1) / tl.n).toFixed(3) + '%';
    held.title = 'the part of the log the view holds';
    held.hidden = false;
  }
  function showFocus() {
    for (const b of bars.querySelectorAll('.bucket.focus')) b.classList.remove('focus');
    if (!S.tl || S.focus < 0) { bars.removeAttribute('aria-activedescendant'); return; }
    const b = app.$('bucket-' + S.focus);
    if (!b) return;
    b.classList.add('focus');
    bars.setAttribute('aria-activedescendant', b.id);
    bars.setAttribute('aria-label', 'timeline: ' + b.title);
  }
  function jump(k) {
    const tl = S.tl;
    if (!tl || k < 0 || k >= tl.n) return;
    v.where.at = null;
    v.where.since = sinceOf(tl, k);
    v.controls.showSince(v.where.since);
    v.writeHash();
    v.restart();
  }
  bars.addEventListener('click', (ev) => {
    const b = ev.target.closest && ev.target.closest('.bucket');
    if (!b) return;
    S.focus = Number(b.dataset.k);
    showFocus();
    jump(S.focus);
  });
  bars.addEventListener('keydown', (ev) => {
    const tl = S.tl;
    if (!tl) return;
    const step = { ArrowLeft: -1, ArrowRight: 1, Home: -1e9, End: 1e9, PageUp: -10, PageDown: 10 }[ev.key];
    if (step !== undefined) {
      ev.preventDefault();
      // Typing End in the strip moves in it, not to the log's end.
      ev.stopPropagation();
      const from = S.focus < 0 ? (step < 0 ? tl.n : -1) : S.focus;
      S.focus = Math.max(0, Math.min(tl.n - 1, from + step));
      showFocus();
    } else if (ev.key === 'Enter' || ev.key === ' ') {
      ev.preventDefault();
      if (S.focus >= 0) jump(S.focus);
    }
  });
  bars.addEventListener('focus', () => {
    if (S.focus < 0 && S.tl) { S.focus = S.tl.n - 1; showFocus(); }
  });
  // The held part moves as lines come and go: looked at now and then.
  S.markTimer = setInterval(() => { if (S.tl && !document.hidden) mark(); }, 2000);

  return {
    redraw,
    /** After a rotation: soon (the new file has its first lines by then). */
    redrawSoon() { clearTimeout(S.soon); S.soon = setTimeout(redraw, 1000); },
    get timeline() { return S.tl; },
  };
}
