/**
 * A worker process of test/hostile.test.ts: runs the case rows it is sent (by index into CASES),
 * one at a time, and answers with what happened. The parent kills it on a timeout or when its
 * RSS passes the bound, so anything may happen in here without hanging the test run.
 */
import * as lib from '../../lib';
import { CASES } from './cases';
import { hostilePaths } from './files';

/** Classes an outcome may be an instance of, most specific first. */
export const CLASS_NAMES = [
  'NpyFormatError', 'RegionError', 'FileError', 'GdalError', 'BackendConfigError', 'ClosedError', 'FramesError',
  'NdsamplerError', 'TypeError', 'RangeError', 'Error',
] as const;

export type Outcome =
  | { kind: 'returned'; value: string; ms: number; maxRssKB: number }
  | { kind: 'threw'; classes: string[]; name: string; code?: string; message: string; ms: number; maxRssKB: number };

const CLASSES: Record<string, unknown> = { ...lib, TypeError, RangeError, Error };

function describe(v: unknown): string {
  if (v === undefined || v === null || typeof v !== 'object') return String(v);
  const a = v as { shape?: unknown; dtype?: unknown };
  if (Array.isArray(a.shape)) return `array [${a.shape}] ${String(a.dtype)}`;
  return Object.prototype.toString.call(v);
}

if (require.main === module) {
  const P = hostilePaths(process.env.NDS_HOSTILE_DIR as string);
  process.on('message', (m: { i: number }) => {
    const c = CASES[m.i];
    const t0 = performance.now();
    const done = (o: Record<string, unknown>) => {
      process.send!({ i: m.i, out: { ...o, ms: performance.now() - t0, maxRssKB: process.resourceUsage().maxRSS } });
    };
    Promise.resolve().then(() => c.run(P)).then(
      (v) => done({ kind: 'returned', value: describe(v) }),
      (e: unknown) => {
        const err = e as { code?: unknown; message?: unknown; constructor?: { name?: string } } | null;
        done({
          kind: 'threw',
          classes: CLASS_NAMES.filter((n) => typeof CLASSES[n] === 'function' && e instanceof (CLASSES[n] as new () => object)),
          name: err?.constructor?.name ?? typeof e,
          code: typeof err?.code === 'string' ? err.code : undefined,
          message: String(err?.message ?? e),
        });
      },
    );
  });
  process.send!({ ready: true });
}
