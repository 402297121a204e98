/**
 * Targets [ndsampler's `tr`]: what a sample is, resolved into an image window, the size it is
 * read at, the orientation and the transform from sample to image coordinates.
 *
 * - `{imageId, cx, cy, width, height}`: a window centred on (cx, cy) of `windowDims` ([h, w];
 *   'extent': [ceil(height), ceil(width)], the default; 'square': the larger of the two, both ways)
 *   plus `pad` on each side. Its rows are [floor(cy - h / 2), that + h) (ndsampler's rule), its
 *   columns alike. The output is [h, w] (+ 2 pad) whatever the augmentation: with `scale` s the
 *   image window is round(h / s) x round(w / s) around the same centre, and with an odd `rot90`
 *   the transposed window is read, so that the rotated output is [h, w] again.
 * - `{annotationId}`: the image, centre and size of the annotation's box (any of them may be given).
 * - `{imageId, region}`: the region in absolute image coordinates (past the border is padded),
 *   plus `pad`; read at `scale` (output round(n * scale)) and oriented.
 * - `{imageId}`: the whole image.
 *
 * The resolved target (Sample.target, LabeledBatch.targets) fills in what was inferred: imageId,
 * cx, cy, width, height and windowDims of a centred target, the absolute region of a region
 * target (the whole image's too), pad and augment. Given back, it gives the same sample.
 *
 * Runs on the calling thread.
 */
import type { ImageId } from '../cache/config';
import { FramesError, RegionError } from '../errors';
import { parseRegion, resolveRegion } from '../region';
import type { ParsedRegion, Region } from '../region';
import * as v from '../validate';
import type { AnnotationId } from './annotations';
import { compose, invert } from '../frames/affine';
import type { CropRequest } from '../frames/batch';
import type { BatchRequest, CropOptions } from '../frames/batch-plan';
import type { M3 } from '../frames/affine';
import { orientAffine, orientCode, orientedDims } from '../geometry';
import type { LabelStore } from './store';

export type WindowDims = [h: number, w: number] | 'extent' | 'square';

export interface Augment {
  hflip?: boolean;
  vflip?: boolean;
  /** Counter-clockwise quarter turns (numpy's rot90). */
  rot90?: 0 | 1 | 2 | 3;
  /** Sample pixels per image pixel (> 1 zooms in). */
  scale?: number;
}

/** ndsampler's target `tr` (camelCase). */
export interface Target {
  imageId?: ImageId;
  annotationId?: AnnotationId;
  cx?: number;
  cy?: number;
  width?: number;
  height?: number;
  region?: Region;
  windowDims?: WindowDims;
  pad?: number | [number, number];
  channels?: string | string[];
  augment?: Augment;
  videoId?: number | string;
  timeSlice?: [number, number];
  imageIds?: ImageId[];
}

/** A target resolved into what to read and how its labels map. */
export interface Resolved {
  /** The resolved target handed back to the caller (centre and windowDims, or region, filled in). */
  target: Target;
  imageId: ImageId;
  /** The image window (absolute; may reach past the image): rows y0..y0+nh, columns x0..x0+nw. */
  y0: number;
  x0: number;
  nh: number;
  nw: number;
  /** The region's channel slice, if it gave one. */
  chans: Region[number] | undefined;
  /** S: the window as read, before orientation. */
  sh: number;
  sw: number;
  /** The orientation code (lib/geometry.ts). */
  orient: number;
  /** The output [rows, cols]. */
  oh: number;
  ow: number;
  channels: string | string[] | undefined;
  /** Sample (output) -> image, as its first two rows (a, b, tx, c, d, ty); and its inverse. */
  toImage: M3;
  fromImage: M3;
}

export const TARGET_KEYS = ['imageId', 'annotationId', 'cx', 'cy', 'width', 'height', 'region', 'windowDims', 'pad',
  'channels', 'augment', 'videoId', 'timeSlice', 'imageIds'] as const;
const AUGMENT_KEYS = ['hflip', 'vflip', 'rot90', 'scale'] as const;
const MAX_DIM = 1 << 20;

function num(x: unknown, name: string): number {
  const n = v.number(x, name);
  if (!Number.isFinite(n)) throw v.rangeError('a finite number', name, x);
  return n;
}

function checkPad(x: unknown, name: string): [number, number] {
  if (x === undefined || x === null) return [0, 0];
  if (typeof x === 'number') {
    const p = v.integer(x, name, 0, MAX_DIM);
    return [p, p];
  }
  if (!Array.isArray(x) || x.length !== 2) throw v.typeError('a number or [padRows, padCols]', name, x);
  return [v.integer(x[0], `${name}[0]`, 0, MAX_DIM), v.integer(x[1], `${name}[1]`, 0, MAX_DIM)];
}

