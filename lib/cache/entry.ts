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
 *   source now has another size/mtime is 'stale' (a vanished source keeps its cache). A remote
 *   source (URL form or /vsi path) is stamped with what its server reports (size, ETag or
 *   Last-Modified), never with a local mtime; the server is asked through the opener's
 *   RemoteStamps (lib/remote/stamps.ts: once per opening, reused for REMOTE_STAMP_TTL_MS).
 * - A cog entry carries its identity in its header (GDAL metadata items NDSAMPLER_ENTRY: its key,
 *   NDSAMPLER_SRC: the source stamp it was built from, stampText), so a published copy can be
 *   checked against the entry a reader expects (lib/remote/published.ts).
 * - Entries are built under the entry's lock (lib/lock.ts) by whoever finds them not fresh; the
 *   builder first removes the temporary files of builders that died (lib/atomic.ts names them).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { debuglog } from 'node:util';
import { makeDirs, publishFileAsync, symlinkAtomic, writeFileAtomic } from '../atomic';
import { FileError, FramesError, fsError, NdsamplerError } from '../errors';
import { convertToNpy, convertToNpyAsync, isCog, writeCogTagged, writeCogTaggedAsync } from '../gdal';
import { RemoteStamps } from '../remote/stamps';
import type { StampAnswer } from '../remote/stamps';
import { isVirtual } from '../remote/url';
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

/**
 * A source as it was when its entry was built. Local files: size and mtime (ns). Remote objects
 * (URL forms, /vsi paths): what the server reports, size and ETag or Last-Modified (mtimeNs '').
 */
export interface SourceStamp { size: number; mtimeNs: string; etag?: string; lastModified?: string }
/** A file's identity: a replaced file has another inode, a rewritten one another size or mtime. */
export interface FileStamp extends SourceStamp { ino: string }
export interface Sidecar { version: 2; source: string; src: SourceStamp; entry: FileStamp }

export const sidecarPath = (entry: string): string => `${entry}.src.json`;

/** The identity of `file` (following symlinks), or null when it does not exist (or is unreadable). */
export function fileStamp(file: string): FileStamp | null {
  const st = fs.statSync(file, { bigint: true, throwIfNoEntry: false });
  return st === undefined ? null : { size: Number(st.size), mtimeNs: st.mtimeNs.toString(), ino: st.ino.toString() };
}

export const sameStamp = (a: FileStamp | null, b: FileStamp | null): boolean =>
  a !== null && b !== null && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs;

/** The key of an entry (its path under `<workdir>/_cache/frames`: `cog/<config hash>/<ab>/<file>`). */
export function entryKeyOf(entry: string): string {
  return entry.split(path.sep).slice(-4).join('/');
}

/** A source stamp as one string, its fields in a fixed order (a cog entry's NDSAMPLER_SRC). */
export function stampText(s: SourceStamp): string {
  const o: Record<string, unknown> = { size: s.size, mtimeNs: s.mtimeNs };
  if (s.etag !== undefined) o.etag = s.etag;
  if (s.lastModified !== undefined) o.lastModified = s.lastModified;
  return JSON.stringify(o);
}

/**
 * True when a remote source still is the object `was` describes: same size, and the same ETag
 * when both have one, else the same Last-Modified when both have one (size alone otherwise).
 */
export function sameRemote(was: SourceStamp, now: SourceStamp): boolean {
  if (was.size !== now.size) return false;
  if (was.etag !== undefined && now.etag !== undefined) return was.etag === now.etag;
  if (was.lastModified !== undefined && now.lastModified !== undefined) return was.lastModified === now.lastModified;
  return true;
}

/** The remote rule: unchanged, or gone, or unreachable right now (the entry is the best there is). */
function unchangedBy(file: string, was: SourceStamp, answer: StampAnswer): boolean {
  if (answer.stamp !== undefined) return sameRemote(was, answer.stamp);
  debug('freshness of %s not checked: %s', file, answer.error.message);
  return true;
}

function localUnchanged(file: string, was: SourceStamp): boolean {
  const src = fs.statSync(file, { bigint: true, throwIfNoEntry: false });
  if (src === undefined) return true;
  return was.size === Number(src.size) && was.mtimeNs === src.mtimeNs.toString();
}

/**
 * Is the source of an entry built from `was` unchanged? A vanished source keeps its cache (true);
 * so does a remote one that cannot be reached right now (its server is down: the entry is the
 * best there is; the next check that reaches the server decides). Remote sources are asked
 * through `stamps` (a synchronous call blocks for the server).
 */
export function sourceUnchanged(file: string, was: SourceStamp, stamps: RemoteStamps = new RemoteStamps()): boolean {
  return isVirtual(file) ? unchangedBy(file, was, stamps.getSync(file)) : localUnchanged(file, was);
}

/** sourceUnchanged with the server asked on the libuv pool. */
export async function sourceUnchangedAsync(file: string, was: SourceStamp, stamps: RemoteStamps): Promise<boolean> {
  return isVirtual(file) ? unchangedBy(file, was, await stamps.get(file)) : localUnchanged(file, was);
}

