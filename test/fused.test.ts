// Multi-file reads by the native sampler (native/batch/fused_sampler.h) against the TypeScript
// reference of test/_fused-reference.ts (the pre-native path, kept as it was): every read of an
// image of several files (loadRegion, loadRegionAsync, loadBatch, loadImage, LazyFrame) on the
// null, npy and cog backends, for nearest and linear, scale (COG overviews), boundless/fill,
// channel picks and slices, dequantization and general affines. Integer results bit-exact, float
// ones within 1e-6 relative. loadBatch of a fused image equals loadRegion of it for every option.
// Antialiasing against an independent numpy reference (/usr/bin/python3).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CocoFrames } from '../lib/frames/coco-frames';
import type { CocoDataset } from '../lib/frames/coco-frames';
import { parseAffine } from '../lib/frames/affine';
import { allocate, TYPED_ARRAY } from '../lib/ndarray';
import type { NDArray } from '../lib/ndarray';
import { openImage, writeNpy } from '../lib/readers';
import { native } from '../lib/native';
import type { Region } from '../lib/region';
import { referenceFused } from './_fused-reference';
import type { RefFile, RefOptions } from './_fused-reference';
import { makeArray, writeImage } from './_frames-util';
import { rmrf, tempDir } from './_helpers/tmp';

const root = tempDir('fused').dir;
test.after(() => rmrf(root));

const at = (a: NDArray, i: number, j: number, k: number): number => a.data[a.offset + i * a.strides[0] + j * a.strides[1] + k * a.strides[2]];

/** Equal pixels: integers exactly, floats within 1e-6 relative (NaN equals NaN). */
function same(got: NDArray, want: NDArray, msg: string): void {
  assert.equal(got.shape, want.shape, `${msg}: shape`);
  assert.is(got.dtype, want.dtype, `${msg}: dtype`);
  const float = want.dtype === 'float32' || want.dtype === 'float64';
  const [h, w, c] = want.shape;
  let bad = 0;
  let first = '';
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < w; j++) {
      for (let k = 0; k < c; k++) {
        const a = at(got, i, j, k);
        const b = at(want, i, j, k);
        const ok = float ? (Number.isNaN(a) && Number.isNaN(b)) || Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b)) : a === b;
        if (!ok && bad++ === 0) first = `(${i}, ${j}, ${k}): ${a} vs ${b}`;
      }
    }
  }
  assert.is(bad, 0, `${msg}: ${bad} of ${h * w * c} values differ, first ${first}`);
}

/** The demo's band names: group key and band. */
const DEMO_BANDS: Record<string, [string, number]> = {
  r: ['r|g|b', 0], g: ['r|g|b', 1], b: ['r|g|b', 2], nir: ['nir|swir', 0], swir: ['nir|swir', 1], mask: ['mask', 0],
  ...Object.fromEntries(Array.from({ length: 8 }, (_, k) => [`feat.${k}`, ['feat:8', k] as [string, number]])),
};

/** Reference files of a '|'-joined band list of a CocoFrames image, each read through `open`. */
function refFiles(f: CocoFrames, id: number, bands: string[], open: (chan: { path: string; cache?: string | null }) => string,
  names: Record<string, [string, number]>, readers: Map<string, ReturnType<typeof openImage>>): RefFile[] {
  const pi = f.lookupPathinfo(id);
  const out: RefFile[] = [];
  for (const name of bands) {
    const [key, band] = names[name];
    const chan = pi.channels[key];
    const file = open(chan as { path: string; cache?: string | null });
    let r = readers.get(file);
    if (r === undefined) {
      r = openImage(file);
      readers.set(file, r);
    }
    const last = out[out.length - 1];
    const q = chan.quantization as RefFile['quant'] | undefined;
    if (last !== undefined && last.reader === r) last.bands.push(band);
    else out.push({ reader: r, fwd: parseAffine(chan.warpAuxToImg, key), bands: [band], quant: q ?? null });
  }
  return out;
}

interface Case { id: number; bands: string[]; region: Region; opts: RefOptions }

