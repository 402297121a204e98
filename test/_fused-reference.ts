/**
 * The TypeScript reference of multi-file reads: how AlignableImageData fused images before the
 * native sampler (native/batch/fused_sampler.h), kept as it was, so the tests compare every
 * native multi-file read with it: the plan (which window of each file, at which read scale), the
 * reads (through the readers: COG overviews when reduced), dequantization and the sampler
 * ('nearest' or 'linear', without antialiasing). Pure TypeScript on the calling thread.
 *
 * One change since: a sample within TIE (1e-9 pixel) of a pixel edge counts as on it, as the
 * library's planner and sampler now have it (before, a sample on a crop's first column computed
 * as -1e-17 fell outside the crop and left a column of fill where the image has pixels).
 */
import { FramesError } from '../lib/errors';
import type { ChannelInfo } from '../lib/cache/config';
import { allocate, fill } from '../lib/ndarray';
import type { DType, NDArray, TypedArray } from '../lib/ndarray';
import type { ImageReader } from '../lib/readers';
import { boxWindow, normalizeRegion } from '../lib/region';
import type { Region, Window } from '../lib/region';

export type Interpolation = 'nearest' | 'linear';

const TIE = 1e-9;

/** An affine transform as its first two rows: a, b, tx, c, d, ty. */
export type M3 = [number, number, number, number, number, number];

export const IDENTITY: M3 = [1, 0, 0, 0, 1, 0];

export interface Group {
  key: string;
  chan: ChannelInfo;
  fwd: M3;       // file -> image
  inv: M3;       // image -> file
  identity: boolean;
  axisAligned: boolean;
}

export interface Selection { group: Group; bands: number[] }

/** One file read of a plan: the clipped window of the file and which of its bands are kept. */
export interface FileRead {
  sel: Selection;
  /** The reader scale in (0, 1] the window is read at (1: native resolution; < 1: from overviews). */
  readScale: number;
  window: Window;
  y0: number; y1: number; x0: number; x1: number;
  /** The first band read (crop band 0). */
  b0: number;
  empty: boolean;
  dtype: DType;
}

/** kwcoco's quantization of an asset: quantised = (orig - orig_min) / (orig_max - orig_min) * (quant_max - quant_min) + quant_min. */
export interface Quantization {
  orig_min: number; orig_max: number; quant_min: number; quant_max: number; nodata?: number | null;
}

/** A crop (all its bands) with quantization undone, as contiguous float32; `nodata` becomes NaN. */
export function dequantize(crop: NDArray, q: Quantization): NDArray {
  const [h, w, c] = crop.shape;
  const [sy, sx, sc] = crop.strides;
  const out = new Float32Array(h * w * c);
  const k = (q.orig_max - q.orig_min) / (q.quant_max - q.quant_min);
  const nodata = q.nodata ?? null;
  let o = 0;
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < w; j++) {
      const base = crop.offset + i * sy + j * sx;
      for (let b = 0; b < c; b++, o++) {
        const x = crop.data[base + b * sc];
        out[o] = nodata !== null && x === nodata ? NaN : (x - q.quant_min) * k + q.orig_min;
      }
    }
  }
  return { data: out, shape: [h, w, c], strides: [w * c, c, 1], offset: 0, dtype: 'float32' };
}

export function pathinfoError(msg: string): FramesError {
  return new FramesError('ERR_PATHINFO', msg);
}

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

export function compose(p: M3, q: M3): M3 {  // p after q
  return [
    p[0] * q[0] + p[1] * q[3], p[0] * q[1] + p[1] * q[4], p[0] * q[2] + p[1] * q[5] + p[2],
    p[3] * q[0] + p[4] * q[3], p[3] * q[1] + p[4] * q[4], p[3] * q[2] + p[4] * q[5] + p[5],
  ];
}

export const to3x3 = (m: M3): number[][] => [[m[0], m[1], m[2]], [m[3], m[4], m[5]], [0, 0, 1]];

/** The dtype all groups fuse into: theirs when they agree, else float32 (float64 for 32-bit ints or float64). */
export function fusedDtype(dtypes: DType[]): DType {
  if (dtypes.every((d) => d === dtypes[0])) return dtypes[0] ?? 'uint8';
  return dtypes.some((d) => d === 'float64' || d === 'int32' || d === 'uint32') ? 'float64' : 'float32';
}

