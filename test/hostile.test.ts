/**
 * The hostile-input matrix of issue 9: one bad file or argument must never take a training job
 * down or hang it. Every row of test/_hostile/cases.ts runs in a worker process with a hard
 * timeout and an RSS bound (killed past either), so a hang, a crash or a runaway allocation fails
 * that row, not the run; the row's outcome must be the exact error class and stable code (bombs
 * also within their time and memory bounds). The hostile files are generated into a temporary
 * directory at test time (test/_hostile/files.ts says how each is built).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as net from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import * as lib from '../lib';
import { NdsamplerError, ERROR_CODES } from '../lib';
import { CASES, SLOW, UNDER_ASAN, type HostileCase } from './_hostile/cases';
import { makeHostileFiles, listenSocket, type HostilePaths } from './_hostile/files';
import type { Outcome } from './_hostile/worker';

type Cls = abstract new (...args: never[]) => Error;

/** Expects `fn` to throw an instance of `cls` with `code`; uvu's own Assertion errors pass through. */
function expectCode(fn: () => unknown, cls: Cls, code: string): void {
  try {
    const v = fn();
    assert.unreachable(`expected ${cls.name} ${code}, but it returned ${String(v)}`);
  } catch (err) {
    if (err instanceof assert.Assertion) throw err;
    const e = err as Error & { code?: string };
    assert.ok(e instanceof cls, `expected ${cls.name} ${code}, got ${e?.constructor?.name} ${e?.code}: ${e?.message}`);
    assert.is(e.code, code, `expected code ${code}, got ${e.code}: ${e.message}`);
  }
}

// ---- the worker pool -----------------------------------------------------------------------

const WORKER = path.join(__dirname, '_hostile', 'worker.ts');
const CONCURRENCY = 4;
const DEFAULT_TIMEOUT = 5000 * SLOW;
// Under scripts/asan-check.sh (NDS_UNDER_ASAN=1) every row still runs under the sanitizer, for
// memory errors, but RSS is the sanitizer allocator's (shadow memory, redzones, a quarantine of
// freed blocks: an idle worker alone is ~390 MB), so the RSS bounds asserted on bombs are for the
// real allocator and are not checked there; time limits are scaled by SLOW (instrumented code).
const RSS_KILL_MB = UNDER_ASAN ? 6144 : 1536;   // kill a runaway worker here (the bound asserted on bombs is lower)

type Result = Outcome | { kind: 'timeout' | 'crash' | 'rss'; detail: string; ms: number; maxRssKB: number };

interface Worker { proc: ChildProcess; ready: Promise<void>; stderr: string }

let dir = '';
let P: HostilePaths;
let server: net.Server | undefined;
const idle: Worker[] = [];
const live = new Set<ChildProcess>();

