/**
 * The TypeScript face of native/batch/: planned crops (a window of one file, or a fused crop of
 * several files) encoded into the work list the addon reads (lib/native.ts ITEM, PART), and run
 * on the addon's pool (start) or on the calling thread (runSync). Every pixel of a batch and of a
 * multi-file read is written by the addon; nothing here loops over pixels.
 *
 * Readers: a plan holds base readers (NpyReader / RasterReader, never an EntryReader), pinned by
 * the caller until the run settles (lib/cache/entry-reader.ts pin), so a rebuild of a cache entry
 * meanwhile does not close what a crop reads.
 *
 * Internal (not exported from the package). Runs on the calling JS thread.
 */
import { withCallSite } from '../errors';
import { allocateResult, TYPED_ARRAY } from '../ndarray';
import type { DType, NDArray, Shape3, TypedArray } from '../ndarray';
import { ITEM, ITEM_KIND, native, PART } from '../native';
import type { NativeBatchOptions, NativeBatchResult, NativeNpyReader, NativeRasterReader } from '../native';
import type { NpyReader, RasterReader } from '../readers';
import type { Window } from '../region';
import type { M3 } from './affine';

export type BaseReader = NpyReader | RasterReader;

/**
 * A crop of one file by the readers' rule: the in-image part of `win` placed at (oy, ox), ih x iw
 * of the crop as read, which is then turned by `orient` (lib/geometry.ts; 0: as read) as it is
 * written, so `shape` is the turned crop's.
 */
export interface WindowCrop {
  kind: 'window';
  reader: BaseReader;
  /** The crop's dtype (the file's) and its output shape. */
  dtype: DType;
  shape: Shape3;
  win: Window;
  place: { oy: number; ox: number; ih: number; iw: number };
  orient: number;
  /** The raw fill value as a value of `dtype`. */
  fill: number;
}

/** kwcoco's quantization (lib/frames/coco-frames.ts), undone by the sampler. */
export interface Quantization {
  orig_min: number; orig_max: number; quant_min: number; quant_max: number; nodata?: number | null;
}

/** One file of a fused crop (native/batch/batch_layout.h Part). */
export interface FusedPart {
  reader: BaseReader;
  /** The file window (clipped, non-empty) and its bands [b0, b1), read at readH x readW. */
  y0: number; y1: number; x0: number; x1: number; b0: number; b1: number;
  readH: number; readW: number;
  /** Output pixel coordinates -> coordinates in the crop as read. */
  m: M3;
  interp: 'nearest' | 'linear';
  /** Crop bands (relative to b0) written into channels ch0 .. ch0 + bands.length. */
  ch0: number;
  bands: number[];
  quant: Quantization | null;
  /** Antialiasing prefilter: [sigmaX, sigmaY, radiusX, radiusY] in crop pixels, or null. */
  aa: [number, number, number, number] | null;
}

/** A crop of an image of several files: each part sampled into its channels; the rest is `fill`. */
export interface FusedCrop {
  kind: 'fused';
  /** The fused dtype (linear values are stored as it stores them) and the output shape. */
  dtype: DType;
  shape: Shape3;
  fill: number;
  parts: FusedPart[];
}

export type CropPlan = WindowCrop | FusedCrop;

export interface RunOptions {
  /** Output dtype and layout of the batch. */
  dtype: DType;
  /** 'NCTHW': the crops are windows of `frames` frames each (video batches). */
  layout: 'NHWC' | 'NCHW' | 'NCTHW';
  frames?: number;
  /** (x * scale - mean[k]) / std[k], or null. */
  normalize: { scale: number; mean: Float64Array; std: Float64Array } | null;
  fillOnError: boolean;
  /** Written at completion (async) or directly (sync); `view` lays one crop out by its strides. */
  out?: TypedArray;
  view?: [offset: number, sy: number, sx: number, sc: number];
}

/** `x` as a typed array of `dtype` stores it (the readers' fill rule). */
export function rawValue(dtype: DType, x: number): number {
  const t = new TYPED_ARRAY[dtype](1);
  t[0] = x;
  return t[0];
}

