/** The command line's shared parts: usage text, argument parsing, input collection, output. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import { makeDirs } from '../atomic';
import { FileError, NdsamplerError } from '../errors';
import type { BackendSpec, ImageId } from '../frames/frames';
import { defaultWorkdir } from '../frames/pathinfo';
import { isVirtual } from '../remote/url';

/** The most shards a run may have (as prepare's `shard` option: lib/remote/shard.ts). */
export { MAX_SHARDS } from '../remote/shard';
import { MAX_SHARDS } from '../remote/shard';

export const USAGE = `Usage: ndsampler <command> [options]

Commands:
  demo [--workdir DIR]              make the demo images, prepare them with the npy and cog
                                    backends, sample random crops and print their timings
  prepare <input...> [options]      build the cache entries of images; each input is an image
                                    file, a folder of images, or a .json list of paths
                                    (or an {"id": "path"} object)
      --workdir DIR                 cache location (default: ${defaultWorkdir()})
      --backend npy|cog|auto        cache format (default: auto)
      --workers N                   conversions at once (default: 2)
      --hashid-mode PATH|PIXELS     how cache entries are named (default: PATH)
      --recursive                   also take images in sub-folders
      --shard I/N                   prepare shard I of N only (0 <= I < N <= ${MAX_SHARDS}) and write its
                                    manifest fragment; default: from JOB_COMPLETION_INDEX +
                                    JOB_COMPLETIONS or SLURM_ARRAY_TASK_ID + SLURM_ARRAY_TASK_COUNT
      --publish PREFIX              upload the cog entries to PREFIX (s3://bucket/prefix, ...)
                                    and then their manifest
                                    (inputs may be URLs: https://..., s3://..., /vsicurl/...)
  manifest merge <prefix> [--shards N]
                                    join the shards' manifest fragments under PREFIX (an
                                    object-store prefix or a workdir's _cache/frames) into
                                    PREFIX/manifest.json (N: the run's shard count, at most
                                    ${MAX_SHARDS}; default: the largest found)
  info <image> [--workdir DIR]      shape, dtype, bands, whether it is a COG, and its cache entries
                                    (a .kwcoco.json / COCO .json: its images, assets, channels, caches;
                                    prepare takes one too and prepares every asset)
  show <dataset|demo> --out FILE    a contact sheet of samples with their boxes, polygons and
      [--image ID | --sampler]      keypoints drawn (--count N, --size PX, --seed S, --workdir DIR)
  show <dataset|demo-video>         space-time samples as strips, one row of frames per window:
      --out FILE [--video ID]       that whole video, or the first --count track windows of
      [--frames T]                  --frames x --size x --size (default 5 x 128 x 128)
  bench [args...]                   run the benchmark (bench/run.ts of a source checkout)

Options:
  -h, --help                        show this text
  -v, --version                     show the version
`;

const IMAGE_EXTS = new Set(['.png', '.jpg', '.jpeg', '.tif', '.tiff', '.gtiff', '.bmp', '.gif', '.webp', '.jp2', '.npy', '.vrt', '.img']);

/** A mistake in the command line: printed with the usage text, exit code 2. */
export class UsageError extends Error {}

export const out = (s: string) => process.stdout.write(s + '\n');
export const err = (s: string) => process.stderr.write(s + '\n');

interface Parsed { values: Record<string, string | boolean | undefined>; positionals: string[] }

export function parse(args: string[], options: NonNullable<ParseArgsConfig['options']>, positionals: [number, number]): Parsed {
  let parsed: Parsed;
  try {
    parsed = parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true }) as Parsed;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const n = parsed.positionals.length;
  if (!parsed.values.help && (n < positionals[0] || n > positionals[1])) {
    throw new UsageError(positionals[0] === positionals[1]
      ? `expected ${positionals[0]} argument${positionals[0] === 1 ? '' : 's'} but received ${n}`
      : n < positionals[0] ? 'missing arguments' : `unexpected argument '${parsed.positionals[positionals[1]]}'`);
  }
  return parsed;
}

export function backendArg(s: string | boolean | undefined): BackendSpec {
  const b = s === undefined ? 'auto' : String(s);
  if (b !== 'npy' && b !== 'cog' && b !== 'auto') throw new UsageError(`--backend must be npy, cog or auto; received '${b}'`);
  return b;
}

