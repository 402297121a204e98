/**
 * Frames: fast access to sub-regions of images. Every source image is converted once into a
 * cache entry (an npy file read through mmap, or a Cloud-Optimized GeoTIFF) under
 * `<workdir>/_cache/frames/<type>/<config-hash>/`, after which any crop costs about the same.
 *
 * Subclasses say which images exist (`imageIds`) and where their files are (`buildPathinfo`,
 * usually with `populateChanInfo`); Frames memoises pathinfo (frames/pathinfo.ts), picks the
 * backend, reads, prepares (frames/prepare.ts) and serialises.
 *
 * Threads: every method runs on the calling thread. The *Async methods, loadRegions and prepare
 * do their pixel work (reads, conversions) on the libuv pool and never block the event loop on
 * it; opening a file and building a pathinfo (hashing a file in PIXELS mode) stay synchronous.
 */
import * as path from 'node:path';
import { AlignableImageData } from './alignable';
import { canonicalJson, coerceBackendConfig, DEFAULT_COG_BACKEND, DEFAULT_NPY_CONFIG, HASHID_MODES, hashString } from '../cache/config';
import type { BackendConfig, BackendSpec, ChannelInfo, HashidMode, ImageId, Pathinfo } from '../cache/config';
import { CacheOpener, DEFAULT_MAX_READERS } from '../cache/opener';
import type { PoolEntry } from '../cache/pool';
import { FramesError, NdsamplerError } from '../errors';
import type { DType, NDArray, Shape3 } from '../ndarray';
import type { ImageReader } from '../readers';
import { coversImage, parseRegion, resolveRegion } from '../region';
import type { ParsedRegion, Region } from '../region';
import * as v from '../validate';
import {
  defaultWorkdir, fileHashid, fillChannel, idKey, pendingHashes, settleAsync, settleSync, singleChannel,
} from './pathinfo';
import type { EntryTarget } from './pathinfo';
import { prepare } from './prepare';
import type { PrepareHost, PrepareOptions, PrepareReport } from './prepare';
import type { FramesJSON, FramesOptions, LazyFrame, LoadImageOptions, LoadRegionOptions, RegionRequest } from './types';

export type {
  Affine, BackendConfig, BackendSpec, BackendType, ChannelInfo, HashidMode, ImageId, Pathinfo,
} from '../cache/config';
export type { PrepareFailure, PrepareOptions, PrepareReport } from './prepare';
export type { FramesJSON, FramesOptions, LazyFrame, LoadImageOptions, LoadRegionOptions, RegionRequest } from './types';
export { defaultWorkdir, idKey } from './pathinfo';

/** A Frames subclass that can be revived from JSON. */
export interface FramesClass {
  readonly name: string;
  fromState(state: unknown, opts: FramesOptions): Frames;
}

