/**
 * Pathinfo building and hashing: image-id keys, the default workdir, the hashid of a file, and
 * filling a channel's cache entry. A PIXELS-mode channel is left *pending* by fillChannel (its
 * hash needs the file's bytes); pendingHashes lists them and the caller settles them explicitly,
 * synchronously (settleSync) or with asynchronous reads (settleAsync, for prepare).
 * Runs on the calling thread.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { cachePathFor, isNpyPath } from '../cache/entry';
import { checkHashid, HASHID_MODES, hashFile, hashFileAsync, hashString } from '../cache/config';
import type { BackendType, ChannelInfo, HashidMode, Pathinfo } from '../cache/config';
import { FramesError } from '../errors';
import { isVirtual, joinKey, toGdalPath } from '../remote/url';
import * as v from '../validate';

/** The per-user cache directory: $XDG_CACHE_HOME/ndsampler, else ~/.cache/ndsampler. */
export function defaultWorkdir(): string {
  const base = process.env.XDG_CACHE_HOME && path.isAbsolute(process.env.XDG_CACHE_HOME)
    ? process.env.XDG_CACHE_HOME : path.join(os.homedir(), '.cache');
  return path.join(base, 'ndsampler');
}

/** Canonical lookup key of an image id (1 and '1' are the same image). */
export function idKey(imageId: unknown): string {
  if (typeof imageId === 'number' && Number.isFinite(imageId)) return String(imageId);
  if (typeof imageId === 'string' && imageId.length > 0) return imageId;
  throw v.typeError('an image id (a finite number or a non-empty string)', 'imageId', imageId);
}

/**
 * The hashid of one file: PATH hashes `suffix` (the path as given), PIXELS the bytes of
 * `root`/`suffix` (streamed, XXH3-128); GIVEN has nothing to build from (ERR_HASHID).
 */
export function fileHashid(root: string, suffix: string, hashidMode: string): string {
  if (typeof root !== 'string') throw v.typeError('a string', 'root', root);
  v.string(suffix, 'suffix');
  const mode = v.oneOf(hashidMode, 'hashidMode', HASHID_MODES);
  if (mode === 'PATH') return hashString(suffix);
  if (mode === 'PIXELS' && isVirtual(suffix)) {
    throw new FramesError('ERR_HASHID', `hashidMode PIXELS hashes local files; '${suffix}' is remote (use PATH: its URL is its key)`, { path: suffix });
  }
  if (mode === 'PIXELS') return hashFile(root === '' || path.isAbsolute(suffix) ? suffix : path.join(root, suffix));
  throw new FramesError('ERR_HASHID', `hashidMode GIVEN takes the hashid from the pathinfo; there is none to build for '${suffix}'`);
}

/** Where cache entries go: the backend type (null: no cache) and its directory. */
export interface EntryTarget {
  hashidMode: HashidMode;
  /** The Frames workdir: PATH hashids hash the source's path relative to it. */
  workdir: string;
  type: BackendType | null;
  cacheDpath: string | null;
  /** Builds a PATH or PIXELS hashid (Frames passes its static buildFileHashid, which subclasses may replace). */
  fileHashid: (root: string, suffix: string, hashidMode: string) => string;
}

/**
 * The key PATH mode hashes: the source's path relative to the workdir (`../data/a.png`). Two
 * datasets sharing a workdir have different files at different relative paths, so their entries
 * never collide; a dataset moved together with its workdir (or to another machine with the same
 * layout) keeps its keys, and the sidecar's size/mtime check decides whether the entry is still
 * the file's. A remote source's key is its GDAL path (`s3://b/k` and `/vsis3/b/k` are one key), the
 * same on every machine.
 */
export function pathKey(workdir: string, file: string): string {
  if (isVirtual(file)) return toGdalPath(file);
  return path.relative(workdir, path.resolve(file)).split(path.sep).join('/');
}

/**
 * A channel's source path: remote forms become their GDAL path (lib/remote/url.ts); a relative
 * path is joined onto `root` (a local folder, or a remote prefix).
 */
