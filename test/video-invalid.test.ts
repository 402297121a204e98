/**
 * Bad input about videos: a malformed `videos` table or frame field is FramesError ERR_VIDEO at
 * construction; an unknown video is ERR_UNKNOWN_VIDEO; malformed video targets, layouts and plan
 * or stream options are TypeError / RangeError (or ERR_VIDEO for frames of several videos),
 * asserted by class and code, and the async methods reject instead of throwing.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CocoSampler, FramesError, RegionError } from '../lib';
import type { Target } from '../lib';
import { expectCode, expectCodeAsync } from './_helpers/errors';

const video = { id: 1, name: 'v', width: 64, height: 48 };
const frame = (id: number, fi: number, extra: Record<string, unknown> = {}) => ({ id, file_name: `f${id}.png`, width: 64, height: 48, video_id: 1, frame_index: fi, ...extra });
type Data = { videos: object[]; images: Array<Record<string, unknown> & { id: number }>; categories: object[]; annotations: object[] };
const good = (): Data => ({
  videos: [video, { id: 'empty', name: 'no frames', width: 10, height: 10 }],
  images: [frame(1, 0), frame(2, 1), frame(3, 2, { warp_img_to_vid: { scale: 1 } }), { id: 9, file_name: 'still.png', width: 5, height: 5 },
    { id: 20, file_name: 'g.png', width: 8, height: 8, video_id: 2, frame_index: 0 }],
  categories: [{ id: 1, name: 'a' }],
  annotations: [],
});

/** A good dataset with video 2 (for the frames-of-two-videos case). */
const withTwo = () => {
  const d = good();
  d.videos.push({ id: 2, name: 'w', width: 8, height: 8 });
  return d;
};

const BAD_DATA: Array<[string, (d: Data) => void, RegExp]> = [
  ['videos not a list', (d) => { d.videos = { id: 1 } as never; }, /'videos' must be a list/],
  ['a video without id', (d) => { d.videos.push({ name: 'x' }); }, /needs an id/],
  ['a video that is not an object', (d) => { d.videos.push(3 as never); }, /must be an object/],
  ['a video id given twice', (d) => { d.videos.push({ id: '1' }); }, /given twice/],
  ['a width without a height', (d) => { d.videos.push({ id: 5, width: 3 }); }, /go together/],
  ['a width of 0', (d) => { d.videos.push({ id: 5, width: 0, height: 3 }); }, /positive integers/],
  ['a fractional height', (d) => { d.videos.push({ id: 5, width: 4, height: 2.5 }); }, /positive integers/],
  ['a negative target_gsd', (d) => { d.videos.push({ id: 5, target_gsd: -1 }); }, /target_gsd/],
  ['a name that is a number', (d) => { d.videos.push({ id: 5, name: 7 }); }, /name must be a string/],
  ['a frame of an unknown video', (d) => { d.images.push(frame(30, 0, { video_id: 77 })); }, /video_id 77/],
  ['a frame without frame_index', (d) => { d.images.push({ id: 30, file_name: 'x.png', video_id: 1 }); }, /integer frame_index/],
  ['a fractional frame_index', (d) => { d.images.push(frame(30, 1.5)); }, /integer frame_index/],
  ['a string frame_index', (d) => { d.images.push(frame(30, '2' as never)); }, /integer frame_index/],
  ['a warp_img_to_vid of the wrong shape', (d) => { d.images.push(frame(30, 3, { warp_img_to_vid: [[1, 0], [0, 1]] })); }, /warp_img_to_vid/],
  ['a singular warp_img_to_vid', (d) => { d.images.push(frame(30, 3, { warp_img_to_vid: { type: 'affine', matrix: [[0, 0, 0], [0, 0, 0], [0, 0, 1]] } })); }, /invertible/],
  ['a projective warp_img_to_vid', (d) => { d.images.push(frame(30, 3, { warp_img_to_vid: [[1, 0, 0], [0, 1, 0], [0.1, 0, 1]] })); }, /last row/],
  ['an unknown warp parameter', (d) => { d.images.push(frame(30, 3, { warp_img_to_vid: { scael: 2 } })); }, /unknown warp key/],
  ['a non-affine warp type', (d) => { d.images.push(frame(30, 3, { warp_img_to_vid: { type: 'projective', matrix: [] } })); }, /only affine/],
  ['a warp_img_to_vid without a video', (d) => { d.images.push({ id: 30, file_name: 'x.png', warp_img_to_vid: { scale: 2 } }); }, /no video_id/],
];

