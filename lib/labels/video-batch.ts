/**
 * CocoSampler.loadBatch of video targets: N windows of T frames as one tensor, each frame one crop
 * of the batch engine (video-targets.ts frameCrops), laid out 'NTHWC' (default: the engine's NHWC
 * over the N x T crops), 'NTCHW' (its NCHW) or 'NCTHW' (what 3-D convolutions take: the engine
 * writes each frame's channel planes T planes apart, batch_slot.h), with one SampleAnnotations per
 * frame and masks [N, T, H, W]. Every window must have the same T and size. Runs on the calling
 * thread; pixels and masks on the addon's pool.
 */
import type { ImageId } from '../cache/config';
import { RegionError } from '../errors';
import { loadCrops } from '../frames/batch';
import type { Batch } from '../frames/batch';
import type { CocoFrames } from '../frames/coco-frames';
import { IMAGE_TABLE } from '../frames/images';
import type { DType, TypedArrayOf } from '../ndarray';
import type { NdsamplerError } from '../errors';
import * as v from '../validate';
import { emptyAnnotations, sampleLabels, visibleAnnotations } from './geometry';
import type { CropLabels, SampleAnnotations } from './geometry';
import { checkLabeledOptions, LABELED_KEYS } from './labeled-batch';
import type { CheckedLabeled, LabeledBatchOptions } from './labeled-batch';
import { maskDtype, maskOptions, rasterizeMasks } from './masks';
import type { Masks } from './masks';
import type { LabelStore } from './store';
import type { Target } from './targets';
import { frameCrops, resolveVideoTarget } from './video-targets';
import type { ResolvedVideo } from './video-targets';
import type { VideoIndex } from './videos';

export type VideoLayout = 'NTHWC' | 'NTCHW' | 'NCTHW';
export const VIDEO_LAYOUTS: readonly VideoLayout[] = ['NTHWC', 'NTCHW', 'NCTHW'];

/** loadBatch's options for video targets: a labeled batch's, with a video layout. */
export interface VideoBatchOptions<D extends DType = DType> extends Omit<LabeledBatchOptions<D>, 'layout' | 'out'> {
  /** 'NTHWC' (default), 'NTCHW' or 'NCTHW'. */
  layout?: VideoLayout;
  /** Reuse this memory: the data of an earlier batch (and its masks), or any typed array (one copy). */
  out?: VideoLabeledBatch<NoInfer<D>> | TypedArrayOf<NoInfer<D>>;
}

/** A labeled batch of N windows of T frames. */
export interface VideoLabeledBatch<D extends DType = DType> {
  data: TypedArrayOf<D>;
  /** [N, T, H, W, C] for 'NTHWC', [N, T, C, H, W] for 'NTCHW', [N, C, T, H, W] for 'NCTHW'. */
  dims: number[];
  dtype: D;
  layout: VideoLayout;
  /** With onError 'fill': the frame that failed (filled, no labels, empty mask), of window `index`. */
  errors: Array<{ index: number; frame: number; error: NdsamplerError }>;
  /** The targets, resolved. */
  targets: Target[];
  /** Per window, one SampleAnnotations per frame. */
  annotations: SampleAnnotations[][];
  /** Per window, each frame's image id (null: padded). */
  imageIds: Array<Array<ImageId | null>>;
  /** [N, T, H, W] masks, when asked. */
  masks?: Masks;
}

export interface CheckedVideo {
  labeled: CheckedLabeled;
  layout: VideoLayout;
}

/** Checks a video batch's options (a labeled batch's, with a video layout). */
export function checkVideoOptions(opts: unknown): CheckedVideo {
  const o = v.options(opts, 'options', LABELED_KEYS);
  const layout = o.layout === undefined ? 'NTHWC' : v.oneOf(o.layout, 'options.layout', VIDEO_LAYOUTS);
  const rest: Record<string, unknown> = { ...o };
  delete rest.layout;
  return { labeled: checkLabeledOptions(rest), layout };
}

/** Resolves the video targets of a batch (at least one). */
export function resolveVideoTargets(store: LabelStore, videos: VideoIndex, targets: unknown, scale: number): ResolvedVideo[] {
  if (!Array.isArray(targets)) throw v.typeError('an array of targets', 'targets', targets);
  if (targets.length === 0) throw v.rangeError('a non-empty array', 'targets', targets);
  return Array.from({ length: targets.length }, (_, i) => resolveVideoTarget(store, videos, targets[i], `targets[${i}]`, scale));
}

