// Frames.loadBatch: every batch equals the same crops read one at a time (sync loadRegion, or a
// boundless reader read for padded crops) and converted by a plain TypeScript reference, on the
// null, npy and cog backends; onError 'fill', out reuse, many batches in flight on 2 threads,
// abort, close and worker termination in flight; the invalid-input suite.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AbortError, ClosedError, FileError, FramesError, NdsamplerError, RegionError } from '../lib/errors';
import { setThreadPoolNice, setThreadPoolSize, threadPoolNice, threadPoolSize } from '../lib/frames/batch';
import type { Batch, BatchOptions, BatchRequest } from '../lib/frames/batch';
import { SimpleFrames } from '../lib/frames/simple-frames';
import type { DType, NDArray, TypedArray } from '../lib/ndarray';
import { setTileCacheBudget, tileCacheStats } from '../lib/gdal';
import { openImage, writeNpy } from '../lib/readers';
import type { Region } from '../lib/region';
import { makeArray, nodeArgs, values, writeImage } from './_frames-util';
import { expectCode, expectCodeAsync } from './_helpers/errors';
import { rmrf, tempDir } from './_helpers/tmp';

const root = tempDir('batch').dir;
test.after(() => rmrf(root));

const H = 61, W = 75;
const files: Record<string, string> = {
  a: writeImage(path.join(root, 'a.png'), makeArray(H, W, 3, 'uint8', (y, x, c) => (y * 7 + x * 3 + c * 50) % 256)),
  b: writeImage(path.join(root, 'b.tif'), makeArray(50, 90, 3, 'uint8', (y, x, c) => (y * 11 + x * 5 + c * 31 + 3) % 256), 'GTiff'),
};
const BACKENDS = [null, 'npy', 'cog'] as const;
const framesFor = (backend: typeof BACKENDS[number], dir = backend ?? 'none') =>
  new SimpleFrames(files, { workdir: path.join(root, dir), backend });

// ---- the plain TypeScript reference ------------------------------------------------------------

const CTOR = { uint8: Uint8Array, int8: Int8Array, uint16: Uint16Array, int16: Int16Array, uint32: Uint32Array, int32: Int32Array, float32: Float32Array, float64: Float64Array };
const RANGE: Record<string, [number, number]> = {
  uint8: [0, 255], int8: [-128, 127], uint16: [0, 65535], int16: [-32768, 32767], uint32: [0, 4294967295], int32: [-2147483648, 2147483647],
};
function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  return d < 0.5 ? f : d > 0.5 ? f + 1 : (f % 2 === 0 ? f : f + 1);
}
function cast(v: number, dtype: DType): number {
  if (dtype === 'float32') return Math.fround(v);
  if (dtype === 'float64') return v;
  if (Number.isNaN(v)) return 0;
  const [lo, hi] = RANGE[dtype];
  return v <= lo ? lo : v >= hi ? hi : roundHalfEven(v);
}
/** One crop (HWC NDArray) converted and laid out as the batch's slot. */
function refSlot(a: NDArray, dtype: DType, layout: 'NHWC' | 'NCHW', norm?: BatchOptions['normalize']): number[] {
  const [h, w, c] = a.shape;
  const vals = values(a);
  const out = new Array<number>(h * w * c);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let k = 0; k < c; k++) {
        let v = vals[(y * w + x) * c + k];
        if (norm) v = (v * (norm.scale ?? 1) - (norm.mean?.[k] ?? 0)) / (norm.std?.[k] ?? 1);
        out[layout === 'NHWC' ? (y * w + x) * c + k : (k * h + y) * w + x] = cast(v, dtype);
      }
    }
  }
  return out;
}
function refCrop(frames: SimpleFrames, r: BatchRequest, o: BatchOptions): NDArray {
  if (o.boundless) return openImage(files[r.imageId as string]).read(r.region, { boundless: true, fill: o.fill ?? 0 });
  return frames.loadRegion(r.imageId, r.region);
}
function checkBatch(b: Batch, crops: Array<NDArray | null>, o: BatchOptions, fillSlot?: number[]): void {
  const dtype = o.dtype ?? 'uint8';
  const layout = o.layout ?? 'NHWC';
  assert.is(b.dtype, dtype);
  assert.is(b.layout, layout);
  assert.instance(b.data, CTOR[dtype]);
  const slot = b.data.length / crops.length;
  crops.forEach((crop, i) => {
    const exp = crop === null ? fillSlot as number[] : refSlot(crop, dtype, layout, o.normalize);
    assert.is(exp.length, slot);
    for (let j = 0; j < slot; j++) {
      const got = b.data[i * slot + j];
      if (got !== exp[j] && !(Number.isNaN(got) && Number.isNaN(exp[j]))) {
        assert.unreachable(`crop ${i} element ${j}: ${got} != ${exp[j]} (${JSON.stringify(o)})`);
      }
    }
  });
}

