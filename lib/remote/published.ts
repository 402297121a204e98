/**
 * Reading a published cache (Frames's `remoteCache`): the manifest, read once per Frames and
 * checked field by field (manifest-schema.ts); an entry listed there whose source is unchanged
 * (the rule of local entries; a source that is gone or unreachable keeps it) is opened in place
 * (a remote prefix: through the addon's /vsindspub/ file, one GET for the header; a local folder:
 * the file itself), or, with `stage`, downloaded once into a bounded local folder.
 *
 * Nothing the manifest says is trusted further than it can be checked (docs/distributed.md, "Trust"):
 * - object keys are plain relative keys (no `..`, no absolute path, ...), and a staged file's path
 *   is checked to lie inside the stage folder before anything is written;
 * - the object must measure the manifest's `size` (what the server reports on every answer, or the
 *   local file's size; ERR_CACHE_CORRUPT);
 * - before a pixel is served, the object's own header must name the entry the reader expects and
 *   the source stamp the manifest gives (NDSAMPLER_ENTRY / NDSAMPLER_SRC; ERR_CACHE_CORRUPT), so an
 *   object listed under another entry's key (swapped names, a stale object) is refused;
 * - a staged download must match the manifest's XXH3 as well (ERR_CACHE_CORRUPT), and is renamed
 *   into place only then.
 *
 * Runs on the calling thread: the async paths do their network and file work on the libuv pool;
 * the sync ones (for loadRegion & co.) block for the server.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { debuglog } from 'node:util';
import { makeDirs, makeDirsAsync, publishFile, publishFileAsync } from '../atomic';
import { hashFile, hashFileAsync } from '../cache/config';
import type { ChannelInfo } from '../cache/config';
import { entryKeyOf, sourceUnchanged, sourceUnchangedAsync, stampText } from '../cache/entry';
import { FileError, fsError } from '../errors';
import { lockAsync, lockPathFor, lockSync } from '../lock';
import { openImage, RasterReader } from '../readers';
import type { ImageReader } from '../readers';
import { openImageAsync, openPublished, openPublishedAsync } from '../readers-async';
import { uploadFile, uploadFileAsync } from '../remote-io';
import * as v from '../validate';
import { readManifestAt, readManifestAtAsync } from './manifest';
import type { Manifest, ManifestEntry } from './manifest';
import { PublishedReader } from './published-reader';
import type { RemoteStamps } from './stamps';
import { isVirtual, joinKey } from './url';

const debug = debuglog('ndsampler');

/** Where a published cache is read from, and whether its entries are staged locally. */
export interface RemoteCacheOptions {
  /** The prefix prepare published to (`s3://bucket/prefix`, `https://host/path`, a /vsi path or a local folder). */
  url: string;
  /** Download entries into a local folder instead of reading them in place (default: in place). */
  stage?: { dir?: string; maxBytes: number } | null;
}

/** Coerces Frames's `remoteCache` option (a prefix string or RemoteCacheOptions). */
export function coerceRemoteCache(o: unknown, name: string): RemoteCacheOptions | null {
  if (o === undefined || o === null) return null;
  if (typeof o === 'string') return { url: o, stage: null };
  const r = v.options(o, name, ['url', 'stage'] as const);
  const url = v.string(r.url, `${name}.url`);
  if (r.stage === undefined || r.stage === null) return { url, stage: null };
  const s = v.options(r.stage, `${name}.stage`, ['dir', 'maxBytes'] as const);
  const stage: { dir?: string; maxBytes: number } = { maxBytes: v.integer(s.maxBytes, `${name}.stage.maxBytes`, 1) };
  if (s.dir !== undefined) stage.dir = path.resolve(v.string(s.dir, `${name}.stage.dir`));
  return { url, stage };
}

function corrupt(where: string, why: string): FileError {
  return new FileError('ERR_CACHE_CORRUPT', `published object '${where}' ${why}`, { path: where });
}

/**
 * The object's own identity against the entry the reader expects: the key of `chan`'s entry and
 * the stamp the manifest lists. Closes `reader` and throws ERR_CACHE_CORRUPT when they differ.
 */
function verified<R extends ImageReader>(reader: R, info: RasterReader['info'], chan: ChannelInfo, e: ManifestEntry, where: string): R {
  const want = entryKeyOf(chan.cache as string);
  const id = info.identity;
  let why: string | null = null;
  if (id === null) why = 'carries no entry identity (NDSAMPLER_ENTRY): it is not a published cache entry';
  else if (id.entry !== want) why = `is the entry '${id.entry}', not '${want}' (an object listed under another entry's key)`;
  else if (id.src !== stampText(e.src)) why = `was built from the source as ${id.src}, the manifest says ${stampText(e.src)}`;
  if (why !== null) {
    reader.close();
    throw corrupt(where, why);
  }
  return reader;
}

