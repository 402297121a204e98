/**
 * CocoSampler.loadBatch: N targets as one pixel tensor, read by the batch engine with each crop's
 * own options (lib/frames/batch.ts loadCrops: the window boundless, read at S's size and turned as
 * it is written), plus each crop's labels in sample coordinates, the resolved targets and, when
 * asked, masks painted on the addon's pool (masks.ts) while the pixels are read. Every crop must
 * come out of the same size. Runs on the calling thread; pixels and masks on the addon's pool.
 */
import { RegionError } from '../errors';
import { BATCH_KEYS, checkBatchOptions, loadCrops } from '../frames/batch';
import type { Batch, BatchOptions, RunBatchOptions } from '../frames/batch';
import type { CropOptions } from '../frames/batch-plan';
import type { CocoFrames } from '../frames/coco-frames';
import { IMAGE_TABLE } from '../frames/images';
import type { DType } from '../ndarray';
import * as v from '../validate';
import { checkThresh } from './checks';
import { emptyAnnotations, sampleLabels, visibleAnnotations } from './geometry';
import type { SampleAnnotations } from './geometry';
import { maskDtype, maskOptions, rasterizeMasks } from './masks';
import type { MaskMode, Masks } from './masks';
import type { LabelStore } from './store';
import { cropRequest, resolveTarget } from './targets';
import type { Resolved, Target } from './targets';

/** loadBatch's options (generic over the dtype as Frames.loadBatch's), and the labels'. */
export interface LabeledBatchOptions<D extends DType = DType> extends BatchOptions<D> {
  /** Also paint masks: 'class' (category ids) or 'instance' (1 + index in the crop's list). */
  masks?: false | MaskMode;
  /** Annotations whose box is visible above this fraction (default 0: any overlap). */
  visibleThresh?: number;
}

export interface LabeledBatch<D extends DType = DType> extends Batch<D> {
  /** The targets, resolved (imageId, region, windowDims, ... filled in). */
  targets: Target[];
  /** Per crop, one SampleAnnotations (one frame). A crop that failed (onError 'fill') has none. */
  annotations: SampleAnnotations[][];
  /** [N, H, W] masks, when asked. */
  masks?: Masks;
}

export const LABELED_KEYS = [...BATCH_KEYS, 'masks', 'visibleThresh'] as const;

export interface CheckedLabeled {
  /** How the batch is run (layout, dtype, normalize, fill, out, onError, signal). */
  run: RunBatchOptions;
  /** What every crop is planned with (its size and orientation come from its target). */
  crop: CropOptions;
  masks: MaskMode | null;
  /** The masks of the `out` batch, painted again in place. */
  outMasks: Masks | undefined;
  thresh: number;
  /** The augment scale of targets that give none. */
  scale: number;
}

/** Splits and checks the options. */
export function checkLabeledOptions(opts: unknown): CheckedLabeled {
  const o = v.options(opts, 'options', LABELED_KEYS);
  const masks = o.masks === undefined || o.masks === false ? null : v.oneOf(o.masks, 'options.masks', ['class', 'instance'] as const);
  const thresh = checkThresh(o.visibleThresh, 'options.visibleThresh');
  if (o.boundless !== undefined && o.boundless !== true) {
    throw v.typeError('true or nothing (labeled batches are always read boundless)', 'options.boundless', o.boundless);
  }
  const batch: Record<string, unknown> = {};
  for (const k of BATCH_KEYS) if (o[k] !== undefined) batch[k] = o[k];
  const c = checkBatchOptions(batch);
  const { layout, dtype, normalize, fill, out, fillOnError, signal } = c;
  const crop: CropOptions = {
    boundless: true, fill, scale: 1, channels: c.channels, interpolation: c.interpolation, antialias: c.antialias,
  };
  const outMasks = v.isPlainObject(o.out) ? (o.out as Partial<LabeledBatch>).masks : undefined;
  return { run: { layout, dtype, normalize, fill, out, fillOnError, signal }, crop, masks, outMasks, thresh, scale: c.scale };
}

/** The checked options with `out` (a batch of this sampler's ring) lent to the next batch. */
export function withOut(c: CheckedLabeled, out: LabeledBatch | undefined): CheckedLabeled {
  return out === undefined ? c : { ...c, run: { ...c.run, out: out.data }, outMasks: out.masks };
}

/** Resolves the targets of a batch (at least one; each checked). */
export function resolveTargets(store: LabelStore, targets: unknown, scale: number): Resolved[] {
  if (!Array.isArray(targets)) throw v.typeError('an array of targets', 'targets', targets);
  if (targets.length === 0) throw v.rangeError('a non-empty array', 'targets', targets);
  return targets.map((t, i) => resolveTarget(store, t, `targets[${i}]`, scale));
}

/** The rest of this turn of the event loop goes to others (setImmediate: after pending I/O callbacks and timers). */
export const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Reads resolved targets as a labeled batch. The JS work is cut in three turns of the event loop
 * (the pixels queued; the masks' geometry worked out and queued; the labels mapped), each a few
 * hundred microseconds for 32 crops, so a stream does not hold the loop for the whole of it.
 */
export async function readLabeled(store: LabelStore, frames: CocoFrames, rs: Resolved[], c: CheckedLabeled): Promise<LabeledBatch> {
  const [H, W] = [rs[0].oh, rs[0].ow];
  rs.forEach((r, i) => {
    if (r.oh !== H || r.ow !== W) {
      throw new RegionError('ERR_REGION', v.message(`a crop of [${H}, ${W}] (every crop of a batch has the size of the first)`, `targets[${i}] size`, [r.oh, r.ow]));
    }
  });
  // The pixels first: their crops are queued on the pool before the labels are worked out here.
  const batchP = loadCrops(frames[IMAGE_TABLE](), rs.map((r) => cropRequest(r, c.crop)), c.run);
  batchP.catch(() => { /* awaited below */ });
  let masksP: Promise<Masks> | undefined;
  let annotations: SampleAnnotations[][];
  try {
    await nextTurn();
    const found = rs.map((r) => visibleAnnotations(store, r, c.thresh));
    if (c.masks !== null) {
      const crops = rs.map((r, i) => ({ r, anns: found[i].anns }));
      const dtype = maskDtype(store, c.masks, crops.map((x) => x.anns));
      masksP = rasterizeMasks(maskOptions(store, crops, c.masks, H, W, dtype), c.outMasks);
      masksP.catch(() => { /* awaited below */ });
      await nextTurn();
    }
    annotations = sampleLabels(rs.map((r, i) => ({ r, anns: found[i].anns, vis: found[i].vis }))).map((a) => [a]);
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
