/**
 * The plan of one crop of a batch: a window of a single-file image (the readers' rule), or a
 * fused crop of an image of several files (lib/frames/fused.ts), over readers leased from the
 * Frames object's pool and pinned (lib/cache/entry-reader.ts) until the batch settles. planItemSync
 * serves the steady state of a sampler (everything memoised and open: no promise per crop);
 * planItem the rest (first use of an image, files to open or entries to build on the libuv pool).
 *
 * Internal. Runs on the calling JS thread.
 */
import { ReaderPins } from '../cache/entry-reader';
import { NdsamplerError } from '../errors';
import type { ReaderLease } from '../cache/opener';
import type { ImageId } from '../cache/config';
import { orientedDims, placement, placementSized, scaledShape } from '../geometry';
import type { ImageReader } from '../readers';
import { coversImage, resolveRegion } from '../region';
import type { ParsedRegion, Region } from '../region';
import type { AlignableImageData, Resolved } from './alignable';
import { rawValue, runOneAsync, runOneSync } from './batch-native';
import type { BaseReader, CropPlan, WindowCrop } from './batch-native';
import type { NDArray } from '../ndarray';
import type { Group, Interpolation } from './fused';
import type { M3 } from './affine';
import type { ImageState, ImageTable } from './images';

/** One crop of a batch. `channels` overrides the batch's. */
export interface BatchRequest {
  imageId: ImageId;
  region?: Region | null;
  channels?: string | string[];
}

/** What every crop of a batch is planned with. */
export interface CropOptions {
  boundless: boolean;
  fill: number;
  scale: number;
  channels: unknown;
  interpolation: Interpolation;
  antialias: boolean;
  /**
   * The crop's own output size [h, w] before `orient` (CocoSampler's targets), instead of the
   * window at `scale`: each axis at its own ratio, enlarged too (nearest for a single file).
   */
  size?: [number, number];
  /** Flips and quarter turns applied as the crop is written (lib/geometry.ts orientCode; default 0). */
  orient?: number;
  /**
   * The region is in a space the image maps into by this affine (image pixel coordinates -> that
   * space's: a kwcoco frame's `warp_img_to_vid`): every file of the image is sampled through it
   * (composed with its own warp) by the multi-file sampler, single-file images too.
   */
  warp?: M3;
  /**
   * Plan the crop as usual (its dtype and channels come from the image) but read nothing: every
   * pixel is `fill` (a padded frame of a video window).
   */
  blank?: boolean;
}

/** Where a batch keeps what it holds until it settles: reader leases (pool) and pins (entries). */
export interface Holds {
  leases: ReaderLease[];
  pins: ReaderPins;
}

/** A window crop of a single-file image from the reader `lease` holds. */
function windowFrom(lease: ReaderLease, parsed: ParsedRegion | null, c: CropOptions, holds: Holds): WindowCrop {
  holds.leases.push(lease);
  return windowCrop(holds.pins.base(lease.reader), parsed, c);
}

/** A window crop of `reader` (a pinned base reader). */
function windowCrop(reader: BaseReader, parsed: ParsedRegion | null, c: CropOptions): WindowCrop {
  const win = resolveRegion(parsed, reader.shape, c.boundless);
  const orient = c.orient ?? 0;
  // S, the crop as read (then turned by `orient`).
  const [sh, sw] = c.size ?? scaledShape(win, c.scale);
  const place = c.size === undefined ? placement(win, c.scale, [sh, sw, 0]) : placementSized(win, sh, sw);
  const [h, w] = orientedDims(orient, sh, sw);
  return { kind: 'window', reader, dtype: reader.dtype, shape: [h, w, win.c1 - win.c0], win, place, orient, fill: rawValue(reader.dtype, c.fill) };
}

/** How a fused crop of the batch is read. */
function resolved(channels: unknown, c: CropOptions): Resolved {
  return {
    channels: channels as string | string[] | undefined, fused: true, mode: 'build', interpolation: c.interpolation,
    antialias: c.antialias, scale: c.scale, boundless: c.boundless, fill: c.fill, out: undefined, size: c.size, orient: c.orient, warp: c.warp,
  };
}

/** `p` as a crop that reads nothing (c.blank): its shape, dtype and fill, no file. */
function blankOr(p: CropPlan, c: CropOptions): CropPlan {
  return c.blank === true ? { kind: 'fused', dtype: p.dtype, shape: p.shape, fill: p.fill, parts: [] } : p;
}

function fusedFrom(al: AlignableImageData, groups: Group[], leases: ReaderLease[], parsed: ParsedRegion | null,
  channels: unknown, c: CropOptions, holds: Holds): CropPlan {
  const readers = new Map<Group, ImageReader>();
  groups.forEach((g, i) => readers.set(g, leases[i].reader));
  return al.planCrop(parsed, resolved(channels, c), readers, holds.pins);
}

