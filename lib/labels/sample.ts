/**
 * CocoSampler.loadSample / loadSampleAsync: one target's pixels and labels. The pixels are one
 * crop of the batch engine (lib/frames/batch-plan.ts readPlanned), the same as that target's crop
 * of a labeled batch: the window read boundless at S's size (a single-file image by the nearest
 * rule, from COG overviews when reduced; an image of several files by the multi-file sampler with
 * `interpolation`) and turned as it is written. Runs on the calling thread (loadSampleAsync opens
 * files on the libuv pool and reads on the addon's pool).
 */
import { IMAGE_TABLE } from '../frames/images';
import { readPlanned, readPlannedAsync } from '../frames/batch-plan';
import type { CropOptions } from '../frames/batch-plan';
import type { CocoFrames } from '../frames/coco-frames';
import type { NDArray } from '../ndarray';
import * as v from '../validate';
import { checkThresh } from './checks';
import { sampleLabels, visibleAnnotations } from './geometry';
import type { SampleAnnotations } from './geometry';
import type { LabelStore } from './store';
import { cropRequest, resolveTarget } from './targets';
import type { Resolved, Target } from './targets';

export interface SampleOptions {
  /** Annotations whose box is visible above this fraction (default 0: any overlap). */
  visibleThresh?: number;
  /** The raw pixel value past the image border (default 0). */
  fill?: number;
  /** How images of several files are resampled (default 'nearest'; as Frames.loadBatch). */
  interpolation?: 'nearest' | 'linear';
  /** With 'linear': blur a file read at a reduced resolution first (default true). */
  antialias?: boolean;
}

export interface Sample {
  im: NDArray;
  /** The target, resolved (imageId, region, windowDims, ... filled in). */
  target: Target;
  /** One entry (one frame). */
  annotations: SampleAnnotations[];
  /** 3x3 row-major: sample pixel coordinates -> image pixel coordinates. */
  transform: number[];
}

const SAMPLE_KEYS = ['visibleThresh', 'fill', 'interpolation', 'antialias'] as const;

export interface Checked {
  thresh: number;
  crop: CropOptions;
}

/** loadSample's options, checked (video-sample.ts checks its own here too). */
export function checkOptions(opts: unknown): Checked {
  const o = v.options(opts, 'options', SAMPLE_KEYS);
  const fill = o.fill === undefined ? 0 : v.number(o.fill, 'options.fill');
  const interpolation = o.interpolation === undefined ? 'nearest' : v.oneOf(o.interpolation, 'options.interpolation', ['nearest', 'linear'] as const);
  const antialias = o.antialias === undefined ? true : v.boolean(o.antialias, 'options.antialias');
  return {
    thresh: checkThresh(o.visibleThresh, 'options.visibleThresh'),
    crop: { boundless: true, fill, scale: 1, channels: undefined, interpolation, antialias },
  };
}

function assemble(store: LabelStore, r: Resolved, im: NDArray, c: Checked): Sample {
  const { anns, vis } = visibleAnnotations(store, r, c.thresh);
  return { im, target: r.target, annotations: sampleLabels([{ r, anns, vis }]), transform: [...r.toImage, 0, 0, 1] };
}

export function loadSample(store: LabelStore, frames: CocoFrames, target: unknown, opts: unknown): Sample {
  const c = checkOptions(opts);
  const r = resolveTarget(store, target, 'target');
  const { request, parsed, crop } = cropRequest(r, c.crop);
  return assemble(store, r, readPlanned(frames[IMAGE_TABLE](), request, parsed, crop), c);
}

export async function loadSampleAsync(store: LabelStore, frames: CocoFrames, target: unknown, opts: unknown): Promise<Sample> {
  const c = checkOptions(opts);
  const r = resolveTarget(store, target, 'target');
  const { request, parsed, crop } = cropRequest(r, c.crop);
  return assemble(store, r, await readPlannedAsync(frames[IMAGE_TABLE](), request, parsed, crop), c);
}
