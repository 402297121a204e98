/**
 * LabelStore: a dataset's categories and parsed annotations (annotations.ts), grouped by image,
 * with a spatial index per image (spatial.ts, built on first use of that image) and the image
 * sizes. CocoSampler's data; runs on the calling thread.
 */
import type { ImageId } from '../cache/config';
import { FramesError } from '../errors';
import type { CocoDataset } from '../frames/coco-frames';
import type { CocoFrames } from '../frames/coco-frames';
import { idKey } from '../frames/pathinfo';
import { annotationError, parseAnnotation, parseCategories } from './annotations';
import type { Annotation, AnnotationId, Category } from './annotations';
import { BoxIndex } from './spatial';

export interface SkippedAnnotation {
  /** The annotation's id (null when it has none). */
  annotationId: AnnotationId | null;
  /** Why (FramesError ERR_ANNOTATION). */
  error: FramesError;
}


export class LabelStore {
  readonly categories: Category[];
  readonly skipped: SkippedAnnotation[] = [];
  readonly #frames: CocoFrames;
  readonly #cats = new Set<number>();
  /** By id as given (a number and a string are different ids). */
  readonly #byId = new Map<AnnotationId, Annotation>();
  readonly #byImage = new Map<string, Annotation[]>();
  readonly #index = new Map<string, BoxIndex>();
  readonly #sizes = new Map<string, [number, number]>();

  constructor(dataset: CocoDataset, frames: CocoFrames, skip: boolean) {
    this.#frames = frames;
    const where = frames.datasetPath ?? 'the dataset';
    this.categories = parseCategories(dataset.categories, where);
    for (const c of this.categories) this.#cats.add(c.id);
    for (const id of frames.imageIds) this.#byImage.set(idKey(id), []);
    const list = dataset.annotations;
    if (list !== undefined && list !== null && !Array.isArray(list)) {
      throw new FramesError('ERR_ANNOTATION', `${where}: 'annotations' must be a list`, { annotationId: null });
    }
    // Annotations usually come image by image: the last image's list is kept at hand.
    let lastImage: unknown;
    let lastList: Annotation[] | undefined;
    const listOf = (id: ImageId): Annotation[] | undefined => {
      if (id !== lastImage) {
        lastImage = id;
        lastList = typeof id === 'number' || typeof id === 'string' ? this.#byImage.get(idKey(id)) : undefined;
      }
      return lastList;
    };
    const ctx = {
      hasImage: (id: ImageId) => listOf(id) !== undefined,
      hasCategory: (id: number) => this.#cats.has(id),
      imageSize: (id: ImageId) => this.#declaredSize(id),
    };
    const anns = (list ?? []) as unknown[];
    for (let i = 0; i < anns.length; i++) {
      try {
        const a = parseAnnotation(anns[i], i, ctx);
        if (this.#byId.has(a.id)) throw annotationError(a.id, 'its id is given twice');
        this.#byId.set(a.id, a);
        (listOf(a.imageId) as Annotation[]).push(a);
      } catch (err) {
        if (!skip || !(err instanceof FramesError)) throw err;
        this.skipped.push({ annotationId: (err as FramesError & { annotationId: AnnotationId | null }).annotationId, error: err });
      }
    }
  }

  get size(): number {
    return this.#byId.size;
  }

  /** Every kept annotation, in dataset order (image by image). */
  *all(): IterableIterator<Annotation> {
    for (const list of this.#byImage.values()) yield* list;
  }

  get(id: AnnotationId): Annotation | undefined {
    return this.#byId.get(id);
  }

  hasCategory(id: number): boolean {
    return this.#cats.has(id);
  }

  /** The annotations of an image, in dataset order (ERR_UNKNOWN_IMAGE for an unknown id). */
  ofImage(imageId: ImageId): Annotation[] {
    const list = this.#byImage.get(idKey(imageId));
    if (list === undefined) {
      this.#frames.image(imageId);  // throws ERR_UNKNOWN_IMAGE
      throw new FramesError('ERR_UNKNOWN_IMAGE', `unknown image id ${String(imageId)}`);
    }
    return list;
  }

  /** The image's box index (built on first use). */
  index(imageId: ImageId): BoxIndex {
    const key = idKey(imageId);
    let ix = this.#index.get(key);
    if (ix === undefined) {
      const list = this.ofImage(imageId);
      const boxes = new Float64Array(list.length * 4);
      for (let i = 0; i < list.length; i++) {
        const b = list[i].box;
        boxes[4 * i] = b[0];
        boxes[4 * i + 1] = b[1];
        boxes[4 * i + 2] = b[0] + b[2];
        boxes[4 * i + 3] = b[1] + b[3];
      }
      ix = new BoxIndex(boxes);
      this.#index.set(key, ix);
    }
    return ix;
  }

  /** The annotations of an image whose visibility in window (x0, y0, x1, y1) exceeds `thresh`. */
  overlapping(imageId: ImageId, x0: number, y0: number, x1: number, y1: number, thresh: number, vis?: number[]): Annotation[] {
    const list = this.ofImage(imageId);
    return this.index(imageId).query(x0, y0, x1, y1, thresh, vis).map((k) => list[k]);
  }

  /** The summed area of the image's annotation boxes inside window (x0, y0, x1, y1). */
  overlapArea(imageId: ImageId, x0: number, y0: number, x1: number, y1: number): number {
    return this.index(imageId).overlapArea(x0, y0, x1, y1);
  }

  #declaredSize(imageId: ImageId): [number, number] | null {
    const img = this.#frames.image(imageId);
    const ok = (n: unknown) => typeof n === 'number' && Number.isInteger(n) && n > 0;
    return ok(img.height) && ok(img.width) ? [img.height as number, img.width as number] : null;
  }

  /** The image's [height, width]: the dataset's, else its file's header (read once). */
  imageSize(imageId: ImageId): [number, number] {
    const key = idKey(imageId);
    let s = this.#sizes.get(key);
    if (s === undefined) {
      s = this.#declaredSize(imageId) ?? (this.#frames.loadFrame(imageId).shape.slice(0, 2) as [number, number]);
      this.#sizes.set(key, s);
    }
    return s;
  }
}
