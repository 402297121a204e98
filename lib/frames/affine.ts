/**
 * Affine transforms of AlignableImageData and CocoFrames: a file's pixel grid -> the image grid
 * (x is the column, y the row; pixel (i, j) covers [j, j+1) x [i, i+1)), held as the first two
 * rows a, b, tx, c, d, ty. Parsing (a pathinfo's `warpAuxToImg`), inversion and composition.
 * Pure functions on the calling thread.
 */
import { FramesError } from '../errors';

/** An affine transform as its first two rows: a, b, tx, c, d, ty. */
export type M3 = [number, number, number, number, number, number];

export const IDENTITY: M3 = [1, 0, 0, 0, 1, 0];

export function pathinfoError(msg: string): FramesError {
  return new FramesError('ERR_PATHINFO', msg);
}

/** A 2x3 or 3x3 (last row [0, 0, 1]) invertible affine of finite numbers; null/undefined is the identity. */
export function parseAffine(m: unknown, where: string): M3 {
  if (m === null || m === undefined) return IDENTITY;
  const bad = () => pathinfoError(`${where}: warpAuxToImg must be a 2x3 or 3x3 array of finite numbers (an invertible affine); received ${JSON.stringify(m)}`);
  if (!Array.isArray(m) || (m.length !== 2 && m.length !== 3)) throw bad();
  for (const row of m) {
    if (!Array.isArray(row) || row.length !== 3 || !row.every((x) => typeof x === 'number' && Number.isFinite(x))) throw bad();
  }
  if (m.length === 3 && (m[2][0] !== 0 || m[2][1] !== 0 || m[2][2] !== 1)) {
    throw pathinfoError(`${where}: warpAuxToImg's last row must be [0, 0, 1] (only affine transforms are supported)`);
  }
  const r: M3 = [m[0][0], m[0][1], m[0][2], m[1][0], m[1][1], m[1][2]];
  if (r[0] * r[4] - r[1] * r[3] === 0) throw bad();
  return r;
}

export function invert(m: M3): M3 {
  const [a, b, tx, c, d, ty] = m;
  const det = a * d - b * c;
  const ia = d / det;
  const ib = -b / det;
  const ic = -c / det;
  const id = a / det;
  return [ia, ib, -(ia * tx + ib * ty), ic, id, -(ic * tx + id * ty)];
}

/** p after q. */
export function compose(p: M3, q: M3): M3 {
  return [
    p[0] * q[0] + p[1] * q[3], p[0] * q[1] + p[1] * q[4], p[0] * q[2] + p[1] * q[5] + p[2],
    p[3] * q[0] + p[4] * q[3], p[3] * q[1] + p[4] * q[4], p[3] * q[2] + p[4] * q[5] + p[5],
  ];
}

export const to3x3 = (m: M3): number[][] => [[m[0], m[1], m[2]], [m[3], m[4], m[5]], [0, 0, 1]];
