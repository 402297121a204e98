/**
 * CocoSampler.loadSample / loadSampleAsync against independent references: the painted dataset
 * (test/_labels-fixture.ts: objects painted by GDAL in unique colours, so a sample's pixels say
 * where its boxes must be), gdal-async reads of the image (the pixels at transform(sample
 * pixel)), and numpy's flip / rot90 of the un-augmented sample.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import { CocoSampler, FramesError, RegionError } from '../lib';
import type { NDArray, Sample, Target } from '../lib';
import { readImage } from './_frames-util';
import { extent, makePainted, numpy, objectPixels } from './_labels-fixture';
import type { Painted } from './_labels-fixture';
import { expectCode, expectCodeAsync } from './_helpers/errors';

let P: Painted;
let S: CocoSampler;
const images = new Map<number, NDArray>();

test.before(() => {
  P = makePainted();
  S = new CocoSampler(P.file);
  for (const img of P.dataset.images) images.set(img.id, readImage(`${P.dir}/${img.file_name}`));
});
test.after(() => fs.rmSync(P.dir, { recursive: true, force: true }));

/** The image pixel the sample pixel (i, j) shows, by the transform; null outside the image. */
function expectedPixel(s: Sample, img: NDArray, i: number, j: number): number[] | null {
  const t = s.transform;
  const x = Math.floor(t[0] * (j + 0.5) + t[1] * (i + 0.5) + t[2]);
  const y = Math.floor(t[3] * (j + 0.5) + t[4] * (i + 0.5) + t[5]);
  if (x < 0 || y < 0 || y >= img.shape[0] || x >= img.shape[1]) return null;
  const at = (y * img.shape[1] + x) * 3;
  return [img.data[at], img.data[at + 1], img.data[at + 2]] as number[];
}

/**
 * Checks one sample: every pixel is the image's pixel at the transform (or the fill); every object
 * painted in the crop is listed; each listed object's box matches its pixels within `tol` on the
 * sides the window does not cut; keypoints map like the polygon's first vertex.
 */
let checked = 0;

function checkSample(s: Sample, fill: number, tol = 1): void {
  const [H, W, C] = s.im.shape;
  assert.is(C, 3);
  const img = images.get(s.target.imageId as number)!;
  for (let i = 0; i < H; i++) {
    for (let j = 0; j < W; j++) {
      const want = expectedPixel(s, img, i, j) ?? [fill, fill, fill];
      const at = (i * W + j) * 3;
      const got = [s.im.data[at], s.im.data[at + 1], s.im.data[at + 2]];
      if (got.some((g, k) => g !== want[k])) assert.unreachable(`pixel (${i}, ${j}) is [${got}], the image says [${want}]`);
    }
  }
  // The image's rectangle in sample coordinates: a box side outside it has no pixels to match.
  const t = s.transform;
  const det = t[0] * t[4] - t[1] * t[3];
  const inv = (x: number, y: number) => [(t[4] * (x - t[2]) - t[1] * (y - t[5])) / det, (-t[3] * (x - t[2]) + t[0] * (y - t[5])) / det];
  const [ax, ay] = inv(0, 0);
  const [bx, by] = inv(img.shape[1], img.shape[0]);
  const [ix0, ix1, iy0, iy1] = [Math.min(ax, bx), Math.max(ax, bx), Math.min(ay, by), Math.max(ay, by)];
  const a = s.annotations[0];
  const present = new Set<number>();
  for (let p = 0; p < H * W; p++) if (s.im.data[3 * p + 2] === 255 && s.im.data[3 * p + 1] === 77) present.add(s.im.data[3 * p] as number);
  for (const id of present) assert.ok(a.ids.includes(id), `object ${id} is painted in the sample but not listed (${a.ids})`);
  a.ids.forEach((id, k) => {
    const m = objectPixels(s.im.data, H, W, id as number);
    const e = extent(m, H, W);
    const [x0, y0, x1, y1] = a.boxes.subarray(4 * k, 4 * k + 4);
    if (e === null) return;  // its box overlaps the window but none of its pixels are in it
    // A box inside the window and the image: its pixels' extent within `tol` on every side (an
    // object cut by the window or the image border has another extent on its other sides too).
    if (x0 >= Math.max(0, ix0) && y0 >= Math.max(0, iy0) && x1 <= Math.min(W, ix1) && y1 <= Math.min(H, iy1)) {
      checked++;
      [x0, y0, x1, y1].forEach((b, q) => assert.ok(Math.abs(e[q] - b) <= tol, `object ${id}: box [${x0}, ${y0}, ${x1}, ${y1}] vs pixels [${e}]`));
    }
    assert.ok(a.visibility[k] > 0 && a.visibility[k] <= 1);
    const ring = a.polygons[k][0];
    if (ring !== undefined) assert.equal(Array.from(a.keypoints[k].subarray(0, 2)), [ring[0], ring[1]]);
  });
}

