/**
 * kwcoco's asset warps (`warp_aux_to_img`, alias `warp_img_from_asset`) as 3x3 matrices: asset
 * pixel coordinates -> image pixel coordinates (x = column, y = row).
 *
 * - `{type: 'affine', matrix}` with a 3x3 or 2x3 matrix (a bare matrix is accepted too);
 * - parameters `{scale, offset, theta, shearx, about}` (kwimage's Affine.affine), composed as
 *   M = O·T·R·E·S·O⁻¹: S scales by (sx, sy) (a number is both), E is the x-shear [[1, shearx], [0, 1]],
 *   R rotates by theta radians (counter-clockwise), T translates by offset, O translates by `about`.
 *   `shear` is read as `shearx`, as kwimage does for old data.
 *
 * Pure functions on the calling thread.
 */
import type { Affine } from '../cache/config';
import { FramesError } from '../errors';
import { compose, to3x3 } from './affine';
import type { M3 } from './affine';

const PARAM_KEYS = new Set(['type', 'scale', 'offset', 'theta', 'shearx', 'shear', 'about']);

const warpError = (where: string, why: string, given: unknown) =>
  new FramesError('ERR_PATHINFO', `${where}: ${why}; received warp ${JSON.stringify(given)}`);

/** A number, or a pair [x, y] (a number is both). */
function pair(x: unknown, dflt: number, name: string, where: string, given: unknown): [number, number] {
  if (x === undefined || x === null) return [dflt, dflt];
  if (typeof x === 'number' && Number.isFinite(x)) return [x, x];
  if (Array.isArray(x) && x.length === 2 && x.every((n) => typeof n === 'number' && Number.isFinite(n))) return [x[0], x[1]];
  throw warpError(where, `'${name}' must be a finite number or a pair [x, y]`, given);
}

function scalar(x: unknown, name: string, where: string, given: unknown): number {
  if (x === undefined || x === null) return 0;
  if (typeof x === 'number' && Number.isFinite(x)) return x;
  throw warpError(where, `'${name}' must be a finite number`, given);
}

/** kwimage's parameter composition M = O·T·R·E·S·O⁻¹ (as two rows). */
export function affineFromParams(p: { scale?: unknown; offset?: unknown; theta?: unknown; shearx?: unknown; shear?: unknown; about?: unknown },
  where = 'warp'): M3 {
  const [sx, sy] = pair(p.scale, 1, 'scale', where, p);
  const [tx, ty] = pair(p.offset, 0, 'offset', where, p);
  const [ox, oy] = pair(p.about, 0, 'about', where, p);
  const theta = scalar(p.theta, 'theta', where, p);
  const shx = scalar(p.shearx ?? p.shear, 'shearx', where, p);
  const c = Math.cos(theta);
  const s = Math.sin(theta);
  const S: M3 = [sx, 0, 0, 0, sy, 0];
  const E: M3 = [1, shx, 0, 0, 1, 0];
  const R: M3 = [c, -s, 0, s, c, 0];
  const T: M3 = [1, 0, tx, 0, 1, ty];
  const O: M3 = [1, 0, ox, 0, 1, oy];
  const Oinv: M3 = [1, 0, -ox, 0, 1, -oy];
  return compose(O, compose(T, compose(R, compose(E, compose(S, Oinv)))));
}

/** A dataset's warp as a 3x3 matrix (checked for shape here; invertibility by AlignableImageData). */
export function cocoWarp(given: unknown, where: string): Affine {
  const w = given as Record<string, unknown>;
  if (Array.isArray(given)) return checkMatrix(given, where, given);
  if (typeof given !== 'object' || given === null) throw warpError(where, 'a warp must be {type: "affine", matrix} or kwimage parameters', given);
  if (w.type !== undefined && w.type !== 'affine') throw warpError(where, `only affine warps are supported (type '${String(w.type)}')`, given);
  if ('matrix' in w) {
    if (w.matrix === null) return to3x3([1, 0, 0, 0, 1, 0]);
    return checkMatrix(w.matrix, where, given);
  }
  const unknown = Object.keys(w).filter((k) => !PARAM_KEYS.has(k));
  if (unknown.length > 0) throw warpError(where, `unknown warp key${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')}`, given);
  return to3x3(affineFromParams(w, where));
}

function checkMatrix(m: unknown, where: string, given: unknown): Affine {
  if (!Array.isArray(m) || (m.length !== 2 && m.length !== 3)
      || !m.every((r) => Array.isArray(r) && r.length === 3 && r.every((x) => typeof x === 'number' && Number.isFinite(x)))) {
    throw warpError(where, 'a warp matrix must be 3x3 or 2x3 finite numbers', given);
  }
  const rows = m as number[][];
  return rows.length === 3 ? rows.map((r) => [...r]) : [[...rows[0]], [...rows[1]], [0, 0, 1]];
}

/**
 * The warp of an asset that gives none: the scale that stretches the asset over the image
 * (image size / asset size per axis), or null (identity) when a size is unknown or they agree.
 */
export function inferredWarp(imgW: number | undefined, imgH: number | undefined, w: number | undefined, h: number | undefined): Affine | null {
  if (imgW === undefined || imgH === undefined || w === undefined || h === undefined) return null;
  if (imgW === w && imgH === h) return null;
  return [[imgW / w, 0, 0], [0, imgH / h, 0], [0, 0, 1]];
}
