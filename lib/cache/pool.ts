/**
 * ReaderPool: a bounded set of open readers keyed by file, least recently used evicted first.
 * Runs on the calling JS thread.
 */
import { debuglog } from 'node:util';
import type { ImageReader } from '../readers';

const debug = debuglog('ndsampler');

/** An open reader in a ReaderPool; `evicted` is set once the pool has let go of it. */
export interface PoolEntry { reader: ImageReader; tick: number; inflight: number; evicted: boolean }

/**
 * A bounded set of open readers keyed by file, evicting the least recently used. A reader with
 * async reads in flight is closed only once they settle. Closing an npy reader leaves every view
 * it handed out valid (the mapping is ref-counted natively).
 */
export class ReaderPool {
  #map = new Map<string, PoolEntry>();
  #tick = 0;
  #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  get max(): number {
    return this.#max;
  }

  set max(n: number) {
    this.#max = n;
    this.#trim();
  }

  get size(): number {
    return this.#map.size;
  }

  get(key: string): PoolEntry | undefined {
    const e = this.#map.get(key);
    if (e !== undefined) e.tick = ++this.#tick;
    return e;
  }

  /** Marks an entry (held by the caller) as just used. */
  touch(e: PoolEntry): void {
    e.tick = ++this.#tick;
  }

  add(key: string, reader: ImageReader): PoolEntry {
    const old = this.#map.get(key);
    if (old !== undefined) this.#retire(key, old);
    const e: PoolEntry = { reader, tick: ++this.#tick, inflight: 0, evicted: false };
    this.#map.set(key, e);
    this.#trim();
    return e;
  }

  /** Drops (and closes, when idle) the reader for `key`, e.g. before its file is rebuilt. */
  drop(key: string): void {
    const e = this.#map.get(key);
    if (e !== undefined) this.#retire(key, e);
  }

  release(e: PoolEntry): void {
    e.inflight--;
    if (e.evicted && e.inflight === 0) e.reader.close();
  }

  clear(): void {
    for (const [key, e] of this.#map) this.#retire(key, e);
  }

  #retire(key: string, e: PoolEntry): void {
    this.#map.delete(key);
    e.evicted = true;
    if (e.inflight === 0) e.reader.close();
  }

  #trim(): void {
    while (this.#map.size > this.#max) {
      let oldKey: string | undefined;
      let oldest = Infinity;
      for (const [key, e] of this.#map) {
        if (e.tick < oldest) {
          oldest = e.tick;
          oldKey = key;
        }
      }
      if (oldKey === undefined) return;
      debug('reader pool: evict %s', oldKey);
      this.#retire(oldKey, this.#map.get(oldKey) as PoolEntry);
    }
  }
}