function demoCases(): Case[] {
  const all = ['r', 'g', 'b', 'nir', 'swir', 'mask', ...Array.from({ length: 8 }, (_, k) => `feat.${k}`)];
  const picks = [all, ['g', 'nir', 'feat.3', 'mask'], ['swir', 'r'], ['feat.7', 'feat.1', 'b']];
  const regions: Region[] = [[[16, 80], [40, 104]], [[-30, 20], [-7, 41]], [[3, 61], [101, 163], [1, 4]], [[200, 240], [300, 320]]];
  const opts: RefOptions[] = [
    {}, { interpolation: 'linear' }, { scale: 0.5 }, { scale: 0.37, interpolation: 'linear' },
    { boundless: true, fill: 7 }, { boundless: true, fill: -1, scale: 0.5, interpolation: 'linear' },
  ];
  const cases: Case[] = [];
  let k = 0;
  for (const id of [1, 2, 3]) {
    for (const region of regions) {
      for (const o of opts) {
        cases.push({ id, bands: picks[k++ % picks.length], region, opts: o });
      }
    }
  }
  return cases;
}

for (const backend of [null, 'npy', 'cog'] as const) {
  for (const dequantize of [false, true]) {
    test(`demo (backend ${String(backend)}${dequantize ? ', dequantized' : ''}): loadRegion, loadRegionAsync and loadBatch equal the TypeScript reference`, async () => {
      const f = CocoFrames.demo({ workdir: path.join(root, 'demo'), backend, dequantize });
      await f.prepare();
      const readers = new Map<string, ReturnType<typeof openImage>>();
      const open = (chan: { path: string; cache?: string | null }) => (backend === null ? chan.path : chan.cache as string);
      for (const c of demoCases()) {
        const msg = `image ${c.id} ${c.bands.join('|')} ${JSON.stringify(c.region)} ${JSON.stringify(c.opts)}`;
        const grid: [number, number] = [f.image(c.id).height as number, f.image(c.id).width as number];
        const want = referenceFused(refFiles(f, c.id, c.bands, open, DEMO_BANDS, readers), grid, c.region, c.opts);
        const o = { channels: c.bands.join('|'), antialias: false, ...c.opts };
        same(f.loadRegion(c.id, c.region, o), want, `loadRegion ${msg}`);
        same(await f.loadRegionAsync(c.id, c.region, o), want, `loadRegionAsync ${msg}`);
        if (want.shape.every((n) => n > 0)) {
          const batch = await f.loadBatch([{ imageId: c.id, region: c.region }], { ...o, dtype: want.dtype });
          const got = { data: batch.data, shape: want.shape, strides: [want.shape[1] * want.shape[2], want.shape[2], 1], offset: 0, dtype: batch.dtype } as NDArray;
          same(got, want, `loadBatch ${msg}`);
        }
      }
      for (const r of readers.values()) r.close();
      f.close();
    });
  }
}

// A hand-made dataset: a base file, a rotated + sheared + scaled asset (a general affine: the
// sampler's per-pixel paths), a flipped asset (negative scale) and a 1/4 asset, int16 and float64
// files (fused float64).
const H = 48;
const W = 64;
const dir = path.join(root, 'bundle');
fs.mkdirSync(dir, { recursive: true });
writeImage(path.join(dir, 'base.png'), makeArray(H, W, 3, 'uint8', (v, u, k) => (v * 5 + u * 3 + k * 50) & 255));
writeImage(path.join(dir, 'rot.tif'), makeArray(40, 40, 2, 'int16', (v, u, k) => v * 37 - u * 11 + k * 1000 - 300), 'GTiff');
writeImage(path.join(dir, 'flip.png'), makeArray(H, W, 1, 'uint8', (v, u) => (v * 7 + u) & 255));
writeNpy(path.join(dir, 'q.npy'), makeArray(H / 4, W / 4, 2, 'float64', (v, u, k) => v * 0.5 + u * 0.25 + k));
const ROT = { scale: [1.2, 0.9], offset: [20, 1], theta: 0.35, shearx: 0.15, about: [3, 2] };
const HAND: CocoDataset = {
  images: [{
    id: 1, file_name: 'base.png', channels: 'r|g|b', width: W, height: H,
    assets: [
      { file_name: 'rot.tif', channels: 'p|q', width: 40, height: 40, warp_aux_to_img: ROT },
      { file_name: 'flip.png', channels: 'f', width: W, height: H, warp_aux_to_img: { type: 'affine', matrix: [[-1, 0, W], [0, 1, 0]] } },
      { file_name: 'q.npy', channels: 'z1|z2', width: W / 4, height: H / 4 },
    ],
  }],
};
const HAND_BANDS: Record<string, [string, number]> = {
  r: ['r|g|b', 0], g: ['r|g|b', 1], b: ['r|g|b', 2], p: ['p|q', 0], q: ['p|q', 1], f: ['f', 0], z1: ['z1|z2', 0], z2: ['z1|z2', 1],
};

