/**
 * The manifest's schema, checked field by field: a manifest is input from a server, so nothing in
 * it is used before it is known to be what a publisher writes. Every violation is a FileError
 * ERR_MANIFEST naming the manifest (`path`), the `field` at fault (and the `entry` key): wrong
 * types, missing or unknown fields, duplicate keys in the JSON text, an unknown version, sizes
 * that are not plain integers, and every name that is not a plain relative key (`..`, `.`, an
 * absolute path, a backslash, `%`, `?`, `#`, a NUL or control character, an empty segment, over
 * 1024 characters): object keys become paths under the stage folder and URLs under the prefix.
 * What the checks cannot see (an object that is not the entry it is listed for) is checked
 * against the object itself when it is read (lib/remote/published.ts).
 *
 * Pure functions; any thread.
 */
import type { SourceStamp } from '../cache/entry';
import { FileError } from '../errors';
import * as v from '../validate';

export const MANIFEST_FORMAT = 'ndsampler-manifest';
export const MANIFEST_VERSION = 2;
/** The largest header length a manifest may record (a COG's IFDs and tile indexes: KiBs, MiBs for huge images). */
export const MAX_HEAD = 64 << 20;
const MAX_KEY = 1024;

export interface ManifestEntry {
  /** The object's key under the prefix. */
  object: string;
  size: number;
  /** XXH3-128 of the object's bytes (hex). */
  xxh3: string;
  /** Bytes [0, head) of the object hold its header (every IFD and tile index): read in place with one GET. */
  head: number;
  /** The source the entry was built from, and its stamp then. */
  source: string;
  src: SourceStamp;
}

export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  version: typeof MANIFEST_VERSION;
  created: string;
  shard: [number, number] | null;
  entries: Record<string, ManifestEntry>;
}

const TOP_KEYS = ['format', 'version', 'created', 'shard', 'entries'];
const ENTRY_KEYS = ['object', 'size', 'xxh3', 'head', 'source', 'src'];
const SRC_KEYS = ['size', 'mtimeNs', 'etag', 'lastModified'];
const SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,254}$/;
/** `cog/<config hash>/<ab>/<hashid>.cog.tif` (lib/cache/entry.ts cachePathFor, lib/remote/publish.ts entryKey). */
const ENTRY_KEY = /^cog\/[0-9a-f]{8}\/[A-Za-z0-9_-][A-Za-z0-9_.-]\/[A-Za-z0-9_-][A-Za-z0-9_.-]{1,199}\.cog\.tif$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

function bad(where: string, field: string, what: string, entry?: string): FileError {
  return new FileError('ERR_MANIFEST', `manifest '${where}': ${field} ${what}`, { path: where, field, entry });
}

/** A plain relative key: segments of letters, digits, '_', '-', '.', none starting with '.'. */
export function isPlainKey(s: unknown): s is string {
  return typeof s === 'string' && s.length > 0 && s.length <= MAX_KEY && s.split('/').every((seg) => SEGMENT.test(seg));
}

function isPlainString(s: unknown, max: number): s is string {
  return typeof s === 'string' && s.length <= max && !CONTROL.test(s);
}

const isCount = (n: unknown, min: number, max: number): n is number =>
  typeof n === 'number' && Number.isSafeInteger(n) && n >= min && n <= max;

function onlyKeys(o: Record<string, unknown>, allowed: string[], where: string, field: string, entry?: string): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) throw bad(where, `${field}${field ? '.' : ''}${k}`, 'is not a field of a version 2 manifest', entry);
  }
}

function checkSrc(s: unknown, where: string, field: string, entry: string): SourceStamp {
  if (!v.isPlainObject(s)) throw bad(where, field, `must be an object {size, mtimeNs, etag?, lastModified?}, not ${v.describe(s)}`, entry);
  onlyKeys(s, SRC_KEYS, where, field, entry);
  if (!isCount(s.size, 0, Number.MAX_SAFE_INTEGER)) throw bad(where, `${field}.size`, `must be a non-negative integer, not ${v.describe(s.size)}`, entry);
  if (typeof s.mtimeNs !== 'string' || !/^\d{0,30}$/.test(s.mtimeNs)) throw bad(where, `${field}.mtimeNs`, `must be a string of digits (or ''), not ${v.describe(s.mtimeNs)}`, entry);
  const stamp: SourceStamp = { size: s.size, mtimeNs: s.mtimeNs };
  for (const k of ['etag', 'lastModified'] as const) {
    if (s[k] === undefined) continue;
    if (!isPlainString(s[k], 1024)) throw bad(where, `${field}.${k}`, `must be a string without control characters, not ${v.describe(s[k])}`, entry);
    stamp[k] = s[k] as string;
  }
  return stamp;
}

