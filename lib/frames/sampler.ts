/**
 * frames.sampler(opts): an async iterable of batches for a training loop. Deterministic: the same
 * seed gives the same batches, whatever the thread count or machine (every random choice comes
 * from a counter-based generator keyed by (seed, epoch, image index), never from timing). Each
 * epoch's items are split disjointly and completely across data-parallel ranks (item k of the
 * shuffled epoch goes to rank k % worldSize). `state()` is small JSON; passing it back as `resume`
 * continues mid-epoch exactly where it stopped.
 *
 * Runs on the calling thread; the pixel work is the loader's (frames.loadBatch: native threads).
 * Buffers: batches are read into a ring of `prefetch + 2` buffers. A yielded batch's data stays
 * valid while you hold it and the next one: it is reused when you ask for the second batch after it
 * (copy it to keep it longer).
 */
import type { ImageId } from '../cache/config';
import { FramesError } from '../errors';
import type { DType, Shape3 } from '../ndarray';
import type { Region } from '../region';
import type { Batch, BatchOptions } from './batch';
import * as v from '../validate';

/** Where the sampler is: enough to continue exactly (JSON). */
export interface SamplerState {
  version: 1;
  seed: number;
  /** The epoch in progress (0-based). */
  epoch: number;
  /** Items of this rank's share of the epoch already yielded. */
  position: number;
  rank: number;
  worldSize: number;
}

export type RegionsOption = 'random' | 'grid' | ((imageId: ImageId, shape: Shape3) => Region[]);

export interface SamplerPlanOptions {
  size: [number, number];
  batchSize: number;
  seed?: number;
  shuffle?: boolean;
  epochs?: number;
  rank?: number;
  worldSize?: number;
  regions?: RegionsOption;
  /** Random crops per image per epoch ('random' regions; default 1). */
  cropsPerImage?: number;
  resume?: SamplerState;
}

/** A batch of frames.sampler: a Batch plus the image and region of each crop (targets[i] is crop i). */
export type SamplerBatch<D extends DType = DType> = Batch<D> & { targets: Array<{ imageId: ImageId; region: Region }> };

/** frames.sampler's options: the plan, `prefetch`, and the loadBatch options (all but `out`). */
export interface SamplerOptions<D extends DType = DType> extends SamplerPlanOptions, Omit<BatchOptions<D>, 'out'> {
  /** Batches loaded ahead of the consumer (default 2). */
  prefetch?: number;
  out?: never;
}

export const SAMPLER_KEYS = ['size', 'batchSize', 'seed', 'shuffle', 'epochs', 'prefetch', 'rank', 'worldSize', 'regions', 'cropsPerImage', 'resume'] as const;

/** One crop of an epoch: the image and a region of exactly `size` (boundless where the image is smaller). */
export interface SampleItem {
  imageId: ImageId;
  region: Region;
  /** True when the region reaches outside the image (it is read boundless, padded with `fill`). */
  boundless: boolean;
}

export interface CheckedPlan {
  size: [number, number];
  batchSize: number;
  seed: number;
  shuffle: boolean;
  epochs: number;
  rank: number;
  worldSize: number;
  regions: RegionsOption;
  cropsPerImage: number;
  start: { epoch: number; position: number };
}

const MAX_SEED = 2 ** 32 - 1;

