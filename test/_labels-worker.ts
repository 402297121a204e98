// Worker side of labels-batch.test.ts: starts many labeled batches with masks and tells the
// parent, which terminates this thread while their pixel and mask tasks are in flight.
import { parentPort, workerData } from 'node:worker_threads';
import { CocoSampler } from '../lib/labels/coco-sampler';

const { file } = workerData as { file: string };
const sampler = new CocoSampler(file);
const targets = sampler.positives({ windowDims: [48, 48] }).map((t, i) => ({ ...t, augment: { rot90: (i % 4) as 0 | 1 | 2 | 3 } }));
void sampler.loadBatch(targets, { masks: 'instance' }).then(() => {
  for (let i = 0; i < 100; i++) sampler.loadBatch(targets, { masks: 'instance', dtype: 'float32' }).catch(() => undefined);
  parentPort?.postMessage('started');
});
