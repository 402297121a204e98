/**
 * The direct libtiff tile decoder (native/raster/tiff_tiles.*) agrees with GDAL or steps aside:
 * many TIFF variants written with gdal-async (tile sizes 16..512, odd image sizes, PIXEL and BAND
 * interleave, predictors 1/2/3, 8/16/32-bit integers and floats, little and big endian, NONE /
 * LZW / DEFLATE / ZSTD / PACKBITS / JPEG), plus hand-written tiled TIFFs with tile sizes GDAL
 * refuses to write (not multiples of 16), are read through our reader with the tile cache on and
 * off and through gdal-async, and every pixel is compared.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import gdal = require('gdal-async');
import { openImage, setTileCacheBudget, tileCacheStats } from '../lib/index';
import type { RasterReader } from '../lib/index';
import type { DType, NDArray, TypedArray } from '../lib/index';
import { firstDiff, gdalRead, hwc, pattern, smooth, writeSource } from './_raster-fixtures';
import { tiledTiff } from './_hostile/files';
import { tempDir } from './_helpers/tmp';

const { dir, cleanup } = tempDir('tiff-diff');

interface Variant { file: string; h: number; w: number; c: number; what: string }

const COMPRESSIONS = ['NONE', 'LZW', 'DEFLATE', 'ZSTD', 'PACKBITS', 'JPEG'] as const;
const DTYPES: DType[] = ['uint8', 'int16', 'uint16', 'uint32', 'int32', 'float32', 'float64'];
const TILES = [16, 32, 48, 64, 128, 256, 512];
const SIZES: Array<[number, number]> = [[97, 131], [200, 300], [33, 17], [257, 129], [1, 70], [64, 64]];

function canCompress(name: string): boolean {
  const list = gdal.drivers.get('GTiff').getMetadata().DMD_CREATIONOPTIONLIST ?? '';
  return list.includes(name);
}

/** The GDAL-written variants: one per (compression, dtype, endianness, interleave), the rest cycling. */
function gdalVariants(): Variant[] {
  const out: Variant[] = [];
  let i = 0;
  for (const comp of COMPRESSIONS) {
    if (!canCompress(comp)) continue;
    for (const dtype of comp === 'JPEG' ? ['uint8' as DType] : DTYPES) {
      for (const endian of ['LITTLE', 'BIG']) {
        for (const interleave of ['PIXEL', 'BAND']) {
          const [h, w] = SIZES[i % SIZES.length];
          const tile = TILES[i % TILES.length];
          const c = comp === 'JPEG' ? 3 : [1, 3, 4][i % 3];
          const isFloat = dtype.startsWith('float');
          const predictable = comp === 'LZW' || comp === 'DEFLATE' || comp === 'ZSTD';
          const predictor = !predictable ? 1 : [1, isFloat ? 3 : 2][i % 2];
          i++;
          const co: Record<string, string> = {
            TILED: 'YES', BLOCKXSIZE: String(tile), BLOCKYSIZE: String(TILES[(i + 2) % TILES.length]),
            COMPRESS: comp, INTERLEAVE: interleave, ENDIANNESS: endian,
          };
          if (predictor !== 1) co.PREDICTOR = String(predictor);
          if (comp === 'JPEG') co.PHOTOMETRIC = 'RGB';   // not YCbCr: the direct path would step aside anyway
          const what = `${comp} ${dtype} x${c} ${endian} ${interleave} ${h}x${w} tiles ${co.BLOCKXSIZE}x${co.BLOCKYSIZE} predictor ${predictor}`;
          const file = path.join(dir, `g${i}.tif`);
          const data: TypedArray = comp === 'JPEG' ? smooth(h, w, c) : pattern(h, w, c, dtype, i);
          writeSource(file, data, h, w, c, dtype, { creationOptions: co });
          out.push({ file, h, w, c, what });
        }
      }
    }
  }
  return out;
}

/**
 * ZSTD 8-bit pixel-interleaved variants, for the cold path's row decoder (TiffTileReader::DecodeRows:
 * 1, 3, 4 and 5 samples, predictor 1 and 2, several tiles per image so windows cross tile rows).
 */
function zstdRowVariants(): Variant[] {
  if (!canCompress('ZSTD')) return [];
  const out: Variant[] = [];
  let i = 0;
  for (const dtype of ['uint8'] as const) {
    for (const c of [1, 3, 4, 5]) {
      for (const predictor of [1, 2]) {
        const [h, w] = i % 2 ? [97, 131] : [200, 70];
        const co: Record<string, string> = {
          TILED: 'YES', BLOCKXSIZE: '32', BLOCKYSIZE: i % 2 ? '16' : '48', COMPRESS: 'ZSTD', INTERLEAVE: 'PIXEL',
        };
        if (predictor !== 1) co.PREDICTOR = '2';
        const file = path.join(dir, `z${i++}.tif`);
        writeSource(file, pattern(h, w, c, 'uint8', 100 + i), h, w, c, 'uint8', { creationOptions: co });
        out.push({ file, h, w, c, what: `ZSTD ${dtype} x${c} ${h}x${w} tiles ${co.BLOCKXSIZE}x${co.BLOCKYSIZE} predictor ${predictor}` });
      }
    }
  }
  return out;
}

