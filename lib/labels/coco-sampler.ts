/**
 * CocoSampler [ndsampler.coco_sampler.CocoSampler]: samples of a COCO / kwcoco dataset with their
 * labels. It holds a CocoFrames (the pixels) and a LabelStore (categories, annotations, a spatial
 * index per image); targets.ts resolves targets into windows, sample.ts reads one sample,
 * labeled-batch.ts many, regions.ts plans positives / negatives / grids and stream.ts streams
 * labeled batches; video targets, plans with windowDims [t, h, w] and video streams go to the
 * video-*.ts files (over videos.ts's VideoIndex). Every method runs on the calling thread; pixel
 * and mask work of the async methods runs on the addon's pool.
 */
import * as path from 'node:path';
import type { ImageId } from '../cache/config';
import { defaultWorkdir } from '../frames/pathinfo';
import type { FramesOptions } from '../frames/types';
import { CocoFrames } from '../frames/coco-frames';
import type { CocoDataset, CocoFramesOptions } from '../frames/coco-frames';
import type { DType } from '../ndarray';
import * as v from '../validate';
import type { AnnotationId, Category } from './annotations';
import { checkBox, checkThresh } from './checks';
import { ensureShapesDemo } from './demo';
import type { Box } from './checks';
import { loadLabeledBatch } from './labeled-batch';
import type { LabeledBatch, LabeledBatchOptions } from './labeled-batch';
import { negatives, positives, sampleGrid } from './regions';
import { loadSample, loadSampleAsync } from './sample';
import type { Sample, SampleOptions } from './sample';
import { LabelStore } from './store';
import { createStream } from './stream';
import type { StreamOptions } from './stream';
import type { Sampler } from '../frames/sampler';
import type { Target, WindowDims } from './targets';
import type { SkippedAnnotation } from './store';
import { VideoIndex } from './videos';
import type { Video, VideoId } from './videos';
import { isVideoTarget } from './video-targets';
import { loadVideoSample, loadVideoSampleAsync } from './video-sample';
import type { VideoSample } from './video-sample';
import { loadVideoBatch } from './video-batch';
import type { VideoBatchOptions, VideoLabeledBatch } from './video-batch';
import { negativesOf, positivesOf, sampleGridOf, wantsVideo } from './video-regions';
import { createVideoStream } from './video-stream';
import { ensureVideoDemo } from './video-demo';

/** A video target: a window of frames of one video (videoId and/or imageIds). */
export type VideoTarget = Target & ({ videoId: VideoId } | { imageIds: ImageId[] });

/** CocoSampler.stream's options for videos: windowDims [t, h, w] and a video layout. */
export type VideoStreamOptions<D extends DType = DType> = Omit<StreamOptions<D>, 'windowDims' | 'layout'> & {
  windowDims: [t: number, h: number, w: number];
  layout?: VideoBatchOptions['layout'];
};

export interface CocoSamplerOptions extends CocoFramesOptions {
  /** 'throw' (default): a malformed annotation is FramesError ERR_ANNOTATION; 'skip': it is left out and listed in `skipped`. */
  onInvalid?: 'throw' | 'skip';
}

const FRAMES_OPTION_KEYS = ['bundleDpath', 'dequantize', 'hashidMode', 'workdir', 'backend', 'maxReaders'] as const;

export class CocoSampler {
  readonly frames: CocoFrames;
  /** @internal the parsed labels (lib/labels/*) */
  readonly store: LabelStore;
  /** @internal the dataset's videos and frames (lib/labels/videos.ts) */
  readonly videoIndex: VideoIndex;

  /**
   * @param dataset a `.json` / `.kwcoco.json` path, the parsed dataset, or a CocoFrames over it
   * @param opts CocoFrames' options (not with a CocoFrames) and `onInvalid`
   */
  constructor(dataset: string | CocoDataset | CocoFrames, opts?: CocoSamplerOptions) {
    const o = v.options(opts, 'options', [...FRAMES_OPTION_KEYS, 'onInvalid'] as const);
    const onInvalid = o.onInvalid === undefined ? 'throw' : v.oneOf(o.onInvalid, 'options.onInvalid', ['throw', 'skip'] as const);
    if (dataset instanceof CocoFrames) {
      const given = FRAMES_OPTION_KEYS.find((k) => o[k] !== undefined);
      if (given !== undefined) throw v.typeError('no CocoFrames option with a CocoFrames (it has its own)', `options.${given}`, o[given]);
      this.frames = dataset;
    } else {
      const fo: Record<string, unknown> = {};
      for (const k of FRAMES_OPTION_KEYS) if (o[k] !== undefined) fo[k] = o[k];
      this.frames = new CocoFrames(dataset, fo as CocoFramesOptions);
    }
    this.store = new LabelStore(this.frames.dataset, this.frames, onInvalid === 'skip');
    this.videoIndex = new VideoIndex(this.frames.dataset, this.frames);
  }

