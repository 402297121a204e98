/**
 * The soak section (`npm run bench -- soak`; only when asked for by name, never in CI): a process
 * that reads forever must level off. 10^6 random crops (NDS_SOAK_OPS) over 10^4 small images
 * (NDS_SOAK_IMAGES) through Frames on each backend: npy sync, npy async, npy zero-copy views
 * (`loadImage` on the npy backend), cog sync, cog async. Every tenth of a series it samples, after
 * a full GC: RSS, the V8 heap, external + ArrayBuffer memory, open file descriptors and memory
 * mappings (/proc/self/fd, /proc/self/maps). The verdict: the series levels off when, over its last
 * half, RSS and the heap grow less than GROWTH_PCT, descriptors by at most SLACK and mappings by
 * at most MAPS_PCT. The sources are 64x64x3 uint8 GeoTIFFs written once with writeRaster into
 * bench/data/soak/src; the cache entries are built once by prepare() into bench/data/soak/work.
 * NDS_SOAK_SERIES="npy view;cog sync" runs some series only; NDS_SOAK_COG_OPS shortens the cog ones.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SimpleFrames, writeRaster } from '../dist';
import type { NDArray } from '../dist';
import type { Row } from './run';

type ImageMaker = (H: number, W: number, C: number, seed: number) => NDArray;

const GROWTH_PCT = 10;
/** Descriptors / mappings the last half may gain (a libuv or GDAL thread's own, a lazily opened file). */
const SLACK = 4;
const MAPS_PCT = 2;

interface Sample { ops: number; rssMiB: number; heapMiB: number; extMiB: number; fds: number; maps: number }

/** After two full GCs with a turn of the event loop between them, so the finalizers of dead
 *  ArrayBuffers (which release mappings) have run. */
async function sample(ops: number): Promise<Sample> {
  const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
  gc();
  await new Promise(setImmediate);
  gc();
  await new Promise(setImmediate);
  const m = process.memoryUsage();
  const MiB = 2 ** 20;
  return {
    ops, rssMiB: m.rss / MiB, heapMiB: m.heapUsed / MiB, extMiB: (m.external + m.arrayBuffers) / MiB,
    fds: fs.readdirSync('/proc/self/fd').length,
    maps: fs.readFileSync('/proc/self/maps', 'utf8').split('\n').length - 1,
  };
}

/** Deterministic xorshift32 in [0, n). */
function rng(seed: number): (n: number) => number {
  let s = seed >>> 0 || 1;
  return (n) => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s % n; };
}

