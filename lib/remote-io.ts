/**
 * Remote files through GDAL's VSI layer (the binding's face of native/raster/remote_io.*): GDAL's
 * remote options and their defaults, stat with the server's identity, whole-file reads of small
 * objects (manifests), copies (uploads and downloads), listings. Each call that reaches a server
 * has an async twin that runs on the libuv pool; the synchronous ones block the calling thread for
 * as long as the server takes, within the timeouts of REMOTE_DEFAULTS (see docs/distributed.md,
 * "Time bounds"). Paths may be URL forms (lib/remote/url.ts maps them onto GDAL).
 */
import { FileError, NdsamplerError, withCallSite } from './errors';
import { native } from './native';
import type { NativeRemoteStat } from './native';
import { isRemote, toGdalPath } from './remote/url';
import * as v from './validate';

/**
 * GDAL options the library sets for remote reads, each only when neither the user's environment
 * nor a GDAL config option already sets it (see setRemoteOptions). Every request is bounded:
 * connecting by GDAL_HTTP_CONNECTTIMEOUT, a whole request by GDAL_HTTP_TIMEOUT, and a server that
 * stops sending (or never answers) by the low-speed rule: less than GDAL_HTTP_LOW_SPEED_LIMIT bytes/s
 * for GDAL_HTTP_LOW_SPEED_TIME seconds. GDAL_DISABLE_READDIR_ON_OPEN is not here: it is set to
 * EMPTY_DIR thread-locally around each open of a remote path only (native/raster/path_checks.h),
 * because process-wide it would also hide local side files.
 */
