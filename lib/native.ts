/**
 * The only file that loads the addon, and the exact type of everything it exports.
 * All calls here run on the calling JS thread; the *Async methods run their work on the libuv
 * pool and settle on the calling thread.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTempTracker } from './atomic';
import { makeError, NdsamplerError } from './errors';
import type { DType, Shape3, TypedArray } from './ndarray';

/** Layout of the Float64Array request every read passes (native/core/request.h `Req`). */
export const REQ = {
  Y0: 0, Y1: 1, X0: 2, X1: 3, C0: 4, C1: 5,
  DST_OFFSET: 6, DST_SY: 7, DST_SX: 8, DST_SC: 9,
  OUT_H: 10, OUT_W: 11,
  LENGTH: 12,
} as const;

export interface NpyInfo {
  shape: Shape3;            // HWC; a 2-D file has C = 1
  ndim: 2 | 3;
  dtype: DType;
  version: 1 | 2 | 3;
  fortranOrder: boolean;
  byteSwapped: boolean;     // stored big-endian: reads convert, no zero-copy view
  dataOffset: number;       // bytes from the file start to the first element
  strides: Shape3;          // in elements, of the stored layout
}

export interface NativeNpyReader {
  /** The header, and the reader's slot for npyReadInto with its generation. */
  info(): NpyInfo & { slot: number; slotGen: number };
  /** Copies window req[Y0..C1] into dst per req[DST_*]. */
  readInto(dst: TypedArray, req: Float64Array): void;
  /**
   * The same on the libuv pool, copying into a buffer the job owns. With a dst, that buffer is
   * copied into dst at completion (ERR_OUT_BUFFER when dst was detached or shrunk meanwhile) and
   * the promise resolves with undefined; with null, req[DST_*] lay out a new array from offset 0
   * and the promise resolves with its ArrayBuffer. A small window whose pages are all resident is
   * copied at once on this thread instead (as readInto; docs/concurrency.md "Async reads served
   * inline"): then the result itself is returned, not a promise, and a failed copy throws.
   */
  readIntoAsync(dst: TypedArray | null, req: Float64Array): Promise<ArrayBuffer | undefined> | ArrayBuffer | undefined;
  /**
   * An ArrayBuffer over the whole mapped file (zero-copy and copy-on-write: a write into it stays
   * in this process and never reaches the file), or null when the runtime forbids external buffers
   * or the system only granted a read-only mapping. The mapping lives as long as this buffer, an
   * in-flight readIntoAsync or the open reader does.
   */
  mapping(): ArrayBuffer | null;
  close(): void;
}

export interface NpyArrayDesc {
  shape: Shape3;
  strides: Shape3;
  offset: number;
  dtype: DType;
  ndim: 2 | 3;
}

export interface RasterInfo {
  shape: Shape3;
  dtype: DType;
  driver: string;
  isCog: boolean;
  blockSize: [number, number];            // [height, width] of a block (tile or strip)
  overviews: Array<[number, number]>;     // [height, width] of each overview level
  palette: boolean;                       // a color table expanded to RGB(A) (or gray)
  tiled: boolean;                         // a tiled GeoTIFF: full-size reads use the tile cache
  tileDecoder: 'libtiff' | 'gdal' | null; // who decodes tiles on a cache miss (null: not tiled)
  compression: string | null;
  predictor: number;                      // TIFF predictor: 2 horizontal, 3 floating point, 0 none
  /** The identity a cache entry carries in its metadata (NDSAMPLER_ENTRY, NDSAMPLER_SRC), or null. */
  identity: { entry: string; src: string } | null;
}

