// Unit tests of the viewer page's pure helpers (src/page/util.js), with
// node's own test runner: `node --test tests/page/*.test.mjs`. Run by .ci/run.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

// Loaded as a module whatever node makes of a .js file outside a package
// (the page's files carry no package.json): from its text.
const source = readFileSync(new URL('../../src/page/util.js', import.meta.url), 'utf8');
const U = await import('data:text/javascript;charset=utf-8,' + encodeURIComponent(source));

const texts = (runs) => U.runsText(runs);

test('splitFragment: lines, a partial rest, spans re-opened at each newline', () => {
  const { lines, rest } = U.splitFragment('a<span style="font-weight:bold">b\nc</span>d\ne');
  assert.deepEqual(lines, [
    [{ c: '', t: 'a' }, { c: 'font-weight:bold', t: 'b' }],
    [{ c: 'font-weight:bold', t: 'c' }, { c: '', t: 'd' }],
  ]);
  assert.deepEqual(rest, [{ c: '', t: 'e' }]);
  assert.equal(U.splitFragment('x\n').rest, null);
  assert.equal(U.splitFragment('x\n<span style="color:#cd0000"></span>').rest, null, 'a span without text is no partial line');
  assert.deepEqual(U.splitFragment('').lines, []);
});

test('splitFragment: entities decoded, any other markup is text, CR LF ends a line', () => {
  const { lines } = U.splitFragment('&lt;b&gt; &amp;amp; &quot;&#39; &nbsp;\n<img src=x onerror=alert(1)>\nwin\r\n');
  assert.deepEqual(lines.map(texts), ['<b> &amp; "\' &nbsp;', '<img src=x onerror=alert(1)>', 'win']);
  assert.ok(lines.flat().every((r) => r.c === ''), 'no style from markup that is not a span');
  // A style attribute never comes from a tag the fence does not know.
  const { lines: l2 } = U.splitFragment('<span style="a" onclick="x">t</span>\n');
  assert.equal(texts(l2[0]), '<span style="a" onclick="x">t');
});

test('splitFragment: xterm colours become the theme\'s, others stay, background untouched', () => {
  const { lines } = U.splitFragment('<span style="color:#cd0000;background-color:#00cd00">r</span><span style="color:#123456">o</span>\n');
  assert.deepEqual(lines[0], [{ c: 'color:var(--a1);background-color:#00cd00', t: 'r' }, { c: 'color:#123456', t: 'o' }]);
  assert.equal(U.themed('font-weight:bold;color:#FFFFFF'), 'font-weight:bold;color:var(--a15)');
});

test('joinRuns: a continued line merges the run at the seam', () => {
  assert.deepEqual(U.joinRuns([{ c: '', t: 'half ' }], [{ c: '', t: 'a line' }, { c: 'x', t: '!' }]),
    [{ c: '', t: 'half a line' }, { c: 'x', t: '!' }]);
  assert.deepEqual(U.joinRuns([], [{ c: 'x', t: 'y' }]), [{ c: 'x', t: 'y' }]);
});

test('shownName: control characters and bidi marks escaped, the rest as it is', () => {
  assert.equal(U.shownName('x\u202Egol.exe\u001b[2J\u0085\u2067é ok'), 'x\\u{202e}gol.exe\\u{1b}[2J\\u{85}\\u{2067}é ok');
  assert.equal(U.shownName('/var/log/app.log'), '/var/log/app.log');
});

test('levelClass: the first level word decides; field forms too', () => {
  assert.equal(U.levelClass('2026-12-01 ERROR boom'), 'lv-e');
  assert.equal(U.levelClass('WARN then ERROR'), 'lv-w');
  assert.equal(U.levelClass('{"level":"debug","msg":"x"}'), 'lv-d');
  assert.equal(U.levelClass('[info] started'), 'lv-i');
  assert.equal(U.levelClass('an error in lower case prose'), null);
  assert.equal(U.levelClass('TERRORIST'), null);
});

test('parseMeta: inodes stay digit strings (beyond 2^53), bad frames are null', () => {
  const enc = (s) => new TextEncoder().encode(s).buffer;
  const o = U.parseMeta(enc('{"offset":5,"inode":18446744073709551615,"previous":{"path":"a\\"inode\\":1","inode":7}}'));
  assert.equal(o.inode, '18446744073709551615');
  assert.equal(o.previous.inode, '7');
  assert.equal(o.previous.path, 'a"inode":1');
  assert.equal(o.offset, 5);
  assert.equal(U.parseMeta(enc('not json')), null);
  assert.equal(U.parseMeta(enc('[1]')), null);
  assert.equal(U.parseMeta(new Uint8Array([0xff, 0xfe]).buffer), null);
});

test('the fragment: permalinks with born and tag, since= with its plus sign', () => {
  const at = { inode: '12', offset: 345, born: '1764547200.000000005', tag: '0123456789abcdef' };
  const h = U.formatHash({ at });
  assert.equal(h, 'inode=12&offset=345&born=1764547200.000000005&tag=0123456789abcdef');
  assert.deepEqual(U.parseHash('#' + h), { at, since: null });
  // An older link without them still opens; malformed ones are dropped.
  assert.deepEqual(U.parseHash('#inode=12&offset=3').at, { inode: '12', offset: 3, born: null, tag: null });
  assert.deepEqual(U.parseHash('#inode=12&offset=3&born=1.5&tag=XYZ').at, { inode: '12', offset: 3, born: null, tag: null });
  assert.equal(U.parseHash('#inode=x&offset=3').at, null);
  const s = U.parseHash('#' + U.formatHash({ since: '2026-12-01T14:02:00+01:00' }));
  assert.deepEqual(s, { at: null, since: '2026-12-01T14:02:00+01:00' });
  assert.equal(U.formatHash({ at: null, since: null }), '');
});

