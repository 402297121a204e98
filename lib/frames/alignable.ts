/**
 * AlignableImageData: an image whose channel groups live in separate files, possibly at other
 * resolutions, each aligned to the image grid by an affine `warpAuxToImg` (file pixel coordinates
 * -> image pixel coordinates; x is the column, y the row; pixel (i, j) covers [j, j+1) x [i, i+1)).
 *
 * This class resolves channel names to files and bands, opens each file once (the reader that
 * gives the header is the one that gives the pixels), plans the read (lib/frames/fused.ts) and has
 * the addon sample it (native/batch/fused_sampler.h): on the calling thread for loadRegion, on the
 * addon's pool for loadRegionAsync and batches. Sampling rules: lib/frames/fused.ts.
 *
 * Threads: the calling thread; loadRegionAsync opens and builds entries on the libuv pool and
 * samples on the addon's pool.
 */
import { coerceBackendConfig } from '../cache/config';
import type { BackendConfig, BackendSpec, Pathinfo } from '../cache/config';
import { CacheOpener } from '../cache/opener';
import type { ChannelOpener, OpenMode, ReaderLease } from '../cache/opener';
import { ReaderPins } from '../cache/entry-reader';
import { FramesError, RegionError } from '../errors';
import { allocate, checkArray } from '../ndarray';
import type { DType, NDArray, Shape3 } from '../ndarray';
import type { ImageReader } from '../readers';
import { parseRegion } from '../region';
import type { ParsedRegion, Region } from '../region';
import { checkScale } from '../geometry';
import * as v from '../validate';
import { IDENTITY, invert, parseAffine, pathinfoError } from './affine';
import { runOneAsync, runOneSync } from './batch-native';
import type { FusedCrop } from './batch-native';
import { prefused, readCrop, readCropAsync } from './prefused';
import type { Prefused } from './prefused';

export type { Prefused, PrefusedChannel } from './prefused';
import { ALL_CHANNELS, parseChannels, tryParseChannels } from './channels';
import { fusedCrop, fusedDtype, planFused, quantizationOf } from './fused';
import type { FusedOptions, FusedPlan, Group, Interpolation, Selection } from './fused';

export type { Interpolation } from './fused';

export interface AlignableRegionOptions {
  /** Channel groups or band names: a group key ('r|g|b'), a band of a group ('g'), 'a|b' for several, or an array. */
  channels?: string | string[];
  /** true (default): one HWC array in image coordinates; false: each file's native crop and its transform. */
  fused?: boolean;
  /** false reads the sources directly; true (default) reads (and builds when missing) the cache entries. */
  cache?: boolean;
  /** Resampling for non-identity transforms (default 'nearest'). */
  interpolation?: Interpolation;
  /** With 'linear': blur a file that is read reduced first (default true, as kwcoco's delayed_image). */
  antialias?: boolean;
  /**
   * Output scale in (0, 1] (default 1): the result has round(h * scale) x round(w * scale) pixels.
   * Files are read at the resolution the output needs, from COG overviews where they exist.
   */
  scale?: number;
  /** Absolute coordinates: the parts of the region outside the image get `fill` (default false). */
  boundless?: boolean;
  /** The value of output pixels that no file covers (default 0). */
  fill?: number;
  /** Fused reads: write into this array (the result's shape and dtype) instead of a new one. */
  out?: NDArray;
}

/** Checked options of a read. */
export interface Resolved extends FusedOptions {
  channels: string | string[] | undefined;
  /** How the pixels are read. */
  mode: OpenMode;
  /** options.out, checked (`given`: the object the caller passed, which is returned). */
  out: NDArray | undefined;
  given?: NDArray;
}

/** Where a band name is found: its group and band index. */
interface BandRef { group: Group; band: number }

/** A channels request resolved to groups, before band counts are known: bands null = the whole file. */
type Request = Array<{ group: Group; bands: number[] | null }>;

const REGION_KEYS = ['channels', 'fused', 'cache', 'interpolation', 'antialias', 'scale', 'boundless', 'fill', 'out'] as const;

function isOpener(x: unknown): x is ChannelOpener {
  return typeof x === 'object' && x !== null && typeof (x as ChannelOpener).open === 'function'
    && typeof (x as ChannelOpener).openAsync === 'function';
}

export class AlignableImageData {
  readonly pathinfo: Pathinfo;
  readonly #opener: ChannelOpener;
  /** Set when this object made its own opener (and so must close it). */
  readonly #own: CacheOpener | null;
  readonly #groups = new Map<string, Group>();
  #bands: Map<string, BandRef> | null = null;
  #grid: [number, number] | null = null;
  /** Resolved channel requests, by request (a sampler asks the same ones again and again). */
  readonly #requests = new Map<string, Request>();

