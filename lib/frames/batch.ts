/**
 * Frames.loadBatch: N crops as one contiguous tensor (NHWC or NCHW, any dtype, normalised), read
 * by the addon's own thread pool in one native call (native/batch/). The event loop only
 * validates, plans each crop (lib/frames/batch-plan.ts: a window of a single-file image, or a
 * fused crop of an image of several files), opens readers (building missing cache entries on the
 * libuv pool first) and settles.
 *
 * - Every crop is written by the addon straight into its slot: a window crop reads, pads,
 *   converts, normalises and transposes in one pass; a fused crop samples each of its files
 *   (nearest or linear, from COG overviews when reduced) into its channels.
 * - The output buffer is addon memory (an external ArrayBuffer): JS cannot free, detach or shrink
 *   it under the job. Batches without `out` take a released buffer of the same size when there is
 *   one (one whose earlier Batch was garbage collected: native/batch/batch_buffer.h), so a plain
 *   loop does not pay for fresh pages. `out` reuses a buffer explicitly when it is the data of an
 *   earlier Batch; any other typed array is filled by one copy on the JS thread at completion.
 * - The readers a batch reads are leased from the pool and pinned until it settles: a cache entry
 *   rebuilt meanwhile (by another process) does not close what a crop in flight reads.
 *
 * Threads: the calling JS thread, except the crops (the addon's pool; see docs/concurrency.md).
 */
import { AbortError, ClosedError, NdsamplerError, RegionError, withCallSite } from '../errors';
import { ReaderPins } from '../cache/entry-reader';
import { DTYPES, dtypeOf } from '../ndarray';
import type { DType, TypedArray, TypedArrayOf } from '../ndarray';
import { checkScale } from '../geometry';
import { parseRegion } from '../region';
import type { ParsedRegion, Window } from '../region';
import * as v from '../validate';
import { cancel, rawValue, start } from './batch-native';
import type { CropPlan } from './batch-native';
import { planItem, planItemSync } from './batch-plan';
import type { BatchRequest, CropOptions, Holds } from './batch-plan';
import type { Interpolation } from './fused';
import { batchTooLarge, emptyCrop, sizeMismatch } from './batch-messages';
import type { ImageTable } from './images';
import { native } from '../native';
import { raceAbort } from '../readers-async';
import { prefetchPlanned } from '../remote/published-reader';

export type { BatchRequest } from './batch-plan';

export type BatchLayout = 'NHWC' | 'NCHW';

export interface BatchNormalize {
  /** Multiplies every value first (default 1), e.g. 1/255. */
  scale?: number;
  /** Per channel, subtracted after scaling (default 0); its length must be C. */
  mean?: number[];
  /** Per channel, divided by last (default 1); its length must be C, no zero. */
  std?: number[];
}

/**
 * loadBatch's options. Generic over the dtype: `{ dtype: 'float32' }` makes the batch a
 * `Batch<'float32'>`, whose `data` is typed Float32Array (without `dtype`, any dtype's array).
 */
export interface BatchOptions<D extends DType = DType> {
  /** 'NHWC' (default) or 'NCHW'. */
  layout?: BatchLayout;
  /** Element type of the batch (default: the images' dtype). */
  dtype?: D;
  /** `(x * scale - mean[c]) / std[c]` in float64, then converted to `dtype`. */
  normalize?: BatchNormalize;
  /** Absolute coordinates; what lies outside the image is `fill` (default false). */
  boundless?: boolean;
  /** The raw pixel value outside the image (and of failed items), converted like the others (default 0). */
  fill?: number;
  /** Read at this scale in (0, 1]: COG overviews where they exist, nearest sampling otherwise (default 1). */
  scale?: number;
  /** Channels for every request that does not name its own. */
  channels?: string | string[];
  /** Images of several files: resampling of files not on the image grid (default 'nearest'). */
  interpolation?: Interpolation;
  /** With 'linear': blur a file read at a reduced resolution first (default true, as kwcoco's delayed_image). */
  antialias?: boolean;
  /** Reuse this memory: the data of an earlier Batch (no copy) or any typed array (one copy). */
  out?: Batch<NoInfer<D>> | TypedArrayOf<NoInfer<D>>;
  /** 'throw' (default): the first failing crop rejects the batch; 'fill': it is filled and listed in errors. */
  onError?: 'throw' | 'fill';
  /** Cancels queued work; the batch then rejects with AbortError ERR_ABORTED. */
  signal?: AbortSignal;
}

