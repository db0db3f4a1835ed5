// The page's entry: what the picker and the viewer share (the server's
// configuration, the base path, the token, the status line, the theme, the
// token box), then the picker ("/" or a directory) or the viewer (a file,
// or several merged: "/?merge=/A&merge=/B…").
// The others receive `app` from here; none of them imports this module.

import { cleanBase, httpUrl, mergePaths, pathFromLocation, refusalLine, withToken } from './?asset=util.js';
import { startPicker } from './?asset=picker.js';
import { startViewer } from './?asset=viewer.js';

const $ = (id) => document.getElementById(id);

// ---------------------------------------------------------------- the server's configuration
const PLACEHOLDER = '__WSTAIL' + '_BASE__'; // split so the server leaves it alone
let base = document.querySelector('meta[name="wstail-base"]').getAttribute('content') || '';
if (base === PLACEHOLDER) base = '';
base = cleanBase(base);
let config = {};
try { config = JSON.parse($('wstail-config').textContent) || {}; } catch (e) { /* a page not served by wstail */ }

const prefs = {
  get(k, d) { try { const v = localStorage.getItem('wstail.' + k); return v === null ? d : v; } catch (e) { return d; } },
  set(k, v) { try { localStorage.setItem('wstail.' + k, String(v)); } catch (e) { /* private mode */ } },
};

// ---------------------------------------------------------------- token
// Taken from ?token= once, kept for the tab (sessionStorage), and removed from
// the address bar so that it does not end up in bookmarks or screenshots.
let token = null;
try { token = sessionStorage.getItem('wstail.token'); } catch (e) { /* ignore */ }
function setToken(t) {
  token = t ? t : null;
  try { if (token) sessionStorage.setItem('wstail.token', token); else sessionStorage.removeItem('wstail.token'); } catch (e) { /* ignore */ }
}
{
  const u = new URL(location.href);
  if (u.searchParams.has('token')) {
    setToken(u.searchParams.get('token'));
    u.searchParams.delete('token');
    history.replaceState(history.state, '', u.pathname + u.search + u.hash);
  }
}

// ---------------------------------------------------------------- status line
const statusEl = $('status'), statusText = $('statustext'), retryBtn = $('retry');
const statusListeners = [];
function setStatus(state, text) {
  statusEl.dataset.state = state;
  statusText.textContent = text;
  for (const f of statusListeners) f();
}

// ---------------------------------------------------------------- theme
const THEMES = ['auto', 'dark', 'light'];
const systemDark = matchMedia('(prefers-color-scheme: dark)');
let theme = prefs.get('theme', 'auto');
function applyTheme() {
  const dark = theme === 'dark' || (theme === 'auto' && systemDark.matches);
  document.documentElement.dataset.theme = dark ? 'dark' : 'light';
  $('theme').textContent = 'Theme: ' + theme;
  $('theme').title = theme === 'auto' ? 'theme: follows the system' : 'theme: ' + theme;
}
systemDark.addEventListener('change', applyTheme);
$('theme').addEventListener('click', () => {
  theme = THEMES[(THEMES.indexOf(theme) + 1) % THEMES.length];
  prefs.set('theme', theme);
  applyTheme();
});
applyTheme();

// ---------------------------------------------------------------- token box
let onTokenEntered = null;
function askToken(message, then) {
  onTokenEntered = then;
  $('tokenmsg').textContent = message || '';
  $('tokenbox').hidden = false;
  $('tokeninput').value = '';
  $('tokeninput').focus();
}
$('tokenform').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const t = $('tokeninput').value.trim();
  if (!t) { $('tokenmsg').textContent = 'enter the token'; return; }
  setToken(t);
  $('tokenbox').hidden = true;
  const f = onTokenEntered; onTokenEntered = null;
  if (f) f();
});

/** What the picker and the viewer share. */
const app = {
  $, base, prefs,
  /** The server's --max-lines (it clamps above its own). */
  maxLines: Number(config.maxLines) > 0 ? Number(config.maxLines) : 10000,
  /** [{name, magic: [bytes]}]: the compressions the server recognises. */
  compressions: Array.isArray(config.compressions) ? config.compressions : [],
  /** The server's status phrases by status. */
  phrases: config.phrases && typeof config.phrases === 'object' ? config.phrases : {},
  get token() { return token; },
  setToken,
  /** An absolute URL on this origin under the base path. */
  here: (p, query) => httpUrl(location, base, p, query),
  withToken: (url) => withToken(url, token),
  retryBtn, statusEl, statusText, setStatus,
  onStatus: (f) => statusListeners.push(f),
  askToken,
  /** A refused HTTP answer in words. */
  async refusalText(res) {
    let body = '';
    try { body = await res.text(); } catch (e) { /* ignore */ }
    return refusalLine(res.status, res.statusText, app.phrases, body);
  },
  /** The phrase the server gives a status, with the status. */
  phrase: (status) => status + (app.phrases[status] ? ' ' + app.phrases[status] : ''),
};

$('home').href = app.here('/');
const path = pathFromLocation(location.pathname, base);
// "/?merge=/A&merge=/B…": several files as one timeline.
const merged = path === '/' ? mergePaths(location.search) : null;
if (merged) startViewer(app, null, merged);
else if (path.endsWith('/')) startPicker(app, path === '/' ? '' : path);
else startViewer(app, path);
