// The viewer page in a real browser (Debian's chromium, driven by
// playwright-core) against the real `wstail serve`: the picker, following,
// ANSI colour, the filter, XSS, reconnecting after a server restart, a
// firehose, the token, refusals, the base path, and screenshots in both themes.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const H = require('./harness');

const { sleep, encPath, lineTexts } = H;
let browser;

test.before(async () => { browser = await H.launchBrowser(); });
test.after(async () => { if (browser) await browser.close(); });

/** Runs fn with a server, a page and a temp dir, and cleans all three up. */
async function withServer(t, { files = {}, args = [], colorScheme } = {}, fn) {
  const dir = H.tempDir();
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), content);
  }
  const server = await H.startServer({ root: dir, args });
  const page = await H.newPage(browser, { colorScheme });
  const ctx = { dir, server, page, file: (n) => path.join(dir, n), restarted: null };
  try {
    await fn(ctx);
    assert.deepEqual(page.errors, [], 'no script errors in the page');
  } catch (e) {
    const shot = path.join(H.REPO, 'target', `failed-${t.name.replace(/\W+/g, '_')}.png`);
    await page.screenshot({ path: shot }).catch(() => {});
    e.message += `\n(screenshot: ${shot}; status: ${await page.textContent('#status').catch(() => '?')})`
      + `\npage errors: ${JSON.stringify(page.errors)}\nserver stderr:\n${server.stderr().slice(-3000)}`;
    throw e;
  } finally {
    await page.close().catch(() => {});
    await server.kill('SIGKILL');
    if (ctx.restarted) await ctx.restarted.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const numbered = (from, to, prefix = 'line ') => {
  let s = '';
  for (let i = from; i <= to; i++) s += `${prefix}${String(i).padStart(5, '0')}\n`;
  return s;
};
const waitLine = (page, text, timeout = 5000) =>
  page.waitForFunction((t) => [...document.querySelectorAll('#log .line')].some((e) => e.textContent === t), text, { timeout });
const openFile = async (ctx, name, query = '') => {
  await ctx.page.goto(ctx.server.url + encPath(ctx.file(name)) + query);
};

test('the picker lists the files with size and age, and opens one', async (t) => {
  await withServer(t, {
    files: { 'app.log': 'one\ntwo\n', 'sub/deep.log': 'x'.repeat(2048) + '\n', 'with space.log': 'spaced out\n' },
  }, async ({ page, server, file }) => {
    await page.goto(server.url + '/');
    await page.waitForFunction(() => document.querySelectorAll('#files tbody tr').length === 3);
    const rows = await page.$$eval('#files tbody tr', (trs) => trs.map((tr) => [...tr.cells].filter((c) => !c.classList.contains('pick')).map((c) => c.textContent)));
    assert.deepEqual(rows.map((r) => r[0]), [file('app.log'), file('sub/deep.log'), file('with space.log')]);
    assert.equal(rows[0][1], '8 B');
    assert.equal(rows[1][1], '2.0 KiB');
    for (const r of rows) assert.match(r[2], /^\d+ s ago$/);
    // Typing filters the list.
    await page.fill('#pathbox', 'deep');
    await page.waitForFunction(() => document.querySelectorAll('#files tbody tr').length === 1);
    await page.fill('#pathbox', '');
    // A name with a space is percent-encoded in the link and opens.
    await page.getByText(file('with space.log'), { exact: true }).click();
    await page.waitForURL(server.url + encPath(file('with space.log')));
    await waitLine(page, 'spaced out');
  });
});

test('opening a file shows its last lines, ANSI red is red, the initial-lines selector works', async (t) => {
  await withServer(t, { files: { 'big.log': numbered(1, 1500) + '\x1b[31mred alert\x1b[0m plain tail\n' } }, async (ctx) => {
    const { page } = ctx;
    await openFile(ctx, 'big.log');
    await waitLine(page, 'red alert plain tail');
    const texts = await lineTexts(page);
    assert.equal(texts.length, 1000, 'the default initial tail is 1000 lines');
    assert.equal(texts[0], 'line 00502');
    const color = await page.$eval('#log .chunk:last-child > .line:last-child span', (s) => getComputedStyle(s).color);
    const [r, g, b] = color.match(/\d+/g).map(Number);
    assert.ok(r > 150 && g < 90 && b < 90, `red alert is red, got ${color}`);
    assert.equal(await page.$eval('#log .chunk:last-child > .line:last-child', (e) => e.textContent), 'red alert plain tail');
    assert.match(await page.textContent('#status'), /following/);
    assert.match(await page.textContent('#count'), /1,000 lines/);
    // Copying a selection gives clean text, one line per line, colours gone.
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: ctx.server.url });
    await page.evaluate(() => {
      const lines = document.querySelectorAll('#log .line'), r = document.createRange();
      r.setStart(lines[997].firstChild, 5);
      r.setEndAfter(lines[999]);
      getSelection().removeAllRanges();
      getSelection().addRange(r);
    });
    await page.keyboard.press('Control+C');
    const clip = await page.evaluate(() => navigator.clipboard.readText());
    assert.equal(clip.replace(/\n$/, ''), '01499\nline 01500\nred alert plain tail');
    // Fewer initial lines: the page reconnects with lines=10.
    await page.selectOption('#lines', '10');
    await page.waitForFunction(() => document.querySelectorAll('#log .line').length === 10);
    await sleep(300);
    assert.equal((await lineTexts(page))[0], 'line 01492');
    assert.equal((await lineTexts(page)).length, 10);
  });
});

test('an appended line appears within 2 s; a partial line is continued, not duplicated', async (t) => {
  await withServer(t, { files: { 'app.log': 'first\n' } }, async (ctx) => {
    const { page } = ctx;
    await openFile(ctx, 'app.log');
    await waitLine(page, 'first');
    const t0 = Date.now();
    fs.appendFileSync(ctx.file('app.log'), 'appended \x1b[32mgreen\x1b[0m\n');
    await waitLine(page, 'appended green', 2000);
    t.diagnostic(`appended line shown after ${Date.now() - t0} ms`);
    // A partial line is flushed after an idle interval, then continued.
    fs.appendFileSync(ctx.file('app.log'), 'half a ');
    await waitLine(page, 'half a ', 3000);
    fs.appendFileSync(ctx.file('app.log'), 'line\nnext\n');
    await waitLine(page, 'next', 3000);
    assert.deepEqual(await lineTexts(page), ['first', 'appended green', 'half a line', 'next']);
  });
});

test('the filter hides non-matching lines, highlights matches, and applies to new lines', async (t) => {
  const content = 'alpha one\nbeta two\nALPHA three\n\x1b[33mgam\x1b[34mma\x1b[0m four\n';
  await withServer(t, { files: { 'f.log': content } }, async (ctx) => {
    const { page } = ctx;
    await openFile(ctx, 'f.log');
    await waitLine(page, 'gamma four');
    const visible = () => page.$$eval('#log .line', (els) => els.filter((e) => e.offsetParent !== null).map((e) => e.textContent));
    const marks = () => page.$$eval('#log .line mark', (els) => els.map((e) => e.textContent));
    await page.fill('#filter', 'alpha');
    await page.waitForFunction(() => document.querySelectorAll('#log .line.hide').length === 2);
    assert.deepEqual(await visible(), ['alpha one', 'ALPHA three'], 'case-insensitive by default');
    assert.deepEqual(await marks(), ['alpha', 'ALPHA']);
    assert.match(await page.textContent('#count'), /2 of 4 lines match/);
    // New lines are filtered too.
    fs.appendFileSync(ctx.file('f.log'), 'delta five\nalpha six\n');
    await waitLine(page, 'alpha six');
    assert.deepEqual(await visible(), ['alpha one', 'ALPHA three', 'alpha six']);
    // A match across two colour spans is highlighted in both.
    await page.fill('#filter', 'gamma');
    await page.waitForFunction(() => document.querySelectorAll('#log .line:not(.hide)').length === 1);
    assert.deepEqual(await marks(), ['gam', 'ma']);
    assert.equal(await page.$eval('#log .line:not(.hide)', (e) => e.textContent), 'gamma four');
    // Regular expressions, and case sensitivity on demand.
    await page.click('#regex');
    await page.fill('#filter', '^(beta|delta) ');
    await page.waitForFunction(() => document.querySelectorAll('#log .line:not(.hide)').length === 2);
    assert.deepEqual(await visible(), ['beta two', 'delta five']);
    assert.deepEqual(await marks(), ['beta ', 'delta ']);
    await page.fill('#filter', 'alpha');
    await page.click('#case');
    await page.waitForFunction(() => document.querySelectorAll('#log .line:not(.hide)').length === 2);
    assert.deepEqual(await visible(), ['alpha one', 'alpha six']);
    // An invalid expression is flagged and hides nothing.
    await page.fill('#filter', 'a(');
    await page.waitForSelector('#filter.invalid');
    assert.equal((await visible()).length, 6);
    // Clearing shows everything with no marks left and the text intact.
    await page.fill('#filter', '');
    await page.waitForFunction(() => document.querySelectorAll('#log .line.hide').length === 0);
    assert.deepEqual(await marks(), []);
    assert.deepEqual(await lineTexts(page), ['alpha one', 'beta two', 'ALPHA three', 'gamma four', 'delta five', 'alpha six']);
  });
});

