/**
 * Frames.loadBatch: N crops as one contiguous tensor (NHWC or NCHW, any dtype, normalised), read
 * by the addon's own thread pool in one native call (native/batch/). The event loop only
 * validates, opens readers (building missing cache entries on the libuv pool first) and settles.
 *
 * - Single-file images (the fast path) are read natively from their npy mapping or their GDAL
 *   source: one fused kernel per crop reads, pads, converts, normalises and transposes straight
 *   into the crop's slot.
 * - Images whose channels are several files (fused through AlignableImageData) are read per item
 *   by the JS path first (slower: one array per item, copied again by the addon) and then go
 *   through the same kernel.
 * - The output buffer is addon memory (an external ArrayBuffer): JS cannot free, detach or shrink
 *   it under the job. `out` reuses it when it is the data of an earlier Batch; any other typed
 *   array is filled by one copy on the JS thread at completion.
 *
 * Threads: the calling JS thread, except the crops (the addon's pool; see docs/concurrency.md).
 */
import { AbortError, ClosedError, NdsamplerError, RegionError, withCallSite } from '../errors';
import type { ChannelInfo, ImageId } from '../cache/config';
import type { ReaderLease } from '../cache/opener';
import { EntryReader } from '../cache/entry-reader';
import { DTYPES, dtypeOf, TYPED_ARRAY } from '../ndarray';
import type { DType, NDArray, TypedArray } from '../ndarray';
import { native } from '../native';
import type { NativeBatchOptions, NativeNpyReader, NativeRasterReader, NpyArrayDesc } from '../native';
import type { ImageReader, NpyReader, RasterReader } from '../readers';
import { coversImage, parseRegion, pySlice, resolveRegion } from '../region';
import type { ParsedRegion, Region, Window } from '../region';
import * as v from '../validate';
import type { ImageTable } from './images';
import { raceAbort } from '../readers-async';
import { prefetchPlanned } from '../remote/published-reader';

export type BatchLayout = 'NHWC' | 'NCHW';

/** One crop of a batch. `channels` overrides the batch's. */
export interface BatchRequest {
  imageId: ImageId;
  region?: Region | null;
  channels?: string | string[];
}

export interface BatchNormalize {
  /** Multiplies every value first (default 1), e.g. 1/255. */
  scale?: number;
  /** Per channel, subtracted after scaling (default 0); its length must be C. */
  mean?: number[];
  /** Per channel, divided by last (default 1); its length must be C, no zero. */
  std?: number[];
}

export interface BatchOptions {
  /** 'NHWC' (default) or 'NCHW'. */
  layout?: BatchLayout;
  /** Element type of the batch (default: the images' dtype). */
  dtype?: DType;
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
  /** Reuse this memory: the data of an earlier Batch (no copy) or any typed array (one copy). */
  out?: Batch | TypedArray;
  /** 'throw' (default): the first failing crop rejects the batch; 'fill': it is filled and listed in errors. */
  onError?: 'throw' | 'fill';
  /** Cancels queued work; the batch then rejects with AbortError ERR_ABORTED. */
  signal?: AbortSignal;
}

/** `new ort.Tensor(batch.dtype, batch.data, batch.dims)` takes it as is. */
export interface Batch {
  data: TypedArray;
  /** [N, H, W, C] for 'NHWC', [N, C, H, W] for 'NCHW'. */
  dims: number[];
  dtype: DType;
  layout: BatchLayout;
  errors: Array<{ index: number; error: NdsamplerError }>;
}

export const BATCH_KEYS = ['layout', 'dtype', 'normalize', 'boundless', 'fill', 'scale', 'channels', 'out', 'onError', 'signal'] as const;
const REQUEST_KEYS = ['imageId', 'region', 'channels'] as const;
const NORMALIZE_KEYS = ['scale', 'mean', 'std'] as const;
const ITEM = 12;

interface Checked {
  layout: BatchLayout;
  dtype: DType | undefined;
  normalize: { scale: number; mean: number[] | undefined; std: number[] | undefined } | null;
  boundless: boolean;
  fill: number;
  scale: number;
  channels: unknown;
  out: TypedArray | undefined;
  fillOnError: boolean;
  signal: AbortSignal | undefined;
}

