// Past one machine (issue 12), against real servers on 127.0.0.1 started by this file in child
// processes: a range-serving HTTP file server (Node's http: HEAD, Range, ETag, Last-Modified) and
// s3rver (an S3 API server from npm). Remote sources with a local cache equal local sources on
// every backend; a published cache read by a second process with an empty workdir (in place and
// staged) equals the local cache; two shards plus merge cover every entry once; a server stopped
// mid-prepare gives coded errors and leaves no partial entry or object; wrong credentials and
// missing objects give coded errors naming the URL; a changed remote object is rebuilt.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FileError, NdsamplerError } from '../lib/errors';
import type { BackendSpec } from '../lib/frames/frames';
import { SimpleFrames } from '../lib/frames/simple-frames';
import { statRemote, uploadFile } from '../lib/gdal';
import { openImage } from '../lib/readers';
import { MANIFEST_NAME, mergeManifests, readManifestAt } from '../lib/remote/manifest';
import type { Manifest } from '../lib/remote/manifest';
import { shardFromEnv, shardOf } from '../lib/remote/shard';
import { isRemote, toGdalPath } from '../lib/remote/url';
import { listFiles, makeArray, nodeArgs, sameArray, writeImage } from './_frames-util';
import { expectCode, expectCodeAsync } from './_helpers/errors';
import { leftoverTemps, rmrf, tempDir } from './_helpers/tmp';
import { startServer, useS3 } from './_remote-util';
import type { TestServer } from './_remote-util';

const root = tempDir('remote').dir;
const www = path.join(root, 'www');
const N = 6;
const REGION = [[5, 120], [17, 150]];
let http: TestServer;
let s3: TestServer;
let bucketN = 0;

function image(i: number): string {
  const file = path.join(www, `img${i}.png`);
  writeImage(file, makeArray(140 + i * 9, 170 + i * 5, 3, 'uint8', (y, x, c) => (y * (i + 2) + x * 3 + c * 40 + i) & 255));
  return file;
}

const local = (i: number) => path.join(www, `img${i}.png`);
const url = (i: number) => `${http.base}/img${i}.png`;
const workdir = (tag: string) => path.join(root, `wd-${tag}-${bucketN++}`);

test.before(async () => {
  fs.mkdirSync(www, { recursive: true });
  for (let i = 0; i < N; i++) image(i);
  http = await startServer('http', www);
  s3 = await startServer('s3', path.join(root, 's3'));
  useS3(s3.port);
  for (let i = 0; i < N; i++) uploadFile(local(i), `s3://bkt/src/img${i}.png`);
});

test.after(async () => {
  await http?.stop();
  await s3?.stop();
  rmrf(root);
});

test('URL forms map onto GDAL paths; statRemote reports size and ETag', () => {
  assert.is(toGdalPath('https://h/a.tif'), '/vsicurl/https://h/a.tif');
  assert.is(toGdalPath('s3://b/k/a.tif'), '/vsis3/b/k/a.tif');
  assert.is(toGdalPath('gs://b/a.tif'), '/vsigs/b/a.tif');
  assert.is(toGdalPath('az://c/a.tif'), '/vsiaz/c/a.tif');
  assert.is(toGdalPath('/data/a.tif'), '/data/a.tif');
  assert.ok(isRemote('/vsis3/b/a') && isRemote('http://x/a') && !isRemote('/vsimem/a') && !isRemote('/tmp/a'));
  const st = statRemote(url(1));
  assert.is(st.size, fs.statSync(local(1)).size);
  assert.ok(st.etag !== null && st.lastModified !== null);
  assert.is(statRemote('s3://bkt/src/img1.png').size, st.size);
  // openImage takes the URL forms too: the same pixels as the local file.
  for (const src of [url(1), 's3://bkt/src/img1.png']) {
    const r = openImage(src);
    const l = openImage(local(1));
    sameArray(r.read(REGION as never), l.read(REGION as never), `openImage(${src})`);
    r.close();
    l.close();
  }
  assert.throws(() => openImage(url(1).replace(/\.png$/, '.npy')), (e: Error & { code?: string }) => e.code === 'ERR_UNSUPPORTED');
});

