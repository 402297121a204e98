/**
 * CocoFrames [ndsampler.coco_frames.CocoFrames]: the images of a COCO / kwcoco dataset.
 *
 * An image is one `file_name`, or `auxiliary` and/or `assets` lists (both read, `auxiliary`
 * first, as kwcoco reads them), or both. Each file becomes one channel group of the image's
 * pathinfo, keyed by its `channels` spec, with its own cache entry and its `warpAuxToImg`
 * (kwcoco's `warp_aux_to_img` / `warp_img_from_asset`: a matrix or kwimage parameters, see
 * coco-warp.ts); AlignableImageData aligns and fuses them. Paths are relative to the bundle.
 * Runs on the calling thread (reading a dataset file is synchronous).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ChannelInfo, ImageId, Pathinfo } from '../cache/config';
import { FramesError, fsError } from '../errors';
import * as v from '../validate';
import { tryParseChannels } from './channels';
import { cocoWarp, inferredWarp } from './coco-warp';
import { Frames } from './frames';
import { IdMap } from './id-map';
import { defaultWorkdir } from './pathinfo';
import { ensureCocoDemo } from './coco-demo';
import type { Quantization } from './fused';
import type { FramesOptions } from './types';

export interface CocoFramesOptions extends FramesOptions {
  /** The folder file names are relative to (default: the dataset file's folder; cwd for an object). */
  bundleDpath?: string;
  /** Undo each asset's `quantization` (float32 out, `nodata` -> NaN). Default false: raw values. */
  dequantize?: boolean;
}

/** One file of a kwcoco image, as the dataset gives it. */
export interface CocoAsset {
  file_name: string;
  channels?: string | null;
  width?: number;
  height?: number;
  warp_aux_to_img?: unknown;
  warp_img_from_asset?: unknown;
  quantization?: Quantization;
  [key: string]: unknown;
}

export interface CocoImage {
  id: ImageId;
  file_name?: string | null;
  width?: number;
  height?: number;
  channels?: string | null;
  auxiliary?: CocoAsset[];
  assets?: CocoAsset[];
  [key: string]: unknown;
}

export interface CocoDataset {
  images: CocoImage[];
  [key: string]: unknown;
}

/** The channel group name of a file that declares no channels. */
export const COCO_DEFAULT_CHANNEL = 'default';

const OWN_KEYS = ['bundleDpath', 'dequantize'] as const;
const FRAMES_KEYS = ['hashidMode', 'workdir', 'backend', 'maxReaders'] as const;

const datasetError = (msg: string, file?: string) => new FramesError('ERR_PATHINFO', msg, file === undefined ? {} : { path: file });

/** Reads a dataset file (JSON). */
function readDataset(file: string): CocoDataset {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw fsError(err, file, 'open');
  }
  try {
    return JSON.parse(text) as CocoDataset;
  } catch (err) {
    throw datasetError(`'${file}' is not a JSON dataset: ${(err as Error).message}`, file);
  }
}

/** Splits CocoFrames' own options from the Frames ones (unknown keys are rejected by name). */
function splitOptions(opts: CocoFramesOptions | undefined): { own: Partial<Record<(typeof OWN_KEYS)[number], unknown>>; frames: FramesOptions } {
  const o = v.options(opts, 'options', [...OWN_KEYS, ...FRAMES_KEYS]);
  const frames: Record<string, unknown> = {};
  for (const k of FRAMES_KEYS) if (o[k] !== undefined) frames[k] = o[k];
  return { own: { bundleDpath: o.bundleDpath, dequantize: o.dequantize }, frames: frames as FramesOptions };
}

export class CocoFrames extends Frames {
  /** The dataset file (absolute), or null when the dataset was given as an object. */
  readonly datasetPath: string | null;
  readonly bundleDpath: string;
  readonly dequantize: boolean;
  readonly #dataset: CocoDataset;
  readonly #images = new IdMap<CocoImage>();

