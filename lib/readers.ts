/**
 * Low-level readers: openImage() for .npy files (mmap, zero-copy views) and for anything GDAL
 * reads (windowed RasterIO with a tile cache), both behind one ImageReader interface built on the
 * one region normaliser. Every method runs on the calling thread; readAsync does its copying on
 * the libuv pool.
 */
import * as path from 'node:path';
import { ClosedError, NdsamplerError, RegionError, withCallSite } from './errors';
import { allocate, allocateResult, checkArray, fill, ITEMSIZE, TYPED_ARRAY } from './ndarray';
import type { DType, NDArray, Shape3, TypedArray } from './ndarray';
import { native, REQ } from './native';
import type { CancelToken, NativeNpyReader, NativeRasterReader, NpyInfo, RasterInfo } from './native';
import { checkScale, placement, scaledShape } from './geometry';
import { isPartial, normalizeRegion } from './region';
import type { Region, Window } from './region';
import { gdalSource } from './remote-io';
import { isRemote } from './remote/url';
import * as v from './validate';

export interface ReadOptions {
  /** Write into this array (its shape must equal the region's) instead of allocating one. */
  out?: NDArray;
  /**
   * npy only: false returns a zero-copy view of the mapped file when it can (default true). The view
   * is copy-on-write: writing into it never changes the file. readAsync serves it as read does.
   */
  copy?: boolean;
  /** Absolute coordinates; the parts outside the image are filled with `fill` (default false). */
  boundless?: boolean;
  /** The value outside the image for boundless reads (default 0). */
  fill?: number;
  /** Raster only: read at this scale in (0, 1], from overviews where they exist (default 1). */
  scale?: number;
  /** 'hwc' (default) or 'chw': a new array laid out band-planar (shape stays [H, W, C]). */
  layout?: 'hwc' | 'chw';
}

const READ_KEYS = ['out', 'copy', 'boundless', 'fill', 'scale', 'layout'] as const;
/** Refuse to allocate more than this many bytes for one read (a typo'd boundless region). */
const MAX_READ_BYTES = 2 ** 32;

export interface ImageReader {
  readonly path: string;
  readonly shape: Shape3;
  readonly dtype: DType;
  readonly kind: 'npy' | 'raster';
  readonly isCog?: boolean;
  read(region?: Region | null, opts?: ReadOptions): NDArray;
  readAsync(region?: Region | null, opts?: ReadOptions): Promise<NDArray>;
  /** @internal read() of an already normalised window (see BaseReader.readWindow). */
  readWindow(win: Window, opts?: ReadOptions): NDArray;
  /** @internal readAsync() of an already normalised window. */
  readWindowAsync(win: Window, opts?: ReadOptions): Promise<NDArray>;
  close(): void;
  readonly closed: boolean;
}

/** Read options after validation. */
interface Checked {
  copy: boolean;
  boundless: boolean;
  fillValue: number;
  scale: number;
  layout: 'hwc' | 'chw';
  out: NDArray | undefined;
}

const EMPTY: ReadOptions = Object.freeze({});

/** An NDArray of `shape` whose data the addon provides later (C-contiguous strides). */
function placeholder(shape: Shape3, dtype: DType): NDArray {
  const [, w, c] = shape;
  return { data: new TYPED_ARRAY[dtype](0), shape, strides: [w * c, c, 1], offset: 0, dtype };
}

interface Plan {
  win: Window;
  out: NDArray;
  /** Where the in-image part goes in `out`, and the request for the native copy. */
  req: Float64Array;
  empty: boolean;
}

abstract class BaseReader implements ImageReader {
  readonly path: string;
  abstract readonly shape: Shape3;
  abstract readonly dtype: DType;
  abstract readonly kind: 'npy' | 'raster';
  /** Raster readers: the file already is a Cloud-Optimized GeoTIFF. Undefined for npy files. */
  declare readonly isCog?: boolean;
  /** Reused for every synchronous read: the addon copies it into a struct before returning. */
  protected readonly req = new Float64Array(REQ.LENGTH);
  protected isClosed = false;