/**
 * Writes the bands `r.sel.bands` of `crop` (band 0 of the crop is file band r.b0) into
 * out[:, :, c0...]. `m` maps output pixel coordinates (pixel (i, j) is centred on (j + 0.5, i + 0.5))
 * to crop pixel coordinates; points outside the crop are left as they are (the fill).
 */
export function sample(out: NDArray, c0: number, crop: NDArray, r: FileRead, m: M3, interp: Interpolation): void {
  const [H, W, C] = out.shape;
  const [ch, cw] = crop.shape;
  const [sy, sx, sc] = crop.strides;
  const src = crop.data;
  const dst = out.data as TypedArray;
  const isInt = !(out.dtype === 'float32' || out.dtype === 'float64');
  const offs = r.sel.bands.map((b) => (b - r.b0) * sc);
  const nb = offs.length;
  // Bilinear sampling of a unit-scale integer shift hits pixel centres: it is the nearest rule.
  const exact = m[0] === 1 && m[4] === 1 && Number.isInteger(m[2]) && Number.isInteger(m[5]);
  if (m[1] === 0 && m[3] === 0 && (interp === 'nearest' || exact)) {
    // Separable: one crop column per output column, one crop row per output row.
    const cols = new Int32Array(W);
    for (let j = 0; j < W; j++) cols[j] = Math.floor(m[0] * (j + 0.5) + m[2] + TIE);
    for (let i = 0; i < H; i++) {
      const row = Math.floor(m[4] * (i + 0.5) + m[5] + TIE);
      if (row < 0 || row >= ch) continue;
      const rbase = crop.offset + row * sy;
      let o = i * W * C + c0;
      for (let j = 0; j < W; j++, o += C) {
        const col = cols[j];
        if (col < 0 || col >= cw) continue;
        const base = rbase + col * sx;
        for (let k = 0; k < nb; k++) dst[o + k] = src[base + offs[k]];
      }
    }
    return;
  }
  for (let i = 0; i < H; i++) {
    const y = i + 0.5;
    let o = i * W * C + c0;
    for (let j = 0; j < W; j++, o += C) {
      const x = j + 0.5;
      const u = m[0] * x + m[1] * y + m[2];
      const vv = m[3] * x + m[4] * y + m[5];
      if (interp === 'nearest') {
        const col = Math.floor(u + TIE);
        const row = Math.floor(vv + TIE);
        if (row < 0 || row >= ch || col < 0 || col >= cw) continue;
        const base = crop.offset + row * sy + col * sx;
        for (let k = 0; k < nb; k++) dst[o + k] = src[base + offs[k]];
        continue;
      }
      // Bilinear between pixel centres; points outside the crop's extent keep the fill value,
      // points within half a pixel of its border clamp to the edge pixels.
      const fu = u - 0.5;
      const fv = vv - 0.5;
      if (u < -TIE || vv < -TIE || u > cw + TIE || vv > ch + TIE) continue;
      const c0i = Math.floor(fu);
      const r0i = Math.floor(fv);
      const ax = fu - c0i;
      const ay = fv - r0i;
      const ca = Math.min(Math.max(c0i, 0), cw - 1);
      const cb = Math.min(Math.max(c0i + 1, 0), cw - 1);
      const ra = Math.min(Math.max(r0i, 0), ch - 1);
      const rb = Math.min(Math.max(r0i + 1, 0), ch - 1);
      const p00 = crop.offset + ra * sy + ca * sx;
      const p01 = crop.offset + ra * sy + cb * sx;
      const p10 = crop.offset + rb * sy + ca * sx;
      const p11 = crop.offset + rb * sy + cb * sx;
      for (let k = 0; k < nb; k++) {
        const ok = offs[k];
        const val = (1 - ay) * ((1 - ax) * src[p00 + ok] + ax * src[p01 + ok]) + ay * ((1 - ax) * src[p10 + ok] + ax * src[p11 + ok]);
        dst[o + k] = isInt ? Math.round(val) : val;
      }
    }
  }
}

/** One file of a reference read: its reader, its transform onto the image grid, the bands taken. */
export interface RefFile {
  reader: ImageReader;
  /** file -> image (warpAuxToImg), two rows. */
  fwd: M3;
  bands: number[];
  quant: Quantization | null;
}

export interface RefOptions {
  scale?: number;
  boundless?: boolean;
  fill?: number;
  interpolation?: Interpolation;
}

const scaledLength = (n: number, scale: number): number => (scale === 1 ? n : Math.max(n > 0 ? 1 : 0, Math.round(n * scale)));

