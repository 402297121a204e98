/**
 * CocoSampler's labels (lib/labels/): annotation formats (bbox, polygons, kwcoco polygons, RLE
 * lists and COCO's compressed strings, COCO and kwcoco keypoints), boxes taken from segmentations,
 * categories, and overlapping() (and the overlap area) against a brute-force scan of every box.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CocoFrames, CocoSampler } from '../lib';
import { decodeCountsString, parseRle, rleBox, rleToMask } from '../lib/labels/rle';
import type { Rle } from '../lib/labels/rle';
import { visibility } from '../lib/labels/spatial';

const images = [{ id: 1, file_name: 'a.png', width: 100, height: 80 }, { id: 2, file_name: 'b.png', width: 50, height: 40 }];
const categories = [{ id: 1, name: 'box' }, { id: 7, name: 'disc', supercategory: 'shape' }];
const ds = (annotations: unknown[]) => ({ images, categories, annotations });

// A hand-made 4 x 5 mask (rows top to bottom) and its column-major runs, written by hand.
const HAND = [
  [0, 1, 1, 0, 0],
  [0, 1, 1, 0, 0],
  [0, 0, 1, 1, 0],
  [0, 0, 0, 0, 0],
];
const HAND_COUNTS = [4, 2, 2, 3, 3, 1, 5];
const HAND_STRING = '42211N2';  // the same counts in COCO's compressed form (deltas from the 4th on)

test('RLE: an uncompressed counts list decodes to the hand-made mask, column-major', () => {
  const r = parseRle({ size: [4, 5], counts: HAND_COUNTS }) as Rle;
  assert.type(r, 'object');
  assert.equal(Array.from(rleToMask(r)), HAND.flat());
  assert.equal(rleBox(r), [1, 0, 3, 3]);
});

test("RLE: COCO's compressed string decodes to the same counts; multi-group and negative deltas", () => {
  assert.equal(Array.from(decodeCountsString(HAND_STRING) as Float64Array), HAND_COUNTS);
  const r = parseRle({ size: [4, 5], counts: HAND_STRING }) as Rle;
  assert.equal(Array.from(rleToMask(r)), HAND.flat());
  // 100 = 4 + 3 * 32: two groups, the first with the continuation bit ('0' + 36 = 'T').
  assert.equal(Array.from(decodeCountsString('T3') as Float64Array), [100]);
  assert.equal(decodeCountsString('T'), 'its counts string ends in the middle of a count');
  assert.match(decodeCountsString('4~') as string, /outside/);
  assert.match(parseRle({ size: [4, 5], counts: [4, 2] }) as string, /sum to 6/);
  assert.match(parseRle({ size: [4, 5], counts: [4, -1, 17] }) as string, /counts\[1\]/);
});

test('RLE: a run spanning columns covers every row of its box', () => {
  const r = parseRle({ size: [3, 3], counts: [2, 3, 4] }) as Rle;  // rows 2 of col 0, rows 0-1 of col 1
  assert.equal(rleBox(r), [0, 0, 2, 3]);
  assert.is(rleBox(parseRle({ size: [3, 3], counts: [9] }) as Rle), null);
});

test('annotations: bbox, polygons, kwcoco polygons, RLE and keypoints; boxes from segmentations', () => {
  const s = new CocoSampler(ds([
    { id: 1, image_id: 1, category_id: 1, bbox: [10, 20, 30, 40], track_id: 'T1' },
    { id: 2, image_id: 1, category_id: 7, segmentation: [[5, 5, 15, 5, 15, 25], [40, 40, 50, 40, 45, 50]] },
    { id: 3, image_id: 1, category_id: 7, segmentation: { exterior: [[0, 0], [10, 0], [10, 10], [0, 10]], interiors: [[[2, 2], [4, 2], [4, 4]]] } },
    { id: 4, image_id: 2, category_id: 1, segmentation: { size: [40, 50], counts: [4 * 40 + 3, 5, 2000 - 168] } },
    { id: 5, image_id: 2, category_id: 1, bbox: [0, 0, 1, 1], keypoints: [1, 2, 2, 3, 4, 0] },
    { id: 6, image_id: 2, category_id: 1, bbox: [0, 0, 1, 1], keypoints: [{ xy: [7, 8], keypoint_category_id: 1 }] },
    { id: 7, image_id: 2, category_id: 1, segmentation: [1, 1, 4, 1, 4, 6] },
  ]));
  assert.is(s.numAnnotations, 7);
  assert.equal(s.categories, categories);
  assert.equal(s.annotations(1).map((a) => (a as { id: number }).id), [1, 2, 3]);
  const get = (id: number) => s.store.get(id)!;
  assert.equal(get(1).box, [10, 20, 30, 40]);
  assert.is(get(1).trackId, 'T1');
  assert.equal(get(2).box, [5, 5, 45, 45]);
  assert.is(get(2).parts!.length, 2);
  assert.equal(get(3).box, [0, 0, 10, 10]);
  assert.is(get(3).parts![0].length, 2, 'exterior and one hole');
  assert.equal(get(4).box, [4, 3, 1, 5]);  // column 4, rows 3..7
  assert.equal(Array.from(get(5).keypoints!), [1, 2, 2, 3, 4, 0]);
  assert.equal(Array.from(get(6).keypoints!), [7, 8, 2]);
  assert.equal(get(7).box, [1, 1, 3, 5]);
  assert.is(get(7).trackId, null);
});

test('overlapping(): equal to a brute-force scan over random boxes and windows, with thresholds', () => {
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const anns = Array.from({ length: 2000 }, (_, i) => ({
    id: i + 1, image_id: 1 + (i % 2), category_id: 1,
    bbox: [rand() * 90 - 5, rand() * 70 - 5, rand() * 20, i % 97 === 0 ? 0 : rand() * 20],
  }));
  const s = new CocoSampler(ds(anns));
  for (let q = 0; q < 300; q++) {
    const img = 1 + (q % 2);
    const box: [number, number, number, number] = [rand() * 100 - 10, rand() * 80 - 10, rand() * 40, rand() * 40];
    const thresh = [0, 0.3, 0.99][q % 3];
    const want = anns.filter((a) => a.image_id === img && visibility(a.bbox[0], a.bbox[1], a.bbox[0] + a.bbox[2], a.bbox[1] + a.bbox[3],
      box[0], box[1], box[0] + box[2], box[1] + box[3]) > thresh).map((a) => a.id);
    assert.equal(s.overlapping(img, box, { visibleThresh: thresh }), want, `query ${q}`);
    // The summed overlap area a stream's negative draws use, without a list (lib/labels/spatial.ts).
    const [wx0, wy0, wx1, wy1] = [box[0], box[1], box[0] + box[2], box[1] + box[3]];
    let area = 0;
    for (const a of anns) {
      if (a.image_id !== img) continue;
      const iw = Math.min(a.bbox[0] + a.bbox[2], wx1) - Math.max(a.bbox[0], wx0);
      const ih = Math.min(a.bbox[1] + a.bbox[3], wy1) - Math.max(a.bbox[1], wy0);
      if (iw > 0 && ih > 0) area += iw * ih;
    }
    const got = s.store.overlapArea(img, wx0, wy0, wx1, wy1);
    assert.ok(Math.abs(got - area) <= 1e-9 * Math.max(1, area), `query ${q}: overlap area ${got}, brute force ${area}`);
  }
});

test('visibility: the fraction inside; a box without area counts when it lies in the window', () => {
  assert.is(visibility(0, 0, 10, 10, 5, 0, 20, 20), 0.5);
  assert.is(visibility(0, 0, 10, 10, 10, 0, 20, 20), 0, 'touching only');
  assert.is(visibility(3, 3, 3, 8, 0, 0, 10, 10), 1);
  assert.is(visibility(3, 3, 3, 8, 4, 0, 10, 10), 0);
});

test('a CocoFrames can be given; onInvalid skip lists the bad annotations and keeps the others', () => {
  const frames = new CocoFrames(ds([]));
  assert.is(new CocoSampler(frames).frames, frames);
  const s = new CocoSampler(ds([
    { id: 1, image_id: 1, category_id: 1, bbox: [0, 0, 5, 5] },
    { id: 2, image_id: 1, category_id: 99, bbox: [0, 0, 5, 5] },
    { id: 3, image_id: 1, category_id: 1, bbox: [0, 0, -5, 5] },
  ]), { onInvalid: 'skip' });
  assert.is(s.numAnnotations, 1);
  assert.equal(s.skipped.map((k) => [k.annotationId, k.error.code]), [[2, 'ERR_ANNOTATION'], [3, 'ERR_ANNOTATION']]);
});

test.run();