test('pointQuery: a file is named by inode with its birth time and tag when known', () => {
  assert.equal(U.pointQuery('from', { offset: '10', inode: '7', tag: 'aaaaaaaaaaaaaaaa', born: '1.000000002' }),
    'from=10&inode=7&tag=aaaaaaaaaaaaaaaa&born=1.000000002');
  assert.equal(U.pointQuery('before', { offset: 10, inode: '7', tag: null, born: null }), 'before=10&inode=7');
  assert.equal(U.validBorn('1764547200.000000005'), '1764547200.000000005');
  assert.equal(U.validBorn('1764547200.5'), null);
  assert.equal(U.validTag('0123456789ABCDEF'), null, 'the server writes lowercase');
});

test('URLs: absolute from the page\'s origin and base path; the token appended', () => {
  const loc = { origin: 'https://h:8', host: 'h:8', protocol: 'https:' };
  assert.equal(U.httpUrl(loc, '/logs', '//evil.example/a b.log', 'download'), 'https://h:8/logs//evil.example/a%20b.log?download');
  assert.equal(U.socketUrl(loc, '', '/var/log/x#1', 'tail=1'), 'wss://h:8/var/log/x%231?tail=1');
  assert.equal(U.socketUrl({ ...loc, protocol: 'http:' }, '', '/a', ''), 'ws://h:8/a');
  assert.equal(U.withToken('https://h/a?list', 'a&b'), 'https://h/a?list&token=a%26b');
  assert.equal(U.withToken('https://h/a', null), 'https://h/a');
  assert.equal(U.pathFromLocation('/logs/var/log/a%20b', '/logs'), '/var/log/a b');
  assert.equal(U.pathFromLocation('/logs', '/logs'), '/');
  assert.equal(U.pathFromLocation('/logsx/a', '/logs'), '/logsx/a');
  assert.equal(U.cleanBase('/logs//'), '/logs');
});

test('Backoff: 0.5 s doubling to at most 10 s, back to 0.5 s on reset', () => {
  const b = new U.Backoff();
  const seen = Array.from({ length: 8 }, () => b.next());
  assert.deepEqual(seen, [500, 1000, 2000, 4000, 8000, 10000, 10000, 10000]);
  b.reset();
  assert.equal(b.next(), 500);
});

test('Top: one list of the history states', () => {
  assert.ok(Object.isFrozen(U.Top));
  assert.equal(Object.values(U.Top).length, 10);
  assert.ok(U.isTopState('compressed'));
  assert.ok(!U.isTopState('compresed'));
});

test('makeFilter and matchRanges: plain text escaped, regex errors reported, empty matches skipped', () => {
  const f = U.makeFilter('a.b', false, false);
  assert.ok(f.test.test('xA.By') && !f.test.test('axb'));
  assert.deepEqual(U.matchRanges(f.all, 'a.b A.B', 10), [0, 3, 4, 7]);
  assert.equal(U.makeFilter('', true, false), null);
  assert.ok(U.makeFilter('(', true, false).error);
  assert.deepEqual(U.matchRanges(U.makeFilter('x*', true, true).all, 'axxb', 10), [1, 3]);
  assert.deepEqual(U.matchRanges(U.makeFilter('a', false, true).all, 'aaaa', 2), [0, 1, 1, 2]);
});

test('compressionOf: by the server\'s table of magic numbers', () => {
  const table = [{ name: 'gzip', magic: [0x1f, 0x8b] }, { name: 'bzip2', magic: [0x42, 0x5a, 0x68] }];
  assert.equal(U.compressionOf(new Uint8Array([0x1f, 0x8b, 8]), table), 'gzip');
  assert.equal(U.compressionOf(new Uint8Array([0x42, 0x5a, 0x68, 0x39]), table), 'bzip2');
  assert.equal(U.compressionOf(new Uint8Array([0x1f]), table), null);
  assert.equal(U.compressionOf(new Uint8Array([]), []), null);
});

test('offsetOfMatch: a search result\'s line found back from the window\'s end, in bytes', () => {
  const text = 'é match one\nother\nMATCH two\n';
  assert.equal(U.offsetOfMatch(text, 100, 'match', 1), 100 + U.utf8len('é match one\nother\n'));
  assert.equal(U.offsetOfMatch(text, 100, 'match', 2), 100);
  assert.equal(U.offsetOfMatch(text, 100, 'match', 3), null);
});

test('refusalLine and the formats', () => {
  const phrases = { 404: 'Not Found' };
  assert.equal(U.refusalLine(404, '', phrases, '404 Not Found: no such file\n'), '404 Not Found: no such file');
  assert.equal(U.refusalLine(404, '', phrases, 'gone  away'), '404 Not Found: gone away');
  assert.equal(U.refusalLine(599, '', phrases, ''), '599 HTTP error');
  assert.equal(U.fmtBytes(2048), '2.0 KiB');
  assert.equal(U.fmtBytes(1023), '1023 B');
  assert.equal(U.fmtAge(100, 130), '30 s ago');
  assert.equal(U.fmtAge(0, 86400 * 3), '3 d ago');
  assert.equal(U.clampInt('99999999', 100, 1000, 5), 1000);
  assert.equal(U.clampInt('x', 100, 1000, 5), 5);
});
