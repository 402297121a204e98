/**
 * Cloud-Optimized GeoTIFF helpers: writeCog / writeCogAsync (GDAL's COG driver, in process,
 * temp file + rename), the COG config (DEFAULT_COG_CONFIG, coerceCogConfig), isCog,
 * conversion of any GDAL-readable source to an npy cache file, writeRaster, and the per-env
 * tile-cache and dataset-handle controls. Everything runs on the calling thread; the *Async
 * functions do their work on the libuv pool.
 */
import * as path from 'node:path';
import { BackendConfigError } from './errors';
import { checkArray } from './ndarray';
import type { NDArray } from './ndarray';
import { native } from './native';
import type { DatasetStats, NativeCogOptions, TileCacheStats } from './native';
import * as v from './validate';

export type CogOverviews = 'auto' | 'none' | number;
export type CogPredictor = 'auto' | 'NO' | 'STANDARD' | 'FLOATING_POINT' | 'YES';

/** A checked COG config (all keys present). */
export interface CogConfig {
  /** 'auto' (lossless ZSTD, or JPEG for JPEG sources) or a COMPRESS value of GDAL's COG driver. */
  compress: string;
  /** Tile width and height in pixels (a multiple of 16). */
  blocksize: number;
  /** 'auto': GDAL's default count, 'none': no overviews, n: exactly n levels (0 = none). */
  overviews: CogOverviews;
  /** Overview resampling; 'auto': NEAREST for integer data, AVERAGE for floating point. */
  resampling: string;
  /** DEFLATE / ZSTD / LZMA level, or null for the default (ZSTD 9 for 'auto'). */
  level: number | null;
  /** JPEG / WEBP quality 1..100, or null for the default (90 when 'auto' keeps a JPEG). */
  quality: number | null;
  /**
   * TIFF predictor. 'auto': with compress 'auto', horizontal differencing (integers) or floating
   * point (floats) for continuous-tone data and none for label-like data; with a named codec, none.
   */
  predictor: CogPredictor;
  /** Compression threads (NUM_THREADS): a positive integer or 'ALL_CPUS'. */
  numThreads: number | 'ALL_CPUS';
}

export const DEFAULT_COG_CONFIG: Readonly<CogConfig> = Object.freeze({
  compress: 'auto',
  blocksize: 256,
  overviews: 'auto',
  resampling: 'auto',
  level: null,
  quality: null,
  predictor: 'auto',
  numThreads: 'ALL_CPUS',
});

export const COG_CONFIG_KEYS: readonly (keyof CogConfig)[] = Object.freeze(
  Object.keys(DEFAULT_COG_CONFIG) as (keyof CogConfig)[]);

const RESAMPLINGS = ['auto', 'NEAREST', 'AVERAGE', 'BILINEAR', 'CUBIC', 'CUBICSPLINE', 'LANCZOS', 'MODE', 'RMS', 'GAUSS'];
const PREDICTORS: Record<string, CogPredictor> = {
  AUTO: 'auto', NO: 'NO', NONE: 'NO', STANDARD: 'STANDARD', FLOATING_POINT: 'FLOATING_POINT', YES: 'YES',
  1: 'NO', 2: 'STANDARD', 3: 'FLOATING_POINT',
};
const LEVELS: Record<string, [number, number]> = {
  AUTO: [1, 22], DEFLATE: [1, 12], ZSTD: [1, 22], LZMA: [0, 9], LERC_DEFLATE: [1, 12], LERC_ZSTD: [1, 22],
};
const QUALITY_CODECS = ['AUTO', 'JPEG', 'WEBP'];

let compressions: string[] | undefined;
/** The COMPRESS values GDAL's COG driver offers in this build (NONE, LZW, DEFLATE, ZSTD, ...). */
export function cogCompressions(): string[] {
  if (compressions === undefined) compressions = native.cogCompressions();
  return compressions.slice();
}

function configError(key: string, expected: string, value: unknown): BackendConfigError {
  return new BackendConfigError('ERR_BACKEND_CONFIG', v.message(expected, `COG config key '${key}'`, value), { key });
}

function isInt(x: unknown, lo: number, hi: number): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= lo && x <= hi;
}

/**
 * Checks a COG config and fills in defaults. Unknown keys and bad values raise
 * BackendConfigError (code ERR_BACKEND_CONFIG) naming the key, as the original does.
 * Codec names are case-insensitive and returned upper-case ('auto' stays lower-case).
 */
