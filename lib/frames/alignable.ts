/**
 * AlignableImageData: an image whose channel groups live in separate files, possibly at other
 * resolutions, each aligned to the image grid by an affine `warpAuxToImg` (file pixel coordinates
 * -> image pixel coordinates; x is the column, y the row; pixel (i, j) covers [j, j+1) x [i, i+1)).
 *
 * Sampling: the output pixel (i, j) of an image region samples each file at the file coordinate of
 * the image point (x0 + j + 0.5, y0 + i + 0.5). 'nearest' takes the file pixel containing that
 * point (exact for scale + translation: a 0.5x channel is repeated 2x2, values are never invented,
 * so label images stay valid); 'linear' interpolates bilinearly between file pixel centres.
 * Points outside a file get `fill` (0).
 *
 * Threads: all on the calling thread; loadRegionAsync does its file reads on the libuv pool.
 */
import { coerceBackendConfig } from '../cache/config';
import type { BackendConfig, BackendSpec, ChannelInfo, Pathinfo } from '../cache/config';
import { CacheOpener } from '../cache/opener';
import type { ChannelOpener, OpenMode, ReaderLease } from '../cache/opener';
import { FramesError } from '../errors';
import { allocate, fill } from '../ndarray';
import type { DType, NDArray, Shape3 } from '../ndarray';
import type { ImageReader } from '../readers';
import { boxWindow, normalizeRegion } from '../region';
import { ALL_CHANNELS, parseChannels, tryParseChannels } from './channels';
import type { Region, Window } from '../region';
import * as v from '../validate';
import { compose, dequantize, fusedDtype, IDENTITY, invert, parseAffine, pathinfoError, sample, to3x3 } from './resample';
import type { FileRead, Group, Interpolation, M3, Quantization, Selection } from './resample';

export type { Interpolation } from './resample';


export interface AlignableRegionOptions {
  /** Channel groups or band names: a group key ('r|g|b'), a band of a group ('g'), 'a|b' for several, or an array. */
  channels?: string | string[];
  /** true (default): one HWC array in image coordinates; false: each file's native crop and its transform. */
  fused?: boolean;
  /** false reads the sources directly; true (default) reads (and builds when missing) the cache entries. */
  cache?: boolean;
  /** Resampling for non-identity transforms (default 'nearest'). */
  interpolation?: Interpolation;
  /**
   * Output scale in (0, 1] (default 1): the result has round(h * scale) x round(w * scale) pixels.
   * Files are read at the resolution the output needs, from COG overviews where they exist.
   */
  scale?: number;
  /** Absolute coordinates: the parts of the region outside the image get `fill` (default false). */
  boundless?: boolean;
  /** The value of output pixels that no file covers (default 0). */
  fill?: number;
}

/** One file's part of a prefused region. */
export interface PrefusedChannel {
  /** The channel group (key of pathinfo.channels). */
  key: string;
  /** The bands of that file in this result, in order. */
  bands: number[];
  /** The file's native-resolution crop covering the region (all of the file's bands in `bands`). */
  data: NDArray;
  /** The crop's window in the file's own pixel coordinates, [[y0, y1], [x0, x1]]. */
  auxRegion: [[number, number], [number, number]];
  /** 3x3: crop pixel coordinates -> coordinates in the requested region (its top-left is 0, 0). */
  warpCropToRegion: number[][];
}

export interface Prefused {
  /** The requested region in image coordinates, [[y0, y1], [x0, x1]] (normalised). */
  imgRegion: [[number, number], [number, number]];
  /** Shape of the fused result: [height, width, channels]. */
  shape: Shape3;
  chans: PrefusedChannel[];
}

interface Resolved {
  channels: string | string[] | undefined;
  fused: boolean;
  /** How the pixels are read. */
  mode: OpenMode;
  /** How shapes are looked up: never builds a cache entry. */
  metaMode: OpenMode;
  interpolation: Interpolation;
  scale: number;
  boundless: boolean;
  fill: number;
}

interface Plan {
  win: Window;
  /** Output height and width. */
  h: number;
  w: number;
  /** Output pixel coordinates -> image coordinates. */
  outToImg: M3;
  reads: FileRead[];
  channels: number;
}

