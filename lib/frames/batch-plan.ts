/**
 * The plan of one crop of a batch: a window of a single-file image (the readers' rule), or a
 * fused crop of an image of several files (lib/frames/fused.ts), over readers leased from the
 * Frames object's pool and pinned (lib/cache/entry-reader.ts) until the batch settles. planItemSync
 * serves the steady state of a sampler (everything memoised and open: no promise per crop);
 * planItem the rest (first use of an image, files to open or entries to build on the libuv pool).
 *
 * Internal. Runs on the calling JS thread.
 */
import type { ReaderPins } from '../cache/entry-reader';
import type { ReaderLease } from '../cache/opener';
import type { ImageId } from '../cache/config';
import { placement, scaledShape } from '../geometry';
import type { ImageReader } from '../readers';
import { coversImage, resolveRegion } from '../region';
import type { ParsedRegion, Region } from '../region';
import type { AlignableImageData, Resolved } from './alignable';
import { rawValue } from './batch-native';
import type { CropPlan, WindowCrop } from './batch-native';
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
}

/** Where a batch keeps what it holds until it settles: reader leases (pool) and pins (entries). */
export interface Holds {
  leases: ReaderLease[];
  pins: ReaderPins;
}

/** A window crop of a single-file image from the reader `lease` holds. */
function windowFrom(lease: ReaderLease, parsed: ParsedRegion | null, c: CropOptions, holds: Holds): WindowCrop {
  holds.leases.push(lease);
  const reader = holds.pins.base(lease.reader);
  const win = resolveRegion(parsed, reader.shape, c.boundless);
  const shape = scaledShape(win, c.scale);
  return { kind: 'window', reader, dtype: reader.dtype, shape, win, place: placement(win, c.scale, shape), fill: rawValue(reader.dtype, c.fill) };
}

/** How a fused crop of the batch is read. */
function resolved(channels: unknown, c: CropOptions): Resolved {
  return {
    channels: channels as string | string[] | undefined, fused: true, mode: 'build', interpolation: c.interpolation,
    antialias: c.antialias, scale: c.scale, boundless: c.boundless, fill: c.fill, out: undefined,
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