  /**
   * @param dataset a `.json` / `.kwcoco.json` path, or the parsed dataset (`{images: [...]}`)
   */
  constructor(dataset: string | CocoDataset, opts?: CocoFramesOptions) {
    const { own, frames } = splitOptions(opts);
    super(frames);
    let data: CocoDataset;
    if (typeof dataset === 'string') {
      this.datasetPath = path.resolve(dataset);
      data = readDataset(this.datasetPath);
    } else if (v.isPlainObject(dataset)) {
      this.datasetPath = null;
      data = dataset;
    } else {
      throw v.typeError('a dataset path or a parsed dataset object', 'dataset', dataset);
    }
    const where = this.datasetPath ?? 'the dataset';
    if (!v.isPlainObject(data) || !Array.isArray(data.images)) {
      throw datasetError(`${where} has no 'images' list`, this.datasetPath ?? undefined);
    }
    this.#dataset = data;
    this.bundleDpath = own.bundleDpath !== undefined ? path.resolve(v.string(own.bundleDpath, 'options.bundleDpath'))
      : this.datasetPath !== null ? path.dirname(this.datasetPath) : process.cwd();
    this.dequantize = own.dequantize === undefined ? false : v.boolean(own.dequantize, 'options.dequantize');
    data.images.forEach((img, i) => {
      if (!v.isPlainObject(img) || (typeof img.id !== 'number' && typeof img.id !== 'string')) {
        throw datasetError(`${where}: images[${i}] needs an id (a number or a string)`);
      }
      this.#images.add(img.id, img, `${where}: `);
    });
  }

  get imageIds(): ImageId[] {
    return this.#images.ids;
  }

  /** The dataset as given (parsed JSON; not a copy: treat it as read-only). */
  get dataset(): CocoDataset {
    return this.#dataset;
  }

  override get length(): number {
    return this.#images.size;
  }

  override hasImage(imageId: ImageId): boolean {
    return this.#images.has(imageId);
  }

  /** The dataset's record of an image. */
  image(imageId: ImageId): CocoImage {
    const img = this.#images.get(imageId);
    if (img === undefined) throw this.unknownImage(imageId);
    return img;
  }

  /** Every file of an image: its `file_name` first, then `auxiliary`, then `assets`. */
  files(imageId: ImageId): CocoAsset[] {
    const img = this.image(imageId);
    const list: CocoAsset[] = [];
    if (typeof img.file_name === 'string' && img.file_name.length > 0) {
      list.push({ file_name: img.file_name, channels: img.channels ?? null, width: img.width, height: img.height });
    }
    for (const key of ['auxiliary', 'assets'] as const) {
      const assets = img[key];
      if (assets === undefined || assets === null) continue;
      if (!Array.isArray(assets)) throw datasetError(`image ${String(img.id)}: '${key}' must be a list`);
      list.push(...assets);
    }
    return list;
  }

  protected buildPathinfo(imageId: ImageId): Pathinfo {
    const img = this.image(imageId);
    const files = this.files(imageId);
    const where = `image ${String(img.id)}`;
    if (files.length === 0) throw datasetError(`${where} has no file_name, auxiliary or assets`);
    const dim = (x: unknown) => (typeof x === 'number' && Number.isInteger(x) && x > 0 ? x : undefined);
    const W = dim(img.width);
    const H = dim(img.height);
    const channels: Record<string, ChannelInfo> = {};
    let def: string | null = null;
    files.forEach((a, i) => {
      if (!v.isPlainObject(a) || typeof a.file_name !== 'string' || a.file_name.length === 0) {
        throw datasetError(`${where}: file ${i} needs a file_name`);
      }
      const spec = typeof a.channels === 'string' && a.channels.length > 0 ? a.channels : null;
      let key = spec ?? COCO_DEFAULT_CHANNEL;
      for (let n = 2; key in channels; n++) key = `${spec ?? COCO_DEFAULT_CHANNEL}#${n}`;
      const isBase = i === 0 && typeof img.file_name === 'string' && img.file_name.length > 0;
      const given = a.warp_aux_to_img ?? a.warp_img_from_asset;
      const warp = isBase ? null
        : given !== undefined && given !== null ? cocoWarp(given, `${where}, asset '${a.file_name}'`)
          : inferredWarp(W, H, dim(a.width), dim(a.height));
      const chan: ChannelInfo = { path: a.file_name, channels: spec === null ? null : (tryParseChannels(spec) ?? [spec]).join('|') };
      if (warp !== null) chan.warpAuxToImg = warp;
      if (this.dequantize && v.isPlainObject(a.quantization)) chan.quantization = checkQuantization(a.quantization, `${where}, asset '${a.file_name}'`);
      this.populateChanInfo(chan, this.bundleDpath);
      channels[key] = chan;
      if (isBase) def = key;
    });
    if (def === null && (W === undefined || H === undefined)) {
      // No base file and no grid size: the first file that is identity-aligned defines the grid.
      const first = Object.keys(channels).find((k) => channels[k].warpAuxToImg === undefined);
      if (first === undefined) throw datasetError(`${where} needs width and height (it has no file on the image grid)`);
      def = first;
    }
    const info: Pathinfo = { id: img.id, channels, default: def };
    if (W !== undefined && H !== undefined) {
      info.width = W;
      info.height = H;
    }
    return info;
  }

