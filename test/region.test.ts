// Region semantics: the one normaliser, checked against two independent references —
// JavaScript's Array.prototype.slice (the same step-1 rules as Python) for a fuzzed table, and
// Python's own slice().indices() through /usr/bin/python3 for a fixed table.
import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RegionError } from '../lib/errors';
import { isPartial, normalizeRegion, pySlice, windowShape } from '../lib/region';
import type { Region } from '../lib/region';

const ref = (start: number | null, stop: number | null, n: number): [number, number] => {
  const idx = Array.from({ length: n }, (_, i) => i).slice(start ?? undefined, stop ?? undefined);
  return idx.length === 0 ? [-1, -1] : [idx[0], idx[idx.length - 1] + 1];
};

const bounds = [null, 0, 1, 2, 5, 9, 10, 11, 100, -1, -2, -5, -9, -10, -11, -100];

test('pySlice matches Array.prototype.slice for every start/stop pair', () => {
  for (const n of [0, 1, 3, 10]) {
    for (const s of bounds) {
      for (const e of bounds) {
        const [b, f] = pySlice(s, e, n);
        assert.ok(b >= 0 && f >= b && f <= n, `in range: ${s}:${e} of ${n}`);
        const [rb, rf] = ref(s, e, n);
        if (rb === -1) assert.is(f - b, 0, `empty ${s}:${e} of ${n}`);
        else assert.equal([b, f], [rb, rf], `${s}:${e} of ${n}`);
      }
    }
  }
});

const hasPython = spawnSync('/usr/bin/python3', ['-c', 'pass']).status === 0;
(hasPython ? test : test.skip)('pySlice agrees with Python slice().indices()', () => {
  const cases: Array<[number | null, number | null, number]> = [];
  for (const n of [0, 1, 7, 512]) for (const s of bounds) for (const e of bounds) cases.push([s, e, n]);
  const py = `import json,sys
cases=json.load(sys.stdin)
print(json.dumps([list(slice(s,e).indices(n))[:2] for s,e,n in cases]))`;
  const r = spawnSync('/usr/bin/python3', ['-c', py], { input: JSON.stringify(cases), encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as Array<[number, number]>;
  cases.forEach(([s, e, n], i) => {
    const [b, f] = pySlice(s, e, n);
    const [pb, pf] = out[i];
    assert.is(b, pb, `start of ${s}:${e} of ${n}`);
    assert.is(f, Math.max(pf, pb), `stop of ${s}:${e} of ${n}`);
  });
});
if (!hasPython) process.stdout.write('SKIP region: /usr/bin/python3 is absent, Python slice cross-check not run\n');

test('the seed example: (slice(-20), slice(-10)) on 512x512x3', () => {
  const w = normalizeRegion([[null, -20], [null, -10]], [512, 512, 3]);
  assert.equal(windowShape(w), [492, 502, 3]);
});

test('all slice spellings mean the same', () => {
  const shape: [number, number, number] = [100, 80, 4];
  const a = normalizeRegion([[10, 20], [5, -5], [1, 3]], shape);
  const b = normalizeRegion([{ start: 10, stop: 20 }, { start: 5, stop: -5 }, { start: 1, stop: 3 }], shape);
  const c = normalizeRegion([[10, 20, 1], [5, -5, null], [1, 3]] as unknown as Region, shape);
  assert.equal(a, b);
  assert.equal(a, c);
  assert.equal(windowShape(a), [10, 70, 2]);
  assert.equal(normalizeRegion(undefined, shape), normalizeRegion([], shape));
  assert.equal(normalizeRegion(null, shape), normalizeRegion([null, undefined, null], shape));
  assert.equal(windowShape(normalizeRegion([[]], shape)), [100, 80, 4]);
});

test('clipping: stops past the end are clipped, reversed ranges are empty', () => {
  assert.equal(windowShape(normalizeRegion([[90, 200], [-1000, 10]], [100, 80, 3])), [10, 10, 3]);
  assert.equal(windowShape(normalizeRegion([[50, 10]], [100, 80, 3])), [0, 80, 3]);
  assert.equal(windowShape(normalizeRegion([[200, 300]], [100, 80, 3])), [0, 80, 3]);
  assert.equal(windowShape(normalizeRegion([null, null, [3, 10]], [100, 80, 3])), [100, 80, 0]);
});

test('boundless: absolute coordinates, intersection tracked', () => {
  const w = normalizeRegion([[-10, 30], [70, 90]], [100, 80, 3], true);
  assert.equal(windowShape(w), [40, 20, 3]);
  assert.equal([w.iy0, w.iy1, w.ix0, w.ix1], [0, 30, 70, 80]);
  assert.ok(isPartial(w));
  const inside = normalizeRegion([[10, 30], [10, 20]], [100, 80, 3], true);
  assert.not.ok(isPartial(inside));
  const outside = normalizeRegion([[200, 210], [-50, -40]], [100, 80, 3], true);
  assert.equal(windowShape(outside), [10, 10, 3]);
  assert.is(outside.iy1 - outside.iy0, 0);
  assert.is(outside.ix1 - outside.ix0, 0);
  // channels keep Python semantics even when boundless
  assert.equal(windowShape(normalizeRegion([null, null, [-2, null]], [5, 5, 3], true)), [5, 5, 2]);
});

const bad: Array<[string, unknown, string]> = [
  ['a step of 2', [[0, 10, 2]], 'ERR_REGION_STEP'],
  ['a step of -1 in an object', [{ start: 0, stop: 5, step: -1 }], 'ERR_REGION_STEP'],
  ['four axes', [null, null, null, null], 'ERR_REGION'],
  ['a bare number', [3], 'ERR_REGION'],
  ['a string', ['0:10'], 'ERR_REGION'],
  ['a slice of four entries', [[0, 1, 1, 1]], 'ERR_REGION'],
  ['an unknown key', [{ begin: 0 }], 'ERR_REGION'],
  ['not an array', { rows: [0, 1] }, 'ERR_REGION'],
];
for (const [name, region, code] of bad) {
  test(`rejects ${name} with ${code}`, () => {
    try {
      normalizeRegion(region as Region, [10, 10, 3]);
      assert.unreachable('should have thrown');
    } catch (err) {
      assert.instance(err, RegionError);
      assert.is((err as RegionError).code, code);
    }
  });
}

test('rejects non-integer and non-number bounds with TypeError / RangeError', () => {
  for (const [value, Cls, code] of [[1.5, RangeError, 'ERR_OUT_OF_RANGE'], ['1', TypeError, 'ERR_INVALID_ARG_TYPE'],
    [NaN, TypeError, 'ERR_INVALID_ARG_TYPE'], [Infinity, RangeError, 'ERR_OUT_OF_RANGE'], [2 ** 60, RangeError, 'ERR_OUT_OF_RANGE']] as const) {
    try {
      normalizeRegion([[value as unknown as number, 5]], [10, 10, 3]);
      assert.unreachable(`should have thrown for ${String(value)}`);
    } catch (err) {
      assert.instance(err, Cls);
      assert.is((err as Error & { code: string }).code, code);
    }
  }
});

test.run();
