/**
 * COCO run-length encoded masks (RLE): `{size: [height, width], counts}`, the pixels taken in
 * column-major order (down the first column, then the next), `counts` the lengths of alternating
 * runs of 0s and 1s, starting with 0s. `counts` is either a list of numbers (uncompressed) or
 * COCO's compressed string: each count is written in 5-bit groups, least significant first, as
 * characters '0' + group (0x20 set while more groups follow; 0x10 of the last group is the sign),
 * and from the third count on the value written is the difference with the count two before.
 *
 * Pure functions on the calling thread. Parsing never throws for malformed input: it returns the
 * reason as a string, and the caller (annotations.ts) turns it into a coded error.
 */

/** A parsed RLE: the run lengths, their sum is height * width. */
export interface Rle {
  height: number;
  width: number;
  /** Run lengths: 0s, 1s, 0s, ... */
  counts: Float64Array;
}

/** The longest string or list of counts accepted (a 2^24-pixel image has at most that many runs). */
export const MAX_RLE_RUNS = 1 << 24;
const MAX_GROUPS = 8;  // 40 bits: more than any count of a 2^31-pixel image

/** Decodes COCO's compressed counts string; a string reason when it is malformed. */
export function decodeCountsString(s: string): Float64Array | string {
  if (s.length > MAX_RLE_RUNS * 2) return `its counts string is longer than ${MAX_RLE_RUNS * 2} characters`;
  const out: number[] = [];
  let p = 0;
  while (p < s.length) {
    let x = 0;
    let k = 0;
    for (;;) {
      if (p >= s.length) return 'its counts string ends in the middle of a count';
      const c = s.charCodeAt(p) - 48;
      if (c < 0 || c > 63) return `its counts string has a character outside '0'..'o' at ${p}`;
      p++;
      x += (c & 0x1f) * 2 ** (5 * k);
      k++;
      if (!(c & 0x20)) {
        if (c & 0x10) x -= 2 ** (5 * k);  // sign of the last group
        break;
      }
      if (k >= MAX_GROUPS) return `its counts string has a count of more than ${MAX_GROUPS} groups at ${p}`;
    }
    if (out.length > 2) x += out[out.length - 2];
    if (x < 0) return `its counts string decodes to a negative count (${x}) at count ${out.length}`;
    out.push(x);
  }
  return Float64Array.from(out);
}

/**
 * Checks an RLE object: `size` [h, w] positive integers, `counts` non-negative integers (or a
 * string) whose sum is h * w. A reason string when it is not one.
 */
export function parseRle(seg: Record<string, unknown>): Rle | string {
  const size = seg.size;
  if (!Array.isArray(size) || size.length !== 2 || !size.every((n) => Number.isInteger(n) && n > 0)) {
    return 'its RLE size must be [height, width] (positive integers)';
  }
  const [height, width] = size as [number, number];
  let counts: Float64Array;
  if (typeof seg.counts === 'string') {
    const d = decodeCountsString(seg.counts);
    if (typeof d === 'string') return d;
    counts = d;
  } else if (Array.isArray(seg.counts)) {
    if (seg.counts.length > MAX_RLE_RUNS) return `its RLE has more than ${MAX_RLE_RUNS} runs`;
    counts = new Float64Array(seg.counts.length);
    for (let i = 0; i < seg.counts.length; i++) {
      const n = seg.counts[i] as unknown;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) return `its RLE counts[${i}] is not a non-negative integer`;
      counts[i] = n;
    }
  } else {
    return 'its RLE counts must be a list of numbers or a compressed string';
  }
  let sum = 0;
  for (let i = 0; i < counts.length; i++) sum += counts[i];
  if (sum !== height * width) return `its RLE counts sum to ${sum}, not height * width = ${height * width}`;
  return { height, width, counts };
}

/** The box [x, y, w, h] (pixel edges) of the RLE's 1s, or null when there are none. */
export function rleBox(rle: Rle): [number, number, number, number] | null {
  const h = rle.height;
  let pos = 0;
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (let i = 0; i < rle.counts.length; i++) {
    const n = rle.counts[i];
    if (i % 2 === 1 && n > 0) {
      const first = pos;
      const last = pos + n - 1;
      const c0 = Math.floor(first / h), c1 = Math.floor(last / h);
      x0 = Math.min(x0, c0);
      x1 = Math.max(x1, c1 + 1);
      if (c0 === c1) {
        y0 = Math.min(y0, first - c0 * h);
        y1 = Math.max(y1, last - c1 * h + 1);
      } else {
        y0 = 0;
        y1 = h;
      }
    }
    pos += n;
  }
  return x0 === Infinity ? null : [x0, y0, x1 - x0, y1 - y0];
}

/** The mask as a row-major Uint8Array of height * width (0 or 1). */
export function rleToMask(rle: Rle): Uint8Array {
  const { height: h, width: w } = rle;
  const m = new Uint8Array(h * w);
  let pos = 0;
  for (let i = 0; i < rle.counts.length; i++) {
    const n = rle.counts[i];
    if (i % 2 === 1) {
      for (let p = pos; p < pos + n; p++) {
        const col = Math.floor(p / h);
        m[(p - col * h) * w + col] = 1;
      }
    }
    pos += n;
  }
  return m;
}