test('log lines with HTML stay text (no XSS), file names too', async (t) => {
  const evil = [
    '<img src=x onerror="window.pwned=1">',
    '<script>window.pwned=1</script>',
    '\x1b[31m<img src=x onerror="window.pwned=1">\x1b[0m',
    '<svg onload="window.pwned=1"><a href="javascript:window.pwned=1">x</a></svg> &amp; &lt;',
  ];
  const badName = '<img src=x onerror=window.pwned=2>.log';
  await withServer(t, { files: { 'x.log': evil.join('\n') + '\n', [badName]: 'ok\n' } }, async (ctx) => {
    const { page } = ctx;
    await openFile(ctx, 'x.log');
    await waitLine(page, evil[1]);
    await sleep(500);
    assert.deepEqual(await lineTexts(page), [evil[0], evil[1], evil[0], evil[3]]);
    assert.equal(await page.$$eval('#log img, #log script, #log svg, #log a', (e) => e.length), 0);
    assert.equal(await page.evaluate(() => typeof window.pwned), 'undefined');
    fs.appendFileSync(ctx.file('x.log'), evil[1] + '\n');
    await page.waitForFunction(() => document.querySelectorAll('#log .line').length === 5);
    // The filter's highlighting must not turn text into markup either.
    await page.fill('#filter', 'script');
    await page.waitForSelector('#log mark');
    await page.goto(ctx.server.url + '/');
    await page.waitForFunction((n) => [...document.querySelectorAll('#files a')].some((a) => a.textContent.endsWith(n)), badName);
    await sleep(300);
    assert.equal(await page.$$eval('#files img', (e) => e.length), 0);
    assert.equal(await page.evaluate(() => typeof window.pwned), 'undefined');
    // The policy runs no script and applies no style but the files the
    // server serves (/?asset=, no hash, no 'unsafe-inline'): a script
    // slipped into the DOM stays inert.
    const csp = await page.evaluate(async () => (await fetch(location.href)).headers.get('content-security-policy'));
    assert.match(csp, /script-src 'self'; style-src 'self';/);
    assert.doesNotMatch(csp, /sha256|unsafe/);
    assert.match(csp, /connect-src 'self';/);
    const violations = await page.evaluate(() => new Promise((resolve) => {
      document.addEventListener('securitypolicyviolation', (e) => resolve(e.violatedDirective));
      const s = document.createElement('script');
      s.textContent = 'window.pwned = 3';
      document.body.appendChild(s);
      setTimeout(() => resolve('none'), 2000);
    }));
    assert.equal(violations, 'script-src-elem');
    assert.equal(await page.evaluate(() => typeof window.pwned), 'undefined');
    page.errors = page.errors.filter((e) => !/Content Security Policy/.test(e));
  });
});

test('server killed, lines appended while it is down, restarted: every line exactly once', async (t) => {
  await withServer(t, { files: { 'r.log': numbered(1, 100, 'L-') } }, async (ctx) => {
    const { page, server } = ctx;
    await openFile(ctx, 'r.log');
    await waitLine(page, 'L-00100');
    await page.fill('#filter', 'L-'); // the filter survives the reconnect
    await page.waitForSelector('#log mark');
    fs.appendFileSync(ctx.file('r.log'), numbered(101, 150, 'L-'));
    await waitLine(page, 'L-00150');
    await server.kill('SIGKILL');
    await page.waitForFunction(() => /reconnecting in \d+ s/.test(document.querySelector('#status').textContent), null, { timeout: 5000 });
    fs.appendFileSync(ctx.file('r.log'), numbered(151, 300, 'L-'));
    await sleep(1500);
    ctx.restarted = await H.startServer({ root: ctx.dir, port: server.port });
    await waitLine(page, 'L-00300', 20000);
    fs.appendFileSync(ctx.file('r.log'), numbered(301, 320, 'L-'));
    await waitLine(page, 'L-00320', 3000);
    await sleep(500);
    assert.deepEqual(await lineTexts(page), numbered(1, 320, 'L-').trimEnd().split('\n'));
    assert.equal(await page.$$eval('#log .line.hide', (e) => e.length), 0);
    assert.equal(await page.$eval('#log .chunk:last-child > .line:last-child mark', (e) => e.textContent), 'L-');
    assert.match(await page.textContent('#status'), /following/);
    assert.equal(await page.$$eval('#log .marker.reconnect', (e) => e.length), 1);
    // Selecting everything copies the lines alone: no marker, no highlight markup.
    const copied = await page.evaluate(() => { getSelection().selectAllChildren(document.getElementById('log')); return getSelection().toString(); });
    assert.equal(copied.replace(/\n+$/, ''), numbered(1, 320, 'L-').trimEnd());
  });
});

test('a resume passes the tag back: a file rewritten under the same inode while the server was down starts over', async (t) => {
  await withServer(t, { files: { 't.log': numbered(1, 50, 'T-') } }, async (ctx) => {
    const { page, server } = ctx;
    await openFile(ctx, 't.log');
    await waitLine(page, 'T-00050');
    await server.kill('SIGKILL');
    await page.waitForFunction(() => /reconnecting in \d+ s/.test(document.querySelector('#status').textContent), null, { timeout: 5000 });
    // Same inode, longer, other content: without the tag it would resume mid-file.
    const fd = fs.openSync(ctx.file('t.log'), 'r+');
    fs.ftruncateSync(fd, 0);
    fs.writeSync(fd, numbered(1, 80, 'U-'));
    fs.closeSync(fd);
    ctx.restarted = await H.startServer({ root: ctx.dir, port: server.port });
    await waitLine(page, 'U-00080', 20000);
    const texts = await lineTexts(page);
    assert.deepEqual(texts.filter((l) => l.startsWith('U-')), numbered(1, 80, 'U-').trimEnd().split('\n'));
    assert.equal(await page.$$eval('#log .marker', (e) => e.filter((m) => /truncated/.test(m.textContent)).length), 1);
  });
});

