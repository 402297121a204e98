// AlignableImageData: channel groups in separate files at other resolutions, aligned into the
// image grid by warpAuxToImg. A 1x RGB base, a 0.5x 'ir' band (3x3 warp), a 0.25x uint16 'dsm'
// (2x3 warp) and a transposed 'rot' band (a general affine), checked pixel by pixel against
// closed-form expectations, standalone and through Frames on every backend.
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AlignableImageData } from '../lib/frames/alignable';
import type { Prefused } from '../lib/frames/alignable';
import { FramesError } from '../lib/errors';
import { Frames } from '../lib/frames/frames';
import type { ChannelInfo, ImageId, Pathinfo } from '../lib/frames/frames';
import type { NDArray } from '../lib/ndarray';
import { listFiles, makeArray, sameArray, values, writeImage } from './_frames-util';
import { expectCode, expectCodeAsync } from './_helpers/errors';
import { rmrf, tempDir } from './_helpers/tmp';

const root = tempDir('align').dir;
test.after(() => rmrf(root));

const H = 64;
const W = 48;
const rgbF = (y: number, x: number, c: number) => (y * 3 + x * 5 + c * 70) & 255;
const irF = (v: number, u: number) => (v * 16 + u * 3 + 1) & 255;           // 32 x 24
const dsmF = (v: number, u: number) => 1000 + v * 100 + u;                   // 16 x 12, uint16
const rotF = (v: number, u: number) => (v * 4 + u) & 255;                     // 48 x 64 (transposed)
const files = {
  rgb: writeImage(path.join(root, 'rgb.png'), makeArray(H, W, 3, 'uint8', rgbF)),
  ir: writeImage(path.join(root, 'ir.png'), makeArray(H / 2, W / 2, 1, 'uint8', (y, x) => irF(y, x))),
  dsm: writeImage(path.join(root, 'dsm.tif'), makeArray(H / 4, W / 4, 1, 'uint16', (y, x) => dsmF(y, x)), 'GTiff'),
  rot: writeImage(path.join(root, 'rot.png'), makeArray(W, H, 1, 'uint8', (y, x) => rotF(y, x))),
};

const CHANNELS = (): Record<string, ChannelInfo> => ({
  'r|g|b': { path: files.rgb },
  ir: { path: files.ir, warpAuxToImg: [[2, 0, 0], [0, 2, 0], [0, 0, 1]] },
  dsm: { path: files.dsm, warpAuxToImg: [[4, 0, 0], [0, 4, 0]] },
  rot: { path: files.rot, warpAuxToImg: [[0, 1, 0], [1, 0, 0], [0, 0, 1]] },
});

/** Expected fused value of one named band at image pixel (y, x). */
function expect(band: string, y: number, x: number): number {
  switch (band) {
    case 'r': return rgbF(y, x, 0);
    case 'g': return rgbF(y, x, 1);
    case 'b': return rgbF(y, x, 2);
    case 'ir': return irF(Math.floor(y / 2), Math.floor(x / 2));
    case 'dsm': return dsmF(Math.floor(y / 4), Math.floor(x / 4));
    case 'rot': return rotF(x, y);
    default: throw new Error(band);
  }
}

function expected(bands: string[], ys: number[], xs: number[], dtype: NDArray['dtype']): NDArray {
  return makeArray(ys.length, xs.length, bands.length, dtype, (i, j, k) => expect(bands[k], ys[i], xs[j]));
}

const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);

class MultiFrames extends Frames {
  get imageIds(): ImageId[] { return [1]; }
  protected buildPathinfo(imageId: ImageId): Pathinfo {
    if (String(imageId) !== '1') throw this.unknownImage(imageId);
    const channels = CHANNELS();
    for (const chan of Object.values(channels)) this.populateChanInfo(chan);
    return { id: imageId, channels, default: 'r|g|b' };
  }
}

const standalone = () => new AlignableImageData({ id: 1, channels: CHANNELS(), default: 'r|g|b' }, null);