export function checkPlan(o: SamplerPlanOptions): CheckedPlan {
  if (!Array.isArray(o.size) || o.size.length !== 2) throw v.typeError('[height, width]', 'options.size', o.size);
  const size: [number, number] = [v.integer(o.size[0], 'options.size[0]', 1, 1 << 20), v.integer(o.size[1], 'options.size[1]', 1, 1 << 20)];
  const batchSize = v.integer(o.batchSize, 'options.batchSize', 1, 1 << 16);
  const seed = o.seed === undefined ? 0 : v.integer(o.seed, 'options.seed', 0, MAX_SEED);
  const shuffle = o.shuffle === undefined ? true : v.boolean(o.shuffle, 'options.shuffle');
  const epochs = o.epochs === undefined || o.epochs === Infinity ? Infinity : v.integer(o.epochs, 'options.epochs', 1, Number.MAX_SAFE_INTEGER);
  const worldSize = o.worldSize === undefined ? 1 : v.integer(o.worldSize, 'options.worldSize', 1, 1 << 16);
  const rank = o.rank === undefined ? 0 : v.integer(o.rank, 'options.rank', 0, worldSize - 1);
  const regions = o.regions === undefined ? 'random' : typeof o.regions === 'function' ? o.regions
    : v.oneOf(o.regions, 'options.regions', ['random', 'grid'] as const);
  const cropsPerImage = o.cropsPerImage === undefined ? 1 : v.integer(o.cropsPerImage, 'options.cropsPerImage', 1, 1 << 16);
  if (cropsPerImage !== 1 && regions !== 'random') throw v.typeError("no cropsPerImage (it is for regions 'random')", 'options.cropsPerImage', o.cropsPerImage);
  const start = checkResume(o.resume, seed, rank, worldSize);
  return { size, batchSize, seed, shuffle, epochs, rank, worldSize, regions, cropsPerImage, start };
}

/** The start of a resumed plan (`resume` checked against this sampler's seed and rank). */
export function checkResume(resume: unknown, seed: number, rank: number, worldSize: number): { epoch: number; position: number } {
  let start = { epoch: 0, position: 0 };
  if (resume !== undefined) {
    const r = resume as SamplerState;
    if (!v.isPlainObject(r) || r.version !== 1) throw v.typeError('a SamplerState from sampler.state()', 'options.resume', r);
    const epoch = v.integer(r.epoch, 'options.resume.epoch', 0, Number.MAX_SAFE_INTEGER);
    const position = v.integer(r.position, 'options.resume.position', 0, Number.MAX_SAFE_INTEGER);
    if (r.seed !== seed || r.rank !== rank || r.worldSize !== worldSize) {
      throw new FramesError('ERR_SAMPLER_STATE',
        `options.resume was made with seed ${String(r.seed)}, rank ${String(r.rank)} of ${String(r.worldSize)}; this sampler has seed ${seed}, rank ${rank} of ${worldSize}`);
    }
    start = { epoch, position };
  }
  return start;
}

// ---- a counter-based generator: the same numbers on every machine ----------------------------