test('a firehose of 20,000 lines/s for 5 s keeps the page at its cap and answering clicks', async (t) => {
  await withServer(t, { files: { 'fire.log': '' } }, async (ctx) => {
    const { page } = ctx;
    await openFile(ctx, 'fire.log');
    await page.waitForFunction(() => /following/.test(document.querySelector('#status').textContent));
    const wrap = await page.$('#wrap');
    const box = await wrap.boundingBox();
    const pad = ' the quick brown fox jumps over the lazy dog INFO request served in 3 ms';
    const total = 100000, perTick = 1000, tickMs = 50;
    let written = 0, maxClick = 0, maxLines = 0, clicks = 0;
    const writer = (async () => {
      const start = Date.now();
      for (let tick = 0; written < total; tick++) {
        let s = '';
        for (let i = 0; i < perTick; i++) s += `fh ${String(++written).padStart(6, '0')}${pad}\n`;
        fs.appendFileSync(ctx.file('fire.log'), s);
        const next = start + (tick + 1) * tickMs;
        await sleep(Math.max(0, next - Date.now()));
      }
      return Date.now() - start;
    })();
    await sleep(500);
    while (written < total) {
      const before = await wrap.getAttribute('aria-pressed');
      const t0 = performance.now();
      await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
      const dt = performance.now() - t0;
      maxClick = Math.max(maxClick, dt);
      clicks++;
      assert.notEqual(await wrap.getAttribute('aria-pressed'), before, 'the click took effect');
      maxLines = Math.max(maxLines, await page.$$eval('#log .line', (e) => e.length));
      await sleep(50); // dense samples: on a loaded machine the test's own calls take most of the time
    }
    const took = await writer;
    t.diagnostic(`wrote ${total} lines in ${took} ms; ${clicks} clicks, slowest ${maxClick.toFixed(0)} ms; most lines seen ${maxLines}`);
    await waitLine(page, `fh ${String(total).padStart(6, '0')}${pad}`, 20000);
    const texts = await lineTexts(page);
    assert.equal(texts.length, 10000, 'the page holds exactly its cap of lines');
    assert.equal(texts[0], `fh ${String(total - 9999).padStart(6, '0')}${pad}`);
    assert.ok(maxLines <= 10000, `never more than the cap (${maxLines})`);
    assert.ok(clicks >= 10, `clicked ${clicks} times during the firehose`);
    assert.ok(maxClick < 200, `a click was answered within 200 ms (slowest ${maxClick.toFixed(0)} ms)`);
    assert.match(await page.textContent('#count'), /10,000 lines · 90,000 older dropped/);
  });
});

test('autoscroll stops when scrolled up, "N new lines, jump to end" resumes; pause holds the view', async (t) => {
  await withServer(t, { files: { 's.log': numbered(1, 300, 'S-') } }, async (ctx) => {
    const { page } = ctx;
    await openFile(ctx, 's.log');
    await waitLine(page, 'S-00300');
    const atBottom = () => page.$eval('#log', (l) => l.scrollHeight - l.scrollTop - l.clientHeight < 6);
    assert.ok(await atBottom());
    await page.mouse.move(400, 300);
    await page.mouse.wheel(0, -600);
    await page.waitForFunction(() => !document.querySelector('#jump').hidden);
    fs.appendFileSync(ctx.file('s.log'), numbered(301, 305, 'S-'));
    await waitLine(page, 'S-00305');
    await page.waitForFunction(() => /^5 new lines, jump to end/.test(document.querySelector('#jump').textContent));
    assert.ok(!(await atBottom()), 'the view stayed where the reader is');
    await page.click('#jump');
    await page.waitForFunction(() => document.querySelector('#jump').hidden);
    assert.ok(await atBottom());
    fs.appendFileSync(ctx.file('s.log'), numbered(306, 306, 'S-'));
    await waitLine(page, 'S-00306');
    await sleep(100);
    assert.ok(await atBottom(), 'following again');
    // Pause: new lines wait, then arrive on resume.
    await page.click('#pause');
    fs.appendFileSync(ctx.file('s.log'), numbered(307, 309, 'S-'));
    await page.waitForFunction(() => /3 new lines/.test(document.querySelector('#jump').textContent), null, { timeout: 3000 });
    assert.ok(!(await lineTexts(page)).includes('S-00307'));
    await page.click('#pause');
    await waitLine(page, 'S-00309');
    assert.ok(await atBottom());
  });
});

test('the token from the URL is used and removed from the address bar; without it the page asks', async (t) => {
  await withServer(t, { files: { 'secret.log': 'classified\n' }, args: ['--token', 's3cret'] }, async (ctx) => {
    const { page, server } = ctx;
    await page.goto(server.url + '/?token=s3cret');
    await page.waitForSelector('#files tbody tr');
    assert.equal(page.url(), server.url + '/', 'the token is gone from the address bar');
    await page.getByText(ctx.file('secret.log'), { exact: true }).click();
    await waitLine(page, 'classified');
    const href = await page.getAttribute('#download', 'href');
    assert.equal(href, server.url + encPath(ctx.file('secret.log')) + '?download&token=s3cret');
    const dl = await page.evaluate(async (h) => { const r = await fetch(h); return [r.status, await r.text()]; }, href);
    assert.deepEqual(dl, [200, 'classified\n']);
    // A fresh tab without the token: refused in words, a token box, then it works.
    const p2 = await H.newPage(browser);
    try {
      await p2.goto(server.url + encPath(ctx.file('secret.log')));
      await p2.waitForFunction(() => /refused: 401/.test(document.querySelector('#status').textContent));
      assert.ok(await p2.isVisible('#tokenbox'));
      await p2.fill('#tokeninput', 's3cret');
      await p2.press('#tokeninput', 'Enter');
      await waitLine(p2, 'classified');
      assert.deepEqual(p2.errors, []);
    } finally { await p2.close(); }
  });
});

test('refusals are shown in words and not retried forever (404, 403)', async (t) => {
  await withServer(t, { files: { 'a.log': 'a\n' } }, async (ctx) => {
    const { page, server } = ctx;
    await page.goto(server.url + encPath(ctx.file('missing.log')));
    await page.waitForFunction(() => /refused: 404 Not Found/.test(document.querySelector('#status').textContent));
    assert.equal(await page.getAttribute('#status', 'data-state'), 'refused');
    assert.ok(await page.isVisible('#retry'));
    await sleep(2500);
    assert.match(await page.textContent('#status'), /refused: 404/, 'it stopped trying');
    await page.goto(server.url + '/etc/passwd');
    await page.waitForFunction(() => /refused: 403 Forbidden/.test(document.querySelector('#status').textContent));
    // The file appears: Retry now opens it.
    await page.goto(server.url + encPath(ctx.file('missing.log')));
    await page.waitForFunction(() => /refused: 404/.test(document.querySelector('#status').textContent));
    fs.writeFileSync(ctx.file('missing.log'), 'here now\n');
    await page.click('#retry');
    await waitLine(page, 'here now');
  });
});

test('behind a reverse proxy at /logs (--base-path /logs) every URL carries the prefix', async (t) => {
  await withServer(t, { files: { 'p.log': 'proxied one\n' }, args: ['--base-path', '/logs'] }, async (ctx) => {
    const { page, server } = ctx;
    const proxy = await H.startPrefixProxy('/logs', server.port);
    try {
      await page.goto(proxy.url + '/logs/');
      await page.waitForSelector('#files tbody tr');
      assert.equal(await page.getAttribute('#files a', 'href'), proxy.url + '/logs' + encPath(ctx.file('p.log')));
      assert.equal(await page.getAttribute('#home', 'href'), proxy.url + '/logs/');
      await page.click('#files a');
      await waitLine(page, 'proxied one');
      assert.equal(await page.textContent('#filename'), ctx.file('p.log'));
      fs.appendFileSync(ctx.file('p.log'), 'proxied two\n');
      await waitLine(page, 'proxied two', 2000);
      const href = await page.getAttribute('#download', 'href');
      assert.equal(href, proxy.url + '/logs' + encPath(ctx.file('p.log')) + '?download');
      const status = await page.evaluate(async (h) => (await fetch(h, { headers: { Range: 'bytes=0-5' } })).status, href);
      assert.equal(status, 206);
    } finally { await proxy.close(); }
  });
});

