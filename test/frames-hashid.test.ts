// Hashid modes: PATH (the path as given), PIXELS (the file's bytes), GIVEN (from the pathinfo),
// buildFileHashid, and PATH mode noticing a source that changed after its cache was built.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hashFile, hashFileAsync, hashString } from '../lib/cache/config';
import { FramesError } from '../lib/errors';
import { Frames } from '../lib/frames/frames';
import type { ImageId, Pathinfo } from '../lib/frames/frames';
import { native } from '../lib/native';
import { DEFAULT_CHANNEL, SimpleFrames } from '../lib/frames/simple-frames';
import { makeArray, sameArray, writeImage } from './_frames-util';
import { expectCode } from './_helpers/errors';
import { rmrf, tempDir } from './_helpers/tmp';

const root = tempDir('hashid').dir;
test.after(() => rmrf(root));

const imgA = makeArray(40, 30, 3, 'uint8', (y, x, c) => (y * 7 + x * 3 + c * 50) & 255);
const imgB = makeArray(40, 30, 3, 'uint8', (y, x, c) => (255 - y * 5 - x + c * 30) & 255);
const a1 = writeImage(path.join(root, 'a1.png'), imgA);
const a2 = writeImage(path.join(root, 'a2.png'), imgA);   // same bytes as a1
const b = writeImage(path.join(root, 'b.png'), imgB);

const cacheOf = (f: Frames, id: ImageId) => f.lookupPathinfo(id).channels[DEFAULT_CHANNEL].cache as string;

test('PATH: the same path gives the same cache file (across objects), another path another file', () => {
  const workdir = path.join(root, 'w-path');
  const f1 = new SimpleFrames({ 1: a1, 2: a2 }, { workdir, backend: 'npy' });
  const f2 = new SimpleFrames({ 7: a1 }, { workdir, backend: 'npy' });
  assert.is(cacheOf(f1, 1), cacheOf(f2, 7));
  assert.is.not(cacheOf(f1, 1), cacheOf(f1, 2), 'same bytes, other path');
  // PATH hashes the source's path relative to the workdir.
  assert.is(f1.lookupPathinfo(1).channels[DEFAULT_CHANNEL].hashid, Frames.buildFileHashid(workdir, path.relative(workdir, a1), 'PATH'));
  f1.loadRegion(1, [[0, 5], [0, 5]]);
  assert.ok(fs.existsSync(cacheOf(f2, 7)), 'built by f1, seen by f2');
  const entry = cacheOf(f1, 1);
  assert.is(path.basename(path.dirname(entry)), path.basename(entry).slice(0, 2));
  assert.is(path.dirname(path.dirname(entry)), f1.cacheDpath);
});

test('PIXELS: equal bytes share a cache file, different bytes do not', async () => {
  const workdir = path.join(root, 'w-pixels');
  const f = new SimpleFrames({ 1: a1, 2: a2, 3: b }, { workdir, backend: 'npy', hashidMode: 'PIXELS' });
  assert.is(cacheOf(f, 1), cacheOf(f, 2));
  assert.is.not(cacheOf(f, 1), cacheOf(f, 3));
  assert.is(f.lookupPathinfo(3).channels[DEFAULT_CHANNEL].hashid, Frames.buildFileHashid('', b, 'PIXELS'));
  assert.is(Frames.buildFileHashid(root, 'b.png', 'PIXELS'), Frames.buildFileHashid('', b, 'PIXELS'), 'root is joined');
  const r = await f.prepare();
  assert.is(r.built, 2, 'two distinct entries for three images');
  sameArray(f.loadRegion(2, [[3, 9], [4, 8]]), f.loadRegion(1, [[3, 9], [4, 8]]));
});

test('PIXELS: prepare hashes with asynchronous reads (no fs.readSync) to the same hashids', async () => {
  const ids = { 1: a1, 2: a2, 3: b };
  const syncFrames = new SimpleFrames(ids, { workdir: path.join(root, 'w-pix-sync'), backend: 'npy', hashidMode: 'PIXELS' });
  const want = [1, 2, 3].map((id) => syncFrames.lookupPathinfo(id).channels[DEFAULT_CHANNEL].hashid);
  const f = new SimpleFrames(ids, { workdir: path.join(root, 'w-pix-async'), backend: 'npy', hashidMode: 'PIXELS' });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const nodeFs = require('node:fs') as typeof fs;
  const readSync = nodeFs.readSync;
  let syncReads = 0;
  nodeFs.readSync = ((...args: Parameters<typeof fs.readSync>) => {
    syncReads++;
    return readSync(...args);
  }) as typeof fs.readSync;
  let report;
  try {
    report = await f.prepare({ workers: 2 });
  } finally {
    nodeFs.readSync = readSync;
  }
  assert.is(syncReads, 0, 'no synchronous reads while preparing');
  assert.is(report.built, 2);
  assert.equal([1, 2, 3].map((id) => f.lookupPathinfo(id).channels[DEFAULT_CHANNEL].hashid), want);
  assert.is(Frames.buildFileHashid(root, b, 'PIXELS'), want[2], 'an absolute suffix is not joined onto root');
  syncFrames.close();
  f.close();
});