const ENGINE_LAYOUT = { NTHWC: 'NHWC', NTCHW: 'NCHW', NCTHW: 'NCTHW' } as const;

function dimsOf(layout: VideoLayout, N: number, T: number, H: number, W: number, C: number): number[] {
  return layout === 'NTHWC' ? [N, T, H, W, C] : layout === 'NTCHW' ? [N, T, C, H, W] : [N, C, T, H, W];
}

/** Reads resolved video targets as one labeled batch. */
export async function readVideoLabeled(store: LabelStore, frames: CocoFrames, rvs: ResolvedVideo[], cv: CheckedVideo): Promise<VideoLabeledBatch> {
  const c = cv.labeled;
  const T = rvs[0].refs.length;
  const [H, W] = [rvs[0].space.oh, rvs[0].space.ow];
  rvs.forEach((rv, i) => {
    if (rv.refs.length !== T || rv.space.oh !== H || rv.space.ow !== W) {
      throw new RegionError('ERR_REGION', v.message(`a window of ${T} x [${H}, ${W}] (every window of a batch has the frames and size of the first)`,
        `targets[${i}] size`, [rv.refs.length, rv.space.oh, rv.space.ow]));
    }
  });
  const crops = rvs.flatMap((rv) => frameCrops(rv, c.crop));
  // The pixels first: their crops are queued on the pool before the labels are worked out here.
  const batchP = loadCrops(frames[IMAGE_TABLE](), crops, { ...c.run, layout: ENGINE_LAYOUT[cv.layout], frames: T });
  batchP.catch(() => { /* awaited below */ });
  let masksP: Promise<Masks> | undefined;
  let annotations: SampleAnnotations[][];
  try {
    const found = rvs.map((rv) => rv.frames.map((fr) => (fr === null ? null : visibleAnnotations(store, fr, c.thresh))));
    if (c.masks !== null) {
      // Per frame (N x T crops, a padded one empty): its geometry and annotations.
      const flat = rvs.flatMap((rv, i) => rv.frames.map((fr, t) => ({ r: fr ?? rv.space, anns: found[i][t]?.anns ?? [] })));
      const dtype = maskDtype(store, c.masks, flat.map((x) => x.anns));
      masksP = rasterizeMasks(maskOptions(store, flat, c.masks, H, W, dtype), c.outMasks);
      masksP.catch(() => { /* awaited below */ });
    }
    // One sampleLabels call for the N x T frames (the batch's labels are views of one array).
    const crops: CropLabels[] = [];
    rvs.forEach((rv, i) => rv.frames.forEach((fr, t) => {
      const f = found[i][t];
      if (fr !== null && f !== null) crops.push({ r: fr, anns: f.anns, vis: f.vis });
    }));
    const mapped = sampleLabels(crops);
    let k = 0;
    annotations = rvs.map((rv, i) => rv.frames.map((fr, t) => (fr === null || found[i][t] === null ? emptyAnnotations() : mapped[k++])));
  } catch (err) {
    await batchP.catch(() => undefined);  // the pool no longer writes the caller's buffer
    throw err;
  }
  const batch: Batch = await batchP;
  const masks = masksP === undefined ? undefined : await masksP;
  const errors: VideoLabeledBatch['errors'] = batch.errors.map(({ index, error }) => ({ index: Math.floor(index / T), frame: index % T, error }));
  for (const { index, frame } of errors) {
    annotations[index][frame] = emptyAnnotations();
    const at = index * T + frame;
    if (masks !== undefined) masks.data.fill(0, at * H * W, (at + 1) * H * W);
  }
  const C = cv.layout === 'NTHWC' ? batch.dims[3] : batch.dims[1];
  const out: VideoLabeledBatch = {
    data: batch.data, dims: dimsOf(cv.layout, rvs.length, T, H, W, C), dtype: batch.dtype, layout: cv.layout, errors,
    targets: rvs.map((rv) => rv.target), annotations, imageIds: rvs.map((rv) => rv.imageIds.slice()),
  };
  if (masks !== undefined) out.masks = { ...masks, dims: [rvs.length, T, H, W] };
  return out;
}

/** CocoSampler.loadBatch with video targets. */
export function loadVideoBatch(store: LabelStore, videos: VideoIndex, frames: CocoFrames, targets: unknown, opts: unknown): Promise<VideoLabeledBatch> {
  try {
    const cv = checkVideoOptions(opts);
    return readVideoLabeled(store, frames, resolveVideoTargets(store, videos, targets, cv.labeled.scale), cv);
  } catch (err) {
    return Promise.reject(err);
  }
}
