/**
 * `ndsampler show`'s space-time samples: each window of T frames drawn as a strip (its frames
 * left to right, each with that frame's labels), one strip per row (lib/labels/draw.ts). Either
 * one whole video (`--video ID`: every frame, or the first --frames, over its full extent) or the
 * first --count track windows of --frames x --size x --size (positives). Calling thread.
 */
import type { CocoSampler } from '../labels/coco-sampler';
import { contactSheet, drawLabels, toRgb8 } from '../labels/draw';
import type { NDArray } from '../ndarray';
import type { VideoId } from '../labels/videos';
import { UsageError } from './args';

export interface StripOptions {
  video: string | undefined;
  frames: number | undefined;
  count: number;
  size: number;
}

/** The strips as one sheet, and how many windows, frames and labels it shows. */
export async function videoStrips(sampler: CocoSampler, o: StripOptions): Promise<{ sheet: NDArray; windows: number; frames: number; labels: number }> {
  if (sampler.videoIds.length === 0) throw new UsageError('the dataset has no videos (drop --video / --frames)');
  let targets;
  if (o.video !== undefined) {
    const key = o.video;
    const id: VideoId | undefined = sampler.videoIds.find((i) => String(i) === key);
    if (id === undefined) throw new UsageError(`--video ${key}: the dataset has no video of that id`);
    const n = sampler.videoFrames(id).length;
    targets = [{ videoId: id, timeSlice: [0, Math.min(n, o.frames ?? n)] as [number, number] }];
  } else {
    const t = o.frames ?? 5;
    targets = sampler.positives({ windowDims: [t, o.size, o.size] }).slice(0, o.count);
    if (targets.length === 0) targets = sampler.negatives({ count: o.count, windowDims: [t, o.size, o.size] });
    if (targets.length === 0) throw new UsageError('the dataset gives no video samples');
  }
  const tiles: NDArray[] = [];
  let labels = 0;
  let T = 1;
  for (const target of targets) {
    const s = await sampler.loadSampleAsync(target as Parameters<CocoSampler['loadSampleAsync']>[0] & { videoId: VideoId });
    const [nt, h, w, c] = s.im.dims;
    T = nt;
    for (let k = 0; k < nt; k++) {
      const rgb = toRgb8({ data: s.im.data.subarray(k * h * w * c, (k + 1) * h * w * c), shape: [h, w, c], strides: [w * c, c, 1], offset: 0, dtype: s.im.dtype });
      drawLabels(rgb, s.annotations[k]);
      labels += s.annotations[k].ids.length;
      tiles.push(rgb);
    }
  }
  return { sheet: contactSheet(tiles, T), windows: targets.length, frames: tiles.length, labels };
}
