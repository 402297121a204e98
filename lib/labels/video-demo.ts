/**
 * CocoSampler.demo({kind: 'video'})'s dataset: one short multispectral video of 8 frames, its
 * video grid 240 x 320, with three shapes moving across it, each a track (track_id 1..3): a box
 * (red) moving right, a disc (green) moving down and left, a triangle (blue) that appears at
 * frame position 2 and leaves after 6. Frames at positions 0, 2, 4, 6 are on the video grid
 * (240 x 320; no warp, or an identity matrix); frames 1, 3, 5, 7 are at half resolution
 * (120 x 160) with warp_img_to_vid scaling them up by 2 (kwimage parameters on some, a matrix on
 * others). frame_index skips 3 (gaps are allowed). Each frame has two assets: 'r|g|b' (uint8
 * PNG, on the image grid) and 'nir|swir' (uint8 GeoTIFF at half the image's resolution,
 * warp_aux_to_img scale 2): nir is 220 inside a shape, swir a ramp. Shapes are painted where a
 * pixel's centre is inside them, in each image's own coordinates; annotations carry the box, the
 * polygon and the track. Written deterministically once into `dpath`. Calling thread.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeTextIfChanged } from '../atomic';
import { fsError } from '../errors';
import { Rng } from '../frames/sampler';
import { writeRaster } from '../gdal';
import { allocate } from '../ndarray';
import { background, inside, paint, shape, SHAPES_DEMO_CATEGORIES } from './demo';

const DEMO_VERSION = 1;
export const VIDEO_DEMO_FILE = 'video.kwcoco.json';
/** The video grid [height, width], the number of frames and their frame_index values. */
export const VIDEO_DEMO_SIZE: readonly [number, number] = [240, 320];
export const VIDEO_DEMO_FRAME_INDEX: readonly number[] = [0, 1, 2, 4, 5, 6, 7, 8];

/** The tracks: shape kind (demo.ts shape), first and last frame position, centre at position 0 and velocity (video pixels per frame), radius. */
export const VIDEO_DEMO_TRACKS = [
  { trackId: 1, kind: 0, from: 0, to: 7, c0: [40, 60], v: [26, 4], r: 26 },
  { trackId: 2, kind: 1, from: 0, to: 7, c0: [270, 40], v: [-18, 20], r: 24 },
  { trackId: 3, kind: 2, from: 2, to: 6, c0: [60, 150], v: [30, 6], r: 30 },
] as const;

/** Writes the demo into `dpath` (images once, each atomically) and returns the dataset file. */
export function ensureVideoDemo(dpath: string): string {
  try {
    fs.mkdirSync(path.join(dpath, 'frames'), { recursive: true });
  } catch (err) {
    throw fsError(err, dpath, 'mkdir');
  }
  const [VH, VW] = VIDEO_DEMO_SIZE;
  const images: object[] = [];
  const annotations: object[] = [];
  let aid = 0;
  VIDEO_DEMO_FRAME_INDEX.forEach((frameIndex, p) => {
    const id = p + 1;
    const half = p % 2 === 1;
    const k = half ? 0.5 : 1;  // video -> image scale
    const [H, W] = [VH * k, VW * k];
    const rgb = background(100 + id, H, W);
    const ms = allocate([H / 2, W / 2, 2], 'uint8');
    const msd = ms.data as Uint8Array;
    for (let y = 0; y < H / 2; y++) for (let x = 0; x < W / 2; x++) { msd[(y * (W / 2) + x) * 2] = 40 + ((x * 7 + y * 3) & 31); msd[(y * (W / 2) + x) * 2 + 1] = (x + 2 * y) & 255; }
    for (const tr of VIDEO_DEMO_TRACKS) {
      if (p < tr.from || p > tr.to) continue;
      const cx = (tr.c0[0] + tr.v[0] * p) * k, cy = (tr.c0[1] + tr.v[1] * p) * k;
      const ring = shape(tr.kind, cx, cy, tr.r * k, new Rng(2027, tr.trackId));
      paint(rgb, ring, SHAPES_DEMO_CATEGORIES[tr.kind].color);
      // nir: the shape at the asset's half resolution (asset pixel (u, v) covers image [2u, 2u + 2) x [2v, 2v + 2))
      for (let v = 0; v < H / 2; v++) for (let u = 0; u < W / 2; u++) if (inside(ring, 2 * u + 1, 2 * v + 1)) msd[(v * (W / 2) + u) * 2] = 220;
      const xs = ring.filter((_, q) => q % 2 === 0), ys = ring.filter((_, q) => q % 2 === 1);
      const bbox = [Math.min(...xs), Math.min(...ys), Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys)];
      annotations.push({ id: ++aid, image_id: id, category_id: tr.kind + 1, bbox, segmentation: [ring], track_id: tr.trackId });
    }
    const name = (s: string, ext: string) => `frames/v${DEMO_VERSION}_f${id}_${s}.${ext}`;
    const rgbFile = path.join(dpath, name('rgb', 'png'));
    const msFile = path.join(dpath, name('nir_swir', 'tif'));
    if (!fs.existsSync(rgbFile)) writeRaster(rgbFile, rgb);
    if (!fs.existsSync(msFile)) writeRaster(msFile, ms);
    const img: Record<string, unknown> = {
      id, width: W, height: H, video_id: 1, frame_index: frameIndex,
      assets: [
        { file_name: name('rgb', 'png'), channels: 'r|g|b', width: W, height: H },
        { file_name: name('nir_swir', 'tif'), channels: 'nir|swir', width: W / 2, height: H / 2, warp_aux_to_img: { scale: 2 } },
      ],
    };
    if (half) img.warp_img_to_vid = p % 4 === 1 ? { scale: 2 } : { type: 'affine', matrix: [[2, 0, 0], [0, 2, 0], [0, 0, 1]] };
    else if (p === 2) img.warp_img_to_vid = { type: 'affine', matrix: [[1, 0, 0], [0, 1, 0], [0, 0, 1]] };
    images.push(img);
  });
  const dataset = {
    info: { description: `ndsampler CocoSampler video demo v${DEMO_VERSION}` },
    categories: SHAPES_DEMO_CATEGORIES.map(({ id, name }) => ({ id, name, supercategory: 'shape' })),
    videos: [{ id: 1, name: 'moving-shapes', width: VW, height: VH, target_gsd: 10 }],
    images, annotations,
  };
  const file = path.join(dpath, VIDEO_DEMO_FILE);
  const text = JSON.stringify(dataset) + '\n';
  writeTextIfChanged(file, text);
  return file;
}
