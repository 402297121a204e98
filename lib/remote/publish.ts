/**
 * Publishing cache entries to a prefix (prepare's `publish`): an object-store or HTTP prefix, or a
 * local folder (an NFS mount, say).
 *
 * Each entry is built locally first (lock, commit record: lib/cache/opener.ts), then copied whole
 * to a content-addressed object key (manifest.ts objectKey), skipped when the object is already
 * there with that size: to a remote prefix with one VSI write (one PUT; GDAL turns files over its
 * chunk size, 50 MiB by default, into a multipart upload, which S3 also makes visible only once
 * complete), to a local folder by the atomic rule (temp file, fsync, rename). The object carries
 * its identity in its header (NDSAMPLER_ENTRY / NDSAMPLER_SRC: lib/cache/entry.ts); an entry that
 * does not (a symlink to a source that already is a COG, an entry built before identities existed)
 * is published as a tagged copy. Its manifest line records the header's length, so readers fetch
 * the header with one GET. The manifest (or the shard's fragment) is written last by prepare, so a
 * reader never finds a manifest naming an object that is not complete.
 *
 * Runs on the calling thread; hashing, copies, uploads and the server's answers on the libuv pool.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { debuglog } from 'node:util';
import { copyFileAtomicAsync, makeDirsAsync } from '../atomic';
import { hashFileAsync } from '../cache/config';
import type { BackendConfig, ChannelInfo } from '../cache/config';
import { entryKeyOf, fileStamp, identityOf, readSidecar, sameStamp, stampText } from '../cache/entry';
import { FramesError, NdsamplerError } from '../errors';
import { cogHeaderLengthAsync, writeCogTaggedAsync } from '../gdal';
import type { RasterReader } from '../readers';
import { openImageAsync } from '../readers-async';
import { statRemoteAsync, uploadFileAsync } from '../remote-io';
import { objectKey } from './manifest';
import type { ManifestEntry } from './manifest';
import { MAX_HEAD } from './manifest-schema';
import { isVirtual, joinKey } from './url';

const debug = debuglog('ndsampler');

/** An entry's key: its path under `<workdir>/_cache/frames` (the same on every machine). */
export function entryKey(framesRoot: string, entry: string): string {
  return path.relative(framesRoot, entry).split(path.sep).join('/');
}

/** The size of the object `where` already has under the prefix, or null when there is none. */
async function presentSize(where: string): Promise<number | null> {
  if (isVirtual(where)) {
    try {
      return (await statRemoteAsync(where, { fresh: true })).size;
    } catch (err) {
      if (err instanceof NdsamplerError && err.code === 'ERR_SOURCE_MISSING') return null;
      throw err;
    }
  }
  const st = await fs.promises.stat(where).catch(() => null);
  return st === null ? null : st.size;
}

/** Copies `file` to `where` (a remote object: one VSI write; a local file: the atomic rule). */
async function putObject(file: string, where: string): Promise<void> {
  if (isVirtual(where)) {
    await uploadFileAsync(file, where);
    return;
  }
  await makeDirsAsync(path.dirname(where));
  await copyFileAtomicAsync(file, where);
}

/** True when the entry file carries the identity the published object must carry. */
async function tagged(entry: string, key: string, src: string): Promise<boolean> {
  const r = await openImageAsync(entry) as RasterReader;
  try {
    const id = r.info.identity;
    return id !== null && id.entry === key && id.src === src;
  } finally {
    r.close();
  }
}

/**
 * Publishes one (fresh, just ensured) entry under `prefix` and returns its manifest line. The entry
 * is hashed, copied, and its identity checked again afterwards: when another process replaced it
 * meanwhile, it is published again (once) from the new file.
 */
export async function publishEntry(chan: ChannelInfo, framesRoot: string, prefix: string, backend: BackendConfig): Promise<[string, ManifestEntry]> {
  const entry = chan.cache as string;
  const key = entryKey(framesRoot, entry);
  for (let attempt = 0; ; attempt++) {
    const before = fileStamp(entry);
    const side = readSidecar(entry);
    if (before === null || side === null || !sameStamp(before, side.entry)) {
      throw new FramesError('ERR_PREPARE', `cache entry '${entry}' changed before it could be published`, { path: entry });
    }
    let file = entry;
    let copy: string | null = null;
    try {
      if (!await tagged(entry, entryKeyOf(entry), stampText(side.src))) {
        copy = path.join(os.tmpdir(), `ndsampler-publish-${process.pid}-${randomBytes(8).toString('hex')}.cog.tif`);
        debug('publish %s: writing a copy that carries its identity', entry);
        await writeCogTaggedAsync(entry, copy, backend.config, identityOf(chan, side.src));
        file = copy;
      }
      const size = (await fs.promises.stat(file)).size;
      const xxh3 = await hashFileAsync(file);
      const found = await cogHeaderLengthAsync(file);
      const head = found >= 8 && found <= Math.min(size, MAX_HEAD) ? found : Math.min(size, 1 << 16);
      const object = objectKey(key, xxh3);
      const where = isVirtual(prefix) ? joinKey(prefix, object) : path.join(prefix, ...object.split('/'));
      if (await presentSize(where) !== size) {
        debug('publish %s -> %s', file, where);
        await putObject(file, where);
      }
      if (sameStamp(fileStamp(entry), before) || attempt > 0) {
        return [key, { object, size, xxh3, head, source: side.source, src: side.src }];
      }
    } finally {
      if (copy !== null) await fs.promises.rm(copy, { force: true });
    }
  }
}
export type { RemoteCacheOptions } from './published';
