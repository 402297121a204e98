/**
 * The labels of one sample: the annotations whose box is visible in the target's image window
 * (above `visibleThresh`), mapped into sample coordinates by the target's image -> sample
 * transform (window offset, scale, flips, quarter turns): boxes as [x0, y0, x1, y1] (not
 * clipped to the window), polygon rings and keypoints. Runs on the calling thread.
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
  /** Per annotation, its rings [x0, y0, x1, y1, ...] in sample coordinates (empty for a box or an RLE; views of one array per crop). */
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

/**
 * Maps the annotations into `r`'s sample coordinates. The rings and keypoints of a crop are views
 * of two Float32Arrays (one allocation each per crop, not one per ring).
 */
export function sampleLabels(r: Resolved, anns: Annotation[], vis: number[]): SampleAnnotations {
  const [a, b, c, d, e, f] = r.fromImage;
  const n = anns.length;
  const boxes = new Float32Array(n * 4);
  let nPoly = 0, nKp = 0;
  for (const ann of anns) {
    if (ann.parts !== null) for (const part of ann.parts) for (const ring of part) nPoly += ring.length;
    if (ann.keypoints !== null) nKp += ann.keypoints.length;
  }
  const poly = nPoly === 0 ? EMPTY : new Float32Array(nPoly);
  const kps = nKp === 0 ? EMPTY : new Float32Array(nKp);
  let pAt = 0, kAt = 0;
  const out: SampleAnnotations = {
    ids: new Array(n), categoryIds: new Array(n), trackIds: new Array(n), boxes,
    visibility: Float32Array.from(vis), polygons: new Array(n), keypoints: new Array(n),
  };
  for (let i = 0; i < n; i++) {
    const ann = anns[i];
    out.ids[i] = ann.id;
    out.categoryIds[i] = ann.categoryId;
    out.trackIds[i] = ann.trackId;
    const [bx, by, bw, bh] = ann.box;
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
          for (let k = 0; k < ring.length; k += 2) {
            poly[pAt + k] = a * ring[k] + b * ring[k + 1] + c;
            poly[pAt + k + 1] = d * ring[k] + e * ring[k + 1] + f;
          }
          rings.push(poly.subarray(pAt, pAt + ring.length));
          pAt += ring.length;
        }
      }
    }
    out.polygons[i] = rings;
    const kp = ann.keypoints;
    if (kp === null) {
      out.keypoints[i] = EMPTY;
    } else {
      for (let k = 0; k < kp.length; k += 3) {
        kps[kAt + k] = a * kp[k] + b * kp[k + 1] + c;
        kps[kAt + k + 1] = d * kp[k] + e * kp[k + 1] + f;
        kps[kAt + k + 2] = kp[k + 2];
      }
      out.keypoints[i] = kps.subarray(kAt, kAt + kp.length);
      kAt += kp.length;
    }
  }
  return out;
}
