/**
 * Terminating worker threads at random moments while they run async npy and raster reads,
 * writeCogAsync / convertToNpyAsync and Frames.prepare never takes the process down and leaves no
 * temporary files. The loop runs in a child process with a timeout (test/_mem/terminate-child.js),
 * so a regression (exit 134, "terminate called after throwing an instance of 'Napi::Error'") fails
 * here instead of killing the runner.
 */
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { leftoverTemps, tempDir } from './_helpers/tmp';

const { dir, cleanup } = tempDir('terminate');
const CHILD = path.join(__dirname, '_mem', 'terminate-child.js');
const TOTAL = 300;

test(`${TOTAL} worker terminations at random moments: the process survives, no temporary files remain`, () => {
  const r = spawnSync(process.execPath, [CHILD, dir, String(TOTAL)], { encoding: 'utf8', timeout: 150_000 });
  const out = (r.stdout || '') + (r.stderr || '');
  assert.is(r.signal, null, `the child died of ${r.signal}\n${out.slice(-2000)}`);
  assert.is(r.status, 0, `exit ${r.status}\n${out.slice(-2000)}`);
  const res = JSON.parse((r.stdout || '').trim().split('\n').pop() || '{}') as { done: number; ms: number };
  assert.is(res.done, TOTAL, out);
  // A hang guard, not a speed target (~20 s on an idle 2-core machine; several times that under load).
  assert.ok(res.ms < 120_000, `took ${res.ms} ms`);
  assert.equal(leftoverTemps(dir), []);
});

test.after(cleanup);
test.run();