  /**
   * A CocoFrames over the demo bundle (frames/coco-demo.ts), written on first use into `dpath`
   * (default `<workdir>/demo-kwcoco/`). `workdir` defaults to `<per-user cache>/demo`; `backend` to null.
   */
  static demo(opts?: { workdir?: string; dpath?: string; backend?: FramesOptions['backend']; hashidMode?: FramesOptions['hashidMode']; dequantize?: boolean }): CocoFrames {
    const o = v.options(opts, 'options', ['workdir', 'dpath', 'backend', 'hashidMode', 'dequantize'] as const);
    const workdir = o.workdir === undefined ? path.join(defaultWorkdir(), 'demo') : path.resolve(v.string(o.workdir, 'options.workdir'));
    const dpath = o.dpath === undefined ? path.join(workdir, 'demo-kwcoco') : path.resolve(v.string(o.dpath, 'options.dpath'));
    return new CocoFrames(ensureCocoDemo(dpath), {
      workdir, backend: o.backend as FramesOptions['backend'], hashidMode: o.hashidMode as FramesOptions['hashidMode'],
      dequantize: o.dequantize as boolean | undefined,
    });
  }

  protected override toState(): unknown {
    const own = { bundleDpath: this.bundleDpath, dequantize: this.dequantize };
    return this.datasetPath !== null ? { path: this.datasetPath, ...own } : { dataset: { images: this.#dataset.images }, ...own };
  }

  static fromState(state: unknown, opts: FramesOptions): CocoFrames {
    const s = state as { path?: unknown; dataset?: unknown; bundleDpath?: unknown; dequantize?: unknown };
    if (!v.isPlainObject(s) || (typeof s.path !== 'string' && !v.isPlainObject(s.dataset)) || typeof s.bundleDpath !== 'string') {
      throw new FramesError('ERR_FRAMES_JSON', 'CocoFrames state must be {path | dataset, bundleDpath, dequantize}');
    }
    return new CocoFrames((s.path ?? s.dataset) as string | CocoDataset, {
      ...opts, bundleDpath: s.bundleDpath, dequantize: s.dequantize === true,
    });
  }
}

function checkQuantization(q: Record<string, unknown>, where: string): Quantization {
  for (const k of ['orig_min', 'orig_max', 'quant_min', 'quant_max'] as const) {
    if (typeof q[k] !== 'number' || !Number.isFinite(q[k])) throw datasetError(`${where}: quantization.${k} must be a finite number`);
  }
  if (q.quant_max === q.quant_min) throw datasetError(`${where}: quantization has quant_max equal to quant_min`);
  const nodata = q.nodata === undefined || q.nodata === null ? null : q.nodata;
  if (nodata !== null && typeof nodata !== 'number') throw datasetError(`${where}: quantization.nodata must be a number or null`);
  return {
    orig_min: q.orig_min as number, orig_max: q.orig_max as number, quant_min: q.quant_min as number,
    quant_max: q.quant_max as number, nodata: nodata as number | null,
  };
}

Frames.register(CocoFrames);
