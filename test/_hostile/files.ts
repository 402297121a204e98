/**
 * The hostile files of test/hostile.test.ts, generated deterministically into a temporary
 * directory at test time (nothing binary is committed). `hostilePaths(dir)` only names them (the
 * worker processes use it); `makeHostileFiles(dir)` writes them (the test process, once).
 *
 * How each one is built:
 * - good.npy / good.tif / good.png: small valid images (hand-written npy; writeRaster for the rest).
 * - fifo.tif, fifo.npy: `mkfifo` (nobody ever writes to them: an open for reading blocks forever).
 * - sock.png: a Unix socket, listening in the test process (`listenSocket`).
 * - zero.tif, zero.npy, null.npy: symlinks to /dev/zero and /dev/null (so the extension picks
 *   the reader); dir.npy, dir.tif: directories.
 * - trunc.png / trunc.jpg: valid files cut to 60 %; hdr-garbage.{png,jpg,tif}: the first bytes
 *   of a valid file (signature + header), then pseudo-random bytes; empty.{png,jpg,tif}: zero
 *   bytes; random.{png,jpg,tif}: pseudo-random bytes only; trunc-cog.tif: a 512x512x3 DEFLATE COG
 *   (128-pixel tiles, no overviews) cut to half its size (IFD intact, the later tiles missing).
 * - npy-*.npy: hand-built npy headers that lie (see NPY_LIES).
 * - bomb-tile.tif: a classic little-endian TIFF by hand, 65520x65520 uint8, ONE 65520x65520
 *   DEFLATE tile whose payload is ~40 KB (40 MB of zeros, deflated; the rest of the tile missing).
 * - bomb-many.tif: the same size with 256x256 DEFLATE tiles, every TileOffsets entry pointing at
 *   one tiny payload (a 4 GiB image in a ~540 KB file).
 * - bomb-sof.jpg: a valid 16x16 JPEG whose SOF0 height/width bytes are patched to 65500x65500.
 * - bomb.vrt: VRT XML declaring 200000x200000 with a band and no sources.
 * - fifo-src.vrt: a 64x64 VRT whose one source is fifo.tif.
 * - tilebomb-{deflate,jpeg,webp,none}.tif (issue 19): a 400x300 uint8 TIFF whose TileWidth and
 *   TileLength say 65520: one tile decodes to 4 GiB for 120000 pixels (the first: a ~19 KB DEFLATE
 *   payload of zeros; the others the same tags with Compression JPEG, WEBP, none and a few bytes).
 * - ovbomb.tif: a valid 400x300 TIFF with 256x256 DEFLATE tiles whose second IFD, a reduced-
 *   resolution image (NewSubfileType 1, GDAL's overview) of 200x150, has 65520x65520 tiles.
 * - rps-huge.tif: a 400x300 uint8 striped TIFF whose RowsPerStrip says 4294967295 (one DEFLATE
 *   strip, the whole image; pixel (y, x) = (3y + 5x) & 255): harmless (a strip is never taller
 *   than the image), it must read.
 * - latin1/: ok.png and a copy of good.png named with the bytes 'caf\xe9.png' (Latin-1, not UTF-8).
 * - tw63.tif / tw63-deflate.tif: hand-built tiled TIFFs, 100x90 uint8 (one band) with
 *   TileWidth 63 (not a multiple of 16) and TileLength 64, pixel (y, x) = (7y + 13x + 5) & 255,
 *   padding 0xEE; uncompressed and DEFLATE. `tw63Expected` is the ground truth.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { allocate, writeRaster, writeCog } from '../../lib';

/** Every lying npy header: file name -> [header text (null: as given in `raw`), data bytes]. */
export const NPY_LIES = {
  'npy-shape-past-eof': "{'descr': '|u1', 'fortran_order': False, 'shape': (1000, 1000, 3), }",
  'npy-negative-dim': "{'descr': '|u1', 'fortran_order': False, 'shape': (-4, 4, 3), }",
  'npy-huge-dims': "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296), }",
  'npy-overflow-dims': "{'descr': '|u1', 'fortran_order': False, 'shape': (9223372036854775807, 2, 1), }",
  'npy-unknown-dtype': "{'descr': '<q16', 'fortran_order': False, 'shape': (4, 4, 3), }",
  'npy-complex-dtype': "{'descr': '<c8', 'fortran_order': False, 'shape': (4, 4, 3), }",
  'npy-object-dtype': "{'descr': '|O', 'fortran_order': False, 'shape': (4, 4, 3), }",
  'npy-structured-dtype': "{'descr': [('r', '|u1'), ('g', '|u1')], 'fortran_order': False, 'shape': (4, 4), }",
  'npy-fortran-not-bool': "{'descr': '|u1', 'fortran_order': 'maybe', 'shape': (4, 4, 3), }",
  'npy-non-dict': "[('descr', '|u1'), ('shape', (4, 4, 3))]",
  'npy-missing-keys': "{'descr': '|u1', 'shape': (4, 4, 3), }",
  'npy-unparseable': "{'descr': '|u1', 'fortran_order': False, 'shape': (4, 4, 3",
  'npy-shape-not-tuple': "{'descr': '|u1', 'fortran_order': False, 'shape': 'big', }",
  'npy-float-dim': "{'descr': '|u1', 'fortran_order': False, 'shape': (4.5, 4, 3), }",
} as const;