test('a remote source with a local cache equals the local source on every backend (https, /vsicurl/, s3)', async () => {
  for (const backend of [null, 'npy', 'cog'] as BackendSpec[]) {
    const ref = new SimpleFrames({ 1: local(2) }, { workdir: workdir('ref'), backend });
    const want = ref.loadRegion(1, REGION as never);
    const full = ref.loadImage(1);
    ref.close();
    for (const src of [url(2), `/vsicurl/${url(2)}`, 's3://bkt/src/img2.png']) {
      const wd = workdir('src');
      const f = new SimpleFrames({ 1: src }, { workdir: wd, backend });
      const rep = await f.prepare();
      assert.equal(rep.failed, [], `${String(backend)} ${src}`);
      assert.is(rep.built, backend === null ? 0 : 1);
      sameArray(f.loadRegion(1, REGION as never), want, `${String(backend)} ${src}`);
      sameArray(await f.loadRegionAsync(1, REGION as never), want);
      sameArray(f.loadImage(1) as never, full);
      const chan = f.lookupPathinfo(1).channels.default;
      assert.is(chan.path, toGdalPath(src));
      f.close();
      if (backend !== null) assert.is((await new SimpleFrames({ 1: src }, { workdir: wd, backend }).prepare({ useStamp: false })).reused, 1);
    }
  }
});

test('PATH keys: a URL hashes the same under every form and workdir; local files keep the workdir-relative rule', () => {
  const a = new SimpleFrames({ 1: 's3://bkt/src/img1.png' }, { workdir: workdir('k1'), backend: 'cog' });
  const b = new SimpleFrames({ 1: '/vsis3/bkt/src/img1.png' }, { workdir: workdir('k2'), backend: 'cog' });
  assert.is(a.lookupPathinfo(1).channels.default.hashid, b.lookupPathinfo(1).channels.default.hashid);
  const c = new SimpleFrames({ 1: local(1) }, { workdir: workdir('k3'), backend: 'cog' });
  const d = new SimpleFrames({ 1: local(1) }, { workdir: path.join(workdir('k4'), 'deeper'), backend: 'cog' });
  assert.is.not(c.lookupPathinfo(1).channels.default.hashid, d.lookupPathinfo(1).channels.default.hashid);
});

test('a missing remote object is ERR_SOURCE_MISSING and a refused credential ERR_REMOTE 403, both naming the URL', async () => {
  for (const backend of [null, 'npy', 'cog'] as BackendSpec[]) {
    const miss = `${http.base}/nope.png`;
    const f = new SimpleFrames({ 1: miss }, { workdir: workdir('miss'), backend });
    const e = expectCode(() => f.loadRegion(1, REGION as never), FileError, 'ERR_SOURCE_MISSING', String(backend));
    assert.ok(String(e.path).includes('nope.png') && e.message.includes('nope.png'), e.message);
  }
  useS3(s3.port, 'denied', 'NOT-A-KEY');
  const e = expectCode(() => statRemote('s3://denied/src/img1.png'), FileError, 'ERR_REMOTE');
  assert.is(e.status, 403);
  assert.ok(e.message.includes('s3://denied/src/img1.png'), e.message);
  const f = new SimpleFrames({ 1: 's3://denied/src/img1.png' }, { workdir: workdir('denied'), backend: 'cog' });
  const rep = await f.prepare();
  assert.is(rep.failed.length, 1);
  assert.is((rep.failed[0].error as NdsamplerError).code, 'ERR_REMOTE');
  assert.is((rep.failed[0].error as FileError & { status?: number }).status, 403);
  const pub = await new SimpleFrames({ 1: local(1) }, { workdir: workdir('denied2'), backend: 'cog' }).prepare({ publish: 's3://denied/cache' });
  assert.is(pub.failed.length, 1);
  assert.is((pub.failed[0].error as NdsamplerError).code, 'ERR_REMOTE');
  assert.is(pub.manifest, null);
});

test('a changed remote object is rebuilt, not served stale', async () => {
  const file = path.join(www, 'changing.png');
  writeImage(file, makeArray(64, 80, 1, 'uint8', () => 10));
  const wd = workdir('chg');
  const f1 = new SimpleFrames({ 1: `${http.base}/changing.png` }, { workdir: wd, backend: 'cog' });
  assert.is((await f1.prepare()).built, 1);
  assert.is(f1.loadRegion(1, [[0, 2], [0, 2]]).data[0], 10);
  f1.close();
  writeImage(file, makeArray(64, 80, 1, 'uint8', () => 99));
  fs.utimesSync(file, new Date(), new Date(Date.now() + 5000));  // another Last-Modified and ETag, whatever the size
  const f2 = new SimpleFrames({ 1: `${http.base}/changing.png` }, { workdir: wd, backend: 'cog' });
  assert.is(f2.loadRegion(1, [[0, 2], [0, 2]]).data[0], 99);
  assert.is((await f2.prepare({ useStamp: false })).reused, 1);
  f2.close();
});

function readInChild(args: object): { crops: Record<string, string>; entriesBuilt: number; staged: number } {
  const out = execFileSync(process.execPath, [...nodeArgs(path.join(__dirname, '_remote-reader.ts')), JSON.stringify(args)], { encoding: 'utf8' });
  return JSON.parse(out) as { crops: Record<string, string>; entriesBuilt: number; staged: number };
}

