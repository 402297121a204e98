// A published cache is never trusted further than it can be checked (issue 15; docs/distributed.md
// "Trust"). A cache published to a local folder (served over loopback HTTP as well) is read back
// through manifests tampered with one field at a time: every schema violation is FileError
// ERR_MANIFEST naming the field; object keys that would leave the prefix or the stage folder are
// refused before anything is fetched or written; objects swapped between entries, or not the size
// the manifest says, are ERR_CACHE_CORRUPT in place and staged; a staged download that does not
// match its XXH3 is never renamed into place. The published objects carry their identity and stay
// valid COGs (GDAL's validator).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FileError } from '../lib/errors';
import { SimpleFrames } from '../lib/frames/simple-frames';
import { openImage } from '../lib/readers';
import type { RasterReader } from '../lib/readers';
import { parseManifest } from '../lib/remote/manifest';
import type { Manifest } from '../lib/remote/manifest';
import { listFiles, makeArray, readImage, sameArray, writeImage } from './_frames-util';
import { expectCode, expectCodeAsync } from './_helpers/errors';
import { leftoverTemps, rmrf, tempDir } from './_helpers/tmp';
import { PYTHON, VALIDATOR } from './_raster-fixtures';
import { startServer } from './_remote-util';
import type { TestServer } from './_remote-util';

const root = tempDir('remote-trust').dir;
const www = path.join(root, 'www');
const REGION: [[number, number], [number, number]] = [[3, 70], [9, 120]];
let http: TestServer;
let manifest: Manifest;
let text: string;
let n = 0;
const SIZES = [[130, 150], [140, 160], [130, 150]];  // images 1 and 3: same size (same-size objects may be swapped too)

const src = (i: number) => `${http.base}/src/img${i}.png`;
const images = () => ({ 1: src(0), 2: src(1), 3: src(2) });
const workdir = () => path.join(root, `wd-${n++}`);

test.before(async () => {
  fs.mkdirSync(path.join(www, 'src'), { recursive: true });
  SIZES.forEach(([h, w], i) => writeImage(path.join(www, 'src', `img${i}.png`), makeArray(h, w, 3, 'uint8', (y, x, c) => (y * (i + 1) + x * 7 + c * 50) & 255)));
  http = await startServer('http', www);
  // published to a local folder (the prefix an NFS mount would be), which the server also serves
  const rep = await new SimpleFrames(images(), { workdir: workdir(), backend: 'cog' }).prepare({ publish: path.join(www, 'cache') });
  assert.equal(rep.failed, []);
  assert.is(rep.published, 3);
  text = fs.readFileSync(path.join(www, 'cache', 'manifest.json'), 'utf8');
  manifest = parseManifest(text, 'manifest.json');
});

test.after(async () => {
  await http?.stop();
  rmrf(root);
});

/** A prefix served over HTTP holding the published objects and `manifestText`. */
function prefix(manifestText: string): { local: string; url: string } {
  const name = `p${n++}`;
  const dir = path.join(www, name);
  fs.cpSync(path.join(www, 'cache'), dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'manifest.json'), manifestText);
  return { local: dir, url: `${http.base}/${name}` };
}

const keys = () => Object.keys(manifest.entries).sort();
/** The entry key of image `id` (the order of keys is by hash; find the one whose source is img<id-1>). */
function keyOf(id: number): string {
  const k = keys().find((x) => manifest.entries[x].source.endsWith(`img${id - 1}.png`));
  assert.ok(k !== undefined);
  return k as string;
}

function tampered(edit: (m: Record<string, unknown> & { entries: Record<string, Record<string, unknown>> }) => void): string {
  const m = JSON.parse(text) as Record<string, unknown> & { entries: Record<string, Record<string, unknown>> };
  edit(m);
  return JSON.stringify(m);
}

test('published objects carry their entry key and source stamp, and stay valid COGs', () => {
  for (const [key, e] of Object.entries(manifest.entries)) {
    const file = path.join(www, 'cache', ...e.object.split('/'));
    const r = openImage(file) as RasterReader;
    assert.equal(r.info.identity, { entry: key, src: JSON.stringify(e.src) }, key);
    assert.ok(r.isCog, `${key} is a COG`);
    r.close();
    assert.is(fs.statSync(file).size, e.size);
    assert.ok(e.head >= 8 && e.head < e.size, `head ${e.head}`);
    if (fs.existsSync(PYTHON) && fs.existsSync(VALIDATOR)) {
      const v = spawnSync(PYTHON, [VALIDATOR, '--full-check=yes', file], { encoding: 'utf8' });
      assert.is(v.status, 0, `GDAL's validator: ${v.stdout}${v.stderr}`);
    }
  }
});

