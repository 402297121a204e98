/** The option and data types of Frames. */
import type { Interpolation } from './alignable';
import type { BackendConfig, BackendSpec, HashidMode, ImageId, Pathinfo } from '../cache/config';
import type { DType, NDArray, Shape3 } from '../ndarray';
import type { Region } from '../region';
import type { CropOptions } from './crop';
import type { RemoteCacheOptions } from '../remote/publish';

export interface FramesOptions {
  /** How each image's cache entry is named: 'PATH' (default), 'PIXELS' or 'GIVEN'. */
  hashidMode?: HashidMode;
  /** Where caches live (default: $XDG_CACHE_HOME/ndsampler or ~/.cache/ndsampler, with a warning). */
  workdir?: string;
  /** null (default: no cache), 'npy', 'cog', 'auto' or {type, config}. */
  backend?: BackendSpec;
  /** How many readers stay open at once (least recently used are closed; default 32). */
  maxReaders?: number;
  /**
   * A published cache to read entries from (docs/distributed.md): the prefix prepare({publish})
   * wrote (`s3://bucket/prefix`, ...), or {url, stage: {dir?, maxBytes}} to download entries into
   * a bounded local folder instead of reading them in place.
   */
  remoteCache?: string | RemoteCacheOptions | null;
}

/** `boundless`, `fill` and `scale` have the readers' meaning (frames/crop.ts). */
export interface LoadRegionOptions extends CropOptions {
  /** Channel groups or band names (images with several channel files). */
  channels?: string | string[];
  /** The image width, when known: a region ending there counts as the full image. */
  width?: number;
  /** The image height, when known. */
  height?: number;
  /** Write into this array (same shape and dtype as the region) instead of a new one. */
  out?: NDArray;
  /** Resampling of channels not on the image grid (default 'nearest'). */
  interpolation?: Interpolation;
  /** With 'linear': blur a file read at a reduced resolution first (default true, as kwcoco's delayed_image). */
  antialias?: boolean;
  /** loadRegionAsync / loadRegions: rejects with ERR_ABORTED when it fires (remote work it started is cancelled). */
  signal?: AbortSignal;
}

export interface LoadImageOptions extends CropOptions {
  channels?: string | string[];
  /** true (default): read through the cache entry, building it when missing; false: read the source. */
  cache?: boolean;
  /** Only ensure the cache entry; return undefined. */
  noreturn?: boolean;
}

export interface LazyFrame {
  readonly imageId: ImageId;
  /** Opens the file's header on first use (no pixels are read). */
  readonly shape: Shape3;
  readonly dtype: DType;
  /** Reads `region` only: from the cache entry when it exists, else straight from the source (never builds). */
  get(region?: Region | null, opts?: CropOptions): NDArray;
  getAsync(region?: Region | null, opts?: CropOptions): Promise<NDArray>;
}

export interface RegionRequest {
  imageId: ImageId;
  region?: Region | null;
}

/** The plain-data form of a Frames object (for worker threads). */
export interface FramesJSON {
  format: 'ndsampler.Frames';
  version: 1;
  class: string;
  hashidMode: HashidMode;
  workdir: string;
  backend: BackendConfig;
  maxReaders: number;
  /** The published cache the object reads from (its remoteCache option), or null. */
  remoteCache?: RemoteCacheOptions | null;
  /** The subclass's own state (SimpleFrames: its [id, path] pairs). */
  state: unknown;
  /** Memoised pathinfo, so the receiver need not rebuild it (no rehashing in PIXELS mode). */
  pathinfo: Pathinfo[];
}