test('rotation shows a marker; screenshots in the dark and the light theme', async (t) => {
  const now = new Date('2025-03-14T09:26:53Z').getTime();
  const ts = (i) => new Date(now + i * 1370).toISOString().replace('T', ' ').slice(0, 23);
  const sample = [
    `${ts(0)} INFO  server: listening on 0.0.0.0:8080`,
    `${ts(1)} DEBUG pool: 4 workers started`,
    `${ts(2)} INFO  http: GET /api/orders 200 12ms`,
    `${ts(3)} WARN  http: slow request GET /api/report took 2315ms`,
    `${ts(4)} INFO  http: POST /api/orders 201 31ms`,
    `${ts(5)} ERROR db: connection reset by peer (retrying in 2s)`,
    `${ts(6)} INFO  db: reconnected to postgres://db:5432/shop`,
    `\x1b[32m${ts(7)}\x1b[0m \x1b[1;34mjob\x1b[0m \x1b[33mnightly-export\x1b[0m finished: \x1b[1mexported 1,204 rows\x1b[0m`,
    `\x1b[31m${ts(8)} panic: index out of range [3] with length 3\x1b[0m`,
    `${ts(9)} level=info msg="cache warm" keys=18211 took=1.2s`,
    `${ts(10)} [debug] gc: pause 1.8ms, heap 212 MiB`,
    `${ts(11)} INFO  http: GET /healthz 200 0ms`,
    `${ts(12)} a long line without a level that wraps when wrapping is on: ` + 'lorem ipsum dolor sit amet '.repeat(8).trim(),
  ];
  await withServer(t, { files: { 'app/service.log': sample.join('\n') + '\n', 'app/access.log': 'GET /\n', 'syslog': 'x\n' } }, async (ctx) => {
    const { page } = ctx;
    await openFile(ctx, 'app/service.log');
    await waitLine(page, sample[12]);
    // logrotate "create": renamed away, a new file in its place.
    fs.renameSync(ctx.file('app/service.log'), ctx.file('app/service.log.1'));
    fs.writeFileSync(ctx.file('app/service.log'), '');
    await sleep(400);
    fs.appendFileSync(ctx.file('app/service.log'), `${ts(20)} INFO  server: log reopened after rotation\n${ts(21)} INFO  http: GET /api/orders 200 9ms\n`);
    await waitLine(page, `${ts(21)} INFO  http: GET /api/orders 200 9ms`, 5000);
    const marker = await page.textContent('#log .marker.event');
    assert.match(marker, /file (rotated|recreated)/);
    assert.equal(await page.$eval('#log .line.lv-e', (e) => e.textContent), sample[5]);
    assert.equal(await page.$eval('#log .line.lv-w', (e) => e.textContent), sample[3]);
    for (const scheme of ['dark', 'light']) {
      await page.emulateMedia({ colorScheme: scheme });
      await sleep(150);
      const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      const [r] = bg.match(/\d+/g).map(Number);
      assert.ok(scheme === 'dark' ? r < 60 : r > 200, `${scheme} theme background ${bg}`);
      fs.mkdirSync(path.join(H.REPO, 'target'), { recursive: true });
      await page.screenshot({ path: path.join(H.REPO, 'target', `screenshot-${scheme}.png`) });
    }
    // The picker too, in the dark.
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.goto(ctx.server.url + '/');
    await page.waitForSelector('#files tbody tr');
    await page.screenshot({ path: path.join(H.REPO, 'target', 'screenshot-picker-dark.png') });
  });
});

test('a path starting with // never sends the token to another host (issue 10.5)', async (t) => {
  await withServer(t, { files: { 'x.log': 'local\n' }, args: ['--token', 's3cret'] }, async (ctx) => {
    const { page, server } = ctx;
    const requests = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(server.url + '/?token=s3cret');
    await page.waitForSelector('#files tbody tr');
    // The same tab (the token is in its sessionStorage) opens a path that a
    // URL parser would read as another host.
    for (const evil of ['//attacker.example/x.log', '//attacker.example:8080/x.log', '/%2F/attacker.example/x.log']) {
      await page.goto(server.url + evil);
      await page.waitForFunction(() => /refused|reconnecting/.test(document.querySelector('#status').textContent), null, { timeout: 5000 });
      const href = await page.$eval('#download', (a) => a.href);
      assert.ok(href.startsWith(server.url + '/'), `the Download link stays on the server: ${href}`);
      assert.equal(new URL(href).host, new URL(server.url).host);
      assert.equal(await page.$eval('#home', (a) => a.href), server.url + '/');
    }
    // The picker's own links and the path box stay on the host too.
    await page.goto(server.url + '/');
    await page.waitForSelector('#files tbody tr');
    for (const h of await page.$$eval('#files a', (as) => as.map((a) => a.href))) assert.ok(h.startsWith(server.url + '/'), h);
    await page.fill('#pathbox', '//attacker.example/y.log');
    await page.press('#pathbox', 'Enter');
    await page.waitForFunction(() => /refused|reconnecting/.test(document.querySelector('#status').textContent), null, { timeout: 5000 });
    assert.ok(page.url().startsWith(server.url + '/'), page.url());
    const host = new URL(server.url).host;
    const away = requests.filter((u) => new URL(u).host !== host);
    assert.deepEqual(away, [], 'no request left the server');
  });
});

// ------------------------------------------------------------ history (issue 14)

/** Sets page preferences (localStorage) before any page script runs. */
const withPrefs = (page, prefs) => page.addInitScript((p) => { for (const [k, v] of Object.entries(p)) localStorage.setItem('wstail.' + k, v); }, prefs);
/** Where the first line of the log element's viewport is: its text and its offset from the log's top. */
const firstInView = (page) => page.evaluate(() => {
  const log = document.getElementById('log'), top = log.getBoundingClientRect().top;
  for (const el of document.querySelectorAll('#log .line')) {
    const r = el.getBoundingClientRect();
    if (r.bottom > top + 1) return { text: el.textContent, y: Math.round(r.top - top) };
  }
  return null;
});
const topState = (page) => page.getAttribute('#top', 'data-state');
/**
 * `&born=SECS.NNNNNNNNN` as a pattern where the file system records birth
 * times (the server sends them then), else nothing.
 */
const BORN = (file) => (fs.statSync(file).birthtimeMs > 0 ? '&born=\\d+\\.\\d{9}' : '');

/**
 * Whether the server has a history feature these tests need (the server
 * side of issue 14 landed in parts): asks it the way the page would, from a
 * page on its own origin, in a scratch directory under the root. A test
 * whose feature is missing is skipped, saying which.
 */