export const REMOTE_DEFAULTS: Readonly<Record<string, string>> = Object.freeze({
  GDAL_HTTP_MAX_RETRY: '3',
  GDAL_HTTP_RETRY_DELAY: '0.5',
  CPL_VSIL_CURL_CACHE_SIZE: String(64 << 20),
  GDAL_HTTP_CONNECTTIMEOUT: '10',
  GDAL_HTTP_TIMEOUT: '120',
  GDAL_HTTP_LOW_SPEED_TIME: '30',
  GDAL_HTTP_LOW_SPEED_LIMIT: '1',
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

/** A path as GDAL takes it; remote ones also get the remote defaults first. */
export function gdalSource(p: string): string {
  if (!isRemote(p)) return p;
  applyRemoteDefaults();
  return toGdalPath(p);
}

/**
 * Sets GDAL options for remote files: endpoints, credentials, retries, timeouts, caches
 * (`AWS_S3_ENDPOINT`, `AWS_ACCESS_KEY_ID`, `GDAL_HTTP_MAX_RETRY`, `GDAL_HTTP_TIMEOUT`, ...; a null
 * value unsets one). With `prefix` (`s3://bucket`, `/vsis3/bucket/dir`, `https://host/path`) they
 * apply to paths under it only (GDAL's path-specific options), otherwise process-wide (GDAL config
 * options are one per process: every thread and worker thread sees them). Values given here
 * override REMOTE_DEFAULTS and the environment.
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

/**
 * The coded error for a failed stat: 404 (or nothing found) ERR_SOURCE_MISSING, anything else
 * ERR_REMOTE with `status` (when the server answered) and `reason`.
 */
function remoteFailure(file: string, r: NativeRemoteStat): FileError {
  const detail = r.message === '' ? 'no such object' : r.message;
  if (r.status === 404 || r.status === 410 || (r.status === 0 && r.reason === '' && r.errnum === 0)) {
    return new FileError('ERR_SOURCE_MISSING', `'${file}' does not exist on its server: ${detail}`,
      { path: file, status: r.status || 404, reason: 'http' });
  }
  const how = r.status !== 0 ? `HTTP ${r.status}` : r.reason === 'timeout' ? 'timed out' : r.reason === 'connection' ? 'connection failed' : 'no HTTP response';
  return new FileError('ERR_REMOTE', `cannot reach '${file}' (${how}): ${detail}`,
    { path: file, status: r.status === 0 ? undefined : r.status, reason: r.reason || (r.status !== 0 ? 'http' : 'connection') });
}

function toStat(file: string, r: NativeRemoteStat): RemoteStat {
  if (!r.exists) throw remoteFailure(file, r);
  if (r.isFile === false) throw new FileError('ERR_NOT_A_FILE', `'${file}' is a directory on its server, not an image`, { path: file });
  return { size: r.size ?? 0, mtime: r.mtime ?? 0, etag: r.etag || null, lastModified: r.lastModified || null };
}

function statOptions(opts: unknown): boolean {
  const o = v.options(opts, 'options', ['fresh'] as const) as { fresh?: boolean };
  return o.fresh === undefined ? false : v.boolean(o.fresh, 'options.fresh');
}

/**
 * The server's facts about a remote object (GDAL's VSIStatExL and the response headers).
 * `fresh`: ask the server again rather than GDAL's cache. Throws ERR_SOURCE_MISSING (404),
 * ERR_REMOTE (any other failure, with `status` and `reason`; refused credentials are 403),
 * ERR_NOT_A_FILE (a "directory"). Blocks the calling thread (statRemoteAsync does not).
 */
export function statRemote(file: string, opts?: { fresh?: boolean }): RemoteStat {
  v.string(file, 'path');
  const fresh = statOptions(opts);
  return toStat(file, native.statRemote(gdalSource(file), fresh));
}

/** statRemote on the libuv pool. */
export async function statRemoteAsync(file: string, opts?: { fresh?: boolean }): Promise<RemoteStat> {
  v.string(file, 'path');
  const fresh = statOptions(opts);
  return toStat(file, await withCallSite(() => native.statRemoteAsync(gdalSource(file), fresh)));
}

/** Gives an error from the addon the URL the caller used as its path. */
function named(err: unknown, file: string): unknown {
  if (err instanceof NdsamplerError && isRemote(file) && err.path !== undefined && err.path !== file) err.path = file;
  return err;
}

/** A whole (small) remote or local file through GDAL's VSI layer (manifests). */
export function readRemoteFile(file: string, maxBytes = 256 << 20): Buffer {
  v.string(file, 'path');
  try {
    return native.readVsiFile(gdalSource(file), maxBytes);
  } catch (err) {
    throw named(err, file);
  }
}

/** readRemoteFile on the libuv pool. */
export async function readRemoteFileAsync(file: string, maxBytes = 256 << 20): Promise<Buffer> {
  v.string(file, 'path');
  try {
    return await withCallSite(() => native.readVsiFileAsync(gdalSource(file), maxBytes));
  } catch (err) {
    throw named(err, file);
  }
}

/**
 * Copies `src` to `dst` through GDAL's VSI layer: a local file to a remote one is an upload (one
 * PUT; an atomic multipart upload when larger than GDAL's chunk size), a remote one to a local
 * path a download (the caller publishes it: this writes `dst` in place). Blocks the calling thread.
 */
export function uploadFile(src: string, dst: string): void {
  v.string(src, 'src');
  v.string(dst, 'dst');
  native.uploadFile(gdalSource(src), gdalSource(dst));
}

/** uploadFile on the libuv pool. (Either side may be remote: the copy goes through GDAL's VSI layer.) */
export async function uploadFileAsync(src: string, dst: string): Promise<void> {
  v.string(src, 'src');
  v.string(dst, 'dst');
  await withCallSite(() => native.uploadFileAsync(gdalSource(src), gdalSource(dst)));
}

/** The names in a remote "directory" (a listing of an object-store prefix); [] when there is none. */
export function listRemoteDir(dir: string): string[] {
  return native.listDir(gdalSource(v.string(dir, 'path')));
}

/** Drops GDAL's cached facts and blocks of remote files under `prefix` (all of them without one). */
export function clearRemoteCache(prefix?: string): void {
  native.clearRemoteCache(prefix === undefined || prefix === '' ? '' : toGdalPath(v.string(prefix, 'prefix')));
}
