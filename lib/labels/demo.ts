/**
 * CocoSampler.demo's dataset: three textured images (smooth colour fields with noise) with shapes
 * of known colour and place painted on them (a pixel is painted when its centre is inside the
 * shape, as the masks are rasterized): boxes (red), discs (green, 24-gons), triangles (blue) and
 * stars (yellow, not convex). Every annotation has a bbox and a track_id; boxes and triangles give
 * polygon segmentations, discs RLEs (COCO's compressed strings on image 1, counts lists on the
 * others), stars kwcoco {exterior} polygons; triangles have COCO keypoints, stars kwcoco ones.
 * Written deterministically once into `dpath` (writeRaster, atomic JSON). Calling thread.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeTextIfChanged } from '../atomic';
import { fsError } from '../errors';
import { Rng } from '../frames/sampler';
import { writeRaster } from '../gdal';
import { allocate } from '../ndarray';
import type { NDArray } from '../ndarray';

const DEMO_VERSION = 1;
export const SHAPES_DEMO_FILE = 'shapes.kwcoco.json';
/** [height, width] of the demo images. */
export const SHAPES_DEMO_IMAGES: ReadonlyArray<readonly [number, number]> = [[240, 320], [256, 256], [200, 300]];
/** The categories and the colour each is painted in. */
export const SHAPES_DEMO_CATEGORIES = [
  { id: 1, name: 'box', color: [220, 40, 40] },
  { id: 2, name: 'disc', color: [40, 200, 60] },
  { id: 3, name: 'triangle', color: [40, 80, 230] },
  { id: 4, name: 'star', color: [240, 220, 40] },
] as const;

const U32 = 2 ** 32;

/** A textured RGB background (smooth colour fields with noise), deterministic in `id`. */
export function background(id: number, H: number, W: number): NDArray {
  const a = allocate([H, W, 3], 'uint8');
  const d = a.data as Uint8Array;
  let s = (0x2545f491 ^ (id * 0x9e3779b9)) >>> 0;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
      const n = (s & 15) - 8;
      const u = x / W, v = y / H;
      const i = (y * W + x) * 3;
      d[i] = Math.round(110 + 30 * Math.sin(6.3 * (u + id * 0.3) + 2 * v) + n);
      d[i + 1] = Math.round(100 + 25 * Math.cos(5.1 * v - 3 * u + id) + n);
      d[i + 2] = Math.round(90 + 20 * Math.sin(4.2 * (u * v) + id) + n);
    }
  }
  return a;
}

/** Even-odd point-in-polygon of the point (x, y). */
export function inside(ring: number[], x: number, y: number): boolean {
  let c = false;
  for (let i = 0, j = ring.length - 2; i < ring.length; j = i, i += 2) {
    const [xi, yi, xj, yj] = [ring[i], ring[i + 1], ring[j], ring[j + 1]];
    if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) c = !c;
  }
  return c;
}

/** Paints `ring` (pixel centres inside) and returns its column-major mask runs. */
export function paint(img: NDArray, ring: number[], color: readonly number[]): number[] {
  const [H, W] = img.shape;
  const d = img.data as Uint8Array;
  const mask = new Uint8Array(H * W);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      if (!inside(ring, x + 0.5, y + 0.5)) continue;
      mask[x * H + y] = 1;
      d.set(color, (y * W + x) * 3);
    }
  }
  const counts: number[] = [];
  let cur = 0, run = 0;
  for (const v of mask) {
    if (v !== cur) {
      counts.push(run);
      run = 0;
      cur = v;
    }
    run++;
  }
  counts.push(run);
  return counts;
}

/** COCO's compressed RLE string of `counts` (5-bit groups, deltas from the third count on). */
export function encodeCounts(counts: number[]): string {
  let s = '';
  counts.forEach((c, i) => {
    let x = i > 2 ? c - counts[i - 2] : c;
    for (let more = true; more;) {
      let g = x & 0x1f;
      x = Math.floor(x / 32);
      more = (g & 0x10) !== 0 ? x !== -1 : x !== 0;
      if (more) g |= 0x20;
      s += String.fromCharCode(g + 48);
    }
  });
  return s;
}

