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
import { FramesError } from './errors';
import { allocate } from './ndarray';
import type { DType, NDArray, Shape3, TypedArray } from './ndarray';
import { normalizeRegion } from './region';
import type { Region, Window } from './region';
import type { ImageReader } from './readers';
import { CacheOpener, coerceBackendConfig } from './cache';
import type { BackendConfig, BackendSpec, ChannelInfo, ChannelOpener, OpenMode, Pathinfo, ReaderLease } from './cache';
import * as v from './validate';

export type Interpolation = 'nearest' | 'linear';

export interface AlignableRegionOptions {
  /** Channel groups or band names: a group key ('r|g|b'), a band of a group ('g'), 'a|b' for several, or an array. */
  channels?: string | string[];
  /** true (default): one HWC array in image coordinates; false: each file's native crop and its transform. */
  fused?: boolean;
  /** false reads the sources directly; true (default) reads (and builds when missing) the cache entries. */
  cache?: boolean;
  /** Resampling for non-identity transforms (default 'nearest'). */
  interpolation?: Interpolation;
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

type M3 = [number, number, number, number, number, number];  // a, b, tx, c, d, ty

interface Group {
  key: string;
  chan: ChannelInfo;
  fwd: M3;       // file -> image
  inv: M3;       // image -> file
  identity: boolean;
  axisAligned: boolean;
}

interface Selection { group: Group; bands: number[] }

interface Resolved {
  channels: string | string[] | undefined;
  fused: boolean;
  /** How the pixels are read. */
  mode: OpenMode;
  /** How shapes are looked up: never builds a cache entry. */
  metaMode: OpenMode;
  interpolation: Interpolation;
}

/** One file read of a plan: the clipped window of the file and which of its bands are kept. */
interface FileRead {
  sel: Selection;
  window: Region;
  y0: number; y1: number; x0: number; x1: number;
  /** The first band read (crop band 0). */
  b0: number;
  empty: boolean;
  dtype: DType;
}

interface Plan {
  win: Window;
  h: number;
  w: number;
  reads: FileRead[];
  channels: number;
}

const IDENTITY: M3 = [1, 0, 0, 0, 1, 0];
const REGION_KEYS = ['channels', 'fused', 'cache', 'interpolation'] as const;

function pathinfoError(msg: string): FramesError {
  return new FramesError('ERR_PATHINFO', msg);
}

function parseAffine(m: unknown, where: string): M3 {
  if (m === null || m === undefined) return IDENTITY;
  const bad = () => pathinfoError(`${where}: warpAuxToImg must be a 2x3 or 3x3 array of finite numbers (an invertible affine); received ${JSON.stringify(m)}`);
  if (!Array.isArray(m) || (m.length !== 2 && m.length !== 3)) throw bad();
  for (const row of m) {
    if (!Array.isArray(row) || row.length !== 3 || !row.every((x) => typeof x === 'number' && Number.isFinite(x))) throw bad();
  }
  if (m.length === 3 && (m[2][0] !== 0 || m[2][1] !== 0 || m[2][2] !== 1)) {
    throw pathinfoError(`${where}: warpAuxToImg's last row must be [0, 0, 1] (only affine transforms are supported)`);
  }
  const r: M3 = [m[0][0], m[0][1], m[0][2], m[1][0], m[1][1], m[1][2]];
  if (r[0] * r[4] - r[1] * r[3] === 0) throw bad();
  return r;
}

function invert(m: M3): M3 {
  const [a, b, tx, c, d, ty] = m;
  const det = a * d - b * c;
  const ia = d / det;
  const ib = -b / det;
  const ic = -c / det;
  const id = a / det;
  return [ia, ib, -(ia * tx + ib * ty), ic, id, -(ic * tx + id * ty)];
}

function compose(p: M3, q: M3): M3 {  // p after q
  return [
    p[0] * q[0] + p[1] * q[3], p[0] * q[1] + p[1] * q[4], p[0] * q[2] + p[1] * q[5] + p[2],
    p[3] * q[0] + p[4] * q[3], p[3] * q[1] + p[4] * q[4], p[3] * q[2] + p[4] * q[5] + p[5],
  ];
}

const to3x3 = (m: M3): number[][] => [[m[0], m[1], m[2]], [m[3], m[4], m[5]], [0, 0, 1]];

function isOpener(x: unknown): x is ChannelOpener {
  return typeof x === 'object' && x !== null && typeof (x as ChannelOpener).open === 'function'
    && typeof (x as ChannelOpener).openAsync === 'function';
}

/** The dtype all groups fuse into: theirs when they agree, else float32 (float64 for 32-bit ints or float64). */
function fusedDtype(dtypes: DType[]): DType {
  if (dtypes.every((d) => d === dtypes[0])) return dtypes[0] ?? 'uint8';
  return dtypes.some((d) => d === 'float64' || d === 'int32' || d === 'uint32') ? 'float64' : 'float32';
}

export class AlignableImageData {
  readonly pathinfo: Pathinfo;
  readonly #opener: ChannelOpener;
  /** Set when this object made its own opener (and so must close it). */
  readonly #own: CacheOpener | null;
  readonly #groups = new Map<string, Group>();
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
    return { shape: [h, w, c], dtype: fusedDtype(sels.map((s) => this.#reader(s.group, mode).dtype)) };
  }

  #reader(g: Group, mode: OpenMode): ImageReader {
    return this.#opener.open(g.chan, mode);
  }

  /** Resolves a channels request into (group, bands) selections, in request order. */
  selections(channels: string | string[] | undefined, mode: OpenMode): Selection[] {
    let tokens: string[];
    if (channels === undefined || channels === null) {
      const def = this.pathinfo.default;
      tokens = def !== null && def !== undefined ? [def] : [...this.#groups.keys()];
    } else if (typeof channels === 'string') {
      tokens = this.#groups.has(channels) ? [channels] : channels.split('|');
    } else if (Array.isArray(channels) && channels.every((c) => typeof c === 'string')) {
      tokens = channels.flatMap((c) => (this.#groups.has(c) ? [c] : c.split('|')));
    } else {
      throw v.typeError('a channel name or an array of channel names', 'options.channels', channels);
    }
    const out: Selection[] = [];
    for (const t of tokens) {
      const g = this.#groups.get(t);
      if (g !== undefined) {
        const c = this.#reader(g, mode).shape[2];
        out.push({ group: g, bands: Array.from({ length: c }, (_, i) => i) });
        continue;
      }
      let found: Selection | undefined;
      for (const grp of this.#groups.values()) {
        const names = grp.key.split('|');
        const i = names.indexOf(t);
        if (names.length > 1 && i >= 0) {
          found = { group: grp, bands: [i] };
          break;
        }
      }
      if (found === undefined) {
        throw new FramesError('ERR_CHANNELS',
          `image ${String(this.pathinfo.id)} has no channel '${t}' (channel groups: ${[...this.#groups.keys()].join(', ')})`);
      }
      const last = out[out.length - 1];
      if (last !== undefined && last.group === found.group) last.bands.push(found.bands[0]);
      else out.push(found);
    }
    return out;
  }

  /**
   * The region `imgRegion` of the image (in image-grid coordinates, Python slice semantics; a third
   * slice selects among the fused channels), fused into one HWC array or, with `fused: false`, as
   * each file's native crop with the transform that aligns it.
   */
  loadRegion(imgRegion?: Region | null, opts?: AlignableRegionOptions): NDArray | Prefused {
    const o = this.#options(opts);
    const plan = this.#plan(imgRegion, o);
    const crops = plan.reads.map((r) => (r.empty ? this.#emptyCrop(r) : this.#reader(r.sel.group, o.mode).read(r.window)));
    return this.#finish(plan, crops, o);
  }

  /** loadRegion with the file reads on the libuv pool (and cache builds, when needed, too). */
  async loadRegionAsync(imgRegion?: Region | null, opts?: AlignableRegionOptions): Promise<NDArray | Prefused> {
    const o = this.#options(opts);
    const plan = this.#plan(imgRegion, o);
    const leases: ReaderLease[] = [];
    try {
      const crops = await Promise.all(plan.reads.map(async (r) => {
        if (r.empty) return this.#emptyCrop(r);
        const lease = await this.#opener.openAsync(r.sel.group.chan, o.mode);
        leases.push(lease);
        return lease.reader.readAsync(r.window);
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
    return { channels: o.channels, fused, mode: cache ? 'build' : 'source', metaMode: cache ? 'ifExists' : 'source', interpolation };
  }

  #plan(imgRegion: Region | null | undefined, o: Resolved): Plan {
    const sels = this.selections(o.channels, o.metaMode);
    const total = sels.reduce((n, s) => n + s.bands.length, 0);
    const [H, W] = this.gridShape;
    const win = normalizeRegion(imgRegion, [H, W, total]);
    // Keep only the bands inside the channel slice [c0, c1) of the fused result.
    const kept: Selection[] = [];
    let c = 0;
    for (const s of sels) {
      const bands = s.bands.filter((_, i) => c + i >= win.c0 && c + i < win.c1);
      c += s.bands.length;
      if (bands.length > 0) kept.push({ group: s.group, bands });
    }
    const h = win.y1 - win.y0;
    const w = win.x1 - win.x0;
    const reads = kept.map((sel) => this.#fileWindow(sel, win, h, w, o));
    return { win, h, w, reads, channels: win.c1 - win.c0 };
  }

  /** The window of a file to read for an image window: the file pixels the samples touch, clipped. */
  #fileWindow(sel: Selection, win: Window, h: number, w: number, o: Resolved): FileRead {
    const g = sel.group;
    const b0 = Math.min(...sel.bands);
    const b1 = Math.max(...sel.bands) + 1;
    const meta = this.#reader(g, o.metaMode);
    const [fh, fw] = meta.shape;
    let ry0: number; let ry1: number; let rx0: number; let rx1: number;
    if (g.identity) {
      [ry0, ry1, rx0, rx1] = [win.y0, win.y1, win.x0, win.x1];
    } else if (h === 0 || w === 0) {
      [ry0, ry1, rx0, rx1] = [0, 0, 0, 0];
    } else {
      const us: number[] = [];
      const vs: number[] = [];
      for (const y of [win.y0 + 0.5, win.y1 - 0.5]) {
        for (const x of [win.x0 + 0.5, win.x1 - 0.5]) {
          us.push(g.inv[0] * x + g.inv[1] * y + g.inv[2]);
          vs.push(g.inv[3] * x + g.inv[4] * y + g.inv[5]);
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
    const window: Region = [[cy0, cy1], [cx0, cx1], [b0, b1]];
    return { sel, window, y0: cy0, y1: cy1, x0: cx0, x1: cx1, b0, empty: cy1 === cy0 || cx1 === cx0, dtype: meta.dtype };
  }

  #emptyCrop(r: FileRead): NDArray {
    const nb = Math.max(...r.sel.bands) + 1 - r.b0;
    return allocate([r.y1 - r.y0, r.x1 - r.x0, nb], r.dtype, true);
  }

  #finish(plan: Plan, crops: NDArray[], o: Resolved): NDArray | Prefused {
    const { win, h, w } = plan;
    if (!o.fused) {
      const toRegion: M3 = [1, 0, -win.x0, 0, 1, -win.y0];
      return {
        imgRegion: [[win.y0, win.y1], [win.x0, win.x1]],
        shape: [h, w, plan.channels],
        chans: plan.reads.map((r, i) => ({
          key: r.sel.group.key,
          bands: r.sel.bands,
          data: crops[i],
          auxRegion: [[r.y0, r.y1], [r.x0, r.x1]],
          warpCropToRegion: to3x3(compose(toRegion, compose(r.sel.group.fwd, [1, 0, r.x0, 0, 1, r.y0]))),
        })),
      };
    }
    // One identity group covering every kept band in order: the crop already is the answer.
    if (plan.reads.length === 1) {
      const r = plan.reads[0];
      const contiguous = r.sel.bands.every((b, i) => b === r.b0 + i);
      if (r.sel.group.identity && contiguous && crops[0].shape[0] === h && crops[0].shape[1] === w) return crops[0];
    }
    const dtype = fusedDtype(plan.reads.map((r) => r.dtype));
    const out = allocate([h, w, plan.channels], dtype, true);
    let c = 0;
    for (let i = 0; i < plan.reads.length; i++) {
      const r = plan.reads[i];
      sample(out, c, crops[i], r, win, o.interpolation);
      c += r.sel.bands.length;
    }
    return out;
  }
}

/**
 * Writes the bands `r.sel.bands` of `crop` (the file window starting at r.y0, r.x0; band 0 of the
 * crop is file band r.b0) into out[:, :, c0...] at image window `win`.
 */
function sample(out: NDArray, c0: number, crop: NDArray, r: FileRead,
  win: Window, interp: Interpolation): void {
  const g = r.sel.group;
  const [H, W, C] = out.shape;
  const [ch, cw] = crop.shape;
  const [sy, sx, sc] = crop.strides;
  const src = crop.data;
  const dst = out.data as TypedArray;
  const isInt = !(out.dtype === 'float32' || out.dtype === 'float64');
  const offs = r.sel.bands.map((b) => (b - r.b0) * sc);
  const nb = offs.length;
  const inv = g.inv;
  if (g.identity || (g.axisAligned && interp === 'nearest')) {
    // Separable: one file column per output column, one file row per output row.
    const cols = new Int32Array(W);
    for (let j = 0; j < W; j++) {
      const x = win.x0 + j + 0.5;
      cols[j] = Math.floor(inv[0] * x + inv[2]) - r.x0;
    }
    for (let i = 0; i < H; i++) {
      const y = win.y0 + i + 0.5;
      const row = Math.floor(inv[4] * y + inv[5]) - r.y0;
      if (row < 0 || row >= ch) continue;
      const rbase = crop.offset + row * sy;
      let o = i * W * C + c0;
      for (let j = 0; j < W; j++, o += C) {
        const col = cols[j];
        if (col < 0 || col >= cw) continue;
        const base = rbase + col * sx;
        for (let k = 0; k < nb; k++) dst[o + k] = src[base + offs[k]];
      }
    }
    return;
  }
  for (let i = 0; i < H; i++) {
    const y = win.y0 + i + 0.5;
    let o = i * W * C + c0;
    for (let j = 0; j < W; j++, o += C) {
      const x = win.x0 + j + 0.5;
      const u = inv[0] * x + inv[1] * y + inv[2] - r.x0;
      const vv = inv[3] * x + inv[4] * y + inv[5] - r.y0;
      if (interp === 'nearest') {
        const col = Math.floor(u);
        const row = Math.floor(vv);
        if (row < 0 || row >= ch || col < 0 || col >= cw) continue;
        const base = crop.offset + row * sy + col * sx;
        for (let k = 0; k < nb; k++) dst[o + k] = src[base + offs[k]];
        continue;
      }
      // Bilinear between pixel centres; points outside the file's extent get the fill value,
      // points within half a pixel of its border clamp to the edge pixels.
      const fu = u - 0.5;
      const fv = vv - 0.5;
      if (u < 0 || vv < 0 || u > cw || vv > ch) continue;
      const c0i = Math.floor(fu);
      const r0i = Math.floor(fv);
      const ax = fu - c0i;
      const ay = fv - r0i;
      const ca = Math.min(Math.max(c0i, 0), cw - 1);
      const cb = Math.min(Math.max(c0i + 1, 0), cw - 1);
      const ra = Math.min(Math.max(r0i, 0), ch - 1);
      const rb = Math.min(Math.max(r0i + 1, 0), ch - 1);
      const p00 = crop.offset + ra * sy + ca * sx;
      const p01 = crop.offset + ra * sy + cb * sx;
      const p10 = crop.offset + rb * sy + ca * sx;
      const p11 = crop.offset + rb * sy + cb * sx;
      for (let k = 0; k < nb; k++) {
        const ok = offs[k];
        const val = (1 - ay) * ((1 - ax) * src[p00 + ok] + ax * src[p01 + ok]) + ay * ((1 - ax) * src[p10 + ok] + ax * src[p11 + ok]);
        dst[o + k] = isInt ? Math.round(val) : val;
      }
    }
  }
}

