/**
 * The remote section (`npm run bench -- remote`; only when named: it starts servers and moves a
 * few hundred MiB over loopback). A published cache of one 8192² image (the cog entry prepare
 * builds from a tiled GeoTIFF, ~120 MiB) is read in place from a loopback HTTP server
 * (test/_remote-server.ts: Node http, Range, multipart/byteranges, ETag) that answers every
 * request after 20 ms, an injected latency; the same cache on an S3 stub (s3rver) gives the
 * S3 figures (no multi-range requests there) and GDAL's own /vsis3/ reader is the peer.
 *
 * - cold crop: a random 224x224x3 crop by loadRegionAsync on a reader that holds nothing of the
 *   object (frames.close() and clearRemoteCache() before each; the manifest stays loaded):
 *   median ms, requests per crop (counted by the server), and the event loop's longest tick gap;
 * - 64 cold crops in flight: one loadBatch of 64 random crops (and 64 loadRegionAsync at once),
 *   cold as above: ms, against 3x one cold crop, crops/s and requests;
 * - prepare --publish of 8 images, 2 shards in 2 processes against 1 process (S3 stub).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { NDArray } from '../dist';
import type { Row } from './run';
import { randomCrops } from './timing';

type ImageMaker = (H: number, W: number, C: number, seed: number) => NDArray;

const LATENCY_MS = 20;
const SIZE = 8192;
const CROP = 224;

const median = (xs: number[]): number => xs.slice().sort((p, q) => p - q)[xs.length >> 1];

export async function benchRemote(dataDir: string, make: ImageMaker, log: (s: string) => void, record: (r: Row) => void): Promise<void> {
  log(`\n## remote: a published 8192² COG over loopback HTTP (+${LATENCY_MS} ms per response) and an S3 stub`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const nds = require('../dist') as typeof import('../dist');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { startServer, useS3 } = require('../test/_remote-util') as typeof import('../test/_remote-util');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { readManifestAt } = require('../dist/remote/manifest') as typeof import('../dist/remote/manifest');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { uploadFile } = require('../dist/gdal') as typeof import('../dist/gdal');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { watchTicks } = require('../test/_remote-ticks') as typeof import('../test/_remote-ticks');

  const src = path.join(dataDir, 'remote-src8192.tif');
  if (!fs.existsSync(src)) {
    log('  generating remote-src8192.tif (8192² RGB, tiled DEFLATE GeoTIFF, not a COG)');
    nds.writeRaster(src, make(SIZE, SIZE, 3, 5), { creationOptions: { TILED: 'YES', COMPRESS: 'DEFLATE', BIGTIFF: 'IF_SAFER' } });
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nds-bench-remote-'));
  const www = path.join(tmp, 'www');
  fs.mkdirSync(www);
  const http = await startServer('http', www);
  const s3 = await startServer('s3', path.join(tmp, 's3'));
  try {
    useS3(s3.port, 'bkt', 'S3RVER', nds.setRemoteOptions);
    // Publish once to the S3 stub, then mirror the prefix into the HTTP server's folder.
    const wd = path.join(tmp, 'wd');
    const images = { 1: src };
    let t0 = performance.now();
    const rep = await new nds.SimpleFrames(images, { workdir: wd, backend: 'cog' }).prepare({ publish: 's3://bkt/cache' });
    if (rep.failed.length > 0) throw rep.failed[0].error;
    log(`  prepare --publish of the 8192² image: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const manifest = readManifestAt('s3://bkt/cache') as { entries: Record<string, { object: string }> };
    const copy = (key: string): void => {
      fs.mkdirSync(path.dirname(path.join(www, 'cache', key)), { recursive: true });
      uploadFile(`s3://bkt/cache/${key}`, path.join(www, 'cache', key));  // a download: either side may be remote
    };
    copy('manifest.json');
    for (const e of Object.values(manifest.entries)) copy(e.object);
    const objectKey = Object.values(manifest.entries)[0].object;
    // The readers use the same workdir (same keys) with the local entries gone.
    fs.rmSync(path.join(wd, '_cache'), { recursive: true, force: true });

    const crops = randomCrops(SIZE, SIZE, CROP, CROP, 64 * 4 + 21, 77);
    const region = (c: number[]): [[number, number], [number, number]] => [[c[0], c[1]], [c[2], c[3]]];

    for (const [label, server, prefix] of [['HTTP', http, `${http.base}/cache`], ['S3 stub', s3, 's3://bkt/cache']] as const) {
      await server.configure({ delay: LATENCY_MS });
      const frames = new nds.SimpleFrames(images, { workdir: wd, backend: 'cog', remoteCache: prefix });
      await frames.loadRegionAsync(1, region(crops[0]));  // the manifest, read once per Frames
      // cold crops, one at a time
      const one: number[] = [];
      let requests = 0;
      let gap = 0;
      for (let k = 1; k <= 21; k++) {
        frames.close();
        nds.clearRemoteCache();
        await server.reset();
        const w = watchTicks();
        const a = performance.now();
        await frames.loadRegionAsync(1, region(crops[k]));
        one.push(performance.now() - a);
        gap = Math.max(gap, w.stop());
        requests += (await server.stats()).requests;
      }
      const oneMs = median(one);
      record({ section: 'remote', case: `${label}: cold 224² crop of the published 8192² COG (loadRegionAsync)`, unit: 'ms', ours: oneMs,
        peers: { 'requests/crop': requests / 21, 'max tick gap ms': gap }, target: label === 'HTTP' ? '≤ 2 requests/crop' : undefined,
        pass: label === 'HTTP' ? requests / 21 <= 2 : undefined });
      // 64 cold crops in flight, by loadBatch and by 64 loadRegionAsync
      for (const how of ['loadBatch', 'loadRegionAsync x 64'] as const) {
        const times: number[] = [];
        let req = 0;
        let g = 0;
        for (let round = 0; round < 3; round++) {
          const set = crops.slice(22 + round * 64, 86 + round * 64);
          frames.close();
          nds.clearRemoteCache();
          await server.reset();
          const w = watchTicks();
          const a = performance.now();
          if (how === 'loadBatch') await frames.loadBatch(set.map((c) => ({ imageId: 1, region: region(c) })));
          else await Promise.all(set.map((c) => frames.loadRegionAsync(1, region(c))));
          times.push(performance.now() - a);
          g = Math.max(g, w.stop());
          req += (await server.stats()).requests;
        }
        const ms = median(times);
        record({ section: 'remote', case: `${label}: 64 cold crops in flight (${how})`, unit: 'ms', ours: ms,
          peers: { 'one cold crop ms': oneMs, 'x one crop': ms / oneMs, 'crops/s': 64_000 / ms, 'requests/crop': req / (3 * 64), 'max tick gap ms': g },
          target: '≤ 3x one cold crop', pass: ms <= 3 * oneMs });
      }
      frames.close();
      await server.configure({ delay: 0 });
    }

    // The peer: GDAL's own /vsis3/ reader, cold (open + read), no added latency.
    const obj = `/vsis3/bkt/cache/${objectKey}`;
    const cold: number[] = [];
    await s3.reset();
    for (let k = 0; k < 21; k++) {
      nds.clearRemoteCache();
      const c = crops[k];
      const a = performance.now();
      const r = nds.openImage(obj);
      r.read(region(c));
      cold.push(performance.now() - a);
      r.close();
    }
    record({ section: 'remote', case: 'S3 stub, no added latency: GDAL /vsis3/ open + read of a cold crop (openImage)', unit: 'ms', ours: median(cold),
      peers: { 'requests/crop': (await s3.stats()).requests / 21 } });

    // prepare --publish: 8 images, 1 process vs 2 shards in 2 processes
    const imgDir = path.join(dataDir, 'remote-src');
    fs.mkdirSync(imgDir, { recursive: true });
    const list: string[] = [];
    for (let i = 0; i < 8; i++) {
      const f = path.join(imgDir, `src${i}.png`);
      if (!fs.existsSync(f)) nds.writeRaster(f, make(1536, 1536, 3, 11 + i));
      list.push(f);
    }
    const listFile = path.join(imgDir, 'list.json');
    fs.writeFileSync(listFile, JSON.stringify(list));
    const env = { ...process.env, AWS_S3_ENDPOINT: `127.0.0.1:${s3.port}`, AWS_HTTPS: 'NO', AWS_VIRTUAL_HOSTING: 'FALSE', AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' };
    const cli = path.join(__dirname, '..', 'dist', 'cli.js');
    const runCli = (args: string[]) => new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, [cli, 'prepare', listFile, '--backend', 'cog', '--workers', '1', ...args], { env, stdio: 'ignore' });
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`prepare ${args.join(' ')} exited with ${code}`))));
    });
    t0 = performance.now();
    await runCli(['--workdir', path.join(tmp, 'one'), '--publish', 's3://bkt/one']);
    const oneProc = (performance.now() - t0) / 1000;
    t0 = performance.now();
    await Promise.all([0, 1].map((i) => runCli(['--workdir', path.join(tmp, 'two'), '--publish', 's3://bkt/two', '--shard', `${i}/2`])));
    record({ section: 'remote', case: 'prepare --publish 8 x 1536² PNG, 2 shards in 2 processes', unit: 's', ours: (performance.now() - t0) / 1000, peers: { '1 process': oneProc } });
  } finally {
    await http.stop();
    await s3.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
