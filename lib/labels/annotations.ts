/**
 * The annotations of a COCO / kwcoco dataset, parsed and checked once (CocoSampler's constructor).
 *
 * - `bbox` [x, y, w, h]: pixel-edge coordinates (the top-left pixel's top-left corner is (0, 0));
 *   finite, w and h >= 0. Missing: the box of the segmentation.
 * - `segmentation`: polygons as a list of flat rings [x0, y0, x1, y1, ...] (COCO; each ring is a
 *   part of its own, the mask is their union), a single flat ring, kwcoco's
 *   `{exterior: [[x, y], ...], interiors: [...]}` (or a list of them: interiors are holes), or an
 *   RLE `{size: [h, w], counts}` (rle.ts) whose size must be the image's.
 * - `keypoints`: COCO's flat [x, y, v, ...] triplets, or kwcoco's [{xy: [x, y], keypoint_category_id}]
 *   (v = 2: labelled and visible).
 * - `category_id` must be one of the dataset's categories; `track_id` a number, a string or absent.
 *
 * A malformed annotation is FramesError ERR_ANNOTATION naming its id (`annotationId`). Runs on the
 * calling thread.
 */
import type { ImageId } from '../cache/config';
import { FramesError } from '../errors';
import { parseRle, rleBox } from './rle';
import type { Rle } from './rle';

export type AnnotationId = number | string;

export interface Category {
  id: number;
  name: string;
  supercategory?: string;
}

/** A polygon part: its rings (flat x, y pairs); rings after the first are holes. */
export type PolygonPart = Float64Array[];

/** One parsed annotation. */
export interface Annotation {
  id: AnnotationId;
  imageId: ImageId;
  categoryId: number;
  trackId: number | string | null;
  /** [x, y, w, h], pixel edges. */
  box: [number, number, number, number];
  /** Polygon parts (their union is the mask), or null. */
  parts: PolygonPart[] | null;
  rle: Rle | null;
  /** [x, y, v, ...], or null. */
  keypoints: Float64Array | null;
  /** The annotation as the dataset gives it. */
  raw: Record<string, unknown>;
}

/** Vertices one annotation's polygons may have in all (more is ERR_ANNOTATION). */
export const MAX_POLYGON_VERTICES = 1 << 20;

/** The coded error of a malformed annotation. */
export function annotationError(id: unknown, why: string): FramesError {
  const shown = typeof id === 'string' ? `'${id}'` : String(id);
  return new FramesError('ERR_ANNOTATION', `annotation ${shown}: ${why}`, { annotationId: id });
}

/** What parsing needs to know about the dataset. */
export interface ParseContext {
  hasImage(imageId: ImageId): boolean;
  hasCategory(categoryId: number): boolean;
  /** The image's [height, width] when the dataset declares it, else null. */
  imageSize(imageId: ImageId): [number, number] | null;
}

const isId = (x: unknown): x is number | string => (typeof x === 'number' && Number.isFinite(x)) || typeof x === 'string';
const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

/** A ring from a flat list of numbers. */
function flatRing(r: unknown, where: string): Float64Array | string {
  if (!Array.isArray(r)) return `${where} is not a list of numbers`;
  if (r.length % 2 !== 0) return `${where} has an odd number of coordinates (${r.length})`;
  if (r.length < 6) return `${where} has fewer than 3 points (${r.length / 2})`;
  const out = new Float64Array(r.length);
  for (let i = 0; i < r.length; i++) {
    const x = r[i] as unknown;
    if (!finite(x)) return `${where}[${i}] is not a finite number`;
    out[i] = x;
  }
  return out;
}

/** A ring from a list of [x, y] points (kwcoco). */
function pointRing(r: unknown, where: string): Float64Array | string {
  if (!Array.isArray(r)) return `${where} is not a list of [x, y] points`;
  if (r.length < 3) return `${where} has fewer than 3 points (${r.length})`;
  const out = new Float64Array(r.length * 2);
  for (let i = 0; i < r.length; i++) {
    const p = r[i] as unknown;
    if (!Array.isArray(p) || p.length !== 2 || !finite(p[0]) || !finite(p[1])) return `${where}[${i}] is not a point [x, y] of finite numbers`;
    out[2 * i] = p[0];
    out[2 * i + 1] = p[1];
  }
  return out;
}

