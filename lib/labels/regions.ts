/**
 * The sampling plans of a CocoSampler [ndsampler.coco_regions.CocoRegions]: positives (one target
 * per annotation), negatives (random windows no annotation overlaps beyond `maxOverlap`) and
 * sample grids (kwarray's SlidingWindow over every image, split like ndsampler's
 * new_image_sample_grid). Every random choice comes from the sampler's counter-based generator
 * (frames/sampler.ts Rng) keyed by the seed and the item's position, so a plan is the same on
 * every machine. Runs on the calling thread.
 */
import type { ImageId } from '../cache/config';
import { Rng } from '../frames/sampler';
import * as v from '../validate';
import type { LabelStore } from './store';
import type { Target, WindowDims } from './targets';

const MAX_SEED = 2 ** 32 - 1;
const U32 = 2 ** 32;

function checkDims(x: unknown, name: string): [number, number] {
  if (!Array.isArray(x) || x.length !== 2) throw v.typeError('[h, w]', name, x);
  return [v.integer(x[0], `${name}[0]`, 1, 1 << 20), v.integer(x[1], `${name}[1]`, 1, 1 << 20)];
}

const seedOf = (x: unknown, name: string) => (x === undefined ? 0 : v.integer(x, name, 0, MAX_SEED));

/** One target per annotation, centred on its box (dataset order); `jitter` moves the centre by up to jitter x half the window. */
export function positives(store: LabelStore, opts: unknown): Target[] {
  const o = v.options(opts, 'options', ['windowDims', 'jitter', 'seed'] as const);
  let dims: WindowDims | undefined;
  if (o.windowDims !== undefined) dims = o.windowDims === 'extent' || o.windowDims === 'square' ? o.windowDims : checkDims(o.windowDims, 'options.windowDims');
  const jitter = o.jitter === undefined ? 0 : v.number(o.jitter, 'options.jitter');
  if (!(jitter >= 0 && jitter <= 1)) throw v.rangeError('a number in [0, 1]', 'options.jitter', o.jitter);
  const seed = seedOf(o.seed, 'options.seed');
  const out: Target[] = [];
  let i = 0;
  for (const a of store.all()) {
    const [x, y, w, h] = a.box;
    let cx = x + w / 2;
    let cy = y + h / 2;
    if (jitter > 0) {
      const rng = new Rng(seed, 0x9051, i);
      const [wh, ww] = Array.isArray(dims) ? dims : [Math.max(1, Math.ceil(h)), Math.max(1, Math.ceil(w))];
      cx += (2 * (rng.next() / U32) - 1) * jitter * ww / 2;
      cy += (2 * (rng.next() / U32) - 1) * jitter * wh / 2;
    }
    const t: Target = { annotationId: a.id, imageId: a.imageId, cx, cy, width: w, height: h };
    if (dims !== undefined) t.windowDims = dims;
    out.push(t);
    i++;
  }
  return out;
}

/**
 * `count` windows of `windowDims` at random places (images drawn uniformly, positions uniform
 * inside the image; an image smaller than the window gives the window at its top-left corner)
 * whose overlap with every annotation box (its area over the window's) is at most `maxOverlap`
 * (default 0: none). Fewer when the dataset has too little free space to find them in
 * 100 x count + 1000 draws.
 */
export function negatives(store: LabelStore, ids: ImageId[], opts: unknown): Target[] {
  if (!v.isPlainObject(opts)) throw v.typeError('an object {count, windowDims, seed, maxOverlap}', 'options', opts);
  const o = v.options(opts, 'options', ['count', 'windowDims', 'seed', 'maxOverlap'] as const);
  const count = v.integer(o.count, 'options.count', 0, 1 << 24);
  const [h, w] = checkDims(o.windowDims, 'options.windowDims');
  const seed = seedOf(o.seed, 'options.seed');
  const maxOverlap = o.maxOverlap === undefined ? 0 : v.number(o.maxOverlap, 'options.maxOverlap');
  if (!(maxOverlap >= 0 && maxOverlap <= 1)) throw v.rangeError('a number in [0, 1]', 'options.maxOverlap', o.maxOverlap);
  const out: Target[] = [];
  if (ids.length === 0) return out;
  const rng = new Rng(seed, 0x4e67);
  const area = h * w;
  const tries = 100 * count + 1000;
  for (let t = 0; t < tries && out.length < count; t++) {
    const imageId = ids[rng.below(ids.length)];
    const [H, W] = store.imageSize(imageId);
    const y0 = H > h ? rng.below(H - h + 1) : 0;
    const x0 = W > w ? rng.below(W - w + 1) : 0;
    const list = store.overlapping(imageId, x0, y0, x0 + w, y0 + h, 0);
    let worst = 0;
    for (const a of list) {
      const [bx, by, bw, bh] = a.box;
      const iw = Math.min(bx + bw, x0 + w) - Math.max(bx, x0);
      const ih = Math.min(by + bh, y0 + h) - Math.max(by, y0);
      worst = Math.max(worst, (iw * ih) / area);
    }
    if (worst > maxOverlap) continue;
    out.push({ imageId, cx: x0 + w / 2, cy: y0 + h / 2, windowDims: [h, w] });
  }
  return out;
}

