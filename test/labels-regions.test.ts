/**
 * CocoSampler's plans: positives (one per annotation, centred, seeded jitter), negatives (checked
 * against the painted pixels: a window without overlap shows no object) and sample grids
 * (kwarray's SlidingWindow starts computed by hand; negatives show no object, positives list one).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import { CocoSampler } from '../lib';
import type { Target } from '../lib';
import { makePainted } from './_labels-fixture';
import type { Painted } from './_labels-fixture';
import { expectCode } from './_helpers/errors';

let P: Painted;
let S: CocoSampler;
test.before(() => {
  P = makePainted();
  S = new CocoSampler(P.file);
});
test.after(() => fs.rmSync(P.dir, { recursive: true, force: true }));

const painted = (t: Target): number => {
  const s = S.loadSample(t);
  let n = 0;
  for (let p = 0; p < s.im.data.length; p += 3) if (s.im.data[p + 2] === 255 && s.im.data[p + 1] === 77) n++;
  return n;
};

test('positives: one per annotation, centred on its box; jitter is seeded and bounded', () => {
  const pos = S.positives();
  assert.is(pos.length, P.dataset.annotations.length);
  pos.forEach((t, i) => {
    const a = P.dataset.annotations[i];
    assert.is(t.annotationId, a.id);
    assert.is(t.cx, a.bbox[0] + a.bbox[2] / 2);
    assert.is(t.cy, a.bbox[1] + a.bbox[3] / 2);
  });
  const j1 = S.positives({ windowDims: [32, 48], jitter: 0.5, seed: 1 });
  assert.equal(S.positives({ windowDims: [32, 48], jitter: 0.5, seed: 1 }), j1);
  assert.not.equal(S.positives({ windowDims: [32, 48], jitter: 0.5, seed: 2 }), j1);
  j1.forEach((t, i) => {
    assert.ok(Math.abs((t.cx as number) - (pos[i].cx as number)) <= 12);
    assert.ok(Math.abs((t.cy as number) - (pos[i].cy as number)) <= 8);
    assert.equal(t.windowDims, [32, 48]);
  });
});

test('negatives: seeded, inside their image, and no object pixel in any of them', () => {
  const neg = S.negatives({ count: 25, windowDims: [12, 16], seed: 4 });
  assert.is(neg.length, 25);
  assert.equal(S.negatives({ count: 25, windowDims: [12, 16], seed: 4 }), neg);
  for (const t of neg) {
    const s = S.loadSample(t);
    const [y0, x0] = [s.transform[5], s.transform[2]];
    const [y1, x1] = [y0 + 12, x0 + 16];
    const img = P.dataset.images.find((i) => i.id === t.imageId)!;
    assert.ok(y0 >= 0 && x0 >= 0 && y1 <= img.height && x1 <= img.width);
    assert.is(s.annotations[0].ids.length, 0);
    assert.is(painted(t), 0);
  }
  // A window larger than every free space: none (or few) found, never an overlapping one.
  assert.equal(S.negatives({ count: 3, windowDims: [90, 100], seed: 1 }), []);
  const loose = S.negatives({ count: 20, windowDims: [30, 30], seed: 2, maxOverlap: 0.3 });
  assert.is(loose.length, 20);
});

test("sampleGrid: kwarray's starts, split by annotations, checked against the pixels", () => {
  const g = S.sampleGrid({ windowDims: [50, 64], overlap: 0.25 });
  // image 1 (120 x 160): rows step round(37.5) = 38 (half to even): 0, 38, 70; cols step 48: 0, 48, 96
  const rows1 = [...new Set([...g.positives, ...g.negatives].filter((t) => t.imageId === 1).map((t) => (t.region as number[][])[0][0]))].sort((a, b) => a - b);
  const cols1 = [...new Set([...g.positives, ...g.negatives].filter((t) => t.imageId === 1).map((t) => (t.region as number[][])[1][0]))].sort((a, b) => a - b);
  assert.equal(rows1, [0, 38, 70]);
  assert.equal(cols1, [0, 48, 96]);
  assert.is(g.positives.length + g.negatives.length, 9 + 3 * 2);  // image 2 (96 x 112): rows 0, 38, 46; cols 0, 48
  for (const t of g.negatives) assert.is(painted(t), 0, JSON.stringify(t));
  for (const t of g.positives) assert.ok(S.loadSample(t).annotations[0].ids.length > 0);
  assert.ok(g.positives.length > 0);
  const big = S.sampleGrid({ windowDims: [200, 300] });
  assert.is(big.positives.length, 2, 'one window per image when the window is larger');
});

test('bad plan options', () => {
  expectCode(() => S.positives({ jitter: 2 }), RangeError, 'ERR_OUT_OF_RANGE');
  expectCode(() => S.positives({ windowDims: [0, 3] }), RangeError, 'ERR_OUT_OF_RANGE');
  expectCode(() => S.positives({ bogus: 1 } as never), TypeError, 'ERR_INVALID_ARG_TYPE');
  expectCode(() => S.negatives(undefined as never), TypeError, 'ERR_INVALID_ARG_TYPE');
  expectCode(() => S.negatives({ count: -1, windowDims: [3, 3] }), RangeError, 'ERR_OUT_OF_RANGE');
  expectCode(() => S.negatives({ count: 1, windowDims: [3, 3], maxOverlap: 1.5 }), RangeError, 'ERR_OUT_OF_RANGE');
  expectCode(() => S.negatives({ count: 1, windowDims: 3 as never }), TypeError, 'ERR_INVALID_ARG_TYPE');
  expectCode(() => S.sampleGrid({ windowDims: [10, 10], overlap: 1 }), RangeError, 'ERR_OUT_OF_RANGE');
  // [t, h, w] is a video grid (test/video.test.ts): this dataset has no videos.
  assert.equal(S.sampleGrid({ windowDims: [2, 10, 10] }), { positives: [], negatives: [] });
  expectCode(() => S.sampleGrid({ windowDims: [10, 10], task: 'video' }), TypeError, 'ERR_INVALID_ARG_TYPE');
});

test.run();