for (const backend of [null, 'npy', 'cog'] as const) {
  test(`general affines, flips, int16 and float64 files (backend ${String(backend)}) equal the reference`, async () => {
    const f = new CocoFrames(HAND, { bundleDpath: dir, workdir: path.join(root, 'hand'), backend });
    await f.prepare();
    const readers = new Map<string, ReturnType<typeof openImage>>();
    const open = (chan: { path: string; cache?: string | null }) => (backend === null || chan.cache == null ? chan.path : chan.cache);
    const picks = [['p', 'q'], ['r', 'p', 'f'], ['q', 'z2', 'g'], ['f'], ['z1', 'z2']];
    const regions: Region[] = [[[0, H], [0, W]], [[5, 41], [3, 60]], [[-10, 30], [50, 80]]];
    const opts: RefOptions[] = [{}, { interpolation: 'linear' }, { scale: 0.5 }, { boundless: true, fill: 3, interpolation: 'linear' }, { scale: 0.75, boundless: true }];
    for (const bands of picks) {
      for (const region of regions) {
        for (const o of opts) {
          const msg = `${bands.join('|')} ${JSON.stringify(region)} ${JSON.stringify(o)}`;
          const want = referenceFused(refFiles(f, 1, bands, open, HAND_BANDS, readers), [H, W], region, o);
          const oo = { channels: bands.join('|'), antialias: false, ...o };
          same(f.loadRegion(1, region, oo), want, `loadRegion ${msg}`);
          same(await f.loadRegionAsync(1, region, oo), want, `loadRegionAsync ${msg}`);
        }
      }
    }
    for (const r of readers.values()) r.close();
    f.close();
  });
}

test('loadBatch of fused images equals loadRegion for every option, with conversion and normalisation', async () => {
  const f = CocoFrames.demo({ workdir: path.join(root, 'demo'), backend: 'npy' });
  const reqs = [
    { imageId: 1, region: [[10, 74], [20, 84]] as Region },
    { imageId: 2, region: [[20, 84], [300, 364]] as Region, channels: 'mask|r' },
    { imageId: 3, region: [[100, 164], [8, 72]] as Region },
  ];
  const variants = [
    {}, { scale: 0.5 }, { boundless: true, fill: 9 }, { interpolation: 'linear' as const }, { interpolation: 'linear' as const, scale: 0.6 },
    { boundless: true, fill: 2, scale: 0.8, interpolation: 'linear' as const },
  ];
  for (const v of variants) {
    const opts = { channels: 'nir|g|feat.2', ...v };
    const regions = reqs.map((r) => f.loadRegion(r.imageId, r.region, { ...opts, ...(r.channels ? { channels: r.channels + '|b' } : {}) }));
    const dtype = 'float32';
    const reqs3 = reqs.map((r) => ({ ...r, ...(r.channels ? { channels: r.channels + '|b' } : {}) }));
    for (const layout of ['NHWC', 'NCHW'] as const) {
      const batch = await f.loadBatch(reqs3, { ...opts, dtype, layout, normalize: { scale: 2, mean: [1, 2, 3], std: [2, 4, 8] } });
      const [hh, ww, cc] = regions[0].shape;
      assert.equal(batch.dims, layout === 'NHWC' ? [3, hh, ww, cc] : [3, cc, hh, ww]);
      for (let n = 0; n < 3; n++) {
        const a = regions[n];
        const mean = [1, 2, 3];
        const std = [2, 4, 8];
        let bad = 0;
        for (let i = 0; i < hh; i++) {
          for (let j = 0; j < ww; j++) {
            for (let k = 0; k < cc; k++) {
              const want = Math.fround((at(a, i, j, k) * 2 - mean[k]) / std[k]);
              const idx = layout === 'NHWC' ? ((n * hh + i) * ww + j) * cc + k : ((n * cc + k) * hh + i) * ww + j;
              const got = batch.data[idx];
              if (!(got === want || (Number.isNaN(got) && Number.isNaN(want)))) bad++;
            }
          }
        }
        assert.is(bad, 0, `${JSON.stringify(v)} ${layout} crop ${n}`);
      }
    }
    // uint8 out: the fused values converted (rounded, saturated).
    const b8 = await f.loadBatch(reqs3, { ...opts, dtype: 'uint8' });
    const a0 = regions[0];
    for (let i = 0; i < 5; i++) {
      const x = at(a0, i, i, 0);
      const want = Number.isNaN(x) ? 0 : Math.min(255, Math.max(0, Math.round(x)));
      assert.is(b8.data[(i * a0.shape[1] + i) * a0.shape[2]], want);
    }
  }
  f.close();
});