/** A kwcoco polygon {exterior, interiors}. */
function kwPolygon(p: Record<string, unknown>, where: string): PolygonPart | string {
  const ext = pointRing(p.exterior, `${where}.exterior`);
  if (typeof ext === 'string') return ext;
  const part: PolygonPart = [ext];
  if (p.interiors !== undefined && p.interiors !== null) {
    if (!Array.isArray(p.interiors)) return `${where}.interiors is not a list of rings`;
    for (let i = 0; i < p.interiors.length; i++) {
      const r = pointRing(p.interiors[i], `${where}.interiors[${i}]`);
      if (typeof r === 'string') return r;
      part.push(r);
    }
  }
  return part;
}

/** Polygon parts from a `segmentation` that is not an RLE. */
function polygonParts(seg: unknown): PolygonPart[] | string {
  if (Array.isArray(seg) && seg.length > 0 && typeof seg[0] === 'number') {
    const r = flatRing(seg, 'its segmentation');
    return typeof r === 'string' ? r : [[r]];
  }
  const list = Array.isArray(seg) ? seg : [seg];
  if (list.length === 0) return 'its segmentation is an empty list';
  const parts: PolygonPart[] = [];
  for (let i = 0; i < list.length; i++) {
    const item = list[i] as unknown;
    const where = Array.isArray(seg) ? `its segmentation[${i}]` : 'its segmentation';
    let part: PolygonPart | string;
    if (Array.isArray(item)) {
      const r = flatRing(item, where);
      part = typeof r === 'string' ? r : [r];
    } else if (typeof item === 'object' && item !== null && 'exterior' in item) {
      part = kwPolygon(item as Record<string, unknown>, where);
    } else {
      part = `${where} is neither a ring of numbers, an {exterior, interiors} polygon nor an RLE`;
    }
    if (typeof part === 'string') return part;
    parts.push(part);
  }
  let vertices = 0;
  for (const p of parts) for (const r of p) vertices += r.length / 2;
  if (vertices > MAX_POLYGON_VERTICES) return `its polygons have ${vertices} vertices (more than the limit of ${MAX_POLYGON_VERTICES})`;
  return parts;
}

function partsBox(parts: PolygonPart[]): [number, number, number, number] {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const part of parts) {
    const r = part[0];  // holes lie inside their exterior
    for (let i = 0; i < r.length; i += 2) {
      if (r[i] < x0) x0 = r[i];
      if (r[i] > x1) x1 = r[i];
      if (r[i + 1] < y0) y0 = r[i + 1];
      if (r[i + 1] > y1) y1 = r[i + 1];
    }
  }
  return [x0, y0, x1 - x0, y1 - y0];
}

function keypointsOf(kp: unknown): Float64Array | string {
  if (!Array.isArray(kp)) return 'its keypoints must be a list';
  if (kp.length > 0 && typeof kp[0] === 'object' && kp[0] !== null) {
    const out = new Float64Array(kp.length * 3);
    for (let i = 0; i < kp.length; i++) {
      const k = kp[i] as { xy?: unknown };
      const xy = typeof k === 'object' && k !== null ? k.xy : undefined;
      if (!Array.isArray(xy) || xy.length !== 2 || !finite(xy[0]) || !finite(xy[1])) return `its keypoints[${i}].xy is not [x, y] of finite numbers`;
      out[3 * i] = xy[0];
      out[3 * i + 1] = xy[1];
      out[3 * i + 2] = 2;
    }
    return out;
  }
  if (kp.length % 3 !== 0) return `its keypoints are not [x, y, v] triplets (${kp.length} numbers)`;
  const out = new Float64Array(kp.length);
  for (let i = 0; i < kp.length; i++) {
    if (!finite(kp[i])) return `its keypoints[${i}] is not a finite number`;
    out[i] = kp[i] as number;
  }
  return out;
}

