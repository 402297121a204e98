/**
 * No native write lands in memory JavaScript can free, detach or shrink during a job: async reads
 * into an `out` that is transferred (and collected) or shrunk while in flight reject with
 * ERR_OUT_BUFFER; zero or overlapping strides in an `out` are refused (TypeScript and the raw
 * binding). scripts/test.js runs this file in its own process, so a regression to a crash fails it.
 */
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RegionError } from '../lib/errors';
import { native, REQ } from '../lib/native';
import { allocate } from '../lib/ndarray';
import type { NDArray } from '../lib/ndarray';
import { openImage, writeNpy } from '../lib/readers';
import { writeRaster } from '../lib/gdal';
import { expectCode, expectCodeAsync } from './_helpers/errors';
import { tempDir } from './_helpers/tmp';

const { dir, cleanup } = tempDir('buffers');
const NPY = path.join(dir, 'a.npy');
const TIF = path.join(dir, 'a.tif');
const SRC = allocate([512, 512, 3], 'uint8');
for (let i = 0; i < SRC.data.length; i++) SRC.data[i] = i & 255;
writeNpy(NPY, SRC);
writeRaster(TIF, SRC, { driver: 'GTiff' });
const gc = (globalThis as { gc?: () => void }).gc!;

for (const file of [NPY, TIF]) {
  const kind = path.extname(file);
  test(`${kind} readAsync into an out transferred and collected mid-flight: ERR_OUT_BUFFER, no crash`, async () => {
    const r = openImage(file);
    for (let k = 0; k < 20; k++) {
      const out = allocate([512, 512, 3], 'uint8');
      const p = r.readAsync(null, { out });
      structuredClone(out.data.buffer, { transfer: [out.data.buffer as ArrayBuffer] });
      gc();
      await expectCodeAsync(() => p, RegionError, 'ERR_OUT_BUFFER');
    }
    r.close();
  });

  test(`${kind} readAsync into a resizable out shrunk mid-flight: ERR_OUT_BUFFER; grown back, reads work`, async () => {
    const r = openImage(file);
    const Resizable = ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer & { resize(n: number): void };
    const buf = new Resizable(512 * 512 * 3, { maxByteLength: 512 * 512 * 3 });
    const out: NDArray = { data: new Uint8Array(buf), shape: [512, 512, 3], strides: [1536, 3, 1], offset: 0, dtype: 'uint8' };
    for (let k = 0; k < 20; k++) {
      buf.resize(512 * 512 * 3);
      const p = r.readAsync(null, { out });
      buf.resize(16);
      await expectCodeAsync(() => p, RegionError, 'ERR_OUT_BUFFER');
    }
    buf.resize(512 * 512 * 3);
    await r.readAsync(null, { out });
    assert.is(out.data[1000], 1000 & 255);
    r.close();
  });
}

test('zero or overlapping strides in an out are refused (read, readAsync, raw binding); size-1 axes are free', async () => {
  const r = openImage(NPY);
  const data = new Uint8Array(64 * 64 * 3);
  const bad: Array<[number, number, number]> = [[0, 3, 1], [192, 0, 1], [192, 3, 0], [3, 3, 1], [192, 1, 1], [2, 1, 64]];
  for (const strides of bad) {
    const out: NDArray = { data, shape: [4, 4, 3], strides, offset: 0, dtype: 'uint8' };
    expectCode(() => r.read([[0, 4], [0, 4]], { out }), RegionError, 'ERR_OUT_BUFFER', `read ${strides}`);
    await expectCodeAsync(() => r.readAsync([[0, 4], [0, 4]], { out }), RegionError, 'ERR_OUT_BUFFER', `readAsync ${strides}`);
    const req = new Float64Array(REQ.LENGTH);
    req.set([0, 4, 0, 4, 0, 3, 0, ...strides, 4, 4]);
    const n = new native.NpyReader(NPY);
    expectCode(() => n.readInto(data, req), RegionError, 'ERR_OUT_BUFFER', `raw readInto ${strides}`);
    expectCode(() => n.readIntoAsync(data, req), RegionError, 'ERR_OUT_BUFFER', `raw readIntoAsync ${strides}`);
    n.close();
  }
  // A single row or column: its stride is never used.
  const one: NDArray = { data, shape: [1, 4, 3], strides: [0, 3, 1], offset: 0, dtype: 'uint8' };
  r.read([[0, 1], [0, 4]], { out: one });
  assert.equal(Array.from(data.subarray(0, 12)), Array.from(SRC.data.subarray(0, 12)));
  // Channel-planar (chw-like) strides do not overlap.
  const planar: NDArray = { data, shape: [4, 4, 3], strides: [4, 1, 16], offset: 0, dtype: 'uint8' };
  r.read([[0, 4], [0, 4]], { out: planar });
  assert.is(data[16], SRC.data[1]);
  r.close();
});

test.after(cleanup);
test.run();