/**
 * Every typed array handed to the addon is a view of one of these, reused across calls (the addon
 * copies what it reads during the call). A new one per batch would cost a scavenge per batch
 * while the previous batch's large external buffer is young: V8 collects the young generation
 * before allocating a backing store then, and a small typed array (on V8's heap) gets a backing
 * store allocated the moment the addon asks for its data pointer.
 */
const scratch = {
  items: new Float64Array(64 * ITEM.LENGTH), parts: new Float64Array(64 * PART.LENGTH), bands: new Float64Array(256),
  mean: new Float64Array(64), std: new Float64Array(64), view: new Float64Array(64),
};
function take(key: keyof typeof scratch, n: number): Float64Array {
  let a = scratch[key];
  if (a.length < n) {
    a = new Float64Array(Math.max(n, 2 * a.length));
    scratch[key] = a;
  }
  a.fill(0, 0, n);
  return a.subarray(0, n);
}

/** How a linear value is stored in the fused dtype (PART.ROUND). */
const ROUND: Record<DType, number> = { float64: 0, float32: 1, uint8: 2, int8: 2, uint16: 2, int16: 2, uint32: 2, int32: 2 };

/**
 * The native options of `crops` (null: an item that already failed; it is filled with
 * `fallbackFill`), each of output shape [h, w, c].
 */
export function encode(crops: ReadonlyArray<CropPlan | null>, [h, w, c]: Shape3, fallbackFill: number, o: RunOptions): NativeBatchOptions {
  const N = crops.length;
  const sources: Array<NativeNpyReader | NativeRasterReader> = [];
  const index = new Map<BaseReader, number>();
  const src = (r: BaseReader): number => {
    let k = index.get(r);
    if (k === undefined) {
      k = sources.length;
      sources.push(r.nativeHandle());
      index.set(r, k);
    }
    return k;
  };
  let nparts = 0;
  let nbands = 0;
  for (const p of crops) {
    if (p?.kind !== 'fused') continue;
    nparts += p.parts.length;
    for (const part of p.parts) nbands += part.bands.length;
  }
  const items = take('items', N * ITEM.LENGTH);
  const parts = take('parts', nparts * PART.LENGTH);
  const bands = take('bands', nbands);
  let pi = 0;
  let bi = 0;
  for (let i = 0; i < N; i++) {
    const at = i * ITEM.LENGTH;
    const p = crops[i];
    if (p === null) {
      items[at + ITEM.KIND] = ITEM_KIND.NONE;
      items[at + ITEM.FILL] = fallbackFill;
      continue;
    }
    items[at + ITEM.FILL] = p.fill;
    if (p.kind === 'window') {
      const { win, place } = p;
      items[at + ITEM.KIND] = ITEM_KIND.WINDOW;
      items[at + ITEM.SRC] = src(p.reader);
      items[at + ITEM.Y0] = win.iy0;
      items[at + ITEM.Y1] = place.ih === 0 ? win.iy0 : win.iy1;
      items[at + ITEM.X0] = win.ix0;
      items[at + ITEM.X1] = place.ih === 0 ? win.ix0 : win.ix1;
      items[at + ITEM.C0] = win.c0;
      items[at + ITEM.C1] = win.c1;
      items[at + ITEM.OY] = place.oy;
      items[at + ITEM.OX] = place.ox;
      items[at + ITEM.IH] = place.ih;
      items[at + ITEM.IW] = place.iw;
      items[at + ITEM.ORIENT] = p.orient;
      continue;
    }
    items[at + ITEM.KIND] = ITEM_KIND.FUSED;
    items[at + ITEM.PART0] = pi;
    items[at + ITEM.NPARTS] = p.parts.length;
    const round = ROUND[p.dtype];
    for (const part of p.parts) {
      const q = pi * PART.LENGTH;
      parts[q + PART.SRC] = src(part.reader);
      parts[q + PART.Y0] = part.y0;
      parts[q + PART.Y1] = part.y1;
      parts[q + PART.X0] = part.x0;
      parts[q + PART.X1] = part.x1;
      parts[q + PART.B0] = part.b0;
      parts[q + PART.B1] = part.b1;
      parts[q + PART.READ_H] = part.readH;
      parts[q + PART.READ_W] = part.readW;
      parts.set(part.m, q + PART.M0);
      parts[q + PART.INTERP] = part.interp === 'linear' ? 1 : 0;
      parts[q + PART.ROUND] = round;
      parts[q + PART.CH0] = part.ch0;
      parts[q + PART.NB] = part.bands.length;
      parts[q + PART.BANDS_AT] = bi;
      bands.set(part.bands, bi);
      bi += part.bands.length;
      const qz = part.quant;
      if (qz !== null) {
        const nodata = qz.nodata ?? null;
        parts[q + PART.DEQUANT] = nodata === null ? 1 : 2;
        parts[q + PART.QMIN] = qz.quant_min;
        parts[q + PART.QSCALE] = (qz.orig_max - qz.orig_min) / (qz.quant_max - qz.quant_min);
        parts[q + PART.OMIN] = qz.orig_min;
        parts[q + PART.NODATA] = nodata ?? 0;
      } else {
        parts[q + PART.QSCALE] = 1;
      }
      if (part.aa !== null) parts.set(part.aa, q + PART.AA_SIGMA_X);
      pi++;
    }
  }
  const n = o.normalize;
  const mean = take('mean', c);
  const std = take('std', c).fill(1);
  if (n !== null) {
    mean.set(n.mean);
    std.set(n.std);
  }
  const opts: NativeBatchOptions = {
    n: N, h, w, c, dtype: o.dtype, layout: o.layout, normalize: n !== null, scale: n?.scale ?? 1, mean, std,
    fillOnError: o.fillOnError, sources, items, out: o.out,
  };
  if (o.layout === 'NCTHW') opts.frames = o.frames ?? 1;
  if (nparts > 0) {
    opts.parts = parts;
    opts.bands = bands;
  }
  if (o.view !== undefined) {
    opts.view = take('view', 4);
    opts.view.set(o.view);
  }
  return opts;
}

