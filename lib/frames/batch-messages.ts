/**
 * The errors loadBatch raises about the crops it was asked for, each saying what happened and
 * what to pass instead: crops of different sizes (channel counts that differ, regions cut at an
 * image's border without `boundless`), an empty crop (a negative start that counts from the end),
 * a batch too large for one typed array. Pure functions of the parsed regions and the windows
 * they resolved to; any thread.
 */
import { NdsamplerError, RegionError } from '../errors';
import { MAX_ELEMENTS } from '../ndarray';
import type { DType } from '../ndarray';
import type { ParsedRegion, Window } from '../region';

const bound = (x: number | null): string => (x === null ? 'null' : String(x));

/** A parsed region as it was written: [[y0, y1], [x0, x1]] (and the channel slice when given). */
export function formatRegion(p: ParsedRegion | null): string {
  if (p === null) return 'null (the whole image)';
  const axes = [`[${bound(p.ys)}, ${bound(p.ye)}]`, `[${bound(p.xs)}, ${bound(p.xe)}]`];
  if (p.cs !== null || p.ce !== null) axes.push(`[${bound(p.cs)}, ${bound(p.ce)}]`);
  return `[${axes.join(', ')}]`;
}

const size = (s: readonly number[]): string => `${s[0]} x ${s[1]} x ${s[2]}`;

/** True when a negative bound on the rows or columns counts from the end (no `boundless`). */
function negative(p: ParsedRegion | null): boolean {
  return p !== null && [p.ys, p.ye, p.xs, p.xe].some((x) => x !== null && x < 0);
}

/** True when a region with explicit non-negative bounds came out smaller: cut at the border. */
function clipped(p: ParsedRegion | null, w: Window | null): boolean {
  if (p === null || w === null) return false;
  const cut = (s: number | null, e: number | null, got: number) => s !== null && e !== null && s >= 0 && e > s && got < e - s;
  return cut(p.ys, p.ye, w.y1 - w.y0) || cut(p.xs, p.xe, w.x1 - w.x0);
}

const BOUNDLESS_HINT = 'Pass `boundless: true` to read every window at its requested size, in absolute coordinates, ' +
  'with what lies outside the image filled with `fill`.';

/**
 * Crop `i` (size `si`, region `pi`, window `wi`) differs in size from crop `f`, the first one
 * read (size `sf`).
 */
export function sizeMismatch(i: number, si: readonly number[], pi: ParsedRegion | null, wi: Window | null,
  f: number, sf: readonly number[], boundless: boolean): RegionError {
  let why = `requests[${i}] gives a crop of ${size(si)} (H x W x C) but requests[${f}] gives ${size(sf)}: ` +
    'every crop of a batch must have one size.';
  if (si[2] !== sf[2] && si[0] === sf[0] && si[1] === sf[1]) {
    why += ` Its image gives ${si[2]} channels where the first gives ${sf[2]}: pass \`channels\` (options.channels, or ` +
      'the request\'s own) naming the same channels for every image, or a channel slice in the region ' +
      `(e.g. [[y0, y1], [x0, x1], [0, ${Math.min(si[2], sf[2])}]]).`;
  } else if (!boundless && (clipped(pi, wi) || negative(pi))) {
    why += ` Its region ${formatRegion(pi)} was cut at the image's border: without \`boundless\` a region stops at ` +
      'the border, and a negative start counts from the end of the axis (Python slices). ' + BOUNDLESS_HINT;
  } else if (pi === null) {
    why += ' It reads its whole image, which has another size: give it a region of the size of the others.';
  } else {
    why += ` Its region is ${formatRegion(pi)}: give every request a region of the same size.`;
  }
  return new RegionError('ERR_REGION', why);
}

/** The rows and columns a window covers, in words (a crop of several files has no one window). */
const where = (w: Window | null): string =>
  (w === null ? 'an empty part of the image' : `rows [${w.y0}, ${w.y1}) and columns [${w.x0}, ${w.x1}) of the image`);

/** Crop `i` (the first one read) is empty: `s` has a zero. */
export function emptyCrop(i: number, s: readonly number[], p: ParsedRegion | null, w: Window | null, boundless: boolean): RegionError {
  let why = `requests[${i}] selects an empty crop (${size(s)}, H x W x C) with region ${formatRegion(p)}`;
  if (!boundless && negative(p)) {
    why += `: without \`boundless\`, a negative bound counts from the end of the axis (Python slices), so it resolves ` +
      `to ${where(w)}, which hold nothing. ` +
      'To read a window that starts before the image\'s top or left edge, pass `boundless: true` ' +
      '(absolute coordinates; what lies outside the image is `fill`).';
  } else if (s[2] === 0) {
    why += ': its channel slice selects no channel.';
  } else {
    why += `: it resolves to ${where(w)}` +
      (boundless ? ' (a stop at or before its start).' : ' (a stop at or before its start, or a start past the image\'s end).');
  }
  return new RegionError('ERR_REGION', why);
}

/** ERR_TOO_LARGE when N crops of H x W x C cannot be one typed array; null when they can. */
export function batchTooLarge(n: number, h: number, w: number, c: number, dtype: DType): NdsamplerError | null {
  const elems = n * h * w * c;
  if (elems <= MAX_ELEMENTS) return null;
  return new NdsamplerError('ERR_TOO_LARGE', `the batch would be ${n} crops of ${h} x ${w} x ${c} ${dtype}: ${elems} elements, ` +
    `more than the ${MAX_ELEMENTS} one typed array can hold: ask for fewer or smaller crops (or a \`scale\` below 1)`);
}