const REGION_KEYS = ['channels', 'width', 'height', 'out', 'interpolation'] as const;
const IMAGE_KEYS = ['channels', 'cache', 'noreturn'] as const;
const CTOR_KEYS = ['hashidMode', 'workdir', 'backend', 'maxReaders'] as const;

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
  static DEFAULT_COG_CONFIG: Readonly<BackendConfig> = DEFAULT_COG_BACKEND;

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
   * PATH mode hashes the path as given, before the join, so a moved dataset keeps its caches. In
   * PIXELS mode the file's hash is computed once buildPathinfo returns (see frames/pathinfo.ts).
   */
  protected populateChanInfo(chan: ChannelInfo, root = ''): void {
    fillChannel(chan, root, this.#target());
  }

  #target(): EntryTarget {
    const ctor = this.constructor as typeof Frames;
    return {
      hashidMode: this.hashidMode, type: this.#backend.type, cacheDpath: this.cacheDpath,
      fileHashid: (root, suffix, mode) => ctor.buildFileHashid(root, suffix, mode),
    };
  }

  /**
   * The hashid of one file: PATH hashes `suffix` (the path as given), PIXELS the bytes of
   * `root`/`suffix` (streamed, XXH3-128); GIVEN has nothing to build from (ERR_HASHID).
   */
  static buildFileHashid(root: string, suffix: string, hashidMode: string): string {
    return fileHashid(root, suffix, hashidMode);
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
    settleSync(pendingHashes(pathinfo), this.#target());
    return this.#remember(key, pathinfo);
  }

  /** #image for prepare(): PIXELS-mode files are hashed with asynchronous reads. */
  async #imageAsync(imageId: ImageId): Promise<ImageState> {
    const key = idKey(imageId);
    const hit = this.#images.get(key);
    if (hit !== undefined) return hit;
    const pathinfo = this.buildPathinfo(imageId);
    await settleAsync(pendingHashes(pathinfo), this.#target());
    return this.#images.get(key) ?? this.#remember(key, pathinfo);
  }

  #remember(key: string, pathinfo: Pathinfo): ImageState {
    const state: ImageState = { pathinfo, single: singleChannel(key, pathinfo), alignable: null, hot: null };
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

  /** The checked options, image state and fast-path channel of a loadRegion request. */
  #request(imageId: ImageId, opts: LoadRegionOptions | undefined) {
    const o = opts === undefined ? EMPTY : v.options(opts, 'options', REGION_KEYS) as LoadRegionOptions;
    const state = this.#image(imageId);
    const width = this.#dim(o.width, 'options.width');
    const height = this.#dim(o.height, 'options.height');
    const covers = (p: ParsedRegion | null): boolean => coversImage(p, height, width);
    return { o, state, chan: this.#fast(state, o.channels), covers };
  }

  /**
   * The pixels of `region` of an image (HWC, Python slice semantics, a new array). Builds the
   * cache entry first when it is missing, unless the region is the whole image.
   */
  loadRegion(imageId: ImageId, region?: Region | null, opts?: LoadRegionOptions): NDArray {
    const { o, state, chan, covers } = this.#request(imageId, opts);
    if (chan !== null) {
      // Parsed once: whether it covers the image decides the open mode, then it is resolved
      // against the reader's shape and read as a window.
      const parsed = parseRegion(region);
      const full = covers(parsed);
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
      return reader.readWindow(resolveRegion(parsed, reader.shape), o.out === undefined ? undefined : { out: o.out });
    }
    if (o.out !== undefined) throw this.#noOut(state, o.out);
    return this.#alignable(state).loadRegion(region, {
      channels: o.channels, fused: true, cache: true, interpolation: o.interpolation,
    }) as NDArray;
  }

  /** loadRegion with the read (and any cache build) on the libuv pool. */
  async loadRegionAsync(imageId: ImageId, region?: Region | null, opts?: LoadRegionOptions): Promise<NDArray> {
    const { o, state, chan, covers } = this.#request(imageId, opts);
    if (chan !== null) {
      const parsed = parseRegion(region);
      const lease = await this.#opener.openAsync(chan, covers(parsed) ? 'ifExists' : 'build');
      try {
        const win = resolveRegion(parsed, lease.reader.shape);
        return await lease.reader.readWindowAsync(win, o.out === undefined ? undefined : { out: o.out });
      } finally {
        lease.release();
      }
    }
    if (o.out !== undefined) throw this.#noOut(state, o.out);
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

  /** An `out` option on an image that fuses several channel files (it depends on the image). */
  #noOut(state: ImageState, out: unknown): NdsamplerError {
    const n = Object.keys(state.pathinfo.channels).length;
    return new NdsamplerError('ERR_UNSUPPORTED',
      v.message(`no out option (image ${String(state.pathinfo.id)} fuses ${n} channel files)`, 'options.out', out));
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
  prepare(opts?: PrepareOptions): Promise<PrepareReport> {
    try {
      return prepare(this.#prepareHost(), opts);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  #prepareHost(): PrepareHost {
    return {
      imageIds: this.imageIds,
      hasImage: (id) => this.hasImage(id),
      unknownImage: (id) => this.unknownImage(id),
      cacheDpath: this.cacheDpath,
      pathinfoAsync: async (id) => (await this.#imageAsync(id)).pathinfo,
      ensureAsync: (chan) => this.#opener.ensureAsync(chan),
      stampKey: () => this.#stampKey(),
    };
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
