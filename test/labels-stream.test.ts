/**
 * CocoSampler.stream: labeled batches of every positive and a share of negatives per epoch, the
 * same whatever the thread-pool size and prefetch; a resumed stream continues exactly; ranks split
 * each epoch disjointly and completely; every batch is windowDims whatever the augmentation, and
 * its masks equal the painted objects (the pixels say where they are). frames.sampler's batches
 * carry their targets, and cropsPerImage takes several random crops per image.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CocoSampler, FramesError, setThreadPoolSize, SimpleFrames, threadPoolSize } from '../lib';
import type { LabeledBatch, SamplerState, StreamOptions } from '../lib';
import { makePainted, objectPixels } from './_labels-fixture';
import type { Painted } from './_labels-fixture';
import { expectCode } from './_helpers/errors';

let P: Painted;
let S: CocoSampler;
test.before(() => {
  P = makePainted();
  S = new CocoSampler(P.file);
});
test.after(() => fs.rmSync(P.dir, { recursive: true, force: true }));

const BASE: StreamOptions = { windowDims: [40, 56], batchSize: 5, seed: 3, epochs: 2, augment: { hflip: 0.5, vflip: 0.5, rot90: true, scale: [0.8, 1.25] }, masks: 'instance' };
const key = (b: LabeledBatch) => b.targets.map((t) => JSON.stringify(t));

async function run(opts: Partial<StreamOptions>, take = Infinity): Promise<{ batches: LabeledBatch[]; keys: string[][]; state: SamplerState }> {
  const s = S.stream({ ...BASE, ...opts });
  const batches: LabeledBatch[] = [];
  for await (const b of s) {
    // the ring recycles pixel and mask buffers: keep copies
    batches.push({ ...b, data: b.data.slice(), masks: b.masks && { ...b.masks, data: b.masks.data.slice() } });
    if (batches.length >= take) break;
  }
  return { batches, keys: batches.map(key), state: s.state() };
}

test('epochs: every positive and round(n x (1 - f) / f) negatives, shuffled; dropLast', async () => {
  const n = P.dataset.annotations.length;
  const { keys } = await run({ epochs: 1, augment: undefined, masks: false });
  const flat = keys.flat().map((k) => JSON.parse(k));
  assert.is(flat.length, 2 * n);
  const pos = flat.filter((t) => t.annotationId !== undefined).map((t) => t.annotationId).sort((a, b) => a - b);
  assert.equal(pos, P.dataset.annotations.map((a) => a.id));
  const quarter = await run({ epochs: 1, positiveFraction: 0.8, masks: false });
  assert.is(quarter.keys.flat().length, n + Math.round((n * 0.2) / 0.8));
  const dropped = await run({ epochs: 1, dropLast: true, masks: false });
  assert.is(dropped.keys.length, Math.floor((2 * n) / 5));
  const negOnly = await run({ epochs: 1, positiveFraction: 0, masks: false });
  assert.is(negOnly.keys.flat().length, P.dataset.images.length);
});

test('the same batches whatever the thread-pool size and prefetch; another seed gives others', async () => {
  const before = threadPoolSize();
  try {
    setThreadPoolSize(1);
    const one = await run({});
    setThreadPoolSize(2);
    const two = await run({ prefetch: 5 });
    assert.equal(two.keys, one.keys);
    one.batches.forEach((b, i) => {
      assert.ok(b.data.every((x, k) => x === two.batches[i].data[k]), `pixels of batch ${i}`);
      assert.equal(b.annotations, two.batches[i].annotations);
      assert.equal(Array.from(b.masks!.data), Array.from(two.batches[i].masks!.data));
    });
    const other = await run({ seed: 4 });
    assert.not.equal(other.keys, one.keys);
  } finally {
    setThreadPoolSize(before);
  }
});

test('every batch is windowDims; augmentations are drawn; masks equal the painted objects', async () => {
  const { batches } = await run({ epochs: 3 });
  let turned = 0, flipped = 0, scaled = 0, checked = 0, same = 0;
  for (const b of batches) {
    assert.equal(b.dims.slice(1), [40, 56, 3]);
    assert.equal(b.masks!.dims.slice(1), [40, 56]);
    b.targets.forEach((t, i) => {
      const a = t.augment ?? {};
      if (a.rot90) turned++;
      if (a.hflip || a.vflip) flipped++;
      if (a.scale !== undefined && a.scale !== 1) scaled++;
      assert.ok(a.scale === undefined || (a.scale >= 0.8 && a.scale <= 1.25));
      const px = b.data.subarray(i * 40 * 56 * 3, (i + 1) * 40 * 56 * 3);
      const s = S.loadSample(t);
      // A scaled window reaching past the border: the batch engine samples its in-image part with
      // that part's own ratio (docs/api.md), loadSample the whole window; elsewhere they agree.
      const inside = windowInside(s.transform, t, 40, 56);
      if (inside || a.scale === undefined || a.scale === 1) assert.ok(px.every((x, k) => x === s.im.data[k]), 'stream pixels are loadSample pixels');
      if (inside) same++;
      // scale != 1: the mask is the geometry's, the pixels nearest samples: IoU, not equality (an
      // object whose box lies inside the crop and its image)
      b.annotations[i][0].ids.forEach((id, k) => {
        const m = objectPixels(px, 40, 56, id as number);
        let inter = 0, union = 0;
        for (let q = 0; q < 40 * 56; q++) {
          const got = b.masks!.data[i * 40 * 56 + q] === k + 1;
          if (got && m[q]) inter++;
          if (got || m[q]) union++;
        }
        if (union >= 100 && extentInside(b, i, id as number)) {
          checked++;
          assert.ok(inter / union >= 0.9, `IoU ${inter / union} for object ${id}`);
        }
      });
    });
  }
  assert.ok(turned > 10 && flipped > 10 && scaled > 10, `${turned} turned, ${flipped} flipped, ${scaled} scaled`);
  assert.ok(checked > 10 && same > 20, `${checked} masks checked, ${same} crops inside their image compared`);
});

/** The sample's window (by its transform) lies inside its image. */
function windowInside(t: number[], target: { imageId?: unknown }, h: number, w: number): boolean {
  const img = P.dataset.images.find((m) => m.id === target.imageId)!;
  const xs = [t[2], t[0] * w + t[1] * h + t[2]];
  const ys = [t[5], t[3] * w + t[4] * h + t[5]];
  return Math.min(...xs) >= 0 && Math.min(...ys) >= 0 && Math.max(...xs) <= img.width && Math.max(...ys) <= img.height;
}

