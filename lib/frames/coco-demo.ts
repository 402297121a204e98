/**
 * CocoFrames.demo's bundle: a small kwcoco dataset written deterministically (no download) with
 * the library's own writeRaster. Each image has an RGB asset at full resolution, a 2-band uint16
 * `nir|swir` asset at 1/2 (with a quantization record), a 1-band uint8 `mask` at 1/4 and a
 * float32 `feat:8` asset at 1/8. Images 1 and 3 list them under `auxiliary`, image 2 under
 * `assets`; image 1 gives its warps as matrices, image 2 as kwimage parameters, image 3 mixes a
 * base `file_name`, parameters, a 2x3 matrix and an inferred warp. Runs on the calling thread.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeTextIfChanged } from '../atomic';
import { fsError } from '../errors';
import { writeRaster } from '../gdal';
import { allocate } from '../ndarray';
import type { NDArray } from '../ndarray';
import type { CocoAsset, CocoDataset, CocoImage } from './coco-frames';
import { demoImage } from './simple-frames';

const DEMO_VERSION = 1;
/** [height, width] of the demo images, by id - 1 (multiples of 8). */
export const COCO_DEMO_SHAPES: ReadonlyArray<readonly [number, number]> = [[512, 512], [256, 384], [240, 320]];
export const COCO_DEMO_FILE = 'data.kwcoco.json';
/** nir|swir's quantization: stored = value * 10000 (uint16), 0 is nodata. */
export const COCO_DEMO_QUANTIZATION = Object.freeze({ orig_min: 0, orig_max: 1, quant_min: 0, quant_max: 10000, nodata: 0 });

/** The demo's pixel values, as functions of the asset's own pixel (row v, column u). */
export const cocoDemoValues = {
  nir: (id: number, v: number, u: number): number => (v === 0 && u === 0 ? 0 : 1000 + id * 500 + v * 11 + u * 3),
  swir: (id: number, v: number, u: number): number => 5000 + id * 100 + v * 2 + u * 7,
  mask: (id: number, v: number, u: number, h: number, w: number): number => ((v - h / 2) ** 2 + (u - w / 2) ** 2 < (Math.min(h, w) / 3) ** 2 ? 1 : 0),
  feat: (id: number, k: number, v: number, u: number): number => id * 100 + k + v * 0.25 + u * 0.5,
};

function make(h: number, w: number, c: number, dtype: 'uint8' | 'uint16' | 'float32', f: (v: number, u: number, k: number) => number): NDArray {
  const a = allocate([h, w, c], dtype);
  for (let v = 0; v < h; v++) for (let u = 0; u < w; u++) for (let k = 0; k < c; k++) a.data[(v * w + u) * c + k] = f(v, u, k);
  return a;
}

function writeOnce(file: string, make: () => NDArray): void {
  if (!fs.existsSync(file)) writeRaster(file, make());
}

/** The image records (file names relative to the bundle). */
function records(id: number, H: number, W: number): CocoImage {
  const name = (s: string, ext: string) => `images/img${id}_${s}.${ext}`;
  const rgb: CocoAsset = { file_name: name('rgb', 'png'), channels: 'r|g|b', width: W, height: H };
  const nir: CocoAsset = { file_name: name('nir_swir', 'tif'), channels: 'nir|swir', width: W / 2, height: H / 2, quantization: { ...COCO_DEMO_QUANTIZATION } };
  const mask: CocoAsset = { file_name: name('mask', 'png'), channels: 'mask', width: W / 4, height: H / 4 };
  const feat: CocoAsset = { file_name: name('feat', 'tif'), channels: 'feat:8', width: W / 8, height: H / 8 };
  if (id === 1) {
    rgb.warp_aux_to_img = { type: 'affine', matrix: [[1, 0, 0], [0, 1, 0], [0, 0, 1]] };
    nir.warp_aux_to_img = { type: 'affine', matrix: [[2, 0, 0], [0, 2, 0], [0, 0, 1]] };
    mask.warp_aux_to_img = { type: 'affine', matrix: [[4, 0, 0], [0, 4, 0]] };
    feat.warp_aux_to_img = { type: 'affine', matrix: [[8, 0, 0], [0, 8, 0], [0, 0, 1]] };
    return { id, width: W, height: H, auxiliary: [rgb, nir, mask, feat] };
  }
  if (id === 2) {
    nir.warp_aux_to_img = { scale: 2 };
    mask.warp_aux_to_img = { scale: [4, 4], offset: [0, 0] };
    feat.warp_img_from_asset = { type: 'affine', scale: 8, theta: 0 };
    return { id, width: W, height: H, assets: [rgb, nir, mask, feat] };
  }
  nir.warp_img_from_asset = { scale: [2, 2], about: [0, 0] };
  feat.warp_aux_to_img = { type: 'affine', matrix: [[8, 0, 0], [0, 8, 0]] };
  return { id, width: W, height: H, file_name: rgb.file_name, channels: 'r|g|b', auxiliary: [nir, mask, feat] };
}

/** Writes the demo bundle into `dpath` (files once, each atomically) and returns the dataset file. */
export function ensureCocoDemo(dpath: string): string {
  try {
    fs.mkdirSync(path.join(dpath, 'images'), { recursive: true });
  } catch (err) {
    throw fsError(err, dpath, 'mkdir');
  }
  const images = COCO_DEMO_SHAPES.map(([H, W], i) => {
    const id = i + 1;
    const f = (s: string, ext: string) => path.join(dpath, `images/img${id}_${s}.${ext}`);
    writeOnce(f('rgb', 'png'), () => demoImage(id, H, W));
    writeOnce(f('nir_swir', 'tif'), () => make(H / 2, W / 2, 2, 'uint16', (v, u, k) => (k === 0 ? cocoDemoValues.nir(id, v, u) : cocoDemoValues.swir(id, v, u))));
    writeOnce(f('mask', 'png'), () => make(H / 4, W / 4, 1, 'uint8', (v, u) => cocoDemoValues.mask(id, v, u, H / 4, W / 4)));
    writeOnce(f('feat', 'tif'), () => make(H / 8, W / 8, 8, 'float32', (v, u, k) => cocoDemoValues.feat(id, k, v, u)));
    return records(id, H, W);
  });
  const dataset: CocoDataset & Record<string, unknown> = {
    info: { description: `ndsampler CocoFrames demo v${DEMO_VERSION}` },
    categories: [],
    annotations: [],
    images,
  };
  const file = path.join(dpath, COCO_DEMO_FILE);
  const text = JSON.stringify(dataset, null, 1) + '\n';
  writeTextIfChanged(file, text);
  return file;
}