for (const [name, edit, why] of BAD_DATA) {
  test(`ERR_VIDEO at construction: ${name}`, () => {
    const d = withTwo();
    edit(d);
    const e = expectCode(() => new CocoSampler(d), FramesError, 'ERR_VIDEO', name);
    assert.match(e.message, why);
  });
}

test('a video without width / height takes its frames\' extent (warped into video space)', () => {
  const d = withTwo();
  d.videos = [{ id: 1 }, { id: 2 }];
  d.images[2].warp_img_to_vid = { scale: 2, offset: [1, 0] };
  const S = new CocoSampler(d);
  assert.equal([S.video(1).height, S.video(1).width], [96, 129]);
  assert.equal([S.video(2).height, S.video(2).width], [8, 8]);
});

const S = new CocoSampler(withTwo());

test('ERR_UNKNOWN_VIDEO for an unknown video id (video, videoFrames, targets)', async () => {
  expectCode(() => S.video(5), FramesError, 'ERR_UNKNOWN_VIDEO');
  expectCode(() => S.videoFrames('nope'), FramesError, 'ERR_UNKNOWN_VIDEO');
  expectCode(() => S.loadSample({ videoId: 5 }), FramesError, 'ERR_UNKNOWN_VIDEO');
  await expectCodeAsync(() => S.loadSampleAsync({ videoId: 5 }), FramesError, 'ERR_UNKNOWN_VIDEO');
  await expectCodeAsync(() => S.loadBatch([{ videoId: 5 }]), FramesError, 'ERR_UNKNOWN_VIDEO');
  expectCode(() => S.videoFrames({} as never), TypeError, 'ERR_INVALID_ARG_TYPE');
});

const BAD_TARGETS: Array<[string, unknown, abstract new (...a: never[]) => Error, string]> = [
  ['imageId in a video target', { videoId: 1, imageId: 1 }, TypeError, 'ERR_INVALID_ARG_TYPE'],
  ['annotationId in a video target', { videoId: 1, annotationId: 1 }, TypeError, 'ERR_INVALID_ARG_TYPE'],
  ['timeSlice and imageIds', { videoId: 1, timeSlice: [0, 1], imageIds: [1] }, TypeError, 'ERR_INVALID_ARG_TYPE'],
  ['timeSlice without videoId', { timeSlice: [0, 2] }, TypeError, 'ERR_INVALID_ARG_TYPE'],
  ['timeSlice of one number', { videoId: 1, timeSlice: [0] }, TypeError, 'ERR_INVALID_ARG_TYPE'],
  ['timeSlice of strings', { videoId: 1, timeSlice: ['0', '2'] }, TypeError, 'ERR_INVALID_ARG_TYPE'],
  ['timeSlice fractional', { videoId: 1, timeSlice: [0, 1.5] }, RangeError, 'ERR_OUT_OF_RANGE'],
  ['timeSlice empty', { videoId: 1, timeSlice: [2, 2] }, RangeError, 'ERR_OUT_OF_RANGE'],
  ['timeSlice reversed', { videoId: 1, timeSlice: [3, 1] }, RangeError, 'ERR_OUT_OF_RANGE'],
  ['timeSlice of 10^5 frames', { videoId: 1, timeSlice: [0, 100000] }, RangeError, 'ERR_OUT_OF_RANGE'],
  ['imageIds not an array', { imageIds: 1 }, TypeError, 'ERR_INVALID_ARG_TYPE'],
  ['imageIds empty', { imageIds: [] }, RangeError, 'ERR_OUT_OF_RANGE'],
  ['imageIds with an object', { imageIds: [1, {}] }, TypeError, 'ERR_INVALID_ARG_TYPE'],
  ['imageIds of an image in no video', { imageIds: [1, 9] }, FramesError, 'ERR_VIDEO'],
  ['imageIds of two videos', { imageIds: [1, 20] }, FramesError, 'ERR_VIDEO'],
  ['imageIds of an unknown image', { imageIds: [1, 99] }, FramesError, 'ERR_UNKNOWN_IMAGE'],
  ['imageIds and another videoId', { videoId: 2, imageIds: [1, 2] }, FramesError, 'ERR_VIDEO'],
  ['a video without frames', { videoId: 'empty' }, FramesError, 'ERR_VIDEO'],
  ['videoId of the wrong type', { videoId: { id: 1 } }, TypeError, 'ERR_INVALID_ARG_TYPE'],
  ['an unknown key', { videoId: 1, frames: [0, 1] }, TypeError, 'ERR_INVALID_ARG_TYPE'],
  ['a window of 3 numbers', { videoId: 1, cx: 1, cy: 1, windowDims: [2, 3, 4] }, TypeError, 'ERR_INVALID_ARG_TYPE'],
  ['cx NaN', { videoId: 1, cx: NaN, cy: 1, windowDims: [4, 4] }, TypeError, 'ERR_INVALID_ARG_TYPE'],
  ['an empty region', { videoId: 1, region: [[3, 3], [0, 4]] }, RegionError, 'ERR_REGION'],
  ['a bad augment', { videoId: 1, augment: { rot90: 5 } }, RangeError, 'ERR_OUT_OF_RANGE'],
];

