// Cross-backend conformance: the SAME cases against every backend — the npy reader (copy and
// zero-copy view), the raster reader on a plain GeoTIFF and on a COG made by writeCog, and Frames
// (SimpleFrames) with backends null, 'npy' and 'cog' — each pixel compared with a plain TypeScript
// reference computed from the known source array. Covers Python slice semantics (negative indices,
// clipping, empty ranges, channel slices), boundless reads past every border and corner with
// `fill` (readers: Frames.loadRegion does not take `boundless`, see docs/api.md), reads into `out`
// (contiguous, and into a bigger array at an offset with other strides, whose other elements must
// stay untouched), and the result invariants (contiguous results: strides [W*C, C, 1], offset 0).
// uint8 and float32, 1 and 3 channels; sizes that are no multiple of the COG's 16-pixel tiles.
// Imports only the package index: fixtures and the reference are written here.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SimpleFrames, allocate, openImage, writeCog, writeNpy, writeRaster } from '../lib';
import type { BackendSpec, DType, ImageReader, NDArray, Region } from '../lib';

const H = 37;
const W = 45;
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nds-conformance-'));

// ---------------------------------------------------------------------------------------------
// The source arrays and the reference.

interface Source { dtype: DType; C: number; name: string; values: Float64Array }

/** A deterministic value per (y, x, c): distinct neighbours, exact in the dtype. */
function pixel(dtype: DType, y: number, x: number, c: number): number {
  if (dtype === 'uint8') return (y * 7 + x * 13 + c * 101 + 1) % 256;
  return Math.fround(y * 100 + x + c * 0.25 - 500.5);   // exact in float32, negative and positive
}

function makeSource(dtype: DType, C: number): Source {
  const values = new Float64Array(H * W * C);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) for (let c = 0; c < C; c++) {
    values[(y * W + x) * C + c] = pixel(dtype, y, x, c);
  }
  return { dtype, C, name: `${dtype} ${C}-channel ${H}x${W}`, values };
}

function asArray(src: Source): NDArray {
  const a = allocate([H, W, src.C], src.dtype);
  for (let i = 0; i < src.values.length; i++) a.data[i] = src.values[i];
  return a;
}

type Bound = number | null | undefined;
function sliceOf(s: unknown): [Bound, Bound] {
  if (s === null || s === undefined) return [null, null];
  if (Array.isArray(s)) return [s[0], s[1]];
  const o = s as { start?: Bound; stop?: Bound };
  return [o.start, o.stop];
}

/** Python's slice(start, stop).indices(n) for step 1: [begin, end) with end >= begin. */
function py(start: Bound, stop: Bound, n: number): [number, number] {
  const b = start == null ? 0 : start < 0 ? Math.max(start + n, 0) : Math.min(start, n);
  const e = stop == null ? n : stop < 0 ? Math.max(stop + n, 0) : Math.min(stop, n);
  return [b, Math.max(e, b)];
}

/** Boundless rows/cols: absolute coordinates, missing start 0, missing stop the axis length. */
function absolute(start: Bound, stop: Bound, n: number): [number, number] {
  const b = start == null ? 0 : start;
  const e = stop == null ? n : stop;
  return [b, Math.max(e, b)];
}

interface Expected { shape: [number, number, number]; values: number[] }

function reference(src: Source, region: Region | null, boundless = false, fill = 0): Expected {
  const r = (region ?? []) as unknown[];
  const [ys, ye] = sliceOf(r[0]);
  const [xs, xe] = sliceOf(r[1]);
  const [cs, ce] = sliceOf(r[2]);
  const [y0, y1] = boundless ? absolute(ys, ye, H) : py(ys, ye, H);
  const [x0, x1] = boundless ? absolute(xs, xe, W) : py(xs, xe, W);
  const [c0, c1] = py(cs, ce, src.C);
  const fillValue = src.dtype === 'float32' ? Math.fround(fill) : fill;
  const values: number[] = [];
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) for (let c = c0; c < c1; c++) {
    const inside = y >= 0 && y < H && x >= 0 && x < W;
    values.push(inside ? src.values[(y * W + x) * src.C + c] : fillValue);
  }
  return { shape: [y1 - y0, x1 - x0, c1 - c0], values };
}

