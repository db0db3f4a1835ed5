// The file picker ("/" or a directory path): the files of `?list`, sorted
// and filtered as the reader types, each a link to the viewer on it. Files
// ticked (two to MAX_MERGED) open together as one timeline: the link
// "/?merge=/A&merge=/B…", which can be shared like any other.

import { MAX_MERGED, fmtAge, fmtBytes, mergeQuery, shownName } from './?asset=util.js';

export function startPicker(app, prefix) {
  const { $ } = app;
  document.title = 'wstail';
  $('picker').hidden = false;
  const box = $('pathbox'), tbody = $('files').tBodies[0], msg = $('pickmsg');
  let files = [], sortKey = 'path', sortDir = 1;
  const picked = new Set(); // paths ticked, in the order ticked
  const together = $('together'), pickAll = $('pickall');
  function updateTogether() {
    const n = picked.size;
    together.disabled = n < 2 || n > MAX_MERGED;
    together.textContent = n >= 2 ? 'Open ' + n + ' together' : 'Open together';
    together.title = n > MAX_MERGED ? 'at most ' + MAX_MERGED + ' files open together'
      : 'tick two files or more to see them as one timeline, ordered by time';
    const shown = visible();
    pickAll.checked = shown.length > 0 && shown.every((f) => picked.has(f.path));
    pickAll.indeterminate = !pickAll.checked && shown.some((f) => picked.has(f.path));
  }
  const mergeUrl = () => app.here('/', mergeQuery([...picked]));
  box.value = prefix;

  function visible() {
    const q = box.value.trim().toLowerCase();
    return q ? files.filter((f) => f.path.toLowerCase().includes(q)) : files;
  }
  function render() {
    const shown = visible().slice().sort((a, b) => {
      const x = a[sortKey], y = b[sortKey];
      return (x < y ? -1 : x > y ? 1 : 0) * sortDir;
    });
    const now = Date.now() / 1000;
    const frag = document.createDocumentFragment();
    for (const f of shown) {
      const tr = document.createElement('tr');
      const td0 = document.createElement('td'); td0.className = 'pick';
      const cb = document.createElement('input'); cb.type = 'checkbox';
      cb.checked = picked.has(f.path);
      cb.setAttribute('aria-label', 'open ' + shownName(f.path) + ' together with others');
      cb.addEventListener('change', () => { if (cb.checked) picked.add(f.path); else picked.delete(f.path); updateTogether(); });
      td0.appendChild(cb);
      const td1 = document.createElement('td'); td1.className = 'path';
      const a = document.createElement('a'); a.href = app.here(f.path); a.textContent = shownName(f.path);
      td1.appendChild(a);
      if (f.compressed) {
        const tag = document.createElement('span'); tag.className = 'tag'; tag.textContent = f.compressed;
        tag.title = 'compressed (' + f.compressed + '): opens as a download';
        td1.appendChild(tag);
      }
      const td2 = document.createElement('td'); td2.className = 'num'; td2.textContent = fmtBytes(f.size);
      td2.title = f.size.toLocaleString('en-US') + ' bytes';
      const td3 = document.createElement('td'); td3.className = 'age'; td3.textContent = fmtAge(f.modified, now);
      td3.title = new Date(f.modified * 1000).toLocaleString();
      tr.append(td0, td1, td2, td3);
      frag.appendChild(tr);
    }
    tbody.replaceChildren(frag);
    $('files').hidden = files.length === 0;
    msg.classList.remove('bad');
    msg.textContent = files.length === 0 ? 'no files under the served roots'
      : shown.length === files.length ? files.length + (files.length === 1 ? ' file' : ' files')
        : shown.length + ' of ' + files.length + ' files';
    updateTogether();
  }
  together.addEventListener('click', () => { if (!together.disabled) location.href = mergeUrl(); });
  pickAll.addEventListener('change', () => {
    for (const f of visible()) { if (pickAll.checked) picked.add(f.path); else picked.delete(f.path); }
    render();
  });
  async function load() {
    msg.classList.remove('bad');
    msg.textContent = 'loading the file list…';
    app.setStatus('connecting', 'loading the file list…');
    app.retryBtn.hidden = true;
    let res;
    try {
      res = await fetch(app.withToken(app.here('/', 'list')), { cache: 'no-store' });
    } catch (e) {
      return fail('cannot reach the server (' + e.message + ')');
    }
    if (!res.ok) {
      const why = await app.refusalText(res);
      if (res.status === 401) app.askToken(app.token ? 'the token was refused' : '', load);
      return fail('refused: ' + why);
    }
    try {
      const data = await res.json();
      files = (Array.isArray(data) ? data : []).filter((f) => f && typeof f.path === 'string')
        .map((f) => ({
          path: f.path, size: Number(f.size) || 0, modified: Number(f.modified) || 0,
          compressed: typeof f.compressed === 'string' ? f.compressed.replace(/[^a-z0-9]/g, '') : '',
        }));
    } catch (e) {
      return fail('the file list is not valid JSON');
    }
    app.setStatus('idle', 'pick a file to follow');
    render();
  }
  function fail(text) {
    msg.textContent = text;
    msg.classList.add('bad');
    $('files').hidden = true;
    app.setStatus('refused', text);
    app.retryBtn.hidden = false;
  }
  app.retryBtn.onclick = load;
  box.addEventListener('input', render);
  $('files').tHead.addEventListener('click', (ev) => {
    const key = ev.target.dataset && ev.target.dataset.key;
    if (!key) return;
    if (key === sortKey) sortDir = -sortDir; else { sortKey = key; sortDir = key === 'path' ? 1 : -1; }
    render();
  });
  $('openform').addEventListener('submit', (ev) => {
    ev.preventDefault();
    let p = box.value.trim();
    const shown = visible();
    if (!p.startsWith('/') && shown.length === 1) p = shown[0].path;
    else if (!p.startsWith('/') && p) p = '/' + p;
    if (!p) return;
    if (files.length && !p.startsWith('/')) return;
    location.href = app.here(p);
  });
  box.focus();
  load();
}
