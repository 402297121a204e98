/**
 * Frames.prepare: a plan (every cache entry of the chosen images, deduplicated), a bounded worker
 * loop that ensures each entry on the libuv pool, and the stamp that lets a later run over the
 * same image set and config return at once. Runs on the calling thread; conversions and PIXELS
 * hashing run on the libuv pool.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { debuglog } from 'node:util';
import { writeFileAtomic } from '../atomic';
import type { ChannelInfo, ImageId, Pathinfo } from '../cache/config';
import { FramesError } from '../errors';
import * as v from '../validate';

const debug = debuglog('ndsampler');

export interface PrepareOptions {
  /** Images to prepare (default: all). */
  gids?: ImageId[];
  /** Conversions at once (default 0: one at a time). All run on the libuv pool. */
  workers?: number;
  /** Skip everything when a stamp says this image set and config were fully prepared (default true; only without gids). */
  useStamp?: boolean;
  /** Called after each cache entry is checked or built. */
  onProgress?: (done: number, total: number) => void;
  /** Reject with ERR_PREPARE (carrying the report) when any entry failed (default false: resolve with the report). */
  throwOnError?: boolean;
}

export interface PrepareFailure {
  imageId: ImageId;
  /** The channel group, when the failure was one file of the image. */
  channel?: string;
  error: Error;
}

/** What prepare() did. Counts are cache entries (one per channel file; one per image for SimpleFrames). */
export interface PrepareReport {
  built: number;
  reused: number;
  failed: PrepareFailure[];
  total: number;
  seconds: number;
  /** True when the stamp said everything was prepared and nothing was checked. */
  fromStamp: boolean;
  cacheDpath: string | null;
}

/** What prepare needs of a Frames object. */
export interface PrepareHost {
  readonly imageIds: ImageId[];
  hasImage(imageId: ImageId): boolean;
  unknownImage(imageId: unknown): Error;
  /** null without a backend (then there is nothing to prepare). */
  readonly cacheDpath: string | null;
  /** The memoised pathinfo, built with PIXELS hashes read asynchronously. */
  pathinfoAsync(imageId: ImageId): Promise<Pathinfo>;
  /** Ensures one entry; resolves true when it had to be built. */
  ensureAsync(chan: ChannelInfo): Promise<boolean>;
  /** What the stamp certifies (this class, image set, hashid mode and backend), hashed. */
  stampKey(): string;
}

const PREPARE_KEYS = ['gids', 'workers', 'useStamp', 'onProgress', 'throwOnError'] as const;
/** Stamps are `<cacheDpath>/_prepare_stamp.<key>.json`: one per image set, so several sets sharing a cache do not evict each other's. */
const STAMP_PREFIX = '_prepare_stamp.';

interface Job { imageId: ImageId; key: string; chan: ChannelInfo }

/** The entries to ensure, deduplicated (two images may share one source); failures and direct reads counted in `report`. */
async function plan(host: PrepareHost, ids: ImageId[], report: PrepareReport): Promise<Job[]> {
  const todo: Job[] = [];
  const seen = new Set<string>();
  for (const id of ids) {
    let pathinfo: Pathinfo;
    try {
      pathinfo = await host.pathinfoAsync(id);
    } catch (err) {
      report.failed.push({ imageId: id, error: err as Error });
      continue;
    }
    for (const [key, chan] of Object.entries(pathinfo.channels)) {
      if (typeof chan.cache !== 'string') {
        report.reused++;  // served directly (.npy source): nothing to build
        continue;
      }
      if (seen.has(chan.cache)) continue;
      seen.add(chan.cache);
      todo.push({ imageId: id, key, chan });
    }
  }
  return todo;
}

/**
 * Runs the jobs, at most `workers` at once (at least one). A failing job is recorded and the loop
 * goes on; an onProgress that throws stops it, and its error is rethrown.
 */
