// Frames over the three backends: the original's doctests (demo shapes; prepare twice, serial and
// parallel, with the cache deleted in between), the prepare stamp and report, the conformance of
// loadRegion across backends (same regions, same pixels), zero-copy loadImage, cache-less reads,
// async reads, the reader LRU, failing images, and several processes preparing one cache.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FileError, FramesError, GdalError, NdsamplerError } from '../lib/errors';
import { Frames } from '../lib/frames/frames';
import { native } from '../lib/native';
import type { BackendSpec, PrepareReport } from '../lib/frames/frames';
import type { Region } from '../lib/region';
import { DEFAULT_CHANNEL, SimpleFrames } from '../lib/frames/simple-frames';
import { listFiles, nodeArgs, readImage, refRegion, sameArray } from './_frames-util';
import { expectCodeAsync } from './_helpers/errors';
import { rmrf, tempDir } from './_helpers/tmp';

const BACKENDS: BackendSpec[] = [null, 'npy', 'cog'];
const root = tempDir('frames').dir;
const demoDir = path.join(root, 'demo');

const counts = (r: PrepareReport) => ({ built: r.built, reused: r.reused, failed: r.failed.length, total: r.total, fromStamp: r.fromStamp });

test.after(() => rmrf(root));

test('the seed examples hold on every backend: loadImage(1) is 512x512x3, region (slice(-20), slice(-10)) is 492x502x3', () => {
  for (const backend of BACKENDS) {
    const frames = SimpleFrames.demo({ workdir: demoDir, backend });
    assert.equal(frames.loadImage(1)?.shape, [512, 512, 3], String(backend));
    assert.equal(frames.loadRegion(1, [[null, -20], [null, -10]]).shape, [492, 502, 3], String(backend));
    assert.is(frames.loadImage(1)?.dtype, 'uint8');
    frames.close();
  }
});

test('demo: three deterministic RGB uint8 PNGs of different sizes, made once', () => {
  const frames = SimpleFrames.demo({ workdir: demoDir });
  assert.equal(frames.imageIds, [1, 2, 3]);
  assert.is(frames.length, 3);
  const shapes = frames.imageIds.map((id) => frames.loadFrame(id).shape);
  assert.equal(shapes[0], [512, 512, 3]);
  assert.is(new Set(shapes.map((s) => s.join('x'))).size, 3, 'three sizes');
  const files = fs.readdirSync(path.join(demoDir, 'demo_images')).sort();
  assert.is(files.length, 3);
  assert.ok(files.every((f) => f.endsWith('.png')), files.join());
  const before = files.map((f) => fs.statSync(path.join(demoDir, 'demo_images', f)).mtimeMs);
  const other = tempDir('demo2').dir;
  try {
    const again = SimpleFrames.demo({ workdir: other });
    for (const id of [1, 2, 3]) sameArray(again.loadImage(id) as never, frames.loadImage(id) as never, `demo image ${id} is deterministic`);
    SimpleFrames.demo({ workdir: demoDir });
    assert.equal(files.map((f) => fs.statSync(path.join(demoDir, 'demo_images', f)).mtimeMs), before, 'not rewritten');
    // Pixels agree with an independent reader.
    const p = frames.lookupPathinfo(1).channels[DEFAULT_CHANNEL].path;
    sameArray(frames.loadImage(1) as never, readImage(p), 'library vs gdal-async');
  } finally {
    rmrf(other);
  }
});

for (const backend of ['npy', 'cog'] as const) {
  test(`prepare (${backend}): serial miss then hit; cache deleted; parallel miss then hit`, async () => {
    const workdir = tempDir(`prep-${backend}`).dir;
    try {
      const frames = SimpleFrames.demo({ workdir, backend });
      const dpath = frames.cacheDpath as string;
      assert.ok(dpath.startsWith(path.join(workdir, '_cache', 'frames', backend) + path.sep), dpath);
      assert.is(fs.existsSync(dpath), false, 'nothing built before prepare');

      assert.equal(counts(await frames.prepare()), { built: 3, reused: 0, failed: 0, total: 3, fromStamp: false }, 'serial miss');
      assert.equal(counts(await frames.prepare({ useStamp: false })), { built: 0, reused: 3, failed: 0, total: 3, fromStamp: false }, 'serial hit');
      const entries = listFiles(dpath).filter((f) => f.endsWith(backend === 'npy' ? '.npy' : '.cog.tif'));
      assert.is(entries.length, 3);
      for (const e of entries) {
        const [dir, file] = e.split(path.sep);
        assert.is(dir, file.slice(0, 2), `fanned out by the first two hex digits: ${e}`);
        assert.match(file, /^[0-9a-f]{32}\./);
      }
      assert.ok(listFiles(dpath).every((f) => !/\.tmp/.test(f)), 'no temp files left');

      rmrf(dpath);
      assert.equal(counts(await frames.prepare({ workers: 3 })), { built: 3, reused: 0, failed: 0, total: 3, fromStamp: false }, 'parallel miss');
      assert.equal(counts(await frames.prepare({ workers: 3, useStamp: false })), { built: 0, reused: 3, failed: 0, total: 3, fromStamp: false }, 'parallel hit');
      frames.close();
    } finally {
      rmrf(workdir);
    }
  });
}

