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
import { publishFileAsync } from '../atomic';
import { hashFileAsync } from '../cache/config';
import { readSidecar } from '../cache/entry';
import type { BackendConfig, BackendType, ChannelInfo, ImageId, Pathinfo } from '../cache/config';
import { FramesError, NdsamplerError } from '../errors';
import { cogHeaderLengthAsync } from '../gdal';
import { abortError, checkSignal, raceAbort } from '../readers-async';
import { fragmentKey, MANIFEST_NAME, newManifest, readManifestAtAsync, writeManifestAtAsync } from '../remote/manifest';
import type { ManifestEntry } from '../remote/manifest';
import { entryKey, publishEntry } from '../remote/publish';
import { checkShard, shardFromEnv, shardOf } from '../remote/shard';
import type { Shard } from '../remote/shard';
import { joinKey } from '../remote/url';
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
  /**
   * Prepare only shard `index` of `count` (entries assigned by a hash of their key), and write the
   * shard's manifest fragment (`manifests/shard-<index>-of-<count>.json` under `publish`, or under
   * `<workdir>/_cache/frames` without it) for `ndsampler manifest merge`. 'env': from
   * JOB_COMPLETION_INDEX/JOB_COMPLETIONS or SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT (docs/distributed.md).
   */
  shard?: [number, number] | 'env';
  /** Upload each entry (cog backend) to this prefix (`s3://bucket/prefix`, a local folder, ...) and then its manifest. */
  publish?: string;
  /** Stops the run: no entry is started after it fires, and prepare rejects with ERR_ABORTED. */
  signal?: AbortSignal;
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
  /** The shard this run prepared, or null for all entries. */
  shard: [number, number] | null;
  /** Entries uploaded or found already published (with `publish`). */
  published: number;
  /** The manifest (or fragment) written, or null. */
  manifest: string | null;
}

/** What prepare needs of a Frames object. */
export interface PrepareHost {
  readonly imageIds: ImageId[];
  hasImage(imageId: ImageId): boolean;
  unknownImage(imageId: unknown): Error;
  /** null without a backend (then there is nothing to prepare). */
  readonly cacheDpath: string | null;
  /** The backend's type (null without a backend). */
  readonly backendType: BackendType | null;
  /** The backend (its config: a published entry that needs a tagged copy is written with it). */
  readonly backend: BackendConfig;
  /** The memoised pathinfo, built with PIXELS hashes read asynchronously. */
  pathinfoAsync(imageId: ImageId): Promise<Pathinfo>;
  /** Ensures one entry; resolves true when it had to be built. */
  ensureAsync(chan: ChannelInfo): Promise<boolean>;
  /** What the stamp certifies (this class, image set, hashid mode and backend), hashed. */
  stampKey(): string;
}

const PREPARE_KEYS = ['gids', 'workers', 'useStamp', 'onProgress', 'throwOnError', 'shard', 'publish', 'signal'] as const;
/** Stamps are `<cacheDpath>/_prepare_stamp.<key>.json`: one per image set, so several sets sharing a cache do not evict each other's. */
const STAMP_PREFIX = '_prepare_stamp.';

interface Job { imageId: ImageId; key: string; chan: ChannelInfo }

/**
 * The entries to ensure, deduplicated (two images may share one source), only those of `shard`
 * when given; failures and direct reads counted in `report` (by shard 0 only when sharded, so
 * the shards' reports add up to the whole).
 */