for (const [name, target, cls, code] of BAD_TARGETS) {
  test(`video target: ${name}`, async () => {
    expectCode(() => S.loadSample(target as Target & { videoId: 1 }), cls, code, `loadSample ${name}`);
    await expectCodeAsync(() => S.loadSampleAsync(target as Target & { videoId: 1 }), cls, code, `loadSampleAsync ${name}`);
    await expectCodeAsync(() => S.loadBatch([target as Target & { videoId: 1 }]), cls, code, `loadBatch ${name}`);
  });
}

test('video batches: layouts, mixed targets, windows of different frames or sizes', async () => {
  const t = { videoId: 1, timeSlice: [0, 2] as [number, number], cx: 5, cy: 5, windowDims: [4, 4] as [number, number] };
  await expectCodeAsync(() => S.loadBatch([t], { layout: 'NHWC' } as never), TypeError, 'ERR_INVALID_ARG_TYPE');
  await expectCodeAsync(() => S.loadBatch([t], { layout: 'NCHTW' } as never), TypeError, 'ERR_INVALID_ARG_TYPE');
  await expectCodeAsync(() => S.loadBatch([{ imageId: 1 }], { layout: 'NTHWC' } as never), TypeError, 'ERR_INVALID_ARG_TYPE');
  await expectCodeAsync(() => S.loadBatch([t, { imageId: 1 } as never]), TypeError, 'ERR_INVALID_ARG_TYPE');
  await expectCodeAsync(() => S.loadBatch([{ imageId: 1 }, t as never]), TypeError, 'ERR_INVALID_ARG_TYPE');
  await expectCodeAsync(() => S.loadBatch([t, { ...t, timeSlice: [0, 3] }]), RegionError, 'ERR_REGION');
  await expectCodeAsync(() => S.loadBatch([t, { ...t, windowDims: [4, 5] }]), RegionError, 'ERR_REGION');
  await expectCodeAsync(() => S.loadBatch([t], { masks: 'outline' } as never), TypeError, 'ERR_INVALID_ARG_TYPE');
  await expectCodeAsync(() => S.loadBatch([t], { boundless: false }), TypeError, 'ERR_INVALID_ARG_TYPE');
  expectCode(() => S.loadSample(t, { fill: 'x' } as never), TypeError, 'ERR_INVALID_ARG_TYPE');
  expectCode(() => S.loadSample(t, { interpolation: 'cubic' } as never), TypeError, 'ERR_INVALID_ARG_TYPE');
});

