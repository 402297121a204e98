#!/usr/bin/env node
/**
 * The `ndsampler` command: demo, prepare, info, bench.
 * Exit codes: 0 success, 1 a failure (an image that could not be read or converted, ...),
 * 2 a usage error (printed with the usage text on stderr).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import { NdsamplerError } from './errors';
import { defaultWorkdir } from './frames';
import type { BackendSpec, HashidMode, ImageId, PrepareReport } from './frames';
import { native } from './native';
import type { NDArray } from './ndarray';
import { toContiguous } from './ndarray';
import { openImage } from './readers';
import { DEFAULT_CHANNEL, SimpleFrames } from './simple-frames';

const ROOT = path.resolve(__dirname, '..');

const USAGE = `Usage: ndsampler <command> [options]

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
  info <image> [--workdir DIR]      shape, dtype, bands, whether it is a COG, and its cache entries
  bench [args...]                   run the benchmark (bench/run.ts of a source checkout)

Options:
  -h, --help                        show this text
  -v, --version                     show the version
`;

const IMAGE_EXTS = new Set(['.png', '.jpg', '.jpeg', '.tif', '.tiff', '.gtiff', '.bmp', '.gif', '.webp', '.jp2', '.npy', '.vrt', '.img']);

class UsageError extends Error {}

const out = (s: string) => process.stdout.write(s + '\n');
const err = (s: string) => process.stderr.write(s + '\n');

interface Parsed { values: Record<string, string | boolean | undefined>; positionals: string[] }

function parse(args: string[], options: NonNullable<ParseArgsConfig['options']>, positionals: [number, number]): Parsed {
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

function backendArg(s: string | boolean | undefined): BackendSpec {
  const b = s === undefined ? 'auto' : String(s);
  if (b !== 'npy' && b !== 'cog' && b !== 'auto') throw new UsageError(`--backend must be npy, cog or auto; received '${b}'`);
  return b;
}

function intArg(s: string | boolean | undefined, name: string, dflt: number, min: number): number {
  if (s === undefined) return dflt;
  const n = Number(s);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${name} must be an integer >= ${min}; received '${String(s)}'`);
  return n;
}

// ---- prepare ---------------------------------------------------------------------------------

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
    const abs = path.resolve(p);
    if (seen.has(abs) && id === undefined) return;
    seen.add(abs);
    result.set(id ?? next++, abs);
  };
  for (const input of inputs) {
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
        for (const p of list as string[]) add(path.resolve(base, p));
      } else if (list !== null && typeof list === 'object' && !Array.isArray(list)
        && Object.values(list).every((x) => typeof x === 'string')) {
        for (const [id, p] of Object.entries(list as Record<string, string>)) add(path.resolve(base, p), id);
      } else {
        throw new UsageError(`${input}: expected a JSON array of paths or an object of id -> path`);
      }
    } else {
      add(input);  // a file, or a missing one: prepare reports it as failed
    }
  }
  return result;
}

function progressBar(total: number): (done: number) => void {
  const tty = process.stderr.isTTY === true;
  let lastPct = -1;
  return (done: number) => {
    const pct = total === 0 ? 100 : Math.floor((done * 100) / total);
    if (tty) {
      const width = 30;
      const fill = Math.round((pct / 100) * width);
      process.stderr.write(`\r[${'#'.repeat(fill)}${'-'.repeat(width - fill)}] ${done}/${total} ${pct}%${done === total ? '\n' : ''}`);
    } else if (pct >= lastPct + 10 || done === total) {
      lastPct = pct;
      err(`progress: ${done}/${total} (${pct}%)`);
    }
  };
}

function describeError(e: unknown): string {
  if (e instanceof NdsamplerError) return `${e.code}: ${e.message}`;
  return e instanceof Error ? e.message : String(e);
}

async function cmdPrepare(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    workdir: { type: 'string' }, backend: { type: 'string' }, workers: { type: 'string' },
    'hashid-mode': { type: 'string' }, recursive: { type: 'boolean' },
  }, [1, Infinity]);
  if (values.help) return help();
  const backend = backendArg(values.backend);
  const workers = intArg(values.workers, '--workers', 2, 0);
  const mode = (values['hashid-mode'] ?? 'PATH') as string;
  if (mode !== 'PATH' && mode !== 'PIXELS') throw new UsageError(`--hashid-mode must be PATH or PIXELS; received '${mode}'`);
  const workdir = path.resolve((values.workdir as string | undefined) ?? defaultWorkdir());
  const images = collectInputs(positionals, values.recursive === true);
  if (images.size === 0) {
    err(`ndsampler prepare: no images found in ${positionals.join(', ')}`);
    return 1;
  }
  const frames = new SimpleFrames(images, { workdir, backend, hashidMode: mode as HashidMode });
  const bar = progressBar(images.size);
  let report: PrepareReport;
  try {
    report = await frames.prepare({ workers, onProgress: (done) => bar(done) });
  } finally {
    frames.close();
  }
  const b = frames.backend.type;
  out(`prepared ${images.size} image${images.size === 1 ? '' : 's'} with the ${b} backend in ${report.seconds.toFixed(2)} s: ` +
    `${report.built} built, ${report.reused} reused, ${report.failed.length} failed${report.fromStamp ? ' (stamp: already prepared)' : ''}`);
  out(`cache: ${report.cacheDpath}`);
  for (const f of report.failed) {
    out(`failed: ${images.get(f.imageId) ?? String(f.imageId)}: ${describeError(f.error)}`);
  }
  return report.failed.length > 0 ? 1 : 0;
}

// ---- info ----------------------------------------------------------------------------------

function cmdInfo(args: string[]): number {
  const { values, positionals } = parse(args, { workdir: { type: 'string' } }, [1, 1]);
  if (values.help) return help();
  const file = path.resolve(positionals[0]);
  const workdir = path.resolve((values.workdir as string | undefined) ?? defaultWorkdir());
  const reader = openImage(file);
  try {
    const [h, w, c] = reader.shape;
    const driver = reader.kind === 'npy' ? 'npy' : reader.info.driver;
    out(`path:    ${file}`);
    out(`shape:   ${h} x ${w} x ${c} (height x width x bands)`);
    out(`dtype:   ${reader.dtype}`);
    out(`bands:   ${c}`);
    out(`format:  ${driver}`);
    out(`cog:     ${reader.kind === 'raster' && reader.isCog ? 'yes' : 'no'}`);
  } finally {
    reader.close();
  }
  const types: Array<'npy' | 'cog'> = native.hasDriver('COG') ? ['npy', 'cog'] : ['npy'];
  for (const type of types) {
    const frames = new SimpleFrames(new Map([[1, file]]), { workdir, backend: type });
    const cache = frames.lookupPathinfo(1).channels[DEFAULT_CHANNEL].cache;
    out(`cache (${type}): ${cache === null || cache === undefined ? 'none (served directly)' : `${cache} (${fs.existsSync(cache) ? 'present' : 'not built'})`}`);
  }
  return 0;
}

// ---- demo ----------------------------------------------------------------------------------

/** A small deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function sameArray(a: NDArray, b: NDArray): boolean {
  if (a.shape.some((n, i) => n !== b.shape[i]) || a.dtype !== b.dtype) return false;
  const x = toContiguous(a).data;
  const y = toContiguous(b).data;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

type Crop = { id: number; region: [[number, number], [number, number]] };

function crops(frames: SimpleFrames, size: number, n: number, seed: number): Crop[] {
  const r = rng(seed);
  const ids = frames.imageIds as number[];
  const shapes = new Map(ids.map((id) => [id, frames.loadFrame(id).shape]));
  const list: Crop[] = [];
  for (let i = 0; i < n; i++) {
    const id = ids[Math.floor(r() * ids.length)];
    const [h, w] = shapes.get(id) as number[];
    const ch = Math.min(size, h);
    const cw = Math.min(size, w);
    const y = Math.floor(r() * (h - ch + 1));
    const x = Math.floor(r() * (w - cw + 1));
    list.push({ id, region: [[y, y + ch], [x, x + cw]] });
  }
  return list;
}

/** Median time per call (µs) over batches of calls, after a warm-up pass. */
function timeOps(n: number, fn: (i: number) => void, batch = 10): number {
  for (let i = 0; i < n; i++) fn(i);  // warm-up: JIT, page cache, mappings, tile cache
  const times: number[] = [];
  for (let i = 0; i < n; i += batch) {
    const m = Math.min(batch, n - i);
    const t = performance.now();
    for (let k = 0; k < m; k++) fn(i + k);
    times.push(((performance.now() - t) * 1000) / m);
  }
  return median(times);
}

