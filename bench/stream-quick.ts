// Quick event-loop check (issue 10): a sampler streaming batches of 32 random 224x224 crops of the
// 8192² npy (NCHW float32 normalised) against an idle loop of the same length, for pool sizes given
// on the command line (a size given twice measures twice in one process: the second run is after
// the JIT has settled). NDS_NICE=n sets setThreadPoolNice(n) first; WARM=k streams k batches
// before the first measurement (default 20).
// node -r tsx/cjs bench/stream-quick.ts [batches] [threads...]
import * as path from 'node:path';
import { loopDelay } from './timing';

async function main(): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const nds = require('../dist') as typeof import('../dist');
  const npyFile = path.join(__dirname, 'data', 'img8192.npy');
  const n = Number(process.argv[2] ?? 1000);
  const pools = process.argv.slice(3).map(Number);
  if (process.env.NDS_NICE !== undefined) nds.setThreadPoolNice(Number(process.env.NDS_NICE));
  const norm = { scale: 1 / 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
  const ids = Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`img${i}`, npyFile]));
  const frames = new nds.SimpleFrames(ids, { backend: null, workdir: path.join(__dirname, 'data') });
  const stream = async (k: number) => {
    let i = 0;
    for await (const b of frames.sampler({ size: [224, 224], batchSize: 32, seed: 3, epochs: Infinity, layout: 'NCHW', dtype: 'float32', normalize: norm })) {
      if (b.dims[0] !== 32) throw new Error('short batch');
      if (++i === k) break;
    }
  };
  const measure = loopDelay;
  for (const t of pools.length ? pools : [nds.threadPoolSize()]) {
    nds.setThreadPoolSize(t);
    await stream(Number(process.env.WARM ?? 20));
    const busy = await measure(() => stream(n));
    const idle = await measure(() => new Promise((r) => setTimeout(r, busy.ms)));
    console.log(`pool ${t}: ${n} batches ${busy.ms.toFixed(0)} ms; p99 ${busy.p99.toFixed(2)} ms (idle ${idle.p99.toFixed(2)}), max ${busy.max.toFixed(2)} (idle ${idle.max.toFixed(2)})`);
  }
  frames.close();
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