function sources(dir: string, n: number, make: ImageMaker, log: (s: string) => void): Record<number, string> {
  const src = path.join(dir, 'src');
  fs.mkdirSync(src, { recursive: true });
  const map: Record<number, string> = {};
  const t0 = Date.now();
  let made = 0;
  for (let i = 0; i < n; i++) {
    const p = path.join(src, `img${String(i).padStart(5, '0')}.tif`);
    if (!fs.existsSync(p)) { writeRaster(p, make(64, 64, 3, i + 1)); made++; }
    map[i + 1] = p;
  }
  if (made) log(`  wrote ${made} 64x64x3 sources in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return map;
}

export async function benchSoak(dataDir: string, make: ImageMaker, log: (s: string) => void, record: (r: Row) => void): Promise<void> {
  const nImages = Number(process.env.NDS_SOAK_IMAGES ?? 1e4);
  const nOpsAll = Number(process.env.NDS_SOAK_OPS ?? 1e6);
  log(`\n## soak: ${nOpsAll} random crops over ${nImages} images per series; RSS, heap, fds, maps every tenth`);
  const dir = path.join(dataDir, 'soak');
  const map = sources(dir, nImages, make, log);
  const workdir = path.join(dir, 'work');
  // cog reads open a GDAL dataset on nearly every op (10^4 images, 32 open readers): ~0.7 ms/op,
  // so NDS_SOAK_COG_OPS may shorten those two series.
  const cogOps = Number(process.env.NDS_SOAK_COG_OPS ?? nOpsAll);
  type Mode = 'sync' | 'async' | 'view' | 'view, no yield';
  const all: Array<['npy' | 'cog', Mode]> = [['npy', 'sync'], ['npy', 'async'], ['npy', 'view'], ['npy', 'view, no yield'], ['cog', 'sync'], ['cog', 'async']];
  const only = process.env.NDS_SOAK_SERIES?.split(';');
  const series = all.filter(([b, m]) => !only || only.includes(`${b} ${m}`));
  for (const [backend, mode] of series) {
    const nOps = backend === 'cog' ? cogOps : nOpsAll;
    const frames = new SimpleFrames(map, { workdir, backend });
    const tp = Date.now();
    const rep = await frames.prepare({ workers: 2 });
    if (Date.now() - tp > 2000) log(`  prepared the ${backend} cache in ${((Date.now() - tp) / 1000).toFixed(1)} s`);
    if (rep.failed?.length) throw new Error(`soak: prepare failed for ${rep.failed.length} images`);
    const rand = rng(backend === 'npy' ? 11 : 13);
    const crop = (): [number, [number, number][]] => {
      const h = 1 + rand(48), w = 1 + rand(48);
      const y = rand(64 - h + 1), x = rand(64 - w + 1);
      return [1 + rand(nImages), [[y, y + h], [x, x + w]]];
    };
    const step = Math.max(1, Math.floor(nOps / 10));
    const samples: Sample[] = [await sample(0)];
    const t0 = process.hrtime.bigint();
    let sink = 0;
    let died = '';
    if (mode === 'sync') {
      for (let i = 1; i <= nOps; i++) {
        const [id, region] = crop();
        sink += frames.loadRegion(id, region).data[0] as number;
        if (i % step === 0) samples.push(await sample(i));
      }
    } else if (mode === 'view' || mode === 'view, no yield') {
      // Zero-copy views of the mapped entries; the last 64 stay alive, so mappings outlive their
      // reader in the pool and are released only when their views are collected. 'view' yields
      // to the event loop every 1000 ops (as an async program does), 'view, no yield' never
      // between samples (a synchronous loop): that one may stop with an error, recorded as found.
      const live: NDArray[] = new Array(64);
      const yieldEvery = mode === 'view' ? 1000 : 0;
      for (let i = 1; i <= nOps; i++) {
        try {
          const v = frames.loadImage(1 + rand(nImages)) as NDArray;
          live[i & 63] = v;
          sink += v.data[rand(64 * 64 * 3)] as number;
        } catch (err) {
          const e = err as { code?: string; message?: string };
          died = `died at op ${i}: ${e.code ?? ''} ${String(e.message).slice(0, 60)}…`;
          live.fill(undefined as unknown as NDArray);
          samples.push(await sample(i));
          break;
        }
        if (yieldEvery && i % yieldEvery === 0) await new Promise(setImmediate);
        if (i % step === 0) samples.push(await sample(i));
      }
    } else {
      const inflight = 16;  // a bounded number of reads in flight, as a data loader keeps
      // Runs of `step` reads, sampled between runs (with nothing in flight).
      for (let done = 0; done < nOps;) {
        const end = Math.min(nOps, done + step);
        let issued = done;
        await new Promise<void>((resolve, reject) => {
          let settled = done;
          const next = (): void => {
            if (issued >= end) { if (settled === end) resolve(); return; }
            issued++;
            const [id, region] = crop();
            frames.loadRegionAsync(id, region).then((a) => {
              sink += a.data[0] as number;
              settled++;
              next();
            }, reject);
          };
          for (let k = 0; k < inflight; k++) next();
        });
        done = end;
        samples.push(await sample(done));
      }
    }
    const opsDone = samples[samples.length - 1].ops;  // the last sample is at the end, or at the failing op
    const usPerOp = Number(process.hrtime.bigint() - t0) / 1e3 / Math.max(1, opsDone);
    frames.close();
    const half = samples[Math.floor(samples.length / 2)];
    const last = samples[samples.length - 1];
    const pct = (a: number, b: number) => (100 * (b - a)) / a;
    const rssGrowth = pct(half.rssMiB, last.rssMiB);
    const heapGrowth = pct(half.heapMiB, last.heapMiB);
    // Mappings: V8's heap pages and malloc arenas move the count by tens either way (the cog series
    // dropped 74 in one half), so mappings may also move MAPS_PCT; a leak of one per read does not.
    const pass = !died && rssGrowth < GROWTH_PCT && heapGrowth < GROWTH_PCT && last.fds - half.fds <= SLACK &&
      last.maps - half.maps <= Math.max(SLACK, (MAPS_PCT / 100) * half.maps);
    log(`  ${backend} ${mode}: ${opsDone} ops, ${usPerOp.toFixed(2)} µs/op (sink ${sink % 10})${died ? `; ${died}` : ''}`);
    log('    ops        RSS MiB  heap MiB  ext+AB MiB  fds   maps');
    for (const s of samples) {
      log(`    ${String(s.ops).padEnd(10)} ${s.rssMiB.toFixed(1).padStart(7)} ${s.heapMiB.toFixed(1).padStart(9)} ${s.extMiB.toFixed(1).padStart(11)} ${String(s.fds).padStart(5)} ${String(s.maps).padStart(6)}`);
    }
    record({
      section: 'soak', case: `${backend} ${mode}, ${opsDone} ops: RSS at the end`, ours: last.rssMiB, unit: 'MiB',
      peers: {
        'RSS at 0': samples[0].rssMiB, 'RSS last-half growth %': rssGrowth,
        'heap at end MiB': last.heapMiB, 'heap last-half growth %': heapGrowth, 'ext+AB at end MiB': last.extMiB,
        'fds half → end': last.fds - half.fds, 'maps half → end': last.maps - half.maps, 'µs/op': usPerOp,
      },
      target: `last half: RSS, heap < +${GROWTH_PCT}%; fds ≤ +${SLACK}; maps ≤ +${MAPS_PCT}%`, pass,
      note: `${died ? died + '; ' : ''}fds ${samples[0].fds} / ${half.fds} / ${last.fds}; maps ${samples[0].maps} / ${half.maps} / ${last.maps}`,
    });
  }
}
