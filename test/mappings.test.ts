/**
 * Bounded mappings: zero-copy views over 100,000 image opens in one synchronous loop (where no
 * finalizer can run) stop at the mapping budget and become copies, with RSS bounded; the budget is
 * settable and reported; a synchronous read loop opening readers levels off. Runs in a child
 * process with a timeout, so a regression (the kernel's mapping cap, an abort) fails here.
 */
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mappingStats, setMappingBudget } from '../lib/readers';
import { tempDir } from './_helpers/tmp';

const { dir, cleanup } = tempDir('mappings');
const CHILD = path.join(__dirname, '_mem', 'mappings-child.js');

function run(scenario: string): Record<string, number> {
  const r = spawnSync(process.execPath, ['--expose-gc', CHILD, scenario, dir], { encoding: 'utf8', timeout: 90_000 });
  const out = (r.stdout || '') + (r.stderr || '');
  assert.is(r.signal, null, `${scenario}: the child died of ${r.signal}\n${out.slice(-2000)}`);
  assert.is(r.status, 0, `${scenario}: exit ${r.status}\n${out.slice(-2000)}`);
  return JSON.parse((r.stdout || '').trim().split('\n').pop() || '{}') as Record<string, number>;
}

test('setMappingBudget / mappingStats', () => {
  const before = mappingStats();
  assert.is(before.budget, 4096);
  setMappingBudget(10);
  assert.is(mappingStats().budget, 10);
  setMappingBudget(4096);
  assert.throws(() => setMappingBudget(-1), (e: Error) => e instanceof RangeError || e instanceof TypeError);
});

test('100,000 zero-copy views in one synchronous loop: views up to the budget, then copies; RSS bounded', () => {
  const res = run('views');
  assert.is(res.images, 100_000);
  assert.ok(res.views > 0 && res.views <= 4096 + 8, `views ${res.views}`);
  assert.ok(res.maxLive <= 4096 + 8, `live mappings ${res.maxLive}`);
  assert.ok(res.rssGrowthMB < 400, `RSS grew ${res.rssGrowthMB} MB`);
});

// close() frees the mapping, header, native reader and its slot at once; no JS function per
// reader waits for a finalizer (Node runs those only on an event-loop turn). Measured: 114 + 72 MB
// over 2 x 150,000 opens with a bound readInto per reader, 5 + 3 MB with slots.
test('a synchronous loop of 300,000 reader opens and copies: RSS levels off (< 20 MB over the second 150,000)', () => {
  const res = run('copies');
  // Under ASan (scripts/asan-check.sh) RSS is the sanitizer allocator's (redzones, quarantine):
  // the loop still runs there, for memory errors, but the bounds are for the real allocator.
  if (process.env.NDS_UNDER_ASAN === '1') return;
  assert.ok(res.secondHalfGrowthMB < 20, `RSS grew ${res.secondHalfGrowthMB} MB over the second half (first half ${res.firstHalfGrowthMB} MB)`);
  assert.ok(res.firstHalfGrowthMB < 40, `RSS grew ${res.firstHalfGrowthMB} MB over the first half`);
});

test.after(cleanup);
test.run();