test('centre targets all over the image (and past its borders): pixels, listed objects and boxes', () => {
  for (const img of P.dataset.images) {
    for (let k = 0; k < 12; k++) {
      const target: Target = { imageId: img.id, cx: (k * 37) % img.width, cy: (k * 53) % img.height, windowDims: [40 + k, 56 - k] };
      const s = S.loadSample(target, { fill: 9 });
      assert.equal(s.im.shape, [40 + k, 56 - k, 3]);
      assert.equal(s.target.windowDims, [40 + k, 56 - k]);
      checkSample(s, 9);
    }
  }
});

test('annotation targets: extent, square and pad; the window is centred as ndsampler centres it', () => {
  for (const ann of P.dataset.annotations) {
    const [bx, by, bw, bh] = ann.bbox;
    const s = S.loadSample({ annotationId: ann.id });
    assert.equal(s.im.shape.slice(0, 2), [Math.ceil(bh), Math.ceil(bw)]);
    assert.is(s.target.imageId, ann.image_id);
    // ndsampler's centring: rows from floor(cy - h / 2), columns from floor(cx - w / 2)
    assert.equal([s.transform[5], s.transform[2]], [Math.floor(by + bh / 2 - Math.ceil(bh) / 2), Math.floor(bx + bw / 2 - Math.ceil(bw) / 2)]);
    assert.equal(S.loadSample(s.target).im, s.im, 'the resolved target gives the same sample');
    assert.ok(s.annotations[0].ids.includes(ann.id));
    checkSample(s, 0);
    checkSample(S.loadSample({ annotationId: ann.id, windowDims: [64, 80], augment: { hflip: ann.id % 2 === 0, rot90: (ann.id % 4) as 0 | 1 | 2 | 3 } }), 0);
    const sq = S.loadSample({ annotationId: ann.id, windowDims: 'square', pad: [3, 5] });
    const d = Math.max(Math.ceil(bh), Math.ceil(bw));
    assert.equal(sq.im.shape.slice(0, 2), [d + 6, d + 10]);
    checkSample(sq, 0);
  }
});

test('region targets and whole images; channels of the region', () => {
  const s = S.loadSample({ imageId: 1, region: [[-10, 50], [100, 175]] });
  assert.equal(s.im.shape, [60, 75, 3]);
  assert.equal(s.target.region, [[-10, 50], [100, 175]]);
  checkSample(s, 0);
  const whole = S.loadSample({ imageId: 2 });
  assert.equal(whole.im.shape, [96, 112, 3]);
  checkSample(whole, 0);
  assert.is(whole.annotations[0].ids.length, 4);
  const blue = S.loadSample({ imageId: 1, region: [[0, 10], [0, 10], [2, 3]] });
  assert.equal(blue.im.shape, [10, 10, 1]);
});

test('flips and quarter turns equal numpy flip / rot90 of the un-augmented sample, labels follow', () => {
  const base: Target = { imageId: 1, cx: 70, cy: 50, windowDims: [48, 64] };
  const plain = S.loadSample(base);
  for (const [aug, expr] of [
    [{ hflip: true }, 'a[:, ::-1]'], [{ vflip: true }, 'a[::-1]'], [{ rot90: 1 }, 'np.rot90(a, 1)'],
    [{ rot90: 2 }, 'np.rot90(a, 2)'], [{ rot90: 3, hflip: true }, 'np.rot90(a[:, ::-1], 3)'],
    [{ rot90: 1, hflip: true, vflip: true }, 'np.rot90(a[::-1, ::-1], 1)'],
  ] as const) {
    // An odd turn reads the transposed window, so the output stays [48, 64]: compare with the
    // plain sample of the transposed window.
    const odd = ((aug as { rot90?: number }).rot90 ?? 0) % 2 === 1;
    const ref = odd ? S.loadSample({ ...base, windowDims: [64, 48] }) : plain;
    const s = S.loadSample({ ...base, augment: aug });
    assert.equal(s.im.shape, [48, 64, 3], JSON.stringify(aug));
    assert.equal(Array.from(s.im.data), numpy(ref.im, expr), `pixels of ${JSON.stringify(aug)}`);
    checkSample(s, 0);
    assert.equal(s.annotations[0].ids, ref.annotations[0].ids);
  }
});