const hex = (a: { data: ArrayBufferView }) => Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength).toString('hex');

test('a published cache is read by a second process with an empty workdir, in place and staged, equal to the local cache', async () => {
  const images = Object.fromEntries(Array.from({ length: N }, (_, i) => [i + 1, url(i)]));
  const wd = workdir('pub');
  const f = new SimpleFrames(images, { workdir: wd, backend: 'cog' });
  const rep = await f.prepare({ publish: 's3://bkt/cache', workers: 2 });
  assert.equal(rep.failed, []);
  assert.is(rep.published, N);
  assert.is(rep.manifest, 's3://bkt/cache/manifest.json');
  const man = readManifestAt('s3://bkt/cache') as Manifest;
  assert.is(Object.keys(man.entries).length, N);
  const want = Object.fromEntries(f.imageIds.map((id) => [String(id), hex(f.loadRegion(id, REGION as never))]));
  f.close();
  await s3.reset();
  const inPlace = readInChild({ port: s3.port, prefix: 's3://bkt/cache', workdir: workdir('pub-r'), images, region: REGION });
  assert.equal(inPlace.crops, want);
  assert.is(inPlace.entriesBuilt, 0, 'nothing built or downloaded');
  const st = await s3.stats();
  assert.ok(st.ranges > 0, 'entries read with range requests');
  const staged = readInChild({ port: s3.port, prefix: 's3://bkt/cache', workdir: workdir('pub-s'), images, region: REGION, stage: 1 << 30 });
  assert.equal(staged.crops, want);
  assert.is(staged.staged, N);
  // toJSON carries remoteCache: the revived object (as a worker gets it) reads in place too
  const revived = readInChild({ port: s3.port, prefix: 's3://bkt/cache', workdir: workdir('pub-j'), images, region: REGION, viaJson: true });
  assert.equal(revived.crops, want);
  assert.is(revived.entriesBuilt, 0, 'the revived object builds nothing either');
  const bounded = readInChild({ port: s3.port, prefix: 's3://bkt/cache', workdir: workdir('pub-b'), images, region: REGION, stage: 1 });
  assert.equal(bounded.crops, want);
  assert.is(bounded.staged, 1, 'a 1-byte budget keeps only the last staged entry');
  // publishing again uploads nothing new (content-addressed objects, found with their size)
  await s3.reset();
  const again = await new SimpleFrames(images, { workdir: wd, backend: 'cog' }).prepare({ publish: 's3://bkt/cache' });
  assert.is(again.reused, N);
  assert.ok((await s3.stats()).requests < 6 * N, 'no re-upload');
  await expectCodeAsync(() => new SimpleFrames(images, { workdir: wd, backend: 'npy' }).prepare({ publish: 's3://bkt/x' }), NdsamplerError, 'ERR_UNSUPPORTED');
});

