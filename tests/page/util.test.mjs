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

// ------------------------------------------------------------ the merged view (issue 19.2)
test('mergeQuery and mergePaths: the list in order, each path encoded once, fewer than two is no merge', () => {
  const paths = ['/var/log/a b.log', '/srv/x&y=z.log', '/l/100%.log'];
  const q = U.mergeQuery(paths);
  assert.equal(q, 'merge=%2Fvar%2Flog%2Fa%20b.log&merge=%2Fsrv%2Fx%26y%3Dz.log&merge=%2Fl%2F100%25.log');
  assert.deepEqual(U.mergePaths('?' + q), paths, 'what the page builds it reads back');
  assert.deepEqual(U.mergePaths('?merge=/a&merge=/b&token=t'), ['/a', '/b']);
  assert.equal(U.mergePaths('?merge=/a'), null);
  assert.equal(U.mergePaths('?merge=/a&merge=relative'), null, 'only absolute paths');
  assert.equal(U.mergePaths(''), null);
  const many = Array.from({ length: 20 }, (_, i) => '/f' + i);
  assert.equal(U.mergePaths('?' + U.mergeQuery(many)).length, U.MAX_MERGED);
});

test('shortNames: the file name, with as many folders as it takes to tell two apart', () => {
  assert.deepEqual(U.shortNames(['/var/log/syslog', '/srv/app/app.log']), ['syslog', 'app.log']);
  assert.deepEqual(U.shortNames(['/var/log/nginx/error.log', '/srv/app/error.log', '/var/log/syslog']),
    ['nginx/error.log', 'app/error.log', 'syslog']);
  assert.deepEqual(U.shortNames(['/a/x/logs/e.log', '/b/x/logs/e.log']), ['a/x/logs/e.log', 'b/x/logs/e.log']);
  assert.deepEqual(U.shortNames(['/e.log', '/d/e.log']), ['e.log', 'd/e.log'], 'a shorter path stops at its root');
});

test('sourceColour: distinct hues for neighbours, readable lightness per theme', () => {
  const hue = (c) => Number(/hsl\((\d+)/.exec(c)[1]);
  const light = (c) => Number(/(\d+)%\)$/.exec(c)[1]);
  for (let k = 0; k < U.MAX_MERGED; k++) {
    const d = Math.abs(hue(U.sourceColour(k, false)) - hue(U.sourceColour(k + 1, false)));
    assert.ok(Math.min(d, 360 - d) >= 90, `files ${k} and ${k + 1} differ in hue by ${d}°`);
    assert.ok(light(U.sourceColour(k, false)) <= 45 && light(U.sourceColour(k, true)) >= 60);
  }
  const all = new Set(Array.from({ length: U.MAX_MERGED }, (_, k) => hue(U.sourceColour(k, false))));
  assert.equal(all.size, U.MAX_MERGED, 'sixteen files, sixteen hues');
});

test('pointsQuery and the merged permalink hash: comma lists in list order, born and tag only when whole', () => {
  const pts = [
    { offset: 10, inode: '123', born: '1.000000001', tag: '0123456789abcdef' },
    { offset: 0, inode: '18446744073709551615', born: '2.000000002', tag: null },
  ];
  assert.equal(U.pointsQuery('before', pts), 'before=10,0&inode=123,18446744073709551615&born=1.000000001,2.000000002');
  pts[1].tag = 'fedcba9876543210';
  assert.equal(U.pointsQuery('from', pts), 'from=10,0&inode=123,18446744073709551615&tag=0123456789abcdef,fedcba9876543210&born=1.000000001,2.000000002');
  const h = U.formatMergeHash({ at: { line: 1, pts } });
  assert.equal(h, 'line=1&from=10,0&inode=123,18446744073709551615&born=1.000000001,2.000000002&tag=0123456789abcdef,fedcba9876543210');
  assert.deepEqual(U.parseMergeHash('#' + h, 2), { at: { line: 1, pts }, since: null }, 'round trip, inodes kept as digit strings');
  assert.equal(U.parseMergeHash('#' + h, 3).at, null, 'a link for another number of files');
  assert.equal(U.parseMergeHash('#line=2&from=1,2&inode=3,4', 2).at, null, 'the line names a file of the list');
  assert.equal(U.parseMergeHash('#line=0&from=1,x&inode=3,4', 2).at, null);
  assert.deepEqual(U.parseMergeHash('#since=2026-12-01T14%3A02%3A00%2B01%3A00', 2), { at: null, since: '2026-12-01T14:02:00+01:00' });
  assert.equal(U.formatMergeHash({ at: null, since: '-15m' }), 'since=-15m');
});

// ------------------------------------------------------------ the timeline (issue 20.2)
const TL = {
  from: '2026-12-06T08:00:00Z', to: '2026-12-06T09:00:00Z', bucket_seconds: 900,
  sources: [{ path: '/a', bytes: [100, 0, 1, 300], lines: [2, 0, 1, 6] }, { path: '/b', bytes: [100, 0, 0, 100], lines: [1, 0, 0, 1] }],
};