/** Python's round (half to even), as kwarray computes strides. */
export function pyRound(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** kwarray's _slices1d with keepbound: starts of windows of `d` over `n` with step `s`. */
export function starts1d(n: number, d: number, s: number): number[] {
  const out: number[] = [];
  let pos = 0;
  for (;;) {
    out.push(pos);
    if (pos + d === n) break;
    pos += s;
    if (pos + d > n) {
      pos = n - d;
      if (pos < 0 || pos <= out[out.length - 1]) break;
    }
  }
  return out;
}

export const NEGATIVE_CLASSES = new Set(['ignore', 'background']);

/**
 * Sliding windows over every image (ndsampler's new_sample_grid, 'image' task): stride
 * round(d * (1 - overlap)), the last window aligned to the far border (keepbound). A window is
 * positive when it overlaps an annotation whose category is not 'ignore' or 'background'; windows
 * more than 60% covered by one 'ignore' box are left out.
 */
export function sampleGrid(store: LabelStore, ids: ImageId[], opts: unknown): { positives: Target[]; negatives: Target[] } {
  if (!v.isPlainObject(opts)) throw v.typeError('an object {windowDims, overlap}', 'options', opts);
  const o = v.options(opts, 'options', ['windowDims', 'overlap', 'task'] as const);
  const task = o.task === undefined ? 'image' : v.oneOf(o.task, 'options.task', ['image', 'video'] as const);
  if (task === 'video') throw v.typeError("task 'image' here (video grids: video-regions.ts)", 'options.task', o.task);
  const [h, w] = checkDims(o.windowDims, 'options.windowDims');
  const overlap = o.overlap === undefined ? 0 : v.number(o.overlap, 'options.overlap');
  if (!(overlap >= 0 && overlap < 1)) throw v.rangeError('a number in [0, 1)', 'options.overlap', o.overlap);
  const sy = pyRound(h - h * overlap);
  const sx = pyRound(w - w * overlap);
  if (sy < 1 || sx < 1) throw v.rangeError('an overlap that leaves a step of at least 1 pixel', 'options.overlap', o.overlap);
  const names = new Map(store.categories.map((c) => [c.id, c.name.toLowerCase()]));
  const pos: Target[] = [];
  const neg: Target[] = [];
  for (const imageId of ids) {
    const [H, W] = store.imageSize(imageId);
    for (const y0 of starts1d(H, h, sy)) {
      for (const x0 of starts1d(W, w, sx)) {
        const list = store.overlapping(imageId, x0, y0, x0 + w, y0 + h, 0);
        const ignored = list.some((a) => {
          if (names.get(a.categoryId) !== 'ignore') return false;
          const [bx, by, bw, bh] = a.box;
          const iw = Math.min(bx + bw, x0 + w) - Math.max(bx, x0);
          const ih = Math.min(by + bh, y0 + h) - Math.max(by, y0);
          return (iw * ih) / (w * h) > 0.6;
        });
        if (ignored) continue;
        const target: Target = { imageId, region: [[y0, y0 + h], [x0, x0 + w]] };
        if (list.some((a) => !NEGATIVE_CLASSES.has(names.get(a.categoryId) ?? ''))) pos.push(target);
        else neg.push(target);
      }
    }
  }
  return { positives: pos, negatives: neg };
}
