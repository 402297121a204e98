/**
 * The cache layer under Frames and AlignableImageData: backend configs, hashids, cache entries
 * (build, freshness, sidecars) and a bounded pool of open readers.
 *
 * Threads: everything here runs on the calling JS thread; the *Async builders run the pixel work
 * (GDAL decode, npy/COG writing) on the libuv pool through the native async converters.
 *
 * Cache entry invariants:
 * - An entry is one file `<cacheDpath>/<ab>/<hashid>.npy` or `.cog.tif` (or, for a source that
 *   already is a COG on the cog backend, a symlink to the source). The native writers write a temp
 *   file in the same directory and rename it into place, so readers only ever see complete files
 *   under final names, and several processes may build the same entry at once (last rename wins,
 *   both write the same bytes).
 * - Next to each entry a sidecar `<entry>.src.json` records the source's size and mtime as they
 *   were before the build started. In PATH mode an entry whose sidecar is missing or disagrees with
 *   the source's current size/mtime is stale and is rebuilt. The sidecar is written (atomically)
 *   only after the entry, so a crash in between leaves a stale entry, never a wrong "fresh" one.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { debuglog } from 'node:util';
import { DEFAULT_COG_CONFIG as COG_CONFIG_DEFAULTS, coerceCogConfig, writeCog, writeCogAsync } from './cog';
import { BackendConfigError, FileError, FramesError } from './errors';
import { native } from './native';
import { openImage } from './readers';
import type { ImageReader } from './readers';
import * as v from './validate';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { XXHash128 } = require('xxhash-addon') as typeof import('xxhash-addon');

const debug = debuglog('ndsampler');

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
export const DEFAULT_COG_CONFIG: Readonly<BackendConfig> = Object.freeze({
  type: 'cog' as const,
  config: Object.freeze({ ...COG_CONFIG_DEFAULTS }) as Record<string, unknown>,
});

const backendError = (msg: string) => new BackendConfigError('ERR_BACKEND_CONFIG', msg);

/**
 * Coerces a backend spec into `{type, config}` with every config key filled from the defaults.
 * Unknown keys at either level are an ERR_BACKEND_CONFIG error naming the key.
 */
export function coerceBackendConfig(backend: unknown,
  defaults: { npy: Readonly<BackendConfig>; cog: Readonly<BackendConfig> } = { npy: DEFAULT_NPY_CONFIG, cog: DEFAULT_COG_CONFIG }): BackendConfig {
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
  if (type === 'auto') type = native.hasDriver('COG') ? 'cog' : 'npy';
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
  return XXHash128.hash(Buffer.from(s, 'utf8')).toString('hex');
}

const HASH_CHUNK = 1 << 20;