/**
 * `new ort.Tensor(batch.dtype, batch.data, batch.dims)` takes it as is. `data` is the typed array
 * of `dtype` (a Float32Array for a `Batch<'float32'>`): addon memory in an external ArrayBuffer,
 * never a SharedArrayBuffer (docs/api.md, "Batch memory").
 */
export interface Batch<D extends DType = DType> {
  data: TypedArrayOf<D>;
  /** [N, H, W, C] for 'NHWC', [N, C, H, W] for 'NCHW'. */
  dims: number[];
  dtype: D;
  layout: BatchLayout;
  errors: Array<{ index: number; error: NdsamplerError }>;
}

export const BATCH_KEYS = ['layout', 'dtype', 'normalize', 'boundless', 'fill', 'scale', 'channels', 'interpolation', 'antialias', 'out', 'onError', 'signal'] as const;
const REQUEST_KEYS = ['imageId', 'region', 'channels'] as const;
const NORMALIZE_KEYS = ['scale', 'mean', 'std'] as const;

type Checked = CropOptions & RunBatchOptions;

function numbers(x: unknown, name: string): number[] {
  if (!Array.isArray(x) && !ArrayBuffer.isView(x)) throw v.typeError('an array of numbers', name, x);
  return Array.from(x as ArrayLike<unknown>, (n, i) => {
    const num = v.number(n, `${name}[${i}]`);
    if (!Number.isFinite(num)) throw v.rangeError('a finite number', `${name}[${i}]`, n);
    return num;
  });
}

/** @internal loadBatch's options checked (CocoSampler's labeled batches check theirs here too). */
export function checkBatchOptions(opts: unknown): Checked {
  const o = v.options(opts, 'options', BATCH_KEYS);
  const layout = o.layout === undefined ? 'NHWC' : v.oneOf(o.layout, 'options.layout', ['NHWC', 'NCHW'] as const);
  const dtype = o.dtype === undefined ? undefined : v.oneOf(o.dtype, 'options.dtype', DTYPES);
  let normalize: Checked['normalize'] = null;
  if (o.normalize !== undefined) {
    const n = v.options(o.normalize, 'options.normalize', NORMALIZE_KEYS);
    if (!v.isPlainObject(o.normalize)) throw v.typeError('an object {scale, mean, std}', 'options.normalize', o.normalize);
    const scale = n.scale === undefined ? 1 : v.number(n.scale, 'options.normalize.scale');
    if (!Number.isFinite(scale)) throw v.rangeError('a finite number', 'options.normalize.scale', scale);
    const mean = n.mean === undefined ? undefined : numbers(n.mean, 'options.normalize.mean');
    const std = n.std === undefined ? undefined : numbers(n.std, 'options.normalize.std');
    std?.forEach((s, i) => {
      if (s === 0) throw v.rangeError('a non-zero number', `options.normalize.std[${i}]`, s);
    });
    normalize = { scale, mean, std };
  }
  const boundless = o.boundless === undefined ? false : v.boolean(o.boundless, 'options.boundless');
  const fill = o.fill === undefined ? 0 : v.number(o.fill, 'options.fill');
  const scale = checkScale(o.scale);
  const interpolation = o.interpolation === undefined ? 'nearest' : v.oneOf(o.interpolation, 'options.interpolation', ['nearest', 'linear'] as const);
  const antialias = o.antialias === undefined ? true : v.boolean(o.antialias, 'options.antialias');
  let out: TypedArray | undefined;
  if (o.out !== undefined) {
    const data = ArrayBuffer.isView(o.out) ? o.out : v.isPlainObject(o.out) ? (o.out as { data?: unknown }).data : undefined;
    if (dtypeOf(data) === undefined) throw v.typeError('a Batch or a typed array', 'options.out', o.out);
    out = data as TypedArray;
  }
  const onError = o.onError === undefined ? 'throw' : v.oneOf(o.onError, 'options.onError', ['throw', 'fill'] as const);
  let signal: AbortSignal | undefined;
  if (o.signal !== undefined) {
    const s = o.signal as AbortSignal;
    if (typeof s !== 'object' || s === null || typeof s.aborted !== 'boolean' || typeof s.addEventListener !== 'function') {
      throw v.typeError('an AbortSignal', 'options.signal', o.signal);
    }
    signal = s;
  }
  return {
    layout, dtype, normalize, boundless, fill, scale, channels: o.channels, interpolation, antialias, out, fillOnError: onError === 'fill', signal,
  };
}

