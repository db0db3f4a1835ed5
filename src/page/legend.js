// A merged view's legend: one button per file, in the file's colour and
// with its short name (the same as in the gutter of its lines), whose
// title is the full path. A click hides or shows that file's lines at once
// (a class on the log: nothing is reloaded, hidden lines keep coming and
// are counted). The colours are computed (util.js's sourceColour) and put
// in the page's CSS variables through the CSSOM, one for each theme.

import { shownName, sourceColour } from './?asset=util.js';

export function createLegend(v) {
  const { app } = v;
  const el = app.$('legend');
  const log = v.view.log;
  const hidden = new Set();
  if (!v.merged) return { countNote: () => '', hidden: () => false };
  const root = document.documentElement.style;
  v.sources.forEach((p, K) => {
    root.setProperty('--s' + K + '-l', sourceColour(K, false));
    root.setProperty('--s' + K + '-d', sourceColour(K, true));
  });
  // The gutter as wide as the longest short name (within bounds).
  const longest = Math.max(...v.names.map((n) => shownName(n).length));
  root.setProperty('--gutter', Math.min(24, Math.max(6, longest + 1)) + 'ch');
  const buttons = v.sources.map((p, K) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'src s' + K;
    b.setAttribute('aria-pressed', 'true');
    const sw = document.createElement('span'); sw.className = 'swatch';
    b.append(sw, document.createTextNode(shownName(v.names[K])));
    b.title = shownName(p) + ' — click to hide its lines';
    b.addEventListener('click', () => toggle(K));
    return b;
  });
  const label = document.createElement('span');
  label.className = 'label';
  label.textContent = 'files:';
  el.replaceChildren(label, ...buttons);
  el.hidden = false;

  function toggle(K) {
    const hide = !hidden.has(K);
    if (hide) hidden.add(K); else hidden.delete(K);
    log.classList.toggle('h' + K, hide);
    const b = buttons[K];
    b.setAttribute('aria-pressed', String(!hide));
    b.title = shownName(v.sources[K]) + (hide ? ' — hidden; click to show its lines' : ' — click to hide its lines');
    v.view.updateCount();
    if (v.view.follow) log.scrollTop = log.scrollHeight;
  }
  return {
    toggle,
    hidden: (K) => hidden.has(K),
    /** What the count adds: the lines of hidden files. */
    countNote() {
      if (!hidden.size) return '';
      let n = 0;
      for (const K of hidden) n += log.getElementsByClassName('s' + K).length;
      return ' · ' + n.toLocaleString('en-US') + ' of hidden files';
    },
  };
}
