// What a batch holds while it is in flight, and what it gives back:
// - readers: leased and pinned until the batch settles. Another process rebuilds a cache entry the
//   batch reads while the batch is in flight, this process then switches to the new file; the
//   batch still reads the file it started with (no ERR_CLOSED), single-file and fused.
// - memory: a batch without `out` takes a released buffer of its size when there is one; a buffer
//   is released only once JS can no longer reach it (garbage collected), never while a Batch or a
//   view of it is alive; buffers in flight stay refused as `out`.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fileStamp, sameStamp } from '../lib/cache/entry';
import { lockPathFor, lockSync } from '../lib/lock';
import { batchMemoryStats } from '../lib/frames/batch-native';
import { CocoFrames } from '../lib/frames/coco-frames';
import { SimpleFrames } from '../lib/frames/simple-frames';
import type { Batch } from '../lib/frames/batch';
import { makeArray, nodeArgs, writeImage } from './_frames-util';
import { expectCodeAsync } from './_helpers/errors';
import { rmrf, tempDir } from './_helpers/tmp';
import { RegionError } from '../lib/errors';

const root = tempDir('batch-lifetime').dir;
test.after(() => rmrf(root));

const gc = (globalThis as { gc?: () => void }).gc as () => void;
const turn = () => new Promise((r) => setImmediate(r));

const N = 96;
const pix = (y: number, x: number, c: number) => (y * 3 + x * 7 + c * 40) & 255;
const srcA = writeImage(path.join(root, 'a.png'), makeArray(N, N, 3, 'uint8', pix));
const srcB = writeImage(path.join(root, 'b.png'), makeArray(N, N, 3, 'uint8', (y, x, c) => 255 - pix(y, x, c)));

