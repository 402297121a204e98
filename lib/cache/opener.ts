/**
 * CacheOpener: opens a channel through its cache entry (building it first, synchronously or on the
 * libuv pool, when it is missing, stale or incomplete), through a ReaderPool. Entries are handed
 * out as EntryReaders, which survive a rebuild of their file and heal a corrupt one.
 *
 * Invariants:
 * - An entry is built only under its lock (lib/lock.ts): N processes (or threads) that need the
 *   same entry build it once; the others wait for the lock, then find it fresh and use it. The
 *   builder removes dead builders' temporary files first.
 * - An entry is used only once it reads back: npy readers check the file size against the header
 *   when they open; for a COG the last full-resolution tile (the end of the file) is decoded. This
 *   check runs once per file identity per thread.
 * - A corrupt entry is rebuilt at most once per opener (heal once); after that its reads fail
 *   with ERR_CACHE_CORRUPT. A freshly built entry that does not read back is ERR_CACHE_CORRUPT at
 *   once. Nothing here loops.
 *
 * Threads: the calling JS thread. Sync paths block the thread while another builder holds the
 * entry's lock; async paths poll the lock.
 */
import * as path from 'node:path';
import { debuglog } from 'node:util';
import { FileError, fsError, NdsamplerError } from '../errors';
import { makeDirs } from '../atomic';
import { lockAsync, lockPathFor, lockSync } from '../lock';
import type { EntryLock } from '../lock';
import { remoteOpenError } from '../gdal';
import { openImage } from '../readers';
import type { ImageReader } from '../readers';
import type { BackendConfig, ChannelInfo } from './config';
import { buildEntryAsync, buildEntrySync, CACHE_EXT, entryState, fileStamp, removeStaleTemps, sameStamp } from './entry';
import type { FileStamp } from './entry';
import { EntryReader } from './entry-reader';
import type { EntryHost, OpenedEntry } from './entry-reader';
import { ReaderPool } from './pool';
import type { PublishedCache } from '../remote/publish';
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
  openAsync(chan: ChannelInfo, mode: OpenMode): Promise<ReaderLease>;
}

export const DEFAULT_MAX_READERS = 32;

/** Codes that mean "this entry file does not read back" (rebuilding it may help). */
const CORRUPT = new Set(['ERR_GDAL_OPEN', 'ERR_GDAL_READ', 'ERR_NPY_HEADER', 'ERR_SOURCE_MISSING', 'ERR_IO']);
const isCorrupt = (err: unknown): err is NdsamplerError => err instanceof NdsamplerError && CORRUPT.has(err.code);
const isChanged = (err: unknown): boolean => err instanceof NdsamplerError && err.code === 'ERR_SOURCE_CHANGED';

/** Entry files (by identity) that read back, per thread; bounded. */
const validated = new Set<string>();
const MAX_VALIDATED = 100_000;
const stampKey = (file: string, s: FileStamp): string => `${file}\0${s.ino}\0${s.size}\0${s.mtimeNs}`;

/**
 * Opens an entry file and checks that it reads back (see the invariants above); throws the
 * reader's coded error when it does not.
 */
function openChecked(file: string): OpenedEntry {
  const stamp = fileStamp(file);
  const reader = openImage(file);
  if (stamp !== null && validated.has(stampKey(file, stamp))) return { reader, stamp };
  try {
    const [H, W] = reader.shape;
    if (reader.kind === 'raster' && H > 0 && W > 0) reader.read([[H - 1, H], [W - 1, W]]);
  } catch (err) {
    reader.close();
    throw err;
  }
  if (stamp !== null) {
    if (validated.size >= MAX_VALIDATED) validated.clear();
    validated.add(stampKey(file, stamp));
  }
  return { reader, stamp };
}