  /**
   * @param pathinfo what Frames.buildPathinfo returns (channels with path, cache, warpAuxToImg)
   * @param cacheBackend a backend ({type, config} or 'npy' | 'cog' | 'auto' | null) whose cache
   *   entries (chan.cache) are read and built on demand, or a channel opener (Frames passes its own)
   */
  constructor(pathinfo: Pathinfo, cacheBackend: BackendSpec | BackendConfig | ChannelOpener = null) {
    if (!v.isPlainObject(pathinfo) || !v.isPlainObject(pathinfo.channels)) {
      throw v.typeError('a pathinfo object {id, channels, default}', 'pathinfo', pathinfo);
    }
    const keys = Object.keys(pathinfo.channels);
    if (keys.length === 0) throw pathinfoError(`image ${String(pathinfo.id)} has no channels`);
    const def = pathinfo.default;
    if (def !== null && def !== undefined && !(def in pathinfo.channels)) {
      throw pathinfoError(`image ${String(pathinfo.id)}: default channel '${String(def)}' is not one of ${keys.join(', ')}`);
    }
    for (const key of keys) {
      const chan = pathinfo.channels[key];
      if (!v.isPlainObject(chan) || typeof chan.path !== 'string' || chan.path.length === 0) {
        throw pathinfoError(`image ${String(pathinfo.id)}: channel '${key}' needs a path`);
      }
      const fwd = parseAffine(chan.warpAuxToImg, `image ${String(pathinfo.id)} channel '${key}'`);
      this.#groups.set(key, { key, chan, fwd, inv: invert(fwd), identity: fwd.every((x, i) => x === IDENTITY[i]) });
    }
    this.pathinfo = pathinfo;
    if (isOpener(cacheBackend)) {
      this.#opener = cacheBackend;
      this.#own = null;
    } else {
      this.#own = new CacheOpener(coerceBackendConfig(cacheBackend));
      this.#opener = this.#own;
    }
  }

  /** Closes the readers this object opened itself (none when it reads through a Frames). */
  close(): void {
    this.#own?.close();
  }

  /** The image grid [height, width]: pathinfo's width/height, else the default channel's extent in image coordinates. */
  get gridShape(): [number, number] {
    return this.#gridOf(() => undefined);
  }

