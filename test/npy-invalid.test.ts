/**
 * Invalid input, per public function (openImage, reader.read, reader.readAsync, writeNpy) and
 * for direct calls of the raw binding: each asserts the error class and code, and none may crash
 * the process.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ClosedError, FileError, NdsamplerError, NpyFormatError, RegionError } from '../lib/errors';
import { native } from '../lib/native';
import type { NpyArrayDesc } from '../lib/native';
import { allocate } from '../lib/ndarray';
import type { NDArray } from '../lib/ndarray';
import { openImage, writeNpy } from '../lib/readers';
import { expectCode, expectCodeAsync } from './_helpers/errors';
import { leftoverTemps, rmrf, tempDir } from './_helpers/tmp';


const dir = tempDir('npy-invalid').dir;
const FILE = path.join(dir, 'img.npy');
const img = allocate([20, 16, 3], 'uint8');
for (let i = 0; i < img.data.length; i++) img.data[i] = i % 251;
writeNpy(FILE, img);

// Loosely typed handles on the public functions, to pass what TypeScript would refuse.
const open = openImage as unknown as (...args: unknown[]) => unknown;
const write = writeNpy as unknown as (...args: unknown[]) => unknown;
type Loose = { read(...args: unknown[]): NDArray; readAsync(...args: unknown[]): Promise<NDArray>; close(): void };

test('openImage: wrong argument types and unknown options', () => {
  expectCode(() => open(42), TypeError, 'ERR_INVALID_ARG_TYPE', 'number path');
  expectCode(() => open(), TypeError, 'ERR_INVALID_ARG_TYPE', 'no path');
  expectCode(() => open(''), TypeError, 'ERR_INVALID_ARG_TYPE', 'empty path');
  expectCode(() => open('a\0b.npy'), TypeError, 'ERR_INVALID_ARG_TYPE', 'NUL in path');
  expectCode(() => open(Buffer.from(FILE)), TypeError, 'ERR_INVALID_ARG_TYPE', 'Buffer path');
  expectCode(() => open(FILE, 5), TypeError, 'ERR_INVALID_ARG_TYPE', 'options not an object');
  expectCode(() => open(FILE, { kind: 'npy', mode: 'r' }), TypeError, 'ERR_INVALID_ARG_TYPE', 'unknown option');
  expectCode(() => open(FILE, { kind: 'tiff' }), TypeError, 'ERR_INVALID_ARG_TYPE', 'unknown kind');
  const text = path.join(dir, 'text.npy');
  fs.writeFileSync(text, 'hello, not an array\n');
  const e = expectCode(() => open(text, { kind: 'npy' }), NpyFormatError, 'ERR_NPY_HEADER', 'a text file');
  assert.is(e.path, text);
  const e2 = expectCode(() => open(path.join(dir, 'missing.npy')), FileError, 'ERR_SOURCE_MISSING');
  assert.is(e2.errno, 2);
});

// [what, region, options, error class, code] for read and readAsync alike.
const BAD_READS: Array<[string, unknown, unknown, abstract new (...a: never[]) => Error, string]> = [
  ['region a number', 42, undefined, RegionError, 'ERR_REGION'],
  ['region a string', 'a:b', undefined, RegionError, 'ERR_REGION'],
  ['region an object', { rows: [0, 1] }, undefined, RegionError, 'ERR_REGION'],
  ['region with 4 axes', [null, null, null, null], undefined, RegionError, 'ERR_REGION'],
  ['an axis given as an index', [5, 6], undefined, RegionError, 'ERR_REGION'],
  ['an axis with 4 entries', [[0, 1, 1, 1]], undefined, RegionError, 'ERR_REGION'],
  ['an axis object with an unknown key', [{ begin: 0 }], undefined, RegionError, 'ERR_REGION'],
  ['step 2', [[0, 10, 2]], undefined, RegionError, 'ERR_REGION_STEP'],
  ['step -1 as an object', [null, { start: 5, stop: 0, step: -1 }], undefined, RegionError, 'ERR_REGION_STEP'],
  ['step 0 on channels', [null, null, [0, 3, 0]], undefined, RegionError, 'ERR_REGION_STEP'],
  ['a string bound', [['0', 5]], undefined, TypeError, 'ERR_INVALID_ARG_TYPE'],
  ['a NaN bound', [[NaN, 5]], undefined, TypeError, 'ERR_INVALID_ARG_TYPE'],
  ['a fractional bound', [[0.5, 5]], undefined, RangeError, 'ERR_OUT_OF_RANGE'],
  ['an infinite bound', [[0, Infinity]], undefined, RangeError, 'ERR_OUT_OF_RANGE'],
  ['a bound past 2^53', [[0, 2 ** 60]], undefined, RangeError, 'ERR_OUT_OF_RANGE'],
  ['a bigint bound', [[0n, 5]], undefined, TypeError, 'ERR_INVALID_ARG_TYPE'],
  ['options a string', null, 'fast', TypeError, 'ERR_INVALID_ARG_TYPE'],
  ['options an array', null, [], TypeError, 'ERR_INVALID_ARG_TYPE'],
  ['unknown option', null, { cpy: false }, TypeError, 'ERR_INVALID_ARG_TYPE'],
  ['copy not a boolean', null, { copy: 'no' }, TypeError, 'ERR_INVALID_ARG_TYPE'],
  ['boundless not a boolean', null, { boundless: 1 }, TypeError, 'ERR_INVALID_ARG_TYPE'],
  ['fill not a number', null, { fill: '0' }, TypeError, 'ERR_INVALID_ARG_TYPE'],
  ['scale 0', null, { scale: 0 }, RangeError, 'ERR_OUT_OF_RANGE'],
  ['scale 2', null, { scale: 2 }, RangeError, 'ERR_OUT_OF_RANGE'],
  ['scale on an npy file', null, { scale: 0.5 }, NdsamplerError, 'ERR_UNSUPPORTED'],
  ['layout unknown', null, { layout: 'cwh' }, TypeError, 'ERR_INVALID_ARG_TYPE'],
  ['a huge boundless region', [[0, 1e6], [0, 1e6]], { boundless: true }, RegionError, 'ERR_REGION'],
  ['out a typed array', [[0, 2], [0, 2]], { out: new Uint8Array(12) }, TypeError, 'ERR_INVALID_ARG_TYPE'],
  ['out.data a plain array', [[0, 2], [0, 2]], { out: { data: new Array(12).fill(0), shape: [2, 2, 3], strides: [6, 3, 1], offset: 0, dtype: 'uint8' } }, TypeError, 'ERR_INVALID_ARG_TYPE'],
  ['out of another dtype', [[0, 2], [0, 2]], { out: allocate([2, 2, 3], 'float32') }, RegionError, 'ERR_OUT_BUFFER'],
  ['out.dtype not matching out.data', [[0, 2], [0, 2]], { out: { ...allocate([2, 2, 3], 'uint8'), dtype: 'int8' } }, TypeError, 'ERR_INVALID_ARG_TYPE'],
  ['out of another shape', [[0, 2], [0, 2]], { out: allocate([2, 3, 3], 'uint8') }, RegionError, 'ERR_OUT_BUFFER'],
  ['out missing the channel axis', [[0, 2], [0, 2]], { out: { data: new Uint8Array(12), shape: [2, 2], strides: [6, 3, 1], offset: 0 } }, TypeError, 'ERR_INVALID_ARG_TYPE'],
  ['out with negative strides', [[0, 2], [0, 2]], { out: { data: new Uint8Array(12), shape: [2, 2, 3], strides: [-6, 3, 1], offset: 11 } }, TypeError, 'ERR_INVALID_ARG_TYPE'],
  ['out with strides past its data', [[0, 2], [0, 2]], { out: { data: new Uint8Array(12), shape: [2, 2, 3], strides: [7, 3, 1], offset: 0 } }, RegionError, 'ERR_OUT_BUFFER'],
  ['out with an offset past its data', [[0, 2], [0, 2]], { out: { data: new Uint8Array(12), shape: [2, 2, 3], strides: [6, 3, 1], offset: 1 } }, RegionError, 'ERR_OUT_BUFFER'],
  ['out with a negative offset', [[0, 2], [0, 2]], { out: { data: new Uint8Array(12), shape: [2, 2, 3], strides: [6, 3, 1], offset: -1 } }, RangeError, 'ERR_OUT_OF_RANGE'],
  ['out with a layout', [[0, 2], [0, 2]], { out: allocate([2, 2, 3], 'uint8'), layout: 'chw' }, TypeError, 'ERR_INVALID_ARG_TYPE'],
];

test('reader.read: wrong types, unknown options, bad out arrays, steps and malformed regions', () => {
  const r = openImage(FILE) as unknown as Loose;
  for (const [what, region, opts, cls, code] of BAD_READS) {
    expectCode(() => r.read(region, opts), cls, code, what);
    if (opts === undefined) expectCode(() => r.read(region, { copy: false }), cls, code, `${what} (copy:false)`);
  }
  // None of it disturbed the reader.
  assert.equal(Array.from(r.read([[0, 1], [0, 2]]).data), [0, 1, 2, 3, 4, 5]);
  r.close();
});

test('reader.readAsync: the same inputs reject with the same classes and codes', async () => {
  const r = openImage(FILE) as unknown as Loose;
  for (const [what, region, opts, cls, code] of BAD_READS) {
    await expectCodeAsync(() => r.readAsync(region, opts), cls, code, what);
  }
  assert.equal(Array.from((await r.readAsync([[0, 1], [0, 2]])).data), [0, 1, 2, 3, 4, 5]);
  r.close();
});

test('writeNpy: wrong types, arrays addressing past their data, unwritable destinations', () => {
  const a = allocate([2, 3, 1], 'int16');
  const target = path.join(dir, 'w.npy');
  expectCode(() => write(42, a), TypeError, 'ERR_INVALID_ARG_TYPE', 'number path');
  expectCode(() => write('', a), TypeError, 'ERR_INVALID_ARG_TYPE', 'empty path');
  expectCode(() => write('x\0.npy', a), TypeError, 'ERR_INVALID_ARG_TYPE', 'NUL in path');
  expectCode(() => write(target), TypeError, 'ERR_INVALID_ARG_TYPE', 'no array');
  expectCode(() => write(target, null), TypeError, 'ERR_INVALID_ARG_TYPE', 'null array');
  expectCode(() => write(target, new Int16Array(6)), TypeError, 'ERR_INVALID_ARG_TYPE', 'a bare typed array');
  expectCode(() => write(target, { ...a, data: [1, 2, 3, 4, 5, 6] }), TypeError, 'ERR_INVALID_ARG_TYPE', 'plain array data');
  expectCode(() => write(target, { ...a, data: new DataView(new ArrayBuffer(12)) }), TypeError, 'ERR_INVALID_ARG_TYPE', 'DataView data');
  expectCode(() => write(target, { ...a, dtype: 'uint16' }), TypeError, 'ERR_INVALID_ARG_TYPE', 'dtype mismatch');
  expectCode(() => write(target, { ...a, shape: [2, 3] }), TypeError, 'ERR_INVALID_ARG_TYPE', '2 axes');
  expectCode(() => write(target, { ...a, shape: [2, 3, 1.5] }), TypeError, 'ERR_INVALID_ARG_TYPE', 'fractional shape');
  expectCode(() => write(target, { ...a, shape: [2, 3, -1] }), TypeError, 'ERR_INVALID_ARG_TYPE', 'negative shape');
  expectCode(() => write(target, { ...a, strides: [3, 1, NaN] }), TypeError, 'ERR_INVALID_ARG_TYPE', 'NaN stride');
  expectCode(() => write(target, { ...a, strides: [4, 1, 1] }), RegionError, 'ERR_OUT_BUFFER', 'strides past data');
  expectCode(() => write(target, { ...a, offset: 1 }), RegionError, 'ERR_OUT_BUFFER', 'offset past data');
  expectCode(() => write(target, { ...a, offset: -1 }), RangeError, 'ERR_OUT_OF_RANGE', 'negative offset');
  expectCode(() => write(target, { ...a, shape: [2 ** 40, 2 ** 40, 1], strides: [0, 0, 0] }), NdsamplerError, 'ERR_UNSUPPORTED', 'a broadcast array too large to write');
  assert.not.ok(fs.existsSync(target), 'nothing was written');

  const sub = path.join(dir, 'adir');
  fs.mkdirSync(sub);
  const e1 = expectCode(() => writeNpy(sub, a), FileError, 'ERR_NOT_A_FILE', 'a directory as the target');
  assert.is(e1.path, sub);
  assert.is(e1.errno, 21);
  assert.is(e1.syscall, 'rename');
  const e2 = expectCode(() => writeNpy(path.join(dir, 'no', 'such', 'x.npy'), a), FileError, 'ERR_SOURCE_MISSING', 'a missing directory');
  assert.is(e2.errno, 2);
  assert.is(e2.syscall, 'open');
  const e3 = expectCode(() => writeNpy(path.join(FILE, 'x.npy'), a), FileError, 'ERR_IO', 'a file as a directory');
  assert.is(e3.errno, 20);  // ENOTDIR
  // No temporary file is left behind by a failed write.
  assert.equal(leftoverTemps(dir), []);
  assert.equal(fs.readdirSync(sub), []);
});

// ---- the raw binding ------------------------------------------------------------------------

const REQ_OK = [0, 2, 0, 2, 0, 3, 0, 6, 3, 1, 2, 2];
function req(patch: Record<number, number> = {}, length = 12): Float64Array {
  const r = new Float64Array(length);
  for (let i = 0; i < Math.min(length, 12); i++) r[i] = REQ_OK[i];
  for (const [k, v] of Object.entries(patch)) r[Number(k)] = v;
  return r;
}

type RawReader = { readInto(...a: unknown[]): unknown; readIntoAsync(...a: unknown[]): unknown; info(...a: unknown[]): unknown; mapping(...a: unknown[]): unknown; close(): void };

test('raw binding: the NpyReader constructor refuses bad arguments', () => {
  const Ctor = native.NpyReader as unknown as new (...a: unknown[]) => RawReader;
  expectCode(() => new Ctor(42), TypeError, 'ERR_INVALID_ARG_TYPE', 'number path');
  expectCode(() => new Ctor(), TypeError, 'ERR_INVALID_ARG_TYPE', 'no path');
  expectCode(() => new Ctor(''), TypeError, 'ERR_INVALID_ARG_TYPE', 'empty path');
  expectCode(() => new Ctor(FILE + '\0x'), TypeError, 'ERR_INVALID_ARG_TYPE', 'NUL in path');
  expectCode(() => new Ctor({ toString: () => FILE }), TypeError, 'ERR_INVALID_ARG_TYPE', 'object path');
  try {
    (native.NpyReader as unknown as (...a: unknown[]) => unknown)(FILE);
    assert.unreachable('calling the class without new');
  } catch (err) {
    if (err instanceof assert.Assertion) throw err;
    assert.instance(err, TypeError);
  }
});

test('raw binding: readInto and readIntoAsync refuse bad destinations and requests', () => {
  const n = new native.NpyReader(FILE) as unknown as RawReader;
  const ok = new Uint8Array(12);
  n.readInto(ok, req());
  assert.equal(Array.from(ok), [0, 1, 2, 3, 4, 5, 48, 49, 50, 51, 52, 53]);
  const detached = new Uint8Array(12);
  structuredClone(detached.buffer, { transfer: [detached.buffer] });
  const cases: Array<[string, unknown[], abstract new (...a: never[]) => Error, string]> = [
    ['no arguments', [], TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['one argument', [ok], TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['a plain array destination', [[0, 0, 0], req()], TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['an ArrayBuffer destination', [new ArrayBuffer(12), req()], TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['a DataView destination', [new DataView(new ArrayBuffer(12)), req()], TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['a destination of another type', [new Float32Array(12), req()], TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['an Int8Array destination for uint8', [new Int8Array(12), req()], TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['a too-small destination', [new Uint8Array(11), req()], RegionError, 'ERR_OUT_BUFFER'],
    ['a detached destination', [detached, req()], RegionError, 'ERR_OUT_BUFFER'],
    ['a request of another type', [ok, new Float32Array(REQ_OK)], TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['a request as a plain array', [ok, REQ_OK], TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['a too-short request', [ok, req({}, 11)], TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['an empty request', [ok, new Float64Array(0)], TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['a NaN window', [ok, req({ 0: NaN })], RegionError, 'ERR_REGION'],
    ['a negative window', [ok, req({ 0: -1 })], RegionError, 'ERR_REGION'],
    ['a fractional window', [ok, req({ 1: 1.5 })], RegionError, 'ERR_REGION'],
    ['an inverted window', [ok, req({ 0: 2, 1: 0 })], RegionError, 'ERR_REGION'],
    ['rows past the image', [ok, req({ 0: 19, 1: 21 })], RegionError, 'ERR_REGION'],
    ['columns past the image', [ok, req({ 2: 15, 3: 17 })], RegionError, 'ERR_REGION'],
    ['channels past the image', [ok, req({ 5: 4 })], RegionError, 'ERR_REGION'],
    ['an infinite window', [ok, req({ 1: Infinity })], RegionError, 'ERR_REGION'],
    ['a NaN stride', [ok, req({ 7: NaN })], TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['a negative stride', [ok, req({ 8: -3 })], TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['a negative destination offset', [ok, req({ 6: -1 })], TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['strides writing past the end', [ok, req({ 7: 7 })], RegionError, 'ERR_OUT_BUFFER'],
    ['an offset writing past the end', [ok, req({ 6: 1 })], RegionError, 'ERR_OUT_BUFFER'],
    ['a huge stride', [ok, req({ 7: 2 ** 53 - 1 })], RegionError, 'ERR_OUT_BUFFER'],
    ['a stride past 2^53', [ok, req({ 7: 2 ** 60 })], TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['an output size unlike the window', [ok, req({ 10: 1 })], TypeError, 'ERR_INVALID_ARG_TYPE'],
  ];
  const { slot, slotGen } = (n as unknown as { info(): { slot: number; slotGen: number } }).info();
  const bySlot = (...args: unknown[]) => (native.npyReadInto as (...a: unknown[]) => void)(slot, slotGen, ...args);
  for (const [what, args, cls, code] of cases) {
    expectCode(() => n.readInto(...args), cls, code, `readInto: ${what}`);
    expectCode(() => n.readIntoAsync(...args), cls, code, `readIntoAsync: ${what}`);
    const proto = Object.getPrototypeOf(n) as RawReader;
    expectCode(() => proto.readInto.call(n, ...args), cls, code, `prototype readInto: ${what}`);
    expectCode(() => bySlot(...args), cls, code, `npyReadInto: ${what}`);
  }
  assert.equal(Array.from(ok), [0, 1, 2, 3, 4, 5, 48, 49, 50, 51, 52, 53], 'nothing was written by a refused call');
  // The slot arguments themselves: junk is a TypeError; a pair no open reader holds is ERR_CLOSED.
  const raw = native.npyReadInto as (...a: unknown[]) => void;
  for (const [what, s, g] of [['a string slot', '0', 0], ['a negative slot', -1, 0], ['a fractional gen', slot, 0.5],
    ['a slot past 2^31', 2 ** 31, 0], ['NaN', NaN, slotGen], ['no slot', undefined, undefined]] as Array<[string, unknown, unknown]>) {
    expectCode(() => raw(s, g, ok, req()), TypeError, 'ERR_INVALID_ARG_TYPE', `npyReadInto: ${what}`);
  }
  expectCode(() => raw(slot, slotGen + 1, ok, req()), ClosedError, 'ERR_CLOSED', 'npyReadInto: another generation');
  expectCode(() => raw(slot + 1000, 0, ok, req()), ClosedError, 'ERR_CLOSED', 'npyReadInto: an unused slot');
  n.close();
  expectCode(() => raw(slot, slotGen, ok, req()), ClosedError, 'ERR_CLOSED', 'npyReadInto after close');
});

test('a resizable ArrayBuffer: read and readAsync fill it; a small resident readAsync is done before a shrink', async () => {
  const r = openImage(FILE);
  // ES2024 (lib ES2022 here): new ArrayBuffer(length, { maxByteLength }).
  const Resizable = ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer & { resize(n: number): void };
  const buf = new Resizable(12, { maxByteLength: 1 << 16 });
  const data = new Uint8Array(buf);
  const out: NDArray = { data, shape: [2, 2, 3], strides: [6, 3, 1], offset: 0, dtype: 'uint8' };
  r.read([[0, 2], [0, 2]], { out });
  assert.equal(Array.from(data), [0, 1, 2, 3, 4, 5, 48, 49, 50, 51, 52, 53]);
  data.fill(0);
  await r.readAsync([[0, 2], [0, 2]], { out });
  assert.equal(Array.from(data), [0, 1, 2, 3, 4, 5, 48, 49, 50, 51, 52, 53]);
  // 12 resident bytes are copied inline, before readAsync returns (docs/concurrency.md, "Async
  // reads served inline"): the shrink comes too late to matter. A pool read shrunk in flight
  // rejects with ERR_OUT_BUFFER (test/buffers.test.ts, 512x512x3).
  data.fill(0);
  const pending = r.readAsync([[0, 2], [0, 2]], { out });
  assert.equal(Array.from(data), [0, 1, 2, 3, 4, 5, 48, 49, 50, 51, 52, 53]);
  buf.resize(4);
  await pending;
  // shrunk: the next read is refused by the same check as read()
  await expectCodeAsync(() => r.readAsync([[0, 2], [0, 2]], { out }), RegionError, 'ERR_OUT_BUFFER');
  r.close();
});

test('writeNpy: a description whose getter detaches the data is refused, not read', () => {
  const data = new Uint8Array(12).fill(7);
  const desc = {
    shape: [2, 2, 3], strides: [6, 3, 1], offset: 0, ndim: 3,
    get dtype() {
      structuredClone(data.buffer, { transfer: [data.buffer] });
      return 'uint8';
    },
  };
  const target = path.join(dir, 'detached.npy');
  expectCode(() => (native.writeNpy as unknown as (...a: unknown[]) => void)(target, data, desc), RegionError, 'ERR_OUT_BUFFER');
  assert.not.ok(fs.existsSync(target));
});

test('raw binding: methods called on the wrong receiver throw', () => {
  const proto = (native.NpyReader as unknown as { prototype: RawReader }).prototype;
  for (const name of ['info', 'readInto', 'readIntoAsync', 'mapping', 'close'] as const) {
    for (const self of [{}, null, undefined, 42, proto]) {
      try {
        (proto[name] as (...a: unknown[]) => unknown).call(self, new Uint8Array(12), req());
        assert.unreachable(`${name} on ${String(self)}`);
      } catch (err) {
        if (err instanceof assert.Assertion) throw err;
        assert.instance(err, Error, `${name} on ${String(self)}`);
      }
    }
  }
});

test('raw binding: writeNpy refuses bad arguments and descriptions', async () => {
  const raw = native.writeNpy as unknown as (...a: unknown[]) => void;
  const target = path.join(dir, 'raw.npy');
  const data = new Uint16Array(12);
  const desc: NpyArrayDesc = { shape: [2, 2, 3], strides: [6, 3, 1], offset: 0, dtype: 'uint16', ndim: 3 };
  const cases: Array<[string, unknown[], abstract new (...a: never[]) => Error, string]> = [
    ['no arguments', [], TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['a number path', [1, data, desc], TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['an empty path', ['', data, desc], TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['a NUL in the path', ['a\0b', data, desc], TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['plain array data', [target, [1, 2], desc], TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['no desc', [target, data], TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['a desc without dtype', [target, data, { ...desc, dtype: undefined }], TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['an unknown dtype', [target, data, { ...desc, dtype: 'int64' }], TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['a dtype unlike the data', [target, data, { ...desc, dtype: 'int16' }], TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['a desc without shape', [target, data, { ...desc, shape: undefined }], TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['a 2-entry shape', [target, data, { ...desc, shape: [2, 6] }], TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['a NaN in the shape', [target, data, { ...desc, shape: [2, NaN, 3] }], TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['a string in the strides', [target, data, { ...desc, strides: [6, '3', 1] }], TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['a negative stride', [target, data, { ...desc, strides: [6, -3, 1] }], TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['a fractional offset', [target, data, { ...desc, offset: 0.5 }], TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['ndim 4', [target, data, { ...desc, ndim: 4 }], TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['ndim 2 with 3 channels', [target, data, { ...desc, ndim: 2 }], TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['strides past the data', [target, data, { ...desc, strides: [6, 3, 2] }], RegionError, 'ERR_OUT_BUFFER'],
    ['an offset past the data', [target, data, { ...desc, offset: 1 }], RegionError, 'ERR_OUT_BUFFER'],
    ['a huge stride', [target, data, { ...desc, strides: [2 ** 53 - 1, 3, 1] }], RegionError, 'ERR_OUT_BUFFER'],
    ['a huge broadcast shape', [target, data, { ...desc, shape: [2 ** 52, 2 ** 52, 3], strides: [0, 0, 1] }], NdsamplerError, 'ERR_UNSUPPORTED'],
  ];
  for (const [what, args, cls, code] of cases) expectCode(() => raw(...args), cls, code, `writeNpy: ${what}`);
  assert.not.ok(fs.existsSync(target));
  raw(target, data, { ...desc, shape: [2, 2, 1], ndim: 2 });
  const back = openImage(target);
  assert.equal(back.shape, [2, 2, 1]);
  back.close();
});

test.after(() => rmrf(dir));

test.run();