/** Parses and checks one annotation; throws ERR_ANNOTATION. `index`: its position in the list. */
export function parseAnnotation(raw: unknown, index: number, ctx: ParseContext): Annotation {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new FramesError('ERR_ANNOTATION', `annotations[${index}] is not an object`, { annotationId: null });
  }
  const a = raw as Record<string, unknown>;
  if (!isId(a.id)) throw new FramesError('ERR_ANNOTATION', `annotations[${index}] has no id (a number or a string)`, { annotationId: null });
  const out = check(a, ctx);
  if (typeof out === 'string') throw annotationError(a.id, out);
  return out;
}

/** The annotation, or why it is not one (no closure per annotation: 10^6 of them are parsed at once). */
function check(a: Record<string, unknown>, ctx: ParseContext): Annotation | string {
  const id = a.id as AnnotationId;
  const imageId = a.image_id;
  if (!isId(imageId)) return 'its image_id is missing';
  if (!ctx.hasImage(imageId)) return `its image_id ${JSON.stringify(imageId)} is not an image of the dataset`;
  const categoryId = a.category_id;
  if (!finite(categoryId)) return 'its category_id is missing (a number)';
  if (!ctx.hasCategory(categoryId)) return `its category_id ${categoryId} is not one of the dataset's categories`;
  const track = a.track_id;
  if (track !== undefined && track !== null && !isId(track)) return 'its track_id must be a number or a string';
  const trackId = track === undefined || track === null ? null : track;

  let parts: PolygonPart[] | null = null;
  let rle: Rle | null = null;
  const seg = a.segmentation;
  if (seg !== undefined && seg !== null && !(Array.isArray(seg) && seg.length === 0)) {
    if (typeof seg === 'object' && !Array.isArray(seg) && 'counts' in seg) {
      const r = parseRle(seg as Record<string, unknown>);
      if (typeof r === 'string') return r;
      rle = r;
      const size = ctx.imageSize(imageId);
      if (size !== null && (size[0] !== rle.height || size[1] !== rle.width)) {
        return `its RLE size [${rle.height}, ${rle.width}] is not the image's [${size[0]}, ${size[1]}]`;
      }
    } else {
      const p = polygonParts(seg);
      if (typeof p === 'string') return p;
      parts = p;
    }
  }
  let box: [number, number, number, number];
  const b = a.bbox;
  if (b !== undefined && b !== null) {
    if (!Array.isArray(b) || b.length !== 4) return 'its bbox must be [x, y, w, h] of finite numbers';
    const x = b[0] as unknown, y = b[1] as unknown, w = b[2] as unknown, h = b[3] as unknown;
    if (!finite(x) || !finite(y) || !finite(w) || !finite(h)) return 'its bbox must be [x, y, w, h] of finite numbers';
    if (w < 0 || h < 0) return `its bbox has a negative size [${w}, ${h}]`;
    box = [x, y, w, h];
  } else if (parts !== null) {
    box = partsBox(parts);
  } else if (rle !== null) {
    const rb = rleBox(rle);
    if (rb === null) return 'it has no bbox and its RLE mask is empty';
    box = rb;
  } else {
    return 'it has no bbox and no segmentation to take one from';
  }
  let keypoints: Float64Array | null = null;
  if (a.keypoints !== undefined && a.keypoints !== null) {
    const k = keypointsOf(a.keypoints);
    if (typeof k === 'string') return k;
    keypoints = k;
  }
  return { id, imageId, categoryId, trackId, box, parts, rle, keypoints, raw: a };
}

/** The dataset's categories, checked: ids finite numbers, unique; name defaults to String(id). */
export function parseCategories(list: unknown, where: string): Category[] {
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw new FramesError('ERR_ANNOTATION', `${where}: 'categories' must be a list`, { annotationId: null });
  const seen = new Set<number>();
  return list.map((c: unknown, i) => {
    const o = c as Record<string, unknown>;
    if (typeof c !== 'object' || c === null || !finite(o.id)) {
      throw new FramesError('ERR_ANNOTATION', `${where}: categories[${i}] needs an id (a number)`, { annotationId: null });
    }
    const id = o.id as number;
    if (seen.has(id)) throw new FramesError('ERR_ANNOTATION', `${where}: category id ${id} is given twice`, { annotationId: null });
    seen.add(id);
    const cat: Category = { id, name: typeof o.name === 'string' ? o.name : String(id) };
    if (typeof o.supercategory === 'string') cat.supercategory = o.supercategory;
    return cat;
  });
}
