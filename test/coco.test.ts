// CocoFrames: kwcoco datasets (file_name / auxiliary / assets, warps as matrices or kwimage
// parameters, inferred warps), checked against plain TypeScript sampling of known patterns
// through the composed affine; channel requests across files; overview reads (an overview with
// its own pixel values); the demo through toJSON/fromJSON on every backend; loadBatch, sampler;
// the docs example; errors (class and code).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FileError, FramesError } from '../lib/errors';
import { CocoFrames } from '../lib/frames/coco-frames';
import { COCO_DEMO_QUANTIZATION, cocoDemoValues } from '../lib/frames/coco-demo';
import { affineFromParams } from '../lib/frames/coco-warp';
import { compose, invert } from '../lib/frames/affine';
import type { M3 } from '../lib/frames/affine';
import { Frames } from '../lib/frames/frames';
import { AlignableImageData } from '../lib/frames/alignable';
import type { Prefused } from '../lib/frames/alignable';
import type { BatchRequest } from '../lib/frames/batch';
import { openImage } from '../lib/readers';
import type { NDArray } from '../lib/ndarray';
import { makeArray, writeImage } from './_frames-util';
import { expectCode, expectCodeAsync } from './_helpers/errors';
import { rmrf, tempDir } from './_helpers/tmp';

const root = tempDir('coco').dir;
test.after(() => rmrf(root));

const at = (a: NDArray, i: number, j: number, k: number): number => a.data[a.offset + i * a.strides[0] + j * a.strides[1] + k * a.strides[2]];

/** Nearest sampling of f (asset pixel (v, u)) through warp (asset -> image) at the image region's pixel centres. */
function reference(warp: M3, aw: number, ah: number, region: [[number, number], [number, number]], f: (v: number, u: number) => number): number[][] {
  const inv = invert(warp);
  const rows: number[][] = [];
  for (let y = region[0][0]; y < region[0][1]; y++) {
    const row: number[] = [];
    for (let x = region[1][0]; x < region[1][1]; x++) {
      const u = Math.floor(inv[0] * (x + 0.5) + inv[1] * (y + 0.5) + inv[2]);
      const v = Math.floor(inv[3] * (x + 0.5) + inv[4] * (y + 0.5) + inv[5]);
      row.push(u >= 0 && v >= 0 && u < aw && v < ah ? f(v, u) : 0);
    }
    rows.push(row);
  }
  return rows;
}

function band(a: NDArray, k: number): number[][] {
  return Array.from({ length: a.shape[0] }, (_, i) => Array.from({ length: a.shape[1] }, (_, j) => at(a, i, j, k)));
}

test('kwimage parameters compose as O·T·R·E·S·O⁻¹', () => {
  const p = { scale: [2, 3], offset: [5, -7], theta: 0.3, shearx: 0.2, about: [10, 4] };
  const [sx, sy] = p.scale;
  const c = Math.cos(p.theta);
  const s = Math.sin(p.theta);
  // Written out independently (kwimage's closed form).
  const a12 = p.shearx * sy * c - sy * s;
  const a22 = p.shearx * sy * s + sy * c;
  const expect = [sx * c, a12, p.offset[0] + 10 - 10 * sx * c - 4 * a12, sx * s, a22, p.offset[1] + 4 - 10 * sx * s - 4 * a22];
  affineFromParams(p).forEach((x, i) => assert.ok(Math.abs(x - expect[i]) < 1e-9, `m[${i}] ${x} vs ${expect[i]}`));
  assert.equal(affineFromParams({ scale: 2 }), [2, 0, 0, 0, 2, 0]);
});