/** 32 hex digits of XXH3-128 of a file's bytes, read in 1 MiB chunks (synchronous). */
export function hashFile(file: string): string {
  // The seed buffer is required: xxhash-addon 2.1 crashes when constructed without one.
  const h = new XXHash128(Buffer.alloc(8));
  const buf = Buffer.allocUnsafe(HASH_CHUNK);
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    throw fileError(err, file, 'open');
  }
  try {
    for (;;) {
      let n: number;
      try {
        n = fs.readSync(fd, buf, 0, HASH_CHUNK, null);
      } catch (err) {
        throw fileError(err, file, 'read');
      }
      if (n === 0) break;
      h.update(n === HASH_CHUNK ? buf : buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return h.digest().toString('hex');
}

/**
 * The same hash as hashFile, with the file read asynchronously (the libuv pool does the I/O; the
 * calling thread only hashes each 1 MiB chunk as it arrives), so the event loop keeps turning.
 */
export async function hashFileAsync(file: string): Promise<string> {
  const h = new XXHash128(Buffer.alloc(8));
  const buf = Buffer.allocUnsafe(HASH_CHUNK);
  let fh: fs.promises.FileHandle;
  try {
    fh = await fs.promises.open(file, 'r');
  } catch (err) {
    throw fileError(err, file, 'open');
  }
  try {
    for (;;) {
      let n: number;
      try {
        ({ bytesRead: n } = await fh.read(buf, 0, HASH_CHUNK, null));
      } catch (err) {
        throw fileError(err, file, 'read');
      }
      if (n === 0) break;
      h.update(n === HASH_CHUNK ? buf : buf.subarray(0, n));
    }
  } finally {
    await fh.close();
  }
  return h.digest().toString('hex');
}

/** A FileError for a failed fs call (ENOENT becomes ERR_SOURCE_MISSING). */
export function fileError(err: unknown, file: string, syscall: string): FileError {
  const e = err as NodeJS.ErrnoException;
  const code = e.code === 'ENOENT' ? 'ERR_SOURCE_MISSING' : e.code === 'EISDIR' ? 'ERR_NOT_A_FILE' : 'ERR_IO';
  return new FileError(code, `${syscall} '${file}': ${e.message}`, {
    path: file, errno: typeof e.errno === 'number' ? e.errno : undefined, syscall, cause: err,
  });
}

/** Hashids name files: letters, digits, '_', '-' and '.', at least two characters, no leading '.'. */
export function checkHashid(hashid: unknown, what: string): string {
  if (typeof hashid !== 'string' || !/^[A-Za-z0-9_-][A-Za-z0-9_.-]+$/.test(hashid) || hashid.length > 200) {
    throw new FramesError('ERR_HASHID',
      `${what}: a hashid must be a string of 2 to 200 letters, digits, '_', '-' or '.' (not starting with '.'); received ${v.describe(hashid)}`);
  }
  return hashid;
}

/** `.npy` sources are already mmap-able arrays: every backend serves them directly, without a cache entry. */
export const isNpyPath = (file: string): boolean => path.extname(file).toLowerCase() === '.npy';

export const CACHE_EXT: Readonly<Record<BackendType, string>> = { npy: '.npy', cog: '.cog.tif' };

/** `<cacheDpath>/<ab>/<hashid><ext>`: entries fanned out by the first two characters of the hashid. */
export function cachePathFor(cacheDpath: string, hashid: string, type: BackendType): string {
  return path.join(cacheDpath, hashid.slice(0, 2).toLowerCase(), hashid + CACHE_EXT[type]);
}

// ---- sidecars and freshness --------------------------------------------------------------------

interface SourceStamp { size: number; mtimeNs: string }
interface Sidecar extends SourceStamp { version: 1; source: string }

export const sidecarPath = (entry: string): string => `${entry}.src.json`;

function statSource(file: string): SourceStamp {
  let st: fs.BigIntStats;
  try {
    st = fs.statSync(file, { bigint: true });
  } catch (err) {
    throw fileError(err, file, 'stat');
  }
  if (!st.isFile()) {
    throw new FileError('ERR_NOT_A_FILE', `'${file}' is not a regular file`, { path: file });
  }
  return { size: Number(st.size), mtimeNs: st.mtimeNs.toString() };
}

function readSidecar(entry: string): Sidecar | null {
  try {
    const s = JSON.parse(fs.readFileSync(sidecarPath(entry), 'utf8')) as Sidecar;
    return s && s.version === 1 && typeof s.size === 'number' && typeof s.mtimeNs === 'string' ? s : null;
  } catch {
    return null;
  }
}

/** Unique name for a temporary file next to `file` (same directory, so rename() is atomic). */
export function tempName(file: string, ext = '.tmp'): string {
  return `${file}.${process.pid}.${randomBytes(6).toString('hex')}${ext}`;
}

/** Writes a small file atomically: temp file, fsync, rename. */
export function writeFileAtomic(file: string, text: string): void {
  const tmp = tempName(file);
  try {
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeSync(fd, text);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (err) {
    try { fs.unlinkSync(tmp); } catch { /* it was never created or already renamed */ }
    throw fileError(err, file, 'write');
  }
}

export type EntryState = 'fresh' | 'missing' | 'stale';

/**
 * The state of a channel's cache entry. PATH-mode entries are stale when their sidecar is missing
 * or records another size/mtime than the source has now (a vanished source keeps its cache).
 */
export function entryState(chan: ChannelInfo): EntryState {
  const entry = chan.cache as string;
  try {
    fs.statSync(entry);
  } catch {
    return 'missing';
  }
  if (chan.hashidMode !== 'PATH') return 'fresh';
  const side = readSidecar(entry);
  if (side === null) return 'stale';
  let now: fs.BigIntStats;
  try {
    now = fs.statSync(chan.path, { bigint: true });
  } catch {
    return 'fresh';
  }
  return side.size === Number(now.size) && side.mtimeNs === now.mtimeNs.toString() ? 'fresh' : 'stale';
}

function linkAtomic(target: string, entry: string): void {
  const tmp = tempName(entry);
  try {
    fs.symlinkSync(path.resolve(target), tmp);
    fs.renameSync(tmp, entry);
  } catch (err) {
    try { fs.unlinkSync(tmp); } catch { /* not created */ }
    throw fileError(err, entry, 'symlink');
  }
}

function finishEntry(chan: ChannelInfo, stamp: SourceStamp): void {
  const entry = chan.cache as string;
  const side: Sidecar = { version: 1, source: path.resolve(chan.path), ...stamp };
  writeFileAtomic(sidecarPath(entry), JSON.stringify(side));
}

function startEntry(chan: ChannelInfo): SourceStamp {
  if (typeof chan.cache !== 'string') throw new FramesError('ERR_PATHINFO', `channel '${chan.path}' has no cache entry to build`);
  const stamp = statSource(chan.path);
  try {
    fs.mkdirSync(path.dirname(chan.cache), { recursive: true });
  } catch (err) {
    throw fileError(err, path.dirname(chan.cache), 'mkdir');
  }
  return stamp;
}

/** Builds (or rebuilds) a channel's cache entry on the calling thread. */
export function buildEntrySync(chan: ChannelInfo, backend: BackendConfig): void {
  const stamp = startEntry(chan);
  const entry = chan.cache as string;
  debug('build %s entry %s <- %s', backend.type, entry, chan.path);
  if (backend.type === 'npy') native.convertToNpy(chan.path, entry);
  else if (native.isCog(chan.path)) linkAtomic(chan.path, entry);
  else writeCog(chan.path, entry, backend.config);
  finishEntry(chan, stamp);
}

/** Builds a channel's cache entry with the conversion on the libuv pool. */
export async function buildEntryAsync(chan: ChannelInfo, backend: BackendConfig): Promise<void> {
  const stamp = startEntry(chan);
  const entry = chan.cache as string;
  debug('build %s entry %s <- %s (async)', backend.type, entry, chan.path);
  if (backend.type === 'npy') await native.convertToNpyAsync(chan.path, entry);
  else if (native.isCog(chan.path)) linkAtomic(chan.path, entry);
  else await writeCogAsync(chan.path, entry, backend.config);
  finishEntry(chan, stamp);
}

// ---- open readers --------------------------------------------------------------------------

/** An open reader in a ReaderPool; `evicted` is set once the pool has let go of it. */
export interface PoolEntry { reader: ImageReader; tick: number; inflight: number; evicted: boolean }

/**
 * A bounded set of open readers keyed by file, evicting the least recently used. A reader with
 * async reads in flight is closed only once they settle. Closing an npy reader leaves every view
 * it handed out valid (the mapping is ref-counted natively).
 */
export class ReaderPool {
  #map = new Map<string, PoolEntry>();
  #tick = 0;
  #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  get max(): number {
    return this.#max;
  }

  set max(n: number) {
    this.#max = n;
    this.#trim();
  }

  get size(): number {
    return this.#map.size;
  }

  get(key: string): PoolEntry | undefined {
    const e = this.#map.get(key);
    if (e !== undefined) e.tick = ++this.#tick;
    return e;
  }

  /** Marks an entry (held by the caller) as just used. */
  touch(e: PoolEntry): void {
    e.tick = ++this.#tick;
  }

  add(key: string, reader: ImageReader): PoolEntry {
    const old = this.#map.get(key);
    if (old !== undefined) this.#retire(key, old);
    const e: PoolEntry = { reader, tick: ++this.#tick, inflight: 0, evicted: false };
    this.#map.set(key, e);
    this.#trim();
    return e;
  }

  /** Drops (and closes, when idle) the reader for `key`, e.g. before its file is rebuilt. */
  drop(key: string): void {
    const e = this.#map.get(key);
    if (e !== undefined) this.#retire(key, e);
  }

  release(e: PoolEntry): void {
    e.inflight--;
    if (e.evicted && e.inflight === 0) e.reader.close();
  }

  clear(): void {
    for (const [key, e] of this.#map) this.#retire(key, e);
  }

  #retire(key: string, e: PoolEntry): void {
    this.#map.delete(key);
    e.evicted = true;
    if (e.inflight === 0) e.reader.close();
  }

  #trim(): void {
    while (this.#map.size > this.#max) {
      let oldKey: string | undefined;
      let oldest = Infinity;
      for (const [key, e] of this.#map) {
        if (e.tick < oldest) {
          oldest = e.tick;
          oldKey = key;
        }
      }
      if (oldKey === undefined) return;
      debug('reader pool: evict %s', oldKey);
      this.#retire(oldKey, this.#map.get(oldKey) as PoolEntry);
    }
  }
}

/**
 * How a channel is opened:
 * - 'build': the cache entry (built first, synchronously or on the pool, when missing or stale);
 * - 'ifExists': the cache entry when it is there and fresh, otherwise the source (never builds);
 * - 'source': the source file.
 */
export type OpenMode = 'build' | 'ifExists' | 'source';

/** A reader pinned open until release() (for async reads). */
export interface ReaderLease {
  reader: ImageReader;
  release(): void;
}

/** What AlignableImageData reads channels through: Frames's own opener or a standalone one. */
export interface ChannelOpener {
  open(chan: ChannelInfo, mode: OpenMode): ImageReader;
  openAsync(chan: ChannelInfo, mode: OpenMode): Promise<ReaderLease>;
}

export const DEFAULT_MAX_READERS = 32;

/** Opens channels through their cache entries, building them on demand; one per backend. */
export class CacheOpener implements ChannelOpener {
  readonly backend: BackendConfig;
  readonly pool: ReaderPool;
  /** Entries being built by this object (async), so concurrent requests share one build. */
  #building = new Map<string, Promise<void>>();

  constructor(backend: BackendConfig, maxReaders = DEFAULT_MAX_READERS) {
    this.backend = backend;
    this.pool = new ReaderPool(maxReaders);
  }

  /** The channel's cache entry if this backend can serve it (its extension matches the type), else null. */
  #entry(chan: ChannelInfo): string | null {
    const entry = chan.cache;
    const type = this.backend.type;
    return type !== null && typeof entry === 'string' && entry.endsWith(CACHE_EXT[type]) ? entry : null;
  }

  /** Which file `mode` reads for `chan` right now, building synchronously when needed. */
  #target(chan: ChannelInfo, mode: OpenMode): string {
    const entry = this.#entry(chan);
    if (mode === 'source' || entry === null) return chan.path;
    if (this.pool.get(entry) !== undefined) return entry;
    const state = entryState(chan);
    if (state === 'fresh') return entry;
    if (mode === 'ifExists') return chan.path;
    this.pool.drop(entry);
    buildEntrySync(chan, this.backend);
    return entry;
  }

  open(chan: ChannelInfo, mode: OpenMode): ImageReader {
    return this.#openFile(this.#target(chan, mode)).reader;
  }

  /** As open, returning the pool entry (its `evicted` flag tells when to stop reusing it). */
  openEntry(chan: ChannelInfo, mode: OpenMode): PoolEntry {
    return this.#openFile(this.#target(chan, mode));
  }

  /** Ensures the entry exists and is fresh (synchronously). Returns true when it had to be built. */
  ensure(chan: ChannelInfo): boolean {
    const entry = this.#entry(chan);
    if (entry === null) return false;
    if (entryState(chan) === 'fresh') return false;
    this.pool.drop(entry);
    buildEntrySync(chan, this.backend);
    return true;
  }

  /** Ensures the entry exists and is fresh, converting on the libuv pool. Resolves true when it built it. */
  async ensureAsync(chan: ChannelInfo): Promise<boolean> {
    const entry = this.#entry(chan);
    if (entry === null) return false;
    const pending = this.#building.get(entry);
    if (pending !== undefined) {
      await pending;
      return false;
    }
    if (entryState(chan) === 'fresh') return false;
    this.pool.drop(entry);
    const job = buildEntryAsync(chan, this.backend);
    this.#building.set(entry, job);
    try {
      await job;
    } finally {
      this.#building.delete(entry);
    }
    return true;
  }

  async openAsync(chan: ChannelInfo, mode: OpenMode): Promise<ReaderLease> {
    let file = chan.path;
    const entry = this.#entry(chan);
    if (mode !== 'source' && entry !== null) {
      if (this.pool.get(entry) !== undefined) {
        file = entry;
      } else if (mode === 'build') {
        await this.ensureAsync(chan);
        file = entry;
      } else if (entryState(chan) === 'fresh') {
        file = entry;
      }
    }
    const e = this.#openFile(file);
    e.inflight++;
    let released = false;
    return {
      reader: e.reader,
      release: () => {
        if (!released) {
          released = true;
          this.pool.release(e);
        }
      },
    };
  }

  #openFile(file: string): PoolEntry {
    const hit = this.pool.get(file);
    if (hit !== undefined) return hit;
    debug('open %s', file);
    return this.pool.add(file, openImage(file));
  }

  close(): void {
    this.pool.clear();
  }
}
