/**
 * Lifetimes around the npy reader: zero-copy views that outlive their reader, use after close,
 * readAsync (results, concurrency, pinning), worker threads, garbage-collected readers and process
 * exit with work in flight. Needs --expose-gc (scripts/test.js passes it).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ClosedError } from '../lib/errors';
import { native } from '../lib/native';
import { allocate } from '../lib/ndarray';
import type { DType, NDArray } from '../lib/ndarray';
import { openImage, writeNpy, NpyReader } from '../lib/readers';
import type { Region } from '../lib/region';
import { asStored, collect, elements, encodeData, expectedRegion, headerDict, isMapped, KIND, npyBytes } from './npy-helpers';
import { expectCode, expectCodeAsync } from './_helpers/errors';
import { rmrf, tempDir } from './_helpers/tmp';

const dir = tempDir('npy-lifecycle').dir;
const LIB = path.resolve(__dirname, '..', 'lib', 'readers.ts');

/** A .npy file whose element (y, x, c) is valueAt(dtype, (y * W + x) * C + c). */
function fixture(name: string, dtype: DType, shape: [number, number, number], fortran = false, big = false): string {
  const file = path.join(dir, name);
  const order = KIND[dtype].endsWith('1') ? '|' : big ? '>' : '<';
  fs.writeFileSync(file, npyBytes({ dict: headerDict(order + KIND[dtype], fortran, shape), data: encodeData(dtype, shape, fortran, big) }));
  return file;
}

const U8 = fixture('u8.npy', 'uint8', [40, 30, 3]);
const F32_F_BE = fixture('f32_f_be.npy', 'float32', [33, 21, 2], true, true);
const I16_F = fixture('i16_f.npy', 'int16', [25, 19, 4], true, false);

function expectedValues(dtype: DType, shape: [number, number, number], region: Region | null): number[] {
  const s = (i: number) => (region === null || region[i] == null ? null : region[i] as [number | null, number | null]);
  return asStored(dtype, expectedRegion(dtype, shape, s(0), s(1), s(2)).values);
}

test('a zero-copy view outlives its reader: close, drop, collect; the mapping goes with the last view', async () => {
  // Built in a nested function so no reference to the reader survives in this scope.
  const make = () => {
    const r = openImage(U8);
    const v = r.read([[3, 9], [4, 10]], { copy: false });
    r.close();
    return v;
  };
  let view: NDArray | null = make();
  await collect();
  assert.ok(isMapped(U8), 'the view keeps the mapping');
  assert.equal(elements(view), expectedValues('uint8', [40, 30, 3], [[3, 9], [4, 10]]));
  view = null;
  await collect();
  assert.not.ok(isMapped(U8), 'unmapped once the last view is gone');
});

test('copy:false shares the mapping: interior offset, stored strides, the file in one buffer', () => {
  const r = openImage(U8) as NpyReader;
  const v = r.read([[5, 7], [2, 6], [1, 3]], { copy: false });
  assert.equal(v.strides, r.info.strides);
  assert.equal(v.strides, [90, 3, 1]);
  assert.is(v.offset, 5 * 90 + 2 * 3 + 1);
  assert.equal(v.shape, [2, 4, 2]);
  assert.is(v.data.byteOffset, r.info.dataOffset);
  assert.is(v.data.buffer.byteLength, fs.statSync(U8).size);
  const w = r.read(null, { copy: false });
  assert.is(w.data, v.data, 'views of one reader share one typed array');
  assert.is(w.offset, 0);
  assert.equal(elements(v), expectedValues('uint8', [40, 30, 3], [[5, 7], [2, 6], [1, 3]]));
  // Fortran order: the view carries the column-major strides.
  const f = openImage(I16_F) as NpyReader;
  const fv = f.read([[2, 5], [3, 4]], { copy: false });
  assert.equal(fv.strides, [1, 25, 25 * 19]);
  assert.is(fv.offset, 2 + 3 * 25);
  assert.equal(elements(fv), expectedValues('int16', [25, 19, 4], [[2, 5], [3, 4]]));
  // Byte-swapped data cannot be served as a view: copy:false gives a converted copy.
  const b = openImage(F32_F_BE) as NpyReader;
  const bv = b.read([[1, 4], [2, 5]], { copy: false });
  assert.equal(bv.strides, [6, 2, 1]);
  assert.equal(elements(bv), expectedValues('float32', [33, 21, 2], [[1, 4], [2, 5]]));
  r.close(); f.close(); b.close();
});

