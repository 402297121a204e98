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

/**
 * A region parsed and checked without an image: each axis's bounds as given (null = missing).
 * resolveRegion turns it into a Window for one image shape, so a request can be parsed once and
 * resolved once the image (and so its shape) is known.
 */
export interface ParsedRegion {
  ys: number | null; ye: number | null;
  xs: number | null; xe: number | null;
  cs: number | null; ce: number | null;
}

/** The one slice parser: checks slice `s` of axis `axis`, returning [start, stop] (null = missing). */
function parseSlice(s: unknown, axis: number): [number | null, number | null] {
  if (s === null || s === undefined) return [null, null];
  let start: unknown;
  let stop: unknown;
  let step: unknown;
  if (Array.isArray(s)) {
    if (s.length > 3) {
      throw new RegionError('ERR_REGION', v.message('[start, stop]', `region[${axis}]`, s));
    }
    start = s[0];
    stop = s[1];
    step = s[2];
  } else if (v.isPlainObject(s)) {
    for (const k of Object.keys(s)) {
      if (k !== 'start' && k !== 'stop' && k !== 'step') {
        throw new RegionError('ERR_REGION', v.message('the keys start, stop', `region[${axis}] key`, k));
      }
    }
    ({ start, stop, step } = s as { start?: unknown; stop?: unknown; step?: unknown });
  } else {
    throw new RegionError('ERR_REGION',
      v.message('null, [start, stop] or {start, stop}', `region[${axis}]`, s) +
      (typeof s === 'number' ? ` (to take one index i use [i, i + 1])` : ''));
  }
  if (step !== undefined && step !== null && step !== 1) {
    throw new RegionError('ERR_REGION_STEP', v.message('a step of 1 (the only one supported)', `region[${axis}].step`, step));
  }
  return [bound(start, axis, 'start'), bound(stop, axis, 'stop')];
}

/** Parses and checks a region (null/undefined: the whole image). */
export function parseRegion(region: Region | null | undefined): ParsedRegion | null {
  if (region === null || region === undefined) return null;
  if (!Array.isArray(region)) {
    throw new RegionError('ERR_REGION', v.message('an array of slices [rows, cols] or [rows, cols, channels]', 'region', region));
  }
  if (region.length > 3) {
    throw new RegionError('ERR_REGION', v.message('at most 3 axes (rows, cols, channels)', 'region', region));
  }
  const [ys, ye] = parseSlice(region[0], 0);
  const [xs, xe] = parseSlice(region[1], 1);
  const [cs, ce] = parseSlice(region[2], 2);
  return { ys, ye, xs, xe, cs, ce };
}

/**
 * True when a parsed region takes every row and column: each start missing or 0, each stop
 * missing or the axis length where that is known (`height`, `width`).
 */
export function coversImage(p: ParsedRegion | null, height?: number, width?: number): boolean {
  if (p === null) return true;
  return (p.ys === null || p.ys === 0) && (p.ye === null || (height !== undefined && p.ye === height))
    && (p.xs === null || p.xs === 0) && (p.xe === null || (width !== undefined && p.xe === width));
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
  return resolveRegion(parseRegion(region), shape, boundless);
}

/** The Window a parsed region selects in an image of `shape` ([H, W, C]). */
export function resolveRegion(p: ParsedRegion | null, shape: Shape3, boundless = false): Window {
  const H = shape[0], W = shape[1], C = shape[2];
  if (p === null) {
    return { y0: 0, y1: H, x0: 0, x1: W, c0: 0, c1: C, iy0: 0, iy1: H, ix0: 0, ix1: W };
  }
  const c0 = pyBegin(p.cs, C);
  const c1 = Math.max(pyEnd(p.ce, C), c0);
  if (!boundless) {
    const y0 = pyBegin(p.ys, H);
    const y1 = Math.max(pyEnd(p.ye, H), y0);
    const x0 = pyBegin(p.xs, W);
    const x1 = Math.max(pyEnd(p.xe, W), x0);
    return { y0, y1, x0, x1, c0, c1, iy0: y0, iy1: y1, ix0: x0, ix1: x1 };
  }
  // Absolute coordinates: a missing start is 0, a missing stop the axis length.
  const y0 = p.ys === null ? 0 : p.ys;
  const y1 = Math.max(p.ye === null ? H : p.ye, y0);
  const x0 = p.xs === null ? 0 : p.xs;
  const x1 = Math.max(p.xe === null ? W : p.xe, x0);
  const iy0 = Math.min(Math.max(y0, 0), H);
  const iy1 = Math.max(Math.min(y1, H), iy0);
  const ix0 = Math.min(Math.max(x0, 0), W);
  const ix1 = Math.max(Math.min(x1, W), ix0);
  return { y0, y1, x0, x1, c0, c1, iy0, iy1, ix0, ix1 };
}

/** The window of an in-image box (already clipped; channels [c0, c1)). */
export function boxWindow(y0: number, y1: number, x0: number, x1: number, c0: number, c1: number): Window {
  return { y0, y1, x0, x1, c0, c1, iy0: y0, iy1: y1, ix0: x0, ix1: x1 };
}

/** The shape a window produces. */
export function windowShape(w: Window): Shape3 {
  return [w.y1 - w.y0, w.x1 - w.x0, w.c1 - w.c0];
}

/** True when the window reaches outside the image (only possible when boundless). */
export function isPartial(w: Window): boolean {
  return w.iy0 !== w.y0 || w.iy1 !== w.y1 || w.ix0 !== w.x0 || w.ix1 !== w.x1;
}
