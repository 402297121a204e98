/**
 * encode / encodeAsync: an HWC array as the bytes of a PNG, JPEG, WEBP or TIFF file, for services
 * that answer with images. GDAL's drivers write into GDAL's in-memory files (/vsimem/: a unique
 * name per call, removed before the call returns; native/raster/encoder.*), so nothing touches
 * the disk. `encode` runs on the calling thread; `encodeAsync` copies the pixels on it and then
 * encodes on the libuv pool (the JS thread never waits for the codec).
 *
 * Also the /vsimem/ helpers: readVsimem (the bytes of a file written there, e.g. by writeRaster)
 * and unlinkVsimem (GDAL's in-memory files live until removed).
 */
import { NdsamplerError, withCallSite } from './errors';
import { checkArray } from './ndarray';
import type { DType, NDArray } from './ndarray';
import { native } from './native';
import * as v from './validate';

export type EncodeFormat = 'png' | 'jpeg' | 'webp' | 'tiff';

export interface EncodeOptions {
  /** JPEG and WEBP: 1..100 (GDAL's default: 75). */
  quality?: number;
  /** PNG and TIFF (DEFLATE): the zlib level 1..9 (GDAL's default: 6). */
  level?: number;
}

export const ENCODE_FORMATS: readonly EncodeFormat[] = ['png', 'jpeg', 'webp', 'tiff'];

interface FormatRule {
  driver: string;
  dtypes: readonly DType[];
  /** Accepted channel counts; null: any. */
  channels: readonly number[] | null;
  /** Largest width and height. */
  maxSide: number;
  what: string;
}

/** What each format holds (the GDAL drivers' limits). */
const RULES: Readonly<Record<EncodeFormat, FormatRule>> = {
  png: { driver: 'PNG', dtypes: ['uint8', 'uint16'], channels: [1, 2, 3, 4], maxSide: 2 ** 31 - 1,
    what: 'uint8 or uint16 with 1 to 4 channels (gray, gray + alpha, RGB, RGBA)' },
  jpeg: { driver: 'JPEG', dtypes: ['uint8'], channels: [1, 3], maxSide: 65500,
    what: 'uint8 with 1 or 3 channels (gray or RGB; no alpha), at most 65500 pixels a side' },
  webp: { driver: 'WEBP', dtypes: ['uint8'], channels: [3, 4], maxSide: 16383,
    what: 'uint8 with 3 or 4 channels (RGB or RGBA), at most 16383 pixels a side' },
  tiff: { driver: 'GTiff', dtypes: ['uint8', 'int8', 'uint16', 'int16', 'uint32', 'int32', 'float32', 'float64'], channels: null,
    maxSide: 2 ** 31 - 1, what: 'any dtype and any number of channels (DEFLATE-compressed)' },
};

interface Prepared {
  a: NDArray;
  driver: string;
  quality: number;
  level: number;
}

function prepare(array: unknown, format: unknown, opts: unknown): Prepared {
  const a = checkArray(array, 'array');
  const f = v.oneOf(format, 'format', ENCODE_FORMATS);
  const o = v.options(opts, 'options', ['quality', 'level'] as const);
  const rule = RULES[f];
  let quality = -1;
  if (o.quality !== undefined) {
    if (f !== 'jpeg' && f !== 'webp') throw v.typeError(`no quality for '${f}' (quality is for 'jpeg' and 'webp')`, 'options.quality', o.quality);
    quality = v.integer(o.quality, 'options.quality', 1, 100);
  }
  let level = -1;
  if (o.level !== undefined) {
    if (f !== 'png' && f !== 'tiff') throw v.typeError(`no level for '${f}' (level is for 'png' and 'tiff')`, 'options.level', o.level);
    level = v.integer(o.level, 'options.level', 1, 9);
  }
  const [h, w, c] = a.shape;
  const refuse = (why: string) => new NdsamplerError('ERR_UNSUPPORTED',
    `cannot encode a ${h} x ${w} x ${c} ${a.dtype} array as ${f}: ${why}; ${f} takes ${rule.what}` +
    (f === 'tiff' ? '' : ` ('tiff' takes ${RULES.tiff.what})`));
  if (h === 0 || w === 0 || c === 0) throw refuse('it is empty');
  if (!rule.dtypes.includes(a.dtype)) throw refuse(`${f} does not hold ${a.dtype}`);
  if (rule.channels !== null && !rule.channels.includes(c)) throw refuse(`${f} does not hold ${c} channels`);
  if (c > 65535) throw refuse('more than 65535 channels');
  if (h > rule.maxSide || w > rule.maxSide) throw refuse(`a side is over ${rule.maxSide} pixels`);
  return { a, driver: rule.driver, quality, level };
}

const desc = (a: NDArray) => ({ shape: a.shape, strides: a.strides, offset: a.offset, dtype: a.dtype });

/**
 * The bytes of `array` (HWC, any strides) encoded as a `format` file. Throws TypeError /
 * RangeError for bad arguments, NdsamplerError ERR_UNSUPPORTED for a dtype, channel count or size
 * the format does not hold (each format's rule is in docs/api.md), GdalError
 * ERR_GDAL_UNSUPPORTED when this GDAL has no driver for it, ERR_GDAL_WRITE when the driver fails.
 */
export function encode(array: NDArray, format: EncodeFormat, opts?: EncodeOptions): Buffer {
  const p = prepare(array, format, opts);
  return native.encode(p.a.data, desc(p.a), p.driver, p.quality, p.level);
}

/** encode with the encoding on the libuv pool (the pixels are copied first, on the calling thread). */
export function encodeAsync(array: NDArray, format: EncodeFormat, opts?: EncodeOptions): Promise<Buffer> {
  try {
    const p = prepare(array, format, opts);
    return withCallSite(() => native.encodeAsync(p.a.data, desc(p.a), p.driver, p.quality, p.level));
  } catch (err) {
    return Promise.reject(err);
  }
}

function vsimemPath(p: unknown): string {
  const s = v.string(p, 'path');
  if (!s.startsWith('/vsimem/')) throw v.typeError('a path starting with /vsimem/', 'path', s);
  return s;
}

/** The bytes of a file in GDAL's in-memory file system (e.g. written by writeRaster('/vsimem/x.png', ...)). */
export function readVsimem(file: string): Buffer {
  return native.readVsiFile(vsimemPath(file), 2 ** 31 - 1);
}

/** Removes a /vsimem/ file (or directory, with its files); false when there was none. */
export function unlinkVsimem(file: string): boolean {
  return native.vsimemUnlink(vsimemPath(file));
}