/** Hand-written one-band uint8 tiled TIFFs whose tile sizes GDAL will not write. */
function handVariants(): Variant[] {
  const out: Variant[] = [];
  const shapes: Array<[number, number, number, number]> = [[90, 100, 63, 64], [50, 41, 17, 17], [70, 90, 24, 20], [40, 300, 100, 16], [33, 33, 8, 8]];
  for (const [h, w, tw, th] of shapes) {
    for (const compression of [1, 8] as const) {
      const tiles: Buffer[] = [];
      for (let ty = 0; ty < Math.ceil(h / th); ty++) {
        for (let tx = 0; tx < Math.ceil(w / tw); tx++) {
          const t = Buffer.alloc(tw * th, 0xee);
          for (let y = 0; y < th; y++) for (let x = 0; x < tw; x++) {
            if (ty * th + y < h && tx * tw + x < w) t[y * tw + x] = ((ty * th + y) * 7 + (tx * tw + x) * 13 + 5) & 255;
          }
          tiles.push(compression === 8 ? zlib.deflateSync(t) : t);
        }
      }
      const file = path.join(dir, `hand-${tw}x${th}-${compression}.tif`);
      fs.writeFileSync(file, tiledTiff({ w, h, tw, th, compression, tiles }));
      out.push({ file, h, w, c: 1, what: `hand-written ${h}x${w} tiles ${tw}x${th} compression ${compression}` });
    }
  }
  return out;
}

function same(got: NDArray, want: ArrayLike<number>, what: string): void {
  const d = firstDiff(hwc(got), want);
  assert.is(d, -1, `${what}: first difference at element ${d}`);
}

/** Windows: all, a corner, the bottom-right edge, a tile-crossing strip, one pixel. */
function windows(h: number, w: number): Array<[number, number, number, number]> {
  return [[0, h, 0, w], [0, Math.min(h, 5), 0, Math.min(w, 7)], [Math.max(0, h - 9), h, Math.max(0, w - 11), w],
    [h >> 1, Math.min(h, (h >> 1) + 3), 0, w], [h - 1, h, w - 1, w],
    [Math.floor(h / 3), Math.max(Math.floor(h / 3) + 1, Math.floor((2 * h) / 3)), Math.floor(w / 3), Math.max(Math.floor(w / 3) + 1, Math.floor((2 * w) / 3))]];
}

/** Reads every variant both ways; returns how many were decoded by each tile decoder. */
function compareAll(variants: Variant[], cacheBudget: number): Record<string, number> {
  setTileCacheBudget(cacheBudget);
  const decoders: Record<string, number> = {};
  for (const v of variants) {
    const r = openImage(v.file) as RasterReader;
    const d = String(r.info.tileDecoder);
    decoders[d] = (decoders[d] ?? 0) + 1;
    try {
      assert.equal(r.shape, [v.h, v.w, v.c], `${v.what}: shape`);
      for (const [y0, y1, x0, x1] of windows(v.h, v.w)) {
        const want = gdalRead(v.file, y0, y1, x0, x1);
        same(r.read([[y0, y1], [x0, x1]]), want, `${v.what} window [${y0}:${y1}, ${x0}:${x1}] cache ${cacheBudget}`);
        // Again: a second read is served from the tile cache when it is on.
        same(r.read([[y0, y1], [x0, x1]]), want, `${v.what} window [${y0}:${y1}, ${x0}:${x1}] cache ${cacheBudget}, again`);
      }
    } finally {
      r.close();
    }
  }
  return decoders;
}

let gv: Variant[] = [];
let hv: Variant[] = [];

test.before(() => {
  gv = [...gdalVariants(), ...zstdRowVariants()];
  hv = handVariants();
});

test.after(() => {
  setTileCacheBudget(256 * 1024 * 1024);
  cleanup();
});

test('the variant matrix covers every compression this GDAL writes, both byte orders and interleaves', () => {
  assert.ok(gv.length >= 80, `${gv.length} GDAL-written variants`);
  for (const comp of ['NONE', 'LZW', 'DEFLATE', 'PACKBITS']) assert.ok(gv.some((v) => v.what.startsWith(`${comp} `)), comp);
  for (const s of [' BIG ', ' LITTLE ', ' PIXEL ', ' BAND ', 'predictor 2', 'predictor 3']) assert.ok(gv.some((v) => v.what.includes(s)), s);
});

test('GDAL-written TIFFs: every pixel equals gdal-async, tile cache on', () => {
  const decoders = compareAll(gv, 256 * 1024 * 1024);
  assert.ok(tileCacheStats().hits > 0, 'the second reads hit the tile cache');
  assert.ok((decoders.libtiff ?? 0) >= 40 && (decoders.gdal ?? 0) >= 10, `both decoders exercised: ${JSON.stringify(decoders)}`);
});

test('GDAL-written TIFFs: every pixel equals gdal-async, tile cache off', () => {
  compareAll(gv, 0);
});

test('hand-written TIFFs with tile sizes that are not multiples of 16: equal to gdal-async and to the file', () => {
  for (const budget of [256 * 1024 * 1024, 0]) {
    const decoders = compareAll(hv, budget);
    assert.equal(decoders, { gdal: hv.length }, 'tile sizes that are not multiples of 16 are GDAL\'s');
  }
  const v = hv[0];
  const truth = new Uint8Array(v.h * v.w);
  for (let y = 0; y < v.h; y++) for (let x = 0; x < v.w; x++) truth[y * v.w + x] = (y * 7 + x * 13 + 5) & 255;
  const r = openImage(v.file);
  same(r.read(), truth, `${v.what} against the values written`);
  r.close();
});

test.run();
