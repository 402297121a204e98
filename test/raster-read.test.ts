/**
 * Raster reads through GDAL: every dtype and band count round-trips source -> COG -> crop
 * exactly, PNG / JPEG / palette sources, `out`, layout 'chw', boundless, scaled reads from
 * overviews, agreement with gdal-async on the same windows, tile-cache counters, async and
 * concurrent reads, worker threads, and the dataset-handle cap.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import gdal = require('gdal-async');
import {
  openImage, writeCog, writeRaster, tileCacheStats, setTileCacheBudget, setMaxOpenDatasets, datasetStats,
  RasterReader, DTYPES, allocate, ClosedError,
} from '../lib/index';
import type { DType, NDArray, TypedArray } from '../lib/index';
import { crop, firstDiff, gdalRead, hwc, pattern, smooth, writeSource } from './_raster-fixtures';
import { expectCode } from './_helpers/errors';
import { tempDir } from './_helpers/tmp';

const { dir, cleanup } = tempDir('raster-read');
const H = 200;
const W = 300;
// Windows inside the image: one tile, tile-crossing, the right/bottom edge, one pixel, all.
const WINDOWS: Array<[number, number, number, number]> = [
  [0, 16, 0, 16], [100, 160, 90, 250], [130, 200, 250, 300], [199, 200, 299, 300], [0, H, 0, W], [5, 133, 127, 129],
];

function eq(got: NDArray, want: ArrayLike<number>, what: string): void {
  const d = firstDiff(hwc(got), want);
  assert.is(d, -1, `${what}: first difference at element ${d}`);
}

test('every dtype and band count round-trips source -> COG -> crop exactly', () => {
  for (const dtype of DTYPES as DType[]) {
    for (const c of [1, 3, 4]) {
      const data = pattern(H, W, c, dtype);
      const src = writeSource(path.join(dir, `src-${dtype}-${c}.tif`), data, H, W, c, dtype);
      const cog = path.join(dir, `cog-${dtype}-${c}.tif`);
      writeCog(src, cog, { blocksize: 128, compress: c === 4 ? 'DEFLATE' : 'auto' });
      const r = openImage(cog);
      assert.equal(r.shape, [H, W, c]);
      assert.is(r.dtype, dtype);
      assert.ok(r.isCog, `${dtype}x${c} is a COG`);
      for (const [y0, y1, x0, x1] of WINDOWS) {
        eq(r.read([[y0, y1], [x0, x1]]), crop(data, W, c, y0, y1, x0, x1), `${dtype}x${c} [${y0}:${y1}, ${x0}:${x1}]`);
      }
      if (c > 1) eq(r.read([[10, 70], [100, 200], [1, c]]), crop(data, W, c, 10, 70, 100, 200, 1, c), `${dtype}x${c} channels`);
      r.close();
    }
  }
});

test('every lossless codec reads back exactly (uint16, 3 bands)', () => {
  const data = pattern(H, W, 3, 'uint16', 3);
  const src = writeSource(path.join(dir, 'codec-src.tif'), data, H, W, 3, 'uint16');
  for (const compress of ['NONE', 'LZW', 'DEFLATE', 'ZSTD', 'LZMA', 'LERC', 'LERC_ZSTD']) {
    const cog = path.join(dir, `codec-${compress}.tif`);
    writeCog(src, cog, { compress, blocksize: 128 });
    const r = openImage(cog);
    eq(r.read(), data, compress);
    eq(r.read([[37, 171], [5, 290]]), crop(data, W, 3, 37, 171, 5, 290), `${compress} window`);
    r.close();
  }
});

test('tile decoders: libtiff for plain codecs, GDAL otherwise; both agree with gdal-async', () => {
  const data = pattern(H, W, 3, 'uint8', 7);
  const src = writeSource(path.join(dir, 'dec-src.tif'), data, H, W, 3, 'uint8');
  const cases: Array<[string, Record<string, unknown>, 'libtiff' | 'gdal']> = [
    ['zstd', { compress: 'ZSTD' }, 'libtiff'], ['lzw', { compress: 'LZW', predictor: 'STANDARD' }, 'libtiff'],
    ['deflate', { compress: 'DEFLATE' }, 'libtiff'], ['none', { compress: 'NONE' }, 'libtiff'],
    ['lerc', { compress: 'LERC' }, 'gdal'], ['jpeg', { compress: 'JPEG', quality: 90 }, 'gdal'],
    ['webp', { compress: 'WEBP', quality: 90 }, 'gdal'],
  ];
  for (const [name, cfg, decoder] of cases) {
    const cog = path.join(dir, `dec-${name}.tif`);
    writeCog(src, cog, { blocksize: 128, ...cfg });
    const r = openImage(cog) as RasterReader;
    assert.is(r.info.tileDecoder, decoder, name);
    for (const [y0, y1, x0, x1] of WINDOWS) {
      eq(r.read([[y0, y1], [x0, x1]]), gdalRead(cog, y0, y1, x0, x1), `${name} [${y0}:${y1}, ${x0}:${x1}]`);
    }
    r.close();
  }
  // big-endian, band-interleaved and sparse tiled GeoTIFFs
  for (const dtype of ['uint16', 'float32', 'float64'] as DType[]) {
    const d = pattern(H, W, 2, dtype, 8);
    const be = writeSource(path.join(dir, `be-${dtype}.tif`), d, H, W, 2, dtype,
      { creationOptions: { TILED: 'YES', BLOCKXSIZE: '128', BLOCKYSIZE: '128', ENDIANNESS: 'BIG', COMPRESS: 'ZSTD', PREDICTOR: dtype === 'uint16' ? '2' : '1' } });
    const r = openImage(be) as RasterReader;
    assert.is(r.info.tileDecoder, 'libtiff');
    eq(r.read(), d, `big-endian ${dtype}`);
    r.close();
  }
  const planar = writeSource(path.join(dir, 'planar.tif'), data, H, W, 3, 'uint8',
    { creationOptions: { TILED: 'YES', BLOCKXSIZE: '128', BLOCKYSIZE: '128', INTERLEAVE: 'BAND' } });
  const rp = openImage(planar) as RasterReader;
  assert.is(rp.info.tileDecoder, 'gdal');
  eq(rp.read([[10, 190], [20, 290]]), crop(data, W, 3, 10, 190, 20, 290), 'band-interleaved tiles');
  rp.close();
  const sparse = path.join(dir, 'sparse.tif');
  const ds = gdal.open(sparse, 'w', 'GTiff', W, H, 1, gdal.GDT_Int16, { TILED: 'YES', BLOCKXSIZE: '128', BLOCKYSIZE: '128', SPARSE_OK: 'TRUE' });
  ds.bands.get(1).pixels.write(128, 0, 128, 128, new Int16Array(128 * 128).fill(-7));
  ds.close();
  const rs = openImage(sparse);
  const got = rs.read();
  eq(got, gdalRead(sparse, 0, H, 0, W), 'sparse tiles as GDAL fills them');
  assert.is(got.data[0], 0);
  assert.is(got.data[130], -7);
  rs.close();
});

test('pixels agree with gdal-async on the same windows (COG, striped GTiff, PNG)', () => {
  const data = pattern(H, W, 3, 'uint8', 5);
  const striped = writeSource(path.join(dir, 'agree-strip.tif'), data, H, W, 3, 'uint8');
  const png = writeSource(path.join(dir, 'agree.png'), data, H, W, 3, 'uint8', { driver: 'PNG' });
  const cog = path.join(dir, 'agree-cog.tif');
  writeCog(png, cog, { blocksize: 128 });
  for (const file of [striped, png, cog]) {
    const r = openImage(file);
    for (const [y0, y1, x0, x1] of WINDOWS) {
      eq(r.read([[y0, y1], [x0, x1]]), gdalRead(file, y0, y1, x0, x1), `${path.basename(file)} [${y0}:${y1}, ${x0}:${x1}]`);
    }
    r.close();
  }
});

test('16-bit PNG and JPEG sources decode as gdal-async decodes them', () => {
  const gray = pattern(H, W, 1, 'uint16', 9);
  const png16 = writeSource(path.join(dir, 'gray16.png'), gray, H, W, 1, 'uint16', { driver: 'PNG' });
  const r16 = openImage(png16);
  assert.is(r16.dtype, 'uint16');
  eq(r16.read(), gray, 'uint16 png');
  r16.close();
  const jpg = writeSource(path.join(dir, 'photo.jpg'), smooth(H, W, 3), H, W, 3, 'uint8', { driver: 'JPEG' });
  const rj = openImage(jpg);
  assert.equal(rj.shape, [H, W, 3]);
  assert.is(rj.isCog, false);
  eq(rj.read(), gdalRead(jpg, 0, H, 0, W), 'jpeg whole');
  eq(rj.read([[50, 120], [33, 290]]), gdalRead(jpg, 50, 120, 33, 290), 'jpeg window');
  rj.close();
});

test('palette PNGs are expanded to RGB, and to RGBA when the palette has alpha', () => {
  const idx = new Uint8Array(H * W);
  for (let i = 0; i < idx.length; i++) idx[i] = (i * 7 + (i >> 5)) % 5;
  const rgb: Array<[number, number, number, number]> = [[0, 0, 0, 255], [255, 0, 0, 255], [0, 255, 0, 255], [0, 0, 255, 255], [10, 20, 30, 255]];
  const rgba: Array<[number, number, number, number]> = rgb.map(([r, g, b], i) => [r, g, b, i * 50]);
  for (const [name, pal] of [['rgb', rgb], ['rgba', rgba]] as const) {
    const file = writeSource(path.join(dir, `pal-${name}.png`), idx, H, W, 1, 'uint8', { driver: 'PNG', palette: pal as Array<[number, number, number, number]> });
    const r = openImage(file) as RasterReader;
    const c = name === 'rgb' ? 3 : 4;
    assert.equal(r.shape, [H, W, c]);
    assert.ok(r.info.palette);
    const want: number[] = [];
    for (const i of idx) want.push(...pal[i].slice(0, c));
    eq(r.read(), want, `palette ${name}`);
    const cw: number[] = [];
    for (let y = 20; y < 40; y++) for (let x = 100; x < 150; x++) cw.push(pal[idx[y * W + x]][1]);
    eq(r.read([[20, 40], [100, 150], [1, 2]]), cw, `palette ${name} green window`);
    const cog = path.join(dir, `pal-${name}.tif`);
    writeCog(file, cog, { blocksize: 128 });
    const rc = openImage(cog);
    assert.equal(rc.shape, [H, W, c]);
    assert.is((rc as RasterReader).info.palette, false);
    eq(rc.read(), want, `palette ${name} COG`);
    rc.close();
    r.close();
  }
});

test('reads into out (a strided view), layout chw, and boundless with fill', () => {
  const data = pattern(H, W, 3, 'int16', 11);
  const src = writeSource(path.join(dir, 'views.tif'), data, H, W, 3, 'int16');
  const cog = path.join(dir, 'views-cog.tif');
  writeCog(src, cog, { blocksize: 128 });
  for (const file of [src, cog]) {
    const r = openImage(file);
    // out: a 40x50x3 window in the middle of a bigger 60x80x5 buffer
    const big = allocate([60, 80, 5], 'int16');
    big.data.fill(7);
    const view: NDArray = { data: big.data, shape: [40, 50, 3], strides: [80 * 5, 5, 1], offset: 10 * 400 + 20 * 5 + 1, dtype: 'int16' };
    const got = r.read([[120, 160], [240, 290]], { out: view });
    assert.ok(got.data === big.data);
    eq(got, crop(data, W, 3, 120, 160, 240, 290), `${path.basename(file)} out`);
    assert.is(big.data[0], 7, 'outside the view untouched');
    assert.is(big.data[10 * 400 + 20 * 5], 7, 'channel 0 of the view untouched');
    const chw = r.read([[3, 133], [100, 290]], { layout: 'chw' });
    assert.equal(chw.strides, [190, 1, 130 * 190]);
    eq(chw, crop(data, W, 3, 3, 133, 100, 290), `${path.basename(file)} chw`);
    const b = r.read([[-5, 10], [295, 310]], { boundless: true, fill: -9 });
    assert.equal(b.shape, [15, 15, 3]);
    const want: number[] = [];
    for (let y = -5; y < 10; y++) {
      for (let x = 295; x < 310; x++) {
        for (let k = 0; k < 3; k++) want.push(y >= 0 && x < W ? data[(y * W + x) * 3 + k] : -9);
      }
    }
    eq(b, want, `${path.basename(file)} boundless`);
    r.close();
  }
});

test('scaled reads come from the overviews', () => {
  const S = 512;
  const data = pattern(S, S, 3, 'uint8', 13);
  const src = writeSource(path.join(dir, 'ovr-src.tif'), data, S, S, 3, 'uint8');
  const cog = path.join(dir, 'ovr-cog.tif');
  writeCog(src, cog, { blocksize: 128, overviews: 2 });
  const r = openImage(cog) as RasterReader;
  assert.equal(r.info.overviews, [[256, 256], [128, 128]]);
  const half = r.read(null, { scale: 0.5 });
  assert.equal(half.shape, [256, 256, 3]);
  eq(half, gdalRead(cog, 0, 256, 0, 256, 0), 'scale 0.5 = overview 0');
  const quarter = r.read(null, { scale: 0.25 });
  assert.equal(quarter.shape, [128, 128, 3]);
  eq(quarter, gdalRead(cog, 0, 128, 0, 128, 1), 'scale 0.25 = overview 1');
  const win = r.read([[128, 384], [256, 512]], { scale: 0.5 });
  assert.equal(win.shape, [128, 128, 3]);
  eq(win, gdalRead(cog, 64, 192, 128, 256, 0), 'window at scale 0.5 = overview window');
  // nearest overviews of integer data never invent values: every pixel is a source pixel
  const ov = hwc(half);
  for (let i = 0; i < 200; i++) {
    const y = (i * 37) % 256, x = (i * 91) % 256;
    assert.is(ov[(y * 256 + x) * 3], data[((2 * y) * S + 2 * x) * 3], `nearest pixel ${y},${x}`);
  }
  r.close();
});

test('tile cache: misses on first read, hits after, LRU within the budget', () => {
  const data = pattern(256, 256, 3, 'uint8', 17);
  const src = writeSource(path.join(dir, 'cache-src.tif'), data, 256, 256, 3, 'uint8');
  const cog = path.join(dir, 'cache-cog.tif');
  writeCog(src, cog, { blocksize: 128, overviews: 'none' });
  const r = openImage(cog);
  const s0 = tileCacheStats();
  r.read([[100, 150], [100, 150]]);  // touches all four 128x128 tiles
  const s1 = tileCacheStats();
  assert.is(s1.misses - s0.misses, 4);
  assert.is(s1.hits - s0.hits, 0);
  eq(r.read([[100, 150], [100, 150]]), crop(data, 256, 3, 100, 150, 100, 150), 'cached read');
  const s2 = tileCacheStats();
  assert.is(s2.hits - s1.hits, 4);
  assert.is(s2.misses - s1.misses, 0);
  r.read([[0, 10], [0, 10]]);
  assert.is(tileCacheStats().hits - s2.hits, 1);
  // a budget of one tile keeps one entry; reads stay correct while tiles are evicted
  const budget = s2.budget;
  setTileCacheBudget(128 * 128 * 3);
  assert.ok(tileCacheStats().entries <= 1);
  eq(r.read(), data, 'read with a one-tile budget');
  assert.ok(tileCacheStats().entries <= 1);
  setTileCacheBudget(0);
  assert.is(tileCacheStats().entries, 0);
  eq(r.read([[60, 200], [1, 255]]), crop(data, 256, 3, 60, 200, 1, 255), 'read with caching disabled');
  setTileCacheBudget(budget);
  r.close();
});

test('readAsync equals read; many concurrent reads on one reader share its handles', async () => {
  const data = pattern(H, W, 4, 'float32', 19);
  const src = writeSource(path.join(dir, 'async-src.tif'), data, H, W, 4, 'float32');
  const cog = path.join(dir, 'async-cog.tif');
  writeCog(src, cog, { blocksize: 128 });
  for (const file of [src, cog]) {
    const r = new RasterReader(file, { maxHandles: 2 });
    const a = await r.readAsync([[10, 150], [20, 280]]);
    eq(a, hwc(r.read([[10, 150], [20, 280]])), 'readAsync = read');
    const jobs: Array<Promise<NDArray>> = [];
    const wins: Array<[number, number, number, number]> = [];
    for (let i = 0; i < 48; i++) {
      const y0 = (i * 13) % 150, x0 = (i * 29) % 240;
      wins.push([y0, y0 + 50, x0, x0 + 60]);
      jobs.push(r.readAsync([[y0, y0 + 50], [x0, x0 + 60]]));
    }
    const got = await Promise.all(jobs);
    got.forEach((g, i) => {
      const [y0, y1, x0, x1] = wins[i];
      eq(g, crop(data, W, 4, y0, y1, x0, x1), `${path.basename(file)} concurrent read ${i}`);
    });
    r.close();
  }
});

test('close() with reads in flight: each settles with correct data or ERR_CLOSED', async () => {
  const data = pattern(H, W, 3, 'uint8', 23);
  const src = writeSource(path.join(dir, 'closing.tif'), data, H, W, 3, 'uint8');
  const r = openImage(src);
  const jobs = Array.from({ length: 16 }, (_, i) => r.readAsync([[i, i + 100], [i * 2, i * 2 + 150]]));
  r.close();
  const settled = await Promise.allSettled(jobs);
  settled.forEach((s, i) => {
    if (s.status === 'fulfilled') {
      eq(s.value, crop(data, W, 3, i, i + 100, i * 2, i * 2 + 150), `in-flight read ${i}`);
    } else {
      assert.is((s.reason as { code: string }).code, 'ERR_CLOSED');
    }
  });
  expectCode(() => r.read(), ClosedError, 'ERR_CLOSED', 'read after close');
});

test('worker threads read the same COG', async () => {
  const data = pattern(H, W, 3, 'uint16', 29);
  const src = writeSource(path.join(dir, 'worker-src.tif'), data, H, W, 3, 'uint16');
  const cog = path.join(dir, 'worker-cog.tif');
  writeCog(src, cog, { blocksize: 128 });
  const lib = path.resolve(__dirname, '../lib/index.ts');
  const code = `
    require('tsx/cjs');
    const { parentPort, workerData } = require('node:worker_threads');
    const { openImage, datasetStats } = require(workerData.lib);
    (async () => {
      const r = openImage(workerData.cog);
      const out = [];
      for (const [y0, y1, x0, x1] of workerData.wins) {
        const a = await r.readAsync([[y0, y1], [x0, x1]]);
        const b = r.read([[y0, y1], [x0, x1]]);
        out.push([Array.from(a.data), Array.from(b.data)]);
      }
      r.close();
      parentPort.postMessage(out);
    })();`;
  const wins = [[0, 40, 0, 40], [100, 200, 200, 300], [50, 150, 100, 250]];
  const run = () => new Promise<number[][][]>((resolve, reject) => {
    const w = new Worker(code, { eval: true, workerData: { lib, cog, wins } });
    w.once('message', resolve);
    w.once('error', reject);
  });
  const results = await Promise.all([run(), run(), run()]);
  for (const res of results) {
    res.forEach(([a, b], i) => {
      const [y0, y1, x0, x1] = wins[i];
      const want = crop(data, W, 3, y0, y1, x0, x1);
      assert.is(firstDiff(a, want), -1, `worker async window ${i}`);
      assert.is(firstDiff(b, want), -1, `worker sync window ${i}`);
    });
  }
});

test('a worker that exits without closing its readers releases their file handles', async () => {
  const data = pattern(H, W, 3, 'uint8', 30);
  const src = writeSource(path.join(dir, 'leak-src.tif'), data, H, W, 3, 'uint8');
  const cog = path.join(dir, 'leak-cog.tif');
  writeCog(src, cog, { blocksize: 128 });
  // The process's descriptors open on this test's two files (by /proc/self/fd link target), so
  // descriptors other code opens and closes meanwhile (tsx, the worker's startup) do not count.
  const mine = [fs.realpathSync(src), fs.realpathSync(cog)];
  const fds = () => fs.readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return mine.includes(fs.readlinkSync(`/proc/self/fd/${fd}`));
    } catch {
      return false;  // closed since the listing
    }
  }).length;
  const lib = path.resolve(__dirname, '../lib/index.ts');
  const code = `
    require('tsx/cjs');
    const { parentPort, workerData } = require('node:worker_threads');
    const { openImage, datasetStats } = require(workerData.lib);
    const readers = [];
    (async () => {
      for (let i = 0; i < 8; i++) {
        const r = openImage(i % 2 ? workerData.cog : workerData.src);
        await Promise.all([r.readAsync([[0, 100], [0, 100]]), r.readAsync([[100, 200], [100, 300]])]);
        readers.push(r);
      }
      parentPort.postMessage(datasetStats().open);
    })();`;
  const before = fds();
  let during = 0;
  let held = 0;
  await new Promise<void>((resolve, reject) => {
    const w = new Worker(code, { eval: true, workerData: { lib, cog, src } });
    w.once('message', (open: number) => { held = open; during = fds(); void w.terminate(); });
    w.once('exit', () => resolve());
    w.once('error', reject);
  });
  // Precondition, by the worker env's own count (deterministic, unlike sampling descriptors from
  // here): its readers hold GDAL handles (the 4 readers of the untiled source at least one each).
  assert.is(before, 0, 'nothing holds the files before the worker starts');
  assert.ok(held >= 4, `the worker held ${held} dataset handles open (descriptors on the files: ${during})`);
  assert.is(fds(), 0, `handles released at worker exit (${during} -> ${fds()})`);
});

test('terminating a worker with reads and COG writes in flight neither crashes nor leaves temporaries', async () => {
  const S = 1024;
  const src = writeSource(path.join(dir, 'term-src.tif'), pattern(S, S, 3, 'uint8', 32), S, S, 3, 'uint8');
  const cog = path.join(dir, 'term-cog.tif');
  writeCog(src, cog, { blocksize: 128 });
  const outDir = path.join(dir, 'term-out');
  fs.mkdirSync(outDir);
  const lib = path.resolve(__dirname, '../lib/index.ts');
  const code = `
    require('tsx/cjs');
    const { parentPort, workerData } = require('node:worker_threads');
    const { openImage, setTileCacheBudget, writeCogAsync } = require(workerData.lib);
    setTileCacheBudget(0);
    const r = openImage(workerData.cog);
    for (let i = 0; i < 64; i++) r.readAsync([[i * 7, i * 7 + 500], [i * 5, i * 5 + 500]]).catch(() => {});
    for (let i = 0; i < 2; i++) writeCogAsync(workerData.src, workerData.outDir + '/o' + i + '.tif', { compress: 'DEFLATE' }).catch(() => {});
    parentPort.postMessage('queued');`;
  for (const delay of [0, 15, 60]) {
    await new Promise<void>((resolve, reject) => {
      const w = new Worker(code, { eval: true, workerData: { lib, cog, src, outDir } });
      w.once('message', () => setTimeout(() => void w.terminate(), delay));
      w.once('exit', () => resolve());
      w.once('error', reject);
    });
  }
  const left = fs.readdirSync(outDir);
  assert.ok(left.every((f) => /^o[01]\.tif$/.test(f)), `only finished outputs: ${left.join(', ')}`);
  const r = openImage(cog);
  assert.equal(r.read([[0, 4], [0, 4]]).shape, [4, 4, 3], 'this thread still reads');
  r.close();
});

test('garbage-collected readers close their handles', async () => {
  const gc = (globalThis as { gc?: () => void }).gc;
  assert.ok(gc, 'run with --expose-gc');
  const data = pattern(32, 32, 1, 'uint8', 33);
  const file = writeSource(path.join(dir, 'gc.tif'), data, 32, 32, 1, 'uint8');
  const before = datasetStats().open;
  (() => {
    for (let i = 0; i < 10; i++) openImage(file).read([[0, 4], [0, 4]]);
  })();
  assert.is(datasetStats().open, before + 10);
  for (let i = 0; i < 10 && datasetStats().open > before; i++) {
    gc!();
    await new Promise((r) => setImmediate(r));
  }
  assert.is(datasetStats().open, before, 'finalizers closed the handles');
});

test('the open-handle cap closes idle handles and reopens them on demand', () => {
  const data = pattern(64, 64, 1, 'uint8', 31);
  const files = Array.from({ length: 12 }, (_, i) => writeSource(path.join(dir, `many-${i}.tif`), data, 64, 64, 1, 'uint8'));
  const cap = datasetStats().cap;
  setMaxOpenDatasets(4);
  try {
    const readers = files.map((f) => openImage(f));
    assert.ok(datasetStats().open <= 4, `open ${datasetStats().open} <= 4`);
    for (let round = 0; round < 2; round++) {
      for (const r of readers) eq(r.read([[10, 20], [5, 60]]), crop(data, 64, 1, 10, 20, 5, 60), 'read after reopen');
      assert.ok(datasetStats().open <= 4);
    }
    for (const r of readers) r.close();
    assert.is(datasetStats().open, 0);
  } finally {
    setMaxOpenDatasets(cap);
  }
});

test('writeRaster writes PNG and GTiff that GDAL reads back exactly', () => {
  for (const [dtype, ext, c] of [['uint8', 'png', 3], ['uint16', 'png', 1], ['int8', 'tif', 2], ['float64', 'tif', 3]] as const) {
    const data = pattern(37, 53, c, dtype, 37) as TypedArray;
    const file = path.join(dir, `wr-${dtype}.${ext}`);
    writeRaster(file, { data, shape: [37, 53, c], strides: [53 * c, c, 1], offset: 0, dtype });
    const r = openImage(file);
    assert.is(r.dtype, dtype);
    eq(r.read(), data, `writeRaster ${dtype} ${ext}`);
    assert.is(firstDiff(gdalRead(file, 0, 37, 0, 53), dtype === 'int8' ? new Uint8Array(data.buffer) : data), -1, 'gdal-async agrees');
    r.close();
  }
});

test.after(cleanup);
test.run();