  /**
   * A CocoSampler over a demo dataset, written on first use into `dpath`: kind 'shapes' (default;
   * labels/demo.ts: shapes of known colour and place on textured images, `<workdir>/demo-shapes/`)
   * or 'video' (labels/video-demo.ts: a multispectral video of moving shapes, frames at two
   * resolutions, `<workdir>/demo-video/`). `workdir` defaults to `<per-user cache>/demo`, `backend` to null.
   */
  static demo(opts?: { workdir?: string; dpath?: string; backend?: FramesOptions['backend']; kind?: 'shapes' | 'video' }): CocoSampler {
    const o = v.options(opts, 'options', ['workdir', 'dpath', 'backend', 'kind'] as const);
    const kind = o.kind === undefined ? 'shapes' : v.oneOf(o.kind, 'options.kind', ['shapes', 'video'] as const);
    const workdir = o.workdir === undefined ? path.join(defaultWorkdir(), 'demo') : path.resolve(v.string(o.workdir, 'options.workdir'));
    const dpath = o.dpath === undefined ? path.join(workdir, kind === 'video' ? 'demo-video' : 'demo-shapes') : path.resolve(v.string(o.dpath, 'options.dpath'));
    return new CocoSampler(kind === 'video' ? ensureVideoDemo(dpath) : ensureShapesDemo(dpath), { workdir, backend: o.backend as FramesOptions['backend'] });
  }

  /** The dataset's categories [{id, name, supercategory?}], in dataset order. */
  get categories(): Category[] {
    return this.store.categories.map((c) => ({ ...c }));
  }

  /** The annotations left out under `onInvalid: 'skip'`, with their errors. */
  get skipped(): SkippedAnnotation[] {
    return this.store.skipped.slice();
  }

  /** The image ids of the dataset, in order. */
  get imageIds(): ImageId[] {
    return this.frames.imageIds;
  }

  /** The video ids of the dataset, in order. */
  get videoIds(): VideoId[] {
    return this.videoIndex.ids;
  }

  /** A video's record (ERR_UNKNOWN_VIDEO for an unknown id); width and height filled in from its frames when the dataset has none. */
  video(videoId: VideoId): Video {
    const rec = this.videoIndex.video(videoId);
    const [height, width] = this.videoIndex.extent(videoId, (id) => this.store.imageSize(id));
    return { ...rec, width, height };
  }

  /** A video's frames (image ids) in order: frame_index, ties by image id. Positions here are timeSlice's. */
  videoFrames(videoId: VideoId): ImageId[] {
    return this.videoIndex.frames(videoId).map((f) => f.imageId);
  }

  /** The number of (kept) annotations. */
  get numAnnotations(): number {
    return this.store.size;
  }

  /** The annotations of an image as the dataset gives them (kept ones, dataset order). */
  annotations(imageId: ImageId): object[] {
    return this.store.ofImage(imageId).map((a) => a.raw);
  }

  /**
   * The ids of the annotations of an image whose box overlaps `box` ([x, y, w, h]) with a
   * visibility (the fraction of the annotation's box inside `box`) above `visibleThresh`
   * (default 0: any overlap of positive area), in dataset order.
   */
  overlapping(imageId: ImageId, box: Box, opts?: { visibleThresh?: number }): AnnotationId[] {
    const [x, y, w, h] = checkBox(box, 'box');
    const o = v.options(opts, 'options', ['visibleThresh'] as const);
    const thresh = checkThresh(o.visibleThresh, 'options.visibleThresh');
    return this.store.overlapping(imageId, x, y, x + w, y + h, thresh).map((a) => a.id);
  }

