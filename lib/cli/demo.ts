/** `ndsampler demo`: the demo images through every backend, checked and timed. */
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { defaultWorkdir } from '../frames/pathinfo';
import { SimpleFrames, DEFAULT_CHANNEL } from '../frames/simple-frames';
import { hasDriver } from '../gdal';
import type { NDArray } from '../ndarray';
import { toContiguous } from '../ndarray';
import { cocoDemo } from './coco';
import { labeledDemo } from './show';
import { describeError, err, help, out, parse, workdirArg } from './args';

/** A small deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function sameArray(a: NDArray, b: NDArray): boolean {
  if (a.shape.some((n, i) => n !== b.shape[i]) || a.dtype !== b.dtype) return false;
  const x = toContiguous(a).data;
  const y = toContiguous(b).data;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

type Crop = { id: number; region: [[number, number], [number, number]] };

function crops(frames: SimpleFrames, size: number, n: number, seed: number): Crop[] {
  const r = rng(seed);
  const ids = frames.imageIds as number[];
  const shapes = new Map(ids.map((id) => [id, frames.loadFrame(id).shape]));
  const list: Crop[] = [];
  for (let i = 0; i < n; i++) {
    const id = ids[Math.floor(r() * ids.length)];
    const [h, w] = shapes.get(id) as number[];
    const ch = Math.min(size, h);
    const cw = Math.min(size, w);
    const y = Math.floor(r() * (h - ch + 1));
    const x = Math.floor(r() * (w - cw + 1));
    list.push({ id, region: [[y, y + ch], [x, x + cw]] });
  }
  return list;
}

/** Median time per call (µs) over batches of calls, after a warm-up pass. */
function timeOps(n: number, fn: (i: number) => void, batch = 10): number {
  for (let i = 0; i < n; i++) fn(i);  // warm-up: JIT, page cache, mappings, tile cache
  const times: number[] = [];
  for (let i = 0; i < n; i += batch) {
    const m = Math.min(batch, n - i);
    const t = performance.now();
    for (let k = 0; k < m; k++) fn(i + k);
    times.push(((performance.now() - t) * 1000) / m);
  }
  return median(times);
}

const fmtUs = (us: number) => (us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(1)} µs`);

export async function cmdDemo(args: string[]): Promise<number> {
  const { values } = parse(args, { workdir: { type: 'string' } }, [0, 0]);
  if (values.help) return help();
  const workdir = workdirArg(values.workdir, path.join(defaultWorkdir(), 'demo'), true);
  const base = SimpleFrames.demo({ workdir });
  const ids = base.imageIds;
  out(`demo images (${ids.length}): ${path.dirname(base.lookupPathinfo(ids[0]).channels[DEFAULT_CHANNEL].path)}`);
  for (const id of ids) {
    const [h, w, c] = base.loadFrame(id).shape;
    out(`  image ${id}: ${h} x ${w} x ${c} uint8`);
  }
  const backends: Array<'npy' | 'cog' | null> = [null, 'npy'];
  if (hasDriver('COG')) backends.push('cog');
  else out('(GDAL has no COG driver here: skipping the cog backend)');
  const small = crops(base, 32, 2000, 1);
  const large = crops(base, 224, 300, 2);
  const rows: string[][] = [];
  const reference: NDArray[] = small.slice(0, 20).map((c) => base.loadRegion(c.id, c.region));
  for (const backend of backends) {
    const frames = SimpleFrames.demo({ workdir, backend });
    let prep = '-';
    let status = 'no cache';
    if (backend !== null) {
      const report = await frames.prepare({ workers: 2, useStamp: false });
      if (report.failed.length > 0) {
        for (const f of report.failed) err(`failed: image ${String(f.imageId)}: ${describeError(f.error)}`);
        return 1;
      }
      prep = `${(report.seconds * 1000).toFixed(1)} ms`;
      status = `${report.built} built, ${report.reused} reused`;
    }
    for (let i = 0; i < reference.length; i++) {
      const got = frames.loadRegion(small[i].id, small[i].region);
      if (!sameArray(got, reference[i])) {
        err(`backend ${backend}: crop ${i} differs from the source pixels`);
        return 1;
      }
    }
    const nSmall = backend === null ? 40 : small.length;
    const nLarge = backend === null ? 20 : large.length;
    const tSmall = timeOps(nSmall, (i) => frames.loadRegion(small[i].id, small[i].region));
    const tLarge = timeOps(nLarge, (i) => frames.loadRegion(large[i].id, large[i].region));
    const tFull = timeOps(backend === null ? 10 : 200, (i) => frames.loadImage(ids[i % ids.length]));
    rows.push([backend ?? 'none', prep, status, fmtUs(tSmall), fmtUs(tLarge), fmtUs(tFull)]);
    frames.close();
  }
  const header = ['backend', 'prepare', 'entries', 'crop 32x32', 'crop 224x224', 'loadImage'];
  const widths = header.map((hd, i) => Math.max(hd.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  out('');
  out(line(header));
  out(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) out(line(r));
  out('');
  out('median time per call; crops are random, identical across backends (checked against the source pixels)');
  out('');
  out('kwcoco demo (rgb 1x, nir|swir 1/2, mask 1/4, feat:8 1/8; aligned onto the image grid):');
  const coco = backends.map((b) => cocoDemo(workdir, b, timeOps));
  const ch = ['backend', 'crop <all>', 'first', 'fused 224x224', 'scale 0.25 rgb|nir'];
  const cw = ch.map((hd, i) => Math.max(hd.length, ...coco.map((r) => r[i].length)));
  out(ch.map((c, i) => c.padEnd(cw[i])).join('  '));
  for (const r of coco) out(r.map((c, i) => c.padEnd(cw[i])).join('  '));
  out('');
  await labeledDemo(workdir);
  out(`workdir: ${workdir}`);
  return 0;
}

