/**
 * The masks of a labeled batch: each crop's annotations painted, in list order (later over
 * earlier), into an N x H x W array by the addon's pool (native/labels/, GDAL's rasterize rule:
 * a pixel is inside when its centre is). 'instance': value = index + 1 in the crop's list;
 * 'class': the category id. Polygons are mapped into sample coordinates here (float64), RLEs are
 * sampled through the sample -> image transform, an annotation with neither is painted as its
 * box. The one TypeScript face of native rasterizeMasks. Runs on the calling thread; the painting
 * on the addon's pool.
 */
import type { DType } from '../ndarray';
import { NdsamplerError } from '../errors';
import { native } from '../native';
import type { NativeMaskOptions } from '../native';
import { annotationError } from './annotations';
import type { Annotation } from './annotations';
import type { LabelStore } from './store';
import type { Resolved } from './targets';

export type MaskMode = 'class' | 'instance';

export interface Masks {
  data: Uint8Array | Uint16Array | Int32Array;
  /** [N, H, W] */
  dims: number[];
  dtype: DType;
}

/** Polygon vertices plus RLE runs one batch's masks may hold (native/labels/rasterize.h kMaxMaskVertices). */
export const MAX_MASK_VERTICES = 1 << 24;

function dtypeFor(lo: number, hi: number): NativeMaskOptions['dtype'] {
  if (lo >= 0 && hi <= 255) return 'uint8';
  if (lo >= 0 && hi <= 65535) return 'uint16';
  return 'int32';
}

/** The masks' dtype: class ids of every category of the dataset, or the longest crop list. */
export function maskDtype(store: LabelStore, mode: MaskMode, crops: Annotation[][]): NativeMaskOptions['dtype'] {
  if (mode === 'instance') return dtypeFor(0, Math.max(0, ...crops.map((c) => c.length)));
  const ids = store.categories.map((c) => c.id);
  for (const id of ids) {
    if (!Number.isInteger(id) || id < -(2 ** 31) || id >= 2 ** 31) {
      throw new NdsamplerError('ERR_UNSUPPORTED', `class masks need integer category ids in the int32 range; category ${id} is not`);
    }
  }
  return dtypeFor(Math.min(0, ...ids), Math.max(0, ...ids));
}

/** A growable Float64Array (the geometry of a batch, without a JS array of boxed numbers). */
class F64 {
  a = new Float64Array(4096);
  n = 0;
  push(...xs: number[]): void {
    if (this.n + xs.length > this.a.length) this.grow(xs.length);
    for (const x of xs) this.a[this.n++] = x;
  }
  push1(x: number): void {
    if (this.n === this.a.length) this.grow(1);
    this.a[this.n++] = x;
  }
  grow(k: number): void {
    const b = new Float64Array(Math.max(2 * this.a.length, this.n + k));
    b.set(this.a.subarray(0, this.n));
    this.a = b;
  }
  done(): Float64Array {
    return this.a.slice(0, this.n);
  }
}

/** The native options of the masks of `crops` (each crop's target and annotations). */
export function maskOptions(store: LabelStore, crops: Array<{ r: Resolved; anns: Annotation[] }>, mode: MaskMode,
  h: number, w: number, dtype: NativeMaskOptions['dtype']): NativeMaskOptions {
  const shapes = new F64();
  const geom = new F64();
  let vertices = 0;
  crops.forEach(({ r, anns }, crop) => {
    const [a, b, c, d, e, f] = r.fromImage;
    const ring = (xs: ArrayLike<number>): void => {
      geom.push1(xs.length / 2);
      for (let k = 0; k < xs.length; k += 2) {
        geom.push1(a * xs[k] + b * xs[k + 1] + c);
        geom.push1(d * xs[k] + e * xs[k + 1] + f);
      }
      vertices += xs.length / 2;
      if (vertices > MAX_MASK_VERTICES) throw new NdsamplerError('ERR_TOO_LARGE', `the masks of this batch have more than ${MAX_MASK_VERTICES} polygon vertices`);
    };
    anns.forEach((ann, k) => {
      shapes.push(crop, mode === 'instance' ? k + 1 : ann.categoryId, ann.rle !== null && ann.parts === null ? 1 : 0, geom.n);
      if (ann.parts !== null) {
        geom.push1(ann.parts.length);
        for (const part of ann.parts) {
          geom.push1(part.length);
          for (const rg of part) ring(rg);
        }
      } else if (ann.rle !== null) {
        const [H, W] = store.imageSize(ann.imageId);
        if (H !== ann.rle.height || W !== ann.rle.width) {
          throw annotationError(ann.id, `its RLE size [${ann.rle.height}, ${ann.rle.width}] is not the image's [${H}, ${W}]`);
        }
        // Visit only the canvas pixels around the annotation's box.
        const [bx, by, bw, bh] = ann.box;
        const px = a * bx + b * by + c, py = d * bx + e * by + f;
        const qx = a * (bx + bw) + b * (by + bh) + c, qy = d * (bx + bw) + e * (by + bh) + f;
        const box = [Math.floor(Math.min(px, qx)) - 1, Math.floor(Math.min(py, qy)) - 1, Math.ceil(Math.max(px, qx)) + 1, Math.ceil(Math.max(py, qy)) + 1]
          .map((v) => Math.min(Math.max(v, -1), Math.max(h, w) + 1));
        vertices += ann.rle.counts.length;  // runs count against the same budget
        if (vertices > MAX_MASK_VERTICES) throw new NdsamplerError('ERR_TOO_LARGE', `the masks of this batch have more than ${MAX_MASK_VERTICES} polygon vertices and RLE runs`);
        geom.push(H, W, ...r.toImage.slice(0, 6), ...box, ann.rle.counts.length);
        for (let q = 0; q < ann.rle.counts.length; q++) geom.push1(ann.rle.counts[q]);
      } else {
        const [bx, by, bw, bh] = ann.box;
        geom.push(1, 1);
        ring([bx, by, bx + bw, by, bx + bw, by + bh, bx, by + bh]);
      }
    });
  });
  return { n: crops.length, h, w, dtype, shapes: shapes.done(), geom: geom.done() };
}

/**
 * Paints the masks on the addon's pool. `out`: the masks of an earlier batch, whose (addon) memory
 * is reused when it has this batch's dtype and size and no job is writing it.
 */
export async function rasterizeMasks(opts: NativeMaskOptions, out?: Masks): Promise<Masks> {
  const data = await native.rasterizeMasks(out === undefined ? opts : { ...opts, out: out.data });
  return { data, dims: [opts.n, opts.h, opts.w], dtype: opts.dtype };
}
