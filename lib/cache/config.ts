/**
 * Backend configs and hashing: the types a cache is described with (ImageId, ChannelInfo,
 * Pathinfo, BackendConfig), coerceBackendConfig, canonical JSON, and the XXH3-128 hashes that
 * name cache directories and entries. Runs on the calling thread (hashFileAsync reads on the
 * libuv pool). The hashes are xxhash-addon's XXHash128 digests, computed by the addon
 * (native/hash/xxh128.h says why that package's own binding is not called).
 */
import * as fs from 'node:fs';
import { COG_CONFIG_DEFAULTS } from '../cog-config';
import { BackendConfigError, FileError, FramesError, fsError } from '../errors';
import { coerceCogConfig, hasDriver } from '../gdal';
import * as v from '../validate';

import { native } from '../native';

export type ImageId = number | string;
export type HashidMode = 'PATH' | 'PIXELS' | 'GIVEN';
export const HASHID_MODES: readonly HashidMode[] = ['PATH', 'PIXELS', 'GIVEN'];
export type BackendType = 'npy' | 'cog';

/** A coerced backend: `type` null means no cache (reads go to the source). */
export interface BackendConfig {
  type: BackendType | null;
  config: Record<string, unknown>;
}
export type BackendSpec = null | undefined | 'npy' | 'cog' | 'auto'
  | { type?: BackendType | 'auto' | null; config?: Record<string, unknown> };

/** An affine transform as rows: 2x3 `[[a, b, tx], [c, d, ty]]` or 3x3 with last row [0, 0, 1]. x is the column, y the row. */
export type Affine = number[][];

/** One file of an image: a channel group stored in its own file. */
export interface ChannelInfo {
  /** The source file. */
  path: string;
  /** The channel spec of the file, e.g. 'r|g|b' (informational; the key in Pathinfo.channels names the group). */
  channels?: string | null;
  /** Set by populateChanInfo: the cache entry, or null when there is no backend (or the source is a .npy). */
  cache?: string | null;
  /** Set by populateChanInfo (PATH/PIXELS) or given by the subclass (GIVEN). */
  hashid?: string;
  /** Set by populateChanInfo: the mode the hashid was made with (PATH entries get a staleness check). */
  hashidMode?: HashidMode;
  /** Maps this file's pixel coordinates into the image grid; identity when absent. */
  warpAuxToImg?: Affine | null;
  [key: string]: unknown;
}

/** What buildPathinfo returns for an image. */
export interface Pathinfo {
  id: ImageId;
  /** Channel groups by name. */
  channels: Record<string, ChannelInfo>;
  /** The group that defines the image grid (null: none; then width and height must be given). */
  default: string | null;
  width?: number | null;
  height?: number | null;
  [key: string]: unknown;
}

export const DEFAULT_NPY_CONFIG: Readonly<BackendConfig> = Object.freeze({
  type: 'npy' as const,
  config: Object.freeze({}) as Record<string, unknown>,
});
/** The cog backend's defaults (Frames.DEFAULT_COG_CONFIG): `{type: 'cog', config: COG_CONFIG_DEFAULTS}`. */
export const DEFAULT_COG_BACKEND: Readonly<BackendConfig> = Object.freeze({
  type: 'cog' as const,
  config: Object.freeze({ ...COG_CONFIG_DEFAULTS }) as Record<string, unknown>,
});

const backendError = (msg: string) => new BackendConfigError('ERR_BACKEND_CONFIG', msg);

/**
 * Coerces a backend spec into `{type, config}` with every config key filled from the defaults.
 * Unknown keys at either level are an ERR_BACKEND_CONFIG error naming the key.
 */
export function coerceBackendConfig(backend: unknown,
  defaults: { npy: Readonly<BackendConfig>; cog: Readonly<BackendConfig> } = { npy: DEFAULT_NPY_CONFIG, cog: DEFAULT_COG_BACKEND }): BackendConfig {
  if (backend === null || backend === undefined) return { type: null, config: {} };
  let type: unknown;
  let config: unknown;
  if (typeof backend === 'string') {
    type = backend;
    config = undefined;
  } else if (v.isPlainObject(backend)) {
    for (const key of Object.keys(backend)) {
      if (key !== 'type' && key !== 'config') {
        throw backendError(`unknown backend key '${key}' (expected 'type' and 'config')`);
      }
    }
    if (!('type' in backend)) throw backendError(`backend.type is required ('npy', 'cog', 'auto' or null)`);
    type = backend.type;
    config = backend.config;
  } else {
    throw backendError(`backend must be null, 'npy', 'cog', 'auto' or {type, config}; received ${v.describe(backend)}`);
  }
  if (type === 'auto') type = hasDriver('COG') ? 'cog' : 'npy';
  if (config !== undefined && config !== null && !v.isPlainObject(config)) {
    throw backendError(`backend.config must be an object; received ${v.describe(config)}`);
  }
  const given = (config ?? {}) as Record<string, unknown>;
  if (type === null) {
    const key = Object.keys(given)[0];
    if (key !== undefined) throw backendError(`unknown config key '${key}' for backend type null (it takes no config)`);
    return { type: null, config: {} };
  }
  if (type === 'npy') {
    const allowed = Object.keys(defaults.npy.config);
    for (const key of Object.keys(given)) {
      if (!allowed.includes(key)) {
        throw backendError(`unknown config key '${key}' for the npy backend` +
          (allowed.length ? ` (expected one of ${allowed.join(', ')})` : ' (it takes no config)'));
      }
    }
    return { type: 'npy', config: { ...defaults.npy.config, ...given } };
  }
  if (type === 'cog') {
    return { type: 'cog', config: cogConfig({ ...defaults.cog.config, ...given }) };
  }
  throw backendError(`unknown backend type ${v.describe(type)} (expected 'npy', 'cog', 'auto' or null)`);
}

