/**
 * The spatial index of one image's annotation boxes: a packed Hilbert R-tree (flatbush, from npm:
 * built once in O(n log n) into one ArrayBuffer, queried without allocating per node; static,
 * which is what a dataset's annotations are) behind `overlapping`, plus the visibility of each
 * box in a window. Runs on the calling thread.
 */
import type FlatbushClass from 'flatbush';

type Flatbush = FlatbushClass;
let FlatbushCtor: typeof FlatbushClass | undefined;

/** flatbush, loaded on first use: it is an ES module (require(esm)), which costs a few tens of ms to load, and most users of the package (and every worker thread that loads it) never build an index. */
function flatbushClass(): typeof FlatbushClass {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded lazily on purpose
  FlatbushCtor ??= (require('flatbush') as { default: typeof FlatbushClass }).default;
  return FlatbushCtor;
}

/** The fraction of box (x0, y0, x1, y1) inside window (wx0, wy0, wx1, wy1), in [0, 1]. */
export function visibility(x0: number, y0: number, x1: number, y1: number, wx0: number, wy0: number, wx1: number, wy1: number): number {
  const area = (x1 - x0) * (y1 - y0);
  if (area > 0) {
    const iw = Math.min(x1, wx1) - Math.max(x0, wx0);
    const ih = Math.min(y1, wy1) - Math.max(y0, wy0);
    return iw > 0 && ih > 0 ? Math.min(1, (iw * ih) / area) : 0;
  }
  // A box without area (a point or a segment) is visible when it lies in the window.
  return x0 >= wx0 && x1 <= wx1 && y0 >= wy0 && y1 <= wy1 && x0 < wx1 && y0 < wy1 ? 1 : 0;
}

/** overlapArea's traversal stack (node, level pairs), reused by every call on this thread. */
let stack = new Int32Array(1024);

export class BoxIndex {
  /** [x0, y0, x1, y1] per member, in member order. */
  readonly boxes: Float64Array;
  readonly #tree: Flatbush | null;

  /** `boxes`: x0, y0, x1, y1 per member (kept, not copied). */
  constructor(boxes: Float64Array) {
    this.boxes = boxes;
    const n = boxes.length / 4;
    if (n === 0) {
      this.#tree = null;
      return;
    }
    const tree = new (flatbushClass())(n);
    for (let i = 0; i < n; i++) tree.add(boxes[4 * i], boxes[4 * i + 1], boxes[4 * i + 2], boxes[4 * i + 3]);
    tree.finish();
    this.#tree = tree;
  }

  /**
   * The summed area of the members' boxes inside the window (each box's intersection), without
   * listing them: a stream's negative draws ask it many times a batch, and the lists were most
   * of the garbage a batch made.
   */
  overlapArea(wx0: number, wy0: number, wx1: number, wy1: number): number {
    const t = this.#tree;
    if (t === null) return 0;
    // flatbush's search, on the packed tree its typings expose (_boxes: x0, y0, x1, y1 per item
    // then per node, bottom-up; _indices: an item's id, or a node's first child; _levelBounds),
    // with a reused stack instead of a queue and a result list per call.
    const boxes = t._boxes;
    const indices = t._indices;
    const bounds = t._levelBounds;
    const items4 = t.numItems * 4;
    const step = t.nodeSize * 4;
    // Depth-first: at most nodeSize children per level wait on the stack.
    const need = 2 * (bounds.length + 1) * t.nodeSize + 2;
    if (stack.length < need) stack = new Int32Array(need);
    let sp = 0;
    let area = 0;
    stack[sp++] = boxes.length - 4;
    stack[sp++] = bounds.length - 1;
    while (sp > 0) {
      const level = stack[--sp];
      const node = stack[--sp];
      const end = Math.min(node + step, bounds[level]);
      for (let pos = node; pos < end; pos += 4) {
        const x0 = boxes[pos], y0 = boxes[pos + 1], x1 = boxes[pos + 2], y1 = boxes[pos + 3];
        if (wx1 < x0 || wy1 < y0 || wx0 > x1 || wy0 > y1) continue;
        if (node >= items4) {
          stack[sp++] = indices[pos >> 2];
          stack[sp++] = level - 1;
          continue;
        }
        const iw = Math.min(x1, wx1) - Math.max(x0, wx0);
        const ih = Math.min(y1, wy1) - Math.max(y0, wy0);
        if (iw > 0 && ih > 0) area += iw * ih;
      }
    }
    return area;
  }

  /**
   * The members whose visibility in the window exceeds `thresh` (any overlap when 0), in member
   * order; `vis` receives their visibilities when given.
   */
  query(wx0: number, wy0: number, wx1: number, wy1: number, thresh: number, vis?: number[]): number[] {
    if (this.#tree === null) return [];
    const b = this.boxes;
    const hits = this.#tree.search(wx0, wy0, wx1, wy1);
    hits.sort((p, q) => p - q);
    const out: number[] = [];
    for (const k of hits) {
      const v = visibility(b[4 * k], b[4 * k + 1], b[4 * k + 2], b[4 * k + 3], wx0, wy0, wx1, wy1);
      if (v > thresh) {
        out.push(k);
        vis?.push(v);
      }
    }
    return out;
  }
}