test('writing into a view neither crashes nor reaches the file', () => {
  const before = fs.readFileSync(U8);
  const r = openImage(U8) as NpyReader;
  const v = r.read(null, { copy: false });
  const old = v.data[v.offset + 7];
  v.data[v.offset + 7] = (old + 1) % 256;
  assert.is(v.data[v.offset + 7], (old + 1) % 256, 'the view is writable (copy-on-write)');
  r.close();
  assert.ok(fs.readFileSync(U8).equals(before), 'the file is unchanged');
  const again = openImage(U8);
  assert.is(again.read([[0, 1], [2, 3], [1, 2]]).data[0], old);
  again.close();
});

test('after close(): read and readAsync throw ClosedError ERR_CLOSED; close is idempotent', async () => {
  const r = openImage(U8);
  r.close();
  r.close();
  assert.ok(r.closed);
  const e = expectCode(() => r.read(), ClosedError, 'ERR_CLOSED');
  assert.is(e.path, U8);
  expectCode(() => r.read([[0, 1], [0, 1]], { copy: false }), ClosedError, 'ERR_CLOSED');
  await expectCodeAsync(() => r.readAsync([[0, 1], [0, 1]]), ClosedError, 'ERR_CLOSED');
});

test('after close(): every raw binding method throws ClosedError ERR_CLOSED', () => {
  const n = new native.NpyReader(U8);
  const dst = new Uint8Array(3);
  const req = new Float64Array([0, 1, 0, 1, 0, 3, 0, 3, 3, 1, 1, 1]);
  n.readInto(dst, req);
  const { slot, slotGen } = n.info();
  native.npyReadInto(slot, slotGen, dst, req);
  n.close();
  n.close();
  expectCode(() => native.npyReadInto(slot, slotGen, dst, req), ClosedError, 'ERR_CLOSED', 'npyReadInto');
  // The released slot goes to the next reader, under another generation.
  const m = new native.NpyReader(U8);
  assert.is(m.info().slot, slot);
  assert.is.not(m.info().slotGen, slotGen);
  expectCode(() => native.npyReadInto(slot, slotGen, dst, req), ClosedError, 'ERR_CLOSED', 'the old generation');
  native.npyReadInto(slot, m.info().slotGen, dst, req);
  m.close();
  expectCode(() => n.info(), ClosedError, 'ERR_CLOSED', 'info');
  expectCode(() => n.readInto(dst, req), ClosedError, 'ERR_CLOSED', 'readInto');
  expectCode(() => n.readIntoAsync(dst, req), ClosedError, 'ERR_CLOSED', 'readIntoAsync');
  expectCode(() => n.mapping(), ClosedError, 'ERR_CLOSED', 'mapping');
  const proto = Object.getPrototypeOf(n) as { readInto: (d: Uint8Array, r: Float64Array) => void };
  expectCode(() => proto.readInto.call(n, dst, req), ClosedError, 'ERR_CLOSED', 'prototype readInto');
});

test('readIntoAsync runs no JS before queueing (a patched ArrayBuffer getter is never called)', async () => {
  const n = new native.NpyReader(U8);
  const desc = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, 'resizable')!;
  let called = false;
  Object.defineProperty(ArrayBuffer.prototype, 'resizable', {
    configurable: true,
    get() {
      called = true;
      n.close();
      return false;
    },
  });
  try {
    await n.readIntoAsync(new Uint8Array(3), new Float64Array([0, 1, 0, 1, 0, 3, 0, 3, 3, 1, 1, 1]));
  } finally {
    Object.defineProperty(ArrayBuffer.prototype, 'resizable', desc);
  }
  assert.not.ok(called);
  n.close();
});