async function serverCan(ctx, feature) {
  const { page, server } = ctx;
  const dir = fs.mkdtempSync(path.join(ctx.dir, '.probe-'));
  const f = (n) => path.join(dir, n);
  const ws = (file, query) => page.evaluate((u) => new Promise((resolve) => {
    const w = new WebSocket(u);
    w.binaryType = 'arraybuffer';
    const r = { opened: false, text: '', frames: [] };
    w.onopen = () => { r.opened = true; };
    w.onmessage = (e) => { if (typeof e.data === 'string') r.text += e.data; else r.frames.push(new TextDecoder().decode(e.data)); };
    w.onclose = () => resolve(r);
    setTimeout(() => { try { w.close(); } catch (e) { /* ignore */ } resolve(r); }, 2000);
  }), server.url.replace('http:', 'ws:') + encPath(file) + query);
  try {
    if (!page.url().startsWith(server.url)) await page.goto(server.url + '/');
    if (feature === 'since') {
      fs.writeFileSync(f('plain.log'), 'no time here\n');
      return !(await ws(f('plain.log'), '?since=-1d&meta=1')).opened; // 422
    }
    if (feature === 'binary') {
      fs.writeFileSync(f('bin.log'), 'a\0b\n');
      return (await ws(f('bin.log'), '?meta=1')).frames.some((x) => /"binary"/.test(x));
    }
    fs.writeFileSync(f('g.log.1'), 'older\n');
    const old = new Date(Date.now() - 3600e3);
    fs.utimesSync(f('g.log.1'), old, old);
    fs.writeFileSync(f('g.log'), 'newer\n');
    const ino = fs.statSync(f('g.log.1')).ino;
    if (feature === 'the previous generation hint') {
      return (await ws(f('g.log'), '?meta=1')).frames.some((x) => /"previous"/.test(x));
    }
    if (feature === 'generations') {
      // The start frame at 0 names the generation, a window in it is served,
      // and a resume in it goes on into the newer file.
      const start = await ws(f('g.log'), '?meta=1');
      const win = await ws(f('g.log'), `?before=6&inode=${ino}&lines=5&meta=1&format=text`);
      const resume = await ws(f('g.log'), `?from=0&inode=${ino}&meta=1&format=text&tail=1`);
      return start.frames.some((x) => /"previous"/.test(x)) && win.text === 'older\n' && resume.text === 'older\nnewer\n';
    }
    if (feature === 'a chain of generations') {
      // A window at the start of g.log.1 names g.log.2, the next older one.
      fs.writeFileSync(f('g.log.2'), 'oldest\n');
      const older = new Date(Date.now() - 7200e3);
      fs.utimesSync(f('g.log.2'), older, older);
      const win = await ws(f('g.log'), `?before=6&inode=${ino}&lines=5&meta=1&format=text`);
      return win.frames.some((x) => x.includes('g.log.2'));
    }
    throw new Error('no such feature ' + feature);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
/** Skips the test (returns true) when the server lacks the feature. */
async function lacks(t, ctx, feature) {
  if (await serverCan(ctx, feature)) return false;
  t.skip(`the server does not do ${feature} yet (issue 14's server side)`);
  return true;
}
/** Scrolls the log to its very top the way a reader does (the wheel). */
async function wheelToTop(page) {
  await page.mouse.move(400, 300);
  await page.mouse.wheel(0, -1e6);
}
const shot = (page, name) => page.screenshot({ path: path.join(H.REPO, 'target', `screenshot-${name}.png`) });
/**
 * Screenshots of the page's state in the dark and the light theme and 390 px
 * wide (a phone), as target/screenshot-NAME-{dark,light,390}.png; `before`
 * runs before each (to bring something into view). Back to light and the
 * first size afterwards.
 */
async function shots(page, name, before = async () => {}) {
  fs.mkdirSync(path.join(H.REPO, 'target'), { recursive: true });
  const size = page.viewportSize();
  for (const [scheme, width, tag] of [['dark', 0, 'dark'], ['light', 0, 'light'], ['dark', 390, '390']]) {
    await page.emulateMedia({ colorScheme: scheme });
    if (width) await page.setViewportSize({ width, height: 760 });
    await sleep(120);
    await before();
    await sleep(80);
    await shot(page, `${name}-${tag}`);
  }
  await page.setViewportSize(size);
  await page.emulateMedia({ colorScheme: 'light' });
  await sleep(120);
}

test('scrolling up loads older windows and the previous generation: every line once, in order, the view holding still', async (t) => {
  await withServer(t, {
    files: { 'app.log.1': numbered(1, 5000, 'G1-'), 'app.log': numbered(1, 20000, 'C-') },
  }, async (ctx) => {
    if (await lacks(t, ctx, 'generations')) return;
    const { page } = ctx;
    // The generation is older than the current file.
    const old = new Date(Date.now() - 3600e3);
    fs.utimesSync(ctx.file('app.log.1'), old, old);
    await withPrefs(page, { keep: '30000' });
    await openFile(ctx, 'app.log');
    await waitLine(page, 'C-20000');
    assert.equal((await lineTexts(page)).length, 1000);
    let loads = 0;
    for (; loads < 40; loads++) {
      const st = await topState(page);
      if (st === 'start') break;
      const texts0 = await lineTexts(page);
      const n = texts0.length;
      // The reader scrolls up to the very top, where the first line is
      // shown just below the "older lines" bar: the older window loads
      // above it, and that line stays where it is.
      await wheelToTop(page);
      await page.waitForFunction((k) => document.querySelectorAll('#log .line').length > k || document.querySelector('#top').dataset.state === 'start', n, { timeout: 10000 });
      await sleep(50);
      if ((await lineTexts(page)).length > n) {
        const y = await page.evaluate((txt) => {
          const log = document.getElementById('log');
          const el = [...document.querySelectorAll('#log .line')].find((e) => e.textContent === txt);
          return Math.round(el.getBoundingClientRect().top - log.getBoundingClientRect().top);
        }, texts0[0]);
        assert.ok(y >= 0 && y <= 48, `the line ${texts0[0]} stayed at the top of the view (${y} px)`);
      }
    }
    t.diagnostic(`${loads} scrolls to the top`);
    assert.equal(await topState(page), 'start');
    assert.match(await page.textContent('#top'), /start of history/);
    const texts = await lineTexts(page);
    assert.equal(texts.length, 25000);
    assert.deepEqual(texts, (numbered(1, 5000, 'G1-') + numbered(1, 20000, 'C-')).trimEnd().split('\n'), 'every line exactly once, in order');
    const sep = await page.$$eval('#log .marker.gen', (els) => els.map((e) => e.textContent));
    assert.equal(sep.length, 1);
    assert.ok(sep[0].includes(ctx.file('app.log.1')), `the separator names the generation: ${sep[0]}`);
    // The separator sits between G1-05000 and C-00001.
    const around = await page.$eval('#log .marker.gen', (m) => {
      const all = [...document.querySelectorAll('#log .line, #log .marker.gen')];
      const i = all.indexOf(m);
      return [all[i - 1].textContent, all[i + 1].textContent];
    });
    assert.deepEqual(around, ['G1-05000', 'C-00001']);
    await shots(page, 'history-separator', () => page.$eval('#log .marker.gen', (m) => m.scrollIntoView({ block: 'center' })));
    await shots(page, 'history-start', () => page.$eval('#log', (l) => { l.scrollTop = 0; }));
  });
});

test('reading history while the file grows: the view holds, new lines are counted, End returns and follows', async (t) => {
  await withServer(t, { files: { 'g.log': numbered(1, 6000, 'R-') } }, async (ctx) => {
    const { page } = ctx;
    await withPrefs(page, { keep: '3500' });
    await openFile(ctx, 'g.log');
    await waitLine(page, 'R-06000');
    await wheelToTop(page);
    await waitLine(page, 'R-03001');
    let texts = await lineTexts(page);
    assert.equal(texts[0], 'R-03001');
    assert.equal(texts.length, 3000);
    const held = await firstInView(page);
    // Following goes on below; the view stays, the button counts.
    fs.appendFileSync(ctx.file('g.log'), numbered(6001, 6050, 'R-'));
    await waitLine(page, 'R-06050');
    await page.waitForFunction(() => /^50 new lines, jump to end/.test(document.querySelector('#jump').textContent));
    assert.deepEqual(await firstInView(page), held, 'the view did not move');
    // Reading further back: the keep cap (3500) drops the newest lines.
    await wheelToTop(page);
    await waitLine(page, 'R-01001');
    texts = await lineTexts(page);
    assert.equal(texts.length, 3500);
    assert.equal(texts[0], 'R-01001');
    assert.equal(texts[texts.length - 1], 'R-04500', 'the newest lines went');
    fs.appendFileSync(ctx.file('g.log'), numbered(6051, 6060, 'R-'));
    // 1550 dropped + 10 appended.
    await page.waitForFunction(() => /^1,560 newer lines, jump to end/.test(document.querySelector('#jump').textContent), null, { timeout: 5000 });
    assert.match(await page.textContent('#count'), /1,560 newer not shown/);
    await shots(page, 'history-newer');
    // End: back to the end, following again.
    await page.keyboard.press('End');
    await waitLine(page, 'R-06060');
    await page.waitForFunction(() => document.querySelector('#jump').hidden);
    texts = await lineTexts(page);
    assert.equal(texts[texts.length - 1], 'R-06060');
    assert.equal(new Set(texts).size, texts.length, 'no line twice');
    fs.appendFileSync(ctx.file('g.log'), numbered(6061, 6061, 'R-'));
    await waitLine(page, 'R-06061');
    const atBottom = await page.$eval('#log', (l) => l.scrollHeight - l.scrollTop - l.clientHeight < 6);
    assert.ok(atBottom, 'following again');
  });
});

test('jump to time: the field opens the log at that time, the address bar keeps it, the URL opens there', async (t) => {
  const t0 = Date.parse('2026-12-01T00:00:00Z');
  let content = '';
  for (let i = 0; i < 7200; i++) content += `${new Date(t0 + i * 1000).toISOString().replace('.000', '')} event ${i}\n`;
  await withServer(t, { files: { 'ts.log': content } }, async (ctx) => {
    if (await lacks(t, ctx, 'since')) return;
    const { page, server } = ctx;
    await openFile(ctx, 'ts.log');
    await waitLine(page, '2026-12-01T01:59:59Z event 7199');
    await page.fill('#since', '2026-12-01T01:00:00Z');
    await page.press('#since', 'Enter');
    await page.waitForFunction(() => location.hash === '#since=2026-12-01T01%3A00%3A00Z');
    await waitLine(page, '2026-12-01T01:00:00Z event 3600');
    await sleep(300);
    assert.equal((await lineTexts(page))[0], '2026-12-01T01:00:00Z event 3600');
    assert.deepEqual(await firstInView(page), { text: '2026-12-01T01:00:00Z event 3600', y: (await firstInView(page)).y });
    assert.ok((await firstInView(page)).y < 40, 'the view opens on that line');
    // Shared: a fresh tab with that URL opens there too; older lines above on demand.
    const p2 = await H.newPage(browser);
    try {
      await p2.goto(server.url + encPath(ctx.file('ts.log')) + '#since=2026-12-01%2000:30');
      await waitLine(p2, '2026-12-01T00:30:00Z event 1800');
      await sleep(300);
      assert.equal((await firstInView(p2)).text, '2026-12-01T00:30:00Z event 1800');
      assert.equal(await p2.inputValue('#since'), '2026-12-01 00:30');
      await wheelToTop(p2);
      await waitLine(p2, '2026-12-01T00:29:59Z event 1799');
      assert.deepEqual(p2.errors, []);
      await shots(p2, 'since');
    } finally { await p2.close(); }
  });
});

test('search the history: Enter searches back on the server, matches far from the end are found and highlighted', async (t) => {
  // The only matches lie at the start; 480 MB of other lines follow.
  // Near misses everywhere, and a scan limit of 192 MB, so that each search
  // takes well over the 100 ms after which progress frames are sent, even
  // on an idle machine (the scan runs at about 1.3 GB/s).
  const block = ('INFO ' + 'needl_ '.repeat(14) + '\n').repeat(10000);
  const SIZE = 480 * 1024 * 1024;
  await withServer(t, { files: {}, args: ['--scan-limit', '192M'] }, async (ctx) => {
    const { page } = ctx;
    const out = fs.openSync(ctx.file('big.log'), 'w');
    for (let i = 1; i <= 30; i++) fs.writeSync(out, `ERROR needle ${i} found\n`);
    while (fs.fstatSync(out).size < SIZE) fs.writeSync(out, block);
    fs.closeSync(out);
    await page.addInitScript(() => {
      window.__progress = 0;
      new MutationObserver(() => { if (document.querySelector('#top progress')) window.__progress++; })
        .observe(document, { subtree: true, childList: true });
    });
    await openFile(ctx, 'big.log');
    await page.waitForFunction(() => document.querySelectorAll('#log .line').length === 1000);
    await page.fill('#filter', 'NEEDLE');
    await page.press('#filter', 'Enter');
    let further = 0;
    for (; further < 10; further++) {
      await page.waitForFunction(() => ['limit', 'start', 'idle'].includes(document.querySelector('#top').dataset.state) && document.querySelector('#status').dataset.state === 'following', null, { timeout: 20000 });
      if (await topState(page) !== 'limit') break;
      if (further === 0) await shots(page, 'search-limit');
      await page.click('#top button');
    }
    t.diagnostic(`search further clicked ${further} times; progress shown ${await page.evaluate(() => window.__progress)} times`);
    await waitLine(page, 'ERROR needle 30 found', 20000);
    await waitLine(page, 'ERROR needle 1 found', 20000);
    const texts = await lineTexts(page);
    assert.deepEqual(texts, Array.from({ length: 30 }, (_, i) => `ERROR needle ${i + 1} found`));
    assert.equal(await page.$$eval('#log .line mark', (m) => m.filter((e) => e.textContent === 'needle').length), 30, 'every match highlighted');
    assert.ok(further >= 1, 'the scan limit stopped the first search');
    assert.ok(await page.evaluate(() => window.__progress) > 0, 'a progress bar was shown');
    await shots(page, 'search-found');
    // A search result's permalink names the line's own offset.
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: ctx.server.url });
    await page.locator('#log .line', { hasText: 'ERROR needle 7 found' }).hover({ position: { x: 60, y: 5 } });
    await page.click('#linkbtn');
    await page.waitForFunction(() => /copied/.test(document.querySelector('#flash').textContent));
    let at = 0;
    for (let i = 1; i < 7; i++) at += `ERROR needle ${i} found\n`.length;
    const link = await page.evaluate(() => navigator.clipboard.readText());
    assert.match(link, new RegExp('#inode=\\d+&offset=' + at + BORN(ctx.file('big.log')) + '$'), link);
    const p2 = await H.newPage(browser);
    try {
      await p2.goto(link);
      await waitLine(p2, 'ERROR needle 7 found');
      assert.equal(await p2.$eval('#log .line.target', (e) => e.textContent), 'ERROR needle 7 found');
      await waitLine(p2, 'ERROR needle 6 found');
    } finally { await p2.close(); }
    // Escape ends the search: the last lines again.
    await page.press('#filter', 'Escape');
    await page.waitForFunction(() => document.querySelectorAll('#log .line').length === 1000, null, { timeout: 20000 });
  });
});

