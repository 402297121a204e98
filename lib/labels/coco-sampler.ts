/**
 * CocoSampler [ndsampler.coco_sampler.CocoSampler]: samples of a COCO / kwcoco dataset with their
 * labels. It holds a CocoFrames (the pixels) and a LabelStore (categories, annotations, a spatial
 * index per image); targets.ts resolves targets into windows, sample.ts reads one sample,
 * labeled-batch.ts many, regions.ts plans positives / negatives / grids and stream.ts streams
 * labeled batches. Every method runs on the calling thread; pixel and mask work of the async
 * methods runs on the addon's pool.
 */
import type { ImageId } from '../cache/config';
import { CocoFrames } from '../frames/coco-frames';
import type { CocoDataset, CocoFramesOptions } from '../frames/coco-frames';
import * as v from '../validate';
import type { AnnotationId, Category } from './annotations';
import { LabelStore } from './store';
import type { SkippedAnnotation } from './store';

export interface CocoSamplerOptions extends CocoFramesOptions {
  /** 'throw' (default): a malformed annotation is FramesError ERR_ANNOTATION; 'skip': it is left out and listed in `skipped`. */
  onInvalid?: 'throw' | 'skip';
}

/** An annotation box [x, y, w, h] in pixel-edge coordinates (COCO's bbox). */
export type Box = [x: number, y: number, w: number, h: number];

const FRAMES_OPTION_KEYS = ['bundleDpath', 'dequantize', 'hashidMode', 'workdir', 'backend', 'maxReaders'] as const;

/** A box argument, checked: four finite numbers, w and h >= 0. */
export function checkBox(box: unknown, name: string): Box {
  if (!Array.isArray(box) || box.length !== 4) throw v.typeError('a box [x, y, w, h]', name, box);
  const b = box.map((x, i) => {
    const n = v.number(x, `${name}[${i}]`);
    if (!Number.isFinite(n)) throw v.rangeError('a finite number', `${name}[${i}]`, x);
    return n;
  }) as Box;
  if (b[2] < 0 || b[3] < 0) throw v.rangeError('a box with w, h >= 0', name, box);
  return b;
}

export function checkThresh(x: unknown, name: string): number {
  if (x === undefined) return 0;
  const t = v.number(x, name);
  if (!(t >= 0 && t <= 1)) throw v.rangeError('a number in [0, 1]', name, x);
  return t;
}

export class CocoSampler {
  readonly frames: CocoFrames;
  /** @internal the parsed labels (lib/labels/*) */
  readonly store: LabelStore;

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
}
