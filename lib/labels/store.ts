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
  /**
   * By id as given (a number and a string are different ids): the usual ids, integers 0 ..
   * #numLimit, in an array (a Map of 10^6 ids cost half a second to fill), the others in a Map.
   */
  readonly #byNum: Array<Annotation | undefined>;
  readonly #numLimit: number;
  readonly #byId = new Map<AnnotationId, Annotation>();
  #count = 0;
  readonly #byImage = new Map<string, Annotation[]>();
  /**
   * Every kept annotation's box as x0, y0, x1, y1, in the order kept (written in the parsing
   * pass, while each annotation is at hand), and per image the positions of its annotations in
   * it: an index is built from these, without visiting 10^6 annotation objects again.
   */
  readonly #flat: Float64Array;
  readonly #seq = new Map<string, number[]>();
  readonly #index = new Map<string, BoxIndex>();
  readonly #sizes = new Map<string, [number, number]>();

  constructor(dataset: CocoDataset, frames: CocoFrames, skip: boolean) {
    this.#frames = frames;
    const where = frames.datasetPath ?? 'the dataset';
    this.categories = parseCategories(dataset.categories, where);
    for (const c of this.categories) this.#cats.add(c.id);
    for (const id of frames.imageIds) {
      this.#byImage.set(idKey(id), []);
      this.#seq.set(idKey(id), []);
    }
    const list = dataset.annotations;
    if (list !== undefined && list !== null && !Array.isArray(list)) {
      throw new FramesError('ERR_ANNOTATION', `${where}: 'annotations' must be a list`, { annotationId: null });
    }
    // Annotations usually come image by image: the last image's lists are kept at hand.
    let lastImage: unknown;
    let lastList: Annotation[] | undefined;
    let lastSeq: number[] | undefined;
    const listOf = (id: ImageId): Annotation[] | undefined => {
      if (id !== lastImage) {
        lastImage = id;
        const key = typeof id === 'number' || typeof id === 'string' ? idKey(id) : undefined;
        lastList = key === undefined ? undefined : this.#byImage.get(key);
        lastSeq = key === undefined ? undefined : this.#seq.get(key);
      }
      return lastList;
    };
    const ctx = {
      hasImage: (id: ImageId) => listOf(id) !== undefined,
      hasCategory: (id: number) => this.#cats.has(id),
      imageSize: (id: ImageId) => this.#declaredSize(id),
    };
    const anns = (list ?? []) as unknown[];
    this.#numLimit = 2 * anns.length + 1024;
    this.#byNum = new Array(this.#numLimit);
    const flat = new Float64Array(4 * anns.length);
    let kept = 0;
    for (let i = 0; i < anns.length; i++) {
      try {
        const a = parseAnnotation(anns[i], i, ctx);
        if (this.get(a.id) !== undefined) throw annotationError(a.id, 'its id is given twice');
        if (this.#isNum(a.id)) this.#byNum[a.id as number] = a;
        else this.#byId.set(a.id, a);
        this.#count++;
        (listOf(a.imageId) as Annotation[]).push(a);
        (lastSeq as number[]).push(kept);
        const b = a.box;
        flat[4 * kept] = b[0];
        flat[4 * kept + 1] = b[1];
        flat[4 * kept + 2] = b[0] + b[2];
        flat[4 * kept + 3] = b[1] + b[3];
        kept++;
      } catch (err) {
        if (!skip || !(err instanceof FramesError)) throw err;
        this.skipped.push({ annotationId: (err as FramesError & { annotationId: AnnotationId | null }).annotationId, error: err });
      }
    }
    this.#flat = flat;
  }

  get size(): number {
    return this.#count;
  }

  /** Every kept annotation, in dataset order (image by image). */
  *all(): IterableIterator<Annotation> {
    for (const list of this.#byImage.values()) yield* list;
  }

  get(id: AnnotationId): Annotation | undefined {
    return this.#isNum(id) ? this.#byNum[id as number] : this.#byId.get(id);
  }

  #isNum(id: AnnotationId): boolean {
    return typeof id === 'number' && Number.isInteger(id) && id >= 0 && id < this.#numLimit;
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
      this.ofImage(imageId);  // ERR_UNKNOWN_IMAGE
      const seq = this.#seq.get(key) as number[];
      const n = seq.length;
      // A dataset listed image by image keeps each image's boxes together: a view, no copy.
      let boxes: Float64Array;
      if (n > 0 && seq[n - 1] - seq[0] === n - 1) {
        boxes = this.#flat.subarray(4 * seq[0], 4 * (seq[0] + n));
      } else {
        boxes = new Float64Array(4 * n);
        for (let i = 0; i < n; i++) boxes.set(this.#flat.subarray(4 * seq[i], 4 * seq[i] + 4), 4 * i);
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