function numbers(x: unknown, name: string): number[] {
  if (!Array.isArray(x) && !ArrayBuffer.isView(x)) throw v.typeError('an array of numbers', name, x);
  return Array.from(x as ArrayLike<unknown>, (n, i) => {
    const num = v.number(n, `${name}[${i}]`);
    if (!Number.isFinite(num)) throw v.rangeError('a finite number', `${name}[${i}]`, n);
    return num;
  });
}

function checkOptions(opts: unknown): Checked {
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
  const scale = o.scale === undefined ? 1 : v.number(o.scale, 'options.scale');
  if (!(scale > 0 && scale <= 1)) throw v.rangeError('a number in (0, 1]', 'options.scale', scale);
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
  return { layout, dtype, normalize, boundless, fill, scale, channels: o.channels, out, fillOnError: onError === 'fill', signal };
}

/** A length of `n` source pixels at `scale` (the readers' rule, lib/readers.ts). */
function scaled(n: number, scale: number): number {
  return scale === 1 ? n : Math.max(n > 0 ? 1 : 0, Math.round(n * scale));
}

type NativeSource = NativeNpyReader | NativeRasterReader | (NpyArrayDesc & { data: TypedArray });

interface Planned {
  source: NativeSource;
  /** Identity of the source (dedupes readers shared by several crops). */
  key: object;
  dtype: DType;
  /** The window in image coordinates, and the in-image part as read from `source`. */
  win: Window;
  src: { y0: number; y1: number; x0: number; x1: number };
}

function aborted(): AbortError {
  return new AbortError('ERR_ABORTED', 'the batch was aborted');
}

/** The base reader of an opened (possibly entry) reader. */
function baseReader(r: ImageReader): NpyReader | RasterReader {
  return (r instanceof EntryReader ? r.current() : r) as NpyReader | RasterReader;
}

/** The plan of a fast-path crop read from the reader `lease` holds. */
function plannedFrom(lease: ReaderLease, parsed: ParsedRegion | null, c: Checked, leases: ReaderLease[]): Planned {
  leases.push(lease);
  const reader = baseReader(lease.reader);
  const win = resolveRegion(parsed, reader.shape, c.boundless);
  return { source: reader.nativeHandle(), key: reader, dtype: reader.dtype, win, src: { y0: win.iy0, y1: win.iy1, x0: win.ix0, x1: win.ix1 } };
}

/**
 * planItem without a promise, when everything it needs is at hand: the image's state memoised and
 * its fast-path reader open in the pool (the steady state of a sampler). Null: take planItem.
 */
function planItemSync(images: ImageTable, r: BatchRequest, parsed: ParsedRegion | null, c: Checked,
  leases: ReaderLease[]): Planned | null {
  const state = images.peek(r.imageId);
  if (state === undefined) return null;
  const chan = images.fast(state, r.channels !== undefined ? r.channels : c.channels);
  if (chan === null) return null;
  const lease = images.opener.leaseIfOpen(chan, !c.boundless && coversImage(parsed) ? 'ifExists' : 'build');
  return lease === null ? null : plannedFrom(lease, parsed, c, leases);
}

async function planItem(images: ImageTable, r: BatchRequest, parsed: ParsedRegion | null, c: Checked,
  leases: ReaderLease[]): Promise<Planned> {
  const state = await images.getAsync(r.imageId);
  const channels = r.channels !== undefined ? r.channels : c.channels;
  const chan: ChannelInfo | null = images.fast(state, channels);
  if (chan !== null) {
    const whole = !c.boundless && coversImage(parsed);
    return plannedFrom(await images.opener.openAsync(chan, whole ? 'ifExists' : 'build'), parsed, c, leases);
  }
  // Several files fused by AlignableImageData: read the in-image part in JS first (slower).
  await images.warm(state, 'build');  // its header reads are synchronous: open every file first
  const al = images.alignable(state);
  const [H, W] = al.header('ifExists').shape;
  const rows = resolveRegion(parsed === null ? null : { ...parsed, cs: null, ce: null }, [H, W, 1], c.boundless);
  const arr = await al.loadRegionAsync([[rows.iy0, rows.iy1], [rows.ix0, rows.ix1]],
    { channels: channels as string | string[] | undefined, fused: true, cache: true }) as NDArray;
  const [c0, c1] = pySlice(parsed?.cs ?? null, parsed?.ce ?? null, arr.shape[2]);
  const win: Window = { ...rows, c0, c1 };
  const source = { data: arr.data, shape: arr.shape, strides: arr.strides, offset: arr.offset, dtype: arr.dtype, ndim: 3 as const };
  return { source, key: source, dtype: arr.dtype, win, src: { y0: 0, y1: arr.shape[0], x0: 0, x1: arr.shape[1] } };
}