export type NpyLie = keyof typeof NPY_LIES | 'npy-bad-magic' | 'npy-bad-version' | 'npy-hlen-past-eof'
  | 'npy-v2-hlen-huge' | 'npy-empty';

export const NPY_LIE_NAMES: NpyLie[] = [...Object.keys(NPY_LIES) as NpyLie[],
  'npy-bad-magic', 'npy-bad-version', 'npy-hlen-past-eof', 'npy-v2-hlen-huge', 'npy-empty'];

export function hostilePaths(dir: string) {
  const p = (name: string) => path.join(dir, name);
  return {
    dir,
    outside: p('outside'),           // a directory that must stay empty (path-escape cases)
    workdir: p('work'),
    good: { npy: p('good.npy'), tif: p('good.tif'), png: p('good.png') },
    fifo: { tif: p('fifo.tif'), npy: p('fifo.npy'), dst: p('fifo-dst.tif'), dstNpy: p('fifo-dst.npy') },
    sock: p('sock.png'),
    zero: { dev: '/dev/zero', tif: p('zero.tif'), npy: p('zero.npy') },
    devnull: { dev: '/dev/null', npy: p('null.npy') },
    dirs: { npy: p('dir.npy'), tif: p('dir.tif') },
    corrupt: {
      truncPng: p('trunc.png'), truncJpg: p('trunc.jpg'), truncCog: p('trunc-cog.tif'),
      hdrPng: p('hdr-garbage.png'), hdrJpg: p('hdr-garbage.jpg'), hdrTif: p('hdr-garbage.tif'),
      emptyPng: p('empty.png'), emptyJpg: p('empty.jpg'), emptyTif: p('empty.tif'),
      randPng: p('random.png'), randJpg: p('random.jpg'), randTif: p('random.tif'),
    },
    npy: (name: NpyLie) => p(`${name}.npy`),
    bomb: { tile: p('bomb-tile.tif'), many: p('bomb-many.tif'), jpg: p('bomb-sof.jpg'), vrt: p('bomb.vrt') },
    fifoVrt: p('fifo-src.vrt'),
    tileBomb: { deflate: p('tilebomb-deflate.tif'), jpeg: p('tilebomb-jpeg.tif'), webp: p('tilebomb-webp.tif'), none: p('tilebomb-none.tif') },
    ovBomb: p('ovbomb.tif'),
    rpsHuge: p('rps-huge.tif'),
    // A folder holding ok.png and a PNG named with the Latin-1 bytes 'caf\xe9.png' (not UTF-8);
    // `lossy` is that name as Node decodes it from argv or a listing (U+FFFD for the byte).
    latin1: { dir: p('latin1'), lossy: path.join(p('latin1'), 'caf\uFFFD.png') },
    tw63: { raw: p('tw63.tif'), deflate: p('tw63-deflate.tif') },
  };
}
export type HostilePaths = ReturnType<typeof hostilePaths>;

