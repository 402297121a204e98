/** Timing helpers for the benchmark: medians of calibrated batches, deterministic crops, the event loop's delay; a result row. */
import { monitorEventLoopDelay } from 'node:perf_hooks';

/** One result of the benchmark (bench/run.ts writes them to results.json and RESULTS.md). */
export interface Row {
  section: string;
  case: string;
  ours: number;
  peers: Record<string, number | undefined>;
  target?: string;
  pass?: boolean;
  note?: string;
  /** Unit of `ours` and the peers when not µs/op. */
  unit?: 's' | 'MiB' | 'ms';
}

/** Median µs/op of `fn(i)` over 15 samples, each a batch long enough to take ~`sampleMs`. */
export function medianUs(fn: (i: number) => unknown, sampleMs = 4, samples = 15, warmupMs = 100): number {
  let reps = 1;
  let i = 0;
  // Warm up first so every contender is measured with optimised code, not while tiering up.
  const tw = process.hrtime.bigint();
  while (Number(process.hrtime.bigint() - tw) / 1e6 < warmupMs) for (let k = 0; k < 64; k++) fn(i++);
  for (;;) {
    const t0 = process.hrtime.bigint();
    for (let k = 0; k < reps; k++) fn(i++);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (ms > sampleMs || reps > 1 << 22) break;
    reps *= 2;
  }
  const out: number[] = [];
  for (let s = 0; s < samples; s++) {
    const t0 = process.hrtime.bigint();
    for (let k = 0; k < reps; k++) fn(i++);
    out.push(Number(process.hrtime.bigint() - t0) / 1e3 / reps);
  }
  out.sort((a, b) => a - b);
  return out[out.length >> 1];
}

/** Median µs/op of an async fn, awaited one at a time. */
export async function medianUsAsync(fn: (i: number) => Promise<unknown>, sampleMs = 20, samples = 9): Promise<number> {
  let reps = 1;
  let i = 0;
  for (;;) {
    const t0 = process.hrtime.bigint();
    for (let k = 0; k < reps; k++) await fn(i++);
    if (Number(process.hrtime.bigint() - t0) / 1e6 > sampleMs || reps > 1 << 18) break;
    reps *= 2;
  }
  const out: number[] = [];
  for (let s = 0; s < samples; s++) {
    const t0 = process.hrtime.bigint();
    for (let k = 0; k < reps; k++) await fn(i++);
    out.push(Number(process.hrtime.bigint() - t0) / 1e3 / reps);
  }
  out.sort((a, b) => a - b);
  return out[out.length >> 1];
}

/** `n` deterministic random [y0, y1, x0, x1] crops of size h x w inside an H x W image. */
export function randomCrops(H: number, W: number, h: number, w: number, n: number, seed = 1): Array<[number, number, number, number]> {
  let s = (seed * 2654435761) >>> 0 || 1;
  const rnd = () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s;
  };
  const out: Array<[number, number, number, number]> = [];
  for (let k = 0; k < n; k++) {
    const y = rnd() % (H - h + 1);
    const x = rnd() % (W - w + 1);
    out.push([y, y + h, x, x + w]);
  }
  return out;
}

export const fmt = (us: number | undefined): string =>
  us === undefined || Number.isNaN(us) ? 'n/a' : us < 10 ? us.toFixed(2) : us < 1000 ? us.toFixed(1) : us.toFixed(0);

/** The event loop's delay (p99, max in ms) while `fn` runs, with a 1 ms interval timer ticking. */
export async function loopDelay(fn: () => Promise<unknown>): Promise<{ p99: number; max: number; ms: number }> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  const tick = setInterval(() => undefined, 1);
  h.enable();
  const t0 = process.hrtime.bigint();
  await fn();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  h.disable();
  clearInterval(tick);
  return { p99: h.percentile(99) / 1e6, max: h.max / 1e6, ms };
}
