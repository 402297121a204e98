/**
 * Video targets [ndsampler's `tr` with `vidid`, `time_slice`, `gids`]: a window of T frames of a
 * video, in video space.
 *
 * - Time: `{videoId, timeSlice: [t0, t1]}` takes positions t0 .. t1 - 1 of the video's ordered
 *   frames (videos.ts), absolute: a position before 0 or past the last frame is a padded frame
 *   (all `fill`, no labels); no timeSlice is the whole video. `{imageIds: [...]}` takes those
 *   frames in that order (all of one video; `videoId` may be given too and must be theirs).
 * - Space: as an image target's (targets.ts: cx, cy, width, height, windowDims, pad, region,
 *   augment), in video pixel coordinates over the video's [height, width]; nothing is the whole
 *   video. One window for every frame.
 * - Each frame is sampled through its own warp: sample -> video (the window, scale, orientation)
 *   -> image (the inverse of warp_img_to_vid) -> its files. A frame on the video grid (identity
 *   warp) is read as an image target's window; any other by the multi-file sampler
 *   (batch-plan.ts CropOptions.warp).
 *
 * The resolved target gives videoId, timeSlice (or imageIds as given), the window's centre and
 * windowDims or its region, pad and augment: given back, the same sample. Calling thread.
 */
import type { ImageId } from '../cache/config';
import { FramesError } from '../errors';
import { compose, invert } from '../frames/affine';
import type { M3 } from '../frames/affine';
import type { CropRequest } from '../frames/batch';
import type { CropOptions } from '../frames/batch-plan';
import { idKey } from '../frames/pathinfo';
import { parseRegion } from '../region';
import type { ParsedRegion, Region } from '../region';
import * as v from '../validate';
import type { LabelStore } from './store';
import { resolveTarget, TARGET_KEYS } from './targets';
import type { Resolved, Target } from './targets';
import type { FrameInfo, VideoId, VideoIndex } from './videos';

/** The most frames of one window. */
export const MAX_FRAMES = 1 << 16;

const SPATIAL_KEYS = ['cx', 'cy', 'width', 'height', 'region', 'windowDims', 'pad', 'channels', 'augment'] as const;

/** A video target resolved: the window in video space and, per frame, its image and label geometry. */
export interface ResolvedVideo {
  target: Target;
  videoId: VideoId;
  /** The window in video space (its `toImage` maps sample -> video coordinates). */
  space: Resolved;
  /** Per frame, its image (null: a padded frame). */
  imageIds: Array<ImageId | null>;
  /**
   * Per frame, its window as an image target's (imageId, the image-space box of the window for
   * the label queries, sample <-> image transforms); null for a padded frame.
   */
  frames: Array<Resolved | null>;
  /** Per frame, the frame whose channels and dtype a padded one takes (itself when not padded) and its warp. */
  refs: FrameInfo[];
}

/** True when `t` asks for a video window (videoId, timeSlice or imageIds). */
export function isVideoTarget(t: unknown): boolean {
  return v.isPlainObject(t) && (t.videoId !== undefined || t.timeSlice !== undefined || t.imageIds !== undefined);
}

/** A frame's window as an image target's: transforms through the frame's warp, the window's box in image space. */
function frameResolved(space: Resolved, f: FrameInfo): Resolved {
  if (f.identity) return { ...space, imageId: f.imageId };
  const vidToImg = invert(f.warp);
  const toImage: M3 = compose(vidToImg, space.toImage);
  const xs: number[] = [], ys: number[] = [];
  for (const [x, y] of [[space.x0, space.y0], [space.x0 + space.nw, space.y0], [space.x0, space.y0 + space.nh], [space.x0 + space.nw, space.y0 + space.nh]]) {
    xs.push(vidToImg[0] * x + vidToImg[1] * y + vidToImg[2]);
    ys.push(vidToImg[3] * x + vidToImg[4] * y + vidToImg[5]);
  }
  const x0 = Math.min(...xs), y0 = Math.min(...ys);
  return { ...space, imageId: f.imageId, x0, y0, nw: Math.max(...xs) - x0, nh: Math.max(...ys) - y0, toImage, fromImage: invert(toImage) };
}

/** The frames of `imageIds` (all of one video), checked. */
function listedFrames(store: LabelStore, videos: VideoIndex, given: unknown, videoId: unknown, name: string): { videoId: VideoId; infos: FrameInfo[] } {
  if (!Array.isArray(given)) throw v.typeError('an array of image ids', `${name}.imageIds`, given);
  if (given.length === 0 || given.length > MAX_FRAMES) throw v.rangeError(`1 to ${MAX_FRAMES} image ids`, `${name}.imageIds`, given);
  const infos = Array.from({ length: given.length }, (_, k): FrameInfo => {
    const id = given[k] as unknown;
    idKey(id);  // TypeError for what is no id
    const f = videos.frameOf(id as ImageId);
    if (f === undefined) {
      store.imageSize(id as ImageId);  // ERR_UNKNOWN_IMAGE for an unknown image
      throw new FramesError('ERR_VIDEO', `${name}.imageIds[${k}]: image ${String(id)} is not a frame of a video`);
    }
    return f;
  });
  const vid = infos[0].videoId;
  infos.forEach((f, k) => {
    if (String(f.videoId) !== String(vid)) {
      throw new FramesError('ERR_VIDEO', `${name}.imageIds: image ${String(f.imageId)} (imageIds[${k}]) is a frame of video ${String(f.videoId)}, imageIds[0] of video ${String(vid)}`);
    }
  });
  if (videoId !== undefined) {
    const named = videos.video(videoId, `${name}.videoId`);
    if (String(named.id) !== String(vid)) throw new FramesError('ERR_VIDEO', `${name}: imageIds are frames of video ${String(vid)}, not of videoId ${String(named.id)}`);
  }
  return { videoId: vid, infos };
}