export interface NativeRasterReader {
  info(): RasterInfo;
  /** Reads window req[Y0..C1] at output size req[OUT_H] x req[OUT_W] into dst. */
  readInto(dst: TypedArray, req: Float64Array): void;
  /** As NativeNpyReader.readIntoAsync, always on the pool (a promise). */
  readIntoAsync(dst: TypedArray | null, req: Float64Array): Promise<ArrayBuffer | undefined>;
  /** Fetches at once the remote bytes of windows [y0, y1, x0, x1]... (published objects; else a no-op). */
  prefetchAsync(windows: Float64Array, token?: CancelToken): Promise<void>;
  close(): void;
}

/** An opaque cancel token (newCancelToken): cancelToken() stops the remote work it was given to. */
export type CancelToken = { readonly __cancelToken: unique symbol };

/** A published cache object to open in place (openPublishedAsync). */
export interface NativePublishedSpec {
  vsiPath: string;   // /vsicurl/https://…, /vsis3/…
  name: string;      // the URL errors name
  size: number;      // what the server must report
  head: number;      // bytes [0, head) hold the header: fetched with one GET
  maxHandles: number;
}

/** The options writeCog passes down; lib/cog.ts builds it from a checked CogConfig. */
export interface NativeCogOptions {
  compress: string;               // 'AUTO' or a COMPRESS value of GDAL's COG driver
  blocksize: number;
  overviews: 'AUTO' | 'NONE';
  overviewCount: number;          // 0 = GDAL's automatic count (with overviews 'AUTO')
  resampling: string;             // overview resampling; 'AUTO' = NEAREST for integers, AVERAGE for floats
  level: number;                  // -1 = codec default
  quality: number;                // -1 = codec default
  predictor: string;              // 'AUTO' | 'NO' | 'STANDARD' | 'FLOATING_POINT' | 'YES'
  numThreads: number;             // 0 = ALL_CPUS
  metadata?: Record<string, string>;  // dataset metadata items written into the header
}

export interface TileCacheStats { hits: number; misses: number; bytes: number; budget: number; entries: number }
export interface DatasetStats { open: number; idle: number; cap: number }

/** An array to write with writeRaster (strides and offset in elements). */
export interface RasterArrayDesc {
  shape: Shape3;
  strides: Shape3;
  offset: number;
  dtype: DType;
}

/**
 * Layout of one crop in loadBatch's `items` (native/batch/batch_layout.h `Item`): KIND (ITEM_KIND);
 * a WINDOW item reads source SRC's in-image window Y0..C1 and lands it at OY, OX with size IH x IW
 * (output resolution, larger than the window for an enlarged read) in its slot, turned by ORIENT
 * (lib/geometry.ts orientation code; 0: as read; OY..IW are then in the crop as read, the slot
 * transposed by an odd quarter turn); a FUSED item samples parts PART0 .. PART0 + NPARTS (ORIENT
 * 0: its orientation is in its parts' affines); FILL is the raw fill value of every item.
 */
export const ITEM = {
  KIND: 0, SRC: 1, Y0: 2, Y1: 3, X0: 4, X1: 5, C0: 6, C1: 7, OY: 8, OX: 9, IH: 10, IW: 11, FILL: 12,
  PART0: 13, NPARTS: 14, ORIENT: 15,
  LENGTH: 16,
} as const;
export const ITEM_KIND = { NONE: -1, WINDOW: 0, FUSED: 1 } as const;

/**
 * Layout of one file of a fused item in loadBatch's `parts` (native/batch/batch_layout.h `Part`):
 * source SRC's window Y0..X1, bands B0..B1, read at READ_H x READ_W; M0..M5 the affine from output
 * pixel coordinates to crop coordinates; INTERP 0 nearest / 1 linear; ROUND how a linear value is
 * stored in the fused dtype (0 as is, 1 float32, 2 Math.round); it writes crop bands
 * bands[BANDS_AT .. BANDS_AT + NB) into channels CH0..; DEQUANT 0 none, 1 (x - QMIN) * QSCALE + OMIN,
 * 2 the same with NODATA -> NaN; AA_* the antialiasing prefilter (sigma, radius per axis; 0: none).
 */
