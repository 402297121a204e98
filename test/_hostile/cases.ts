/**
 * The hostile-input matrix (issue 9): one row per case, run one at a time in a worker process
 * (test/_hostile/worker.ts) with a hard timeout, so that a hang or a crash fails its case instead
 * of the run. A row names the expected error class and code; `run` performs the hostile operation
 * and throws what the library threw (async APIs: rejects; a synchronous throw from an async API
 * is turned into a plain Error, so it fails the class check).
 *
 * ERR_TOO_LARGE: the issue asks for a configurable pixel/decode limit with its own code. It is
 * not in lib/errors.ts yet; the decompression-bomb rows expect an NdsamplerError with code
 * ERR_TOO_LARGE (chosen here; the fixers add it to ERROR_CODES).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  openImage, writeNpy, writeCog, writeCogAsync, isCog, convertToNpy, convertToNpyAsync, allocate,
  Frames, SimpleFrames, DEFAULT_CHANNEL, ERROR_CODES,
  NdsamplerError, NpyFormatError, RegionError, FileError, GdalError, BackendConfigError, FramesError,
} from '../../lib';
import type { NDArray, ImageId, Pathinfo, FramesOptions, FramesJSON } from '../../lib';
import { CocoFrames } from '../../lib';
import { main as cliMain } from '../../lib/cli';
import { NPY_LIE_NAMES, TW63, tw63Expected, rpsValue, type HostilePaths } from './files';
import { startServer } from '../_remote-util';
import { LABEL_CASES } from './labels-cases';
import { VIDEO_CASES } from './video-cases';

/** Set by scripts/asan-check.sh: the addon is instrumented (slower, and RSS is the sanitizer's). */
export const UNDER_ASAN = process.env.NDS_UNDER_ASAN === '1';
/** What time limits are multiplied by (instrumented code runs ~2-3x slower). */
export const SLOW = UNDER_ASAN ? 3 : 1;

type Cls = abstract new (...args: never[]) => Error;

export interface HostileCase {
  name: string;
  /** The expected error class and code; absent for 'ok-or-code' rows. */
  cls?: Cls;
  code?: string;
  /** Either returns normally (after checking its own pixels) or throws a coded NdsamplerError. */
  okOrCode?: boolean;
  /** Must return normally, with a value (a string) matching this. */
  returns?: RegExp;
  run: (P: HostilePaths) => unknown;
  /** Hard limit before the worker is killed (default 5000 ms). */
  timeoutMs?: number;
  /** Run in a fresh process of its own (bombs: so its peak RSS is its own). */
  isolate?: boolean;
  /** Bounds asserted on the outcome (bombs). */
  maxMs?: number;
  maxRssMB?: number;
}

const REPO = path.resolve(__dirname, '..', '..');
const CLI = path.join(REPO, 'dist', 'cli.js');
let seq = 0;

/** A fresh workdir for one case (cases run concurrently in several workers). */
function wd(P: HostilePaths): string {
  return fs.mkdtempSync(path.join(P.workdir, `w${process.pid}-${seq++}-`));
}

function sf(P: HostilePaths, file: string, opts: FramesOptions = {}): SimpleFrames {
  return new SimpleFrames(new Map<ImageId, string>([[1, file]]), { workdir: wd(P), ...opts });
}

/** Calls an async API: a synchronous throw is a failure of its own. */
function rejects(fn: () => Promise<unknown>): Promise<unknown> {
  let p: Promise<unknown>;
  try {
    p = fn();
  } catch (e) {
    throw new Error(`threw synchronously instead of rejecting: ${(e as Error)?.constructor?.name} ${(e as { code?: string }).code}: ${(e as Error).message}`, { cause: e });
  }
  if (!(p instanceof Promise)) throw new Error('did not return a promise');
  return p;
}

/** prepare() resolves with a report; the (single) failure is what the row checks. */
async function prepareFailure(frames: Frames): Promise<never> {
  const r = await frames.prepare({ useStamp: false });
  if (r.failed.length !== 1) throw new Error(`prepare reported ${r.failed.length} failures (built ${r.built}, reused ${r.reused})`);
  throw r.failed[0].error;
}

/** `node dist/cli.js info FILE`: exit 1 with the code on stderr, in bounded time. */
function cliInfo(P: HostilePaths, file: string): string {
  const r = spawnSync(process.execPath, [CLI, 'info', file, '--workdir', wd(P)], { timeout: 4000 * SLOW, encoding: 'utf8' });
  if (r.error) throw new Error(`cli info hung: killed after 4 s (${(r.error as Error).message})`);
  if (r.signal) throw new Error(`cli info crashed with ${r.signal}: ${r.stderr.slice(-300)}`);
  if (r.status === 0) return `exit 0: ${r.stdout}`;
  if (r.status !== 1) throw new Error(`cli info exited ${r.status}: ${r.stderr.slice(-300)}`);
  const m = /\b(ERR_[A-Z_]+)\b/.exec(r.stderr);
  if (!m) throw new Error(`cli info exited 1 without an error code: ${r.stderr.slice(-300)}`);
  const Cls = ERROR_CODES[m[1]] ?? NdsamplerError;
  throw new Cls(m[1], r.stderr.trim());
}

/**
 * The CLI run in this process (lib/cli.ts main), so the row's time and RSS bounds are the CLI's:
 * returns `exit N: <stderr>` for exit 0 and 2 (usage errors), throws the coded error for exit 1.
 */
async function cli(args: string[]): Promise<string> {
  let stderr = '';
  const write = process.stderr.write.bind(process.stderr);
  const outWrite = process.stdout.write.bind(process.stdout);
  process.stderr.write = ((chunk: string | Uint8Array) => { stderr += String(chunk); return true; }) as typeof process.stderr.write;
  process.stdout.write = ((chunk: string | Uint8Array) => { stderr += String(chunk); return true; }) as typeof process.stdout.write;
  let code: number;
  try {
    code = await cliMain(args);
  } finally {
    process.stderr.write = write;
    process.stdout.write = outWrite;
  }
  if (code !== 1) return `exit ${code}: ${stderr.split('\n').filter((l) => l !== '').join(' | ')}`;
  const m = /\b(ERR_[A-Z_]+)\b/.exec(stderr);
  if (!m) throw new Error(`cli exited 1 without an error code: ${stderr.slice(-300)}`);
  const Cls = ERROR_CODES[m[1]] ?? NdsamplerError;
  throw new Cls(m[1], stderr.trim());
}

