/**
 * Manifests of published caches: which object under a prefix holds which cache entry.
 *
 * `<prefix>/manifest.json` (and each shard's fragment `<prefix>/manifests/shard-<i>-of-<n>.json`):
 * `{format: 'ndsampler-manifest', version: 2, created, shard: [i, n] | null, entries: {<entry key>:
 * {object, size, xxh3, head, source, src}}}` (the schema and its checks: manifest-schema.ts). The
 * entry key is the entry's path under `<workdir>/_cache/frames` (`cog/<config hash>/<ab>/<hashid>.cog.tif`);
 * the object key is the same with the XXH3-128 of the file's bytes before the extension, so a
 * published object is never overwritten with other bytes (a rebuilt entry is a new object). `head`
 * is the length of the object's header (read in place with one GET); `src` is the source as it
 * was built (lib/cache/entry.ts SourceStamp). A prefix is a URL form, a /vsi path or a local folder.
 *
 * Runs on the calling thread; the *Async functions read and write on the libuv pool (the sync ones
 * block for as long as the server takes: the CLI's `manifest merge`).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeDirs, makeDirsAsync, publishFileAsync, tempPath, writeFileAtomic } from '../atomic';
import { FramesError, NdsamplerError, fsError } from '../errors';
import { listRemoteDir, readRemoteFile, readRemoteFileAsync, uploadFile, uploadFileAsync } from '../remote-io';
import { MANIFEST_FORMAT, MANIFEST_VERSION, parseManifest } from './manifest-schema';
import type { Manifest, ManifestEntry } from './manifest-schema';
import { MAX_SHARDS } from './shard';
import { isVirtual, joinKey } from './url';
import * as v from '../validate';

export { parseManifest, checkEntry, isPlainKey } from './manifest-schema';
export type { Manifest, ManifestEntry } from './manifest-schema';

export const MANIFEST_NAME = 'manifest.json';
export const FRAGMENT_DIR = 'manifests';
const FRAGMENT_RE = /^shard-(\d+)-of-(\d+)\.json$/;
/** The largest manifest read (an entry line is ~400 bytes: ~600,000 entries). */
const MAX_MANIFEST_BYTES = 256 << 20;

export const fragmentKey = (index: number, count: number): string => `${FRAGMENT_DIR}/shard-${index}-of-${count}.json`;

export function newManifest(shard: [number, number] | null, entries: Record<string, ManifestEntry> = {}): Manifest {
  return { format: MANIFEST_FORMAT, version: MANIFEST_VERSION, created: new Date().toISOString(), shard, entries };
}

/** The object key of an entry: its key with the content hash before the extension. */
export function objectKey(entryKey: string, xxh3: string): string {
  const m = /^(.*?)(\.cog\.tif|\.npy)$/.exec(entryKey);
  return m === null ? `${entryKey}.${xxh3}` : `${m[1]}.${xxh3.slice(0, 16)}${m[2]}`;
}

const missing = (err: unknown): boolean =>
  (err instanceof NdsamplerError && err.code === 'ERR_SOURCE_MISSING') || (err as NodeJS.ErrnoException).code === 'ENOENT';

/** Reads `<prefix>/<key>`; null when it does not exist (ERR_REMOTE, ERR_MANIFEST and others are thrown). */
export function readManifestAt(prefix: string, key = MANIFEST_NAME): Manifest | null {
  const where = joinKey(prefix, key);
  let text: string;
  try {
    text = isVirtual(prefix) ? readRemoteFile(where, MAX_MANIFEST_BYTES).toString('utf8') : fs.readFileSync(where, 'utf8');
  } catch (err) {
    if (missing(err)) return null;
    if (err instanceof NdsamplerError) throw err;
    throw fsError(err, where, 'open');
  }
  return parseManifest(text, where);
}

/** readManifestAt with the read on the libuv pool. */
export async function readManifestAtAsync(prefix: string, key = MANIFEST_NAME): Promise<Manifest | null> {
  const where = joinKey(prefix, key);
  let text: string;
  try {
    if (isVirtual(prefix)) {
      text = (await readRemoteFileAsync(where, MAX_MANIFEST_BYTES)).toString('utf8');
    } else {
      const st = await fs.promises.stat(where);
      if (st.size > MAX_MANIFEST_BYTES) throw new NdsamplerError('ERR_TOO_LARGE', `'${where}' is larger than ${MAX_MANIFEST_BYTES} bytes`, { path: where });
      text = await fs.promises.readFile(where, 'utf8');
    }
  } catch (err) {
    if (missing(err)) return null;
    if (err instanceof NdsamplerError) throw err;
    throw fsError(err, where, 'open');
  }
  return parseManifest(text, where);
}

const text = (manifest: Manifest): string => JSON.stringify(manifest, null, 1);

/**
 * Writes `<prefix>/<key>`: a local one by the atomic rule, a remote one with one PUT of a
 * temporary local copy (an object store replaces an object whole).
 */
