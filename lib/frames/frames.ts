/**
 * Frames: fast access to sub-regions of images. Every source image is converted once into a
 * cache entry (an npy file read through mmap, or a Cloud-Optimized GeoTIFF) under
 * `<workdir>/_cache/frames/<type>/<config-hash>/`, after which any crop costs about the same.
 *
 * Subclasses say which images exist (`imageIds`) and where their files are (`buildPathinfo`,
 * usually with `populateChanInfo`). Frames picks the backend and reads; the per-image memo and
 * the opener live in frames/images.ts, hashing in frames/pathinfo.ts, loadFrame's lazy frame in
 * frames/lazy.ts, prepare in frames/prepare.ts, and the JSON checks in frames/json.ts.
 *
 * Threads: every method runs on the calling thread. The *Async methods, loadRegions and prepare
 * do their pixel work (reads, conversions) on the libuv pool and never block the event loop on
 * it; opening a file and building a pathinfo (hashing a file in PIXELS mode) stay synchronous.
 */
import * as path from 'node:path';
import { canonicalJson, coerceBackendConfig, DEFAULT_COG_BACKEND, DEFAULT_NPY_CONFIG, HASHID_MODES, hashString } from '../cache/config';
import type { BackendConfig, BackendSpec, ChannelInfo, HashidMode, ImageId, Pathinfo } from '../cache/config';
import { DEFAULT_MAX_READERS } from '../cache/opener';
import { FramesError, NdsamplerError } from '../errors';
import type { DType, NDArray, Shape3 } from '../ndarray';
import type { Region } from '../region';
import * as v from '../validate';
import { IMAGE_TABLE, ImageTable } from './images';
import { BATCH_KEYS, loadBatch } from './batch';
import type { Batch, BatchOptions, BatchRequest } from './batch';
import { ClassRegistry, carriedPathinfo, readFramesJson } from './json';
import { readImage, readRegion, readRegionAsync, REGION_KEYS } from './reads';
import { lazyFrame } from './lazy';
import { checkPlan, createSampler, frameItems, SAMPLER_KEYS } from './sampler';
import type { SampleItem, Sampler, SamplerBatch, SamplerOptions } from './sampler';
import { defaultWorkdir, fileHashid, fillChannel, idKey } from './pathinfo';
import type { EntryTarget } from './pathinfo';
import { prepare } from './prepare';
import { coerceRemoteCache, PublishedCache } from '../remote/published';
import type { RemoteCacheOptions } from '../remote/published';
import type { PrepareHost, PrepareOptions, PrepareReport } from './prepare';
import type { FramesJSON, FramesOptions, LazyFrame, LoadImageOptions, LoadRegionOptions, RegionRequest } from './types';

export type {
  Affine, BackendConfig, BackendSpec, BackendType, ChannelInfo, HashidMode, ImageId, Pathinfo,
} from '../cache/config';
export type { PrepareFailure, PrepareOptions, PrepareReport } from './prepare';
export type { FramesJSON, FramesOptions, LazyFrame, LoadImageOptions, LoadRegionOptions, RegionRequest } from './types';
export type { CropOptions } from './crop';
export { defaultWorkdir, idKey } from './pathinfo';

/** A Frames subclass that can be revived from JSON. */
export interface FramesClass {
  readonly name: string;
  fromState(state: unknown, opts: FramesOptions): Frames;
}

const CTOR_KEYS = ['hashidMode', 'workdir', 'backend', 'maxReaders', 'remoteCache'] as const;

export abstract class Frames {
  /** The npy backend's defaults (it has no options). */
  static DEFAULT_NPY_CONFIG: Readonly<BackendConfig> = DEFAULT_NPY_CONFIG;
  /** The COG backend's defaults (see docs/cache-format.md for each key). */
  static DEFAULT_COG_CONFIG: Readonly<BackendConfig> = DEFAULT_COG_BACKEND;

  static #registry = new ClassRegistry<FramesClass>();

  readonly hashidMode: HashidMode;
  readonly workdir: string;
  #backend!: BackendConfig;
  #backendHashid = '';
  #cacheDpath: string | null = null;
  #maxReaders: number;
  /** Per-image state and the opener of the current backend (replaced by updateBackend). */
  #images!: ImageTable;
  /** The published cache entries are read from (remoteCache option), or null. */
  #remote: RemoteCacheOptions | null = null;

