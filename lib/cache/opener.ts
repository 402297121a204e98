/**
 * CacheOpener: opens a channel through its cache entry (building it first, synchronously or on the
 * libuv pool, when it is missing, stale or incomplete), through a ReaderPool. Entries are handed
 * out as EntryReaders, which survive a rebuild of their file and heal a corrupt one.
 *
 * Invariants:
 * - An entry is built only under its lock (lib/lock.ts): N processes (or threads) that need the
 *   same entry build it once; the others wait for the lock, then find it fresh and use it. The
 *   builder removes dead builders' temporary files first.
 * - An entry is used only once it reads back (lib/cache/checked.ts), once per file identity per thread.
 * - One state check per opening: a remote source's server is asked through this object's
 *   RemoteStamps (lib/remote/stamps.ts), once, and the answer reused for REMOTE_STAMP_TTL_MS by every
 *   check of that opening (fresh? still fresh under the lock? the stamp to record?) and by
 *   concurrent openings; concurrent async opens of one file share one open.
 * - A corrupt entry is rebuilt at most once per opener (heal once); after that its reads fail
 *   with ERR_CACHE_CORRUPT. A freshly built entry that does not read back is ERR_CACHE_CORRUPT at
 *   once. Nothing here loops.
 *
 * Threads: the calling JS thread. Sync paths block the thread while another builder holds the
 * entry's lock, and for as long as a server takes (within REMOTE_DEFAULTS' timeouts); async paths
 * poll the lock and do every open, remote question, download and build on the libuv pool.
 */
import { debuglog } from 'node:util';
import { openImage } from '../readers';
import type { ImageReader } from '../readers';
import { openImageAsync, raceAbort } from '../readers-async';
import type { PublishedCache } from '../remote/published';
import { RemoteStamps } from '../remote/stamps';
import { EntryBuilder, isChanged, isCorrupt } from './builder';
import { openChecked, openCheckedAsync } from './checked';
import type { BackendConfig, ChannelInfo } from './config';
import { CACHE_EXT, entryState, entryStateAsync } from './entry';
import { EntryReader } from './entry-reader';
import type { EntryHost, OpenedEntry } from './entry-reader';
import { ReaderPool } from './pool';
import type { PoolEntry } from './pool';

const debug = debuglog('ndsampler');

/**
 * How a channel is opened:
 * - 'build': the cache entry (built first, synchronously or on the pool, when not fresh);
 * - 'ifExists': the cache entry when it is there, fresh and readable, otherwise the source (never builds);
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
  /** `signal`: stop waiting (ERR_ABORTED); an open shared with other callers goes on for them. */
  openAsync(chan: ChannelInfo, mode: OpenMode, signal?: AbortSignal): Promise<ReaderLease>;
}

export const DEFAULT_MAX_READERS = 32;


/** Opens channels through their cache entries, building them on demand; one per backend. */
export class CacheOpener implements ChannelOpener {
  readonly backend: BackendConfig;
  readonly pool: ReaderPool;
  /** What servers said about remote sources, reused briefly (lib/remote/stamps.ts). */
  readonly stamps = new RemoteStamps();
  /** Opens entries checked, builds and heals them. */
  readonly #builder: EntryBuilder;
  /** Async opens in flight, by mode and pool key, so concurrent requests share one open. */
  #opening = new Map<string, Promise<PoolEntry>>();
  /** Called by close() (loadBatch rejects its batches in flight with ERR_CLOSED). */
  readonly onClose = new Set<() => void>();
  /**
   * A published cache (Frames's `remoteCache`): an entry that is not fresh locally but is published
   * (and its source unchanged) is read from there, in place or staged, and never built here.
   */
  published: PublishedCache | null = null;

  constructor(backend: BackendConfig, maxReaders = DEFAULT_MAX_READERS) {
    this.backend = backend;
    this.pool = new ReaderPool(maxReaders);
    this.#builder = new EntryBuilder(backend, this.stamps, this.pool);
  }