/** A small deterministic PRNG (mulberry32) filling `n` bytes. */
export function prngBytes(n: number, seed: number): Buffer {
  const out = Buffer.alloc(n);
  let a = seed >>> 0;
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (t ^ (t >>> 14)) >>> 24;
  }
  return out;
}

function npyFile(dict: string, data: Buffer, opts: { magic?: string; version?: number; hlen?: number } = {}): Buffer {
  const version = opts.version ?? 1;
  const prefix = version === 2 ? 12 : 10;
  const pad = (64 - ((prefix + dict.length + 1) % 64)) % 64;
  const text = Buffer.from(dict + ' '.repeat(pad) + '\n', 'latin1');
  const head = Buffer.alloc(prefix);
  head.write(opts.magic ?? '\x93NUMPY', 0, 'latin1');
  head[6] = version;
  head[7] = 0;
  if (version === 2) head.writeUInt32LE(opts.hlen ?? text.length, 8);
  else head.writeUInt16LE(opts.hlen ?? text.length, 8);
  return Buffer.concat([head, text, data]);
}

const GOOD_DICT = "{'descr': '|u1', 'fortran_order': False, 'shape': (8, 8, 3), }";

/** Pixel (y, x) of rps-huge.tif. */
export function rpsValue(y: number, x: number): number {
  return (3 * y + 5 * x) & 255;
}

/** Pixel (y, x) of the TileWidth-63 files. */
export const TW63 = { h: 90, w: 100, tw: 63, th: 64 };
export function tw63Value(y: number, x: number): number {
  return (7 * y + 13 * x + 5) & 255;
}

type Entry = [tag: number, type: 3 | 4, values: number[]];

/** A classic little-endian TIFF: header, then the payloads, then one IFD. Offsets are patched in. */
function tiff(entries: Entry[], payloads: Buffer[], offsetsTag = 324): Buffer {
  const parts: Buffer[] = [];
  const head = Buffer.alloc(8);
  head.write('II', 0, 'latin1');
  head.writeUInt16LE(42, 2);
  parts.push(head);
  let pos = 8;
  const payloadOffsets: number[] = [];
  for (const pl of payloads) {
    payloadOffsets.push(pos);
    parts.push(pl);
    pos += pl.length;
    if (pos % 2) {
      parts.push(Buffer.alloc(1));
      pos++;
    }
  }
  const resolved = entries.map(([tag, type, values]): Entry => {
    if (tag === offsetsTag && values.length === 0) return [tag, type, payloadOffsets];
    return [tag, type, values];
  }).sort((a, b) => a[0] - b[0]);
  const ifdOffset = pos;
  head.writeUInt32LE(ifdOffset, 4);
  const ifdSize = 2 + resolved.length * 12 + 4;
  let extra = ifdOffset + ifdSize;
  const ifd = Buffer.alloc(ifdSize);
  const extras: Buffer[] = [];
  ifd.writeUInt16LE(resolved.length, 0);
  resolved.forEach(([tag, type, values], i) => {
    const o = 2 + i * 12;
    const size = type === 3 ? 2 : 4;
    ifd.writeUInt16LE(tag, o);
    ifd.writeUInt16LE(type, o + 2);
    ifd.writeUInt32LE(values.length, o + 4);
    const bytes = Buffer.alloc(values.length * size);
    values.forEach((v, k) => (size === 2 ? bytes.writeUInt16LE(v, k * 2) : bytes.writeUInt32LE(v, k * 4)));
    if (bytes.length <= 4) {
      bytes.copy(ifd, o + 8);
    } else {
      ifd.writeUInt32LE(extra, o + 8);
      extras.push(bytes);
      extra += bytes.length;
    }
  });
  ifd.writeUInt32LE(0, ifdSize - 4);
  return Buffer.concat([...parts, ifd, ...extras]);
}

