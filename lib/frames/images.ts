/**
 * ImageTable: Frames's per-image state for one backend. It memoises each image's pathinfo (built
 * by the subclass, PIXELS hashes settled here), knows whether an image takes the single-file fast
 * path, and owns the CacheOpener (and so the ReaderPool) every read goes through. Frames holds one
 * and replaces it on updateBackend, so a table never outlives its backend.
 *
 * Internal: not exported from the package. Runs on the calling JS thread.
 */
import { AlignableImageData } from './alignable';
import type { BackendConfig, ChannelInfo, ImageId, Pathinfo } from '../cache/config';
import { CacheOpener } from '../cache/opener';
import type { OpenMode } from '../cache/opener';
import { isVirtual } from '../remote/url';
import type { PoolEntry } from '../cache/pool';
import type { ImageReader } from '../readers';
import { idKey, pendingHashes, settleAsync, settleSync, singleChannel } from './pathinfo';
import type { EntryTarget } from './pathinfo';

export interface ImageState {
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

/** What the table asks of its Frames: the subclass's pathinfo, and where entries go right now. */
export interface ImageSource {
  buildPathinfo(imageId: ImageId): Pathinfo;
  target(): EntryTarget;
}

/**
 * The key of Frames' internal method that gives its current ImageTable (for lib/labels/, whose
 * samplers plan their own crops through lib/frames/batch.ts loadCrops and reads.ts readPlanned).
 * Not exported from the package. The table changes on updateBackend: ask for it on every use.
 */
export const IMAGE_TABLE: unique symbol = Symbol('ndsampler.imageTable');

export class ImageTable {
  readonly opener: CacheOpener;
  readonly #source: ImageSource;
  readonly #states = new Map<string, ImageState>();

  constructor(source: ImageSource, backend: BackendConfig, maxReaders: number) {
    this.#source = source;
    this.opener = new CacheOpener(backend, maxReaders);
  }

  /** The state of an image, its pathinfo built (PIXELS files hashed synchronously) on first use. */
  get(imageId: ImageId): ImageState {
    const key = idKey(imageId);
    const hit = this.#states.get(key);
    if (hit !== undefined) return hit;
    const pathinfo = this.#source.buildPathinfo(imageId);
    settleSync(pendingHashes(pathinfo), this.#source.target());
    return this.remember(key, pathinfo);
  }

  /** The memoised state of an image, or undefined before its first get/getAsync (never builds). */
  peek(imageId: ImageId): ImageState | undefined {
    return this.#states.get(idKey(imageId));
  }

  /** As get, hashing PIXELS-mode files with asynchronous reads (for prepare). */
  async getAsync(imageId: ImageId): Promise<ImageState> {
    const key = idKey(imageId);
    const hit = this.#states.get(key);
    if (hit !== undefined) return hit;
    const pathinfo = this.#source.buildPathinfo(imageId);
    await settleAsync(pendingHashes(pathinfo), this.#source.target());
    return this.#states.get(key) ?? this.remember(key, pathinfo);
  }

  /** Memoises a pathinfo under its canonical key (also used to adopt pathinfo from fromJSON). */
  remember(key: string, pathinfo: Pathinfo): ImageState {
    // A channel whose quantization is to be undone (CocoFrames) is read through AlignableImageData.
    const quantized = Object.values(pathinfo.channels ?? {}).some((c) => c?.quantization != null);
    const state: ImageState = { pathinfo, single: quantized ? null : singleChannel(key, pathinfo), alignable: null, hot: null };
    this.#states.set(key, state);
    return state;
  }

  /** Every memoised pathinfo, in the order first built. */
  pathinfos(): Pathinfo[] {
    return [...this.#states.values()].map((s) => s.pathinfo);
  }

  /**
   * For an image with remote channel files: opens every channel file (building entries in 'build'
   * mode) on the libuv pool and leaves the readers in the pool, so the synchronous header reads
   * AlignableImageData makes next find them open and never wait on a server on the calling
   * thread. Images of local files are left alone (nothing is opened or built that a request does
   * not need).
   */
  async warm(state: ImageState, mode: OpenMode, signal?: AbortSignal): Promise<void> {
    const chans = Object.values(state.pathinfo.channels);
    if (!chans.some((c) => isVirtual(c.path))) return;
    const leases = await Promise.all(chans.map((chan) => this.opener.openAsync(chan, mode, signal)));
    for (const l of leases) l.release();
  }

  /** The image as an AlignableImageData reading through this table's opener (made once). */
  alignable(state: ImageState): AlignableImageData {
    if (state.alignable === null) state.alignable = new AlignableImageData(state.pathinfo, this.opener);
    return state.alignable;
  }

  /** The fast-path channel when the request (`channels`) can use it, else null. */
  fast(state: ImageState, channels: unknown): ChannelInfo | null {
    const chan = state.single;
    if (chan === null) return null;
    if (channels === undefined) return chan;
    const key = Object.keys(state.pathinfo.channels)[0];
    return channels === key || (Array.isArray(channels) && channels.length === 1 && channels[0] === key) ? chan : null;
  }

  /**
   * The reader for a synchronous fast-path read: the source or an existing entry when `full`
   * (the whole image), else the cache entry (built when missing), kept hot for the next read.
   */
  openFast(state: ImageState, chan: ChannelInfo, full: boolean): ImageReader {
    const hot = state.hot;
    if (!full && hot !== null && !hot.evicted) {
      this.opener.pool.touch(hot);
      return hot.reader;
    }
    const e = this.opener.openEntry(chan, full ? 'ifExists' : 'build');
    if (!full && e.reader.path === chan.cache) state.hot = e;
    return e.reader;
  }

  /** Closes every open reader (arrays already returned stay valid); the memo is kept. */
  close(): void {
    this.opener.close();
  }
}