export function intArg(s: string | boolean | undefined, name: string, dflt: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (s === undefined) return dflt;
  const n = s === '' ? NaN : Number(s);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`${name} must be an integer ${max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`}; received '${String(s)}'`);
  }
  return n;
}

/**
 * `--workdir DIR` as an absolute path (the default when absent). An empty value is a usage error
 * (it would otherwise mean the current directory). With `create`, the directory is made now, one
 * level at a time (lib/atomic.ts makeDirs: never Node's recursive mkdirSync, which loops forever
 * under /proc), so a place that cannot hold it fails at once with a coded FileError.
 */
export function workdirArg(s: string | boolean | undefined, dflt: string, create: boolean): string {
  if (s === '' || s === true) throw new UsageError('--workdir needs a directory; received an empty value');
  const dir = path.resolve(s === undefined || s === false ? dflt : s);
  if (create) makeDirs(dir);
  return dir;
}

/** `--shard I/N` -> [I, N]; undefined when not given. */
export function shardArg(s: string | boolean | undefined): [number, number] | undefined {
  if (s === undefined) return undefined;
  const m = /^(\d{1,16})\/(\d{1,16})$/.exec(String(s));
  if (m === null || Number(m[2]) < 1 || Number(m[1]) >= Number(m[2]) || Number(m[2]) > MAX_SHARDS) {
    throw new UsageError(`--shard must be I/N with 0 <= I < N <= ${MAX_SHARDS}; received '${String(s)}'`);
  }
  return [Number(m[1]), Number(m[2])];
}

export function describeError(e: unknown): string {
  if (e instanceof NdsamplerError) return `${e.code}: ${e.message}`;
  return e instanceof Error ? e.message : String(e);
}

export function help(): number {
  process.stdout.write(USAGE);
  return 0;
}

/** True when `name` (a file name's bytes) is not valid UTF-8: no JS string can name that file. */
function notUtf8(name: Buffer): boolean {
  return !Buffer.from(name.toString('utf8'), 'utf8').equals(name);
}

/** A file name's bytes as text: ASCII as is, every other byte as \xNN. */
function escapeName(name: Buffer): string {
  let s = '';
  for (const b of name) s += b >= 0x20 && b < 0x7f && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
  return s;
}

function badName(dir: string, name: Buffer): FileError {
  const shown = path.join(dir, escapeName(name));
  return new FileError('ERR_PATH_ENCODING',
    `'${shown}' exists, but its name is not valid UTF-8, so no JavaScript string (and no ndsampler path) can name it: ` +
    'rename it to UTF-8 (e.g. `convmv -f latin1 -t utf-8 --notest FILE`) or give it a UTF-8 link (`ln -s`)', { path: shown });
}

/**
 * For a path that does not exist: the coded error to give instead of ERR_SOURCE_MISSING when it
 * is the (lossy, U+FFFD) decoding of a file name that exists but is not valid UTF-8 (a shell
 * argument or a directory listing decoded by Node); null otherwise.
 */
export function pathEncodingError(p: string): FileError | null {
  if (!p.includes('\uFFFD') || fs.existsSync(p)) return null;
  const dir = path.dirname(path.resolve(p));
  const base = path.basename(p);
  let names: Buffer[];
  try {
    names = fs.readdirSync(dir, { encoding: 'buffer' });
  } catch {
    return null;
  }
  const hit = names.find((n) => notUtf8(n) && n.toString('utf8') === base);
  return hit === undefined ? null : badName(dir, hit);
}

function listImages(dir: string, recursive: boolean, problems: FileError[]): string[] {
  const found: string[] = [];
  const ents = fs.readdirSync(dir, { withFileTypes: true, encoding: 'buffer' }).sort((a, b) => Buffer.compare(a.name, b.name));
  for (const ent of ents) {
    const text = ent.name.toString('utf8');
    const isImage = IMAGE_EXTS.has(path.extname(text).toLowerCase()) && !text.endsWith('.aux.xml');
    if (notUtf8(ent.name)) {
      if ((ent.isDirectory() && recursive) || isImage) problems.push(badName(dir, ent.name));
      continue;
    }
    const p = path.join(dir, text);
    if (ent.isDirectory()) {
      if (recursive && !text.startsWith('.')) found.push(...listImages(p, true, problems));
    } else if (isImage) {
      found.push(p);
    }
  }
  return found;
}

/**
 * Inputs -> id -> absolute path (ids 1..N in order, or the keys of a .json object). Files whose
 * names are not valid UTF-8 cannot be named by a path string: each is a FileError
 * ERR_PATH_ENCODING, pushed onto `problems` when given, thrown otherwise.
 */
export function collectInputs(inputs: string[], recursive: boolean, problems?: FileError[]): Map<ImageId, string> {
  const bad: FileError[] = problems ?? [];
  const result = new Map<ImageId, string>();
  const seen = new Set<string>();
  let next = 1;
  const add = (p: string, id?: string) => {
    const abs = isVirtual(p) ? p : path.resolve(p);
    if (seen.has(abs) && id === undefined) return;
    seen.add(abs);
    result.set(id ?? next++, abs);
  };
  for (const input of inputs) {
    if (isVirtual(input)) {
      add(input);  // a remote image: prepare reports it as failed when it cannot be read
      continue;
    }
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(input);
    } catch {
      st = undefined;
    }
    if (st?.isDirectory()) {
      for (const p of listImages(input, recursive, bad)) add(p);
    } else if (st?.isFile() && path.extname(input).toLowerCase() === '.json') {
      let list: unknown;
      try {
        list = JSON.parse(fs.readFileSync(input, 'utf8'));
      } catch (e) {
        throw new UsageError(`${input}: not valid JSON (${(e as Error).message})`);
      }
      const base = path.dirname(path.resolve(input));
      if (Array.isArray(list) && list.every((x) => typeof x === 'string')) {
        for (const p of list as string[]) add(isVirtual(p) ? p : path.resolve(base, p));
      } else if (list !== null && typeof list === 'object' && !Array.isArray(list)
        && Object.values(list).every((x) => typeof x === 'string')) {
        for (const [id, p] of Object.entries(list as Record<string, string>)) add(isVirtual(p) ? p : path.resolve(base, p), id);
      } else {
        throw new UsageError(`${input}: expected a JSON array of paths or an object of id -> path`);
      }
    } else {
      const enc = st === undefined ? pathEncodingError(input) : null;
      if (enc !== null) bad.push(enc);
      else add(input);  // a file, or a missing one: prepare reports it as failed
    }
  }
  if (problems === undefined && bad.length > 0) throw bad[0];
  return result;
}

