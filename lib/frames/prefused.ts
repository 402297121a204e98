/**
 * AlignableImageData's prefused form (`fused: false`): each file's crop as it is read, with the
 * transform that aligns it onto the requested region; a quantized file's crop is dequantized by
 * the addon (an identity sampling of the whole crop). Runs on the calling thread; the async forms
 * read on the libuv pool and dequantize on the addon's pool.
 */
import { ReaderPins } from '../cache/entry-reader';
import { allocate } from '../ndarray';
import type { NDArray, Shape3 } from '../ndarray';
import { boxWindow } from '../region';
import { compose, IDENTITY, invert, to3x3 } from './affine';
import { runOneAsync, runOneSync } from './batch-native';
import type { FusedCrop } from './batch-native';
import { quantizationOf } from './fused';
import type { FileRead, FusedPlan } from './fused';

/** One file's part of a prefused region. */
export interface PrefusedChannel {
  /** The channel group (key of pathinfo.channels). */
  key: string;
  /** The bands of that file in this result, in order. */
  bands: number[];
  /** The file's native-resolution crop covering the region (all of the file's bands in `bands`). */
  data: NDArray;
  /** The crop's window in the file's own pixel coordinates, [[y0, y1], [x0, x1]]. */
  auxRegion: [[number, number], [number, number]];
  /** 3x3: crop pixel coordinates -> coordinates in the requested region (its top-left is 0, 0). */
  warpCropToRegion: number[][];
}

export interface Prefused {
  /** The requested region in image coordinates, [[y0, y1], [x0, x1]] (normalised). */
  imgRegion: [[number, number], [number, number]];
  /** Shape of the fused result: [height, width, channels]. */
  shape: Shape3;
  chans: PrefusedChannel[];
}

/** For a quantized file: the crop of its whole window, every band dequantized (identity sampling). */
function dequantCrop(r: FileRead): ((pins: ReaderPins) => FusedCrop) | null {
  const quant = quantizationOf(r.sel.group.chan);
  if (quant === null) return null;
  const nb = r.b1 - r.b0;
  return (pins) => ({
    kind: 'fused', dtype: 'float32', shape: [r.readH, r.readW, nb], fill: 0,
    parts: [{
      reader: pins.base(r.reader), y0: r.y0, y1: r.y1, x0: r.x0, x1: r.x1, b0: r.b0, b1: r.b1, readH: r.readH, readW: r.readW,
      m: IDENTITY, interp: 'nearest', ch0: 0, bands: Array.from({ length: nb }, (_, i) => i), quant, aa: null,
    }],
  });
}

function emptyCrop(r: FileRead): NDArray {
  const dtype = quantizationOf(r.sel.group.chan) !== null ? 'float32' : r.reader.dtype;
  return allocate([r.y1 - r.y0, r.x1 - r.x0, r.b1 - r.b0], dtype, true);
}

/** A file's crop as read (all its bands b0..b1; dequantized when asked). */
export function readCrop(r: FileRead): NDArray {
  if (r.empty) return emptyCrop(r);
  const q = dequantCrop(r);
  if (q !== null) {
    const pins = new ReaderPins();
    try {
      return runOneSync(q(pins));
    } finally {
      pins.release();
    }
  }
  const win = boxWindow(r.y0, r.y1, r.x0, r.x1, r.b0, r.b1);
  return r.readScale < 1 ? r.reader.readWindow(win, { scale: r.readScale }) : r.reader.readWindow(win);
}

/** readCrop with the read on the libuv pool (the dequantization on the addon's pool). */
export async function readCropAsync(r: FileRead): Promise<NDArray> {
  if (r.empty) return emptyCrop(r);
  const q = dequantCrop(r);
  if (q !== null) {
    const pins = new ReaderPins();
    try {
      return await runOneAsync(q(pins));
    } finally {
      pins.release();
    }
  }
  const win = boxWindow(r.y0, r.y1, r.x0, r.x1, r.b0, r.b1);
  return r.readScale < 1 ? r.reader.readWindowAsync(win, { scale: r.readScale }) : r.reader.readWindowAsync(win);
}

/** The prefused form of a plan, each file's crop from `crop`. */
export function prefused(plan: FusedPlan, crop: (r: FileRead, i: number) => NDArray): Prefused {
  const { win } = plan;
  const imgToOut = invert(plan.outToImg);
  return {
    imgRegion: [[win.y0, win.y1], [win.x0, win.x1]],
    shape: plan.shape,
    chans: plan.reads.map((r, i) => ({
      key: r.sel.group.key,
      bands: r.sel.bands,
      data: crop(r, i),
      auxRegion: [[r.y0, r.y1], [r.x0, r.x1]],
      warpCropToRegion: to3x3(compose(imgToOut, compose(r.sel.group.fwd, r.cropToFile))),
    })),
  };
}