/** Checks one entry (its key and its line). */
export function checkEntry(key: string, e: unknown, where: string): ManifestEntry {
  const f = `entries[${JSON.stringify(key)}]`;
  if (!ENTRY_KEY.test(key) || key.length > MAX_KEY) throw bad(where, f, 'is not an entry key (cog/<config hash>/<ab>/<hashid>.cog.tif)', key);
  if (!v.isPlainObject(e)) throw bad(where, f, `must be an object {object, size, xxh3, head, source, src}, not ${v.describe(e)}`, key);
  onlyKeys(e, ENTRY_KEYS, where, f, key);
  for (const k of ENTRY_KEYS) if (e[k] === undefined) throw bad(where, `${f}.${k}`, 'is missing', key);
  if (typeof e.object !== 'string') throw bad(where, `${f}.object`, `must be a string, not ${v.describe(e.object)}`, key);
  if (!isPlainKey(e.object) || !e.object.endsWith('.cog.tif')) {
    throw bad(where, `${f}.object`, `${JSON.stringify(e.object.slice(0, 200))} is not a plain relative key ending in .cog.tif (no '..', '.', absolute path, '\\', '%', '?', '#', control character or empty segment; at most ${MAX_KEY} characters)`, key);
  }
  if (!isCount(e.size, 1, Number.MAX_SAFE_INTEGER)) throw bad(where, `${f}.size`, `must be a positive integer, not ${v.describe(e.size)}`, key);
  if (typeof e.xxh3 !== 'string' || !/^[0-9a-f]{32}$/.test(e.xxh3)) throw bad(where, `${f}.xxh3`, `must be 32 lowercase hex digits, not ${v.describe(e.xxh3)}`, key);
  if (!isCount(e.head, 8, Math.min(e.size, MAX_HEAD))) throw bad(where, `${f}.head`, `must be an integer from 8 to min(size, ${MAX_HEAD}), not ${v.describe(e.head)}`, key);
  if (!isPlainString(e.source, 4096) || e.source === '') throw bad(where, `${f}.source`, `must be a non-empty string without control characters, not ${v.describe(e.source)}`, key);
  return { object: e.object, size: e.size, xxh3: e.xxh3, head: e.head, source: e.source, src: checkSrc(e.src, where, `${f}.src`, key) };
}

/** The first key that appears twice in one object of the (valid) JSON `text`, or null. */
export function duplicateKey(text: string): string | null {
  const stack: Array<Set<string> | null> = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x7b) {
      stack.push(new Set());
      expectKey = true;
    } else if (c === 0x5b) {
      stack.push(null);
      expectKey = false;
    } else if (c === 0x7d || c === 0x5d) {
      stack.pop();
      expectKey = false;
    } else if (c === 0x2c) {
      expectKey = stack.length > 0 && stack[stack.length - 1] !== null;
    } else if (c === 0x22) {
      let j = i + 1;
      let escaped = false;
      for (; j < text.length; j++) {
        const d = text.charCodeAt(j);
        if (d === 0x5c) escaped = true;
        else if (d === 0x22) break;
        if (d === 0x5c && j + 1 < text.length) j++;
      }
      if (expectKey) {
        const raw = text.slice(i, j + 1);
        const key = escaped ? (JSON.parse(raw) as string) : raw.slice(1, -1);
        const seen = stack[stack.length - 1] as Set<string>;
        if (seen.has(key)) return key;
        seen.add(key);
        expectKey = false;
      }
      i = j;
    }
  }
  return null;
}

/** Parses and checks a manifest's text (see the module comment). */
export function parseManifest(text: string, where: string): Manifest {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch (err) {
    throw new FileError('ERR_MANIFEST', `manifest '${where}' is not valid JSON: ${(err as Error).message}`, { path: where, field: '', cause: err });
  }
  if (!v.isPlainObject(m)) throw bad(where, 'the manifest', `must be a JSON object, not ${v.describe(m)}`);
  if (m.format !== MANIFEST_FORMAT) throw bad(where, 'format', `must be '${MANIFEST_FORMAT}', not ${v.describe(m.format)}`);
  if (m.version !== MANIFEST_VERSION) {
    throw bad(where, 'version', m.version === 1
      ? 'is 1: version 1 manifests record no header lengths and their objects carry no identity; publish the cache again'
      : `must be ${MANIFEST_VERSION}, not ${v.describe(m.version)}`);
  }
  onlyKeys(m, TOP_KEYS, where, '');
  if (!isPlainString(m.created, 64)) throw bad(where, 'created', `must be a date string, not ${v.describe(m.created)}`);
  let shard: [number, number] | null = null;
  if (m.shard !== null) {
    const s = m.shard;
    if (!Array.isArray(s) || s.length !== 2 || !isCount(s[1], 1, 1_000_000) || !isCount(s[0], 0, (s[1] as number) - 1)) {
      throw bad(where, 'shard', `must be null or [index, count] with 0 <= index < count, not ${v.describe(s)}`);
    }
    shard = [s[0] as number, s[1] as number];
  }
  if (!v.isPlainObject(m.entries)) throw bad(where, 'entries', `must be an object of entry key -> entry, not ${v.describe(m.entries)}`);
  const dup = duplicateKey(text);
  if (dup !== null) throw bad(where, `key ${JSON.stringify(dup.slice(0, 200))}`, 'appears twice in one object (a JSON parser would keep only the last)');
  const entries: Record<string, ManifestEntry> = Object.create(null) as Record<string, ManifestEntry>;
  for (const [key, e] of Object.entries(m.entries)) entries[key] = checkEntry(key, e, where);
  return { format: MANIFEST_FORMAT, version: MANIFEST_VERSION, created: m.created, shard, entries };
}