// A hand-made dataset: a base file, a half-resolution asset (matrix), a rotated+sheared asset
// (parameters), a quarter asset with no warp (inferred), under both list spellings.
const H = 48;
const W = 64;
const baseF = (v: number, u: number, k: number) => (v * 5 + u * 3 + k * 50) & 255;
const halfF = (v: number, u: number) => (v * 16 + u + 7) & 255;
const rotF = (v: number, u: number) => (v * 9 + u * 2 + 1) & 255;
const quarterF = (v: number, u: number, k: number) => 100 * k + v * 16 + u;
const dir = path.join(root, 'bundle');
fs.mkdirSync(path.join(dir, 'img'), { recursive: true });
writeImage(path.join(dir, 'img/base.png'), makeArray(H, W, 3, 'uint8', baseF));
writeImage(path.join(dir, 'img/half.png'), makeArray(H / 2, W / 2, 1, 'uint8', (v, u) => halfF(v, u)));
writeImage(path.join(dir, 'img/rot.png'), makeArray(40, 40, 1, 'uint8', (v, u) => rotF(v, u)));
writeImage(path.join(dir, 'img/q.tif'), makeArray(H / 4, W / 4, 2, 'uint16', quarterF), 'GTiff');
const ROT = { scale: [1.2, 0.9], offset: [20, 1], theta: 0.35, shearx: 0.15, about: [3, 2] };
const dataset = {
  images: [
    { id: 7, file_name: 'img/base.png', channels: 'rgb', width: W, height: H,
      auxiliary: [{ file_name: 'img/half.png', channels: 'half', width: W / 2, height: H / 2, warp_aux_to_img: { type: 'affine', matrix: [[2, 0, 0], [0, 2, 0], [0, 0, 1]] } }],
      assets: [
        { file_name: 'img/rot.png', channels: 'rot', width: 40, height: 40, warp_img_from_asset: ROT },
        { file_name: 'img/q.tif', channels: 'B.1:3', width: W / 4, height: H / 4 },
      ] },
    { id: 'b', width: W, height: H, assets: [{ file_name: 'img/half.png', channels: 'half', width: W / 2, height: H / 2, warp_aux_to_img: { scale: 2 } }] },
  ],
};
fs.writeFileSync(path.join(dir, 'data.kwcoco.json'), JSON.stringify(dataset));

for (const backend of [null, 'npy', 'cog'] as const) {
  test(`alignment against the TypeScript reference (backend ${backend})`, () => {
    const f = new CocoFrames(path.join(dir, 'data.kwcoco.json'), { workdir: path.join(root, 'wd'), backend });
    assert.equal(f.imageIds, [7, 'b']);
    const region: [[number, number], [number, number]] = [[5, 41], [3, 60]];
    const a = f.loadRegion(7, region, { channels: '<all>' });
    assert.equal(a.shape, [36, 57, 3 + 1 + 1 + 2]);
    for (let k = 0; k < 3; k++) assert.equal(band(a, k), reference([1, 0, 0, 0, 1, 0], W, H, region, (v, u) => baseF(v, u, k)), `rgb ${k}`);
    assert.equal(band(a, 3), reference([2, 0, 0, 0, 2, 0], W / 2, H / 2, region, halfF), 'half (matrix)');
    assert.equal(band(a, 4), reference(affineFromParams(ROT), 40, 40, region, rotF), 'rot (parameters)');
    assert.equal(band(a, 5), reference([4, 0, 0, 0, 4, 0], W / 4, H / 4, region, (v, u) => quarterF(v, u, 0)), 'B.1 (inferred)');
    assert.equal(band(a, 6), reference([4, 0, 0, 0, 4, 0], W / 4, H / 4, region, (v, u) => quarterF(v, u, 1)), 'B.2 (inferred)');
    // Bands picked by name across files, in any order.
    const b = f.loadRegion(7, region, { channels: 'B.2|g|half|B.1' });
    assert.equal(b.shape[2], 4);
    assert.equal(band(b, 0), band(a, 6));
    assert.equal(band(b, 1), band(a, 1));
    assert.equal(band(b, 2), band(a, 3));
    assert.equal(band(b, 3), band(a, 5));
    const c = f.loadRegion(7, region, { channels: ['b', 'rgb'] });
    assert.equal([band(c, 0), band(c, 1)], [band(a, 2), band(a, 0)]);
    // The default is the base file; the assets-only image defaults to all its files.
    assert.equal(f.loadRegion(7, region).shape[2], 3);
    assert.equal(band(f.loadRegion('b', region), 0), band(a, 3));
    f.close();
  });
}

