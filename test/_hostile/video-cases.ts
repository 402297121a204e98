/**
 * The hostile rows of videos (issue 18): windows of enormous extent in time or space (a coded
 * ERR_TOO_LARGE in bounded time and memory), warps that push every sample to the ends of the
 * doubles, frame indices past 2^53, and a direct native call with an NCTHW layout that does not
 * add up. None may crash, hang or overrun memory. Joined into CASES by cases.ts.
 */
import { CocoSampler, FramesError, NdsamplerError } from '../../lib';
import type { CocoDataset } from '../../lib';
import { ITEM, native } from '../../lib/native';
import type { HostileCase } from './cases';
import type { HostilePaths } from './files';

/** A video of `n` frames of the good 8x8 png, each with `extra` fields. */
function video(P: HostilePaths, n: number, extra: Record<string, unknown> = {}): CocoDataset {
  const images = Array.from({ length: n }, (_, i) => ({ id: i + 1, file_name: P.good.png, width: 8, height: 8, video_id: 1, frame_index: i, ...extra }));
  return { images, videos: [{ id: 1, name: 'v', width: 8, height: 8 }], categories: [{ id: 1, name: 'a' }], annotations: [{ id: 1, image_id: 1, category_id: 1, bbox: [1, 1, 3, 3], track_id: 1 }] };
}

/** A sample of the whole video, checked for its shape; 'accepted' when sane. */
function whole(P: HostilePaths, extra: Record<string, unknown>): string {
  const s = new CocoSampler(video(P, 3, extra)).loadSample({ videoId: 1 });
  if (s.im.dims.join() !== '3,8,8,3') throw new Error(`dims ${s.im.dims}`);
  return 'accepted';
}

export const VIDEO_CASES: HostileCase[] = [
  {
    name: 'video: a window of 65536 frames of 4096^2 (loadBatch)', cls: NdsamplerError, code: 'ERR_TOO_LARGE', maxMs: 8000, timeoutMs: 20000, maxRssMB: 1024,
    run: (P) => new CocoSampler(video(P, 2)).loadBatch([{ videoId: 1, timeSlice: [0, 65536], cx: 4, cy: 4, windowDims: [4096, 4096] }]),
  },
  {
    name: 'video: a window of 65536 frames of 4096^2 (loadSample)', cls: NdsamplerError, code: 'ERR_TOO_LARGE', maxMs: 8000, timeoutMs: 20000, maxRssMB: 1024,
    run: (P) => new CocoSampler(video(P, 2)).loadSample({ videoId: 1, timeSlice: [-30000, 35536], cx: 4, cy: 4, windowDims: [4096, 4096] }),
  },
  {
    name: 'video: 65536 copies of one frame, 1x1 each', returns: /accepted/, maxMs: 8000, timeoutMs: 20000, maxRssMB: 1024,
    run: (P) => {
      const s = new CocoSampler(video(P, 1)).loadSample({ imageIds: new Array(65536).fill(1), cx: 2, cy: 2, windowDims: [1, 1] });
      return s.im.dims.join() === '65536,1,1,3' && s.annotations.length === 65536 ? 'accepted' : 'wrong';
    },
  },
  { name: 'video: warp_img_to_vid scale 1e-150 (every sample far outside the frame)', okOrCode: true, run: (P) => whole(P, { warp_img_to_vid: { scale: 1e-150 } }) },
  { name: 'video: warp_img_to_vid scale 1e150', okOrCode: true, run: (P) => whole(P, { warp_img_to_vid: { scale: 1e150 } }) },
  { name: 'video: warp_img_to_vid offset 1e300', okOrCode: true, run: (P) => whole(P, { warp_img_to_vid: { offset: [1e300, -1e300] } }) },
  { name: 'video: warp_img_to_vid shear 1e200, rotated', okOrCode: true, run: (P) => whole(P, { warp_img_to_vid: { shearx: 1e200, theta: 1 } }) },
  { name: 'video: warp_img_to_vid with an Infinity', cls: FramesError, code: 'ERR_VIDEO', run: (P) => new CocoSampler(video(P, 1, { warp_img_to_vid: [[Infinity, 0, 0], [0, 1, 0]] })) },
  { name: 'video: frame_index past 2^53', cls: FramesError, code: 'ERR_VIDEO', run: (P) => new CocoSampler(video(P, 1, { frame_index: 2 ** 60 })) },
  {
    name: 'video: a grid of 1 x 1 x 1 windows over every frame', okOrCode: true, maxMs: 8000, timeoutMs: 20000, maxRssMB: 1024,
    run: (P) => {
      const g = new CocoSampler(video(P, 3)).sampleGrid({ windowDims: [1, 1, 1], task: 'video' });
      return g.positives.length + g.negatives.length === 3 * 64 ? 'accepted' : 'wrong';
    },
  },
  {
    name: 'loadBatchSync called directly: NCTHW whose frames do not divide n', cls: TypeError, code: 'ERR_INVALID_ARG_TYPE',
    run: () => native.loadBatchSync({
      n: 3, h: 1, w: 1, c: 1, dtype: 'uint8', layout: 'NCTHW', frames: 2, normalize: false, scale: 1, mean: new Float64Array(1), std: Float64Array.of(1),
      fillOnError: false, sources: [], items: new Float64Array(3 * ITEM.LENGTH).map((_, i) => (i % ITEM.LENGTH === ITEM.KIND ? -1 : 0)), out: undefined,
    }),
  },
  {
    name: 'loadBatchSync called directly: NCTHW with a one-crop view', cls: TypeError, code: 'ERR_INVALID_ARG_TYPE',
    run: () => native.loadBatchSync({
      n: 1, h: 1, w: 1, c: 1, dtype: 'uint8', layout: 'NCTHW', frames: 1, normalize: false, scale: 1, mean: new Float64Array(1), std: Float64Array.of(1),
      fillOnError: false, sources: [], items: new Float64Array(ITEM.LENGTH).map((_, i) => (i === ITEM.KIND ? -1 : 0)), out: new Uint8Array(4),
      view: Float64Array.of(0, 1, 1, 1),
    }),
  },
];
