/**
 * The hostile rows of CocoSampler (issue 16): malformed annotations at construction (a coded
 * ERR_ANNOTATION naming the id, in bounded time and memory), and hostile geometry in masks (huge
 * coordinates, far too many vertices) that must neither crash, hang nor overrun memory.
 * Joined into CASES by cases.ts.
 */
import { CocoSampler, FramesError, NdsamplerError } from '../../lib';
import type { CocoDataset } from '../../lib';
import { native } from '../../lib/native';
import type { HostileCase } from './cases';
import type { HostilePaths } from './files';

const ANN = { cls: FramesError, code: 'ERR_ANNOTATION' };
const TYPE = { cls: TypeError, code: 'ERR_INVALID_ARG_TYPE' };

/** A one-image dataset over the good 8x8 png with `annotations`. */
function dataset(P: HostilePaths, annotations: unknown[], declared = true): CocoDataset {
  const img: Record<string, unknown> = { id: 1, file_name: P.good.png };
  if (declared) Object.assign(img, { width: 8, height: 8 });
  return { images: [img as CocoDataset['images'][number]], categories: [{ id: 1, name: 'a' }], annotations };
}

const ann = (extra: Record<string, unknown>) => ({ id: 7, image_id: 1, category_id: 1, ...extra });

/** A ring of n points on a circle of radius r around (4, 4). */
function circle(n: number, r: number): number[] {
  const out = new Array(2 * n);
  for (let i = 0; i < n; i++) {
    out[2 * i] = 4 + r * Math.cos((2 * Math.PI * i) / n);
    out[2 * i + 1] = 4 + r * Math.sin((2 * Math.PI * i) / n);
  }
  return out;
}

/** A labeled batch with instance masks of the whole image; 'accepted' when it resolves sane. */
async function masks(P: HostilePaths, annotations: unknown[]): Promise<string> {
  const s = new CocoSampler(dataset(P, annotations));
  const b = await s.loadBatch([{ imageId: 1 }], { masks: 'instance' });
  if (b.masks === undefined || b.masks.data.length !== 64) throw new Error('no masks');
  return 'accepted';
}

export const LABEL_CASES: HostileCase[] = [
  { name: 'CocoSampler: NaN box', ...ANN, run: (P) => new CocoSampler(dataset(P, [ann({ bbox: [0, NaN, 1, 1] })])) },
  { name: 'CocoSampler: negative box size', ...ANN, run: (P) => new CocoSampler(dataset(P, [ann({ bbox: [0, 0, -1e300, 1] })])) },
  { name: 'CocoSampler: a polygon of 2 points', ...ANN, run: (P) => new CocoSampler(dataset(P, [ann({ segmentation: [[0, 0, 1, 1]] })])) },
  {
    name: 'CocoSampler: a polygon of 2 million vertices (over the limit)', ...ANN, maxMs: 4000, maxRssMB: 1024, isolate: true,
    run: (P) => new CocoSampler(dataset(P, [ann({ segmentation: [circle(2_000_000, 3)] })])),
  },
  {
    name: 'CocoSampler: a compressed RLE string of 40 million characters', ...ANN, maxMs: 4000, maxRssMB: 1024, isolate: true,
    run: (P) => new CocoSampler(dataset(P, [ann({ segmentation: { size: [8, 8], counts: '0'.repeat(40_000_000) } })])),
  },
  {
    name: 'CocoSampler: a compressed RLE string of endless continuation groups', ...ANN,
    run: (P) => new CocoSampler(dataset(P, [ann({ segmentation: { size: [8, 8], counts: 'o'.repeat(1000) } })])),
  },
  { name: 'CocoSampler: an RLE whose size is not the image\'s', ...ANN, run: (P) => new CocoSampler(dataset(P, [ann({ segmentation: { size: [1e6, 1e6], counts: [1e12] } })])) },
  {
    name: 'CocoSampler: an RLE on an image of undeclared size that is not its size (masks)', ...ANN,
    run: async (P) => {
      const s = new CocoSampler(dataset(P, [ann({ segmentation: { size: [1e5, 1e5], counts: [0, 1, 1e10 - 1] } })], false));
      await s.loadBatch([{ imageId: 1 }], { masks: 'instance' });
    },
  },
  { name: 'CocoSampler: keypoints not in triplets', ...ANN, run: (P) => new CocoSampler(dataset(P, [ann({ bbox: [0, 0, 1, 1], keypoints: [1, 2] })])) },
  { name: 'CocoSampler: unknown category', ...ANN, run: (P) => new CocoSampler(dataset(P, [ann({ bbox: [0, 0, 1, 1], category_id: 9 })])) },
  { name: 'CocoSampler: duplicate ids', ...ANN, run: (P) => new CocoSampler(dataset(P, [ann({ bbox: [0, 0, 1, 1] }), ann({ bbox: [0, 0, 1, 1] })])) },
  { name: 'masks: a polygon at 1e300', okOrCode: true, run: (P) => masks(P, [ann({ segmentation: [[1e300, 1e300, -1e300, 2, 3, -1e300]] })]) },
  { name: 'masks: vertices on every pixel centre and a far spike', okOrCode: true, run: (P) => masks(P, [ann({ segmentation: [[0.5, 0.5, 7.5, 0.5, 1e15, 3.5, 7.5, 7.5, 0.5, 7.5]] })]) },
  {
    name: 'masks: 17 annotations of 10^6 vertices in one crop (over the batch limit of 2^24)', cls: NdsamplerError, code: 'ERR_TOO_LARGE',
    maxMs: 15000, timeoutMs: 30000, maxRssMB: 1400, isolate: true,
    run: (P) => {
      const ring = circle(1_000_000, 3);  // one ring shared by every annotation (parsed into a copy each)
      return masks(P, Array.from({ length: 17 }, (_, i) => ({ ...ann({ segmentation: [ring] }), id: i + 1 })));
    },
  },
  {
    name: 'rasterizeMasks called directly with a geometry offset past its end', ...TYPE,
    run: () => native.rasterizeMasks({ n: 1, h: 4, w: 4, dtype: 'uint8', shapes: Float64Array.of(0, 1, 0, 99), geom: new Float64Array(4) }),
  },
  {
    name: 'rasterizeMasks called directly with a ring longer than its geometry', ...TYPE,
    run: () => native.rasterizeMasks({ n: 1, h: 4, w: 4, dtype: 'uint8', shapes: Float64Array.of(0, 1, 0, 0), geom: Float64Array.of(1, 1, 1e9, 0, 0) }),
  },
  {
    name: 'rasterizeMasks called directly with a value outside uint8', ...TYPE,
    run: () => native.rasterizeMasks({ n: 1, h: 4, w: 4, dtype: 'uint8', shapes: Float64Array.of(0, 256, 0, 0), geom: Float64Array.of(0) }),
  },
];