  constructor(file: string) {
    this.path = file;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  protected checkOpen(): void {
    if (this.isClosed) throw new ClosedError('ERR_CLOSED', `reader for '${this.path}' is closed`, { path: this.path });
  }

  protected abstract nativeReader(): NativeNpyReader | NativeRasterReader;

  /** The synchronous native copy of a planned read (ERR_CLOSED after close()). */
  protected readIntoNative(dst: TypedArray, req: Float64Array): void {
    this.nativeReader().readInto(dst, req);
  }

  /** @internal The native reader (ERR_CLOSED after close()), for loadBatch's one native call. */
  nativeHandle(): NativeNpyReader | NativeRasterReader {
    return this.nativeReader();
  }
  protected abstract supportsScale: boolean;

  /** Validates the option values (not the region). */
  #checkOptions(o: ReadOptions): Checked {
    const copy = o.copy === undefined ? true : v.boolean(o.copy, 'options.copy');
    const boundless = o.boundless === undefined ? false : v.boolean(o.boundless, 'options.boundless');
    const fillValue = o.fill === undefined ? 0 : v.number(o.fill, 'options.fill');
    const scale = checkScale(o.scale);
    if (scale !== 1 && !this.supportsScale) {
      throw new NdsamplerError('ERR_UNSUPPORTED', `scaled reads need a raster reader; '${this.path}' is an npy file`, { path: this.path });
    }
    const layout = o.layout === undefined ? 'hwc' : v.oneOf(o.layout, 'options.layout', ['hwc', 'chw'] as const);
    if (o.out !== undefined && layout !== 'hwc') {
      throw v.typeError('no layout with options.out (its strides decide)', 'options.layout', layout);
    }
    return { copy, boundless, fillValue, scale, layout, out: o.out };
  }

  /**
   * Prepares the destination and the native request for an already normalised window. With
   * `fresh` (an async read without `out` that fills every element) no array is allocated: the
   * request describes the result's layout from offset 0 and `out.data` is an empty placeholder.
   */
  protected plan(win: Window, c: Checked, req: Float64Array, fresh = false): Plan {
    const { scale } = c;
    const shape: Shape3 = scaledShape(win, scale);
    const partial = isPartial(win);
    let out: NDArray;
    if (c.out !== undefined) {
      out = checkArray(c.out, 'options.out', true);
      if (out.dtype !== this.dtype) {
        throw new RegionError('ERR_OUT_BUFFER', v.message(`an array of dtype '${this.dtype}' (the image's)`, 'options.out.dtype', out.dtype));
      }
      if (out.shape[0] !== shape[0] || out.shape[1] !== shape[1] || out.shape[2] !== shape[2]) {
        throw new RegionError('ERR_OUT_BUFFER', v.message(`shape [${shape}] (the region's)`, 'options.out.shape', out.shape));
      }
    } else {
      if (shape[0] * shape[1] * shape[2] * ITEMSIZE[this.dtype] > MAX_READ_BYTES) {
        throw new RegionError('ERR_REGION', v.message(`a region of at most ${MAX_READ_BYTES} bytes`, 'region', shape));
      }
      out = fresh && !partial ? placeholder(shape, this.dtype)
        : partial ? allocate(shape, this.dtype, true) : allocateResult(shape, this.dtype);
      if (c.layout === 'chw') out.strides = [shape[1], 1, shape[0] * shape[1]];
    }
    if (partial && (c.out !== undefined || c.fillValue !== 0)) fill(out, c.fillValue);
    // The in-image part of the window, and where it lands in `out`.
    const { oy, ox, ih, iw } = placement(win, scale, shape);
    const [sy, sx, sch] = out.strides;
    req[REQ.Y0] = win.iy0; req[REQ.Y1] = win.iy1;
    req[REQ.X0] = win.ix0; req[REQ.X1] = win.ix1;
    req[REQ.C0] = win.c0; req[REQ.C1] = win.c1;
    req[REQ.DST_OFFSET] = out.offset + oy * sy + ox * sx;
    req[REQ.DST_SY] = sy; req[REQ.DST_SX] = sx; req[REQ.DST_SC] = sch;
    req[REQ.OUT_H] = ih; req[REQ.OUT_W] = iw;
    // Empty once clamped: at a small scale the inside part can round away entirely.
    const empty = ih === 0 || iw === 0 || win.c1 === win.c0;
    return { win, out, req, empty };
  }

  read(region?: Region | null, opts?: ReadOptions): NDArray {
    this.checkOpen();
    const c = this.#checkOptions(v.options(opts, 'options', READ_KEYS) as ReadOptions);
    return this.#readChecked(normalizeRegion(region, this.shape, c.boundless), c);
  }

  async readAsync(region?: Region | null, opts?: ReadOptions): Promise<NDArray> {
    this.checkOpen();
    const c = this.#checkOptions(v.options(opts, 'options', READ_KEYS) as ReadOptions);
    return this.#readCheckedAsync(normalizeRegion(region, this.shape, c.boundless), c);
  }

