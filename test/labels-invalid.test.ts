/**
 * Bad input to CocoSampler: each malformed annotation is FramesError ERR_ANNOTATION naming its id
 * (`annotationId` and the message), at construction; with onInvalid 'skip' it is listed instead.
 * Bad arguments to the constructor and overlapping() are TypeError / RangeError.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CocoFrames, CocoSampler, FramesError } from '../lib';
import { expectCode } from './_helpers/errors';

const images = [{ id: 1, file_name: 'a.png', width: 10, height: 8 }, { id: 2, file_name: 'b.png' }];
const categories = [{ id: 1, name: 'a' }];
const ds = (ann: Record<string, unknown>) => ({ images, categories, annotations: [ann] });
const base = { id: 42, image_id: 1, category_id: 1 };

const BAD: Array<[string, Record<string, unknown>, RegExp]> = [
  ['NaN bbox', { ...base, bbox: [0, NaN, 1, 1] }, /bbox/],
  ['Infinity bbox', { ...base, bbox: [0, 0, Infinity, 1] }, /bbox/],
  ['negative box width', { ...base, bbox: [0, 0, -1, 1] }, /negative size/],
  ['negative box height', { ...base, bbox: [0, 0, 1, -0.5] }, /negative size/],
  ['bbox of 3 numbers', { ...base, bbox: [0, 0, 1] }, /bbox/],
  ['polygon of 2 points', { ...base, segmentation: [[0, 0, 5, 5]] }, /fewer than 3 points/],
  ['polygon with an odd coordinate count', { ...base, segmentation: [[0, 0, 5, 5, 3, 3, 1]] }, /odd number/],
  ['polygon with NaN', { ...base, segmentation: [[0, 0, 5, NaN, 3, 3]] }, /finite/],
  ['polygon with a string', { ...base, segmentation: [[0, 0, 5, '5', 3, 3]] }, /finite/],
  ['kwcoco polygon of 2 points', { ...base, segmentation: { exterior: [[0, 0], [1, 1]] } }, /fewer than 3 points/],
  ['kwcoco polygon with a bad hole', { ...base, segmentation: { exterior: [[0, 0], [4, 0], [4, 4]], interiors: [[[1, 1], [2, 2]]] } }, /interiors\[0\]/],
  ['RLE whose size disagrees with the image', { ...base, segmentation: { size: [8, 11], counts: [88] } }, /not the image's/],
  ['RLE whose counts do not sum to its size', { ...base, segmentation: { size: [8, 10], counts: [70] } }, /sum to 70/],
  ['RLE with a negative count', { ...base, segmentation: { size: [8, 10], counts: [90, -10] } }, /counts\[1\]/],
  ['RLE compressed string with a bad character', { ...base, segmentation: { size: [8, 10], counts: '1 2' } }, /outside/],
  ['RLE compressed string cut short', { ...base, segmentation: { size: [8, 10], counts: 'T' } }, /middle of a count/],
  ['RLE compressed string with a negative count', { ...base, segmentation: { size: [8, 10], counts: '42O' } }, /negative count/],
  ['RLE of size [0, 0]', { ...base, segmentation: { size: [0, 0], counts: [] } }, /size/],
  ['keypoints not in triplets', { ...base, bbox: [0, 0, 1, 1], keypoints: [1, 2, 2, 3] }, /triplets/],
  ['keypoints with NaN', { ...base, bbox: [0, 0, 1, 1], keypoints: [1, NaN, 2] }, /keypoints\[1\]/],
  ['kwcoco keypoint without xy', { ...base, bbox: [0, 0, 1, 1], keypoints: [{ keypoint_category_id: 1 }] }, /xy/],
  ['unknown category id', { ...base, category_id: 3, bbox: [0, 0, 1, 1] }, /category_id 3/],
  ['missing category id', { id: 42, image_id: 1, bbox: [0, 0, 1, 1] }, /category_id is missing/],
  ['unknown image id', { ...base, image_id: 9, bbox: [0, 0, 1, 1] }, /image_id 9/],
  ['no bbox and no segmentation', { ...base }, /no bbox and no segmentation/],
  ['empty RLE and no bbox', { ...base, segmentation: { size: [8, 10], counts: [80] } }, /empty/],
  ['track_id an object', { ...base, bbox: [0, 0, 1, 1], track_id: {} }, /track_id/],
  ['segmentation of the wrong kind', { ...base, segmentation: [{ foo: 1 }] }, /neither/],
];

for (const [name, ann, why] of BAD) {
  test(`ERR_ANNOTATION naming the id: ${name}`, () => {
    const e = expectCode(() => new CocoSampler(ds(ann)), FramesError, 'ERR_ANNOTATION', name);
    assert.is(e.annotationId, 42);
    assert.match(e.message, /^annotation 42: /);
    assert.match(e.message, why);
    const s = new CocoSampler(ds(ann), { onInvalid: 'skip' });
    assert.is(s.numAnnotations, 0);
    assert.equal(s.skipped.map((k) => k.annotationId), [42]);
  });
}

test('duplicate annotation ids: the second is ERR_ANNOTATION (or skipped)', () => {
  const d = { images, categories, annotations: [{ ...base, bbox: [0, 0, 1, 1] }, { ...base, bbox: [1, 1, 1, 1] }] };
  const e = expectCode(() => new CocoSampler(d), FramesError, 'ERR_ANNOTATION');
  assert.match(e.message, /given twice/);
  const s = new CocoSampler(d, { onInvalid: 'skip' });
  assert.is(s.numAnnotations, 1);
  assert.is(s.skipped.length, 1);
});

test('an RLE on an image without a declared size is accepted at construction', () => {
  const s = new CocoSampler(ds({ ...base, image_id: 2, segmentation: { size: [3, 3], counts: [4, 1, 4] } }));
  assert.is(s.numAnnotations, 1);
});

test('annotations without an id, not objects, and bad lists are ERR_ANNOTATION whatever onInvalid says about lists', () => {
  expectCode(() => new CocoSampler({ images, categories, annotations: [{ image_id: 1, category_id: 1, bbox: [0, 0, 1, 1] }] }), FramesError, 'ERR_ANNOTATION');
  expectCode(() => new CocoSampler({ images, categories, annotations: [7] }), FramesError, 'ERR_ANNOTATION');
  expectCode(() => new CocoSampler({ images, categories, annotations: {} }), FramesError, 'ERR_ANNOTATION');
  expectCode(() => new CocoSampler({ images, categories, annotations: {} }, { onInvalid: 'skip' }), FramesError, 'ERR_ANNOTATION');
  expectCode(() => new CocoSampler({ images, categories: [{ id: 1 }, { id: 1 }], annotations: [] }), FramesError, 'ERR_ANNOTATION');
  expectCode(() => new CocoSampler({ images, categories: [{ name: 'x' }], annotations: [] }), FramesError, 'ERR_ANNOTATION');
  expectCode(() => new CocoSampler({ images, categories: 'x', annotations: [] }), FramesError, 'ERR_ANNOTATION');
});

test('constructor arguments: TypeError / RangeError', () => {
  expectCode(() => new CocoSampler(42 as never), TypeError, 'ERR_INVALID_ARG_TYPE');
  expectCode(() => new CocoSampler({ images, annotations: [] }, { onInvalid: 'ignore' as never }), TypeError, 'ERR_INVALID_ARG_TYPE');
  expectCode(() => new CocoSampler({ images, annotations: [] }, { bogus: 1 } as never), TypeError, 'ERR_INVALID_ARG_TYPE');
  const frames = new CocoFrames({ images });
  expectCode(() => new CocoSampler(frames, { workdir: '/tmp' }), TypeError, 'ERR_INVALID_ARG_TYPE');
});

test('overlapping(): bad boxes, thresholds and image ids', () => {
  const s = new CocoSampler({ images, categories, annotations: [] });
  expectCode(() => s.overlapping(1, [0, 0, 1] as never), TypeError, 'ERR_INVALID_ARG_TYPE');
  expectCode(() => s.overlapping(1, [0, 0, 1, 'x'] as never), TypeError, 'ERR_INVALID_ARG_TYPE');
  expectCode(() => s.overlapping(1, [0, 0, NaN, 1]), TypeError, 'ERR_INVALID_ARG_TYPE');
  expectCode(() => s.overlapping(1, [0, 0, Infinity, 1]), RangeError, 'ERR_OUT_OF_RANGE');
  expectCode(() => s.overlapping(1, [0, 0, -1, 1]), RangeError, 'ERR_OUT_OF_RANGE');
  expectCode(() => s.overlapping(1, [0, 0, 1, 1], { visibleThresh: 2 }), RangeError, 'ERR_OUT_OF_RANGE');
  expectCode(() => s.overlapping(1, [0, 0, 1, 1], { thresh: 0 } as never), TypeError, 'ERR_INVALID_ARG_TYPE');
  expectCode(() => s.overlapping(99, [0, 0, 1, 1]), FramesError, 'ERR_UNKNOWN_IMAGE');
  expectCode(() => s.annotations(99), FramesError, 'ERR_UNKNOWN_IMAGE');
  assert.equal(s.overlapping(1, [0, 0, 1, 1]), []);
});

test.run();