/**
 * A fused read of `region` of an image of grid [H, W] whose bands, in order, are the `files`'
 * bands (a third slice of `region` selects among them): the pre-native AlignableImageData path.
 */
export function referenceFused(files: RefFile[], grid: [number, number], region: Region | null, opts: RefOptions = {}): NDArray {
  const scale = opts.scale ?? 1;
  const interp = opts.interpolation ?? 'nearest';
  const total = files.reduce((n, f) => n + f.bands.length, 0);
  const win = normalizeRegion(region, [grid[0], grid[1], total], opts.boundless ?? false);
  const kept: RefFile[] = [];
  let c = 0;
  for (const f of files) {
    const bands = f.bands.filter((_, i) => c + i >= win.c0 && c + i < win.c1);
    c += f.bands.length;
    if (bands.length > 0) kept.push({ ...f, bands });
  }
  const rh = win.y1 - win.y0;
  const rw = win.x1 - win.x0;
  const h = scaledLength(rh, scale);
  const w = scaledLength(rw, scale);
  const outToImg: M3 = [w > 0 ? rw / w : 1, 0, win.x0, 0, h > 0 ? rh / h : 1, win.y0];
  const reads = kept.map((f) => {
    const inv = invert(f.fwd);
    const identity = f.fwd.every((x, i) => x === IDENTITY[i]);
    const b0 = Math.min(...f.bands);
    const b1 = Math.max(...f.bands) + 1;
    const [fh, fw] = f.reader.shape;
    const outToFile = compose(inv, outToImg);
    let ry0: number; let ry1: number; let rx0: number; let rx1: number;
    if (h === 0 || w === 0) {
      [ry0, ry1, rx0, rx1] = [0, 0, 0, 0];
    } else if (identity && outToImg[0] === 1 && outToImg[4] === 1) {
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
      const lin = interp === 'linear' ? 0.5 : 0;
      rx0 = Math.floor(Math.min(...us) - lin + TIE);
      rx1 = Math.floor(Math.max(...us) - lin + TIE) + 1 + (lin ? 1 : 0);
      ry0 = Math.floor(Math.min(...vs) - lin + TIE);
      ry1 = Math.floor(Math.max(...vs) - lin + TIE) + 1 + (lin ? 1 : 0);
    }
    const y0 = Math.min(Math.max(ry0, 0), fh);
    const y1 = Math.min(Math.max(ry1, y0), fh);
    const x0 = Math.min(Math.max(rx0, 0), fw);
    const x1 = Math.min(Math.max(rx1, x0), fw);
    const perOut = Math.sqrt(Math.abs(outToFile[0] * outToFile[4] - outToFile[1] * outToFile[3]));
    const readScale = perOut > 1 ? 1 / perOut : 1;
    const window = boxWindow(y0, y1, x0, x1, b0, b1);
    const empty = y1 === y0 || x1 === x0;
    let crop: NDArray;
    if (empty) crop = allocate([y1 - y0, x1 - x0, b1 - b0], f.reader.dtype, true);
    else crop = f.reader.kind === 'raster' && readScale < 1 ? f.reader.read([[y0, y1], [x0, x1], [b0, b1]], { scale: readScale }) : f.reader.read([[y0, y1], [x0, x1], [b0, b1]]);
    const sel: Selection = { group: { key: '', chan: { path: '' }, fwd: f.fwd, inv, identity, axisAligned: f.fwd[1] === 0 && f.fwd[3] === 0 }, bands: f.bands };
    const r: FileRead = { sel, readScale, window, y0, y1, x0, x1, b0, empty, dtype: f.reader.dtype };
    return { r, crop, f };
  });
  const dtype = fusedDtype(reads.map(({ r, f }) => (f.quant !== null ? 'float32' : r.dtype)));
  const out = allocate([h, w, win.c1 - win.c0], dtype, true);
  if ((opts.fill ?? 0) !== 0) fill(out, opts.fill as number);
  c = 0;
  for (const { r, crop, f } of reads) {
    const data = f.quant !== null ? dequantize(crop, f.quant) : crop;
    const [ch, cw] = crop.shape;
    const cropToFile: M3 = [cw > 0 ? (r.x1 - r.x0) / cw : 1, 0, r.x0, 0, ch > 0 ? (r.y1 - r.y0) / ch : 1, r.y0];
    const outToCrop = compose(invert(cropToFile), compose(r.sel.group.inv, outToImg));
    sample(out, c, data, r, outToCrop, interp);
    c += r.sel.bands.length;
  }
  return out;
}
