// Every remote wait is bounded (issue 15): against a server that accepts connections and never
// answers, every path (openImage and openImageAsync of a URL, statRemote, Frames over a remote
// source on each backend, a published cache's manifest and its objects) fails with ERR_REMOTE,
// `reason: 'timeout'` and no `status`, within the configured timeout; an AbortSignal rejects
// pending remote work at once with ERR_ABORTED. The timeouts here are set to 2 s for the hung
// server's prefix (setRemoteOptions with a prefix: GDAL's path-specific options); the defaults
// (REMOTE_DEFAULTS) bound the same waits at 30 s (docs/distributed.md, "Time bounds").
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AbortError, FileError } from '../lib/errors';
import type { BackendSpec } from '../lib/frames/frames';
import { SimpleFrames } from '../lib/frames/simple-frames';
import { clearRemoteCache, setRemoteOptions, statRemote, statRemoteAsync } from '../lib/gdal';
import { openImage } from '../lib/readers';
import { openImageAsync } from '../lib/readers-async';
import { makeArray, writeImage } from './_frames-util';
import { expectCode, expectCodeAsync } from './_helpers/errors';
import { rmrf, tempDir } from './_helpers/tmp';
import { startServer } from './_remote-util';
import type { TestServer } from './_remote-util';

const root = tempDir('remote-timeouts').dir;
const www = path.join(root, 'www');
const TIMEOUT_S = 2;
/** The bound of a hung call: the timeout, plus generous room for a loaded machine (the point is that it ends). */
const BOUND_MS = TIMEOUT_S * 1000 + 6000;
const REGION: [[number, number], [number, number]] = [[0, 40], [0, 50]];
let hung: TestServer;
let good: TestServer;
let n = 0;
const workdir = () => path.join(root, `wd-${n++}`);

test.before(async () => {
  fs.mkdirSync(www, { recursive: true });
  writeImage(path.join(www, 'a.png'), makeArray(90, 110, 3, 'uint8', (y, x, c) => (y + 2 * x + c) & 255));
  hung = await startServer('http', www);
  good = await startServer('http', www);
  for (const s of [hung, good]) {
    setRemoteOptions({ GDAL_HTTP_TIMEOUT: TIMEOUT_S, GDAL_HTTP_LOW_SPEED_TIME: TIMEOUT_S, GDAL_HTTP_MAX_RETRY: 0 }, { prefix: s.base });
  }
  await hung.configure({ hang: true });
});

test.after(async () => {
  await hung?.stop();
  await good?.stop();
  rmrf(root);
});

/** `run` must end with ERR_REMOTE reason 'timeout' (no status) within BOUND_MS. */
async function timesOut(what: string, run: () => Promise<unknown>): Promise<void> {
  clearRemoteCache();
  const t0 = performance.now();
  const e = await expectCodeAsync(run, FileError, 'ERR_REMOTE', what);
  const ms = performance.now() - t0;
  assert.is(e.reason, 'timeout', `${what}: reason of ${e.message}`);
  assert.is(e.status, undefined, `${what}: no HTTP status`);
  assert.ok(ms >= TIMEOUT_S * 1000 * 0.9, `${what}: gave up after ${ms.toFixed(0)} ms, before the timeout`);
  assert.ok(ms <= BOUND_MS, `${what}: took ${ms.toFixed(0)} ms`);
  assert.ok(String(e.path).includes(hung.base.replace('http://', '')), `${what}: path ${e.path}`);
}

test('openImage, openImageAsync and statRemote of a never-answering server time out with ERR_REMOTE reason timeout', async () => {
  const url = `${hung.base}/a.png`;
  await timesOut('openImageAsync', () => openImageAsync(url));
  await timesOut('statRemoteAsync', () => statRemoteAsync(url, { fresh: true }));
  await timesOut('openImage (sync)', async () => openImage(url));
  await timesOut('statRemote (sync)', async () => statRemote(url, { fresh: true }));
});

