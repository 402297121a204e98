// Issue 8's proof: several "training processes" prepare and read ONE cache directory at once while
// some of them are SIGKILLed, plus quicker scenarios around it (rebuild while reading, truncated,
// overwritten and colliding entries, a full disk, JPEG exactness).
//
// Target behaviour (being implemented in parallel; several checks here fail until it lands):
// exact pixels on every backend (COG compress 'auto' lossless even for JPEG sources), keys that
// cannot collide, one builder per entry across processes (an advisory flock per entry), readers
// that survive rebuilds, validate-before-use with one healing rebuild, no leftover temp files.
//
// Processes: children run test/_kill/*.js against the BUILT package (dist/index.js; rebuild it with
// `npm run build:ts` after changing lib/). Every child is bounded (its own watchdog, exits when its
// stdin closes, killed by us in finally blocks and at exit).
//
// Tuning (environment):
//   NDS_KILL_SECONDS  budget of the kill rounds in seconds (default 40; the whole file is ~budget + 25 s)
//   NDS_KILL_SEED     seed of kill times, preparer orders and reader crops (default 8)
//
// Run: node --expose-gc -r tsx/cjs test/cache-kill.test.ts
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as readline from 'node:readline';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { allocate, DEFAULT_CHANNEL, Frames, NdsamplerError, openImage, SimpleFrames, writeNpy, writeRaster } from '../lib';
import type { DType, FramesOptions, ImageId, NDArray, Pathinfo, Region } from '../lib';

// ---- knobs -------------------------------------------------------------------------------------

/**
 * A NODE_DEBUG=ndsampler line that announces the START of a cache-entry build, capturing the entry
 * path. Today: `NDSAMPLER <pid>: build <type> entry <entry> <- <src>[ (async)]`. Loose on purpose:
 * the word "build" (or "rebuild") followed somewhere by an absolute path ending in .npy / .cog.tif.
 * Adjust here when the log format changes (the reader children get the same source string).
 */
const BUILD_LINE = /\b(?:re)?build\b.*?\s(\/\S+?\.(?:npy|cog\.tif))(?=\s|$)/;

const BUDGET_MS = 1000 * Number(process.env.NDS_KILL_SECONDS ?? 40);
const SEED = Number(process.env.NDS_KILL_SEED ?? 8);
/** Per round: how long preparers are killed and restarted before they are let finish. */
const CHAOS_MS = Math.max(1500, Math.min(3000, BUDGET_MS / 20));
/** A preparer is SIGKILLed with this probability, KILL_MIN..KILL_MAX ms after it started preparing. */
const KILL_P = 0.6;
const KILL_MIN_MS = 20;
const KILL_MAX_MS = 600;
/** After the chaos window, preparers must all finish within this (else: a hang, reported). */
const FINISH_TIMEOUT_MS = 25_000;
const BACKENDS = ['npy', 'cog'] as const;
type Backend = typeof BACKENDS[number];

// ---- helpers -----------------------------------------------------------------------------------

const ROOT = fs.mkdtempSync(path.join(os.tmpdir(), 'nds-kill-'));
const KIDS_DIR = path.join(__dirname, '_kill');
const now = () => performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (...a: unknown[]) => console.log('[kill]', ...a);

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The elements of an array, C order, as bytes (any strides/offset). */
function bytesOf(a: NDArray): Buffer {
  const [h, w, c] = a.shape;
  const [sy, sx, sc] = a.strides;
  const n = h * w * c;
  if (a.offset === 0 && sc === 1 && sx === c && sy === w * c) return Buffer.from(a.data.buffer, a.data.byteOffset, n * a.data.BYTES_PER_ELEMENT);
  return bytesOf(contiguous(a));
}

function contiguous(a: NDArray): NDArray {
  const [h, w, c] = a.shape;
  const [sy, sx, sc] = a.strides;
  const out = allocate([h, w, c], a.dtype);
  let i = 0;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) out.data[i++] = a.data[a.offset + y * sy + x * sx + k * sc];
  return out;
}

function checksum(a: NDArray): string {
  return crypto.createHash('sha1').update(`${a.dtype}:${a.shape.join('x')}:`).update(bytesOf(a)).digest('hex');
}

/** Largest absolute difference and number of differing elements (Infinity for another shape/dtype). */
function diff(a: NDArray, b: NDArray): { max: number; count: number } {
  if (a.dtype !== b.dtype || a.shape.join() !== b.shape.join()) return { max: Infinity, count: Infinity };
  const x = contiguous(a).data;
  const y = contiguous(b).data;
  let max = 0;
  let count = 0;
  for (let i = 0; i < x.length; i++) {
    const d = Math.abs(x[i] - y[i]);
    if (d > 0) count++;
    if (d > max) max = d;
  }
  return { max, count };
}

/** The assertion message: how many problems and the first few (all are logged as FAIL lines). */
function failMessage(what: string, problems: string[]): string {
  return `${what}: ${problems.length} problem(s) (every one is logged above as a '[kill]   FAIL' line); first:\n  ${problems.slice(0, 6).join('\n  ')}`;
}

function describe(err: unknown): string {
  const e = err as NdsamplerError;
  return `${e?.name ?? typeof err} ${e?.code ?? '(no code)'}${e?.errno !== undefined ? ` errno=${e.errno}` : ''}: ${String(e?.message ?? err).slice(0, 300)}`;
}