test('buildFileHashid: 32 hex digits; PATH hashes the suffix only; GIVEN has nothing to build', () => {
  const h = Frames.buildFileHashid('/somewhere', 'x/y.png', 'PATH');
  assert.match(h, /^[0-9a-f]{32}$/);
  assert.is(Frames.buildFileHashid('/elsewhere', 'x/y.png', 'PATH'), h, 'a moved dataset keeps its hashids');
  assert.is.not(Frames.buildFileHashid('', 'x/z.png', 'PATH'), h);
  expectCode(() => Frames.buildFileHashid('', 'a.png', 'GIVEN'), FramesError, 'ERR_HASHID');
  expectCode(() => Frames.buildFileHashid('', 'a.png', 'DVC'), TypeError, 'ERR_INVALID_ARG_TYPE');
  expectCode(() => Frames.buildFileHashid('', path.join(root, 'nope.png'), 'PIXELS'), Error, 'ERR_SOURCE_MISSING');
});

test('hashes: the digests of xxhash-addon\'s XXHash128 (strings, files across 1 MiB chunks, empty input); junk to the binding throws', async () => {
  // xxhash-addon is the independent reference here, in the main thread only: its own binding is
  // not safe in a worker being terminated (native/hash/xxh128.h), so lib/ does not call it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { XXHash128 } = require('xxhash-addon') as typeof import('xxhash-addon');
  const ref = (b: Buffer) => XXHash128.hash(b).toString('hex');
  for (const s of ['', 'a', 'x/y.png', 'é漢字'.repeat(50), 'z'.repeat(100_000)]) assert.is(hashString(s), ref(Buffer.from(s, 'utf8')), s.slice(0, 20));
  for (const size of [0, 1, 240, (1 << 20) - 1, 1 << 20, 3 * (1 << 20) + 17]) {
    const bytes = Buffer.alloc(size);
    for (let i = 0; i < size; i++) bytes[i] = (i * 2654435761) >>> 13;
    const file = path.join(root, `bytes-${size}.bin`);
    fs.writeFileSync(file, bytes);
    assert.is(hashFile(file), ref(bytes), `hashFile ${size}`);
    assert.is(await hashFileAsync(file), ref(bytes), `hashFileAsync ${size}`);
  }
  const h = new native.Xxh128();
  h.update(Buffer.from('ab'));
  assert.is(h.digest(), ref(Buffer.from('ab')));
  h.update(Buffer.from('c'));
  assert.is(h.digest(), ref(Buffer.from('abc')), 'digest keeps the state');
  for (const junk of [undefined, 'abc', 3, {}, new Uint16Array(2), new DataView(new ArrayBuffer(2))]) {
    expectCode(() => native.xxh128(junk as never), TypeError, 'ERR_INVALID_ARG_TYPE');
    expectCode(() => h.update(junk as never), TypeError, 'ERR_INVALID_ARG_TYPE');
  }
  expectCode(() => (native.Xxh128 as unknown as () => void)(), TypeError, 'ERR_INVALID_ARG_TYPE');
  assert.throws(() => h.digest.call({}), (e: Error) => e instanceof TypeError, 'V8 checks the receiver');
});

