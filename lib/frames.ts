/**
 * Frames: fast access to sub-regions of images. Every source image is converted once into a
 * cache entry (an npy file read through mmap, or a Cloud-Optimized GeoTIFF) under
 * `<workdir>/_cache/frames/<type>/<config-hash>/`, after which any crop costs about the same.
 *
 * Subclasses say which images exist (`imageIds`) and where their files are (`buildPathinfo`,
 * usually with `populateChanInfo`); Frames does hashing, caching, reading and preparing.
 *
 * Threads: every method runs on the calling thread. The *Async methods, loadRegions and prepare
 * do their pixel work (reads, conversions) on the libuv pool and never block the event loop on
 * it; opening a file and building a pathinfo (hashing a file in PIXELS mode) stay synchronous.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as fs from 'node:fs';
import { debuglog } from 'node:util';
import { AlignableImageData } from './alignable';
import type { Interpolation } from './alignable';
import {
  CacheOpener, cachePathFor, canonicalJson, checkHashid, coerceBackendConfig, DEFAULT_COG_CONFIG,
  DEFAULT_MAX_READERS, DEFAULT_NPY_CONFIG, HASHID_MODES, hashFile, hashFileAsync, hashString, isNpyPath, writeFileAtomic,
} from './cache';
import type { BackendConfig, BackendSpec, BackendType, ChannelInfo, HashidMode, ImageId, Pathinfo, PoolEntry } from './cache';
import { FramesError, NdsamplerError } from './errors';
import type { DType, NDArray, Shape3 } from './ndarray';
import type { ImageReader } from './readers';
import type { Region } from './region';
import * as v from './validate';

export type {
  Affine, BackendConfig, BackendSpec, BackendType, ChannelInfo, HashidMode, ImageId, Pathinfo,
} from './cache';

const debug = debuglog('ndsampler');

export interface FramesOptions {
  /** How each image's cache entry is named: 'PATH' (default), 'PIXELS' or 'GIVEN'. */
  hashidMode?: HashidMode;
  /** Where caches live (default: $XDG_CACHE_HOME/ndsampler or ~/.cache/ndsampler, with a warning). */
  workdir?: string;
  /** null (default: no cache), 'npy', 'cog', 'auto' or {type, config}. */
  backend?: BackendSpec;
  /** How many readers stay open at once (least recently used are closed; default 32). */
  maxReaders?: number;
}

export interface LoadRegionOptions {
  /** Channel groups or band names (images with several channel files). */
  channels?: string | string[];
  /** The image width, when known: a region ending there counts as the full image. */
  width?: number;
  /** The image height, when known. */
  height?: number;
  /** Write into this array (same shape and dtype as the region) instead of a new one. */
  out?: NDArray;
  /** Resampling of channels not on the image grid (default 'nearest'). */
  interpolation?: Interpolation;
}

export interface LoadImageOptions {
  channels?: string | string[];
  /** true (default): read through the cache entry, building it when missing; false: read the source. */
  cache?: boolean;
  /** Only ensure the cache entry; return undefined. */
  noreturn?: boolean;
}

export interface PrepareOptions {
  /** Images to prepare (default: all). */
  gids?: ImageId[];
  /** Conversions at once (default 0: one at a time). All run on the libuv pool. */
  workers?: number;
  /** Skip everything when a stamp says this image set and config were fully prepared (default true; only without gids). */
  useStamp?: boolean;
  /** Called after each cache entry is checked or built. */
  onProgress?: (done: number, total: number) => void;
  /** Reject with ERR_PREPARE (carrying the report) when any entry failed (default false: resolve with the report). */
  throwOnError?: boolean;
}

export interface PrepareFailure {
  imageId: ImageId;
  /** The channel group, when the failure was one file of the image. */
  channel?: string;
  error: Error;
}

/** What prepare() did. Counts are cache entries (one per channel file; one per image for SimpleFrames). */
export interface PrepareReport {
  built: number;
  reused: number;
  failed: PrepareFailure[];
  total: number;
  seconds: number;
  /** True when the stamp said everything was prepared and nothing was checked. */
  fromStamp: boolean;
  cacheDpath: string | null;
}

export interface LazyFrame {
  readonly imageId: ImageId;
  /** Opens the file's header on first use (no pixels are read). */
  readonly shape: Shape3;
  readonly dtype: DType;
  /** Reads `region` only: from the cache entry when it exists, else straight from the source (never builds). */
  get(region?: Region | null): NDArray;
  getAsync(region?: Region | null): Promise<NDArray>;
}

