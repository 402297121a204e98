// Quick cold-COG batch check (issue 10): ours (tile cache off) vs gdal-async readAsync with 8 crops
// in flight, GDAL's block cache flushed (ds.flush()) after every peer batch so it decodes too.
// node -r tsx/cjs bench/cold-quick.ts [rounds]
import * as path from 'node:path';
import { randomCrops } from './timing';
import type { Batch, Region } from '../dist';

const median = (a: number[]): number => [...a].sort((x, y) => x - y)[a.length >> 1];
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

async function main(): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const nds = require('../dist') as typeof import('../dist');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const gdal = require('gdal-async');
  const cogFile = path.join(__dirname, 'data', 'img8192.auto.cog.tif');
  const N = 64, S = 224, ROUNDS = Number(process.argv[2] ?? 15);
  const batches = Array.from({ length: ROUNDS + 1 }, (_, k) => randomCrops(8192, 8192, S, S, N, 100 + k));
  const reqs = (k: number) => batches[k % batches.length].map(([y0, y1, x0, x1]) => ({ imageId: 'img', region: [[y0, y1], [x0, x1]] as Region }));
  const frames = new nds.SimpleFrames({ img: cogFile }, { backend: null, workdir: path.join(__dirname, 'data') });
  nds.setTileCacheBudget(0);
  const ours = async (threads: number) => {
    nds.setThreadPoolSize(threads);
    let out: Batch | undefined;
    return perRunUs(ROUNDS, async (k) => {
      out = await frames.loadBatch(reqs(k), { out });
    });
  };
  const ds = gdal.open(cogFile);
  const bands = [1, 2, 3].map((b) => ds.bands.get(b));
  const gdalBatch = async (k: number, flush: boolean) => {
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
  for (let rep = 0; rep < 2; rep++) {
    const c1 = await ours(1);
    const c2 = await ours(2);
    const gCold = await perRunUs(ROUNDS, (k) => gdalBatch(k, true));
    const gWarm = await perRunUs(ROUNDS, (k) => gdalBatch(k, false));
    console.log(`ours 1 thr ${c1.toFixed(0)}  2 thr ${c2.toFixed(0)} (${(c1 / c2).toFixed(2)}x)  gdal-async flushed ${gCold.toFixed(0)} (${(gCold / c2).toFixed(2)}x)  gdal-async unflushed ${gWarm.toFixed(0)} (${(gWarm / c2).toFixed(2)}x)  GDAL_CACHEMAX ${gdal.config.get('GDAL_CACHEMAX')}`);
  }
  ds.close();
  frames.close();
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
