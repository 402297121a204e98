/**
 * Bounded cost (issue 9): real images never trip the decode limits (a 192 MiB 8192x8192 RGB PNG of
 * one colour, 20000x20000 deflate TIFFs mostly zeros or sparse), while the pixel limit set with
 * setPixelLimit refuses sources over it (ERR_TOO_LARGE) on every path that opens one, and is
 * restored. The decompression bombs themselves are rows of test/hostile.test.ts.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as path from 'node:path';
import gdal = require('gdal-async');
import {
  openImage, convertToNpy, writeCog, setPixelLimit, DEFAULT_PIXEL_LIMIT, NdsamplerError, allocate, writeRaster,
} from '../lib/index';
import { expectCode } from './_helpers/errors';
import { tempDir } from './_helpers/tmp';

const { dir, cleanup } = tempDir('bounds');
test.after(() => cleanup());

/** A 20000x20000 one-band tiled GeoTIFF with data only in a few tiles (the rest zeros, or absent). */
function bigTiff(file: string, sparse: boolean, compress = 'DEFLATE', block = 256): string {
  const ds = gdal.open(file, 'w', 'GTiff', 20000, 20000, 1, gdal.GDT_Byte, {
    TILED: 'YES', BLOCKXSIZE: String(block), BLOCKYSIZE: String(block), COMPRESS: compress, SPARSE_OK: sparse ? 'TRUE' : 'FALSE',
  });
  const data = new Uint8Array(512 * 512);
  for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
  const b = ds.bands.get(1);
  b.pixels.write(0, 0, 512, 512, data);
  b.pixels.write(19000, 12000, 512, 512, data);
  ds.close();
  return file;
}

test('an 8192x8192 RGB PNG of one colour (the most compressible real image) opens and reads', () => {
  const ds = gdal.open('mem', 'w', 'MEM', 8192, 8192, 3, gdal.GDT_Byte);
  for (let k = 1; k <= 3; k++) ds.bands.get(k).fill(40 * k);
  const file = path.join(dir, 'flat.png');
  gdal.drivers.get('PNG').createCopy(file, ds, { ZLEVEL: '9' }).close();
  ds.close();
  const r = openImage(file);
  assert.equal(r.shape, [8192, 8192, 3]);
  const a = r.read([[8000, 8010], [100, 110]]);
  assert.equal([...a.data.slice(0, 3)], [40, 80, 120]);
  r.close();
});

test('20000x20000 DEFLATE and ZSTD TIFFs, mostly zeros (ratios ~700 and ~7800) or sparse, open and read', () => {
  for (const [sparse, compress, block] of [[false, 'DEFLATE', 256], [true, 'DEFLATE', 256], [false, 'ZSTD', 512]] as const) {
    const file = bigTiff(path.join(dir, `big-${sparse}-${compress}.tif`), sparse, compress, block);
    const r = openImage(file);
    assert.equal(r.shape, [20000, 20000, 1]);
    const a = r.read([[12000, 12004], [19000, 19004]]);
    assert.is(a.data[0], 0, `sparse ${sparse}: the first written value`);
    assert.is(r.read([[5000, 5002], [5000, 5002]]).data[0], 0);
    r.close();
  }
});

test('setPixelLimit: sources over it are ERR_TOO_LARGE everywhere; returns the previous limit', () => {
  const file = path.join(dir, 'small.tif');
  writeRaster(file, allocate([100, 100, 1], 'uint8', true));
  assert.is(setPixelLimit(9999), DEFAULT_PIXEL_LIMIT);
  try {
    expectCode(() => openImage(file), NdsamplerError, 'ERR_TOO_LARGE', 'openImage');
    expectCode(() => convertToNpy(file, path.join(dir, 'o.npy')), NdsamplerError, 'ERR_TOO_LARGE', 'convertToNpy');
    expectCode(() => writeCog(file, path.join(dir, 'o.tif')), NdsamplerError, 'ERR_TOO_LARGE', 'writeCog');
    assert.is(setPixelLimit(10000), 9999);
    assert.equal(openImage(file).shape, [100, 100, 1], 'exactly at the limit');
  } finally {
    setPixelLimit(DEFAULT_PIXEL_LIMIT);
  }
  expectCode(() => setPixelLimit(0), RangeError, 'ERR_OUT_OF_RANGE');
  expectCode(() => setPixelLimit('1' as never), TypeError, 'ERR_INVALID_ARG_TYPE');
});

test('blocks (issue 19): tiles larger than a small image but under 64 MiB read; setPixelLimit bounds one block too', () => {
  // 300x400 RGB with 2048x2048 tiles: one tile is 12 MiB for 0.36 MiB of image (under the floor).
  const file = path.join(dir, 'big-tiles.tif');
  const ds = gdal.open(file, 'w', 'GTiff', 400, 300, 3, gdal.GDT_Byte, { TILED: 'YES', BLOCKXSIZE: '2048', BLOCKYSIZE: '2048', COMPRESS: 'DEFLATE' });
  const px = new Uint8Array(400 * 300);
  for (let k = 1; k <= 3; k++) {
    for (let i = 0; i < px.length; i++) px[i] = (i * k) & 255;
    ds.bands.get(k).pixels.write(0, 0, 400, 300, px);
  }
  ds.close();
  const r = openImage(file);
  const a = r.read([[299, 300], [399, 400]]);
  const i = 299 * 400 + 399;
  assert.equal([...a.data], [i & 255, (i * 2) & 255, (i * 3) & 255]);
  r.close();
  // A 4096x4096 uint8 one-band block (16 Mi pixels) on a 100x100 image: under the floor, but over a
  // pixel limit of 10^6 even though the image (10^4 pixels) is not.
  const small = path.join(dir, 'small-big-tiles.tif');
  gdal.open(small, 'w', 'GTiff', 100, 100, 1, gdal.GDT_Byte, { TILED: 'YES', BLOCKXSIZE: '4096', BLOCKYSIZE: '4096', SPARSE_OK: 'TRUE' }).close();
  assert.equal(openImage(small).shape, [100, 100, 1]);
  setPixelLimit(1_000_000);
  try {
    const e = expectCode(() => openImage(small), NdsamplerError, 'ERR_TOO_LARGE', 'one block over the pixel limit');
    assert.match(e.message, /blocks \(tiles or strips\) are 4096x4096 pixels for an image of 100x100, over the pixel limit of 1000000/);
    expectCode(() => writeCog(small, path.join(dir, 'o2.tif')), NdsamplerError, 'ERR_TOO_LARGE', 'writeCog');
  } finally {
    setPixelLimit(DEFAULT_PIXEL_LIMIT);
  }
});

test.run();