/** The elements of `a` in C order, walking its strides from its offset. */
function elements(a: NDArray): number[] {
  const [h, w, c] = a.shape;
  const [sy, sx, sc] = a.strides;
  const out: number[] = [];
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) {
    out.push(a.data[a.offset + y * sy + x * sx + k * sc]);
  }
  return out;
}

/** '' when `got` has the expected shape, dtype and pixels; else what differs first. */
function mismatch(got: NDArray, exp: Expected, dtype: DType): string {
  if (got.dtype !== dtype) return `dtype ${got.dtype}, expected ${dtype}`;
  if (got.shape.join() !== exp.shape.join()) return `shape [${got.shape}], expected [${exp.shape}]`;
  const v = elements(got);
  const [, w, c] = exp.shape;
  for (let i = 0; i < v.length; i++) {
    if (!Object.is(v[i], exp.values[i])) {
      const y = Math.floor(i / (w * c));
      const x = Math.floor(i / c) % w;
      const bad = exp.values.reduce((n, e, j) => n + (Object.is(e, v[j]) ? 0 : 1), 0);
      return `pixel (${y}, ${x}, ${i % c}) of the result is ${v[i]}, expected ${exp.values[i]} (${bad} of ${v.length} elements differ)`;
    }
  }
  return '';
}

/** '' when `a` is a contiguous result (strides [W*C, C, 1], offset 0, data big enough). */
function contiguity(a: NDArray): string {
  const [h, w, c] = a.shape;
  if (a.strides.join() !== [w * c, c, 1].join()) return `strides [${a.strides}], expected [${[w * c, c, 1]}]`;
  if (a.offset !== 0) return `offset ${a.offset}, expected 0`;
  if (a.data.length < h * w * c) return `data has ${a.data.length} elements for ${h * w * c}`;
  return '';
}

// ---------------------------------------------------------------------------------------------
// The cases.

const REGIONS: Region[] = [
  [],
  [[0, 5], [0, 7]],
  [[null, -20], [null, -10]],                       // slice(-20), slice(-10)
  [[-5, null], [-7, null]],                         // the last rows and columns
  [[-6, -2], [-9, -3]],                             // both ends negative
  [[3, 100], [10, 1000]],                           // stop past the end: clipped
  [[-100, 4], [-1000, 3]],                          // start before the beginning: clipped to 0
  [[10, 10], [0, 5]],                               // empty rows
  [[20, 10], [0, 5]],                               // stop before start: empty
  [[0, 5], [W, W + 5]],                             // starts at the end: empty columns
  [[H + 3, H + 9], [0, 5]],                         // wholly past the end: empty
  [{ start: 2, stop: 9 }, { start: -9 }],           // object slices
  [null, [5, 6]],                                   // one column, every row
  [[15, 33], [14, 35]],                             // across COG tiles (16x16)
  [[0, 4], [0, 4], [1, 3]],                         // channel slice (empty on 1 channel)
  [[0, 4], [0, 4], [-1, null]],                     // the last channel
  [[0, 4], [0, 4], [0, 0]],                         // no channels
  [undefined, undefined, [0, 1]],                   // the first channel of the whole image
];

const BOUNDLESS: Region[] = [
  [[-5, 10], [3, 20]],                              // past the top
  [[30, H + 8], [3, 20]],                           // past the bottom
  [[3, 20], [-6, 9]],                               // past the left
  [[3, 20], [W - 5, W + 7]],                        // past the right
  [[-4, 6], [-5, 7]],                               // top-left corner
  [[-4, 6], [W - 5, W + 5]],                        // top-right corner
  [[H - 4, H + 4], [-5, 7]],                        // bottom-left corner
  [[H - 4, H + 4], [W - 5, W + 5]],                 // bottom-right corner
  [[-3, H + 3], [-3, W + 3]],                       // around the whole image
  [[-20, -10], [0, 5]],                             // wholly outside (above)
  [[H + 10, H + 14], [W + 10, W + 13]],             // wholly outside (below right)
  [[2, 8], [2, 8]],                                 // wholly inside
  [[-3, null], [-3, null]],                         // stop missing: the axis length
  [[-2, 5], [-2, 5], [0, 1]],                       // with a channel slice
  [[-2, 5], [W - 1, W + 1], [-1, null]],
];

