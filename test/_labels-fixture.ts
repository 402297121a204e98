/**
 * The painted dataset of the label tests: images whose objects are painted by GDAL's rasterizer
 * (python3 osgeo.gdal, RasterizeLayer: a pixel is inside when its centre is) in unique colours,
 * so the pixels of any sample say where its boxes and masks must be. Object k (1-based) is painted
 * [k, 77, 255] over a background whose blue stays below 200; objects are painted in annotation
 * order (later over earlier). Every third object's segmentation is given as an RLE, computed by
 * numpy from its own rasterized mask (column-major runs), the others as polygons. Nothing here
 * uses the library.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';

export const PY = '/usr/bin/python3';

const SCRIPT = String.raw`
import json, sys, math, random
import numpy as np
from osgeo import gdal, ogr
out = sys.argv[1]
spec = json.loads(sys.stdin.read())
rnd = random.Random(spec['seed'])
gdal.UseExceptions()
gdal.PushErrorHandler('CPLQuietErrorHandler')
images, anns = [], []
aid = 0
def rasterize(H, W, rings, bands, values, ds=None):
    if ds is None:
        ds = gdal.GetDriverByName('MEM').Create('', W, H, bands, gdal.GDT_Byte)
        ds.SetGeoTransform([0, 1, 0, 0, 0, 1])
    mem = ogr.GetDriverByName('Memory').CreateDataSource('m')
    lyr = mem.CreateLayer('l')
    for ring in rings:
        r = ogr.Geometry(ogr.wkbLinearRing)
        for i in range(0, len(ring), 2): r.AddPoint_2D(ring[i], ring[i + 1])
        r.CloseRings()
        g = ogr.Geometry(ogr.wkbPolygon); g.AddGeometry(r)
        f = ogr.Feature(lyr.GetLayerDefn()); f.SetGeometry(g); lyr.CreateFeature(f)
    gdal.RasterizeLayer(ds, list(range(1, bands + 1)), lyr, burn_values=values)
    return ds
for gid, (H, W, n) in enumerate(spec['images'], start=1):
    yy, xx = np.mgrid[0:H, 0:W]
    bg = np.stack([(yy * 7 + xx * 3) % 256, (xx * 5 + 40) % 256, (yy + xx) % 190], axis=-1).astype(np.uint8)
    ds = gdal.GetDriverByName('MEM').Create('', W, H, 3, gdal.GDT_Byte)
    ds.SetGeoTransform([0, 1, 0, 0, 0, 1])
    for b in range(3): ds.GetRasterBand(b + 1).WriteArray(bg[:, :, b])
    # objects on a jittered grid (no two overlap), some reaching past the border
    cols = int(math.ceil(math.sqrt(n)))
    cw, ch = W / cols, H / cols
    for k in range(n):
        aid += 1
        cx = (k % cols + 0.5) * cw + rnd.uniform(-0.15, 0.15) * cw
        cy = (k // cols + 0.5) * ch + rnd.uniform(-0.15, 0.15) * ch
        if k == 0: cx, cy = 2.0, 3.0          # past the top-left border
        if k == n - 1: cx, cy = W - 1.5, H - 2.2  # past the bottom-right border
        # an octagon with flat sides at its extremes (so its box is its pixels' extent within a
        # pixel), every other one with a notch cut into its top side (not convex)
        w, h = rnd.uniform(0.5, 0.8) * cw, rnd.uniform(0.5, 0.8) * ch
        x0, x1, y0, y1 = cx - w / 2, cx + w / 2, cy - h / 2, cy + h / 2
        c = [rnd.uniform(0.1, 0.3) * min(w, h) for _ in range(8)]
        pts = [(x0 + c[0], y0)]
        if aid % 2 == 0:
            mx, nw = (x0 + c[0] + x1 - c[1]) / 2, 0.12 * w
            pts += [(mx - nw, y0), (mx, y0 + 0.4 * h), (mx + nw, y0)]
        pts += [(x1 - c[1], y0), (x1, y0 + c[2]), (x1, y1 - c[3]), (x1 - c[4], y1), (x0 + c[5], y1), (x0, y1 - c[6]), (x0, y0 + c[7])]
        ring = []
        for (px, py) in pts: ring += [round(px, 3), round(py, 3)]
        rasterize(H, W, [ring], 3, [aid, 77, 255], ds)
        xs, ys = ring[0::2], ring[1::2]
        ann = {'id': aid, 'image_id': gid, 'category_id': 1 + aid % 3, 'track_id': 1000 + aid,
               'bbox': [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)],
               'keypoints': [ring[0], ring[1], 2]}
        if aid % 3 == 0:
            mds = rasterize(H, W, [ring], 1, [1])
            mask = mds.GetRasterBand(1).ReadAsArray()
            mds = None
            flat = mask.flatten(order='F')
            counts, cur, run = [], 0, 0
            for v in flat:
                if v != cur:
                    counts.append(run); run = 0; cur = v
                run += 1
            counts.append(run)
            ann['segmentation'] = {'size': [H, W], 'counts': [int(c) for c in counts]}
            ann['ring'] = ring
        else:
            ann['segmentation'] = [ring]
        anns.append(ann)
    name = 'img%d.png' % gid
    gdal.GetDriverByName('PNG').CreateCopy(out + '/' + name, ds)
    images.append({'id': gid, 'file_name': name, 'width': W, 'height': H})
cats = [{'id': 1, 'name': 'one'}, {'id': 2, 'name': 'two'}, {'id': 3, 'name': 'three'}]
json.dump({'images': images, 'categories': cats, 'annotations': anns}, open(out + '/data.kwcoco.json', 'w'))
`;

export interface PaintedAnnotation {
  id: number;
  image_id: number;
  category_id: number;
  bbox: [number, number, number, number];
  segmentation: number[][] | { size: [number, number]; counts: number[] };
  /** RLE objects: the polygon they were painted from. */
  ring?: number[];
}