/** The ring of a demo shape: kind 0 box, 1 disc (24-gon), 2 triangle, 3 star; turned by a draw of `rng`. */
export function shape(kind: number, cx: number, cy: number, r: number, rng: Rng): number[] {
  const round = (v: number) => Math.round(v * 100) / 100;
  const pts: number[] = [];
  const n = kind === 0 ? 4 : kind === 1 ? 24 : kind === 2 ? 3 : 10;
  const turn = (rng.next() / U32) * Math.PI * 2;
  for (let k = 0; k < n; k++) {
    const t = kind === 0 ? Math.PI / 4 + (k * Math.PI) / 2 : turn + (2 * Math.PI * k) / n;
    const rr = kind === 3 && k % 2 === 1 ? r * 0.45 : r;
    pts.push(round(cx + rr * Math.cos(t)), round(cy + rr * Math.sin(t) * (kind === 0 ? 0.7 : 1)));
  }
  return pts;
}

/** Writes the demo into `dpath` (images once, each atomically) and returns the dataset file. */
export function ensureShapesDemo(dpath: string): string {
  try {
    fs.mkdirSync(path.join(dpath, 'images'), { recursive: true });
  } catch (err) {
    throw fsError(err, dpath, 'mkdir');
  }
  const images: object[] = [];
  const annotations: object[] = [];
  let aid = 0;
  SHAPES_DEMO_IMAGES.forEach(([H, W], i) => {
    const id = i + 1;
    const img = background(id, H, W);
    const rng = new Rng(2026, id);
    const cols = 3, rows = 3;
    for (let k = 0; k < 8; k++) {
      const kind = (k + id) % 4;
      const cx = ((k % cols) + 0.5) * (W / cols) + ((rng.next() / U32) - 0.5) * 0.3 * (W / cols);
      const cy = (Math.floor(k / cols) + 0.5) * (H / rows) + ((rng.next() / U32) - 0.5) * 0.3 * (H / rows);
      const r = (0.22 + 0.1 * (rng.next() / U32)) * Math.min(W / cols, H / rows);
      const ring = shape(kind, cx, cy, r, rng);
      const counts = paint(img, ring, SHAPES_DEMO_CATEGORIES[kind].color);
      const xs = ring.filter((_, q) => q % 2 === 0), ys = ring.filter((_, q) => q % 2 === 1);
      const bbox = [Math.min(...xs), Math.min(...ys), Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys)];
      const ann: Record<string, unknown> = { id: ++aid, image_id: id, category_id: kind + 1, bbox, track_id: aid };
      if (kind === 1) ann.segmentation = { size: [H, W], counts: id === 1 ? encodeCounts(counts) : counts };
      else if (kind === 3) ann.segmentation = { exterior: xs.map((x, q) => [x, ys[q]]) };
      else ann.segmentation = [ring];
      if (kind === 2) ann.keypoints = ring.flatMap((v, q) => (q % 2 === 1 ? [v, 2] : [v]));
      if (kind === 3) ann.keypoints = [{ xy: [xs[0], ys[0]], keypoint_category_id: 1 }];
      annotations.push(ann);
    }
    const file = path.join(dpath, 'images', `shapes${DEMO_VERSION}_${id}.png`);
    if (!fs.existsSync(file)) writeRaster(file, img);
    images.push({ id, file_name: path.relative(dpath, file), width: W, height: H });
  });
  const dataset = {
    info: { description: `ndsampler CocoSampler demo v${DEMO_VERSION}` },
    categories: SHAPES_DEMO_CATEGORIES.map(({ id, name }) => ({ id, name, supercategory: 'shape' })),
    keypoint_categories: [{ id: 1, name: 'tip' }],
    images, annotations,
  };
  const file = path.join(dpath, SHAPES_DEMO_FILE);
  const text = JSON.stringify(dataset) + '\n';
  writeTextIfChanged(file, text);
  return file;
}
