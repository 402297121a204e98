/**
 * The videos of a kwcoco dataset [kwcoco's `videos` table, `vidid_to_gids`]: each video's record
 * (`id`, `name`, `width`, `height`, optional `target_gsd`), its frames in order and each frame's
 * warp into video space.
 *
 * - A frame is an image with a `video_id` (a video of the table) and an integer `frame_index`.
 *   Frames are ordered by frame_index, ties by image id (numbers before strings, numbers by value,
 *   strings by code units); gaps are allowed. Positions in that order are the time axis of video
 *   targets (`timeSlice`), as ndsampler indexes `vidid_to_gids`.
 * - `warp_img_to_vid` (image pixel coordinates -> video pixel coordinates) is a matrix or kwimage
 *   parameters, as `warp_aux_to_img` (frames/coco-warp.ts); missing or null is the identity.
 * - A video without width / height takes the extent of its frames warped into video space.
 *
 * Anything malformed is FramesError ERR_VIDEO, found when the sampler is made; an unknown video id
 * is ERR_UNKNOWN_VIDEO. Runs on the calling thread.
 */
import type { ImageId } from '../cache/config';
import { FramesError } from '../errors';
import { IDENTITY, parseAffine } from '../frames/affine';
import type { M3 } from '../frames/affine';
import type { CocoDataset, CocoFrames } from '../frames/coco-frames';
import { cocoWarp } from '../frames/coco-warp';
import { idKey } from '../frames/pathinfo';
import * as v from '../validate';

export type VideoId = number | string;

/** A video of the dataset, checked. */
export interface Video {
  id: VideoId;
  name: string | null;
  /** As the dataset gives them (null when it does not: see VideoIndex.size). */
  width: number | null;
  height: number | null;
  targetGsd: number | null;
}

/** A frame: its video, its position there and its image -> video warp. */
export interface FrameInfo {
  imageId: ImageId;
  videoId: VideoId;
  frameIndex: number;
  /** 0-based position in the video's ordered frames. */
  position: number;
  /** Image pixel coordinates -> video pixel coordinates. */
  warp: M3;
  identity: boolean;
}

interface VideoEntry {
  video: Video;
  frames: FrameInfo[];
  size: [number, number] | null;
}

const videoError = (msg: string, props: Record<string, unknown> = {}) => new FramesError('ERR_VIDEO', msg, props);

/** A video id's canonical key (1 and '1' are one video). */
function videoKey(id: unknown): string | null {
  if (typeof id === 'number' && Number.isFinite(id)) return String(id);
  if (typeof id === 'string' && id.length > 0) return id;
  return null;
}

const posInt = (x: unknown) => typeof x === 'number' && Number.isInteger(x) && x > 0 && x <= 2 ** 31;

/** kwcoco's frame order: frame_index, then the image id (numbers before strings). */
function byFrame(a: FrameInfo, b: FrameInfo): number {
  if (a.frameIndex !== b.frameIndex) return a.frameIndex - b.frameIndex;
  const x = a.imageId, y = b.imageId;
  if (typeof x === 'number' && typeof y === 'number') return x - y;
  if (typeof x === 'number') return -1;
  if (typeof y === 'number') return 1;
  return x < y ? -1 : x > y ? 1 : 0;
}

export class VideoIndex {
  readonly #videos = new Map<string, VideoEntry>();
  readonly #ids: VideoId[] = [];
  readonly #frames = new Map<string, FrameInfo>();

  constructor(dataset: CocoDataset, frames: CocoFrames) {
    const where = frames.datasetPath ?? 'the dataset';
    const list = dataset.videos;
    if (list !== undefined && list !== null && !Array.isArray(list)) throw videoError(`${where}: 'videos' must be a list`);
    ((list ?? []) as unknown[]).forEach((rec, i) => {
      const video = checkVideo(rec, `${where}: videos[${i}]`);
      const key = String(video.id);
      if (this.#videos.has(key)) throw videoError(`${where}: video id ${key} is given twice`, { videoId: video.id });
      this.#videos.set(key, { video, frames: [], size: video.width !== null && video.height !== null ? [video.height, video.width] : null });
      this.#ids.push(video.id);
    });
    for (const imageId of frames.imageIds) {
      const img = frames.image(imageId);
      if (img.video_id === undefined || img.video_id === null) {
        if (img.warp_img_to_vid !== undefined && img.warp_img_to_vid !== null) {
          throw videoError(`${where}: image ${String(imageId)} has a warp_img_to_vid but no video_id`);
        }
        continue;
      }
      const at = `${where}: image ${String(imageId)}`;
      const key = videoKey(img.video_id);
      const entry = key === null ? undefined : this.#videos.get(key);
      if (entry === undefined) throw videoError(`${at}: video_id ${JSON.stringify(img.video_id)} is not a video of the dataset's 'videos'`);
      const fi = img.frame_index;
      if (typeof fi !== 'number' || !Number.isInteger(fi) || !Number.isSafeInteger(fi)) {
        throw videoError(`${at}: a frame of video ${key} needs an integer frame_index; received ${v.describe(fi)}`);
      }
      const warp = frameWarp(img.warp_img_to_vid, at);
      const info: FrameInfo = { imageId, videoId: entry.video.id, frameIndex: fi, position: -1, warp, identity: warp.every((x, k) => x === IDENTITY[k]) };
      entry.frames.push(info);
      this.#frames.set(idKey(imageId), info);
    }
    for (const e of this.#videos.values()) {
      e.frames.sort(byFrame);
      e.frames.forEach((f, k) => { f.position = k; });
    }
  }

  /** The video ids, in dataset order. */
  get ids(): VideoId[] {
    return this.#ids.slice();
  }

  get size(): number {
    return this.#ids.length;
  }

  #entry(videoId: unknown, name: string): VideoEntry {
    const key = videoKey(videoId);
    if (key === null) throw v.typeError('a video id (a finite number or a non-empty string)', name, videoId);
    const e = this.#videos.get(key);
    if (e === undefined) throw new FramesError('ERR_UNKNOWN_VIDEO', `${name}: unknown video id ${JSON.stringify(videoId)}`, { videoId });
    return e;
  }