/** The image window a crop reads, for the error messages (null for a crop of several files). */
const winOf = (p: CropPlan): Window | null => (p.kind === 'window' ? p.win : null);

/**
 * The windows the crops read at full resolution, each with the reader it reads from, for
 * prefetchPlanned: the tiles of published objects read in place are fetched for the whole batch
 * at once (one multi-range GET per object), not crop by crop on the pool. Reduced reads (overviews)
 * are left to the native read. Other readers ignore it.
 */
function prefetchCrops(planned: ReadonlyArray<CropPlan | null>): Promise<void> {
  const wins: Array<{ key: object; win: Window }> = [];
  for (const p of planned) {
    if (p === null) continue;
    if (p.kind === 'window') {
      if (p.place.ih === p.win.iy1 - p.win.iy0 && p.place.iw === p.win.ix1 - p.win.ix0) wins.push({ key: p.reader, win: p.win });
      continue;
    }
    for (const q of p.parts) {
      if (q.readH !== q.y1 - q.y0 || q.readW !== q.x1 - q.x0) continue;
      wins.push({ key: q.reader, win: { y0: q.y0, y1: q.y1, x0: q.x0, x1: q.x1, c0: q.b0, c1: q.b1, iy0: q.y0, iy1: q.y1, ix0: q.x0, ix1: q.x1 } });
    }
  }
  return wins.length === 0 ? Promise.resolve() : prefetchPlanned(wins, 1);
}

function aborted(): AbortError {
  return new AbortError('ERR_ABORTED', 'the batch was aborted');
}

/** Frames.loadBatch (see docs/api.md). `images`: the Frames object's current ImageTable. */
export async function loadBatch(images: ImageTable, requests: unknown, opts?: unknown): Promise<Batch> {
  const c = checkBatchOptions(opts);
  if (!Array.isArray(requests)) throw v.typeError('an array of {imageId, region, channels}', 'requests', requests);
  if (requests.length === 0) throw v.rangeError('a non-empty array', 'requests', requests);
  const reqs = requests as BatchRequest[];
  // Array.from visits every index: a hole in a sparse array is refused, not skipped.
  const crops = Array.from({ length: reqs.length }, (_, i): CropRequest => {
    const r = reqs[i];
    if (!v.isPlainObject(r)) {
      throw v.typeError(`an object {imageId, region, channels}${i in reqs ? '' : ' (requests is sparse: this index is a hole)'}`, `requests[${i}]`, r);
    }
    v.options(r, `requests[${i}]`, REQUEST_KEYS);
    return { request: r, parsed: parseRegion(r.region), crop: c };
  });
  return loadCrops(images, crops, c);
}

/** One crop of loadCrops: the request, its parsed region, and the options it is planned with. */
export interface CropRequest {
  request: BatchRequest;
  parsed: ParsedRegion | null;
  crop: CropOptions;
}

