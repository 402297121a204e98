/**
 * The plan of a read of an image whose channels live in several files (AlignableImageData): for
 * each file, the window to read (clipped), the size to read it at (smaller than the window when the
 * output needs fewer pixels: raster files are then read from their COG overviews), the affine from
 * output pixels to that crop, the bands it gives and the channels they fill, its dequantization
 * and antialiasing. lib/frames/batch-native.ts encodes the plan; native/batch/fused_sampler.h
 * samples it. No pixel is touched here.
 *
 * Sampling (the semantics this plan encodes): output pixel (i, j) of a region read at `scale`
 * samples each file at the file coordinates of the image point (x0 + (j + 0.5) * kx,
 * y0 + (i + 0.5) * ky), kx = region width / output width. 'nearest' takes the file pixel containing
 * it (a point within 1e-9 pixel of a pixel edge is on it), 'linear' interpolates between pixel
 * centres. What no file covers is `fill`.
 *
 * Pure functions on the calling thread.
 */
import type { ChannelInfo } from '../cache/config';
import type { DType, Shape3 } from '../ndarray';
import type { ImageReader } from '../readers';
import { resolveRegion } from '../region';
import type { ParsedRegion, Window } from '../region';
import { orientAffine, orientedDims, scaled } from '../geometry';
import { compose, invert } from './affine';
import type { M3 } from './affine';
import { rawValue } from './batch-native';
import type { BaseReader, FusedCrop, FusedPart, Quantization } from './batch-native';

export type Interpolation = 'nearest' | 'linear';
export type { Quantization } from './batch-native';

/** A channel group of the image: one file and its transform onto the image grid. */
export interface Group {
  key: string;
  chan: ChannelInfo;
  fwd: M3;       // file -> image
  inv: M3;       // image -> file
  identity: boolean;
}

/** Bands of one group, in the order they are fused. */
export interface Selection { group: Group; bands: number[] }

/** The options a fused read is planned with. */
export interface FusedOptions {
  scale: number;
  boundless: boolean;
  fill: number;
  interpolation: Interpolation;
  /** Blur before a linear read that reduces the file (kwcoco's default for linear warps). */
  antialias: boolean;
  /** false: each file's crop as it is read (AlignableImageData's prefused form). */
  fused: boolean;
  /** The output size [h, w] before `orient`, instead of the region at `scale` (CocoSampler's targets). */
  size?: [number, number];
  /** Flips and quarter turns of the output (lib/geometry.ts), folded into each part's affine by fusedCrop. */
  orient?: number;
  /**
   * The region is in a space the image maps into by this affine (image -> that space: a video's,
   * kwcoco's warp_img_to_vid); the output samples the image through its inverse.
   */
  warp?: M3;
}

/** One file's window, clipped, and the read size and transform of its crop. */
export interface FileRead {
  sel: Selection;
  reader: ImageReader;
  y0: number; y1: number; x0: number; x1: number;
  b0: number; b1: number;
  /** The read scale (1: native resolution; < 1: a raster read from overviews) and the crop size. */
  readScale: number;
  readH: number; readW: number;
  empty: boolean;
  /** Crop pixel coordinates -> file pixel coordinates. */
  cropToFile: M3;
  /** Output pixel coordinates -> crop coordinates. */
  outToCrop: M3;
  aa: [number, number, number, number] | null;
}

export interface FusedPlan {
  win: Window;
  shape: Shape3;
  dtype: DType;
  /** Output pixel coordinates -> image coordinates. */
  outToImg: M3;
  reads: FileRead[];
  /** The raw fill as a value of `dtype`. */
  fill: number;
}

/** A channel's quantization when it asks for it to be undone (CocoFrames with dequantize), else null. */
export function quantizationOf(chan: ChannelInfo): Quantization | null {
  const q = chan.quantization as Quantization | undefined | null;
  return q !== undefined && q !== null && typeof q === 'object' ? q : null;
}

/** The dtype all groups fuse into: theirs when they agree, else float32 (float64 for 32-bit ints or float64). */
export function fusedDtype(dtypes: DType[]): DType {
  if (dtypes.every((d) => d === dtypes[0])) return dtypes[0] ?? 'uint8';
  return dtypes.some((d) => d === 'float64' || d === 'int32' || d === 'uint32') ? 'float64' : 'float32';
}

