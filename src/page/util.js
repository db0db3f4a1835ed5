// Pure helpers of the viewer page: no DOM, no page state, so that node's
// own test runner checks them (tests/page/util.test.mjs). The one function
// that touches the browser, openSocket(), reads WebSocket and location only
// when it is called.

/** Reconnecting: 0.5 s, doubling to at most 10 s, reset by every connection that opens. */
const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 10000;

export class Backoff {
  constructor(first = BACKOFF_FIRST_MS, max = BACKOFF_MAX_MS) {
    this.first = first;
    this.max = max;
    this.delay = first;
  }
  /** The wait before the next attempt; the one after waits twice as long. */
  next() {
    const d = this.delay;
    this.delay = Math.min(this.delay * 2, this.max);
    return d;
  }
  reset() { this.delay = this.first; }
}

/**
 * What the line above the first one says about older lines: every state of
 * the history above the view, and nothing else.
 */
export const Top = Object.freeze({
  NONE: 'none',               // nothing to say (a fresh view before its start frame)
  IDLE: 'idle',               // older lines can be loaded (a button)
  LOADING: 'loading',         // an older window is on its way
  LIMIT: 'limit',             // a search stopped at the scan limit: "search further"
  START: 'start',             // the start of history
  COMPRESSED: 'compressed',   // older generations are compressed: their download
  DROPPED: 'dropped',         // the keep cap dropped the lines above
  GONE: 'gone',               // the older file was deleted (410)
  UNSUPPORTED: 'unsupported', // the server does not know before=
  ERROR: 'error',             // loading failed: retry
});
const TOP_STATES = new Set(Object.values(Top));
export const isTopState = (s) => TOP_STATES.has(s);

// ------------------------------------------------------------ names
/**
 * A name as the page shows it: control characters (C0, DEL, C1) and the
 * invisible bidi and direction marks that reorder what follows (a name
 * "x\u202Egol.exe" reads as "xexe.log") written as visible escapes.
 */
export function shownName(name) {
  return String(name).replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g,
    (c) => '\\u{' + c.charCodeAt(0).toString(16) + '}');
}
export const baseName = (p) => String(p).split('/').pop();

// ------------------------------------------------------------ numbers
export function clampInt(v, lo, hi, d) {
  const n = parseInt(v, 10);
  return Number.isFinite(n) ? Math.min(hi, Math.max(lo, n)) : d;
}
export function fmtBytes(n) {
  if (n < 1024) return n + ' B';
  const u = ['KiB', 'MiB', 'GiB', 'TiB'];
  let i = -1;
  do { n /= 1024; i++; } while (n >= 1024 && i < u.length - 1);
  return (n < 10 ? n.toFixed(1) : Math.round(n)) + ' ' + u[i];
}
export function fmtAge(secs, nowSecs) {
  const d = Math.max(0, nowSecs - secs);
  if (d < 60) return Math.floor(d) + ' s ago';
  if (d < 3600) return Math.floor(d / 60) + ' min ago';
  if (d < 86400) return Math.floor(d / 3600) + ' h ago';
  if (d < 86400 * 60) return Math.floor(d / 86400) + ' d ago';
  return new Date(secs * 1000).toISOString().slice(0, 10);
}
export const utf8len = (s) => new TextEncoder().encode(s).length;
const asciiLower = (s) => s.replace(/[A-Z]+/g, (c) => c.toLowerCase());

// ------------------------------------------------------------ resume points
const BORN = /^\d{1,20}\.\d{9}$/;
const TAG = /^[0-9a-f]{16}$/;
const DIGITS = /^\d{1,20}$/;
/** A birth time as the server writes it ("SECS.NNNNNNNNN"), else null. */
export const validBorn = (b) => (typeof b === 'string' && BORN.test(b) ? b : null);
/** A tag as the server writes it (16 lowercase hex digits), else null. */
export const validTag = (t) => (typeof t === 'string' && TAG.test(t) ? t : null);

/**
 * The query naming a place in a file: the offset, the inode, and what tells
 * a reused inode number apart (the birth time, the tag at the offset).
 * `kind` is 'from' (resume, permalink) or 'before' (an older window).
 */
export function pointQuery(kind, p) {
  let q = kind + '=' + p.offset + '&inode=' + p.inode;
  if (p.tag) q += '&tag=' + p.tag;
  if (p.born) q += '&born=' + p.born;
  return q;
}