test('the cache published to a local folder reads back in place and staged, locally and over HTTP', async () => {
  for (const remoteCache of [path.join(www, 'cache'), `${http.base}/cache`, { url: `${http.base}/cache`, stage: { maxBytes: 1 << 30 } }]) {
    const f = new SimpleFrames(images(), { workdir: workdir(), backend: 'cog', remoteCache });
    for (const id of [1, 2, 3]) {
      const want = readImage(path.join(www, 'src', `img${id - 1}.png`));
      const got = await f.loadRegionAsync(id, REGION);
      sameArray(got, makeArray(67, 111, 3, 'uint8', (y, x, c) => want.data[((y + 3) * want.shape[1] + x + 9) * 3 + c]), JSON.stringify(remoteCache));
    }
    assert.equal(listFiles(f.workdir).filter((p) => p.includes('frames') && p.endsWith('.cog.tif')), [], 'nothing built locally');
    f.close();
  }
});

// ---- the schema: every violation is ERR_MANIFEST, before anything is fetched ---------------------

const k1 = () => keyOf(1);
const TAMPER: Array<[string, () => string]> = [
  ['object a number', () => tampered((m) => { m.entries[k1()].object = 42; })],
  ['an entry null', () => tampered((m) => { m.entries[k1()] = null as never; })],
  ['src missing', () => tampered((m) => { delete m.entries[k1()].src; })],
  ['entries null', () => tampered((m) => { m.entries = null as never; })],
  ['entries an array', () => tampered((m) => { m.entries = [] as never; })],
  ['format wrong', () => tampered((m) => { m.format = 'something-else'; })],
  ['version 1 (no header lengths, no identities)', () => tampered((m) => { m.version = 1; })],
  ['unknown version 3', () => tampered((m) => { m.version = 3; })],
  ['version a string', () => tampered((m) => { m.version = '2'; })],
  ['an extra top-level field', () => tampered((m) => { m.extra = true; })],
  ['an extra entry field', () => tampered((m) => { m.entries[k1()].url = 'http://elsewhere/x.tif'; })],
  ['size a string', () => tampered((m) => { m.entries[k1()].size = '1000'; })],
  ['size negative', () => tampered((m) => { m.entries[k1()].size = -5; })],
  ['size fractional', () => tampered((m) => { m.entries[k1()].size = 1000.5; })],
  ['size past 2^53', () => tampered((m) => { m.entries[k1()].size = 2 ** 60; })],
  ['head 0', () => tampered((m) => { m.entries[k1()].head = 0; })],
  ['head past size', () => tampered((m) => { m.entries[k1()].head = (m.entries[k1()].size as number) + 1; })],
  ['xxh3 not hex', () => tampered((m) => { m.entries[k1()].xxh3 = 'zz'.repeat(16); })],
  ['src.size a string', () => tampered((m) => { (m.entries[k1()].src as Record<string, unknown>).size = '1'; })],
  ['src.mtimeNs a number', () => tampered((m) => { (m.entries[k1()].src as Record<string, unknown>).mtimeNs = 5; })],
  ['src with an unknown field', () => tampered((m) => { (m.entries[k1()].src as Record<string, unknown>).ino = '7'; })],
  ['an etag with a control character', () => tampered((m) => { (m.entries[k1()].src as Record<string, unknown>).etag = 'a\u0007b'; })],
  ['shard out of range', () => tampered((m) => { m.shard = [3, 2]; })],
  ['created not a string', () => tampered((m) => { m.created = 12; })],
  ['traversal in the object key', () => tampered((m) => { m.entries[k1()].object = '../../../escape.cog.tif'; })],
  ['an absolute object key', () => tampered((m) => { m.entries[k1()].object = '/etc/escape.cog.tif'; })],
  ['a NUL byte in the object key', () => tampered((m) => { m.entries[k1()].object = 'cog/a\u0000b.cog.tif'; })],
  ['a backslash traversal', () => tampered((m) => { m.entries[k1()].object = '..\\..\\escape.cog.tif'; })],
  ['a percent-encoded traversal', () => tampered((m) => { m.entries[k1()].object = '%2e%2e/%2e%2e/escape.cog.tif'; })],
  ['a query in the object key', () => tampered((m) => { m.entries[k1()].object = 'cog/x.cog.tif?x=1'; })],
  ['an empty segment', () => tampered((m) => { m.entries[k1()].object = 'cog//x.cog.tif'; })],
  ['a very long object key', () => tampered((m) => { m.entries[k1()].object = `${'a'.repeat(200)}/`.repeat(10) + 'x.cog.tif'; })],
  ['an entry key that is not one', () => tampered((m) => { m.entries['../../x.cog.tif'] = m.entries[k1()]; })],
  ['duplicate entry keys in the text', () => text.replace(/"entries": \{/, `"entries": {\n  ${JSON.stringify(k1())}: ${JSON.stringify(manifest.entries[keyOf(3)])},`)],
  ['not JSON', () => text.slice(0, text.length / 2)],
  ['a JSON array', () => '[]'],
];

test(`${TAMPER.length} tampered manifests are each ERR_MANIFEST naming the field, in place and staged, async and sync`, async () => {
  assert.ok(TAMPER.length >= 20);
  for (const [what, make] of TAMPER) {
    const p = prefix(make());
    for (const remoteCache of [p.url, { url: p.url, stage: { maxBytes: 1 << 30, dir: path.join(root, `stage-${n++}`) } }, p.local]) {
      const f = new SimpleFrames(images(), { workdir: workdir(), backend: 'cog', remoteCache });
      const e = await expectCodeAsync(() => f.loadRegionAsync(1, REGION), FileError, 'ERR_MANIFEST', what);
      assert.ok(typeof e.path === 'string' && e.path.includes('manifest.json'), `${what}: path ${e.path}`);
      assert.ok(typeof e.field === 'string', `${what}: field`);
      f.close();
    }
    const g = new SimpleFrames(images(), { workdir: workdir(), backend: 'cog', remoteCache: p.url });
    expectCode(() => g.loadRegion(1, REGION), FileError, 'ERR_MANIFEST', `${what} (sync)`);
    g.close();
  }
  // nothing escaped: no file was written outside the stage folders
  assert.equal(listFiles(root).filter((p) => p.includes('escape')), []);
});

// ---- objects that are not the entry they are listed for ------------------------------------------

function swapped(a: string, b: string, fields: string[]): string {
  return tampered((m) => {
    for (const f of fields) [m.entries[a][f], m.entries[b][f]] = [m.entries[b][f], m.entries[a][f]];
  });
}

test('swapped objects are ERR_CACHE_CORRUPT in place and staged, whatever else of the line is swapped with them', async () => {
  const [a, b] = [keyOf(1), keyOf(3)];  // same image size: equal-sized objects are likely
  const cases: Array<[string, string[]]> = [
    ['object keys only', ['object']],
    ['object keys, sizes, heads and hashes', ['object', 'size', 'head', 'xxh3']],
  ];
  for (const [what, fields] of cases) {
    const p = prefix(swapped(a, b, fields));
    for (const mode of ['in place (HTTP)', 'in place (local folder)', 'staged'] as const) {
      const stageDir = path.join(root, `stage-${n++}`);
      const remoteCache = mode === 'staged' ? { url: p.url, stage: { maxBytes: 1 << 30, dir: stageDir } } : mode === 'in place (HTTP)' ? p.url : p.local;
      const f = new SimpleFrames(images(), { workdir: workdir(), backend: 'cog', remoteCache });
      for (const id of [1, 3]) {
        const e = await expectCodeAsync(() => f.loadRegionAsync(id, REGION), FileError, 'ERR_CACHE_CORRUPT', `${what}, ${mode}, image ${id}`);
        assert.ok(String(e.path).includes('.cog.tif'), e.message);
      }
      f.close();
      if (mode === 'staged') {
        // a download that fails its checks is never renamed into place, and leaves no temporary
        const kept = listFiles(stageDir).filter((x) => x.endsWith('.cog.tif'));
        if (what === 'object keys only') assert.equal(kept, [], 'nothing staged');
        assert.equal(leftoverTemps(stageDir), []);
      }
    }
  }
});

test('the size the server reports is checked against the manifest (a bogus size of 1e15), in place and staged', async () => {
  const p = prefix(tampered((m) => { m.entries[keyOf(2)].size = 1e15; }));
  for (const remoteCache of [p.url, p.local, { url: p.url, stage: { maxBytes: 1 << 30 } }]) {
    const f = new SimpleFrames(images(), { workdir: workdir(), backend: 'cog', remoteCache });
    const e = await expectCodeAsync(() => f.loadRegionAsync(2, REGION), FileError, 'ERR_CACHE_CORRUPT', JSON.stringify(remoteCache));
    assert.ok(e.message.includes('1000000000000000'), e.message);
    f.close();
  }
});

test('a staged object that does not match its XXH3 is refused and never renamed into place', async () => {
  const p = prefix(tampered((m) => { m.entries[keyOf(2)].xxh3 = '0'.repeat(32); }));
  const stageDir = path.join(root, 'stage-hash');
  const f = new SimpleFrames(images(), { workdir: workdir(), backend: 'cog', remoteCache: { url: p.url, stage: { maxBytes: 1 << 30, dir: stageDir } } });
  const e = await expectCodeAsync(() => f.loadRegionAsync(2, REGION), FileError, 'ERR_CACHE_CORRUPT');
  assert.ok(e.message.includes('XXH3'), e.message);
  assert.equal(listFiles(stageDir).filter((x) => x.endsWith('.cog.tif')), []);
  assert.equal(leftoverTemps(stageDir), []);
  f.close();
});

test('an object the manifest names but the server does not have is ERR_SOURCE_MISSING naming its URL', async () => {
  const p = prefix(text);
  fs.rmSync(path.join(p.local, ...manifest.entries[keyOf(2)].object.split('/')));
  const f = new SimpleFrames(images(), { workdir: workdir(), backend: 'cog', remoteCache: p.url });
  const e = await expectCodeAsync(() => f.loadRegionAsync(2, REGION), FileError, 'ERR_SOURCE_MISSING');
  assert.ok(String(e.path).startsWith(p.url), String(e.path));
  assert.is(e.status, 404);
  f.close();
});

test.run();
