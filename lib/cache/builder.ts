/**
 * EntryBuilder: a CacheOpener's entries opened checked, built when they are not fresh, and healed
 * once when they do not read back (see lib/cache/opener.ts for the invariants). Builds run under
 * the entry's lock (lib/lock.ts), one at a time per entry in this object.
 *
 * Threads: the calling JS thread. Sync paths block it (for another builder's lock, a conversion,
 * a server); async paths poll the lock and convert, open and ask servers on the libuv pool.
 */
import * as path from 'node:path';
import { debuglog } from 'node:util';
import { makeDirs } from '../atomic';
import { FileError, NdsamplerError } from '../errors';
import { lockAsync, lockPathFor, lockSync } from '../lock';
import type { EntryLock } from '../lock';
import type { RemoteStamps } from '../remote/stamps';
import { openChecked, openCheckedAsync } from './checked';
import type { BackendConfig, ChannelInfo } from './config';
import { buildEntryAsync, buildEntrySync, entryState, entryStateAsync, fileStamp, removeStaleTemps, sameStamp } from './entry';
import type { EntryState, FileStamp } from './entry';
import { EntryReader } from './entry-reader';
import type { OpenedEntry } from './entry-reader';
import type { ReaderPool } from './pool';

const debug = debuglog('ndsampler');

/** Codes that mean "this entry file does not read back" (rebuilding it may help). */
const CORRUPT = new Set(['ERR_GDAL_OPEN', 'ERR_GDAL_READ', 'ERR_NPY_HEADER', 'ERR_SOURCE_MISSING', 'ERR_IO']);
export const isCorrupt = (err: unknown): err is NdsamplerError => err instanceof NdsamplerError && CORRUPT.has(err.code);
export const isChanged = (err: unknown): boolean => err instanceof NdsamplerError && err.code === 'ERR_SOURCE_CHANGED';

export class EntryBuilder {
  readonly #backend: BackendConfig;
  readonly #stamps: RemoteStamps;
  readonly #pool: ReaderPool;
  /** Entries being built by this object (async), so concurrent requests share one build. */
  #building = new Map<string, Promise<boolean>>();
  /** Entries this object has healed (rebuilt because they did not read back): at most once each. */
  #healed = new Set<string>();

  constructor(backend: BackendConfig, stamps: RemoteStamps, pool: ReaderPool) {
    this.#backend = backend;
    this.#stamps = stamps;
    this.#pool = pool;
  }


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
   * `known`: the entry's state when the caller just checked it.
   */
  openSync(chan: ChannelInfo, corrupt: NdsamplerError | null, failed: FileStamp | null, known: EntryState | null): OpenedEntry {
    const entry = chan.cache as string;
    if (corrupt === null && (known ?? entryState(chan, this.#stamps)) === 'fresh') {
      try {
        return openChecked(entry);
      } catch (err) {
        if (!isCorrupt(err) && !isChanged(err)) throw err;
      }
    }
    if (corrupt !== null) {
      this.#startHeal(chan, corrupt);
      this.ensureSync(chan, failed ?? fileStamp(entry));
    } else {
      this.ensureSync(chan, null);
    }
    for (let attempt = 0; ; attempt++) {
      const stamp = fileStamp(entry);
      try {
        return openChecked(entry);
      } catch (err) {
        if (isChanged(err) && attempt < 2) continue;  // replaced between stat and open: open the new one
        if (!isCorrupt(err)) throw err;
        this.#startHeal(chan, err);
        this.ensureSync(chan, stamp);
      }
    }
  }

  async openAsync(chan: ChannelInfo, corrupt: NdsamplerError | null, failed: FileStamp | null, known: EntryState | null): Promise<OpenedEntry> {
    const entry = chan.cache as string;
    if (corrupt === null && (known ?? await entryStateAsync(chan, this.#stamps)) === 'fresh') {
      try {
        return await openCheckedAsync(entry);
      } catch (err) {
        if (!isCorrupt(err) && !isChanged(err)) throw err;
      }
    }
    if (corrupt !== null) {
      this.#startHeal(chan, corrupt);
      await this.buildShared(chan, failed ?? fileStamp(entry));
    } else {
      await this.ensureAsync(chan);
    }
    for (let attempt = 0; ; attempt++) {
      const stamp = fileStamp(entry);
      try {
        return await openCheckedAsync(entry);
      } catch (err) {
        if (isChanged(err) && attempt < 2) continue;
        if (!isCorrupt(err)) throw err;
        this.#startHeal(chan, err);
        await this.buildShared(chan, stamp);
      }
    }
  }


  /**
   * True when the entry can be used as it is: fresh, and reads back. `failed`: the identity of a
   * file that did not read back; that same file is never usable (a replaced one may be).
   */
  #usable(chan: ChannelInfo, failed: FileStamp | null): boolean {
    if (entryState(chan, this.#stamps) !== 'fresh') return false;
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

  async #usableAsync(chan: ChannelInfo, failed: FileStamp | null): Promise<boolean> {
    if (await entryStateAsync(chan, this.#stamps) !== 'fresh') return false;
    const entry = chan.cache as string;
    if (failed !== null && sameStamp(fileStamp(entry), failed)) return false;
    try {
      (await openCheckedAsync(entry)).reader.close();
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

  async #checkBuiltAsync(chan: ChannelInfo): Promise<void> {
    try {
      (await openCheckedAsync(chan.cache as string)).reader.close();
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
    const open = this.#pool.get(chan.cache as string)?.reader;
    if (open instanceof EntryReader) open.recheckNow();
  }

  #lockFile(chan: ChannelInfo): string {
    const entry = chan.cache as string;
    makeDirs(path.dirname(entry));
    return lockPathFor(entry);
  }

  ensureSync(chan: ChannelInfo, failed: FileStamp | null): boolean {
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
      buildEntrySync(chan, this.#backend, this.#stamps);
      this.#published(chan);
      this.#checkBuilt(chan);
      return true;
    } finally {
      lock?.release();
    }
  }

  /** Ensures the entry exists, is fresh and reads back, converting on the libuv pool. Resolves true when it built it. */
  async ensureAsync(chan: ChannelInfo): Promise<boolean> {
    const entry = chan.cache as string;
    const pending = this.#building.get(entry);
    if (pending !== undefined) {
      await pending;
      return false;
    }
    if (await this.#usableAsync(chan, null)) return false;
    return this.buildShared(chan, null);
  }

  /** One async build of `chan`'s entry at a time in this object; others await it (and report false). */
  async buildShared(chan: ChannelInfo, failed: FileStamp | null): Promise<boolean> {
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
      if (await this.#usableAsync(chan, failed)) return false;
      removeStaleTemps(chan.cache as string);
      await buildEntryAsync(chan, this.#backend, this.#stamps);
      this.#published(chan);
      await this.#checkBuiltAsync(chan);
      return true;
    } finally {
      lock.release();
    }
  }
}
