/**
 * The sampler's plan (lib/frames/sampler.ts): deterministic for a seed whatever else runs, a
 * resumed plan equal to an uninterrupted one, each epoch split disjointly and completely across
 * ranks, random crops inside the image, grid tiles covering it, regions functions checked.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkPlan, epochItems, imageItems, Rng } from '../lib/frames/sampler';
import type { SampleItem, SamplerPlanOptions } from '../lib/frames/sampler';
import type { Shape3 } from '../lib/ndarray';
import { expectCode } from './_helpers/errors';

const ids = Array.from({ length: 37 }, (_, i) => i + 1);
const shapes: Shape3[] = ids.map((i) => [200 + (i * 37) % 300, 150 + (i * 53) % 400, 3]);
const key = (it: SampleItem) => `${String(it.imageId)}:${JSON.stringify(it.region)}`;
const plan = (o: Partial<SamplerPlanOptions>) => checkPlan({ size: [64, 96], batchSize: 8, ...o });

test('Rng: the same numbers for the same key, different for another; below(n) is uniform-ish and in range', () => {
  const a = new Rng(1, 2, 3);
  const b = new Rng(1, 2, 3);
  const c = new Rng(1, 2, 4);
  const xa = Array.from({ length: 100 }, () => a.next());
  assert.equal(Array.from({ length: 100 }, () => b.next()), xa);
  assert.not.equal(Array.from({ length: 100 }, () => c.next()), xa);
  const r = new Rng(9);
  const counts = new Array(10).fill(0);
  for (let i = 0; i < 10000; i++) counts[r.below(10)]++;
  for (const n of counts) assert.ok(n > 850 && n < 1150, `bucket ${n}`);
  // Pinned values: the generator must give these numbers on every machine and Node version
  // (a changed generator silently changes every user's training order).
  const pinned = new Rng(42, 7);
  assert.equal([pinned.next(), pinned.next(), pinned.next()], [2828082316, 267670572, 3472202119]);
});

test('random crops lie inside the image and have the requested size; an image smaller than size is boundless', () => {
  const p = plan({ seed: 5 });
  for (let e = 0; e < 3; e++) {
    ids.forEach((id, i) => {
      const [it] = imageItems(id, i, shapes[i], p, e);
      const [[y0, y1], [x0, x1]] = it.region as Array<[number, number]>;
      assert.is(y1 - y0, 64);
      assert.is(x1 - x0, 96);
      assert.ok(y0 >= 0 && y1 <= shapes[i][0] && x0 >= 0 && x1 <= shapes[i][1], 'inside');
      assert.is(it.boundless, false);
    });
  }
  const [small] = imageItems(1, 0, [40, 500, 1], p, 0);
  assert.is(small.boundless, true);
});

test('grid tiles cover each image, the last tile aligned to the far border', () => {
  const p = plan({ regions: 'grid' });
  const items = imageItems(1, 0, [150, 200, 3], p, 0);
  const ys = [...new Set(items.map((it) => (it.region[0] as number[])[0]))];
  const xs = [...new Set(items.map((it) => (it.region[1] as number[])[0]))];
  assert.equal(ys, [0, 64, 86]);
  assert.equal(xs, [0, 96, 104]);
  assert.is(items.length, 9);
});

test('deterministic: the same seed gives the same epochs; another seed or epoch another order', () => {
  const a = epochItems(ids, shapes, plan({ seed: 11 }), 0).map(key);
  const b = epochItems(ids, shapes, plan({ seed: 11 }), 0).map(key);
  assert.equal(a, b);
  assert.not.equal(epochItems(ids, shapes, plan({ seed: 12 }), 0).map(key), a);
  assert.not.equal(epochItems(ids, shapes, plan({ seed: 11 }), 1).map(key), a);
  const unshuffled = epochItems(ids, shapes, plan({ seed: 11, shuffle: false }), 0).map((it) => it.imageId);
  assert.equal(unshuffled, ids);
});

test('ranks: every epoch split disjointly and completely across worldSize ranks', () => {
  for (const worldSize of [1, 2, 3, 8]) {
    for (const regions of ['random', 'grid'] as const) {
      const whole = epochItems(ids, shapes, plan({ seed: 3, regions }), 2).map(key);
      const parts = Array.from({ length: worldSize }, (_, rank) => epochItems(ids, shapes, plan({ seed: 3, regions, rank, worldSize }), 2).map(key));
      const union = parts.flat();
      assert.is(union.length, whole.length, `complete (${worldSize} ranks, ${regions})`);
      assert.is(new Set(union).size, union.length, 'disjoint');
      assert.equal([...union].sort(), [...whole].sort(), 'the same items');
      const sizes = parts.map((x) => x.length);
      assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, 'balanced');
    }
  }
});

test('resume: a plan started from a state continues exactly', () => {
  const p = plan({ seed: 21 });
  const state = { version: 1 as const, seed: 21, epoch: 1, position: 16, rank: 0, worldSize: 1 };
  const q = plan({ seed: 21, resume: state });
  assert.equal(q.start, { epoch: 1, position: 16 });
  assert.equal(epochItems(ids, shapes, q, 1).slice(16).map(key), epochItems(ids, shapes, p, 1).slice(16).map(key));
  expectCode(() => plan({ seed: 22, resume: state }), Error, 'ERR_SAMPLER_STATE');
  expectCode(() => plan({ resume: { version: 2 } as never }), TypeError, 'ERR_INVALID_ARG_TYPE');
});

test('regions functions: each region must have the sampler size', () => {
  const good = plan({ regions: (_id, [H, W]) => [[[0, 64], [0, 96]], [[H - 64, H], [W - 96, W]]] });
  assert.is(imageItems(1, 0, [300, 300, 3], good, 0).length, 2);
  const bad = plan({ regions: () => [[[0, 10], [0, 96]]] });
  expectCode(() => imageItems(1, 0, [300, 300, 3], bad, 0), Error, 'ERR_REGION');
});

test('invalid options', () => {
  expectCode(() => checkPlan({ size: [0, 3], batchSize: 1 }), RangeError, 'ERR_OUT_OF_RANGE');
  expectCode(() => checkPlan({ size: 3 as never, batchSize: 1 }), TypeError, 'ERR_INVALID_ARG_TYPE');
  expectCode(() => checkPlan({ size: [3, 3], batchSize: 0 }), RangeError, 'ERR_OUT_OF_RANGE');
  expectCode(() => checkPlan({ size: [3, 3], batchSize: 2, rank: 2, worldSize: 2 }), RangeError, 'ERR_OUT_OF_RANGE');
  expectCode(() => checkPlan({ size: [3, 3], batchSize: 2, regions: 'tiles' as never }), TypeError, 'ERR_INVALID_ARG_TYPE');
});

test.run();