const FILLS: Record<string, number[]> = { uint8: [0, 7, 255], float32: [0, -1.5, 1e6] };
const SENTINEL: Record<string, number> = { uint8: 222, float32: -9999.25 };

// ---------------------------------------------------------------------------------------------
// The backends, each over the same source.

interface Backend {
  name: string;
  read(region: Region | null, out?: NDArray): NDArray;
  readAsync(region: Region | null): Promise<NDArray>;
  /** Readers: boundless reads (Frames.loadRegion does not take `boundless`). */
  reader?: ImageReader;
  /** The result is a view of a mapping, not a new contiguous array. */
  view?: boolean;
  close(): void;
}

interface Fixture { src: Source; backends: Backend[] }
const fixtures: Fixture[] = [];

function readerBackend(name: string, file: string, view = false): Backend {
  const reader = openImage(file);
  return {
    name,
    reader,
    view,
    read: (region, out) => reader.read(region, view ? { copy: false } : out ? { out } : undefined),
    readAsync: (region) => reader.readAsync(region, view ? { copy: false } : undefined),
    close: () => reader.close(),
  };
}

function framesBackend(file: string, backend: BackendSpec, workdir: string): Backend {
  const frames = new SimpleFrames({ 1: file }, { workdir, backend });
  return {
    name: `Frames backend ${JSON.stringify(backend)}`,
    read: (region, out) => frames.loadRegion(1, region, out ? { out } : undefined),
    readAsync: (region) => frames.loadRegionAsync(1, region),
    close: () => frames.close(),
  };
}

test.before(() => {
  for (const dtype of ['uint8', 'float32'] as DType[]) {
    for (const C of [1, 3]) {
      const src = makeSource(dtype, C);
      const dir = path.join(root, `${dtype}-${C}`);
      fs.mkdirSync(dir);
      const arr = asArray(src);
      const npy = path.join(dir, 'src.npy');
      const tif = path.join(dir, 'src.tif');
      const cog = path.join(dir, 'src.cog.tif');
      writeNpy(npy, arr);
      writeRaster(tif, arr);
      writeCog(tif, cog, { blocksize: 16 });
      fixtures.push({
        src,
        backends: [
          readerBackend('npy reader', npy),
          readerBackend('npy reader, copy: false view', npy, true),
          readerBackend('raster reader (GeoTIFF)', tif),
          readerBackend('raster reader (COG)', cog),
          framesBackend(tif, null, path.join(dir, 'work-null')),
          framesBackend(tif, 'npy', path.join(dir, 'work-npy')),
          framesBackend(tif, 'cog', path.join(dir, 'work-cog')),
        ],
      });
    }
  }
});

test.after(() => {
  for (const f of fixtures) for (const b of f.backends) b.close();
  fs.rmSync(root, { recursive: true, force: true });
});

const show = (r: Region | null) => JSON.stringify(r);
const check = (failures: string[]) => assert.equal(failures, [], `${failures.length} failing cases:\n${failures.join('\n')}`);

// ---------------------------------------------------------------------------------------------

test('the fixtures: every backend sees the source shape and dtype; both TIFFs are COGs by the validator\'s rules', () => {
  assert.is(fixtures.length, 4);
  for (const { src, backends } of fixtures) {
    for (const b of backends) {
      const all = b.read(null);
      assert.equal(all.shape, [H, W, src.C], `${src.name}: ${b.name}`);
      assert.is(all.dtype, src.dtype, `${src.name}: ${b.name}`);
    }
    assert.is(backends.find((b) => b.name.includes('COG'))?.reader?.isCog, true, 'writeCog made a COG');
    // A small striped GeoTIFF is a COG by GDAL's validator (untiled is rejected only past 1024 pixels wide).
    assert.is(backends.find((b) => b.name.includes('GeoTIFF'))?.reader?.isCog, true, 'a small striped GeoTIFF is a COG');
  }
});

test('regions (Python slice semantics: negative, clipped, empty, channels) give the reference pixels on every backend', () => {
  const failures: string[] = [];
  for (const { src, backends } of fixtures) {
    for (const region of [null, ...REGIONS]) {
      const exp = reference(src, region);
      for (const b of backends) {
        const m = mismatch(b.read(region), exp, src.dtype);
        if (m) failures.push(`${src.name}, ${b.name}, region ${show(region)}: ${m}`);
      }
    }
  }
  check(failures);
});