function startWorker(): Worker {
  // ulimit -f: a conversion run wild cannot fill the disk (it gets SIGXFSZ instead).
  const proc = spawn('/bin/sh', ['-c', 'ulimit -f 1048576; exec "$0" "$@"', process.execPath, '--expose-gc', '-r', require.resolve('tsx/cjs'), WORKER], {
    cwd: path.join(P.workdir, 'cwd', 'x'),
    env: { ...process.env, NDS_HOSTILE_DIR: dir },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  live.add(proc);
  proc.on('exit', () => live.delete(proc));
  const w: Worker = { proc, stderr: '', ready: new Promise((resolve, reject) => {
    proc.once('message', () => resolve());
    proc.once('exit', (code, signal) => reject(new Error(`worker exited at start (${code ?? signal}): ${w.stderr.slice(-500)}`)));
  }) };
  proc.stderr!.on('data', (b: Buffer) => { w.stderr = (w.stderr + b.toString()).slice(-2000); });
  return w;
}

function rssKB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

async function runOne(i: number, c: HostileCase, w: Worker): Promise<{ r: Result; reusable: boolean }> {
  await w.ready;
  const t0 = Date.now();
  const limit = c.timeoutMs === undefined ? DEFAULT_TIMEOUT : c.timeoutMs * SLOW;
  return new Promise((resolve) => {
    let peak = 0;
    let settled = false;
    const finish = (r: Result, reusable: boolean) => {
      if (settled) return;
      settled = true;
      clearInterval(poll);
      clearTimeout(timer);
      w.proc.removeListener('message', onMessage);
      w.proc.removeListener('exit', onExit);
      if (!reusable) w.proc.kill('SIGKILL');
      resolve({ r, reusable });
    };
    const onMessage = (m: { i?: number; out?: Outcome }) => {
      if (m.i === i && m.out) finish({ ...m.out, maxRssKB: Math.max(m.out.maxRssKB, peak) } as Result, !c.isolate);
    };
    const onExit = (code: number | null, signal: string | null) => finish({
      kind: 'crash', detail: `worker died (exit ${code}, signal ${signal}): ${w.stderr.slice(-400)}`, ms: Date.now() - t0, maxRssKB: peak,
    }, false);
    const poll = setInterval(() => {
      peak = Math.max(peak, rssKB(w.proc.pid!));
      if (peak > RSS_KILL_MB * 1024) finish({ kind: 'rss', detail: `RSS reached ${(peak / 1024) | 0} MB: killed`, ms: Date.now() - t0, maxRssKB: peak }, false);
    }, 25);
    const timer = setTimeout(() => finish({ kind: 'timeout', detail: `no answer in ${limit} ms: hung, killed (RSS then ${(peak / 1024) | 0} MB)`, ms: Date.now() - t0, maxRssKB: peak }, false), limit);
    w.proc.on('message', onMessage);
    w.proc.once('exit', onExit);
    w.proc.send({ i });
  });
}

/** Runs every row, CONCURRENCY at a time; rows marked `isolate` get a process of their own. */
function schedule(): Array<Promise<Result>> {
  const results: Array<Promise<Result>> = [];
  const queue: Array<() => void> = [];
  let running = 0;
  const next = () => {
    while (running < CONCURRENCY && queue.length) {
      running++;
      queue.shift()!();
    }
  };
  const order = CASES.map((_, i) => i).sort((a, b) => Number(Boolean(CASES[b].isolate)) - Number(Boolean(CASES[a].isolate)));
  CASES.forEach(() => results.push(undefined as never));
  // Isolated rows (bombs) first: they are the slowest when they fail.
  for (const i of order) {
    const c = CASES[i];
    results[i] = new Promise<Result>((resolve) => {
      queue.push(() => {
        const w = c.isolate ? startWorker() : (idle.pop() ?? startWorker());
        runOne(i, c, w).then(({ r, reusable }) => {
          if (reusable) idle.push(w);
          running--;
          resolve(r);
          next();
        }, (err: Error) => {
          running--;
          resolve({ kind: 'crash', detail: err.message, ms: 0, maxRssKB: 0 });
          next();
        });
      });
    });
  }
  next();
  return results;
}

const CLASS_OF: Record<string, unknown> = { ...lib, TypeError, RangeError, Error };

/** Turns a worker's outcome back into a return or a throw of an object of the same class. */
function settle(r: Result): unknown {
  if (r.kind === 'timeout' || r.kind === 'crash' || r.kind === 'rss') {
    throw new assert.Assertion({ message: `${r.kind}: ${r.detail}`, operator: 'survive', generated: false, expects: 'an answer', actual: r.kind });
  }
  if (r.kind === 'returned') return r.value;
  if (r.kind !== 'threw') throw new Error('unreachable');
  const Cls = (CLASS_OF[r.classes[0] ?? 'Error'] ?? Error) as { prototype: object };
  const e = Object.create(Cls.prototype) as Error & { code?: string };
  Object.defineProperty(e, 'message', { value: `${r.name}: ${r.message}` });
  if (r.code !== undefined) Object.defineProperty(e, 'code', { value: r.code });
  throw e;
}

// ---- the suite -----------------------------------------------------------------------------

let results: Array<Promise<Result>> = [];

test.before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nds-hostile-'));
  P = makeHostileFiles(dir);
  fs.mkdirSync(path.join(P.workdir, 'cwd', 'x'), { recursive: true });
  server = await listenSocket(P.sock);
  results = schedule();
});

test.after(async () => {
  for (const p of live) p.kill('SIGKILL');
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  fs.rmSync(dir, { recursive: true, force: true });
});

test('the matrix has at least 60 rows, every one with an expectation', () => {
  assert.ok(CASES.length >= 60, `${CASES.length} rows`);
  for (const c of CASES) {
    assert.ok(c.okOrCode || c.returns || (c.cls && c.code), `${c.name} has no expectation`);
    if (c.code && c.code !== 'ERR_TOO_LARGE' && c.cls !== TypeError && c.cls !== RangeError) {
      assert.ok(c.code in ERROR_CODES, `${c.name}: ${c.code} is not in the closed list`);
    }
  }
  assert.is(new Set(CASES.map((c) => c.name)).size, CASES.length, 'row names are unique');
});

CASES.forEach((c, i) => {
  const label = c.okOrCode ? 'the file\'s pixels or a coded error' : c.returns ? `returns ${String(c.returns)}` : `${c.cls!.name} ${c.code}`;
  test(`${c.name} -> ${label}`, async () => {
    const r = await results[i];
    if (c.returns) {
      const value = settle(r);
      assert.ok(typeof value === 'string' && c.returns.test(value), `returned ${String(value)}`);
    } else if (c.okOrCode) {
      try {
        settle(r);
      } catch (err) {
        if (err instanceof assert.Assertion) throw err;
        const e = err as Error & { code?: string };
        assert.ok(e instanceof NdsamplerError && typeof e.code === 'string' && e.code in ERROR_CODES,
          `neither the right pixels nor a coded error: ${e.constructor?.name} ${e.code}: ${e.message}`);
      }
    } else {
      expectCode(() => settle(r), c.cls!, c.code!);
    }
    if (c.maxMs !== undefined) assert.ok(r.ms < c.maxMs * SLOW, `took ${Math.round(r.ms)} ms (bound ${c.maxMs * SLOW})`);
    if (c.maxRssMB !== undefined && !UNDER_ASAN) assert.ok(r.maxRssKB < c.maxRssMB * 1024, `peak RSS ${(r.maxRssKB / 1024) | 0} MB (bound ${c.maxRssMB} MB)`);
  });
});

test.run();
