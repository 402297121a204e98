/**
 * The GDAL helpers (the binding's GDAL face; docs/architecture.md lists the modules that call the
 * binding). writeCog /
 * writeCogAsync (GDAL's COG driver, in process, published by native/core's atomic writer),
 * isCog, conversion of any GDAL-readable source to an npy cache file, writeRaster, the per-env
 * tile-cache and dataset-handle controls, gdalVersion and hasDriver, and remote files (stat with
 * the server's identity, small reads, uploads, GDAL's remote options). Everything runs on the
 * calling thread; the *Async functions do their work on the libuv pool. Source and destination
 * paths may be URL forms (`https://`, `s3://`, ...: lib/remote/url.ts maps them onto GDAL).
 * The remote-file functions live in lib/remote-io.ts and are re-exported here.
 */
import * as path from 'node:path';
import { checkCogConfig, nativeCogOptions } from './cog-config';
import { withCallSite } from './errors';
import type { CogConfig } from './cog-config';
import { checkArray } from './ndarray';
import type { NDArray } from './ndarray';
import { native } from './native';
import { refuseVirtualNpy } from './readers';
import type { DatasetStats, TileCacheStats } from './native';
import { gdalSource } from './remote-io';
import * as v from './validate';


let compressions: string[] | undefined;
/** The COMPRESS values GDAL's COG driver offers in this build (NONE, LZW, DEFLATE, ZSTD, ...). */
export function cogCompressions(): string[] {
  if (compressions === undefined) compressions = native.cogCompressions();
  return compressions.slice();
}

/**
 * Checks a COG config and fills in defaults (COG_CONFIG_DEFAULTS). Unknown keys and bad values
 * raise BackendConfigError (code ERR_BACKEND_CONFIG) naming the key, as the original does.
 * Codec names are case-insensitive and returned upper-case ('auto' stays lower-case).
 */
export function coerceCogConfig(config?: Record<string, unknown> | null): CogConfig {
  return checkCogConfig(config, cogCompressions());
}

/**
 * Converts any GDAL-readable raster `src` to a Cloud-Optimized GeoTIFF at `dst` (written to a
 * temporary file in dst's directory and renamed into place when complete). Palette images are
 * expanded to RGB(A). `config` follows COG_CONFIG_DEFAULTS.
 */
export function writeCog(src: string, dst: string, config?: Record<string, unknown> | null): void {
  v.string(src, 'src');
  v.string(dst, 'dst');
  native.writeCog(gdalSource(src), dst, nativeCogOptions(coerceCogConfig(config)));
}

/** writeCog on the libuv pool. */
export function writeCogAsync(src: string, dst: string, config?: Record<string, unknown> | null): Promise<void> {
  return writeCogTaggedAsync(src, dst, config, undefined);
}

/**
 * @internal writeCogAsync that also writes dataset metadata items into the COG's header (GDAL's
 * metadata tag): cache entries carry their identity this way (lib/cache/entry.ts).
 */
export function writeCogTaggedAsync(src: string, dst: string, config: Record<string, unknown> | null | undefined,
  metadata: Record<string, string> | undefined): Promise<void> {
  try {
    v.string(src, 'src');
    v.string(dst, 'dst');
    const opts = nativeCogOptions(coerceCogConfig(config));
    if (metadata !== undefined) opts.metadata = metadata;
    return withCallSite(() => native.writeCogAsync(gdalSource(src), dst, opts));
  } catch (err) {
    return Promise.reject(err);
  }
}

/** @internal writeCog with metadata items (see writeCogTaggedAsync). */
export function writeCogTagged(src: string, dst: string, config: Record<string, unknown> | null | undefined,
  metadata: Record<string, string> | undefined): void {
  v.string(src, 'src');
  v.string(dst, 'dst');
  const opts = nativeCogOptions(coerceCogConfig(config));
  if (metadata !== undefined) opts.metadata = metadata;
  native.writeCog(gdalSource(src), dst, opts);
}

/** @internal Where the header of a local COG ends (its first tile's data), on the libuv pool; 0 if not a tiled GeoTIFF. */
export function cogHeaderLengthAsync(file: string): Promise<number> {
  return withCallSite(() => native.cogHeaderLengthAsync(v.string(file, 'path')));
}

/** True when `file` already is a Cloud-Optimized GeoTIFF (the rules of GDAL's validator). */
export function isCog(file: string): boolean {
  v.string(file, 'path');
  return native.isCog(gdalSource(file));
}

/** Decodes all of `src` with GDAL (palettes expanded) and writes it as an HWC .npy at `dst`, atomically. */
export function convertToNpy(src: string, dst: string): void {
  v.string(src, 'src');
  v.string(dst, 'dst');
  refuseVirtualNpy(dst);
  native.convertToNpy(gdalSource(src), dst);
}

/** convertToNpy on the libuv pool. */
export function convertToNpyAsync(src: string, dst: string): Promise<void> {
  try {
    v.string(src, 'src');
    v.string(dst, 'dst');
    refuseVirtualNpy(dst);
    return withCallSite(() => native.convertToNpyAsync(gdalSource(src), dst));
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
    if (d === undefined) {
      throw v.typeError(`options.driver, or a path ending in ${Object.keys(DRIVER_BY_EXT).join(', ')}`, 'path', file);
    }
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

/** The default of setPixelLimit: 2^34 pixels (131072 x 131072). */
export const DEFAULT_PIXEL_LIMIT = 2 ** 34;

/**
 * Sets this thread's limit on the pixels (height x width) a raster source may declare; sources
 * over it are refused with ERR_TOO_LARGE when opened, converted or written as a COG (a job keeps
 * the limit it started with). Returns the previous limit. The decode-ratio rule
 * (docs/api.md, "Bounded cost") applies whatever the limit.
 */
export function setPixelLimit(n: number): number {
  return native.setPixelLimit(v.integer(n, 'n', 1));
}

/** The GDAL version the addon runs with, e.g. '3.6.2'. */
export function gdalVersion(): string {
  return native.gdalVersion();
}

/** True when this GDAL build has the driver `name` (e.g. 'COG', 'PNG'). */
export function hasDriver(name: string): boolean {
  return native.hasDriver(v.string(name, 'name'));
}

// ---- remote files: lib/remote-io.ts (re-exported here, the package's GDAL face) ----------------

export {
  REMOTE_DEFAULTS, applyRemoteDefaults, setRemoteOptions, statRemote, statRemoteAsync, readRemoteFile,
  readRemoteFileAsync, uploadFile, uploadFileAsync, listRemoteDir, clearRemoteCache,
} from './remote-io';
export type { RemoteStat } from './remote-io';