/**
 * A sample this close to a pixel edge counts as on it (native/batch/fused_sampler.cc kTie): the
 * windows planned here hold the pixel the sampler takes for a tie, whatever the rounding.
 */
const TIE = 1e-9;

/** kwimage's antialiasing kernel (im_cv2._gauss_params): sigma0 fitted to pyrDown's [1 4 6 4 1] / 16. */
const AA_SIGMA0 = 1.0699027846904146;

/**
 * The prefilter of a linear read through `outToCrop`, as kwimage.warp_affine picks it: the scale of
 * the crop -> output transform decomposed as kwimage decomposes it (sx = |column 0|, sy = |det| / sx);
 * an axis reduced by s < 1 gets sigma = sigma0 / (2 s) over ceil(2.5 / s) taps (made odd). kwimage
 * first halves the image with pyramid steps when the reduction passes 8x; here the whole
 * reduction is one Gaussian. Null when neither axis is reduced.
 */
export function antialiasOf(outToCrop: M3): [number, number, number, number] | null {
  const f = invert(outToCrop);
  const sx = Math.hypot(f[0], f[3]);
  const sy = Math.abs(f[0] * f[4] - f[1] * f[3]) / sx;
  if (!(sx < 1) && !(sy < 1)) return null;
  const axis = (s: number): [number, number] => {
    if (!(s < 1) || !(s > 0)) return [0, 0];
    let k = Math.ceil(2.5 / s);
    if (k % 2 === 0) k++;
    return [AA_SIGMA0 / (2 * s), (k - 1) / 2];
  };
  const [sigX, rX] = axis(sx);
  const [sigY, rY] = axis(sy);
  return rX === 0 && rY === 0 ? null : [sigX, sigY, rX, rY];
}

/**
 * The window of a file to read for the output grid: the file pixels the samples touch (and the
 * antialiasing margin), clipped; and the read scale, below 1 when the output needs fewer pixels
 * than the file has there (a `scale` < 1, or a warp that shrinks the file onto the grid), so
 * raster files are read from their overviews. Prefused reads stay at native resolution unless
 * `scale` is given.
 */
export function fileRead(sel: Selection, reader: ImageReader, outToImg: M3, h: number, w: number, o: FusedOptions): FileRead {
  const g = sel.group;
  const b0 = Math.min(...sel.bands);
  const b1 = Math.max(...sel.bands) + 1;
  const [fh, fw] = reader.shape;
  const outToFile = compose(g.inv, outToImg);
  // File pixels per output pixel (the geometric mean of the two axes).
  const perOut = Math.sqrt(Math.abs(outToFile[0] * outToFile[4] - outToFile[1] * outToFile[3]));
  const readScale = (o.fused || o.scale < 1) && perOut > 1 ? 1 / perOut : 1;
  const reduced = reader.kind === 'raster' && readScale < 1;
  const linear = o.fused && o.interpolation === 'linear';
  // The antialiasing margin in file pixels, from an estimate of the crop's reduction.
  let margin = 0;
  if (linear && o.antialias) {
    const k = reduced ? readScale : 1;
    const est = antialiasOf(compose([k, 0, 0, 0, k, 0], outToFile));
    if (est !== null) margin = Math.ceil((Math.max(est[2], est[3]) + 1) / k);
  }
  let ry0: number; let ry1: number; let rx0: number; let rx1: number;
  if (h === 0 || w === 0) {
    [ry0, ry1, rx0, rx1] = [0, 0, 0, 0];
  } else if (g.identity && outToImg[0] === 1 && outToImg[4] === 1 && outToImg[1] === 0 && outToImg[3] === 0
    && Number.isInteger(outToImg[2]) && Number.isInteger(outToImg[5])) {
    [ry0, ry1, rx0, rx1] = [outToImg[5], outToImg[5] + h, outToImg[2], outToImg[2] + w];
  } else {
    const us: number[] = [];
    const vs: number[] = [];
    for (const y of [0.5, h - 0.5]) {
      for (const x of [0.5, w - 0.5]) {
        us.push(outToFile[0] * x + outToFile[1] * y + outToFile[2]);
        vs.push(outToFile[3] * x + outToFile[4] * y + outToFile[5]);
      }
    }
    const lin = linear ? 0.5 : 0;
    const floor = (u: number): number => Math.floor(u - lin + TIE);
    rx0 = floor(Math.min(...us)) - margin;
    rx1 = floor(Math.max(...us)) + 1 + (lin ? 1 : 0) + margin;
    ry0 = floor(Math.min(...vs)) - margin;
    ry1 = floor(Math.max(...vs)) + 1 + (lin ? 1 : 0) + margin;
  }
  const y0 = Math.min(Math.max(ry0, 0), fh);
  const y1 = Math.min(Math.max(ry1, y0), fh);
  const x0 = Math.min(Math.max(rx0, 0), fw);
  const x1 = Math.min(Math.max(rx1, x0), fw);
  const empty = y1 === y0 || x1 === x0;
  const readH = reduced ? scaled(y1 - y0, readScale) : y1 - y0;
  const readW = reduced ? scaled(x1 - x0, readScale) : x1 - x0;
  const ky = readH > 0 ? (y1 - y0) / readH : 1;
  const kx = readW > 0 ? (x1 - x0) / readW : 1;
  const cropToFile: M3 = [kx, 0, x0, 0, ky, y0];
  const outToCrop = compose(invert(cropToFile), compose(g.inv, outToImg));
  const aa = linear && o.antialias && !empty ? antialiasOf(outToCrop) : null;
  return { sel, reader, y0, y1, x0, x1, b0, b1, readScale: reduced ? readScale : 1, readH, readW, empty, cropToFile, outToCrop, aa };
}