test('prepare: the stamp skips even the existence checks, and a different image set or config invalidates it', async () => {
  const workdir = tempDir('stamp').dir;
  try {
    const frames = SimpleFrames.demo({ workdir, backend: 'npy' });
    await frames.prepare();
    const progress: Array<[number, number]> = [];
    const r = await frames.prepare({ onProgress: (d, t) => progress.push([d, t]) });
    assert.equal(counts(r), { built: 0, reused: 3, failed: 0, total: 3, fromStamp: true });
    assert.equal(progress, [[3, 3]]);
    // Delete an entry behind the stamp's back: a stamped prepare does not even look...
    const entry = frames.lookupPathinfo(2).channels[DEFAULT_CHANNEL].cache as string;
    fs.unlinkSync(entry);
    assert.is((await frames.prepare()).fromStamp, true);
    assert.is(fs.existsSync(entry), false);
    // ...an unstamped one does, and rebuilds it.
    assert.equal(counts(await frames.prepare({ useStamp: false })), { built: 1, reused: 2, failed: 0, total: 3, fromStamp: false });
    // A subset by gids never uses the stamp.
    assert.equal(counts(await frames.prepare({ gids: [1, 3] })), { built: 0, reused: 2, failed: 0, total: 2, fromStamp: false });
    // Another image set over the same cache directory has its own stamp.
    const paths = frames.imageIds.map((id) => frames.lookupPathinfo(id).channels[DEFAULT_CHANNEL].path);
    const two = new SimpleFrames({ 1: paths[0], 2: paths[1] }, { workdir, backend: 'npy' });
    assert.is(two.cacheDpath, frames.cacheDpath);
    assert.equal(counts(await two.prepare()), { built: 0, reused: 2, failed: 0, total: 2, fromStamp: false });
    assert.is((await two.prepare()).fromStamp, true);
    assert.is((await frames.prepare()).fromStamp, true, 'each set keeps its own stamp');
    // Another config is another cache directory.
    const deflate = SimpleFrames.demo({ workdir, backend: { type: 'cog', config: { compress: 'DEFLATE' } } });
    assert.is((await deflate.prepare()).fromStamp, false);
  } finally {
    rmrf(workdir);
  }
});

test('prepare: progress, a failing image does not stop the others, throwOnError rejects with the report', async () => {
  const workdir = tempDir('fail').dir;
  try {
    const demo = SimpleFrames.demo({ workdir });
    const good = demo.imageIds.map((id) => demo.lookupPathinfo(id).channels[DEFAULT_CHANNEL].path);
    const text = path.join(workdir, 'not-an-image.png');
    fs.writeFileSync(text, 'this is text, not a PNG\n');
    const missing = path.join(workdir, 'missing.png');
    const frames = new SimpleFrames({ 1: good[0], 2: missing, 3: good[1], 4: text, 5: good[2] }, { workdir, backend: 'npy' });
    const progress: number[] = [];
    const r = await frames.prepare({ workers: 2, onProgress: (d, t) => { assert.is(t, 5); progress.push(d); } });
    assert.equal(counts(r), { built: 3, reused: 0, failed: 2, total: 5, fromStamp: false });
    assert.equal(progress, [1, 2, 3, 4, 5]);
    const byId = new Map(r.failed.map((f) => [f.imageId, f.error]));
    assert.equal([...byId.keys()].sort(), [2, 4]);
    assert.instance(byId.get(2), FileError);
    assert.is((byId.get(2) as NdsamplerError).code, 'ERR_SOURCE_MISSING');
    assert.instance(byId.get(4), NdsamplerError);
    assert.instance(byId.get(4), GdalError);
    assert.equal(fs.readdirSync(frames.cacheDpath as string).filter((f) => f.startsWith('_prepare_stamp')), [], 'no stamp after failures');
    const err = await expectCodeAsync(() => frames.prepare({ throwOnError: true }), FramesError, 'ERR_PREPARE');
    const report = (err as unknown as FramesError & { report: PrepareReport }).report;
    assert.equal(counts(report), { built: 0, reused: 3, failed: 2, total: 5, fromStamp: false });
    // Reads of the good images work; the bad ones raise their own codes.
    assert.equal(frames.loadRegion(3, [[0, 10], [0, 10]]).shape, [10, 10, 3]);
    try {
      frames.loadRegion(2, [[0, 10], [0, 10]]);
      assert.unreachable('missing source');
    } catch (e) {
      assert.instance(e, FileError);
      assert.is((e as FileError).code, 'ERR_SOURCE_MISSING');
    }
  } finally {
    rmrf(workdir);
  }
});