test('loadRegion of a fused image into `out` (strided, band-planar); loadImage and LazyFrame read natively too', async () => {
  const f = CocoFrames.demo({ workdir: path.join(root, 'demo') });
  const region: Region = [[30, 62], [40, 90]];
  const want = f.loadRegion(2, region, { channels: '<all>' });
  const [h, w, c] = want.shape;
  const planar: NDArray = { data: new TYPED_ARRAY[want.dtype](h * w * c + 5), shape: [h, w, c], strides: [w, 1, h * w], offset: 5, dtype: want.dtype };
  assert.is(f.loadRegion(2, region, { channels: '<all>', out: planar }), planar);
  same(planar, want, 'sync into out');
  const planar2: NDArray = { ...planar, data: new TYPED_ARRAY[want.dtype](h * w * c + 5) };
  assert.is(await f.loadRegionAsync(2, region, { channels: '<all>', out: planar2 }), planar2);
  same(planar2, want, 'async into out');
  const img = f.loadImage(3, { channels: 'mask|swir' });
  same(f.loadFrame(3).get([[0, 240], [0, 320]], {}), f.loadImage(3), 'LazyFrame equals loadImage');
  assert.equal(img.shape, [240, 320, 2]);
  f.close();
});

test('antialiasing (linear reads that reduce a file) against a numpy reference: Gaussian prefilter, then bilinear', () => {
  // One 1/1 file read at scale 0.25 from an npy entry (no overviews): each output pixel covers 4x4
  // file pixels, so the crop is blurred with sigma = 1.0699 * 4 / 2 over ceil(2.5 * 4) = 11 taps
  // (made odd: 11), reflected at the file's edges, then sampled between pixel centres.
  const file = path.join(root, 'aa.npy');
  const n = 96;
  writeNpy(file, makeArray(n, n, 1, 'float32', (v, u) => ((v * 7 + u * 13) % 17) + (v % 5) * 3));
  const data: CocoDataset = { images: [{ id: 1, width: n, height: n, assets: [{ file_name: 'aa.npy', channels: 'a' }, { file_name: 'aa.npy', channels: 'b' }] }] };
  const f = new CocoFrames(data, { bundleDpath: root });
  const region: Region = [[8, 88], [16, 96]];
  const ours = f.loadRegion(1, region, { channels: 'a', scale: 0.25, interpolation: 'linear' });
  const plain = f.loadRegion(1, region, { channels: 'a', scale: 0.25, interpolation: 'linear', antialias: false });
  f.close();
  const py = `
import json, sys, math
import numpy as np
a = np.load(sys.argv[1])[:, :, 0].astype(np.float64)
s = 0.25
sigma = 1.0699027846904146 / (2 * s)
k = math.ceil(2.5 / s); k += (k % 2 == 0)
r = (k - 1) // 2
t = np.arange(-r, r + 1)
g = np.exp(-(t * t) / (2 * sigma * sigma)); g /= g.sum()
def blur(x, axis):
    pad = [(0, 0), (0, 0)]; pad[axis] = (r, r)
    p = np.pad(x, pad, mode='reflect')
    out = np.zeros_like(x)
    for i, w in enumerate(g):
        sl = [slice(None), slice(None)]; sl[axis] = slice(i, i + x.shape[axis])
        out += w * p[tuple(sl)]
    return out
b = blur(blur(a, 1), 0)
y0, y1, x0, x1 = 8, 88, 16, 96
h = w = 20
res = np.zeros((h, w))
for i in range(h):
    for j in range(w):
        u = x0 + (j + 0.5) * (x1 - x0) / w - 0.5
        v = y0 + (i + 0.5) * (y1 - y0) / h - 0.5
        c0 = math.floor(u); r0 = math.floor(v); ax = u - c0; ay = v - r0
        cl = lambda q: min(max(q, 0), b.shape[1] - 1)
        rl = lambda q: min(max(q, 0), b.shape[0] - 1)
        res[i, j] = (1 - ay) * ((1 - ax) * b[rl(r0), cl(c0)] + ax * b[rl(r0), cl(c0 + 1)]) + ay * ((1 - ax) * b[rl(r0 + 1), cl(c0)] + ax * b[rl(r0 + 1), cl(c0 + 1)])
print(json.dumps(res.tolist()))
`;
  const want = JSON.parse(execFileSync('/usr/bin/python3', ['-c', py, file], { encoding: 'utf8' })) as number[][];
  assert.equal(ours.shape, [20, 20, 1]);
  let maxErr = 0;
  let differs = 0;
  for (let i = 0; i < 20; i++) {
    for (let j = 0; j < 20; j++) {
      maxErr = Math.max(maxErr, Math.abs(at(ours, i, j, 0) - want[i][j]) / Math.max(1, Math.abs(want[i][j])));
      if (Math.abs(at(plain, i, j, 0) - want[i][j]) > 1e-3) differs++;
    }
  }
  assert.ok(maxErr <= 1e-5, `antialiased values within 1e-5 of numpy's (max ${maxErr})`);
  assert.ok(differs > 100, `without antialiasing the values differ (${differs} of 400)`);
});

