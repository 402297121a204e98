/**
 * CacheOpener: opens a channel through its cache entry (building it first, synchronously or on the
 * libuv pool, when it is missing or stale), through a ReaderPool. Runs on the calling JS thread.
 */
import { debuglog } from 'node:util';
import { openImage } from '../readers';
import type { ImageReader } from '../readers';
import type { BackendConfig, ChannelInfo } from './config';
import { buildEntryAsync, buildEntrySync, CACHE_EXT, entryState } from './entry';
import { ReaderPool } from './pool';
import type { PoolEntry } from './pool';

const debug = debuglog('ndsampler');

/**
 * How a channel is opened:
 * - 'build': the cache entry (built first, synchronously or on the pool, when missing or stale);
 * - 'ifExists': the cache entry when it is there and fresh, otherwise the source (never builds);
 * - 'source': the source file.
 */
export type OpenMode = 'build' | 'ifExists' | 'source';

/** A reader pinned open until release() (for async reads). */
export interface ReaderLease {
  reader: ImageReader;
  release(): void;
}

/** What AlignableImageData reads channels through: Frames's own opener or a standalone one. */
export interface ChannelOpener {
  open(chan: ChannelInfo, mode: OpenMode): ImageReader;
  openAsync(chan: ChannelInfo, mode: OpenMode): Promise<ReaderLease>;
}

export const DEFAULT_MAX_READERS = 32;

/** Opens channels through their cache entries, building them on demand; one per backend. */
export class CacheOpener implements ChannelOpener {
  readonly backend: BackendConfig;
  readonly pool: ReaderPool;
  /** Entries being built by this object (async), so concurrent requests share one build. */
  #building = new Map<string, Promise<void>>();

  constructor(backend: BackendConfig, maxReaders = DEFAULT_MAX_READERS) {
    this.backend = backend;
    this.pool = new ReaderPool(maxReaders);
  }

  /** The channel's cache entry if this backend can serve it (its extension matches the type), else null. */
  #entry(chan: ChannelInfo): string | null {
    const entry = chan.cache;
    const type = this.backend.type;
    return type !== null && typeof entry === 'string' && entry.endsWith(CACHE_EXT[type]) ? entry : null;
  }

  /** Which file `mode` reads for `chan` right now, building synchronously when needed. */
  #target(chan: ChannelInfo, mode: OpenMode): string {
    const entry = this.#entry(chan);
    if (mode === 'source' || entry === null) return chan.path;
    if (this.pool.get(entry) !== undefined) return entry;
    const state = entryState(chan);
    if (state === 'fresh') return entry;
    if (mode === 'ifExists') return chan.path;
    this.pool.drop(entry);
    buildEntrySync(chan, this.backend);
    return entry;
  }

  open(chan: ChannelInfo, mode: OpenMode): ImageReader {
    return this.#openFile(this.#target(chan, mode)).reader;
  }

  /** As open, returning the pool entry (its `evicted` flag tells when to stop reusing it). */
  openEntry(chan: ChannelInfo, mode: OpenMode): PoolEntry {
    return this.#openFile(this.#target(chan, mode));
  }

  /** Ensures the entry exists and is fresh (synchronously). Returns true when it had to be built. */
  ensure(chan: ChannelInfo): boolean {
    const entry = this.#entry(chan);
    if (entry === null) return false;
    if (entryState(chan) === 'fresh') return false;
    this.pool.drop(entry);
    buildEntrySync(chan, this.backend);
    return true;
  }

  /** Ensures the entry exists and is fresh, converting on the libuv pool. Resolves true when it built it. */
  async ensureAsync(chan: ChannelInfo): Promise<boolean> {
    const entry = this.#entry(chan);
    if (entry === null) return false;
    const pending = this.#building.get(entry);
    if (pending !== undefined) {
      await pending;
      return false;
    }
    if (entryState(chan) === 'fresh') return false;
    this.pool.drop(entry);
    const job = buildEntryAsync(chan, this.backend);
    this.#building.set(entry, job);
    try {
      await job;
    } finally {
      this.#building.delete(entry);
    }
    return true;
  }

  async openAsync(chan: ChannelInfo, mode: OpenMode): Promise<ReaderLease> {
    let file = chan.path;
    const entry = this.#entry(chan);
    if (mode !== 'source' && entry !== null) {
      if (this.pool.get(entry) !== undefined) {
        file = entry;
      } else if (mode === 'build') {
        await this.ensureAsync(chan);
        file = entry;
      } else if (entryState(chan) === 'fresh') {
        file = entry;
      }
    }
    const e = this.#openFile(file);
    e.inflight++;
    let released = false;
    return {
      reader: e.reader,
      release: () => {
        if (!released) {
          released = true;
          this.pool.release(e);
        }
      },
    };
  }

  #openFile(file: string): PoolEntry {
    const hit = this.pool.get(file);
    if (hit !== undefined) return hit;
    debug('open %s', file);
    return this.pool.add(file, openImage(file));
  }

  close(): void {
    this.pool.clear();
  }
}