test('Frames reads of a remote source on a never-answering server time out, on every backend and path', async () => {
  for (const backend of [null, 'npy', 'cog'] as BackendSpec[]) {
    // a new Frames for each call: an opener keeps a server's answer (a failure too) for a few seconds
    const f = new SimpleFrames({ 1: `${hung.base}/a.png` }, { workdir: workdir(), backend });
    await timesOut(`loadRegionAsync ${String(backend)}`, () => f.loadRegionAsync(1, REGION));
    f.close();
    const g = new SimpleFrames({ 1: `${hung.base}/a.png` }, { workdir: workdir(), backend });
    await timesOut(`loadBatch ${String(backend)}`, () => g.loadBatch([{ imageId: 1, region: REGION }]));
    g.close();
  }
  const g = new SimpleFrames({ 1: `${hung.base}/a.png` }, { workdir: workdir(), backend: 'cog' });
  clearRemoteCache();
  const rep = await g.prepare();
  assert.is(rep.failed.length, 1);
  const e = rep.failed[0].error as FileError & { reason?: string };
  assert.is(e.code, 'ERR_REMOTE');
  assert.is(e.reason, 'timeout');
});

test('a published cache on a never-answering server times out: its manifest, and its objects once the manifest is read', async () => {
  // publish to a local folder served by both servers
  const rep = await new SimpleFrames({ 1: path.join(www, 'a.png') }, { workdir: path.join(root, 'wpub'), backend: 'cog' })
    .prepare({ publish: path.join(www, 'cache') });
  assert.equal(rep.failed, []);
  const reader = (base: string) => new SimpleFrames({ 1: path.join(www, 'a.png') }, { workdir: path.join(root, 'wpub2'), backend: 'cog', remoteCache: `${base}/cache` });
  const f = reader(hung.base);
  await timesOut('published manifest', () => f.loadRegionAsync(1, REGION));
  f.close();
  // the manifest (and one crop) read while the server answers; then the server hangs, and a new
  // opening of the object (its header GET, by the addon's own HTTP client) times out
  await hung.configure({ hang: false });
  const g = reader(hung.base);
  assert.equal((await g.loadRegionAsync(1, REGION)).shape, [40, 50, 3]);
  g.close();
  await hung.configure({ hang: true });
  await timesOut('published object (header)', () => g.loadRegionAsync(1, REGION));
  g.close();
});

test('an AbortSignal rejects pending remote work at once with ERR_ABORTED', async () => {
  const url = `${hung.base}/a.png`;
  const quick = async (what: string, run: (signal: AbortSignal) => Promise<unknown>): Promise<void> => {
    clearRemoteCache();
    const ac = new AbortController();
    const t0 = performance.now();
    setTimeout(() => ac.abort(), 200);
    await expectCodeAsync(() => run(ac.signal), AbortError, 'ERR_ABORTED', what);
    const ms = performance.now() - t0;
    assert.ok(ms < TIMEOUT_S * 1000 * 0.75, `${what}: aborted after ${ms.toFixed(0)} ms`);
  };
  await quick('openImageAsync', (signal) => openImageAsync(url, { signal }));
  for (const backend of [null, 'cog'] as BackendSpec[]) {
    const f = new SimpleFrames({ 1: url }, { workdir: workdir(), backend });
    await quick(`loadRegionAsync ${String(backend)}`, (signal) => f.loadRegionAsync(1, REGION, { signal }));
    await quick(`loadBatch ${String(backend)}`, (signal) => f.loadBatch([{ imageId: 1, region: REGION }], { signal }));
    if (backend !== null) await quick(`prepare ${String(backend)}`, (signal) => f.prepare({ signal, useStamp: false }));
    f.close();
  }
  // an already aborted signal rejects before anything is asked
  const ac = new AbortController();
  ac.abort();
  await expectCodeAsync(() => openImageAsync(`${good.base}/a.png`, { signal: ac.signal }), AbortError, 'ERR_ABORTED');
  const f = new SimpleFrames({ 1: `${good.base}/a.png` }, { workdir: workdir(), backend: 'cog' });
  await expectCodeAsync(() => f.loadRegionAsync(1, REGION, { signal: ac.signal }), AbortError, 'ERR_ABORTED');
  expectCode(() => f.loadRegion(1, REGION, { signal: ac.signal }), TypeError, 'ERR_INVALID_ARG_TYPE');
  await expectCodeAsync(() => openImageAsync(`${good.base}/a.png`, { signal: 'no' as unknown as AbortSignal }), TypeError, 'ERR_INVALID_ARG_TYPE');
  f.close();
});

test.run();