test('readAsync results equal read results (C, Fortran, big-endian; copy, out, boundless)', async () => {
  const regions: Region[] = [[[1, 7], [2, 9]], [[-5, null], [null, -3], [1, 2]], [[4, 4], [0, 5]], [[0, 100], [3, 4]]];
  for (const file of [U8, F32_F_BE, I16_F]) {
    const r = openImage(file);
    for (const reg of regions) {
      const a = r.read(reg);
      const b = await r.readAsync(reg);
      assert.equal(b.shape, a.shape);
      assert.equal(Array.from(b.data), Array.from(a.data), `${file} ${JSON.stringify(reg)}`);
      const out = allocate(a.shape, r.dtype);
      const c = await r.readAsync(reg, { out });
      assert.is(c.data, out.data);
      assert.equal(Array.from(out.data), Array.from(a.data));
    }
    const bl = r.read([[-2, 3], [-1, 2]], { boundless: true, fill: 7 });
    const bla = await r.readAsync([[-2, 3], [-1, 2]], { boundless: true, fill: 7 });
    assert.equal(Array.from(bla.data), Array.from(bl.data));
    r.close();
  }
});

test('many concurrent readAsync calls settle with the right data', async () => {
  const r = openImage(F32_F_BE);
  const sync = openImage(F32_F_BE);
  let seed = 7;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const regions: Region[] = [];
  for (let i = 0; i < 400; i++) {
    const y = rnd(33);
    const x = rnd(21);
    regions.push([[y, y + 1 + rnd(10)], [x, x + 1 + rnd(10)]]);
  }
  const results = await Promise.all(regions.map((reg) => r.readAsync(reg)));
  for (let i = 0; i < regions.length; i++) {
    assert.equal(Array.from(results[i].data), Array.from(sync.read(regions[i]).data), JSON.stringify(regions[i]));
  }
  r.close();
  sync.close();
});

test('an in-flight readAsync pins the mapping and its destination: close and GC before it settles', async () => {
  const expected = Array.from(openImage(U8).read([[2, 38], [1, 29]]).data);
  const pending: Array<Promise<NDArray>> = [];
  for (let i = 0; i < 20; i++) {
    const r = openImage(U8);
    pending.push(r.readAsync([[2, 38], [1, 29]]));
    r.close();
  }
  const gc = (globalThis as { gc?: () => void }).gc!;
  gc();
  gc();
  for (const a of await Promise.all(pending)) assert.equal(Array.from(a.data), expected);
  // The raw binding: the typed array is only referenced by the job while it runs.
  const n = new native.NpyReader(U8);
  const req = new Float64Array([2, 38, 1, 29, 0, 3, 0, 28 * 3, 3, 1, 36, 28]);
  let dst: Uint8Array | null = new Uint8Array(36 * 28 * 3);
  const weak = new WeakRef(dst);
  const p = n.readIntoAsync(dst, req);
  dst = null;
  n.close();
  gc();
  await p;
  const kept = weak.deref();
  assert.ok(kept !== undefined, 'the destination survived until the job settled');
  assert.equal(Array.from(kept), expected);
});