function statLocalSource(file: string): SourceStamp {
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

function stampOf(answer: StampAnswer): SourceStamp {
  if (answer.error !== undefined) throw answer.error;
  return answer.stamp;
}

/** An entry's commit record, or null when there is none (or it is not version 2). */
export function readSidecar(entry: string): Sidecar | null {
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

/** The local part of the state: null when it depends on the source (PATH mode), with the sidecar. */
function localState(chan: ChannelInfo): { state: EntryState | null; side: Sidecar | null } {
  const entry = chan.cache as string;
  const now = fileStamp(entry);
  if (now === null) return { state: 'missing', side: null };
  const side = readSidecar(entry);
  if (side === null || !sameStamp(now, side.entry)) return { state: 'incomplete', side };
  return { state: chan.hashidMode !== 'PATH' ? 'fresh' : null, side };
}

/** The entry's state; a remote source is asked through `stamps` (blocking: a synchronous API). */
export function entryState(chan: ChannelInfo, stamps: RemoteStamps = new RemoteStamps()): EntryState {
  const { state, side } = localState(chan);
  if (state !== null) return state;
  return sourceUnchanged(chan.path, (side as Sidecar).src, stamps) ? 'fresh' : 'stale';
}

/** entryState with a remote source asked on the libuv pool (the local checks are a stat and a small read). */
export async function entryStateAsync(chan: ChannelInfo, stamps: RemoteStamps): Promise<EntryState> {
  const { state, side } = localState(chan);
  if (state !== null) return state;
  return await sourceUnchangedAsync(chan.path, (side as Sidecar).src, stamps) ? 'fresh' : 'stale';
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

/** The commit record of the entry just built. */
function sidecarOf(chan: ChannelInfo, stamp: SourceStamp): string {
  const entry = chan.cache as string;
  const now = fileStamp(entry);
  if (now === null) throw new FileError('ERR_SOURCE_MISSING', `cache entry '${entry}' vanished right after it was built`, { path: entry });
  const side: Sidecar = { version: 2, source: isVirtual(chan.path) ? chan.path : path.resolve(chan.path), src: stamp, entry: now };
  return JSON.stringify(side);
}

function finishEntry(chan: ChannelInfo, stamp: SourceStamp): void {
  writeFileAtomic(sidecarPath(chan.cache as string), sidecarOf(chan, stamp));
}

/** finishEntry with the writes and fsyncs on the libuv pool. */
async function finishEntryAsync(chan: ChannelInfo, stamp: SourceStamp): Promise<void> {
  const file = sidecarPath(chan.cache as string);
  const text = sidecarOf(chan, stamp);
  await publishFileAsync(file, (tmp) => fs.promises.writeFile(tmp, text, { flag: 'wx' }).catch((err: unknown) => { throw fsError(err, file, 'write'); }));
}

function makeDir(chan: ChannelInfo): void {
  if (typeof chan.cache !== 'string') throw new FramesError('ERR_PATHINFO', `channel '${chan.path}' has no cache entry to build`);
  try {
    makeDirs(path.dirname(chan.cache));
  } catch (err) {
    throw err instanceof NdsamplerError ? err : fsError(err, path.dirname(chan.cache), 'mkdir');
  }
}

/** The identity a cog entry carries in its header (see the module comment). */
export function identityOf(chan: ChannelInfo, stamp: SourceStamp): Record<string, string> {
  return { NDSAMPLER_ENTRY: entryKeyOf(chan.cache as string), NDSAMPLER_SRC: stampText(stamp) };
}

/** A local source that already is a COG is its own entry (a symlink); a remote one is copied (the cache is local). */
const linkable = (file: string): boolean => !isVirtual(file) && isCog(file);

/**
 * Builds (or rebuilds) a channel's cache entry on the calling thread. The caller holds the entry's
 * lock. A remote source is asked for its stamp through `stamps` (blocking).
 */
export function buildEntrySync(chan: ChannelInfo, backend: BackendConfig, stamps: RemoteStamps = new RemoteStamps()): void {
  makeDir(chan);
  const stamp = isVirtual(chan.path) ? stampOf(stamps.getSync(chan.path)) : statLocalSource(chan.path);
  const entry = chan.cache as string;
  debug('build %s entry %s <- %s', backend.type, entry, chan.path);
  if (backend.type === 'npy') convertToNpy(chan.path, entry);
  else if (linkable(chan.path)) symlinkAtomic(chan.path, entry);
  else writeCogTagged(chan.path, entry, backend.config, identityOf(chan, stamp));
  finishEntry(chan, stamp);
}

/** Builds a channel's cache entry with the conversion (and a remote source's stat) on the libuv pool. The caller holds the entry's lock. */
export async function buildEntryAsync(chan: ChannelInfo, backend: BackendConfig, stamps: RemoteStamps): Promise<void> {
  makeDir(chan);
  const stamp = isVirtual(chan.path) ? stampOf(await stamps.get(chan.path)) : statLocalSource(chan.path);
  const entry = chan.cache as string;
  debug('build %s entry %s <- %s (async)', backend.type, entry, chan.path);
  if (backend.type === 'npy') await convertToNpyAsync(chan.path, entry);
  else if (linkable(chan.path)) symlinkAtomic(chan.path, entry);
  else await writeCogTaggedAsync(chan.path, entry, backend.config, identityOf(chan, stamp));
  await finishEntryAsync(chan, stamp);
}