/** A child process that touches `src` (its entry goes stale) and reads it through its own Frames, which rebuilds the entry. */
function rebuildInAnotherProcess(workdir: string, src: string): void {
  const script = path.join(root, 'rebuild.ts');
  fs.writeFileSync(script, `
const fs = require('node:fs');
const { SimpleFrames } = require(${JSON.stringify(path.join(__dirname, '..', 'lib', 'frames', 'simple-frames'))});
const t = new Date(Date.now() + 5000);
fs.utimesSync(${JSON.stringify(src)}, t, t);
const f = new SimpleFrames({ a: ${JSON.stringify(src)} }, { workdir: ${JSON.stringify(workdir)}, backend: 'cog' });
f.loadRegion('a', [[0, 4], [0, 4]]);
f.close();
`);
  const r = spawnSync(process.execPath, nodeArgs(script), { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
}

test('another process rebuilds an entry while a batch reading it is in flight: the batch reads on (single-file)', async () => {
  const workdir = path.join(root, 'w1');
  const frames = new SimpleFrames({ a: srcA, b: srcB }, { workdir, backend: 'cog' });
  const region: [[number, number], [number, number]] = [[10, 42], [20, 52]];
  const want = frames.loadRegion('a', region);   // a's entry built and open
  const entryA = frames.lookupPathinfo('a').channels.default.cache as string;
  const entryB = frames.lookupPathinfo('b').channels.default.cache as string;
  fs.mkdirSync(path.dirname(entryB), { recursive: true });
  // b's entry cannot be built until we let go of its lock: the batch stays in flight, its crop of
  // a planned (and its reader pinned), while a's entry is rebuilt by another process.
  const lock = lockSync(lockPathFor(entryB));
  const pending = frames.loadBatch([{ imageId: 'a', region }, { imageId: 'b', region }]);
  const before = fileStamp(entryA);
  rebuildInAnotherProcess(workdir, srcA);
  assert.not.ok(sameStamp(fileStamp(entryA), before), 'the other process replaced the entry file');
  // This process notices (its reader checks the file's identity at most every second) and reads
  // the new file: the reader the batch planned with is replaced.
  await new Promise((r) => setTimeout(r, 1100));
  assert.equal(Array.from(frames.loadRegion('a', region).data), Array.from(want.data));
  lock?.release();
  const batch = await pending;
  assert.equal(Array.from(batch.data.subarray(0, want.data.length)), Array.from(want.data), 'crop of a');
  assert.equal(Array.from(batch.data.subarray(want.data.length)), Array.from(frames.loadRegion('b', region).data), 'crop of b');
  // and the next batch reads the new file
  const again = await frames.loadBatch([{ imageId: 'a', region }]);
  assert.equal(Array.from(again.data), Array.from(want.data));
  frames.close();
});

test('the same for an image of several files (a fused crop pins every file it reads)', async () => {
  const workdir = path.join(root, 'w2');
  const dataset = { images: [
    { id: 1, width: N, height: N, assets: [{ file_name: 'a.png', channels: 'r|g|b' }, { file_name: 'b.png', channels: 'x|y|z', warp_aux_to_img: { scale: 1 } }] },
    { id: 2, width: N, height: N, assets: [{ file_name: 'c.png', channels: 'r|g|b' }, { file_name: 'a.png', channels: 'x|y|z' }] },
  ] };
  fs.writeFileSync(path.join(root, 'ds.json'), JSON.stringify(dataset));
  writeImage(path.join(root, 'c.png'), makeArray(N, N, 3, 'uint8', (y, x, c) => (x + c) & 255));
  const region: [[number, number], [number, number]] = [[5, 37], [40, 72]];
  // Image 2 is new to this Frames object: its crop is planned asynchronously, after the crop of
  // image 1 pinned its files; holding the lock of one of image 2's entries keeps the batch in flight.
  const f2 = new CocoFrames(path.join(root, 'ds.json'), { workdir, backend: 'cog' });
  await f2.prepare();
  const want2 = f2.loadRegion(1, region, { channels: 'g|y' });
  const e2 = f2.lookupPathinfo(2).channels['r|g|b'].cache as string;
  fs.rmSync(e2);
  const lock2 = lockSync(lockPathFor(e2));
  const pending2 = f2.loadBatch([{ imageId: 1, region }, { imageId: 2, region }], { channels: 'g|y' });
  const a2 = f2.lookupPathinfo(1).channels['r|g|b'].cache as string;
  const before2 = fileStamp(a2);
  rebuildInAnotherProcess(workdir, srcA);
  assert.not.ok(sameStamp(fileStamp(a2), before2), 'the other process replaced the entry file');
  await new Promise((r) => setTimeout(r, 1100));
  assert.equal(Array.from(f2.loadRegion(1, region, { channels: 'g|y' }).data), Array.from(want2.data));
  lock2?.release();
  const batch = await pending2;
  assert.equal(Array.from(batch.data.subarray(0, want2.data.length)), Array.from(want2.data));
  f2.close();
});

test('batch memory: a released buffer is reused by the next batch of its size, never while it can be seen', async () => {
  const frames = new SimpleFrames({ a: srcA }, { backend: null });
  const reqs = Array.from({ length: 16 }, (_, i) => ({ imageId: 'a', region: [[i, i + 64], [i * 2, i * 2 + 64]] as [[number, number], [number, number]] }));
  const opts = { layout: 'NCHW' as const, dtype: 'float32' as const };
  // A batch we hold: no later batch may write into it.
  const held = await frames.loadBatch(reqs, opts);
  const snapshot = Float32Array.from(held.data);
  const view = new Float32Array(held.data.buffer, 4, 8);   // another view of the same memory
  const viewCopy = Float32Array.from(view);
  for (let k = 0; k < 20; k++) {
    await frames.loadBatch(reqs.map((r) => ({ ...r, region: [[0, 64], [k, k + 64]] as [[number, number], [number, number]] })), opts);
    if (k % 5 === 0) {
      gc();
      await turn();
    }
  }
  assert.equal(held.data, snapshot, 'a batch still held is never reused');
  assert.equal(view, viewCopy, 'nor one only a view of which is held');
  // Dropped batches come back once collected (the collector frees them, then a finalizer runs on
  // a later turn of the event loop): with buffers released, new batches take them.
  for (let t = 0; t < 200 && batchMemoryStats().pooled === 0; t++) {
    gc();
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.ok(batchMemoryStats().pooled > 0, 'dropped batches were released');
  const s0 = batchMemoryStats();
  const b1 = await frames.loadBatch(reqs, opts);
  const s1 = batchMemoryStats();
  assert.is(s1.reused, s0.reused + 1, 'the next batch of the same size took a released buffer');
  // A buffer in flight as `out` is refused as the out of a second batch at once; a Batch's data
  // given back as out is reused in place (explicit reuse).
  const first = frames.loadBatch(reqs, { ...opts, out: b1 });
  await expectCodeAsync(() => frames.loadBatch(reqs, { ...opts, out: b1 }), RegionError, 'ERR_OUT_BUFFER');
  const r1: Batch = await first;
  assert.is(r1.data, b1.data);
  frames.close();
});

test('a batch that fails gives its buffer back at once; a sync fused read allocates JS memory', async () => {
  const frames = new SimpleFrames({ a: srcA, gone: path.join(root, 'missing.png') }, { backend: null });
  const reqs = [{ imageId: 'a', region: [[0, 32], [0, 32]] as [[number, number], [number, number]] }, { imageId: 'gone', region: [[0, 32], [0, 32]] as [[number, number], [number, number]] }];
  await expectCodeAsync(() => frames.loadBatch(reqs), Error, 'ERR_SOURCE_MISSING');
  frames.close();
});

test.run();
