// Helpers for the browser tests: start the real wstail server on a free port,
// a tiny base-path proxy, Debian's chromium through playwright-core, and
// bounded waits. Every process started here is killed by its own handle.
'use strict';

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const REPO = path.resolve(__dirname, '..', '..');
// WSTAIL_BIN may name another build (or a command with arguments).
const BIN = (process.env.WSTAIL_BIN || path.join(REPO, 'target', 'release', 'wstail')).split(' ');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  // A wheel scrolls at once, as the tests measure where lines are right after it.
  '--disable-smooth-scrolling',
];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function tempDir(prefix = 'wstail-browser-') {
  return fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
}

const encPath = (p) => p.split('/').map(encodeURIComponent).join('/');

/** Starts `wstail serve` and resolves once it prints the address it listens on. */
async function startServer({ root, port = 0, args = [], timeoutMs = 10000 }) {
  const argv = [...BIN.slice(1), 'serve', '--listen', `127.0.0.1:${port}`, '--root', root, '--interval', '0.2', ...args];
  for (let attempt = 0; ; attempt++) {
    const proc = spawn(BIN[0], argv, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    const listening = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`wstail did not say where it listens within ${timeoutMs} ms; stderr:\n${stderr}`)), timeoutMs);
      proc.stderr.on('data', (d) => {
        stderr += d;
        const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stderr);
        if (m) { clearTimeout(timer); resolve(Number(m[1])); }
      });
      proc.on('error', (e) => { clearTimeout(timer); reject(e); });
      proc.on('exit', (code, sig) => { clearTimeout(timer); reject(new Error(`wstail exited (${code ?? sig}) before listening; stderr:\n${stderr}`)); });
    });
    try {
      const p = await listening;
      const server = {
        port: p, proc, url: `http://127.0.0.1:${p}`,
        stderr: () => stderr,
        exited: new Promise((r) => (proc.exitCode !== null ? r() : proc.on('exit', () => r()))),
        async kill(signal = 'SIGTERM') {
          if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
          await Promise.race([server.exited, sleep(5000)]);
        },
      };
      return server;
    } catch (e) {
      if (proc.exitCode === null) proc.kill('SIGKILL');
      // The same port right after a kill: give the kernel a moment.
      if (port !== 0 && attempt < 20 && /in use|AddrInUse/i.test(String(e.message))) { await sleep(250); continue; }
      throw e;
    }
  }
}

/**
 * A minimal reverse proxy that does what nginx does for
 * `location /logs/ { proxy_pass http://127.0.0.1:PORT/; }` with the WebSocket
 * upgrade headers and `proxy_set_header Host $http_host`: strips the prefix
 * from the request path, keeps the Host header, and pipes upgrades raw.
 */
function startPrefixProxy(prefix, targetPort) {
  const strip = (url) => (url === prefix ? '/' : url.startsWith(prefix + '/') ? url.slice(prefix.length) : null);
  const server = http.createServer((req, res) => {
    const url = strip(req.url);
    if (url === null) { res.writeHead(404, { 'Content-Type': 'text/plain' }); res.end('proxy: not under ' + prefix + '\n'); return; }
    const up = http.request({ host: '127.0.0.1', port: targetPort, method: req.method, path: url, headers: req.headers }, (ur) => {
      res.writeHead(ur.statusCode, ur.statusMessage, ur.headers);
      ur.pipe(res);
    });
    up.on('error', () => { res.writeHead(502, { 'Content-Type': 'text/plain' }); res.end('proxy: upstream down\n'); });
    req.pipe(up);
  });
  const sockets = new Set();
  server.on('upgrade', (req, sock, head) => {
    const url = strip(req.url);
    if (url === null) { sock.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'); return; }
    const up = net.connect(targetPort, '127.0.0.1', () => {
      let h = `${req.method} ${url} HTTP/1.1\r\n`;
      for (let i = 0; i < req.rawHeaders.length; i += 2) h += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`;
      up.write(h + '\r\n');
      if (head && head.length) up.write(head);
      up.pipe(sock); sock.pipe(up);
    });
    sockets.add(up); sockets.add(sock);
    const done = () => { up.destroy(); sock.destroy(); sockets.delete(up); sockets.delete(sock); };
    up.on('error', done); sock.on('error', done); up.on('close', done); sock.on('close', done);
  });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const port = server.address().port;
      resolve({
        port, url: `http://127.0.0.1:${port}`,
        close: () => new Promise((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
      });
    });
  });
}

async function launchBrowser() {
  const { chromium } = require('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30000 });
}

/** A new page in a fresh context that records page errors and console errors. */
async function newPage(browser, { colorScheme = 'light', viewport = { width: 1280, height: 720 } } = {}) {
  const context = await browser.newContext({ colorScheme, viewport });
  const page = await context.newPage();
  page.setDefaultTimeout(10000);
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push('pageerror: ' + e.message));
  page.on('console', (m) => {
    // A refused WebSocket handshake logs a console error by design of the browser.
    if (m.type() === 'error' && !/WebSocket connection|Failed to load resource/.test(m.text())) page.errors.push('console: ' + m.text());
  });
  page.close = ((orig) => async () => { await orig.call(page); await context.close(); })(page.close);
  return page;
}

/** Texts of the log lines in the page (visible or not). */
const lineTexts = (page) => page.$$eval('#log .line', (els) => els.map((e) => e.textContent));

module.exports = { REPO, BIN, sleep, tempDir, encPath, startServer, startPrefixProxy, launchBrowser, newPage, lineTexts };
