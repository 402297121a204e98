// Shared helpers of the Frames tests: an independent image writer/reader (gdal-async,
// a dev dependency built against the system GDAL), an independent region reference, array
// comparison (temp dirs and coded-error assertions: test/_helpers/).
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as assert from 'uvu/assert';
import type { NDArray } from '../lib/ndarray';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const gdal = require('gdal-async') as typeof import('gdal-async');



/** The elements of an array in C order (any strides/offset). */
export function values(a: NDArray): number[] {
  const [h, w, c] = a.shape;
  const [sy, sx, sc] = a.strides;
  const out: number[] = [];
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) out.push(a.data[a.offset + y * sy + x * sx + k * sc]);
  return out;
}

/** Asserts two arrays have the same shape, dtype and elements. */
export function sameArray(actual: NDArray, expected: NDArray, msg = ''): void {
  assert.equal(actual.shape, expected.shape, `shape ${msg}`);
  assert.is(actual.dtype, expected.dtype, `dtype ${msg}`);
  const a = values(actual);
  const b = values(expected);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) assert.unreachable(`element ${i} differs (${a[i]} != ${b[i]}) ${msg}`);
  }
}

/** Python's slice of range(n), by Array.prototype.slice (an independent reference). */
function pyRange(s: unknown, n: number): number[] {
  const idx = Array.from({ length: n }, (_, i) => i);
  if (s === null || s === undefined) return idx;
  const [start, stop] = Array.isArray(s) ? s : [(s as { start?: number }).start, (s as { stop?: number }).stop];
  return idx.slice(start ?? undefined, stop ?? undefined);
}

/** The region of a full image, computed element by element. */
export function refRegion(full: NDArray, region: unknown[] | null): NDArray {
  const [H, W, C] = full.shape;
  const r = region ?? [];
  const ys = pyRange(r[0], H);
  const xs = pyRange(r[1], W);
  const cs = pyRange(r[2], C);
  const Ctor = full.data.constructor as new (n: number) => NDArray['data'];
  const data = new Ctor(ys.length * xs.length * cs.length);
  let i = 0;
  for (const y of ys) for (const x of xs) for (const c of cs) data[i++] = full.data[full.offset + y * full.strides[0] + x * full.strides[1] + c * full.strides[2]];
  return { data, shape: [ys.length, xs.length, cs.length], strides: [xs.length * cs.length, cs.length, 1], offset: 0, dtype: full.dtype };
}

const GDT: Record<string, string> = { uint8: 'Byte', uint16: 'UInt16', int16: 'Int16', uint32: 'UInt32', int32: 'Int32', float32: 'Float32', float64: 'Float64' };
const DT: Record<string, NDArray['dtype']> = Object.fromEntries(Object.entries(GDT).map(([k, v]) => [v, k as NDArray['dtype']]));
const CTOR = { uint8: Uint8Array, int8: Int8Array, uint16: Uint16Array, int16: Int16Array, uint32: Uint32Array, int32: Int32Array, float32: Float32Array, float64: Float64Array };

/** A deterministic HWC array: value = f(y, x, c). */
export function makeArray(h: number, w: number, c: number, dtype: NDArray['dtype'], f: (y: number, x: number, c: number) => number): NDArray {
  const data = new CTOR[dtype](h * w * c);
  let i = 0;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) data[i++] = f(y, x, k);
  return { data, shape: [h, w, c], strides: [w * c, c, 1], offset: 0, dtype };
}

/** Writes an array with gdal-async (independent of the library): 'PNG' or 'GTiff'. */
export function writeImage(file: string, a: NDArray, driver = 'PNG'): string {
  const [h, w, c] = a.shape;
  const mem = gdal.open('mem', 'w', 'MEM', w, h, c, GDT[a.dtype]);
  for (let b = 0; b < c; b++) {
    const px = new CTOR[a.dtype](h * w);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) px[y * w + x] = a.data[a.offset + y * a.strides[0] + x * a.strides[1] + b * a.strides[2]];
    mem.bands.get(b + 1).pixels.write(0, 0, w, h, px as never);
  }
  gdal.drivers.get(driver).createCopy(file, mem).close();
  mem.close();
  return file;
}

/** Reads a whole image with gdal-async into HWC. */
export function readImage(file: string): NDArray {
  const ds = gdal.open(file);
  const w = ds.rasterSize.x;
  const h = ds.rasterSize.y;
  const c = ds.bands.count();
  const dtype = DT[ds.bands.get(1).dataType as string];
  const data = new CTOR[dtype](h * w * c);
  for (let b = 0; b < c; b++) {
    const px = ds.bands.get(b + 1).pixels.read(0, 0, w, h);
    for (let i = 0; i < h * w; i++) data[i * c + b] = px[i] as number;
  }
  ds.close();
  return { data, shape: [h, w, c], strides: [w * c, c, 1], offset: 0, dtype };
}



/** Every file under `dir` (relative paths, sorted). */
export function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(path.relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

/**
 * Argument vector to run a TypeScript entry point in a child node (or a worker) with this
 * process's preloads (tsx), resolved to absolute paths so any cwd works.
 */
export function nodeArgs(script: string): string[] {
  const repo = path.resolve(__dirname, '..');
  const exec: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--expose-gc') continue;
    if ((a === '-r' || a === '--require') && i + 1 < argv.length) {
      exec.push(a, path.isAbsolute(argv[i + 1]) ? argv[i + 1] : require.resolve(argv[i + 1], { paths: [repo] }));
      i++;
    } else {
      exec.push(a);
    }
  }
  if (!exec.some((a) => a.includes('tsx'))) exec.unshift('-r', require.resolve('tsx/cjs', { paths: [repo] }));
  return [...exec, script];
}
