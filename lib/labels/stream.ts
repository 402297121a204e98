/**
 * CocoSampler.stream: an async iterable of labeled batches for a detection / segmentation loop.
 *
 * An epoch is every positive (one target per annotation, centred on its box, its centre moved by
 * a seeded `jitter`) and round(positives x (1 - f) / f) negatives (f = positiveFraction, default
 * 0.5; a dataset without annotations, or f = 0, has one negative per image), shuffled together;
 * item k of the shuffled epoch goes to rank k % worldSize. Negative i of epoch e is a random
 * window of its own generator (seed, e, i): the first of 16 draws no annotation overlaps, else
 * the draw overlapped least. Each item draws its augmentation from (seed, e, i) too: hflip and
 * vflip with their probabilities, a quarter-turn count uniform in 0..3 when `rot90`, a scale
 * uniform in [min, max]. So the batches are the same whatever the thread count, machine or
 * timing, and `state()` / `resume` continue exactly (frames/sampler.ts does the iterating).
 * Runs on the calling thread; pixels and masks on the addon's pool.
 */
import type { ImageId } from '../cache/config';
import type { CocoFrames } from '../frames/coco-frames';
import { createSampler, Rng, shuffled } from '../frames/sampler';
import type { Sampler, SamplerState } from '../frames/sampler';
import type { DType } from '../ndarray';
import * as v from '../validate';
import { checkLabeledOptions, LABELED_KEYS, nextTurn, readLabeled, withOut } from './labeled-batch';
import type { LabeledBatch, LabeledBatchOptions } from './labeled-batch';
import type { Annotation } from './annotations';
import type { LabelStore } from './store';
import { checkStreamPlan, drawAugment, STREAM_KEYS } from './stream-options';
import { resolveTarget } from './targets';
import type { Target } from './targets';

export interface StreamOptions<D extends DType = DType> extends Omit<LabeledBatchOptions<D>, 'out'> {
  windowDims: [number, number] | [number, number, number];
  batchSize: number;
  seed?: number;
  /** Share of positives in an epoch (default 0.5). */
  positiveFraction?: number;
  /** Moves each positive's centre by up to jitter x half the window (0..1, default 0). */
  jitter?: number;
  augment?: { hflip?: number; vflip?: number; rot90?: boolean; scale?: [number, number] };
  epochs?: number;
  /** Leave out each epoch's last batch when it is short (default false). */
  dropLast?: boolean;
  shuffle?: boolean;
  rank?: number;
  worldSize?: number;
  prefetch?: number;
  resume?: SamplerState;
  out?: never;
}

const U32 = 2 ** 32;

/** One item of an epoch: annotation `a` (a positive) or negative number `n`. */
interface Item { a: number; n: number; i: number }

export function createStream(store: LabelStore, frames: CocoFrames, opts: unknown): Sampler<LabeledBatch> {
  if (!v.isPlainObject(opts)) throw v.typeError('an object {windowDims, batchSize, ...}', 'options', opts);
  const o = v.options(opts, 'options', [...STREAM_KEYS, ...LABELED_KEYS]);
  if (o.out !== undefined) throw v.typeError('no out option (the stream recycles its own buffers)', 'options.out', o.out);
  const batchOpts: Record<string, unknown> = {};
  for (const k of LABELED_KEYS) if (o[k] !== undefined) batchOpts[k] = o[k];
  const checked = checkLabeledOptions(batchOpts);
  if (!Array.isArray(o.windowDims) || o.windowDims.length !== 2) throw v.typeError('[h, w]', 'options.windowDims', o.windowDims);
  const dims: [number, number] = [v.integer(o.windowDims[0], 'options.windowDims[0]', 1, 1 << 20), v.integer(o.windowDims[1], 'options.windowDims[1]', 1, 1 << 20)];
  const plan = checkStreamPlan(o);
  const { batchSize, seed, frac, jitter, epochs, dropLast, shuffle, worldSize, rank, prefetch, start } = plan;
  const anns: Annotation[] = [...store.all()];
  const ids: ImageId[] = frames.imageIds.slice();
  const nNeg = anns.length === 0 || frac === 0 ? ids.length : Math.round((anns.length * (1 - frac)) / frac);
  const nPos = frac === 0 ? 0 : anns.length;

  const epochItems = (epoch: number): Item[] => {
    const all: Item[] = [];
    for (let a = 0; a < nPos; a++) all.push({ a, n: -1, i: all.length });
    for (let n = 0; n < nNeg && ids.length > 0; n++) all.push({ a: -1, n, i: all.length });
    const order = shuffled(all, { shuffle, seed }, epoch);
    return worldSize === 1 ? order : order.filter((_, k) => k % worldSize === rank);
  };

  const negative = (epoch: number, n: number): Target => {
    const rng = new Rng(seed, epoch, n, 0x4e67);
    let best: Target | null = null;
    let bestOverlap = Infinity;
    for (let t = 0; t < 16 && bestOverlap > 0; t++) {
      const imageId = ids[rng.below(ids.length)];
      const [H, W] = store.imageSize(imageId);
      const y0 = H > dims[0] ? rng.below(H - dims[0] + 1) : 0;
      const x0 = W > dims[1] ? rng.below(W - dims[1] + 1) : 0;
      const overlap = store.overlapArea(imageId, x0, y0, x0 + dims[1], y0 + dims[0]);
      if (overlap < bestOverlap) {
        bestOverlap = overlap;
        best = { imageId, cx: x0 + dims[1] / 2, cy: y0 + dims[0] / 2 };
      }
    }
    return best as Target;
  };

  const target = (epoch: number, it: Item): Target => {
    const rng = new Rng(seed, epoch, it.i, 0xa06);
    let t: Target;
    if (it.a >= 0) {
      const ann = anns[it.a];
      const [x, y, w, h] = ann.box;
      t = { annotationId: ann.id, imageId: ann.imageId, cx: x + w / 2, cy: y + h / 2 };
      if (jitter > 0) {
        t.cx = (t.cx as number) + (2 * (rng.next() / U32) - 1) * jitter * dims[1] / 2;
        t.cy = (t.cy as number) + (2 * (rng.next() / U32) - 1) * jitter * dims[0] / 2;
      }
    } else {
      t = negative(epoch, it.n);
    }
    t.windowDims = dims;
    const augment = drawAugment(rng, plan);
    if (augment !== undefined) t.augment = augment;
    return t;
  };

  return createSampler<LabeledBatch, Item & { e: number }>({
    epochItems: (epoch) => epochItems(epoch).map((it) => ({ ...it, e: epoch })),
    load: async (items, out) => {
      await nextTurn();  // a batch's JS work starts in a turn of its own (the sampler may ask for two at once)
      const rs = items.map((it, k) => resolveTarget(store, target(it.e, it), `stream item ${k}`, checked.scale));
      return readLabeled(store, frames, rs, withOut(checked, out));
    },
  }, { batchSize, epochs, seed, rank, worldSize, start, dropLast }, prefetch);
}
