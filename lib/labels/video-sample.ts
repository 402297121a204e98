/**
 * CocoSampler.loadSample / loadSampleAsync of a video target: a T x H x W x C window in video
 * space (VideoArray) and one SampleAnnotations per frame. Every frame is one crop of the batch
 * engine (video-targets.ts frameCrops: a frame on the video grid as an image window, any other
 * through its warp by the multi-file sampler, a padded frame all `fill`), all T written by one
 * native call into one buffer: loadSample on the calling thread (files opened there),
 * loadSampleAsync through loadCrops (files opened on the libuv pool, crops on the addon's pool).
 * The labels are worked out on the calling thread: each frame's annotations whose box is visible
 * in the window's box in that image, mapped image -> video -> sample.
 */
import type { ImageId } from '../cache/config';
import { NdsamplerError, RegionError } from '../errors';
import { ReaderPins } from '../cache/entry-reader';
import { loadCrops } from '../frames/batch';
import { runSync } from '../frames/batch-native';
import type { CropPlan } from '../frames/batch-native';
import { planItemBlocking } from '../frames/batch-plan';
import type { Holds } from '../frames/batch-plan';
import type { CocoFrames } from '../frames/coco-frames';
import { IMAGE_TABLE } from '../frames/images';
import { allocate } from '../ndarray';
import type { DType, TypedArray } from '../ndarray';
import * as v from '../validate';
import { emptyAnnotations, sampleLabels, visibleAnnotations } from './geometry';
import type { CropLabels, SampleAnnotations } from './geometry';
import { checkOptions } from './sample';
import type { Checked } from './sample';
import type { LabelStore } from './store';
import type { Target } from './targets';
import { frameCrops, resolveVideoTarget } from './video-targets';
import type { ResolvedVideo } from './video-targets';
import type { VideoIndex } from './videos';

/** A space-time window: `dims` [T, H, W, C], C-contiguous, of `dtype`. */
export interface VideoArray {
  data: TypedArray;
  dims: [number, number, number, number];
  dtype: DType;
}

/** A video sample: a Sample whose `im` is a VideoArray, with one SampleAnnotations per frame. */
export interface VideoSample {
  im: VideoArray;
  /** The target, resolved (videoId, timeSlice or imageIds, the window). */
  target: Target;
  /** One per frame (a padded frame has none). */
  annotations: SampleAnnotations[];
  /** 3x3 row-major: sample pixel coordinates -> video pixel coordinates. */
  transform: number[];
  /** Per frame, its image id (null: a padded frame, all `fill`). */
  imageIds: Array<ImageId | null>;
  /** Per frame, sample pixel coordinates -> that image's pixel coordinates (3x3 row-major; null when padded). */
  frameTransforms: Array<number[] | null>;
}

/** Each frame's labels in sample coordinates (a padded frame: none). */
export function frameLabels(store: LabelStore, rv: ResolvedVideo, thresh: number): SampleAnnotations[] {
  // One sampleLabels call for the whole window (its labels are views of one array).
  const crops: CropLabels[] = [];
  for (const fr of rv.frames) if (fr !== null) crops.push({ r: fr, ...visibleAnnotations(store, fr, thresh) });
  const mapped = sampleLabels(crops);
  let k = 0;
  return rv.frames.map((fr) => (fr === null ? emptyAnnotations() : mapped[k++]));
}

function assemble(store: LabelStore, rv: ResolvedVideo, im: VideoArray, c: Checked): VideoSample {
  return {
    im, target: rv.target, annotations: frameLabels(store, rv, c.thresh), transform: [...rv.space.toImage, 0, 0, 1],
    imageIds: rv.imageIds.slice(), frameTransforms: rv.frames.map((fr) => (fr === null ? null : [...fr.toImage, 0, 0, 1])),
  };
}

/** The one shape and dtype of a window's planned frames (ERR_REGION / ERR_UNSUPPORTED when they differ). */
function common(plans: CropPlan[], rv: ResolvedVideo): { shape: [number, number, number]; dtype: DType } {
  const [H, W, C] = plans[0].shape;
  const dtype = plans[0].dtype;
  plans.forEach((p, t) => {
    if (p.shape[2] !== C || p.shape[0] !== H || p.shape[1] !== W) {
      throw new RegionError('ERR_REGION', v.message(`${C} channels (frame 0's)`, `frame ${t} (image ${String(rv.refs[t].imageId)}) channels`, p.shape[2]));
    }
    if (p.dtype !== dtype) {
      throw new NdsamplerError('ERR_UNSUPPORTED', `the frames of the window have different dtypes (frame 0 '${dtype}', frame ${t} of image ${String(rv.refs[t].imageId)} '${p.dtype}')`);
    }
  });
  return { shape: [H, W, C], dtype };
}

export function loadVideoSample(store: LabelStore, videos: VideoIndex, frames: CocoFrames, target: unknown, opts: unknown): VideoSample {
  const c = checkOptions(opts);
  const rv = resolveVideoTarget(store, videos, target, 'target');
  const images = frames[IMAGE_TABLE]();
  const holds: Holds = { leases: [], pins: new ReaderPins() };
  try {
    const plans = frameCrops(rv, c.crop).map((q) => planItemBlocking(images, q.request, q.parsed, q.crop, holds));
    const { shape: [H, W, C], dtype } = common(plans, rv);
    const T = plans.length;
    const data = allocate([T, H * W, C], dtype).data;
    runSync(plans, [H, W, C], plans[0].fill, { dtype, layout: 'NHWC', normalize: null, fillOnError: false, out: data });
    return assemble(store, rv, { data, dims: [T, H, W, C], dtype }, c);
  } finally {
    holds.pins.release();
    for (const l of holds.leases) l.release();
  }
}

export async function loadVideoSampleAsync(store: LabelStore, videos: VideoIndex, frames: CocoFrames, target: unknown, opts: unknown): Promise<VideoSample> {
  const c = checkOptions(opts);
  const rv = resolveVideoTarget(store, videos, target, 'target');
  const b = await loadCrops(frames[IMAGE_TABLE](), frameCrops(rv, c.crop), {
    layout: 'NHWC', dtype: undefined, normalize: null, fill: c.crop.fill, out: undefined, fillOnError: false, signal: undefined,
  });
  const [T, H, W, C] = b.dims;
  return assemble(store, rv, { data: b.data, dims: [T, H, W, C], dtype: b.dtype }, c);
}
