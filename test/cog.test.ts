/**
 * COG writing and detection: every COG we write passes GDAL's validator, isCog agrees with the
 * validator on COGs and non-COGs, the config is checked (ERR_BACKEND_CONFIG), 'auto' is
 * lossless except for JPEG sources, writes are atomic, and convertToNpy equals GDAL's decode.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import gdal = require('gdal-async');
import {
  openImage, writeCog, writeCogAsync, isCog, coerceCogConfig, COG_CONFIG_DEFAULTS, convertToNpy,
  convertToNpyAsync, cogCompressions, BackendConfigError, NdsamplerError, RasterReader,
} from '../lib/index';
import type { DType, NDArray, TypedArray } from '../lib/index';
import { TYPED_ARRAY } from '../lib/ndarray';
import { crop, firstDiff, gdalRead, hwc, pattern, PYTHON, smooth, VALIDATOR, writeSource } from './_raster-fixtures';
import { expectCode } from './_helpers/errors';
import { tempDir } from './_helpers/tmp';

const { dir, cleanup } = tempDir('cog');
const H = 200;
const W = 300;
const written: string[] = [];   // every COG this file writes, for the validator test at the end

function cog(src: string, name: string, config?: Record<string, unknown>): string {
  const dst = path.join(dir, name);
  writeCog(src, dst, config);
  written.push(dst);
  return dst;
}

function eq(got: NDArray, want: ArrayLike<number>, what: string): void {
  const d = firstDiff(hwc(got), want);
  assert.is(d, -1, `${what}: first difference at element ${d}`);
}


const haveValidator = fs.existsSync(PYTHON) && fs.existsSync(VALIDATOR) &&
  spawnSync(PYTHON, ['-c', 'from osgeo import gdal'], { stdio: 'ignore' }).status === 0;
/** The validator's verdict: true when it accepts the file as a COG. */
function validatorSays(file: string): boolean {
  const r = spawnSync(PYTHON, [VALIDATOR, '-q', file], { encoding: 'utf8' });
  return r.status === 0;
}
const validatorTest = haveValidator ? test : test.skip;
if (!haveValidator) {
  process.stdout.write(`SKIP validator tests: ${PYTHON} with osgeo and ${VALIDATOR} are needed (apt-get install python3-gdal)\n`);
}

const rgb = pattern(H, W, 3, 'uint8', 41);
const srcTif = writeSource(path.join(dir, 'src.tif'), rgb, H, W, 3, 'uint8');
const srcPng = writeSource(path.join(dir, 'src.png'), rgb, H, W, 3, 'uint8', { driver: 'PNG' });
const srcJpg = writeSource(path.join(dir, 'src.jpg'), smooth(H, W, 3), H, W, 3, 'uint8', { driver: 'JPEG' });

test('COG_CONFIG_DEFAULTS and coerceCogConfig', () => {
  assert.equal({ ...COG_CONFIG_DEFAULTS }, {
    compress: 'auto', blocksize: 256, overviews: 'auto', resampling: 'auto', level: null, quality: null,
    predictor: 'auto', numThreads: 'ALL_CPUS',
  });
  assert.ok(Object.isFrozen(COG_CONFIG_DEFAULTS));
  assert.equal(coerceCogConfig(), { ...COG_CONFIG_DEFAULTS });
  assert.equal(coerceCogConfig(null), { ...COG_CONFIG_DEFAULTS });
  const c = coerceCogConfig({ compress: 'lzw', predictor: 2, overviews: 3, numThreads: 2, resampling: 'average' });
  assert.is(c.compress, 'LZW');
  assert.is(c.predictor, 'STANDARD');
  assert.is(c.overviews, 3);
  assert.is(c.resampling, 'AVERAGE');
  assert.is(coerceCogConfig({ compress: 'ZSTD', level: 3 }).level, 3);
  assert.is(coerceCogConfig({ compress: 'JPEG', quality: 80 }).quality, 80);
  for (const name of ['NONE', 'LZW', 'DEFLATE', 'ZSTD', 'JPEG']) assert.ok(cogCompressions().includes(name), name);
});