export const PART = {
  SRC: 0, Y0: 1, Y1: 2, X0: 3, X1: 4, B0: 5, B1: 6, READ_H: 7, READ_W: 8,
  M0: 9, M1: 10, M2: 11, M3: 12, M4: 13, M5: 14,
  INTERP: 15, ROUND: 16, CH0: 17, NB: 18, BANDS_AT: 19,
  DEQUANT: 20, QMIN: 21, QSCALE: 22, OMIN: 23, NODATA: 24,
  AA_SIGMA_X: 25, AA_SIGMA_Y: 26, AA_RADIUS_X: 27, AA_RADIUS_Y: 28,
  LENGTH: 29,
} as const;

/**
 * The one options object of loadBatch / loadBatchSync (lib/frames/batch-items.ts builds the work
 * list; native/batch/batch_job.cc turns it into a struct): n crops of h x w x c of `dtype`, laid
 * out `layout`, converted (normalize: (x * scale - mean[k]) / std[k]); `items` (ITEM), `parts`
 * (PART) and `bands` describe the work over `sources`. `view` ([offset, sy, sx, sc], one crop only)
 * lays the crop out in `out` by those element strides.
 */
export interface NativeBatchOptions {
  n: number; h: number; w: number; c: number;
  dtype: DType;
  /** 'NCTHW': n = N windows x `frames` frames, crop i frame i % frames of window i / frames. */
  layout: 'NHWC' | 'NCHW' | 'NCTHW';
  frames?: number;
  normalize: boolean;
  scale: number;
  mean: Float64Array;
  std: Float64Array;
  fillOnError: boolean;
  sources: Array<NativeNpyReader | NativeRasterReader>;
  items: Float64Array;
  parts?: Float64Array;
  bands?: Float64Array;
  out: TypedArray | undefined;
  view?: Float64Array;
}

/**
 * The one options object of rasterizeMasks (lib/labels/masks.ts builds it; native/labels/
 * mask_job.cc). `shapes` holds 4 numbers per shape, painted in order into crop `crop`: crop,
 * value, kind (0 polygon, 1 RLE), offset into `geom`. A polygon at its offset: nParts, then per
 * part nRings, then per ring nPoints and its x, y pairs (canvas pixel edges; the rings of a part
 * are filled even-odd). An RLE: imgH, imgW, the affine t0..t5 from canvas pixel centres to image
 * coordinates, the canvas box c0, r0, c1, r1 to visit, nRuns and the run lengths.
 */
export interface NativeMaskOptions {
  n: number; h: number; w: number;
  dtype: 'uint8' | 'uint16' | 'int32';
  shapes: Float64Array;
  geom: Float64Array;
  /** The data of an earlier result of this env to fill again in place (else a new buffer). */
  out?: Uint8Array | Uint16Array | Int32Array;
}

export interface NativeBatchResult {
  data: TypedArray;
  errors: Array<{ index: number; error: NdsamplerError }>;
}

export interface NativeXxh128 {
  update(bytes: Uint8Array): void;
  /** 32 lowercase hex digits of the bytes fed so far. */
  digest(): string;
}