test('plans: sampleGrid, positives and negatives over videos', () => {
  expectCode(() => S.sampleGrid({ windowDims: [2, 4, 4], task: 'image' }), TypeError, 'ERR_INVALID_ARG_TYPE');
  expectCode(() => S.sampleGrid({ windowDims: [4, 4], task: 'video' }), TypeError, 'ERR_INVALID_ARG_TYPE');
  expectCode(() => S.sampleGrid({ windowDims: [0, 4, 4], task: 'video' }), RangeError, 'ERR_OUT_OF_RANGE');
  expectCode(() => S.sampleGrid({ windowDims: [2, 4, 4], overlap: 1 }), RangeError, 'ERR_OUT_OF_RANGE');
  expectCode(() => S.sampleGrid({ windowDims: [1, 1, 1], overlap: 0.9 }), RangeError, 'ERR_OUT_OF_RANGE');
  expectCode(() => S.sampleGrid({ windowDims: [2, 4, 4], task: 'time' } as never), TypeError, 'ERR_INVALID_ARG_TYPE');
  expectCode(() => S.positives({ windowDims: [2, 4, 4], jitter: 2 }), RangeError, 'ERR_OUT_OF_RANGE');
  expectCode(() => S.positives({ windowDims: [2, 4, 'x'] } as never), TypeError, 'ERR_INVALID_ARG_TYPE');
  expectCode(() => S.positives({ windowDims: [2, 4, 4], seed: -1 }), RangeError, 'ERR_OUT_OF_RANGE');
  expectCode(() => S.negatives({ count: -1, windowDims: [2, 4, 4] }), RangeError, 'ERR_OUT_OF_RANGE');
  expectCode(() => S.negatives({ count: 1, windowDims: [2, 4, 4], maxOverlap: 3 }), RangeError, 'ERR_OUT_OF_RANGE');
  expectCode(() => S.negatives({ count: 1, windowDims: [2, 4, 4], task: 'video' } as never), TypeError, 'ERR_INVALID_ARG_TYPE');
  // Well-formed: windows of the one video with frames (its grid has every window negative: no annotations).
  const g = S.sampleGrid({ windowDims: [2, 24, 32], task: 'video' });
  assert.is(g.positives.length, 0);
  assert.ok(g.negatives.every((t) => t.videoId === 1 || t.videoId === 2));
});

test('video streams: bad windows, layouts, resume of another stream', () => {
  expectCode(() => S.stream({ windowDims: [0, 4, 4], batchSize: 2 }), RangeError, 'ERR_OUT_OF_RANGE');
  expectCode(() => S.stream({ windowDims: [2, 4, 4], batchSize: 0 }), RangeError, 'ERR_OUT_OF_RANGE');
  expectCode(() => S.stream({ windowDims: [2, 4, 4], batchSize: 2, layout: 'NCHW' } as never), TypeError, 'ERR_INVALID_ARG_TYPE');
  expectCode(() => S.stream({ windowDims: [2, 4, 4], batchSize: 2, out: new Uint8Array(4) } as never), TypeError, 'ERR_INVALID_ARG_TYPE');
  expectCode(() => S.stream({ windowDims: [2, 4, 4], batchSize: 2, augment: { hflip: 2 } }), RangeError, 'ERR_OUT_OF_RANGE');
  expectCode(() => S.stream({ windowDims: [2, 4, 4], batchSize: 2, seed: 1, resume: { version: 1, seed: 2, epoch: 0, position: 0, rank: 0, worldSize: 1 } }),
    FramesError, 'ERR_SAMPLER_STATE');
  expectCode(() => S.stream({ windowDims: [2, 4, 4, 4], batchSize: 2 } as never), TypeError, 'ERR_INVALID_ARG_TYPE');
});

test('demo: kind must be shapes or video', () => {
  expectCode(() => CocoSampler.demo({ kind: 'movie' } as never), TypeError, 'ERR_INVALID_ARG_TYPE');
});

test.run();