test('config errors are BackendConfigError ERR_BACKEND_CONFIG naming the key', () => {
  const e = expectCode(() => coerceCogConfig({ compress: 'LZW', bogus: 1 }), BackendConfigError, 'ERR_BACKEND_CONFIG');
  assert.match(e.message, 'bogus');
  assert.is((e as unknown as { key: string }).key, 'bogus');
  const bad: Array<[string, Record<string, unknown>]> = [
    ['compress', { compress: 'FOO' }], ['compress', { compress: 7 }], ['blocksize', { blocksize: 100 }],
    ['blocksize', { blocksize: '256' }], ['blocksize', { blocksize: 8192 }], ['overviews', { overviews: -1 }],
    ['overviews', { overviews: 'some' }], ['level', { compress: 'ZSTD', level: 99 }], ['level', { compress: 'NONE', level: 3 }],
    ['quality', { compress: 'JPEG', quality: 0 }], ['quality', { compress: 'LZW', quality: 90 }],
    ['predictor', { predictor: 'SOMETIMES' }], ['numThreads', { numThreads: 0 }], ['numThreads', { numThreads: 1.5 }],
    ['resampling', { resampling: 'BOGUS' }],
  ];
  for (const [key, cfg] of bad) {
    const err = expectCode(() => coerceCogConfig(cfg), BackendConfigError, 'ERR_BACKEND_CONFIG');
    assert.match(err.message, key, `${JSON.stringify(cfg)} names ${key}`);
  }
  expectCode(() => coerceCogConfig('LZW' as unknown as Record<string, unknown>), BackendConfigError, 'ERR_BACKEND_CONFIG');
  const dst = path.join(dir, 'never.tif');
  expectCode(() => writeCog(srcTif, dst, { compres: 'LZW' }), BackendConfigError, 'ERR_BACKEND_CONFIG');
  assert.not.ok(fs.existsSync(dst));
});

test("'auto' is exact for every source: lossless ZSTD for PNG, TIFF and JPEG sources", () => {
  for (const src of [srcPng, srcTif]) {
    const out = cog(src, `auto-${path.extname(src).slice(1)}.tif`, { blocksize: 128 });
    const r = openImage(out) as RasterReader;
    assert.is(r.info.compression, 'ZSTD');
    eq(r.read(), rgb, `auto from ${path.basename(src)}`);
    r.close();
  }
  for (const dtype of ['int16', 'float32', 'float64'] as DType[]) {
    const data = pattern(H, W, 2, dtype, 43);
    const src = writeSource(path.join(dir, `auto-${dtype}.tif`), data, H, W, 2, dtype);
    const r = openImage(cog(src, `auto-${dtype}-cog.tif`, { blocksize: 128 }));
    eq(r.read(), data, `auto ${dtype} is lossless`);
    r.close();
  }
  // continuous-tone data get the predictor (2 for integers, 3 for floats); label-like data none
  const photo = openImage(cog(srcTif, 'auto-photo.tif')) as RasterReader;
  assert.is(photo.info.predictor, 2);
  photo.close();
  const fl = writeSource(path.join(dir, 'auto-fl.tif'), pattern(H, W, 1, 'float32', 44), H, W, 1, 'float32');
  const rf = openImage(cog(fl, 'auto-fl-cog.tif')) as RasterReader;
  assert.is(rf.info.predictor, 3);
  rf.close();
  const lab = new Uint16Array(H * W).map((_, i) => Math.floor((i % W) / 40) + 10 * Math.floor(i / W / 50));
  const labSrc = writeSource(path.join(dir, 'auto-lab.png'), lab, H, W, 1, 'uint16', { driver: 'PNG' });
  const rl0 = openImage(cog(labSrc, 'auto-lab.tif', { blocksize: 128 })) as RasterReader;
  assert.is(rl0.info.compression, 'ZSTD');
  assert.is(rl0.info.predictor, 0);
  eq(rl0.read(), lab, 'auto label image is lossless');
  rl0.close();
  const explicit = openImage(cog(labSrc, 'lab-pred.tif', { compress: 'DEFLATE', predictor: 'STANDARD' })) as RasterReader;
  assert.is(explicit.info.predictor, 2);
  explicit.close();
  // JPEG sources too: 'auto' is exact against the JPEG's own decode, gray and RGB, one tile or many.
  const gray = writeSource(path.join(dir, 'gray.jpg'), smooth(H, W, 1), H, W, 1, 'uint8', { driver: 'JPEG' });
  const small = writeSource(path.join(dir, 'small.jpg'), smooth(96, 112, 3), 96, 112, 3, 'uint8', { driver: 'JPEG' });
  for (const [src, h, w] of [[srcJpg, H, W], [gray, H, W], [small, 96, 112]] as const) {
    const rj = openImage(cog(src, `auto-${path.basename(src)}.tif`, { blocksize: 128 })) as RasterReader;
    assert.is(rj.info.compression, 'ZSTD');
    eq(rj.read(), gdalRead(src, 0, h, 0, w), `'auto' from ${path.basename(src)} equals the JPEG's own decode`);
    rj.close();
  }
  const rl = openImage(cog(srcJpg, 'jpg-lossless.tif', { compress: 'DEFLATE', blocksize: 128 }));
  eq(rl.read(), gdalRead(srcJpg, 0, H, 0, W), 'explicit lossless codec from a JPEG source');
  rl.close();
});