test('each file is opened once, in the mode it is read: no source reader beside the entries it reads', async () => {
  // Every reader opens through the binding's two reader classes: record what they open.
  const opened: string[] = [];
  const classes = native as unknown as Record<'NpyReader' | 'RasterReader', new (file: string, ...rest: unknown[]) => unknown>;
  const originals = { NpyReader: classes.NpyReader, RasterReader: classes.RasterReader };
  for (const k of ['NpyReader', 'RasterReader'] as const) {
    const Orig = originals[k];
    classes[k] = function (file: string, ...rest: unknown[]) {
      opened.push(file);
      return new Orig(file, ...rest);
    } as unknown as typeof Orig;
  }
  try {
    for (const sync of [true, false]) {
      const workdir = path.join(root, `once-${sync}`);
      const read = async (f: CocoFrames) => {
        const region: Region = [[8, 40], [16, 48]];
        return sync ? f.loadRegion(1, region, { channels: '<all>' }) : await f.loadRegionAsync(1, region, { channels: '<all>' });
      };
      // Entries missing: they are built (each checked once after its build), no source is opened by a reader.
      const f = CocoFrames.demo({ workdir, dpath: path.join(root, 'demo', 'demo-kwcoco'), backend: 'npy' });
      const entries = Object.values(f.lookupPathinfo(1).channels).map((c) => c.cache as string).sort();
      opened.length = 0;
      const first = await read(f);
      assert.equal([...new Set(opened)].sort(), entries, `${sync ? 'sync' : 'async'}: only the cache entries were opened`);
      f.close();
      // Entries there: each is opened exactly once, and its header is the one planned with.
      const g = CocoFrames.demo({ workdir, dpath: path.join(root, 'demo', 'demo-kwcoco'), backend: 'npy' });
      opened.length = 0;
      same(await read(g), first, 'the same pixels');
      assert.equal([...opened].sort(), entries, `${sync ? 'sync' : 'async'}: each entry opened once`);
      g.close();
    }
  } finally {
    Object.assign(classes, originals);
  }
});

test('an empty region or channel slice gives an empty array without a native call', () => {
  const f = CocoFrames.demo({ workdir: path.join(root, 'demo') });
  assert.equal(f.loadRegion(1, [[10, 10], [0, 5]], { channels: 'r|nir' }).shape, [0, 5, 2]);
  assert.equal(f.loadRegion(1, [[0, 5], [0, 5], [2, 2]], { channels: 'r|nir' }).shape, [5, 5, 0]);
  const out = allocate([0, 5, 2], 'float32');
  assert.is(f.loadRegion(1, [[10, 10], [0, 5]], { channels: 'r|nir', out }), out);
  f.close();
});

test.run();
