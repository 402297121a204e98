/**
 * Crop geometry, in one place: the `scale` option's check, the size of a scaled read, and where
 * the in-image part of a (boundless) window lands in a scaled result. Readers, Frames, batches and
 * the multi-file planner all use these, so a request means the same pixels on every path.
 * Pure functions on the calling thread (beside region.ts, which normalises regions into Windows).
 */
import type { Shape3 } from './ndarray';
import type { Window } from './region';
import * as v from './validate';

/** A `scale` option: undefined is 1; otherwise a number in (0, 1] (RangeError, TypeError). */
export function checkScale(x: unknown, name = 'options.scale'): number {
  if (x === undefined) return 1;
  const scale = v.number(x, name);
  if (!(scale > 0 && scale <= 1)) throw v.rangeError('a number in (0, 1]', name, scale);
  return scale;
}

/** A length of `n` source pixels read at `scale`: round(n * scale), at least 1 when n > 0. */
export function scaled(n: number, scale: number): number {
  return scale === 1 ? n : Math.max(n > 0 ? 1 : 0, Math.round(n * scale));
}

/** The shape a window gives at `scale`. */
export function scaledShape(win: Window, scale: number): Shape3 {
  return [scaled(win.y1 - win.y0, scale), scaled(win.x1 - win.x0, scale), win.c1 - win.c0];
}

/**
 * Where the in-image part of `win` lands in a result of `shape` (the window read at `scale`), as
 * the raster reader lays out a scaled boundless read: at the scaled offset of its first row and
 * column, with the scaled size of its far edge minus that offset, within the result and at most
 * the in-image size (a scaled read never enlarges). ih = iw = 0 when nothing of it lands.
 */
export function placement(win: Window, scale: number, shape: Shape3): { oy: number; ox: number; ih: number; iw: number } {
  const oy = scaled(win.iy0 - win.y0, scale);
  const ox = scaled(win.ix0 - win.x0, scale);
  const ih = win.iy1 > win.iy0 ? Math.min(Math.max(1, scaled(win.iy1 - win.y0, scale) - oy), shape[0] - oy, win.iy1 - win.iy0) : 0;
  const iw = win.ix1 > win.ix0 ? Math.min(Math.max(1, scaled(win.ix1 - win.x0, scale) - ox), shape[1] - ox, win.ix1 - win.ix0) : 0;
  return ih <= 0 || iw <= 0 ? { oy: 0, ox: 0, ih: 0, iw: 0 } : { oy, ox, ih, iw };
}