/**
 * A classic little-endian TIFF with several IFDs (a chain: the first is the main image, the
 * others e.g. reduced-resolution levels). Each IFD's offsets tag (324 TileOffsets) is filled with
 * the offsets of its own payloads when left empty.
 */
function tiffChain(ifds: Array<{ entries: Entry[]; payloads: Buffer[] }>): Buffer {
  const parts: Buffer[] = [Buffer.alloc(8)];
  parts[0].write('II', 0, 'latin1');
  parts[0].writeUInt16LE(42, 2);
  let pos = 8;
  const offsets: number[][] = [];
  for (const d of ifds) {
    const mine: number[] = [];
    for (const pl of d.payloads) {
      mine.push(pos);
      parts.push(pl);
      pos += pl.length;
      if (pos % 2) {
        parts.push(Buffer.alloc(1));
        pos++;
      }
    }
    offsets.push(mine);
  }
  let next = pos;
  const blobs: Buffer[] = [];
  const ifdAt: number[] = [];
  ifds.forEach((d, k) => {
    const resolved = d.entries.map(([tag, type, values]): Entry => [tag, type, tag === 324 && values.length === 0 ? offsets[k] : values])
      .sort((a, b) => a[0] - b[0]);
    const size = 2 + resolved.length * 12 + 4;
    const ifd = Buffer.alloc(size);
    ifdAt.push(next);
    let extra = next + size;
    const extras: Buffer[] = [];
    ifd.writeUInt16LE(resolved.length, 0);
    resolved.forEach(([tag, type, values], i) => {
      const o = 2 + i * 12;
      const sz = type === 3 ? 2 : 4;
      ifd.writeUInt16LE(tag, o);
      ifd.writeUInt16LE(type, o + 2);
      ifd.writeUInt32LE(values.length, o + 4);
      const bytes = Buffer.alloc(values.length * sz);
      values.forEach((val, j) => (sz === 2 ? bytes.writeUInt16LE(val, j * 2) : bytes.writeUInt32LE(val, j * 4)));
      if (bytes.length <= 4) bytes.copy(ifd, o + 8);
      else {
        ifd.writeUInt32LE(extra, o + 8);
        extras.push(bytes);
        extra += bytes.length;
      }
    });
    blobs.push(ifd, ...extras);
    next = extra + (extra % 2);
    if (extra % 2) blobs.push(Buffer.alloc(1));
  });
  // chain: header -> IFD 0 -> IFD 1 ...
  parts[0].writeUInt32LE(ifdAt[0], 4);
  const all = Buffer.concat([...parts, ...blobs]);
  ifds.forEach((d, k) => {
    const n = all.readUInt16LE(ifdAt[k]);
    all.writeUInt32LE(k + 1 < ifds.length ? ifdAt[k + 1] : 0, ifdAt[k] + 2 + n * 12);
  });
  return all;
}

/** A one-band uint8 tiled TIFF by hand (any tile size, even ones GDAL refuses to write). */
export function tiledTiff(o: { w: number; h: number; tw: number; th: number; compression: 1 | 8; tiles: Buffer[];
  offsets?: number[]; counts?: number[] }): Buffer {
  const entries: Entry[] = [
    [256, 4, [o.w]], [257, 4, [o.h]], [258, 3, [8]], [259, 3, [o.compression]], [262, 3, [1]],
    [277, 3, [1]], [284, 3, [1]], [322, 4, [o.tw]], [323, 4, [o.th]],
    [324, 4, o.offsets ?? []], [325, 4, o.counts ?? o.tiles.map((t) => t.length)],
  ];
  return tiff(entries, o.tiles);
}

