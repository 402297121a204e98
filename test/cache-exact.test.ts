/**
 * Exact pixels on every backend: for JPEG, PNG, striped and tiled TIFF, and npy sources, every
 * backend (no cache, npy, cog with the default 'auto' config) returns the source's own decode,
 * checked against an independent reader (gdal-async for rasters, the written array for npy).
 * A source that already is a COG by GDAL's validator's rules (a small striped TIFF included) is
 * reused as the cog entry (a symlink), not converted.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isCog, SimpleFrames, writeNpy } from '../lib';
import type { NDArray } from '../lib';
import { firstDiff, gdalRead, pattern, smooth, writeSource } from './_raster-fixtures';
import { tempDir } from './_helpers/tmp';

const { dir, cleanup } = tempDir('exact');
const contiguous = (a: NDArray): number[] => {
  const out: number[] = [];
  const [H, W, C] = a.shape;
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) for (let c = 0; c < C; c++) out.push(a.data[a.offset + y * a.strides[0] + x * a.strides[1] + c * a.strides[2]]);
  return out;
};

interface Src { name: string; file: string; H: number; W: number; C: number; want: ArrayLike<number> }
const sources: Src[] = [];
function raster(name: string, data: ArrayLike<number>, H: number, W: number, C: number, opts: Parameters<typeof writeSource>[6]): void {
  const file = writeSource(path.join(dir, name), data as never, H, W, C, 'uint8', opts);
  sources.push({ name, file, H, W, C, want: gdalRead(file, 0, H, 0, W) });   // the source's own decode
}
raster('photo.jpg', smooth(300, 420, 3), 300, 420, 3, { driver: 'JPEG' });
raster('gray.jpg', smooth(260, 300, 1), 260, 300, 1, { driver: 'JPEG' });
raster('photo.png', pattern(200, 330, 3, 'uint8', 3), 200, 330, 3, { driver: 'PNG' });
raster('striped.tif', pattern(210, 260, 3, 'uint8', 4), 210, 260, 3, {});
raster('wide-striped.tif', pattern(40, 1300, 1, 'uint8', 5), 40, 1300, 1, {});
raster('tiled.tif', pattern(600, 700, 2, 'uint8', 6), 600, 700, 2, { creationOptions: { TILED: 'YES', BLOCKXSIZE: '256', BLOCKYSIZE: '256' } });
const npyData = pattern(123, 77, 3, 'uint8', 7);
const npyFile = path.join(dir, 'array.npy');
writeNpy(npyFile, { data: npyData, shape: [123, 77, 3], strides: [77 * 3, 3, 1], offset: 0, dtype: 'uint8' });
sources.push({ name: 'array.npy', file: npyFile, H: 123, W: 77, C: 3, want: npyData });

for (const backend of [null, 'npy', 'cog'] as const) {
  test(`backend ${String(backend)}: every source reads back as its own decode (max |diff| 0)`, async () => {
    const frames = new SimpleFrames(Object.fromEntries(sources.map((s, i) => [i + 1, s.file])), { workdir: path.join(dir, 'w'), backend });
    const report = await frames.prepare();
    assert.equal(report.failed, [], 'prepare failed nothing');
    sources.forEach((s, i) => {
      const got = frames.loadImage(i + 1);
      assert.equal(got.shape, [s.H, s.W, s.C], `${s.name} shape`);
      assert.is(firstDiff(contiguous(got), s.want), -1, `${s.name} on ${String(backend)}: the first differing element`);
      const crop = frames.loadRegion(i + 1, [[7, 41], [-50, -3]]);
      const ref: number[] = [];
      for (let y = 7; y < Math.min(41, s.H); y++) for (let x = s.W - 50; x < s.W - 3; x++) for (let c = 0; c < s.C; c++) ref.push(s.want[(y * s.W + x) * s.C + c]);
      assert.is(firstDiff(contiguous(crop), ref), -1, `${s.name} on ${String(backend)}: a crop`);
    });
    frames.close();
  });
}

test("a source that already is a COG by the validator's rules is reused as the cog entry, not converted", async () => {
  const frames = new SimpleFrames(Object.fromEntries(sources.map((s, i) => [i + 1, s.file])), { workdir: path.join(dir, 'w2'), backend: 'cog' });
  await frames.prepare();
  sources.forEach((s, i) => {
    const entry = frames.lookupPathinfo(i + 1).channels.default.cache;
    if (s.name.endsWith('.npy')) {
      assert.is(entry, null, 'npy sources are served directly');
      return;
    }
    const reused = fs.lstatSync(entry as string).isSymbolicLink();
    assert.is(reused, isCog(s.file), `${s.name}: reused exactly when isCog says it is a COG`);
  });
  assert.ok(isCog(sources.find((s) => s.name === 'striped.tif')!.file), 'a small striped TIFF is a COG');
  assert.not.ok(isCog(sources.find((s) => s.name === 'wide-striped.tif')!.file), 'strips wider than 1024 are not');
  frames.close();
});

test.after(cleanup);
test.run();
