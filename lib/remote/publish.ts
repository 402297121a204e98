/**
 * Publishing cache entries to an object-store prefix (prepare's `publish`), and reading them back
 * in place or staged (Frames's `remoteCache`).
 *
 * Publisher: each entry is built locally first (lock, commit record: lib/cache/opener.ts), then
 * uploaded with one VSI write of the whole file (one PUT; GDAL turns files over its chunk size,
 * 50 MiB by default, into a multipart upload, which S3 also makes visible only once complete), to
 * a content-addressed object key (manifest.ts), skipped when the object is already there with that
 * size. The manifest (or the shard's fragment) is uploaded last, so a reader never finds a
 * manifest naming an object that is not complete.
 *
 * Reader: the manifest is read once per PublishedCache; an entry listed there whose source is
 * unchanged (same rule as local entries; a source that is gone or unreachable keeps it) is opened
 * in place through GDAL (range requests), or, with `stage`, downloaded once into a bounded local
 * folder (checked against its XXH3, published by the atomic rule, least recently used files evicted).
 *
 * Runs on the calling thread; uploads and hashing run on the libuv pool.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { debuglog } from 'node:util';
import { tempPath } from '../atomic';
import { hashFile, hashFileAsync } from '../cache/config';
import type { ChannelInfo } from '../cache/config';
import { fileStamp, readSidecar, sameStamp, sourceUnchanged } from '../cache/entry';
import { FileError, FramesError, NdsamplerError, fsError } from '../errors';
import { statRemote, uploadFile, uploadFileAsync } from '../gdal';
import { lockPathFor, lockSync } from '../lock';
import * as v from '../validate';
import { objectKey, readManifestAt } from './manifest';
import type { Manifest, ManifestEntry } from './manifest';
import { isVirtual, joinKey, toGdalPath } from './url';

const debug = debuglog('ndsampler');

/** An entry's key: its path under `<workdir>/_cache/frames` (the same on every machine). */
export function entryKey(framesRoot: string, entry: string): string {
  return path.relative(framesRoot, entry).split(path.sep).join('/');
}

/**
 * Uploads one (fresh, just ensured) entry under `prefix` and returns its manifest line. The entry
 * is hashed, uploaded, and its identity checked again afterwards: when another process replaced
 * it meanwhile, the upload is done again (once) from the new file.
 */
export async function publishEntry(chan: ChannelInfo, framesRoot: string, prefix: string): Promise<[string, ManifestEntry]> {
  const entry = chan.cache as string;
  const key = entryKey(framesRoot, entry);
  for (let attempt = 0; ; attempt++) {
    const before = fileStamp(entry);
    const side = readSidecar(entry);
    if (before === null || side === null || !sameStamp(before, side.entry)) {
      throw new FramesError('ERR_PREPARE', `cache entry '${entry}' changed before it could be published`, { path: entry });
    }
    const xxh3 = await hashFileAsync(entry);
    const object = objectKey(key, xxh3);
    const url = joinKey(prefix, object);
    let present = false;
    try {
      present = statRemote(url, { fresh: true }).size === before.size;
    } catch (err) {
      if (!(err instanceof NdsamplerError && err.code === 'ERR_SOURCE_MISSING')) throw err;
    }
    if (!present) {
      debug('publish %s -> %s', entry, url);
      await uploadFileAsync(entry, url);
    }
    if (sameStamp(fileStamp(entry), before) || attempt > 0) {
      return [key, { object, size: before.size, xxh3, source: side.source, src: side.src }];
    }
  }
}

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

/** The reader side of a published cache (see the module comment). One per Frames. */
export class PublishedCache {
  readonly url: string;
  readonly #root: () => string;
  readonly #stageOpts: { dir?: string; maxBytes: number } | null;
  #manifest: Manifest | null | undefined;

