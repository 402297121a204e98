/**
 * The painted video of the video tests, and its GDAL-warper references. Nothing here uses the
 * library.
 *
 * A video of 7 frames on a 96 x 128 grid with octagons moving across it (one track each, in lanes
 * of their own so that none hides another, every
 * object instance painted by GDAL's rasterizer — a pixel is inside when its centre is — in a
 * unique colour [annotation id, 77, 255] over a background whose blue stays below 200), so the
 * pixels of any frame of any sample say where its boxes must be. The frames (positions 0..6) are
 * stored as kwcoco stores them, in every way the library must compose:
 *   0: on the video grid, one file_name (no warp)
 *   1: half resolution (48 x 64), warp_img_to_vid {scale: 2}
 *   2: on the grid, warp given as an identity matrix
 *   3: half resolution, its pixels in an asset at a quarter (24 x 32, warp_aux_to_img scale 2),
 *      warp_img_to_vid a 2x3 matrix [[2, 0, 0], [0, 2, 0]]: asset -> video is x4
 *   4: on the grid, translated: warp_img_to_vid {offset: [3, -2]}
 *   5, 6: on the grid, the same frame_index (a tie: ordered by image id, not by dataset order)
 * frame_index skips values (gaps), and the images are listed out of time order.
 * Each object is painted in each file's own pixel coordinates (its video polygon mapped through
 * the inverse of file -> video), and annotated in its image's coordinates.
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
rnd = random.Random(11)
gdal.UseExceptions()
gdal.PushErrorHandler('CPLQuietErrorHandler')
VH, VW = 96, 128
# position -> (image id, frame_index, scale file->video, offset, how it is stored)
frames = [
  dict(pos=0, id=10, fi=0, s=1, off=(0, 0), kind='plain'),
  dict(pos=1, id=11, fi=2, s=2, off=(0, 0), kind='half'),
  dict(pos=2, id=12, fi=3, s=1, off=(0, 0), kind='identity'),
  dict(pos=3, id=13, fi=5, s=4, off=(0, 0), kind='asset'),
  dict(pos=4, id=14, fi=8, s=1, off=(3, -2), kind='offset'),
  dict(pos=5, id=15, fi=9, s=1, off=(0, 0), kind='plain'),
  dict(pos=6, id=16, fi=9, s=1, off=(0, 0), kind='plain'),
]
# one lane of 24 rows per track, so no two objects ever overlap (every box is its pixels' extent)
tracks = []
for k in range(4):
    tracks.append(dict(tid=100 + k, cx=rnd.uniform(10, 118), cy=12 + 24 * k + rnd.uniform(-1, 1), vx=rnd.uniform(-12, 12), vy=rnd.uniform(-0.4, 0.4),
                       w=rnd.uniform(14, 26), h=rnd.uniform(12, 16), first=[0, 1, 0, 2][k], last=[6, 5, 4, 6][k]))
def octagon(cx, cy, w, h):
    x0, x1, y0, y1 = cx - w / 2, cx + w / 2, cy - h / 2, cy + h / 2
    c = 0.25 * min(w, h)
    return [(x0 + c, y0), (x1 - c, y0), (x1, y0 + c), (x1, y1 - c), (x1 - c, y1), (x0 + c, y1), (x0, y1 - c), (x0, y0 + c)]
def rasterize(ds, ring, values):
    mem = ogr.GetDriverByName('Memory').CreateDataSource('m')
    lyr = mem.CreateLayer('l')
    r = ogr.Geometry(ogr.wkbLinearRing)
    for (x, y) in ring: r.AddPoint_2D(x, y)
    r.CloseRings()
    g = ogr.Geometry(ogr.wkbPolygon); g.AddGeometry(r)
    f = ogr.Feature(lyr.GetLayerDefn()); f.SetGeometry(g); lyr.CreateFeature(f)
    gdal.RasterizeLayer(ds, [1, 2, 3], lyr, burn_values=values)
images, anns, files = [], [], []
aid = 0
for fr in frames:
    s, (ox, oy) = fr['s'], fr['off']
    img_s = 2 if fr['kind'] in ('half', 'asset') else 1     # image -> video scale
    aux_s = 2 if fr['kind'] == 'asset' else 1               # file -> image scale
    IH, IW = VH // img_s, VW // img_s
    FH, FW = IH // aux_s, IW // aux_s
    yy, xx = np.mgrid[0:FH, 0:FW]
    bg = np.stack([(yy * 5 + xx * 3 + fr['pos'] * 17) % 256, (xx * 7 + 30 + fr['pos'] * 9) % 256, (yy + 2 * xx) % 190], axis=-1).astype(np.uint8)
    ds = gdal.GetDriverByName('MEM').Create('', FW, FH, 3, gdal.GDT_Byte)
    ds.SetGeoTransform([0, 1, 0, 0, 0, 1])
    for b in range(3): ds.GetRasterBand(b + 1).WriteArray(bg[:, :, b])
    for t in tracks:
        p = fr['pos']
        if p < t['first'] or p > t['last']: continue
        aid += 1
        vring = octagon(t['cx'] + t['vx'] * p, t['cy'] + t['vy'] * p, t['w'], t['h'])
        # the annotation's ring (image coordinates, 4 decimals) is exactly what is painted (file = image / 2^k)
        iring = [(round((x - ox) / img_s, 4), round((y - oy) / img_s, 4)) for (x, y) in vring]
        fring = [(x / aux_s, y / aux_s) for (x, y) in iring]
        rasterize(ds, fring, [aid, 77, 255])
        flat = [v for xy in iring for v in xy]
        xs, ys = flat[0::2], flat[1::2]
        anns.append({'id': aid, 'image_id': fr['id'], 'category_id': 1 + aid % 2, 'track_id': t['tid'],
                     'bbox': [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)], 'segmentation': [flat]})
    name = 'f%d.png' % fr['id']
    gdal.GetDriverByName('PNG').CreateCopy(out + '/' + name, ds)
    img = {'id': fr['id'], 'width': IW, 'height': IH, 'video_id': 7, 'frame_index': fr['fi']}
    if fr['kind'] == 'asset':
        img['assets'] = [{'file_name': name, 'channels': 'r|g|b', 'width': FW, 'height': FH, 'warp_aux_to_img': {'scale': 2}}]
    else:
        img['file_name'] = name
    if fr['kind'] == 'half': img['warp_img_to_vid'] = {'scale': 2}
    if fr['kind'] == 'identity': img['warp_img_to_vid'] = {'type': 'affine', 'matrix': [[1, 0, 0], [0, 1, 0], [0, 0, 1]]}
    if fr['kind'] == 'asset': img['warp_img_to_vid'] = [[2, 0, 0], [0, 2, 0]]
    if fr['kind'] == 'offset': img['warp_img_to_vid'] = {'offset': [3, -2]}
    images.append(img)
    # file pixel -> video: x = s * u + ox
    files.append({'id': fr['id'], 'pos': fr['pos'], 'file': out + '/' + name, 's': s, 'is': img_s, 'off': [ox, oy], 'fh': FH, 'fw': FW})
order = [6, 3, 0, 5, 1, 4, 2]   # images listed out of time order (16 before 15: the tie)
cats = [{'id': 1, 'name': 'one'}, {'id': 2, 'name': 'two'}]
ds = {'videos': [{'id': 7, 'name': 'painted', 'width': VW, 'height': VH}], 'images': [images[i] for i in order], 'categories': cats, 'annotations': anns}
json.dump(ds, open(out + '/video.kwcoco.json', 'w'))
json.dump(files, open(out + '/files.json', 'w'))
`;

/**
 * A frame's file and its file -> video transform (x = s u + off[0], y = s v + off[1]); its image
 * -> video transform is x = is * x_img + off[0] (and y alike).
 */