  /** A video's record (ERR_UNKNOWN_VIDEO for an unknown id). */
  video(videoId: unknown, name = 'videoId'): Video {
    return this.#entry(videoId, name).video;
  }

  /** A video's frames, in order. */
  frames(videoId: unknown, name = 'videoId'): readonly FrameInfo[] {
    return this.#entry(videoId, name).frames;
  }

  /** The frame of an image, or undefined when it is not in a video. */
  frameOf(imageId: ImageId): FrameInfo | undefined {
    return this.#frames.get(idKey(imageId));
  }

  /**
   * A video's [height, width]: the dataset's, else the extent (rounded up) of its frames' image
   * rectangles warped into video space, from `imageSize` (ERR_VIDEO for a video with neither).
   */
  extent(videoId: unknown, imageSize: (id: ImageId) => [number, number], name = 'videoId'): [number, number] {
    const e = this.#entry(videoId, name);
    if (e.size !== null) return e.size;
    let W = 0, H = 0;
    for (const f of e.frames) {
      const [h, w] = imageSize(f.imageId);
      const m = f.warp;
      for (const [x, y] of [[0, 0], [w, 0], [0, h], [w, h]]) {
        W = Math.max(W, m[0] * x + m[1] * y + m[2]);
        H = Math.max(H, m[3] * x + m[4] * y + m[5]);
      }
    }
    const size: [number, number] = [Math.ceil(H - 1e-9), Math.ceil(W - 1e-9)];
    if (!(size[0] >= 1 && size[1] >= 1)) {
      throw videoError(`video ${String(e.video.id)} has no width and height and no frame to take them from`, { videoId: e.video.id });
    }
    e.size = size;
    return size;
  }
}

function checkVideo(rec: unknown, at: string): Video {
  if (!v.isPlainObject(rec)) throw videoError(`${at} must be an object {id, name, width, height}`);
  const key = videoKey(rec.id);
  if (key === null) throw videoError(`${at} needs an id (a number or a non-empty string); received ${v.describe(rec.id)}`);
  const id = rec.id as VideoId;
  const where = `${at} (video ${key})`;
  if (rec.name !== undefined && rec.name !== null && typeof rec.name !== 'string') throw videoError(`${where}: name must be a string`, { videoId: id });
  const dims = [rec.width, rec.height].map((x) => (x === undefined || x === null ? null : x));
  if ((dims[0] === null) !== (dims[1] === null)) throw videoError(`${where}: width and height go together`, { videoId: id });
  if (dims[0] !== null && !(posInt(dims[0]) && posInt(dims[1]))) {
    throw videoError(`${where}: width and height must be positive integers; received ${v.describe(rec.width)}, ${v.describe(rec.height)}`, { videoId: id });
  }
  const gsd = rec.target_gsd;
  if (gsd !== undefined && gsd !== null && !(typeof gsd === 'number' && Number.isFinite(gsd) && gsd > 0)) {
    throw videoError(`${where}: target_gsd must be a positive number; received ${v.describe(gsd)}`, { videoId: id });
  }
  return {
    id, name: typeof rec.name === 'string' ? rec.name : null, width: dims[0] as number | null, height: dims[1] as number | null,
    targetGsd: typeof gsd === 'number' ? gsd : null,
  };
}

/** A frame's warp_img_to_vid as an invertible affine (identity when absent); ERR_VIDEO otherwise. */
function frameWarp(given: unknown, at: string): M3 {
  if (given === undefined || given === null) return IDENTITY;
  try {
    return parseAffine(cocoWarp(given, `${at} warp_img_to_vid`), `${at} warp_img_to_vid`);
  } catch (err) {
    if (err instanceof FramesError && err.code === 'ERR_PATHINFO') throw videoError(err.message.replace(/warpAuxToImg/g, 'warp_img_to_vid'));
    throw err;
  }
}