  /** `framesRoot`: `<workdir>/_cache/frames` (asked when first needed). */
  constructor(opts: RemoteCacheOptions, framesRoot: () => string) {
    this.url = opts.url;
    this.#root = framesRoot;
    this.#stageOpts = opts.stage ?? null;
  }

  get #framesRoot(): string {
    return this.#root();
  }

  /** The stage folder (default `<workdir>/_cache/staged`) and its budget, or null (read in place). */
  get #stage(): { dir: string; maxBytes: number } | null {
    const s = this.#stageOpts;
    return s === null ? null : { dir: s.dir ?? path.join(this.#framesRoot, '..', 'staged'), maxBytes: s.maxBytes };
  }

  /** The manifest, read on first use (null when the prefix has none; ERR_REMOTE when unreachable). */
  manifest(): Manifest | null {
    if (this.#manifest === undefined) this.#manifest = readManifestAt(this.url);
    return this.#manifest;
  }

  /** The published entry of `chan` when it may be used (listed, source unchanged), else null. */
  lookup(chan: ChannelInfo): ManifestEntry | null {
    if (typeof chan.cache !== 'string') return null;
    const e = this.manifest()?.entries[entryKey(this.#framesRoot, chan.cache)];
    if (e === undefined) return null;
    if (chan.hashidMode === 'PATH' && !sourceUnchanged(chan.path, e.src)) {
      debug('published entry %s is stale (its source changed)', e.object);
      return null;
    }
    return e;
  }

  /** The path to open for `chan`'s published entry (remote, or the staged copy), or null. */
  pathFor(chan: ChannelInfo): string | null {
    const e = this.lookup(chan);
    if (e === null) return null;
    const remote = joinKey(this.url, e.object);
    if (this.#stage === null) return isVirtual(remote) ? toGdalPath(remote) : remote;
    return this.#staged(remote, e);
  }

  /** Downloads `remote` into the stage folder once (under a lock), then evicts beyond maxBytes. */
  #staged(remote: string, e: ManifestEntry): string {
    const stage = this.#stage as { dir: string; maxBytes: number };
    const file = path.join(stage.dir, ...e.object.split('/'));
    const now = new Date();
    if (fs.existsSync(file)) {
      try { fs.utimesSync(file, now, now); } catch { /* evicted meanwhile: staged again next time */ }
      return file;
    }
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
    } catch (err) {
      throw fsError(err, path.dirname(file), 'mkdir');
    }
    const lock = lockSync(lockPathFor(file));
    try {
      if (!fs.existsSync(file)) {
        const tmp = tempPath(file);
        try {
          uploadFile(remote, tmp);
          if (hashFile(tmp) !== e.xxh3) {
            throw new FileError('ERR_CACHE_CORRUPT', `published entry '${remote}' does not match its manifest checksum`, { path: remote });
          }
          fs.renameSync(tmp, file);
        } finally {
          fs.rmSync(tmp, { force: true });
        }
      }
    } finally {
      lock?.release();
    }
    this.#evict(file);
    return file;
  }

  /** Removes the least recently used staged files until the folder holds at most maxBytes (never `keep`). */
  #evict(keep: string): void {
    const stage = this.#stage as { dir: string; maxBytes: number };
    const files: Array<{ file: string; size: number; used: number }> = [];
    const walk = (d: string): void => {
      for (const ent of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, ent.name);
        if (ent.isDirectory()) walk(p);
        else if (!ent.name.startsWith('.')) {
          const st = fs.statSync(p, { throwIfNoEntry: false });
          if (st !== undefined) files.push({ file: p, size: st.size, used: st.mtimeMs });
        }
      }
    };
    walk(stage.dir);
    let total = files.reduce((s, f) => s + f.size, 0);
    for (const f of files.sort((a, b) => a.used - b.used)) {
      if (total <= stage.maxBytes) break;
      if (f.file === keep) continue;
      fs.rmSync(f.file, { force: true });  // open readers keep their file; the next open stages it again
      total -= f.size;
    }
  }
}
