// The controls around the view: the initial-lines selector, keep, wrap,
// levels, pause, clear, download, jump to time, the filter (and its server
// search on Enter), the keyboard shortcuts, and the permalink button with
// its flash message. Each turns a reader's action into a call on the view,
// the history or a restart; the settings are remembered in localStorage.

import { clampInt, lineTime, makeFilter } from './?asset=util.js';

export function createControls(v) {
  const { app } = v;
  const { $ } = app;
  const view = v.view;
  const log = view.log;
  const linkBtn = $('linkbtn'), sinceIn = $('since'), download = $('download');
  let filterTimer = 0, flashTimer = 0, hoverLine = null;

  // A merged view has no one file to download (each file's is in the legend's title).
  const updateDownload = () => { if (v.merged) download.hidden = true; else download.href = v.downloadUrl(v.filePath); };
  updateDownload();

  // ------------------------------------------------ lines, keep, toggles
  const linesSel = $('lines');
  const initial = v.where.initial;
  if (![...linesSel.options].some((o) => o.value === String(initial))) {
    const o = document.createElement('option'); o.value = String(initial); o.textContent = initial.toLocaleString('en-US');
    linesSel.appendChild(o);
  }
  linesSel.value = String(initial);
  linesSel.addEventListener('change', () => {
    v.where.initial = clampInt(linesSel.value, 0, 100000, v.where.initial);
    app.prefs.set('lines', v.where.initial);
    v.where.at = null; v.where.since = null; v.writeHash();
    v.restart();
  });
  const keepIn = $('keep');
  keepIn.value = String(view.keep);
  keepIn.addEventListener('change', () => {
    const n = clampInt(keepIn.value, 100, 1000000, view.keep);
    keepIn.value = String(n);
    app.prefs.set('keep', n);
    view.setKeep(n);
  });
  function toggle(id, on, apply) {
    const b = $(id);
    const set = (x) => { b.setAttribute('aria-pressed', String(x)); apply(x); };
    set(on);
    b.addEventListener('click', () => set(b.getAttribute('aria-pressed') !== 'true'));
  }
  toggle('wrap', app.prefs.get('wrap', '1') === '1', (x) => {
    document.body.classList.toggle('nowrap', !x); app.prefs.set('wrap', x ? 1 : 0);
    view.wrapChanged();
  });
  toggle('levels', app.prefs.get('levels', '1') === '1', (x) => {
    document.body.classList.toggle('levels', x); app.prefs.set('levels', x ? 1 : 0);
  });
  toggle('pause', false, (x) => {
    $('pause').textContent = x ? 'Resume' : 'Pause';
    view.setPaused(x);
  });
  $('clear').addEventListener('click', () => {
    view.clearAndFollow();
    v.history.cleared(view.openLine() ? null : v.stream.position());
  });
  $('jump').addEventListener('click', () => v.toEnd());

  // ------------------------------------------------ jump to time
  $('sinceform').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const t = sinceIn.value.trim();
    v.where.at = null;
    v.where.since = t || null;
    v.writeHash();
    v.restart();
  });
  window.addEventListener('hashchange', () => { v.readHash(); v.restart(); });

  // ------------------------------------------------ filter
  const filterIn = $('filter'), regexBtn = $('regex'), caseBtn = $('case');
  const pressed = (b) => b.getAttribute('aria-pressed') === 'true';
  function refilter() {
    const F = makeFilter(filterIn.value, pressed(regexBtn), pressed(caseBtn));
    filterIn.classList.toggle('invalid', !!(F && F.error));
    filterIn.title = F && F.error ? F.error : '';
    view.setFilter(F && !F.error ? F : null);
  }
  filterIn.addEventListener('input', () => { clearTimeout(filterTimer); filterTimer = setTimeout(refilter, 120); });
  // Enter also searches the history on the server (match=, plain text, any
  // case): the view starts over with the matching lines only, and scrolling
  // up searches further back. Escape or an empty filter ends the search.
  function serverSearch(q) {
    if (q === v.where.q) return;
    v.where.q = q;
    v.restart();
  }
  filterIn.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') { filterIn.value = ''; refilter(); serverSearch(''); view.focus(); }
    if (ev.key === 'Enter') {
      clearTimeout(filterTimer); refilter();
      serverSearch(pressed(regexBtn) ? '' : filterIn.value);
    }
  });
  for (const b of [regexBtn, caseBtn]) {
    b.addEventListener('click', () => {
      b.setAttribute('aria-pressed', String(!pressed(b)));
      refilter();
    });
  }
  document.addEventListener('keydown', (ev) => {
    const t = ev.target;
    const typing = t instanceof HTMLInputElement || t instanceof HTMLSelectElement || t instanceof HTMLTextAreaElement;
    if (typing || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (ev.key === '/') { ev.preventDefault(); filterIn.focus(); filterIn.select(); }
    if (ev.key === 'End') { ev.preventDefault(); v.toEnd(); }
  });

  // ------------------------------------------------ permalinks
  // The link names the line's file (inode, and its birth time and the tag
  // where known: an inode number alone may name a newer file) and offset,
  // so it still finds the line after the file was rotated.
  log.addEventListener('mouseover', (ev) => {
    const el = ev.target.closest && ev.target.closest('.line');
    if (!el || el === hoverLine) return;
    hoverLine = el;
    const r = el.getBoundingClientRect(), vr = $('view').getBoundingClientRect();
    linkBtn.style.top = Math.round(r.top - vr.top) + 'px';
    linkBtn.hidden = !el._m || el._m.end === null;
  });
  $('view').addEventListener('mouseleave', () => { linkBtn.hidden = true; hoverLine = null; });
  linkBtn.addEventListener('click', () => { if (hoverLine) copyLink(hoverLine); });
  async function copyLink(el) {
    const m = el._m;
    const at = await v.history.lineOffset(m, el._k);
    if (at === null) { flash('no link for this line (its offset is unknown)'); return; }
    const point = { inode: m.inode, offset: at.offset, born: m.born, tag: at.tag };
    let link;
    if (v.merged) {
      // Every file's place at that line: where each stood when the line's
      // message came; for a search result (the others' places are their
      // previous matches) each other file's first line at the line's time.
      let pts = m.pos ? m.pos.map((p) => (p ? { ...p } : null)) : null;
      const t = m.q ? lineTime(el.textContent) : null;
      if (m.q && t !== null) pts = await Promise.all(v.sources.map((p, J) => (J === m.source ? point : v.history.pointAtTime(J, t))));
      else if (m.q) pts = null;
      if (!pts || pts.some((p) => !p || p.offset === null || p.offset === undefined)) { flash('no link for this line (its place in the other files is unknown)'); return; }
      pts[m.source] = point;
      link = v.lineLink({ line: m.source, pts });
    } else link = v.lineLink(point);
    el.dataset.link = link;
    try {
      await navigator.clipboard.writeText(link);
      flash('link to the line copied');
    } catch (e) {
      flash('link: ' + link);
    }
  }
  function flash(text) {
    const f = $('flash');
    f.textContent = text;
    f.hidden = false;
    clearTimeout(flashTimer);
    flashTimer = setTimeout(() => { f.hidden = true; }, 3000);
  }

  return {
    updateDownload,
    showSince(since) { sinceIn.value = since || ''; },
    unpause() { if (view.paused) $('pause').click(); },
  };
}