  /**
   * @internal A read of a window normalised against this reader's shape (normalizeRegion or
   * resolveRegion), so a request already parsed by Frames or AlignableImageData is not parsed
   * again. `opts` as for read(); boundless-ness is the window's own.
   */
  readWindow(win: Window, opts?: ReadOptions): NDArray {
    this.checkOpen();
    return this.#readChecked(win, this.#checkOptions(opts ?? EMPTY));
  }

  /** @internal readWindow with the copy on the libuv pool. */
  async readWindowAsync(win: Window, opts?: ReadOptions): Promise<NDArray> {
    this.checkOpen();
    return this.#readCheckedAsync(win, this.#checkOptions(opts ?? EMPTY));
  }

  #readChecked(win: Window, c: Checked): NDArray {
    const view = c.copy ? undefined : this.tryView(win, c);
    if (view !== undefined) return view;
    const p = this.plan(win, c, this.req);
    if (!p.empty) this.readIntoNative(p.out.data, p.req);
    return p.out;
  }

  // Not async itself: a read the addon served inline (a small window of resident npy pages,
  // docs/concurrency.md "Async reads served inline") returns its array at once, and readAsync /
  // readWindowAsync (async) make it a resolved promise, or a rejected one when the copy threw.
  #readCheckedAsync(win: Window, c: Checked): NDArray | Promise<NDArray> {
    const view = c.copy ? undefined : this.tryView(win, c);
    if (view !== undefined) return view;
    // The pool thread never writes into JS memory (docs/concurrency.md, "Memory a job writes"):
    // without `out` the addon hands over the buffer it filled; with `out` it copies into it on
    // this thread at completion, after checking it is still attached and large enough.
    const fresh = c.out === undefined && !isPartial(win);
    const p = this.plan(win, c, new Float64Array(REQ.LENGTH), fresh);
    if (p.empty) return p.out;  // a placeholder of a 0-sized shape is the result as it is
    const r = this.nativeReader().readIntoAsync(fresh ? null : p.out.data, p.req);
    if (!(r instanceof Promise)) return this.#settle(p.out, fresh, r);
    return withCallSite(() => r).then((ab) => this.#settle(p.out, fresh, ab));
  }

  #settle(out: NDArray, fresh: boolean, ab: ArrayBuffer | undefined): NDArray {
    if (!fresh) return out;
    const [h, w, ch] = out.shape;
    out.data = new TYPED_ARRAY[this.dtype](ab as ArrayBuffer, 0, h * w * ch);
    return out;
  }

  /** npy overrides this to serve `copy: false` as a zero-copy view. */
  protected tryView(_win: Window, _c: Checked): NDArray | undefined {
    return undefined;
  }

  abstract close(): void;
}

/** Reads a .npy file through a read-only mmap. */
export class NpyReader extends BaseReader {
  readonly kind = 'npy' as const;
  readonly shape: Shape3;
  readonly dtype: DType;
  readonly info: NpyInfo;
  protected supportsScale = false;
  #native: NativeNpyReader | null;
  /** The reader's slot in the addon's per-env table, and its generation (native.npyReadInto). */
  #slot: number;
  #slotGen: number;
  /** The whole data section as one typed array over the mapping, made on first use. */
  #base: TypedArray | null | undefined;

  constructor(file: string) {
    super(file);
    this.#native = new native.NpyReader(file);
    const { slot, slotGen, ...info } = this.#native.info();
    this.info = info;
    this.#slot = slot;
    this.#slotGen = slotGen;
    this.shape = this.info.shape;
    this.dtype = this.info.dtype;
  }

  // Through the slot: no receiver to unwrap, no JS function per reader (native/npy/npy_slots.h).
  protected override readIntoNative(dst: TypedArray, req: Float64Array): void {
    this.checkOpen();
    native.npyReadInto(this.#slot, this.#slotGen, dst, req);
  }

  protected nativeReader(): NativeNpyReader {
    this.checkOpen();
    return this.#native as NativeNpyReader;
  }

  /** The mapped data as a typed array, or null where a view cannot be served. */
  #mappedData(): TypedArray | null {
    if (this.#base !== undefined) return this.#base;
    const info = this.info;
    const size = ITEMSIZE[info.dtype];
    let base: TypedArray | null = null;
    if (!info.byteSwapped && info.dataOffset % size === 0) {
      const ab = this.nativeReader().mapping();
      if (ab !== null) {
        const n = info.shape[0] * info.shape[1] * info.shape[2];
        base = new TYPED_ARRAY[info.dtype](ab, info.dataOffset, n);
      }
    }
    this.#base = base;
    return base;
  }

  protected override tryView(win: Window, c: Checked): NDArray | undefined {
    if (c.out !== undefined || c.boundless || c.scale !== 1 || c.layout !== 'hwc') return undefined;
    const data = this.#mappedData();
    if (data === null) return undefined;
    const [sy, sx, sc] = this.info.strides;
    return {
      data,
      shape: [win.y1 - win.y0, win.x1 - win.x0, win.c1 - win.c0],
      strides: [sy, sx, sc],
      offset: win.y0 * sy + win.x0 * sx + win.c0 * sc,
      dtype: this.dtype,
    };
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.#native?.close();
    this.#native = null;
    this.#base = undefined;
  }
}

/** Reads anything GDAL opens: windows through RasterIO and the shared tile cache. */
export class RasterReader extends BaseReader {
  readonly kind = 'raster' as const;
  readonly shape: Shape3;
  readonly dtype: DType;
  readonly info: RasterInfo;
  override readonly isCog: boolean;
  protected supportsScale = true;
  #native: NativeRasterReader | null;