/** The reader side of a published cache (see the module comment). One per Frames. */
export class PublishedCache {
  readonly url: string;
  readonly #root: () => string;
  readonly #stageOpts: { dir?: string; maxBytes: number } | null;
  #manifest: Manifest | null | undefined;
  #reading: Promise<Manifest | null> | null = null;

  /** `framesRoot`: `<workdir>/_cache/frames` (asked when first needed). */
  constructor(opts: RemoteCacheOptions, framesRoot: () => string) {
    this.url = opts.url;
    this.#root = framesRoot;
    this.#stageOpts = opts.stage ?? null;
  }

  /** The stage folder (default `<workdir>/_cache/staged`) and its budget, or null (read in place). */
  get #stage(): { dir: string; maxBytes: number } | null {
    const s = this.#stageOpts;
    return s === null ? null : { dir: path.resolve(s.dir ?? path.join(this.#root(), '..', 'staged')), maxBytes: s.maxBytes };
  }

  /** The manifest, read on first use (null when the prefix has none; ERR_REMOTE, ERR_MANIFEST thrown, and asked again next time). */
  manifest(): Manifest | null {
    if (this.#manifest === undefined) this.#manifest = readManifestAt(this.url);
    return this.#manifest;
  }

  /** manifest() with the read on the libuv pool (concurrent callers share one read). */
  async manifestAsync(): Promise<Manifest | null> {
    if (this.#manifest !== undefined) return this.#manifest;
    if (this.#reading === null) {
      this.#reading = readManifestAtAsync(this.url).finally(() => { this.#reading = null; });
    }
    const m = await this.#reading;
    this.#manifest = m;
    return m;
  }

  #entry(m: Manifest | null, chan: ChannelInfo): ManifestEntry | null {
    if (typeof chan.cache !== 'string' || m === null) return null;
    return m.entries[entryKeyOf(chan.cache)] ?? null;
  }

  /** The published entry of `chan` when it may be used (listed, source unchanged), else null. */
  lookup(chan: ChannelInfo, stamps: RemoteStamps): ManifestEntry | null {
    const e = this.#entry(this.manifest(), chan);
    if (e === null || (chan.hashidMode === 'PATH' && !sourceUnchanged(chan.path, e.src, stamps))) return null;
    return e;
  }

  /** lookup with the manifest and the source's server asked on the libuv pool. */
  async lookupAsync(chan: ChannelInfo, stamps: RemoteStamps): Promise<ManifestEntry | null> {
    const e = this.#entry(await this.manifestAsync(), chan);
    if (e === null) return null;
    if (chan.hashidMode === 'PATH' && !await sourceUnchangedAsync(chan.path, e.src, stamps)) {
      debug('published entry %s is stale (its source changed)', e.object);
      return null;
    }
    return e;
  }

  /** The object's location: a URL form or /vsi path under a remote prefix, a file under a local one. */
  #where(e: ManifestEntry): string {
    return isVirtual(this.url) ? joinKey(this.url, e.object) : path.join(this.url, ...e.object.split('/'));
  }

  /**
   * `chan`'s published entry opened and checked (in place or staged), or null when there is none
   * to use. Blocks the calling thread (loadRegion and the other synchronous reads).
   */
  open(chan: ChannelInfo, stamps: RemoteStamps): ImageReader | null {
    const e = this.lookup(chan, stamps);
    if (e === null) return null;
    const where = this.#where(e);
    if (this.#stage !== null) {
      const file = this.#stagedSync(where, e);
      return this.#local(openImage(file) as RasterReader, chan, e, file);
    }
    if (!isVirtual(where)) return this.#local(openImage(where) as RasterReader, chan, e, where);
    const r = openPublished(where, { size: e.size, head: e.head });
    return verified(new PublishedReader(r, where), r.info, chan, e, where);
  }

  /** `chan`'s published entry opened and checked on the libuv pool, or null when there is none to use. */
  async openAsync(chan: ChannelInfo, stamps: RemoteStamps, signal?: AbortSignal): Promise<ImageReader | null> {
    const e = await this.lookupAsync(chan, stamps);
    if (e === null) return null;
    const where = this.#where(e);
    if (this.#stage !== null) {
      const file = await this.#staged(where, e);
      return this.#local(await openImageAsync(file, { signal }) as RasterReader, chan, e, file);
    }
    if (!isVirtual(where)) return this.#local(await openImageAsync(where, { signal }) as RasterReader, chan, e, where);
    debug('open %s in place (published entry of %s)', where, chan.cache);
    const r = await openPublishedAsync(where, { size: e.size, head: e.head }, signal);
    return verified(new PublishedReader(r, where), r.info, chan, e, where);
  }

  /** A local object (a local prefix, or a staged copy): its size, then its identity. */
  #local(r: RasterReader, chan: ChannelInfo, e: ManifestEntry, file: string): RasterReader {
    const st = fs.statSync(file, { throwIfNoEntry: false });
    if (st !== undefined && st.size !== e.size) {
      r.close();
      throw corrupt(file, `measures ${st.size} bytes, its manifest says ${e.size}`);
    }
    return verified(r, r.info, chan, e, file);
  }

  /** `object` as a path inside the stage folder; anything that would leave it is ERR_MANIFEST. */
  #stagePath(object: string): string {
    const dir = (this.#stage as { dir: string }).dir;
    const file = path.resolve(dir, ...object.split('/'));
    if (!file.startsWith(dir + path.sep)) {
      throw new FileError('ERR_MANIFEST', `manifest '${this.url}': object '${object}' would be staged outside '${dir}'`, { path: this.url, field: 'object' });
    }
    return file;
  }

  /** The checks of a staged download before it is renamed into place. */
  #checkDownload(where: string, e: ManifestEntry, size: number, xxh3: () => string): void {
    if (size !== e.size) throw corrupt(where, `measures ${size} bytes, its manifest says ${e.size}`);
    if (xxh3() !== e.xxh3) throw corrupt(where, 'does not match its manifest checksum (XXH3)');
  }