export function coerceCogConfig(config?: Record<string, unknown> | null): CogConfig {
  if (config === undefined || config === null) return { ...DEFAULT_COG_CONFIG };
  if (!v.isPlainObject(config)) {
    throw new BackendConfigError('ERR_BACKEND_CONFIG', v.message('a COG config object', 'config', config));
  }
  for (const key of Object.keys(config)) {
    if (!(COG_CONFIG_KEYS as readonly string[]).includes(key)) {
      throw new BackendConfigError('ERR_BACKEND_CONFIG',
        `unknown COG config key '${key}' (known keys: ${COG_CONFIG_KEYS.join(', ')})`, { key });
    }
  }
  const c: CogConfig = { ...DEFAULT_COG_CONFIG };
  const given = (k: keyof CogConfig) => config[k] !== undefined;

  if (given('compress')) {
    const x = config.compress;
    const offered = cogCompressions();
    const up = typeof x === 'string' ? x.toUpperCase() : '';
    if (up === 'AUTO') c.compress = 'auto';
    else if (offered.includes(up)) c.compress = up;
    else throw configError('compress', `one of 'auto', ${offered.map((o) => `'${o}'`).join(', ')}`, x);
  }
  if (given('blocksize')) {
    const x = config.blocksize;
    if (!isInt(x, 16, 4096) || x % 16 !== 0) throw configError('blocksize', 'a multiple of 16 between 16 and 4096', x);
    c.blocksize = x;
  }
  if (given('overviews')) {
    const x = config.overviews;
    if (x === 'auto' || x === 'none') c.overviews = x;
    else if (isInt(x, 0, 64)) c.overviews = x;
    else throw configError('overviews', "'auto', 'none' or an integer between 0 and 64", x);
  }
  if (given('resampling')) {
    const x = config.resampling;
    const up = typeof x === 'string' ? (x.toLowerCase() === 'auto' ? 'auto' : x.toUpperCase()) : '';
    if (!RESAMPLINGS.includes(up)) throw configError('resampling', `one of ${RESAMPLINGS.map((r) => `'${r}'`).join(', ')}`, x);
    c.resampling = up;
  }
  const codec = c.compress.toUpperCase();
  if (given('level') && config.level !== null) {
    const range = LEVELS[codec];
    if (range === undefined) throw configError('level', `null: compress '${c.compress}' takes no level`, config.level);
    if (!isInt(config.level, range[0], range[1])) {
      throw configError('level', `null or an integer between ${range[0]} and ${range[1]} for compress '${c.compress}'`, config.level);
    }
    c.level = config.level;
  }
  if (given('quality') && config.quality !== null) {
    if (!QUALITY_CODECS.includes(codec)) throw configError('quality', `null: compress '${c.compress}' takes no quality`, config.quality);
    if (!isInt(config.quality, 1, 100)) throw configError('quality', 'null or an integer between 1 and 100', config.quality);
    c.quality = config.quality;
  }
  if (given('predictor')) {
    const x = config.predictor;
    const p = typeof x === 'string' || typeof x === 'number' ? PREDICTORS[String(x).toUpperCase()] : undefined;
    if (p === undefined) throw configError('predictor', "one of 'auto', 'NO', 'STANDARD', 'FLOATING_POINT', 'YES', 1, 2, 3", x);
    c.predictor = p;
  }
  if (given('numThreads')) {
    const x = config.numThreads;
    if (x === 'ALL_CPUS' || x === 'all_cpus') c.numThreads = 'ALL_CPUS';
    else if (isInt(x, 1, 1024)) c.numThreads = x;
    else throw configError('numThreads', "a positive integer or 'ALL_CPUS'", x);
  }
  return c;
}

/** The native options for a checked config. */
export function nativeCogOptions(c: CogConfig): NativeCogOptions {
  const ov = c.overviews;
  return {
    compress: c.compress.toUpperCase(),
    blocksize: c.blocksize,
    overviews: ov === 'none' || ov === 0 ? 'NONE' : 'AUTO',
    overviewCount: typeof ov === 'number' ? ov : 0,
    resampling: c.resampling.toUpperCase(),
    level: c.level ?? -1,
    quality: c.quality ?? -1,
    predictor: c.predictor.toUpperCase(),
    numThreads: c.numThreads === 'ALL_CPUS' ? 0 : c.numThreads,
  };
}

/** Rewrites an async error's stack to the caller's, so it points at user code. */
async function withCallSite<T>(p: () => Promise<T>): Promise<T> {
  const callSite = new Error();
  try {
    return await p();
  } catch (err) {
    if (err instanceof Error && callSite.stack) {
      err.stack = `${err.name}: ${err.message}\n${callSite.stack.split('\n').slice(2).join('\n')}`;
    }
    throw err;
  }
}