  constructor(opts?: FramesOptions) {
    const o = v.options(opts, 'options', CTOR_KEYS) as FramesOptions;
    this.hashidMode = o.hashidMode === undefined ? 'PATH' : v.oneOf(o.hashidMode, 'options.hashidMode', HASHID_MODES);
    this.#maxReaders = o.maxReaders === undefined ? DEFAULT_MAX_READERS : v.integer(o.maxReaders, 'options.maxReaders', 1, 1e6);
    this.#remote = coerceRemoteCache(o.remoteCache, 'options.remoteCache');
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
   * PATH mode hashes the file's path relative to the workdir (two datasets sharing a workdir never
   * share an entry; a dataset moved together with its workdir keeps its caches). In PIXELS mode the file's hash is computed once buildPathinfo returns (see frames/pathinfo.ts).
   */
  protected populateChanInfo(chan: ChannelInfo, root = ''): void {
    fillChannel(chan, root, this.#target());
  }

  #target(): EntryTarget {
    const ctor = this.constructor as typeof Frames;
    return {
      hashidMode: this.hashidMode, workdir: this.workdir, type: this.#backend.type, cacheDpath: this.cacheDpath,
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
    this.#images?.close();
    this.#backend = coerced;
    this.#backendHashid = hashString(canonicalJson(coerced.config)).slice(0, 8);
    this.#cacheDpath = null;
    this.#images = new ImageTable({
      buildPathinfo: (imageId) => this.buildPathinfo(imageId),
      target: () => this.#target(),
    }, coerced, this.#maxReaders);
    if (this.#remote !== null && coerced.type !== null) {
      const remote = this.#remote;
      // workdir is set after the constructor's first updateBackend: resolve the root lazily
      this.#images.opener.published = new PublishedCache(remote, () => path.join(this.workdir, '_cache', 'frames'));
    }
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
    this.#images.opener.pool.max = n;
  }

  /** Closes every open reader (arrays already returned stay valid). The object stays usable. */
  close(): void {
    this.#images.close();
  }

  // ---- images --------------------------------------------------------------------------------

  get length(): number {
    return this.imageIds.length;
  }

  /** The pathinfo of an image, built once and memoised. */
  lookupPathinfo(imageId: ImageId): Pathinfo {
    return this.#images.get(imageId).pathinfo;
  }