/** openImage, with the precise code (ERR_SOURCE_MISSING, ERR_REMOTE) when a remote file cannot be opened. */
function openRemoteAware(file: string): ImageReader {
  try {
    return openImage(file);
  } catch (err) {
    throw remoteOpenError(file, err);
  }
}

/** Opens channels through their cache entries, building them on demand; one per backend. */
export class CacheOpener implements ChannelOpener {
  readonly backend: BackendConfig;
  readonly pool: ReaderPool;
  /** Entries being built by this object (async), so concurrent requests share one build. */
  #building = new Map<string, Promise<boolean>>();
  /** Called by close() (loadBatch rejects its batches in flight with ERR_CLOSED). */
  readonly onClose = new Set<() => void>();
  /** Entries this object has healed (rebuilt because they did not read back): at most once each. */
  #healed = new Set<string>();
  /**
   * A published cache (Frames's `remoteCache`): an entry that is not fresh locally but is published
   * (and its source unchanged) is read from there, in place or staged, and never built here.
   */
  published: PublishedCache | null = null;

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

  open(chan: ChannelInfo, mode: OpenMode): ImageReader {
    return this.#openFile(chan, mode).reader;
  }

  /** As open, returning the pool entry (its `evicted` flag tells when to stop reusing it). */
  openEntry(chan: ChannelInfo, mode: OpenMode): PoolEntry {
    return this.#openFile(chan, mode);
  }

  async openAsync(chan: ChannelInfo, mode: OpenMode): Promise<ReaderLease> {
    const entry = this.#entry(chan);
    let e = entry === null || mode === 'source' ? undefined : this.pool.get(entry) ?? this.#openPublished(chan);
    if (e === undefined && mode === 'build' && entry !== null) {
      // Fresh and reading back: opened once (not checked by one open and opened again).
      const opened = this.#openIfFresh(chan);
      if (opened !== null) e = this.pool.add(entry, new EntryReader(entry, opened, this.#host(chan)));
      else await this.ensureAsync(chan);
    }
    e ??= this.#openFile(chan, mode);
    return this.#lease(e);
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

  #openFile(chan: ChannelInfo, mode: OpenMode): PoolEntry {
    const entry = this.#entry(chan);
    if (mode === 'source' || entry === null) return this.#openSource(chan);
    const hit = this.pool.get(entry) ?? this.#openPublished(chan);
    if (hit !== undefined) return hit;
    let opened: OpenedEntry;
    if (mode === 'ifExists') {
      if (entryState(chan) !== 'fresh') return this.#openSource(chan);
      try {
        opened = openChecked(entry);
      } catch (err) {
        if (!isCorrupt(err) && !isChanged(err)) throw err;
        return this.#openSource(chan);
      }
    } else {
      opened = this.#openEntrySync(chan, null, null);
    }
    debug('open %s', entry);
    return this.pool.add(entry, new EntryReader(entry, opened, this.#host(chan)));
  }

  /**
   * The published entry of `chan`, opened and pooled under the entry's name, when there is a
   * published cache, the local entry is not fresh, and the manifest lists it (source unchanged).
   * Published objects are immutable (content-addressed), so the reader needs no identity checks.
   */
  #openPublished(chan: ChannelInfo): PoolEntry | undefined {
    const where = this.#publishedPath(chan);
    if (where === null) return undefined;
    debug('open %s (published entry of %s)', where, chan.cache);
    return this.pool.add(chan.cache as string, openRemoteAware(where));
  }

  #publishedPath(chan: ChannelInfo): string | null {
    if (this.published === null || entryState(chan) === 'fresh') return null;
    return this.published.pathFor(chan);
  }

  #openSource(chan: ChannelInfo): PoolEntry {
    const hit = this.pool.get(chan.path);
    if (hit !== undefined) return hit;
    debug('open %s', chan.path);
    return this.pool.add(chan.path, openRemoteAware(chan.path));
  }

  #host(chan: ChannelInfo): EntryHost {
    return {
      reopen: (corrupt, stamp) => this.#openEntrySync(chan, corrupt, stamp),
      reopenAsync: (corrupt, stamp) => this.#openEntryAsync(chan, corrupt, stamp),
    };
  }

