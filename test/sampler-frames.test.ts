/**
 * frames.sampler over real images and the native loadBatch: every batch's pixels are the crops the
 * plan names; the same seed gives the same batches whatever the thread-pool size; a resumed sampler
 * continues exactly where a stopped one was; ranks split each epoch disjointly and completely;
 * buffers are recycled as documented; it runs inside a worker thread.
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { setThreadPoolSize, SimpleFrames, threadPoolSize, writeNpy, writeRaster } from '../lib';
import type { Batch, SamplerState } from '../lib';
import { tempDir } from './_helpers/tmp';

const { dir, cleanup } = tempDir('sampler');
const N = 9;
const paths: Record<number, string> = {};
// Channel 0 names the image, channel 1 encodes the position: a crop's first pixel says where it came from.
for (let i = 1; i <= N; i++) {
  const H = 40 + i * 7;
  const W = 50 + i * 5;
  const data = new Uint8Array(H * W * 2);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) { data[(y * W + x) * 2] = i; data[(y * W + x) * 2 + 1] = (y * 16 + x) % 251; }
  const a = { data, shape: [H, W, 2] as [number, number, number], strides: [W * 2, 2, 1] as [number, number, number], offset: 0, dtype: 'uint8' as const };
  paths[i] = path.join(dir, `img${i}.${i % 2 ? 'png' : 'npy'}`);
  if (i % 2) writeRaster(paths[i], a); else writeNpy(paths[i], a);
}
const size: [number, number] = [16, 24];
/** What each crop of a batch is: "image:position code" from its first pixel (NHWC uint8). */
function tags(b: Batch): string[] {
  const [n, h, w, c] = b.dims;
  return Array.from({ length: n }, (_, k) => `${b.data[k * h * w * c]}:${b.data[k * h * w * c + 1]}`);
}
async function run(frames: SimpleFrames, opts: Record<string, unknown>, take = Infinity): Promise<{ seq: string[][]; state: SamplerState }> {
  const s = frames.sampler({ size, batchSize: 4, ...opts } as never);
  const seq: string[][] = [];
  for await (const b of s) {
    seq.push(tags(b));
    if (seq.length >= take) break;
  }
  return { seq, state: s.state() };
}

for (const backend of [null, 'npy', 'cog'] as const) {
  test(`batches hold exactly the planned crops, deterministic across thread-pool sizes (backend ${String(backend)})`, async () => {
    const f = new SimpleFrames(paths, { workdir: path.join(dir, 'w'), backend });
    const before = threadPoolSize();
    try {
      setThreadPoolSize(1);
      const one = await run(f, { seed: 5, epochs: 3 });
      setThreadPoolSize(2);
      const two = await run(f, { seed: 5, epochs: 3, prefetch: 4 });
      assert.equal(two.seq, one.seq, 'same batches on 1 and 2 threads, prefetch 2 and 4');
      assert.is(one.seq.flat().length, 3 * N, 'one random crop per image per epoch');
      for (let e = 0; e < 3; e++) {
        const ids = one.seq.flat().slice(e * N, (e + 1) * N).map((t) => Number(t.split(':')[0])).sort((a, b) => a - b);
        assert.equal(ids, Array.from({ length: N }, (_, i) => i + 1), `epoch ${e} visits every image once`);
      }
      const other = await run(f, { seed: 6, epochs: 1 });
      assert.not.equal(other.seq, one.seq.slice(0, other.seq.length), 'another seed, other batches');
    } finally {
      setThreadPoolSize(before);
      f.close();
    }
  });
}

test('resume continues exactly where the sampler stopped (mid-epoch), through JSON', async () => {
  const f = new SimpleFrames(paths, { workdir: path.join(dir, 'w'), backend: 'npy' });
  const whole = await run(f, { seed: 9, epochs: 2 });
  const first = await run(f, { seed: 9, epochs: 2 }, 2);
  const state = JSON.parse(JSON.stringify(first.state)) as SamplerState;
  assert.is(state.position, 8);
  const rest = await run(f, { seed: 9, epochs: 2, resume: state });
  assert.equal([...first.seq, ...rest.seq], whole.seq);
  f.close();
});

test('ranks: each epoch split disjointly and completely', async () => {
  const f = new SimpleFrames(paths, { workdir: path.join(dir, 'w'), backend: 'npy' });
  const whole = (await run(f, { seed: 4, epochs: 1, regions: 'grid' })).seq.flat();
  const parts = await Promise.all([0, 1, 2].map(async (rank) => (await run(f, { seed: 4, epochs: 1, regions: 'grid', rank, worldSize: 3 })).seq.flat()));
  assert.equal(parts.flat().sort(), [...whole].sort());
  f.close();
});

test('buffers are recycled: a full batch reuses the memory of the batch prefetch + 2 before it', async () => {
  const f = new SimpleFrames(paths, { workdir: path.join(dir, 'w'), backend: 'npy' });
  const s = f.sampler({ size, batchSize: 2, seed: 1, epochs: 4, prefetch: 1 });
  const buffers: ArrayBufferLike[] = [];
  for await (const b of s) buffers.push(b.data.buffer);
  assert.ok(buffers.length >= 8);
  assert.ok(buffers[3] === buffers[0], 'batch 3 reuses batch 0\'s memory (ring of prefetch + 2)');
  assert.ok(new Set(buffers.slice(0, 3)).size === 3, 'three buffers in the ring');
  f.close();
});

test('a sampler runs inside a worker thread', async () => {
  const f = new SimpleFrames(paths, { workdir: path.join(dir, 'w'), backend: 'npy' });
  const want = (await run(f, { seed: 2, epochs: 1 })).seq;
  const lib = path.resolve(__dirname, '../lib/index.ts');
  const code = `
    require('tsx/cjs');
    const { parentPort, workerData } = require('node:worker_threads');
    const { Frames } = require(workerData.lib);
    (async () => {
      const f = Frames.fromJSON(workerData.json);
      const seq = [];
      for await (const b of f.sampler({ size: [16, 24], batchSize: 4, seed: 2, epochs: 1 })) {
        const [n, h, w, c] = b.dims;
        seq.push(Array.from({ length: n }, (_, k) => b.data[k * h * w * c] + ':' + b.data[k * h * w * c + 1]));
      }
      parentPort.postMessage(seq);
    })();`;
  const got = await new Promise((resolve, reject) => {
    const w = new Worker(code, { eval: true, workerData: { lib, json: f.toJSON() } });
    w.once('message', (m) => { resolve(m); void w.terminate(); });
    w.once('error', reject);
  });
  assert.equal(got, want);
  f.close();
});

test('sampler options are checked', () => {
  const f = new SimpleFrames(paths, { workdir: path.join(dir, 'w'), backend: 'npy' });
  assert.throws(() => f.sampler({ size, batchSize: 2, out: new Uint8Array(4) } as never), (e: Error & { code?: string }) => e.code === 'ERR_INVALID_ARG_TYPE');
  assert.throws(() => f.sampler({ size, batchSize: 2, prefetch: -1 }), (e: Error & { code?: string }) => e.code === 'ERR_OUT_OF_RANGE');
  assert.throws(() => f.sampler({ size, batchSize: 2, bogus: 1 } as never), (e: Error & { code?: string }) => e.code === 'ERR_INVALID_ARG_TYPE');
  f.close();
});

test.after(cleanup);
test.run();
