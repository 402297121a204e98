/**
 * Bad inputs to the raster side give coded errors, never crashes: bad files, bad destinations,
 * bad configs, wrong direct calls of the raw binding, and an invalid-input suite per public
 * function (openImage for rasters, read, readAsync, writeCog, writeCogAsync, isCog, ...).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import gdal = require('gdal-async');
import {
  openImage, writeCog, writeCogAsync, isCog, convertToNpy, writeRaster, setTileCacheBudget, setMaxOpenDatasets,
  NdsamplerError, FileError, GdalError, BackendConfigError, RegionError, ClosedError, allocate,
} from '../lib/index';
import { native, REQ } from '../lib/native';
import { pattern, writeSource } from './_raster-fixtures';
import { expectCode, expectCodeAsync } from './_helpers/errors';
import type { ErrorClass } from './_helpers/errors';
import { leftoverTemps, tempDir } from './_helpers/tmp';

const { dir, cleanup } = tempDir('raster-invalid');
const good = writeSource(path.join(dir, 'good.tif'), pattern(40, 50, 3, 'uint8'), 40, 50, 3, 'uint8');
const goodCog = path.join(dir, 'good-cog.tif');
writeCog(good, goodCog, { blocksize: 128 });


// ---- bad files -------------------------------------------------------------------------------

test('a missing file is ERR_SOURCE_MISSING with its path', () => {
  const missing = path.join(dir, 'missing.tif');
  const e = expectCode(() => openImage(missing), FileError, 'ERR_SOURCE_MISSING') as FileError;
  assert.is(e.path, missing);
  expectCode(() => isCog(missing), FileError, 'ERR_SOURCE_MISSING');
  expectCode(() => writeCog(missing, path.join(dir, 'o.tif')), FileError, 'ERR_SOURCE_MISSING');
  expectCode(() => convertToNpy(missing, path.join(dir, 'o.npy')), FileError, 'ERR_SOURCE_MISSING');
});

test('a directory is ERR_NOT_A_FILE', () => {
  expectCode(() => openImage(dir), FileError, 'ERR_NOT_A_FILE');
  expectCode(() => isCog(dir), FileError, 'ERR_NOT_A_FILE');
  expectCode(() => writeCog(dir, path.join(dir, 'o.tif')), FileError, 'ERR_NOT_A_FILE');
});

test('a zero-byte file and a text file named .tif are ERR_GDAL_OPEN', () => {
  const empty = path.join(dir, 'empty.tif');
  fs.writeFileSync(empty, '');
  const e = expectCode(() => openImage(empty), GdalError, 'ERR_GDAL_OPEN') as GdalError;
  assert.is(e.path, empty);
  assert.not.match(e.message, /CPLE|\b\d{1,2}\b: /, 'no raw CPLE numbers');
  const text = path.join(dir, 'notes.tif');
  fs.writeFileSync(text, 'these are my notes, not an image\n'.repeat(20));
  expectCode(() => openImage(text), GdalError, 'ERR_GDAL_OPEN');
  expectCode(() => writeCog(text, path.join(dir, 'o.tif')), GdalError, 'ERR_GDAL_OPEN');
  assert.is(isCog(text), false);
  assert.is(isCog(empty), false);
});

test('a truncated PNG fails with a GDAL error when opened or read, never a crash', () => {
  const png = writeSource(path.join(dir, 'whole.png'), pattern(200, 200, 3, 'uint8'), 200, 200, 3, 'uint8', { driver: 'PNG' });
  const bytes = fs.readFileSync(png);
  const cut = path.join(dir, 'cut.png');
  fs.writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
  let code = '';
  try {
    const r = openImage(cut);
    r.read();
    assert.unreachable('reading a truncated PNG');
  } catch (err) {
    assert.instance(err, GdalError);
    code = (err as GdalError).code;
  }
  assert.ok(code === 'ERR_GDAL_READ' || code === 'ERR_GDAL_OPEN', code);
  const head = path.join(dir, 'head.png');
  fs.writeFileSync(head, bytes.subarray(0, 20));
  expectCode(() => openImage(head), GdalError, 'ERR_GDAL_OPEN');
  if (code === 'ERR_GDAL_READ') {
    // 'auto' samples the source first (a read error); without sampling the COG driver fails
    expectCode(() => writeCog(cut, path.join(dir, 'cut.tif')), GdalError, 'ERR_GDAL_READ');
    expectCode(() => writeCog(cut, path.join(dir, 'cut.tif'), { compress: 'NONE' }), GdalError, 'ERR_GDAL_WRITE');
  } else {
    expectCode(() => writeCog(cut, path.join(dir, 'cut.tif')), GdalError, 'ERR_GDAL_OPEN');
  }
  assert.not.ok(fs.existsSync(path.join(dir, 'cut.tif')));
  assert.equal(fs.readdirSync(dir).filter((f) => f.startsWith('.cut.tif')), [], 'no temporaries left');
});

test('unsupported rasters: mixed band types and complex data are ERR_GDAL_UNSUPPORTED', () => {
  const a = writeSource(path.join(dir, 'a-u8.tif'), pattern(10, 10, 1, 'uint8'), 10, 10, 1, 'uint8');
  const b = writeSource(path.join(dir, 'b-f32.tif'), pattern(10, 10, 1, 'float32'), 10, 10, 1, 'float32');
  const vrt = path.join(dir, 'mixed.vrt');
  const band = (n: number, type: string, file: string) =>
    `<VRTRasterBand dataType="${type}" band="${n}"><SimpleSource><SourceFilename relativeToVRT="0">${file}</SourceFilename>` +
    `<SourceBand>1</SourceBand></SimpleSource></VRTRasterBand>`;
  fs.writeFileSync(vrt, `<VRTDataset rasterXSize="10" rasterYSize="10">${band(1, 'Byte', a)}${band(2, 'Float32', b)}</VRTDataset>`);
  expectCode(() => openImage(vrt), GdalError, 'ERR_GDAL_UNSUPPORTED');
  expectCode(() => writeCog(vrt, path.join(dir, 'mixed.tif')), GdalError, 'ERR_GDAL_UNSUPPORTED');
  const cplx = path.join(dir, 'complex.tif');
  gdal.open(cplx, 'w', 'GTiff', 8, 8, 1, gdal.GDT_CInt16).close();
  expectCode(() => openImage(cplx), GdalError, 'ERR_GDAL_UNSUPPORTED');
});

test('unwritable destinations are coded errors and leave nothing behind', () => {
  expectCode(() => writeCog(good, path.join(dir, 'no', 'such', 'dir', 'o.tif')), FileError, 'ERR_IO');
  const file = path.join(dir, 'plain.txt');
  fs.writeFileSync(file, 'x');
  const e = expectCode(() => writeCog(good, path.join(file, 'o.tif')), FileError, 'ERR_IO') as FileError;
  assert.is(e.syscall, 'access');
  expectCode(() => writeCog(good, dir), FileError, 'ERR_NOT_A_FILE');
  expectCode(() => convertToNpy(good, path.join(dir, 'missing-dir', 'o.npy')), FileError, 'ERR_IO');
  expectCode(() => writeRaster(path.join(dir, 'nodir', 'x.png'), allocate([2, 2, 1], 'uint8')), FileError, 'ERR_IO');
});

test('unknown compress and bad config values are ERR_BACKEND_CONFIG', async () => {
  expectCode(() => writeCog(good, path.join(dir, 'x.tif'), { compress: 'GZIP' }), BackendConfigError, 'ERR_BACKEND_CONFIG');
  expectCode(() => writeCog(good, path.join(dir, 'x.tif'), { blocksize: 0 }), BackendConfigError, 'ERR_BACKEND_CONFIG');
  await expectCodeAsync(() => writeCogAsync(good, path.join(dir, 'x.tif'), { typo: true }), BackendConfigError, 'ERR_BACKEND_CONFIG');
  assert.not.ok(fs.existsSync(path.join(dir, 'x.tif')));
});

// ---- the raw binding, called wrongly ----------------------------------------------------------

test('raw RasterReader constructor with bad arguments throws TypeError', () => {
  const Ctor = native.RasterReader as unknown as new (...a: unknown[]) => unknown;
  for (const args of [[], [123], [{}], ['', { maxHandles: 1 }], [good, 5], [good, { maxHandles: 0 }],
    [good, { maxHandles: 1.5 }], [good, { maxHandles: '2' }], ['a\0b']]) {
    expectCode(() => new Ctor(...args), TypeError, 'ERR_INVALID_ARG_TYPE');
  }
  try {
    (native.RasterReader as unknown as (p: string) => unknown)(good);
    assert.unreachable('called without new');
  } catch (err) {
    assert.instance(err, TypeError);
  }
  expectCode(() => new Ctor(path.join(dir, 'nope.tif'), { maxHandles: 1 }), FileError, 'ERR_SOURCE_MISSING');
});

test('raw readInto / readIntoAsync with bad destinations or requests throw, never crash', () => {
  const r = new native.RasterReader(goodCog, { maxHandles: 1 });
  const req = (vals: number[]) => Float64Array.from(vals);
  const ok = [0, 10, 0, 10, 0, 3, 0, 30, 3, 1, 10, 10];
  r.readInto(new Uint8Array(300), req(ok));
  const call = (dst: unknown, rq: unknown) => (r.readInto as (a: unknown, b: unknown) => void)(dst, rq);
  const callAsync = (dst: unknown, rq: unknown) => (r.readIntoAsync as (a: unknown, b: unknown) => unknown)(dst, rq);
  expectCode(() => (r.readInto as () => void)(), TypeError, 'ERR_INVALID_ARG_TYPE');
  expectCode(() => call(new Uint8Array(299), req(ok)), NdsamplerError, 'ERR_OUT_BUFFER');
  expectCode(() => call(new Uint16Array(300), req(ok)), TypeError, 'ERR_INVALID_ARG_TYPE');
  expectCode(() => call([1, 2, 3], req(ok)), TypeError, 'ERR_INVALID_ARG_TYPE');
  expectCode(() => call(new Uint8Array(300), new Float32Array(12)), TypeError, 'ERR_INVALID_ARG_TYPE');
  expectCode(() => call(new Uint8Array(300), req(ok.slice(0, 11))), TypeError, 'ERR_INVALID_ARG_TYPE');
  expectCode(() => call(new Uint8Array(300), ok), TypeError, 'ERR_INVALID_ARG_TYPE');
  const bad: Array<[number, number, string]> = [
    [REQ.Y1, 41, 'ERR_REGION'], [REQ.X0, -1, 'ERR_REGION'], [REQ.Y0, 0.5, 'ERR_REGION'], [REQ.C1, 4, 'ERR_REGION'],
    [REQ.Y1, NaN, 'ERR_REGION'], [REQ.DST_OFFSET, -3, 'ERR_INVALID_ARG_TYPE'], [REQ.DST_SY, Infinity, 'ERR_INVALID_ARG_TYPE'],
    [REQ.OUT_H, 11, 'ERR_INVALID_ARG_TYPE'], [REQ.OUT_W, 0, 'ERR_INVALID_ARG_TYPE'], [REQ.DST_OFFSET, 1, 'ERR_OUT_BUFFER'],
    [REQ.DST_SY, 31, 'ERR_OUT_BUFFER'],
  ];
  for (const [k, val, code] of bad) {
    const rq = ok.slice();
    rq[k] = val;
    expectCode(() => call(new Uint8Array(300), req(rq)), code === 'ERR_INVALID_ARG_TYPE' ? TypeError : NdsamplerError, code);
    expectCode(() => callAsync(new Uint8Array(300), req(rq)), code === 'ERR_INVALID_ARG_TYPE' ? TypeError : NdsamplerError, code);
  }
  r.close();
  r.close();
  expectCode(() => call(new Uint8Array(300), req(ok)), ClosedError, 'ERR_CLOSED');
  expectCode(() => r.info(), ClosedError, 'ERR_CLOSED');
});

test('raw module functions with bad arguments throw TypeError', () => {
  const n = native as unknown as Record<string, (...a: unknown[]) => unknown>;
  const opts = { compress: 'AUTO', blocksize: 256, overviews: 'AUTO', overviewCount: 0, resampling: 'AUTO', level: -1, quality: -1, predictor: 'AUTO', numThreads: 1 };
  const cases: Array<[string, unknown[]]> = [
    ['writeCog', []], ['writeCog', [good]], ['writeCog', [good, path.join(dir, 'r.tif')]],
    ['writeCog', [good, path.join(dir, 'r.tif'), { ...opts, blocksize: 'big' }]],
    ['writeCog', [good, path.join(dir, 'r.tif'), { ...opts, compress: 'LZW -co X=1' }]],
    ['writeCog', [good, path.join(dir, 'r.tif'), { ...opts, level: 99 }]],
    ['writeCogAsync', [good, 5, opts]], ['convertToNpy', [good]], ['convertToNpyAsync', [1, 2]], ['isCog', [42]],
    ['setTileCacheBudget', [-1]], ['setTileCacheBudget', ['1']], ['setMaxOpenDatasets', [0]], ['hasDriver', []],
    ['writeRaster', [path.join(dir, 'w.png')]],
    ['writeRaster', [path.join(dir, 'w.png'), new Uint8Array(4), { shape: [2, 2, 1], strides: [2, 1, 1], offset: 0, dtype: 'uint16' }, 'PNG', []]],
    ['writeRaster', [path.join(dir, 'w.png'), new Uint8Array(4), { shape: [2, 2], strides: [2, 1, 1], offset: 0, dtype: 'uint8' }, 'PNG', []]],
    ['writeRaster', [path.join(dir, 'w.png'), new Uint8Array(4), { shape: [2, 2, 1], strides: [2, 1, 1], offset: 0, dtype: 'uint8' }, 'PNG', [5]]],
  ];
  for (const [fn, args] of cases) {
    expectCode(() => n[fn](...args), TypeError, 'ERR_INVALID_ARG_TYPE');
  }
  expectCode(() => n.writeRaster(path.join(dir, 'w.png'), new Uint8Array(3), { shape: [2, 2, 1], strides: [2, 1, 1], offset: 0, dtype: 'uint8' }, 'PNG', []), NdsamplerError, 'ERR_OUT_BUFFER');
  expectCode(() => n.writeRaster(path.join(dir, 'w.xyz'), new Uint8Array(4), { shape: [2, 2, 1], strides: [2, 1, 1], offset: 0, dtype: 'uint8' }, 'NoSuchDriver', []), GdalError, 'ERR_GDAL_UNSUPPORTED');
  assert.is(native.hasDriver('GTiff'), true);
  assert.is(native.hasDriver('NoSuchDriver'), false);
  assert.match(native.gdalVersion(), /^\d+\.\d+/);
});

// ---- invalid-input suites per public function ------------------------------------------------

test('openImage (rasters): invalid inputs', () => {
  expectCode(() => openImage(42 as unknown as string), TypeError, 'ERR_INVALID_ARG_TYPE');
  expectCode(() => openImage(''), TypeError, 'ERR_INVALID_ARG_TYPE');
  expectCode(() => openImage(good, { kind: 'jpeg' as 'raster' }), TypeError, 'ERR_INVALID_ARG_TYPE');
  expectCode(() => openImage(good, { mode: 'r' } as unknown as { kind: 'raster' }), TypeError, 'ERR_INVALID_ARG_TYPE');
  expectCode(() => openImage(path.join(dir, 'nope.png')), FileError, 'ERR_SOURCE_MISSING');
});

test('read: invalid inputs', () => {
  const r = openImage(goodCog);
  expectCode(() => r.read(5 as never), RegionError, 'ERR_REGION');
  expectCode(() => r.read([[0, 10, 2]] as never), RegionError, 'ERR_REGION_STEP');
  expectCode(() => r.read([5 as never]), RegionError, 'ERR_REGION');
  expectCode(() => r.read([[0, 'a' as never]]), TypeError, 'ERR_INVALID_ARG_TYPE');
  expectCode(() => r.read(null, { scale: 0 }), RangeError, 'ERR_OUT_OF_RANGE');
  expectCode(() => r.read(null, { scale: 1.5 }), RangeError, 'ERR_OUT_OF_RANGE');
  expectCode(() => r.read(null, { layout: 'hcw' as 'hwc' }), TypeError, 'ERR_INVALID_ARG_TYPE');
  expectCode(() => r.read(null, { fill: 'x' as unknown as number }), TypeError, 'ERR_INVALID_ARG_TYPE');
  expectCode(() => r.read(null, { bogus: 1 } as never), TypeError, 'ERR_INVALID_ARG_TYPE');
  expectCode(() => r.read([[0, 10], [0, 10]], { out: allocate([10, 10, 3], 'float32') }), RegionError, 'ERR_OUT_BUFFER');
  expectCode(() => r.read([[0, 10], [0, 10]], { out: allocate([10, 9, 3], 'uint8') }), RegionError, 'ERR_OUT_BUFFER');
  expectCode(() => r.read([[0, 10], [0, 10]], { out: { data: new Uint8Array(10), shape: [10, 10, 3] } as never }), NdsamplerError, 'ERR_OUT_BUFFER');
  r.close();
  expectCode(() => r.read(), ClosedError, 'ERR_CLOSED');
});

test('readAsync: invalid inputs reject (or throw the same codes)', async () => {
  const r = openImage(goodCog);
  for (const [fn, code, cls] of [
    [() => r.readAsync(5 as never), 'ERR_REGION', RegionError],
    [() => r.readAsync([[0, 10, 2]] as never), 'ERR_REGION_STEP', RegionError],
    [() => r.readAsync(null, { scale: 0 }), 'ERR_OUT_OF_RANGE', RangeError],
    [() => r.readAsync([[0, 10], [0, 10]], { out: allocate([10, 9, 3], 'uint8') }), 'ERR_OUT_BUFFER', RegionError],
  ] as Array<[() => Promise<unknown>, string, ErrorClass]>) {
    try {
      await fn();
      assert.unreachable(code);
    } catch (err) {
      assert.instance(err, cls);
      assert.is((err as { code: string }).code, code);
    }
  }
  r.close();
  try {
    await r.readAsync();
    assert.unreachable('closed');
  } catch (err) {
    assert.is((err as { code: string }).code, 'ERR_CLOSED');
  }
});

test('writeCog / writeCogAsync / isCog / convertToNpy / writeRaster: invalid inputs', async () => {
  expectCode(() => writeCog(1 as unknown as string, 'x.tif'), TypeError, 'ERR_INVALID_ARG_TYPE');
  expectCode(() => writeCog(good, null as unknown as string), TypeError, 'ERR_INVALID_ARG_TYPE');
  expectCode(() => writeCog(good, path.join(dir, 'y.tif'), { compress: 'NONE', level: 5 }), BackendConfigError, 'ERR_BACKEND_CONFIG');
  await expectCodeAsync(() => writeCogAsync(1 as unknown as string, 'x.tif'), TypeError, 'ERR_INVALID_ARG_TYPE');
  await expectCodeAsync(() => writeCogAsync(path.join(dir, 'nope.tif'), path.join(dir, 'z.tif')), FileError, 'ERR_SOURCE_MISSING');
  await expectCodeAsync(() => writeCogAsync(dir, path.join(dir, 'z.tif')), FileError, 'ERR_NOT_A_FILE');
  const u16 = writeSource(path.join(dir, 'u16.tif'), pattern(10, 10, 3, 'uint16'), 10, 10, 3, 'uint16');
  await expectCodeAsync(() => writeCogAsync(u16, path.join(dir, 'z.tif'), { compress: 'WEBP' }), GdalError, 'ERR_GDAL_UNSUPPORTED');
  assert.not.ok(fs.existsSync(path.join(dir, 'z.tif')));
  expectCode(() => isCog(undefined as unknown as string), TypeError, 'ERR_INVALID_ARG_TYPE');
  expectCode(() => convertToNpy(good, 3 as unknown as string), TypeError, 'ERR_INVALID_ARG_TYPE');
  expectCode(() => writeRaster(path.join(dir, 'a.bmpx'), allocate([2, 2, 1], 'uint8')), TypeError, 'ERR_INVALID_ARG_TYPE');
  expectCode(() => writeRaster(path.join(dir, 'a.png'), { data: [1, 2] } as never), TypeError, 'ERR_INVALID_ARG_TYPE');
  expectCode(() => writeRaster(path.join(dir, 'a.png'), allocate([2, 2, 1], 'float64')), GdalError, 'ERR_GDAL_UNSUPPORTED');
  expectCode(() => setTileCacheBudget(-5), RangeError, 'ERR_OUT_OF_RANGE');
  expectCode(() => setMaxOpenDatasets(0), RangeError, 'ERR_OUT_OF_RANGE');
  assert.equal(leftoverTemps(dir), [], 'no temporaries left');
});

test.after(cleanup);
test.run();