// ------------------------------------------------------------ the fragment (#…)
/**
 * The address bar's fragment: `#since=T` (jump to time) or
 * `#inode=I&offset=N&born=B&tag=T` (a permalink; born and tag when known).
 * Parsed by hand: "+01:00" must keep its plus.
 */
export function parseHash(hash) {
  const h = {};
  for (const part of String(hash).replace(/^#/, '').split('&')) {
    const i = part.indexOf('=');
    if (i <= 0) continue;
    try { h[part.slice(0, i)] = decodeURIComponent(part.slice(i + 1)); } catch (e) { /* ignore */ }
  }
  const at = DIGITS.test(h.inode || '') && DIGITS.test(h.offset || '')
    ? { inode: h.inode, offset: Number(h.offset), born: validBorn(h.born), tag: validTag(h.tag) } : null;
  return { at, since: at ? null : (h.since || null) };
}
export function formatHash({ at, since }) {
  if (at) {
    let h = 'inode=' + at.inode + '&offset=' + at.offset;
    if (at.born) h += '&born=' + at.born;
    if (at.tag) h += '&tag=' + at.tag;
    return h;
  }
  return since ? 'since=' + encodeURIComponent(since) : '';
}

// ------------------------------------------------------------ URLs
export const encPath = (p) => p.split('/').map(encodeURIComponent).join('/');
/** The base path as the server wrote it into the page ("" or "/logs"). */
export const cleanBase = (b) => String(b || '').replace(/\/+$/, '');
/** A page path without the base path, percent-decoded. */
export function pathFromLocation(pathname, base) {
  let p = pathname;
  if (base && (p === base || p.startsWith(base + '/'))) p = p.slice(base.length);
  try { p = p.split('/').map(decodeURIComponent).join('/'); } catch (e) { /* keep as is */ }
  return p || '/';
}
/**
 * Every URL the page uses is absolute and starts from this page's own
 * origin and the base path: a file path starting with "//" would otherwise
 * be read as another host ("//attacker.example/x.log?download&token=…").
 */
export function httpUrl(loc, base, path, query) {
  return loc.origin + base + encPath(path) + (query ? '?' + query : '');
}
export function socketUrl(loc, base, path, query) {
  const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  return scheme + '//' + loc.host + base + encPath(path) + (query ? '?' + query : '');
}
export function withToken(url, token) {
  return token ? url + (url.includes('?') ? '&' : '?') + 'token=' + encodeURIComponent(token) : url;
}

/**
 * Opens the page's one kind of WebSocket: `path` on this origin with
 * `query` (meta=1 added) and the token, binary frames as ArrayBuffers.
 * `handlers`: onOpen(), onText(string), onMeta(object), onClose(event).
 * Returns the socket, or null (then onClose got {code: 0, reason}).
 */
export function openSocket({ base, path, query, token }, handlers) {
  let ws;
  try {
    ws = new WebSocket(withToken(socketUrl(location, base, path, query + '&meta=1'), token));
  } catch (e) {
    if (handlers.onClose) handlers.onClose({ code: 0, reason: e.message });
    return null;
  }
  ws.binaryType = 'arraybuffer';
  ws.onopen = () => { if (handlers.onOpen) handlers.onOpen(); };
  ws.onmessage = (ev) => {
    if (typeof ev.data === 'string') { if (handlers.onText) handlers.onText(ev.data); return; }
    const o = parseMeta(ev.data);
    if (o && handlers.onMeta) handlers.onMeta(o);
  };
  ws.onclose = (ev) => { if (handlers.onClose) handlers.onClose(ev); };
  return ws;
}
export function closeSocket(ws) {
  if (ws) { try { ws.close(1000); } catch (e) { /* ignore */ } }
}

// ------------------------------------------------------------ meta frames
/**
 * A meta frame: one JSON object. Inodes are kept as digit strings (an inode
 * may not fit a double); offsets fit. Anything else is null.
 */
export function parseMeta(buf) {
  let txt;
  try { txt = new TextDecoder('utf-8', { fatal: true }).decode(buf); } catch (e) { return null; }
  let o;
  try {
    o = JSON.parse(txt.replace(/"inode":(\d+)/g, '"inode":"$1"'));
  } catch (e) { return null; }
  return o && typeof o === 'object' && !Array.isArray(o) ? o : null;
}

// ------------------------------------------------------------ server fragments
// A server message is a balanced HTML fragment of whole lines, except that
// it may end in a partial line that the next message continues. It is split
// into lines, each a list of runs {c: css text, t: text}: only text and
// <span style="…">/</span> are understood, any other '<' is text (the
// server escapes, this is a second fence). The page builds DOM nodes from
// the runs (text nodes, spans styled through the CSSOM), never HTML.
const TOKEN = /<span style="([^"<>]*)">|<\/span>|[^<]+|</g;
// xterm's 16 colours (what the server sends for SGR 30-37, 90-97) become the
// theme's, as a terminal's colour scheme would: black text stays readable
// on a dark page, yellow on a light one. Foreground only.
const XTERM16 = ['000000', 'cd0000', '00cd00', 'cdcd00', '0000ee', 'cd00cd', '00cdcd', 'e5e5e5',
  '7f7f7f', 'ff0000', '00ff00', 'ffff00', '5c5cff', 'ff00ff', '00ffff', 'ffffff'];