class GivenFrames extends Frames {
  #files: Record<string, { path: string; hashid?: unknown }>;
  constructor(files: Record<string, { path: string; hashid?: unknown }>, workdir: string) {
    super({ workdir, backend: 'npy', hashidMode: 'GIVEN' });
    this.#files = files;
  }
  get imageIds(): ImageId[] {
    return Object.keys(this.#files);
  }
  protected buildPathinfo(imageId: ImageId): Pathinfo {
    const f = this.#files[String(imageId)];
    if (f === undefined) throw this.unknownImage(imageId);
    const chan = { ...f };
    this.populateChanInfo(chan as never);
    return { id: imageId, channels: { rgb: chan as never }, default: 'rgb' };
  }
}

test('GIVEN: the pathinfo hashid names the entry; a missing or unsafe one is ERR_HASHID', async () => {
  const workdir = path.join(root, 'w-given');
  const f = new GivenFrames({
    a: { path: a1, hashid: 'cafe0001' },
    b: { path: b, hashid: 'cafe0001' },
    c: { path: b },
    d: { path: b, hashid: '../../etc' },
    e: { path: b, hashid: 'x' },
  }, workdir);
  const entry = f.lookupPathinfo('a').channels.rgb.cache as string;
  assert.is(entry, path.join(f.cacheDpath as string, 'ca', 'cafe0001.npy'));
  assert.is(f.lookupPathinfo('b').channels.rgb.cache, entry, 'the given id is trusted');
  for (const id of ['c', 'd', 'e']) expectCode(() => f.loadRegion(id, [[0, 2], [0, 2]]), FramesError, 'ERR_HASHID', id);
  const r = await f.prepare();
  assert.is(r.built, 1);
  assert.equal(r.failed.map((x) => [x.imageId, (x.error as FramesError).code]), [['c', 'ERR_HASHID'], ['d', 'ERR_HASHID'], ['e', 'ERR_HASHID']]);
  // With no backend there is no cache, and no hashid is needed.
  const none = new SimpleFrames({ 1: a1 }, { workdir, hashidMode: 'GIVEN' });
  assert.equal(none.loadRegion(1, [[0, 3], [0, 3]]).shape, [3, 3, 3]);
});

for (const backend of ['npy', 'cog'] as const) {
  test(`PATH (${backend}): a source changed after its cache was built is noticed and rebuilt, not served stale`, async () => {
    const workdir = path.join(root, `w-stale-${backend}`);
    const src = path.join(root, `changing-${backend}.png`);
    writeImage(src, imgA);
    const f = new SimpleFrames({ 1: src }, { workdir, backend });
    sameArray(f.loadRegion(1, [[0, 10], [0, 10]]), refCrop(imgA), 'first build');
    const entry = cacheOf(f, 1);
    assert.ok(fs.existsSync(`${entry}.src.json`), 'sidecar next to the entry');
    // Same path, same size, new pixels, and a later mtime.
    writeImage(src, imgB);
    const later = new Date(Date.now() + 5000);
    fs.utimesSync(src, later, later);
    const g = new SimpleFrames({ 1: src }, { workdir, backend });
    assert.is(cacheOf(g, 1), entry, 'same path, same entry name');
    sameArray(g.loadRegion(1, [[0, 10], [0, 10]]), refCrop(imgB), 'a new object rebuilds');
    // The first object notices too once its reader is reopened, and prepare reports the rebuild.
    writeImage(src, imgA);
    const later2 = new Date(Date.now() + 10000);
    fs.utimesSync(src, later2, later2);
    f.close();
    sameArray(f.loadRegion(1, [[0, 10], [0, 10]]), refCrop(imgA), 'reopened reader rebuilds');
    writeImage(src, imgB);
    const later3 = new Date(Date.now() + 15000);
    fs.utimesSync(src, later3, later3);
    const r = await g.prepare({ useStamp: false });
    assert.is(r.built, 1, 'prepare rebuilds the stale entry');
    assert.is((await g.prepare({ useStamp: false })).built, 0);
    // A missing sidecar counts as stale (an entry whose build did not finish).
    fs.unlinkSync(`${entry}.src.json`);
    assert.is((await g.prepare({ useStamp: false })).built, 1);
  });
}

test('PATH: a source that vanished keeps serving its cache', () => {
  const workdir = path.join(root, 'w-vanish');
  const src = path.join(root, 'vanishing.png');
  writeImage(src, imgA);
  const f = new SimpleFrames({ 1: src }, { workdir, backend: 'npy' });
  f.loadRegion(1, [[0, 2], [0, 2]]);
  fs.unlinkSync(src);
  const g = new SimpleFrames({ 1: src }, { workdir, backend: 'npy' });
  sameArray(g.loadRegion(1, [[0, 10], [0, 10]]), refCrop(imgA));
});

function refCrop(a: typeof imgA) {
  return makeArray(10, 10, 3, 'uint8', (y, x, c) => a.data[(y * 30 + x) * 3 + c]);
}

test.run();
