/**
 * CocoSampler.stream with windowDims [t, h, w]: labeled batches of space-time windows for a
 * change-detection or tracking loop, with the image stream's seeding, rank split, resume and
 * buffer recycling (frames/sampler.ts iterates, stream-options.ts checks and augments).
 *
 * An epoch is every track window (video-regions.ts trackWindows: each track's span cut into
 * windows of t frames, centred on its boxes, moved by a seeded `jitter`) and
 * round(positives x (1 - f) / f) negatives (f = positiveFraction; without positives, or f = 0,
 * one per t frames of every video), shuffled together; item k goes to rank k % worldSize.
 * Negative i of epoch e is the first of 16 random space-time windows (its own generator) no
 * annotation box overlaps in any frame, else the one overlapped least. Each window draws one
 * augmentation for all its frames. Runs on the calling thread; pixels and masks on the pool.
 */
import type { CocoFrames } from '../frames/coco-frames';
import { createSampler, Rng, shuffled } from '../frames/sampler';
import type { Sampler } from '../frames/sampler';
import * as v from '../validate';
import { LABELED_KEYS } from './labeled-batch';
import type { LabelStore } from './store';
import { checkStreamPlan, drawAugment, STREAM_KEYS } from './stream-options';
import type { Target } from './targets';
import { checkVideoOptions, readVideoLabeled } from './video-batch';
import type { CheckedVideo, VideoLabeledBatch } from './video-batch';
import { checkVideoDims, drawWindow, framedVideos, trackWindows, videoTracks } from './video-regions';
import { resolveVideoTarget } from './video-targets';
import type { VideoIndex } from './videos';

const U32 = 2 ** 32;

/** One item of an epoch: track window `p` (a positive) or negative number `n`. */
interface Item { p: number; n: number; i: number; e: number }

/** The checked batch options with `out` (a batch of this stream's ring) lent to the next batch. */
function withOut(c: CheckedVideo, out: VideoLabeledBatch | undefined): CheckedVideo {
  return out === undefined ? c : { ...c, labeled: { ...c.labeled, run: { ...c.labeled.run, out: out.data }, outMasks: out.masks } };
}

export function createVideoStream(store: LabelStore, videos: VideoIndex, frames: CocoFrames, opts: unknown): Sampler<VideoLabeledBatch> {
  if (!v.isPlainObject(opts)) throw v.typeError('an object {windowDims, batchSize, ...}', 'options', opts);
  const o = v.options(opts, 'options', [...STREAM_KEYS, ...LABELED_KEYS]);
  if (o.out !== undefined) throw v.typeError('no out option (the stream recycles its own buffers)', 'options.out', o.out);
  const batchOpts: Record<string, unknown> = {};
  for (const k of LABELED_KEYS) if (o[k] !== undefined) batchOpts[k] = o[k];
  const checked = checkVideoOptions(batchOpts);
  const dims = checkVideoDims(o.windowDims, 'options.windowDims');
  const plan = checkStreamPlan(o);
  const { seed, frac, jitter, shuffle, worldSize, rank } = plan;
  const [t, h, w] = dims;
  const windows: Target[] = frac === 0 ? [] : videoTracks(store, videos).flatMap((tr) => trackWindows(videos, tr, dims, 0, null));
  const ids = framedVideos(videos);
  const nNeg = windows.length === 0 || frac === 0
    ? ids.reduce<number>((k, id) => k + Math.ceil(videos.frames(id).length / t), 0)
    : Math.round((windows.length * (1 - frac)) / frac);

  const epochItems = (epoch: number): Item[] => {
    const all: Item[] = [];
    for (let p = 0; p < windows.length; p++) all.push({ p, n: -1, i: all.length, e: epoch });
    for (let n = 0; n < nNeg && ids.length > 0; n++) all.push({ p: -1, n, i: all.length, e: epoch });
    const order = shuffled(all, { shuffle, seed }, epoch);
    return worldSize === 1 ? order : order.filter((_, k) => k % worldSize === rank);
  };

  const negative = (epoch: number, n: number): Target => {
    const rng = new Rng(seed, epoch, n, 0x4e68);
    let best = drawWindow(store, videos, ids, dims, rng);
    for (let k = 1; k < 16 && best.overlap > 0; k++) {
      const d = drawWindow(store, videos, ids, dims, rng, best.overlap);
      if (d.overlap < best.overlap) best = d;
    }
    return { videoId: best.videoId, timeSlice: [best.t0, best.t0 + t], cx: best.x0 + w / 2, cy: best.y0 + h / 2 };
  };

  const target = (it: Item): Target => {
    const rng = new Rng(seed, it.e, it.i, 0xa06);
    let tg: Target;
    if (it.p >= 0) {
      tg = { ...windows[it.p] };
      if (jitter > 0) {
        tg.cx = (tg.cx as number) + (2 * (rng.next() / U32) - 1) * jitter * w / 2;
        tg.cy = (tg.cy as number) + (2 * (rng.next() / U32) - 1) * jitter * h / 2;
      }
    } else {
      tg = negative(it.e, it.n);
    }
    tg.windowDims = [h, w];
    const augment = drawAugment(rng, plan);
    if (augment !== undefined) tg.augment = augment;
    return tg;
  };

  return createSampler<VideoLabeledBatch, Item>({
    epochItems,
    load: (items, out) => {
      const rvs = items.map((it, k) => resolveVideoTarget(store, videos, target(it), `stream item ${k}`, checked.labeled.scale));
      return readVideoLabeled(store, frames, rvs, withOut(checked, out));
    },
  }, plan, plan.prefetch);
}