/** What a whole batch is run with (checked). */
export interface RunBatchOptions {
  /** 'NCTHW' (video batches, lib/labels/video-batch.ts): the crops are windows of `frames` frames. */
  layout: BatchLayout | 'NCTHW';
  frames?: number;
  dtype: DType | undefined;
  normalize: { scale: number; mean: number[] | undefined; std: number[] | undefined } | null;
  fill: number;
  out: TypedArray | undefined;
  fillOnError: boolean;
  signal: AbortSignal | undefined;
}

/**
 * @internal The batch engine behind loadBatch, for samplers that choose each crop's options
 * themselves (CocoSampler): every crop planned with its own CropOptions (scale, boundless, fill,
 * interpolation, channels), read as one batch of `c`'s layout, dtype and normalisation. Checked
 * input only (checkBatchOptions). Resolves as loadBatch.
 */
export async function loadCrops(images: ImageTable, crops: CropRequest[], c: RunBatchOptions): Promise<Batch> {
  if (c.signal?.aborted) throw aborted();
  const opener = images.opener;
  let closed = false;
  let id: number | undefined;
  const onClose = (): void => {
    closed = true;
    if (id !== undefined) cancel(id, 'ERR_CLOSED');
  };
  const onAbort = (): void => {
    if (id !== undefined) cancel(id, 'ERR_ABORTED');
  };
  opener.onClose.add(onClose);
  c.signal?.addEventListener('abort', onAbort, { once: true });
  const holds: Holds = { leases: [], pins: new ReaderPins() };
  try {
    // Every crop planned synchronously where it can be, the others (first use of an image, a
    // reader to open or an entry to build) concurrently; an error is kept by index, as for
    // Promise.allSettled.
    const N = crops.length;
    const planned: Array<CropPlan | null> = new Array(N).fill(null);
    const reasons: unknown[] = [];
    const failed: boolean[] = new Array(N).fill(false);
    const pending: Array<Promise<void>> = [];
    for (let i = 0; i < N; i++) {
      try {
        const { request, parsed, crop } = crops[i];
        const p = planItemSync(images, request, parsed, crop, holds);
        if (p !== null) planned[i] = p;
        else {
          pending.push(planItem(images, request, parsed, crop, holds).then((p) => { planned[i] = p; }, (err) => {
            failed[i] = true;
            reasons[i] = err;
          }));
        }
      } catch (err) {
        failed[i] = true;
        reasons[i] = err;
      }
    }
    if (pending.length > 0) await raceAbort(Promise.all(pending), c.signal, 'the batch');  // opens may wait on servers
    if (closed) throw new ClosedError('ERR_CLOSED', 'the Frames object was closed with the batch in flight');
    if (c.signal?.aborted) throw aborted();
    const errors: Batch['errors'] = [];
    for (let index = 0; index < N; index++) {
      if (!failed[index]) continue;
      const reason = reasons[index];
      if (!(c.fillOnError && reason instanceof NdsamplerError)) throw reason;
      errors.push({ index, error: reason });
    }
    const f = planned.findIndex((p) => p !== null);
    if (f < 0) throw errors[0].error;
    const first = planned[f] as CropPlan;
    // One output size for every crop.
    const [H, W, C] = first.shape;
    planned.forEach((p, i) => {
      if (p === null) return;
      const s = p.shape;
      if (s[0] !== H || s[1] !== W || s[2] !== C) throw sizeMismatch(i, s, crops[i].parsed, winOf(p), f, [H, W, C], crops[i].crop.boundless);
    });
    if (H === 0 || W === 0 || C === 0) throw emptyCrop(f, [H, W, C], crops[f].parsed, winOf(first), crops[f].crop.boundless);
    const srcDtype = first.dtype;
    let dtype = c.dtype;
    if (dtype === undefined) {
      const other = planned.find((p) => p !== null && p.dtype !== srcDtype);
      if (other) {
        throw new NdsamplerError('ERR_UNSUPPORTED', `the images of the batch have different dtypes (requests[${f}] '${srcDtype}', ` +
          `requests[${planned.indexOf(other)}] '${other.dtype}'): pass options.dtype, the one the batch is converted to`);
      }
      dtype = srcDtype;
    }
    const huge = batchTooLarge(N, H, W, C, dtype);
    if (huge !== null) throw huge;
    // Normalisation, checked against C.
    let normalize: { scale: number; mean: Float64Array; std: Float64Array } | null = null;
    if (c.normalize !== null) {
      normalize = { scale: c.normalize.scale, mean: new Float64Array(C), std: new Float64Array(C).fill(1) };
      for (const [key, arr, target] of [['mean', c.normalize.mean, normalize.mean], ['std', c.normalize.std, normalize.std]] as const) {
        if (arr === undefined) continue;
        if (arr.length !== C) throw v.rangeError(`${C} numbers (one per channel)`, `options.normalize.${key}`, arr);
        target.set(arr);
      }
    }
    if (c.out !== undefined) {
      if (dtypeOf(c.out) !== dtype) {
        throw new RegionError('ERR_OUT_BUFFER', v.message(`a typed array of dtype '${dtype}' (the batch's)`, 'options.out', c.out) + ` (dtype '${dtypeOf(c.out)}')`);
      }
      if (c.out.length !== N * H * W * C) {
        throw new RegionError('ERR_OUT_BUFFER', v.message(`${N * H * W * C} elements (N * H * W * C)`, 'options.out length', c.out.length));
      }
    }
    await raceAbort(prefetchCrops(planned), c.signal, 'the batch');  // published objects: every crop's tiles at once
    if (closed) throw new ClosedError('ERR_CLOSED', 'the Frames object was closed with the batch in flight');
    const res = await withCallSite(() => {
      const started = start(planned, [H, W, C], rawValue(srcDtype, c.fill), {
        dtype: dtype as DType, layout: c.layout, frames: c.frames, normalize, fillOnError: c.fillOnError, out: c.out,
      });
      id = started.id;
      return started.promise;
    });
    const all = errors.concat(res.errors).sort((a, b) => a.index - b.index);
    const dims = c.layout === 'NHWC' ? [N, H, W, C] : c.layout === 'NCHW' ? [N, C, H, W] : [N / (c.frames ?? 1), C, c.frames ?? 1, H, W];
    // (An NCTHW batch is video-batch.ts's, which gives it its own layout and dims.)
    return { data: res.data, dims, dtype, layout: c.layout as BatchLayout, errors: all };
  } finally {
    opener.onClose.delete(onClose);
    c.signal?.removeEventListener('abort', onAbort);
    holds.pins.release();
    for (const l of holds.leases) l.release();
  }
}

/** Sets the number of threads of the addon's pool (process-wide; default one per core). */
export function setThreadPoolSize(n: number): void {
  native.setThreadPoolSize(v.integer(n, 'n', 1, 1024));
}

/** The number of threads of the addon's pool. */
export function threadPoolSize(): number {
  return native.threadPoolSize();
}

/**
 * Sets how many nice levels (0..19, default 10) the addon's pool threads run below the JS thread
 * that starts them: a JS thread that wakes up takes a core from a decoding thread at once, so the
 * event loop does not wait behind its own batches; alone on the machine the pool still uses every
 * core. 0 runs them at the JS thread's level (they then compete with it, and with other processes,
 * as equals). The running threads are replaced after their current crop. Process-wide. Linux;
 * elsewhere, and where the system refuses setpriority, the threads keep the caller's level.
 */
export function setThreadPoolNice(n: number): void {
  native.setThreadPoolNice(v.integer(n, 'n', 0, 19));
}

/** The nice offset of the addon's pool threads (see setThreadPoolNice). */
export function threadPoolNice(): number {
  return native.threadPoolNice();
}