async function plan(host: PrepareHost, ids: ImageId[], report: PrepareReport, shard: Shard | null, framesRoot: string): Promise<Job[]> {
  const counts = shard === null || shard[0] === 0;
  const todo: Job[] = [];
  const seen = new Set<string>();
  for (const id of ids) {
    let pathinfo: Pathinfo;
    try {
      pathinfo = await host.pathinfoAsync(id);
    } catch (err) {
      if (counts) report.failed.push({ imageId: id, error: err as Error });
      continue;
    }
    for (const [key, chan] of Object.entries(pathinfo.channels)) {
      if (typeof chan.cache !== 'string') {
        if (counts) report.reused++;  // served directly (.npy source): nothing to build
        continue;
      }
      if (seen.has(chan.cache)) continue;
      seen.add(chan.cache);
      if (shard !== null && shardOf(entryKey(framesRoot, chan.cache), shard[1]) !== shard[0]) continue;
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
  onProgress: ((done: number, total: number) => void) | undefined, after: ((chan: ChannelInfo) => Promise<void>) | null,
  signal: AbortSignal | undefined): Promise<void> {
  let done = report.reused + report.failed.length;
  let next = 0;
  let callbackError: unknown = null;
  const worker = async (): Promise<void> => {
    while (next < todo.length && callbackError === null && signal?.aborted !== true) {
      const job = todo[next++];
      try {
        const built = await host.ensureAsync(job.chan);
        if (after !== null) await after(job.chan);
        if (built) report.built++;
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
  // An abort rejects at once; the entries in flight finish by themselves (each is published
  // atomically, so nothing is left half done) and nothing starts after them.
  await raceAbort(Promise.all(Array.from({ length: Math.max(1, Math.min(workers, todo.length)) }, worker)), signal, 'prepare');
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

async function writeStamp(file: string, key: string, total: number): Promise<void> {
  const text = JSON.stringify({ version: 1, key, total, time: new Date().toISOString() });
  try {
    await publishFileAsync(file, (tmp) => fs.promises.writeFile(tmp, text, { flag: 'wx' }));
  } catch (err) {
    debug('prepare: could not write stamp %s: %s', file, (err as Error).message);
  }
}

/** The manifest line of a local (unpublished) entry: its object is the entry itself. */
async function localLine(chan: ChannelInfo, framesRoot: string): Promise<ManifestEntry> {
  const entry = chan.cache as string;
  const side = readSidecarOrFail(entry);
  const key = entryKey(framesRoot, entry);
  const found = await cogHeaderLengthAsync(entry);
  const head = found >= 8 && found <= side.entry.size ? found : Math.min(side.entry.size, 1 << 16);
  return { object: key, size: side.entry.size, xxh3: await hashFileAsync(entry), head, source: side.source, src: side.src };
}

function readSidecarOrFail(entry: string): NonNullable<ReturnType<typeof readSidecar>> {
  const side = readSidecar(entry);
  if (side === null) throw new FramesError('ERR_PREPARE', `cache entry '${entry}' has no commit record`, { path: entry });
  return side;
}

/**
 * Writes what this run made, last: a shard's fragment, or (unsharded, with publish) the manifest,
 * over the entries it already lists. Not written when an entry failed (a manifest lists only
 * complete, uploaded objects; the run can be repeated).
 */
async function writeManifest(report: PrepareReport, entries: Record<string, ManifestEntry>, shard: Shard | null, prefix: string): Promise<void> {
  if (report.failed.length > 0) return;
  if (shard !== null) {
    const key = fragmentKey(shard[0], shard[1]);
    await writeManifestAtAsync(prefix, key, newManifest(shard, entries));
    report.manifest = joinKey(prefix, key);
    return;
  }
  const merged = await readManifestAtAsync(prefix) ?? newManifest(null);
  Object.assign(merged.entries, entries);
  merged.created = new Date().toISOString();
  await writeManifestAtAsync(prefix, MANIFEST_NAME, merged);
  report.manifest = joinKey(prefix, MANIFEST_NAME);
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
  let shard: Shard | null = null;
  if (o.shard === 'env') shard = shardFromEnv();
  else if (o.shard !== undefined && o.shard !== null) shard = checkShard(o.shard, 'options.shard');
  const publish = o.publish === undefined || o.publish === null ? null : v.string(o.publish, 'options.publish');
  const signal = checkSignal(o.signal, 'options.signal');
  if (signal?.aborted) throw abortError('prepare');
  const cacheDpath = host.cacheDpath;
  if (publish !== null && host.backendType !== 'cog') {
    throw new NdsamplerError('ERR_UNSUPPORTED', `only cog caches can be published (this one is ${String(host.backendType)}): npy entries are read through mmap and stay local (docs/distributed.md)`);
  }
  const report: PrepareReport = {
    built: 0, reused: 0, failed: [], total: 0, seconds: 0, fromStamp: false, cacheDpath, shard, published: 0, manifest: null,
  };
  const finish = (): PrepareReport => {
    report.seconds = (performance.now() - t0) / 1000;
    return report;
  };
  if (cacheDpath === null) return finish();

  const framesRoot = path.dirname(path.dirname(cacheDpath));
  const stampable = useStamp && allImages && shard === null && publish === null;
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
  const todo = await plan(host, ids, report, shard, framesRoot);
  report.total = todo.length + report.reused + report.failed.length;
  const entries: Record<string, ManifestEntry> = {};
  const after = publish === null && shard === null ? null : async (chan: ChannelInfo): Promise<void> => {
    if (publish === null) {
      entries[entryKey(framesRoot, chan.cache as string)] = await localLine(chan, framesRoot);
      return;
    }
    const [key, line] = await publishEntry(chan, framesRoot, publish, host.backend);
    entries[key] = line;
    report.published++;
  };
  await runJobs(host, todo, workers, report, onProgress, after, signal);
  if (shard !== null || publish !== null) await writeManifest(report, entries, shard, publish ?? framesRoot);
  if (stampable && report.failed.length === 0) await writeStamp(stampFile, stampKey, report.total);
  finish();
  if (throwOnError && report.failed.length > 0) {
    const first = report.failed[0];
    throw new FramesError('ERR_PREPARE',
      `${report.failed.length} of ${report.total} cache entries failed; first: image ${String(first.imageId)}: ${first.error.message}`,
      { report });
  }
  return report;
}
