/**
 * Cache entries: where an entry lives, its sidecar, whether it is fresh, and building it.
 *
 * Threads: the calling JS thread; buildEntryAsync runs the pixel work (GDAL decode, npy/COG
 * writing) on the libuv pool through the native async converters.
 *
 * Invariants:
 * - An entry is one file `<cacheDpath>/<ab>/<hashid>.npy` or `.cog.tif` (or, for a source that
 *   already is a COG on the cog backend, a symlink to the source). Every writer publishes by the
 *   atomic rule (lib/atomic.ts and its C++ twin in native/core/), so readers only ever see complete
 *   files under final names, and several processes may build the same entry at once (last rename
 *   wins, both write the same bytes).
 * - Next to each entry a sidecar `<entry>.src.json` records the source's size and mtime as they
 *   were before the build started. In PATH mode an entry whose sidecar is missing or disagrees with
 *   the source's current size/mtime is stale and is rebuilt. The sidecar is published only after
 *   the entry, so a crash in between leaves a stale entry, never a wrong "fresh" one.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { debuglog } from 'node:util';
import { symlinkAtomic, writeFileAtomic } from '../atomic';
import { FileError, FramesError, fsError } from '../errors';
import { convertToNpy, convertToNpyAsync, isCog, writeCog, writeCogAsync } from '../gdal';
import type { BackendConfig, BackendType, ChannelInfo } from './config';

const debug = debuglog('ndsampler');

/** `.npy` sources are already mmap-able arrays: every backend serves them directly, without a cache entry. */
export const isNpyPath = (file: string): boolean => path.extname(file).toLowerCase() === '.npy';

export const CACHE_EXT: Readonly<Record<BackendType, string>> = { npy: '.npy', cog: '.cog.tif' };

/** `<cacheDpath>/<ab>/<hashid><ext>`: entries fanned out by the first two characters of the hashid. */
export function cachePathFor(cacheDpath: string, hashid: string, type: BackendType): string {
  return path.join(cacheDpath, hashid.slice(0, 2).toLowerCase(), hashid + CACHE_EXT[type]);
}

// ---- sidecars and freshness --------------------------------------------------------------------

interface SourceStamp { size: number; mtimeNs: string }
interface Sidecar extends SourceStamp { version: 1; source: string }

export const sidecarPath = (entry: string): string => `${entry}.src.json`;

function statSource(file: string): SourceStamp {
  let st: fs.BigIntStats;
  try {
    st = fs.statSync(file, { bigint: true });
  } catch (err) {
    throw fsError(err, file, 'stat');
  }
  if (!st.isFile()) {
    throw new FileError('ERR_NOT_A_FILE', `'${file}' is not a regular file`, { path: file });
  }
  return { size: Number(st.size), mtimeNs: st.mtimeNs.toString() };
}

function readSidecar(entry: string): Sidecar | null {
  try {
    const s = JSON.parse(fs.readFileSync(sidecarPath(entry), 'utf8')) as Sidecar;
    return s && s.version === 1 && typeof s.size === 'number' && typeof s.mtimeNs === 'string' ? s : null;
  } catch {
    return null;
  }
}

export type EntryState = 'fresh' | 'missing' | 'stale';

/**
 * The state of a channel's cache entry. PATH-mode entries are stale when their sidecar is missing
 * or records another size/mtime than the source has now (a vanished source keeps its cache).
 */
export function entryState(chan: ChannelInfo): EntryState {
  const entry = chan.cache as string;
  try {
    fs.statSync(entry);
  } catch {
    return 'missing';
  }
  if (chan.hashidMode !== 'PATH') return 'fresh';
  const side = readSidecar(entry);
  if (side === null) return 'stale';
  let now: fs.BigIntStats;
  try {
    now = fs.statSync(chan.path, { bigint: true });
  } catch {
    return 'fresh';
  }
  return side.size === Number(now.size) && side.mtimeNs === now.mtimeNs.toString() ? 'fresh' : 'stale';
}

function finishEntry(chan: ChannelInfo, stamp: SourceStamp): void {
  const entry = chan.cache as string;
  const side: Sidecar = { version: 1, source: path.resolve(chan.path), ...stamp };
  writeFileAtomic(sidecarPath(entry), JSON.stringify(side));
}

function startEntry(chan: ChannelInfo): SourceStamp {
  if (typeof chan.cache !== 'string') throw new FramesError('ERR_PATHINFO', `channel '${chan.path}' has no cache entry to build`);
  const stamp = statSource(chan.path);
  try {
    fs.mkdirSync(path.dirname(chan.cache), { recursive: true });
  } catch (err) {
    throw fsError(err, path.dirname(chan.cache), 'mkdir');
  }
  return stamp;
}

/** Builds (or rebuilds) a channel's cache entry on the calling thread. */
export function buildEntrySync(chan: ChannelInfo, backend: BackendConfig): void {
  const stamp = startEntry(chan);
  const entry = chan.cache as string;
  debug('build %s entry %s <- %s', backend.type, entry, chan.path);
  if (backend.type === 'npy') convertToNpy(chan.path, entry);
  else if (isCog(chan.path)) symlinkAtomic(chan.path, entry);
  else writeCog(chan.path, entry, backend.config);
  finishEntry(chan, stamp);
}

/** Builds a channel's cache entry with the conversion on the libuv pool. */
export async function buildEntryAsync(chan: ChannelInfo, backend: BackendConfig): Promise<void> {
  const stamp = startEntry(chan);
  const entry = chan.cache as string;
  debug('build %s entry %s <- %s (async)', backend.type, entry, chan.path);
  if (backend.type === 'npy') await convertToNpyAsync(chan.path, entry);
  else if (isCog(chan.path)) symlinkAtomic(chan.path, entry);
  else await writeCogAsync(chan.path, entry, backend.config);
  finishEntry(chan, stamp);
}