test('fused: a 0.5x and a 0.25x channel are repeated into the 1x grid exactly', () => {
  const al = standalone();
  assert.equal(al.gridShape, [H, W]);
  const all = al.loadRegion(null, { channels: ['r|g|b', 'ir'] }) as NDArray;
  sameArray(all, expected(['r', 'g', 'b', 'ir'], range(0, H), range(0, W), 'uint8'));
  const dsm = al.loadRegion(null, { channels: 'dsm' }) as NDArray;
  sameArray(dsm, expected(['dsm'], range(0, H), range(0, W), 'uint16'), 'a single group keeps its dtype');
  const mixed = al.loadRegion([[3, 17], [5, 11]], { channels: ['ir', 'dsm'] }) as NDArray;
  sameArray(mixed, expected(['ir', 'dsm'], range(3, 17), range(5, 11), 'float32'), 'uint8 + uint16 fuse as float32');
  al.close();
});

test('regions with negative and open ends, odd offsets, and a channel slice', () => {
  const al = standalone();
  const cases: Array<[unknown[], number[], number[]]> = [
    [[[5, -7], [-30, null]], range(5, H - 7), range(W - 30, W)],
    [[[null, -20], [null, -10]], range(0, H - 20), range(0, W - 10)],
    [[[-1, null], [1, 2]], [H - 1], [1]],
    [[[63, 100], [47, 1000]], [63], [47]],
    [[[10, 5], [0, 3]], [], range(0, 3)],
  ];
  for (const [region, ys, xs] of cases) {
    const got = al.loadRegion(region as never, { channels: ['r|g|b', 'ir', 'rot'] }) as NDArray;
    sameArray(got, expected(['r', 'g', 'b', 'ir', 'rot'], ys, xs, 'uint8'), JSON.stringify(region));
  }
  const sliced = al.loadRegion([[7, 21], [9, 30], [2, 4]], { channels: ['r|g|b', 'ir', 'rot'] }) as NDArray;
  sameArray(sliced, expected(['b', 'ir'], range(7, 21), range(9, 30), 'uint8'), 'channel slice of the fused bands');
  const last = al.loadRegion([[7, 21], [9, 30], [-1, null]], { channels: ['r|g|b', 'ir'] }) as NDArray;
  sameArray(last, expected(['ir'], range(7, 21), range(9, 30), 'uint8'));
  al.close();
});

test('channels: a group key, band names within a group, "a|b" lists, arrays; unknown names are ERR_CHANNELS', () => {
  const al = standalone();
  const region = [[4, 12], [6, 14]];
  const ys = range(4, 12);
  const xs = range(6, 14);
  sameArray(al.loadRegion(region as never) as NDArray, expected(['r', 'g', 'b'], ys, xs, 'uint8'), 'default group');
  sameArray(al.loadRegion(region as never, { channels: 'g|ir' }) as NDArray, expected(['g', 'ir'], ys, xs, 'uint8'));
  sameArray(al.loadRegion(region as never, { channels: ['b', 'r', 'rot'] }) as NDArray, expected(['b', 'r', 'rot'], ys, xs, 'uint8'));
  sameArray(al.loadRegion(region as never, { channels: 'ir' }) as NDArray, expected(['ir'], ys, xs, 'uint8'));
  const e = expectCode(() => al.loadRegion(region as never, { channels: 'nir' }), FramesError, 'ERR_CHANNELS');
  assert.match(e.message, /nir/);
  expectCode(() => al.loadRegion(region as never, { channels: 5 as never }), TypeError, 'ERR_INVALID_ARG_TYPE');
  expectCode(() => al.loadRegion(region as never, { fused: 'yes' as never }), TypeError, 'ERR_INVALID_ARG_TYPE');
  expectCode(() => al.loadRegion(region as never, { interpolation: 'cubic' as never }), TypeError, 'ERR_INVALID_ARG_TYPE');
  expectCode(() => al.loadRegion(region as never, { typo: 1 } as never), TypeError, 'ERR_INVALID_ARG_TYPE');
  al.close();
});

