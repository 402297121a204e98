/**
 * A mapped .npy file cut behind the library's back (truncated, or re-saved smaller by numpy):
 * copies out of the mapping (sync, async, with and without `out`) give ERR_SOURCE_CHANGED, a
 * zero-copy view reads zeros past the cut instead of killing the process, and a SIGBUS that is not
 * ours still ends the process. Each case runs in a child process with a timeout
 * (test/_mem/sigbus-child.ts), so a regression fails here instead of killing the runner.
 */
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tempDir } from './_helpers/tmp';

const { dir, cleanup } = tempDir('npy-sigbus');
const CHILD = path.join(__dirname, '_mem', 'sigbus-child.ts');

function run(scenario: string): { res: Record<string, unknown> | null; status: number | null; signal: string | null; out: string } {
  const r = spawnSync(process.execPath, ['-r', 'tsx/cjs', CHILD, scenario, path.join(dir, `${scenario}.npy`)], {
    encoding: 'utf8', timeout: 30_000, cwd: path.resolve(__dirname, '..'),
  });
  const line = (r.stdout || '').trim().split('\n').pop() || '';
  let res: Record<string, unknown> | null = null;
  try { res = JSON.parse(line) as Record<string, unknown>; } catch { res = null; }
  return { res, status: r.status, signal: r.signal, out: (r.stdout || '') + (r.stderr || '') };
}

function expectRun(scenario: string): Record<string, unknown> {
  const r = run(scenario);
  assert.is(r.signal, null, `${scenario}: the child died of ${r.signal}\n${r.out}`);
  assert.is(r.status, 0, `${scenario}: exit ${r.status}\n${r.out}`);
  assert.ok(r.res, `${scenario}: no result line\n${r.out}`);
  return r.res!;
}

const CHANGED = 'FileError:ERR_SOURCE_CHANGED';

test('sync read of the cut part of a truncated file: ERR_SOURCE_CHANGED, then every read of it', () => {
  const res = expectRun('sync');
  assert.is(res.first, CHANGED);
  assert.is(res.head, CHANGED, 'the mapping is marked damaged');
});

test('readAsync (new array and into out) of a truncated file: ERR_SOURCE_CHANGED', () => {
  const res = expectRun('async');
  assert.is(res.first, CHANGED);
  assert.is(res.withOut, CHANGED);
});

test('a zero-copy view of a truncated file reads zeros past the cut; reads then give ERR_SOURCE_CHANGED', () => {
  const res = expectRun('view');
  assert.ok(res.isView, 'the read was a view');
  assert.is(res.before, 11);
  assert.is(res.sumPastCut, 0);
  assert.is(res.wrote, 7);
  assert.is(res.after, CHANGED);
});

test('loadBatch over a file cut under its mapping: the crop is ERR_SOURCE_CHANGED (rejected, or filled and listed)', () => {
  const res = expectRun('batch');
  assert.is(res.thrown, CHANGED);
  assert.ok((res.filled as string[]).includes(`0:${CHANGED}`), `the cut crop is listed: ${JSON.stringify(res.filled)}`);
  assert.is(res.fillValue, 3, 'and filled with fill');
});

test('a source .npy re-saved smaller with np.save under an open reader: ERR_SOURCE_CHANGED', () => {
  const res = expectRun('npsave');
  assert.is(res.first, CHANGED);
  assert.is(res.async, CHANGED);
});

test('a SIGBUS that is not a fault in one of our mappings still ends the process', () => {
  const r = run('foreign');
  assert.is(r.signal, 'SIGBUS', r.out);
});

test.after(cleanup);
test.run();
