/**
 * Drawing labels for a person to look at (`ndsampler show`): samples as 8-bit RGB, their boxes,
 * polygon outlines and keypoints drawn one pixel wide in a colour per category, and a contact
 * sheet of tiles. Pure functions on the calling thread.
 */
import { allocate } from '../ndarray';
import type { NDArray } from '../ndarray';
import type { SampleAnnotations } from './geometry';

export type RGB = readonly [number, number, number];

const PALETTE: RGB[] = [[255, 64, 64], [64, 255, 96], [80, 140, 255], [255, 230, 0], [255, 0, 255], [0, 255, 255], [255, 140, 0], [255, 255, 255]];

/** A colour for a category id (the palette, in turn). */
export function categoryColor(id: number): RGB {
  return PALETTE[((Math.round(id) % PALETTE.length) + PALETTE.length) % PALETTE.length];
}

/** An HWC array as contiguous 8-bit RGB: uint8 as is, other dtypes stretched from their min..max; 1 band grey, 2 bands + zero, > 3 the first three. */
export function toRgb8(im: NDArray): NDArray {
  const [H, W, C] = im.shape;
  const out = allocate([H, W, 3], 'uint8');
  const d = out.data as Uint8Array;
  let lo = 0, hi = 255;
  if (im.dtype !== 'uint8') {
    lo = Infinity;
    hi = -Infinity;
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) for (let c = 0; c < Math.min(C, 3); c++) {
      const v = im.data[im.offset + y * im.strides[0] + x * im.strides[1] + c * im.strides[2]] as number;
      if (Number.isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    }
    if (!(hi > lo)) { lo = 0; hi = 1; }
  }
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      for (let c = 0; c < 3; c++) {
        const k = C === 1 ? 0 : c;
        const v = k < C ? im.data[im.offset + y * im.strides[0] + x * im.strides[1] + k * im.strides[2]] as number : lo;
        d[(y * W + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(((v - lo) * 255) / (hi - lo))));
      }
    }
  }
  return out;
}

function plot(img: NDArray, x: number, y: number, c: RGB): void {
  const [H, W] = img.shape;
  if (x < 0 || y < 0 || x >= W || y >= H) return;
  (img.data as Uint8Array).set(c, (y * W + x) * 3);
}

/** A line between two points (pixel-edge coordinates), Bresenham over the pixels under them; clipped. */
export function line(img: NDArray, x0: number, y0: number, x1: number, y1: number, c: RGB): void {
  const [H, W] = img.shape;
  const lim = 4 * (H + W);  // far points are pulled in (the visible part stays a straight line's)
  const clamp = (v: number) => Math.max(-lim, Math.min(lim, v));
  let ax = Math.floor(clamp(x0)), ay = Math.floor(clamp(y0));
  const bx = Math.floor(clamp(x1)), by = Math.floor(clamp(y1));
  const dx = Math.abs(bx - ax), dy = -Math.abs(by - ay);
  const sx = ax < bx ? 1 : -1, sy = ay < by ? 1 : -1;
  let err = dx + dy;
  for (;;) {
    plot(img, ax, ay, c);
    if (ax === bx && ay === by) break;
    const e2 = 2 * err;
    if (e2 >= dy) { err += dy; ax += sx; }
    if (e2 <= dx) { err += dx; ay += sy; }
  }
}

/** Draws a sample's labels: boxes (inset to their last pixel), polygon outlines, keypoints as crosses. */
export function drawLabels(img: NDArray, a: SampleAnnotations): void {
  a.ids.forEach((_, k) => {
    const c = categoryColor(a.categoryIds[k]);
    const [x0, y0, x1, y1] = a.boxes.subarray(4 * k, 4 * k + 4);
    const [l, t, r, b] = [x0, y0, x1 - 1, y1 - 1];
    line(img, l, t, r, t, c);
    line(img, r, t, r, b, c);
    line(img, r, b, l, b, c);
    line(img, l, b, l, t, c);
    const dim: RGB = [Math.round(c[0] * 0.6), Math.round(c[1] * 0.6), Math.round(c[2] * 0.6)];
    for (const ring of a.polygons[k]) {
      for (let i = 0; i < ring.length; i += 2) {
        const j = (i + 2) % ring.length;
        line(img, ring[i], ring[i + 1], ring[j], ring[j + 1], dim);
      }
    }
    const kp = a.keypoints[k];
    for (let i = 0; i + 2 < kp.length; i += 3) {
      if (kp[i + 2] <= 0) continue;
      line(img, kp[i] - 2, kp[i + 1], kp[i] + 2, kp[i + 1], [255, 255, 255]);
      line(img, kp[i], kp[i + 1] - 2, kp[i], kp[i + 1] + 2, [255, 255, 255]);
    }
  });
}

/** Tiles (8-bit RGB, any sizes) in rows of `cols`, `gap` pixels apart, on a dark background. */
export function contactSheet(tiles: NDArray[], cols: number, gap = 4): NDArray {
  const th = Math.max(1, ...tiles.map((t) => t.shape[0]));
  const tw = Math.max(1, ...tiles.map((t) => t.shape[1]));
  const rows = Math.max(1, Math.ceil(tiles.length / cols));
  const H = rows * th + (rows + 1) * gap, W = cols * tw + (cols + 1) * gap;
  const sheet = allocate([H, W, 3], 'uint8', true);
  (sheet.data as Uint8Array).fill(24);
  tiles.forEach((t, i) => {
    const oy = gap + Math.floor(i / cols) * (th + gap), ox = gap + (i % cols) * (tw + gap);
    const [h, w] = t.shape;
    for (let y = 0; y < h; y++) (sheet.data as Uint8Array).set((t.data as Uint8Array).subarray(y * w * 3, (y + 1) * w * 3), ((oy + y) * W + ox) * 3);
  });
  return sheet;
}
