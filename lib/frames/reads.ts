/**
 * Frames's region and image reads (loadRegion, loadRegionAsync, loadImage): a single-file image
 * is read as a window of its one file (the fast path: through its cache entry, or its source for
 * a read of the whole image), an image of several files through AlignableImageData (the native
 * multi-file sampler). Runs on the calling thread; the async form reads on the libuv pool and the
 * addon's pool.
 */
import type { ImageId } from '../cache/config';
import type { NDArray } from '../ndarray';
import { coversImage, parseRegion, resolveRegion } from '../region';
import type { ParsedRegion, Region } from '../region';
import { checkSignal, withAbort } from '../readers-async';
import * as v from '../validate';
import { checkCrop, CROP_KEYS, cropOptions, PLAIN_CROP, readCrop, readCropAsync } from './crop';
import type { ImageTable } from './images';
import type { LoadImageOptions, LoadRegionOptions } from './types';

export const REGION_KEYS = ['channels', 'width', 'height', 'out', 'interpolation', 'antialias', 'signal', ...CROP_KEYS] as const;
const IMAGE_KEYS = ['channels', 'cache', 'noreturn', ...CROP_KEYS] as const;
const EMPTY = Object.freeze({}) as Record<string, never>;

const dim = (x: unknown, name: string): number | undefined => (x === undefined || x === null ? undefined : v.integer(x, name, 0));

/** The checked options, image state and fast-path channel of a loadRegion request. */
function request(images: ImageTable, imageId: ImageId, opts: LoadRegionOptions | undefined) {
  const o = opts === undefined ? EMPTY : v.options(opts, 'options', REGION_KEYS) as LoadRegionOptions;
  const state = images.get(imageId);
  const width = dim(o.width, 'options.width');
  const height = dim(o.height, 'options.height');
  const crop = checkCrop(o);
  // A boundless or scaled read of the whole image still reads through the cache entry.
  const covers = (p: ParsedRegion | null): boolean => crop === PLAIN_CROP && coversImage(p, height, width);
  const fused = { channels: o.channels, fused: true, cache: true, interpolation: o.interpolation, antialias: o.antialias, out: o.out, ...cropOptions(crop) };
  return { o, state, chan: images.fast(state, o.channels), covers, crop, fused };
}

/** Frames.loadRegion. */
export function readRegion(images: ImageTable, imageId: ImageId, region: Region | null | undefined, opts: LoadRegionOptions | undefined): NDArray {
  const { o, state, chan, covers, crop, fused } = request(images, imageId, opts);
  if (o.signal !== undefined) throw v.typeError('no signal (a synchronous read cannot be aborted)', 'options.signal', o.signal);
  if (chan === null) return images.alignable(state).loadRegion(region, fused) as NDArray;
  // Parsed once: whether it covers the image decides the open mode, then it is resolved against
  // the reader's shape and read as a window.
  const parsed = parseRegion(region);
  const reader = images.openFast(state, chan, covers(parsed));
  const win = resolveRegion(parsed, reader.shape, crop.boundless);
  if (crop === PLAIN_CROP) return reader.readWindow(win, o.out === undefined ? undefined : { out: o.out });
  return readCrop(reader, win, crop, o.out);
}

/**
 * Frames.loadRegionAsync: every open, remote question, build and read on the libuv pool (and the
 * addon's pool); `signal` rejects it with ERR_ABORTED at once.
 */
export function readRegionAsync(images: ImageTable, imageId: ImageId, region: Region | null | undefined,
  opts: LoadRegionOptions | undefined): Promise<NDArray> {
  try {
    const signal = checkSignal(opts?.signal, 'options.signal');
    if (signal === undefined) return readAsync(images, imageId, region, opts, undefined);
    return withAbort(signal, 'loadRegionAsync', undefined, () => readAsync(images, imageId, region, opts, signal), () => undefined);
  } catch (err) {
    return Promise.reject(err);
  }
}

async function readAsync(images: ImageTable, imageId: ImageId, region: Region | null | undefined,
  opts: LoadRegionOptions | undefined, signal: AbortSignal | undefined): Promise<NDArray> {
  const { o, state, chan, covers, crop, fused } = request(images, imageId, opts);
  if (chan === null) {
    await images.warm(state, 'build', signal);  // remote files: opened on the pool before the plan
    return await images.alignable(state).loadRegionAsync(region, fused) as NDArray;
  }
  const parsed = parseRegion(region);
  const lease = await images.opener.openAsync(chan, covers(parsed) ? 'ifExists' : 'build', signal);
  try {
    const win = resolveRegion(parsed, lease.reader.shape, crop.boundless);
    if (crop === PLAIN_CROP) return await lease.reader.readWindowAsync(win, o.out === undefined ? undefined : { out: o.out });
    return await readCropAsync(lease.reader, win, crop, o.out);
  } finally {
    lease.release();
  }
}

/** Frames.loadImage. */
export function readImage(images: ImageTable, imageId: ImageId, opts: LoadImageOptions | undefined): NDArray | undefined {
  const o = opts === undefined ? EMPTY : v.options(opts, 'options', IMAGE_KEYS) as LoadImageOptions;
  const cache = o.cache === undefined ? true : v.boolean(o.cache, 'options.cache');
  const noreturn = o.noreturn === undefined ? false : v.boolean(o.noreturn, 'options.noreturn');
  const state = images.get(imageId);
  if (noreturn) {
    if (cache) for (const chan of Object.values(state.pathinfo.channels)) images.opener.ensure(chan);
    return undefined;
  }
  const crop = checkCrop(o);
  const chan = images.fast(state, o.channels);
  if (chan !== null) {
    const reader = images.opener.open(chan, cache ? 'build' : 'source');
    if (crop !== PLAIN_CROP) return readCrop(reader, resolveRegion(null, reader.shape, crop.boundless), crop);
    return reader.kind === 'npy' ? reader.read(null, { copy: false }) : reader.read();
  }
  return images.alignable(state).loadRegion(null, { channels: o.channels, fused: true, cache, ...cropOptions(crop) }) as NDArray;
}