/** Resolves one video target. `defaultScale`: the augment scale of targets that give none. */
export function resolveVideoTarget(store: LabelStore, videos: VideoIndex, t: unknown, name: string, defaultScale = 1): ResolvedVideo {
  if (!v.isPlainObject(t)) throw v.typeError('a target object', name, t);
  const o = v.options(t, name, TARGET_KEYS);
  if (o.imageId !== undefined) throw v.typeError('no imageId in a video target (imageIds lists its frames)', `${name}.imageId`, o.imageId);
  if (o.annotationId !== undefined) throw v.typeError('no annotationId in a video target (positives() follows tracks)', `${name}.annotationId`, o.annotationId);
  if (o.timeSlice !== undefined && o.imageIds !== undefined) throw v.typeError('timeSlice or imageIds, not both', `${name}.imageIds`, o.imageIds);
  let videoId: VideoId;
  let slots: Array<FrameInfo | null>;
  let refs: FrameInfo[];
  const resolved: Target = {};
  if (o.imageIds !== undefined) {
    const l = listedFrames(store, videos, o.imageIds, o.videoId, name);
    videoId = l.videoId;
    slots = l.infos;
    refs = l.infos;
    resolved.videoId = videoId;
    resolved.imageIds = (o.imageIds as ImageId[]).slice();
  } else {
    if (o.videoId === undefined) throw v.typeError('a video target with videoId or imageIds', name, t);
    const all = videos.frames(o.videoId, `${name}.videoId`);
    videoId = videos.video(o.videoId).id;
    if (all.length === 0) throw new FramesError('ERR_VIDEO', `${name}: video ${String(videoId)} has no frames`, { videoId });
    let t0 = 0, t1 = all.length;
    if (o.timeSlice !== undefined) {
      const ts = o.timeSlice;
      if (!Array.isArray(ts) || ts.length !== 2) throw v.typeError('[t0, t1] (frame positions, t1 excluded)', `${name}.timeSlice`, ts);
      t0 = v.integer(ts[0], `${name}.timeSlice[0]`, -MAX_FRAMES * 64, MAX_FRAMES * 64);
      t1 = v.integer(ts[1], `${name}.timeSlice[1]`, -MAX_FRAMES * 64, MAX_FRAMES * 64);
      if (!(t1 > t0 && t1 - t0 <= MAX_FRAMES)) throw v.rangeError(`t0 < t1 <= t0 + ${MAX_FRAMES}`, `${name}.timeSlice`, ts);
    }
    slots = [];
    refs = [];
    for (let p = t0; p < t1; p++) {
      slots.push(p >= 0 && p < all.length ? all[p] : null);
      refs.push(all[Math.min(Math.max(p, 0), all.length - 1)]);
    }
    resolved.videoId = videoId;
    resolved.timeSlice = [t0, t1];
  }
  const [H, W] = videos.extent(videoId, (id) => store.imageSize(id), `${name}.videoId`);
  const spatial: Record<string, unknown> = { imageId: videoId };
  for (const k of SPATIAL_KEYS) if (o[k] !== undefined) spatial[k] = o[k];
  const space = resolveTarget({ get: () => undefined, imageSize: () => [H, W] }, spatial, name, defaultScale);
  const { imageId: _drop, ...where } = space.target;
  void _drop;
  Object.assign(resolved, where);
  return {
    target: resolved, videoId, space, imageIds: slots.map((f) => (f === null ? null : f.imageId)),
    frames: slots.map((f) => (f === null ? null : frameResolved(space, f))), refs,
  };
}

/** The parsed region of a window (the same for every frame), kept per resolved target. */
const parsedOf = new WeakMap<ResolvedVideo, { region: Region; parsed: ParsedRegion | null }>();

/**
 * The reads of a window's frames for the batch engine: each frame's window in video space through
 * its warp (or, on the video grid, as an image window), boundless at S's size and orientation; a
 * padded frame reads nothing (CropOptions.blank), its channels and dtype those of `refs[t]`.
 */
export function frameCrops(rv: ResolvedVideo, crop: CropOptions): CropRequest[] {
  const r = rv.space;
  let p = parsedOf.get(rv);
  if (p === undefined) {
    const region: Region = [[r.y0, r.y0 + r.nh], [r.x0, r.x0 + r.nw]];
    if (r.chans !== undefined) region.push(r.chans);
    p = { region, parsed: parseRegion(region) };
    parsedOf.set(rv, p);
  }
  const base: CropOptions = { ...crop, boundless: true, size: [r.sh, r.sw], orient: r.orient };
  return rv.refs.map((f, t) => {
    const c: CropOptions = f.identity ? base : { ...base, warp: f.warp };
    const request = r.channels === undefined ? { imageId: f.imageId, region: p.region } : { imageId: f.imageId, region: p.region, channels: r.channels };
    return { request, parsed: p.parsed, crop: rv.imageIds[t] === null ? { ...c, blank: true } : c };
  });
}
