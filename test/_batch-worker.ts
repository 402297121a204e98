// Worker side of batch.test.ts: starts many batches and tells the parent, which terminates this
// thread while they are in flight.
import { parentPort, workerData } from 'node:worker_threads';
import type { BatchRequest } from '../lib/frames/batch';
import { SimpleFrames } from '../lib/frames/simple-frames';

const { files, workdir } = workerData as { files: Record<string, string>; workdir: string };
const frames = new SimpleFrames(files, { workdir, backend: 'npy' });
const requests: BatchRequest[] = Array.from({ length: 32 }, (_, i) => ({ imageId: 'a', region: [[i % 8, i % 8 + 40], [0, 48]] }));
void frames.loadBatch(requests, { dtype: 'float32' }).then(() => {
  for (let i = 0; i < 200; i++) {
    frames.loadBatch(requests, { dtype: 'float32', layout: 'NCHW', normalize: { scale: 1 / 255 } }).catch(() => undefined);
  }
  parentPort?.postMessage('started');
});