  /**
   * The pixels of `region` of an image (HWC, Python slice semantics, a new array). Builds the
   * cache entry first when it is missing, unless the region is the whole image.
   */
  loadRegion(imageId: ImageId, region?: Region | null, opts?: LoadRegionOptions): NDArray {
    return readRegion(this.#images, imageId, region, opts);
  }

  /** loadRegion with the read (and any cache build) on the libuv pool. */
  loadRegionAsync(imageId: ImageId, region?: Region | null, opts?: LoadRegionOptions): Promise<NDArray> {
    return readRegionAsync(this.#images, imageId, region, opts);
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
   * Many crops of one size as one tensor (NHWC or NCHW, any dtype, normalised), read on the
   * addon's thread pool in one native call (lib/frames/batch.ts; docs/api.md).
   */
  loadBatch<D extends DType = DType>(requests: BatchRequest[], opts?: BatchOptions<D>): Promise<Batch<D>> {
    return loadBatch(this.#images, requests, opts) as Promise<Batch<D>>;
  }

  /** @internal The current image table (lib/labels/ plans its crops through it). */
  [IMAGE_TABLE](): ImageTable {
    return this.#images;
  }

  /**
   * An async iterable of batches for a training loop (frames/sampler.ts): `size` crops, `batchSize`
   * at a time, seeded and resumable (`state()`), split across `rank`/`worldSize`, `prefetch`
   * batches in flight, read by loadBatch with the batch options given here.
   */
  sampler<D extends DType = DType>(opts: SamplerOptions<D>): Sampler<SamplerBatch<D>> {
    const o = v.options(opts, 'options', [...SAMPLER_KEYS, ...BATCH_KEYS]) as SamplerOptions;
    if (o.out !== undefined) throw v.typeError('no out option (the sampler recycles its own buffers)', 'options.out', o.out);
    const plan = checkPlan(o);
    const prefetch = o.prefetch === undefined ? 2 : v.integer(o.prefetch, 'options.prefetch', 0, 64);
    const batchOpts: BatchOptions<D> = {};
    for (const k of BATCH_KEYS) if (k !== 'out' && o[k] !== undefined) (batchOpts as Record<string, unknown>)[k] = o[k];
    // Crops of images smaller than `size` reach outside them: every batch is read boundless (the
    // same pixels as a plain read wherever a crop lies inside its image).
    batchOpts.boundless = true;
    const plans = frameItems(this.imageIds.slice(), (id) => this.#shapeAsync(id), plan);
    return createSampler<SamplerBatch<D>, SampleItem>({
      prepare: plans.prepare,
      epochItems: plans.epochItems,
      load: async (items, out) => {
        const targets = items.map((it) => ({ imageId: it.imageId, region: it.region }));
        const b = await this.loadBatch<D>(targets, out === undefined ? batchOpts : { ...batchOpts, out });
        return Object.assign(b, { targets });
      },
    }, plan, prefetch);
  }

  /** An image's [H, W, C] with its header read on the libuv pool (single-file images; others from loadFrame). */
  async #shapeAsync(imageId: ImageId): Promise<Shape3> {
    const state = await this.#images.getAsync(imageId);
    const chan = this.#images.fast(state, undefined);
    if (chan === null) return this.loadFrame(imageId).shape;
    const lease = await this.#images.opener.openAsync(chan, 'ifExists');
    try {
      return [...lease.reader.shape] as Shape3;
    } finally {
      lease.release();
    }
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
    return readImage(this.#images, imageId, opts);
  }

  /** A frame that reads nothing until get(region), and then only that region. */
  loadFrame(imageId: ImageId): LazyFrame {
    if (!this.hasImage(imageId)) throw this.unknownImage(imageId);
    return lazyFrame(imageId, () => this.#images);
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
      backendType: this.#backend.type,
      backend: this.backend,
      pathinfoAsync: async (id) => (await this.#images.getAsync(id)).pathinfo,
      ensureAsync: (chan) => this.#images.opener.ensureAsync(chan),
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
          return Object.values(this.#images.get(id).pathinfo.channels).map((c) => c.cache);
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
    Frames.#registry.register(cls, name);
  }

  /** Plain data (no handles) from which Frames.fromJSON rebuilds an equivalent object sharing the cache. */
  toJSON(): FramesJSON {
    return {
      format: 'ndsampler.Frames',
      version: 1,
      class: Frames.#registry.nameOf(this.constructor, this.constructor.name),
      hashidMode: this.hashidMode,
      workdir: this.workdir,
      backend: this.backend,
      maxReaders: this.#maxReaders,
      remoteCache: this.#remote === null ? null : { url: this.#remote.url, stage: this.#remote.stage ?? null },
      state: this.toState(),
      pathinfo: this.#images.pathinfos(),
    };
  }

  /** Rebuilds the object toJSON described, as an instance of its registered subclass. */
  static fromJSON(json: FramesJSON | string): Frames {
    const j = readFramesJson(json);
    const cls = Frames.#registry.lookup(j.class);
    // remoteCache only when there is one: a subclass that has no published cache (CocoFrames)
    // does not take the option.
    const inst = cls.fromState(j.state, {
      hashidMode: j.hashidMode, workdir: j.workdir, backend: j.backend, maxReaders: j.maxReaders,
      ...(j.remoteCache != null ? { remoteCache: j.remoteCache } : {}),
    });
    if (!(inst instanceof this)) {
      throw new FramesError('ERR_FRAMES_JSON', `'${j.class}' is not a ${this.name}`);
    }
    if (Array.isArray(j.pathinfo) && canonicalJson(inst.#backend) === canonicalJson(j.backend)) {
      for (const pi of carriedPathinfo(j.pathinfo, { cacheDpath: inst.cacheDpath, type: inst.#backend.type })) inst.#images.remember(idKey(pi.id), pi);
    }
    return inst;
  }
}

