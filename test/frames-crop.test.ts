/**
 * Frames-level crops: `boundless`, `fill` and `scale` on loadRegion, loadRegionAsync, loadImage and
 * LazyFrame.get, with the readers' meaning and the same pixels on every backend (npy scale samples
 * full resolution by GDAL's nearest rule; compared with the no-cache backend on a source without
 * overviews, and with the COG entry's own scaled read on the cog backend).
 */
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NdsamplerError, openImage, SimpleFrames, writeRaster } from '../lib';
import type { NDArray, Region } from '../lib';
import { pattern } from './_raster-fixtures';
import { expectCode, expectCodeAsync } from './_helpers/errors';
import { tempDir } from './_helpers/tmp';

const { dir, cleanup } = tempDir('crop');
const H = 97;
const W = 131;
const C = 3;
const src = path.join(dir, 'src.png');
writeRaster(src, { data: pattern(H, W, C, 'uint8', 5), shape: [H, W, C], strides: [W * C, C, 1], offset: 0, dtype: 'uint8' });
const plain = (a: NDArray): number[] => {
  const out: number[] = [];
  for (let y = 0; y < a.shape[0]; y++) for (let x = 0; x < a.shape[1]; x++) for (let c = 0; c < a.shape[2]; c++) out.push(a.data[a.offset + y * a.strides[0] + x * a.strides[1] + c * a.strides[2]]);
  return out;
};
const regions: Region[] = [
  [[-10, 20], [5, 40]], [[80, 110], [10, 30]], [[10, 30], [-7, 12]], [[20, 40], [120, 150]],
  [[-5, 5], [-5, 5]], [[90, 105], [125, 140]], [[-20, 120], [-20, 150]], [[200, 210], [0, 10]],
];
const ref = openImage(src);

for (const backend of [null, 'npy', 'cog'] as const) {
  test(`boundless crops past every border equal the reader's boundless read (backend ${String(backend)})`, async () => {
    const f = new SimpleFrames({ 1: src }, { workdir: path.join(dir, 'w'), backend });
    for (const region of regions) {
      for (const fill of [0, 7]) {
        const want = plain(ref.read(region, { boundless: true, fill }));
        assert.equal(plain(f.loadRegion(1, region, { boundless: true, fill })), want, `sync ${JSON.stringify(region)} fill ${fill}`);
        assert.equal(plain(await f.loadRegionAsync(1, region, { boundless: true, fill })), want, `async ${JSON.stringify(region)}`);
        assert.equal(plain(f.loadFrame(1).get(region, { boundless: true, fill })), want, `lazy ${JSON.stringify(region)}`);
      }
    }
    f.close();
  });
}

test('scale: npy equals the no-cache read of a source without overviews (GDAL nearest rule); cog equals its entry\'s scaled read', async () => {
  const none = new SimpleFrames({ 1: src }, { workdir: path.join(dir, 'w'), backend: null });
  const npy = new SimpleFrames({ 1: src }, { workdir: path.join(dir, 'w'), backend: 'npy' });
  const cog = new SimpleFrames({ 1: src }, { workdir: path.join(dir, 'w'), backend: { type: 'cog', config: { blocksize: 32 } } });
  for (const scale of [1, 0.5, 0.3, 0.25, 0.01]) {
    for (const region of [null, [[10, 90], [3, 120]], [[-8, 40], [100, 140]]] as Array<Region | null>) {
      const o = { scale, boundless: region !== null };
      const a = none.loadRegion(1, region, o);
      const b = npy.loadRegion(1, region, o);
      assert.equal(b.shape, a.shape, `shape at ${scale} ${JSON.stringify(region)}`);
      assert.equal(plain(b), plain(a), `npy = no-cache at scale ${scale} ${JSON.stringify(region)}`);
      assert.equal(plain(await npy.loadRegionAsync(1, region, o)), plain(a), 'npy async');
      const c = cog.loadRegion(1, region, o);
      const entry = openImage(cog.lookupPathinfo(1).channels.default.cache as string);
      assert.equal(plain(c), plain(entry.read(region, { boundless: region !== null, scale })), `cog = its entry at ${scale}`);
      entry.close();
    }
    assert.equal(npy.loadImage(1, { scale }).shape, none.loadImage(1, { scale }).shape, 'loadImage scale');
  }
  for (const f of [none, npy, cog]) f.close();
});

test('crop options: bad values and fused images', async () => {
  const f = new SimpleFrames({ 1: src }, { workdir: path.join(dir, 'w'), backend: 'npy' });
  expectCode(() => f.loadRegion(1, null, { scale: 0 }), RangeError, 'ERR_OUT_OF_RANGE');
  expectCode(() => f.loadRegion(1, null, { scale: 1.5 }), RangeError, 'ERR_OUT_OF_RANGE');
  expectCode(() => f.loadRegion(1, null, { boundless: 'yes' as never }), TypeError, 'ERR_INVALID_ARG_TYPE');
  expectCode(() => f.loadRegion(1, null, { fill: '0' as never }), TypeError, 'ERR_INVALID_ARG_TYPE');
  await expectCodeAsync(() => f.loadRegionAsync(1, null, { scale: -1 }), RangeError, 'ERR_OUT_OF_RANGE');
  expectCode(() => f.loadFrame(1).get(null, { bogus: 1 } as never), TypeError, 'ERR_INVALID_ARG_TYPE');
  f.close();
  assert.ok(NdsamplerError);
});

test.after(() => {
  ref.close();
  cleanup();
});
test.run();