test('async reads (readAsync, loadRegionAsync) give the same pixels as the reference', async () => {
  const failures: string[] = [];
  for (const { src, backends } of fixtures) {
    for (const region of REGIONS) {
      const exp = reference(src, region);
      const got = await Promise.all(backends.map((b) => b.readAsync(region)));
      for (const [i, b] of backends.entries()) {
        const m = mismatch(got[i], exp, src.dtype);
        if (m) failures.push(`${src.name}, ${b.name} (async), region ${show(region)}: ${m}`);
      }
    }
  }
  check(failures);
});

test('results are contiguous (strides [W*C, C, 1], offset 0); npy views keep the file layout over the mapping', () => {
  const failures: string[] = [];
  for (const { src, backends } of fixtures) {
    for (const region of [null, ...REGIONS]) {
      for (const b of backends) {
        const a = b.read(region);
        if (b.view) {
          // A zero-copy view: the file's C-order strides, offset at the region's first pixel.
          const exp = reference(src, region);
          const [y0, x0, c0] = firstIndex(region, src.C);
          const want = [W * src.C, src.C, 1].join();
          if (a.strides.join() !== want) failures.push(`${src.name}, ${b.name}, ${show(region)}: strides [${a.strides}], expected [${want}]`);
          if (exp.values.length > 0 && a.offset !== (y0 * W + x0) * src.C + c0) {
            failures.push(`${src.name}, ${b.name}, ${show(region)}: offset ${a.offset}, expected ${(y0 * W + x0) * src.C + c0}`);
          }
          continue;
        }
        const m = contiguity(a);
        if (m) failures.push(`${src.name}, ${b.name}, region ${show(region)}: ${m}`);
      }
    }
    for (const b of backends.filter((x) => x.reader && !x.view)) {
      for (const region of BOUNDLESS) {
        const m = contiguity(b.reader!.read(region, { boundless: true, fill: 7 }));
        if (m) failures.push(`${src.name}, ${b.name}, boundless ${show(region)}: ${m}`);
      }
    }
  }
  check(failures);
});

/** The first (row, col, channel) a clipping region selects. */
function firstIndex(region: Region | null, C: number): [number, number, number] {
  const r = (region ?? []) as unknown[];
  const [ys, ye] = sliceOf(r[0]);
  const [xs, xe] = sliceOf(r[1]);
  const [cs, ce] = sliceOf(r[2]);
  return [py(ys, ye, H)[0], py(xs, xe, W)[0], py(cs, ce, C)[0]];
}

test('boundless reads past each border and corner (readers) fill the outside with `fill`, the same on every reader', () => {
  const failures: string[] = [];
  for (const { src, backends } of fixtures) {
    for (const fill of FILLS[src.dtype]) {
      for (const region of BOUNDLESS) {
        const exp = reference(src, region, true, fill);
        for (const b of backends.filter((x) => x.reader && !x.view)) {
          const opts = fill === 0 ? { boundless: true } : { boundless: true, fill };
          const m = mismatch(b.reader!.read(region, opts), exp, src.dtype);
          if (m) failures.push(`${src.name}, ${b.name}, boundless ${show(region)} fill ${fill}: ${m}`);
        }
      }
    }
  }
  check(failures);
});

test('boundless readAsync gives the same pixels as the reference', async () => {
  const failures: string[] = [];
  for (const { src, backends } of fixtures) {
    for (const region of BOUNDLESS) {
      const fill = FILLS[src.dtype][1];
      const exp = reference(src, region, true, fill);
      for (const b of backends.filter((x) => x.reader && !x.view)) {
        const m = mismatch(await b.reader!.readAsync(region, { boundless: true, fill }), exp, src.dtype);
        if (m) failures.push(`${src.name}, ${b.name} (async), boundless ${show(region)}: ${m}`);
      }
    }
  }
  check(failures);
});