test('parseTimeline: the answer checked, bucket starts and the bucket of a time', () => {
  const tl = U.parseTimeline(TL);
  assert.equal(tl.n, 4);
  assert.equal(tl.from, Date.parse('2026-12-06T08:00:00Z'));
  assert.equal(U.bucketStart(tl, 1), Date.parse('2026-12-06T08:15:00Z'));
  assert.equal(U.bucketStart(tl, 4), tl.to, 'the last bucket ends at to');
  assert.equal(U.bucketOf(tl, Date.parse('2026-12-06T08:14:59.999Z')), 0);
  assert.equal(U.bucketOf(tl, Date.parse('2026-12-06T08:15:00Z')), 1);
  assert.equal(U.bucketOf(tl, tl.to), 3, 'the end belongs to the last bucket');
  assert.equal(U.bucketOf(tl, tl.to + 1), -1);
  assert.equal(U.bucketOf(tl, tl.from - 1), -1);
  assert.equal(U.sinceOf(tl, 2), '2026-12-06T08:30:00Z');
  // Fractional bucket lengths: since= rounds down to the second.
  const odd = U.parseTimeline({ ...TL, bucket_seconds: 0.75 });
  assert.equal(U.sinceOf(odd, 3), '2026-12-06T08:00:02Z');
  assert.equal(U.parseTimeline({ ...TL, sources: [{ path: '/a', bytes: [1, 2], lines: [1] }, TL.sources[1]] }), null, 'lists of other lengths');
  assert.equal(U.parseTimeline({ ...TL, bucket_seconds: 0 }), null);
  assert.equal(U.parseTimeline({ ...TL, from: 'yesterday' }), null);
  assert.equal(U.parseTimeline('<!doctype html>'), null, 'a server without ?timeline answers with the page');
});

test('stackHeights: the fullest bucket fills the strip, shares stacked per file, a small bucket stays visible', () => {
  const h = U.stackHeights(U.parseTimeline(TL));
  assert.deepEqual(h[3], [75, 25], 'the fullest: 100 %, split 3:1');
  assert.deepEqual(h[0], [25, 25]);
  assert.deepEqual(h[1], [0, 0], 'an empty bucket has no bar');
  assert.ok(Math.abs(h[2][0] - 4) < 1e-9 && h[2][1] === 0, 'one byte among 400 still shows (4 %)');
  const empty = U.stackHeights(U.parseTimeline({ ...TL, sources: [{ path: '/a', bytes: [0, 0, 0, 0] }] }));
  assert.deepEqual(empty, [[0], [0], [0], [0]]);
});

test('bucketLabel: the span, the size and lines, per file in a merged view; bucketCount by width', () => {
  const tl = U.parseTimeline(TL);
  assert.equal(U.bucketLabel(tl, 3, ['a.log', 'b.log']), '2026-12-06 08:45 UTC – 09:00 UTC: 400 B, about 7 lines (a.log 300 B, b.log 100 B)');
  const one = U.parseTimeline({ ...TL, sources: [TL.sources[0]] });
  assert.equal(U.bucketLabel(one, 2), '2026-12-06 08:30 UTC – 08:45 UTC: 1 B, about 1 line');
  assert.equal(U.bucketLabel(one, 1), '2026-12-06 08:15 UTC – 08:30 UTC: 0 B');
  const short = U.parseTimeline({ ...TL, bucket_seconds: 30 });
  assert.equal(U.bucketLabel(short, 1), '2026-12-06 08:00:30 UTC – 08:01:00 UTC: 0 B (file 1 0 B, file 2 0 B)');
  assert.equal(U.bucketCount(390), 65);
  assert.equal(U.bucketCount(100), 24);
  assert.equal(U.bucketCount(5000), 240);
  assert.equal(U.bucketCount(undefined), 24);
});

test('lineTime: RFC 3339 and ISO times with zones, zone-less as UTC, common log format, else null', () => {
  assert.equal(U.lineTime('2026-12-06T10:00:01Z x'), Date.parse('2026-12-06T10:00:01Z'));
  assert.equal(U.lineTime('2026-12-06 10:00:01,250 INFO x'), Date.parse('2026-12-06T10:00:01.250Z'), 'Python logging, zone-less: UTC');
  assert.equal(U.lineTime('{"time":"2026-12-06T11:00:01.5+01:00"}'), Date.parse('2026-12-06T10:00:01.500Z'));
  assert.equal(U.lineTime('2026-12-06T05:00:01-0500 x'), Date.parse('2026-12-06T10:00:01Z'));
  assert.equal(U.lineTime('10.0.0.1 - - [06/Dec/2026:11:00:00 +0100] "GET / HTTP/1.1" 200'), Date.parse('2026-12-06T10:00:00Z'));
  assert.equal(U.lineTime('no time here'), null);
  assert.equal(U.lineTime('Dec  6 10:00:01 host sshd[1]: x'), null, 'syslog without a year: left to the server');
});
