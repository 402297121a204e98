/** The CLI's kwcoco handling: `prepare` and `info` of a (kw)coco dataset file, the demo's aligned crops. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { CocoFrames } from '../frames/coco-frames';
import type { BackendSpec, HashidMode } from '../frames/frames';
import { describeError, out } from './args';

/** True for a .json file whose top level is an object with an `images` list (a COCO dataset). */
export function isCocoDataset(file: string): boolean {
  if (!file.endsWith('.json') || !fs.existsSync(file)) return false;
  try {
    const d = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
    return typeof d === 'object' && d !== null && !Array.isArray(d) && Array.isArray((d as { images?: unknown }).images);
  } catch {
    return false;
  }
}

/** Prepares every asset of every image; returns the exit code. */
export async function cocoPrepare(file: string, o: { workdir: string; backend: BackendSpec; workers: number; hashidMode: HashidMode },
  onProgress: (done: number, total: number) => void): Promise<number> {
  const frames = new CocoFrames(file, { workdir: o.workdir, backend: o.backend, hashidMode: o.hashidMode });
  try {
    const report = await frames.prepare({ workers: o.workers, onProgress });
    out(`prepared ${frames.length} images (${report.built + report.reused} asset entries) of ${path.basename(file)} with the ` +
      `${frames.backend.type} backend in ${report.seconds.toFixed(2)} s: ${report.built} built, ${report.reused} reused, ${report.failed.length} failed`);
    out(`cache: ${report.cacheDpath}`);
    for (const f of report.failed) out(`failed: image ${String(f.imageId)}: ${describeError(f.error)}`);
    return report.failed.length > 0 ? 1 : 0;
  } finally {
    frames.close();
  }
}

/** Images, assets, channels and cache state of a dataset. */
export function cocoInfo(file: string, workdir: string, types: Array<'npy' | 'cog'>): number {
  const frames = types.map((t) => new CocoFrames(file, { workdir, backend: t }));
  const base = frames[0];
  out(`dataset: ${base.datasetPath}`);
  out(`bundle:  ${base.bundleDpath}`);
  out(`images:  ${base.length}`);
  let assets = 0;
  const built = new Map(types.map((t) => [t, 0]));
  for (const id of base.imageIds) {
    const img = base.image(id);
    const files = base.files(id);
    assets += files.length;
    out(`image ${String(id)}: ${img.width ?? '?'} x ${img.height ?? '?'}, ${files.length} file${files.length === 1 ? '' : 's'}`);
    const infos = frames.map((f) => f.lookupPathinfo(id));
    for (const key of Object.keys(infos[0].channels)) {
      const chan = infos[0].channels[key];
      const w = chan.warpAuxToImg;
      const scale = w ? `warp [[${w[0].join(', ')}], [${w[1].join(', ')}]]` : 'on the image grid';
      const state = types.map((t, i) => {
        const c = infos[i].channels[key].cache;
        const ok = typeof c === 'string' && fs.existsSync(c);
        if (ok) built.set(t, (built.get(t) as number) + 1);
        return `${t} ${c === null || c === undefined ? 'direct' : ok ? 'built' : 'not built'}`;
      });
      out(`  ${key}: ${chan.channels ?? '(unnamed)'}; ${path.relative(base.bundleDpath, chan.path)}; ${scale}; cache: ${state.join(', ')}`);
    }
  }
  out(`assets:  ${assets}; built: ${types.map((t) => `${t} ${built.get(t)}/${assets}`).join(', ')}`);
  for (const f of frames) f.close();
  return 0;
}

/** The demo's kwcoco part: aligned crops of every asset, timed; one table row. */
export function cocoDemo(workdir: string, backend: BackendSpec, timeOps: (n: number, fn: (i: number) => void) => number): string[] {
  const frames = CocoFrames.demo({ workdir, backend });
  try {
    const ids = frames.imageIds;
    const t0 = performance.now();
    const all = frames.loadRegion(ids[0], [[0, 224], [0, 224]], { channels: '<all>' });
    const first = performance.now() - t0;
    const n = 40;
    const fused = timeOps(n, (i) => frames.loadRegion(ids[i % ids.length], [[(i * 7) % 16, ((i * 7) % 16) + 224], [0, 224]], { channels: '<all>' }));
    const overview = timeOps(n, (i) => frames.loadRegion(ids[i % ids.length], [[0, 224], [0, 224]], { channels: 'rgb|nir', scale: 0.25 }));
    return [String(backend ?? 'none'), `${all.shape.join(' x ')} ${all.dtype}`, `${first.toFixed(1)} ms`, `${(fused / 1000).toFixed(2)} ms`, `${(overview / 1000).toFixed(2)} ms`];
  } finally {
    frames.close();
  }
}