test('prepare: an onProgress that throws rejects prepare with its error', async () => {
  const workdir = tempDir('progress-throw').dir;
  try {
    const frames = SimpleFrames.demo({ workdir, backend: 'npy' });
    const boom = new Error('boom');
    try {
      await frames.prepare({ onProgress: () => { throw boom; } });
      assert.unreachable('should reject');
    } catch (e) {
      assert.is(e, boom);
    }
  } finally {
    rmrf(workdir);
  }
});

const REGIONS: Array<Region | null> = [
  null,
  [],
  [[null, -20], [null, -10]],
  [[10, 42], [10, 42]],
  [[3, -3], [3, -3]],
  [[-50, null], [-7, null]],
  [[-50, -10], [5, -300]],
  [[0, 1], [0, 1]],
  [[500, 600], [400, 1000]],
  [[-1000, 3], [-1000, 1000]],
  [[20, 10], [0, 5]],
  [[100, 150], null],
  [null, [100, 101]],
  [[5, 40], [7, 33], [1, 3]],
  [[5, 40], [7, 33], [-1, null]],
  [[5, 40], [7, 33], [2, 1]],
  [{ start: 8, stop: -8 }, { start: null, stop: 17 }],
];

test('conformance: every region gives the same pixels on backends null, npy and cog, equal to an independent reference', () => {
  const frames = BACKENDS.map((backend) => SimpleFrames.demo({ workdir: demoDir, backend }));
  for (const id of frames[0].imageIds) {
    const full = readImage(frames[0].lookupPathinfo(id).channels[DEFAULT_CHANNEL].path);
    for (const region of REGIONS) {
      const expected = refRegion(full, region as unknown[] | null);
      for (const [i, f] of frames.entries()) {
        const got = f.loadRegion(id, region);
        sameArray(got, expected, `image ${id} region ${JSON.stringify(region)} backend ${String(BACKENDS[i])}`);
        assert.equal(got.strides, [got.shape[1] * got.shape[2], got.shape[2], 1], 'contiguous result');
      }
    }
  }
  for (const f of frames) f.close();
});

test('conformance: loadRegionAsync and loadRegions give the same pixels as loadRegion', async () => {
  for (const backend of BACKENDS) {
    const frames = SimpleFrames.demo({ workdir: demoDir, backend });
    const requests = frames.imageIds.flatMap((imageId) => REGIONS.map((region) => ({ imageId, region })));
    const batch = await frames.loadRegions(requests);
    assert.is(batch.length, requests.length);
    for (const [i, r] of requests.entries()) {
      const sync = frames.loadRegion(r.imageId, r.region);
      sameArray(batch[i], sync, `batch ${i} ${String(backend)}`);
      sameArray(await frames.loadRegionAsync(r.imageId, r.region), sync, `async ${i} ${String(backend)}`);
    }
    frames.close();
  }
});

test('loadRegionAsync builds a missing cache entry with the async converter, once for concurrent requests', async () => {
  const workdir = tempDir('async-build').dir;
  const real = { npy: native.convertToNpy, npyAsync: native.convertToNpyAsync };
  let syncCalls = 0;
  let asyncCalls = 0;
  native.convertToNpy = (...a) => { syncCalls++; return real.npy(...a); };
  native.convertToNpyAsync = (...a) => { asyncCalls++; return real.npyAsync(...a); };
  try {
    const frames = SimpleFrames.demo({ workdir, backend: 'npy' });
    const entry = frames.lookupPathinfo(1).channels[DEFAULT_CHANNEL].cache as string;
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => frames.loadRegionAsync(1, [[i, i + 16], [0, 16]])));
    assert.ok(fs.existsSync(entry), 'entry built');
    assert.is(asyncCalls, 1, 'one conversion for eight concurrent requests');
    assert.is(syncCalls, 0, 'nothing converted on the main thread');
    for (const [i, r] of results.entries()) sameArray(r, frames.loadRegion(1, [[i, i + 16], [0, 16]]));
    assert.equal(counts(await frames.prepare({ gids: [1] })), { built: 0, reused: 1, failed: 0, total: 1, fromStamp: false });
    assert.is(asyncCalls, 1);
  } finally {
    native.convertToNpy = real.npy;
    native.convertToNpyAsync = real.npyAsync;
    rmrf(workdir);
  }
});