/** Runs the crops on the calling thread. */
export function runSync(crops: ReadonlyArray<CropPlan | null>, shape: Shape3, fallbackFill: number, o: RunOptions): NativeBatchResult {
  return native.loadBatchSync(encode(crops, shape, fallbackFill, o));
}

/** Queues the crops on the addon's pool; `id` is for cancel(). */
export function start(crops: ReadonlyArray<CropPlan | null>, shape: Shape3, fallbackFill: number, o: RunOptions): { id: number; promise: Promise<NativeBatchResult> } {
  return native.loadBatch(encode(crops, shape, fallbackFill, o));
}

/** The run options of one crop of `dtype` as it is, into `out` (laid out by its strides) when given. */
function oneCrop(dtype: DType, out: NDArray | undefined): RunOptions {
  const o: RunOptions = { dtype, layout: 'NHWC', normalize: null, fillOnError: false };
  if (out !== undefined) {
    o.out = out.data;
    o.view = [out.offset, out.strides[0], out.strides[1], out.strides[2]];
  }
  return o;
}

/**
 * One crop (of a non-empty shape) on the calling thread, as an array of its dtype: written straight
 * into `out` (checked by the caller), or into a new JS array (garbage collected as any other; a
 * synchronous loop never waits for a finalizer to reuse addon memory).
 */
export function runOneSync(crop: CropPlan, out?: NDArray): NDArray {
  const dst = out ?? allocateResult(crop.shape, crop.dtype);
  runSync([crop], crop.shape, crop.fill, oneCrop(crop.dtype, dst));
  return dst;
}

/** One crop on the addon's pool: into `out` at completion, or a new array over a (recycled) addon buffer. */
export async function runOneAsync(crop: CropPlan, out?: NDArray): Promise<NDArray> {
  const res = await withCallSite(() => start([crop], crop.shape, crop.fill, oneCrop(crop.dtype, out)).promise);
  if (out !== undefined) return out;
  const [h, w, c] = crop.shape;
  return { data: res.data, shape: [h, w, c], strides: [w * c, c, 1], offset: 0, dtype: crop.dtype };
}

/** Cancels a batch in flight (queued crops are skipped; it rejects with `code`). */
export function cancel(id: number, code: 'ERR_ABORTED' | 'ERR_CLOSED'): void {
  native.cancelBatch(id, code);
}

/** This thread's pool of released batch buffers (native/batch/batch_buffer.h). */
export function batchMemoryStats(): { pooled: number; pooledBytes: number; reused: number; allocated: number } {
  return native.batchMemoryStats();
}
