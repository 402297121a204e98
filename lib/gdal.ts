/**
 * The GDAL helpers (the binding's GDAL face; docs/architecture.md lists the modules that call the
 * binding). writeCog /
 * writeCogAsync (GDAL's COG driver, in process, published by native/core's atomic writer),
 * isCog, conversion of any GDAL-readable source to an npy cache file, writeRaster, the per-env
 * tile-cache and dataset-handle controls, gdalVersion and hasDriver, and remote files (stat with
 * the server's identity, small reads, uploads, GDAL's remote options). Everything runs on the
 * calling thread; the *Async functions do their work on the libuv pool. Source and destination
 * paths may be URL forms (`https://`, `s3://`, ...: lib/remote/url.ts maps them onto GDAL).
 */
import * as path from 'node:path';
import { checkCogConfig, nativeCogOptions } from './cog-config';
import { FileError, NdsamplerError, withCallSite } from './errors';
import type { CogConfig } from './cog-config';
import { checkArray } from './ndarray';
import type { NDArray } from './ndarray';
import { native } from './native';
import { refuseVirtualNpy } from './readers';
import type { DatasetStats, NativeRemoteStat, TileCacheStats } from './native';
import { isRemote, toGdalPath } from './remote/url';
import * as v from './validate';

/** A source path as GDAL takes it; remote ones also get the remote defaults first. */
function gdalSource(p: string): string {
  if (!isRemote(p)) return p;
  applyRemoteDefaults();
  return toGdalPath(p);
}

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
  try {
    v.string(src, 'src');
    v.string(dst, 'dst');
    const opts = nativeCogOptions(coerceCogConfig(config));
    return withCallSite(() => native.writeCogAsync(gdalSource(src), dst, opts));
  } catch (err) {
    return Promise.reject(err);
  }
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

// ---- remote files --------------------------------------------------------------------------

/**
 * GDAL options the library sets for remote reads, each only when neither the user's environment
 * nor a GDAL config option already sets it (see setRemoteOptions). GDAL_DISABLE_READDIR_ON_OPEN
 * is not here: it is set to EMPTY_DIR thread-locally around each open of a remote path only
 * (native/raster/path_checks.h), because process-wide it would also hide local side files.
 */
export const REMOTE_DEFAULTS: Readonly<Record<string, string>> = Object.freeze({
  GDAL_HTTP_MAX_RETRY: '3',
  GDAL_HTTP_RETRY_DELAY: '0.5',
  CPL_VSIL_CURL_CACHE_SIZE: String(64 << 20),
  GDAL_HTTP_CONNECTTIMEOUT: '10',
  GDAL_HTTP_TIMEOUT: '120',
});

let defaultsApplied = false;

/** Sets REMOTE_DEFAULTS once per process, each key only when GDAL has no value for it yet. */
export function applyRemoteDefaults(): void {
  if (defaultsApplied) return;
  defaultsApplied = true;
  const unset: Record<string, string> = {};
  for (const [k, val] of Object.entries(REMOTE_DEFAULTS)) if (native.getConfigOption(k) === null) unset[k] = val;
  native.setConfigOptions(unset, '');
}

/**
 * Sets GDAL options for remote files: endpoints, credentials, retries, caches (`AWS_S3_ENDPOINT`,
 * `AWS_ACCESS_KEY_ID`, `GDAL_HTTP_MAX_RETRY`, ...; a null value unsets one). With `prefix`
 * (`s3://bucket`, `/vsis3/bucket/dir`, `https://host/path`) they apply to paths under it only
 * (GDAL's path-specific options), otherwise process-wide (GDAL config options are one per process:
 * every thread and worker thread sees them). Values given here override REMOTE_DEFAULTS and the
 * environment.
 */
export function setRemoteOptions(opts: Record<string, string | number | boolean | null>, where?: { prefix?: string }): void {
  if (!v.isPlainObject(opts)) throw v.typeError('an object of GDAL option names to values', 'options', opts);
  const w = v.options(where, 'where', ['prefix'] as const) as { prefix?: string };
  const prefix = w.prefix === undefined ? '' : toGdalPath(v.string(w.prefix, 'where.prefix'));
  const values: Record<string, string | null> = {};
  for (const [k, val] of Object.entries(opts)) {
    if (!/^[A-Z][A-Z0-9_]*$/.test(k)) throw v.typeError('a GDAL option name (upper case, digits, _)', 'options key', k);
    if (val !== null && typeof val !== 'string' && typeof val !== 'number' && typeof val !== 'boolean') {
      throw v.typeError('a string, number, boolean or null', `options.${k}`, val);
    }
    values[k] = val === null ? null : typeof val === 'boolean' ? (val ? 'YES' : 'NO') : String(val);
  }
  applyRemoteDefaults();
  native.setConfigOptions(values, prefix);
}

/** What a server reports about an object: its size, and its ETag / Last-Modified when sent. */
export interface RemoteStat {
  size: number;
  /** Seconds since the epoch (from Last-Modified; 0 when unknown). */
  mtime: number;
  etag: string | null;
  lastModified: string | null;
}