/** Frames.loadBatch (see docs/api.md). `images`: the Frames object's current ImageTable. */
export async function loadBatch(images: ImageTable, requests: unknown, opts?: unknown): Promise<Batch> {
  const c = checkOptions(opts);
  if (!Array.isArray(requests)) throw v.typeError('an array of {imageId, region, channels}', 'requests', requests);
  if (requests.length === 0) throw v.rangeError('a non-empty array', 'requests', requests);
  const reqs = requests as BatchRequest[];
  const parsed = reqs.map((r, i) => {
    if (!v.isPlainObject(r)) throw v.typeError('an object {imageId, region, channels}', `requests[${i}]`, r);
    v.options(r, `requests[${i}]`, REQUEST_KEYS);
    return parseRegion(r.region);
  });
  if (c.signal?.aborted) throw aborted();

  const opener = images.opener;
  let closed = false;
  let id: number | undefined;
  const onClose = (): void => {
    closed = true;
    if (id !== undefined) native.cancelBatch(id, 'ERR_CLOSED');
  };
  const onAbort = (): void => {
    if (id !== undefined) native.cancelBatch(id, 'ERR_ABORTED');
  };
  opener.onClose.add(onClose);
  c.signal?.addEventListener('abort', onAbort, { once: true });
  const leases: ReaderLease[] = [];
  try {
    // Every crop planned synchronously where it can be, the others (first use of an image, a
    // reader to open or an entry to build) concurrently; an error is kept by index, as for
    // Promise.allSettled.
    const N = reqs.length;
    const planned: Array<Planned | null> = new Array(N).fill(null);
    const reasons: unknown[] = [];
    const failed = new Uint8Array(N);
    const pending: Array<Promise<void>> = [];
    for (let i = 0; i < N; i++) {
      try {
        const p = planItemSync(images, reqs[i], parsed[i], c, leases);
        if (p !== null) planned[i] = p;
        else {
          pending.push(planItem(images, reqs[i], parsed[i], c, leases).then((v) => { planned[i] = v; }, (err) => {
            failed[i] = 1;
            reasons[i] = err;
          }));
        }
      } catch (err) {
        failed[i] = 1;
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
    const first = planned.find((p) => p !== null);
    if (first === undefined) throw errors[0].error;
    // One output size for every crop.
    const size = (p: Planned): [number, number, number] =>
      [scaled(p.win.y1 - p.win.y0, c.scale), scaled(p.win.x1 - p.win.x0, c.scale), p.win.c1 - p.win.c0];
    const [H, W, C] = size(first);
    planned.forEach((p, i) => {
      if (p === null) return;
      const s = size(p);
      if (s[0] !== H || s[1] !== W || s[2] !== C) {
        throw new RegionError('ERR_REGION', v.message(`a crop of size [${H}, ${W}, ${C}] (every crop of a batch has the size of the first)`, `requests[${i}] size`, s));
      }
    });
    if (H === 0 || W === 0 || C === 0) throw new RegionError('ERR_REGION', v.message('a non-empty crop', 'requests[0] size', [H, W, C]));
    const srcDtype = first.dtype;
    let dtype = c.dtype;
    if (dtype === undefined) {
      const other = planned.find((p) => p !== null && p.dtype !== srcDtype);
      if (other) {
        throw new NdsamplerError('ERR_UNSUPPORTED', `the images of the batch have different dtypes ('${srcDtype}', '${other.dtype}'): pass options.dtype`);
      }
      dtype = srcDtype;
    }
    // Normalisation, checked against C.
    const mean = new Float64Array(C);
    const std = new Float64Array(C).fill(1);
    if (c.normalize !== null) {
      for (const [key, arr, target] of [['mean', c.normalize.mean, mean], ['std', c.normalize.std, std]] as const) {
        if (arr === undefined) continue;
        if (arr.length !== C) throw v.rangeError(`${C} numbers (one per channel)`, `options.normalize.${key}`, arr);
        target.set(arr);
      }
    }
    if (c.out !== undefined) {
      if (dtypeOf(c.out) !== dtype) {
        throw new RegionError('ERR_OUT_BUFFER', v.message(`a typed array of dtype '${dtype}'`, 'options.out', dtypeOf(c.out)));
      }
      if (c.out.length !== N * H * W * C) {
        throw new RegionError('ERR_OUT_BUFFER', v.message(`${N * H * W * C} elements (N * H * W * C)`, 'options.out length', c.out.length));
      }
    }
    // The items, each source once.
    const sources: NativeSource[] = [];
    const index = new Map<object, number>();
    const items = new Float64Array(N * ITEM);
    // The fill as a raw pixel value of a source's dtype (as the readers' fill), once per dtype:
    // a typed array per crop was a measurable share of the garbage a streaming sampler makes.
    const rawFill = new Map<DType, number>();
    const raw = (d: DType, x: number): number => {
      let r = rawFill.get(d);
      if (r === undefined) {
        const t = new TYPED_ARRAY[d](1);
        t[0] = x;
        r = t[0];
        rawFill.set(d, r);
      }
      return r;
    };
    planned.forEach((p, i) => {
      const at = i * ITEM;
      if (p === null) {
        items[at] = -1;
        items[at + 11] = raw(srcDtype, c.fill);
        return;
      }
      let k = index.get(p.key);
      if (k === undefined) {
        k = sources.length;
        sources.push(p.source);
        index.set(p.key, k);
      }
      const w = p.win;
      const oy = scaled(w.iy0 - w.y0, c.scale);
      const ox = scaled(w.ix0 - w.x0, c.scale);
      let ih = w.iy1 > w.iy0 ? Math.min(Math.max(1, scaled(w.iy1 - w.y0, c.scale) - oy), H - oy, w.iy1 - w.iy0) : 0;
      let iw = w.ix1 > w.ix0 ? Math.min(Math.max(1, scaled(w.ix1 - w.x0, c.scale) - ox), W - ox, w.ix1 - w.ix0) : 0;
      const { y0, x0 } = p.src;
      let { y1, x1 } = p.src;
      if (ih <= 0 || iw <= 0) {
        ih = iw = 0;
        y1 = y0;
        x1 = x0;
      }
      items[at] = k;
      items[at + 1] = y0;
      items[at + 2] = y1;
      items[at + 3] = x0;
      items[at + 4] = x1;
      items[at + 5] = w.c0;
      items[at + 6] = w.c1;
      items[at + 7] = ih === 0 ? 0 : oy;
      items[at + 8] = iw === 0 ? 0 : ox;
      items[at + 9] = ih;
      items[at + 10] = iw;
      items[at + 11] = raw(p.dtype, c.fill);
    });
    await raceAbort(prefetchPlanned(planned, c.scale), c.signal, 'the batch');  // published objects: all crops' tiles at once
    const nopts: NativeBatchOptions = {
      n: N, h: H, w: W, c: C, dtype, layout: c.layout,
      normalize: c.normalize !== null, scale: c.normalize?.scale ?? 1, mean, std,
      fillOnError: c.fillOnError, sources, items, out: c.out,
    };
    const res = await withCallSite(() => {
      const started = native.loadBatch(nopts);
      id = started.id;
      return started.promise;
    });
    const all = errors.concat(res.errors).sort((a, b) => a.index - b.index);
    return { data: res.data, dims: c.layout === 'NHWC' ? [N, H, W, C] : [N, C, H, W], dtype, layout: c.layout, errors: all };
  } finally {
    opener.onClose.delete(onClose);
    c.signal?.removeEventListener('abort', onAbort);
    for (const l of leases) l.release();
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