function sourcePath(root: string, given: string): string {
  if (isVirtual(given)) return toGdalPath(given);
  if (root === '' || path.isAbsolute(given)) return given;
  return isVirtual(root) ? toGdalPath(joinKey(root, given)) : path.join(root, given);
}

/**
 * Fills a channel's cache entry: `cache` (null without a backend or for a .npy source), `hashid`
 * and `hashidMode`. A relative `chan.path` is joined onto `root` (and chan.path updated); PATH mode
 * hashes pathKey(workdir, path) (see there). In PIXELS mode the channel is left pending (hashidMode
 * set, no hashid yet): see pendingHashes.
 */
export function fillChannel(chan: ChannelInfo, root: string, t: EntryTarget): void {
  if (!v.isPlainObject(chan)) throw v.typeError('a channel object {path, ...}', 'chan', chan);
  const given = v.string(chan.path, 'chan.path');
  if (typeof root !== 'string') throw v.typeError('a string', 'root', root);
  const full = sourcePath(root, given);
  chan.path = full;
  if (t.type === null || isNpyPath(full)) {
    chan.cache = null;
    return;
  }
  if (t.hashidMode === 'GIVEN') {
    if (chan.hashid === undefined) {
      throw new FramesError('ERR_HASHID', `hashidMode is GIVEN but channel '${given}' has no hashid`, { path: full });
    }
    setEntry(chan, checkHashid(chan.hashid, `channel '${given}'`), t);
  } else if (t.hashidMode === 'PIXELS') {
    delete chan.hashid;
    delete chan.cache;
    chan.hashidMode = 'PIXELS';
  } else {
    setEntry(chan, t.fileHashid(t.workdir, pathKey(t.workdir, full), 'PATH'), t);
  }
}

/** Sets a channel's hashid and the cache entry it names (only called with a backend). */
function setEntry(chan: ChannelInfo, hashid: string, t: EntryTarget): void {
  chan.hashid = hashid;
  chan.hashidMode = t.hashidMode;
  chan.cache = cachePathFor(t.cacheDpath as string, hashid, t.type as BackendType);
}

/** The PIXELS-mode channels of a pathinfo whose hash fillChannel left to compute. */
export function pendingHashes(pathinfo: Pathinfo): ChannelInfo[] {
  if (!v.isPlainObject(pathinfo) || !v.isPlainObject(pathinfo.channels)) return [];
  return Object.values(pathinfo.channels).filter((c) =>
    v.isPlainObject(c) && c.hashidMode === 'PIXELS' && c.hashid === undefined && typeof c.path === 'string');
}

/** Hashes the pending channels' files (synchronously) and sets their entries. */
export function settleSync(pending: ChannelInfo[], t: EntryTarget): void {
  for (const chan of pending) setEntry(chan, t.fileHashid('', chan.path, 'PIXELS'), t);
}

/** As settleSync, reading the files asynchronously (the event loop keeps turning). */
export async function settleAsync(pending: ChannelInfo[], t: EntryTarget): Promise<void> {
  const hashes = await Promise.all(pending.map((c) => hashFileAsync(c.path)));
  pending.forEach((chan, i) => setEntry(chan, hashes[i], t));
}

/**
 * Checks a pathinfo returned by buildPathinfo and returns its one identity-aligned channel when
 * it is a single-file image (the fast path), else null.
 */
export function singleChannel(key: string, pathinfo: Pathinfo): ChannelInfo | null {
  if (!v.isPlainObject(pathinfo) || !v.isPlainObject(pathinfo.channels)) {
    throw new FramesError('ERR_PATHINFO', `buildPathinfo(${key}) must return {id, channels, default}`);
  }
  const keys = Object.keys(pathinfo.channels);
  if (keys.length !== 1) return null;
  const chan = pathinfo.channels[keys[0]];
  const w = chan.warpAuxToImg;
  const identity = w === null || w === undefined
    || (w.length >= 2 && [w[0][0], w[0][1], w[0][2], w[1][0], w[1][1], w[1][2]].every((x, i) => x === [1, 0, 0, 0, 1, 0][i]));
  return identity && typeof chan.path === 'string' && (pathinfo.default === keys[0] || pathinfo.default == null) ? chan : null;
}