/** Every file under `dir` whose name contains ".tmp" (temporary files, GDAL side files of them). */
function tempFiles(dir: string): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    let names: fs.Dirent[];
    try {
      names = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of names) {
      const p = path.join(d, e.name);
      if (e.name.includes('.tmp')) found.push(path.relative(dir, p));
      if (e.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return found.sort();
}

const entryOf = (f: Frames, id: ImageId): string => f.lookupPathinfo(id).channels[DEFAULT_CHANNEL].cache as string;

/** Decodes an entry file directly (no Frames, so no healing can hide a bad file). */
function decodeEntry(file: string): { sha?: string; error?: string } {
  try {
    const r = openImage(file);
    try {
      return { sha: checksum(r.read()) };
    } finally {
      r.close();
    }
  } catch (err) {
    return { error: describe(err) };
  }
}

/** Sets every given file's mtime to `t` seconds (same pixels, so PATH freshness sees it stale). */
function touch(files: string[], t: number): void {
  for (const f of files) fs.utimesSync(f, t, t);
}

// ---- child processes ---------------------------------------------------------------------------

interface KidEvent { t: number; kind: 'build' | 'event'; entry?: string; ev?: Record<string, unknown> }
interface Kid {
  role: string;
  proc: ChildProcess;
  pid: number;
  t0: number;
  events: KidEvent[];
  results: Array<Record<string, unknown>>;
  noise: string[];
  /** Set when the test SIGKILLed it on purpose (the chaos), with the time. */
  killedAt: number | null;
  killReason: string | null;
  exitAt: number | null;
  code: number | null;
  signal: NodeJS.Signals | null;
  closed: Promise<void>;
  onEvent?: (e: KidEvent) => void;
}

const LIVE = new Set<Kid>();
function killAll(): void {
  for (const k of LIVE) {
    try {
      k.proc.kill('SIGKILL');
    } catch { /* gone */ }
  }
}
process.on('exit', killAll);

function spawnKid(role: string, script: string, args: Record<string, unknown>): Kid {
  const proc = spawn(process.execPath, [path.join(KIDS_DIR, script), JSON.stringify(args)], {
    env: { ...process.env, NODE_DEBUG: 'ndsampler', NODE_OPTIONS: '' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  proc.stdin?.on('error', () => { /* the child is gone */ });
  const kid: Kid = {
    role, proc, pid: proc.pid ?? -1, t0: now(), events: [], results: [], noise: [],
    killedAt: null, killReason: null, exitAt: null, code: null, signal: null, closed: Promise.resolve(),
  };
  LIVE.add(kid);
  readline.createInterface({ input: proc.stderr! }).on('line', (line) => {
    const t = now();
    let e: KidEvent | null = null;
    if (line.startsWith('KILLEV ')) {
      try {
        e = { t, kind: 'event', ev: JSON.parse(line.slice(7)) };
      } catch {
        kid.noise.push(line);
      }
    } else {
      const m = BUILD_LINE.exec(line);
      if (m) e = { t, kind: 'build', entry: m[1] };
      else if (!/^NDSAMPLER \d+:/.test(line)) kid.noise.push(line);
    }
    if (e !== null) {
      kid.events.push(e);
      kid.onEvent?.(e);
    }
  });
  readline.createInterface({ input: proc.stdout! }).on('line', (line) => {
    try {
      kid.results.push(JSON.parse(line));
    } catch {
      kid.noise.push(`stdout: ${line}`);
    }
  });
  kid.closed = new Promise((resolve) => {
    proc.on('close', (code, signal) => {
      kid.exitAt = now();
      kid.code = code;
      kid.signal = signal;
      LIVE.delete(kid);
      resolve();
    });
  });
  return kid;
}

function killKid(kid: Kid, reason: string): void {
  if (kid.exitAt !== null) return;
  if (kid.killedAt === null) {
    kid.killedAt = now();
    kid.killReason = reason;
  }
  kid.proc.kill('SIGKILL');
}

/** Resolves true when the kid exited within `ms`; otherwise kills it and resolves false. */
async function waitKid(kid: Kid, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const ok = await Promise.race([kid.closed.then(() => true), new Promise<boolean>((r) => { timer = setTimeout(() => r(false), ms); })]);
  clearTimeout(timer);
  if (!ok) {
    killKid(kid, 'timeout');
    await kid.closed;
  }
  return ok;
}

async function stopReader(kid: Kid): Promise<boolean> {
  kid.proc.stdin?.write('stop\n');
  return waitKid(kid, 8000);
}

/** Builds of one process: start (debug line) to its next 'done'/'end' event, or to its death. */
interface Build { kid: Kid; entry: string; t0: number; t1: number; ended: 'done' | 'killed' | 'exit' }
function buildsOf(kid: Kid): Build[] {
  const out: Build[] = [];
  let open: Build[] = [];
  for (const e of kid.events) {
    if (e.kind === 'build') {
      const b: Build = { kid, entry: e.entry as string, t0: e.t, t1: Infinity, ended: 'exit' };
      out.push(b);
      open.push(b);
    } else if (e.ev?.ev === 'done' || e.ev?.ev === 'end') {
      for (const b of open) {
        b.t1 = e.t;
        b.ended = 'done';
      }
      open = [];
    }
  }
  for (const b of open) {
    const killed = kid.signal === 'SIGKILL' && kid.killedAt !== null;
    b.ended = killed ? 'killed' : 'exit';
    b.t1 = Math.max(b.t0, (killed ? kid.killedAt : kid.exitAt) ?? b.t0);
  }
  return out;
}

/**
 * Classifies every build of one round. A build is
 * - 'first': nobody built this entry before in the round;
 * - 'restart': every earlier build of the entry died with its process (killed: allowed);
 * - 'concurrent': another process was still building the entry when this one started (no lock);
 * - 'redundant': an earlier build of the entry had completed (the builder did not re-check under the lock).
 */
type BuildClass = 'first' | 'restart' | 'concurrent' | 'redundant';
function classifyBuilds(builds: Build[]): Map<Build, BuildClass> {
  const byEntry = new Map<string, Build[]>();
  for (const b of builds) {
    const list = byEntry.get(b.entry) ?? [];
    list.push(b);
    byEntry.set(b.entry, list);
  }
  const cls = new Map<Build, BuildClass>();
  for (const list of byEntry.values()) {
    list.sort((a, b) => a.t0 - b.t0);
    list.forEach((b, i) => {
      const before = list.slice(0, i);
      if (before.some((o) => o.kid !== b.kid && o.t1 > b.t0)) cls.set(b, 'concurrent');
      else if (before.some((o) => o.ended === 'done' || o.ended === 'exit')) cls.set(b, 'redundant');
      else cls.set(b, i === 0 ? 'first' : 'restart');
    });
  }
  return cls;
}

function readerSummary(kid: Kid): Record<string, number> | null {
  return (kid.results.find((r) => r.ev === 'summary') as Record<string, number> | undefined) ?? null;
}

// ---- the dataset -------------------------------------------------------------------------------

interface Src { id: number; name: string; path: string; shape: [number, number, number]; dtype: DType; sha: string; ref: string }

/** Deterministic pixels: 'photo' (gradients, discs, noise), 'label' (flat rectangles) or 'noise'. */
function synth(h: number, w: number, c: number, dtype: DType, seed: number, kind: 'photo' | 'label' | 'noise'): NDArray {
  const a = allocate([h, w, c], dtype);
  const d = a.data;
  const max = dtype === 'uint16' ? 65535 : 255;
  const r = rng(seed);
  const rects = Array.from({ length: 40 }, () => [r() * h, r() * w, 10 + r() * h / 3, 10 + r() * w / 3, Math.floor(r() * 20)]);
  const discs = Array.from({ length: 5 }, () => [r() * h, r() * w, (10 + r() * Math.min(h, w) / 4) ** 2, r()]);
  let s = (seed * 2654435761) >>> 0 || 1;
  let i = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
      let label = 0;
      if (kind === 'label') for (const [ry, rx, rh, rw, v] of rects) if (y >= ry && y < ry + rh && x >= rx && x < rx + rw) label = v;
      let disc = -1;
      for (const [cy, cx, r2, v] of discs) if ((y - cy) ** 2 + (x - cx) ** 2 < r2) disc = v;
      for (let k = 0; k < c; k++) {
        let v: number;
        if (kind === 'label') v = dtype === 'uint16' ? label * 3001 + k : label * 12 + k;
        else if (kind === 'noise') v = (s >>> (k * 5)) & max;
        else {
          const g = ((k === 0 ? x / w : k === 1 ? y / h : (x + y) / (w + h)) * 0.8 + (disc >= 0 ? disc * 0.2 : 0.1));
          v = Math.round(g * max) + (((s >>> (k * 4)) & 15) - 8) * (max === 255 ? 1 : 97);
        }
        d[i++] = Math.max(0, Math.min(max, v));
      }
    }
  }
  return a;
}

const DATA = path.join(ROOT, 'data');
const REFS = path.join(ROOT, 'refs');
const SOURCES: Src[] = [];
let jpegSrc: Src | null = null;
let jpegHow = '';

function addSource(name: string, arr: NDArray | null, write: (file: string) => void): Src {
  const file = path.join(DATA, name);
  write(file);
  const r = openImage(file);
  const px = r.read();
  r.close();
  const id = SOURCES.length + 1;
  const ref = path.join(REFS, `${id}.npy`);
  writeNpy(ref, px);
  if (arr !== null) assert.is(checksum(px), checksum(arr), `${name}: written pixels read back`);
  const src: Src = { id, name, path: file, shape: px.shape, dtype: px.dtype, sha: checksum(px), ref };
  SOURCES.push(src);
  return src;
}

function makeDataset(): void {
  fs.mkdirSync(DATA, { recursive: true });
  fs.mkdirSync(REFS, { recursive: true });
  const specs: Array<[string, number, number, number, DType, 'photo' | 'label' | 'noise', Record<string, string>?]> = [
    ['rgb512a.png', 512, 512, 3, 'uint8', 'photo'],
    ['rgb512b.png', 512, 512, 3, 'uint8', 'photo'],
    ['rgb512c.tif', 512, 512, 3, 'uint8', 'photo'],
    // Tiled, no overviews: already a COG, so its cog entry is a symlink to the source.
    ['rgb512d-tiled.tif', 512, 512, 3, 'uint8', 'photo', { TILED: 'YES', COMPRESS: 'DEFLATE' }],
    ['rgb384x256.png', 384, 256, 3, 'uint8', 'photo'],
    ['rgb200x300.tif', 200, 300, 3, 'uint8', 'noise'],
    ['big1024x1536.tif', 1024, 1536, 3, 'uint8', 'photo'],
    ['u16-512.tif', 512, 512, 1, 'uint16', 'photo'],
    ['u16-300x400.png', 300, 400, 1, 'uint16', 'photo'],
    ['u16-256x700.tif', 256, 700, 1, 'uint16', 'noise'],
    ['u16-label512.png', 512, 512, 1, 'uint16', 'label'],
    ['label512.png', 512, 512, 1, 'uint8', 'label'],
    ['label300x200.tif', 300, 200, 1, 'uint8', 'label'],
    ['rgb257x333.tif', 257, 333, 3, 'uint8', 'photo'],
    ['gray640x480.png', 480, 640, 1, 'uint8', 'photo'],
  ];
  specs.forEach(([name, h, w, c, dtype, kind, co], i) => {
    const arr = synth(h, w, c, dtype, 101 + i, kind);
    addSource(name, arr, (f) => writeRaster(f, arr, co ? { creationOptions: co } : undefined));
  });
  // A real JPEG made from one PNG (gdal_translate when installed, else the library's writeRaster).
  const png = SOURCES[0].path;
  if (fs.existsSync('/usr/bin/gdal_translate')) {
    jpegHow = 'gdal_translate -of JPEG';
    jpegSrc = addSource('photo.jpg', null, (f) => execFileSync('/usr/bin/gdal_translate', ['-q', '-of', 'JPEG', png, f], { stdio: 'ignore', timeout: 20000 }));
  } else {
    jpegHow = 'writeRaster(JPEG) (no /usr/bin/gdal_translate)';
    const r = openImage(png);
    const px = r.read();
    r.close();
    jpegSrc = addSource('photo.jpg', null, (f) => writeRaster(f, px, { driver: 'JPEG' }));
  }
  for (const f of fs.readdirSync(DATA)) if (f.endsWith('.aux.xml')) fs.rmSync(path.join(DATA, f));
}

const pathsOf = (srcs: Src[]): Record<string, string> => Object.fromEntries(srcs.map((s) => [String(s.id), s.path]));
const refsOf = (srcs: Src[]): Record<string, string> => Object.fromEntries(srcs.map((s) => [String(s.id), s.ref]));
const framesOn = (workdir: string, backend: Backend, srcs: Src[] = SOURCES, opts: FramesOptions = {}) =>
  new SimpleFrames(new Map(srcs.map((s) => [s.id, s.path] as [ImageId, string])), { workdir, backend, ...opts });

function sourceRegion(src: Src, region: Region | null): NDArray {
  const r = openImage(src.ref);
  try {
    return r.read(region);
  } finally {
    r.close();
  }
}

/** Clean-build checksums by `${backend}:${id}` and the .npy of its pixels when they differ from the source. */
const CLEAN = new Map<string, string>();
const CLEAN_REFS: Record<string, string> = {};

test.before(() => {
  const t = now();
  makeDataset();
  const total = SOURCES.reduce((n, s) => n + s.shape[0] * s.shape[1] * s.shape[2] * (s.dtype === 'uint16' ? 2 : 1), 0);
  log(`dataset: ${SOURCES.length} sources (${(total / 2 ** 20).toFixed(1)} MiB of pixels; JPEG via ${jpegHow}) in ${(now() - t).toFixed(0)} ms under ${ROOT}`);
  const dist = path.join(__dirname, '..', 'dist', 'index.js');
  const libDir = path.join(__dirname, '..', 'lib');
  const newest = Math.max(...fs.readdirSync(libDir).map((f) => fs.statSync(path.join(libDir, f)).mtimeMs));
  if (!fs.existsSync(dist)) throw new Error('dist/index.js is missing: run `npm run build:ts` (the child processes load the built package)');
  if (fs.statSync(dist).mtimeMs < newest) log('WARNING: dist/ is older than lib/ (it may be out of date): the child processes run the built package; run `npm run build:ts` after changing lib/');
});

test.after(() => {
  killAll();
  // Any bind mount a failed test left under ROOT goes before ROOT does.
  for (const line of fs.readFileSync('/proc/self/mounts', 'utf8').split('\n').reverse()) {
    const target = line.split(' ')[1];
    if (target !== undefined && target.startsWith(ROOT + '/')) {
      try { execFileSync('umount', [target], { stdio: 'ignore' }); } catch { /* not mounted any more */ }
    }
  }
  fs.rmSync(ROOT, { recursive: true, force: true });
});

// ---- 1. the clean reference build ----------------------------------------------------------------

test('clean reference build: one process prepares both backends; every entry decodes to the source pixels exactly', async () => {
  const workdir = path.join(ROOT, 'clean');
  const problems: string[] = [];
  for (const backend of BACKENDS) {
    const f = framesOn(workdir, backend);
    const t = now();
    const rep = await f.prepare();
    log(`clean ${backend}: built ${rep.built}, reused ${rep.reused}, failed ${rep.failed.length} in ${(now() - t).toFixed(0)} ms`);
    for (const x of rep.failed) problems.push(`clean ${backend}: prepare failed for ${String(x.imageId)}: ${describe(x.error)}`);
    for (const s of SOURCES) {
      const key = `${backend}:${s.id}`;
      let img: NDArray;
      try {
        img = f.loadImage(s.id);
      } catch (err) {
        problems.push(`clean ${backend} ${s.name}: loadImage: ${describe(err)}`);
        continue;
      }
      const sha = checksum(img);
      CLEAN.set(key, sha);
      if (sha !== s.sha) {
        const d = diff(img, sourceRegion(s, null));
        problems.push(`clean ${backend} ${s.name}: not exact (max |diff| ${d.max}, ${d.count} elements differ)`);
        CLEAN_REFS[key] = path.join(REFS, `clean-${backend}-${s.id}.npy`);
        writeNpy(CLEAN_REFS[key], contiguous(img));
      }
      const region: Region = [[7, -5], [3, -9]];
      try {
        const crop = f.loadRegion(s.id, region);
        if (checksum(crop) !== checksum(sourceRegion(s, region)) && sha === s.sha) problems.push(`clean ${backend} ${s.name}: loadRegion crop differs from the source`);
      } catch (err) {
        problems.push(`clean ${backend} ${s.name}: loadRegion: ${describe(err)}`);
      }
    }
    f.close();
  }
  const temps = tempFiles(workdir);
  if (temps.length) problems.push(`clean build left temp files: ${temps.slice(0, 5).join(', ')}`);
  for (const p of problems) log(`  FAIL ${p}`);
  assert.ok(problems.length === 0, failMessage('clean build', problems));
});

// ---- 2. the kill rounds ------------------------------------------------------------------------

interface RoundStats {
  r: number; ms: number; launches: number; kills: number; builds: number; readerBuilds: number;
  restarts: number; concurrent: number; redundant: number; reads: number; errors: number; wrong: number; inexact: number;
  /** Builds whose process was SIGKILLed before the build finished. */
  killedBuilds: number;
}

test(`kill rounds: 4 preparers (2 per backend, SIGKILLed and restarted) + 2 readers on one workdir for ~${BUDGET_MS / 1000} s`, async () => {
  const workdir = path.join(ROOT, 'kill');
  const ids = SOURCES.map((s) => s.id);
  const rand = rng(SEED);
  const randInt = (n: number) => Math.floor(rand() * n);
  const problems: string[] = [];
  const info: string[] = [];
  // entry path -> which image/backend (as the parent's lib names it)
  const entries = new Map<string, { backend: Backend; src: Src }>();
  for (const backend of BACKENDS) {
    const f = framesOn(workdir, backend);
    for (const s of SOURCES) entries.set(entryOf(f, s.id), { backend, src: s });
  }
  const entryName = (e: string) => {
    const x = entries.get(e);
    return x ? `${x.backend}:${x.src.name}` : `?${e}`;
  };
  // Clean checksums: from test 1, or computed now if it could not finish.
  const cleanSha = (backend: Backend, s: Src) => CLEAN.get(`${backend}:${s.id}`) ?? s.sha;
  const perEntryRound = new Map<string, number[]>();
  const rounds: RoundStats[] = [];
  const seenTemps = new Set<string>();
  const unknownEntries = new Set<string>();
  const examples = { concurrent: [] as string[], redundant: [] as string[], reader: [] as string[] };
  const errorCodes: Record<string, number> = {};
  const exampleKinds: Record<string, number> = {};
  const dupKinds: Record<string, number> = {};
  let hung = false;
  const tStart = now();
  const srcFiles = SOURCES.map((s) => s.path);
  const mtimeBase = Math.floor(Date.now() / 1000) + 1000;

  try {
    for (let r = 0; ; r++) {
      const elapsed = now() - tStart;
      const avg = rounds.length ? rounds.reduce((n, x) => n + x.ms, 0) / rounds.length : 0;
      if (r > 0 && (hung || elapsed + avg > BUDGET_MS)) break;
      // Round r > 0: every source gets a new mtime (same pixels) so every entry is stale again.
      if (r > 0) touch(srcFiles, mtimeBase + r);
      const t0 = now();
      const kids: Kid[] = [];
      const readers = (['hot', 'cold'] as const).map((mode, i) => spawnKid(`reader-${mode}`, 'reader.js', {
        workdir, backends: BACKENDS, paths: pathsOf(SOURCES), refs: refsOf(SOURCES), cleanRefs: CLEAN_REFS,
        mode, seed: SEED * 1000 + r * 10 + i, lifetimeMs: 120_000, maxReports: 10, buildRe: BUILD_LINE.source,
      }));
      kids.push(...readers);
      // The chaos window opens when the first preparer is up (its 'start' event), not at spawn: on a
      // loaded machine (or under ASan) children take seconds to start, and a window timed from the
      // spawn could close before anyone could be killed.
      let chaosEnd = Infinity;
      let launches = 0;
      let kills = 0;
      const timers = new Set<NodeJS.Timeout>();
      const slotDone: Array<Promise<void>> = [];
      const launch = (backend: Backend, done: () => void) => {
        if (hung) return done();
        launches++;
        // Half the launches prepare in the dataset's order (maximum contention), half rotated.
        const shift = rand() < 0.5 ? 0 : 1 + randInt(ids.length - 1);
        const order = ids.map((_, i) => ids[(i + shift) % ids.length]);
        const kid = spawnKid(`prep-${backend}`, 'preparer.js', { workdir, backend, paths: pathsOf(SOURCES), order, lifetimeMs: 60_000 });
        kids.push(kid);
        const kill = now() < chaosEnd && rand() < KILL_P;
        const delay = KILL_MIN_MS + rand() * (KILL_MAX_MS - KILL_MIN_MS);
        kid.onEvent = (e) => {
          if (e.ev?.ev !== 'start') return;
          if (chaosEnd === Infinity) chaosEnd = now() + CHAOS_MS;
          if (kill) {
            const timer = setTimeout(() => {
              timers.delete(timer);
              if (now() < chaosEnd && kid.exitAt === null) {
                kills++;
                killKid(kid, 'chaos');
              }
            }, delay);
            timers.add(timer);
          }
        };
        void kid.closed.then(() => {
          if (kid.killReason === 'chaos' && kid.signal === 'SIGKILL') return launch(backend, done);  // always restart a killed one
          if (kid.code !== 0 && !hung) {
            problems.push(`round ${r}: preparer ${kid.pid} (${backend}) exited with code ${kid.code} signal ${kid.signal}: ${kid.noise.slice(-3).join(' | ')}`);
          }
          if (now() < chaosEnd && !hung) return launch(backend, done);
          done();
        });
      };
      for (const backend of ['npy', 'npy', 'cog', 'cog'] as const) slotDone.push(new Promise<void>((res) => launch(backend, res)));
      const waitFrom = now();
      while (chaosEnd === Infinity && now() - waitFrom < FINISH_TIMEOUT_MS) await sleep(20);
      if (chaosEnd === Infinity) chaosEnd = now();  // nobody started: reported below as a hang
      await sleep(Math.max(0, chaosEnd - now()));
      for (const t of timers) clearTimeout(t);
      timers.clear();
      // Let every slot finish cleanly (bounded).
      let finishTimer: NodeJS.Timeout | undefined;
      const finished = await Promise.race([
        Promise.all(slotDone).then(() => true),
        new Promise<boolean>((res) => { finishTimer = setTimeout(() => res(false), FINISH_TIMEOUT_MS); }),
      ]);
      clearTimeout(finishTimer);
      if (!finished) {
        hung = true;
        const live = kids.filter((k) => k.exitAt === null && k.role.startsWith('prep'));
        problems.push(`round ${r}: preparers did not finish within ${FINISH_TIMEOUT_MS} ms after the chaos window (hung pids ${live.map((k) => k.pid).join(', ')}; last events: ${live.map((k) => JSON.stringify(k.events.slice(-2).map((e) => e.ev ?? e.entry))).join(' ')})`);
        for (const k of live) killKid(k, 'hang');
        await Promise.all(live.map((k) => k.closed));
      }
      for (const rd of readers) {
        if (!(await stopReader(rd))) problems.push(`round ${r}: reader ${rd.role} did not stop within 8 s (killed)`);
      }
      const ms = now() - t0;

      // ---- analysis of the round ----
      const builds = kids.flatMap(buildsOf);
      const cls = classifyBuilds(builds);
      const st: RoundStats = { r, ms, launches, kills, builds: 0, readerBuilds: 0, restarts: 0, concurrent: 0, redundant: 0, reads: 0, errors: 0, wrong: 0, inexact: 0, killedBuilds: 0 };
      for (const b of builds) {
        if (!entries.has(b.entry)) unknownEntries.add(b.entry);
        st.builds++;
        if (b.kid.role.startsWith('reader')) st.readerBuilds++;
        if (b.ended === 'killed') st.killedBuilds++;
        const c = cls.get(b);
        if (c === 'restart') st.restarts++;
        if (c === 'concurrent' || c === 'redundant') {
          if (c === 'concurrent') st.concurrent++;
          else st.redundant++;
          const earlier = builds.filter((o) => o.entry === b.entry && o !== b && o.t0 <= b.t0 && (c === 'redundant' || o.t1 > b.t0));
          const pair = `${c}: ${b.kid.role.split('-')[0]} after ${[...new Set(earlier.map((o) => o.kid.role.split('-')[0]))].sort().join('+')}`;
          dupKinds[pair] = (dupKinds[pair] ?? 0) + 1;
          if (examples[c].length < 4) {
            const others = builds.filter((o) => o.entry === b.entry && o !== b && o.t0 <= b.t0)
              .map((o) => `${o.kid.role}/${o.kid.pid} ${(o.t0 - t0).toFixed(0)}..${Number.isFinite(o.t1) ? (o.t1 - t0).toFixed(0) : '?'}ms ${o.ended}`);
            examples[c].push(`round ${r} ${entryName(b.entry)}: ${c} build by ${b.kid.role}/${b.kid.pid} at ${(b.t0 - t0).toFixed(0)} ms; earlier: ${others.join('; ')}`);
          }
        }
        const counts = perEntryRound.get(b.entry) ?? [];
        counts[r] = (counts[r] ?? 0) + 1;
        perEntryRound.set(b.entry, counts);
      }
      for (const k of kids) {
        if (k.role.startsWith('prep')) {
          const rep = k.events.find((e) => e.ev?.ev === 'report')?.ev as { failed?: Array<Record<string, unknown>> } | undefined;
          for (const f of rep?.failed ?? []) problems.push(`round ${r}: preparer ${k.pid} (${k.role}): entry ${String(f.id)} failed: ${String(f.name)} ${String(f.code)} errno=${String(f.errno)}: ${String(f.message)}`);
          const fatal = k.events.find((e) => e.ev?.ev === 'fatal')?.ev;
          if (fatal) problems.push(`round ${r}: preparer ${k.pid} (${k.role}): prepare() rejected: ${JSON.stringify(fatal)}`);
        }
        for (const n of k.noise.slice(0, 3)) info.push(`round ${r} ${k.role}/${k.pid} stderr: ${n.slice(0, 200)}`);
      }
      for (const rd of readers) {
        const sum = readerSummary(rd);
        if (sum === null) {
          problems.push(`round ${r}: reader ${rd.role}/${rd.pid} ended without a summary (code ${rd.code}, signal ${rd.signal}): ${rd.noise.slice(-3).join(' | ')}`);
          continue;
        }
        st.reads += sum.reads;
        st.errors += sum.errors;
        st.wrong += sum.wrong;
        st.inexact += sum.inexact;
        for (const [code, n] of Object.entries((sum as unknown as { codes?: Record<string, number> }).codes ?? {})) errorCodes[code] = (errorCodes[code] ?? 0) + n;
        for (const x of rd.results.filter((y) => y.ev === 'error' || (y.ev === 'mismatch' && y.kind === 'wrong'))) {
          const kind = `${String(x.ev)}:${String(x.code)}:${/changed on disk/.test(String(x.message))}`;
          exampleKinds[kind] = (exampleKinds[kind] ?? 0) + 1;
          if (exampleKinds[kind] <= 2 && examples.reader.length < 8) {
            const s = SOURCES.find((q) => q.id === x.id);
            examples.reader.push(`round ${r} ${rd.role}: ${x.ev === 'error' ? `${x.op} ${x.backend}:${s?.name} ${JSON.stringify(x.region)} -> ${x.name} ${x.code} errno=${x.errno}: ${String(x.message).slice(0, 160)}`
              : `WRONG PIXELS ${x.op} ${x.backend}:${s?.name} ${JSON.stringify(x.region)} max|diff| ${x.maxDiff}`}`);
          }
        }
      }
      // Entries after the round: decode directly (no healing), look for temp files, then a
      // prepare() in this process must find nothing to build.
      for (const [entry, { backend, src }] of entries) {
        const d = decodeEntry(entry);
        if (d.error) problems.push(`round ${r}: entry ${backend}:${src.name} unreadable after the round: ${d.error}`);
        else if (d.sha !== cleanSha(backend, src)) problems.push(`round ${r}: entry ${backend}:${src.name} decodes differently from the clean build`);
      }
      const temps = tempFiles(workdir).filter((f) => !seenTemps.has(f));
      for (const f of temps) seenTemps.add(f);
      if (temps.length) problems.push(`round ${r}: ${temps.length} new leftover temp file(s): ${temps.slice(0, 4).join(', ')}${temps.length > 4 ? ', ...' : ''}`);
      for (const backend of BACKENDS) {
        const f = framesOn(workdir, backend);
        const rep = await f.prepare({ useStamp: false });
        f.close();
        if (rep.built > 0 || rep.failed.length > 0) {
          problems.push(`round ${r}: after the round a prepare(${backend}) still built ${rep.built} and failed ${rep.failed.length} entries (incomplete/stale entries left behind)`);
        }
      }
      rounds.push(st);
      log(`round ${r}: ${(ms / 1000).toFixed(1)} s, ${launches} preparer launches, ${kills} kills (${st.killedBuilds} mid-build), ${st.builds} builds ` +
        `(${st.readerBuilds} by readers; ${st.restarts} restarts after a kill, ${st.concurrent} concurrent, ${st.redundant} redundant), ` +
        `${st.reads} reads: ${st.errors} errors, ${st.wrong} wrong, ${st.inexact} inexact`);
    }

    // ---- after all rounds ----
    const sum = (k: keyof RoundStats) => rounds.reduce((n, x) => n + (x[k] as number), 0);
    for (const [entry, { backend, src }] of entries) {
      const d = decodeEntry(entry);
      if (d.error) problems.push(`final: entry ${backend}:${src.name} unreadable: ${d.error}`);
      else if (d.sha !== src.sha) problems.push(`final: entry ${backend}:${src.name} differs from the source pixels${d.sha === cleanSha(backend, src) ? ' (as in the clean build)' : ' AND from the clean build'}`);
    }
    for (const backend of BACKENDS) {
      const f = framesOn(workdir, backend);
      for (const s of SOURCES) {
        try {
          if (checksum(f.loadImage(s.id)) !== cleanSha(backend, s)) problems.push(`final: loadImage ${backend}:${s.name} differs from the clean build`);
        } catch (err) {
          problems.push(`final: loadImage ${backend}:${s.name}: ${describe(err)}`);
        }
      }
      f.close();
    }
    const leftovers = tempFiles(workdir);
    if (leftovers.length) problems.push(`final: ${leftovers.length} leftover temp file(s) in the workdir, e.g. ${leftovers.slice(0, 5).join(', ')}`);
    if (unknownEntries.size) info.push(`build lines named ${unknownEntries.size} paths that are not this lib's entries (dist/ out of date?): ${[...unknownEntries].slice(0, 2).join(', ')}`);
    const dups = sum('concurrent') + sum('redundant');
    if (sum('concurrent') > 0) problems.push(`duplicates: ${sum('concurrent')} builds started while another live process was building the same entry (no per-entry lock)`);
    if (sum('redundant') > 0) problems.push(`duplicates: ${sum('redundant')} builds of an entry already rebuilt in the same round (no re-check after waiting)`);
    if (sum('errors') > 0) problems.push(`readers: ${sum('errors')} errors (${Object.entries(errorCodes).map(([c, n]) => `${n}x ${c}`).join(', ')})`);
    if (sum('wrong') > 0) problems.push(`readers: ${sum('wrong')} crops with wrong pixels`);
    if (sum('inexact') > 0) problems.push(`readers: ${sum('inexact')} crops differ from the source exactly as the clean build does (backend not exact: ${Object.keys(CLEAN_REFS).join(', ')})`);

    log(`per-entry builds per round (entry: counts for rounds 0..${rounds.length - 1}):`);
    for (const [entry] of entries) {
      const c = perEntryRound.get(entry) ?? [];
      log(`  ${entryName(entry).padEnd(26)} ${rounds.map((x) => c[x.r] ?? 0).join(' ')}`);
    }
    for (const [kind, list] of Object.entries(examples)) for (const e of list) log(`  example (${kind}): ${e}`);
    if (Object.keys(dupKinds).length) log(`  duplicates by who started them: ${Object.entries(dupKinds).map(([k, n]) => `${n}x ${k}`).join(', ')}`);
    for (const i of info.slice(0, 10)) log(`  info: ${i}`);
    log(`SUMMARY rounds=${rounds.length} kills=${sum('kills')} (mid-build ${sum('killedBuilds')}) launches=${sum('launches')} reads=${sum('reads')} builds=${sum('builds')} ` +
      `(readers ${sum('readerBuilds')}, restarts-after-kill ${sum('restarts')}) duplicates=${dups} (concurrent ${sum('concurrent')}, redundant ${sum('redundant')}) ` +
      `reader-errors=${sum('errors')} wrong=${sum('wrong')} inexact=${sum('inexact')} leftovers=${leftovers.length} in ${((now() - tStart) / 1000).toFixed(1)} s`);
  } finally {
    killAll();
  }
  for (const p of problems.slice(0, 40)) log(`  FAIL ${p}`);
  assert.ok(rounds.length > 0 && rounds.reduce((n, x) => n + x.kills, 0) > 0, 'the rounds killed nobody: the test did not test anything');
  assert.ok(problems.length === 0, failMessage('kill rounds', problems));
});

// ---- 3. quicker scenarios ----------------------------------------------------------------------

/** Runs op.js; returns its results and how many builds each entry saw. */
async function runOps(workdir: string, srcs: Src[], ops: Array<Record<string, unknown>>, timeoutMs = 20000) {
  const kid = spawnKid('op', 'op.js', { workdir, paths: pathsOf(srcs), ops, lifetimeMs: timeoutMs });
  const inTime = await waitKid(kid, timeoutMs + 2000);
  const builds = new Map<string, number>();
  for (const e of kid.events) if (e.kind === 'build') builds.set(e.entry as string, (builds.get(e.entry as string) ?? 0) + 1);
  return { results: kid.results, builds, inTime, kid };
}

test('(a) rebuild while reading: readers of an entry that another process keeps rebuilding get no errors', async () => {
  const workdir = path.join(ROOT, 'rebuild');
  // Two targets: a tiled TIFF that already is a COG (its cog entry is a symlink to the source) and
  // a plain TIFF (a real conversion on both backends); plus one image that is never rebuilt.
  const targets = ['rgb512d-tiled.tif', 'u16-512.tif'].map((n) => SOURCES.find((s) => s.name === n) as Src);
  const other = SOURCES.find((s) => s.name === 'label300x200.tif') as Src;
  const srcs = [...targets, other];
  const frames = BACKENDS.map((b) => framesOn(workdir, b, srcs));
  for (const f of frames) await f.prepare({ useStamp: false });
  const problems: string[] = [];
  const readers = (['hot', 'cold'] as const).map((mode, i) => spawnKid(`reader-${mode}`, 'reader.js', {
    workdir, backends: BACKENDS, paths: pathsOf(srcs), refs: refsOf(srcs), cleanRefs: CLEAN_REFS,
    mode, seed: SEED + 77 + i, lifetimeMs: 60_000, maxReports: 10, buildRe: BUILD_LINE.source,
  }));
  let rebuilds = 0;
  let reportedBuilt = 0;
  try {
    await Promise.all(readers.map((rd) => new Promise<void>((res) => {
      const t = setTimeout(res, 5000);
      rd.onEvent = (e) => { if (e.ev?.ev === 'start') { clearTimeout(t); res(); } };
    })));
    const tEnd = now() + 3000;
    const mt = Math.floor(Date.now() / 1000) + 5000;
    while (now() < tEnd) {
      touch(targets.map((t) => t.path), mt + rebuilds);
      rebuilds++;
      for (const f of frames) {
        const rep = await f.prepare({ gids: targets.map((t) => t.id), useStamp: false });
        reportedBuilt += rep.built;
        for (const x of rep.failed) problems.push(`rebuilder: prepare failed: ${describe(x.error)}`);
      }
      await sleep(40);
    }
    for (const rd of readers) if (!(await stopReader(rd))) problems.push(`reader ${rd.role} did not stop`);
  } finally {
    for (const rd of readers) killKid(rd, 'cleanup');
    for (const f of frames) f.close();
  }
  let reads = 0;
  for (const rd of readers) {
    const s = readerSummary(rd);
    if (s === null) {
      problems.push(`reader ${rd.role}/${rd.pid} ended without a summary (code ${rd.code}, signal ${rd.signal}) ${rd.noise.slice(-2).join(' | ')}`);
      continue;
    }
    reads += s.reads;
    log(`(a) reader ${rd.role}: ${s.reads} reads, ${s.errors} errors, ${s.wrong} wrong, ${s.inexact} inexact, ${s.builds} reads that built`);
    const codes = Object.entries((s as unknown as { codes?: Record<string, number> }).codes ?? {}).map(([c, n]) => `${n}x ${c}`).join(', ');
    const byKey = Object.entries((s as unknown as { byKey?: Record<string, { reads: number; errors: number }> }).byKey ?? {})
      .filter(([, v]) => v.errors > 0).map(([k, v]) => `${k.split(':')[0]}:${SOURCES.find((q) => String(q.id) === k.split(':')[1])?.name} ${v.errors}/${v.reads}`).join(', ');
    if (s.errors) problems.push(`reader ${rd.role}: ${s.errors} errors of ${s.reads} reads (${codes}; by entry: ${byKey}), e.g. ${rd.results.filter((x) => x.ev === 'error').slice(0, 2).map((x) => `${x.op} ${x.backend}:${SOURCES.find((q) => q.id === x.id)?.name} -> ${x.name} ${x.code}: ${String(x.message).slice(0, 150)}`).join(' || ')}`);
    if (s.wrong) problems.push(`reader ${rd.role}: ${s.wrong} crops with wrong pixels`);
  }
  log(`(a) ${rebuilds} forced rebuild rounds (2 entries x 2 backends each), prepare reported ${reportedBuilt} built; ${reads} reads`);
  const temps = tempFiles(workdir);
  if (temps.length) problems.push(`leftover temp files: ${temps.slice(0, 5).join(', ')}`);
  for (const p of problems) log(`  FAIL ${p}`);
  assert.ok(reads > 0 && rebuilds > 0, 'nothing was read or rebuilt');
  assert.ok(problems.length === 0, failMessage('rebuild while reading', problems));
});

test('(b) truncated entries heal once (loadRegion and prepare); an entry that cannot be healed is a coded error, not a loop', async () => {
  const workdir = path.join(ROOT, 'trunc');
  const x = SOURCES.find((s) => s.name === 'rgb512a.png') as Src;
  const u = SOURCES.find((s) => s.name === 'u16-512.tif') as Src;
  // A private copy of a source that will be corrupted later.
  const cdir = path.join(ROOT, 'trunc-src');
  fs.mkdirSync(cdir, { recursive: true });
  const cfile = path.join(cdir, 'corrupt-later.png');
  fs.copyFileSync(x.path, cfile);
  const c: Src = { ...x, id: 99, name: 'corrupt-later.png', path: cfile };
  const srcs = [x, u, c];
  const problems: string[] = [];
  const entry: Record<string, string> = {};
  for (const b of BACKENDS) {
    const f = framesOn(workdir, b, srcs);
    const rep = await f.prepare({ useStamp: false });
    for (const s of srcs) entry[`${b}:${s.id}`] = entryOf(f, s.id);
    f.close();
    assert.is(rep.failed.length, 0, 'setup: prepare');
  }
  const halve = (file: string) => fs.truncateSync(file, Math.floor(fs.statSync(file).size / 2));
  const region: Region = [[100, 300], [50, 420]];
  const want = checksum(sourceRegion(x, region));

  // 1. truncated -> the next loadRegion heals with exactly one build (sync and async, both backends).
  for (const variant of [0, 1]) {
    for (const b of BACKENDS) halve(entry[`${b}:${x.id}`]);
    const ops = BACKENDS.map((b, i) => ({ backend: b, op: (i + variant) % 2 ? 'loadAsync' : 'load', id: x.id, region }));
    const r1 = await runOps(workdir, srcs, ops);
    for (const [i, b] of BACKENDS.entries()) {
      const res = r1.results.find((y) => y.i === i);
      const n = r1.builds.get(entry[`${b}:${x.id}`]) ?? 0;
      const what = `truncated ${b} entry, ${ops[i].op === 'loadAsync' ? 'loadRegionAsync' : 'loadRegion'}`;
      if (!res) problems.push(`${what}: no result (child ${r1.inTime ? 'exited' : 'timed out'}: ${r1.kid.noise.slice(-2).join(' | ')})`);
      else if (!res.ok) problems.push(`${what}: ${res.name} ${res.code} errno=${res.errno}: ${String(res.message).slice(0, 200)} (expected: healed)`);
      else if (res.sha1 !== want && CLEAN_REFS[`${b}:${x.id}`] === undefined) problems.push(`${what}: wrong pixels`);
      if (n !== 1) problems.push(`${what}: ${n} builds (expected exactly 1 healing rebuild)`);
      const d = decodeEntry(entry[`${b}:${x.id}`]);
      if (d.error) problems.push(`${what}: afterwards the entry is still unreadable: ${d.error}`);
      log(`(b) ${what}: ${res?.ok ? 'ok' : `error ${String(res?.code)}`}, ${n} builds`);
    }
  }

  // 2. truncated -> prepare() rebuilds it and reports it as built.
  for (const b of BACKENDS) halve(entry[`${b}:${x.id}`]);
  const r2 = await runOps(workdir, srcs, BACKENDS.map((b) => ({ backend: b, op: 'prepare', gids: [x.id] })));
  for (const [i, b] of BACKENDS.entries()) {
    const res = r2.results.find((y) => y.i === i);
    const what = `truncated ${b} entry, prepare()`;
    if (!res || !res.ok) problems.push(`${what}: ${res ? `${res.code}: ${res.message}` : 'no result'}`);
    else if (res.built !== 1 || res.reused !== 0) problems.push(`${what}: reported built=${res.built} reused=${res.reused} failed=${(res.failed as unknown[]).length} (expected built 1, reused 0)`);
    const d = decodeEntry(entry[`${b}:${x.id}`]);
    if (d.error) problems.push(`${what}: afterwards the entry is still unreadable: ${d.error}`);
    else if (d.sha !== x.sha && CLEAN_REFS[`${b}:${x.id}`] === undefined) problems.push(`${what}: afterwards the entry decodes to other pixels`);
    log(`(b) ${what}: built=${String(res?.built)} reused=${String(res?.reused)}, ${r2.builds.get(entry[`${b}:${x.id}`]) ?? 0} builds`);
  }

  // 3. cannot heal: (i) the truncated entry's directory is read-only (a read-only bind mount: its
  //    rebuild can neither lock nor replace it);
  //    (ii) the source itself is now garbage (same size and mtime, so it still looks fresh).
  const readOnly: string[] = [];
  try {
    for (const b of BACKENDS) {
      const e = entry[`${b}:${u.id}`];
      halve(e);
      const d = path.dirname(e);
      try {
        execFileSync('mount', ['--bind', d, d], { stdio: 'pipe' });
        readOnly.push(d);
        execFileSync('mount', ['-o', 'remount,ro,bind', d], { stdio: 'pipe' });
      } catch (err) {
        problems.push(`setup: a read-only bind mount failed (${(err as Error).message.split('\n')[0]}): the read-only-entry case was not exercised`);
      }
    }
    const st = fs.statSync(cfile);
    const junk = Buffer.alloc(st.size);
    for (let i = 0; i < junk.length; i++) junk[i] = (i * 131 + (i >> 7)) & 255;
    fs.writeFileSync(cfile, junk);
    fs.utimesSync(cfile, st.atime, st.mtime);
    for (const b of BACKENDS) halve(entry[`${b}:${c.id}`]);
    const cases = BACKENDS.flatMap((b) => [
      { backend: b, op: 'load', id: u.id, region, what: `truncated ${b} entry in a read-only directory` },
      { backend: b, op: 'load', id: c.id, region, what: `truncated ${b} entry of a now-corrupt source` },
    ]);
    const t = now();
    const r3 = await runOps(workdir, srcs, cases.map(({ what: _w, ...o }) => o), 15000);
    log(`(b) cannot-heal cases ran in ${(now() - t).toFixed(0)} ms`);
    cases.forEach((cs, i) => {
      const res = r3.results.find((y) => y.i === i);
      const src = cs.id === u.id ? u : c;
      const n = r3.builds.get(entry[`${cs.backend}:${src.id}`]) ?? 0;
      if (!res) problems.push(`${cs.what}: no result (child ${r3.inTime ? 'exited' : 'TIMED OUT (a loop?)'})`);
      else if (res.ok) {
        if (res.sha1 !== checksum(sourceRegion(src, region))) problems.push(`${cs.what}: returned pixels that are not the source's (expected a coded error)`);
        else log(`(b) ${cs.what}: returned the correct pixels (served around the broken entry)`);
      } else if (typeof res.code !== 'string' || !String(res.code).startsWith('ERR_')) problems.push(`${cs.what}: uncoded error ${res.name}: ${res.message}`);
      if (n > 1) problems.push(`${cs.what}: ${n} builds (expected at most one rebuild)`);
      if (res && (res.ms as number) > 10000) problems.push(`${cs.what}: took ${res.ms} ms`);
      log(`(b) ${cs.what}: ${res ? (res.ok ? 'pixels' : `${res.name} ${res.code} errno=${res.errno}: ${String(res.message).slice(0, 120)}`) : 'no result'}; ${n} builds`);
    });
  } finally {
    for (const d of readOnly) execFileSync('umount', [d], { stdio: 'ignore' });
  }
  const temps = tempFiles(workdir);
  if (temps.length) problems.push(`leftover temp files: ${temps.slice(0, 5).join(', ')}`);
  for (const p of problems) log(`  FAIL ${p}`);
  assert.ok(problems.length === 0, failMessage('truncated entries', problems));
});

test('(c) a COG entry overwritten in place by another valid COG (same size) is never served as the source', async () => {
  const workdir = path.join(ROOT, 'overwrite');
  const a = SOURCES.find((s) => s.name === 'rgb512b.png') as Src;
  const b = SOURCES.find((s) => s.name === 'rgb512c.tif') as Src;
  const problems: string[] = [];
  // The brief asks this of COG entries. The npy backend is checked too but only reported: an open
  // npy reader maps the file, so bytes written into the same inode show through its mapping.
  const npyNotes: string[] = [];
  const regions: Region[] = [[[0, 64], [0, 64]], [[300, 420], [10, 200]], [[-100, null], [-256, null]], [[128, 384], [128, 384]], [[40, 500], [260, 270]]];
  for (const backend of ['cog', 'npy'] as const) {
    const f = framesOn(workdir, backend, [a, b]);
    await f.prepare({ useStamp: false });
    const ea = entryOf(f, a.id);
    const eb = entryOf(f, b.id);
    const exact = CLEAN_REFS[`${backend}:${a.id}`] === undefined;
    const sink = backend === 'cog' ? problems : npyNotes;
    const check = (got: NDArray | Error, region: Region, what: string) => {
      if (got instanceof Error) sink.push(`${backend} ${what} ${JSON.stringify(region)}: ${describe(got)}`);
      else if (exact && checksum(got) !== checksum(sourceRegion(a, region))) {
        const fromB = checksum(got) === checksum(sourceRegion(b, region));
        sink.push(`${backend} ${what} ${JSON.stringify(region)}: wrong pixels${fromB ? ' (those of the file written over the entry)' : ''}`);
      }
    };
    check(f.loadRegion(a.id, [[10, 20], [10, 20]]), [[10, 20], [10, 20]], 'open reader, before the overwrite');
    // Same inode, new content: the other image's entry (a valid file of the same shape and dtype).
    fs.copyFileSync(eb, ea);
    for (const region of regions) {
      let got: NDArray | Error;
      try {
        got = f.loadRegion(a.id, region);
      } catch (err) {
        got = err as Error;
      }
      check(got, region, 'open reader, loadRegion');
      try {
        got = await f.loadRegionAsync(a.id, region);
      } catch (err) {
        got = err as Error;
      }
      check(got, region, 'open reader, loadRegionAsync');
    }
    f.close();
    const g = framesOn(workdir, backend, [a, b]);
    for (const region of regions) {
      let got: NDArray | Error;
      try {
        got = g.loadRegion(a.id, region);
      } catch (err) {
        got = err as Error;
      }
      check(got, region, 'new Frames, loadRegion');
    }
    g.close();
    log(`(c) ${backend}: ${sink.length} problems${backend === 'npy' ? ' (npy: reported, not asserted)' : ''}`);
  }
  for (const p of npyNotes) log(`  note (npy, not asserted): ${p}`);
  for (const p of problems) log(`  FAIL ${p}`);
  assert.ok(problems.length === 0, failMessage('overwritten entry', problems));
});

test('(d) full disk (300 KiB tmpfs): coded ENOSPC errors, no partial entries, no temp files; after freeing space prepare succeeds', async () => {
  const mnt = path.join(ROOT, 'fulldisk');
  const ddir = path.join(ROOT, 'fulldisk-src');
  fs.mkdirSync(mnt, { recursive: true });
  fs.mkdirSync(ddir, { recursive: true });
  const srcs: Src[] = [];
  const specs: Array<[number, number, number, DType]> = [
    [96, 128, 3, 'uint8'], [96, 128, 3, 'uint8'], [96, 128, 3, 'uint8'], [96, 128, 3, 'uint8'],
    [96, 128, 3, 'uint8'], [96, 128, 3, 'uint8'], [300, 400, 3, 'uint8'], [256, 256, 1, 'uint16'],
  ];
  specs.forEach(([h, w, ch, dt], i) => {
    const file = path.join(ddir, `d${i}.png`);
    const arr = synth(h, w, ch, dt, 500 + i, 'photo');
    writeRaster(file, arr);
    const ref = path.join(ddir, `d${i}.npy`);
    writeNpy(ref, arr);
    srcs.push({ id: i + 1, name: `d${i}.png`, path: file, shape: arr.shape, dtype: dt, sha: checksum(arr), ref });
  });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=300k', 'tmpfs', mnt], { stdio: 'pipe' });
  } catch (err) {
    assert.unreachable(`cannot mount a tmpfs at ${mnt} (this test needs root, as CI has): ${(err as Error).message.split('\n')[0]}`);
  }
  const problems: string[] = [];
  const frames: SimpleFrames[] = [];
  try {
    const checkEntries = (phase: string, mustExist: boolean) => {
      for (const backend of BACKENDS) {
        const f = framesOn(mnt, backend, srcs);
        for (const s of srcs) {
          const e = entryOf(f, s.id);
          if (!fs.existsSync(e)) {
            if (mustExist) problems.push(`${phase}: ${backend} entry of ${s.name} is missing`);
            continue;
          }
          const d = decodeEntry(e);
          if (d.error) problems.push(`${phase}: PARTIAL ${backend} entry of ${s.name}: ${d.error}`);
          else if (d.sha !== s.sha) problems.push(`${phase}: ${backend} entry of ${s.name} decodes to other pixels`);
        }
      }
      const temps = tempFiles(mnt);
      if (temps.length) problems.push(`${phase}: leftover temp files: ${temps.slice(0, 5).join(', ')}`);
    };
    const failures: string[] = [];
    let failed = 0;
    let built = 0;
    for (const backend of BACKENDS) {
      const f = framesOn(mnt, backend, srcs);
      frames.push(f);
      let rep;
      try {
        rep = await f.prepare({ useStamp: false });
      } catch (err) {
        problems.push(`full: prepare(${backend}) rejected: ${describe(err)}`);
        continue;
      }
      built += rep.built;
      failed += rep.failed.length;
      for (const x of rep.failed) {
        const e = x.error as NdsamplerError;
        const enospc = e.errno === 28 || e.errno === -28 || /ENOSPC|No space left/i.test(String(e.message));
        failures.push(`${backend}:${String(x.imageId)} ${e.code} errno=${String(e.errno)}`);
        if (typeof e.code !== 'string' || !e.code.startsWith('ERR_')) problems.push(`full: ${backend} image ${String(x.imageId)}: uncoded error ${describe(e)}`);
        else if (!enospc) problems.push(`full: ${backend} image ${String(x.imageId)}: ${describe(e)} (no ENOSPC in errno or message)`);
        else if (e.errno === undefined) problems.push(`full: ${backend} image ${String(x.imageId)}: ${e.code} names ENOSPC only in its message, errno is not set: ${String(e.message).slice(0, 160)}`);
      }
    }
    log(`(d) 300k: built ${built}, failed ${failed}: ${failures.join(', ')}`);
    if (failed === 0) problems.push('setup: the disk did not fill up (nothing failed)');
    checkEntries('full', false);
    for (const f of frames) f.close();
    execFileSync('mount', ['-o', 'remount,size=16m', mnt], { stdio: 'pipe' });
    for (const backend of BACKENDS) {
      const f = framesOn(mnt, backend, srcs);
      frames.push(f);
      const rep = await f.prepare({ useStamp: false });
      for (const x of rep.failed) problems.push(`after freeing space: ${backend} image ${String(x.imageId)}: ${describe(x.error)}`);
      for (const s of srcs) {
        try {
          if (checksum(f.loadRegion(s.id, [[1, -1], [2, -3]])) !== checksum(sourceRegion(s, [[1, -1], [2, -3]]))) problems.push(`after freeing space: ${backend} ${s.name} wrong pixels`);
        } catch (err) {
          problems.push(`after freeing space: ${backend} ${s.name}: ${describe(err)}`);
        }
      }
      f.close();
    }
    checkEntries('after freeing space', true);
  } finally {
    for (const f of frames) f.close();
    try {
      execFileSync('umount', [mnt], { stdio: 'pipe' });
    } catch {
      try {
        execFileSync('umount', ['-l', mnt], { stdio: 'pipe' });
      } catch (err) {
        log(`WARNING: could not unmount ${mnt}: ${(err as Error).message}`);
      }
    }
  }
  for (const p of problems) log(`  FAIL ${p}`);
  assert.ok(problems.length === 0, failMessage('full disk', problems));
});

/** A dataset rooted at a directory, with relative file names (what CocoFrames-like subclasses do). */
class RootedFrames extends Frames {
  readonly #root: string;
  readonly #names: string[];
  constructor(root: string, names: string[], opts: FramesOptions) {
    super(opts);
    this.#root = root;
    this.#names = names;
  }

  get imageIds(): ImageId[] {
    return this.#names.map((_, i) => i + 1);
  }

  protected buildPathinfo(imageId: ImageId): Pathinfo {
    const name = this.#names[Number(imageId) - 1];
    if (name === undefined) throw this.unknownImage(imageId);
    const chan = { path: name };
    this.populateChanInfo(chan, this.#root);
    return { id: imageId, channels: { [DEFAULT_CHANNEL]: chan }, default: DEFAULT_CHANNEL };
  }
}

test('(e) two datasets with the same relative names, sizes and mtimes in one workdir each get their own pixels', async () => {
  const workdir = path.join(ROOT, 'collide');
  const roots = [path.join(ROOT, 'collide-a'), path.join(ROOT, 'collide-b')];
  const names = ['img/rgb.tif', 'img/label16.tif'];
  const px: NDArray[][] = [[], []];
  const t = new Date(Math.floor(Date.now() / 1000) * 1000 - 86400_000);
  roots.forEach((root, k) => {
    fs.mkdirSync(path.join(root, 'img'), { recursive: true });
    px[k][0] = synth(200, 240, 3, 'uint8', 900 + k, 'photo');
    px[k][1] = synth(160, 200, 1, 'uint16', 910 + k, 'label');
    names.forEach((n, i) => {
      writeRaster(path.join(root, n), px[k][i]);   // uncompressed GeoTIFF: same byte size for same shape
      fs.utimesSync(path.join(root, n), t, t);
    });
  });
  for (const n of names) {
    const [sa, sb] = roots.map((r) => fs.statSync(path.join(r, n), { bigint: true }));
    assert.is(sa.size, sb.size, `setup: ${n} sizes equal`);
    assert.is(sa.mtimeNs, sb.mtimeNs, `setup: ${n} mtimes equal`);
    assert.is.not(checksum(px[0][names.indexOf(n)]), checksum(px[1][names.indexOf(n)]), `setup: ${n} pixels differ`);
  }
  const problems: string[] = [];
  const region: Region = [[10, 150], [20, 190]];
  const sha = (a: NDArray, r: Region | null) => checksum(r === null ? a : contiguous(sliceOf(a, r)));
  for (const backend of BACKENDS) {
    const mk = (k: number) => new RootedFrames(roots[k], names, { workdir, backend });
    const f0 = mk(0);
    await f0.prepare({ useStamp: false });
    const f1 = mk(1);
    const check = (k: number, f: Frames, what: string) => {
      names.forEach((n, i) => {
        for (const r of [region, null] as Array<Region | null>) {
          try {
            const got = r === null ? f.loadImage(i + 1) : f.loadRegion(i + 1, r);
            const g = checksum(got);
            if (g !== sha(px[k][i], r)) {
              const other = g === sha(px[1 - k][i], r);
              problems.push(`${backend} ${what}: root ${k} ${n} ${r === null ? 'loadImage' : 'loadRegion'}: ${other ? "the OTHER dataset's pixels" : 'wrong pixels'}`);
            }
          } catch (err) {
            problems.push(`${backend} ${what}: root ${k} ${n}: ${describe(err)}`);
          }
        }
      });
    };
    check(1, f1, 'second dataset read after the first prepared');
    await f1.prepare({ useStamp: false });
    check(1, f1, 'second dataset after its prepare');
    f0.close();
    f1.close();
    check(0, mk(0), 'first dataset, new object, after both');
    check(1, mk(1), 'second dataset, new object, after both');
    const e0 = entryOf(f0, 1);
    const e1 = entryOf(f1, 1);
    log(`(e) ${backend}: entries ${e0 === e1 ? 'COLLIDE' : 'differ'} (${path.basename(e0)} vs ${path.basename(e1)})`);
  }
  for (const p of problems) log(`  FAIL ${p}`);
  assert.ok(problems.length === 0, failMessage('colliding datasets', problems));
});

/** A region of an array as a view (for references). */
function sliceOf(a: NDArray, region: Region): NDArray {
  const r = region as Array<[number, number]>;
  const [H, W] = a.shape;
  const norm = (s: [number | null, number | null] | undefined, n: number): [number, number] => {
    const f = (x: number | null | undefined, d: number) => (x === null || x === undefined ? d : x < 0 ? Math.max(0, n + x) : Math.min(n, x));
    return [f(s?.[0], 0), f(s?.[1], n)];
  };
  const [y0, y1] = norm(r[0], H);
  const [x0, x1] = norm(r[1], W);
  return { data: a.data, dtype: a.dtype, shape: [y1 - y0, x1 - x0, a.shape[2]], strides: a.strides, offset: a.offset + y0 * a.strides[0] + x0 * a.strides[1] };
}

test('(f) a JPEG source on the cog backend (default config) decodes exactly as the source (max |diff| 0)', async () => {
  const src = jpegSrc as Src;
  const workdir = path.join(ROOT, 'jpeg');
  const problems: string[] = [];
  for (const backend of BACKENDS) {
    const f = framesOn(workdir, backend, [src]);
    const rep = await f.prepare({ useStamp: false });
    for (const x of rep.failed) problems.push(`${backend}: prepare: ${describe(x.error)}`);
    const whole = diff(f.loadImage(src.id), sourceRegion(src, null));
    const region: Region = [[33, 301], [17, 489]];
    const crop = diff(f.loadRegion(src.id, region), sourceRegion(src, region));
    log(`(f) ${backend} (${jpegHow}): loadImage max |diff| ${whole.max} (${whole.count} elements), loadRegion max |diff| ${crop.max} (${crop.count})`);
    if (whole.max !== 0) problems.push(`${backend}: loadImage max |diff| ${whole.max} over ${whole.count} of ${src.shape.reduce((p, q) => p * q, 1)} elements`);
    if (crop.max !== 0) problems.push(`${backend}: loadRegion max |diff| ${crop.max} over ${crop.count} elements`);
    f.close();
  }
  for (const p of problems) log(`  FAIL ${p}`);
  assert.ok(problems.length === 0, failMessage('JPEG exactness', problems));
});

test.run();