test("alignment agrees with GDAL's own warper (python3-gdal, nearest, exact transform) for the rotated, sheared, scaled asset", () => {
  // GDAL places pixel (i, j) of a raster whose geotransform is GT at corner coordinates, as we do
  // (a pixel is centred on (j + 0.5, i + 0.5)), so the asset's warp (asset -> image) is its GT
  // onto an image grid whose GT is the identity. The warper maps each image pixel centre back and
  // takes the asset pixel containing it ('near'), with errorThreshold 0 (no approximation).
  const f = new CocoFrames(path.join(dir, 'data.kwcoco.json'));
  const ours = band(f.loadRegion(7, [[0, H], [0, W]], { channels: 'rot' }), 0);
  f.close();
  const m = affineFromParams(ROT);
  const py = `
import json, sys
from osgeo import gdal
gdal.UseExceptions()
src = gdal.Open(sys.argv[1])
mem = gdal.GetDriverByName('MEM').CreateCopy('', src)
m = json.loads(sys.argv[2])
mem.SetGeoTransform([m[2], m[0], m[1], m[5], m[3], m[4]])
dst = gdal.GetDriverByName('MEM').Create('', ${W}, ${H}, 1, gdal.GDT_Byte)
dst.SetGeoTransform([0, 1, 0, 0, 0, 1])
gdal.Warp(dst, mem, resampleAlg='near', errorThreshold=0, warpOptions=['INIT_DEST=0'])
print(json.dumps(dst.GetRasterBand(1).ReadAsArray().tolist()))
`;
  const out = execFileSync('/usr/bin/python3', ['-c', py, path.join(dir, 'img/rot.png'), JSON.stringify(m)], { encoding: 'utf8' });
  const gdalRows = JSON.parse(out) as number[][];
  let inside = 0;
  let differ = 0;
  for (let i = 0; i < H; i++) {
    for (let j = 0; j < W; j++) {
      if (gdalRows[i][j] !== 0 || ours[i][j] !== 0) inside++;
      if (gdalRows[i][j] !== ours[i][j]) differ++;
    }
  }
  assert.ok(inside > 500, `the asset covers part of the image (${inside} pixels)`);
  assert.is(differ, 0, `${differ} of ${inside} pixels differ from GDAL's warp`);
});

test('fused: false gives each native crop and the affine onto the region', () => {
  const f = new CocoFrames(path.join(dir, 'data.kwcoco.json'));
  const pre = new AlignableImageData(f.lookupPathinfo(7), null).loadRegion([[8, 40], [8, 40]], { channels: 'half|B.1', fused: false }) as Prefused;
  assert.equal(pre.chans.map((c) => c.key), ['half', 'B.1:3']);
  assert.equal(pre.chans[0].auxRegion, [[4, 20], [4, 20]]);
  assert.equal(pre.chans[0].warpCropToRegion, [[2, 0, 0], [0, 2, 0], [0, 0, 1]]);
  assert.equal(pre.chans[1].warpCropToRegion, [[4, 0, 0], [0, 4, 0], [0, 0, 1]]);
  assert.equal(at(pre.chans[1].data, 0, 0, 0), quarterF(2, 2, 0));
});

test('overview reads: scale < 1 and downsampling warps read the overview (distinct values)', () => {
  // A 128x128 tiled GeoTIFF of 10s whose 2x overview holds 100s and 4x overview 200s.
  const file = path.join(dir, 'img/ovr.tif');
  execFileSync('/usr/bin/python3', ['-c', `
from osgeo import gdal
import numpy as np
ds = gdal.GetDriverByName('GTiff').Create(${JSON.stringify(file)}, 128, 128, 1, gdal.GDT_Byte, ['TILED=YES'])
ds.GetRasterBand(1).WriteArray(np.full((128, 128), 10, np.uint8))
ds.BuildOverviews('NEAREST', [2, 4])
b = ds.GetRasterBand(1)
b.GetOverview(0).WriteArray(np.full((64, 64), 100, np.uint8))
b.GetOverview(1).WriteArray(np.full((32, 32), 200, np.uint8))
ds = None
`]);
  const data = { images: [
    { id: 1, width: 128, height: 128, assets: [{ file_name: 'img/ovr.tif', channels: 'v', width: 128, height: 128 }] },
    { id: 2, width: 64, height: 64, assets: [{ file_name: 'img/ovr.tif', channels: 'v', warp_aux_to_img: { scale: 0.5 } }] },
    { id: 3, width: 128, height: 128, assets: [{ file_name: 'img/ovr.tif', channels: 'v' }, { file_name: 'img/half.png', channels: 'h', warp_aux_to_img: { scale: 4 } }] },
  ] };
  const f = new CocoFrames(data, { bundleDpath: dir });
  assert.equal(Array.from(f.loadRegion(1, [[0, 64], [0, 64]]).data.slice(0, 4)), [10, 10, 10, 10], 'full resolution');
  const q = f.loadRegion(3, [[0, 64], [0, 64]], { scale: 0.25, channels: 'v' });
  assert.equal(q.shape, [16, 16, 1]);
  assert.ok(Array.from(q.data).every((x) => x === 200), '4x overview at scale 0.25');
  const h = f.loadRegion(3, [[0, 64], [0, 64]], { scale: 0.5, channels: 'v|h' });
  assert.ok(band(h, 0).flat().every((x) => x === 100), '2x overview at scale 0.5');
  assert.equal(band(h, 1), reference([2, 0, 0, 0, 2, 0], 32, 24, [[0, 32], [0, 32]], halfF), 'the other file still aligned');
  const d = f.loadRegion(2, [[0, 32], [0, 32]]);
  assert.ok(Array.from(d.data).every((x) => x === 100), 'a warp that downsamples reads the 2x overview');
  // The cog backend reads its entry's overview the same way.
  const c = new CocoFrames(data, { bundleDpath: dir, workdir: path.join(root, 'wd2'), backend: 'cog' });
  const got = c.loadRegion(3, [[0, 64], [0, 64]], { scale: 0.25, channels: 'v|h' });
  const entry = openImage(c.lookupPathinfo(3).channels.v.cache as string);
  assert.ok(entry.kind === 'raster' && entry.isCog);
  assert.equal(band(got, 0), band(entry.read([[0, 64], [0, 64]], { scale: 0.25 }), 0));
  entry.close();
  c.close();
});