export interface NativeBinding {
  setErrorFactory(factory: (code: string, message: string, props: Record<string, unknown>) => Error): void;
  /** Remembers / forgets a temporary file lib/atomic.ts is writing; remembered ones are removed at env teardown. */
  trackTemp(path: string): void;
  untrackTemp(path: string): void;
  /**
   * Opens (creating) `path` and takes an exclusive flock on it: the descriptor holding the lock, or
   * -1 when `wait` is false and another holder has it (`wait` true blocks this thread until granted).
   */
  lockFile(path: string, wait: boolean): number;
  /** Closes a descriptor lockFile returned in this thread, releasing its lock. */
  unlockFile(fd: number): void;
  /** Streaming XXH3-128 (seed 0): the digests of xxhash-addon's XXHash128, computed in this addon. */
  Xxh128: new () => NativeXxh128;
  /** 32 lowercase hex digits of XXH3-128 (seed 0) of `bytes`. */
  xxh128(bytes: Uint8Array): string;
  NpyReader: new (path: string) => NativeNpyReader;
  /**
   * readInto of the npy reader whose info() gave (slot, gen), without a receiver to unwrap
   * (ERR_CLOSED once that reader is closed or collected). Same env only.
   */
  npyReadInto(slot: number, gen: number, dst: TypedArray, req: Float64Array): void;
  writeNpy(path: string, data: TypedArray, desc: NpyArrayDesc): void;
  /** Process-wide: live npy mappings, and the budget past which mapping() returns null. */
  mappingStats(): { live: number; budget: number; inlineReads: number; poolReads: number };
  setMappingBudget(n: number): void;
  RasterReader: new (path: string, opts: { maxHandles: number }) => NativeRasterReader;
  writeCog(src: string, dst: string, opts: NativeCogOptions): void;
  writeCogAsync(src: string, dst: string, opts: NativeCogOptions): Promise<void>;
  convertToNpy(src: string, dst: string): void;
  convertToNpyAsync(src: string, dst: string): Promise<void>;
  isCog(path: string): boolean;
  /** The COMPRESS values GDAL's COG driver offers in this build. */
  cogCompressions(): string[];
  /** Writes an array with any GDAL driver (PNG, GTiff, JPEG, ...) via temp file + rename. */
  writeRaster(path: string, data: TypedArray, desc: RasterArrayDesc, driver: string, creationOptions: string[]): void;
  /** An HWC array as the bytes of an image file (driver PNG, JPEG, WEBP or GTiff; -1: the driver's default). */
  encode(data: TypedArray, desc: RasterArrayDesc, driver: string, quality: number, level: number): Buffer;
  encodeAsync(data: TypedArray, desc: RasterArrayDesc, driver: string, quality: number, level: number): Promise<Buffer>;
  /** Removes a /vsimem/ file or directory; false when there was none. */
  vsimemUnlink(path: string): boolean;
  tileCacheStats(): TileCacheStats;
  setTileCacheBudget(bytes: number): void;
  /** Per-env cap on open GDAL dataset handles (idle ones beyond it are closed). */
  setMaxOpenDatasets(n: number): void;
  datasetStats(): DatasetStats;
  setPixelLimit(n: number): number;
  gdalVersion(): string;
  hasDriver(name: string): boolean;
  /** Queues a batch on the addon's thread pool; `id` is for cancelBatch. */
  loadBatch(opts: NativeBatchOptions): { id: number; promise: Promise<NativeBatchResult> };
  /**
   * The same crops on the calling thread (the JS thread waits): with `out` they are written
   * straight into it and `data` is `out`; the first failing crop throws unless fillOnError.
   */
  loadBatchSync(opts: NativeBatchOptions): NativeBatchResult;
  /** This thread's pool of released batch buffers, and how many batches reused one or took new memory. */
  batchMemoryStats(): { pooled: number; pooledBytes: number; reused: number; allocated: number };
  /** Cancels a batch in flight: queued crops are skipped and it rejects with `code`. */
  cancelBatch(id: number, code: 'ERR_ABORTED' | 'ERR_CLOSED'): void;
  /** The addon's pool: process-wide, default one thread per core. */
  setThreadPoolSize(n: number): void;
  threadPoolSize(): number;
  /** How many nice levels (0..19) the pool threads run below the JS thread that starts them. */
  setThreadPoolNice(n: number): void;
  threadPoolNice(): number;
  /** Paints the masks of a labeled batch on the addon's pool (n * h * w elements of `dtype`). */
  rasterizeMasks(opts: NativeMaskOptions): Promise<Uint8Array | Uint16Array | Int32Array>;
  /** VSIStatExL + the HTTP headers of a (remote) VSI path; never throws for a remote failure. */
  statRemote(path: string, fresh: boolean): NativeRemoteStat;
  statRemoteAsync(path: string, fresh: boolean): Promise<NativeRemoteStat>;
  /** A whole (small) VSI file; ERR_SOURCE_MISSING (404) / ERR_REMOTE / ERR_TOO_LARGE. */
  readVsiFile(path: string, maxBytes: number): Buffer;
  readVsiFileAsync(path: string, maxBytes: number): Promise<Buffer>;
  /** Opens a RasterReader on the libuv pool (remote paths included). */
  openRasterAsync(path: string, opts: { maxHandles: number }, token?: CancelToken): Promise<NativeRasterReader>;
  /** Opens a published object in place through /vsindspub/ (one GET for its header) on the libuv pool. */
  openPublishedAsync(spec: NativePublishedSpec, token?: CancelToken): Promise<NativeRasterReader>;
  /** openPublishedAsync on the calling thread (synchronous reads). */
  openPublished(spec: NativePublishedSpec): NativeRasterReader;
  /** Where a local COG's header ends (its first tile's offset less the block leader); 0 if not a tiled GeoTIFF. */
  cogHeaderLengthAsync(path: string): Promise<number>;
  newCancelToken(): CancelToken;
  cancelToken(token: CancelToken): void;
  /** Copies a local file to a VSI path with one VSI write (one PUT, or an atomic multipart upload). */
  uploadFile(src: string, dst: string): void;
  uploadFileAsync(src: string, dst: string): Promise<void>;
  /** CPLSetConfigOption per key (null unsets), or VSISetPathSpecificOption under `prefix`. */
  setConfigOptions(opts: Record<string, string | null>, prefix: string): void;
  getConfigOption(key: string): string | null;
  /** The names in a VSI directory (an S3 prefix: one listing request); [] when there is none. */
  listDir(path: string): string[];
  /** VSICurlPartialClearCache(prefix); '' clears the whole cache. */
  clearRemoteCache(prefix: string): void;
}