/** The object's box lies inside the crop and its image (its pixels are all there). */
function extentInside(b: LabeledBatch, i: number, id: number): boolean {
  const k = b.annotations[i][0].ids.indexOf(id);
  const [x0, y0, x1, y1] = b.annotations[i][0].boxes.subarray(4 * k, 4 * k + 4);
  const ann = P.dataset.annotations.find((a) => a.id === id)!;
  const img = P.dataset.images.find((m) => m.id === ann.image_id)!;
  const [bx, by, bw, bh] = ann.bbox;
  return x0 >= 0 && y0 >= 0 && x1 <= 56 && y1 <= 40 && bx >= 0 && by >= 0 && bx + bw <= img.width && by + bh <= img.height;
}

test("the ring recycles the masks' memory with the pixels'", async () => {
  const seen = new Set<ArrayBufferLike>();
  let n = 0;
  for await (const b of S.stream({ ...BASE, epochs: 3, prefetch: 1, dropLast: true })) {
    seen.add(b.masks!.data.buffer);
    n++;
  }
  assert.ok(n >= 9);
  assert.ok(seen.size <= 4, `${seen.size} mask buffers for ${n} batches`);
});

test('resume continues exactly where a stopped stream was', async () => {
  const whole = await run({ masks: false });
  for (const stop of [1, 3, whole.keys.length - 1]) {
    const first = await run({ masks: false }, stop);
    const rest = await run({ masks: false, resume: first.state });
    assert.equal([...first.keys, ...rest.keys], whole.keys, `stopped after ${stop}`);
  }
  expectCode(() => S.stream({ ...BASE, resume: { ...whole.state, seed: 99 } }), FramesError, 'ERR_SAMPLER_STATE');
});

test('ranks split each epoch disjointly and completely', async () => {
  const whole = (await run({ epochs: 1, masks: false, augment: undefined })).keys.flat().sort();
  const parts = await Promise.all([0, 1, 2].map((rank) => run({ epochs: 1, masks: false, augment: undefined, rank, worldSize: 3 })));
  const union = parts.flatMap((p) => p.keys.flat()).sort();
  assert.equal(union, whole, 'the ranks together hold the epoch, each item once (two negatives may share a window)');
});

test("frames.sampler's batches carry their targets; cropsPerImage takes several crops per image", async () => {
  const f = new SimpleFrames(new Map(P.dataset.images.map((m) => [m.id, path.join(P.dir, m.file_name)])));
  const seen: number[] = [];
  for await (const b of f.sampler({ size: [16, 16], batchSize: 3, epochs: 1, cropsPerImage: 4, seed: 2 })) {
    assert.is(b.targets.length, b.dims[0]);
    b.targets.forEach((t, i) => {
      seen.push(t.imageId as number);
      const crop = f.loadRegion(t.imageId, t.region);
      assert.ok(b.data.subarray(i * 768, (i + 1) * 768).every((x, k) => x === crop.data[k]));
    });
  }
  assert.equal(seen.sort(), [1, 1, 1, 1, 2, 2, 2, 2]);
  expectCode(() => f.sampler({ size: [16, 16], batchSize: 3, regions: 'grid', cropsPerImage: 2 }), TypeError, 'ERR_INVALID_ARG_TYPE');
});

test('bad stream options', () => {
  expectCode(() => S.stream(undefined as never), TypeError, 'ERR_INVALID_ARG_TYPE');
  expectCode(() => S.stream({ ...BASE, windowDims: [4] as never }), TypeError, 'ERR_INVALID_ARG_TYPE');
  // [t, h, w] is a video stream (test/video.test.ts), whose layouts are NTHWC, NTCHW, NCTHW.
  expectCode(() => S.stream({ ...BASE, windowDims: [2, 4, 4], layout: 'NCHW' } as never), TypeError, 'ERR_INVALID_ARG_TYPE');
  expectCode(() => S.stream({ ...BASE, positiveFraction: 1.5 }), RangeError, 'ERR_OUT_OF_RANGE');
  expectCode(() => S.stream({ ...BASE, augment: { hflip: 2 } }), RangeError, 'ERR_OUT_OF_RANGE');
  expectCode(() => S.stream({ ...BASE, augment: { scale: [2, 1] } }), RangeError, 'ERR_OUT_OF_RANGE');
  expectCode(() => S.stream({ ...BASE, augment: { rot90: 1 as never } }), TypeError, 'ERR_INVALID_ARG_TYPE');
  expectCode(() => S.stream({ ...BASE, out: new Uint8Array(4) as never }), TypeError, 'ERR_INVALID_ARG_TYPE');
  expectCode(() => S.stream({ ...BASE, rank: 3, worldSize: 3 }), RangeError, 'ERR_OUT_OF_RANGE');
  expectCode(() => S.stream({ ...BASE, masks: 'x' as never }), TypeError, 'ERR_INVALID_ARG_TYPE');
});

test.run();