  /** `opened`: a native reader an async open already made (lib/readers-async.ts); `file` is then its path. */
  constructor(file: string, opts: { maxHandles?: number } = {}, opened?: NativeRasterReader) {
    super(file);
    this.#native = opened ?? new native.RasterReader(file, { maxHandles: opts.maxHandles ?? 4 });
    this.info = this.#native.info();
    this.shape = this.info.shape;
    this.dtype = this.info.dtype;
    this.isCog = this.info.isCog;
  }

  protected nativeReader(): NativeRasterReader {
    this.checkOpen();
    return this.#native as NativeRasterReader;
  }

  /**
   * @internal Fetches at once the remote bytes the windows ([y0, y1, x0, x1] each) need, on the
   * libuv pool: a published object read in place (lib/remote/published.ts) then serves them
   * from memory; a no-op for other files.
   */
  prefetchAsync(windows: Float64Array, token?: CancelToken): Promise<void> {
    try {
      return this.nativeReader().prefetchAsync(windows, token);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.#native?.close();
    this.#native = null;
  }
}

export { setMappingBudget, mappingStats } from './mappings';
export type { MappingStats } from './mappings';

/** @internal openImage's kind of `file` (options checked), refusing remote npy files. */
export function imageKind(file: string, o: { kind?: unknown }): 'npy' | 'raster' {
  const kind = o.kind === undefined
    ? (path.extname(file).toLowerCase() === '.npy' ? 'npy' : 'raster')
    : v.oneOf(o.kind, 'options.kind', ['npy', 'raster'] as const);
  if (kind === 'npy' && isRemote(file)) {
    throw new NdsamplerError('ERR_UNSUPPORTED', `'${file}': npy files are read through mmap, so a remote one must be downloaded first`, { path: file });
  }
  return kind;
}

/** @internal An error from opening remote `file` names the URL the caller gave. */
export function namedAfter(err: unknown, file: string): unknown {
  if (err instanceof NdsamplerError && isRemote(file) && typeof err.path === 'string' && err.path !== file) err.path = file;
  return err;
}

/**
 * Opens an image: '.npy' files with the mmap reader, anything else through GDAL. URL forms
 * (https://, s3://, gs://, az://) are read through GDAL's virtual file systems with the remote
 * defaults (REMOTE_DEFAULTS); the open blocks the calling thread for as long as the server takes
 * (openImageAsync does not).
 */
export function openImage(file: string, opts?: { kind?: 'npy' | 'raster' }): NpyReader | RasterReader {
  v.string(file, 'path');
  const kind = imageKind(file, v.options(opts, 'options', ['kind'] as const));
  if (kind === 'npy') return new NpyReader(file);
  try {
    return new RasterReader(gdalSource(file));
  } catch (err) {
    throw namedAfter(err, file);
  }
}

/** npy files are local files (written and read through mmap): never a GDAL virtual path. */
export function refuseVirtualNpy(file: string): void {
  if (file.startsWith('/vsi')) {
    throw new NdsamplerError('ERR_UNSUPPORTED', `'${file}': .npy files are written and read through mmap, so they are local files, never GDAL virtual paths`, { path: file });
  }
}

/** Writes `array` as a numpy-readable .npy file (v1.0, C order), atomically. */
export function writeNpy(file: string, array: NDArray): void {
  v.string(file, 'path');
  refuseVirtualNpy(file);
  const a = checkArray(array, 'array');
  native.writeNpy(file, a.data, { shape: a.shape, strides: a.strides, offset: a.offset, dtype: a.dtype, ndim: 3 });
}