test('overviews: none, a count, and auto; resampling rule', () => {
  const S = 1024;
  const labels = new Int32Array(S * S);
  for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) labels[y * S + x] = ((y >> 5) * 7 + (x >> 6) * 3) % 11 - 5;
  const src = writeSource(path.join(dir, 'labels.tif'), labels, S, S, 1, 'int32');
  const none = openImage(cog(src, 'ovr-none.tif', { overviews: 'none' })) as RasterReader;
  assert.equal(none.info.overviews, []);
  none.close();
  const two = openImage(cog(src, 'ovr-two.tif', { overviews: 2 })) as RasterReader;
  assert.equal(two.info.overviews, [[512, 512], [256, 256]]);
  two.close();
  const auto = openImage(cog(src, 'ovr-auto.tif')) as RasterReader;
  assert.ok(auto.info.overviews.length >= 2, 'auto makes overviews for a 1024^2 image with 256 blocks');
  const values = new Set(labels);
  const ov = auto.read(null, { scale: 0.25 });
  for (const v of ov.data) assert.ok(values.has(v), `overview value ${v} is a label (nearest)`);
  auto.close();
  const fdata = new Float32Array(S * S).map((_, i) => (i % S) + Math.floor(i / S) * 0.5);
  const fsrc = writeSource(path.join(dir, 'float.tif'), fdata, S, S, 1, 'float32');
  const fr = openImage(cog(fsrc, 'float-cog.tif', { overviews: 1 }));
  const half = fr.read([[0, 4], [0, 4]], { scale: 0.5 });
  // AVERAGE: the mean of each 2x2 block
  assert.is(half.data[0], (0 + 1 + 0.5 + 1.5) / 4);
  fr.close();
});

test('an input COG is detected, isCog is read-only, and writing it again keeps its pixels', () => {
  const c = cog(srcTif, 'detect.tif', { blocksize: 128 });
  const before = fs.statSync(c);
  const bytes = fs.readFileSync(c);
  assert.ok(isCog(c));
  const r = openImage(c);
  assert.ok(r.isCog);
  r.read([[0, 50], [0, 50]]);
  r.close();
  const after = fs.statSync(c);
  assert.is(after.mtimeMs, before.mtimeMs);
  assert.ok(fs.readFileSync(c).equals(bytes), 'file unchanged');
  assert.not.ok(fs.existsSync(c + '.aux.xml'));
  const again = cog(c, 'detect-again.tif', { blocksize: 128 });
  const r2 = openImage(again);
  eq(r2.read(), rgb, 'COG source rewritten');
  r2.close();
});