export function writeManifestAt(prefix: string, key: string, manifest: Manifest): void {
  const where = joinKey(prefix, key);
  if (!isVirtual(prefix)) {
    makeDirs(path.dirname(where));
    writeFileAtomic(where, text(manifest));
    return;
  }
  const tmp = tempPath(path.join(os.tmpdir(), 'ndsampler-manifest.json'));
  try {
    fs.writeFileSync(tmp, text(manifest));
    uploadFile(tmp, where);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/** writeManifestAt with the file work and the upload on the libuv pool. */
export async function writeManifestAtAsync(prefix: string, key: string, manifest: Manifest): Promise<void> {
  const where = joinKey(prefix, key);
  const data = text(manifest);
  if (!isVirtual(prefix)) {
    await makeDirsAsync(path.dirname(where));
    await publishFileAsync(where, (tmp) => fs.promises.writeFile(tmp, data, { flag: 'wx' }).catch((err: unknown) => { throw fsError(err, where, 'write'); }));
    return;
  }
  const tmp = tempPath(path.join(os.tmpdir(), 'ndsampler-manifest.json'));
  try {
    await fs.promises.writeFile(tmp, data);
    await uploadFileAsync(tmp, where);
  } finally {
    await fs.promises.rm(tmp, { force: true });
  }
}

/** The fragments under `<prefix>/manifests/`: [index, count, key]. */
export function listFragments(prefix: string): Array<[number, number, string]> {
  const dir = joinKey(prefix, FRAGMENT_DIR);
  let names: string[];
  if (isVirtual(prefix)) names = listRemoteDir(dir);
  else {
    try {
      names = fs.readdirSync(dir);
    } catch {
      names = [];
    }
  }
  const out: Array<[number, number, string]> = [];
  for (const name of names) {
    const m = FRAGMENT_RE.exec(name);
    if (m !== null) out.push([Number(m[1]), Number(m[2]), `${FRAGMENT_DIR}/${name}`]);
  }
  return out.sort((a, b) => a[1] - b[1] || a[0] - b[0]);
}

export interface MergeReport {
  shards: number;
  entries: number;
  manifest: string;
}

/**
 * Joins the fragments of one sharded run (all of `shard-i-of-n` for i in 0..n-1, n the largest
 * count found) into `<prefix>/manifest.json`, over the entries it already lists. Refuses (ERR_PREPARE)
 * when a fragment is missing or two fragments give one entry different objects, and (ERR_MANIFEST)
 * any fragment that breaks the schema. Blocks the calling thread (a CLI command).
 */
export function mergeManifests(prefix: string, count?: number): MergeReport {
  v.string(prefix, 'prefix');
  if (count !== undefined) v.integer(count, 'count', 1, MAX_SHARDS);
  // (Fragments claiming more than MAX_SHARDS shards, or an index past their count, are not of any
  // run prepare can make: ignored, so that n and the missing ones are counted right.)
  const found = listFragments(prefix).filter((f) => f[1] <= MAX_SHARDS && f[0] < f[1]);
  const n = count ?? found.reduce((m, f) => Math.max(m, f[1]), 0);
  if (n === 0) throw new FramesError('ERR_PREPARE', `no manifest fragments under '${joinKey(prefix, FRAGMENT_DIR)}'`, { path: prefix });
  const mine = found.filter((f) => f[1] === n);
  const present = new Set(mine.map((f) => f[0]));
  if (present.size < n) {
    const first: number[] = [];  // the first few missing (n may be 10^6: never a list of all of them)
    for (let i = 0; i < n && first.length < 10; i++) if (!present.has(i)) first.push(i);
    const more = n - present.size - first.length;
    throw new FramesError('ERR_PREPARE', `manifest fragments of shards ${first.join(', ')}${more > 0 ? ` and ${more} more` : ''} of ${n} are missing under '${prefix}'`, { path: prefix });
  }
  const merged = readManifestAt(prefix) ?? newManifest(null);
  const fromShard = new Map<string, number>();
  for (const [i, , key] of mine) {
    const frag = readManifestAt(prefix, key);
    if (frag === null) throw new FramesError('ERR_PREPARE', `manifest fragment '${joinKey(prefix, key)}' vanished`, { path: prefix });
    for (const [k, e] of Object.entries(frag.entries)) {
      const other = fromShard.get(k);
      if (other !== undefined && merged.entries[k].object !== e.object) {
        throw new FramesError('ERR_PREPARE', `entry '${k}' is published as two objects, by shards ${other} and ${i}`, { path: prefix });
      }
      fromShard.set(k, i);
      merged.entries[k] = e;
    }
  }
  merged.shard = null;
  merged.created = new Date().toISOString();
  writeManifestAt(prefix, MANIFEST_NAME, merged);
  return { shards: n, entries: Object.keys(merged.entries).length, manifest: joinKey(prefix, MANIFEST_NAME) };
}