  /** The grid, with the default channel's header from `opened` when it is open already. */
  #gridOf(opened: (g: Group) => ImageReader | undefined): [number, number] {
    if (this.#grid !== null) return this.#grid;
    const { width, height } = this.pathinfo;
    if (typeof width === 'number' && typeof height === 'number') {
      this.#grid = [height, width];
      return this.#grid;
    }
    const def = this.pathinfo.default;
    if (def === null || def === undefined) {
      throw pathinfoError(`image ${String(this.pathinfo.id)} has no default channel, so pathinfo must give width and height`);
    }
    const g = this.#groups.get(def) as Group;
    const [h, w] = (opened(g) ?? this.#reader(g, 'ifExists')).shape;
    if (g.identity) {
      this.#grid = [h, w];
    } else {
      const xs = [0, w].flatMap((x) => [0, h].map((y) => g.fwd[0] * x + g.fwd[1] * y + g.fwd[2]));
      const ys = [0, w].flatMap((x) => [0, h].map((y) => g.fwd[3] * x + g.fwd[4] * y + g.fwd[5]));
      this.#grid = [Math.round(Math.max(...ys) - Math.min(0, ...ys)), Math.round(Math.max(...xs) - Math.min(0, ...xs))];
    }
    return this.#grid;
  }

  /** Shape and dtype of the fused image with the default channels, from file headers only. */
  header(mode: OpenMode = 'ifExists'): { shape: Shape3; dtype: DType } {
    const [h, w] = this.gridShape;
    const sels = this.selections(undefined, mode);
    const c = sels.reduce((n, s) => n + s.bands.length, 0);
    return { shape: [h, w, c], dtype: fusedDtype(sels.map((s) => (quantizationOf(s.group.chan) !== null ? 'float32' : this.#reader(s.group, mode).dtype))) };
  }

  /**
   * Band name -> (group, band), from each group's declared `channels` spec (kwcoco grammar), else
   * its key when that parses as a spec of several names ('r|g|b'). The first group naming a band wins.
   */
  #bandIndex(): Map<string, BandRef> {
    if (this.#bands !== null) return this.#bands;
    const index = new Map<string, BandRef>();
    for (const g of this.#groups.values()) {
      const declared = typeof g.chan.channels === 'string' ? tryParseChannels(g.chan.channels) : null;
      const fromKey = tryParseChannels(g.key);
      const names = declared ?? (fromKey !== null && fromKey.length > 1 ? fromKey : null);
      names?.forEach((n, band) => {
        if (!index.has(n)) index.set(n, { group: g, band });
      });
    }
    this.#bands = index;
    return index;
  }

  #reader(g: Group, mode: OpenMode): ImageReader {
    return this.#opener.open(g.chan, mode);
  }

  /**
   * A channels request resolved to groups, in request order: a group key takes the whole file,
   * '<all>' every file, anything else is parsed with kwcoco's grammar (frames/channels.ts) and
   * each name is looked up across the files. Needs no file (memoised per request).
   */
  #request(channels: string | string[] | undefined): Request {
    let tokens: string[];
    if (channels === undefined || channels === null) {
      const def = this.pathinfo.default;
      tokens = def !== null && def !== undefined ? [def] : [ALL_CHANNELS];
    } else if (typeof channels === 'string') {
      tokens = [channels];
    } else if (Array.isArray(channels) && channels.every((c) => typeof c === 'string')) {
      tokens = channels;
    } else {
      throw v.typeError('a channel name or an array of channel names', 'options.channels', channels);
    }
    const key = tokens.join('\u0000');
    const hit = this.#requests.get(key);
    if (hit !== undefined) return hit;
    const out: Request = [];
    for (const t of tokens) {
      const g = this.#groups.get(t);
      if (g !== undefined) {
        out.push({ group: g, bands: null });
        continue;
      }
      if (t === ALL_CHANNELS) {
        for (const grp of this.#groups.values()) out.push({ group: grp, bands: null });
        continue;
      }
      for (const name of parseChannels(t)) {
        const found = this.#bandIndex().get(name) ?? this.#singleGroup(name);
        if (found === undefined) throw this.#unknownChannel(name);
        const last = out[out.length - 1];
        if (last !== undefined && last.group === found.group && last.bands !== null) last.bands.push(found.band);
        else out.push({ group: found.group, bands: [found.band] });
      }
    }
    this.#requests.set(key, out);
    return out;
  }

  /** @internal The files a channels request reads, each once. */
  groupsFor(channels: string | string[] | undefined): Group[] {
    return [...new Set(this.#request(channels).map((r) => r.group))];
  }

  /** The request's selections, whole files expanded with their band counts from `readerOf`. */
  #expand(req: Request, readerOf: (g: Group) => ImageReader): Selection[] {
    return req.map((r) => ({ group: r.group, bands: r.bands !== null ? [...r.bands] : Array.from({ length: readerOf(r.group).shape[2] }, (_, i) => i) }));
  }

  /** Resolves a channels request into (group, bands) selections, in request order (opening files in `mode`). */
  selections(channels: string | string[] | undefined, mode: OpenMode): Selection[] {
    return this.#expand(this.#request(channels), (g) => this.#reader(g, mode));
  }

  /** A one-band group named by its key ('ir'), reached through a '|' request ('r|ir'). */
  #singleGroup(name: string): BandRef | undefined {
    const g = this.#groups.get(name);
    return g === undefined ? undefined : { group: g, band: 0 };
  }

  #unknownChannel(name: string): FramesError {
    const names = [...this.#bandIndex().keys()];
    return new FramesError('ERR_CHANNELS',
      `image ${String(this.pathinfo.id)} has no channel '${name}' (its channels: ${names.length > 0 ? names.join('|') : 'none named'}; ` +
      `its files: ${[...this.#groups.keys()].join(', ')}; '${ALL_CHANNELS}' takes them all)`);
  }

  /**
   * @internal The plan of a region, every file read through `readers` (open, in the read mode:
   * the headers planned with are the files read).
   */
  plan(parsed: ParsedRegion | null, o: Resolved, readers: Map<Group, ImageReader>): FusedPlan {
    const readerOf = (g: Group): ImageReader => readers.get(g) as ImageReader;
    const sels = this.#expand(this.#request(o.channels), readerOf);
    return planFused(sels, this.#gridOf((g) => readers.get(g)), parsed, o, readerOf);
  }

  /** @internal The crop of a region for the native sampler (batches), its readers pinned in `pins`. */
  planCrop(parsed: ParsedRegion | null, o: Resolved, readers: Map<Group, ImageReader>, pins: ReaderPins): FusedCrop {
    return fusedCrop(this.plan(parsed, o, readers), o, (r) => pins.base(r));
  }

  /**
   * The region `imgRegion` of the image (in image-grid coordinates, Python slice semantics; a third
   * slice selects among the fused channels), fused into one HWC array or, with `fused: false`, as
   * each file's native crop with the transform that aligns it.
   */
  loadRegion(imgRegion?: Region | null, opts?: AlignableRegionOptions): NDArray | Prefused {
    return this.loadResolved(parseRegion(imgRegion), this.resolve(opts));
  }

  /** @internal loadRegion with checked options (which may carry a size and an orientation). */
  loadResolved(parsed: ParsedRegion | null, o: Resolved): NDArray | Prefused {
    const readers = new Map<Group, ImageReader>();
    for (const g of this.groupsFor(o.channels)) readers.set(g, this.#reader(g, o.mode));
    const plan = this.plan(parsed, o, readers);
    if (!o.fused) return prefused(plan, (r) => readCrop(r));
    const empty = this.#empty(plan, o);
    if (empty !== null) return empty;
    const pins = new ReaderPins();
    try {
      const res = runOneSync(fusedCrop(plan, o, (r) => pins.base(r)), o.out);
      return o.given ?? res;
    } finally {
      pins.release();
    }
  }

  /** loadRegion with the files opened (and cache entries built) on the libuv pool and the sampling on the addon's pool. */
  loadRegionAsync(imgRegion?: Region | null, opts?: AlignableRegionOptions): Promise<NDArray | Prefused> {
    try {
      return this.#loadAsync(parseRegion(imgRegion), this.resolve(opts));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  async #loadAsync(parsed: ParsedRegion | null, o: Resolved): Promise<NDArray | Prefused> {
    const leases: ReaderLease[] = [];
    const pins = new ReaderPins();
    try {
      const readers = new Map<Group, ImageReader>();
      await Promise.all(this.groupsFor(o.channels).map(async (g) => {
        const lease = await this.#opener.openAsync(g.chan, o.mode);
        leases.push(lease);
        readers.set(g, lease.reader);
      }));
      const plan = this.plan(parsed, o, readers);
      if (!o.fused) {
        const chans = await Promise.all(plan.reads.map((r) => readCropAsync(r)));
        return prefused(plan, (_, i) => chans[i]);
      }
      const empty = this.#empty(plan, o);
      if (empty !== null) return empty;
      const res = await runOneAsync(fusedCrop(plan, o, (r) => pins.base(r)), o.out);
      return o.given ?? res;
    } finally {
      pins.release();
      for (const l of leases) l.release();
    }
  }

  /** @internal The checked options of a read. */
  resolve(opts: AlignableRegionOptions | undefined): Resolved {
    const o = v.options(opts, 'options', REGION_KEYS) as AlignableRegionOptions;
    const fused = o.fused === undefined ? true : v.boolean(o.fused, 'options.fused');
    const cache = o.cache === undefined ? true : v.boolean(o.cache, 'options.cache');
    const interpolation = o.interpolation === undefined ? 'nearest'
      : v.oneOf(o.interpolation, 'options.interpolation', ['nearest', 'linear'] as const);
    const antialias = o.antialias === undefined ? true : v.boolean(o.antialias, 'options.antialias');
    const boundless = o.boundless === undefined ? false : v.boolean(o.boundless, 'options.boundless');
    const fill = o.fill === undefined ? 0 : v.number(o.fill, 'options.fill');
    const out = o.out === undefined ? undefined : checkArray(o.out, 'options.out', true);
    return {
      channels: o.channels, fused, mode: cache ? 'build' : 'source', interpolation, antialias,
      scale: checkScale(o.scale), boundless, fill, out, given: o.out,
    };
  }

  /** The result of a plan with no pixels (an empty region or channel slice), or null. */
  #empty(plan: FusedPlan, o: Resolved): NDArray | null {
    const out = o.out;
    if (out !== undefined) {
      if (out.dtype !== plan.dtype || out.shape.some((n, i) => n !== plan.shape[i])) {
        throw new RegionError('ERR_OUT_BUFFER', v.message(`an array of shape [${plan.shape}] and dtype '${plan.dtype}' (the region's)`, 'options.out', out));
      }
    }
    if (plan.shape.every((n) => n > 0)) return null;
    return o.given ?? allocate(plan.shape, plan.dtype, true);
  }
}
