/**
 * PublishedReader: the reader of a published cache object read in place (a RasterReader over the
 * addon's /vsindspub/ file: lib/readers-async.ts openPublishedAsync). Its async reads first
 * prefetch the tiles they need, and the prefetches asked for in one turn of the event loop are one
 * native prefetch: 64 crops started at once cost one multi-range GET (or one parallel round of
 * GETs), not 64 rounds of requests on the libuv pool's 4 threads. loadBatch does the same for the
 * crops of a batch (prefetchPlanned).
 *
 * Runs on the calling thread; the prefetch and the reads run on the libuv pool.
 */
import type { DType, NDArray, Shape3 } from '../ndarray';
import type { ImageReader, RasterReader, ReadOptions } from '../readers';
import type { NativeNpyReader, NativeRasterReader } from '../native';
import { normalizeRegion } from '../region';
import type { Region, Window } from '../region';

export class PublishedReader implements ImageReader {
  readonly path: string;
  readonly kind = 'raster' as const;
  readonly #inner: RasterReader;
  #queued: Array<{ windows: Window[]; resolve: () => void; reject: (err: unknown) => void }> = [];
  #scheduled = false;

  /** `url`: the object's URL (what errors and `path` name). */
  constructor(inner: RasterReader, url: string) {
    this.#inner = inner;
    this.path = url;
  }

  get shape(): Shape3 { return this.#inner.shape; }
  get dtype(): DType { return this.#inner.dtype; }
  get isCog(): boolean { return this.#inner.isCog; }
  get closed(): boolean { return this.#inner.closed; }
  /** The object's raster facts (identity included). */
  get info(): RasterReader['info'] { return this.#inner.info; }

  // Synchronous reads: the native read fetches a crop's missing tiles at once itself.
  read(region?: Region | null, opts?: ReadOptions): NDArray {
    return this.#inner.read(region, opts);
  }

  readWindow(win: Window, opts?: ReadOptions): NDArray {
    return this.#inner.readWindow(win, opts);
  }

  async readAsync(region?: Region | null, opts?: ReadOptions): Promise<NDArray> {
    if (!fullScale(opts)) return this.#inner.readAsync(region, opts);
    const win = normalizeRegion(region, this.shape, opts?.boundless === true);
    await this.prefetch([win]);
    return this.#inner.readWindowAsync(win, opts);
  }

  async readWindowAsync(win: Window, opts?: ReadOptions): Promise<NDArray> {
    if (fullScale(opts)) await this.prefetch([win]);
    return this.#inner.readWindowAsync(win, opts);
  }

  /**
   * Fetches the bytes of the windows' missing tiles. The windows of every call made in this turn
   * of the event loop are fetched together, by one native prefetch. (Fetching them in two halves,
   * so that the first half decodes while the second arrives, measured slower on the loopback bench,
   * where the server, the transfer and the decoding share two cores.)
   */
  prefetch(windows: Window[]): Promise<void> {
    const mine: Window[] = windows.filter((w) => w.iy1 > w.iy0 && w.ix1 > w.ix0);
    if (mine.length === 0) return Promise.resolve();
    const waiting = new Promise<void>((resolve, reject) => this.#queued.push({ windows: mine, resolve, reject }));
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.#flush());
    }
    return waiting;
  }

  #flush(): void {
    this.#scheduled = false;
    const calls = this.#queued;
    this.#queued = [];
    const wins = new Float64Array(calls.flatMap((c) => c.windows.flatMap((w) => [w.iy0, w.iy1, w.ix0, w.ix1])));
    this.#inner.prefetchAsync(wins).then(() => calls.forEach((c) => c.resolve()), (err: unknown) => calls.forEach((c) => c.reject(err)));
  }

  /** @internal The native reader, for loadBatch's one native call. */
  nativeHandle(): NativeNpyReader | NativeRasterReader {
    return this.#inner.nativeHandle();
  }

  close(): void {
    this.#inner.close();
  }
}

const fullScale = (opts?: ReadOptions): boolean => opts?.scale === undefined || opts.scale === 1;

/**
 * loadBatch's prefetch: the windows of the planned crops, grouped by the reader they read from,
 * one prefetch per published reader (others are left alone). `scale` < 1 reads overviews: nothing
 * to prefetch.
 */
export async function prefetchPlanned(planned: Array<{ key: object; win: Window } | null>, scale: number): Promise<void> {
  if (scale !== 1) return;
  const by = new Map<PublishedReader, Window[]>();
  for (const p of planned) {
    if (p === null || !(p.key instanceof PublishedReader)) continue;
    const list = by.get(p.key);
    if (list === undefined) by.set(p.key, [p.win]);
    else list.push(p.win);
  }
  await Promise.all([...by].map(([reader, wins]) => reader.prefetch(wins)));
}