validatorTest('isCog agrees with GDAL\'s validator on COGs and non-COGs', () => {
  const cases: Array<[string, boolean]> = [];
  cases.push([cog(srcPng, 'v-ours.tif'), true]);
  const big = pattern(1100, 1100, 1, 'uint8', 47);
  const bigStrip = writeSource(path.join(dir, 'v-strip.tif'), big, 1100, 1100, 1, 'uint8');
  cases.push([bigStrip, false]);
  // Small striped TIFFs are COGs by the validator's rules (it only rejects untiled images wider
  // than 1024 pixels, and images up to 512x512 whatever their layout): reused as they are.
  cases.push([srcTif, true]);
  cases.push([writeSource(path.join(dir, 'v-small-strip.tif'), pattern(300, 500, 3, 'uint8', 48), 300, 500, 3, 'uint8'), true]);
  cases.push([writeSource(path.join(dir, 'v-narrow-strip.tif'), pattern(1100, 1000, 1, 'uint8', 49), 1100, 1000, 1, 'uint8'), true]);
  const gt = path.join(dir, 'v-gdal-translate.tif');
  gdal.translate(gt, gdal.open(bigStrip), ['-of', 'COG', '-co', 'BLOCKSIZE=256']).close();
  cases.push([gt, true]);
  // tiled GTiff with external overviews (.ovr)
  const ext = writeSource(path.join(dir, 'v-ext.tif'), big, 1100, 1100, 1, 'uint8', { creationOptions: { TILED: 'YES' } });
  const ro = gdal.open(ext);
  ro.buildOverviews('NEAREST', [2, 4]);
  ro.close();
  assert.ok(fs.existsSync(ext + '.ovr'));
  cases.push([ext, false]);
  // tiled GTiff whose internal overviews were added after the image data
  const late = writeSource(path.join(dir, 'v-late.tif'), big, 1100, 1100, 1, 'uint8', { creationOptions: { TILED: 'YES' } });
  const rw = gdal.open(late, 'r+');
  rw.buildOverviews('NEAREST', [2, 4]);
  rw.close();
  cases.push([late, false]);
  cases.push([srcPng, false]);
  cases.push([srcJpg, false]);
  for (const [file, expected] of cases) {
    assert.is(validatorSays(file), expected, `validator on ${path.basename(file)}`);
    assert.is(isCog(file), expected, `isCog(${path.basename(file)})`);
  }
});

test('atomic writes: a failed write leaves no file and no temporaries; dst replaced only on success', () => {
  const data = pattern(H, W, 2, 'uint16', 53);
  const src = writeSource(path.join(dir, 'u16x2.tif'), data, H, W, 2, 'uint16');
  const sub = path.join(dir, 'atomic');
  fs.mkdirSync(sub);
  const dst = path.join(sub, 'out.tif');
  const e = expectCode(() => writeCog(src, dst, { compress: 'JPEG' }), NdsamplerError, 'ERR_GDAL_UNSUPPORTED');
  assert.is(e.path, dst);
  assert.equal(fs.readdirSync(sub), [], 'nothing left behind');
  fs.writeFileSync(dst, 'old contents');
  expectCode(() => writeCog(src, dst, { compress: 'JPEG' }), NdsamplerError, 'ERR_GDAL_UNSUPPORTED');
  assert.is(fs.readFileSync(dst, 'utf8'), 'old contents');
  assert.equal(fs.readdirSync(sub), ['out.tif']);
  writeCog(src, dst, { compress: 'LZW', blocksize: 128 });
  written.push(dst);
  assert.equal(fs.readdirSync(sub), ['out.tif']);
  const r = openImage(dst);
  eq(r.read(), data, 'replaced dst');
  r.close();
});

test('writeCogAsync writes the same pixels; concurrent writes all succeed', async () => {
  const outs = await Promise.all([0, 1, 2, 3].map(async (i) => {
    const dst = path.join(dir, `async-${i}.tif`);
    await writeCogAsync(i % 2 ? srcPng : srcTif, dst, { blocksize: 128, compress: i < 2 ? 'auto' : 'DEFLATE' });
    written.push(dst);
    return dst;
  }));
  for (const f of outs) {
    const r = openImage(f);
    eq(r.read(), rgb, path.basename(f));
    r.close();
  }
  try {
    await writeCogAsync(path.join(dir, 'missing.png'), path.join(dir, 'x.tif'));
    assert.unreachable('missing source');
  } catch (err) {
    assert.is((err as NdsamplerError).code, 'ERR_SOURCE_MISSING');
    assert.match((err as Error).stack ?? '', 'cog.test.ts', 'stack points at the caller');
  }
});