test('the demo: every asset form, toJSON/fromJSON, quantization, loadBatch, sampler', async () => {
  const workdir = path.join(root, 'demo');
  const f = CocoFrames.demo({ workdir, backend: 'npy' });
  const json = JSON.parse(fs.readFileSync(path.join(workdir, 'demo-kwcoco/data.kwcoco.json'), 'utf8'));
  assert.ok(json.images.some((i: { auxiliary?: unknown }) => i.auxiliary) && json.images.some((i: { assets?: unknown }) => i.assets));
  assert.equal(f.imageIds, [1, 2, 3]);
  const region: [[number, number], [number, number]] = [[16, 80], [40, 104]];
  for (const id of [1, 2, 3]) {
    const a = f.loadRegion(id, region, { channels: '<all>' });
    assert.equal(a.shape, [64, 64, 3 + 2 + 1 + 8]);
    assert.equal(band(a, 3), reference([2, 0, 0, 0, 2, 0], 1e9, 1e9, region, (v, u) => cocoDemoValues.nir(id, v, u)), `nir ${id}`);
    assert.equal(band(a, 8), reference([8, 0, 0, 0, 8, 0], 1e9, 1e9, region, (v, u) => Math.fround(cocoDemoValues.feat(id, 2, v, u))), `feat.2 ${id}`);
    // Each asset has its own cache entry.
    const entries = Object.values(f.lookupPathinfo(id).channels).map((c) => c.cache);
    assert.is(new Set(entries).size, 4);
  }
  const back = Frames.fromJSON(JSON.parse(JSON.stringify(f.toJSON())));
  assert.instance(back, CocoFrames);
  assert.equal(back.loadRegion(2, region, { channels: 'feat:8|mask' }), f.loadRegion(2, region, { channels: 'feat:8|mask' }));
  // Quantization undone on request.
  const dq = CocoFrames.demo({ workdir, dequantize: true });
  const n = dq.loadRegion(1, [[0, 4], [0, 4]], { channels: 'nir|r' });
  assert.is(n.dtype, 'float32');
  assert.ok(Number.isNaN(at(n, 0, 0, 0)), 'nodata -> NaN');
  const k = (COCO_DEMO_QUANTIZATION.orig_max - COCO_DEMO_QUANTIZATION.orig_min) / (COCO_DEMO_QUANTIZATION.quant_max - COCO_DEMO_QUANTIZATION.quant_min);
  assert.ok(Math.abs(at(n, 2, 2, 0) - cocoDemoValues.nir(1, 1, 1) * k) < 1e-6);
  // loadBatch (the fused path) and the sampler.
  const reqs: BatchRequest[] = [{ imageId: 1, region: [[0, 32], [0, 32]] }, { imageId: 3, region: [[100, 132], [8, 40]] }];
  const batch = await f.loadBatch(reqs, { channels: 'r|nir|feat.7', dtype: 'float32' });
  assert.equal(batch.dims, [2, 32, 32, 3]);
  const one = f.loadRegion(3, [[100, 132], [8, 40]], { channels: 'r|nir|feat.7' });
  assert.equal(Array.from(batch.data.subarray(32 * 32 * 3)), Array.from(one.data));
  const scaled = await f.loadBatch(reqs, { channels: 'swir', scale: 0.5 });
  assert.equal(scaled.dims, [2, 16, 16, 1]);
  assert.equal(Array.from(scaled.data.subarray(16 * 16)), Array.from(f.loadRegion(3, [[100, 132], [8, 40]], { channels: 'swir', scale: 0.5 }).data));
  const it = f.sampler({ size: [24, 24], batchSize: 2, channels: 'rgb|mask', seed: 3, epochs: 1 });
  let batches = 0;
  for await (const b of it) {
    assert.equal(b.dims.slice(1), [24, 24, 4]);
    batches++;
  }
  assert.ok(batches >= 1);
  f.close();
});