export interface RegionRequest {
  imageId: ImageId;
  region?: Region | null;
}

/** The plain-data form of a Frames object (for worker threads). */
export interface FramesJSON {
  format: 'ndsampler.Frames';
  version: 1;
  class: string;
  hashidMode: HashidMode;
  workdir: string;
  backend: BackendConfig;
  maxReaders: number;
  /** The subclass's own state (SimpleFrames: its [id, path] pairs). */
  state: unknown;
  /** Memoised pathinfo, so the receiver need not rebuild it (no rehashing in PIXELS mode). */
  pathinfo: Pathinfo[];
}

/** A Frames subclass that can be revived from JSON. */
export interface FramesClass {
  readonly name: string;
  fromState(state: unknown, opts: FramesOptions): Frames;
}

const REGION_KEYS = ['channels', 'width', 'height', 'out', 'interpolation'] as const;
const IMAGE_KEYS = ['channels', 'cache', 'noreturn'] as const;
const PREPARE_KEYS = ['gids', 'workers', 'useStamp', 'onProgress', 'throwOnError'] as const;
const CTOR_KEYS = ['hashidMode', 'workdir', 'backend', 'maxReaders'] as const;
/** Stamps are `<cacheDpath>/_prepare_stamp.<key>.json`: one per image set, so several sets sharing a cache do not evict each other's. */
const STAMP_PREFIX = '_prepare_stamp.';

/** The per-user cache directory: $XDG_CACHE_HOME/ndsampler, else ~/.cache/ndsampler. */
export function defaultWorkdir(): string {
  const base = process.env.XDG_CACHE_HOME && path.isAbsolute(process.env.XDG_CACHE_HOME)
    ? process.env.XDG_CACHE_HOME : path.join(os.homedir(), '.cache');
  return path.join(base, 'ndsampler');
}

/** Canonical lookup key of an image id (1 and '1' are the same image). */
export function idKey(imageId: unknown): string {
  if (typeof imageId === 'number') {
    if (!Number.isFinite(imageId)) throw v.typeError('an image id (a finite number or a non-empty string)', 'imageId', imageId);
    return String(imageId);
  }
  if (typeof imageId === 'string' && imageId.length > 0) return imageId;
  throw v.typeError('an image id (a finite number or a non-empty string)', 'imageId', imageId);
}

/** Is this slice "the whole axis" (start null/0, stop null or the known size)? */
function fullSlice(s: unknown, size: number | undefined): boolean {
  if (s === null || s === undefined) return true;
  let start: unknown;
  let stop: unknown;
  if (Array.isArray(s)) {
    start = s[0];
    stop = s[1];
  } else if (v.isPlainObject(s)) {
    start = s.start;
    stop = s.stop;
  } else {
    return false;
  }
  return (start === null || start === undefined || start === 0)
    && (stop === null || stop === undefined || (size !== undefined && stop === size));
}

/** A region covering the whole image (rows and columns) does not need a cache entry. */
function isFullRegion(region: Region | null | undefined, width?: number, height?: number): boolean {
  if (region === null || region === undefined) return true;
  if (!Array.isArray(region)) return false;
  return fullSlice(region[0], height) && fullSlice(region[1], width);
}

interface ImageState {
  pathinfo: Pathinfo;
  /** The one identity-aligned channel of a single-file image (the fast path), else null. */
  single: ChannelInfo | null;
  alignable: AlignableImageData | null;
  /**
   * The pool entry of `single`'s cache entry once opened in 'build' mode, so repeated partial
   * reads skip the lookups. Dropped when the pool retires it (evicted, closed, rebuilt).
   */
  hot: PoolEntry | null;
}

export abstract class Frames {
  /** The npy backend's defaults (it has no options). */
  static DEFAULT_NPY_CONFIG: Readonly<BackendConfig> = DEFAULT_NPY_CONFIG;
  /** The COG backend's defaults (see docs/cache-format.md for each key). */
  static DEFAULT_COG_CONFIG: Readonly<BackendConfig> = DEFAULT_COG_CONFIG;

  static #registry = new Map<string, FramesClass>();