/** HTTP status in a native error message ("(HTTP 403)"), or undefined. */
function statusOf(message: string): number | undefined {
  const m = /\(HTTP (\d{3})\)/.exec(message);
  return m === null ? undefined : Number(m[1]);
}

/** Adds `status` to a coded remote error from the addon. */
function withStatus(err: unknown): unknown {
  if (err instanceof NdsamplerError && (err.code === 'ERR_REMOTE' || err.code === 'ERR_SOURCE_MISSING')) {
    const status = statusOf(err.message);
    if (status !== undefined) (err as NdsamplerError & { status?: number }).status = status;
  }
  return err;
}

/** The coded error for a failed statRemote: 404 (or nothing found) ERR_SOURCE_MISSING, else ERR_REMOTE. */
function remoteFailure(file: string, r: NativeRemoteStat): FileError {
  const detail = r.message === '' ? 'no such object' : r.message;
  if (r.status === 404 || (r.status === 0 && r.errnum === 0)) {
    return new FileError('ERR_SOURCE_MISSING', `'${file}' does not exist on its server: ${detail}`, { path: file, status: r.status || 404 });
  }
  const how = r.status === 0 ? 'no HTTP response' : `HTTP ${r.status}`;
  return new FileError('ERR_REMOTE', `cannot reach '${file}' (${how}): ${detail}`,
    { path: file, status: r.status === 0 ? undefined : r.status });
}

/**
 * The server's facts about a remote object (GDAL's VSIStatExL and the response headers).
 * `fresh`: ask the server again rather than GDAL's cache. Throws ERR_SOURCE_MISSING (404),
 * ERR_REMOTE (any other failure, with `status`; auth failures are 403), ERR_NOT_A_FILE (a "directory").
 */
export function statRemote(file: string, opts?: { fresh?: boolean }): RemoteStat {
  v.string(file, 'path');
  const o = v.options(opts, 'options', ['fresh'] as const) as { fresh?: boolean };
  const fresh = o.fresh === undefined ? false : v.boolean(o.fresh, 'options.fresh');
  const r = native.statRemote(gdalSource(file), fresh);
  if (!r.exists) throw remoteFailure(file, r);
  if (r.isFile === false) throw new FileError('ERR_NOT_A_FILE', `'${file}' is a directory on its server, not an image`, { path: file });
  return { size: r.size ?? 0, mtime: r.mtime ?? 0, etag: r.etag || null, lastModified: r.lastModified || null };
}

/**
 * `err` from opening `file`, or the precise error when `file` is remote and the open failed
 * because of its server: ERR_SOURCE_MISSING (404) or ERR_REMOTE (with `status`), asked again of
 * the server. GDAL's open error only says "cannot open".
 */
export function remoteOpenError(file: string, err: unknown): unknown {
  if (!isRemote(file) || !(err instanceof NdsamplerError) || (err.code !== 'ERR_GDAL_OPEN' && err.code !== 'ERR_GDAL_READ')) return err;
  try {
    statRemote(file, { fresh: true });
  } catch (precise) {
    if (precise instanceof NdsamplerError) {
      (precise as NdsamplerError & { cause?: unknown }).cause = err;
      return precise;
    }
  }
  return err;
}

/** A whole (small) remote or local file through GDAL's VSI layer (manifests). */
export function readRemoteFile(file: string, maxBytes = 256 << 20): Buffer {
  v.string(file, 'path');
  try {
    return native.readVsiFile(gdalSource(file), maxBytes);
  } catch (err) {
    throw withStatus(err);
  }
}

/**
 * Copies `src` to `dst` through GDAL's VSI layer: a local file to a remote one is an upload (one
 * PUT; an atomic multipart upload when larger than GDAL's chunk size), a remote one to a local
 * path a download (the caller publishes it: this writes `dst` in place).
 */
export function uploadFile(src: string, dst: string): void {
  v.string(src, 'src');
  v.string(dst, 'dst');
  try {
    native.uploadFile(gdalSource(src), gdalSource(dst));
  } catch (err) {
    throw withStatus(err);
  }
}

/** The names in a remote "directory" (a listing of an object-store prefix); [] when there is none. */
export function listRemoteDir(dir: string): string[] {
  return native.listDir(gdalSource(v.string(dir, 'path')));
}

/** uploadFile on the libuv pool. (Either side may be remote: the copy goes through GDAL's VSI layer.) */
export async function uploadFileAsync(src: string, dst: string): Promise<void> {
  v.string(src, 'src');
  v.string(dst, 'dst');
  try {
    await withCallSite(() => native.uploadFileAsync(gdalSource(src), gdalSource(dst)));
  } catch (err) {
    throw withStatus(err);
  }
}

/** Drops GDAL's cached facts and blocks of remote files under `prefix` (all of them without one). */
export function clearRemoteCache(prefix?: string): void {
  native.clearRemoteCache(prefix === undefined || prefix === '' ? '' : toGdalPath(v.string(prefix, 'prefix')));
}