/** Where a band name is found: its group and band index. */
interface BandRef { group: Group; band: number }

const REGION_KEYS = ['channels', 'fused', 'cache', 'interpolation', 'scale', 'boundless', 'fill'] as const;

/** A length of `n` pixels at `scale`, as the readers compute it (at least 1 when n > 0). */
const scaled = (n: number, scale: number): number => (scale === 1 ? n : Math.max(n > 0 ? 1 : 0, Math.round(n * scale)));

/** A channel's quantization when it asks for it to be undone (CocoFrames with dequantize), else null. */
function quantizationOf(chan: ChannelInfo): Quantization | null {
  const q = chan.quantization as Quantization | undefined | null;
  return q !== undefined && q !== null && typeof q === 'object' ? q : null;
}

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
      const identity = fwd.every((x, i) => x === IDENTITY[i]);
      this.#groups.set(key, { key, chan, fwd, inv: invert(fwd), identity, axisAligned: fwd[1] === 0 && fwd[3] === 0 });
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
    const [h, w] = this.#reader(g, 'ifExists').shape;
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
    return { shape: [h, w, c], dtype: fusedDtype(sels.map((s) => this.#dtype(s.group, mode))) };
  }

  /** A group's dtype in fused results: float32 when its quantization is undone. */
  #dtype(g: Group, mode: OpenMode): DType {
    return quantizationOf(g.chan) !== null ? 'float32' : this.#reader(g, mode).dtype;
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
   * Resolves a channels request into (group, bands) selections, in request order: a group key
   * takes the whole file, '<all>' every file, anything else is parsed with kwcoco's grammar
   * (frames/channels.ts) and each name is looked up across the files.
   */
  selections(channels: string | string[] | undefined, mode: OpenMode): Selection[] {
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
    const out: Selection[] = [];
    const whole = (g: Group): void => {
      const c = this.#reader(g, mode).shape[2];
      out.push({ group: g, bands: Array.from({ length: c }, (_, i) => i) });
    };
    for (const t of tokens) {
      const g = this.#groups.get(t);
      if (g !== undefined) {
        whole(g);
        continue;
      }
      if (t === ALL_CHANNELS) {
        for (const grp of this.#groups.values()) whole(grp);
        continue;
      }
      for (const name of parseChannels(t)) {
        const found = this.#bandIndex().get(name) ?? this.#singleGroup(name);
        if (found === undefined) throw this.#unknownChannel(name);
        const last = out[out.length - 1];
        if (last !== undefined && last.group === found.group) last.bands.push(found.band);
        else out.push({ group: found.group, bands: [found.band] });
      }
    }
    return out;
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
   * The region `imgRegion` of the image (in image-grid coordinates, Python slice semantics; a third
   * slice selects among the fused channels), fused into one HWC array or, with `fused: false`, as
   * each file's native crop with the transform that aligns it.
   */
  loadRegion(imgRegion?: Region | null, opts?: AlignableRegionOptions): NDArray | Prefused {
    const o = this.#options(opts);
    const plan = this.#plan(imgRegion, o);
    const crops = plan.reads.map((r) => (r.empty ? this.#emptyCrop(r) : readAt(this.#reader(r.sel.group, o.mode), r)));
    return this.#finish(plan, crops, o);
  }

  /** loadRegion with the file reads on the libuv pool (and cache builds, when needed, too). */
  loadRegionAsync(imgRegion?: Region | null, opts?: AlignableRegionOptions): Promise<NDArray | Prefused> {
    try {
      return this.#loadAsync(imgRegion, this.#options(opts));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  async #loadAsync(imgRegion: Region | null | undefined, o: Resolved): Promise<NDArray | Prefused> {
    const plan = this.#plan(imgRegion, o);
    const leases: ReaderLease[] = [];
    try {
      const crops = await Promise.all(plan.reads.map(async (r) => {
        if (r.empty) return this.#emptyCrop(r);
        const lease = await this.#opener.openAsync(r.sel.group.chan, o.mode);
        leases.push(lease);
        const reader = lease.reader;
        return reader.kind === 'raster' && r.readScale < 1 ? reader.readWindowAsync(r.window, { scale: r.readScale }) : reader.readWindowAsync(r.window);
      }));
      return this.#finish(plan, crops, o);
    } finally {
      for (const l of leases) l.release();
    }
  }

  #options(opts: AlignableRegionOptions | undefined): Resolved {
    const o = v.options(opts, 'options', REGION_KEYS) as AlignableRegionOptions;
    const fused = o.fused === undefined ? true : v.boolean(o.fused, 'options.fused');
    const cache = o.cache === undefined ? true : v.boolean(o.cache, 'options.cache');
    const interpolation = o.interpolation === undefined ? 'nearest'
      : v.oneOf(o.interpolation, 'options.interpolation', ['nearest', 'linear'] as const);
    const scale = o.scale === undefined ? 1 : v.number(o.scale, 'options.scale');
    if (!(scale > 0 && scale <= 1)) throw v.rangeError('a number in (0, 1]', 'options.scale', scale);
    const boundless = o.boundless === undefined ? false : v.boolean(o.boundless, 'options.boundless');
    const fill = o.fill === undefined ? 0 : v.number(o.fill, 'options.fill');
    return {
      channels: o.channels, fused, mode: cache ? 'build' : 'source', metaMode: cache ? 'ifExists' : 'source', interpolation,
      scale, boundless, fill,
    };
  }

  #plan(imgRegion: Region | null | undefined, o: Resolved): Plan {
    const sels = this.selections(o.channels, o.metaMode);
    const total = sels.reduce((n, s) => n + s.bands.length, 0);
    const [H, W] = this.gridShape;
    const win = normalizeRegion(imgRegion, [H, W, total], o.boundless);
    // Keep only the bands inside the channel slice [c0, c1) of the fused result.
    const kept: Selection[] = [];
    let c = 0;
    for (const s of sels) {
      const bands = s.bands.filter((_, i) => c + i >= win.c0 && c + i < win.c1);
      c += s.bands.length;
      if (bands.length > 0) kept.push({ group: s.group, bands });
    }
    const rh = win.y1 - win.y0;
    const rw = win.x1 - win.x0;
    const h = scaled(rh, o.scale);
    const w = scaled(rw, o.scale);
    const outToImg: M3 = [w > 0 ? rw / w : 1, 0, win.x0, 0, h > 0 ? rh / h : 1, win.y0];
    const reads = kept.map((sel) => this.#fileWindow(sel, outToImg, h, w, o));
    return { win, h, w, outToImg, reads, channels: win.c1 - win.c0 };
  }

  /**
   * The window of a file to read for the output grid: the file pixels the samples touch, clipped;
   * and the reader scale, below 1 when the output needs fewer pixels than the file has there
   * (a `scale` < 1, or a warp that shrinks the file onto the grid), so raster files are read
   * from their overviews. Prefused reads stay at native resolution unless `scale` is given.
   */
  #fileWindow(sel: Selection, outToImg: M3, h: number, w: number, o: Resolved): FileRead {
    const g = sel.group;
    const b0 = Math.min(...sel.bands);
    const b1 = Math.max(...sel.bands) + 1;
    const meta = this.#reader(g, o.metaMode);
    const [fh, fw] = meta.shape;
    const outToFile = compose(g.inv, outToImg);
    let ry0: number; let ry1: number; let rx0: number; let rx1: number;
    if (h === 0 || w === 0) {
      [ry0, ry1, rx0, rx1] = [0, 0, 0, 0];
    } else if (g.identity && outToImg[0] === 1 && outToImg[4] === 1) {
      [ry0, ry1, rx0, rx1] = [outToImg[5], outToImg[5] + h, outToImg[2], outToImg[2] + w];
    } else {
      const us: number[] = [];
      const vs: number[] = [];
      for (const y of [0.5, h - 0.5]) {
        for (const x of [0.5, w - 0.5]) {
          us.push(outToFile[0] * x + outToFile[1] * y + outToFile[2]);
          vs.push(outToFile[3] * x + outToFile[4] * y + outToFile[5]);
        }
      }
      const lin = o.interpolation === 'linear' ? 0.5 : 0;
      rx0 = Math.floor(Math.min(...us) - lin);
      rx1 = Math.floor(Math.max(...us) - lin) + 1 + (lin ? 1 : 0);
      ry0 = Math.floor(Math.min(...vs) - lin);
      ry1 = Math.floor(Math.max(...vs) - lin) + 1 + (lin ? 1 : 0);
    }
    const cy0 = Math.min(Math.max(ry0, 0), fh);
    const cy1 = Math.min(Math.max(ry1, cy0), fh);
    const cx0 = Math.min(Math.max(rx0, 0), fw);
    const cx1 = Math.min(Math.max(rx1, cx0), fw);
    // File pixels per output pixel (the geometric mean of the two axes).
    const perOut = Math.sqrt(Math.abs(outToFile[0] * outToFile[4] - outToFile[1] * outToFile[3]));
    const readScale = (o.fused || o.scale < 1) && perOut > 1 ? 1 / perOut : 1;
    const window = boxWindow(cy0, cy1, cx0, cx1, b0, b1);
    return { sel, readScale, window, y0: cy0, y1: cy1, x0: cx0, x1: cx1, b0, empty: cy1 === cy0 || cx1 === cx0, dtype: meta.dtype };
  }

  #emptyCrop(r: FileRead): NDArray {
    const nb = Math.max(...r.sel.bands) + 1 - r.b0;
    return allocate([r.y1 - r.y0, r.x1 - r.x0, nb], r.dtype, true);
  }

  /** Crop pixel coordinates -> file pixel coordinates (a crop read at a reduced scale covers its window). */
  #cropToFile(r: FileRead, crop: NDArray): M3 {
    const [ch, cw] = crop.shape;
    const ky = ch > 0 ? (r.y1 - r.y0) / ch : 1;
    const kx = cw > 0 ? (r.x1 - r.x0) / cw : 1;
    return [kx, 0, r.x0, 0, ky, r.y0];
  }

  #finish(plan: Plan, crops: NDArray[], o: Resolved): NDArray | Prefused {
    const { win, h, w } = plan;
    const quant = plan.reads.map((r) => quantizationOf(r.sel.group.chan));
    const data = crops.map((c, i) => (quant[i] !== null ? dequantize(c, quant[i] as Quantization) : c));
    if (!o.fused) {
      const imgToOut = invert(plan.outToImg);
      return {
        imgRegion: [[win.y0, win.y1], [win.x0, win.x1]],
        shape: [h, w, plan.channels],
        chans: plan.reads.map((r, i) => ({
          key: r.sel.group.key,
          bands: r.sel.bands,
          data: data[i],
          auxRegion: [[r.y0, r.y1], [r.x0, r.x1]],
          warpCropToRegion: to3x3(compose(imgToOut, compose(r.sel.group.fwd, this.#cropToFile(r, crops[i])))),
        })),
      };
    }
    // One identity group covering every kept band in order, at native scale: the crop already is the answer.
    if (plan.reads.length === 1 && quant[0] === null) {
      const r = plan.reads[0];
      const contiguous = r.sel.bands.every((b, i) => b === r.b0 + i);
      const unit = plan.outToImg[0] === 1 && plan.outToImg[4] === 1;
      if (r.sel.group.identity && unit && contiguous && crops[0].shape[0] === h && crops[0].shape[1] === w) return crops[0];
    }
    const dtype = fusedDtype(plan.reads.map((r, i) => (quant[i] !== null ? 'float32' : r.dtype)));
    const out = allocate([h, w, plan.channels], dtype, true);
    if (o.fill !== 0) fill(out, o.fill);
    let c = 0;
    for (let i = 0; i < plan.reads.length; i++) {
      const r = plan.reads[i];
      const outToCrop = compose(invert(this.#cropToFile(r, crops[i])), compose(r.sel.group.inv, plan.outToImg));
      sample(out, c, data[i], r, outToCrop, o.interpolation);
      c += r.sel.bands.length;
    }
    return out;
  }
}

/** A file window read at the read's scale (npy has no reduced-resolution form: read it whole). */
function readAt(reader: ImageReader, r: FileRead): NDArray {
  return reader.kind === 'raster' && r.readScale < 1 ? reader.readWindow(r.window, { scale: r.readScale }) : reader.readWindow(r.window);
}