test('cog backend equals the sources on the demo', async () => {
  const workdir = path.join(root, 'demo');
  const src = CocoFrames.demo({ workdir });
  const cog = CocoFrames.demo({ workdir, backend: 'cog' });
  const report = await cog.prepare({ workers: 2 });
  assert.is(report.failed.length, 0);
  assert.is(report.built, 12);
  for (const id of [1, 2, 3]) {
    assert.equal(cog.loadRegion(id, [[8, 72], [0, 64]], { channels: '<all>' }), src.loadRegion(id, [[8, 72], [0, 64]], { channels: '<all>' }));
  }
  cog.close();
});

test('the docs/api.md CocoFrames example runs as written', () => {
  const doc = fs.readFileSync(path.join(__dirname, '..', 'docs', 'api.md'), 'utf8');
  const start = doc.indexOf('<!-- coco-example -->');
  assert.ok(start > 0, 'the example is marked');
  const code = /```ts\n([\s\S]*?)```/.exec(doc.slice(start))?.[1] as string;
  const file = path.join(root, 'example.mts');
  const lib = path.join(__dirname, '..', 'lib', 'index');
  fs.writeFileSync(file, code.replace(/from 'ndsampler'/g, `from ${JSON.stringify(lib)}`).replace(/<workdir>/g, path.join(root, 'ex')));
  const outText = execFileSync(process.execPath, ['--import', 'tsx', file], { encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' } });
  assert.match(outText, '[ 64, 64, 5 ]', outText);
  assert.match(outText, '[ 32, 32, 14 ]');
});

test('errors: class and code', async () => {
  const f = new CocoFrames(path.join(dir, 'data.kwcoco.json'));
  const e = expectCode(() => f.loadRegion(7, null, { channels: 'nir' }), FramesError, 'ERR_CHANNELS');
  assert.match(e.message, 'r|g|b|half|rot|B.1|B.2');
  expectCode(() => f.loadRegion(7, null, { channels: 'r,g' }), FramesError, 'ERR_CHANNELS');
  await expectCodeAsync(() => f.loadBatch([{ imageId: 7, region: [[0, 8], [0, 8]], channels: 'zz' }]), FramesError, 'ERR_CHANNELS');
  expectCode(() => f.loadRegion(99, null), FramesError, 'ERR_UNKNOWN_IMAGE');
  expectCode(() => new CocoFrames(path.join(dir, 'nope.json')), FileError, 'ERR_SOURCE_MISSING');
  expectCode(() => new CocoFrames({ categories: [] } as never), FramesError, 'ERR_PATHINFO');
  expectCode(() => new CocoFrames({ images: [{ id: 1 }, { id: 1 }] }), FramesError, 'ERR_PATHINFO');
  const bad = (warp: unknown) => new CocoFrames({ images: [{ id: 1, width: 8, height: 8, assets: [{ file_name: 'img/half.png', channels: 'x', warp_aux_to_img: warp }] }] }, { bundleDpath: dir });
  expectCode(() => bad({ type: 'affine', matrix: [[1, 0], [0, 1]] }).loadRegion(1, null), FramesError, 'ERR_PATHINFO');
  expectCode(() => bad({ scale: 'big' }).loadRegion(1, null), FramesError, 'ERR_PATHINFO');
  expectCode(() => bad({ zoom: 2 }).loadRegion(1, null), FramesError, 'ERR_PATHINFO');
  expectCode(() => bad({ scale: 0 }).loadRegion(1, null), FramesError, 'ERR_PATHINFO');
  expectCode(() => new CocoFrames({ images: [{ id: 1, width: 8, height: 8, assets: [{ file_name: 'img/missing.png', channels: 'x' }] }] }, { bundleDpath: dir }).loadRegion(1, null), FileError, 'ERR_SOURCE_MISSING');
  for (const opts of [{ bundleDpath: 3 }, { dequantize: 'yes' }, { colour: 1 }]) {
    try {
      new CocoFrames(dataset, opts as never);
      assert.unreachable();
    } catch (err) {
      assert.instance(err, TypeError);
    }
  }
  // compose is exported for the reference above; keep it honest.
  assert.equal(compose([2, 0, 1, 0, 2, 1], [1, 0, 3, 0, 1, 4]), [2, 0, 7, 0, 2, 9]);
});

test.run();