const openMode = (parsed: ParsedRegion | null, c: CropOptions) => (!c.boundless && coversImage(parsed) ? 'ifExists' : 'build');
const channelsOf = (r: BatchRequest, c: CropOptions): unknown => (r.channels !== undefined ? r.channels : c.channels);
/** The fast-path channel of a crop: none when the crop is warped (a video frame). */
const fastOf = (images: ImageTable, state: ImageState, channels: unknown, c: CropOptions) => (c.warp === undefined ? images.fast(state, channels) : null);

/**
 * planItem without a promise, when everything it needs is at hand: the image's state memoised and
 * the readers of its files open in the pool (the steady state of a sampler). Null: take planItem.
 */
export function planItemSync(images: ImageTable, r: BatchRequest, parsed: ParsedRegion | null, c: CropOptions, holds: Holds): CropPlan | null {
  const state = images.peek(r.imageId);
  if (state === undefined) return null;
  const channels = channelsOf(r, c);
  const chan = fastOf(images, state, channels, c);
  if (chan !== null) {
    const lease = images.opener.leaseIfOpen(chan, openMode(parsed, c));
    return lease === null ? null : blankOr(windowFrom(lease, parsed, c, holds), c);
  }
  const al = images.alignable(state);
  const groups = al.groupsFor(channels as string | string[] | undefined);
  const leases: ReaderLease[] = [];
  for (const g of groups) {
    const lease = images.opener.leaseIfOpen(g.chan, 'build');
    if (lease === null) {
      for (const l of leases) l.release();
      return null;
    }
    leases.push(lease);
  }
  holds.leases.push(...leases);
  return blankOr(fusedFrom(al, groups, leases, parsed, channels, c, holds), c);
}

/** The plan of a crop, opening files and building cache entries (on the libuv pool) as needed. */
export async function planItem(images: ImageTable, r: BatchRequest, parsed: ParsedRegion | null, c: CropOptions, holds: Holds): Promise<CropPlan> {
  const state: ImageState = await images.getAsync(r.imageId);
  const channels = channelsOf(r, c);
  const chan = fastOf(images, state, channels, c);
  if (chan !== null) return blankOr(windowFrom(await images.opener.openAsync(chan, openMode(parsed, c)), parsed, c, holds), c);
  const al = images.alignable(state);
  const groups = al.groupsFor(channels as string | string[] | undefined);
  const leases = await Promise.all(groups.map(async (g) => {
    const lease = await images.opener.openAsync(g.chan, 'build');
    holds.leases.push(lease);
    return lease;
  }));
  return blankOr(fusedFrom(al, groups, leases, parsed, channels, c, holds), c);
}

/**
 * planItem on the calling thread, opening files (and building cache entries) there as needed, for
 * a crop read boundless (every file opened in 'build' mode, leased while it is planned; a crop that
 * is not boundless is ERR_INTERNAL: its files may open in another mode).
 */
export function planItemBlocking(images: ImageTable, r: BatchRequest, parsed: ParsedRegion | null, c: CropOptions, holds: Holds): CropPlan {
  const state = images.get(r.imageId);
  const channels = channelsOf(r, c);
  const chan = fastOf(images, state, channels, c);
  const chans = chan !== null ? [chan] : images.alignable(state).groupsFor(channels as string | string[] | undefined).map((g) => g.chan);
  const opened: ReaderLease[] = [];
  try {
    for (const ch of chans) {
      images.opener.open(ch, 'build');
      const lease = images.opener.leaseIfOpen(ch, 'build');
      if (lease !== null) opened.push(lease);
    }
    const p = c.boundless ? planItemSync(images, r, parsed, c, holds) : null;
    if (p === null) throw new NdsamplerError('ERR_INTERNAL', `image ${String(r.imageId)}: a file opened for a crop was not in the reader pool`);
    return p;
  } finally {
    for (const l of opened) l.release();
  }
}

/**
 * One crop planned with its own options (CocoSampler.loadSample), read on the calling thread into
 * a new array of its image's dtype: a single-file image through its reader (its cache entry built
 * here when missing), an image of several files through AlignableImageData.
 */
export function readPlanned(images: ImageTable, r: BatchRequest, parsed: ParsedRegion | null, c: CropOptions): NDArray {
  const state = images.get(r.imageId);
  const channels = channelsOf(r, c);
  const chan = images.fast(state, channels);
  if (chan === null) return images.alignable(state).loadResolved(parsed, resolved(channels, c)) as NDArray;
  const pins = new ReaderPins();
  try {
    const crop = windowCrop(pins.base(images.openFast(state, chan, false)), parsed, c);
    return runOneSync(crop);
  } finally {
    pins.release();
  }
}

/** readPlanned with the files opened on the libuv pool and the crop read on the addon's pool. */
export async function readPlannedAsync(images: ImageTable, r: BatchRequest, parsed: ParsedRegion | null, c: CropOptions): Promise<NDArray> {
  const holds: Holds = { leases: [], pins: new ReaderPins() };
  try {
    return await runOneAsync(await planItem(images, r, parsed, c, holds));
  } finally {
    holds.pins.release();
    for (const l of holds.leases) l.release();
  }
}
