/**
 * Frames-level crop options: `boundless`, `fill` and `scale`, with the readers' meaning, on every
 * backend. Raster readers serve them natively (`scale` through GDAL, from COG overviews where they
 * exist). An npy reader has no reduced-resolution form, so for npy `scale` samples the
 * full-resolution window by the nearest rule GDAL's RasterIO uses when it reads without overviews:
 * output pixel i of n takes source pixel floor((i + 0.5) * m / n) of the m in the window (the
 * output size is round(m * scale), at least 1; a boundless window is laid out as the raster
 * reader lays it out, lib/geometry.ts placement). The addon samples it (a window crop of
 * native/batch/, the one nearest rule). The no-cache backend on a source without overviews
 * therefore gives the same pixels as the npy backend; a COG's overviews were made with the COG's
 * overview resampling (nearest for integer data, average for floats) and can differ.
 * Runs on the calling thread (the async forms sample on the addon's pool).
 */
import { ReaderPins } from '../cache/entry-reader';
import { RegionError } from '../errors';
import { allocate, checkArray } from '../ndarray';
import type { NDArray } from '../ndarray';
import type { ImageReader, ReadOptions } from '../readers';
import type { Window } from '../region';
import { checkScale, placement, scaledShape } from '../geometry';
import * as v from '../validate';
import { rawValue, runOneAsync, runOneSync } from './batch-native';
import type { WindowCrop } from './batch-native';

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
  return { boundless, fill, scale: checkScale(o.scale) };
}

/** The crop options as AlignableImageData takes them (images fused from several files). */
export function cropOptions(c: CheckedCrop): { boundless: boolean; fill: number; scale: number } {
  return { boundless: c.boundless, fill: c.fill, scale: c.scale };
}

/** The reader options of a checked crop. */
function readerOptions(c: CheckedCrop, out: NDArray | undefined): ReadOptions {
  const o: ReadOptions = {};
  if (out !== undefined) o.out = out;
  if (c.fill !== 0) o.fill = c.fill;
  if (c.scale !== 1) o.scale = c.scale;
  return o;
}

/** An npy window at a reduced scale as a native window crop, or the result when there is nothing to sample. */
function planScaledNpy(reader: ImageReader, win: Window, c: CheckedCrop, out: NDArray | undefined, pins: ReaderPins): NDArray | WindowCrop {
  const shape = scaledShape(win, c.scale);
  const dtype = reader.dtype;
  if (out !== undefined) {
    const dst = checkArray(out, 'options.out', true);
    if (dst.dtype !== dtype || dst.shape[0] !== shape[0] || dst.shape[1] !== shape[1] || dst.shape[2] !== shape[2]) {
      throw new RegionError('ERR_OUT_BUFFER', v.message(`an array of shape [${shape}] and dtype '${dtype}' (the region's)`, 'options.out', out));
    }
  }
  if (shape[0] === 0 || shape[1] === 0 || shape[2] === 0) return out ?? allocate(shape, dtype, true);
  return { kind: 'window', reader: pins.base(reader), dtype, shape, win, place: placement(win, c.scale, shape), orient: 0, fill: rawValue(dtype, c.fill) };
}

/** Reads `win` (normalised with c.boundless) per the crop options. */
export function readCrop(reader: ImageReader, win: Window, c: CheckedCrop, out?: NDArray): NDArray {
  if (reader.kind !== 'npy' || c.scale === 1) return reader.readWindow(win, readerOptions(c, out));
  const pins = new ReaderPins();
  try {
    const p = planScaledNpy(reader, win, c, out, pins);
    return 'kind' in p ? runOneSync(p, out) : p;
  } finally {
    pins.release();
  }
}

/** readCrop with the read on the libuv pool (an npy scaled read on the addon's pool). */
export async function readCropAsync(reader: ImageReader, win: Window, c: CheckedCrop, out?: NDArray): Promise<NDArray> {
  if (reader.kind !== 'npy' || c.scale === 1) return reader.readWindowAsync(win, readerOptions(c, out));
  const pins = new ReaderPins();
  try {
    const p = planScaledNpy(reader, win, c, out, pins);
    return 'kind' in p ? await runOneAsync(p, out) : p;
  } finally {
    pins.release();
  }
}
