/**
 * The checks behind Frames.toJSON / Frames.fromJSON: the registry of revivable subclasses, and the
 * parsing and validation of a serialised Frames object (every failure is ERR_FRAMES_JSON).
 * Frames keeps the public static methods and delegates here. Runs on the calling JS thread.
 */
import type { Pathinfo } from '../cache/config';
import { FramesError } from '../errors';
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

/** The pathinfo in a FramesJSON's `pathinfo` array that are well-formed enough to adopt (others are skipped). */
export function carriedPathinfo(list: unknown[]): Pathinfo[] {
  return list.filter((pi): pi is Pathinfo =>
    v.isPlainObject(pi) && (typeof pi.id === 'number' || typeof pi.id === 'string'));
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new FramesError('ERR_FRAMES_JSON', `invalid Frames JSON: ${(err as Error).message}`);
  }
}
