/**
 * The orientation of a sample (the lead's convention, which native/batch/orient.h implements for
 * the pixels): the window is read at its scale, giving S of shape [h, w]; then `hflip` reverses
 * its columns, then `vflip` its rows, then numpy's rot90(·, k) turns it counter-clockwise (axes
 * (0, 1)): the output has shape [w, h] for odd k. The code handed to the kernel is
 * hflip | vflip << 1 | k << 2.
 *
 * Coordinates: pixel-edge, x to the right, y down; S's pixel (row y, column x) covers
 * [x, x + 1] x [y, y + 1]. Pure functions.
 */

export interface Orientation {
  hflip: boolean;
  vflip: boolean;
  rot90: 0 | 1 | 2 | 3;
}

export type M3 = [number, number, number, number, number, number, number, number, number];

export const IDENTITY: M3 = [1, 0, 0, 0, 1, 0, 0, 0, 1];

export function orientCode(o: Orientation): number {
  return (o.hflip ? 1 : 0) | (o.vflip ? 2 : 0) | (o.rot90 << 2);
}

/** The output shape [rows, cols] of an S of shape [h, w]. */
export function orientedDims(code: number, h: number, w: number): [number, number] {
  return (code >> 2) % 2 === 1 ? [w, h] : [h, w];
}

export function mul(a: M3, b: M3): M3 {
  const r = new Array(9).fill(0) as M3;
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) r[3 * i + j] = a[3 * i] * b[j] + a[3 * i + 1] * b[3 + j] + a[3 * i + 2] * b[6 + j];
  return r;
}

/** The inverse of an affine 3x3 (last row 0 0 1). */
export function invert(m: M3): M3 {
  const [a, b, c, d, e, f] = m;
  const det = a * e - b * d;
  return [e / det, -b / det, (b * f - c * e) / det, -d / det, a / det, (c * d - a * f) / det, 0, 0, 1];
}

/** Applies an affine 3x3 to the point (x, y). */
export function apply(m: M3, x: number, y: number): [number, number] {
  return [m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5]];
}

/** The continuous map from S coordinates (shape [h, w]) to output coordinates. */
export function orientMatrix(code: number, h: number, w: number): M3 {
  const hf = (code & 1) !== 0;
  const vf = (code & 2) !== 0;
  const F: M3 = [hf ? -1 : 1, 0, hf ? w : 0, 0, vf ? -1 : 1, vf ? h : 0, 0, 0, 1];
  const k = (code >> 2) & 3;
  const R: M3 = k === 0 ? IDENTITY
    : k === 1 ? [0, 1, 0, -1, 0, w, 0, 0, 1]
      : k === 2 ? [-1, 0, w, 0, -1, h, 0, 0, 1]
        : [0, -1, h, 1, 0, 0, 0, 0, 1];
  return mul(R, F);
}

/**
 * The index map of S's pixel (row y, column x) to the output's (row i, column j):
 * i = i0 + iy * y + ix * x and j = j0 + jy * y + jx * x (the kernel's, as orient.h has it).
 */
export function orientIndex(code: number, h: number, w: number): { i0: number; iy: number; ix: number; j0: number; jy: number; jx: number } {
  // A pixel's centre (x + 0.5, y + 0.5) maps to the centre of its output pixel.
  const m = orientMatrix(code, h, w);
  const [cx, cy] = apply(m, 0.5, 0.5);
  return { i0: cy - 0.5, iy: m[4], ix: m[3], j0: cx - 0.5, jy: m[1], jx: m[0] };
}