/** What statRemote saw (status 0: no HTTP status, e.g. a refused connection). */
export interface NativeRemoteStat {
  exists: boolean;
  isFile?: boolean;
  size?: number;
  mtime?: number;
  etag?: string;
  lastModified?: string;
  status: number;
  errnum: number;
  /** 'http', 'timeout', 'connection' or '' (native/raster/remote_error.h). */
  reason: string;
  message: string;
}

const root = path.resolve(__dirname, '..');
const candidates = [
  path.join(root, 'build', 'Release', 'ndsampler.node'),
  path.join(root, 'build', 'Debug', 'ndsampler.node'),
];

function load(): NativeBinding {
  const tried: string[] = [];
  for (const file of candidates) {
    if (!fs.existsSync(file)) {
      tried.push(`${file}: not built`);
      continue;
    }
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const binding = require(file) as NativeBinding;
      binding.setErrorFactory(makeError);
      setTempTracker({ track: (t) => binding.trackTemp(t), untrack: (t) => binding.untrackTemp(t) });
      return binding;
    } catch (err) {
      const msg = (err as Error).message;
      const hint = /libgdal/.test(msg)
        ? 'GDAL is not installed: apt-get install libgdal-dev (Debian/Ubuntu), then npm rebuild ndsampler'
        : 'rebuild it: npm rebuild ndsampler (in a checkout: npm run build:native)';
      tried.push(`${file}: ${msg} (${hint})`);
    }
  }
  throw new NdsamplerError('ERR_ADDON_LOAD',
    'the ndsampler native addon could not be loaded. Tried:\n  ' + tried.join('\n  ') +
    '\nBuilding needs GDAL\'s development files and cmake (apt-get install libgdal-dev cmake), then ' +
    '`npm rebuild ndsampler`, or `npm run build:native` in a checkout.');
}

export const native: NativeBinding = load();