/** An `out` for `shape`: contiguous, or inside a bigger sentinel-filled buffer at an offset with padded, band-planar strides. */
function makeOut(shape: [number, number, number], dtype: DType, strided: boolean): { out: NDArray; size: number } {
  const [h, w, c] = shape;
  if (!strided) {
    const out = allocate(shape, dtype);
    out.data.fill(SENTINEL[dtype]);
    return { out, size: out.data.length };
  }
  // Band-planar with padding: each channel plane is (h + 2) x (w + 3), planes one apart, offset 11.
  const sy = w + 3;
  const plane = (h + 2) * sy + 1;
  const offset = 11;
  const size = offset + Math.max(c, 1) * plane + 5;
  const big = allocate([1, size, 1], dtype);
  big.data.fill(SENTINEL[dtype]);
  return { out: { data: big.data, shape: [h, w, c], strides: [sy, 1, plane], offset, dtype }, size };
}

/** '' when every element of `out.data` outside the view is still the sentinel. */
function untouchedOutside(out: NDArray, size: number): string {
  const inside = new Set<number>();
  const [h, w, c] = out.shape;
  const [sy, sx, sc] = out.strides;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) inside.add(out.offset + y * sy + x * sx + k * sc);
  const s = out.dtype === 'float32' ? Math.fround(SENTINEL[out.dtype]) : SENTINEL[out.dtype];
  for (let i = 0; i < size; i++) {
    if (!inside.has(i) && out.data[i] !== s) return `element ${i} outside the view was written (${out.data[i]})`;
  }
  return '';
}

/** '' when the result describes `out` itself: the same data, offset and strides (not a copy). */
function sameTarget(got: NDArray, out: NDArray): string {
  if (got.data !== out.data) return 'the result is not backed by out.data';
  if (got.offset !== out.offset || got.strides.join() !== out.strides.join()) {
    return `the result has offset ${got.offset}, strides [${got.strides}]; out has ${out.offset}, [${out.strides}]`;
  }
  return '';
}

for (const strided of [false, true]) {
  const kind = strided ? 'into a bigger array at an offset with band-planar strides' : 'into a contiguous `out`';
  test(`reads ${kind}: the reference pixels, a result over out.data, nothing outside the view written (every backend)`, () => {
    const failures: string[] = [];
    for (const { src, backends } of fixtures) {
      for (const region of [null, ...REGIONS]) {
        const exp = reference(src, region);
        for (const b of backends.filter((x) => !x.view)) {
          const { out, size } = makeOut(exp.shape, src.dtype, strided);
          const got = b.read(region, out);
          const where = `${src.name}, ${b.name}, region ${show(region)}`;
          const same = sameTarget(got, out);
          if (same) failures.push(`${where}: ${same}`);
          const m = mismatch(out, exp, src.dtype) || untouchedOutside(out, size);
          if (m) failures.push(`${where}: ${m}`);
        }
      }
    }
    check(failures);
  });

  test(`boundless reads ${kind} (readers): fill outside the image, nothing outside the view written`, () => {
    const failures: string[] = [];
    for (const { src, backends } of fixtures) {
      for (const fill of FILLS[src.dtype]) {
        for (const region of BOUNDLESS) {
          const exp = reference(src, region, true, fill);
          for (const b of backends.filter((x) => x.reader && !x.view)) {
            const { out, size } = makeOut(exp.shape, src.dtype, strided);
            const got = b.reader!.read(region, { boundless: true, fill, out });
            const where = `${src.name}, ${b.name}, boundless ${show(region)} fill ${fill}`;
            const same = sameTarget(got, out);
            if (same) failures.push(`${where}: ${same}`);
            const m = mismatch(out, exp, src.dtype) || untouchedOutside(out, size);
            if (m) failures.push(`${where}: ${m}`);
          }
        }
      }
    }
    check(failures);
  });
}

test('the same request gives identical results across backends (pairwise, not only against the reference)', () => {
  const failures: string[] = [];
  for (const { src, backends } of fixtures) {
    for (const region of REGIONS) {
      const first = elements(backends[0].read(region));
      for (const b of backends.slice(1)) {
        const v = elements(b.read(region));
        if (v.length !== first.length || v.some((x, i) => !Object.is(x, first[i]))) {
          failures.push(`${src.name}, region ${show(region)}: ${b.name} differs from ${backends[0].name}`);
        }
      }
    }
  }
  check(failures);
});

test.run();