function tw63Tiles(): Buffer[] {
  const { h, w, tw, th } = TW63;
  const tiles: Buffer[] = [];
  for (let ty = 0; ty < Math.ceil(h / th); ty++) {
    for (let tx = 0; tx < Math.ceil(w / tw); tx++) {
      const t = Buffer.alloc(tw * th, 0xee);
      for (let y = 0; y < th; y++) {
        for (let x = 0; x < tw; x++) {
          const Y = ty * th + y;
          const X = tx * tw + x;
          if (Y < h && X < w) t[y * tw + x] = tw63Value(Y, X);
        }
      }
      tiles.push(t);
    }
  }
  return tiles;
}

/** The TileWidth-63 image as HWC uint8, row-major. */
export function tw63Expected(): Uint8Array {
  const out = new Uint8Array(TW63.h * TW63.w);
  for (let y = 0; y < TW63.h; y++) for (let x = 0; x < TW63.w; x++) out[y * TW63.w + x] = tw63Value(y, x);
  return out;
}

/** Writes every hostile file (except the socket: see listenSocket) into `dir`. */
export function makeHostileFiles(dir: string): HostilePaths {
  const P = hostilePaths(dir);
  fs.mkdirSync(P.outside, { recursive: true });
  fs.mkdirSync(P.workdir, { recursive: true });
  fs.mkdirSync(P.dirs.npy);
  fs.mkdirSync(P.dirs.tif);

  // good images
  const px = prngBytes(8 * 8 * 3, 1);
  fs.writeFileSync(P.good.npy, npyFile(GOOD_DICT, px));
  const good = allocate([8, 8, 3], 'uint8');
  (good.data as Uint8Array).set(px);
  writeRaster(P.good.tif, good);
  writeRaster(P.good.png, good);

  // special files
  for (const f of [P.fifo.tif, P.fifo.npy, P.fifo.dst, P.fifo.dstNpy]) {
    const r = spawnSync('mkfifo', [f]);
    if (r.status !== 0) throw new Error(`mkfifo ${f} failed: ${String(r.stderr)}`);
  }
  fs.symlinkSync('/dev/zero', P.zero.tif);
  fs.symlinkSync('/dev/zero', P.zero.npy);
  fs.symlinkSync('/dev/null', P.devnull.npy);

  // corrupt rasters
  const noise = allocate([64, 64, 3], 'uint8');
  (noise.data as Uint8Array).set(prngBytes(64 * 64 * 3, 2));
  const pngPath = path.join(dir, 'src-ok.png');
  const jpgPath = path.join(dir, 'src-ok.jpg');
  writeRaster(pngPath, noise);
  writeRaster(jpgPath, noise);
  const png = fs.readFileSync(pngPath);
  const jpg = fs.readFileSync(jpgPath);
  const c = P.corrupt;
  fs.writeFileSync(c.truncPng, png.subarray(0, Math.floor(png.length * 0.6)));
  fs.writeFileSync(c.truncJpg, jpg.subarray(0, Math.floor(jpg.length * 0.6)));
  fs.writeFileSync(c.hdrPng, Buffer.concat([png.subarray(0, 33), prngBytes(png.length - 33, 3)]));   // signature + IHDR
  fs.writeFileSync(c.hdrJpg, Buffer.concat([jpg.subarray(0, 20), prngBytes(jpg.length - 20, 4)]));   // SOI + APP0
  const tifHead = Buffer.from([0x49, 0x49, 42, 0, 8, 0, 0, 0]);
  fs.writeFileSync(c.hdrTif, Buffer.concat([tifHead, prngBytes(4000, 5)]));
  for (const f of [c.emptyPng, c.emptyJpg, c.emptyTif]) fs.writeFileSync(f, '');
  fs.writeFileSync(c.randPng, prngBytes(5000, 6));
  fs.writeFileSync(c.randJpg, prngBytes(5000, 7));
  fs.writeFileSync(c.randTif, prngBytes(5000, 8));
  const big = allocate([512, 512, 3], 'uint8');
  (big.data as Uint8Array).set(prngBytes(512 * 512 * 3, 9));
  const bigTif = path.join(dir, 'src-big.tif');
  writeRaster(bigTif, big);
  const cogFull = path.join(dir, 'src-cog.tif');
  writeCog(bigTif, cogFull, { compress: 'DEFLATE', blocksize: 128, overviews: 'none' });
  const cog = fs.readFileSync(cogFull);
  fs.writeFileSync(c.truncCog, cog.subarray(0, Math.floor(cog.length / 2)));

  // lying npy headers
  const data48 = prngBytes(48, 10);
  for (const [name, dict] of Object.entries(NPY_LIES)) {
    fs.writeFileSync(P.npy(name as NpyLie), npyFile(dict, name === 'npy-shape-past-eof' ? Buffer.alloc(10) : data48));
  }
  fs.writeFileSync(P.npy('npy-bad-magic'), npyFile(GOOD_DICT, px, { magic: '\x93NUMPZ' }));
  fs.writeFileSync(P.npy('npy-bad-version'), npyFile(GOOD_DICT, px, { version: 9 }));
  fs.writeFileSync(P.npy('npy-hlen-past-eof'), npyFile(GOOD_DICT, px, { hlen: 60000 }));
  fs.writeFileSync(P.npy('npy-v2-hlen-huge'), npyFile(GOOD_DICT, px, { version: 2, hlen: 0xfffffff0 }));
  fs.writeFileSync(P.npy('npy-empty'), '');

  // decompression bombs
  const zeros = zlib.deflateSync(Buffer.alloc(40_000_000), { level: 9 });   // ~40 KB
  fs.writeFileSync(P.bomb.tile, tiledTiff({ w: 65520, h: 65520, tw: 65520, th: 65520, compression: 8, tiles: [zeros] }));
  const tileZeros = zlib.deflateSync(Buffer.alloc(256 * 256), { level: 9 });
  const n = Math.ceil(65520 / 256) ** 2;
  const manyEntries: Entry[] = [
    [256, 4, [65520]], [257, 4, [65520]], [258, 3, [8]], [259, 3, [8]], [262, 3, [1]],
    [277, 3, [1]], [284, 3, [1]], [322, 4, [256]], [323, 4, [256]],
    [324, 4, new Array(n).fill(8)], [325, 4, new Array(n).fill(tileZeros.length)],
  ];
  fs.writeFileSync(P.bomb.many, tiff(manyEntries, [tileZeros], -1));
  const smallJpg = path.join(dir, 'src-16.jpg');
  const s16 = allocate([16, 16, 3], 'uint8');
  (s16.data as Uint8Array).set(prngBytes(16 * 16 * 3, 11));
  writeRaster(smallJpg, s16);
  const j = Buffer.from(fs.readFileSync(smallJpg));
  const sof = j.indexOf(Buffer.from([0xff, 0xc0]));
  if (sof < 0) throw new Error('no SOF0 marker in the small JPEG');
  j.writeUInt16BE(65500, sof + 5);   // height
  j.writeUInt16BE(65500, sof + 7);   // width
  fs.writeFileSync(P.bomb.jpg, j);
  fs.writeFileSync(P.bomb.vrt,
    '<VRTDataset rasterXSize="200000" rasterYSize="200000">\n' +
    '  <VRTRasterBand dataType="Byte" band="1"/>\n' +
    '</VRTDataset>\n');
  fs.writeFileSync(P.fifoVrt,
    '<VRTDataset rasterXSize="64" rasterYSize="64">\n' +
    '  <VRTRasterBand dataType="Byte" band="1">\n' +
    `    <SimpleSource><SourceFilename relativeToVRT="0">${P.fifo.tif}</SourceFilename><SourceBand>1</SourceBand>\n` +
    '      <SrcRect xOff="0" yOff="0" xSize="64" ySize="64"/><DstRect xOff="0" yOff="0" xSize="64" ySize="64"/>\n' +
    '    </SimpleSource>\n' +
    '  </VRTRasterBand>\n' +
    '</VRTDataset>\n');

  // Tiles larger than the image (issue 19)
  const tb = { w: 400, h: 300, tw: 65520, th: 65520 };
  fs.writeFileSync(P.tileBomb.deflate, tiledTiff({ ...tb, compression: 8, tiles: [zlib.deflateSync(Buffer.alloc(300 * 65520), { level: 9 })] }));
  const tbEntries = (compression: number): Entry[] => [
    [256, 4, [tb.w]], [257, 4, [tb.h]], [258, 3, [8]], [259, 3, [compression]], [262, 3, [1]],
    [277, 3, [1]], [284, 3, [1]], [322, 4, [tb.tw]], [323, 4, [tb.th]], [324, 4, []], [325, 4, [64]],
  ];
  fs.writeFileSync(P.tileBomb.jpeg, tiffChain([{ entries: tbEntries(7), payloads: [prngBytes(64, 12)] }]));
  fs.writeFileSync(P.tileBomb.webp, tiffChain([{ entries: tbEntries(50001), payloads: [prngBytes(64, 13)] }]));
  fs.writeFileSync(P.tileBomb.none, tiffChain([{ entries: tbEntries(1), payloads: [prngBytes(64, 14)] }]));
  const t256 = zlib.deflateSync(Buffer.alloc(256 * 256), { level: 9 });
  const mainTiles = Math.ceil(400 / 256) * Math.ceil(300 / 256);
  fs.writeFileSync(P.ovBomb, tiffChain([
    { entries: [[256, 4, [400]], [257, 4, [300]], [258, 3, [8]], [259, 3, [8]], [262, 3, [1]], [277, 3, [1]], [284, 3, [1]],
      [322, 4, [256]], [323, 4, [256]], [324, 4, []], [325, 4, new Array(mainTiles).fill(t256.length)]],
    payloads: new Array(mainTiles).fill(t256) },
    { entries: [[254, 4, [1]], [256, 4, [200]], [257, 4, [150]], [258, 3, [8]], [259, 3, [8]], [262, 3, [1]], [277, 3, [1]], [284, 3, [1]],
      [322, 4, [65520]], [323, 4, [65520]], [324, 4, []], [325, 4, [t256.length]]],
    payloads: [t256] },
  ]));
  const strip = Buffer.alloc(400 * 300);
  for (let y = 0; y < 300; y++) for (let x = 0; x < 400; x++) strip[y * 400 + x] = rpsValue(y, x);
  const stripZ = zlib.deflateSync(strip);
  fs.writeFileSync(P.rpsHuge, tiff([
    [256, 4, [400]], [257, 4, [300]], [258, 3, [8]], [259, 3, [8]], [262, 3, [1]], [277, 3, [1]], [284, 3, [1]],
    [273, 4, []], [278, 4, [4294967295]], [279, 4, [stripZ.length]],
  ], [stripZ], 273));

  // A file name that is not UTF-8 (issue 19)
  fs.mkdirSync(P.latin1.dir);
  fs.copyFileSync(P.good.png, path.join(P.latin1.dir, 'ok.png'));
  fs.copyFileSync(P.good.png, Buffer.from(`${P.latin1.dir}/caf\xe9.png`, 'latin1'));

  // TileWidth 63
  const tiles = tw63Tiles();
  const base = { w: TW63.w, h: TW63.h, tw: TW63.tw, th: TW63.th };
  fs.writeFileSync(P.tw63.raw, tiledTiff({ ...base, compression: 1, tiles }));
  fs.writeFileSync(P.tw63.deflate, tiledTiff({ ...base, compression: 8, tiles: tiles.map((t) => zlib.deflateSync(t)) }));
  return P;
}

/** Listens on the Unix socket `file` (a socket file exists only while someone listens). */
export function listenSocket(file: string): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((s) => s.destroy());
    server.once('error', reject);
    server.listen(file, () => resolve(server));
  });
}

