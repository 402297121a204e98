/**
 * Quick timing of loadBatch's fused kernel (npy 8192², 64 crops of 224x224x3): µs per batch,
 * median of 15, 1 pool thread, for the cases of the kernel's fast paths; "same" reuses one set of
 * windows (pages mapped: the kernel alone), "random" new windows per batch (page faults too).
 *   node -r tsx/cjs bench/batch-quick.ts
 */
import * as path from 'node:path';
import { SimpleFrames, setThreadPoolSize } from '../lib';
import type { Batch, Region } from '../lib';

const file = path.join(__dirname, 'data', 'img8192.npy');
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}
function crops(n: number, seed: number): Region[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => {
    const y = Math.floor(r() * (8192 - 224)), x = Math.floor(r() * (8192 - 224));
    return [[y, y + 224], [x, x + 224]] as Region;
  });
}
async function main(): Promise<void> {
  setThreadPoolSize(1);
  const frames = new SimpleFrames({ img: file }, { backend: null });
  const norm = { scale: 1 / 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
  const cases: Array<[string, Parameters<typeof frames.loadBatch>[1]]> = [
    ['NCHW float32 normalised', { layout: 'NCHW', dtype: 'float32', normalize: norm }],
    ['NCHW float32', { layout: 'NCHW', dtype: 'float32' }],
    ['NHWC float32 normalised', { layout: 'NHWC', dtype: 'float32', normalize: norm }],
    ['NHWC uint8', { layout: 'NHWC', dtype: 'uint8' }],
    ['NCHW uint8', { layout: 'NCHW', dtype: 'uint8' }],
  ];
  const same = crops(64, 1);
  let seed = 1000;
  for (const [label, opts] of cases) {
    for (const mode of ['same', 'random']) {
      let out: Batch | undefined;
      const t: number[] = [];
      for (let k = 0; k < 16; k++) {
        const w = mode === 'same' ? same : crops(64, seed++);
        const t0 = process.hrtime.bigint();
        out = await frames.loadBatch(w.map((region) => ({ imageId: 'img', region })), { ...opts, out });
        if (k > 0) t.push(Number(process.hrtime.bigint() - t0) / 1e3);
      }
      t.sort((a, b) => a - b);
      process.stdout.write(`${(label + ', ' + mode).padEnd(36)} ${t[t.length >> 1].toFixed(0).padStart(7)} µs/batch\n`);
    }
  }
  frames.close();
}
void main();
