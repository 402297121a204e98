/**
 * The checks behind Frames.toJSON / Frames.fromJSON: the registry of revivable subclasses, and the
 * parsing and validation of a serialised Frames object (every failure is ERR_FRAMES_JSON).
 * Frames keeps the public static methods and delegates here. Runs on the calling JS thread.
 */
import * as path from 'node:path';
import { checkHashid } from '../cache/config';
import type { BackendType, Pathinfo } from '../cache/config';
import { CACHE_EXT, cachePathFor } from '../cache/entry';
import { FramesError, NdsamplerError } from '../errors';
import * as v from '../validate';
import type { FramesJSON } from './types';

/** What the registry needs of a class: a name and a static fromState (FramesClass in frames.ts). */
interface Revivable {
  readonly name: string;
  fromState(state: unknown, opts: never): unknown;
}

/** Subclasses by registered name (one per Frames root class; holds constructors only). */
export class ClassRegistry<C extends Revivable> {
  readonly #byName = new Map<string, C>();

  register(cls: C, name: string): void {
    if (typeof cls !== 'function' || typeof (cls as Revivable).fromState !== 'function') {
      throw v.typeError('a Frames subclass with a static fromState(state, opts)', 'cls', cls);
    }
    v.string(name, 'name');
    this.#byName.set(name, cls);
  }

  /** The name `ctor` was registered under, else its own name. */
  nameOf(ctor: unknown, fallback: string): string {
    for (const [name, cls] of this.#byName) if ((cls as unknown) === ctor) return name;
    return fallback;
  }

  /** The class a serialised object names; throws ERR_FRAMES_JSON when it is not registered. */
  lookup(name: unknown): C {
    const cls = typeof name === 'string' ? this.#byName.get(name) : undefined;
    if (cls === undefined) {
      throw new FramesError('ERR_FRAMES_JSON',
        `Frames class '${String(name)}' is not registered here (import its module, which calls Frames.register, first)`);
    }
    return cls;
  }
}

/** A FramesJSON (or its text) checked for format and version. */
export function readFramesJson(json: FramesJSON | string): FramesJSON {
  const j = (typeof json === 'string' ? parseJson(json) : json) as FramesJSON;
  if (!v.isPlainObject(j) || j.format !== 'ndsampler.Frames') {
    throw new FramesError('ERR_FRAMES_JSON', `not a serialised Frames object (expected format 'ndsampler.Frames')`);
  }
  if (j.version !== 1) throw new FramesError('ERR_FRAMES_JSON', `unsupported Frames JSON version ${String(j.version)}`);
  return j;
}

/** Where the reviving Frames keeps its cache entries (its own backend, not the JSON's word). */
export interface CacheTarget {
  cacheDpath: string | null;
  type: BackendType | null;
}

/**
 * The pathinfo in a FramesJSON's `pathinfo` array that are well-formed enough to adopt (others
 * are skipped). A carried channel names the file the Frames will WRITE (its cache entry), so each
 * one is checked against the reviving Frames' own cache directory: its hashid must be safe and
 * its `cache` exactly `cachePathFor(cacheDpath, hashid, type)`. Anything else (an absolute path
 * elsewhere, `../`, a relative path, an unsafe hashid, a cache without a backend) throws
 * ERR_FRAMES_JSON before anything is opened or written.
 */
export function carriedPathinfo(list: unknown[], target: CacheTarget): Pathinfo[] {
  const carried = list.filter((pi): pi is Pathinfo =>
    v.isPlainObject(pi) && (typeof pi.id === 'number' || typeof pi.id === 'string'));
  for (const pi of carried) {
    if (!v.isPlainObject(pi.channels)) continue;
    for (const [name, chan] of Object.entries(pi.channels)) {
      if (!v.isPlainObject(chan) || chan.cache === null || chan.cache === undefined) continue;
      checkCarriedCache(String(pi.id), name, chan.cache, chan.hashid, target);
    }
  }
  return carried;
}

function checkCarriedCache(id: string, name: string, cache: unknown, hashid: unknown, t: CacheTarget): void {
  const where = `pathinfo of image ${id}, channel '${name}'`;
  const refuse = (why: string): never => {
    throw new FramesError('ERR_FRAMES_JSON', `${where}: ${why}; received cache ${v.describe(cache)}`);
  };
  if (typeof cache !== 'string') refuse('a cache entry must be a path');
  if (t.cacheDpath === null || t.type === null) refuse('a Frames without a cache backend has no cache entries');
  try {
    checkHashid(hashid, where);
  } catch (err) {
    if (err instanceof NdsamplerError) refuse(`its hashid ${v.describe(hashid)} is not a safe file name`);
    throw err;
  }
  const file = cache as string;
  const rel = path.relative(t.cacheDpath as string, file);
  const parts = rel.split(path.sep);
  if (!path.isAbsolute(file) || path.normalize(file) !== file || parts.length !== 2
      || !parts.every((p) => SAFE_NAME.test(p)) || !file.endsWith(CACHE_EXT[t.type as BackendType])) {
    refuse(`a cache entry must be '<cache dir>/<ab>/<hashid>${CACHE_EXT[t.type as BackendType]}' inside this Frames' cache directory '${t.cacheDpath}' (e.g. '${cachePathFor(t.cacheDpath as string, hashid as string, t.type as BackendType)}')`);
  }
}

/** A file or directory name: no separators, not '.' or '..', not hidden. */
const SAFE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/;

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new FramesError('ERR_FRAMES_JSON', `invalid Frames JSON: ${(err as Error).message}`);
  }
}
