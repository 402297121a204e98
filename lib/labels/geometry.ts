/**
 * The labels of one sample: the annotations whose box is visible in the target's image window
 * (above `visibleThresh`), mapped into sample coordinates by the target's image -> sample
 * transform (window offset, scale, flips, quarter turns): boxes as [x0, y0, x1, y1] (not
 * clipped to the window), polygon rings and keypoints, all views of one Float32Array per batch.
 * Runs on the calling thread.
 */
import type { Annotation, AnnotationId } from './annotations';
import type { LabelStore } from './store';
import type { Resolved } from './targets';

/** The labels of one crop (one frame). */
export interface SampleAnnotations {
  ids: AnnotationId[];
  categoryIds: number[];
  trackIds: Array<number | string | null>;
  /** n x 4: [x0, y0, x1, y1] in sample pixel-edge coordinates, not clipped. */
  boxes: Float32Array;
  /** Per annotation, the fraction of its box's area inside the window. */
  visibility: Float32Array;
  /** Per annotation, its rings [x0, y0, x1, y1, ...] in sample coordinates (empty for a box or an RLE). */
  polygons: Float32Array[][];
  /** Per annotation [x, y, v, ...] in sample coordinates (empty without keypoints). */
  keypoints: Float32Array[];
}

export function emptyAnnotations(): SampleAnnotations {
  return { ids: [], categoryIds: [], trackIds: [], boxes: new Float32Array(0), visibility: new Float32Array(0), polygons: [], keypoints: [] };
}

/** The annotations visible in `r`'s window, in dataset order, with their visibilities. */
export function visibleAnnotations(store: LabelStore, r: Resolved, thresh: number): { anns: Annotation[]; vis: number[] } {
  const vis: number[] = [];
  const anns = store.overlapping(r.imageId, r.x0, r.y0, r.x0 + r.nw, r.y0 + r.nh, thresh, vis);
  return { anns, vis };
}

const EMPTY = new Float32Array(0);

/** One crop's annotations to map: its target and the visible annotations with their visibilities. */
export interface CropLabels {
  r: Resolved;
  anns: Annotation[];
  vis: number[];
}

/**
 * Maps each crop's annotations into its sample coordinates. Every typed array of the result
 * (boxes, visibilities, rings, keypoints of every crop) is a view of one Float32Array: a typed
 * array over 64 bytes gets its own backing store, which costs V8 about 2 µs to make, and a batch
 * would otherwise make four per crop and one per ring.
 */
export function sampleLabels(crops: CropLabels[]): SampleAnnotations[] {
  let total = 0;
  for (const { anns } of crops) {
    total += 5 * anns.length;  // a box and a visibility each
    for (const ann of anns) {
      const parts = ann.parts;
      if (parts !== null) for (const part of parts) for (const ring of part) total += ring.length;
      if (ann.keypoints !== null) total += ann.keypoints.length;
    }
  }
  const all = total === 0 ? EMPTY : new Float32Array(total);
  let at = 0;
  const take = (k: number): Float32Array => (k === 0 ? EMPTY : all.subarray(at, (at += k)));
  return crops.map(({ r, anns, vis }) => {
    const m = r.fromImage;
    const a = m[0], b = m[1], c = m[2], d = m[3], e = m[4], f = m[5];
    const n = anns.length;
    const boxes = take(4 * n);
    const visibility = take(n);
    const out: SampleAnnotations = {
      ids: new Array(n), categoryIds: new Array(n), trackIds: new Array(n), boxes,
      visibility, polygons: new Array(n), keypoints: new Array(n),
    };
    for (let i = 0; i < n; i++) {
      const ann = anns[i];
      visibility[i] = vis[i];
      out.ids[i] = ann.id;
      out.categoryIds[i] = ann.categoryId;
      out.trackIds[i] = ann.trackId;
      const box = ann.box;
      const bx = box[0], by = box[1], bw = box[2], bh = box[3];
      const px = a * bx + b * by + c, py = d * bx + e * by + f;
      const qx = a * (bx + bw) + b * (by + bh) + c, qy = d * (bx + bw) + e * (by + bh) + f;
      boxes[4 * i] = Math.min(px, qx);
      boxes[4 * i + 1] = Math.min(py, qy);
      boxes[4 * i + 2] = Math.max(px, qx);
      boxes[4 * i + 3] = Math.max(py, qy);
      const rings: Float32Array[] = [];
      if (ann.parts !== null) {
        for (const part of ann.parts) {
          for (const ring of part) {
            const out = take(ring.length);
            for (let k = 0; k < ring.length; k += 2) {
              out[k] = a * ring[k] + b * ring[k + 1] + c;
              out[k + 1] = d * ring[k] + e * ring[k + 1] + f;
            }
            rings.push(out);
          }
        }
      }
      out.polygons[i] = rings;
      const kp = ann.keypoints;
      if (kp === null) {
        out.keypoints[i] = EMPTY;
      } else {
        const o = take(kp.length);
        for (let k = 0; k < kp.length; k += 3) {
          o[k] = a * kp[k] + b * kp[k + 1] + c;
          o[k + 1] = d * kp[k] + e * kp[k + 1] + f;
          o[k + 2] = kp[k + 2];
        }
        out.keypoints[i] = o;
      }
    }
    return out;
  });
}
