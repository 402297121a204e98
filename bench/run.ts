/**
 * The benchmark: `npm run bench` (or `npx ndsampler bench`); `npm run bench -- npy cog frames`
 * runs some sections only; `npm run bench -- soak` (bench/soak.ts, long) runs only when named. Every figure is a median µs/op measured in this run, next to the peers
 * measured in the same run; the results go to bench/results.json and bench/RESULTS.md.
 * Data is generated deterministically under bench/data/ on first use.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fmt, loopDelay, medianUs, medianUsAsync, randomCrops } from './timing';
import type { Row } from './timing';
import { benchSoak } from './soak';
import { benchLabels } from './labels';
import { benchCoco } from './coco';
import { benchVideo } from './video';
import { benchRemote } from './remote';
import { allocate, openImage, writeNpy } from '../dist';
import type { Batch, NDArray, Region } from '../dist';

const here = __dirname;
const dataDir = path.join(here, 'data');
fs.mkdirSync(dataDir, { recursive: true });
const sections = process.argv.slice(2);
const want = (s: string) => sections.length === 0 || sections.includes(s);
/** Long sections (soak: tens of minutes) run only when named. */
const wantNamed = (s: string) => sections.includes(s);
const PY = '/usr/bin/python3';
const hasNumpy = spawnSync(PY, ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;
const hasGdalPy = spawnSync(PY, ['-c', 'from osgeo import gdal'], { stdio: 'ignore' }).status === 0;

export type { Row } from './timing';
const rows: Row[] = [];
const log = (s: string) => process.stdout.write(s + '\n');
function record(r: Row): void {
  rows.push(r);
  const peers = Object.entries(r.peers).map(([k, v]) => `${k} ${fmt(v)}`).join(', ');
  log(`  ${r.case.padEnd(44)} ${fmt(r.ours).padStart(9)} ${r.unit ?? 'µs'}   ${peers}${r.target ? `   target ${r.target}: ${r.pass ? 'met' : 'NOT met'}` : ''}`);
}

/** A deterministic natural-looking uint8 HWC image: smooth gradients, blobs and a little noise. */
export function syntheticImage(H: number, W: number, C: number, seed = 7): NDArray {
  const a = allocate([H, W, C], 'uint8');
  const d = a.data as Uint8Array;
  let s = seed >>> 0 || 1;
  for (let y = 0; y < H; y++) {
    const fy = y / H;
    for (let x = 0; x < W; x++) {
      const fx = x / W;
      s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
      const noise = (s & 15) - 8;
      const base = (y * W + x) * C;
      for (let c = 0; c < C; c++) {
        const v = 128 + 60 * Math.sin(6.28 * (fx * (c + 1) + fy * 2)) + 40 * Math.cos(9.42 * fy * (c + 2) - fx * 3) + noise;
        d[base + c] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
    }
  }
  return a;
}

function ensureNpy(name: string, H: number, W: number, C: number): string {
  const p = path.join(dataDir, name);
  if (!fs.existsSync(p)) {
    log(`  generating ${name} (${H}x${W}x${C})`);
    writeNpy(p, syntheticImage(H, W, C));
  }
  return p;
}

function floor(H: number, W: number, C: number, h: number, w: number, n: number): { prealloc: number; alloc: number } {
  const bin = path.join(dataDir, 'floor');
  if (!fs.existsSync(bin) || fs.statSync(bin).mtimeMs < fs.statSync(path.join(here, 'floor.c')).mtimeMs) {
    execFileSync('cc', ['-O2', '-o', bin, path.join(here, 'floor.c')]);
  }
  return JSON.parse(execFileSync(bin, [H, W, C, h, w, n, 1].map(String), { encoding: 'utf8' }));
}

/** The plain-JS peer: the whole .npy in memory, rows copied with TypedArray.set. */
class PlainJsNpy {
  readonly data: Uint8Array;
  readonly H: number; readonly W: number; readonly C: number;
  constructor(file: string) {
    const buf = fs.readFileSync(file);
    const hlen = buf.readUInt16LE(8);
    const header = buf.toString('latin1', 10, 10 + hlen);
    const m = /'shape':\s*\((\d+),\s*(\d+),\s*(\d+)\)/.exec(header);
    if (!m) throw new Error('unexpected header');
    [this.H, this.W, this.C] = [Number(m[1]), Number(m[2]), Number(m[3])];
    this.data = new Uint8Array(buf.buffer, buf.byteOffset + 10 + hlen, this.H * this.W * this.C);
  }
  crop(y0: number, y1: number, x0: number, x1: number): Uint8Array {
    const row = (x1 - x0) * this.C;
    const out = new Uint8Array((y1 - y0) * row);
    for (let y = y0; y < y1; y++) {
      const s = (y * this.W + x0) * this.C;
      out.set(this.data.subarray(s, s + row), (y - y0) * row);
    }
    return out;
  }
}

function numpyPeer(cases: Array<{ name: string; path: string; crops: number[][] }>): Record<string, number> {
  if (!hasNumpy) return {};
  const r = spawnSync(PY, [path.join(here, 'peers', 'numpy_crop.py')], { input: JSON.stringify(cases), encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

function benchNpy(): void {
  log('\n## npy: crops through openImage(path).read()');
  const small = ensureNpy('img512.npy', 512, 512, 3);
  const big = ensureNpy('img8192.npy', 8192, 8192, 3);
  type Case = { name: string; file: string; H: number; W: number; crops: Array<[number, number, number, number]> };
  const cases: Case[] = [
    { name: '512² [10:42, 10:42] (32x32x3)', file: small, H: 512, W: 512, crops: [[10, 42, 10, 42]] },
    { name: '512² [3:-3, 3:-3] (506x506x3)', file: small, H: 512, W: 512, crops: [[3, 509, 3, 509]] },
    { name: '512² full image (512x512x3)', file: small, H: 512, W: 512, crops: [[0, 512, 0, 512]] },
    { name: '8192² random 224x224x3', file: big, H: 8192, W: 8192, crops: randomCrops(8192, 8192, 224, 224, 4096) },
    { name: '8192² random 32x32x3', file: big, H: 8192, W: 8192, crops: randomCrops(8192, 8192, 32, 32, 4096) },
  ];
  const np = numpyPeer(cases.map((c) => ({ name: c.name, path: c.file, crops: c.crops })));
  const readers = new Map<string, ReturnType<typeof openImage>>();
  const plain = new Map<string, PlainJsNpy>();
  for (const c of cases) {
    if (!readers.has(c.file)) readers.set(c.file, openImage(c.file));
    if (!plain.has(c.file)) plain.set(c.file, new PlainJsNpy(c.file));
    const r = readers.get(c.file)!;
    const pj = plain.get(c.file)!;
    const crops = c.crops;
    const regions = crops.map(([y0, y1, x0, x1]) => [[y0, y1], [x0, x1]] as [number, number][]);
    const [h, w] = [crops[0][1] - crops[0][0], crops[0][3] - crops[0][2]];
    const fl = floor(c.H, c.W, 3, h, w, crops.length > 1 ? 4096 : 2000);
    const copyOut = medianUs((i) => r.read(regions[i % regions.length]));
    const out = allocate([h, w, 3], 'uint8');
    const into = medianUs((i) => r.read(regions[i % regions.length], { out }));
    const plainJs = medianUs((i) => { const k = crops[i % crops.length]; return pj.crop(k[0], k[1], k[2], k[3]); });
    const peers = { numpy: np[c.name], 'plain-JS': plainJs, 'memcpy floor (new buffer)': fl.alloc, 'memcpy floor (prealloc)': fl.prealloc };
    if (h === 32) {
      record({ section: 'npy', case: `${c.name} copy-out`, ours: copyOut, peers, target: '≤ 0.6 µs', pass: copyOut <= 0.6 });
      record({ section: 'npy', case: `${c.name} into out`, ours: into, peers, target: '≤ 0.4 µs', pass: into <= 0.4 });
    } else if (h === 506) {
      record({ section: 'npy', case: `${c.name} copy-out`, ours: copyOut, peers, target: '≤ 1.3x memcpy floor (new buffer)', pass: copyOut <= 1.3 * fl.alloc });
      record({ section: 'npy', case: `${c.name} into out`, ours: into, peers, target: '≤ 1.3x memcpy floor (prealloc)', pass: into <= 1.3 * fl.prealloc });
    } else {
      record({ section: 'npy', case: `${c.name} copy-out`, ours: copyOut, peers });
      record({ section: 'npy', case: `${c.name} into out`, ours: into, peers });
    }
  }
  // loadImage-style zero-copy open of an already-mapped file: must not depend on the image size.
  const v512 = medianUs(() => readers.get(small)!.read(null, { copy: false }));
  const v8192 = medianUs(() => readers.get(big)!.read(null, { copy: false }));
  record({ section: 'npy', case: 'zero-copy full view, 512²', ours: v512, peers: {} });
  record({ section: 'npy', case: 'zero-copy full view, 8192² (O(1): same as 512²)', ours: v8192, peers: { '512²': v512 }, target: '≤ 2x the 512² time', pass: v8192 <= 2 * v512 + 0.05 });
  for (const r of readers.values()) r.close();
}

/**
 * Large copy-outs in a loop that lets the event loop turn every 4 reads (as a data loader does),
 * so finalizers run and result blocks can come back (docs/concurrency.md, "Large results: slabs"),
 * against the memcpy floor measured in the same run.
 */
async function benchNpyLoop(): Promise<void> {
  const small = ensureNpy('img512.npy', 512, 512, 3);
  const r = openImage(small);
  const region: Region = [[3, 509], [3, 509]];
  const turn = () => new Promise<void>((res) => setImmediate(res));
  const fl = floor(512, 512, 3, 506, 506, 2000);
  const syncUs = (await medianUsAsync(async () => { for (let k = 0; k < 4; k++) r.read(region); await turn(); })) / 4;
  const asyncUs = (await medianUsAsync(async () => { for (let k = 0; k < 4; k++) await r.readAsync(region); await turn(); })) / 4;
  const out = allocate([506, 506, 3], 'uint8');
  const intoUs = (await medianUsAsync(async () => { for (let k = 0; k < 4; k++) r.read(region, { out }); await turn(); })) / 4;
  const peers = { 'into out, same loop': intoUs, 'memcpy floor (new buffer)': fl.alloc, 'memcpy floor (prealloc)': fl.prealloc };
  const target = '≤ 2x memcpy floor (new buffer)';
  record({ section: 'npy', case: '506x506x3 copy-outs in a loop that yields every 4 reads (read)', ours: syncUs, peers, target, pass: syncUs <= 2 * fl.alloc });
  record({ section: 'npy', case: '506x506x3 copy-outs in a loop that yields every 4 reads (readAsync)', ours: asyncUs, peers, target, pass: asyncUs <= 2 * fl.alloc });
  r.close();
}

function pyGdal(cases: Array<{ name: string; path: string; crops: number[][]; mode: 'perband' | 'dataset'; cold: boolean }>): Record<string, number> {
  if (!hasGdalPy) return {};
  const r = spawnSync(PY, [path.join(here, 'peers', 'gdal_crop.py')], { input: JSON.stringify(cases), encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

/** gdal-async's synchronous per-band reads straight into one HWC buffer (pixel_space/line_space). */
function gdalAsyncReader(file: string): (c: number[]) => unknown {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const gdal = require('gdal-async');
  const ds = gdal.open(file);
  const bands = ds.bands.count();
  const bandObjs = Array.from({ length: bands }, (_, i) => ds.bands.get(i + 1));
  return (c: number[]) => {
    const h = c[1] - c[0];
    const w = c[3] - c[2];
    const out = new Uint8Array(h * w * bands);
    for (let b = 0; b < bands; b++) {
      bandObjs[b].pixels.read(c[2], c[0], w, h, out.subarray(b), { pixel_space: bands, line_space: w * bands });
    }
    return out;
  };
}

function timeSeconds(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

function benchCog(): void {
  log('\n## cog: crops of COGs through openImage(path).read()');
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the compiled build, loaded when this section runs
  const { native } = require('../dist/native') as typeof import('../dist/native');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { writeCog } = require('../dist/gdal') as { writeCog: (s: string, d: string, c?: Record<string, unknown>) => void };
  const png512 = path.join(dataDir, 'img512.png');
  const png8192 = path.join(dataDir, 'img8192.png');
  for (const [png, npy, n] of [[png512, 'img512.npy', 512], [png8192, 'img8192.npy', 8192]] as const) {
    if (!fs.existsSync(png)) {
      log(`  generating ${path.basename(png)}`);
      const a = openImage(ensureNpy(npy, n, n, 3)).read();
      native.writeRaster(png, a.data, { shape: a.shape, strides: a.strides, offset: a.offset, dtype: a.dtype }, 'PNG', []);
    }
  }
  // Conversion: ours (in process, GDAL's COG driver) against gdal_translate with the same options.
  const cogs: Record<string, string> = {};
  const convert: Record<string, number> = {};
  for (const [name, config] of [['auto', { compress: 'auto' }], ['LZW', { compress: 'LZW' }]] as const) {
    const dst = path.join(dataDir, `img8192.${name}.cog.tif`);
    fs.rmSync(dst, { force: true });
    convert[name] = timeSeconds(() => writeCog(png8192, dst, config));
    cogs[name] = dst;
    const small = path.join(dataDir, `img512.${name}.cog.tif`);
    if (!fs.existsSync(small)) writeCog(png512, small, config);
    cogs[`512-${name}`] = small;
  }
  const gt = path.join(dataDir, 'img8192.gdal_translate.LZW.tif');
  fs.rmSync(gt, { force: true });
  const gtTime = timeSeconds(() => execFileSync('gdal_translate', ['-q', '-of', 'COG', '-co', 'COMPRESS=LZW', '-co', 'NUM_THREADS=ALL_CPUS', png8192, gt]));
  const gtSt = path.join(dataDir, 'img8192.gdal_translate.LZW.1thread.tif');
  fs.rmSync(gtSt, { force: true });
  const gtTime1 = timeSeconds(() => execFileSync('gdal_translate', ['-q', '-of', 'COG', '-co', 'COMPRESS=LZW', png8192, gtSt]));
  record({ section: 'cog: conversion', case: 'convert 8192² PNG → COG, LZW', unit: 's', ours: convert.LZW, peers: { 'gdal_translate LZW NUM_THREADS=ALL_CPUS': gtTime, 'gdal_translate LZW 1 thread': gtTime1 }, target: '≤ threaded gdal_translate', pass: convert.LZW <= gtTime });
  record({ section: 'cog: conversion', case: "convert 8192² PNG → COG, 'auto'", unit: 's', ours: convert.auto, peers: { 'gdal_translate LZW NUM_THREADS=ALL_CPUS': gtTime } });
  const size = (f: string) => fs.statSync(f).size;
  record({ section: 'cog: conversion', case: "file size 8192² 'auto' vs LZW", unit: 'MiB', ours: size(cogs.auto) / 2 ** 20, peers: { 'LZW COG': size(cogs.LZW) / 2 ** 20 }, target: '≤ LZW size', pass: size(cogs.auto) <= size(cogs.LZW) });

  // Hot crops: the same windows as the npy section, decoded tiles cached (ours) / GDAL block cache warm (peers).
  const hot = [
    { name: '512² [10:42, 10:42] (32x32x3) hot', file: cogs['512-auto'], crops: [[10, 42, 10, 42]], target: 2.5 },
    { name: '512² [3:-3, 3:-3] (506x506x3) hot', file: cogs['512-auto'], crops: [[3, 509, 3, 509]], target: 60 },
    { name: '8192² random 32x32x3 hot', file: cogs.auto, crops: randomCrops(8192, 8192, 32, 32, 64, 3) },
  ];
  const pyHot = pyGdal(hot.flatMap((c) => [
    { name: `${c.name} dataset`, path: c.file, crops: c.crops, mode: 'dataset' as const, cold: false },
    { name: `${c.name} perband`, path: c.file, crops: c.crops, mode: 'perband' as const, cold: false },
  ]));
  native.setTileCacheBudget(256 * 2 ** 20);
  for (const c of hot) {
    const r = openImage(c.file);
    const regions = c.crops.map(([y0, y1, x0, x1]) => [[y0, y1], [x0, x1]] as [number, number][]);
    const ours = medianUs((i) => r.read(regions[i % regions.length]));
    const ga = gdalAsyncReader(c.file);
    const gaUs = medianUs((i) => ga(c.crops[i % c.crops.length]));
    const best = Math.min(pyHot[`${c.name} dataset`] ?? Infinity, gaUs);
    record({
      section: 'cog: hot crops (tile cache warm)', case: c.name, ours,
      peers: { 'python GDAL dataset-level': pyHot[`${c.name} dataset`], 'python GDAL per band (original)': pyHot[`${c.name} perband`], 'gdal-async sync': gaUs },
      target: c.target ? `≤ ${c.target} µs and ≥ 3x faster than the best GDAL peer` : undefined,
      pass: c.target ? ours <= c.target && ours * 3 <= best : undefined,
    });
    r.close();
  }

  // Cold random 224x224 crops of the 8192² COGs: every op decodes its tiles.
  const crops224 = randomCrops(8192, 8192, 224, 224, 512, 5);
  const pyCold = pyGdal([
    { name: 'LZW perband', path: cogs.LZW, crops: crops224, mode: 'perband', cold: true },
    { name: 'LZW dataset', path: cogs.LZW, crops: crops224, mode: 'dataset', cold: true },
    { name: 'auto dataset', path: cogs.auto, crops: crops224, mode: 'dataset', cold: true },
  ]);
  native.setTileCacheBudget(0);
  for (const name of ['auto', 'LZW'] as const) {
    const r = openImage(cogs[name]);
    const regions = crops224.map(([y0, y1, x0, x1]) => [[y0, y1], [x0, x1]] as [number, number][]);
    const ours = medianUs((i) => r.read(regions[i % regions.length]), 20, 9);
    const isAuto = name === 'auto';
    record({
      section: 'cog: cold crops (every op decodes its tiles)', case: `8192² random 224x224x3 cold, ${name === 'auto' ? "'auto'" : 'LZW'} COG`, ours,
      peers: { "original: python per band, LZW COG": pyCold['LZW perband'], 'python dataset-level, LZW COG': pyCold['LZW dataset'], "python dataset-level, 'auto' COG": pyCold['auto dataset'] },
      target: isAuto ? '≤ 1/3 of the original (per band, LZW)' : undefined,
      pass: isAuto ? ours * 3 <= (pyCold['LZW perband'] ?? 0) : undefined,
    });
    r.close();
  }
  native.setTileCacheBudget(256 * 2 ** 20);
}

/**
 * The original's benchmark block (cog vs npy; small subregion, large subregion, loadimage) through
 * the Frames API, next to the same reads made directly on the cache entry's reader, so the cost of
 * the Frames layer shows. Large reads go into a preallocated `out` so allocation noise does not
 * hide a sub-µs difference.
 */
async function benchFrames(): Promise<void> {
  log('\n## frames: the original benchmark block through Frames, next to direct reader calls');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { SimpleFrames } = require('../dist') as typeof import('../dist');
  const workdir = path.join(dataDir, 'frames-workdir');
  for (const backend of ['cog', 'npy'] as const) {
    const frames = SimpleFrames.demo({ backend, workdir });
    await frames.prepare();
    const cache = frames.lookupPathinfo(1).channels.default.cache as string;
    const reader = openImage(cache);
    const small: [number, number][] = [[10, 42], [10, 42]];
    const tiny: [number, number][] = [[0, 1], [0, 1]];
    const large: [number, number][] = [[3, -3], [3, -3]];
    const outLarge = allocate([506, 506, 3], 'uint8');
    const pairs: Array<[string, () => unknown, () => unknown]> = [
      ['small subregion [10:42, 10:42]', () => frames.loadRegion(1, small), () => reader.read(small)],
      ['1x1 region [0:1, 0:1] (the per-call cost)', () => frames.loadRegion(1, tiny), () => reader.read(tiny)],
      ['large subregion [3:-3, 3:-3] into out', () => frames.loadRegion(1, large, { out: outLarge }), () => reader.read(large, { out: outLarge })],
      ['loadimage', () => frames.loadImage(1), () => reader.read(null, { copy: backend !== 'npy' })],
    ];
    for (const [name, viaFrames, direct] of pairs) {
      // Alternate the two measurements and take the median difference, so machine noise hits both
      // alike. Frames' overhead is per call; it is only tested against the target where a read is
      // short enough (< 5 µs) for a 1 µs difference to stand out of the noise.
      const diffs: number[] = [];
      const fs: number[] = [];
      const ds: number[] = [];
      for (let k = 0; k < 5; k++) {
        const f = medianUs(viaFrames, 4, 9);
        const d = medianUs(direct, 4, 9);
        fs.push(f); ds.push(d); diffs.push(f - d);
      }
      const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
      const f = med(fs);
      const d = med(ds);
      const overhead = med(diffs);
      const testable = d < 5;
      record({
        section: 'frames', case: `${backend}-${name}`, ours: f,
        peers: { 'direct reader': d, 'Frames overhead': overhead },
        target: testable ? 'overhead < 1 µs' : undefined, pass: testable ? overhead < 1 : undefined,
        note: testable ? undefined : 'overhead within the noise of a long read',
      });
    }
    reader.close();
    frames.close();
  }
}

/** Median of a list. */
const median = (a: number[]): number => [...a].sort((x, y) => x - y)[a.length >> 1];

/** Median µs per call of an async fn over `n` sequential runs (after one warm-up run). */
async function perRunUs(n: number, fn: (k: number) => Promise<unknown>): Promise<number> {
  await fn(0);
  const t: number[] = [];
  for (let k = 1; k <= n; k++) {
    const t0 = process.hrtime.bigint();
    await fn(k);
    t.push(Number(process.hrtime.bigint() - t0) / 1e3);
  }
  return median(t);
}

/**
 * Feeding a training loop: frames.loadBatch (the addon's thread pool, one native call per batch)
 * against numpy's per-crop loop, our own sync loadRegion + a TypeScript conversion, and
 * gdal-async readAsync with 8 crops in flight. Figures are µs per batch of 64 crops.
 */
async function benchThroughput(): Promise<void> {
  log('\n## throughput: batches of 64 random 224x224x3 crops (µs per batch)');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const nds = require('../dist') as typeof import('../dist');
  const npyFile = ensureNpy('img8192.npy', 8192, 8192, 3);
  const cogFile = path.join(dataDir, 'img8192.auto.cog.tif');
  if (!fs.existsSync(cogFile)) throw new Error(`${cogFile} is missing: run the cog section first`);
  const N = 64, S = 224, ROUNDS = 15;
  const batches = Array.from({ length: ROUNDS + 1 }, (_, k) => randomCrops(8192, 8192, S, S, N, 100 + k));
  const norm = { scale: 1 / 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
  const before = nds.threadPoolSize();
  const reqs = (k: number) => batches[k % batches.length].map(([y0, y1, x0, x1]) => ({ imageId: 'img', region: [[y0, y1], [x0, x1]] as Region }));
  // 1 and 2 pool threads measured in alternating blocks of 10 batches (3 blocks each, the median of
  // the 30 per thread count), so a slow spell of the shared VM weighs on both sides of the ratio.
  const byThreads = async (frames: InstanceType<typeof nds.SimpleFrames>, opts: Parameters<typeof frames.loadBatch>[1]) => {
    const times: Record<1 | 2, number[]> = { 1: [], 2: [] };
    let out: Batch | undefined;
    let k = 0;
    // Warm-up: V8 compiles loadBatch's planning code on its background threads, which run at the
    // JS thread's priority, above the pool's (setThreadPoolNice): measured during compilation, the
    // 2-thread batches lost a core to it.
    for (let w = 0; w < 100; w++) out = await frames.loadBatch(reqs(k++), { ...opts, out });
    for (let block = 0; block < 6; block++) {
      const threads = block % 2 === 0 ? 1 : 2;
      nds.setThreadPoolSize(threads);
      out = await frames.loadBatch(reqs(k++), { ...opts, out });  // the threads started
      for (let r = 0; r < 10; r++) {
        const t0 = process.hrtime.bigint();
        out = await frames.loadBatch(reqs(k++), { ...opts, out });
        times[threads].push(Number(process.hrtime.bigint() - t0) / 1e3);
      }
    }
    return [median(times[1]), median(times[2])];
  };

  // npy -> NCHW float32, normalised.
  const npyFrames = new nds.SimpleFrames({ img: npyFile }, { backend: null, workdir: dataDir });
  const npyOpts = { layout: 'NCHW' as const, dtype: 'float32' as const, normalize: norm };
  const [t1, t2] = await byThreads(npyFrames, npyOpts);
  let numpy: number | undefined;
  if (hasNumpy) {
    const r = spawnSync(PY, [path.join(here, 'peers', 'numpy_batch.py')], {
      input: JSON.stringify({ path: npyFile, batches, ...norm }), encoding: 'utf8', maxBuffer: 1 << 26,
    });
    if (r.status !== 0) throw new Error(r.stderr);
    numpy = JSON.parse(r.stdout).us_per_batch;
  }
  // Our own sync loadRegion + the conversion in TypeScript, into one preallocated batch.
  const tsOut = new Float32Array(N * 3 * S * S);
  const tsLoop = (k: number) => {
    const b = batches[k % batches.length];
    for (let i = 0; i < N; i++) {
      const [y0, y1, x0, x1] = b[i];
      const a = npyFrames.loadRegion('img', [[y0, y1], [x0, x1]]);
      const d = a.data as Uint8Array;
      const base = i * 3 * S * S;
      for (let c = 0; c < 3; c++) {
        const m = norm.mean[c], sd = norm.std[c], plane = base + c * S * S;
        for (let p = 0; p < S * S; p++) tsOut[plane + p] = (d[p * 3 + c] * norm.scale - m) / sd;
      }
    }
  };
  tsLoop(0);
  const tsTimes: number[] = [];
  for (let k = 1; k <= ROUNDS; k++) {
    const t0 = process.hrtime.bigint();
    tsLoop(k);
    tsTimes.push(Number(process.hrtime.bigint() - t0) / 1e3);
  }
  const ts = median(tsTimes);
  record({ section: 'throughput', case: 'npy 8192², 64 crops → NCHW float32 normalised, 1 thread', ours: t1,
    peers: { 'numpy per-crop loop': numpy, 'loadRegion + TS conversion': ts },
    target: '≥ 10x numpy', pass: numpy === undefined ? undefined : numpy / t1 >= 10, note: numpy ? `${(numpy / t1).toFixed(1)}x numpy` : undefined });
  record({ section: 'throughput', case: 'npy 8192², 64 crops → NCHW float32 normalised, 2 threads', ours: t2,
    peers: { 'numpy per-crop loop': numpy, '1 thread': t1 },
    target: '≥ 10x numpy, ≥ 1.7x 1 thread', pass: (numpy === undefined || numpy / t2 >= 10) && t1 / t2 >= 1.7,
    note: `${(t1 / t2).toFixed(2)}x 1 thread${numpy ? `, ${(numpy / t2).toFixed(1)}x numpy` : ''}` });
  npyFrames.close();
  await benchStreaming(nds, npyFile, norm);

  // COG ('auto', 8192²) -> uint8 NHWC, against gdal-async readAsync with 8 crops in flight.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const gdal = require('gdal-async');
  const ds = gdal.open(cogFile);
  const bands = [1, 2, 3].map((b) => ds.bands.get(b));
  // `flush`: drop GDAL's block cache for the dataset after the batch (GDALFlushCache frees the
  // clean blocks too), so the cold peer decodes every tile of every batch as ours does. Without
  // it GDAL_CACHEMAX (5% of RAM by default, here > 1 GiB) keeps the decoded 8192² image across
  // batches, and the 'cold' peer was mostly served from GDAL's cache.
  const gdalBatch = async (k: number, flush = false) => {
    const b = batches[k % batches.length];
    const out = new Uint8Array(N * S * S * 3);
    let next = 0;
    const worker = async () => {
      while (next < N) {
        const i = next++;
        const [y0, , x0] = b[i];
        const slot = out.subarray(i * S * S * 3);
        await Promise.all(bands.map((band: { pixels: { readAsync: (...a: unknown[]) => Promise<unknown> } }, c: number) =>
          band.pixels.readAsync(x0, y0, S, S, slot.subarray(c), { pixel_space: 3, line_space: S * 3 })));
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    if (flush) ds.flush();
  };
  const cogFrames = new nds.SimpleFrames({ img: cogFile }, { backend: null, workdir: dataDir });
  const budget = nds.tileCacheStats().budget;
  // Cold: every batch has windows of its own, our tile cache is off and GDAL's block cache is
  // flushed after each peer batch (both sides decode every tile a batch touches; tiles shared by
  // crops of one batch may be decoded once on both sides).
  nds.setTileCacheBudget(0);
  const [c1, c2] = await byThreads(cogFrames, {});
  const gCold = await perRunUs(ROUNDS, (k) => gdalBatch(k, true));
  nds.setTileCacheBudget(budget);
  record({ section: 'throughput', case: "COG 'auto' 8192², 64 crops uint8 NHWC, cold, 1 thread", ours: c1,
    peers: { 'gdal-async readAsync, 8 in flight, block cache flushed per batch': gCold } });
  record({ section: 'throughput', case: "COG 'auto' 8192², 64 crops uint8 NHWC, cold, 2 threads", ours: c2,
    peers: { 'gdal-async readAsync, 8 in flight, block cache flushed per batch': gCold, '1 thread': c1 },
    target: '≥ 1.7x 1 thread, ≥ 1.5x gdal-async', pass: c1 / c2 >= 1.7 && gCold / c2 >= 1.5,
    note: `${(c1 / c2).toFixed(2)}x 1 thread, ${(gCold / c2).toFixed(2)}x gdal-async` });
  // Hot: the same 64 windows every time (tiles cached; GDAL's block cache for gdal-async).
  const hot = async (threads: number) => {
    nds.setThreadPoolSize(threads);
    let out: Batch | undefined;
    return perRunUs(ROUNDS, async () => {
      out = await cogFrames.loadBatch(reqs(0), { out });
    });
  };
  const h1 = await hot(1);
  const h2 = await hot(2);
  const gHot = await perRunUs(ROUNDS, () => gdalBatch(0));
  record({ section: 'throughput', case: "COG 'auto' 8192², 64 crops uint8 NHWC, hot, 1 thread", ours: h1,
    peers: { 'gdal-async readAsync, 8 in flight': gHot } });
  record({ section: 'throughput', case: "COG 'auto' 8192², 64 crops uint8 NHWC, hot, 2 threads", ours: h2,
    peers: { 'gdal-async readAsync, 8 in flight': gHot, '1 thread': h1 },
    target: '≥ 5x gdal-async', pass: gHot / h2 >= 5, note: `${(gHot / h2).toFixed(1)}x gdal-async` });
  ds.close();
  cogFrames.close();
  nds.setThreadPoolSize(before);

  // loadRegionAsync's overhead over loadRegion, 32x32, one in flight.
  const small = new nds.SimpleFrames({ img: npyFile }, { backend: null, workdir: dataDir });
  const crops32 = randomCrops(8192, 8192, 32, 32, 4096, 9);
  const region = (i: number): Region => {
    const [y0, y1, x0, x1] = crops32[i % crops32.length];
    return [[y0, y1], [x0, x1]];
  };
  const syncUs = medianUs((i) => small.loadRegion('img', region(i)));
  const asyncUs = await medianUsAsync((i) => small.loadRegionAsync('img', region(i)));
  record({ section: 'throughput', case: 'loadRegionAsync 32x32x3, 1 in flight (npy)', ours: asyncUs,
    peers: { 'loadRegion (sync)': syncUs, 'async overhead': asyncUs - syncUs } });
  small.close();
}

/**
 * The event loop while a sampler streams 1,000 batches (32 random 224x224 crops of the 8192² npy,
 * NCHW float32 normalised, 2 pool threads), one sampler, three windows after 300 warm-up batches:
 * monitorEventLoopDelay p99 and max of each window (the median window is recorded) against an idle
 * baseline of the same length measured in the same run (a 1 ms timer keeps the loop turning in
 * both), and heap and RSS (after a GC) before and after the three.
 */
async function benchStreaming(nds: typeof import('../dist'), npyFile: string, norm: { scale: number; mean: number[]; std: number[] }): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
  // After a GC and one event-loop turn (Node runs the finalizers that free the addon's batch
  // buffers on a turn, not inside gc()), and a second GC.
  const mem = async () => {
    gc();
    await new Promise((r) => setImmediate(r));
    gc();
    const m = process.memoryUsage();
    return { heap: m.heapUsed / 2 ** 20, rss: m.rss / 2 ** 20 };
  };
  const before = nds.threadPoolSize();
  nds.setThreadPoolSize(2);
  // The sampler takes one random window per image per epoch: 32 ids over the same file make each
  // batch 32 crops.
  const ids = Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`img${i}`, npyFile]));
  const frames = new nds.SimpleFrames(ids, { backend: null, workdir: dataDir });
  // One sampler, as a training loop has: 300 warm-up batches (V8 compiles the planning code, the
  // pool threads start, the sampler's ring of buffers is allocated), then three windows of 1,000
  // batches, each measured on its own; the target is judged on the median window. On this VM the
  // first window shows a transient (p99 2.3-4 ms), then 1.6-1.8 ms (bench/RESULTS.md notes).
  const it = frames.sampler({ size: [224, 224], batchSize: 32, seed: 3, epochs: Infinity, layout: 'NCHW', dtype: 'float32', normalize: norm })[Symbol.asyncIterator]();
  const stream = async (n: number) => {
    for (let k = 0; k < n; k++) {
      const { value: b } = await it.next();
      if (b.dims[0] !== 32) throw new Error(`a batch of ${b.dims[0]}`);
    }
  };
  await stream(300);
  const measure = loopDelay;
  const m0 = await mem();
  const runs: Array<{ p99: number; max: number; ms: number }> = [];
  for (let k = 0; k < 3; k++) runs.push(await measure(() => stream(1000)));
  const busy = [...runs].sort((a, b) => a.p99 - b.p99)[1];
  const m1 = await mem();
  await it.return?.();
  const idle = await measure(() => new Promise((r) => setTimeout(r, busy.ms)));
  frames.close();
  nds.setThreadPoolSize(before);
  const p99s = runs.map((r) => r.p99.toFixed(2)).join(', ');
  log(`  streaming 3 windows of 1,000 batches: ${runs.map((r) => r.ms.toFixed(0)).join(', ')} ms; loop delay p99 ${p99s} ms, max ${runs.map((r) => r.max.toFixed(1)).join(', ')} ms; idle p99 ${idle.p99.toFixed(2)} ms, max ${idle.max.toFixed(2)} ms; heap ${m0.heap.toFixed(1)} -> ${m1.heap.toFixed(1)} MiB, rss ${m0.rss.toFixed(0)} -> ${m1.rss.toFixed(0)} MiB`);
  record({ section: 'throughput', case: 'event-loop delay p99 while a sampler streams 1,000 batches of 32x224² NCHW float32 (median of 3 windows)', ours: busy.p99,
    unit: 'ms', peers: { idle: idle.p99 }, target: '≤ idle + 1 ms', pass: busy.p99 <= idle.p99 + 1, note: `the three windows: ${p99s} ms` });
  record({ section: 'throughput', case: 'event-loop delay max, same stream', ours: busy.max, unit: 'ms', peers: { idle: idle.max } });
  record({ section: 'throughput', case: `heap after the stream (before: ${m0.heap.toFixed(1)})`, ours: m1.heap, unit: 'MiB', peers: {},
    target: 'flat (≤ before + 5 MiB)', pass: m1.heap <= m0.heap + 5 });
  record({ section: 'throughput', case: `RSS after the stream (before: ${m0.rss.toFixed(0)})`, ours: m1.rss, unit: 'MiB', peers: {},
    target: 'flat (≤ before + 10%)', pass: m1.rss <= m0.rss * 1.1 });
}

function machine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown cpu';
  return `${os.cpus().length} x ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${os.type()} ${os.release()}`;
}

const NOTES_MARK = '<!-- notes: everything below this line is kept when the tables are regenerated -->';

/** Merges this run's sections into results.json and regenerates the tables of RESULTS.md. */
function writeResults(): void {
  const file = path.join(here, 'results.json');
  type Saved = { rows: Row[]; runs: Record<string, { date: string; machine: string }> };
  const prev: Saved = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : { rows: [], runs: {} };
  const ran = new Set(rows.map((r) => r.section));
  const runs = { ...(prev.runs ?? {}) };
  for (const s of ran) runs[s] = { date: new Date().toISOString(), machine: machine() };
  const all = prev.rows.filter((r) => !ran.has(r.section)).concat(rows);
  fs.writeFileSync(file, JSON.stringify({ runs, rows: all }, null, 1) + '\n');

  const md = path.join(here, 'RESULTS.md');
  const old = fs.existsSync(md) ? fs.readFileSync(md, 'utf8') : '';
  const notes = old.includes(NOTES_MARK) ? old.slice(old.indexOf(NOTES_MARK) + NOTES_MARK.length) : '\n';
  const out: string[] = [
    '# Benchmark results',
    '',
    'Generated by `npm run bench` (= `node --expose-gc -r tsx/cjs bench/run.ts [sections]`); figures are',
    'median µs per operation, every peer measured in the same run on the same machine and data.',
    '',
  ];
  for (const section of [...new Set(all.map((r) => r.section))]) {
    const rs = all.filter((r) => r.section === section);
    const peerNames = [...new Set(rs.flatMap((r) => Object.keys(r.peers)))];
    out.push(`## ${section}`, '', `Run ${runs[section]?.date ?? '?'} on ${runs[section]?.machine ?? '?'}.`, '');
    out.push(`| case | ndsampler | ${peerNames.join(' | ')} | target | met |`);
    out.push(`|---|---:|${peerNames.map(() => '---:|').join('')}---|---|`);
    for (const r of rs) {
      const cells = peerNames.map((p) => fmt(r.peers[p]));
      const met = r.pass === undefined ? '' : r.pass ? 'yes' : '**no**';
      out.push(`| ${r.case}${r.unit ? ` [${r.unit}]` : ''}${r.note ? ` (${r.note})` : ''} | ${fmt(r.ours)} | ${cells.join(' | ')} | ${r.target ?? ''} | ${met} |`);
    }
    out.push('');
  }
  out.push(NOTES_MARK);
  fs.writeFileSync(md, out.join('\n') + notes);
  log(`\nwrote ${path.relative(process.cwd(), file)} and ${path.relative(process.cwd(), md)}`);
}

async function main(): Promise<void> {
  log(`ndsampler benchmark — ${machine()}`);
  if (!hasNumpy) log('  note: /usr/bin/python3 has no numpy: the numpy peer is not measured (apt-get install python3-numpy)');
  if (want('npy')) {
    benchNpy();
    await benchNpyLoop();
  }
  if (want('cog')) benchCog();
  if (want('frames')) await benchFrames();
  if (want('throughput')) await benchThroughput();
  if (want('coco')) await benchCoco({ dataDir, log, record, ensureNpy });
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the compiled build
  if (want('labels')) await benchLabels({ nds: require('../dist'), npy: ensureNpy('img8192.npy', 8192, 8192, 3), log, record });
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the compiled build
  if (want('video')) await benchVideo({ nds: require('../dist'), dataDir, log, record, ensureNpy });
  if (wantNamed('remote')) await benchRemote(dataDir, syntheticImage, log, record);  // only when named: servers, ~400 MiB over loopback
  if (wantNamed('soak')) await benchSoak(dataDir, syntheticImage, log, record);
  writeResults();
}

main().catch((err) => {
  process.stderr.write(String(err?.stack ?? err) + '\n');
  process.exit(1);
});
