// The view: the log's lines in the DOM. It owns what is shown and where the
// reader is — batched rendering (at most once per frame, less often under a
// firehose), chunks of lines, the keep cap (dropping on the far side of the
// reader), autoscroll only at the bottom, pause, the filter's hiding and
// highlighting, levels, the count and the "jump to end" button.
//
// An item is a line {t: 'l', r: runs, m: message, k: index}, a continuation
// of the last line {t: 'c', el, r}, or a marker {t: 'm', text, cls}. A line
// keeps the message record that brought it (m: its source, inode, born,
// offsets, search), which scrolling back and permalinks need.

import { clampInt, joinRuns, levelClass, matchRanges, shownName, baseName } from './?asset=util.js';

const DEFAULT_KEEP = 10000;
const MAX_MARKS_PER_LINE = 500;
const CHUNK = 100;               // lines per layout chunk in the log
const GAP_STREAM_MAX = 32 << 20; // text only counted below the view before the stream stops

export function createView(v) {
  const { app } = v;
  const { $ } = app;
  const log = $('log'), topEl = $('top'), jumpBtn = $('jump'), countEl = $('count'), emptyEl = $('empty');
  const noticeEl = $('notice'), linkBtn = $('linkbtn');

  const S = {
    keep: clampInt(app.prefs.get('keep', DEFAULT_KEEP), 100, 1000000, DEFAULT_KEEP),
    pending: [], lastItem: null, openEl: null,
    /** The last line shown is unfinished: the next text continues it. */
    open: false,
    raf: 0, flushTimer: 0, nextFlushAt: 0, countTimer: 0,
    nElems: 0, nLines: 0, nHidden: 0, dropped: 0, unseen: 0,
    paused: false, follow: true, anchorTop: false,
    // far up in history with the newest lines dropped: they are only counted
    gapBelow: false, newCount: 0, gapChars: 0, detached: false,
    // opened at a time or on a line
    targetItem: null, targetEl: null, positioned: false, userMoved: false,
    /** 'binary' | 'compressed' when the file is not shown as text. */
    shown: null,
    /** The filter: { test, all } or null. */
    filter: null,
  };

  // ------------------------------------------------ input: is the reader moving?
  // A scroll that no wheel, key, touch or pointer caused (a chunk rendered at
  // its real height) does not count as the reader leaving the bottom. No
  // input yet: performance.now() starts at 0. Scrolling (the wheel, a touch,
  // the scroll bar, a navigation key) is told apart from other input
  // (Ctrl+C): only the reader scrolling up loads older lines.
  let pointerDown = false, lastInput = -1e9, lastScroll = -1e9;
  const input = (scrolling) => {
    lastInput = performance.now(); S.userMoved = true;
    if (scrolling) lastScroll = lastInput;
  };
  const userScrolling = () => pointerDown || performance.now() - lastInput < 800;
  const readerScrolling = () => pointerDown || performance.now() - lastScroll < 800;
  const forgetInput = () => { lastInput = -1e9; lastScroll = -1e9; };
  const readerNearTop = () => log.scrollTop + log.clientHeight / 2 < log.scrollHeight / 2;
  const TOP_LOAD_PX = 300;         // scrolling this close to the top loads the older window
  const nearTopEdge = () => log.scrollTop < TOP_LOAD_PX;

  log.addEventListener('scroll', () => {
    if (!linkBtn.hidden) linkBtn.hidden = true;
    if (userScrolling()) S.anchorTop = !S.follow && readerNearTop();
    if (readerScrolling() && nearTopEdge()) v.history.loadSoon();
    // Opened at a time or on a line: only the reader decides to follow.
    if (v.targetMode() && !userScrolling() && !S.follow) return;
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 6;
    if (atBottom === S.follow) return;
    if (!atBottom && !userScrolling()) { if (S.positioned || !v.targetMode()) log.scrollTop = log.scrollHeight; return; }
    S.follow = atBottom;
    if (atBottom) { S.unseen = 0; S.anchorTop = false; }
    updateJump();
  }, { passive: true });
  const stopFollowing = () => { if (S.follow && log.scrollHeight > log.clientHeight) { S.follow = false; updateJump(); } };
  log.addEventListener('wheel', (ev) => {
    input(true);
    if (ev.deltaY < 0) { stopFollowing(); if (log.scrollTop <= 0) v.history.loadSoon(); }
  }, { passive: true });
  log.addEventListener('touchstart', () => input(true), { passive: true });
  log.addEventListener('pointerdown', () => { pointerDown = true; input(true); });
  window.addEventListener('pointerup', () => { if (pointerDown) { pointerDown = false; input(); } });
  log.addEventListener('keydown', (ev) => {
    input(['ArrowUp', 'ArrowDown', 'PageUp', 'PageDown', 'Home', 'End', ' '].includes(ev.key));
    if (['ArrowUp', 'PageUp', 'Home'].includes(ev.key)) { stopFollowing(); if (log.scrollTop <= 0) v.history.loadSoon(); }
  });

  // ------------------------------------------------ incoming lines
  /** The stream's text, split into lines (runs): shown, or only counted when the reader is far up. */
  function take(lines, rest, m, chars) {
    if (S.gapBelow) {
      S.newCount += lines.length + (rest !== null && !S.open ? 1 : 0);
      S.open = rest !== null;
      // Far behind the end (opened far back in a big file): stop taking
      // what is only counted; End reloads the end.
      S.gapChars += chars;
      if (S.gapChars > GAP_STREAM_MAX) v.detach();
      updateCountSoon();
      return;
    }
    let cont = S.open;
    for (const r of lines) {
      if (cont) { appendToOpenLine(r); cont = false; } else pushLine(r, m, m.n++);
    }
    if (rest !== null) {
      if (cont) appendToOpenLine(rest); else pushLine(rest, m, m.n);
      S.open = true;
    } else {
      S.open = false;
      S.openEl = null;
      S.lastItem = null;
    }
    schedule();
  }
  function pushLine(r, m, k) {
    if (S.gapBelow) { S.newCount++; return; }
    const it = { t: 'l', r, m, k };
    if (S.anchorTop && S.nElems + S.pending.length >= S.keep) {
      // Read from the top (a time, a line, history): what does not fit is
      // the newest, and is dropped.
      S.gapBelow = true; S.newCount++;
      return;
    }
    if (!S.targetItem && v.targetMode() && !S.positioned) S.targetItem = it;
    S.pending.push(it);
    S.lastItem = it;
    S.openEl = null;
    if (S.pending.length > S.keep + 256) {
      const drop = S.pending.length - S.keep;
      for (let i = 0; i < drop; i++) if (S.pending[i].t === 'l') S.dropped++;
      S.pending.splice(0, drop);
      dropsChangedTop();
    }
  }
  function appendToOpenLine(r) {
    if (S.gapBelow) return;
    if (S.lastItem) S.lastItem.r = joinRuns(S.lastItem.r, r);
    else if (S.openEl && S.openEl.isConnected) S.pending.push({ t: 'c', el: S.openEl, r });
    else pushLine(r, null, 0);
  }
  function pushMarker(text, cls) {
    if (S.gapBelow) return;
    S.open = false; S.openEl = null; S.lastItem = null;
    S.pending.push({ t: 'm', text, cls });
    schedule();
  }

  // ------------------------------------------------ DOM
  // Runs become text nodes and spans styled through the CSSOM (the policy
  // allows no style attribute): never HTML.
  function renderRuns(el, runs) {
    for (const run of runs) {
      if (!run.c) { el.appendChild(document.createTextNode(run.t)); continue; }
      const span = document.createElement('span');
      span.style.cssText = run.c;
      span.textContent = run.t;
      el.appendChild(span);
    }
  }
  // Incoming lines wait in S.pending and reach the DOM at most once per
  // animation frame, and less often when a flush was slow (a firehose), so
  // that the tab keeps answering. Lines live in chunks of CHUNK elements: the
  // browser then lays out a hundred chunks, not ten thousand lines, and
  // dropping the oldest lines mostly removes whole chunks.
  function schedule() {
    if (!S.raf && !S.flushTimer && !S.paused) {
      const wait = S.nextFlushAt - performance.now();
      if (wait > 0) S.flushTimer = setTimeout(() => { S.flushTimer = 0; S.raf = requestAnimationFrame(flush); }, wait);
      else S.raf = requestAnimationFrame(flush);
    }
    updateCountSoon();
  }
  const firstChunk = () => topEl.nextElementSibling;
  const lastChunk = () => { const c = log.lastElementChild; return c === topEl ? null : c; };
  function tailChunk() {
    let c = lastChunk();
    if (!c || c.childElementCount >= CHUNK) {
      c = document.createElement('div');
      c.className = 'chunk';
      log.appendChild(c);
    }
    return c;
  }
  // A DOM element for an item; counts it.
  function makeEl(it) {
    const el = document.createElement('div');
    if (it.t === 'l') {
      el.className = 'line';
      // A merged view: the line's file, by its colour and short name in
      // the gutter (a class and a data attribute: the text stays the line's).
      if (v.merged && it.m) { el.classList.add('s' + it.m.source); el.dataset.src = v.names[it.m.source]; }
      renderRuns(el, it.r);
      el._m = it.m; el._k = it.k;
      S.nLines++;
      if (!decorate(el)) S.nHidden++;
    } else {
      el.className = 'marker' + (it.cls ? ' ' + it.cls : '');
      el.textContent = it.text;
    }
    S.nElems++;
    return el;
  }
  function flush() {
    S.raf = 0;
    if (S.paused) { updateCount(); updateJump(); return; }
    const t0 = performance.now();
    let items = S.pending;
    S.pending = [];
    if (items.length > S.keep) {
      const drop = items.length - S.keep;
      for (let i = 0; i < drop; i++) if (items[i].t === 'l') S.dropped++;
      items = items.slice(drop);
    }
    const stick = S.follow;
    let shown = 0, chunk = null;
    for (const it of items) {
      if (it.t === 'c') {
        const el = it.el;
        if (!el.isConnected) continue;
        const wasHidden = el.classList.contains('hide');
        unmark(el);
        renderRuns(el, it.r);
        const nowShown = decorate(el);
        if (wasHidden && nowShown) S.nHidden--;
        if (!wasHidden && !nowShown) S.nHidden++;
        continue;
      }
      const hiddenBefore = S.nHidden;
      const el = makeEl(it);
      if (it.t === 'l') {
        if (S.nHidden === hiddenBefore) shown++;
        if (it === S.lastItem) { S.lastItem = null; if (S.open) S.openEl = el; }
        if (it === S.targetItem) { S.targetItem = null; S.targetEl = el; el.classList.add('target'); }
      }
      if (!chunk || chunk.childElementCount >= CHUNK) chunk = tailChunk();
      chunk.appendChild(el);
    }
    trim(stick);
    if (stick) log.scrollTop = log.scrollHeight;
    else if (S.positioned || !v.targetMode()) S.unseen += shown;
    position();
    updateCount();
    updateJump();
    // A slow flush (layout included: scrollHeight above forces it) spaces
    // out the next ones, keeping at least three quarters of the time free.
    const took = performance.now() - t0;
    S.nextFlushAt = took > 12 ? performance.now() + Math.min(3 * took, 400) : 0;
  }
  // Opened at a time or on a line: that line near the top (a permalink's a
  // third down, below its context), until the reader moves.
  function position() {
    if (!S.targetEl || !S.targetEl.isConnected || S.userMoved) return;
    const want = v.where.at ? Math.round(log.clientHeight / 3) : 0;
    const d = S.targetEl.getBoundingClientRect().top - log.getBoundingClientRect().top - want;
    if (Math.abs(d) > 1) log.scrollTop += d;
    S.positioned = true;
    S.anchorTop = !S.follow && readerNearTop();
  }
  // Puts items (older lines) above the first line, the view holding still.
  function prepend(items) {
    if (!items.length) return;
    const ref = firstChunk();
    const refTop = ref ? ref.getBoundingClientRect().top : 0;
    const els = items.map(makeEl);
    const frag = document.createDocumentFragment();
    // Full chunks next to the old lines, the short one on top.
    const chunks = [];
    for (let end = els.length; end > 0; end -= CHUNK) {
      const c = document.createElement('div');
      c.className = 'chunk';
      c.append(...els.slice(Math.max(0, end - CHUNK), end));
      chunks.unshift(c);
    }
    frag.append(...chunks);
    log.insertBefore(frag, ref);
    if (ref) {
      // An instant scroll also ends a wheel's smooth scroll still running
      // towards the top, which would otherwise take the view along.
      const d = ref.getBoundingClientRect().top - refTop;
      if (Math.abs(d) > 0.5) log.scrollTo({ top: log.scrollTop + d, behavior: 'instant' });
    }
    if (!S.follow) S.anchorTop = readerNearTop();
    trim(false);
    updateCount(); updateJump();
  }

  // ------------------------------------------------ the keep cap
  // At most S.keep elements: lines are dropped on the far side of where the
  // reader is — the oldest while following or reading near the end, the
  // newest while reading far up (then new lines are only counted, and the
  // end is reloaded when the reader returns to it).
  function trim(stick) {
    const excess = S.nElems - S.keep;
    if (excess <= 0) return;
    if (stick || !(S.anchorTop || readerNearTop())) dropOldest(excess, stick);
    else dropNewest(excess);
  }
  function dropOldest(excess, stick) {
    // Scroll anchoring may keep the reader's place by itself; if it did
    // not, move the view up by what was removed above it.
    const before = stick ? 0 : log.scrollHeight, top = log.scrollTop;
    while (excess > 0) {
      const c = firstChunk();
      if (!c) break;
      const n = Math.min(excess, c.childElementCount);
      let el = c.firstElementChild, last = el;
      for (let i = 0; i < n; i++) {
        if (!el.classList.contains('marker')) {
          S.nLines--; S.dropped++;
          if (el.classList.contains('hide')) S.nHidden--;
        }
        if (el === S.openEl) S.openEl = null;
        last = el;
        el = el.nextElementSibling;
      }
      if (n === c.childElementCount) c.remove();
      else {
        const range = document.createRange();
        range.setStartBefore(c.firstElementChild);
        range.setEndAfter(last);
        range.deleteContents();
      }
      S.nElems -= n;
      excess -= n;
    }
    if (!stick) {
      const want = top - (before - log.scrollHeight);
      if (Math.abs(log.scrollTop - want) > 2) log.scrollTop = want;
    }
    dropsChangedTop();
  }
  // After the oldest lines went, the history above starts just above the
  // first line left (or nowhere, when lines still waiting were dropped).
  function dropsChangedTop() {
    const c = firstChunk();
    let el = c ? c.firstElementChild : null;
    while (el && !el.classList.contains('line')) el = el.nextElementSibling;
    v.history.afterDrop(el ? { m: el._m, k: el._k } : null, S.pending.length > 0);
  }
  function dropNewest(excess) {
    let n = 0;
    while (n < excess) {
      const c = lastChunk();
      if (!c) break;
      const el = c.lastElementChild;
      if (!el) { c.remove(); continue; }
      if (el.classList.contains('line')) { S.nLines--; S.newCount++; if (el.classList.contains('hide')) S.nHidden--; }
      if (el === S.targetEl) S.targetEl = null;
      el.remove();
      S.nElems--; n++;
      if (!c.childElementCount) c.remove();
    }
    for (const it of S.pending) if (it.t === 'l') S.newCount++;
    S.pending = [];
    S.gapBelow = true;
    S.open = false; S.openEl = null; S.lastItem = null;
    v.stream.forgetMessage();
  }

  // ------------------------------------------------ filter and levels
  // Returns whether the line is shown; highlights the matches in its text nodes.
  function applyFilter(el) {
    const F = S.filter;
    if (!F) { el.classList.remove('hide'); return true; }
    const text = el.textContent;
    if (!F.test.test(text)) { el.classList.add('hide'); return false; }
    el.classList.remove('hide');
    highlight(el, text, matchRanges(F.all, text, MAX_MARKS_PER_LINE));
    return true;
  }
  function highlight(el, text, ranges) {
    if (!ranges.length) return;
    el.classList.add('hl');
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    const nodes = [];
    while (walker.nextNode()) nodes.push(walker.currentNode);
    let pos = 0, r = 0;
    for (const node of nodes) {
      const data = node.data, start = pos, end = pos + data.length;
      pos = end;
      while (r < ranges.length && ranges[r + 1] <= start) r += 2;
      if (r >= ranges.length || ranges[r] >= end) continue;
      const frag = document.createDocumentFragment();
      let cur = start;
      while (r < ranges.length && ranges[r] < end) {
        const s = Math.max(ranges[r], start), e = Math.min(ranges[r + 1], end);
        if (s > cur) frag.appendChild(document.createTextNode(data.slice(cur - start, s - start)));
        const mk = document.createElement('mark');
        mk.textContent = data.slice(s - start, e - start);
        frag.appendChild(mk);
        cur = e;
        if (ranges[r + 1] <= end) r += 2; else break; // the match goes on in the next text node
      }
      if (cur < end) frag.appendChild(document.createTextNode(data.slice(cur - start)));
      node.replaceWith(frag);
    }
  }
  function unmark(el) {
    if (!el.classList.contains('hl')) return;
    for (const mk of el.querySelectorAll('mark')) mk.replaceWith(mk.textContent);
    el.normalize();
    el.classList.remove('hl');
  }
  function decorate(el) {
    el.classList.remove('lv-e', 'lv-w', 'lv-i', 'lv-d');
    // Lines that carry ANSI colour keep their own colours.
    if (!el.querySelector('span')) {
      const c = levelClass(el.textContent);
      if (c) el.classList.add(c);
    }
    return applyFilter(el);
  }
  function setFilter(F) {
    S.filter = F;
    let hidden = 0;
    for (const el of log.getElementsByClassName('line')) {
      unmark(el);
      if (!applyFilter(el)) hidden++;
    }
    S.nHidden = hidden;
    updateCount();
    if (S.follow) log.scrollTop = log.scrollHeight;
  }

  // ------------------------------------------------ count and jump
  function updateCountSoon() {
    if (!S.countTimer) S.countTimer = setTimeout(() => { S.countTimer = 0; updateCount(); updateJump(); }, 250);
  }
  function updateCount() {
    const fmt = (n) => n.toLocaleString('en-US');
    const q = v.where.q;
    let t = S.filter ? fmt(S.nLines - S.nHidden) + ' of ' + fmt(S.nLines) + ' lines match'
      : fmt(S.nLines) + (S.nLines === 1 ? ' line' : ' lines');
    if (q) t += ' · server search “' + q + '”';
    if (S.dropped) t += ' · ' + fmt(S.dropped) + ' older dropped';
    if (S.gapBelow) t += ' · ' + fmt(S.newCount) + ' newer not shown';
    if (v.legend) t += v.legend.countNote();
    if (S.paused) t += ' · paused, ' + fmt(S.pending.filter((i) => i.t !== 'm').length) + ' waiting';
    countEl.textContent = t;
    emptyEl.hidden = S.nElems !== 0 || S.pending.length !== 0 || !!S.shown;
    if (!emptyEl.hidden) {
      const state = app.statusEl.dataset.state;
      emptyEl.textContent = state === 'following'
        ? (q ? (v.history.stoppedAtLimit() ? 'no match in the part searched — search further above' : 'no matching lines yet — waiting for the file to grow')
          : 'no lines yet — waiting for the file to grow')
        : app.statusText.textContent;
      emptyEl.classList.toggle('bad', state === 'refused');
    }
  }
  function updateJump() {
    const waiting = S.paused ? S.pending.length : 0;
    const n = S.gapBelow ? S.newCount : S.unseen + waiting;
    const show = S.gapBelow || (S.paused ? waiting > 0 : !S.follow);
    jumpBtn.hidden = !show;
    if (show) {
      jumpBtn.textContent = n > 0
        ? (S.detached ? 'over ' : '') + n.toLocaleString('en-US') + (S.gapBelow ? (n === 1 ? ' newer line' : ' newer lines') : (n === 1 ? ' new line' : ' new lines')) + ', jump to end ↓'
        : 'jump to end ↓';
    }
  }

  // ------------------------------------------------ whole-view changes
  function clear() {
    log.replaceChildren(topEl);
    S.nElems = 0;
    S.pending = []; S.lastItem = null; S.openEl = null;
    S.nLines = 0; S.nHidden = 0; S.dropped = 0; S.unseen = 0;
    S.gapBelow = false; S.newCount = 0; S.gapChars = 0; S.detached = false; S.targetEl = null;
    if (!linkBtn.hidden) linkBtn.hidden = true;
  }
  /** A new view (restart): empty, following unless opened at a time or a line. */
  function reset() {
    S.open = false;
    S.targetItem = null; S.positioned = false; S.userMoved = false; S.shown = null;
    forgetInput(); // the new view's scrolls are not the reader's
    noticeEl.hidden = true;
    clear();
    S.follow = !v.targetMode();
    S.anchorTop = v.targetMode();
    updateCount(); updateJump();
  }
  /** The end: following again (the caller restarts when the newest lines were dropped). */
  function followEnd() {
    S.follow = true; S.unseen = 0; S.anchorTop = false;
    log.scrollTop = log.scrollHeight;
    trim(true);
    updateJump();
    schedule();
    log.focus({ preventScroll: true });
  }
  // A file that is not shown as text: what it is, and its download.
  function notText(kind, detail) {
    S.shown = kind;
    clear();
    const what = kind === 'binary' ? 'This file holds binary data (NUL bytes), not text lines.'
      : 'This file is compressed (' + detail + '): it cannot be shown or followed as text.';
    noticeEl.replaceChildren();
    const p = document.createElement('p'); p.textContent = what;
    const a = document.createElement('a'); a.className = 'btn'; a.href = v.downloadUrl(v.filePath);
    a.textContent = 'Download ' + shownName(baseName(v.filePath));
    noticeEl.append(p, a);
    noticeEl.dataset.kind = kind;
    noticeEl.hidden = false;
    updateCount();
  }

  return {
    log, topEl,
    get keep() { return S.keep; },
    setKeep(n) { S.keep = n; trim(S.follow); schedule(); },
    get paused() { return S.paused; },
    setPaused(p) { S.paused = p; if (!p) schedule(); updateCount(); updateJump(); },
    get follow() { return S.follow; },
    get gapBelow() { return S.gapBelow; },
    get nLines() { return S.nLines; },
    get shown() { return S.shown; },
    /** The last line shown is unfinished (the next text continues it). */
    openLine: () => S.open,
    /** The unfinished last line is ended (a merged view's next text is another file's). */
    closeLine() { S.open = false; S.openEl = null; S.lastItem = null; },
    get userMoved() { return S.userMoved; },
    /** The stream stopped taking lines below: End reloads the end. */
    markDetached() { S.detached = true; updateJump(); },
    /** Follow again after Clear: nothing to hold still for. */
    clearAndFollow() { clear(); S.follow = true; S.anchorTop = false; updateCount(); updateJump(); },
    wrapChanged() { if (S.follow) log.scrollTop = log.scrollHeight; },
    take, pushMarker, prepend, position, setFilter, clear, reset, followEnd, notText,
    updateCount, updateJump, updateCountSoon,
    readerScrolling, nearTopEdge,
    fitsInView: () => log.scrollHeight <= log.clientHeight,
    focus: () => log.focus({ preventScroll: true }),
  };
}
