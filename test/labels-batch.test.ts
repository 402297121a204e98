/**
 * CocoSampler.loadBatch: labeled batches against independent references. Pixels equal loadSample's
 * (itself checked against gdal-async reads) and numpy's flip / rot90 of the plain crop; masks equal
 * the painted pixels (GDAL's rasterize, python3 osgeo) of every object inside the image, for every
 * orientation, for polygons and RLEs; polygons with awkward edges equal GDAL's rasterize exactly.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { allocate, CocoFrames, CocoSampler, FramesError, RegionError, writeRaster } from '../lib';
import type { LabeledBatch, Target } from '../lib';
import { makePainted, numpy, objectPixels, PY } from './_labels-fixture';
import type { Painted } from './_labels-fixture';
import { expectCodeAsync } from './_helpers/errors';
import { Worker } from 'node:worker_threads';
import { nodeArgs } from './_frames-util';

let P: Painted;
let S: CocoSampler;
test.before(() => {
  P = makePainted();
  S = new CocoSampler(P.file);
});
test.after(() => fs.rmSync(P.dir, { recursive: true, force: true }));

const AUGS = [{}, { hflip: true }, { vflip: true }, { rot90: 1 }, { rot90: 2 }, { rot90: 3 }, { hflip: true, rot90: 1 }, { hflip: true, vflip: true, rot90: 3 }] as const;
const HW = 48 * 64;

/** Pixel q of crop i lies inside its image (by the crop's transform `t`). */
function inImage(b: LabeledBatch, i: number, t: number[], q: number, W = 64): boolean {
  const [y, x] = [Math.floor(q / W) + 0.5, (q % W) + 0.5];
  const ix = t[0] * x + t[1] * y + t[2], iy = t[3] * x + t[4] * y + t[5];
  const img = P.dataset.images.find((m) => m.id === b.targets[i].imageId)!;
  return ix >= 0 && iy >= 0 && ix < img.width && iy < img.height;
}

test('pixels and labels equal loadSample for every orientation; instance masks equal the painted objects', async () => {
  let checked = 0;
  for (const aug of AUGS) {
    const targets: Target[] = S.positives({ windowDims: [48, 64] }).map((t) => ({ ...t, augment: { ...aug } }));
    const b = await S.loadBatch(targets, { masks: 'instance' });
    assert.equal(b.dims, [targets.length, 48, 64, 3]);
    assert.equal(b.masks!.dims, [targets.length, 48, 64]);
    assert.is(b.masks!.dtype, 'uint8');
    for (let i = 0; i < targets.length; i++) {
      const s = S.loadSample(targets[i]);
      assert.equal(b.targets[i], s.target);
      assert.equal(b.annotations[i], s.annotations);
      const px = b.data.subarray(i * HW * 3, (i + 1) * HW * 3);
      assert.ok(px.every((v, k) => v === s.im.data[k]), `crop ${i} pixels, ${JSON.stringify(aug)}`);
      const inside = Array.from({ length: HW }, (_, q) => inImage(b, i, s.transform, q));
      b.annotations[i][0].ids.forEach((id, k) => {
        const m = objectPixels(px, 48, 64, id as number);
        let inter = 0, union = 0;
        for (let q = 0; q < HW; q++) {
          if (!inside[q]) continue;  // the padding shows no object, its label is the geometry's
          const got = b.masks!.data[i * HW + q] === k + 1;
          if (got && m[q]) inter++;
          if (got || m[q]) union++;
        }
        if (union > 0) {
          checked++;
          assert.is(inter, union, `object ${id} in crop ${i} (${JSON.stringify(aug)}): IoU ${inter / union}`);
        }
      });
    }
  }
  assert.ok(checked >= 100, `${checked} masks checked`);
});

test('class masks hold category ids; masks turn like numpy turns the plain mask', async () => {
  const base: Target = { imageId: 1, cx: 80, cy: 60, windowDims: [48, 64] };
  const plain = await S.loadBatch([base], { masks: 'class' });
  const tall = await S.loadBatch([{ ...base, windowDims: [64, 48] }], { masks: 'class' });
  const cat = new Map(P.dataset.annotations.map((a) => [a.id, a.category_id]));
  for (let q = 0; q < HW; q++) {
    const px = plain.data.subarray(3 * q, 3 * q + 3);
    if (px[2] === 255 && px[1] === 77) assert.is(plain.masks!.data[q], cat.get(px[0]));
  }
  for (const [aug, expr] of [[{ hflip: true }, 'a[:, ::-1]'], [{ rot90: 1 }, 'np.rot90(a, 1)'], [{ rot90: 3, vflip: true }, 'np.rot90(a[::-1], 3)']] as const) {
    const odd = ((aug as { rot90?: number }).rot90 ?? 0) % 2 === 1;
    const ref = (odd ? tall : plain).masks!.data;
    const b = await S.loadBatch([{ ...base, augment: aug }], { masks: 'class' });
    const want = numpy({ data: ref, shape: odd ? [64, 48] : [48, 64] }, expr);
    assert.equal(Array.from(b.masks!.data), want, JSON.stringify(aug));
  }
});