/** Reads an .npy file written by convertToNpy: [shape, dtype, data]. */
function readNpy(file: string): { shape: number[]; descr: string; data: TypedArray } {
  const buf = fs.readFileSync(file);
  assert.is(buf.subarray(0, 6).toString('latin1'), '\x93NUMPY');
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.subarray(start, start + hlen).toString('latin1');
  const descr = /'descr':\s*'([^']+)'/.exec(header)![1];
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)![1].split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  assert.match(header, "'fortran_order': False");
  const dtypes: Record<string, DType> = { '|u1': 'uint8', '|i1': 'int8', '<u2': 'uint16', '<i2': 'int16', '<u4': 'uint32', '<i4': 'int32', '<f4': 'float32', '<f8': 'float64' };
  const dtype = dtypes[descr];
  const off = start + hlen;
  const bytes = buf.subarray(off);
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  const Ctor = TYPED_ARRAY[dtype];
  return { shape, descr, data: new Ctor(copy.buffer, 0, copy.length / (Ctor as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT) };
}

test('convertToNpy writes GDAL\'s decode as HWC npy (sync and async, palette expanded)', async () => {
  const n1 = path.join(dir, 'png.npy');
  convertToNpy(srcPng, n1);
  const a = readNpy(n1);
  assert.equal(a.shape, [H, W, 3]);
  assert.is(a.descr, '|u1');
  assert.is(firstDiff(a.data, gdalRead(srcPng, 0, H, 0, W)), -1);
  const f64 = pattern(H, W, 2, 'float64', 59);
  const srcF = writeSource(path.join(dir, 'f64.tif'), f64, H, W, 2, 'float64');
  const n2 = path.join(dir, 'f64.npy');
  await convertToNpyAsync(srcF, n2);
  const b = readNpy(n2);
  assert.equal(b.shape, [H, W, 2]);
  assert.is(b.descr, '<f8');
  assert.is(firstDiff(b.data, f64), -1);
  const idx = new Uint8Array(H * W).map((_, i) => i % 3);
  const pal = writeSource(path.join(dir, 'pal.png'), idx, H, W, 1, 'uint8', { driver: 'PNG', palette: [[1, 2, 3, 255], [4, 5, 6, 255], [7, 8, 9, 255]] });
  const n3 = path.join(dir, 'pal.npy');
  convertToNpy(pal, n3);
  const c = readNpy(n3);
  assert.equal(c.shape, [H, W, 3]);
  assert.equal(Array.from(c.data.subarray(0, 9)), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  expectCode(() => convertToNpy(path.join(dir, 'nope.png'), path.join(dir, 'nope.npy')), NdsamplerError, 'ERR_SOURCE_MISSING');
  assert.not.ok(fs.existsSync(path.join(dir, 'nope.npy')));
});

test('a window read of a big COG touches only its tiles', () => {
  const S = 1024;
  const data = pattern(S, S, 3, 'uint8', 61);
  const src = writeSource(path.join(dir, 'big.tif'), data, S, S, 3, 'uint8');
  const c = cog(src, 'big-cog.tif', { compress: 'ZSTD', predictor: 'STANDARD', level: 1 });
  const r = openImage(c);
  eq(r.read([[300, 524], [700, 924]]), crop(data, S, 3, 300, 524, 700, 924), '224x224 crop');
  r.close();
});

validatorTest('every COG written by these tests passes GDAL\'s validator', () => {
  assert.ok(written.length >= 20, `${written.length} COGs checked`);
  for (const f of written) {
    const r = spawnSync(PYTHON, [VALIDATOR, f], { encoding: 'utf8' });
    assert.is(r.status, 0, `${path.basename(f)}: ${r.stdout}${r.stderr}`);
  }
});

test.after(cleanup);
test.run();