test('fused: false gives each file\'s native crop and the transform that aligns it', () => {
  const al = standalone();
  const pre = al.loadRegion([[10, 20], [6, 16]], { channels: ['r|g|b', 'ir', 'dsm'], fused: false }) as Prefused;
  assert.equal(pre.imgRegion, [[10, 20], [6, 16]]);
  assert.equal(pre.shape, [10, 10, 5]);
  assert.equal(pre.chans.map((c) => c.key), ['r|g|b', 'ir', 'dsm']);
  const [rgb, ir, dsm] = pre.chans;
  assert.equal(rgb.data.shape, [10, 10, 3]);
  assert.equal(rgb.warpCropToRegion, [[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
  assert.equal(ir.auxRegion, [[5, 10], [3, 8]]);
  assert.equal(ir.data.shape, [5, 5, 1]);
  assert.equal(ir.warpCropToRegion, [[2, 0, 0], [0, 2, 0], [0, 0, 1]]);
  assert.equal(values(ir.data), range(5, 10).flatMap((v) => range(3, 8).map((u) => irF(v, u))));
  assert.equal(dsm.auxRegion, [[2, 5], [1, 4]]);
  assert.equal(dsm.warpCropToRegion, [[4, 0, -2], [0, 4, -2]].concat([[0, 0, 1]]));
  assert.is(dsm.data.dtype, 'uint16');
  // Applying each transform by hand reproduces the fused result.
  const fused = al.loadRegion([[10, 20], [6, 16]], { channels: ['r|g|b', 'ir', 'dsm'] }) as NDArray;
  const f = values(fused);
  for (const [k, chan] of [[3, ir], [4, dsm]] as const) {
    const m = chan.warpCropToRegion;
    const [ch, cw] = chan.data.shape;
    for (let i = 0; i < 10; i++) {
      for (let j = 0; j < 10; j++) {
        // invert the axis-aligned transform for the pixel centre
        const u = Math.floor((j + 0.5 - m[0][2]) / m[0][0]);
        const v = Math.floor((i + 0.5 - m[1][2]) / m[1][1]);
        assert.ok(u >= 0 && u < cw && v >= 0 && v < ch);
        assert.is(f[(i * 10 + j) * 5 + k], chan.data.data[chan.data.offset + v * chan.data.strides[0] + u * chan.data.strides[1]]);
      }
    }
  }
  al.close();
});

test('a general affine (a transposed channel) by nearest sampling, and bilinear interpolation', () => {
  const al = standalone();
  sameArray(al.loadRegion([[3, 40], [2, 30]], { channels: 'rot' }) as NDArray, expected(['rot'], range(3, 40), range(2, 30), 'uint8'));
  const lin = al.loadRegion(null, { channels: 'ir', interpolation: 'linear' }) as NDArray;
  assert.equal(lin.shape, [H, W, 1]);
  const got = values(lin);
  // Bilinear between pixel centres of the 0.5x file, clamped at its edges.
  const at = (v: number, u: number) => irF(Math.min(Math.max(v, 0), H / 2 - 1), Math.min(Math.max(u, 0), W / 2 - 1));
  for (let i = 0; i < H; i++) {
    for (let j = 0; j < W; j++) {
      const fu = (j + 0.5) / 2 - 0.5;
      const fv = (i + 0.5) / 2 - 0.5;
      const u0 = Math.floor(fu);
      const v0 = Math.floor(fv);
      const ax = fu - u0;
      const ay = fv - v0;
      const val = (1 - ay) * ((1 - ax) * at(v0, u0) + ax * at(v0, u0 + 1)) + ay * ((1 - ax) * at(v0 + 1, u0) + ax * at(v0 + 1, u0 + 1));
      assert.is(got[i * W + j], Math.round(val), `(${i}, ${j})`);
    }
  }
  al.close();
});

test('bad pathinfo: singular or malformed warps, an unknown default, no grid size are ERR_PATHINFO', () => {
  const bad = [[[0, 0, 0], [0, 0, 0]], [[1, 0], [0, 1]], [[1, 0, 0], [0, 1, 0], [1, 0, 1]], [[1, 0, NaN], [0, 1, 0]], 'x'];
  for (const w of bad) {
    expectCode(() => new AlignableImageData({ id: 1, channels: { a: { path: files.ir, warpAuxToImg: w as never } }, default: 'a' }, null), FramesError, 'ERR_PATHINFO', JSON.stringify(w));
  }
  expectCode(() => new AlignableImageData({ id: 1, channels: { a: { path: files.ir } }, default: 'zz' }, null), FramesError, 'ERR_PATHINFO');
  expectCode(() => new AlignableImageData({ id: 1, channels: {}, default: null }, null), FramesError, 'ERR_PATHINFO');
  expectCode(() => new AlignableImageData({ id: 1, channels: { a: { path: '' } }, default: 'a' }, null), FramesError, 'ERR_PATHINFO');
  expectCode(() => new AlignableImageData(null as never, null), TypeError, 'ERR_INVALID_ARG_TYPE');
  const noGrid = new AlignableImageData({ id: 1, channels: { ir: CHANNELS().ir }, default: null }, null);
  expectCode(() => noGrid.loadRegion(null), FramesError, 'ERR_PATHINFO');
  const sized = new AlignableImageData({ id: 1, channels: { ir: CHANNELS().ir }, default: null, width: W, height: H }, null);
  sameArray(sized.loadRegion([[0, 8], [0, 8]]) as NDArray, expected(['ir'], range(0, 8), range(0, 8), 'uint8'), 'width/height give the grid');
  expectCode(() => new AlignableImageData({ id: 1, channels: CHANNELS(), default: 'r|g|b' }, 'zarr' as never), Error, 'ERR_BACKEND_CONFIG');
});

for (const backend of [null, 'npy', 'cog'] as const) {
  test(`through Frames (${String(backend)}): loadRegion/loadImage with channels, async, prepare builds every channel file`, async () => {
    const frames = new MultiFrames({ workdir: path.join(root, `w-${String(backend)}`), backend });
    const region = [[-40, -3], [7, 41]];
    const ys = range(H - 40, H - 3);
    const xs = range(7, 41);
    sameArray(frames.loadRegion(1, region as never), expected(['r', 'g', 'b'], ys, xs, 'uint8'), 'default channels');
    const bands = ['r', 'g', 'b', 'ir', 'rot'];
    const want = expected(bands, ys, xs, 'uint8');
    sameArray(frames.loadRegion(1, region as never, { channels: ['r|g|b', 'ir', 'rot'] }), want);
    sameArray(await frames.loadRegionAsync(1, region as never, { channels: ['r|g|b', 'ir', 'rot'] }), want, 'async');
    const [batch] = await frames.loadRegions([{ imageId: 1, region: region as never }], { channels: 'dsm' });
    sameArray(batch, expected(['dsm'], ys, xs, 'uint16'), 'batch');
    sameArray(frames.loadImage(1, { channels: 'ir' }) as NDArray, expected(['ir'], range(0, H), range(0, W), 'uint8'), 'loadImage');
    assert.equal(frames.loadFrame(1).shape, [H, W, 3]);
    sameArray(frames.loadFrame(1).get([[1, 3], [2, 4]]), expected(['r', 'g', 'b'], [1, 2], [2, 3], 'uint8'), 'lazy frame');
    await expectCodeAsync(() => frames.loadRegionAsync(1, region as never, { channels: 'nope' }), FramesError, 'ERR_CHANNELS');
    const report = await frames.prepare({ workers: 2, useStamp: false });
    assert.is(report.failed.length, 0);
    assert.is(report.total, backend === null ? 0 : 4, 'one entry per channel file');
    assert.is(report.built + report.reused, report.total);
    assert.is((await frames.prepare({ useStamp: false })).built, 0);
    const al = new AlignableImageData(frames.lookupPathinfo(1), frames.backend);
    sameArray(al.loadRegion(region as never, { channels: ['r|g|b', 'ir', 'rot'] }) as NDArray, want, 'standalone over the same cache');
    al.close();
    frames.close();
  });
}

test('a standalone AlignableImageData over another backend\'s pathinfo reads the sources, writing nothing', () => {
  const workdir = path.join(root, 'w-mismatch');
  const frames = new MultiFrames({ workdir, backend: 'npy' });
  const al = new AlignableImageData(frames.lookupPathinfo(1), { type: 'cog' });
  sameArray(al.loadRegion([[2, 9], [3, 7]], { channels: ['ir', 'dsm'] }) as NDArray,
    expected(['ir', 'dsm'], range(2, 9), range(3, 7), 'float32'));
  assert.equal(listFiles(workdir), [], 'no entry written under the npy names');
  al.close();
});

test.run();