test('loadImage on npy is a zero-copy view of the mapped cache file; cog and null return arrays', () => {
  const npy = SimpleFrames.demo({ workdir: demoDir, backend: 'npy' });
  const a = npy.loadImage(1);
  const b = npy.loadImage(1);
  assert.ok(a !== undefined && b !== undefined);
  assert.is(a.data.buffer, b.data.buffer, 'both views share the mapping: nothing was copied');
  assert.ok(a.data.byteLength > 512 * 512 * 3 - 1);
  const entry = npy.lookupPathinfo(1).channels[DEFAULT_CHANNEL].cache as string;
  assert.is(a.data.buffer.byteLength, fs.statSync(entry).size, 'the view spans the whole mapped file');
  for (const backend of ['cog', null] as const) {
    const f = SimpleFrames.demo({ workdir: demoDir, backend });
    sameArray(f.loadImage(1) as never, a, String(backend));
  }
  // The view stays valid after its reader is closed and collected.
  npy.close();
  (globalThis as { gc?: () => void }).gc?.();
  sameArray(a, SimpleFrames.demo({ workdir: demoDir }).loadImage(1) as never, 'view after close');
});

test('a full-image region or loadImage({cache: false}) does not build the cache; a partial region does', () => {
  for (const backend of ['npy', 'cog'] as const) {
    const workdir = tempDir(`nobuild-${backend}`).dir;
    try {
      const frames = SimpleFrames.demo({ workdir, backend });
      const entry = frames.lookupPathinfo(1).channels[DEFAULT_CHANNEL].cache as string;
      assert.equal(frames.loadImage(1, { cache: false })?.shape, [512, 512, 3]);
      assert.equal(frames.loadRegion(1).shape, [512, 512, 3]);
      assert.equal(frames.loadRegion(1, [null, [null, null]]).shape, [512, 512, 3]);
      assert.equal(frames.loadRegion(1, [[0, 512], [0, 512]], { width: 512, height: 512 }).shape, [512, 512, 3]);
      assert.equal(frames.loadRegion(1, [null, null, [0, 1]]).shape, [512, 512, 1]);
      assert.is(fs.existsSync(entry), false, `${backend}: no entry after full reads`);
      assert.equal(frames.loadRegion(1, [[0, 512], [0, 512]]).shape, [512, 512, 3]);
      assert.is(fs.existsSync(entry), true, `${backend}: a region with explicit stops (size unknown) builds`);
      frames.close();
    } finally {
      rmrf(workdir);
    }
  }
});

test('loadImage({noreturn: true}) only ensures the cache entry', () => {
  const workdir = tempDir('noreturn').dir;
  try {
    const frames = SimpleFrames.demo({ workdir, backend: 'cog' });
    const entry = frames.lookupPathinfo(3).channels[DEFAULT_CHANNEL].cache as string;
    assert.is(frames.loadImage(3, { noreturn: true }), undefined);
    assert.ok(fs.existsSync(entry));
    assert.is(frames.loadImage(3, { noreturn: true, cache: false }), undefined);
  } finally {
    rmrf(workdir);
  }
});

test('at(index), length and iteration follow imageIds', () => {
  const frames = SimpleFrames.demo({ workdir: demoDir, backend: 'npy' });
  assert.is(frames.length, 3);
  const shapes = [...frames].map((a) => a.shape);
  assert.equal(shapes, frames.imageIds.map((id) => frames.loadImage(id)?.shape));
  sameArray(frames.at(0), frames.loadImage(1) as never);
  sameArray(frames.at(-1), frames.loadImage(3) as never);
});

