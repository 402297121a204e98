/**
 * CocoSampler.loadSample / loadSampleAsync: one target's pixels and labels. The window is read at
 * full resolution through Frames.loadRegion(Async) (boundless, so a window past the border is
 * padded with `fill`), then sampled to S's size (nearest: output pixel j of m reads source pixel
 * floor((j + 0.5) * n / m), the batch kernel's rule; or linear) and oriented by index mapping, in
 * one pass. Runs on the calling thread (loadSampleAsync reads on the libuv pool).
 */
import { allocate } from '../ndarray';
import type { NDArray } from '../ndarray';
import type { Region } from '../region';
import * as v from '../validate';
import type { CocoFrames } from '../frames/coco-frames';
import { checkThresh } from './checks';
import { sampleLabels, visibleAnnotations } from './geometry';
import type { SampleAnnotations } from './geometry';
import { orientIndex } from './orient';
import type { LabelStore } from './store';
import { resolveTarget } from './targets';
import type { Resolved, Target } from './targets';

export interface SampleOptions {
  /** Annotations whose box is visible above this fraction (default 0: any overlap). */
  visibleThresh?: number;
  /** The raw pixel value past the image border (default 0). */
  fill?: number;
  /** How a scaled window is sampled (default 'nearest'). */
  interpolation?: 'nearest' | 'linear';
}

export interface Sample {
  im: NDArray;
  /** The target, resolved (imageId, region, windowDims, ... filled in). */
  target: Target;
  /** One entry (one frame). */
  annotations: SampleAnnotations[];
  /** 3x3 row-major: sample pixel coordinates -> image pixel coordinates. */
  transform: number[];
}

const SAMPLE_KEYS = ['visibleThresh', 'fill', 'interpolation'] as const;

interface Checked {
  thresh: number;
  fill: number;
  linear: boolean;
}

function checkOptions(opts: unknown): Checked {
  const o = v.options(opts, 'options', SAMPLE_KEYS);
  const fill = o.fill === undefined ? 0 : v.number(o.fill, 'options.fill');
  const interp = o.interpolation === undefined ? 'nearest' : v.oneOf(o.interpolation, 'options.interpolation', ['nearest', 'linear'] as const);
  return { thresh: checkThresh(o.visibleThresh, 'options.visibleThresh'), fill, linear: interp === 'linear' };
}

function readRequest(r: Resolved, c: Checked): { region: Region; opts: { boundless: true; fill: number; channels?: string | string[] } } {
  const region: Region = [[r.y0, r.y0 + r.nh], [r.x0, r.x0 + r.nw]];
  if (r.chans !== undefined) region.push(r.chans);
  const opts: { boundless: true; fill: number; channels?: string | string[] } = { boundless: true, fill: c.fill };
  if (r.channels !== undefined) opts.channels = r.channels;
  return { region, opts };
}

/** Source index of output index j when n source pixels become m (GDAL's nearest rule, as the kernel). */
function nearest(j: number, n: number, m: number): number {
  return n === m ? j : Math.min(Math.floor(((j + 0.5) * n) / m + 1e-10), n - 1);
}

/** The window as read (nh x nw) sampled to S and oriented: a new contiguous HWC array. */
export function finishPixels(src: NDArray, r: Resolved, linear: boolean): NDArray {
  const [n, m, C] = src.shape;
  if (r.orient === 0 && r.sh === n && r.sw === m) return src;
  const out = allocate([r.oh, r.ow, C], src.dtype);
  const d = out.data;
  const s = src.data;
  const [s0, s1, s2] = src.strides;
  const { i0, iy, ix, j0, jy, jx } = orientIndex(r.orient, r.sh, r.sw);
  const integer = !(src.dtype === 'float32' || src.dtype === 'float64');
  for (let y = 0; y < r.sh; y++) {
    const fy = ((y + 0.5) * n) / r.sh - 0.5;
    const ya = linear ? Math.min(Math.max(Math.floor(fy), 0), n - 1) : nearest(y, n, r.sh);
    const yb = Math.min(ya + 1, n - 1);
    const wy = linear ? Math.min(Math.max(fy - ya, 0), 1) : 0;
    for (let x = 0; x < r.sw; x++) {
      const at = ((i0 + iy * y + ix * x) * r.ow + (j0 + jy * y + jx * x)) * C;
      if (!linear) {
        const from = src.offset + ya * s0 + nearest(x, m, r.sw) * s1;
        for (let k = 0; k < C; k++) d[at + k] = s[from + k * s2];
        continue;
      }
      const fx = ((x + 0.5) * m) / r.sw - 0.5;
      const xa = Math.min(Math.max(Math.floor(fx), 0), m - 1);
      const xb = Math.min(xa + 1, m - 1);
      const wx = Math.min(Math.max(fx - xa, 0), 1);
      for (let k = 0; k < C; k++) {
        const p = (yy: number, xx: number) => s[src.offset + yy * s0 + xx * s1 + k * s2] as number;
        const val = (p(ya, xa) * (1 - wx) + p(ya, xb) * wx) * (1 - wy) + (p(yb, xa) * (1 - wx) + p(yb, xb) * wx) * wy;
        d[at + k] = integer ? Math.round(val) : val;
      }
    }
  }
  return out;
}

function assemble(store: LabelStore, r: Resolved, im: NDArray, c: Checked): Sample {
  const { anns, vis } = visibleAnnotations(store, r, c.thresh);
  return { im, target: r.target, annotations: [sampleLabels(r, anns, vis)], transform: r.toImage.slice() };
}

export function loadSample(store: LabelStore, frames: CocoFrames, target: unknown, opts: unknown): Sample {
  const c = checkOptions(opts);
  const r = resolveTarget(store, target, 'target');
  const { region, opts: ro } = readRequest(r, c);
  return assemble(store, r, finishPixels(frames.loadRegion(r.imageId, region, ro), r, c.linear), c);
}

export async function loadSampleAsync(store: LabelStore, frames: CocoFrames, target: unknown, opts: unknown): Promise<Sample> {
  const c = checkOptions(opts);
  const r = resolveTarget(store, target, 'target');
  const { region, opts: ro } = readRequest(r, c);
  const src = await frames.loadRegionAsync(r.imageId, region, ro);
  return assemble(store, r, finishPixels(src, r, c.linear), c);
}