test('worker threads open and read the same file; results equal the main thread', async () => {
  const regions: Region[] = [[[1, 9], [2, 7]], [[-4, null], [null, -2], [0, 1]]];
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { openImage } = require(workerData.lib);
    (async () => {
      const out = [];
      for (const file of workerData.files) {
        const r = openImage(file);
        for (const reg of workerData.regions) {
          const a = r.read(reg);
          const b = await r.readAsync(reg);
          const v = r.read(reg, { copy: false });
          out.push({ shape: a.shape, data: Array.from(a.data), async: Array.from(b.data), view: v.shape });
        }
        r.close();
      }
      parentPort.postMessage(out);
    })().catch((e) => { throw e; });`;
  const files = [U8, F32_F_BE, I16_F];
  const run = () => new Promise<Array<{ shape: number[]; data: number[]; async: number[]; view: number[] }>>((resolve, reject) => {
    const w = new Worker(code, { eval: true, workerData: { lib: LIB, files, regions } });
    w.once('message', resolve);
    w.once('error', reject);
  });
  const [one, two] = await Promise.all([run(), run()]);
  let i = 0;
  for (const file of files) {
    const r = openImage(file);
    for (const reg of regions) {
      const a = r.read(reg);
      for (const got of [one[i], two[i]]) {
        assert.equal(got.shape, a.shape);
        assert.equal(got.data, Array.from(a.data));
        assert.equal(got.async, Array.from(a.data));
        assert.equal(got.view, a.shape);
      }
      i++;
    }
    r.close();
  }
});

test('a worker terminated with readers open and reads in flight leaves the process healthy', async () => {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { openImage } = require(workerData.lib);
    const readers = [];
    for (let i = 0; i < 8; i++) readers.push(openImage(workerData.file));
    const views = readers.map((r) => r.read(null, { copy: false }));
    for (const r of readers) for (let k = 0; k < 50; k++) r.readAsync([[0, 40], [0, 30]]);
    // Kept reachable until the worker is terminated: otherwise the worker's own GC may release the
    // mappings before the parent looks (the precondition below).
    globalThis.keep = { readers, views };
    parentPort.postMessage(views.length);`;
  const file = path.join(dir, 'worker-only.npy');
  fs.copyFileSync(U8, file);
  const w = new Worker(code, { eval: true, workerData: { lib: LIB, file } });
  const n = await new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
  assert.is(n, 8);
  assert.ok(isMapped(file));
  await w.terminate();
  await collect();
  assert.not.ok(isMapped(file), "the worker's teardown released its mappings");
  const r = openImage(U8);
  assert.equal(Array.from(r.read([[0, 2], [0, 2]]).data), expectedValues('uint8', [40, 30, 3], [[0, 2], [0, 2]]));
  r.close();
});

test('readers left unclosed are collected without crashing and unmap their files', async () => {
  const file = path.join(dir, 'gc.npy');
  writeNpy(file, allocate([64, 64, 3], 'uint16', true));
  const make = () => {
    for (let i = 0; i < 50; i++) {
      const r = openImage(file);
      r.read(null, { copy: false });
      r.read([[1, 5], [1, 5]]);
      new native.NpyReader(file).mapping();
    }
  };
  make();
  assert.ok(isMapped(file));
  await collect(6);
  assert.not.ok(isMapped(file), 'every mapping was released by the garbage collector');
});

function child(script: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['-r', 'tsx/cjs', '-e', script], {
    cwd: path.resolve(__dirname, '..'), encoding: 'utf8', timeout: 60000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('process exit with open readers, live views and a pending readAsync is clean', () => {
  const open = `
    const { openImage } = require(${JSON.stringify(LIB)});
    const readers = [openImage(${JSON.stringify(U8)}), openImage(${JSON.stringify(F32_F_BE)})];
    const views = readers.map((r) => r.read(null, { copy: false }));
    for (let i = 0; i < 20; i++) readers[i % 2].readAsync();`;
  const exitNow = child(open + `\nprocess.exit(0);`);
  assert.is(exitNow.status, 0, exitNow.stderr);
  assert.is(exitNow.stderr, '');
  const natural = child(open + `\nreaders[0].readAsync([[0, 1], [0, 1]]).then((a) => console.log('done', a.data.length));`);
  assert.is(natural.status, 0, natural.stderr);
  assert.is(natural.stdout.trim(), 'done 3');
  assert.is(natural.stderr, '');
  const thrown = child(open + `\nreaders[1].readAsync().then(() => { throw new Error('boom'); });`);
  assert.is(thrown.status, 1);
  assert.match(thrown.stderr, 'boom');
  assert.not.match(thrown.stderr, /Segmentation|Aborted|FATAL/);
});

test('the zero-copy view data stays valid after the reader is closed and replaced on disk', () => {
  const file = path.join(dir, 'replace.npy');
  const a = allocate([4, 5, 3], 'int32');
  for (let i = 0; i < a.data.length; i++) a.data[i] = i * 3 - 20;
  writeNpy(file, a);
  const r = openImage(file);
  const v = r.read(null, { copy: false });
  r.close();
  const b = allocate([2, 2, 1], 'uint8', true);
  writeNpy(file, b);  // an atomic rename: the mapped inode is untouched
  assert.equal(elements(v), Array.from(a.data));
  const again = openImage(file);
  assert.equal(again.shape, [2, 2, 1]);
  again.close();
});

test.after(() => rmrf(dir));

test.run();