test('the reader LRU stays bounded and evicted readers leave earlier results valid', () => {
  const frames = SimpleFrames.demo({ workdir: demoDir, backend: 'npy' });
  frames.maxReaders = 1;
  const views = frames.imageIds.map((id) => frames.loadImage(id));
  const crops = frames.imageIds.map((id) => frames.loadRegion(id, [[0, 8], [0, 8]]));
  (globalThis as { gc?: () => void }).gc?.();
  const fresh = SimpleFrames.demo({ workdir: demoDir, backend: 'npy' });
  for (const [i, id] of frames.imageIds.entries()) {
    sameArray(views[i] as never, fresh.loadImage(id) as never, `view of image ${id}`);
    sameArray(crops[i], fresh.loadRegion(id, [[0, 8], [0, 8]]), `crop of image ${id}`);
  }
  assert.is(frames.maxReaders, 1);
});

test('ids: 1 and "1" name the same image; unknown ids raise ERR_UNKNOWN_IMAGE', () => {
  const frames = SimpleFrames.demo({ workdir: demoDir });
  sameArray(frames.loadRegion('1', [[0, 4], [0, 4]]), frames.loadRegion(1, [[0, 4], [0, 4]]));
  for (const id of [0, 4, 'x', -1]) {
    try {
      frames.loadRegion(id, [[0, 4], [0, 4]]);
      assert.unreachable(`id ${id}`);
    } catch (e) {
      assert.instance(e, FramesError);
      assert.is((e as FramesError).code, 'ERR_UNKNOWN_IMAGE');
    }
  }
});

test('several processes preparing the same cache at once all succeed and leave valid entries', async () => {
  const workdir = tempDir('multi').dir;
  try {
    SimpleFrames.demo({ workdir });
    const script = path.join(workdir, 'prep.ts');
    fs.writeFileSync(script, `
      const { SimpleFrames } = require(${JSON.stringify(path.resolve(__dirname, '../lib/frames/simple-frames'))});
      const f = SimpleFrames.demo({ workdir: ${JSON.stringify(workdir)}, backend: process.argv[2] });
      f.prepare({ workers: 3, useStamp: false }).then((r) => {
        process.stdout.write(JSON.stringify({ built: r.built, reused: r.reused, failed: r.failed.map((x) => String(x.error)) }));
      });
    `);
    for (const backend of ['npy', 'cog']) {
      const runs = await Promise.all([0, 1, 2].map(() => new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
        const child = spawn(process.execPath, [...nodeArgs(script), backend], { cwd: path.resolve(__dirname, '..') });
        let out = '';
        let err = '';
        child.stdout.on('data', (d) => { out += d; });
        child.stderr.on('data', (d) => { err += d; });
        child.on('close', (code) => resolve({ code, out, err }));
      })));
      for (const r of runs) {
        assert.is(r.code, 0, r.err);
        const rep = JSON.parse(r.out) as { built: number; reused: number; failed: string[] };
        assert.equal(rep.failed, []);
        assert.is(rep.built + rep.reused, 3);
      }
      const frames = SimpleFrames.demo({ workdir, backend: backend as 'npy' | 'cog' });
      assert.ok(listFiles(frames.cacheDpath as string).every((f) => !/\.tmp/.test(f)), 'no temp files left');
      const plain = SimpleFrames.demo({ workdir });
      for (const id of frames.imageIds) sameArray(frames.loadImage(id) as never, plain.loadImage(id) as never, `${backend} image ${id}`);
      assert.equal(counts(await frames.prepare({ useStamp: false })), { built: 0, reused: 3, failed: 0, total: 3, fromStamp: false });
    }
  } finally {
    rmrf(workdir);
  }
});

test('Frames is abstract: a subclass supplies imageIds and buildPathinfo', () => {
  class Two extends Frames {
    get imageIds() { return ['a', 'b']; }
    protected buildPathinfo(id: string | number) {
      if (id !== 'a' && id !== 'b') throw this.unknownImage(id);
      const demo = SimpleFrames.demo({ workdir: demoDir });
      const chan = { path: demo.lookupPathinfo(id === 'a' ? 1 : 2).channels[DEFAULT_CHANNEL].path };
      this.populateChanInfo(chan);
      return { id, channels: { rgb: chan }, default: 'rgb' };
    }
  }
  const t = new Two({ workdir: demoDir, backend: 'npy' });
  assert.is(t.length, 2);
  assert.ok(t.hasImage('a'));
  assert.is(t.hasImage('c'), false);
  assert.equal(t.loadRegion('b', [[0, 2], [0, 2]]).shape, [2, 2, 3]);
  assert.equal(t.loadImage('a', { channels: 'rgb' })?.shape, [512, 512, 3]);
});

test.run();