export interface Painted {
  dir: string;
  file: string;
  dataset: { images: Array<{ id: number; width: number; height: number; file_name: string }>; annotations: PaintedAnnotation[] };
}

/** Writes the painted dataset into a new temporary folder. */
export function makePainted(images: Array<[number, number, number]> = [[120, 160, 9], [96, 112, 4]], seed = 3): Painted {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nds-painted-'));
  const r = spawnSync(PY, ['-c', SCRIPT, dir], { input: JSON.stringify({ images, seed }), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`painting failed: ${r.stderr}`);
  const file = path.join(dir, 'data.kwcoco.json');
  return { dir, file, dataset: JSON.parse(fs.readFileSync(file, 'utf8')) };
}

/** Pixels of object `id` in an HWC uint8 crop (row-major 0/1 of its H x W). */
export function objectPixels(data: ArrayLike<number>, H: number, W: number, id: number): Uint8Array {
  const m = new Uint8Array(H * W);
  for (let p = 0; p < H * W; p++) if (data[3 * p + 2] === 255 && data[3 * p] === id && data[3 * p + 1] === 77) m[p] = 1;
  return m;
}

/** [x0, y0, x1, y1] pixel-edge extent of a 0/1 mask, or null. */
export function extent(m: Uint8Array, H: number, W: number): [number, number, number, number] | null {
  let x0 = Infinity, y0 = Infinity, x1 = -1, y1 = -1;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      if (!m[y * W + x]) continue;
      x0 = Math.min(x0, x); x1 = Math.max(x1, x + 1);
      y0 = Math.min(y0, y); y1 = Math.max(y1, y + 1);
    }
  }
  return x1 < 0 ? null : [x0, y0, x1, y1];
}

/** Runs numpy on HWC crops: `expr` over `a` (the array) printed as a flat list. */
export function numpy(a: { data: ArrayLike<number>; shape: number[] }, expr: string): number[] {
  const code = `import sys, json, numpy as np\nd = json.loads(sys.stdin.read())\na = np.array(d['data'], dtype=np.int64).reshape(d['shape'])\nr = ${expr}\nprint(json.dumps(np.ascontiguousarray(r).flatten().tolist()))`;
  const r = spawnSync(PY, ['-c', code], { input: JSON.stringify({ data: Array.from(a.data), shape: a.shape }), encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}
