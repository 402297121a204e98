// The same remote failure gets the same code on every path (issue 15): an HTTP error status is
// ERR_REMOTE with `status` (and `reason: 'http'`), 404 is ERR_SOURCE_MISSING, a refused
// connection ERR_REMOTE with `reason: 'connection'` and no status, whether the URL is opened by
// openImage / openImageAsync, statRemote, Frames on each backend, or a published cache's manifest
// and objects; errors name the URL. openImage(url) applies REMOTE_DEFAULTS. Shard variables are
// plain decimal integers.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FileError, GdalError, NdsamplerError } from '../lib/errors';
import type { BackendSpec } from '../lib/frames/frames';
import { SimpleFrames } from '../lib/frames/simple-frames';
import { REMOTE_DEFAULTS, setRemoteOptions, statRemote, statRemoteAsync } from '../lib/gdal';
import { openImage } from '../lib/readers';
import { openImageAsync } from '../lib/readers-async';
import { mergeManifests } from '../lib/remote/manifest';
import { shardFromEnv } from '../lib/remote/shard';
import { makeArray, nodeArgs, writeImage } from './_frames-util';
import { expectCode, expectCodeAsync } from './_helpers/errors';
import { rmrf, tempDir } from './_helpers/tmp';
import { startServer } from './_remote-util';
import type { TestServer } from './_remote-util';

const root = tempDir('remote-codes').dir;
const www = path.join(root, 'www');
const REGION: [[number, number], [number, number]] = [[0, 20], [0, 30]];
let http: TestServer;
let n = 0;
const workdir = () => path.join(root, `wd-${n++}`);

test.before(async () => {
  for (const d of ['ok', 'f403', 'f500', 'f503']) {
    fs.mkdirSync(path.join(www, d), { recursive: true });
    writeImage(path.join(www, d, 'a.png'), makeArray(60, 70, 3, 'uint8', (y, x, c) => (y + x + c) & 255));
  }
  http = await startServer('http', www);
  await http.configure({ fail: { '/f403/': 403, '/f500/': 500, '/f503/': 503 } });
  // no retries of the 500s here (GDAL would wait 0.5 + 1 + 2 s before giving up on each)
  setRemoteOptions({ GDAL_HTTP_MAX_RETRY: 0 }, { prefix: http.base });
});

test.after(async () => {
  await http?.stop();
  rmrf(root);
});

const CASES: Array<[string, string, number]> = [['f403', 'ERR_REMOTE', 403], ['f500', 'ERR_REMOTE', 500], ['nope', 'ERR_SOURCE_MISSING', 404]];

function checked(e: { path?: unknown; status?: unknown; reason?: unknown; message: string }, url: string, status: number, what: string): void {
  assert.is(e.status, status, `${what}: status of ${e.message}`);
  assert.is(e.reason, 'http', `${what}: reason`);
  assert.is(e.path, url, `${what}: path`);
  assert.ok(e.message.includes(`HTTP ${status}`), `${what}: ${e.message}`);
}

test('openImage and openImageAsync of a URL: HTTP errors are ERR_REMOTE with status, 404 ERR_SOURCE_MISSING (never ERR_GDAL_OPEN)', async () => {
  await http.configure({ fail: { '/f403/': 403, '/f500/': 500, '/f503/': 503 } });
  for (const [dir, code, status] of CASES) {
    const url = `${http.base}/${dir}/a.png`;
    checked(expectCode(() => openImage(url), FileError, code, `openImage ${dir}`), url, status, `openImage ${dir}`);
    checked(await expectCodeAsync(() => openImageAsync(url), FileError, code, `openImageAsync ${dir}`), url, status, `openImageAsync ${dir}`);
    checked(expectCode(() => statRemote(url, { fresh: true }), FileError, code, `statRemote ${dir}`), url, status, `statRemote ${dir}`);
    checked(await expectCodeAsync(() => statRemoteAsync(url, { fresh: true }), FileError, code, `statRemoteAsync ${dir}`), url, status, `statRemoteAsync ${dir}`);
  }
});

test('Frames over a URL that fails: the same codes on every backend, sync and async', async () => {
  for (const backend of [null, 'npy', 'cog'] as BackendSpec[]) {
    for (const [dir, code, status] of CASES) {
      const url = `${http.base}/${dir}/a.png`;
      const f = new SimpleFrames({ 1: url }, { workdir: workdir(), backend });
      const e1 = expectCode(() => f.loadRegion(1, REGION), FileError, code, `${String(backend)} ${dir} sync`);
      assert.is(e1.status, status);
      f.close();
      const g = new SimpleFrames({ 1: url }, { workdir: workdir(), backend });
      const e2 = await expectCodeAsync(() => g.loadRegionAsync(1, REGION), FileError, code, `${String(backend)} ${dir} async`);
      assert.is(e2.status, status);
      assert.ok(String(e2.path).includes(`/${dir}/a.png`), String(e2.path));
      g.close();
    }
  }
});