/** A kwcoco dataset whose one image declares width and height 1e9 (its files are 8x8). */
function hugeCoco(P: HostilePaths, twoFiles: boolean): CocoFrames {
  const image = twoFiles
    ? { id: 1, width: 1e9, height: 1e9, auxiliary: [{ file_name: P.good.png, channels: 'r|g|b', width: 8, height: 8 }, { file_name: P.good.tif, channels: 'x|y|z', width: 8, height: 8 }] }
    : { id: 1, file_name: P.good.png, width: 1e9, height: 1e9 };
  return new CocoFrames({ images: [image] }, { bundleDpath: P.dir, workdir: wd(P) });
}

/** An out array of `shape` filled with a sentinel, with custom strides/offset/data. */
function sentinel(len: number): Uint8Array {
  return new Uint8Array(len).fill(0xab);
}

/** Reads into `out`; if it throws, the out data must be untouched (never wrong values written). */
function readInto(read: (out: NDArray) => unknown, out: NDArray): unknown {
  const data = out.data as Uint8Array;
  const before = data.length > 0 ? Uint8Array.from(data) : new Uint8Array(0);
  try {
    read(out);
  } catch (e) {
    if (data.length > 0 && !before.every((v, k) => data[k] === v)) throw new Error(`threw ${(e as { code?: string }).code} but wrote into out first`, { cause: e });
    throw e;
  }
  return 'accepted';
}

async function readIntoAsync(read: (out: NDArray) => Promise<unknown>, out: NDArray): Promise<unknown> {
  const data = out.data as Uint8Array;
  const before = Uint8Array.from(data);
  try {
    await rejects(() => read(out));
  } catch (e) {
    if (!before.every((v, k) => data[k] === v)) throw new Error(`rejected with ${(e as { code?: string }).code} but wrote into out first`, { cause: e });
    throw e;
  }
  return 'accepted';
}

const R10: [[number, number], [number, number]] = [[0, 10], [0, 10]];

/** Tries to use a Frames JSON whose cache paths escape the workdir; nothing may appear in `outside`. */
function escapeAttempt(P: HostilePaths, json: FramesJSON, tag: string): never {
  const leaked = () => fs.readdirSync(P.outside).filter((f) => f.startsWith(tag));
  let err: unknown;
  try {
    const f = Frames.fromJSON(json);
    f.loadImage(1, { noreturn: true });
  } catch (e) {
    err = e;
  }
  const l = leaked();
  if (l.length) throw new Error(`wrote outside the workdir: ${l.join(', ')}`);
  if (err) throw err;
  throw new Error('an escaping cache path was accepted (nothing was written outside, but nothing refused it)');
}

function framesJsonWithCache(P: HostilePaths, cache: (cacheDpath: string) => string, mutate?: (c: Record<string, unknown>, j: FramesJSON) => void): FramesJSON {
  const f = sf(P, P.good.png, { backend: 'npy' });
  f.lookupPathinfo(1);
  const j = JSON.parse(JSON.stringify(f.toJSON())) as FramesJSON;
  const chan = (j.pathinfo[0] as Pathinfo).channels[DEFAULT_CHANNEL] as unknown as Record<string, unknown>;
  chan.cache = cache(f.cacheDpath as string);
  mutate?.(chan, j);
  return j;
}

/** TileWidth-63 checks: the window read 10 times is identical and equal to the ground truth. */
function checkTw63(read: () => NDArray, y0: number, y1: number, x0: number, x1: number): string {
  const truth = tw63Expected();
  let first: number[] | null = null;
  for (let k = 0; k < 10; k++) {
    const a = read();
    if (a.shape[0] !== y1 - y0 || a.shape[1] !== x1 - x0 || a.shape[2] !== 1) throw new Error(`shape [${a.shape}]`);
    const got: number[] = [];
    for (let y = 0; y < y1 - y0; y++) for (let x = 0; x < x1 - x0; x++) got.push(a.data[a.offset + y * a.strides[0] + x * a.strides[1]] as number);
    if (first === null) first = got;
    else if (got.some((v, i) => v !== first![i])) throw new Error(`read ${k + 1} differs from read 1 (uninitialised pixels?)`);
    let bad = 0;
    for (let y = 0; y < y1 - y0; y++) for (let x = 0; x < x1 - x0; x++) if (got[y * (x1 - x0) + x] !== truth[(y0 + y) * TW63.w + x0 + x]) bad++;
    if (bad) throw new Error(`wrong pixels: ${bad} of ${got.length} differ from the file's contents`);
  }
  return 'equal';
}

const NOT_A_FILE = { cls: FileError, code: 'ERR_NOT_A_FILE' };
const GDAL_OPEN = { cls: GdalError, code: 'ERR_GDAL_OPEN' };
const GDAL_READ = { cls: GdalError, code: 'ERR_GDAL_READ' };
const NPY = { cls: NpyFormatError, code: 'ERR_NPY_HEADER' };
const TOO_LARGE = { cls: NdsamplerError, code: 'ERR_TOO_LARGE', isolate: true, maxMs: 4000, maxRssMB: 1024 };
const REGION = { cls: RegionError, code: 'ERR_REGION' };
const STEP = { cls: RegionError, code: 'ERR_REGION_STEP' };
const OUTBUF = { cls: RegionError, code: 'ERR_OUT_BUFFER' };
const TYPE = { cls: TypeError, code: 'ERR_INVALID_ARG_TYPE' };
const RANGE = { cls: RangeError, code: 'ERR_OUT_OF_RANGE' };
const CONFIG = { cls: BackendConfigError, code: 'ERR_BACKEND_CONFIG' };
const UNKNOWN = { cls: FramesError, code: 'ERR_UNKNOWN_IMAGE' };
const FJSON = { cls: FramesError, code: 'ERR_FRAMES_JSON' };
const CLI_T = { timeoutMs: 6000 };
// Issue 19: a tile larger than the image is refused before anything is decoded, fast and small.
const TILE = { cls: NdsamplerError, code: 'ERR_TOO_LARGE', isolate: true, maxMs: 1000, maxRssMB: 200 };
const QUICK = { isolate: true, maxMs: 1000, maxRssMB: 200 };

const dst = (P: HostilePaths, name: string) => path.join(wd(P), name);