/** Checks `augment`; `scale` defaults to `dflt`. */
export function checkAugment(x: unknown, name: string, dflt = 1): { hflip: boolean; vflip: boolean; rot90: 0 | 1 | 2 | 3; scale: number } {
  const a = x === undefined || x === null ? {} : v.options(x, name, AUGMENT_KEYS);
  if (x !== undefined && x !== null && !v.isPlainObject(x)) throw v.typeError('an object {hflip, vflip, rot90, scale}', name, x);
  const hflip = a.hflip === undefined ? false : v.boolean(a.hflip, `${name}.hflip`);
  const vflip = a.vflip === undefined ? false : v.boolean(a.vflip, `${name}.vflip`);
  const rot90 = a.rot90 === undefined ? 0 : v.integer(a.rot90, `${name}.rot90`, 0, 3) as 0 | 1 | 2 | 3;
  const scale = a.scale === undefined ? dflt : num(a.scale, `${name}.scale`);
  if (!(scale >= 1 / 64 && scale <= 64)) throw v.rangeError('a number in [1/64, 64]', `${name}.scale`, a.scale);
  return { hflip, vflip, rot90, scale };
}

function checkWindowDims(x: unknown, name: string): WindowDims | undefined {
  if (x === undefined || x === null) return undefined;
  if (x === 'extent' || x === 'square') return x;
  if (!Array.isArray(x) || x.length !== 2) throw v.typeError("[h, w], 'extent' or 'square'", name, x);
  return [v.integer(x[0], `${name}[0]`, 1, MAX_DIM), v.integer(x[1], `${name}[1]`, 1, MAX_DIM)];
}

/**
 * Resolves one target. `defaultScale`: the augment scale of targets that give none. `store` sizes
 * the grid the window is on (a video's too: video-targets.ts resolves a video target's window here).
 */
