/** The command line's shared parts: usage text, argument parsing, input collection, output. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import { NdsamplerError } from '../errors';
import type { BackendSpec, ImageId } from '../frames/frames';
import { defaultWorkdir } from '../frames/pathinfo';
import { isVirtual } from '../remote/url';

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
      --shard I/N                   prepare shard I of N only (0 <= I < N) and write its
                                    manifest fragment; default: from JOB_COMPLETION_INDEX +
                                    JOB_COMPLETIONS or SLURM_ARRAY_TASK_ID + SLURM_ARRAY_TASK_COUNT
      --publish PREFIX              upload the cog entries to PREFIX (s3://bucket/prefix, ...)
                                    and then their manifest
                                    (inputs may be URLs: https://..., s3://..., /vsicurl/...)
  manifest merge <prefix> [--shards N]
                                    join the shards' manifest fragments under PREFIX (an
                                    object-store prefix or a workdir's _cache/frames) into
                                    PREFIX/manifest.json
  info <image> [--workdir DIR]      shape, dtype, bands, whether it is a COG, and its cache entries
                                    (a .kwcoco.json / COCO .json: its images, assets, channels, caches;
                                    prepare takes one too and prepares every asset)
  show <dataset|demo> --out FILE    a contact sheet of samples with their boxes, polygons and
      [--image ID | --sampler]      keypoints drawn (--count N, --size PX, --seed S, --workdir DIR)
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

export function intArg(s: string | boolean | undefined, name: string, dflt: number, min: number): number {
  if (s === undefined) return dflt;
  const n = Number(s);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${name} must be an integer >= ${min}; received '${String(s)}'`);
  return n;
}

/** `--shard I/N` -> [I, N]; undefined when not given. */
export function shardArg(s: string | boolean | undefined): [number, number] | undefined {
  if (s === undefined) return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(String(s));
  if (m === null || Number(m[2]) < 1 || Number(m[1]) >= Number(m[2])) {
    throw new UsageError(`--shard must be I/N with 0 <= I < N; received '${String(s)}'`);
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

function listImages(dir: string, recursive: boolean): string[] {
  const found: string[] = [];
  for (const ent of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const p = path.join(dir, ent.name);
    if (ent.isDirectory()) {
      if (recursive && !ent.name.startsWith('.')) found.push(...listImages(p, true));
    } else if (IMAGE_EXTS.has(path.extname(ent.name).toLowerCase()) && !ent.name.endsWith('.aux.xml')) {
      found.push(p);
    }
  }
  return found;
}

/** Inputs -> id -> absolute path (ids 1..N in order, or the keys of a .json object). */
export function collectInputs(inputs: string[], recursive: boolean): Map<ImageId, string> {
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
      for (const p of listImages(input, recursive)) add(p);
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
      add(input);  // a file, or a missing one: prepare reports it as failed
    }
  }
  return result;
}