async function runJobs(host: PrepareHost, todo: Job[], workers: number, report: PrepareReport,
  onProgress: ((done: number, total: number) => void) | undefined): Promise<void> {
  let done = report.reused + report.failed.length;
  let next = 0;
  let callbackError: unknown = null;
  const worker = async (): Promise<void> => {
    while (next < todo.length && callbackError === null) {
      const job = todo[next++];
      try {
        if (await host.ensureAsync(job.chan)) report.built++;
        else report.reused++;
      } catch (err) {
        report.failed.push({ imageId: job.imageId, channel: job.key, error: err as Error });
      }
      done++;
      if (onProgress === undefined || callbackError !== null) continue;
      try {
        onProgress(done, report.total);
      } catch (err) {
        callbackError = err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(workers, todo.length)) }, worker));
  if (callbackError !== null) throw callbackError;
}

function readStamp(file: string, key: string): number | null {
  try {
    const s = JSON.parse(fs.readFileSync(file, 'utf8')) as { version: number; key: string; total: number };
    return s.version === 1 && s.key === key && typeof s.total === 'number' ? s.total : null;
  } catch {
    return null;
  }
}

function writeStamp(file: string, key: string, total: number): void {
  try {
    writeFileAtomic(file, JSON.stringify({ version: 1, key, total, time: new Date().toISOString() }));
  } catch (err) {
    debug('prepare: could not write stamp %s: %s', file, (err as Error).message);
  }
}

/** Frames.prepare (see there). */
export async function prepare(host: PrepareHost, opts?: PrepareOptions): Promise<PrepareReport> {
  const t0 = performance.now();
  const o = v.options(opts, 'options', PREPARE_KEYS) as PrepareOptions;
  const workers = o.workers === undefined ? 0 : v.integer(o.workers, 'options.workers', 0, 1024);
  const useStamp = o.useStamp === undefined ? true : v.boolean(o.useStamp, 'options.useStamp');
  const throwOnError = o.throwOnError === undefined ? false : v.boolean(o.throwOnError, 'options.throwOnError');
  const onProgress = o.onProgress === undefined ? undefined : v.func(o.onProgress, 'options.onProgress') as (d: number, t: number) => void;
  const allImages = o.gids === undefined || o.gids === null;
  let ids: ImageId[];
  if (allImages) {
    ids = host.imageIds;
  } else {
    if (!Array.isArray(o.gids)) throw v.typeError('an array of image ids', 'options.gids', o.gids);
    for (const id of o.gids) if (!host.hasImage(id)) throw host.unknownImage(id);
    ids = o.gids;
  }
  const cacheDpath = host.cacheDpath;
  const report: PrepareReport = { built: 0, reused: 0, failed: [], total: 0, seconds: 0, fromStamp: false, cacheDpath };
  const finish = (): PrepareReport => {
    report.seconds = (performance.now() - t0) / 1000;
    return report;
  };
  if (cacheDpath === null) return finish();

  const stampable = useStamp && allImages;
  const stampKey = stampable ? host.stampKey() : '';
  const stampFile = stampable ? path.join(cacheDpath, `${STAMP_PREFIX}${stampKey.slice(0, 16)}.json`) : '';
  if (stampable) {
    const total = readStamp(stampFile, stampKey);
    if (total !== null) {
      debug('prepare: stamp %s is current; skipping', stampFile);
      report.reused = total;
      report.total = total;
      report.fromStamp = true;
      onProgress?.(total, total);
      return finish();
    }
  }
  const todo = await plan(host, ids, report);
  report.total = todo.length + report.reused + report.failed.length;
  await runJobs(host, todo, workers, report, onProgress);
  if (stampable && report.failed.length === 0) writeStamp(stampFile, stampKey, report.total);
  finish();
  if (throwOnError && report.failed.length > 0) {
    const first = report.failed[0];
    throw new FramesError('ERR_PREPARE',
      `${report.failed.length} of ${report.total} cache entries failed; first: image ${String(first.imageId)}: ${first.error.message}`,
      { report });
  }
  return report;
}