const CROPS: BatchRequest[] = [
  { imageId: 'a', region: [[0, 24], [0, 32]] },
  { imageId: 'b', region: [[10, 34], [40, 72]] },
  { imageId: 'a', region: [[-24, null], [-32, null]] },
  { imageId: 'b', region: [[26, 50], [58, 90], [0, 3]] },
  { imageId: 'a', region: [[5, 29], [20, 52]] },
];
// Boundless: all four borders and all four corners (and one fully inside, one fully outside).
const PADDED: BatchRequest[] = [
  { imageId: 'a', region: [[-10, 14], [20, 52]] },     // top
  { imageId: 'a', region: [[H - 12, H + 12], [20, 52]] }, // bottom
  { imageId: 'b', region: [[10, 34], [-20, 12]] },     // left
  { imageId: 'b', region: [[10, 34], [80, 112]] },     // right
  { imageId: 'a', region: [[-5, 19], [-7, 25]] },      // top-left
  { imageId: 'a', region: [[-5, 19], [W - 9, W + 23]] }, // top-right
  { imageId: 'b', region: [[40, 64], [-3, 29]] },      // bottom-left
  { imageId: 'b', region: [[45, 69], [70, 102]] },     // bottom-right
  { imageId: 'a', region: [[3, 27], [3, 35]] },        // inside
  { imageId: 'b', region: [[100, 124], [100, 132]] },  // all outside
];
const IMAGENET = { scale: 1 / 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

for (const backend of BACKENDS) {
  test(`batches equal single crops: backend ${backend}`, async () => {
    const frames = framesFor(backend);
    const cases: BatchOptions[] = [
      {}, { layout: 'NCHW' }, { dtype: 'float32' }, { dtype: 'float32', layout: 'NCHW', normalize: IMAGENET },
      { dtype: 'float32', normalize: { mean: [10, 20, 30], std: [2, 0.5, -4] } },
      { dtype: 'uint8', layout: 'NCHW', normalize: { scale: 2, mean: [100, 0, -20], std: [1, 3, 1] } },  // saturates, rounds
      { dtype: 'int16', normalize: { scale: 0.5 } }, { dtype: 'float64', layout: 'NCHW' },
    ];
    for (const o of cases) {
      const b = await frames.loadBatch(CROPS, o);
      assert.equal(b.dims, o.layout === 'NCHW' ? [5, 3, 24, 32] : [5, 24, 32, 3]);
      assert.equal(b.errors, []);
      checkBatch(b, CROPS.map((r) => refCrop(frames, r, o)), o);
    }
    for (const o of [{ boundless: true, fill: 7 }, { boundless: true, fill: 300, layout: 'NCHW' as const },
      { boundless: true, fill: 255, dtype: 'float32' as const, layout: 'NCHW' as const, normalize: IMAGENET }]) {
      const b = await frames.loadBatch(PADDED, o);
      checkBatch(b, PADDED.map((r) => refCrop(frames, r, o)), o);
    }
    frames.close();
  });
}

test('the fused kernel\'s fast path: npy uint8/uint16/float32, 1 to 5 channels, every layout and conversion', async () => {
  const srcs: Record<string, string> = {};
  const chans: Record<string, number> = {};
  for (const dt of ['uint8', 'uint16', 'float32'] as const) {
    for (const c of [1, 2, 3, 4, 5]) {
      const f = (y: number, x: number, k: number) => dt === 'float32' ? (y * 13 + x * 7 + k * 29) / 7 - 40
        : dt === 'uint16' ? (y * 1031 + x * 257 + k * 4099) % 65536 : (y * 7 + x * 3 + k * 50) % 256;
      const file = path.join(root, `fast-${dt}-${c}.npy`);
      writeNpy(file, makeArray(40, 53, c, dt, f));
      srcs[`${dt}-${c}`] = file;
      chans[`${dt}-${c}`] = c;
    }
  }
  const frames = new SimpleFrames(srcs, { workdir: path.join(root, 'fast'), backend: null });
  for (const id of Object.keys(srcs)) {
    const c = chans[id];
    const sdt = id.split('-')[0] as DType;
    const norm = { scale: 1 / 255, mean: Array.from({ length: c }, (_, k) => 0.4 + k / 10), std: Array.from({ length: c }, (_, k) => 0.2 + k / 50) };
    const reqs: BatchRequest[] = [{ imageId: id, region: [[0, 24], [0, 32]] }, { imageId: id, region: [[16, 40], [21, 53]] }];
    const cases: BatchOptions[] = [
      { dtype: sdt }, { dtype: sdt, layout: 'NCHW' }, { dtype: 'float32', layout: 'NCHW', normalize: norm }, { dtype: 'float32', normalize: norm },
      { dtype: 'float32', layout: 'NCHW' }, { dtype: 'float64' }, { dtype: 'uint16', layout: 'NCHW' },
      { dtype: 'uint8', normalize: { scale: 0.5, mean: norm.mean.map((m) => m * 100), std: norm.std } },
      { dtype: 'int16', layout: 'NCHW', normalize: { scale: 3 } },
    ];
    for (const o of cases) {
      const b = await frames.loadBatch(reqs, o);
      checkBatch(b, reqs.map((r) => frames.loadRegion(r.imageId, r.region)), o);
    }
    if (c >= 3) {  // a channel subset: not packed, the general loop
      const sub: BatchRequest[] = [{ imageId: id, region: [[3, 27], [5, 37], [1, 3]] }];
      for (const o of [{ dtype: sdt, layout: 'NCHW' as const }, { dtype: 'float32' as const, layout: 'NCHW' as const, normalize: { scale: 2, mean: [1, 2], std: [3, 4] } }]) {
        const b = await frames.loadBatch(sub, o);
        checkBatch(b, sub.map((r) => frames.loadRegion(r.imageId, r.region)), o);
      }
    }
  }
  frames.close();
});

test('cog backend with the tile cache off (cold: tiles decoded per crop, only the rows a crop needs): equal to cached reads', async () => {
  const frames = framesFor('cog');
  const o: BatchOptions = { dtype: 'float32', layout: 'NCHW', normalize: IMAGENET };
  const want = CROPS.map((r) => refCrop(frames, r, o));  // tile cache on
  const budget = tileCacheStats().budget;
  const threads = threadPoolSize();
  setTileCacheBudget(0);
  try {
    for (const n of [1, 2]) {
      setThreadPoolSize(n);
      checkBatch(await frames.loadBatch(CROPS, o), want, o);
      const plain = await frames.loadBatch(CROPS);
      checkBatch(plain, want, {});
    }
    assert.is(tileCacheStats().entries, 0);
  } finally {
    setTileCacheBudget(budget);
    setThreadPoolSize(threads);
  }
  frames.close();
});

test('scale: npy by nearest sampling (the RasterIO rule), cog from the raster reader', async () => {
  const req: BatchRequest[] = [{ imageId: 'a', region: [[0, 40], [0, 60]] }, { imageId: 'a', region: [[11, 51], [9, 69]] }];
  const npy = framesFor('npy');
  const b = await npy.loadBatch(req, { scale: 0.5 });
  assert.equal(b.dims, [2, 20, 30, 3]);
  const full = npy.loadImage('a');
  const crops = req.map((r) => {
    const [[y0, y1], [x0, x1]] = r.region as [[number, number], [number, number]];
    const pick = (j: number, n: number, m: number) => Math.min(Math.floor((j + 0.5) * n / m + 1e-10), n - 1);
    return makeArray(20, 30, 3, 'uint8', (y, x, c) => full.data[full.offset + (y0 + pick(y, y1 - y0, 20)) * full.strides[0] + (x0 + pick(x, x1 - x0, 30)) * full.strides[1] + c]);
  });
  checkBatch(b, crops, {});
  const cog = framesFor('cog');
  const bc = await cog.loadBatch(req, { scale: 0.5, dtype: 'float32' });
  const entry = openImage(cog.lookupPathinfo('a').channels[Object.keys(cog.lookupPathinfo('a').channels)[0]].cache as string);
  checkBatch(bc, req.map((r) => entry.read(r.region, { scale: 0.5 })), { dtype: 'float32' });
  entry.close();
  npy.close();
  cog.close();
});

test('out: the data of an earlier Batch is reused without a copy; a plain typed array is filled', async () => {
  const frames = framesFor('npy');
  const o: BatchOptions = { dtype: 'float32', layout: 'NCHW', normalize: IMAGENET };
  const first = await frames.loadBatch(CROPS, o);
  const again = await frames.loadBatch([...CROPS].reverse(), { ...o, out: first });
  assert.ok(again.data === first.data, 'the same typed array comes back');
  checkBatch(again, [...CROPS].reverse().map((r) => refCrop(frames, r, o)), o);
  const mine = new Float32Array(first.data.length);
  const third = await frames.loadBatch(CROPS, { ...o, out: mine });
  assert.ok(third.data === mine);
  checkBatch(third, CROPS.map((r) => refCrop(frames, r, o)), o);
  // The same Batch twice at once: the second is refused (ERR_OUT_BUFFER), the first completes.
  const p1 = frames.loadBatch(CROPS, { ...o, out: first });
  await expectCodeAsync(() => frames.loadBatch(CROPS, { ...o, out: first }), RegionError, 'ERR_OUT_BUFFER');
  await p1;
  frames.close();
});

test("onError 'fill': a missing image and a missing file are filled and listed", async () => {
  const dir = path.join(root, 'fill');
  fs.mkdirSync(dir, { recursive: true });
  const gone = path.join(dir, 'gone.png');
  fs.copyFileSync(files.a, gone);
  const frames = new SimpleFrames({ ...files, gone }, { workdir: dir, backend: 'npy' });
  fs.rmSync(gone);
  const reqs: BatchRequest[] = [CROPS[0], { imageId: 'nope', region: [[0, 24], [0, 32]] }, CROPS[1], { imageId: 'gone', region: [[0, 24], [0, 32]] }];
  const o: BatchOptions = { onError: 'fill', fill: 9, dtype: 'float32', normalize: { scale: 2, mean: [1, 2, 3] } };
  const b = await frames.loadBatch(reqs, o);
  assert.equal(b.errors.map((e) => [e.index, e.error.code]), [[1, 'ERR_UNKNOWN_IMAGE'], [3, 'ERR_SOURCE_MISSING']]);
  assert.instance(b.errors[0].error, FramesError);
  assert.instance(b.errors[1].error, FileError);
  const filled = refSlot(makeArray(24, 32, 3, 'uint8', () => 9), 'float32', 'NHWC', o.normalize);
  checkBatch(b, [refCrop(frames, reqs[0], o), null, refCrop(frames, reqs[2], o), null], o, filled);
  await expectCodeAsync(() => frames.loadBatch(reqs), FramesError, 'ERR_UNKNOWN_IMAGE');
  frames.close();
});

test('stress: many batches in flight on 2 threads, every pixel compared', async () => {
  const before = threadPoolSize();
  setThreadPoolSize(2);
  try {
    for (const backend of ['npy', 'cog'] as const) {
      const frames = framesFor(backend);
      const jobs: Array<{ reqs: BatchRequest[]; o: BatchOptions; p: Promise<Batch> }> = [];
      for (let i = 0; i < 60; i++) {
        const reqs = Array.from({ length: 8 }, (_, k) => {
          const id = (i + k) % 2 === 0 ? 'a' : 'b';
          const y = (i * 7 + k * 13) % 26, x = (i * 11 + k * 5) % 40;
          return { imageId: id, region: [[y, y + 24], [x, x + 32]] as Region };
        });
        const o: BatchOptions = i % 3 === 0 ? {} : i % 3 === 1 ? { dtype: 'float32', layout: 'NCHW', normalize: IMAGENET } : { layout: 'NCHW' };
        jobs.push({ reqs, o, p: frames.loadBatch(reqs, o) });
      }
      for (const j of jobs) checkBatch(await j.p, j.reqs.map((r) => refCrop(frames, r, j.o)), j.o);
      frames.close();
    }
  } finally {
    setThreadPoolSize(before);
  }
});

test('abort: queued work is cancelled and the batch rejects with AbortError ERR_ABORTED', async () => {
  const frames = framesFor('npy');
  const big = Array.from({ length: 400 }, (_, i) => ({ imageId: 'a', region: [[i % 30, (i % 30) + 30], [0, 40]] as Region }));
  await frames.loadBatch(big.slice(0, 1));
  const ac = new AbortController();
  const ps = Array.from({ length: 10 }, () => frames.loadBatch(big, { dtype: 'float64', signal: ac.signal }));
  ac.abort();
  let aborted = 0;
  for (const s of await Promise.allSettled(ps)) {
    if (s.status === 'rejected') {
      assert.instance(s.reason, AbortError);
      assert.is((s.reason as NdsamplerError).code, 'ERR_ABORTED');
      aborted++;
    }
  }
  assert.ok(aborted >= 9, `${aborted} of 10 batches were aborted`);
  await expectCodeAsync(() => frames.loadBatch(big, { signal: AbortSignal.abort() }), AbortError, 'ERR_ABORTED');
  frames.close();
});

test('close in flight: batches reject with ERR_CLOSED, nothing crashes, the object stays usable', async () => {
  const frames = framesFor('cog');
  const reqs = Array.from({ length: 200 }, (_, i) => ({ imageId: i % 2 ? 'a' : 'b', region: [[i % 20, (i % 20) + 30], [0, 40]] as Region }));
  await frames.loadBatch(reqs.slice(0, 2));
  // One pool thread and no tile cache: the batches are still decoding when close() comes. Every
  // batch either rejects with ERR_CLOSED or (if it finished first) resolves; at least one must have
  // been caught in flight (up to 3 tries, so a fast machine cannot make this pass vacuously).
  const threads = threadPoolSize();
  const budget = tileCacheStats().budget;
  setThreadPoolSize(1);
  setTileCacheBudget(0);
  let closed = 0;
  try {
    for (let attempt = 0; attempt < 3 && closed === 0; attempt++) {
      const ps = Array.from({ length: 6 }, () => frames.loadBatch(reqs, { dtype: 'float32' }));
      await new Promise((r) => setImmediate(r));
      frames.close();
      for (const s of await Promise.allSettled(ps)) {
        if (s.status === 'rejected') {
          assert.instance(s.reason, ClosedError);
          assert.is((s.reason as NdsamplerError).code, 'ERR_CLOSED');
          closed++;
        }
      }
    }
  } finally {
    setThreadPoolSize(threads);
    setTileCacheBudget(budget);
  }
  assert.ok(closed >= 1, `${closed} batches rejected by close() in flight`);
  const b = await frames.loadBatch(CROPS);
  checkBatch(b, CROPS.map((r) => refCrop(frames, r, {})), {});
  frames.close();
});

test('worker termination with batches in flight: the process lives on', async () => {
  const workdir = path.join(root, 'worker');
  const script = path.join(__dirname, '_batch-worker.ts');
  for (let round = 0; round < 3; round++) {
    const w = new Worker(script, { workerData: { files, workdir }, execArgv: nodeArgs(script).slice(0, -1) });
    await new Promise<void>((resolve, reject) => {
      w.once('message', () => resolve());
      w.once('error', reject);
    });
    await w.terminate();
  }
  const frames = framesFor('npy');
  checkBatch(await frames.loadBatch(CROPS), CROPS.map((r) => refCrop(frames, r, {})), {});
  frames.close();
});

test('invalid input: class and code', async () => {
  const frames = framesFor('npy');
  const bad = async (fn: () => Promise<unknown>, cls: abstract new (...a: never[]) => Error, code: string, what: string) =>
    expectCodeAsync(fn, cls, code, what);
  await bad(() => frames.loadBatch([CROPS[0], { imageId: 'a', region: [[0, 10], [0, 10]] }]), RegionError, 'ERR_REGION', 'mixed sizes');
  await bad(() => frames.loadBatch([CROPS[0], { imageId: 'a', region: [[0, 24], [0, 32], [0, 1]] }]), RegionError, 'ERR_REGION', 'mixed channels');
  await bad(() => frames.loadBatch([{ imageId: 'a', region: [[-5, 19], [0, 32]] }, CROPS[0]]), RegionError, 'ERR_REGION', 'clipped without boundless');
  await bad(() => frames.loadBatch(CROPS, { layout: 'CHW' as never }), TypeError, 'ERR_INVALID_ARG_TYPE', 'layout');
  await bad(() => frames.loadBatch(CROPS, { dtype: 'float16' as never }), TypeError, 'ERR_INVALID_ARG_TYPE', 'dtype');
  await bad(() => frames.loadBatch(CROPS, { normalize: { mean: [1, 2] } }), RangeError, 'ERR_OUT_OF_RANGE', 'mean length');
  await bad(() => frames.loadBatch(CROPS, { normalize: { std: [1, 2, 3, 4] } }), RangeError, 'ERR_OUT_OF_RANGE', 'std length');
  await bad(() => frames.loadBatch(CROPS, { normalize: { std: [1, 0, 1] } }), RangeError, 'ERR_OUT_OF_RANGE', 'std 0');
  await bad(() => frames.loadBatch(CROPS, { normalize: { mean: 'x' as never } }), TypeError, 'ERR_INVALID_ARG_TYPE', 'mean type');
  await bad(() => frames.loadBatch(CROPS, { normalize: { shift: 1 } as never }), TypeError, 'ERR_INVALID_ARG_TYPE', 'normalize key');
  await bad(() => frames.loadBatch(CROPS, { out: new Float32Array(5 * 24 * 32 * 3) }), RegionError, 'ERR_OUT_BUFFER', 'out dtype');
  await bad(() => frames.loadBatch(CROPS, { out: new Uint8Array(10) }), RegionError, 'ERR_OUT_BUFFER', 'out length');
  await bad(() => frames.loadBatch(CROPS, { out: [1, 2] as never }), TypeError, 'ERR_INVALID_ARG_TYPE', 'out type');
  await bad(() => frames.loadBatch(CROPS, { onError: 'skip' as never }), TypeError, 'ERR_INVALID_ARG_TYPE', 'onError');
  await bad(() => frames.loadBatch(CROPS, { scale: 2 }), RangeError, 'ERR_OUT_OF_RANGE', 'scale');
  await bad(() => frames.loadBatch(CROPS, { signal: {} as never }), TypeError, 'ERR_INVALID_ARG_TYPE', 'signal');
  await bad(() => frames.loadBatch(CROPS, { bogus: 1 } as never), TypeError, 'ERR_INVALID_ARG_TYPE', 'unknown key');
  await bad(() => frames.loadBatch('x' as never), TypeError, 'ERR_INVALID_ARG_TYPE', 'requests type');
  await bad(() => frames.loadBatch([]), RangeError, 'ERR_OUT_OF_RANGE', 'empty');
  await bad(() => frames.loadBatch([{ imageId: 'a', region: [[0, 4, 2]] as never }]), RegionError, 'ERR_REGION_STEP', 'step');
  await bad(() => frames.loadBatch([{ imageId: 'a', extra: 1 } as never]), TypeError, 'ERR_INVALID_ARG_TYPE', 'request key');
  await bad(() => frames.loadBatch([{ imageId: 'nope' }]), FramesError, 'ERR_UNKNOWN_IMAGE', 'unknown image');
  expectCode(() => setThreadPoolSize(0), RangeError, 'ERR_OUT_OF_RANGE', 'pool size');
  expectCode(() => setThreadPoolNice(20), RangeError, 'ERR_OUT_OF_RANGE', 'nice 20');
  expectCode(() => setThreadPoolNice(-1), RangeError, 'ERR_OUT_OF_RANGE', 'nice -1');
  expectCode(() => setThreadPoolNice(1.5), RangeError, 'ERR_OUT_OF_RANGE', 'nice 1.5');
  expectCode(() => setThreadPoolNice('3' as never), TypeError, 'ERR_INVALID_ARG_TYPE', 'nice type');
  // The raw binding re-checks what it is given: a wrong direct call throws instead of crashing.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { native } = require('../lib/native') as typeof import('../lib/native');
  expectCode(() => native.loadBatch({} as never), TypeError, 'ERR_INVALID_ARG_TYPE', 'raw empty');
  expectCode(() => native.loadBatch({ n: 1, h: 1, w: 1, c: 1, dtype: 'uint8', layout: 'NHWC', normalize: false, scale: 1,
    mean: new Float64Array(1), std: new Float64Array(1), fillOnError: false, sources: [{ not: 'a reader' }] as never,
    items: new Float64Array(12), out: undefined }), TypeError, 'ERR_INVALID_ARG_TYPE', 'raw source');
  frames.close();
});

// The nice level of each running pool thread ("nds-pool" in /proc/self/task/*/comm) and of this
// (the JS) thread, from /proc/<pid>/task/<tid>/stat (field 19).
function niceLevels(): { js: number; pool: number[] } {
  const niceOf = (tid: string) => {
    const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  };
  const pool: number[] = [];
  for (const tid of fs.readdirSync('/proc/self/task')) {
    try {
      if (fs.readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim() === 'nds-pool') pool.push(niceOf(tid));
    } catch {
      // a thread that ended meanwhile
    }
  }
  return { js: niceOf(String(process.pid)), pool };
}

function setpriorityAllowed(): boolean {
  try {
    os.setPriority(os.getPriority());  // this thread's own level again: refused only by a sandbox
    return true;
  } catch {
    return false;
  }
}

test('messages say what happened and what to pass: channels, boundless, sparse requests, too large (issue 19)', async () => {
  const rgba = writeImage(path.join(root, 'rgba.png'), makeArray(H, W, 4, 'uint8', (y, x, c) => (y + x + c) % 256));
  const frames = new SimpleFrames({ ...files, rgba }, { workdir: path.join(root, 'messages'), backend: 'npy' });
  try {
    const region: Region = [[0, 24], [0, 32]];
    const mixed = await expectCodeAsync(() => frames.loadBatch([{ imageId: 'a', region }, { imageId: 'a', region }, { imageId: 'rgba', region }]),
      RegionError, 'ERR_REGION', '3 and 4 channels');
    assert.match(mixed.message, /requests\[2\] gives a crop of 24 x 32 x 4 .* requests\[0\] gives 24 x 32 x 3/);
    assert.match(mixed.message, /4 channels where the first gives 3: pass `channels`/);
    assert.match(mixed.message, /or a channel slice in the region \(e\.g\. \[\[y0, y1\], \[x0, x1\], \[0, 3\]\]\)/);
    // The fix it names works (these images have no channel names: the slice).
    const fixed = await frames.loadBatch([{ imageId: 'a', region }, { imageId: 'rgba', region: [[0, 24], [0, 32], [0, 3]] }]);
    assert.equal(fixed.dims, [2, 24, 32, 3]);
    const neg = await expectCodeAsync(() => frames.loadBatch([{ imageId: 'a', region: [[-10, 14], [0, 32]] }]), RegionError, 'ERR_REGION', 'negative start');
    assert.match(neg.message, /requests\[0\] selects an empty crop \(0 x 32 x 3, H x W x C\) with region \[\[-10, 14\], \[0, 32\]\]/);
    assert.match(neg.message, /negative bound counts from the end .* pass `boundless: true`/);
    const ok = await frames.loadBatch([{ imageId: 'a', region: [[-10, 14], [0, 32]] }], { boundless: true });
    assert.equal(ok.dims, [1, 24, 32, 3], 'with boundless: true the window is read padded');
    const cut = await expectCodeAsync(() => frames.loadBatch([{ imageId: 'a', region }, { imageId: 'a', region: [[50, 74], [0, 32]] }]),
      RegionError, 'ERR_REGION', 'cut at the border');
    assert.match(cut.message, /requests\[1\] gives a crop of 11 x 32 x 3 .* region \[\[50, 74\], \[0, 32\]\] was cut at the image's border.*`boundless: true`/);
    const sparse: BatchRequest[] = new Array(3);
    sparse[0] = { imageId: 'a', region };
    sparse[2] = { imageId: 'a', region };
    const hole = await expectCodeAsync(() => frames.loadBatch(sparse), TypeError, 'ERR_INVALID_ARG_TYPE', 'sparse requests');
    assert.match(hole.message, /^Expected an object \{imageId, region, channels\} \(requests is sparse: this index is a hole\) for requests\[1\] but received no value$/);
    const big = await expectCodeAsync(() => frames.loadBatch([{ imageId: 'a', region: [[0, 100000], [0, 100000]] }], { boundless: true }),
      NdsamplerError, 'ERR_TOO_LARGE', 'a batch over one typed array');
    assert.match(big.message, /1 crops of 100000 x 100000 x 3 uint8: 30000000000 elements, more than the 4294967296/);
    const dt = await expectCodeAsync(() => frames.loadBatch([{ imageId: 'a', region }], { out: new Float32Array(24 * 32 * 3) }), RegionError, 'ERR_OUT_BUFFER', 'out dtype');
    assert.match(dt.message, /dtype 'uint8' \(the batch's\) for options.out but received Float32Array \(dtype 'float32'\)/);
  } finally {
    frames.close();
  }
});

test('pool threads run below the JS thread (default 10 levels); setThreadPoolNice replaces them; pixels unchanged', async () => {
  const frames = framesFor('npy');
  const before = threadPoolNice();
  const sizeBefore = threadPoolSize();
  try {
    assert.is(before, 10, 'the default');
    setThreadPoolSize(2);
    const ref = await frames.loadBatch(CROPS, { dtype: 'float32', layout: 'NCHW' });
    const data = new Float32Array(ref.data as Float32Array);
    for (const nice of [10, 3, 0, 19]) {
      setThreadPoolNice(nice);
      assert.is(threadPoolNice(), nice);
      const b = await frames.loadBatch(CROPS, { dtype: 'float32', layout: 'NCHW' });
      assert.equal(b.data, data, `pixels at nice ${nice}`);
      if (process.platform !== 'linux') continue;
      // Replaced threads leave after their current task, and a new thread names itself and
      // lowers its priority as it starts: wait (up to 2 s) until only the new ones remain.
      // (A sandbox that refuses setpriority leaves the threads at the JS thread's level.)
      let levels = niceLevels();
      const expected = setpriorityAllowed() ? Math.min(19, levels.js + nice) : levels.js;
      for (let k = 0; k < 200 && !(levels.pool.length === 2 && levels.pool.every((l) => l === expected)); k++) {
        await new Promise((r) => setTimeout(r, 10));
        levels = niceLevels();
      }
      assert.equal(levels.pool, [expected, expected], `nice ${nice}`);
    }
  } finally {
    setThreadPoolNice(before);
    setThreadPoolSize(sizeBefore);
    frames.close();
  }
});

test('a batch on already-open readers plans without promises; errors keep their index', async () => {
  const frames = framesFor('npy');
  await frames.loadBatch(CROPS);  // opens the readers: the next batches take the synchronous plan
  const again = await frames.loadBatch(CROPS);
  for (let i = 0; i < CROPS.length; i++) {
    const one = frames.loadRegion(CROPS[i].imageId, CROPS[i].region as Region) as NDArray;
    const slot = (again.data as Uint8Array).subarray(i * one.data.length, (i + 1) * one.data.length);
    assert.equal(slot, one.data, `crop ${i}`);
  }
  // A bad request among good ones: with onError 'fill' it is listed at its index, else it rejects.
  const mixed = [CROPS[0], { imageId: 'nope', region: CROPS[1].region }, CROPS[2]];
  const b = await frames.loadBatch(mixed, { onError: 'fill', fill: 7 });
  assert.equal(b.errors.map((e) => [e.index, e.error.code]), [[1, 'ERR_UNKNOWN_IMAGE']]);
  await expectCodeAsync(() => frames.loadBatch(mixed), FramesError, 'ERR_UNKNOWN_IMAGE');
  frames.close();
});

test('typed array data for onnxruntime: dims and dtype name', async () => {
  const frames = framesFor('npy');
  const b = await frames.loadBatch(CROPS, { dtype: 'float32', layout: 'NCHW' });
  assert.equal(b.dims, [5, 3, 24, 32]);
  assert.is(b.dtype, 'float32');
  assert.is((b.data as TypedArray).length, b.dims.reduce((a, x) => a * x, 1));
  frames.close();
});

test.run();
