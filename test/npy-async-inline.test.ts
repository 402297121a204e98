/**
 * readAsync of npy readers served inline (issue 10, docs/concurrency.md "Async reads served
 * inline"): a small window whose pages are all resident is copied at once on the JS thread, the
 * rest goes to the libuv pool; both give the sync read's result, and errors still reject.
 * mappingStats().inlineReads / poolReads tell which path ran.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FileError, RegionError } from '../lib/errors';
import { allocate } from '../lib/ndarray';
import type { DType } from '../lib/ndarray';
import { mappingStats, openImage, writeNpy, NpyReader } from '../lib/readers';
import type { Region } from '../lib/region';
import { elements, encodeData, headerDict, KIND, npyBytes } from './npy-helpers';
import { expectCodeAsync } from './_helpers/errors';
import { rmrf, tempDir } from './_helpers/tmp';

const dir = tempDir('npy-async-inline').dir;

function fixture(name: string, dtype: DType, shape: [number, number, number], fortran = false, big = false): string {
  const file = path.join(dir, name);
  const order = KIND[dtype].endsWith('1') ? '|' : big ? '>' : '<';
  fs.writeFileSync(file, npyBytes({ dict: headerDict(order + KIND[dtype], fortran, shape), data: encodeData(dtype, shape, fortran, big) }));
  return file;
}

/** Which path the reads of `fn` took: the counters' change. */
async function paths(fn: () => Promise<unknown>): Promise<{ inline: number; pool: number }> {
  const a = mappingStats();
  await fn();
  const b = mappingStats();
  return { inline: b.inlineReads - a.inlineReads, pool: b.poolReads - a.poolReads };
}

test('mappingStats reports the two counters', () => {
  const s = mappingStats();
  assert.type(s.inlineReads, 'number');
  assert.type(s.poolReads, 'number');
});

test('a small resident read goes inline and equals the sync read (orders, dtypes, out, fresh)', async () => {
  const cases: Array<[DType, boolean, boolean]> = [['uint8', false, false], ['float32', false, true], ['int16', true, false], ['float64', true, true]];
  for (const [dtype, fortran, big] of cases) {
    const file = fixture(`small-${dtype}-${fortran}-${big}.npy`, dtype, [96, 80, 3], fortran, big);
    const r = openImage(file) as NpyReader;
    const region: Region = [[10, 42], [7, 39]];
    const sync = r.read(region);
    r.read(null);  // every page resident
    let got: ReturnType<typeof r.read> | undefined;
    let p = await paths(async () => { got = await r.readAsync(region); });
    assert.equal(p, { inline: 1, pool: 0 }, `${dtype} fortran=${fortran} fresh`);
    assert.equal(got!.shape, sync.shape);
    assert.equal(elements(got!), elements(sync));
    assert.is(got!.data.constructor, sync.data.constructor);
    // into `out`, with a sub-window and channel subset: same checks and writes as the sync read
    const outA = allocate([30, 20, 2], dtype);
    const outB = allocate([30, 20, 2], dtype);
    r.read([[20, 50], [5, 25], [1, 3]], { out: outA });
    p = await paths(() => r.readAsync([[20, 50], [5, 25], [1, 3]], { out: outB }));
    assert.equal(p, { inline: 1, pool: 0 }, `${dtype} fortran=${fortran} out`);
    assert.equal(elements(outB), elements(outA));
    // boundless (a partial window): the fill is TS's, the copy inline
    const bA = r.read([[-5, 20], [70, 90]], { boundless: true });
    let bB: ReturnType<typeof r.read> | undefined;
    await paths(async () => { bB = await r.readAsync([[-5, 20], [70, 90]], { boundless: true }); });
    assert.equal(elements(bB!), elements(bA));
    r.close();
  }
});

test('a read of more than 64 KiB goes to the pool, with the same result', async () => {
  const file = fixture('large.npy', 'uint8', [256, 256, 3]);
  const r = openImage(file);
  r.read(null);
  const region: Region = [[0, 160], [0, 160]];  // 75 KiB
  const sync = r.read(region);
  let got: ReturnType<typeof r.read> | undefined;
  const p = await paths(async () => { got = await r.readAsync(region); });
  assert.equal(p, { inline: 0, pool: 1 });
  assert.equal(elements(got!), elements(sync));
  // the bound: 128 x 170 x 3 = 65,280 bytes inline, 128 x 171 x 3 = 65,664 on the pool
  assert.equal(await paths(() => r.readAsync([[0, 128], [0, 170]])), { inline: 1, pool: 0 });
  assert.equal(await paths(() => r.readAsync([[0, 128], [0, 171]])), { inline: 0, pool: 1 });
  r.close();
});

test('a read of pages that are not resident goes to the pool', async () => {
  // A 4 MiB file written and synced (clean pages), opened (only the header page is touched), then
  // dropped from the page cache: echo 1 > /proc/sys/vm/drop_caches (root; here and in CI).
  const file = path.join(dir, 'cold.npy');
  const img = allocate([1024, 1365, 3], 'uint8');
  for (let i = 0; i < img.data.length; i++) img.data[i] = (i * 31) & 255;
  writeNpy(file, img);
  const fd = fs.openSync(file, 'r+');
  fs.fdatasyncSync(fd);
  fs.closeSync(fd);
  const r = openImage(file);
  fs.writeFileSync('/proc/sys/vm/drop_caches', '1');
  const region: Region = [[900, 932], [1000, 1032]];
  let got: ReturnType<typeof r.read> | undefined;
  const p = await paths(async () => { got = await r.readAsync(region); });
  assert.equal(p, { inline: 0, pool: 1 });
  assert.equal(elements(got!), elements(r.read(region)));
  // now resident: inline
  const q = await paths(() => r.readAsync(region));
  assert.equal(q, { inline: 1, pool: 0 });
  r.close();
});

test('errors reject asynchronously on both paths', async () => {
  const file = fixture('errors.npy', 'uint8', [64, 64, 3]);
  const r = openImage(file);
  r.read(null);
  await expectCodeAsync(() => r.readAsync([[0, 8], [0, 8]], { out: allocate([4, 8, 3], 'uint8') }), RegionError, 'ERR_OUT_BUFFER');
  // `out` in a detached buffer: ERR_OUT_BUFFER, as before, never a write
  const out = allocate([8, 8, 3], 'uint8');
  structuredClone(out.data.buffer, { transfer: [out.data.buffer as ArrayBuffer] });
  await expectCodeAsync(() => r.readAsync([[0, 8], [0, 8]], { out }), RegionError, 'ERR_OUT_BUFFER');
  // a file cut under the mapping: its pages are gone, so the pool path, and ERR_SOURCE_CHANGED
  fs.truncateSync(file, 200);
  const before = mappingStats().inlineReads;
  await expectCodeAsync(() => r.readAsync([[40, 48], [0, 8]]), FileError, 'ERR_SOURCE_CHANGED');
  assert.is(mappingStats().inlineReads, before);
  // damaged now: every later read, small or not, rejects
  await expectCodeAsync(() => r.readAsync([[0, 1], [0, 1]]), FileError, 'ERR_SOURCE_CHANGED');
  r.close();
  await expectCodeAsync(() => r.readAsync([[0, 1], [0, 1]]), Error, 'ERR_CLOSED');
});

test.after(() => rmrf(dir));
test.run();
