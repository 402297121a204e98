/**
 * The COG config: its type, defaults (COG_CONFIG_DEFAULTS), keys, the checker that fills in
 * defaults and names a bad key, and the native options it turns into. Pure: no GDAL calls (the
 * list of codecs this GDAL build offers is passed in by lib/gdal.ts).
 */
import { BackendConfigError } from './errors';
import type { NativeCogOptions } from './native';
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

export const COG_CONFIG_DEFAULTS: Readonly<CogConfig> = Object.freeze({
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
  Object.keys(COG_CONFIG_DEFAULTS) as (keyof CogConfig)[]);

const RESAMPLINGS = ['auto', 'NEAREST', 'AVERAGE', 'BILINEAR', 'CUBIC', 'CUBICSPLINE', 'LANCZOS', 'MODE', 'RMS', 'GAUSS'];
const PREDICTORS: Record<string, CogPredictor> = {
  AUTO: 'auto', NO: 'NO', NONE: 'NO', STANDARD: 'STANDARD', FLOATING_POINT: 'FLOATING_POINT', YES: 'YES',
  1: 'NO', 2: 'STANDARD', 3: 'FLOATING_POINT',
};
const LEVELS: Record<string, [number, number]> = {
  AUTO: [1, 22], DEFLATE: [1, 12], ZSTD: [1, 22], LZMA: [0, 9], LERC_DEFLATE: [1, 12], LERC_ZSTD: [1, 22],
};
const QUALITY_CODECS = ['AUTO', 'JPEG', 'WEBP'];

function configError(key: string, expected: string, value: unknown, name = `COG config key '${key}'`): BackendConfigError {
  return new BackendConfigError('ERR_BACKEND_CONFIG', v.message(expected, name, value), { key });
}

function isInt(x: unknown, lo: number, hi: number): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= lo && x <= hi;
}

/**
 * Checks a COG config against the COMPRESS values `offered` by this GDAL build and fills in
 * defaults. Unknown keys and bad values raise BackendConfigError (code ERR_BACKEND_CONFIG) naming
 * the key, as the original does. Codec names are case-insensitive and returned upper-case ('auto'
 * stays lower-case). The public coerceCogConfig (lib/gdal.ts) passes the build's list.
 */
export function checkCogConfig(config: Record<string, unknown> | null | undefined, offered: readonly string[]): CogConfig {
  if (config === undefined || config === null) return { ...COG_CONFIG_DEFAULTS };
  if (!v.isPlainObject(config)) {
    throw new BackendConfigError('ERR_BACKEND_CONFIG', v.message('a COG config object', 'config', config));
  }
  for (const key of Object.keys(config)) {
    if (!(COG_CONFIG_KEYS as readonly string[]).includes(key)) {
      throw configError(key, `one of the keys ${COG_CONFIG_KEYS.join(', ')}`, key, 'COG config key');
    }
  }
  const c: CogConfig = { ...COG_CONFIG_DEFAULTS };
  const given = (k: keyof CogConfig) => config[k] !== undefined;

  if (given('compress')) {
    const x = config.compress;
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