  readonly hashidMode: HashidMode;
  readonly workdir: string;
  #backend!: BackendConfig;
  #backendHashid = '';
  #cacheDpath: string | null = null;
  #opener!: CacheOpener;
  #maxReaders: number;
  #images = new Map<string, ImageState>();

  constructor(opts?: FramesOptions) {
    const o = v.options(opts, 'options', CTOR_KEYS) as FramesOptions;
    this.hashidMode = o.hashidMode === undefined ? 'PATH' : v.oneOf(o.hashidMode, 'options.hashidMode', HASHID_MODES);
    this.#maxReaders = o.maxReaders === undefined ? DEFAULT_MAX_READERS : v.integer(o.maxReaders, 'options.maxReaders', 1, 1e6);
    this.updateBackend(o.backend ?? null);
    if (o.workdir === undefined || o.workdir === null) {
      this.workdir = defaultWorkdir();
      if (this.#backend.type !== null) {
        process.emitWarning(`Frames workdir not specified. Defaulting to '${this.workdir}'`, { code: 'NDSAMPLER_WORKDIR' });
      }
    } else {
      this.workdir = path.resolve(v.string(o.workdir, 'options.workdir'));
    }
  }

  // ---- subclass interface ------------------------------------------------------------------

  /** Every image id, in order. */
  abstract get imageIds(): ImageId[];

  /**
   * Maps an image id to its files: `{id, channels: {<name>: {path, ...}}, default: <name>}`,
   * calling populateChanInfo on each channel. Throws ERR_UNKNOWN_IMAGE for an id it does not know.
   */
  protected abstract buildPathinfo(imageId: ImageId): Pathinfo;

  /** True when `imageId` is an image of this object (subclasses with a map should override). */
  hasImage(imageId: ImageId): boolean {
    const key = idKey(imageId);
    return this.imageIds.some((id) => String(id) === key);
  }

  /** The subclass's state for toJSON (plain data). */
  protected toState(): unknown {
    throw new NdsamplerError('ERR_UNSUPPORTED', `${this.constructor.name} does not implement toState(), so it cannot be serialised`);
  }

  /** The error for an id this object does not have. */
  protected unknownImage(imageId: unknown): FramesError {
    return new FramesError('ERR_UNKNOWN_IMAGE', `unknown image id ${typeof imageId === 'string' ? `'${imageId}'` : String(imageId)}`);
  }

  /**
   * Fills a channel's cache entry from the current settings: `cache` (null without a backend),
   * `hashid` and `hashidMode`. A relative `chan.path` is joined onto `root` (and chan.path updated);
   * PATH mode hashes the path as given, before the join, so a moved dataset keeps its caches.
   */
  protected populateChanInfo(chan: ChannelInfo, root = ''): void {
    if (!v.isPlainObject(chan)) throw v.typeError('a channel object {path, ...}', 'chan', chan);
    const given = v.string(chan.path, 'chan.path');
    if (typeof root !== 'string') throw v.typeError('a string', 'root', root);
    const full = root !== '' && !path.isAbsolute(given) ? path.join(root, given) : given;
    chan.path = full;
    if (this.#backend.type === null || isNpyPath(full)) {
      chan.cache = null;
      return;
    }
    let hashid: string;
    if (this.hashidMode === 'GIVEN') {
      if (chan.hashid === undefined) {
        throw new FramesError('ERR_HASHID', `hashidMode is GIVEN but channel '${given}' has no hashid`, { path: full });
      }
      hashid = checkHashid(chan.hashid, `channel '${given}'`);
    } else if (this.hashidMode === 'PIXELS' && this.#deferredHashes !== null) {
      // prepare() is building this pathinfo: it hashes the file asynchronously, then setEntry.
      this.#deferredHashes.push({ chan, file: full });
      return;
    } else {
      hashid = Frames.buildFileHashid(root, given, this.hashidMode);
    }
    this.#setEntry(chan, hashid);
  }

  /** Sets a channel's hashid and the cache entry it names. */
  #setEntry(chan: ChannelInfo, hashid: string): void {
    chan.hashid = hashid;
    chan.hashidMode = this.hashidMode;
    chan.cache = cachePathFor(this.cacheDpath as string, hashid, this.#backend.type as BackendType);  // only called with a backend
  }

