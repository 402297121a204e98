// The async APIs never wait on a server on the JS thread (issue 15): while a loopback HTTP server
// and an S3 stub (s3rver behind the same delaying front) answer every request after 1 s, a 10 ms
// interval keeps ticking (longest gap between ticks <= 50 ms) through loadRegionAsync, loadBatch,
// the sampler, prepare, openImageAsync and reads of a published cache (in place and staged), and
// each gives the right pixels. A synchronous call against the same server is the control: it
// blocks the loop for the server's 1 s, so the probe does see a blocked thread.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { BackendSpec } from '../lib/frames/frames';
import { SimpleFrames } from '../lib/frames/simple-frames';
import { clearRemoteCache, statRemote, uploadFile } from '../lib/gdal';
import { openImageAsync } from '../lib/readers-async';
import { makeArray, readImage, sameArray, writeImage } from './_frames-util';
import { rmrf, tempDir } from './_helpers/tmp';
import { measureGaps } from './_remote-ticks';
import { startServer, useS3 } from './_remote-util';
import type { TestServer } from './_remote-util';

const root = tempDir('remote-async').dir;
const www = path.join(root, 'www');
const DELAY = 1000;
/** The bound of the issue. A blocked loop shows the server's 1 s (the reproducer used 8 s; 1 s keeps the suite short and is still 20x the bound), so a first miss under 400 ms is taken as load noise and measured once more. */
const MAX_GAP = 50;
const REGION: [[number, number], [number, number]] = [[7, 90], [11, 130]];
let http: TestServer;
let s3: TestServer;
let n = 0;

const local = (i: number) => path.join(www, `img${i}.png`);
const url = (i: number) => `${http.base}/img${i}.png`;
const workdir = (tag: string) => path.join(root, `wd-${tag}-${n++}`);
const want = (i: number) => {
  const full = readImage(local(i));
  const [[y0, y1], [x0, x1]] = REGION;
  const out = makeArray(y1 - y0, x1 - x0, full.shape[2], 'uint8', (y, x, c) => full.data[((y + y0) * full.shape[1] + x + x0) * full.shape[2] + c]);
  return out;
};

test.before(async () => {
  fs.mkdirSync(www, { recursive: true });
  for (let i = 0; i < 4; i++) {
    writeImage(local(i), makeArray(150 + 10 * i, 170, 3, 'uint8', (y, x, c) => (y * 3 + x * (i + 1) + c * 50) & 255));
  }
  http = await startServer('http', www);
  s3 = await startServer('s3', path.join(root, 's3'));
  useS3(s3.port);
  for (let i = 0; i < 4; i++) uploadFile(local(i), `s3://bkt/src/img${i}.png`);
  // a published cache of images 0..3 (built from the HTTP sources), for the remoteCache cases
  const pub = new SimpleFrames(Object.fromEntries([0, 1, 2, 3].map((i) => [i + 1, url(i)])), { workdir: workdir('pub'), backend: 'cog' });
  const rep = await pub.prepare({ publish: 's3://bkt/cache' });
  assert.equal(rep.failed, []);
  pub.close();
});

test.after(async () => {
  await http?.stop();
  await s3?.stop();
  rmrf(root);
});

/** Runs `scenario` against servers that answer after DELAY ms; asserts the loop kept ticking. */
async function slow<T>(what: string, scenario: () => Promise<T>): Promise<T> {
  let last = 0;
  for (let attempt = 0; attempt < 3; attempt++) {
    clearRemoteCache();
    await http.configure({ delay: DELAY });
    await s3.configure({ delay: DELAY });
    let r: { value: T; gap: number };
    try {
      r = await measureGaps(scenario);
    } finally {
      await http.configure({ delay: 0 });
      await s3.configure({ delay: 0 });
    }
    last = r.gap;
    process.stdout.write(`# ${what}: longest tick gap ${r.gap.toFixed(1)} ms\n`);
    if (r.gap <= MAX_GAP) return r.value;
    if (r.gap >= 400) break;
  }
  assert.unreachable(`${what}: the event loop stalled ${last.toFixed(0)} ms (bound ${MAX_GAP} ms) while the server took ${DELAY} ms`);
  throw new Error('not reached');
}

test('control: a synchronous call against the 1 s server blocks the loop, and the probe sees it', async () => {
  await http.configure({ delay: DELAY });
  try {
    clearRemoteCache();
    const r = await measureGaps(async () => statRemote(url(0), { fresh: true }));
    assert.ok(r.gap >= DELAY * 0.75, `gap ${r.gap}`);
  } finally {
    await http.configure({ delay: 0 });
  }
});

for (const backend of [null, 'cog'] as BackendSpec[]) {
  test(`loadRegionAsync of an https source (backend ${String(backend)}) never blocks the loop`, async () => {
    const f = new SimpleFrames({ 1: url(0) }, { workdir: workdir('lra'), backend });
    const got = await slow(`loadRegionAsync ${String(backend)}`, () => f.loadRegionAsync(1, REGION));
    sameArray(got, want(0));
    f.close();
  });

  test(`loadBatch and the sampler over https sources (backend ${String(backend)}) never block the loop`, async () => {
    const f = new SimpleFrames({ 1: url(1), 2: url(2) }, { workdir: workdir('lb'), backend });
    const batch = await slow(`loadBatch ${String(backend)}`, () => f.loadBatch([{ imageId: 1, region: REGION }, { imageId: 2, region: REGION }]));
    assert.equal(batch.dims, [2, REGION[0][1] - REGION[0][0], REGION[1][1] - REGION[1][0], 3]);
    const w1 = want(1);
    assert.equal(Array.from(batch.data.subarray(0, w1.data.length)), Array.from(w1.data));
    f.close();
    const g = new SimpleFrames({ 1: url(3), 2: url(0) }, { workdir: workdir('smp'), backend });
    const first = await slow(`sampler ${String(backend)}`, async () => {
      const it = g.sampler({ size: [32, 32], batchSize: 2, seed: 1, epochs: 1 })[Symbol.asyncIterator]();
      const r = await it.next();
      await it.return?.();
      return r.value;
    });
    assert.equal(first.dims, [2, 32, 32, 3]);
    g.close();
  });
}

test('prepare of https and s3 sources never blocks the loop', async () => {
  for (const src of [url(2), 's3://bkt/src/img2.png']) {
    const f = new SimpleFrames({ 1: src }, { workdir: workdir('prep'), backend: 'cog' });
    const rep = await slow(`prepare ${src}`, () => f.prepare());
    assert.equal(rep.failed, []);
    assert.is(rep.built, 1);
    f.close();
  }
});

test('openImageAsync of an https URL never blocks the loop', async () => {
  const r = await slow('openImageAsync', async () => {
    const reader = await openImageAsync(url(1));
    return { reader, crop: await reader.readAsync(REGION) };
  });
  sameArray(r.crop, want(1));
  r.reader.close();
});

test('a published cache read in place and staged (on the delaying S3 stub) never blocks the loop', async () => {
  for (const stage of [false, true]) {
    const remoteCache = stage ? { url: 's3://bkt/cache', stage: { maxBytes: 1 << 30 } } : 's3://bkt/cache';
    const f = new SimpleFrames({ 1: url(3) }, { workdir: workdir('pubr'), backend: 'cog', remoteCache });
    const got = await slow(`published ${stage ? 'staged' : 'in place'}`, () => f.loadRegionAsync(1, REGION));
    sameArray(got, want(3));
    f.close();
  }
});

test.run();
