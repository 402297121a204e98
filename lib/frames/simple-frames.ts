/**
 * SimpleFrames: one file per image, given as an id -> path mapping; and its demo dataset.
 * Runs on the calling thread.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ImageId, Pathinfo } from '../cache/config';
import { FramesError, fsError, NdsamplerError } from '../errors';
import { makeDirs } from '../atomic';
import { writeRaster } from '../gdal';
import { allocate } from '../ndarray';
import type { NDArray } from '../ndarray';
import * as v from '../validate';
import { Frames } from './frames';
import { IdMap } from './id-map';
import { defaultWorkdir, idKey } from './pathinfo';
import type { FramesOptions } from './types';

/** The channel group name of a SimpleFrames image (its one file). */
export const DEFAULT_CHANNEL = 'default';

/** SimpleFrames takes the Frames options (its own name, so it can grow without breaking callers). */
export type SimpleFramesOptions = FramesOptions;

/** Record keys that are canonical integers ('1', '-3') become number ids; others stay strings. */
function recordId(key: string): ImageId {
  return /^(0|-?[1-9]\d{0,14})$/.test(key) ? Number(key) : key;
}

export class SimpleFrames extends Frames {
  /** Paths by id, in insertion order. */
  readonly #paths = new IdMap<string>();

  /**
   * @param idToPath image id -> image path (an object, whose integer-like keys become number ids,
   *   or a Map, whose keys are used as they are)
   */
  constructor(idToPath: Record<string, string> | Map<ImageId, string>, opts?: SimpleFramesOptions) {
    super(opts);
    let entries: Array<[ImageId, unknown]>;
    if (idToPath instanceof Map) entries = [...idToPath.entries()];
    else if (v.isPlainObject(idToPath)) entries = Object.entries(idToPath).map(([k, p]) => [recordId(k), p]);
    else throw v.typeError('an object or Map of image id -> path', 'idToPath', idToPath);
    for (const [id, p] of entries) this.#paths.add(id, v.string(p, `idToPath[${idKey(id)}]`));
  }

  /** The ids in insertion order (a frozen array: O(1), shared between calls). */
  get imageIds(): ImageId[] {
    return this.#paths.ids;
  }

  override get length(): number {
    return this.#paths.size;
  }

  override hasImage(imageId: ImageId): boolean {
    return this.#paths.has(imageId);
  }

  /** The path of an image as given. */
  lookupGpath(imageId: ImageId): string {
    const p = this.#paths.get(imageId);
    if (p === undefined) throw this.unknownImage(imageId);
    return p;
  }

  protected buildPathinfo(imageId: ImageId): Pathinfo {
    const gpath = this.lookupGpath(imageId);
    const chan = { path: gpath, channels: null };
    this.populateChanInfo(chan);
    return { id: imageId, channels: { [DEFAULT_CHANNEL]: chan }, default: DEFAULT_CHANNEL };
  }

  protected override toState(): Array<[ImageId, string]> {
    return this.#paths.ids.map((id) => [id, this.#paths.get(id) as string]);
  }

  static fromState(state: unknown, opts: FramesOptions): SimpleFrames {
    if (!Array.isArray(state) || !state.every((e) => Array.isArray(e) && e.length === 2)) {
      throw new FramesError('ERR_FRAMES_JSON', 'SimpleFrames state must be an array of [id, path] pairs');
    }
    return new SimpleFrames(new Map(state as Array<[ImageId, string]>), opts);
  }

  /**
   * A SimpleFrames over the demo images, made on first use in `<workdir>/demo_images/`
   * (deterministic RGB uint8 PNGs; image 1 is 512x512, images 2 and 3 are 384x256 and 200x300).
   * `workdir` defaults to `<per-user cache>/demo`; `backend` to null.
   */
  static demo(opts?: { workdir?: string; backend?: FramesOptions['backend']; hashidMode?: FramesOptions['hashidMode'] }): SimpleFrames {
    const o = v.options(opts, 'options', ['workdir', 'backend', 'hashidMode'] as const);
    const workdir = o.workdir === undefined ? path.join(defaultWorkdir(), 'demo') : path.resolve(v.string(o.workdir, 'options.workdir'));
    const paths = ensureDemoImages(path.join(workdir, 'demo_images'));
    return new SimpleFrames(new Map(paths.map((p, i) => [i + 1, p])), {
      workdir, backend: o.backend as FramesOptions['backend'], hashidMode: o.hashidMode as FramesOptions['hashidMode'],
    });
  }
}

Frames.register(SimpleFrames);

/** [height, width] of the demo images, by id - 1. */
export const DEMO_SHAPES: ReadonlyArray<readonly [number, number]> = [[512, 512], [384, 256], [200, 300]];
const DEMO_VERSION = 1;

/** A deterministic RGB uint8 test image: gradients, a checkerboard, a disc and seeded noise. */
export function demoImage(index: number, height: number, width: number): NDArray {
  const a = allocate([height, width, 3], 'uint8');
  const d = a.data as Uint8Array;
  let s = (0x9e3779b9 ^ (index * 0x85ebca6b)) >>> 0;
  const cy = height * (0.3 + 0.1 * index);
  const cx = width * (0.6 - 0.1 * index);
  const r2 = (Math.min(height, width) / 4) ** 2;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
      const noise = (s & 15) - 8;
      const disc = (y - cy) ** 2 + (x - cx) ** 2 < r2;
      const check = ((x >> 5) + (y >> 5)) & 1;
      const i = (y * width + x) * 3;
      d[i] = Math.max(0, Math.min(255, Math.round((x * 255) / Math.max(1, width - 1)) + noise));
      d[i + 1] = Math.max(0, Math.min(255, Math.round((y * 255) / Math.max(1, height - 1)) - noise));
      d[i + 2] = disc ? 230 - index * 20 : check ? 40 + index * 30 : 120;
    }
  }
  return a;
}

/** Writes the demo PNGs into `dir` (atomically, once) and returns their paths. */
export function ensureDemoImages(dir: string): string[] {
  try {
    makeDirs(dir);
  } catch (err) {
    throw err instanceof NdsamplerError ? err : fsError(err, dir, 'mkdir');
  }
  return DEMO_SHAPES.map(([h, w], i) => {
    const file = path.join(dir, `demo${DEMO_VERSION}_${i + 1}_${h}x${w}.png`);
    // writeRaster publishes by the atomic rule (temp file + rename), so concurrent demos are safe.
    if (!fs.existsSync(file)) writeRaster(file, demoImage(i + 1, h, w), { driver: 'PNG' });
    return file;
  });
}