/**
 * Plans a region of the image: `sels` are the fused bands in order (all of them, before the
 * channel slice), `grid` the image grid [H, W]; `readerOf` gives each group's open reader.
 */
export function planFused(sels: Selection[], grid: [number, number], parsed: ParsedRegion | null, o: FusedOptions,
  readerOf: (g: Group) => ImageReader): FusedPlan {
  const total = sels.reduce((n, s) => n + s.bands.length, 0);
  const win = resolveRegion(parsed, [grid[0], grid[1], total], o.boundless);
  // Keep only the bands inside the channel slice [c0, c1) of the fused result.
  const kept: Selection[] = [];
  let c = 0;
  for (const s of sels) {
    const bands = s.bands.filter((_, i) => c + i >= win.c0 && c + i < win.c1);
    c += s.bands.length;
    if (bands.length > 0) kept.push({ group: s.group, bands });
  }
  const rh = win.y1 - win.y0;
  const rw = win.x1 - win.x0;
  const [h, w] = o.size ?? [scaled(rh, o.scale), scaled(rw, o.scale)];
  const outToRegion: M3 = [w > 0 ? rw / w : 1, 0, win.x0, 0, h > 0 ? rh / h : 1, win.y0];
  const outToImg = o.warp === undefined ? outToRegion : compose(invert(o.warp), outToRegion);
  const reads = kept.map((sel) => fileRead(sel, readerOf(sel.group), outToImg, h, w, o));
  const dtype = fusedDtype(reads.map((r) => (quantizationOf(r.sel.group.chan) !== null ? 'float32' : r.reader.dtype)));
  return { win, shape: [h, w, win.c1 - win.c0], dtype, outToImg, reads, fill: rawValue(dtype, o.fill) };
}

/**
 * The plan as a crop for the native sampler; `base` gives the (pinned) base reader of a reader.
 * An orientation is folded into each part's affine (output pixel -> the plan's unturned output
 * grid -> crop), so the sampler writes the turned crop directly; shape is the turned one.
 */
export function fusedCrop(plan: FusedPlan, o: FusedOptions, base: (r: ImageReader) => BaseReader): FusedCrop {
  const orient = o.orient ?? 0;
  const [h, w, c] = plan.shape;
  const unturn = orient === 0 ? null : invert(orientAffine(orient, h, w));
  const [oh, ow] = orientedDims(orient, h, w);
  const parts: FusedPart[] = [];
  let ch0 = 0;
  for (const r of plan.reads) {
    const n = r.sel.bands.length;
    if (!r.empty) {
      parts.push({
        reader: base(r.reader), y0: r.y0, y1: r.y1, x0: r.x0, x1: r.x1, b0: r.b0, b1: r.b1, readH: r.readH, readW: r.readW,
        m: unturn === null ? r.outToCrop : compose(r.outToCrop, unturn), interp: o.interpolation, ch0, bands: r.sel.bands.map((b) => b - r.b0),
        quant: quantizationOf(r.sel.group.chan), aa: r.aa,
      });
    }
    ch0 += n;
  }
  return { kind: 'fused', dtype: plan.dtype, shape: [oh, ow, c], fill: plan.fill, parts };
}