test('NCHW float32 normalised batches hold the same crops, transposed and normalised', async () => {
  const targets = S.positives({ windowDims: [32, 32] }).slice(0, 6).map((t, i) => ({ ...t, augment: { rot90: (i % 4) as 0 | 1 | 2 | 3 } }));
  const u8 = await S.loadBatch(targets);
  const f = await S.loadBatch(targets, { layout: 'NCHW', dtype: 'float32', normalize: { scale: 1 / 255, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] } });
  assert.equal(f.dims, [6, 3, 32, 32]);
  for (let i = 0; i < 6; i++) {
    for (let c = 0; c < 3; c++) {
      for (let q = 0; q < 32 * 32; q++) {
        const want = Math.fround((u8.data[(i * 1024 + q) * 3 + c] * (1 / 255) - 0.5) / 0.25);
        if (f.data[(i * 3 + c) * 1024 + q] !== want) assert.unreachable(`crop ${i} channel ${c} pixel ${q}`);
      }
    }
  }
});

/** GDAL's rasterize (python3 osgeo) of one polygon per feature, burnt with value k + 1 in order. */
function gdalRasterize(H: number, W: number, polys: number[][][]): number[] {
  const code = `
import sys, json
from osgeo import gdal, ogr
gdal.PushErrorHandler('CPLQuietErrorHandler')
d = json.loads(sys.stdin.read())
ds = gdal.GetDriverByName('MEM').Create('', d['W'], d['H'], 1, gdal.GDT_Byte)
ds.SetGeoTransform([0, 1, 0, 0, 0, 1])
for k, rings in enumerate(d['polys']):
    mem = ogr.GetDriverByName('Memory').CreateDataSource('m'); lyr = mem.CreateLayer('l')
    g = ogr.Geometry(ogr.wkbPolygon)
    for ring in rings:
        r = ogr.Geometry(ogr.wkbLinearRing)
        for i in range(0, len(ring), 2): r.AddPoint_2D(ring[i], ring[i + 1])
        r.CloseRings(); g.AddGeometry(r)
    f = ogr.Feature(lyr.GetLayerDefn()); f.SetGeometry(g); lyr.CreateFeature(f)
    gdal.RasterizeLayer(ds, [1], lyr, burn_values=[k + 1])
print(json.dumps(ds.GetRasterBand(1).ReadAsArray().flatten().tolist()))`;
  const r = spawnSync(PY, ['-c', code], { input: JSON.stringify({ H, W, polys }), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

test("awkward polygons equal GDAL's rasterize exactly: edges on pixel centres (both directions), vertices on centres, holes, self-intersections, far vertices", async () => {
  const H = 40, W = 50;
  const polys: number[][][] = [
    [[2.5, 2.5, 12.5, 2.5, 12.5, 10.5, 2.5, 10.5]],        // horizontal edges exactly on row centres, clockwise
    [[20.5, 2.5, 20.5, 10.5, 30.5, 10.5, 30.5, 2.5]],      // the same, counter-clockwise
    [[35, 3, 48, 3, 48, 15, 35, 15], [38, 6, 44, 6, 44, 12, 38, 12]],  // a hole (kwcoco interiors)
    [[2, 20, 18, 36, 18, 20, 2, 36]],                       // a bow tie (self-intersecting)
    [[25, 20, 1e7, 27.3, 26, 35]],                          // a far vertex
    [[40.25, 20.75, 47.75, 22.5, 44.5, 37.5, 36.1, 30.2]],
  ];
  const want = gdalRasterize(H, W, polys);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nds-awk-'));
  const seg = (rings: number[][]) => rings.length === 1 ? [rings[0]]
    : { exterior: pairs(rings[0]), interiors: rings.slice(1).map(pairs) };
  const pairs = (r: number[]) => Array.from({ length: r.length / 2 }, (_, i) => [r[2 * i], r[2 * i + 1]]);
  const ds = {
    images: [{ id: 1, file_name: 'x.png', width: W, height: H }], categories: [{ id: 1 }],
    annotations: polys.map((rings, k) => ({ id: k + 1, image_id: 1, category_id: 1, segmentation: seg(rings) })),
  };
  writeRaster(path.join(dir, 'x.png'), allocate([H, W, 1], 'uint8', true));
  const s = new CocoSampler(ds, { bundleDpath: dir });
  const b = await s.loadBatch([{ imageId: 1 }], { masks: 'instance' });
  fs.rmSync(dir, { recursive: true, force: true });
  const got = Array.from(b.masks!.data);
  const diff = got.map((g, q) => (g !== want[q] ? q : -1)).filter((q) => q >= 0);
  assert.equal(diff.map((q) => [Math.floor(q / W), q % W, got[q], want[q]]), [], 'pixels (row, col, ours, GDAL) that differ');
});

test('RLE masks sampled through a turned, scaled window keep the pixels of the painted object', async () => {
  const rleAnn = P.dataset.annotations.find((a) => !Array.isArray(a.segmentation) && a.image_id === 1)!;
  const b = await S.loadBatch([{ annotationId: rleAnn.id, windowDims: [40, 40], augment: { rot90: 1, scale: 2 } }], { masks: 'instance' });
  const k = b.annotations[0][0].ids.indexOf(rleAnn.id);
  const m = objectPixels(b.data, 40, 40, rleAnn.id);
  let inter = 0, union = 0;
  for (let q = 0; q < 1600; q++) {
    const got = b.masks!.data[q] === k + 1;
    if (got && m[q]) inter++;
    if (got || m[q]) union++;
  }
  assert.ok(union > 100 && inter / union >= 0.98, `IoU ${inter / union}`);
});

test('a fused multi-file image (kwcoco assets) is oriented like numpy turns its plain crop', async () => {
  const wd = fs.mkdtempSync(path.join(os.tmpdir(), 'nds-fused-'));
  const s = new CocoSampler(CocoFrames.demo({ workdir: wd }));
  const base: Target = { imageId: 1, cx: 100, cy: 120, windowDims: [24, 24], channels: 'r|g|nir' };
  const plain = await s.loadBatch([base], { dtype: 'float32' });
  for (const [aug, expr] of [[{ rot90: 1 }, 'np.rot90(a, 1)'], [{ hflip: true, vflip: true }, 'a[::-1, ::-1]']] as const) {
    const b = await s.loadBatch([{ ...base, augment: aug }], { dtype: 'float32' });
    assert.equal(Array.from(b.data), numpy({ data: plain.data, shape: [24, 24, 3] }, expr), JSON.stringify(aug));
  }
  fs.rmSync(wd, { recursive: true, force: true });
});

test("onError 'fill': a failed crop has no annotations and an empty mask", async () => {
  const ds = JSON.parse(fs.readFileSync(P.file, 'utf8'));
  ds.images[1].file_name = 'missing.png';
  const s = new CocoSampler(ds, { bundleDpath: P.dir });
  const b = await s.loadBatch([{ imageId: 1, region: [[0, 20], [0, 20]] }, { imageId: 2, region: [[0, 20], [0, 20]] }], { masks: 'instance', onError: 'fill' });
  assert.is(b.errors.length, 1);
  assert.is(b.errors[0].index, 1);
  assert.equal(b.annotations[1][0].ids, []);
  assert.ok(b.masks!.data.subarray(400).every((x) => x === 0));
});

test('worker termination with labeled batches and masks in flight: the process lives on', async () => {
  const script = path.join(__dirname, '_labels-worker.ts');
  for (let round = 0; round < 3; round++) {
    const w = new Worker(script, { workerData: { file: P.file }, execArgv: nodeArgs(script).slice(0, -1) });
    await new Promise<void>((resolve, reject) => {
      w.once('message', () => resolve());
      w.once('error', reject);
    });
    await w.terminate();
  }
  const b = await S.loadBatch(S.positives({ windowDims: [48, 48] }), { masks: 'instance' });
  assert.is(b.masks!.dims[0], P.dataset.annotations.length);
});

test('bad labeled batches', async () => {
  await expectCodeAsync(() => S.loadBatch([]), RangeError, 'ERR_OUT_OF_RANGE');
  await expectCodeAsync(() => S.loadBatch('x' as never), TypeError, 'ERR_INVALID_ARG_TYPE');
  await expectCodeAsync(() => S.loadBatch([{ imageId: 1 }], { masks: 'semantic' as never }), TypeError, 'ERR_INVALID_ARG_TYPE');
  await expectCodeAsync(() => S.loadBatch([{ imageId: 1 }], { boundless: false }), TypeError, 'ERR_INVALID_ARG_TYPE');
  await expectCodeAsync(() => S.loadBatch([{ imageId: 1 }], { scale: 2 }), RangeError, 'ERR_OUT_OF_RANGE');
  await expectCodeAsync(() => S.loadBatch([{ imageId: 1 }, { imageId: 2 }]), RegionError, 'ERR_REGION');
  await expectCodeAsync(() => S.loadBatch([{ annotationId: 12345 }]), FramesError, 'ERR_UNKNOWN_ANNOTATION');
  await expectCodeAsync(() => S.loadBatch([{ imageId: 1, cx: 5, cy: 5, windowDims: [8, 10] }, { imageId: 1, cx: 5, cy: 5, windowDims: [8, 10], augment: { rot90: 1 } }], {}).then(() => { throw new RegionError('ERR_REGION', 'turned crops keep windowDims'); }), RegionError, 'ERR_REGION');
});

test.run();
