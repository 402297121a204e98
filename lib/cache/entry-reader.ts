/**
 * EntryReader: the reader a CacheOpener hands out for a cache entry. It reads through an ordinary
 * reader of the entry file and survives what other processes (and users) do to that file:
 * - the entry is replaced by a rebuild (another process's duplicate build, a stale source, a heal):
 *   the file's identity changes; a read that meets it (ERR_SOURCE_CHANGED when a GDAL handle is
 *   reopened) or a periodic identity check (at most every RECHECK_MS) reopens the new file and
 *   goes on, without an error reaching the caller;
 * - the entry turns out corrupt (a read fails with ERR_GDAL_READ, ERR_NPY_HEADER, ...) while its
 *   identity did not change: the opener heals it (rebuilds it once, under its lock) and the read is
 *   retried once; a second failure is ERR_CACHE_CORRUPT.
 * Every retry happens at most once per call, so a call never loops.
 *
 * Pins: a native read that outlives the call that started it (a batch, a fused read on the pool)
 * reads the underlying reader directly, so it pins it (pin(), ReaderPins): a reader replaced while
 * pinned is closed only at its last unpin, and the crops in flight go on reading the file they
 * started with (the old file stays valid after an atomic replace: its mapping or handles are
 * kept).
 *
 * Threads: the calling JS thread (async reads do their copying on the libuv pool, as the reader
 * underneath does).
 */
import { NdsamplerError } from '../errors';
import type { DType, NDArray, Shape3 } from '../ndarray';
import type { ImageReader, NpyReader, RasterReader, ReadOptions } from '../readers';
import type { Region, Window } from '../region';
import { fileStamp, sameStamp } from './entry';
import type { FileStamp } from './entry';

/** How often (ms) an entry reader compares its file's identity with the one it opened. */
export const RECHECK_MS = 1000;

/** Errors after which a read is retried on a reopened (or healed) entry. */
const RECOVERABLE = new Set(['ERR_SOURCE_CHANGED', 'ERR_SOURCE_MISSING', 'ERR_GDAL_READ', 'ERR_GDAL_OPEN', 'ERR_NPY_HEADER', 'ERR_IO']);

/** An opened, validated entry file. */
export interface OpenedEntry {
  reader: ImageReader;
  stamp: FileStamp | null;
}

/** What an EntryReader needs from its opener. */
export interface EntryHost {
  /**
   * Opens the entry again. `corrupt`: the error a read of the file `stamp` names gave (the opener
   * heals the entry first, once); null when the file was replaced and only needs reopening.
   */
  reopen(corrupt: NdsamplerError | null, stamp: FileStamp | null): OpenedEntry;
  reopenAsync(corrupt: NdsamplerError | null, stamp: FileStamp | null): Promise<OpenedEntry>;
}

export class EntryReader implements ImageReader {
  readonly path: string;
  #inner: ImageReader;
  #stamp: FileStamp | null;
  #checkedAt: number;
  #host: EntryHost;
  #closed = false;
  /** Pin counts of the readers handed out by pin(), and the replaced ones to close at their last unpin. */
  #pins = new Map<ImageReader, number>();
  #retired = new Set<ImageReader>();

  constructor(path: string, opened: OpenedEntry, host: EntryHost) {
    this.path = path;
    this.#inner = opened.reader;
    this.#stamp = opened.stamp;
    this.#checkedAt = Date.now();
    this.#host = host;
  }

