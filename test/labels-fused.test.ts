/**
 * Labels and augmentation on images of several files (kwcoco assets), against independent
 * references. The painted dataset (test/_labels-fixture.ts) is split into two assets per image:
 * the painted RGB at full resolution and a `half` band (its blue channel, every other row and
 * column, written by numpy + GDAL) aligned by a scale-2 warp, so every crop of 'r|g|b|half' is a
 * fused crop of the native multi-file sampler. Checked: every orientation equals numpy's flip /
 * rot90 of the plain fused crop (nearest and linear, scaled too); the RGB channels of a fused crop
 * equal the single-file crop of the same target; masks equal the painted objects and boxes their
 * pixels; loadSample gives the batch's crops.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { CocoSampler } from '../lib';
import type { LabeledBatch, Target } from '../lib';
import { extent, makePainted, numpy, objectPixels, PY } from './_labels-fixture';
import { readImage } from './_frames-util';
import type { Painted } from './_labels-fixture';

let P: Painted;
let single: CocoSampler;
let fused: CocoSampler;

/** Writes img<id>_half.png (blue[::2, ::2]) and the two-asset dataset beside the painted one. */
function splitAssets(p: Painted): string {
  const code = String.raw`
import sys, json
import numpy as np
from osgeo import gdal
gdal.UseExceptions()
d = sys.argv[1]
ds = json.load(open(d + '/data.kwcoco.json'))
for img in ds['images']:
    src = gdal.Open(d + '/' + img['file_name'])  # held: a band outlives no dataset
    blue = src.GetRasterBand(3).ReadAsArray()
    half = np.ascontiguousarray(blue[::2, ::2])
    mem = gdal.GetDriverByName('MEM').Create('', half.shape[1], half.shape[0], 1, gdal.GDT_Byte)
    mem.GetRasterBand(1).WriteArray(half)
    name = 'img%d_half.png' % img['id']
    gdal.GetDriverByName('PNG').CreateCopy(d + '/' + name, mem)
    img['assets'] = [
        {'file_name': img.pop('file_name'), 'channels': 'r|g|b', 'width': img['width'], 'height': img['height']},
        {'file_name': name, 'channels': 'half', 'width': half.shape[1], 'height': half.shape[0], 'warp_aux_to_img': {'scale': 2}},
    ]
json.dump(ds, open(d + '/fused.kwcoco.json', 'w'))
`;
  const r = spawnSync(PY, ['-c', code, p.dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return path.join(p.dir, 'fused.kwcoco.json');
}

test.before(() => {
  P = makePainted();
  single = new CocoSampler(P.file);
  fused = new CocoSampler(splitAssets(P));
});
test.after(() => fs.rmSync(P.dir, { recursive: true, force: true }));

const CH = 'r|g|b|half';
/** Augmentations and numpy's expression of each over a stack of crops `a` ([N, h, w, c]). */
const AUGS = [
  [{ hflip: true }, 'a[:, :, ::-1]'], [{ vflip: true }, 'a[:, ::-1]'], [{ rot90: 1 }, 'np.rot90(a, 1, axes=(1, 2))'],
  [{ rot90: 2 }, 'np.rot90(a, 2, axes=(1, 2))'], [{ rot90: 3 }, 'np.rot90(a, 3, axes=(1, 2))'],
  [{ hflip: true, rot90: 1 }, 'np.rot90(a[:, :, ::-1], 1, axes=(1, 2))'],
  [{ hflip: true, vflip: true, rot90: 3 }, 'np.rot90(a[:, ::-1, ::-1], 3, axes=(1, 2))'],
  [{ vflip: true, rot90: 1 }, 'np.rot90(a[:, ::-1], 1, axes=(1, 2))'],
] as const;

/** Crop i of an NHWC batch of [h, w, c] crops. */
const crop = (b: LabeledBatch, i: number, h: number, w: number, c: number) => b.data.subarray(i * h * w * c, (i + 1) * h * w * c);

test("every orientation of a fused crop is numpy's flip / rot90 of the plain fused crop (nearest, linear, scaled)", async () => {
  // Centres inside, and past the borders (the fill turns with the pixels).
  const centres: Array<[number, number, number]> = [[1, 80, 60], [1, 5, 3], [2, 110, 94], [2, 41, 37]];
  for (const interpolation of ['nearest', 'linear'] as const) {
    for (const scale of [1, 2, 0.5]) {
      for (const [aug, expr] of AUGS) {
        const odd = ((aug as { rot90?: number }).rot90 ?? 0) % 2 === 1;
        const targets = centres.map(([imageId, cx, cy]): Target => ({ imageId, cx, cy, windowDims: [24, 32], augment: { ...aug, scale } }));
        // An odd turn reads the transposed window: its reference is the plain crop of that window.
        const refs = centres.map(([imageId, cx, cy]): Target => ({ imageId, cx, cy, windowDims: odd ? [32, 24] : [24, 32], augment: { scale } }));
        const opts = { channels: CH, interpolation, fill: 7 };
        const [b, r] = await Promise.all([fused.loadBatch(targets, opts), fused.loadBatch(refs, opts)]);
        assert.equal(b.dims, [centres.length, 24, 32, 4]);
        const want = numpy({ data: r.data, shape: [centres.length, odd ? 32 : 24, odd ? 24 : 32, 4] }, expr);
        const bad = want.findIndex((x, k) => x !== b.data[k]);
        if (bad >= 0) assert.unreachable(`${interpolation}, scale ${scale}, ${JSON.stringify(aug)}: target ${Math.floor(bad / (24 * 32 * 4))}`);
      }
    }
  }
});

test('the RGB channels of a fused crop equal the single-file crop of the same target, every orientation and scale', async () => {
  const targets: Target[] = [];
  for (const t of single.positives({ windowDims: [40, 48] })) {
    for (const [aug] of AUGS) targets.push({ ...t, augment: { ...aug, scale: t.annotationId as number % 2 === 0 ? 2 : 1 } });
  }
  const [f, s] = await Promise.all([fused.loadBatch(targets, { channels: CH }), single.loadBatch(targets)]);
  const HW = 40 * 48;
  for (let i = 0; i < targets.length; i++) {
    for (let q = 0; q < HW; q++) {
      for (let k = 0; k < 3; k++) {
        if (f.data[(i * HW + q) * 4 + k] !== s.data[(i * HW + q) * 3 + k]) assert.unreachable(`target ${i} pixel ${q} channel ${k}`);
      }
    }
  }
  assert.equal(f.annotations, s.annotations);
  assert.equal(f.targets, s.targets);
});

test("a fused crop shows the image's pixels at its transform, past the borders and on pixel edges (scale 0.5 puts every sample on one)", async () => {
  // npy cache entries: every file is read at full resolution (a raster read at a reduced
  // resolution takes GDAL's decimation, which picks its own pixel), then sampled.
  const npy = new CocoSampler(path.join(P.dir, 'fused.kwcoco.json'), { backend: 'npy', workdir: path.join(P.dir, 'wd') });
  const half = (id: number) => readImage(`${P.dir}/img${id}_half.png`);
  const full = (id: number) => readImage(`${P.dir}/img${id}.png`);
  let edges = 0;
  for (const [imageId, cx, cy] of [[1, 80, 60], [1, 3, 2], [2, 108, 93], [2, 50, 1]] as const) {
    for (const aug of [{}, ...AUGS.slice(0, 4).map(([a]) => a)]) {
      const s = npy.loadSample({ imageId, cx, cy, windowDims: [20, 26], channels: CH, augment: { ...aug, scale: 0.5 } }, { fill: 7 });
      const [img, hlf] = [full(imageId), half(imageId)];
      const t = s.transform;
      for (let i = 0; i < 20; i++) {
        for (let j = 0; j < 26; j++) {
          // The image point of the pixel centre: on a pixel edge (an integer) it is that pixel's.
          const x = t[0] * (j + 0.5) + t[1] * (i + 0.5) + t[2];
          const y = t[3] * (j + 0.5) + t[4] * (i + 0.5) + t[5];
          const [px, py] = [Math.floor(x + 1e-9), Math.floor(y + 1e-9)];
          if (px === 0 || py === 0) edges++;
          const inside = px >= 0 && py >= 0 && px < img.shape[1] && py < img.shape[0];
          const want = inside ? [0, 1, 2].map((k) => img.data[(py * img.shape[1] + px) * 3 + k]) : [7, 7, 7];
          // the half band: its own pixel under the same point (file = image / 2)
          const [hx, hy] = [Math.floor(x / 2 + 1e-9), Math.floor(y / 2 + 1e-9)];
          want.push(hx >= 0 && hy >= 0 && hx < hlf.shape[1] && hy < hlf.shape[0] ? hlf.data[hy * hlf.shape[1] + hx] as number : 7);
          const got = Array.from(s.im.data.subarray((i * 26 + j) * 4, (i * 26 + j) * 4 + 4));
          if (got.some((g, k) => g !== want[k])) assert.unreachable(`image ${imageId} (${cx}, ${cy}) ${JSON.stringify(aug)}: pixel (${i}, ${j}) is [${got}], the image says [${want}]`);
        }
      }
    }
  }
  assert.ok(edges > 50, `${edges} samples on the image's first row or column`);
});

test('a labeled batch of fused images: masks equal the painted objects, boxes their pixels, for every orientation', async () => {
  let masks = 0;
  let boxes = 0;
  for (const [aug] of AUGS) {
    const targets = fused.positives({ windowDims: [48, 64] }).map((t) => ({ ...t, augment: { ...aug } }));
    const b = await fused.loadBatch(targets, { channels: CH, masks: 'instance' });
    const HW = 48 * 64;
    for (let i = 0; i < targets.length; i++) {
      const px = crop(b, i, 48, 64, 4);
      const rgb = new Uint8Array(HW * 3);
      for (let q = 0; q < HW; q++) rgb.set(px.subarray(4 * q, 4 * q + 3), 3 * q);
      const img = P.dataset.images.find((m) => m.id === b.targets[i].imageId)!;
      // The transform of a sample: its resolved target read back through loadSample.
      const t = fused.loadSample(b.targets[i]).transform;
      const inside = (q: number) => {
        const [y, x] = [Math.floor(q / 64) + 0.5, (q % 64) + 0.5];
        const ix = t[0] * x + t[1] * y + t[2], iy = t[3] * x + t[4] * y + t[5];
        return ix >= 0 && iy >= 0 && ix < img.width && iy < img.height;
      };
      const a = b.annotations[i][0];
      a.ids.forEach((id, k) => {
        const m = objectPixels(rgb, 48, 64, id as number);
        let inter = 0, union = 0;
        for (let q = 0; q < HW; q++) {
          if (!inside(q)) continue;  // the padding shows no object
          const got = b.masks!.data[i * HW + q] === k + 1;
          if (got && m[q]) inter++;
          if (got || m[q]) union++;
        }
        if (union > 0) {
          masks++;
          assert.is(inter, union, `object ${id} in crop ${i} (${JSON.stringify(aug)}): IoU ${inter / union}`);
        }
        // A box inside the window, of an object inside its image: all its pixels are in the crop.
        const e = extent(m, 48, 64);
        const [x0, y0, x1, y1] = a.boxes.subarray(4 * k, 4 * k + 4);
        const [bx, by, bw, bh] = P.dataset.annotations.find((x) => x.id === id)!.bbox;
        if (e === null || x0 < 0 || y0 < 0 || x1 > 64 || y1 > 48 || bx < 0 || by < 0 || bx + bw > img.width || by + bh > img.height) return;
        boxes++;
        [x0, y0, x1, y1].forEach((v, j) => assert.ok(Math.abs(e[j] - v) <= 1, `object ${id} (${JSON.stringify(aug)}): box [${x0}, ${y0}, ${x1}, ${y1}] vs pixels [${e}]`));
      });
    }
  }
  assert.ok(masks >= 80, `${masks} masks checked`);
  assert.ok(boxes >= 40, `${boxes} boxes checked`);
});

test('loadSample and loadSampleAsync of a fused target give the batch crop', async () => {
  const targets: Target[] = AUGS.map(([aug], k) => ({ imageId: 1 + (k % 2), cx: 20 + 13 * k, cy: 10 + 9 * k, windowDims: [30, 20], channels: CH, augment: { ...aug, scale: k % 3 === 0 ? 2 : 1 } }));
  const b = await fused.loadBatch(targets, { fill: 3 });
  for (let i = 0; i < targets.length; i++) {
    const s = fused.loadSample(targets[i], { fill: 3 });
    const a = await fused.loadSampleAsync(targets[i], { fill: 3 });
    assert.equal(s.im.shape, [30, 20, 4]);
    assert.equal(Array.from(s.im.data), Array.from(crop(b, i, 30, 20, 4)), `sample ${i}`);
    assert.equal(Array.from(a.im.data), Array.from(s.im.data), `async sample ${i}`);
    assert.equal(s.annotations, b.annotations[i]);
  }
});

test.run();