export function resolveTarget(store: Pick<LabelStore, 'get' | 'imageSize'>, t: unknown, name: string, defaultScale = 1): Resolved {
  if (!v.isPlainObject(t)) throw v.typeError('a target object', name, t);
  const o = v.options(t, name, TARGET_KEYS);
  if (o.videoId !== undefined || o.timeSlice !== undefined || o.imageIds !== undefined) {
    throw v.typeError('an image target here (a video target goes to loadSample / loadBatch on its own)', name, t);
  }
  let imageId = o.imageId as ImageId | undefined;
  let { cx, cy, width, height } = o as { cx?: unknown; cy?: unknown; width?: unknown; height?: unknown };
  if (o.annotationId !== undefined) {
    const aid = o.annotationId;
    if (typeof aid !== 'number' && typeof aid !== 'string') throw v.typeError('an annotation id (a number or a string)', `${name}.annotationId`, aid);
    const ann = store.get(aid);
    if (ann === undefined) throw new FramesError('ERR_UNKNOWN_ANNOTATION', `${name}: unknown annotation id ${JSON.stringify(aid)}`, { annotationId: aid });
    if (imageId !== undefined && String(imageId) !== String(ann.imageId)) {
      throw new FramesError('ERR_UNKNOWN_ANNOTATION', `${name}: annotation ${JSON.stringify(aid)} is on image ${String(ann.imageId)}, not ${String(imageId)}`, { annotationId: aid });
    }
    imageId = ann.imageId;
    const [bx, by, bw, bh] = ann.box;
    cx ??= bx + bw / 2;
    cy ??= by + bh / 2;
    width ??= bw;
    height ??= bh;
  }
  if (imageId === undefined) throw v.typeError('a target with imageId or annotationId', name, t);
  const [H, W] = store.imageSize(imageId);  // also ERR_UNKNOWN_IMAGE
  const [ph, pw] = checkPad(o.pad, `${name}.pad`);
  const aug = checkAugment(o.augment, `${name}.augment`, defaultScale);
  const orient = orientCode(aug);
  const odd = aug.rot90 % 2 === 1;
  const dims = checkWindowDims(o.windowDims, `${name}.windowDims`);
  const resolved: Target = { imageId };
  if (o.annotationId !== undefined) resolved.annotationId = o.annotationId as AnnotationId;
  let y0: number, x0: number, nh: number, nw: number, sh: number, sw: number;
  let chans: Region[number] | undefined;
  const centred = o.region === undefined && (cx !== undefined || cy !== undefined || width !== undefined || height !== undefined || dims !== undefined);
  if (centred) {
    const ccx = num(cx, `${name}.cx`);
    const ccy = num(cy, `${name}.cy`);
    let dh: number, dw: number;
    if (Array.isArray(dims)) {
      [dh, dw] = dims;
    } else {
      const eh = Math.ceil(num(height, `${name}.height`));
      const ew = Math.ceil(num(width, `${name}.width`));
      if (!(eh >= 1 && ew >= 1 && eh <= MAX_DIM && ew <= MAX_DIM)) throw v.rangeError('a window of 1 to 2^20 pixels', `${name} width/height`, [width, height]);
      [dh, dw] = dims === 'square' ? [Math.max(eh, ew), Math.max(eh, ew)] : [eh, ew];
    }
    Object.assign(resolved, { cx: ccx, cy: ccy, width: num(width ?? dw, `${name}.width`), height: num(height ?? dh, `${name}.height`), windowDims: [dh, dw] });
    dh += 2 * ph;
    dw += 2 * pw;
    [sh, sw] = odd ? [dw, dh] : [dh, dw];
    nh = Math.max(1, Math.round(sh / aug.scale));
    nw = Math.max(1, Math.round(sw / aug.scale));
    y0 = Math.floor(ccy - nh / 2);
    x0 = Math.floor(ccx - nw / 2);
  } else {
    const parsed = parseRegion((o.region ?? null) as Region | null);
    const win = resolveRegion(parsed === null ? null : { ...parsed, cs: null, ce: null }, [H, W, 1], true);
    if (o.region !== undefined && (o.region as Region).length > 2) chans = (o.region as Region)[2];
    resolved.region = chans === undefined ? [[win.y0, win.y1], [win.x0, win.x1]] : [[win.y0, win.y1], [win.x0, win.x1], chans];
    y0 = win.y0 - ph;
    x0 = win.x0 - pw;
    nh = win.y1 - win.y0 + 2 * ph;
    nw = win.x1 - win.x0 + 2 * pw;
    if (nh <= 0 || nw <= 0) throw new RegionError('ERR_REGION', `${name}: the region is empty`);
    sh = Math.max(1, Math.round(nh * aug.scale));
    sw = Math.max(1, Math.round(nw * aug.scale));
  }
  if (sh > MAX_DIM || sw > MAX_DIM || nh > MAX_DIM || nw > MAX_DIM) throw v.rangeError('a window of at most 2^20 pixels a side', name, [nh, nw]);
  if (ph !== 0 || pw !== 0) resolved.pad = [ph, pw];
  if (o.channels !== undefined) resolved.channels = o.channels as string | string[];
  if (orient !== 0 || aug.scale !== 1) {
    resolved.augment = { hflip: aug.hflip, vflip: aug.vflip, rot90: aug.rot90, scale: aug.scale };
  }
  const [oh, ow] = orientedDims(orient, sh, sw);
  // sample -> S (inverse orientation) -> image (scale n / s, then the window's offset)
  const sToImage: M3 = [nw / sw, 0, x0, 0, nh / sh, y0];
  const toImage = orient === 0 ? sToImage : compose(sToImage, invert(orientAffine(orient, sh, sw)));
  return {
    target: resolved, imageId, y0, x0, nh, nw, chans, sh, sw, orient, oh, ow,
    channels: o.channels as string | string[] | undefined, toImage, fromImage: invert(toImage),
  };
}


/**
 * The read of a resolved target for the batch engine (lib/frames/batch.ts loadCrops, batch-plan.ts
 * readPlanned): its window, boundless, read at S's size and turned by its orientation as it is
 * written; the rest of `crop` (fill, interpolation, channels) is the caller's.
 */
export function cropRequest(r: Resolved, crop: CropOptions): CropRequest {
  // The region as parsed: absolute rows and columns (boundless), and the channel slice if any.
  let parsed: ParsedRegion = { ys: r.y0, ye: r.y0 + r.nh, xs: r.x0, xe: r.x0 + r.nw, cs: null, ce: null };
  if (r.chans !== undefined) parsed = parseRegion([[r.y0, r.y0 + r.nh], [r.x0, r.x0 + r.nw], r.chans]) as ParsedRegion;
  const request: BatchRequest = r.channels === undefined ? { imageId: r.imageId } : { imageId: r.imageId, channels: r.channels };
  return {
    request, parsed,
    crop: {
      boundless: true, fill: crop.fill, scale: 1, channels: crop.channels, interpolation: crop.interpolation,
      antialias: crop.antialias, size: [r.sh, r.sw], orient: r.orient,
    },
  };
}