  /**
   * One target per annotation (dataset order), centred on its box; `jitter` (0..1) moves each
   * centre by up to jitter x half the window, seeded.
   */
  positives(opts?: { windowDims?: WindowDims | [t: number, h: number, w: number]; jitter?: number; seed?: number }): Target[] {
    return wantsVideo(opts) ? positivesOf(this.store, this.videoIndex, opts as Record<string, unknown>) : positives(this.store, opts);
  }

  /**
   * `count` random windows of `windowDims` that no annotation box overlaps by more than
   * `maxOverlap` of the window's area (default 0), seeded; fewer when the free space runs out.
   */
  negatives(opts: { count: number; windowDims: [number, number] | [number, number, number]; seed?: number; maxOverlap?: number }): Target[] {
    return wantsVideo(opts) ? negativesOf(this.store, this.videoIndex, opts as Record<string, unknown>) : negatives(this.store, this.frames.imageIds, opts);
  }

  /** Sliding windows over every image, split into those with annotations and those without. */
  sampleGrid(opts: { windowDims: [number, number] | [number, number, number]; overlap?: number; task?: 'image' | 'video' }): { positives: Target[]; negatives: Target[] } {
    return wantsVideo(opts) ? sampleGridOf(this.store, this.videoIndex, opts as Record<string, unknown>) : sampleGrid(this.store, this.frames.imageIds, opts);
  }

  /**
   * One sample: the target's pixels (HWC, the image's dtype; past the border `fill`), its labels
   * in sample coordinates and the sample -> image transform (targets.ts, docs/api.md).
   */
  loadSample(target: VideoTarget, opts?: SampleOptions): VideoSample;
  loadSample(target: Target, opts?: SampleOptions): Sample;
  loadSample(target: Target, opts?: SampleOptions): Sample | VideoSample {
    if (isVideoTarget(target)) return loadVideoSample(this.store, this.videoIndex, this.frames, target, opts);
    return loadSample(this.store, this.frames, target, opts);
  }

  /**
   * Many targets as one labeled batch: the pixel tensor of the batch engine (every crop read
   * boundless at its own size and orientation; all must come out of one size), the resolved
   * targets, each crop's annotations and, with `masks`, class or instance masks painted on the
   * addon's pool. `scale` is the default augment scale of the targets. Rejects, never throws.
   */
  loadBatch<D extends DType = DType>(targets: VideoTarget[], opts?: VideoBatchOptions<D>): Promise<VideoLabeledBatch<D>>;
  loadBatch<D extends DType = DType>(targets: Target[], opts?: LabeledBatchOptions<D>): Promise<LabeledBatch<D>>;
  loadBatch(targets: Target[], opts?: LabeledBatchOptions | VideoBatchOptions): Promise<LabeledBatch | VideoLabeledBatch> {
    if (Array.isArray(targets) && targets.length > 0 && isVideoTarget(targets[0])) return loadVideoBatch(this.store, this.videoIndex, this.frames, targets, opts);
    return loadLabeledBatch(this.store, this.frames, targets, opts);
  }

  /**
   * Labeled batches for a training loop (stream.ts): every positive and a share of negatives per
   * epoch, shuffled, augmented, split across ranks, seeded and resumable (`state()`); `prefetch`
   * batches in flight, their buffers recycled.
   */
  stream<D extends DType = DType>(opts: VideoStreamOptions<D>): Sampler<VideoLabeledBatch<D>>;
  stream<D extends DType = DType>(opts: StreamOptions<D>): Sampler<LabeledBatch<D>>;
  stream(opts: StreamOptions | VideoStreamOptions): Sampler<LabeledBatch> | Sampler<VideoLabeledBatch> {
    if (wantsVideo(opts)) return createVideoStream(this.store, this.videoIndex, this.frames, opts);
    return createStream(this.store, this.frames, opts);
  }

  /** loadSample with the read on the libuv pool; rejects (never throws). */
  loadSampleAsync(target: VideoTarget, opts?: SampleOptions): Promise<VideoSample>;
  loadSampleAsync(target: Target, opts?: SampleOptions): Promise<Sample>;
  loadSampleAsync(target: Target, opts?: SampleOptions): Promise<Sample | VideoSample> {
    try {
      if (isVideoTarget(target)) return loadVideoSampleAsync(this.store, this.videoIndex, this.frames, target, opts);
      return loadSampleAsync(this.store, this.frames, target, opts);
    } catch (err) {
      return Promise.reject(err);
    }
  }
}