/** 32-bit mix of a list of integers (murmur3-style finaliser over a running hash). */
function mixStep(h: number, x: number): number {
  h = Math.imul(h ^ (x >>> 0), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** mix(...key, last) without spreading `key` into a new array (the sampler seeds one Rng per image and epoch). */
function mix(key: number[], last: number): number {
  let h = 0x9e3779b9;
  for (let i = 0; i < key.length; i++) h = mixStep(h, key[i]);
  return mixStep(h, last) >>> 0;
}

/** A seeded generator of uniform integers (xorshift128+ on 32-bit lanes, state from `mix`). */
export class Rng {
  #a: number; #b: number; #c: number; #d: number;
  constructor(...key: number[]) {
    this.#a = mix(key, 1) || 1;
    this.#b = mix(key, 2);
    this.#c = mix(key, 3);
    this.#d = mix(key, 4);
  }

  /** A uniform 32-bit unsigned integer (xoshiro128**). */
  next(): number {
    const r = Math.imul(((Math.imul(this.#b, 5) << 7) | (Math.imul(this.#b, 5) >>> 25)), 9) >>> 0;
    const t = this.#b << 9;
    this.#c ^= this.#a; this.#d ^= this.#b; this.#b ^= this.#c; this.#a ^= this.#d;
    this.#c ^= t;
    this.#d = (this.#d << 11) | (this.#d >>> 21);
    return r;
  }

  /** A uniform integer in [0, n) (n ≤ 2^32), without modulo bias. */
  below(n: number): number {
    if (n <= 1) return 0;
    const limit = Math.floor(2 ** 32 / n) * n;
    for (;;) {
      const x = this.next();
      if (x < limit) return x % n;
    }
  }
}

// ---- the items of an epoch -----------------------------------------------------------------

/** The regions of one image for an epoch, each exactly `size`. */
export function imageItems(imageId: ImageId, index: number, shape: Shape3, p: CheckedPlan, epoch: number): SampleItem[] {
  const [h, w] = p.size;
  const [H, W] = shape;
  if (p.regions === 'random') {
    const rng = new Rng(p.seed, epoch, index, 0x5a4d);
    const out: SampleItem[] = [];
    for (let k = 0; k < p.cropsPerImage; k++) {
      const y = H >= h ? rng.below(H - h + 1) : 0;
      const x = W >= w ? rng.below(W - w + 1) : 0;
      out.push({ imageId, region: [[y, y + h], [x, x + w]], boundless: H < h || W < w });
    }
    return out;
  }
  if (p.regions === 'grid') {
    const starts = (n: number, k: number): number[] => {
      if (n <= k) return [0];
      const out: number[] = [];
      for (let s = 0; s + k < n; s += k) out.push(s);
      out.push(n - k);  // the last tile is aligned to the far border, so tiles cover without padding
      return out;
    };
    const items: SampleItem[] = [];
    for (const y of starts(H, h)) {
      for (const x of starts(W, w)) items.push({ imageId, region: [[y, y + h], [x, x + w]], boundless: H < h || W < w });
    }
    return items;
  }
  const given = p.regions(imageId, shape);
  if (!Array.isArray(given)) throw v.typeError('an array of regions', `options.regions(${String(imageId)})`, given);
  return given.map((region, i) => {
    if (!Array.isArray(region) || region.length < 2) throw v.typeError('a region [rows, cols]', `options.regions(${String(imageId)})[${i}]`, region);
    const [ry, rx] = region as Array<[number, number]>;
    const ok = Array.isArray(ry) && Array.isArray(rx) && ry[1] - ry[0] === h && rx[1] - rx[0] === w;
    if (!ok) {
      throw new FramesError('ERR_REGION', `options.regions(${String(imageId)})[${i}] must be [[y, y + ${h}], [x, x + ${w}]] (the sampler's size); received ${JSON.stringify(region)}`);
    }
    const boundless = ry[0] < 0 || rx[0] < 0 || ry[1] > H || rx[1] > W;
    return { imageId, region, boundless };
  });
}

/** Fisher–Yates with the epoch's generator. */
export function shuffled<T>(items: T[], p: { shuffle: boolean; seed: number }, epoch: number): T[] {
  if (!p.shuffle) return items;
  const rng = new Rng(p.seed, epoch, 0x5f1e);
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    const t = items[i];
    items[i] = items[j];
    items[j] = t;
  }
  return items;
}

/** This rank's items of an epoch, in order: every item of the epoch goes to exactly one rank. */
export function epochItems(ids: ImageId[], shapes: Shape3[], p: CheckedPlan, epoch: number): SampleItem[] {
  const all: SampleItem[] = [];
  ids.forEach((id, i) => {
    for (const item of imageItems(id, i, shapes[i], p, epoch)) all.push(item);
  });
  const order = shuffled(all, p, epoch);
  return p.worldSize === 1 ? order : order.filter((_, k) => k % p.worldSize === p.rank);
}

// ---- the iterable --------------------------------------------------------------------------

/** What the sampler needs from its owner (Frames, CocoSampler). */
export interface SamplerHost<B, I> {
  /**
   * Work before the first plan, awaited (Frames: every image's shape, its header opened on the
   * libuv pool: remote headers are awaited, never waited for). Optional.
   */
  prepare?(): Promise<void>;
  /** This rank's items of an epoch, in order (the same for the same epoch, every time). */
  epochItems(epoch: number): I[];
  /** Loads a batch of items with the caller's batch options; `out` a batch from this sampler's ring or undefined. */
  load(items: I[], out: B | undefined): Promise<B>;
}

/** What the iterable needs of a checked plan. */
export interface IterPlan {
  batchSize: number;
  epochs: number;
  seed: number;
  rank: number;
  worldSize: number;
  start: { epoch: number; position: number };
  /** Leave out the last batch of an epoch when it is short (default false). */
  dropLast?: boolean;
}

export type Sampler<B> = AsyncIterable<B> & { state(): SamplerState };

/** frames.sampler's host items: the epoch's crops from `shape` (image headers, read once). */
export function frameItems(ids: ImageId[], shape: (id: ImageId) => Shape3 | Promise<Shape3>, p: CheckedPlan): { prepare(): Promise<void>; epochItems(epoch: number): SampleItem[] } {
  let shapes: Shape3[] | null = null;
  return {
    /** Every image's shape, asked once (16 at a time: remote headers are awaited, never waited for). */
    async prepare(): Promise<void> {
      if (shapes !== null) return;
      const got = new Array<Shape3>(ids.length);
      let next = 0;
      await Promise.all(Array.from({ length: Math.min(16, ids.length) }, async () => {
        while (next < ids.length) {
          const i = next++;
          got[i] = await shape(ids[i]);
        }
      }));
      shapes = got;
    },
    epochItems: (epoch) => epochItems(ids, shapes as Shape3[], p, epoch),
  };
}

/**
 * The sampler over `host`. `prefetch` batches are loaded ahead of the consumer (default 2); a
 * yielded batch's buffer is reused for the batch `prefetch + 2` after it, whose load starts when
 * the consumer asks for the second batch after the yielded one.
 */
export function createSampler<B extends { dims: number[] }, I>(host: SamplerHost<B, I>, p: IterPlan, prefetch: number): Sampler<B> {
  let state: SamplerState = { version: 1, seed: p.seed, epoch: p.start.epoch, position: p.start.position, rank: p.rank, worldSize: p.worldSize };
  const ringSize = prefetch + 2;

  async function* batches(): AsyncGenerator<B> {
    const ring: Array<B | undefined> = new Array(ringSize).fill(undefined);
    let issued = 0;
    // The plan, as a lazy sequence of (epoch, position after, requests).
    let epoch = state.epoch;
    let position = state.position;
    let items: I[] | null = null;
    const nextPlan = (): { epoch: number; after: number; requests: I[] } | null => {
      for (;;) {
        if (epoch >= p.epochs) return null;
        if (items === null) items = host.epochItems(epoch);
        const short = p.dropLast === true && items.length - position < p.batchSize;
        if (position < items.length && !short) {
          const chunk = items.slice(position, position + p.batchSize);
          position += chunk.length;
          return { epoch, after: position, requests: chunk };
        }
        if (items.length === 0) return null;  // nothing for this rank (more ranks than items, or no images)
        epoch++;
        position = 0;
        items = null;
      }
    };
    const inflight: Array<{ plan: { epoch: number; after: number }; batch: Promise<B> }> = [];
    const issue = (): boolean => {
      const plan = nextPlan();
      if (plan === null) return false;
      const slot = issued++ % ringSize;
      const reuse = ring[slot];
      const full = plan.requests.length === p.batchSize;
      const batch = host.load(plan.requests, full ? reuse : undefined).then((b) => {
        if (full) ring[slot] = b;
        return b;
      });
      batch.catch(() => { /* surfaced when awaited */ });
      inflight.push({ plan, batch });
      return true;
    };
    try {
      if (host.prepare !== undefined) await host.prepare();
      while (inflight.length < prefetch + 1 && issue()) { /* fill the pipeline */ }
      while (inflight.length > 0) {
        const head = inflight.shift() as { plan: { epoch: number; after: number }; batch: Promise<B> };
        const b = await head.batch;
        state = { ...state, epoch: head.plan.epoch, position: head.plan.after };
        while (inflight.length < prefetch && issue()) { /* top up before handing the batch over */ }
        yield b;
        if (inflight.length < prefetch + 1) issue();
      }
    } finally {
      // A consumer that stops early: the loads still in flight settle on their own.
      for (const f of inflight) f.batch.catch(() => { /* ignored: nobody will take it */ });
    }
  }

  return {
    [Symbol.asyncIterator]: () => batches(),
    state: () => ({ ...state }),
  };
}