  /** The channel's cache entry if this backend can serve it (its extension matches the type), else null. */
  #entry(chan: ChannelInfo): string | null {
    const entry = chan.cache;
    const type = this.backend.type;
    return type !== null && typeof entry === 'string' && entry.endsWith(CACHE_EXT[type]) ? entry : null;
  }

  open(chan: ChannelInfo, mode: OpenMode): ImageReader {
    return this.#openFile(chan, mode).reader;
  }

  /** As open, returning the pool entry (its `evicted` flag tells when to stop reusing it). */
  openEntry(chan: ChannelInfo, mode: OpenMode): PoolEntry {
    return this.#openFile(chan, mode);
  }

  async openAsync(chan: ChannelInfo, mode: OpenMode, signal?: AbortSignal): Promise<ReaderLease> {
    const entry = this.#entry(chan);
    const source = mode === 'source' || entry === null;
    const key = source ? chan.path : entry;
    for (let attempt = 0; ; attempt++) {
      const hit = this.pool.get(key);
      if (hit !== undefined) return this.#lease(hit);
      const e = await raceAbort(this.#shared(`${mode}\0${key}`, () => (source ? this.#openSourceAsync(chan) : this.#openEntryFileAsync(chan, mode))), signal, 'opening');
      // Evicted (and closed) by other opens before this caller got to it: open again (rarely more than once).
      if (!e.evicted || attempt >= 2) return this.#lease(e);
    }
  }

  /** One `open()` per `key` at a time; concurrent callers share its result. */
  #shared(key: string, open: () => Promise<PoolEntry>): Promise<PoolEntry> {
    const pending = this.#opening.get(key);
    if (pending !== undefined) return pending;
    const p = open().finally(() => this.#opening.delete(key));
    this.#opening.set(key, p);
    return p;
  }

  /**
   * openAsync's lease without a promise when the reader openAsync would return is already open in
   * the pool (no file is opened, checked or built), else null: loadBatch plans the crops of a
   * streaming sampler this way, with no per-crop promise.
   */
  leaseIfOpen(chan: ChannelInfo, mode: OpenMode): ReaderLease | null {
    const entry = this.#entry(chan);
    const e = entry === null || mode === 'source' ? this.pool.get(chan.path) : this.pool.get(entry);
    return e === undefined ? null : this.#lease(e);
  }

  #lease(e: PoolEntry): ReaderLease {
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

  // ---- opening (sync) ------------------------------------------------------------------------

  #openFile(chan: ChannelInfo, mode: OpenMode): PoolEntry {
    const entry = this.#entry(chan);
    if (mode === 'source' || entry === null) return this.#openSource(chan);
    const hit = this.pool.get(entry);
    if (hit !== undefined) return hit;
    const state = entryState(chan, this.stamps);
    if (state !== 'fresh' && this.published !== null) {
      const pub = this.published.open(chan, this.stamps);
      if (pub !== null) {
        debug('open %s (published entry)', entry);
        return this.pool.add(entry, pub);
      }
    }
    let opened: OpenedEntry;
    if (mode === 'ifExists') {
      if (state !== 'fresh') return this.#openSource(chan);
      try {
        opened = openChecked(entry);
      } catch (err) {
        if (!isCorrupt(err) && !isChanged(err)) throw err;
        return this.#openSource(chan);
      }
    } else {
      opened = this.#builder.openSync(chan, null, null, state);
    }
    debug('open %s', entry);
    return this.pool.add(entry, new EntryReader(entry, opened, this.#host(chan)));
  }

  #openSource(chan: ChannelInfo): PoolEntry {
    const hit = this.pool.get(chan.path);
    if (hit !== undefined) return hit;
    debug('open %s', chan.path);
    return this.pool.add(chan.path, openImage(chan.path));
  }

  // ---- opening (async: everything on the libuv pool) ------------------------------------------

  async #openSourceAsync(chan: ChannelInfo): Promise<PoolEntry> {
    const hit = this.pool.get(chan.path);
    if (hit !== undefined) return hit;
    debug('open %s (async)', chan.path);
    return this.pool.add(chan.path, await openImageAsync(chan.path));
  }

  /** The entry's reader (one state check; published, or built when needed), pooled. */
  async #openEntryFileAsync(chan: ChannelInfo, mode: OpenMode): Promise<PoolEntry> {
    const entry = chan.cache as string;
    const state = await entryStateAsync(chan, this.stamps);
    if (state !== 'fresh' && this.published !== null) {
      const pub = await this.published.openAsync(chan, this.stamps);
      if (pub !== null) {
        debug('open %s (published entry, async)', entry);
        return this.pool.add(entry, pub);
      }
    }
    let opened: OpenedEntry;
    if (mode === 'ifExists') {
      if (state !== 'fresh') return this.#openSourceAsync(chan);
      try {
        opened = await openCheckedAsync(entry);
      } catch (err) {
        if (!isCorrupt(err) && !isChanged(err)) throw err;
        return this.#openSourceAsync(chan);
      }
    } else {
      opened = await this.#builder.openAsync(chan, null, null, state);
    }
    debug('open %s (async)', entry);
    return this.pool.add(entry, new EntryReader(entry, opened, this.#host(chan)));
  }

  #host(chan: ChannelInfo): EntryHost {
    return {
      reopen: (corrupt, stamp) => this.#builder.openSync(chan, corrupt, stamp, null),
      reopenAsync: (corrupt, stamp) => this.#builder.openAsync(chan, corrupt, stamp, null),
    };
  }

  /** Ensures the entry exists, is fresh and reads back (synchronously). Returns true when it built it. */
  ensure(chan: ChannelInfo): boolean {
    if (this.#entry(chan) === null) return false;
    if (this.published !== null && entryState(chan, this.stamps) !== 'fresh' && this.published.lookup(chan, this.stamps) !== null) return false;
    return this.#builder.ensureSync(chan, null);
  }

  /**
   * Ensures the entry exists, is fresh and reads back, converting on the libuv pool; an entry the
   * published cache lists is left to it (never built). Resolves true when it built it.
   */
  async ensureAsync(chan: ChannelInfo): Promise<boolean> {
    if (this.#entry(chan) === null) return false;
    if (this.published !== null && await entryStateAsync(chan, this.stamps) !== 'fresh'
      && await this.published.lookupAsync(chan, this.stamps) !== null) return false;
    return this.#builder.ensureAsync(chan);
  }

  close(): void {
    for (const fn of [...this.onClose]) fn();
    this.pool.clear();
    this.stamps.clear();
  }
}