  /** #staged on the calling thread (synchronous reads: it blocks for the download). */
  #stagedSync(where: string, e: ManifestEntry): string {
    const file = this.#stagePath(e.object);
    const now = new Date();
    try {
      fs.utimesSync(file, now, now);
      return file;
    } catch { /* not staged yet */ }
    makeDirs(path.dirname(file));
    const lock = lockSync(lockPathFor(file));
    try {
      if (!fs.existsSync(file)) {
        publishFile(file, (tmp) => {
          if (isVirtual(where)) uploadFile(where, tmp);
          else fs.copyFileSync(where, tmp);
          this.#checkDownload(where, e, fs.statSync(tmp).size, () => hashFile(tmp));
        });
      }
    } finally {
      lock?.release();
    }
    const stage = this.#stage as { dir: string; maxBytes: number };
    const files: StagedFile[] = [];
    const walk = (d: string): void => {
      for (const ent of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, ent.name);
        if (ent.isDirectory()) walk(p);
        else if (isStaged(ent.name)) {
          const st = fs.statSync(p, { throwIfNoEntry: false });
          if (st !== undefined) files.push({ file: p, size: st.size, used: st.mtimeMs });
        }
      }
    };
    walk(stage.dir);
    for (const f of evictions(files, file, stage.maxBytes)) fs.rmSync(f, { force: true });
    return file;
  }

  /** Downloads `where` into the stage folder once (under a lock), checked, then evicts beyond maxBytes. */
  async #staged(where: string, e: ManifestEntry): Promise<string> {
    const stage = this.#stage as { dir: string; maxBytes: number };
    const file = this.#stagePath(e.object);
    const now = new Date();
    if (await fs.promises.utimes(file, now, now).then(() => true, () => false)) return file;
    await makeDirsAsync(path.dirname(file));
    const lock = await lockAsync(lockPathFor(file));
    try {
      if (!fs.existsSync(file)) {
        debug('stage %s -> %s', where, file);
        await publishFileAsync(file, async (tmp) => {
          if (isVirtual(where)) await uploadFileAsync(where, tmp);  // a download: the remote side is the source
          else await fs.promises.copyFile(where, tmp).catch((err: unknown) => { throw fsError(err, where, 'copyfile'); });
          const size = (await fs.promises.stat(tmp)).size;
          const xxh3 = size === e.size ? await hashFileAsync(tmp) : '';
          this.#checkDownload(where, e, size, () => xxh3);
        });
      }
    } finally {
      lock.release();
    }
    await this.#evict(file, stage);
    return file;
  }

  /** Removes the least recently used staged files until the folder holds at most maxBytes (never `keep`). */
  async #evict(keep: string, stage: { dir: string; maxBytes: number }): Promise<void> {
    const files: StagedFile[] = [];
    const walk = async (d: string): Promise<void> => {
      for (const ent of await fs.promises.readdir(d, { withFileTypes: true })) {
        const p = path.join(d, ent.name);
        if (ent.isDirectory()) await walk(p);
        else if (isStaged(ent.name)) {
          const st = await fs.promises.stat(p).catch(() => undefined);
          if (st !== undefined) files.push({ file: p, size: st.size, used: st.mtimeMs });
        }
      }
    };
    await walk(stage.dir);
    // open readers keep their file; the next open stages it again
    for (const f of evictions(files, keep, stage.maxBytes)) await fs.promises.rm(f, { force: true });
  }
}

interface StagedFile { file: string; size: number; used: number }
const isStaged = (name: string): boolean => !name.startsWith('.') && name.endsWith('.cog.tif');

/** The least recently used files to remove so that at most `maxBytes` stay (never `keep`). */
function evictions(files: StagedFile[], keep: string, maxBytes: number): string[] {
  let total = files.reduce((sum, f) => sum + f.size, 0);
  const out: string[] = [];
  for (const f of files.sort((a, b) => a.used - b.used)) {
    if (total <= maxBytes) break;
    if (f.file === keep) continue;
    out.push(f.file);
    total -= f.size;
  }
  return out;
}