export interface FrameFile { id: number; pos: number; file: string; s: number; is: number; off: [number, number]; fh: number; fw: number }

export interface PaintedVideo {
  dir: string;
  file: string;
  dataset: {
    videos: Array<{ id: number; width: number; height: number }>;
    images: Array<Record<string, unknown> & { id: number; width: number; height: number }>;
    annotations: Array<{ id: number; image_id: number; category_id: number; track_id: number; bbox: [number, number, number, number]; segmentation: number[][] }>;
  };
  /** By position in time. */
  frames: FrameFile[];
}

/** Writes the painted video into a new temporary folder. */
export function makePaintedVideo(): PaintedVideo {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nds-video-'));
  const r = spawnSync(PY, ['-c', SCRIPT, dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`painting failed: ${r.stderr}`);
  const file = path.join(dir, 'video.kwcoco.json');
  const frames = (JSON.parse(fs.readFileSync(path.join(dir, 'files.json'), 'utf8')) as FrameFile[]).sort((a, b) => a.pos - b.pos);
  return { dir, file, dataset: JSON.parse(fs.readFileSync(file, 'utf8')), frames };
}

const WARP = String.raw`
import json, sys
import numpy as np
from osgeo import gdal
gdal.UseExceptions()
reqs = json.loads(sys.stdin.read())
out = []
for q in reqs:
    src = gdal.Open(q['file'])
    mem = gdal.GetDriverByName('MEM').CreateCopy('', src)
    s, (ox, oy) = q['s'], q['off']
    # file pixel (u, v) -> video (s u + ox, s v + oy); georeferenced Y is -y (north up)
    mem.SetGeoTransform([ox, s, 0, -oy, 0, -s])
    x0, y0, w, h, res = q['x0'], q['y0'], q['w'], q['h'], q['res']
    dst = gdal.Warp('', mem, format='MEM', outputBounds=[x0, -(y0 + h), x0 + w, -y0], xRes=res, yRes=res,
                    resampleAlg='near', warpOptions=['INIT_DEST=%d' % q['fill']], outputType=gdal.GDT_Byte)
    a = np.stack([dst.GetRasterBand(b + 1).ReadAsArray() for b in range(3)], axis=-1)
    assert a.shape == (round(h / res), round(w / res), 3), a.shape
    out.append(a.flatten().tolist())
print(json.dumps(out))
`;

/**
 * GDAL's warper (python3 osgeo.gdal.Warp, nearest, the exact file -> video affine as the file's
 * geotransform) of each request's file onto the video window x0..x0+w, y0..y0+h (pixels outside
 * the file: `fill`) at `res` video pixels per output pixel (default 1), as HWC uint8.
 */
export function gdalWarp(reqs: Array<{ frame: FrameFile; x0: number; y0: number; w: number; h: number; fill: number; res?: number }>): Uint8Array[] {
  const input = reqs.map((q) => ({ file: q.frame.file, s: q.frame.s, off: q.frame.off, x0: q.x0, y0: q.y0, w: q.w, h: q.h, fill: q.fill, res: q.res ?? 1 }));
  const r = spawnSync(PY, ['-c', WARP], { input: JSON.stringify(input), encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`gdal warp failed: ${r.stderr}`);
  return (JSON.parse(r.stdout) as number[][]).map((a) => Uint8Array.from(a));
}