/**
 * Converts any GDAL-readable raster `src` to a Cloud-Optimized GeoTIFF at `dst` (written to a
 * temporary file in dst's directory and renamed into place when complete). Palette images are
 * expanded to RGB(A). `config` follows DEFAULT_COG_CONFIG.
 */
export function writeCog(src: string, dst: string, config?: Record<string, unknown> | null): void {
  v.string(src, 'src');
  v.string(dst, 'dst');
  native.writeCog(src, dst, nativeCogOptions(coerceCogConfig(config)));
}

/** writeCog on the libuv pool. */
export function writeCogAsync(src: string, dst: string, config?: Record<string, unknown> | null): Promise<void> {
  try {
    v.string(src, 'src');
    v.string(dst, 'dst');
    const opts = nativeCogOptions(coerceCogConfig(config));
    return withCallSite(() => native.writeCogAsync(src, dst, opts));
  } catch (err) {
    return Promise.reject(err);
  }
}

/** True when `file` already is a Cloud-Optimized GeoTIFF (the rules of GDAL's validator). */
export function isCog(file: string): boolean {
  v.string(file, 'path');
  return native.isCog(file);
}

/** Decodes all of `src` with GDAL (palettes expanded) and writes it as an HWC .npy at `dst`, atomically. */
export function convertToNpy(src: string, dst: string): void {
  v.string(src, 'src');
  v.string(dst, 'dst');
  native.convertToNpy(src, dst);
}

/** convertToNpy on the libuv pool. */
export function convertToNpyAsync(src: string, dst: string): Promise<void> {
  try {
    v.string(src, 'src');
    v.string(dst, 'dst');
    return withCallSite(() => native.convertToNpyAsync(src, dst));
  } catch (err) {
    return Promise.reject(err);
  }
}

const DRIVER_BY_EXT: Record<string, string> = {
  '.png': 'PNG', '.tif': 'GTiff', '.tiff': 'GTiff', '.jpg': 'JPEG', '.jpeg': 'JPEG', '.webp': 'WEBP',
};

export interface WriteRasterOptions {
  /** A GDAL driver name; by default from the extension (.png PNG, .tif GTiff, .jpg JPEG, .webp WEBP). */
  driver?: string;
  /** GDAL creation options, as {NAME: value} or ['NAME=value', ...]. */
  creationOptions?: Record<string, string | number> | string[];
}

/**
 * Writes an HWC array as an image file with any GDAL driver (PNG, GTiff, JPEG, ...),
 * atomically (temporary file + rename). Deterministic for lossless drivers.
 */
export function writeRaster(file: string, array: NDArray, opts?: WriteRasterOptions): void {
  v.string(file, 'path');
  const a = checkArray(array, 'array');
  const o = v.options(opts, 'options', ['driver', 'creationOptions'] as const);
  let driver: string;
  if (o.driver !== undefined) {
    driver = v.string(o.driver, 'options.driver');
  } else {
    const d = DRIVER_BY_EXT[path.extname(file).toLowerCase()];
    if (d === undefined) throw v.typeError(`options.driver for extension '${path.extname(file)}'`, 'options.driver', undefined);
    driver = d;
  }
  let co: string[] = [];
  const given = o.creationOptions;
  if (Array.isArray(given)) {
    co = given.map((s, i) => v.string(s, `options.creationOptions[${i}]`));
  } else if (given !== undefined) {
    if (!v.isPlainObject(given)) throw v.typeError('an object or an array of strings', 'options.creationOptions', given);
    co = Object.entries(given).map(([k, val]) => `${k}=${String(val)}`);
  }
  native.writeRaster(file, a.data, { shape: a.shape, strides: a.strides, offset: a.offset, dtype: a.dtype }, driver, co);
}

/** Hit/miss counters and size of this thread's decoded-tile cache. */
export function tileCacheStats(): TileCacheStats {
  return native.tileCacheStats();
}

/** Sets this thread's tile-cache budget in bytes (default 256 MiB; 0 disables caching). */
export function setTileCacheBudget(bytes: number): void {
  native.setTileCacheBudget(v.integer(bytes, 'bytes', 0));
}

/** Caps the GDAL dataset handles open in this thread's env (default 256); idle ones beyond it are closed. */
export function setMaxOpenDatasets(n: number): void {
  native.setMaxOpenDatasets(v.integer(n, 'n', 1));
}

/** Open and idle GDAL dataset handles of this thread's env, and the cap. */
export function datasetStats(): DatasetStats {
  return native.datasetStats();
}

/** The GDAL version the addon runs with, e.g. '3.6.2'. */
export function gdalVersion(): string {
  return native.gdalVersion();
}