  /**
   * While prepare() builds a pathinfo, the PIXELS-mode files whose hashes it will compute
   * asynchronously (null otherwise). Only ever non-null within one synchronous buildPathinfo call.
   */
  #deferredHashes: Array<{ chan: ChannelInfo; file: string }> | null = null;

  /**
   * #image for prepare(): the same memoised state, but PIXELS-mode files are hashed with
   * asynchronous reads, so preparing a large dataset does not block the event loop on hashing.
   */
  async #imageAsync(imageId: ImageId): Promise<ImageState> {
    const key = idKey(imageId);
    const hit = this.#images.get(key);
    if (hit !== undefined || this.hashidMode !== 'PIXELS' || this.#backend.type === null) return hit ?? this.#image(imageId);
    const deferred: Array<{ chan: ChannelInfo; file: string }> = [];
    let pathinfo: Pathinfo;
    this.#deferredHashes = deferred;
    try {
      pathinfo = this.buildPathinfo(imageId);
    } finally {
      this.#deferredHashes = null;
    }
    const hashes = await Promise.all(deferred.map((d) => hashFileAsync(d.file)));
    deferred.forEach((d, i) => this.#setEntry(d.chan, hashes[i]));
    return this.#images.get(key) ?? this.#remember(key, pathinfo);
  }

  /**
   * The hashid of one file: PATH hashes `suffix` (the path as given), PIXELS the bytes of
   * `root`/`suffix` (streamed, XXH3-128); GIVEN has nothing to build from (ERR_HASHID).
   */
  static buildFileHashid(root: string, suffix: string, hashidMode: string): string {
    if (typeof root !== 'string') throw v.typeError('a string', 'root', root);
    v.string(suffix, 'suffix');
    const mode = v.oneOf(hashidMode, 'hashidMode', HASHID_MODES);
    if (mode === 'PATH') return hashString(suffix);
    if (mode === 'PIXELS') return hashFile(root === '' || path.isAbsolute(suffix) ? suffix : path.join(root, suffix));
    throw new FramesError('ERR_HASHID', `hashidMode GIVEN takes the hashid from the pathinfo; there is none to build for '${suffix}'`);
  }

  // ---- backend -------------------------------------------------------------------------------

  /** `{type, config}` from null, 'npy', 'cog', 'auto' or {type, config}; unknown keys raise ERR_BACKEND_CONFIG. */
  static coerceBackendConfig(backend?: BackendSpec): BackendConfig {
    return coerceBackendConfig(backend, { npy: this.DEFAULT_NPY_CONFIG, cog: this.DEFAULT_COG_CONFIG });
  }

  /** Switches the backend, resetting the cache directory, open readers and memoised pathinfo. */
  updateBackend(backend: BackendSpec): void {
    const ctor = this.constructor as typeof Frames;
    const coerced = ctor.coerceBackendConfig(backend);
    this.#opener?.close();
    this.#backend = coerced;
    this.#backendHashid = hashString(canonicalJson(coerced.config)).slice(0, 8);
    this.#cacheDpath = null;
    this.#images.clear();
    this.#opener = new CacheOpener(coerced, this.#maxReaders);
  }

  /** The coerced backend in use (a copy). */
  get backend(): BackendConfig {
    return { type: this.#backend.type, config: { ...this.#backend.config } };
  }

  /** `<workdir>/_cache/frames/<type>/<config-hash>`, or null without a backend. Created when entries are built. */
  get cacheDpath(): string | null {
    if (this.#backend.type === null) return null;
    if (this.#cacheDpath === null) {
      this.#cacheDpath = path.join(this.workdir, '_cache', 'frames', this.#backend.type, this.#backendHashid);
    }
    return this.#cacheDpath;
  }

  /** How many readers stay open at once. */
  get maxReaders(): number {
    return this.#maxReaders;
  }

  set maxReaders(n: number) {
    this.#maxReaders = v.integer(n, 'maxReaders', 1, 1e6);
    this.#opener.pool.max = n;
  }

  /** Closes every open reader (arrays already returned stay valid). The object stays usable. */
  close(): void {
    this.#opener.close();
  }

  // ---- images --------------------------------------------------------------------------------

  get length(): number {
    return this.imageIds.length;
  }

  /** The pathinfo of an image, built once and memoised. */
  lookupPathinfo(imageId: ImageId): Pathinfo {
    return this.#image(imageId).pathinfo;
  }

  #image(imageId: ImageId): ImageState {
    const key = idKey(imageId);
    const hit = this.#images.get(key);
    if (hit !== undefined) return hit;
    const pathinfo = this.buildPathinfo(imageId);
    return this.#remember(key, pathinfo);
  }

  #remember(key: string, pathinfo: Pathinfo): ImageState {
    if (!v.isPlainObject(pathinfo) || !v.isPlainObject(pathinfo.channels)) {
      throw new FramesError('ERR_PATHINFO', `buildPathinfo(${key}) must return {id, channels, default}`);
    }
    const keys = Object.keys(pathinfo.channels);
    let single: ChannelInfo | null = null;
    if (keys.length === 1) {
      const chan = pathinfo.channels[keys[0]];
      const w = chan.warpAuxToImg;
      const identity = w === null || w === undefined
        || (w.length >= 2 && [w[0][0], w[0][1], w[0][2], w[1][0], w[1][1], w[1][2]].every((x, i) => x === [1, 0, 0, 0, 1, 0][i]));
      if (identity && typeof chan.path === 'string' && (pathinfo.default === keys[0] || pathinfo.default == null)) single = chan;
    }
    const state: ImageState = { pathinfo, single, alignable: null, hot: null };
    this.#images.set(key, state);
    return state;
  }

  #alignable(state: ImageState): AlignableImageData {
    if (state.alignable === null) state.alignable = new AlignableImageData(state.pathinfo, this.#opener);
    return state.alignable;
  }

  /** True when the request can use the single-file fast path. */
  #fast(state: ImageState, channels: unknown): ChannelInfo | null {
    const chan = state.single;
    if (chan === null) return null;
    if (channels === undefined) return chan;
    const key = Object.keys(state.pathinfo.channels)[0];
    return channels === key || (Array.isArray(channels) && channels.length === 1 && channels[0] === key) ? chan : null;
  }

