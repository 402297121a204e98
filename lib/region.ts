/**
 * The one region normaliser every backend uses, so the same request means the same pixels on
 * npy, COG and no-cache reads.
 *
 * Default (clipping) semantics are Python's basic slicing with step 1: null/missing means the
 * whole axis, negative indices count from the end, a stop past the end is clipped, and a stop
 * before the start gives an empty axis.
 *
 * With `boundless: true` the row and column bounds are absolute pixel coordinates instead
 * (as rasterio's boundless windows): a negative start lies before the first row or column,
 * a stop past the end lies beyond the last, and the caller gets exactly the requested size
 * with the outside filled. Channel slices keep Python semantics in both modes.
 */
import { RegionError } from './errors';
import type { Shape3 } from './ndarray';
import * as v from './validate';

export type SliceLike = null | undefined | [start?: number | null, stop?: number | null]
  | { start?: number | null; stop?: number | null };
export type Region = SliceLike[];

/** A normalised request: the requested window and its intersection with the image. */
export interface Window {
  /** Requested rows/cols in image coordinates (may lie outside the image when boundless). */
  y0: number; y1: number; x0: number; x1: number;
  /** Channels, always within the image. */
  c0: number; c1: number;
  /** The part of the window inside the image (equal to the window unless boundless). */
  iy0: number; iy1: number; ix0: number; ix1: number;
}

function bound(value: unknown, axis: number, end: 'start' | 'stop'): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'number' || Number.isNaN(value)) throw v.typeError('an integer or null', `region[${axis}].${end}`, value);
  if (!Number.isSafeInteger(value)) throw v.rangeError('a safe integer', `region[${axis}].${end}`, value);
  return value;
}

// parseSlice's result. Module scratch rather than a returned tuple: normalizeRegion runs on every
// read, and each value is read back right after the (synchronous) call that set it.
let sliceStart: number | null = null;
let sliceStop: number | null = null;

function parseSlice(s: unknown, axis: number): void {
  if (s === null || s === undefined) {
    sliceStart = null;
    sliceStop = null;
    return;
  }
  let start: unknown;
  let stop: unknown;
  let step: unknown;
  if (Array.isArray(s)) {
    if (s.length > 3) {
      throw new RegionError('ERR_REGION', `region[${axis}] must be [start, stop] but has ${s.length} entries`);
    }
    start = s[0];
    stop = s[1];
    step = s[2];
  } else if (v.isPlainObject(s)) {
    for (const k of Object.keys(s)) {
      if (k !== 'start' && k !== 'stop' && k !== 'step') {
        throw new RegionError('ERR_REGION', `region[${axis}] has unknown key '${k}' (expected start, stop)`);
      }
    }
    ({ start, stop, step } = s as { start?: unknown; stop?: unknown; step?: unknown });
  } else {
    throw new RegionError('ERR_REGION',
      `region[${axis}] must be null, [start, stop] or {start, stop}; received ${v.describe(s)}` +
      (typeof s === 'number' ? ` (to take one index i use [i, i + 1])` : ''));
  }
  if (step !== undefined && step !== null && step !== 1) {
    throw new RegionError('ERR_REGION_STEP', `region[${axis}] has step ${String(step)}: only a step of 1 is supported`);
  }
  sliceStart = bound(start, axis, 'start');
  sliceStop = bound(stop, axis, 'stop');
}

/** The begin of Python's slice(start, ...).indices(n) for step 1. */
function pyBegin(start: number | null, n: number): number {
  return start === null ? 0 : start < 0 ? Math.max(start + n, 0) : Math.min(start, n);
}

/** The end of Python's slice(..., stop).indices(n) for step 1, before clamping to the begin. */
function pyEnd(stop: number | null, n: number): number {
  return stop === null ? n : stop < 0 ? Math.max(stop + n, 0) : Math.min(stop, n);
}

/** Python's slice(start, stop).indices(n) for step 1, as [begin, end) with end >= begin. */
export function pySlice(start: number | null, stop: number | null, n: number): [number, number] {
  const b = pyBegin(start, n);
  return [b, Math.max(pyEnd(stop, n), b)];
}

/** Normalises `region` against an image of `shape` ([H, W, C]). */
export function normalizeRegion(region: Region | null | undefined, shape: Shape3, boundless = false): Window {
  const H = shape[0], W = shape[1], C = shape[2];
  if (region === null || region === undefined) {
    return { y0: 0, y1: H, x0: 0, x1: W, c0: 0, c1: C, iy0: 0, iy1: H, ix0: 0, ix1: W };
  }
  if (!Array.isArray(region)) {
    throw new RegionError('ERR_REGION', `region must be an array of slices [rows, cols] or [rows, cols, channels]; received ${v.describe(region)}`);
  }
  if (region.length > 3) {
    throw new RegionError('ERR_REGION', `region has ${region.length} axes but images have 3 (rows, cols, channels)`);
  }
  parseSlice(region[0], 0);
  const ys = sliceStart;
  const ye = sliceStop;
  parseSlice(region[1], 1);
  const xs = sliceStart;
  const xe = sliceStop;
  parseSlice(region[2], 2);
  const c0 = pyBegin(sliceStart, C);
  const c1 = Math.max(pyEnd(sliceStop, C), c0);
  if (!boundless) {
    const y0 = pyBegin(ys, H);
    const y1 = Math.max(pyEnd(ye, H), y0);
    const x0 = pyBegin(xs, W);
    const x1 = Math.max(pyEnd(xe, W), x0);
    return { y0, y1, x0, x1, c0, c1, iy0: y0, iy1: y1, ix0: x0, ix1: x1 };
  }
  // Absolute coordinates: a missing start is 0, a missing stop the axis length.
  const y0 = ys === null ? 0 : ys;
  const y1 = Math.max(ye === null ? H : ye, y0);
  const x0 = xs === null ? 0 : xs;
  const x1 = Math.max(xe === null ? W : xe, x0);
  const iy0 = Math.min(Math.max(y0, 0), H);
  const iy1 = Math.max(Math.min(y1, H), iy0);
  const ix0 = Math.min(Math.max(x0, 0), W);
  const ix1 = Math.max(Math.min(x1, W), ix0);
  return { y0, y1, x0, x1, c0, c1, iy0, iy1, ix0, ix1 };
}

/** The shape a window produces. */
export function windowShape(w: Window): Shape3 {
  return [w.y1 - w.y0, w.x1 - w.x0, w.c1 - w.c0];
}

/** True when the window reaches outside the image (only possible when boundless). */
export function isPartial(w: Window): boolean {
  return w.iy0 !== w.y0 || w.iy1 !== w.y1 || w.ix0 !== w.x0 || w.ix1 !== w.x1;
}