test('a published cache whose manifest or objects fail: ERR_REMOTE with status', async () => {
  const local = path.join(www, 'ok', 'a.png');
  const rep = await new SimpleFrames({ 1: local }, { workdir: path.join(root, 'pw'), backend: 'cog' }).prepare({ publish: path.join(www, 'f403', 'cache') });
  assert.equal(rep.failed, []);
  fs.cpSync(path.join(www, 'f403', 'cache'), path.join(www, 'ok', 'cache'), { recursive: true });
  const reader = (prefix: string) => new SimpleFrames({ 1: local }, { workdir: path.join(root, 'pr'), backend: 'cog', remoteCache: prefix });
  const m = await expectCodeAsync(() => reader(`${http.base}/f403/cache`).loadRegionAsync(1, REGION), FileError, 'ERR_REMOTE', 'manifest 403');
  assert.is(m.status, 403);
  // the manifest answers, the objects fail
  const f = reader(`${http.base}/ok/cache`);
  await http.configure({ fail: { '/ok/cache/cog/': 500 } });
  const o = await expectCodeAsync(() => f.loadRegionAsync(1, REGION), FileError, 'ERR_REMOTE', 'object 500');
  assert.is(o.status, 500);
  assert.ok(String(o.path).startsWith(`${http.base}/ok/cache/cog/`), String(o.path));
  await http.configure({ fail: { '/f403/': 403, '/f500/': 500, '/f503/': 503 } });
  f.close();
});

test('a server that refuses connections: ERR_REMOTE with reason connection and no status', async () => {
  const gone = await startServer('http', www);
  const url = `${gone.base}/ok/a.png`;
  await gone.stop();
  for (const run of [() => openImageAsync(url), () => statRemoteAsync(url, { fresh: true }),
    () => new SimpleFrames({ 1: url }, { workdir: workdir(), backend: 'cog' }).loadRegionAsync(1, REGION)]) {
    const e = await expectCodeAsync(run, FileError, 'ERR_REMOTE');
    assert.is(e.status, undefined, e.message);
    assert.is(e.reason, 'connection', e.message);
  }
});

test('openImage(url) applies REMOTE_DEFAULTS (a fresh process)', () => {
  const out = execFileSync(process.execPath, [...nodeArgs(path.join(__dirname, '_remote-defaults.ts')), `${http.base}/ok/a.png`],
    { encoding: 'utf8', env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('GDAL_') && !k.startsWith('CPL_'))) });
  const { before, after } = JSON.parse(out) as Record<string, Record<string, string | null>>;
  for (const [k, val] of Object.entries(REMOTE_DEFAULTS)) {
    assert.is(before[k], null, `${k} unset before`);
    assert.is(after[k], val, `${k} after openImage(url)`);
  }
});

test('invalid arguments of the async openers: TypeError, and the file codes of openImage', async () => {
  const local = path.join(www, 'ok', 'a.png');
  const bad: Array<[string, () => Promise<unknown>]> = [
    ['a number path', () => openImageAsync(5 as unknown as string)],
    ['an unknown option', () => openImageAsync(local, { bogus: 1 } as never)],
    ['a bad kind', () => openImageAsync(local, { kind: 'tiff' as never })],
    ['a signal that is not one', () => openImageAsync(local, { signal: {} as AbortSignal })],
    ['statRemoteAsync of a number', () => statRemoteAsync(5 as unknown as string)],
    ['statRemoteAsync fresh not a boolean', () => statRemoteAsync(local, { fresh: 'yes' as never })],
  ];
  for (const [what, run] of bad) await expectCodeAsync(run, TypeError, 'ERR_INVALID_ARG_TYPE', what);
  const f = new SimpleFrames({ 1: local }, { workdir: workdir(), backend: 'cog' });
  await expectCodeAsync(() => f.loadRegionAsync(1, REGION, { signal: 'now' as never }), TypeError, 'ERR_INVALID_ARG_TYPE');
  await expectCodeAsync(() => f.prepare({ signal: 3 as never }), TypeError, 'ERR_INVALID_ARG_TYPE');
  f.close();
  await expectCodeAsync(() => openImageAsync(path.join(www, 'nope.png')), FileError, 'ERR_SOURCE_MISSING');
  await expectCodeAsync(() => openImageAsync(www), FileError, 'ERR_NOT_A_FILE');
  fs.writeFileSync(path.join(root, 'not-an-image.png'), 'hello');
  await expectCodeAsync(() => openImageAsync(path.join(root, 'not-an-image.png')), GdalError, 'ERR_GDAL_OPEN');
  await expectCodeAsync(() => openImageAsync(`${http.base}/ok/a.npy`), NdsamplerError, 'ERR_UNSUPPORTED');
  const r = await openImageAsync(local);
  assert.equal(r.shape, [60, 70, 3]);
  r.close();
});