const fmtUs = (us: number) => (us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(1)} µs`);

async function cmdDemo(args: string[]): Promise<number> {
  const { values } = parse(args, { workdir: { type: 'string' } }, [0, 0]);
  if (values.help) return help();
  const workdir = path.resolve((values.workdir as string | undefined) ?? path.join(defaultWorkdir(), 'demo'));
  const base = SimpleFrames.demo({ workdir });
  const ids = base.imageIds;
  out(`demo images (${ids.length}): ${path.dirname(base.lookupPathinfo(ids[0]).channels[DEFAULT_CHANNEL].path)}`);
  for (const id of ids) {
    const [h, w, c] = base.loadFrame(id).shape;
    out(`  image ${id}: ${h} x ${w} x ${c} uint8`);
  }
  const backends: Array<'npy' | 'cog' | null> = [null, 'npy'];
  if (native.hasDriver('COG')) backends.push('cog');
  else out('(GDAL has no COG driver here: skipping the cog backend)');
  const small = crops(base, 32, 2000, 1);
  const large = crops(base, 224, 300, 2);
  const rows: string[][] = [];
  const reference: NDArray[] = small.slice(0, 20).map((c) => base.loadRegion(c.id, c.region));
  for (const backend of backends) {
    const frames = SimpleFrames.demo({ workdir, backend });
    let prep = '-';
    let status = 'no cache';
    if (backend !== null) {
      const report = await frames.prepare({ workers: 2, useStamp: false });
      if (report.failed.length > 0) {
        for (const f of report.failed) err(`failed: image ${String(f.imageId)}: ${describeError(f.error)}`);
        return 1;
      }
      prep = `${(report.seconds * 1000).toFixed(1)} ms`;
      status = `${report.built} built, ${report.reused} reused`;
    }
    for (let i = 0; i < reference.length; i++) {
      const got = frames.loadRegion(small[i].id, small[i].region);
      if (!sameArray(got, reference[i])) {
        err(`backend ${backend}: crop ${i} differs from the source pixels`);
        return 1;
      }
    }
    const nSmall = backend === null ? 40 : small.length;
    const nLarge = backend === null ? 20 : large.length;
    const tSmall = timeOps(nSmall, (i) => frames.loadRegion(small[i].id, small[i].region));
    const tLarge = timeOps(nLarge, (i) => frames.loadRegion(large[i].id, large[i].region));
    const tFull = timeOps(backend === null ? 10 : 200, (i) => frames.loadImage(ids[i % ids.length]));
    rows.push([backend ?? 'none', prep, status, fmtUs(tSmall), fmtUs(tLarge), fmtUs(tFull)]);
    frames.close();
  }
  const header = ['backend', 'prepare', 'entries', 'crop 32x32', 'crop 224x224', 'loadImage'];
  const widths = header.map((hd, i) => Math.max(hd.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  out('');
  out(line(header));
  out(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) out(line(r));
  out('');
  out('median time per call; crops are random, identical across backends (checked against the source pixels)');
  out(`workdir: ${workdir}`);
  return 0;
}

// ---- bench ---------------------------------------------------------------------------------

function cmdBench(args: string[]): number {
  if (args.includes('-h') || args.includes('--help')) return help();
  const script = path.join(ROOT, 'bench', 'run.ts');
  if (!fs.existsSync(script)) {
    err(`ndsampler bench: ${script} not found (the benchmark is part of a source checkout, not the installed package)`);
    return 1;
  }
  let tsx: string;
  try {
    tsx = require.resolve('tsx/cjs', { paths: [ROOT] });
  } catch {
    err('ndsampler bench: the benchmark needs the dev dependency tsx (npm install in the checkout)');
    return 1;
  }
  const r = spawnSync(process.execPath, ['--expose-gc', '-r', tsx, script, ...args], { cwd: ROOT, stdio: 'inherit' });
  if (r.error) {
    err(`ndsampler bench: ${r.error.message}`);
    return 1;
  }
  return r.status ?? 1;
}

// ---- main ----------------------------------------------------------------------------------

function help(): number {
  process.stdout.write(USAGE);
  return 0;
}

function version(): string {
  try {
    return (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case undefined:
        throw new UsageError('missing command');
      case '-h': case '--help': case 'help':
        return help();
      case '-v': case '--version':
        out(version());
        return 0;
      case 'demo':
        return await cmdDemo(rest);
      case 'prepare':
        return await cmdPrepare(rest);
      case 'info':
        return cmdInfo(rest);
      case 'bench':
        return cmdBench(rest);
      default:
        throw new UsageError(`unknown command '${cmd}'`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      err(`ndsampler: ${e.message}\n`);
      process.stderr.write(USAGE);
      return 2;
    }
    err(`ndsampler ${cmd}: ${describeError(e)}`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  }, (e: unknown) => {
    err(`ndsampler: ${describeError(e)}`);
    process.exitCode = 1;
  });
}