export const CASES: HostileCase[] = [
  // ---- 1. not regular files: ERR_NOT_A_FILE at once, everywhere ------------------------------
  { name: 'openImage(FIFO .tif)', ...NOT_A_FILE, run: (P) => openImage(P.fifo.tif) },
  { name: 'openImage(FIFO .npy)', ...NOT_A_FILE, run: (P) => openImage(P.fifo.npy) },
  { name: 'isCog(FIFO)', ...NOT_A_FILE, run: (P) => isCog(P.fifo.tif) },
  { name: 'writeCog(FIFO source)', ...NOT_A_FILE, run: (P) => writeCog(P.fifo.tif, dst(P, 'o.tif')) },
  { name: 'convertToNpyAsync(FIFO source) rejects', ...NOT_A_FILE, run: (P) => rejects(() => convertToNpyAsync(P.fifo.tif, dst(P, 'o.npy'))) },
  { name: 'Frames.buildFileHashid PIXELS of a FIFO', ...NOT_A_FILE, run: (P) => Frames.buildFileHashid('', P.fifo.tif, 'PIXELS') },
  { name: 'SimpleFrames PIXELS loadRegion(FIFO)', ...NOT_A_FILE, run: (P) => sf(P, P.fifo.tif, { hashidMode: 'PIXELS', backend: 'npy' }).loadRegion(1, R10) },
  { name: 'SimpleFrames npy prepare(FIFO): failure is ERR_NOT_A_FILE', ...NOT_A_FILE, run: (P) => prepareFailure(sf(P, P.fifo.tif, { backend: 'npy' })) },
  { name: 'SimpleFrames (no backend) loadImage(FIFO)', ...NOT_A_FILE, run: (P) => sf(P, P.fifo.tif).loadImage(1) },
  { name: 'SimpleFrames loadFrame(FIFO).shape', ...NOT_A_FILE, run: (P) => sf(P, P.fifo.npy).loadFrame(1).shape },
  { name: 'cli info FIFO', ...NOT_A_FILE, ...CLI_T, run: (P) => cliInfo(P, P.fifo.tif) },
  { name: 'openImage(/dev/zero)', ...NOT_A_FILE, run: () => openImage('/dev/zero') },
  { name: 'openImage(symlink.npy -> /dev/zero)', ...NOT_A_FILE, run: (P) => openImage(P.zero.npy) },
  { name: 'openImage(symlink.tif -> /dev/zero).readAsync', ...NOT_A_FILE, run: (P) => openImage(P.zero.tif).readAsync(R10) },
  { name: 'isCog(/dev/zero)', ...NOT_A_FILE, run: () => isCog('/dev/zero') },
  { name: 'writeCogAsync(/dev/zero source) rejects', ...NOT_A_FILE, run: (P) => rejects(() => writeCogAsync('/dev/zero', dst(P, 'o.tif'))) },
  { name: 'convertToNpy(/dev/zero)', ...NOT_A_FILE, run: (P) => convertToNpy('/dev/zero', dst(P, 'o.npy')) },
  { name: 'Frames.buildFileHashid PIXELS of /dev/zero', ...NOT_A_FILE, run: () => Frames.buildFileHashid('', '/dev/zero', 'PIXELS') },
  { name: 'SimpleFrames PIXELS prepare(/dev/zero): failure is ERR_NOT_A_FILE', ...NOT_A_FILE, run: (P) => prepareFailure(sf(P, P.zero.tif, { hashidMode: 'PIXELS', backend: 'npy' })) },
  { name: 'cli info /dev/zero', ...NOT_A_FILE, ...CLI_T, run: (P) => cliInfo(P, '/dev/zero') },
  { name: 'openImage(/dev/null)', ...NOT_A_FILE, run: () => openImage('/dev/null') },
  { name: 'openImage(symlink.npy -> /dev/null)', ...NOT_A_FILE, run: (P) => openImage(P.devnull.npy) },
  { name: 'isCog(/dev/null)', ...NOT_A_FILE, run: () => isCog('/dev/null') },
  { name: 'Frames.buildFileHashid PIXELS of /dev/null', ...NOT_A_FILE, run: () => Frames.buildFileHashid('', '/dev/null', 'PIXELS') },
  { name: 'openImage(Unix socket)', ...NOT_A_FILE, run: (P) => openImage(P.sock) },
  { name: 'isCog(Unix socket)', ...NOT_A_FILE, run: (P) => isCog(P.sock) },
  { name: 'Frames.buildFileHashid PIXELS of a Unix socket', ...NOT_A_FILE, run: (P) => Frames.buildFileHashid('', P.sock, 'PIXELS') },
  { name: 'SimpleFrames (no backend) loadRegion(Unix socket)', ...NOT_A_FILE, run: (P) => sf(P, P.sock).loadRegion(1, R10) },
  { name: 'openImage(directory named .npy)', ...NOT_A_FILE, run: (P) => openImage(P.dirs.npy) },
  { name: 'openImage(directory named .tif)', ...NOT_A_FILE, run: (P) => openImage(P.dirs.tif) },
  { name: 'SimpleFrames PIXELS loadRegion(directory)', ...NOT_A_FILE, run: (P) => sf(P, P.dirs.tif, { hashidMode: 'PIXELS', backend: 'cog' }).loadRegion(1, R10) },
  { name: 'writeNpy onto a directory', ...NOT_A_FILE, run: (P) => writeNpy(P.dirs.npy, allocate([2, 2, 1], 'uint8', true)) },
  { name: 'writeCog onto a directory', ...NOT_A_FILE, run: (P) => writeCog(P.good.tif, P.dirs.tif) },
  { name: 'cli info directory', ...NOT_A_FILE, ...CLI_T, run: (P) => cliInfo(P, P.dirs.tif) },
  {
    name: 'Frames.fromJSON pathinfo naming /dev/zero, loadRegion', ...NOT_A_FILE,
    run: (P) => {
      const j = framesJsonWithCache(P, (d) => path.join(d, 'ze', 'zero.npy'), (c) => { c.path = '/dev/zero'; });
      return Frames.fromJSON(j).loadRegion(1, R10);
    },
  },
  // Refused when opened: every file of the dataset (GDALGetFileList) must be a regular file.
  { name: 'VRT whose source is a FIFO: read', ...NOT_A_FILE, run: (P) => openImage(P.fifoVrt).read(R10) },

  // ---- 2. corrupt files --------------------------------------------------------------------
  { name: 'openImage(zero-length .png)', ...GDAL_OPEN, run: (P) => openImage(P.corrupt.emptyPng) },
  { name: 'openImage(zero-length .jpg)', ...GDAL_OPEN, run: (P) => openImage(P.corrupt.emptyJpg) },
  { name: 'openImage(zero-length .tif)', ...GDAL_OPEN, run: (P) => openImage(P.corrupt.emptyTif) },
  { name: 'openImage(random bytes .png)', ...GDAL_OPEN, run: (P) => openImage(P.corrupt.randPng) },
  { name: 'openImage(random bytes .jpg)', ...GDAL_OPEN, run: (P) => openImage(P.corrupt.randJpg) },
  { name: 'openImage(random bytes .tif)', ...GDAL_OPEN, run: (P) => openImage(P.corrupt.randTif) },
  { name: 'openImage(TIFF header then garbage)', ...GDAL_OPEN, run: (P) => openImage(P.corrupt.hdrTif) },
  { name: 'openImage(PNG signature+IHDR then garbage).read()', ...GDAL_OPEN, run: (P) => openImage(P.corrupt.hdrPng).read() },
  { name: 'openImage(JPEG SOI+APP0 then garbage)', ...GDAL_OPEN, run: (P) => openImage(P.corrupt.hdrJpg).read() },
  { name: 'truncated PNG: read()', ...GDAL_READ, run: (P) => openImage(P.corrupt.truncPng).read() },
  { name: 'truncated JPEG: read()', ...GDAL_READ, run: (P) => openImage(P.corrupt.truncJpg).read() },
  { name: 'truncated COG: read()', ...GDAL_READ, run: (P) => openImage(P.corrupt.truncCog).read() },
  { name: 'truncated COG: readAsync(last tile) rejects', ...GDAL_READ, run: (P) => rejects(() => openImage(P.corrupt.truncCog).readAsync([[-16, null], [-16, null]])) },
  { name: 'truncated COG: writeCog', ...GDAL_READ, run: (P) => writeCog(P.corrupt.truncCog, dst(P, 'o.tif')) },
  { name: 'truncated COG: SimpleFrames npy loadRegion', ...GDAL_READ, run: (P) => sf(P, P.corrupt.truncCog, { backend: 'npy' }).loadRegion(1, R10) },
  { name: 'truncated PNG: cog prepare({throwOnError}) rejects ERR_PREPARE', cls: FramesError, code: 'ERR_PREPARE', run: (P) => rejects(() => sf(P, P.corrupt.truncPng, { backend: 'cog' }).prepare({ throwOnError: true, useStamp: false })) },
  { name: 'truncated JPEG: SimpleFrames PIXELS npy loadImage', ...GDAL_READ, run: (P) => sf(P, P.corrupt.truncJpg, { hashidMode: 'PIXELS', backend: 'npy' }).loadImage(1) },
  { name: 'truncated PNG: convertToNpyAsync rejects', ...GDAL_READ, run: (P) => rejects(() => convertToNpyAsync(P.corrupt.truncPng, dst(P, 'o.npy'))) },
  { name: 'cli info random bytes .tif', ...GDAL_OPEN, ...CLI_T, run: (P) => cliInfo(P, P.corrupt.randTif) },

  // ---- 3. lying npy headers ----------------------------------------------------------------
  ...NPY_LIE_NAMES.map((n): HostileCase => ({ name: `openImage(${n}.npy)`, ...NPY, run: (P) => openImage(P.npy(n)) })),
  { name: 'npy shape past EOF: SimpleFrames npy loadRegion', ...NPY, run: (P) => sf(P, P.npy('npy-shape-past-eof'), { backend: 'npy' }).loadRegion(1, R10) },
  { name: 'npy negative dim: SimpleFrames PIXELS loadImage', ...NPY, run: (P) => sf(P, P.npy('npy-negative-dim'), { hashidMode: 'PIXELS', backend: 'cog' }).loadImage(1) },
  { name: 'npy huge dims: loadFrame.get', ...NPY, run: (P) => sf(P, P.npy('npy-huge-dims')).loadFrame(1).get(R10) },
  { name: 'npy bad magic: cli info', ...NPY, ...CLI_T, run: (P) => cliInfo(P, P.npy('npy-bad-magic')) },

  // ---- 4. decompression bombs: ERR_TOO_LARGE within 4 s and 1 GiB --------------------------
  { name: 'bomb TIFF (one 65520^2 deflate tile): read 10x10', ...TOO_LARGE, run: (P) => openImage(P.bomb.tile).read(R10) },
  { name: 'bomb TIFF (one 65520^2 deflate tile): readAsync 10x10', ...TOO_LARGE, run: (P) => {
    // openImage is synchronous and refuses the bomb itself; a reader it did return must reject.
    const r = openImage(P.bomb.tile);
    return rejects(() => r.readAsync(R10));
  } },
  { name: 'bomb TIFF (one 65520^2 deflate tile): npy loadRegion 10x10', ...TOO_LARGE, run: (P) => sf(P, P.bomb.tile, { backend: 'npy' }).loadRegion(1, R10) },
  { name: 'bomb TIFF (one 65520^2 deflate tile): writeCog', ...TOO_LARGE, run: (P) => writeCog(P.bomb.tile, dst(P, 'o.tif')) },
  { name: 'bomb TIFF (65520^2, 65536 tiles on one payload): read()', ...TOO_LARGE, run: (P) => openImage(P.bomb.many).read() },
  { name: 'bomb TIFF (65520^2, 65536 tiles on one payload): loadImage cache:false', ...TOO_LARGE, run: (P) => sf(P, P.bomb.many).loadImage(1, { cache: false }) },
  { name: 'bomb JPEG (SOF 65500x65500): read 10x10', ...TOO_LARGE, run: (P) => openImage(P.bomb.jpg).read(R10) },
  { name: 'bomb JPEG (SOF 65500x65500): cog loadRegion 10x10', ...TOO_LARGE, run: (P) => sf(P, P.bomb.jpg, { backend: 'cog' }).loadRegion(1, R10) },
  { name: 'bomb VRT (200000^2): read 10x10', ...TOO_LARGE, run: (P) => openImage(P.bomb.vrt).read(R10) },
  { name: 'bomb VRT (200000^2): convertToNpy', ...TOO_LARGE, run: (P) => convertToNpy(P.bomb.vrt, dst(P, 'o.npy')) },
  { name: 'bomb VRT (200000^2): npy prepare failure', ...TOO_LARGE, run: (P) => prepareFailure(sf(P, P.bomb.vrt, { backend: 'npy' })) },
  { name: 'boundless read of 1e9 x 1e9 on an 8x8 npy (too large to allocate)', ...REGION, isolate: true, maxMs: 4000, maxRssMB: 1024, run: (P) => openImage(P.good.npy).read([[0, 1e9], [0, 1e9]], { boundless: true }) },

  // ---- 4b. one block decoding to gigabytes (issue 19): ERR_TOO_LARGE in < 1 s and < 200 MB --
  { name: 'tiles 65520^2 on a 400x300 image (deflate): read 10x10', ...TILE, run: (P) => openImage(P.tileBomb.deflate).read(R10) },
  { name: 'tiles 65520^2 on a 400x300 image (deflate): readAsync rejects', ...TILE, run: (P) => rejects(async () => openImage(P.tileBomb.deflate).readAsync(R10)) },
  { name: 'tiles 65520^2 on a 400x300 image (JPEG): read 10x10', ...TILE, run: (P) => openImage(P.tileBomb.jpeg).read(R10) },
  { name: 'tiles 65520^2 on a 400x300 image (WEBP): read 10x10', ...TILE, run: (P) => openImage(P.tileBomb.webp).read(R10) },
  { name: 'tiles 65520^2 on a 400x300 image (uncompressed): read 10x10', ...TILE, run: (P) => openImage(P.tileBomb.none).read(R10) },
  { name: 'tiles 65520^2 on a 400x300 image: convertToNpy', ...TILE, run: (P) => convertToNpy(P.tileBomb.deflate, dst(P, 'o.npy')) },
  { name: 'tiles 65520^2 on a 400x300 image: convertToNpyAsync rejects', ...TILE, run: (P) => rejects(() => convertToNpyAsync(P.tileBomb.deflate, dst(P, 'o.npy'))) },
  { name: 'tiles 65520^2 on a 400x300 image: npy backend loadRegion 10x10', ...TILE, run: (P) => sf(P, P.tileBomb.deflate, { backend: 'npy' }).loadRegion(1, R10) },
  { name: 'tiles 65520^2 on a 400x300 image: writeCog', ...TILE, run: (P) => writeCog(P.tileBomb.deflate, dst(P, 'o.tif')) },
  { name: 'tiles 65520^2 on a 400x300 image: writeCogAsync rejects', ...TILE, run: (P) => rejects(() => writeCogAsync(P.tileBomb.jpeg, dst(P, 'o.tif'))) },
  { name: 'tiles 65520^2 on a 400x300 image: cog backend loadRegion 10x10', ...TILE, run: (P) => sf(P, P.tileBomb.deflate, { backend: 'cog' }).loadRegion(1, R10) },
  { name: 'tiles 65520^2 on a 400x300 image: cog prepare failure', ...TILE, run: (P) => prepareFailure(sf(P, P.tileBomb.webp, { backend: 'cog' })) },
  { name: 'tiles 65520^2 on a 400x300 image: loadBatch (no backend) rejects', ...TILE, run: (P) => rejects(() => sf(P, P.tileBomb.deflate).loadBatch([{ imageId: 1, region: R10 }])) },
  { name: 'tiles 65520^2 on a 400x300 image: cli info', ...TILE, run: (P) => cli(['info', P.tileBomb.deflate, '--workdir', wd(P)]) },
  { name: 'overview level with 65520^2 tiles: read at scale 0.5', ...TILE, run: (P) => openImage(P.ovBomb).read(R10, { scale: 0.5 }) },
  { name: 'overview level with 65520^2 tiles: writeCog', ...TILE, run: (P) => writeCog(P.ovBomb, dst(P, 'o.tif')) },
  {
    name: 'RowsPerStrip 4294967295 on a 400x300 DEFLATE strip: reads the right pixels', ...QUICK, returns: /^equal$/,
    run: (P) => {
      const a = openImage(P.rpsHuge).read([[290, 300], [390, 400]]);
      for (let y = 0; y < 10; y++) for (let x = 0; x < 10; x++) {
        if (a.data[y * 10 + x] !== rpsValue(290 + y, 390 + x)) throw new Error(`pixel (${290 + y}, ${390 + x}) is ${a.data[y * 10 + x]}`);
      }
      return 'equal';
    },
  },
  // A declared size no typed array can hold: a coded error, never `RangeError: Invalid typed array length`.
  { name: "kwcoco image declaring 1e9 x 1e9: loadImage(channels '<all>')", ...TILE, run: (P) => hugeCoco(P, false).loadImage(1, { channels: '<all>' }) },
  { name: 'kwcoco image of two files declaring 1e9 x 1e9: loadImage', ...TILE, run: (P) => hugeCoco(P, true).loadImage(1) },
  { name: 'kwcoco image of two files declaring 1e9 x 1e9: loadFrame().get()', ...TILE, run: (P) => hugeCoco(P, true).loadFrame(1).get() },
  { name: 'loadBatch of one boundless 100000^2 crop: ERR_TOO_LARGE', ...TILE, run: (P) => rejects(() => sf(P, P.good.png).loadBatch([{ imageId: 1, region: [[0, 100000], [0, 100000]] }], { boundless: true })) },
  {
    name: 'loadBatch of a sparse requests array: TypeError naming the hole', ...TYPE,
    run: (P) => {
      const reqs = new Array(3);
      reqs[0] = { imageId: 1, region: R10 };
      reqs[2] = { imageId: 1, region: R10 };
      return rejects(() => sf(P, P.good.png).loadBatch(reqs)).catch((e: Error) => {
        if (!/requests\[1\]/.test(e.message)) throw new Error(`the message does not name requests[1]: ${e.message}`);
        throw e;
      });
    },
  },

  // ---- 4c. the command line on hostile arguments (issue 19), run in this process ------------
  { name: 'cli manifest merge DIR --shards 100000000: usage error at once', ...QUICK, returns: /^exit 2: ndsampler: --shards must be an integer from 1 to 1000000/, run: (P) => cli(['manifest', 'merge', P.dir, '--shards', '100000000']) },
  { name: 'cli prepare --shard 5/100000000: usage error at once', ...QUICK, returns: /^exit 2: .*--shard must be I\/N/, run: (P) => cli(['prepare', P.good.png, '--shard', '5/100000000', '--workdir', wd(P)]) },
  { name: 'cli info --workdir= (empty): usage error', ...QUICK, returns: /^exit 2: ndsampler: --workdir needs a directory/, run: (P) => cli(['info', P.good.png, '--workdir=']) },
  { name: 'cli prepare --workdir= (empty): usage error', ...QUICK, returns: /^exit 2: ndsampler: --workdir needs a directory/, run: (P) => cli(['prepare', P.good.png, '--workdir=']) },
  { name: 'cli prepare --workdir under /proc: ERR_IO at once (no mkdir loop)', cls: FileError, code: 'ERR_IO', ...QUICK, run: (P) => cli(['prepare', P.good.png, '--workdir', '/proc/ndsampler-hostile/w']) },
  { name: 'cli demo --workdir under /proc: ERR_IO at once', cls: FileError, code: 'ERR_IO', ...QUICK, run: () => cli(['demo', '--workdir', '/proc/self/ndsampler-hostile']) },
  { name: 'SimpleFrames with a workdir under /proc: prepare failure is ERR_IO at once', cls: FileError, code: 'ERR_IO', ...QUICK, run: (P) => prepareFailure(new SimpleFrames({ 1: P.good.png }, { workdir: '/proc/ndsampler-hostile', backend: 'npy' })) },
  { name: 'cli info of a file whose name is not UTF-8: ERR_PATH_ENCODING', cls: FileError, code: 'ERR_PATH_ENCODING', ...QUICK, run: (P) => cli(['info', P.latin1.lossy]) },
  { name: 'cli prepare of a folder with a non-UTF-8 name in it: the others prepared, that one ERR_PATH_ENCODING', ...QUICK,
    returns: /^exit 1: .*failed: .*caf\\xe9\.png: ERR_PATH_ENCODING: .* not valid UTF-8.* \| prepared 1 image with the npy backend .* 0 failed/,
    run: async (P) => {
      try {
        return await cli(['prepare', P.latin1.dir, '--workdir', wd(P), '--backend', 'npy']);
      } catch (e) {
        return `exit 1: ${(e as Error).message.split('\n').filter((l) => l !== '').join(' | ')}`;
      }
    } },
  {
    name: 'cli info http://127.0.0.1:PORT/good.png: read as a URL', isolate: true, timeoutMs: 8000, returns: /^exit 0: path: {4}http:\/\/127\.0\.0\.1:\d+\/good\.png \| shape: {3}8 x 8 x 3/,
    run: async (P) => {
      const server = await startServer('http', P.dir);
      try {
        return await cli(['info', `${server.base}/good.png`, '--workdir', wd(P)]);
      } finally {
        await server.stop();
      }
    },
  },

  // ---- 5. TileWidth 63: the file's pixels, identical on every read, or a coded error ---------
  { name: 'TileWidth 63 (raw): full read x10 equals the file', okOrCode: true, run: (P) => { const r = openImage(P.tw63.raw); return checkTw63(() => r.read(), 0, TW63.h, 0, TW63.w); } },
  { name: 'TileWidth 63 (deflate): window x10 equals the file', okOrCode: true, run: (P) => { const r = openImage(P.tw63.deflate); return checkTw63(() => r.read([[10, 80], [50, 97]]), 10, 80, 50, 97); } },
  {
    name: 'TileWidth 63 (raw): readAsync window x10 equals the file', okOrCode: true,
    run: async (P) => {
      const r = openImage(P.tw63.raw);
      const reads = await Promise.all(Array.from({ length: 10 }, () => r.readAsync([[30, 90], [60, 100]])));
      let k = 0;
      return checkTw63(() => reads[k++], 30, 90, 60, 100);
    },
  },
  { name: 'TileWidth 63 (deflate): npy backend loadRegion equals the file', okOrCode: true, run: (P) => { const f = sf(P, P.tw63.deflate, { backend: 'npy' }); return checkTw63(() => f.loadRegion(1, [[5, 70], [40, 100]]), 5, 70, 40, 100); } },
  { name: 'TileWidth 63 (raw): cog backend loadRegion equals the file', okOrCode: true, run: (P) => { const f = sf(P, P.tw63.raw, { backend: 'cog' }); return checkTw63(() => f.loadRegion(1, [[0, 64], [55, 70]]), 0, 64, 55, 70); } },

  // ---- 6. bad regions ----------------------------------------------------------------------
  { name: 'npy read: step 2', ...STEP, run: (P) => openImage(P.good.npy).read([[0, 8, 2]] as never) },
  { name: 'tif read: {step: -1}', ...STEP, run: (P) => openImage(P.good.tif).read([{ start: 0, stop: 4, step: -1 }] as never) },
  { name: 'tif readAsync: step 3 rejects', ...STEP, run: (P) => rejects(() => openImage(P.good.tif).readAsync([null, [0, 8, 3]] as never)) },
  { name: 'npy read: NaN bound', ...TYPE, run: (P) => openImage(P.good.npy).read([[NaN, 4]]) },
  { name: 'tif read: Infinity bound', ...RANGE, run: (P) => openImage(P.good.tif).read([[0, Infinity]]) },
  { name: 'npy read: 1.5 bound', ...RANGE, run: (P) => openImage(P.good.npy).read([[1.5, 4]]) },
  { name: "tif read: '5' string bound", ...TYPE, run: (P) => openImage(P.good.tif).read([['5', 8]] as never) },
  { name: 'npy read: BigInt bound', ...TYPE, run: (P) => openImage(P.good.npy).read([[0n, 4]] as never) },
  { name: 'npy read: 4 axes', ...REGION, run: (P) => openImage(P.good.npy).read([null, null, null, null]) },
  { name: 'tif read: region is a string', ...REGION, run: (P) => openImage(P.good.tif).read('0:4' as never) },
  { name: 'npy read: a slice is a bare number', ...REGION, run: (P) => openImage(P.good.npy).read([3, 4] as never) },
  { name: 'npy read: a slice with 4 entries', ...REGION, run: (P) => openImage(P.good.npy).read([[0, 1, 1, 1]] as never) },
  { name: 'tif read: slice with unknown key {begin}', ...REGION, run: (P) => openImage(P.good.tif).read([{ begin: 0 }] as never) },
  { name: 'npy read: channel bound 2**53', ...RANGE, run: (P) => openImage(P.good.npy).read([null, null, [0, 2 ** 53]]) },
  { name: 'frames loadRegion: step 2', ...STEP, run: (P) => sf(P, P.good.png, { backend: 'npy' }).loadRegion(1, [[0, 8, 2]] as never) },
  { name: "frames loadRegion: channels 'nope'", cls: FramesError, code: 'ERR_CHANNELS', run: (P) => sf(P, P.good.png).loadRegion(1, R10, { channels: 'nope' }) },
  { name: 'LazyFrame.get: NaN bound', ...TYPE, run: (P) => sf(P, P.good.png).loadFrame(1).get([[NaN, 2]]) },

  // ---- 7. bad out --------------------------------------------------------------------------
  // docs/api.md's error rule: an out whose dtype does not match the read is RegionError ERR_OUT_BUFFER.
  { name: 'out of the wrong dtype (uint16 for uint8)', ...OUTBUF, run: (P) => readInto((out) => openImage(P.good.npy).read(R10, { out }), { data: new Uint16Array(8 * 8 * 3), shape: [8, 8, 3], strides: [24, 3, 1], offset: 0, dtype: 'uint16' }) },
  { name: 'out of the wrong shape', ...OUTBUF, run: (P) => readInto((out) => openImage(P.good.tif).read([[0, 4], [0, 4]], { out }), { data: sentinel(48), shape: [4, 3, 3], strides: [9, 3, 1], offset: 0, dtype: 'uint8' }) },
  { name: 'out with zero strides', ...OUTBUF, run: (P) => readInto((out) => openImage(P.good.npy).read([[0, 4], [0, 4]], { out }), { data: sentinel(48), shape: [4, 4, 3], strides: [0, 0, 0], offset: 0, dtype: 'uint8' }) },
  { name: 'out with overlapping strides [1,1,1]', ...OUTBUF, run: (P) => readInto((out) => openImage(P.good.tif).read([[0, 4], [0, 4]], { out }), { data: sentinel(48), shape: [4, 4, 3], strides: [1, 1, 1], offset: 0, dtype: 'uint8' }) },
  { name: 'out with negative strides', ...TYPE, run: (P) => readInto((out) => openImage(P.good.npy).read([[0, 4], [0, 4]], { out }), { data: sentinel(48), shape: [4, 4, 3], strides: [-12, -3, -1], offset: 47, dtype: 'uint8' }) },
  { name: 'out with offset past the end', ...OUTBUF, run: (P) => readInto((out) => openImage(P.good.npy).read([[0, 4], [0, 4]], { out }), { data: sentinel(48), shape: [4, 4, 3], strides: [12, 3, 1], offset: 40, dtype: 'uint8' }) },
  {
    name: 'out on a detached ArrayBuffer', ...OUTBUF,
    run: (P) => {
      const data = new Uint8Array(48);
      structuredClone(data.buffer, { transfer: [data.buffer] });
      return openImage(P.good.tif).read([[0, 4], [0, 4]], { out: { data, shape: [4, 4, 3], strides: [12, 3, 1], offset: 0, dtype: 'uint8' } });
    },
  },
  { name: 'out.data a plain Array', ...TYPE, run: (P) => openImage(P.good.npy).read(R10, { out: { data: new Array(192).fill(0), shape: [8, 8, 3], strides: [24, 3, 1], offset: 0, dtype: 'uint8' } as never }) },
  { name: 'readAsync into overlapping out rejects', ...OUTBUF, run: (P) => readIntoAsync((out) => openImage(P.good.tif).readAsync([[0, 4], [0, 4]], { out }), { data: sentinel(48), shape: [4, 4, 3], strides: [3, 3, 1], offset: 0, dtype: 'uint8' }) },
  { name: 'frames loadRegion into zero-stride out', ...OUTBUF, run: (P) => readInto((out) => sf(P, P.good.png, { backend: 'npy' }).loadRegion(1, [[0, 4], [0, 4]], { out }), { data: sentinel(48), shape: [4, 4, 3], strides: [0, 3, 1], offset: 0, dtype: 'uint8' }) },
  { name: 'writeNpy of an array whose strides leave its data', ...OUTBUF, run: (P) => writeNpy(dst(P, 'o.npy'), { data: new Uint8Array(10), shape: [4, 4, 3], strides: [12, 3, 1], offset: 0, dtype: 'uint8' }) },
  {
    name: 'writeNpy of a detached array', ...OUTBUF,
    run: (P) => {
      const a = allocate([4, 4, 3], 'uint8', true);
      const data = new Uint8Array(new ArrayBuffer(48));
      structuredClone(data.buffer, { transfer: [data.buffer] });
      return writeNpy(dst(P, 'o.npy'), { ...a, data });
    },
  },
  {
    name: 'readAsync whose out buffer is detached in flight (survives)', okOrCode: true,
    run: async (P) => {
      const data = new Uint8Array(8 * 8 * 3);
      const p = openImage(P.good.tif).readAsync(null, { out: { data, shape: [8, 8, 3], strides: [24, 3, 1], offset: 0, dtype: 'uint8' } });
      try {
        structuredClone(data.buffer, { transfer: [data.buffer] });
      } catch {
        // a pinned buffer may refuse to detach: fine
      }
      (globalThis as { gc?: () => void }).gc?.();
      await p;
      return 'settled';
    },
  },

  // ---- 8. bad configs ----------------------------------------------------------------------
  { name: 'npy backend with unknown config key', ...CONFIG, run: (P) => sf(P, P.good.png, { backend: { type: 'npy', config: { foo: 1 } } }) },
  { name: 'cog blocksize 17', ...CONFIG, run: (P) => sf(P, P.good.png, { backend: { type: 'cog', config: { blocksize: 17 } } }) },
  { name: 'cog level 99 (coerceBackendConfig)', ...CONFIG, run: () => Frames.coerceBackendConfig({ type: 'cog', config: { compress: 'DEFLATE', level: 99 } }) },
  { name: 'cog quality 0 (writeCog)', ...CONFIG, run: (P) => writeCog(P.good.tif, dst(P, 'o.tif'), { compress: 'JPEG', quality: 0 }) },
  { name: "cog compress 'ZIPPY' (updateBackend)", ...CONFIG, run: (P) => sf(P, P.good.png).updateBackend({ type: 'cog', config: { compress: 'ZIPPY' } }) },
  { name: "backend 'tiff'", ...CONFIG, run: (P) => sf(P, P.good.png, { backend: 'tiff' as never }) },
  { name: 'backend with unknown top-level key', ...CONFIG, run: () => Frames.coerceBackendConfig({ type: 'cog', colour: 1 } as never) },
  { name: 'cog config with a __proto__ key (from JSON)', ...CONFIG, run: () => Frames.coerceBackendConfig(JSON.parse('{"type":"cog","config":{"__proto__":{"blocksize":17}}}')) },
  { name: "writeCog numThreads 'ALL'", ...CONFIG, run: (P) => writeCog(P.good.tif, dst(P, 'o.tif'), { numThreads: 'ALL' }) },
  { name: 'writeCogAsync overviews -1 rejects', ...CONFIG, run: (P) => rejects(() => writeCogAsync(P.good.tif, dst(P, 'o.tif'), { overviews: -1 })) },
  { name: "hashidMode 'SHA1'", ...TYPE, run: (P) => sf(P, P.good.png, { hashidMode: 'SHA1' as never }) },
  { name: 'workdir 42', ...TYPE, run: (P) => new SimpleFrames({ 1: P.good.png }, { workdir: 42 as never }) },
  { name: 'unknown Frames option key', ...TYPE, run: (P) => new SimpleFrames({ 1: P.good.png }, { workdr: P.workdir } as never) },
  { name: 'maxReaders 0', ...RANGE, run: (P) => sf(P, P.good.png, { maxReaders: 0 }) },
  { name: 'Frames.fromJSON with a bad backend config', ...CONFIG, run: (P) => { const j = sf(P, P.good.png, { backend: 'cog' }).toJSON(); (j.backend.config as Record<string, unknown>).blocksize = 17; return Frames.fromJSON(j); } },

  // ---- 9. unknown ids, fromJSON garbage, paths escaping the workdir ------------------------
  { name: 'loadRegion(999)', ...UNKNOWN, run: (P) => sf(P, P.good.png, { backend: 'npy' }).loadRegion(999, R10) },
  { name: "loadImage('nope')", ...UNKNOWN, run: (P) => sf(P, P.good.png).loadImage('nope') },
  { name: 'loadFrame(999)', ...UNKNOWN, run: (P) => sf(P, P.good.png, { hashidMode: 'PIXELS', backend: 'npy' }).loadFrame(999) },
  { name: 'loadRegionAsync(999) rejects', ...UNKNOWN, run: (P) => rejects(() => sf(P, P.good.png).loadRegionAsync(999, R10)) },
  { name: 'prepare({gids: [999]}) rejects', ...UNKNOWN, run: (P) => rejects(() => sf(P, P.good.png, { backend: 'npy' }).prepare({ gids: [999] })) },
  { name: 'Frames.fromJSON(unparseable text)', ...FJSON, run: () => Frames.fromJSON('{"format": "ndsampler.Frames", ') },
  { name: 'Frames.fromJSON(null)', ...FJSON, run: () => Frames.fromJSON(null as never) },
  { name: 'Frames.fromJSON(version 2)', ...FJSON, run: (P) => Frames.fromJSON({ ...sf(P, P.good.png).toJSON(), version: 2 as never }) },
  { name: 'Frames.fromJSON(unregistered class)', ...FJSON, run: (P) => Frames.fromJSON({ ...sf(P, P.good.png).toJSON(), class: 'EvilFrames' }) },
  { name: "Frames.fromJSON(class 'constructor')", ...FJSON, run: (P) => Frames.fromJSON({ ...sf(P, P.good.png).toJSON(), class: 'constructor' }) },
  { name: 'Frames.fromJSON(state garbage)', ...FJSON, run: (P) => Frames.fromJSON({ ...sf(P, P.good.png).toJSON(), state: 5 }) },
  { name: 'Frames.fromJSON: pathinfo cache absolute outside the workdir', ...FJSON, run: (P) => escapeAttempt(P, framesJsonWithCache(P, () => path.join(P.outside, 'escape-abs.npy')), 'escape-abs') },
  {
    name: 'Frames.fromJSON: pathinfo cache ../ escaping the cache dir', ...FJSON,
    run: (P) => escapeAttempt(P, framesJsonWithCache(P, (d) => `${d}/ab/${path.relative(path.join(d, 'ab'), P.outside)}/escape-dots.npy`), 'escape-dots'),
  },
  { name: 'Frames.fromJSON: pathinfo cache relative (cwd-dependent)', ...FJSON, run: (P) => escapeAttempt(P, framesJsonWithCache(P, () => path.join('..', '..', '..', 'outside', 'escape-rel.npy')), 'escape-rel') },
  {
    name: "Frames.fromJSON: GIVEN hashid '../../etc/x' escaping the cache dir", ...FJSON,
    run: (P) => {
      let hashid = '';
      const j = framesJsonWithCache(P, (d) => {
        hashid = `${path.relative(path.join(d, 'ab'), P.outside)}/given-x`;
        return `${d}/ab/${hashid}.npy`;
      }, (c, json) => {
        c.hashid = hashid;
        c.hashidMode = 'GIVEN';
        json.hashidMode = 'GIVEN';
      });
      return escapeAttempt(P, j, 'given-x');
    },
  },
  {
    name: "a Frames subclass giving hashid '../../../outside/x' (GIVEN)", cls: FramesError, code: 'ERR_HASHID',
    run: (P) => {
      class EvilFrames extends Frames {
        get imageIds(): ImageId[] { return [1]; }
        protected buildPathinfo(id: ImageId): Pathinfo {
          if (String(id) !== '1') throw this.unknownImage(id);
          const chan = { path: P.good.png, hashid: '../../../../../../outside/evil' };
          this.populateChanInfo(chan);
          return { id: 1, channels: { default: chan }, default: 'default' };
        }
      }
      const leaked = () => fs.readdirSync(P.outside).some((f) => f.startsWith('evil'));
      try {
        new EvilFrames({ hashidMode: 'GIVEN', workdir: wd(P), backend: 'npy' }).loadImage(1, { noreturn: true });
      } catch (e) {
        if (leaked()) throw new Error('wrote outside the workdir', { cause: e });
        throw e;
      }
      if (leaked()) throw new Error('wrote outside the workdir');
      return 'accepted';
    },
  },
  ...LABEL_CASES,
  ...VIDEO_CASES,
];
