// The viewer of one file: where the view was opened (the last lines, a
// time, a line, a server search), and the parts that show it — the view
// (view.js), the live stream (stream.js), the history above (history.js)
// and the controls (controls.js). Each part owns its state and reaches the
// others through `v`; this module starts them and starts the view over.
//
// The view is one stretch of the log's history, lines in file order across
// generations: older windows are loaded above it on demand (before=), the
// live stream (tail=1) appends below. Each line remembers the message that
// brought it (newMsg below), which is what scrolling back past dropped lines
// and permalinks need.

import {
  baseName, clampInt, formatHash, formatMergeHash, mergeQuery, parseHash, parseMergeHash, shortNames, shownName,
} from './?asset=util.js';
import { createView } from './?asset=view.js';
import { createStream } from './?asset=stream.js';
import { createHistory } from './?asset=history.js';
import { createControls } from './?asset=controls.js';
import { createLegend } from './?asset=legend.js';
import { createStrip } from './?asset=strip.js';

const DEFAULT_INITIAL = 1000;

/**
 * `filePath`: the one file followed; `merged`: the files of a merged view
 * (`/?merge=/A&merge=/B…`, then filePath is null): one timeline of them
 * all, each line marked with its file (legend.js).
 */
export function startViewer(app, filePath, merged = null) {
  const { $ } = app;
  for (const el of document.querySelectorAll('.fileonly')) el.hidden = false;
  $('view').hidden = false;
  const sources = merged || [filePath];
  const names = shortNames(sources);
  const title = merged ? names.join(' + ') : shownName(filePath);
  $('filename').textContent = merged ? shownName(title) : shownName(filePath);
  $('filename').title = merged ? sources.map(shownName).join('\n') : shownName(filePath);
  document.title = (merged ? shownName(title) : shownName(baseName(filePath))) + ' — wstail';
  if (merged) document.body.classList.add('merged');

  const v = {
    app, filePath,
    /** The files of a merged view (null for one file), their paths and short names. */
    merged, sources, names,
    /** What a WebSocket request of this view goes to: one file's path, or "/" with the merge= list. */
    target: (query) => (merged ? { path: '/', query: mergeQuery(merged) + '&' + query } : { path: filePath, query }),
    /** What the view was opened on: a server search (q), a time, a line (at), else the last `initial` lines. */
    where: {
      q: '', since: null, at: null,
      initial: clampInt(app.prefs.get('lines', DEFAULT_INITIAL), 0, 100000, DEFAULT_INITIAL),
    },
    targetMode: () => !!(v.where.at || v.where.since),
    downloadUrl: (p) => app.withToken(app.here(p, 'download')),
    /**
     * A message record: where the lines of one server message came from —
     * the source (one file here; a merged view numbers its files), the file
     * (inode and birth time), the offsets around the message (start = the
     * offset frame before it, with its tag; end = the one after it), how
     * many lines started and ended in it (n), the server search it came
     * from, and whether it began by continuing a line of the previous one.
     */
    newMsg: (inode, born, start, tag, cont, source = 0, pos = null) => ({
      source, pos, inode, born, start: start === null ? null : Number(start), tag, end: null, n: 0, q: v.where.q, cont,
    }),
    readHash() {
      const h = merged ? parseMergeHash(location.hash, merged.length) : parseHash(location.hash);
      v.where.at = h.at;
      v.where.since = h.since;
      v.controls.showSince(h.since);
    },
    writeHash() {
      const h = merged ? formatMergeHash(v.where) : formatHash(v.where);
      history.replaceState(history.state, '', location.pathname + location.search + (h ? '#' + h : ''));
    },
    lineLink: (at) => (merged ? app.here('/', mergeQuery(merged)) + '#' + formatMergeHash({ at })
      : app.here(filePath) + '#' + formatHash({ at })),
    /** Starts the view over from where it is opened. */
    restart() {
      v.stream.stop();
      v.history.stop();
      v.view.reset();
      v.history.reset();
      v.strip.redraw();
      if (v.where.at) v.history.above(v.where.at);
      v.stream.start();
      if (v.where.at) v.history.load();
    },
    /** The end, following: when the newest lines were dropped, the view starts over from the file's end. */
    toEnd() {
      if (v.view.paused) v.controls.unpause();
      if (v.view.gapBelow) {
        v.where.at = null; v.where.since = null; v.writeHash();
        v.restart();
        return;
      }
      v.view.followEnd();
    },
    /** Far up in history with the end far below: the stream stops. */
    detach() {
      v.stream.detach();
      v.view.markDetached();
    },
    /** A file that is not shown as text (binary, compressed): said, with its download. */
    notText(kind, detail) {
      v.stream.stop();
      v.history.none();
      v.view.notText(kind, detail);
      app.setStatus('idle', kind === 'binary' ? 'binary file — download it' : 'compressed (' + detail + ') — download it');
      app.retryBtn.hidden = true;
    },
    tokenChanged: () => v.controls.updateDownload(),
  };
  v.view = createView(v);
  v.stream = createStream(v);
  v.history = createHistory(v);
  v.controls = createControls(v);
  v.legend = createLegend(v);
  v.strip = createStrip(v);

  app.onStatus(() => v.view.updateCount());
  v.readHash();
  v.restart();
  v.view.focus();
}
