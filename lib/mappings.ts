/**
 * The npy mapping budget and counters (the binding's face of native/npy/mapping.*'s process-wide
 * state), re-exported by lib/readers.ts. Runs on the calling thread.
 */
import { native } from './native';
import * as v from './validate';

/** The process-wide count of live npy mappings and the budget past which views become copies. */
export interface MappingStats {
  live: number;
  budget: number;
  /** readAsync calls on npy readers copied at once on the calling thread (small and resident). */
  inlineReads: number;
  /** readAsync calls on npy readers queued on the libuv pool. */
  poolReads: number;
}

/**
 * Sets how many npy file mappings may be live in this process (default 4096) before
 * `read(region, {copy: false})` and `loadImage` on npy return copies instead of zero-copy views.
 * Process-wide (shared by every worker thread), since the kernel's cap on mappings is.
 */
export function setMappingBudget(n: number): void {
  native.setMappingBudget(v.integer(n, 'n', 0, Number.MAX_SAFE_INTEGER));
}

/**
 * Live mappings (open npy readers plus views not yet finalized), the budget, and how many npy
 * readAsync calls ran inline and on the pool (process-wide counts since the addon loaded).
 */
export function mappingStats(): MappingStats {
  return native.mappingStats();
}