export const themed = (style) => (';' + style).replace(/;(\s*)color:#([0-9a-fA-F]{6})/g, (all, sp, hex) => {
  const i = XTERM16.indexOf(hex.toLowerCase());
  return i < 0 ? all : ';' + sp + 'color:var(--a' + i + ')';
}).slice(1);
const ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" };
const unescape = (s) => (s.includes('&') ? s.replace(/&(amp|lt|gt|quot|#39);/g, (all, e) => ENTITIES[e]) : s);

export function splitFragment(s) {
  const lines = [];
  const stack = [];
  let cur = [], hasText = false, m;
  const add = (text) => {
    if (!text) return;
    const c = stack.join(';');
    const last = cur[cur.length - 1];
    if (last && last.c === c) last.t += text; else cur.push({ c, t: text });
  };
  TOKEN.lastIndex = 0;
  while ((m = TOKEN.exec(s)) !== null) {
    const t = m[0];
    if (m[1] !== undefined) { stack.push(themed(m[1])); continue; }
    if (t === '</span>') { stack.pop(); continue; }
    if (t === '<') { add('<'); hasText = true; continue; }
    let i = 0, j;
    while ((j = t.indexOf('\n', i)) !== -1) {
      let piece = t.slice(i, j);
      if (piece.endsWith('\r')) piece = piece.slice(0, -1);
      add(unescape(piece));
      lines.push(cur);
      cur = [];
      hasText = false;
      i = j + 1;
    }
    if (i < t.length) { add(unescape(t.slice(i))); hasText = true; }
  }
  return { lines, rest: hasText ? cur : null };
}
/** Runs joined: a line continued by the next message. */
export function joinRuns(a, b) {
  if (!b.length) return a;
  const out = a.slice();
  const last = out[out.length - 1];
  if (last && last.c === b[0].c) out[out.length - 1] = { c: last.c, t: last.t + b[0].t }; else out.push(b[0]);
  for (let i = 1; i < b.length; i++) out.push(b[i]);
  return out;
}
export const runsText = (runs) => runs.map((r) => r.t).join('');

// ------------------------------------------------------------ levels
const LEVEL_UPPER = /\b(FATAL|CRITICAL|CRIT|EMERG|EMERGENCY|ALERT|PANIC|SEVERE|ERROR|ERR|WARNING|WARN|INFO|NOTICE|DEBUG|TRACE)\b/;
const LEVEL_FIELD = /(?:\b(?:level|lvl|severity|loglevel)["']?\s*[=:]\s*["']?|\[|<)(fatal|critical|crit|panic|error|err|warning|warn|info|notice|debug|trace)\b/i;
const LEVEL_CLASS = { f: 'lv-e', c: 'lv-e', e: 'lv-e', a: 'lv-e', p: 'lv-e', s: 'lv-e', w: 'lv-w', i: 'lv-i', n: 'lv-i', d: 'lv-d', t: 'lv-d' };
/** The level class of a line by its first level word ('lv-e', 'lv-w', 'lv-i', 'lv-d'), or null. */
export function levelClass(text) {
  const a = LEVEL_UPPER.exec(text), b = LEVEL_FIELD.exec(text);
  const m = a && (!b || a.index <= b.index) ? a : b;
  return m ? LEVEL_CLASS[m[1][0].toLowerCase()] : null;
}

// ------------------------------------------------------------ the filter
/** The page's filter: { test, all } (the second global), or { error } for a bad expression, or null. */
export function makeFilter(q, regex, matchCase) {
  if (!q) return null;
  const flags = matchCase ? '' : 'i';
  const src = regex ? q : q.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  try {
    return { test: new RegExp(src, flags), all: new RegExp(src, flags + 'g') };
  } catch (e) {
    return { error: e.message };
  }
}
/** Match ranges [s0, e0, s1, e1, …] of the filter in a text, at most `max` matches. */
export function matchRanges(re, text, max) {
  const ranges = [];
  re.lastIndex = 0;
  let m;
  while ((m = re.exec(text)) !== null) {
    if (m[0].length === 0) { re.lastIndex++; continue; }
    ranges.push(m.index, m.index + m[0].length);
    if (ranges.length >= 2 * max) break;
  }
  return ranges;
}

// ------------------------------------------------------------ files
/** The compression a file's first bytes announce, by the server's table [{name, magic}], or null. */
export function compressionOf(bytes, table) {
  for (const { name, magic } of table) if (magic.every((x, i) => bytes[i] === x)) return name;
  return null;
}
/** A server search result's line: the offset of the want-th matching line from the end of a text window. */
export function offsetOfMatch(text, start, needle, want) {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const n = asciiLower(needle);
  let at = start + utf8len(text);
  for (let i = lines.length - 1; i >= 0; i--) {
    at -= utf8len(lines[i]) + 1;
    if (asciiLower(lines[i]).includes(n) && --want === 0) return at;
  }
  return null;
}

// ------------------------------------------------------------ refusals
/** "404 Not Found: why" from a status, the phrase the server names for it, and a body. */
export function refusalLine(status, statusText, phrases, body) {
  body = String(body || '').trim().replace(/\s+/g, ' ').slice(0, 300);
  // The server's bodies may already say "404 Not Found: …".
  if (body.startsWith(String(status))) return body;
  const reason = statusText || phrases[status] || 'HTTP error';
  return status + ' ' + reason + (body ? ': ' + body : '');
}

// ------------------------------------------------------------ the merged view
/** Most files in one merged view: the server's MAX_MERGED_FILES. */
export const MAX_MERGED = 16;
/** The query of a merged view: `merge=/A&merge=/B…`, each path encoded once. */
export const mergeQuery = (paths) => paths.map((p) => 'merge=' + encodeURIComponent(p)).join('&');
/** The files a page's query names with `merge=` (in order), or null when fewer than two. */
export function mergePaths(search) {
  let list;
  try { list = new URLSearchParams(String(search)).getAll('merge'); } catch (e) { return null; }
  list = list.filter((p) => p.startsWith('/'));
  return list.length >= 2 ? list.slice(0, MAX_MERGED) : null;
}
/**
 * Short names that tell the files apart: each file's name, and as many of
 * its folders as it takes for two files with the same name to differ
 * (/var/log/nginx/error.log and /srv/app/error.log: nginx/error.log, app/error.log).
 */
export function shortNames(paths) {
  const parts = paths.map((p) => String(p).split('/').filter(Boolean));
  const depth = parts.map(() => 1);
  const name = (i) => parts[i].slice(-depth[i]).join('/') || '/';
  for (let round = 0; round < 64; round++) {
    const seen = new Map();
    paths.forEach((p, i) => { const n = name(i); seen.set(n, (seen.get(n) || []).concat(i)); });
    let changed = false;
    for (const ids of seen.values()) {
      if (ids.length < 2) continue;
      for (const i of ids) if (depth[i] < parts[i].length) { depth[i]++; changed = true; }
    }
    if (!changed) break;
  }
  return paths.map((p, i) => name(i));
}
/**
 * The colour of the k-th file of a merged view: hues a golden angle apart
 * (neighbours in the list never look alike), darker on the light theme and
 * lighter on the dark one so that the name stays readable on either.
 */
export function sourceColour(k, dark) {
  const hue = Math.round((205 + k * 137.508) % 360);
  return 'hsl(' + hue + ', ' + (dark ? 70 : 75) + '%, ' + (dark ? 68 : 38) + '%)';
}
/**
 * The comma lists naming a place in every file of a merged view, in list
 * order: `kind=N1,N2…&inode=I1,I2…`, and born= and tag= when every file
 * has one (the server takes a list only whole). `pts`: [{offset, inode, born, tag}].
 */
export function pointsQuery(kind, pts) {
  const all = (f) => pts.every((p) => p[f]);
  let q = kind + '=' + pts.map((p) => p.offset).join(',') + '&inode=' + pts.map((p) => p.inode).join(',');
  if (all('tag')) q += '&tag=' + pts.map((p) => p.tag).join(',');
  if (all('born')) q += '&born=' + pts.map((p) => p.born).join(',');
  return q;
}
/**
 * A merged view's permalink fragment: `#line=K&from=N1,N2…&inode=…[&born=…][&tag=…]`
 * (the line is file K's at its offset; the others' offsets are where they
 * stood when that line was sent), parsed into {line, pts}; null when it is not one.
 */
export function parseMergeHash(hash, n) {
  const h = {};
  for (const part of String(hash).replace(/^#/, '').split('&')) {
    const i = part.indexOf('=');
    if (i > 0) { try { h[part.slice(0, i)] = decodeURIComponent(part.slice(i + 1)); } catch (e) { /* ignore */ } }
  }
  const list = (s) => (typeof s === 'string' ? s.split(',') : null);
  const from = list(h.from), inode = list(h.inode), born = list(h.born), tag = list(h.tag);
  const line = DIGITS.test(h.line || '') ? Number(h.line) : -1;
  if (!from || !inode || from.length !== n || inode.length !== n || line < 0 || line >= n) return { at: null, since: h.since || null };
  if (!from.every((x) => DIGITS.test(x)) || !inode.every((x) => DIGITS.test(x))) return { at: null, since: h.since || null };
  const pts = from.map((o, i) => ({
    offset: Number(o), inode: inode[i],
    born: born && born.length === n ? validBorn(born[i]) : null,
    tag: tag && tag.length === n ? validTag(tag[i]) : null,
  }));
  return { at: { line, pts }, since: null };
}
export function formatMergeHash({ at, since }) {
  if (at) {
    const all = (f) => at.pts.every((p) => p[f]);
    let h = 'line=' + at.line + '&from=' + at.pts.map((p) => p.offset).join(',') + '&inode=' + at.pts.map((p) => p.inode).join(',');
    if (all('born')) h += '&born=' + at.pts.map((p) => p.born).join(',');
    if (all('tag')) h += '&tag=' + at.pts.map((p) => p.tag).join(',');
    return h;
  }
  return since ? 'since=' + encodeURIComponent(since) : '';
}

// ------------------------------------------------------------ the timeline
/** Buckets for a strip this many pixels wide: one every 6 px, 24 to 240. */
export const bucketCount = (width) => Math.max(24, Math.min(240, Math.floor(Number(width) / 6) || 24));
/** A timeline answer checked: {from, to (ms), seconds, n, sources: [{path, bytes, lines}]}, or null. */
export function parseTimeline(o) {
  if (!o || typeof o !== 'object') return null;
  const from = Date.parse(o.from), to = Date.parse(o.to), s = Number(o.bucket_seconds);
  if (!Number.isFinite(from) || !Number.isFinite(to) || !(s > 0) || !Array.isArray(o.sources) || !o.sources.length) return null;
  const n = o.sources[0] && Array.isArray(o.sources[0].bytes) ? o.sources[0].bytes.length : 0;
  if (!n) return null;
  const sources = [];
  for (const src of o.sources) {
    if (!src || !Array.isArray(src.bytes) || src.bytes.length !== n) return null;
    const lines = Array.isArray(src.lines) && src.lines.length === n ? src.lines.map((x) => Math.max(0, Number(x) || 0)) : src.bytes.map(() => 0);
    sources.push({ path: String(src.path || ''), bytes: src.bytes.map((x) => Math.max(0, Number(x) || 0)), lines });
  }
  return { from, to, seconds: s, n, sources };
}
/** The start of bucket k, in ms since 1970 (its end is the next one's start). */
export const bucketStart = (tl, k) => tl.from + k * tl.seconds * 1000;
/** The bucket a time falls in (clamped to the strip), or -1 outside it. */
export function bucketOf(tl, ms) {
  if (!Number.isFinite(ms) || ms < tl.from || ms > tl.to) return -1;
  return Math.min(tl.n - 1, Math.floor((ms - tl.from) / (tl.seconds * 1000)));
}
/**
 * The bars' heights in per cent of the strip: per bucket the files' shares
 * stacked, scaled so that the fullest bucket fills the strip; a bucket that
 * holds anything is at least MIN_BAR tall (a quiet minute stays visible
 * next to a burst). Returns [[h0, h1, …] per bucket] (one height per file).
 */
const MIN_BAR = 4;
export function stackHeights(tl) {
  const totals = [];
  for (let k = 0; k < tl.n; k++) totals.push(tl.sources.reduce((a, s) => a + s.bytes[k], 0));
  const max = Math.max(0, ...totals);
  return totals.map((t, k) => {
    if (!t || !max) return tl.sources.map(() => 0);
    const h = Math.max(MIN_BAR, (100 * t) / max);
    return tl.sources.map((s) => (h * s.bytes[k]) / t);
  });
}
/** A time as the strip says it: "2026-12-06 10:05:00 UTC" (seconds only when the bucket is shorter than a minute). */
export function fmtTime(ms, withSeconds) {
  const iso = new Date(ms).toISOString();
  return iso.slice(0, 10) + ' ' + iso.slice(11, withSeconds ? 19 : 16) + ' UTC';
}
/** What a bucket's hover says: its time span and its size per file. */
export function bucketLabel(tl, k, names) {
  const secs = tl.seconds < 60 || tl.seconds % 60 !== 0 || tl.from % 60000 !== 0;
  let s = fmtTime(bucketStart(tl, k), secs) + ' – ' + fmtTime(bucketStart(tl, k + 1), secs).replace(/^\d{4}-\d\d-\d\d /, '');
  const total = tl.sources.reduce((a, src) => a + src.bytes[k], 0);
  const lines = tl.sources.reduce((a, src) => a + src.lines[k], 0);
  s += ': ' + fmtBytes(total) + (lines ? ', about ' + Math.round(lines).toLocaleString('en-US') + (Math.round(lines) === 1 ? ' line' : ' lines') : '');
  if (tl.sources.length > 1) {
    s += ' (' + tl.sources.map((src, i) => (names && names[i] ? names[i] : 'file ' + (i + 1)) + ' ' + fmtBytes(src.bytes[k])).join(', ') + ')';
  }
  return s;
}
/** A bucket's start as since= takes it (RFC 3339 UTC, whole seconds rounded down). */
export const sinceOf = (tl, k) => new Date(Math.floor(bucketStart(tl, k) / 1000) * 1000).toISOString().replace('.000Z', 'Z');

const MONTHS = { jan: 0, feb: 1, mar: 2, apr: 3, may: 4, jun: 5, jul: 6, aug: 7, sep: 8, oct: 9, nov: 10, dec: 11 };
const ISO_TIME = /(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:[.,](\d{1,9}))?\s?(Z|[+-]\d\d:?\d\d)?/;
const CLF_TIME = /\[(\d\d)\/([A-Z][a-z]{2})\/(\d{4}):(\d\d):(\d\d):(\d\d)(?: ([+-]\d{4}))?\]/;
const zoneMs = (z) => {
  if (!z || z === 'Z') return 0;
  const m = /([+-])(\d\d):?(\d\d)/.exec(z);
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) * 60000;
};
/**
 * The time of a line, in ms, for marking the view's part of the strip:
 * the first RFC 3339 / ISO 8601 time in it, or a common log format one
 * ([06/Dec/2026:10:00:00 +0000]); a time without a zone is taken as UTC,
 * as the server takes it. Null when none (the server recognises more forms;
 * the mark is then left out).
 */
export function lineTime(text) {
  const s = String(text).slice(0, 300);
  let m = ISO_TIME.exec(s);
  if (m) {
    const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], m[7] ? Number((m[7] + '00').slice(0, 3)) : 0);
    return ms - zoneMs(m[8]);
  }
  m = CLF_TIME.exec(s);
  if (m && MONTHS[m[2].toLowerCase()] !== undefined) {
    return Date.UTC(+m[3], MONTHS[m[2].toLowerCase()], +m[1], +m[4], +m[5], +m[6]) - zoneMs(m[7]);
  }
  return null;
}
