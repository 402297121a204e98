/**
 * CocoSampler.loadBatch: N targets as one pixel tensor (Frames' batch engine, read boundless, each
 * window at its own size S and orientation: lib/frames/batch.ts BatchExtras), plus each crop's
 * labels in sample coordinates, the resolved targets and, when asked, masks painted on the
 * addon's pool (masks.ts) while the pixels are read. Every crop must come out of the same size.
 * Runs on the calling thread; pixels and masks on the addon's pool.
 */
import { RegionError } from '../errors';
import { BATCH_KEYS, LOAD_BATCH_EXTRAS } from '../frames/batch';
import type { Batch, BatchOptions, BatchRequest } from '../frames/batch';
import type { CocoFrames } from '../frames/coco-frames';
import type { Region } from '../region';
import * as v from '../validate';
import { checkThresh } from './checks';
import { emptyAnnotations, sampleLabels, visibleAnnotations } from './geometry';
import type { SampleAnnotations } from './geometry';
import { maskDtype, maskOptions, rasterizeMasks } from './masks';
import type { MaskMode, Masks } from './masks';
import type { Annotation } from './annotations';
import type { LabelStore } from './store';
import { resolveTarget } from './targets';
import type { Resolved, Target } from './targets';

export interface LabeledBatchOptions extends BatchOptions {
  /** Also paint masks: 'class' (category ids) or 'instance' (1 + index in the crop's list). */
  masks?: false | MaskMode;
  /** Annotations whose box is visible above this fraction (default 0: any overlap). */
  visibleThresh?: number;
}

export interface LabeledBatch extends Batch {
  /** The targets, resolved (imageId, region, windowDims, ... filled in). */
  targets: Target[];
  /** Per crop, one SampleAnnotations (one frame). A crop that failed (onError 'fill') has none. */
  annotations: SampleAnnotations[][];
  /** [N, H, W] masks, when asked. */
  masks?: Masks;
}

export const LABELED_KEYS = [...BATCH_KEYS, 'masks', 'visibleThresh'] as const;

export interface CheckedLabeled {
  batch: BatchOptions;
  masks: MaskMode | null;
  thresh: number;
  scale: number;
}

/** Splits and checks the options; `scale` becomes every target's default augment scale. */
export function checkLabeledOptions(opts: unknown): CheckedLabeled {
  const o = v.options(opts, 'options', LABELED_KEYS);
  const masks = o.masks === undefined || o.masks === false ? null : v.oneOf(o.masks, 'options.masks', ['class', 'instance'] as const);
  const thresh = checkThresh(o.visibleThresh, 'options.visibleThresh');
  if (o.boundless !== undefined && o.boundless !== true) {
    throw v.typeError('true or nothing (labeled batches are always read boundless)', 'options.boundless', o.boundless);
  }
  let scale = 1;
  if (o.scale !== undefined) {
    scale = v.number(o.scale, 'options.scale');
    if (!(scale > 0 && scale <= 1)) throw v.rangeError('a number in (0, 1]', 'options.scale', o.scale);
  }
  const batch: Record<string, unknown> = {};
  for (const k of BATCH_KEYS) if (k !== 'scale' && o[k] !== undefined) batch[k] = o[k];
  batch.boundless = true;
  return { batch: batch as BatchOptions, masks, thresh, scale };
}

/** Resolves the targets of a batch (at least one; each checked). */
export function resolveTargets(store: LabelStore, targets: unknown, scale: number): Resolved[] {
  if (!Array.isArray(targets)) throw v.typeError('an array of targets', 'targets', targets);
  if (targets.length === 0) throw v.rangeError('a non-empty array', 'targets', targets);
  return targets.map((t, i) => resolveTarget(store, t, `targets[${i}]`, scale));
}

/** Reads resolved targets as a labeled batch. */
export async function readLabeled(store: LabelStore, frames: CocoFrames, rs: Resolved[], c: CheckedLabeled): Promise<LabeledBatch> {
  const N = rs.length;
  const [H, W] = [rs[0].oh, rs[0].ow];
  rs.forEach((r, i) => {
    if (r.oh !== H || r.ow !== W) {
      throw new RegionError('ERR_REGION', v.message(`a crop of [${H}, ${W}] (every crop of a batch has the size of the first)`, `targets[${i}] size`, [r.oh, r.ow]));
    }
  });
  const requests: BatchRequest[] = new Array(N);
  const sizes = new Int32Array(2 * N);
  const orient = new Uint8Array(N);
  rs.forEach((r, i) => {
    const region: Region = [[r.y0, r.y0 + r.nh], [r.x0, r.x0 + r.nw]];
    if (r.chans !== undefined) region.push(r.chans);
    requests[i] = r.channels === undefined ? { imageId: r.imageId, region } : { imageId: r.imageId, region, channels: r.channels };
    sizes[2 * i] = r.sh;
    sizes[2 * i + 1] = r.sw;
    orient[i] = r.orient;
  });
  // The pixels first: their crops are queued on the pool before the labels are worked out here.
  const batchP = frames[LOAD_BATCH_EXTRAS](requests, c.batch, { sizes, orient });
  batchP.catch(() => { /* awaited below */ });
  let masksP: Promise<Masks> | undefined;
  let found: Array<{ anns: Annotation[]; vis: number[] }>;
  let annotations: SampleAnnotations[][];
  try {
    found = rs.map((r) => visibleAnnotations(store, r, c.thresh));
    if (c.masks !== null) {
      const crops = rs.map((r, i) => ({ r, anns: found[i].anns }));
      const dtype = maskDtype(store, c.masks, crops.map((x) => x.anns));
      const prev = (c.batch.out as Partial<LabeledBatch> | undefined)?.masks;
      masksP = rasterizeMasks(maskOptions(store, crops, c.masks, H, W, dtype), prev);
      masksP.catch(() => { /* awaited below */ });
    }
    annotations = rs.map((r, i) => [sampleLabels(r, found[i].anns, found[i].vis)]);
  } catch (err) {
    await batchP.catch(() => undefined);  // the pool no longer writes the caller's buffer
    throw err;
  }
  const batch = await batchP;
  const masks = masksP === undefined ? undefined : await masksP;
  for (const { index } of batch.errors) {
    annotations[index] = [emptyAnnotations()];
    if (masks !== undefined) masks.data.fill(0, index * H * W, (index + 1) * H * W);
  }
  const out: LabeledBatch = { ...batch, targets: rs.map((r) => r.target), annotations };
  if (masks !== undefined) out.masks = masks;
  return out;
}

/** CocoSampler.loadBatch. */
export function loadLabeledBatch(store: LabelStore, frames: CocoFrames, targets: unknown, opts: unknown): Promise<LabeledBatch> {
  try {
    const c = checkLabeledOptions(opts);
    return readLabeled(store, frames, resolveTargets(store, targets, c.scale), c);
  } catch (err) {
    return Promise.reject(err);
  }
}