  get shape(): Shape3 { return this.#inner.shape; }
  get dtype(): DType { return this.#inner.dtype; }
  get kind(): 'npy' | 'raster' { return this.#inner.kind; }
  get isCog(): boolean | undefined { return this.#inner.isCog; }
  get closed(): boolean { return this.#closed; }

  // The sync reads are written out (no closure per call): they are the hot path of Frames.
  read(region?: Region | null, opts?: ReadOptions): NDArray {
    if (Date.now() - this.#checkedAt >= RECHECK_MS) this.#recheck();
    const used = this.#inner;
    try {
      return used.read(region, opts);
    } catch (err) {
      this.#recover(err, used);
      return this.#inner.read(region, opts);
    }
  }

  readWindow(win: Window, opts?: ReadOptions): NDArray {
    if (Date.now() - this.#checkedAt >= RECHECK_MS) this.#recheck();
    const used = this.#inner;
    try {
      return used.readWindow(win, opts);
    } catch (err) {
      this.#recover(err, used);
      return this.#inner.readWindow(win, opts);
    }
  }

  readAsync(region?: Region | null, opts?: ReadOptions): Promise<NDArray> {
    return this.#runAsync((r) => r.readAsync(region, opts));
  }

  readWindowAsync(win: Window, opts?: ReadOptions): Promise<NDArray> {
    return this.#runAsync((r) => r.readWindowAsync(win, opts));
  }

  /**
   * @internal The reader of the entry file as of now (reopened first when the file was replaced,
   * checked at most every RECHECK_MS), for loadBatch, which reads it natively.
   */
  current(): ImageReader {
    if (Date.now() - this.#checkedAt >= RECHECK_MS) this.#recheck();
    return this.#inner;
  }

  /**
   * @internal current(), pinned until unpin(): replaced meanwhile (a rebuild), it is closed only
   * at its last unpin, so a native read in flight on it never meets ERR_CLOSED.
   */
  pin(): PinnedReader {
    const r = this.current();
    this.#pins.set(r, (this.#pins.get(r) ?? 0) + 1);
    let done = false;
    return {
      reader: r as NpyReader | RasterReader,
      unpin: () => {
        if (done) return;
        done = true;
        const n = (this.#pins.get(r) ?? 1) - 1;
        if (n > 0) {
          this.#pins.set(r, n);
          return;
        }
        this.#pins.delete(r);
        if (this.#retired.delete(r)) r.close();
      },
    };
  }

  /** Closes `r` now, or at its last unpin when it is pinned. */
  #closeReader(r: ImageReader): void {
    if (this.#pins.has(r)) this.#retired.add(r);
    else r.close();
  }

  /** Makes the next read compare the file's identity with the one opened (see RECHECK_MS). */
  recheckNow(): void {
    this.#checkedAt = -Infinity;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeReader(this.#inner);
  }

  /** Is `err` from `used` worth one retry on a reopened entry? */
  #recoverable(err: unknown, used: ImageReader): err is NdsamplerError {
    if (this.#closed || !(err instanceof NdsamplerError)) return false;
    // A read queued on a reader this object already replaced (and closed) is retried too.
    return RECOVERABLE.has(err.code) || (err.code === 'ERR_CLOSED' && used !== this.#inner);
  }

  /** The error to heal for (null: the file was only replaced) when a read of `used` failed. */
  #diagnose(err: NdsamplerError, used: ImageReader): NdsamplerError | null {
    if (used !== this.#inner || err.code === 'ERR_SOURCE_CHANGED' || err.code === 'ERR_CLOSED') return null;
    return sameStamp(fileStamp(this.path), this.#stamp) ? err : null;
  }

  /** Replaces `old` by a newly opened reader, unless another call already replaced it. */
  #swap(opened: OpenedEntry, old: ImageReader): void {
    if (old !== this.#inner || this.#closed) {
      opened.reader.close();
      return;
    }
    this.#closeReader(old);  // reads in flight on it finish; queued ones reject with ERR_CLOSED and retry
    this.#inner = opened.reader;
    this.#stamp = opened.stamp;
    this.#checkedAt = Date.now();
  }

  /** True when the file under our name is no longer the one we opened (checked every RECHECK_MS). */
  #replacedOnDisk(): boolean {
    const now = Date.now();
    if (now - this.#checkedAt < RECHECK_MS) return false;
    this.#checkedAt = now;
    return !sameStamp(fileStamp(this.path), this.#stamp);
  }

  /** Sync: reopens the entry when its file was replaced (called when RECHECK_MS have passed). */
  #recheck(): void {
    if (!this.#closed && this.#replacedOnDisk()) {
      const old = this.#inner;
      this.#swap(this.#host.reopen(null, null), old);
    }
  }

  /** Sync: rethrows `err` unless a retry can help; otherwise reopens (or heals) the entry. */
  #recover(err: unknown, used: ImageReader): void {
    if (!this.#recoverable(err, used)) throw err;
    if (used === this.#inner) this.#swap(this.#host.reopen(this.#diagnose(err, used), this.#stamp), used);
  }

  async #runAsync<T>(fn: (r: ImageReader) => Promise<T>): Promise<T> {
    if (!this.#closed && this.#replacedOnDisk()) {
      const old = this.#inner;
      this.#swap(await this.#host.reopenAsync(null, null), old);
    }
    const used = this.#inner;
    try {
      return await fn(used);
    } catch (err) {
      if (!this.#recoverable(err, used)) throw err;
      if (used === this.#inner) {
        const stamp = this.#stamp;
        this.#swap(await this.#host.reopenAsync(this.#diagnose(err, used), stamp), used);
      }
      return await fn(this.#inner);
    }
  }
}

/** A base reader pinned open (EntryReader.pin), until unpin(). */
export interface PinnedReader {
  reader: NpyReader | RasterReader;
  unpin(): void;
}

/** The base reader of `r` (the entry file's reader for an EntryReader), pinned when it is an entry's. */
export function pinReader(r: ImageReader): PinnedReader {
  if (r instanceof EntryReader) return r.pin();
  return { reader: r as NpyReader | RasterReader, unpin: () => undefined };
}

/** The pins of one native call: base() pins a reader, release() drops them all (once the call settled). */
export class ReaderPins {
  #pins: PinnedReader[] = [];

  base(r: ImageReader): NpyReader | RasterReader {
    const p = pinReader(r);
    this.#pins.push(p);
    return p.reader;
  }

  release(): void {
    for (const p of this.#pins) p.unpin();
    this.#pins = [];
  }
}
