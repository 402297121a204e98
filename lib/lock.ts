/**
 * One builder per cache entry across processes: an exclusive advisory lock (flock) on a lock file
 * next to the entry, `.<entry basename>.lock`. The kernel releases a lock when its holder closes
 * it or dies (SIGKILL included), and the addon closes the descriptors of a worker thread when that
 * thread's environment is torn down, so a dead builder never leaves an entry locked. Lock files
 * are empty and stay in place (removing one while another process waits on it would let two
 * builders in).
 *
 * Threads: the calling JS thread. `lockSync` blocks the thread while another process or thread
 * builds the entry; `lockAsync` polls without blocking (the event loop keeps turning). Within one
 * thread the lock is not re-entrant across descriptors, so this module remembers what the thread
 * holds: a second request from the same thread gets `null` from lockSync (the caller then builds
 * without the lock: both builds publish atomically) and waits in lockAsync.
 */
import * as path from 'node:path';
import { native } from './native';

/** A held lock; release() is idempotent. */
export interface EntryLock {
  release(): void;
}

/** Lock files held by this thread (module state is per thread), to avoid waiting on ourselves. */
const held = new Set<string>();

/** The lock file of a cache entry. */
export function lockPathFor(entry: string): string {
  return path.join(path.dirname(entry), `.${path.basename(entry)}.lock`);
}

function holder(file: string, fd: number): EntryLock {
  held.add(file);
  let done = false;
  return {
    release: () => {
      if (done) return;
      done = true;
      held.delete(file);
      native.unlockFile(fd);
    },
  };
}

/** The lock if it is free right now, else null. */
export function tryLock(file: string): EntryLock | null {
  if (held.has(file)) return null;
  const fd = native.lockFile(file, false);
  return fd < 0 ? null : holder(file, fd);
}

/**
 * Waits for the lock, blocking this thread. Returns null, without waiting, when this thread
 * already holds it (an async build of the same entry in flight here).
 */
export function lockSync(file: string): EntryLock | null {
  if (held.has(file)) return null;
  return holder(file, native.lockFile(file, true));
}

const MIN_POLL_MS = 5;
const MAX_POLL_MS = 200;

/** Waits for the lock without blocking the event loop (polls, backing off to 200 ms). */
export async function lockAsync(file: string): Promise<EntryLock> {
  for (let wait = MIN_POLL_MS; ; wait = Math.min(MAX_POLL_MS, wait * 2)) {
    const lock = tryLock(file);
    if (lock !== null) return lock;
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}
