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
 * - Next to each entry a sidecar `<entry>.src.json` is its commit record: the source's size and
 *   mtime as they were before the build started, and the entry file's own identity (inode, size,
 *   mtime) once published. It is published after the entry, so an entry without a sidecar that
 *   names exactly this file (a crash in between, a full disk, a file replaced or rewritten by
 *   someone else) is 'incomplete' and is rebuilt, never served as fresh. In PATH mode an entry whose
 *   source now has another size/mtime is 'stale' (a vanished source keeps its cache).
 * - Entries are built under the entry's lock (lib/lock.ts) by whoever finds them not fresh; the
 *   builder first removes the temporary files of builders that died (lib/atomic.ts names them).
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
/** A file's identity: a replaced file has another inode, a rewritten one another size or mtime. */
export interface FileStamp extends SourceStamp { ino: string }
interface Sidecar { version: 2; source: string; src: SourceStamp; entry: FileStamp }

export const sidecarPath = (entry: string): string => `${entry}.src.json`;

/** The identity of `file` (following symlinks), or null when it does not exist (or is unreadable). */
export function fileStamp(file: string): FileStamp | null {
  const st = fs.statSync(file, { bigint: true, throwIfNoEntry: false });
  return st === undefined ? null : { size: Number(st.size), mtimeNs: st.mtimeNs.toString(), ino: st.ino.toString() };
}

export const sameStamp = (a: FileStamp | null, b: FileStamp | null): boolean =>
  a !== null && b !== null && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs;

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
    return s && s.version === 2 && typeof s.src?.size === 'number' && typeof s.src?.mtimeNs === 'string'
      && typeof s.entry?.ino === 'string' ? s : null;
  } catch {
    return null;
  }
}

/**
 * - 'fresh': the entry exists, its sidecar names exactly this file, and (PATH mode) the source is
 *   unchanged or gone;
 * - 'missing': no entry file;
 * - 'incomplete': an entry file without a matching sidecar (being replaced right now, a crash or a
 *   full disk between the two renames, or a file changed behind the library's back);
 * - 'stale': complete, but made from a source that has changed since (PATH mode).
 */
export type EntryState = 'fresh' | 'missing' | 'incomplete' | 'stale';

export function entryState(chan: ChannelInfo): EntryState {
  const entry = chan.cache as string;
  const now = fileStamp(entry);
  if (now === null) return 'missing';
  const side = readSidecar(entry);
  if (side === null || !sameStamp(now, side.entry)) return 'incomplete';
  if (chan.hashidMode !== 'PATH') return 'fresh';
  const src = fs.statSync(chan.path, { bigint: true, throwIfNoEntry: false });
  if (src === undefined) return 'fresh';
  return side.src.size === Number(src.size) && side.src.mtimeNs === src.mtimeNs.toString() ? 'fresh' : 'stale';
}

/** A temporary file of the publish rule (or of the rule before it) made by process `pid`. */
const TEMP_NAMES = [
  /\.(\d+)-[0-9a-f]{16}\.tmp(\.|$)/,   // `.<base>.<pid>-<hex16>.tmp` and GDAL's side files after it
  /\.tmp-(\d+)-\d+(\.|$)/,            // the previous native rule: `.<base>.tmp-<pid>-<n>`
  /\.(\d+)\.[0-9a-f]{12}\.tmp$/,      // the previous TypeScript rule: `<base>.<pid>.<hex12>.tmp`
];

/**
 * Removes the temporary files that builders of `entry` (and of its sidecar) left when they died:
 * every temp name for it made by another process. Only called under the entry's lock, when no
 * other live builder of this entry can exist.
 */
export function removeStaleTemps(entry: string): string[] {
  const dir = path.dirname(entry);
  const base = path.basename(entry);
  const removed: string[] = [];
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    if (!name.startsWith(`.${base}.`) && !name.startsWith(`${base}.`)) continue;
    for (const re of TEMP_NAMES) {
      const m = re.exec(name);
      if (m !== null && Number(m[1]) !== process.pid) {
        try {
          fs.unlinkSync(path.join(dir, name));
          removed.push(name);
        } catch { /* gone already */ }
        break;
      }
    }
  }
  if (removed.length) debug('removed stale temporaries of %s: %s', entry, removed.join(' '));
  return removed;
}

function finishEntry(chan: ChannelInfo, stamp: SourceStamp): void {
  const entry = chan.cache as string;
  const now = fileStamp(entry);
  if (now === null) throw new FileError('ERR_SOURCE_MISSING', `cache entry '${entry}' vanished right after it was built`, { path: entry });
  const side: Sidecar = { version: 2, source: path.resolve(chan.path), src: stamp, entry: now };
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

/** Builds (or rebuilds) a channel's cache entry on the calling thread. The caller holds the entry's lock. */
export function buildEntrySync(chan: ChannelInfo, backend: BackendConfig): void {
  const stamp = startEntry(chan);
  const entry = chan.cache as string;
  debug('build %s entry %s <- %s', backend.type, entry, chan.path);
  if (backend.type === 'npy') convertToNpy(chan.path, entry);
  else if (isCog(chan.path)) symlinkAtomic(chan.path, entry);
  else writeCog(chan.path, entry, backend.config);
  finishEntry(chan, stamp);
}

/** Builds a channel's cache entry with the conversion on the libuv pool. The caller holds the entry's lock. */
export async function buildEntryAsync(chan: ChannelInfo, backend: BackendConfig): Promise<void> {
  const stamp = startEntry(chan);
  const entry = chan.cache as string;
  debug('build %s entry %s <- %s (async)', backend.type, entry, chan.path);
  if (backend.type === 'npy') await convertToNpyAsync(chan.path, entry);
  else if (isCog(chan.path)) symlinkAtomic(chan.path, entry);
  else await writeCogAsync(chan.path, entry, backend.config);
  finishEntry(chan, stamp);
}