  /**
   * The pixels of `region` of an image (HWC, Python slice semantics, a new array). Builds the
   * cache entry first when it is missing, unless the region is the whole image.
   */
  loadRegion(imageId: ImageId, region?: Region | null, opts?: LoadRegionOptions): NDArray {
    const o = opts === undefined ? EMPTY : v.options(opts, 'options', REGION_KEYS) as LoadRegionOptions;
    const state = this.#image(imageId);
    const full = isFullRegion(region, this.#dim(o.width, 'options.width'), this.#dim(o.height, 'options.height'));
    const chan = this.#fast(state, o.channels);
    if (chan !== null) {
      let reader: ImageReader;
      const hot = state.hot;
      if (!full && hot !== null && !hot.evicted) {
        this.#opener.pool.touch(hot);
        reader = hot.reader;
      } else {
        const e = this.#opener.openEntry(chan, full ? 'ifExists' : 'build');
        if (!full && e.reader.path === chan.cache) state.hot = e;
        reader = e.reader;
      }
      return reader.read(region, o.out === undefined ? undefined : { out: o.out });
    }
    if (o.out !== undefined) throw v.typeError('no out option for images with several channel files', 'options.out', o.out);
    return this.#alignable(state).loadRegion(region, {
      channels: o.channels, fused: true, cache: true, interpolation: o.interpolation,
    }) as NDArray;
  }

  /** loadRegion with the read (and any cache build) on the libuv pool. */
  async loadRegionAsync(imageId: ImageId, region?: Region | null, opts?: LoadRegionOptions): Promise<NDArray> {
    const o = opts === undefined ? EMPTY : v.options(opts, 'options', REGION_KEYS) as LoadRegionOptions;
    const state = this.#image(imageId);
    const full = isFullRegion(region, this.#dim(o.width, 'options.width'), this.#dim(o.height, 'options.height'));
    const chan = this.#fast(state, o.channels);
    if (chan !== null) {
      const lease = await this.#opener.openAsync(chan, full ? 'ifExists' : 'build');
      try {
        return await lease.reader.readAsync(region, o.out === undefined ? undefined : { out: o.out });
      } finally {
        lease.release();
      }
    }
    if (o.out !== undefined) throw v.typeError('no out option for images with several channel files', 'options.out', o.out);
    return await this.#alignable(state).loadRegionAsync(region, {
      channels: o.channels, fused: true, cache: true, interpolation: o.interpolation,
    }) as NDArray;
  }

  /** Many regions at once, all read on the libuv pool; resolves in request order. */
  async loadRegions(requests: RegionRequest[], opts?: LoadRegionOptions): Promise<NDArray[]> {
    if (!Array.isArray(requests)) throw v.typeError('an array of {imageId, region}', 'requests', requests);
    const o = v.options(opts, 'options', REGION_KEYS) as LoadRegionOptions;
    if (o.out !== undefined) throw v.typeError('no out option for a batch', 'options.out', o.out);
    requests.forEach((r, i) => {
      v.options(r, `requests[${i}]`, ['imageId', 'region'] as const);
      if (!v.isPlainObject(r)) throw v.typeError('an object {imageId, region}', `requests[${i}]`, r);
    });
    return Promise.all(requests.map((r) => this.loadRegionAsync(r.imageId, r.region, opts)));
  }

  /**
   * The whole image. With the npy backend this is a zero-copy view of the mapped cache file
   * (read-only: do not write into it). `cache: false` reads the source; `noreturn` only ensures
   * the cache entry.
   */
  loadImage(imageId: ImageId, opts: LoadImageOptions & { noreturn: true }): undefined;
  loadImage(imageId: ImageId, opts?: LoadImageOptions & { noreturn?: false }): NDArray;
  loadImage(imageId: ImageId, opts?: LoadImageOptions): NDArray | undefined;
  loadImage(imageId: ImageId, opts?: LoadImageOptions): NDArray | undefined {
    const o = opts === undefined ? EMPTY : v.options(opts, 'options', IMAGE_KEYS) as LoadImageOptions;
    const cache = o.cache === undefined ? true : v.boolean(o.cache, 'options.cache');
    const noreturn = o.noreturn === undefined ? false : v.boolean(o.noreturn, 'options.noreturn');
    const state = this.#image(imageId);
    if (noreturn) {
      if (cache) for (const chan of Object.values(state.pathinfo.channels)) this.#opener.ensure(chan);
      return undefined;
    }
    const chan = this.#fast(state, o.channels);
    if (chan !== null) {
      const reader = this.#opener.open(chan, cache ? 'build' : 'source');
      return reader.kind === 'npy' ? reader.read(null, { copy: false }) : reader.read();
    }
    return this.#alignable(state).loadRegion(null, { channels: o.channels, fused: true, cache }) as NDArray;
  }

  /** A frame that reads nothing until get(region), and then only that region. */
  loadFrame(imageId: ImageId): LazyFrame {
    if (!this.hasImage(imageId)) throw this.unknownImage(imageId);
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const frames = this;
    let meta: { shape: Shape3; dtype: DType } | null = null;
    const header = (): { shape: Shape3; dtype: DType } => {
      if (meta !== null) return meta;
      const state = frames.#image(imageId);
      const chan = frames.#fast(state, undefined);
      if (chan !== null) {
        const r = frames.#opener.open(chan, 'ifExists');
        meta = { shape: r.shape, dtype: r.dtype };
      } else {
        meta = frames.#alignable(state).header('ifExists');
      }
      return meta;
    };
    return {
      imageId,
      get shape(): Shape3 {
        return [...header().shape] as Shape3;
      },
      get dtype(): DType {
        return header().dtype;
      },
      get: (region?: Region | null): NDArray => {
        const state = frames.#image(imageId);
        const chan = frames.#fast(state, undefined);
        if (chan !== null) return frames.#opener.open(chan, 'ifExists').read(region);
        return frames.#alignable(state).loadRegion(region, { cache: true }) as NDArray;
      },
      getAsync: async (region?: Region | null): Promise<NDArray> => {
        const state = frames.#image(imageId);
        const chan = frames.#fast(state, undefined);
        if (chan === null) return await frames.#alignable(state).loadRegionAsync(region, { cache: true }) as NDArray;
        const lease = await frames.#opener.openAsync(chan, 'ifExists');
        try {
          return await lease.reader.readAsync(region);
        } finally {
          lease.release();
        }
      },
    };
  }

  /** The whole image at position `index` of imageIds (negative counts from the end). */
  at(index: number): NDArray {
    const ids = this.imageIds;
    const i = v.integer(index, 'index', -ids.length, ids.length - 1);
    return this.loadImage(ids[i < 0 ? i + ids.length : i]) as NDArray;
  }

  *[Symbol.iterator](): IterableIterator<NDArray> {
    const ids = this.imageIds;
    for (const id of ids) yield this.loadImage(id) as NDArray;
  }

  #dim(x: unknown, name: string): number | undefined {
    return x === undefined || x === null ? undefined : v.integer(x, name, 0);
  }

  // ---- prepare -------------------------------------------------------------------------------

  /**
   * Builds every missing (or stale) cache entry, at most `workers` conversions at once on the
   * libuv pool (0 = one at a time). Idempotent: a second call only checks. With `useStamp` (and no
   * gids) a completed run leaves a stamp naming this image set and config, and the next run over
   * the same set returns at once without checking. A failing image does not stop the others; the
   * report lists it. Rejects with ERR_PREPARE (with `report`) only when `throwOnError` is set.
   */
  async prepare(opts?: PrepareOptions): Promise<PrepareReport> {
    const t0 = performance.now();
    const o = v.options(opts, 'options', PREPARE_KEYS) as PrepareOptions;
    const workers = o.workers === undefined ? 0 : v.integer(o.workers, 'options.workers', 0, 1024);
    const useStamp = o.useStamp === undefined ? true : v.boolean(o.useStamp, 'options.useStamp');
    const throwOnError = o.throwOnError === undefined ? false : v.boolean(o.throwOnError, 'options.throwOnError');
    const onProgress = o.onProgress === undefined ? undefined : v.func(o.onProgress, 'options.onProgress') as (d: number, t: number) => void;
    let ids: ImageId[];
    if (o.gids === undefined || o.gids === null) {
      ids = this.imageIds;
    } else {
      if (!Array.isArray(o.gids)) throw v.typeError('an array of image ids', 'options.gids', o.gids);
      for (const id of o.gids) if (!this.hasImage(id)) throw this.unknownImage(id);
      ids = o.gids;
    }
    const report: PrepareReport = {
      built: 0, reused: 0, failed: [], total: 0, seconds: 0, fromStamp: false, cacheDpath: this.cacheDpath,
    };
    const finish = (): PrepareReport => {
      report.seconds = (performance.now() - t0) / 1000;
      return report;
    };
    if (this.#backend.type === null) return finish();

    const stampable = useStamp && (o.gids === undefined || o.gids === null);
    let stampKey = '';
    let stampFile = '';
    if (stampable) {
      stampKey = this.#stampKey();
      stampFile = path.join(this.cacheDpath as string, `${STAMP_PREFIX}${stampKey.slice(0, 16)}.json`);
      const total = readStamp(stampFile, stampKey);
      if (total !== null) {
        debug('prepare: stamp %s is current; skipping', stampFile);
        report.reused = total;
        report.total = total;
        report.fromStamp = true;
        onProgress?.(total, total);
        return finish();
      }
    }

    // Collect the entries (deduplicated: two images may share one source).
    const todo: Array<{ imageId: ImageId; key: string; chan: ChannelInfo }> = [];
    const seen = new Set<string>();
    for (const id of ids) {
      let pathinfo: Pathinfo;
      try {
        pathinfo = (await this.#imageAsync(id)).pathinfo;
      } catch (err) {
        report.failed.push({ imageId: id, error: err as Error });
        continue;
      }
      for (const [key, chan] of Object.entries(pathinfo.channels)) {
        if (typeof chan.cache !== 'string') {
          report.reused++;  // served directly (.npy source): nothing to build
          continue;
        }
        if (seen.has(chan.cache)) continue;
        seen.add(chan.cache);
        todo.push({ imageId: id, key, chan });
      }
    }
    report.total = todo.length + report.reused + report.failed.length;
    let done = report.reused + report.failed.length;
    let next = 0;
    let callbackError: unknown = null;
    const progress = () => {
      done++;
      if (onProgress === undefined || callbackError !== null) return;
      try {
        onProgress(done, report.total);
      } catch (err) {
        callbackError = err;
      }
    };
    const run = async (): Promise<void> => {
      while (next < todo.length && callbackError === null) {
        const item = todo[next++];
        try {
          if (await this.#opener.ensureAsync(item.chan)) report.built++;
          else report.reused++;
        } catch (err) {
          report.failed.push({ imageId: item.imageId, channel: item.key, error: err as Error });
        }
        progress();
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(workers, todo.length)) }, run));
    if (callbackError !== null) throw callbackError;
    if (stampable && report.failed.length === 0) {
      try {
        writeFileAtomic(stampFile, JSON.stringify({ version: 1, key: stampKey, total: report.total, time: new Date().toISOString() }));
      } catch (err) {
        debug('prepare: could not write stamp %s: %s', stampFile, (err as Error).message);
      }
    }
    finish();
    if (throwOnError && report.failed.length > 0) {
      const first = report.failed[0];
      throw new FramesError('ERR_PREPARE',
        `${report.failed.length} of ${report.total} cache entries failed; first: image ${String(first.imageId)}: ${first.error.message}`,
        { report });
    }
    return report;
  }

  /** What the stamp certifies: this class, its image set (its state), the hashid mode and the backend. */
  #stampKey(): string {
    let state: unknown;
    try {
      state = this.toState();
    } catch {
      state = this.imageIds.map((id) => [id, (() => {
        try {
          return Object.values(this.#image(id).pathinfo.channels).map((c) => c.cache);
        } catch {
          return null;
        }
      })()]);
    }
    return hashString(canonicalJson({ v: 1, cls: this.constructor.name, state, mode: this.hashidMode, backend: this.#backend }));
  }

  // ---- serialisation -------------------------------------------------------------------------

  /** Registers a subclass so Frames.fromJSON can revive it (SimpleFrames is registered). */
  static register(cls: FramesClass, name: string = cls.name): void {
    if (typeof cls !== 'function' || typeof (cls as FramesClass).fromState !== 'function') {
      throw v.typeError('a Frames subclass with a static fromState(state, opts)', 'cls', cls);
    }
    v.string(name, 'name');
    Frames.#registry.set(name, cls);
  }

  #className(): string {
    for (const [name, cls] of Frames.#registry) if ((cls as unknown) === this.constructor) return name;
    return this.constructor.name;
  }

  /** Plain data (no handles) from which Frames.fromJSON rebuilds an equivalent object sharing the cache. */
  toJSON(): FramesJSON {
    return {
      format: 'ndsampler.Frames',
      version: 1,
      class: this.#className(),
      hashidMode: this.hashidMode,
      workdir: this.workdir,
      backend: this.backend,
      maxReaders: this.#maxReaders,
      state: this.toState(),
      pathinfo: [...this.#images.values()].map((s) => s.pathinfo),
    };
  }

  /** Rebuilds the object toJSON described, as an instance of its registered subclass. */
  static fromJSON(json: FramesJSON | string): Frames {
    const j = (typeof json === 'string' ? parseJson(json) : json) as FramesJSON;
    if (!v.isPlainObject(j) || j.format !== 'ndsampler.Frames') {
      throw new FramesError('ERR_FRAMES_JSON', `not a serialised Frames object (expected format 'ndsampler.Frames')`);
    }
    if (j.version !== 1) throw new FramesError('ERR_FRAMES_JSON', `unsupported Frames JSON version ${String(j.version)}`);
    const cls = typeof j.class === 'string' ? Frames.#registry.get(j.class) : undefined;
    if (cls === undefined) {
      throw new FramesError('ERR_FRAMES_JSON',
        `Frames class '${String(j.class)}' is not registered here (import its module, which calls Frames.register, first)`);
    }
    const inst = cls.fromState(j.state, { hashidMode: j.hashidMode, workdir: j.workdir, backend: j.backend, maxReaders: j.maxReaders });
    if (!(inst instanceof this)) {
      throw new FramesError('ERR_FRAMES_JSON', `'${j.class}' is not a ${this.name}`);
    }
    if (Array.isArray(j.pathinfo) && canonicalJson(inst.#backend) === canonicalJson(j.backend)) {
      for (const pi of j.pathinfo) {
        if (v.isPlainObject(pi) && (typeof pi.id === 'number' || typeof pi.id === 'string')) inst.#remember(idKey(pi.id), pi as Pathinfo);
      }
    }
    return inst;
  }
}

const EMPTY = Object.freeze({}) as Record<string, never>;

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new FramesError('ERR_FRAMES_JSON', `invalid Frames JSON: ${(err as Error).message}`);
  }
}

function readStamp(file: string, key: string): number | null {
  try {
    const s = JSON.parse(fs.readFileSync(file, 'utf8')) as { version: number; key: string; total: number };
    return s.version === 1 && s.key === key && typeof s.total === 'number' ? s.total : null;
  } catch {
    return null;
  }
}

