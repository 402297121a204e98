/**
 * Crop geometry, in one place: the `scale` option's check, the size of a scaled read, where the
 * in-image part of a (boundless) window lands in a scaled or sized result, and the orientation of
 * a turned crop. Readers, Frames, batches, the multi-file planner and the labels layer all use
 * these, so a request means the same pixels on every path.
 * Pure functions on the calling thread (beside region.ts, which normalises regions into Windows).
 */
import type { M3 } from './frames/affine';
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
  return place(win, scale, scale, shape[0], shape[1]);
}

/**
 * placement for a window read at its own size [sh, sw] (a crop that chose it: CocoSampler's
 * targets): each axis at its own ratio, sh / window height and sw / window width, above 1 for an
 * enlarged read (nearest), which may then exceed the in-image size.
 */
export function placementSized(win: Window, sh: number, sw: number): { oy: number; ox: number; ih: number; iw: number } {
  return place(win, sh / (win.y1 - win.y0), sw / (win.x1 - win.x0), sh, sw);
}

function place(win: Window, ry: number, rx: number, sh: number, sw: number): { oy: number; ox: number; ih: number; iw: number } {
  const oy = scaled(win.iy0 - win.y0, ry);
  const ox = scaled(win.ix0 - win.x0, rx);
  const most = (n: number, r: number): number => (r <= 1 ? n : Infinity);
  const ih = win.iy1 > win.iy0 ? Math.min(Math.max(1, scaled(win.iy1 - win.y0, ry) - oy), sh - oy, most(win.iy1 - win.iy0, ry)) : 0;
  const iw = win.ix1 > win.ix0 ? Math.min(Math.max(1, scaled(win.ix1 - win.x0, rx) - ox), sw - ox, most(win.ix1 - win.ix0, rx)) : 0;
  return ih <= 0 || iw <= 0 ? { oy: 0, ox: 0, ih: 0, iw: 0 } : { oy, ox, ih, iw };
}

// ---- orientation --------------------------------------------------------------------------

/**
 * How a crop is turned as it is written (CocoSampler's augmentation; native/batch/orient.h for
 * window crops, lib/frames/fused.ts folds it into a multi-file crop's affines): the crop is read
 * as S of shape [h, w]; then `hflip` reverses its columns, then `vflip` its rows, then numpy's
 * rot90(S, k) turns it counter-clockwise (axes (0, 1)), giving [w, h] for odd k.
 * Its code is hflip | vflip << 1 | k << 2 (0..15; 0: as read).
 */
export interface Orientation {
  hflip: boolean;
  vflip: boolean;
  rot90: 0 | 1 | 2 | 3;
}

export function orientCode(o: Orientation): number {
  return (o.hflip ? 1 : 0) | (o.vflip ? 2 : 0) | (o.rot90 << 2);
}

/** The turned crop's [rows, cols] for an S of [h, w]. */
export function orientedDims(code: number, h: number, w: number): [number, number] {
  return ((code >> 2) & 1) === 1 ? [w, h] : [h, w];
}

/**
 * The affine (a, b, tx, c, d, ty) from S's pixel-edge coordinates (x the column, y the row) to
 * the turned crop's: S's pixel (row y, column x) lands on the pixel under the image of its centre.
 */
export function orientAffine(code: number, h: number, w: number): M3 {
  const hf = (code & 1) !== 0;
  const vf = (code & 2) !== 0;
  // flips first: x -> w - x, y -> h - y
  const [fa, ftx, fd, fty] = [hf ? -1 : 1, hf ? w : 0, vf ? -1 : 1, vf ? h : 0];
  switch ((code >> 2) & 3) {
    case 0: return [fa, 0, ftx, 0, fd, fty];
    case 1: return [0, fd, fty, -fa, 0, w - ftx];  // then (x, y) -> (y, w - x)
    case 2: return [-fa, 0, w - ftx, 0, -fd, h - fty];  // (x, y) -> (w - x, h - y)
    default: return [0, -fd, h - fty, fa, 0, ftx];  // (x, y) -> (h - y, x)
  }
}
