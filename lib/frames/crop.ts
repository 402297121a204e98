/**
 * Frames-level crop options: `boundless`, `fill` and `scale`, with the readers' meaning, on every
 * backend. Raster readers serve them natively (`scale` through GDAL, from COG overviews where they
 * exist). An npy reader has no reduced-resolution form, so for npy `scale` samples the
 * full-resolution window by the nearest rule GDAL's RasterIO uses when it reads without overviews:
 * output pixel i of n takes source pixel floor((i + 0.5) * m / n) of the m in the window (the
 * output size is round(m * scale), at least 1; a boundless window is laid out as the raster
 * reader lays it out, see readScaledNpy). The no-cache backend on a source without overviews
 * therefore gives the same pixels as the npy backend; a COG's overviews were made with the COG's
 * overview resampling (nearest for integer data, average for floats) and can differ.
 * Runs on the calling thread.
 */
import { RegionError } from '../errors';
import { allocate, checkArray, fill } from '../ndarray';
import type { NDArray } from '../ndarray';
import type { ImageReader, ReadOptions } from '../readers';
import { boxWindow, isPartial } from '../region';
import type { Window } from '../region';
import * as v from '../validate';

/** The crop options Frames takes on loadRegion, loadRegionAsync, loadImage and LazyFrame.get. */
export interface CropOptions {
  /** Absolute coordinates; the parts outside the image are filled with `fill` (default false). */
  boundless?: boolean;
  /** The raw pixel value outside the image for boundless reads (default 0). */
  fill?: number;
  /** Read at this scale in (0, 1] (default 1): see the module comment for the rule per backend. */
  scale?: number;
}

export const CROP_KEYS = ['boundless', 'fill', 'scale'] as const;

export interface CheckedCrop { boundless: boolean; fill: number; scale: number }

export const PLAIN_CROP: Readonly<CheckedCrop> = Object.freeze({ boundless: false, fill: 0, scale: 1 });

export function checkCrop(o: CropOptions): CheckedCrop {
  if (o.boundless === undefined && o.fill === undefined && o.scale === undefined) return PLAIN_CROP;
  const boundless = o.boundless === undefined ? false : v.boolean(o.boundless, 'options.boundless');
  const fill = o.fill === undefined ? 0 : v.number(o.fill, 'options.fill');
  const scale = o.scale === undefined ? 1 : v.number(o.scale, 'options.scale');
  if (!(scale > 0 && scale <= 1)) throw v.rangeError('a number in (0, 1]', 'options.scale', scale);
  return { boundless, fill, scale };
}

export const isPlain = (c: CheckedCrop): boolean => !c.boundless && c.scale === 1 && c.fill === 0;

/** The crop options as AlignableImageData takes them (images fused from several files). */
export function fusedCrop(c: CheckedCrop): { boundless: boolean; fill: number; scale: number } {
  return { boundless: c.boundless, fill: c.fill, scale: c.scale };
}

/** A length of `n` pixels at `scale` (at least 1 when n > 0), as the readers compute it. */
const scaled = (n: number, scale: number): number => (scale === 1 ? n : Math.max(n > 0 ? 1 : 0, Math.round(n * scale)));

/** The reader options of a checked crop. */
function readerOptions(c: CheckedCrop, out: NDArray | undefined): ReadOptions {
  const o: ReadOptions = {};
  if (out !== undefined) o.out = out;
  if (c.fill !== 0) o.fill = c.fill;
  if (c.scale !== 1) o.scale = c.scale;
  return o;
}

/**
 * npy at a reduced scale, laid out exactly as the raster reader lays out a scaled (boundless) read:
 * the output is the window's size scaled; the part inside the image lands at the scaled offset
 * of its first row and column, with the scaled size of its far edge minus that offset, and is
 * nearest-sampled from the full-resolution inside part; the rest is `fill`.
 */
function readScaledNpy(reader: ImageReader, win: Window, c: CheckedCrop, out: NDArray | undefined): NDArray {
  const C = win.c1 - win.c0;
  const shape: [number, number, number] = [scaled(win.y1 - win.y0, c.scale), scaled(win.x1 - win.x0, c.scale), C];
  let dst: NDArray;
  if (out !== undefined) {
    dst = checkArray(out, 'options.out');
    if (dst.dtype !== reader.dtype || dst.shape[0] !== shape[0] || dst.shape[1] !== shape[1] || dst.shape[2] !== C) {
      throw new RegionError('ERR_OUT_BUFFER', v.message(`an array of shape [${shape}] and dtype '${reader.dtype}' (the region's)`, 'options.out', out));
    }
  } else {
    dst = allocate(shape, reader.dtype, true);
  }
  if (isPartial(win) || out !== undefined) fill(dst, c.fill);
  const oy = scaled(win.iy0 - win.y0, c.scale);
  const ox = scaled(win.ix0 - win.x0, c.scale);
  const ih = win.iy1 > win.iy0 ? Math.min(Math.max(1, scaled(win.iy1 - win.y0, c.scale) - oy), shape[0] - oy) : 0;
  const iw = win.ix1 > win.ix0 ? Math.min(Math.max(1, scaled(win.ix1 - win.x0, c.scale) - ox), shape[1] - ox) : 0;
  if (ih <= 0 || iw <= 0 || C === 0) return dst;
  const full = reader.readWindow(boxWindow(win.iy0, win.iy1, win.ix0, win.ix1, win.c0, win.c1));
  const m = win.iy1 - win.iy0;
  const w = win.ix1 - win.ix0;
  const [sy, sx, sc] = full.strides;
  const [dy, dx, dc] = dst.strides;
  const src = full.data;
  const d = dst.data;
  for (let i = 0; i < ih; i++) {
    const y = Math.floor(((i + 0.5) * m) / ih);
    for (let j = 0; j < iw; j++) {
      const x = Math.floor(((j + 0.5) * w) / iw);
      const s = full.offset + y * sy + x * sx;
      const t = dst.offset + (oy + i) * dy + (ox + j) * dx;
      for (let ch = 0; ch < C; ch++) d[t + ch * dc] = src[s + ch * sc];
    }
  }
  return dst;
}

/** Reads `win` (normalised with c.boundless) per the crop options. */
export function readCrop(reader: ImageReader, win: Window, c: CheckedCrop, out?: NDArray): NDArray {
  if (reader.kind === 'npy' && c.scale !== 1) return readScaledNpy(reader, win, c, out);
  return reader.readWindow(win, readerOptions(c, out));
}

/** readCrop with the read on the libuv pool (an npy scaled read samples on the calling thread). */
export async function readCropAsync(reader: ImageReader, win: Window, c: CheckedCrop, out?: NDArray): Promise<NDArray> {
  if (reader.kind === 'npy' && c.scale !== 1) return readScaledNpy(reader, win, c, out);
  return reader.readWindowAsync(win, readerOptions(c, out));
}