test('permalinks: a line copied as a link opens on that line, highlighted, with context, also after rotation', async (t) => {
  await withServer(t, { files: { 'p.log': numbered(1, 3000, 'P-') } }, async (ctx) => {
    if (await lacks(t, ctx, 'generations')) return;
    const { page, server } = ctx;
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    await openFile(ctx, 'p.log');
    await waitLine(page, 'P-03000');
    // Hover the line, click its gutter link.
    const line = page.locator('#log .line', { hasText: 'P-02990' });
    await line.scrollIntoViewIfNeeded();
    await line.hover({ position: { x: 40, y: 5 } });
    await page.waitForSelector('#linkbtn:not([hidden])');
    await page.click('#linkbtn');
    await page.waitForFunction(() => /copied/.test(document.querySelector('#flash').textContent));
    const link = await page.evaluate(() => navigator.clipboard.readText());
    const ino = String(fs.statSync(ctx.file('p.log')).ino);
    // The file is named by its inode and its birth time (an inode number
    // alone may name a newer file), the line by its offset and its tag.
    const prefix = server.url + encPath(ctx.file('p.log')) + '#inode=' + ino + '&offset=' + (2989 * 8);
    assert.ok(link.startsWith(prefix), link);
    assert.match(link.slice(prefix.length), new RegExp('^' + BORN(ctx.file('p.log')) + '&tag=[0-9a-f]{16}$'));
    // Rotate: the line now lives in p.log.1.
    fs.renameSync(ctx.file('p.log'), ctx.file('p.log.1'));
    fs.writeFileSync(ctx.file('p.log'), numbered(1, 5, 'NEW-'));
    const p2 = await H.newPage(browser);
    try {
      await p2.goto(link);
      await waitLine(p2, 'P-02990');
      await waitLine(p2, 'NEW-00005', 5000);
      await waitLine(p2, 'P-02800', 5000);
      assert.equal(await p2.$eval('#log .line.target', (e) => e.textContent), 'P-02990');
      const texts = await lineTexts(p2);
      assert.deepEqual(texts, (numbered(2790, 3000, 'P-') + numbered(1, 5, 'NEW-')).trimEnd().split('\n'),
        '200 lines of context, the line, the rest of the old generation, the new file');
      const y = await p2.$eval('#log .line.target', (e) => e.getBoundingClientRect().top - document.getElementById('log').getBoundingClientRect().top);
      assert.ok(y > 50 && y < 720, `the line is in view with context above (${y} px)`);
      await shots(p2, 'permalink', () => p2.$eval('#log .line.target', (e) => e.scrollIntoView({ block: 'center' })));
      assert.deepEqual(p2.errors, []);
    } finally { await p2.close(); }
  });
});