test('shard variables must be plain decimal integers', () => {
  assert.equal(shardFromEnv({ JOB_COMPLETION_INDEX: '1', JOB_COMPLETIONS: '4' }), [1, 4]);
  assert.equal(shardFromEnv({ SLURM_ARRAY_TASK_ID: '12', SLURM_ARRAY_TASK_MIN: '10', SLURM_ARRAY_TASK_COUNT: '3' }), [2, 3]);
  for (const bad of ['0x1', '1e0', ' 1 ', '+1', '1.0', '-1', '1_0', '١', 'NaN', 'Infinity', '9'.repeat(20)]) {
    expectCode(() => shardFromEnv({ JOB_COMPLETION_INDEX: bad, JOB_COMPLETIONS: '4' }), RangeError, 'ERR_OUT_OF_RANGE', `index ${JSON.stringify(bad)}`);
    expectCode(() => shardFromEnv({ JOB_COMPLETION_INDEX: '0', JOB_COMPLETIONS: bad }), RangeError, 'ERR_OUT_OF_RANGE', `count ${JSON.stringify(bad)}`);
    expectCode(() => shardFromEnv({ SLURM_ARRAY_TASK_ID: bad, SLURM_ARRAY_TASK_COUNT: '4' }), RangeError, 'ERR_OUT_OF_RANGE', `slurm ${JSON.stringify(bad)}`);
  }
  expectCode(() => shardFromEnv({ JOB_COMPLETION_INDEX: '4', JOB_COMPLETIONS: '4' }), RangeError, 'ERR_OUT_OF_RANGE');
});

test('mergeManifests checks its arguments, and a run of 10^6 shards with one fragment is refused at once', () => {
  expectCode(() => mergeManifests('' as string), TypeError, 'ERR_INVALID_ARG_TYPE');
  expectCode(() => mergeManifests(42 as unknown as string), TypeError, 'ERR_INVALID_ARG_TYPE');
  for (const bad of [0, 1.5, -1, 1e8, Number.NaN]) {
    const e = expectCode(() => mergeManifests(path.join(root, 'none'), bad), Number.isNaN(bad) ? TypeError : RangeError, Number.isNaN(bad) ? 'ERR_INVALID_ARG_TYPE' : 'ERR_OUT_OF_RANGE', String(bad));
    assert.ok(/count/.test(e.message), e.message);
  }
  const prefix = path.join(root, 'merge-big');
  fs.mkdirSync(path.join(prefix, 'manifests'), { recursive: true });
  fs.writeFileSync(path.join(prefix, 'manifests', 'shard-5-of-1000000.json'), '{}');
  fs.writeFileSync(path.join(prefix, 'manifests', 'shard-0-of-99999999.json'), '{}');  // beyond any run: ignored
  fs.writeFileSync(path.join(prefix, 'manifests', 'shard-1000001-of-1000000.json'), '{}');  // index past its count: ignored
  const t0 = Date.now();
  const e = expectCode(() => mergeManifests(prefix), NdsamplerError, 'ERR_PREPARE');
  assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
  assert.match(e.message, /shards 0, 1, 2, 3, 4, 6, 7, 8, 9, 10 and 999989 more of 1000000 are missing/);
  // shards 0..2 of 3 with an extra 'shard-3-of-3': still shard 2 missing
  const p3 = path.join(root, 'merge-3');
  fs.mkdirSync(path.join(p3, 'manifests'), { recursive: true });
  for (const i of [0, 1, 3]) fs.writeFileSync(path.join(p3, 'manifests', `shard-${i}-of-3.json`), '{}');
  assert.match(expectCode(() => mergeManifests(p3), NdsamplerError, 'ERR_PREPARE').message, /shards 2 of 3 are missing/);
});

test.run();
