#!/usr/bin/env node
'use strict';
// Writes the seed corpora of the libFuzzer targets (native/fuzz/fuzz_<name>.cc), one directory
// per target, at build/CI time (nothing binary is committed):
//   node scripts/fuzz-seeds.js OUTDIR      -> OUTDIR/npy_header, OUTDIR/request, OUTDIR/tiff_tiles,
//                                             OUTDIR/rasterize
// - npy_header: whole valid .npy files (header + data) of every dtype in every byte order numpy
//   writes ('<', '>', '=', '|'), format versions 1.0, 2.0 and 3.0, C and Fortran order, 2-D and
//   3-D, including an empty array; the header bytes are built here as numpy lays them out.
// - request: deterministic pseudo-random byte strings (the target reads them through
//   FuzzedDataProvider, so any bytes are a well-formed input).
// - tiff_tiles: small tiled GeoTIFFs written with GDAL (gdal-async, a dev dependency): every
//   codec TiffTileReader decodes (NONE, LZW with and without a predictor, DEFLATE, ZSTD, LZMA,
//   PACKBITS) plus ones it declines (JPEG, band-separate), several dtypes and band counts, images
//   that are not a multiple of the tile size (clipped edge tiles), and a sparse file.
const fs = require('node:fs');
const path = require('node:path');

const out = process.argv[2];
if (!out || process.argv.length > 3) {
  process.stderr.write('usage: node scripts/fuzz-seeds.js OUTDIR\n');
  process.exit(2);
}
const dir = (name) => {
  const d = path.join(out, name);
  fs.rmSync(d, { recursive: true, force: true });
  fs.mkdirSync(d, { recursive: true });
  return d;
};

// ---- npy_header ----------------------------------------------------------------------------
// A .npy file as numpy writes it: magic, version, header length (2 bytes in 1.0, 4 in 2.0/3.0),
// the dict padded with spaces and ended by '\n' so the data starts at a multiple of 64.
function npyFile(descr, shape, fortran, version) {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': ${shapeText}, }`;
  const prefix = version === 1 ? 10 : 12;
  const pad = (64 - ((prefix + dict.length + 1) % 64)) % 64;
  const text = Buffer.from(dict + ' '.repeat(pad) + '\n', version === 3 ? 'utf8' : 'latin1');
  const head = Buffer.alloc(prefix);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]).copy(head);
  if (version === 1) head.writeUInt16LE(text.length, 8);
  else head.writeUInt32LE(text.length, 8);
  const items = shape.reduce((a, b) => a * b, 1);
  const data = Buffer.alloc(items * Number(descr.slice(2)));
  for (let i = 0; i < data.length; i++) data[i] = (i * 37) & 0xff;
  return Buffer.concat([head, text, data]);
}
{
  const d = dir('npy_header');
  const kinds = ['u1', 'i1', 'u2', 'i2', 'u4', 'i4', 'f4', 'f8'];
  let n = 0;
  for (const k of kinds) {
    const orders = k.endsWith('1') ? ['|', '<', '>', '='] : ['<', '>', '='];
    for (const o of orders) {
      for (const version of [1, 2, 3]) {
        for (const [shape, fortran] of [[[3, 4, 2], false], [[3, 4, 2], true], [[5, 3], false], [[2, 0, 3], false]]) {
          fs.writeFileSync(path.join(d, `${o === '|' ? 'p' : o === '<' ? 'le' : o === '>' ? 'be' : 'eq'}-${k}-v${version}-` +
            `${shape.join('x')}${fortran ? '-F' : ''}.npy`), npyFile(o + k, shape, fortran, version));
          n++;
        }
      }
    }
  }
  process.stdout.write(`fuzz-seeds: npy_header: ${n} files\n`);
}

// ---- request -------------------------------------------------------------------------------
{
  const d = dir('request');
  let s = 0x9e3779b9;
  const next = () => { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; return s >>> 0; };
  for (let i = 0; i < 32; i++) {
    const b = Buffer.alloc(48 + (i * 13) % 160);
    for (let j = 0; j < b.length; j++) b[j] = next() & 0xff;
    fs.writeFileSync(path.join(d, `random-${String(i).padStart(2, '0')}`), b);
  }
  process.stdout.write('fuzz-seeds: request: 32 files\n');
}