test('binary and compressed files: marked in the picker; gzip shown as its text and not followed, xz and binary explained with a download, never shown as garbage', async (t) => {
  const zlib = require('node:zlib');
  await withServer(t, {
    files: { 'old.log.gz': zlib.gzipSync('compressed line\n'.repeat(100)), 'old.log.xz': Buffer.concat([Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), Buffer.from('not really xz, judged by its magic number\n')]), 'core.bin.log': Buffer.from('ELF\0\0\0\x01\x02garbage\0\0\n'.repeat(50)), 'ok.log': 'text\n' },
  }, async (ctx) => {
    if (await lacks(t, ctx, 'binary')) return;
    const { page, server } = ctx;
    await page.goto(server.url + '/');
    await page.waitForFunction(() => document.querySelectorAll('#files tbody tr').length === 4);
    const tags = await page.$$eval('#files tbody tr', (trs) => trs.map((tr) => [tr.querySelector('a').textContent, tr.querySelector('.tag') ? tr.querySelector('.tag').textContent : '']));
    assert.deepEqual(tags.find((r) => r[0].endsWith('old.log.gz'))[1], 'gzip');
    assert.deepEqual(tags.find((r) => r[0].endsWith('old.log.xz'))[1], 'xz');
    assert.deepEqual(tags.find((r) => r[0].endsWith('ok.log'))[1], '');
    await shots(page, 'picker-compressed');
    // A gzip file opens as its text (read through the inflater, not followed).
    await page.click('#files a >> text=old.log.gz');
    await waitLine(page, 'compressed line');
    assert.equal((await lineTexts(page)).length, 100);
    await sleep(1500);
    assert.equal(await page.getAttribute('#status', 'data-state'), 'idle', 'a gzip file is not followed, nor asked again');
    // xz (and zstd, bzip2) cannot be read: said, with the download.
    await openFile(ctx, 'old.log.xz');
    await page.waitForSelector('#notice:not([hidden])');
    assert.match(await page.textContent('#notice'), /compressed \(xz\)/);
    assert.equal(await page.getAttribute('#notice a', 'href'), server.url + encPath(ctx.file('old.log.xz')) + '?download');
    assert.equal((await lineTexts(page)).length, 0);
    await sleep(1500);
    assert.equal(await page.getAttribute('#status', 'data-state'), 'idle', 'not retried');
    await shots(page, 'compressed');
    await openFile(ctx, 'core.bin.log');
    await page.waitForSelector('#notice:not([hidden])');
    assert.match(await page.textContent('#notice'), /binary/);
    await sleep(500);
    assert.equal((await lineTexts(page)).length, 0, 'no garbage on screen');
    await shots(page, 'binary');
  });
});

test('the chain of generations goes on past the first and ends at a compressed one, with its download', async (t) => {
  const zlib = require('node:zlib');
  await withServer(t, {
    files: {
      'app.log.4.xz': Buffer.concat([Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), Buffer.from('not really xz, judged by its magic number\n')]),
      'app.log.3.gz': zlib.gzipSync(numbered(1, 10, 'G3-')), 'app.log.2': numbered(1, 300, 'G2-'),
      'app.log.1': numbered(1, 500, 'G1-'), 'app.log': numbered(1, 1500, 'C-'),
    },
  }, async (ctx) => {
    if (await lacks(t, ctx, 'generations') || await lacks(t, ctx, 'a chain of generations')) return;
    const { page, server } = ctx;
    for (const [name, hours] of [['app.log.1', 1], ['app.log.2', 2], ['app.log.3.gz', 3], ['app.log.4.xz', 4]]) {
      const old = new Date(Date.now() - hours * 3600e3);
      fs.utimesSync(ctx.file(name), old, old);
    }
    await openFile(ctx, 'app.log');
    await waitLine(page, 'C-01500');
    for (let i = 0; i < 10 && !['start', 'compressed'].includes(await topState(page)); i++) {
      const n = (await lineTexts(page)).length;
      await wheelToTop(page);
      await page.waitForFunction((k) => document.querySelectorAll('#log .line').length > k || ['start', 'compressed'].includes(document.querySelector('#top').dataset.state), n, { timeout: 10000 });
      await sleep(50);
    }
    assert.equal(await topState(page), 'compressed');
    assert.match(await page.textContent('#top'), /older generations are compressed/);
    assert.equal(await page.getAttribute('#top a', 'href'), server.url + encPath(ctx.file('app.log.4.xz')) + '?download');
    // The gzip generation is paged through like the plain ones.
    assert.deepEqual(await lineTexts(page), (numbered(1, 10, 'G3-') + numbered(1, 300, 'G2-') + numbered(1, 500, 'G1-') + numbered(1, 1500, 'C-')).trimEnd().split('\n'));
    const around = await page.$$eval('#log .marker.gen', (ms) => ms.map((m) => {
      const all = [...document.querySelectorAll('#log .line, #log .marker.gen')];
      const i = all.indexOf(m);
      return [m.textContent.includes('app.log.3.gz') ? 3 : m.textContent.includes('app.log.2') ? 2 : 1, all[i - 1].textContent, all[i + 1].textContent];
    }));
    assert.deepEqual(around, [[3, 'G3-00010', 'G2-00001'], [2, 'G2-00300', 'G1-00001'], [1, 'G1-00500', 'C-00001']]);
    await page.$eval('#log', (l) => { l.scrollTop = 0; });
    await shots(page, 'history-compressed', () => page.$eval('#log', (l) => { l.scrollTop = 0; }));
  });
});

test('a compressed generation ends the history: said, with its download', async (t) => {
  const zlib = require('node:zlib');
  await withServer(t, { files: { 'app.log.1.xz': Buffer.concat([Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), Buffer.from('not really xz, judged by its magic number\n')]), 'app.log': numbered(1, 300, 'Z-') } }, async (ctx) => {
    if (await lacks(t, ctx, 'the previous generation hint')) return;
    const { page, server } = ctx;
    const old = new Date(Date.now() - 3600e3);
    fs.utimesSync(ctx.file('app.log.1.xz'), old, old);
    await openFile(ctx, 'app.log');
    await waitLine(page, 'Z-00300');
    assert.equal(await topState(page), 'idle', 'the bar offers what is older');
    await wheelToTop(page);
    await page.waitForFunction(() => document.querySelector('#top').dataset.state === 'compressed');
    assert.match(await page.textContent('#top'), /older generations are compressed: download app\.log\.1\.xz \(xz\)/);
    assert.equal(await page.getAttribute('#top a', 'href'), server.url + encPath(ctx.file('app.log.1.xz')) + '?download');
    assert.equal((await lineTexts(page)).length, 300, 'nothing of the compressed file shown');
    await shots(page, 'history-compressed-end', () => page.$eval('#log', (l) => { l.scrollTop = 0; }));
  });
});