test('shards: assigned by key (stable under reordering), two shards in two processes plus merge cover every entry once', async () => {
  const keys = Array.from({ length: 200 }, (_, i) => `cog/abcd/${i}.cog.tif`);
  const counts = [0, 0, 0];
  for (const k of keys) counts[shardOf(k, 3)]++;
  assert.ok(counts.every((c) => c > 40), String(counts));
  assert.equal(shardFromEnv({ JOB_COMPLETION_INDEX: '1', JOB_COMPLETIONS: '4' }), [1, 4]);
  assert.equal(shardFromEnv({ SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_COUNT: '3' }), [2, 3]);
  assert.is(shardFromEnv({}), null);
  const list = path.join(root, 'list.json');
  fs.writeFileSync(list, JSON.stringify(Array.from({ length: N }, (_, i) => `s3://bkt/src/img${i}.png`)));
  const cli = path.join(__dirname, '..', 'lib', 'cli.ts');
  const env = {
    ...process.env, AWS_S3_ENDPOINT: `127.0.0.1:${s3.port}`, AWS_HTTPS: 'NO', AWS_VIRTUAL_HOSTING: 'FALSE',
    AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER',
  };
  const wd = workdir('shard');
  const run = (shard: string) => execFileSync(process.execPath, [...nodeArgs(cli), 'prepare', list, '--backend', 'cog',
    '--workdir', wd, '--publish', 's3://bkt/sharded', ...(shard === 'env' ? [] : ['--shard', shard])],
  { encoding: 'utf8', env: shard === 'env' ? { ...env, JOB_COMPLETION_INDEX: '1', JOB_COMPLETIONS: '2' } : env });
  const outs = [run('0/2'), run('env')];
  assert.ok(outs[1].includes('shard: 1/2'), outs[1]);
  assert.ok(outs[0].includes('manifest: s3://bkt/sharded/manifests/shard-0-of-2.json'), outs[0]);
  const f0 = readManifestAt('s3://bkt/sharded', 'manifests/shard-0-of-2.json') as Manifest;
  const f1 = readManifestAt('s3://bkt/sharded', 'manifests/shard-1-of-2.json') as Manifest;
  const k0 = Object.keys(f0.entries);
  const k1 = Object.keys(f1.entries);
  assert.is(k0.length + k1.length, N);
  assert.ok(k0.every((k) => !k1.includes(k)), 'disjoint');
  assert.is(readManifestAt('s3://bkt/sharded'), null, 'no manifest before the merge');
  const merged = execFileSync(process.execPath, [...nodeArgs(cli), 'manifest', 'merge', 's3://bkt/sharded'], { encoding: 'utf8', env });
  assert.ok(merged.includes(`${N} entries`), merged);
  const all = readManifestAt('s3://bkt/sharded', MANIFEST_NAME) as Manifest;
  assert.equal(Object.keys(all.entries).sort(), [...k0, ...k1].sort());
  // the same keys as an unsharded local prepare of the same images
  const whole = new SimpleFrames(Object.fromEntries(Array.from({ length: N }, (_, i) => [i + 1, `s3://bkt/src/img${i}.png`])), { workdir: workdir('whole'), backend: 'cog' });
  const expected = whole.imageIds.map((id) => path.relative(path.join(whole.workdir, '_cache', 'frames'), whole.lookupPathinfo(id).channels.default.cache as string)).sort();
  assert.equal(Object.keys(all.entries).sort(), expected);
  // a missing fragment is refused
  expectCode(() => mergeManifests('s3://bkt/sharded', 3), NdsamplerError, 'ERR_PREPARE');
});

test('a server stopped mid-prepare gives coded errors and leaves no partial entry or object', async () => {
  // sources on their own server, stopped after the first entry
  const dir = path.join(root, 'www2');
  fs.mkdirSync(dir);
  for (let i = 0; i < N; i++) fs.copyFileSync(local(i), path.join(dir, `img${i}.png`));
  const src = await startServer('http', dir);
  const wd = workdir('stop');
  const f = new SimpleFrames(Object.fromEntries(Array.from({ length: N }, (_, i) => [i + 1, `${src.base}/img${i}.png`])), { workdir: wd, backend: 'cog' });
  let stopped: Promise<void> | null = null;
  const rep = await f.prepare({ onProgress: (done) => { if (done === 1) stopped = src.stop(); } });
  await stopped;
  assert.ok(rep.built >= 1 && rep.failed.length >= 1, JSON.stringify({ built: rep.built, failed: rep.failed.length }));
  for (const fail of rep.failed) {
    const e = fail.error as NdsamplerError;
    assert.ok(e instanceof FileError && e.code === 'ERR_REMOTE', `${e.code}: ${e.message}`);
    assert.ok(String(e.path).includes(src.base.replace('http://', '')), e.message);
  }
  const entries = listFiles(wd).filter((p) => p.endsWith('.cog.tif'));
  assert.is(entries.length, rep.built, 'only complete entries');
  for (const e of entries) assert.ok(fs.existsSync(path.join(wd, `${e}.src.json`)), `${e} has its commit record`);
  assert.equal(leftoverTemps(wd), []);
  f.close();

  // the object store stopped while publishing: no object is partial, no manifest is written
  const s3b = await startServer('s3', path.join(root, 's3b'));
  useS3(s3b.port, 'bkt');
  const wd2 = workdir('stop2');
  const g = new SimpleFrames(Object.fromEntries(Array.from({ length: N }, (_, i) => [i + 1, local(i)])), { workdir: wd2, backend: 'cog' });
  let stopped2: Promise<void> | null = null;
  const rep2 = await g.prepare({ publish: 's3://bkt/p', onProgress: (done) => { if (done === 2) stopped2 = s3b.stop(); } });
  await stopped2;
  useS3(s3.port);
  assert.ok(rep2.failed.length >= 1 && rep2.manifest === null);
  for (const fail of rep2.failed) assert.is((fail.error as NdsamplerError).code, 'ERR_REMOTE');
  const objects = listFiles(path.join(root, 's3b')).filter((p) => p.endsWith('._S3rver_object'));
  const local2 = new Set(listFiles(wd2).filter((p) => p.endsWith('.cog.tif')).map((p) => fs.readFileSync(path.join(wd2, p)).toString('hex')));
  for (const o of objects) assert.ok(local2.has(fs.readFileSync(path.join(root, 's3b', o)).toString('hex')), `${o} is a whole entry`);
  g.close();
});

test.run();