/** Validates COG config keys and values (the raster layer's rules) and returns the full config. */
function cogConfig(given: Record<string, unknown>): Record<string, unknown> {
  return { ...coerceCogConfig(given) } as Record<string, unknown>;
}

/** Canonical JSON: object keys sorted at every level, so equal configs hash equally. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, val: unknown) => {
    if (v.isPlainObject(val)) {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(val).sort()) out[k] = val[k];
      return out;
    }
    return val;
  });
}

/** 32 hex digits of XXH3-128 of a string (UTF-8). */
export function hashString(s: string): string {
  return native.xxh128(Buffer.from(s, 'utf8'));
}

const HASH_CHUNK = 1 << 20;
// O_NONBLOCK: should a FIFO replace the file between stat and open, the open does not wait for
// a writer (the fstat after it refuses it).
const OPEN_FLAGS = fs.constants.O_RDONLY | fs.constants.O_NONBLOCK;

/** ERR_NOT_A_FILE unless `st` is a regular file: directories, FIFOs, devices and sockets are never read. */
function requireRegular(st: fs.Stats, file: string, syscall: string): void {
  if (st.isFile()) return;
  const kind = st.isDirectory() ? 'a directory' : st.isFIFO() ? 'a FIFO' : st.isCharacterDevice() ? 'a character device'
    : st.isBlockDevice() ? 'a block device' : st.isSocket() ? 'a socket' : 'not a regular file';
  throw new FileError('ERR_NOT_A_FILE', `'${file}' is ${kind}, not an image file`, { path: file, syscall });
}

/** Opens a regular file for reading: stat first (a socket cannot be opened, a FIFO would block), fstat after. */
function openRegularSync(file: string): number {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (err) {
    throw fsError(err, file, 'stat');
  }
  requireRegular(st, file, 'stat');
  let fd: number;
  try {
    fd = fs.openSync(file, OPEN_FLAGS);
  } catch (err) {
    throw fsError(err, file, 'open');
  }
  try {
    requireRegular(fs.fstatSync(fd), file, 'fstat');
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
  return fd;
}

async function openRegular(file: string): Promise<fs.promises.FileHandle> {
  let st: fs.Stats;
  try {
    st = await fs.promises.stat(file);
  } catch (err) {
    throw fsError(err, file, 'stat');
  }
  requireRegular(st, file, 'stat');
  let fh: fs.promises.FileHandle;
  try {
    fh = await fs.promises.open(file, OPEN_FLAGS);
  } catch (err) {
    throw fsError(err, file, 'open');
  }
  try {
    requireRegular(await fh.stat(), file, 'fstat');
  } catch (err) {
    await fh.close();
    throw err;
  }
  return fh;
}

/**
 * 32 hex digits of XXH3-128 of a file's bytes, read in 1 MiB chunks (synchronous). Only regular
 * files are hashed (ERR_NOT_A_FILE otherwise: /dev/zero never ends, a FIFO blocks).
 */
export function hashFile(file: string): string {
  const h = new native.Xxh128();
  const buf = Buffer.allocUnsafe(HASH_CHUNK);
  const fd = openRegularSync(file);
  try {
    for (;;) {
      let n: number;
      try {
        n = fs.readSync(fd, buf, 0, HASH_CHUNK, null);
      } catch (err) {
        throw fsError(err, file, 'read');
      }
      if (n === 0) break;
      h.update(n === HASH_CHUNK ? buf : buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return h.digest();
}

/**
 * The same hash as hashFile, with the file read asynchronously (the libuv pool does the I/O; the
 * calling thread only hashes each 1 MiB chunk as it arrives), so the event loop keeps turning.
 */
export async function hashFileAsync(file: string): Promise<string> {
  const h = new native.Xxh128();
  const buf = Buffer.allocUnsafe(HASH_CHUNK);
  const fh = await openRegular(file);
  try {
    for (;;) {
      let n: number;
      try {
        ({ bytesRead: n } = await fh.read(buf, 0, HASH_CHUNK, null));
      } catch (err) {
        throw fsError(err, file, 'read');
      }
      if (n === 0) break;
      h.update(n === HASH_CHUNK ? buf : buf.subarray(0, n));
    }
  } finally {
    await fh.close();
  }
  return h.digest();
}

/** Hashids name files: letters, digits, '_', '-' and '.', at least two characters, no leading '.'. */
export function checkHashid(hashid: unknown, what: string): string {
  if (typeof hashid !== 'string' || !/^[A-Za-z0-9_-][A-Za-z0-9_.-]+$/.test(hashid) || hashid.length > 200) {
    throw new FramesError('ERR_HASHID',
      `${what}: a hashid must be a string of 2 to 200 letters, digits, '_', '-' or '.' (not starting with '.'); received ${v.describe(hashid)}`);
  }
  return hashid;
}

