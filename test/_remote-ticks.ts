// The event-loop probe of the remote tests: the longest gap between the ticks of a 10 ms interval
// while some work runs (monitorEventLoopDelay misses a thread blocked in a native call that never
// returns to the loop between its samples; gaps between ticks do not).
import { performance } from 'node:perf_hooks';

export interface TickWatch {
  /** Stops the interval; the longest gap between two ticks (or since the start), in ms. */
  stop(): number;
}

export function watchTicks(intervalMs = 10): TickWatch {
  let last = performance.now();
  let max = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    max = Math.max(max, now - last);
    last = now;
  }, intervalMs);
  return {
    stop(): number {
      clearInterval(timer);
      return Math.max(max, performance.now() - last);
    },
  };
}

/** Runs `work` under a watch; resolves with its result and the longest tick gap (ms). */
export async function measureGaps<T>(work: () => Promise<T>): Promise<{ value: T; gap: number }> {
  const w = watchTicks();
  try {
    const value = await work();
    return { value, gap: w.stop() };
  } catch (err) {
    w.stop();
    throw err;
  }
}