test('scale: a zoomed or reduced window keeps the output size; labels stay on their pixels', () => {
  for (const scale of [0.5, 0.75, 1.5, 2]) {
    const s = S.loadSample({ imageId: 1, cx: 80, cy: 60, windowDims: [50, 70], augment: { scale, rot90: 1 } });
    assert.equal(s.im.shape, [50, 70, 3]);
    checkSample(s, 0, Math.max(1, scale));
  }
  const lin = S.loadSample({ imageId: 1, cx: 80, cy: 60, windowDims: [50, 70], augment: { scale: 2 } }, { interpolation: 'linear' });
  assert.equal(lin.im.shape, [50, 70, 3]);
});

test('enough boxes were checked against their pixels', () => {
  assert.ok(checked >= 25, `${checked} boxes checked`);
});

test('loadSampleAsync gives what loadSample gives', async () => {
  for (const t of [{ annotationId: 3, pad: 4 }, { imageId: 2, cx: 5, cy: 90, windowDims: [30, 30] as [number, number], augment: { rot90: 3 as const, vflip: true } }]) {
    const a = S.loadSample(t, { fill: 3 });
    const b = await S.loadSampleAsync(t, { fill: 3 });
    assert.equal(Array.from(b.im.data), Array.from(a.im.data));
    assert.equal(b.annotations, a.annotations);
    assert.equal(b.transform, a.transform);
    assert.equal(b.target, a.target);
  }
});

test('visibleThresh leaves out the objects mostly outside the window', () => {
  const t: Target = { imageId: 1, cx: 0, cy: 0, windowDims: [20, 20] };
  const all = S.loadSample(t).annotations[0];
  const some = S.loadSample(t, { visibleThresh: 0.9 }).annotations[0];
  assert.ok(all.ids.length >= 1);
  assert.ok(some.ids.length < all.ids.length);
});

test('bad targets and options', async () => {
  expectCode(() => S.loadSample({ annotationId: 999 }), FramesError, 'ERR_UNKNOWN_ANNOTATION');
  expectCode(() => S.loadSample({ annotationId: 1, imageId: 2 }), FramesError, 'ERR_UNKNOWN_ANNOTATION');
  expectCode(() => S.loadSample({ imageId: 99 }), FramesError, 'ERR_UNKNOWN_IMAGE');
  expectCode(() => S.loadSample({}), TypeError, 'ERR_INVALID_ARG_TYPE');
  expectCode(() => S.loadSample(null as never), TypeError, 'ERR_INVALID_ARG_TYPE');
  expectCode(() => S.loadSample({ imageId: 1, cx: 5 }), TypeError, 'ERR_INVALID_ARG_TYPE');
  expectCode(() => S.loadSample({ imageId: 1, cx: 5, cy: 5, windowDims: [0, 4] }), RangeError, 'ERR_OUT_OF_RANGE');
  expectCode(() => S.loadSample({ imageId: 1, cx: 5, cy: 5, windowDims: 'big' as never }), TypeError, 'ERR_INVALID_ARG_TYPE');
  expectCode(() => S.loadSample({ imageId: 1, pad: -1 }), RangeError, 'ERR_OUT_OF_RANGE');
  expectCode(() => S.loadSample({ imageId: 1, augment: { rot90: 4 as never } }), RangeError, 'ERR_OUT_OF_RANGE');
  expectCode(() => S.loadSample({ imageId: 1, augment: { scale: 0 } }), RangeError, 'ERR_OUT_OF_RANGE');
  expectCode(() => S.loadSample({ imageId: 1, augment: { flip: true } as never }), TypeError, 'ERR_INVALID_ARG_TYPE');
  expectCode(() => S.loadSample({ imageId: 1, bogus: 1 } as never), TypeError, 'ERR_INVALID_ARG_TYPE');
  expectCode(() => S.loadSample({ videoId: 1 }), FramesError, 'ERR_UNKNOWN_VIDEO');  // no videos here (test/video.test.ts)
  expectCode(() => S.loadSample({ imageId: 1, region: [[5, 5], [0, 4]] }), RegionError, 'ERR_REGION');
  expectCode(() => S.loadSample({ imageId: 1 }, { visibleThresh: -1 }), RangeError, 'ERR_OUT_OF_RANGE');
  expectCode(() => S.loadSample({ imageId: 1 }, { interpolation: 'cubic' as never }), TypeError, 'ERR_INVALID_ARG_TYPE');
  await expectCodeAsync(() => S.loadSampleAsync({ annotationId: 999 }), FramesError, 'ERR_UNKNOWN_ANNOTATION');
  await expectCodeAsync(() => S.loadSampleAsync({ imageId: 1 }, { bogus: 1 } as never), TypeError, 'ERR_INVALID_ARG_TYPE');
});

test.run();
