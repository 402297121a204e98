// Worker side of frames-worker.test.ts: revives a Frames object from its JSON and reads regions.
import { parentPort, workerData } from 'node:worker_threads';
import { Frames } from '../lib/frames/frames';
import type { FramesJSON } from '../lib/frames/frames';
import type { Region } from '../lib/region';
import { SimpleFrames } from '../lib/frames/simple-frames';

interface Job { json: FramesJSON | string; regions: Array<{ imageId: number; region: Region | null }> }

async function main(): Promise<void> {
  const job = workerData as Job;
  let hashes = 0;
  const real = Frames.buildFileHashid;
  Frames.buildFileHashid = (root, suffix, mode) => {
    hashes++;
    return real.call(Frames, root, suffix, mode);
  };
  const frames = Frames.fromJSON(job.json);
  const crops = job.regions.map((r) => frames.loadRegion(r.imageId, r.region));
  const asyncCrops = await frames.loadRegions(job.regions);
  const report = await frames.prepare();
  parentPort?.postMessage({
    className: frames.constructor.name,
    isSimple: frames instanceof SimpleFrames,
    cacheDpath: frames.cacheDpath,
    backend: frames.backend,
    hashidMode: frames.hashidMode,
    imageIds: frames.imageIds,
    crops,
    asyncCrops,
    report: { built: report.built, reused: report.reused, failed: report.failed.length, fromStamp: report.fromStamp },
    hashes,
  });
  frames.close();
}

main().catch((err: unknown) => {
  parentPort?.postMessage({ error: String((err as Error)?.stack ?? err) });
});