// ---- tiff_tiles ----------------------------------------------------------------------------
{
  const d = dir('tiff_tiles');
  const gdal = require('gdal-async');
  const cases = [
    // [name, width, height, bands, GDAL type, creation options]
    ['none-u8x3', 40, 24, 3, gdal.GDT_Byte, ['COMPRESS=NONE']],
    ['lzw-u8x3', 40, 24, 3, gdal.GDT_Byte, ['COMPRESS=LZW']],
    ['lzw-pred2-u16x1', 33, 17, 1, gdal.GDT_UInt16, ['COMPRESS=LZW', 'PREDICTOR=2']],
    ['deflate-f32x2', 20, 36, 2, gdal.GDT_Float32, ['COMPRESS=DEFLATE', 'PREDICTOR=3']],
    ['zstd-i16x4', 32, 32, 4, gdal.GDT_Int16, ['COMPRESS=ZSTD']],
    ['lzma-f64x1', 17, 18, 1, gdal.GDT_Float64, ['COMPRESS=LZMA']],
    ['packbits-u32x1', 24, 20, 1, gdal.GDT_UInt32, ['COMPRESS=PACKBITS']],
    ['deflate-i32x2', 16, 16, 2, gdal.GDT_Int32, ['COMPRESS=DEFLATE']],
    ['jpeg-u8x3', 40, 24, 3, gdal.GDT_Byte, ['COMPRESS=JPEG']],
    ['separate-u8x3', 40, 24, 3, gdal.GDT_Byte, ['COMPRESS=LZW', 'INTERLEAVE=BAND']],
    ['sparse-u8x1', 48, 48, 1, gdal.GDT_Byte, ['COMPRESS=DEFLATE', 'SPARSE_OK=TRUE']],
  ];
  const ctor = {
    [gdal.GDT_Byte]: Uint8Array, [gdal.GDT_UInt16]: Uint16Array, [gdal.GDT_Int16]: Int16Array,
    [gdal.GDT_UInt32]: Uint32Array, [gdal.GDT_Int32]: Int32Array, [gdal.GDT_Float32]: Float32Array,
    [gdal.GDT_Float64]: Float64Array,
  };
  for (const [name, w, h, bands, type, co] of cases) {
    const file = path.join(d, `${name}.tif`);
    const ds = gdal.open(file, 'w', 'GTiff', w, h, bands, type, ['TILED=YES', 'BLOCKXSIZE=16', 'BLOCKYSIZE=16', ...co]);
    for (let b = 1; b <= bands; b++) {
      if (name.startsWith('sparse')) {  // one written tile; the others stay absent from the file
        const px = new (ctor[type])(16 * 16).map((_, i) => (i * 7 + b) % 200);
        ds.bands.get(b).pixels.write(16, 16, 16, 16, px);
        continue;
      }
      const px = new (ctor[type])(w * h).map((_, i) => ((i * 7 + b * 31) % 200) - (type === gdal.GDT_Int16 ? 100 : 0));
      ds.bands.get(b).pixels.write(0, 0, w, h, px);
    }
    ds.close();
  }
  process.stdout.write(`fuzz-seeds: tiff_tiles: ${cases.length} files\n`);
}

// ---- rasterize -----------------------------------------------------------------------------
// Deterministic pseudo-random byte strings, as for request (read through FuzzedDataProvider).
{
  const d = dir('rasterize');
  let s = 0x2545f491;
  const next = () => { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; return s >>> 0; };
  for (let i = 0; i < 24; i++) {
    const b = Buffer.alloc(64 + (i * 29) % 400);
    for (let j = 0; j < b.length; j++) b[j] = next() & 0xff;
    fs.writeFileSync(path.join(d, `random-${String(i).padStart(2, '0')}`), b);
  }
  process.stdout.write('fuzz-seeds: rasterize: 24 files\n');
}