  // ---- opening an entry: build when needed, check, heal once --------------------------------

  /** The error for an entry that does not read back even after it was rebuilt. */
  #corrupt(chan: ChannelInfo, err: NdsamplerError, after: string): FileError {
    const entry = chan.cache as string;
    return new FileError('ERR_CACHE_CORRUPT',
      `cache entry '${entry}' (of '${chan.path}') does not read back ${after}: ${err.message}`, { path: entry, cause: err });
  }

  /** Marks `chan`'s entry as healed by this object, or throws ERR_CACHE_CORRUPT if it already was. */
  #startHeal(chan: ChannelInfo, err: NdsamplerError): void {
    const entry = chan.cache as string;
    if (this.#healed.has(entry)) throw this.#corrupt(chan, err, 'after it was rebuilt once');
    this.#healed.add(entry);
    debug('heal %s: %s', entry, err.message);
  }

  /**
   * Opens the entry checked. `corrupt`: a read of the file `failed` gave this error, so heal first.
   * Otherwise builds first when the entry is not fresh (waiting for another builder's lock).
   */
  #openEntrySync(chan: ChannelInfo, corrupt: NdsamplerError | null, failed: FileStamp | null): OpenedEntry {
    const entry = chan.cache as string;
    if (corrupt === null) {
      const opened = this.#openIfFresh(chan);
      if (opened !== null) return opened;
    }
    if (corrupt !== null) {
      this.#startHeal(chan, corrupt);
      this.#ensureSync(chan, failed ?? fileStamp(entry));
    } else {
      this.#ensureSync(chan, null);
    }
    for (let attempt = 0; ; attempt++) {
      const stamp = fileStamp(entry);
      try {
        return openChecked(entry);
      } catch (err) {
        if (isChanged(err) && attempt < 2) continue;  // replaced between stat and open: open the new one
        if (!isCorrupt(err)) throw err;
        this.#startHeal(chan, err);
        this.#ensureSync(chan, stamp);
      }
    }
  }

  async #openEntryAsync(chan: ChannelInfo, corrupt: NdsamplerError | null, failed: FileStamp | null): Promise<OpenedEntry> {
    const entry = chan.cache as string;
    if (corrupt === null) {
      const opened = this.#openIfFresh(chan);
      if (opened !== null) return opened;
    }
    if (corrupt !== null) {
      this.#startHeal(chan, corrupt);
      await this.#buildShared(chan, failed ?? fileStamp(entry));
    } else {
      await this.ensureAsync(chan);
    }
    for (let attempt = 0; ; attempt++) {
      const stamp = fileStamp(entry);
      try {
        return openChecked(entry);
      } catch (err) {
        if (isChanged(err) && attempt < 2) continue;
        if (!isCorrupt(err)) throw err;
        this.#startHeal(chan, err);
        await this.#buildShared(chan, stamp);
      }
    }
  }

  /**
   * The common case of opening an entry: it is fresh and reads back, so it is opened once (not
   * checked by one open and opened again). Null when it is not fresh or does not read back; the
   * caller then builds or heals it.
   */
  #openIfFresh(chan: ChannelInfo): OpenedEntry | null {
    if (entryState(chan) !== 'fresh') return null;
    try {
      return openChecked(chan.cache as string);
    } catch (err) {
      if (isCorrupt(err) || isChanged(err)) return null;
      throw err;
    }
  }

  // ---- building ------------------------------------------------------------------------------

  /**
   * True when the entry can be used as it is: fresh, and reads back. `failed`: the identity of a
   * file that did not read back; that same file is never usable (a replaced one may be).
   */
  #usable(chan: ChannelInfo, failed: FileStamp | null): boolean {
    if (entryState(chan) !== 'fresh') return false;
    const entry = chan.cache as string;
    if (failed !== null && sameStamp(fileStamp(entry), failed)) return false;
    try {
      openChecked(entry).reader.close();
      return true;
    } catch (err) {
      if (isCorrupt(err) || isChanged(err)) return false;
      throw err;
    }
  }

  /** After a build: the entry must read back, or the build itself is broken (ERR_CACHE_CORRUPT). */
  #checkBuilt(chan: ChannelInfo): void {
    try {
      openChecked(chan.cache as string).reader.close();
    } catch (err) {
      if (isCorrupt(err)) throw this.#corrupt(chan, err, 'right after it was built');
      throw err;
    }
  }

  /**
   * A new entry file was just published: an open EntryReader of it (still reading the old file,
   * which stays valid) switches to the new one at its next read. Nothing is closed under a reader.
   */
  #published(chan: ChannelInfo): void {
    const open = this.pool.get(chan.cache as string)?.reader;
    if (open instanceof EntryReader) open.recheckNow();
  }

  #lockFile(chan: ChannelInfo): string {
    const entry = chan.cache as string;
    try {
      makeDirs(path.dirname(entry));
    } catch (err) {
      throw err instanceof NdsamplerError ? err : fsError(err, path.dirname(entry), 'mkdir');
    }
    return lockPathFor(entry);
  }

  /** Ensures the entry exists, is fresh and reads back (synchronously). Returns true when it built it. */
  ensure(chan: ChannelInfo): boolean {
    return this.#entry(chan) !== null && this.#publishedPath(chan) === null && this.#ensureSync(chan, null);
  }

  #ensureSync(chan: ChannelInfo, failed: FileStamp | null): boolean {
    if (failed === null && this.#usable(chan, null)) return false;
    const lock: EntryLock | null = lockSync(this.#lockFile(chan));
    try {
      // Under the lock no other builder of this entry is alive: re-check (someone may have just
      // built it while we waited), then clear what dead builders left. Without the lock (this
      // thread already holds it for an async build) just build: both publish atomically.
      if (lock !== null) {
        if (this.#usable(chan, failed)) return false;
        removeStaleTemps(chan.cache as string);
      }
      buildEntrySync(chan, this.backend);
      this.#published(chan);
      this.#checkBuilt(chan);
      return true;
    } finally {
      lock?.release();
    }
  }

  /** Ensures the entry exists, is fresh and reads back, converting on the libuv pool. Resolves true when it built it. */
  async ensureAsync(chan: ChannelInfo): Promise<boolean> {
    const entry = this.#entry(chan);
    if (entry === null) return false;
    const pending = this.#building.get(entry);
    if (pending !== undefined) {
      await pending;
      return false;
    }
    if (this.#usable(chan, null) || this.#publishedPath(chan) !== null) return false;
    return this.#buildShared(chan, null);
  }

  /** One async build of `chan`'s entry at a time in this object; others await it (and report false). */
  async #buildShared(chan: ChannelInfo, failed: FileStamp | null): Promise<boolean> {
    const entry = chan.cache as string;
    const pending = this.#building.get(entry);
    if (pending !== undefined) {
      await pending;
      return false;
    }
    const job = this.#buildLocked(chan, failed);
    this.#building.set(entry, job);
    try {
      return await job;
    } finally {
      this.#building.delete(entry);
    }
  }

  async #buildLocked(chan: ChannelInfo, failed: FileStamp | null): Promise<boolean> {
    const lock = await lockAsync(this.#lockFile(chan));
    try {
      if (this.#usable(chan, failed)) return false;
      removeStaleTemps(chan.cache as string);
      await buildEntryAsync(chan, this.backend);
      this.#published(chan);
      this.#checkBuilt(chan);
      return true;
    } finally {
      lock.release();
    }
  }

  close(): void {
    for (const fn of [...this.onClose]) fn();
    this.pool.clear();
  }
}
