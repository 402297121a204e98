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
    antialias: c.antialias, scale: c.scale, boundless: c.boundless, fill: c.fill, out: undefined, size: c.size, orient: c.orient,
  };
}

function fusedFrom(al: AlignableImageData, groups: Group[], leases: ReaderLease[], parsed: ParsedRegion | null,
  channels: unknown, c: CropOptions, holds: Holds): CropPlan {
  const readers = new Map<Group, ImageReader>();
  groups.forEach((g, i) => readers.set(g, leases[i].reader));
  return al.planCrop(parsed, resolved(channels, c), readers, holds.pins);
}

const openMode = (parsed: ParsedRegion | null, c: CropOptions) => (!c.boundless && coversImage(parsed) ? 'ifExists' : 'build');
const channelsOf = (r: BatchRequest, c: CropOptions): unknown => (r.channels !== undefined ? r.channels : c.channels);

/**
 * planItem without a promise, when everything it needs is at hand: the image's state memoised and
 * the readers of its files open in the pool (the steady state of a sampler). Null: take planItem.
 */
export function planItemSync(images: ImageTable, r: BatchRequest, parsed: ParsedRegion | null, c: CropOptions, holds: Holds): CropPlan | null {
  const state = images.peek(r.imageId);
  if (state === undefined) return null;
  const channels = channelsOf(r, c);
  const chan = images.fast(state, channels);
  if (chan !== null) {
    const lease = images.opener.leaseIfOpen(chan, openMode(parsed, c));
    return lease === null ? null : windowFrom(lease, parsed, c, holds);
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
  return fusedFrom(al, groups, leases, parsed, channels, c, holds);
}

/** The plan of a crop, opening files and building cache entries (on the libuv pool) as needed. */
export async function planItem(images: ImageTable, r: BatchRequest, parsed: ParsedRegion | null, c: CropOptions, holds: Holds): Promise<CropPlan> {
  const state: ImageState = await images.getAsync(r.imageId);
  const channels = channelsOf(r, c);
  const chan = images.fast(state, channels);
  if (chan !== null) return windowFrom(await images.opener.openAsync(chan, openMode(parsed, c)), parsed, c, holds);
  const al = images.alignable(state);
  const groups = al.groupsFor(channels as string | string[] | undefined);
  const leases = await Promise.all(groups.map(async (g) => {
    const lease = await images.opener.openAsync(g.chan, 'build');
    holds.leases.push(lease);
    return lease;
  }));
  return fusedFrom(al, groups, leases, parsed, channels, c, holds);
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