test('opened far back in a big file: the lines below the cap are counted, then the stream stops; End reloads the end', async (t) => {
  await withServer(t, { files: {} }, async (ctx) => {
    const { page } = ctx;
    // 48 MB after the line the view opens on.
    const out = fs.openSync(ctx.file('huge.log'), 'w');
    const block = numbered(1, 20000, 'H-').replace(/\n/g, ' padding padding padding padding padding padding padding\n');
    for (let i = 0; i < 60; i++) fs.writeSync(out, block);
    fs.writeSync(out, 'THE LAST LINE\n');
    fs.closeSync(out);
    await withPrefs(page, { keep: '2000' });
    const ino = fs.statSync(ctx.file('huge.log')).ino;
    await page.goto(ctx.server.url + encPath(ctx.file('huge.log')) + `#inode=${ino}&offset=0`);
    await waitLine(page, 'H-00001 padding padding padding padding padding padding padding');
    await page.waitForFunction(() => /End reloads it/.test(document.querySelector('#status').textContent), null, { timeout: 30000 });
    assert.match(await page.textContent('#jump'), /^over [\d,]+ newer lines, jump to end/);
    const texts = await lineTexts(page);
    assert.equal(texts.length, 2000, 'the cap holds, the first lines kept');
    assert.equal(texts[0], 'H-00001 padding padding padding padding padding padding padding');
    await page.keyboard.press('End');
    await waitLine(page, 'THE LAST LINE', 10000);
    assert.match(await page.textContent('#status'), /following/);
  });
});

test('a file is never named by its inode alone: paging and permalinks carry born and tag; a permalink into a new file under the reused inode number never opens mid-line', async (t) => {
  await withServer(t, { files: { 'q.log': numbered(1, 3000, 'Q-') } }, async (ctx) => {
    const { page, server } = ctx;
    const urls = [];
    page.on('websocket', (ws) => urls.push(ws.url()));
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    await openFile(ctx, 'q.log');
    await waitLine(page, 'Q-03000');
    // Paging back: before= names the file by inode, birth time and tag.
    await wheelToTop(page);
    await page.waitForFunction(() => document.querySelectorAll('#log .line').length > 1000);
    const paging = urls.filter((u) => u.includes('before='));
    assert.ok(paging.length >= 1, urls.join('\n'));
    const born = BORN(ctx.file('q.log'));
    for (const u of paging) assert.match(u, new RegExp('[?&]before=\\d+&inode=\\d+&tag=[0-9a-f]{16}' + born + '&'), u);
    // The permalink of a line.
    const line = page.locator('#log .line', { hasText: 'Q-02990' });
    await line.scrollIntoViewIfNeeded();
    await line.hover({ position: { x: 40, y: 5 } });
    await page.waitForSelector('#linkbtn:not([hidden])');
    await page.click('#linkbtn');
    await page.waitForFunction(() => /copied/.test(document.querySelector('#flash').textContent));
    const link = await page.evaluate(() => navigator.clipboard.readText());
    assert.match(link, new RegExp('#inode=\\d+&offset=23912' + born + '&tag=[0-9a-f]{16}$'));
    await page.goto('about:blank');
    // The file is deleted and a new one created under the same inode
    // number (ext4 gives the freed number to the next file it creates).
    const ino = fs.statSync(ctx.file('q.log')).ino;
    let reused = false;
    for (let i = 0; i < 50 && !reused; i++) {
      fs.rmSync(ctx.file('q.log'));
      fs.writeFileSync(ctx.file('q.log'), numbered(1, 4000, 'NEW-'));
      reused = fs.statSync(ctx.file('q.log')).ino === ino;
    }
    if (!reused) { t.skip('this file system did not reuse the inode number in 50 tries'); return; }
    // The link now names a file that is not the one it was made in: the
    // page says so and shows the new file from its start, whole lines only
    // (by the inode number alone it would open the new file at byte 23,912,
    // in the middle of a line).
    const p2 = await H.newPage(browser);
    try {
      await p2.goto(link);
      await waitLine(p2, 'NEW-04000', 10000);
      const texts = await lineTexts(p2);
      const cut = texts.filter((l) => !/^NEW-\d{5}$/.test(l));
      assert.deepEqual(cut, [], 'no line cut in the middle');
      assert.ok(texts.includes('NEW-00001'), 'the new file from its start');
      assert.equal(await p2.$$eval('#log .marker.event', (ms) => ms.filter((m) => /recreated|truncated/.test(m.textContent)).length), 1);
      assert.deepEqual(p2.errors, []);
    } finally { await p2.close(); }
  });
});

test('four short server restarts in a row: every line once, each reconnect within seconds (backoff 0.5 s doubling, reset by every open)', async (t) => {
  await withServer(t, { files: { 'r.log': numbered(1, 100, 'L-') } }, async (ctx) => {
    const { page } = ctx;
    const urls = [];
    page.on('websocket', (ws) => urls.push(ws.url()));
    await openFile(ctx, 'r.log');
    await waitLine(page, 'L-00100');
    let server = ctx.server, last = 100;
    const took = [];
    for (let round = 0; round < 4; round++) {
      await server.kill('SIGKILL');
      if (server !== ctx.server) ctx.restarted = null;
      await page.waitForFunction(() => /reconnecting in \d+ s/.test(document.querySelector('#status').textContent), null, { timeout: 5000 });
      fs.appendFileSync(ctx.file('r.log'), numbered(last + 1, last + 50, 'L-'));
      last += 50;
      await sleep(2000);
      server = await H.startServer({ root: ctx.dir, port: ctx.server.port });
      ctx.restarted = server;
      const t0 = Date.now();
      await waitLine(page, 'L-' + String(last).padStart(5, '0'), 15000);
      took.push(Date.now() - t0);
      await page.waitForFunction(() => document.querySelector('#status').dataset.state === 'following');
    }
    t.diagnostic(`back after each restart in ${took.join(', ')} ms`);
    for (const ms of took) assert.ok(ms < 4000, `reconnected ${ms} ms after a restart (${took.join(', ')})`);
    assert.deepEqual(await lineTexts(page), numbered(1, last, 'L-').trimEnd().split('\n'));
    // Each resume names the file by more than its inode number.
    const resumes = urls.filter((u) => u.includes('from='));
    assert.ok(resumes.length >= 4, urls.join('\n'));
    for (const u of resumes) assert.match(u, new RegExp('[?&]from=\\d+&inode=\\d+&tag=[0-9a-f]{16}' + BORN(ctx.file('r.log')) + '&'), u);
  });
});

test('names in the separator between generations and the compressed generation\'s link are shown escaped (bidi overrides, control characters)', async (t) => {
  const zlib = require('node:zlib');
  const name = 'x\u202Egol.exe\u0007';
  await withServer(t, {
    files: { [name + '.2.xz']: Buffer.concat([Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), Buffer.from('not really xz, judged by its magic number\n')]), [name + '.1']: numbered(1, 20, 'G1-'), [name]: numbered(1, 30, 'C-') },
  }, async (ctx) => {
    if (await lacks(t, ctx, 'generations')) return;
    const { page } = ctx;
    for (const [n, hours] of [[name + '.1', 1], [name + '.2.xz', 2]]) {
      const old = new Date(Date.now() - hours * 3600e3);
      fs.utimesSync(ctx.file(n), old, old);
    }
    await openFile(ctx, name);
    await waitLine(page, 'C-00030');
    for (let i = 0; i < 10 && await topState(page) !== 'compressed'; i++) {
      await wheelToTop(page);
      await sleep(300);
    }
    assert.equal(await topState(page), 'compressed');
    const shown = 'x\\u{202e}gol.exe\\u{7}';
    const sep = await page.$eval('#log .marker.gen', (m) => m.textContent);
    assert.ok(sep.includes(shown + '.1 (older generation)'), sep);
    assert.ok(!/[\u202e\u0007]/.test(sep), sep);
    const top = await page.textContent('#top');
    assert.ok(top.includes('download ' + shown + '.2.xz'), top);
    assert.ok(!/[\u202e\u0007]/.test(top), top);
    await shots(page, 'generation-names-escaped', () => page.$eval('#log', (l) => { l.scrollTop = 0; }));
  });
});
