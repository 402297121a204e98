// Frames across worker threads: toJSON (plain data, no handles) -> worker -> Frames.fromJSON gives
// an instance of the right subclass sharing the cache: identical pixels, nothing re-prepared, no
// rehashing of memoised images. And fromJSON's errors and the subclass registry.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FramesError, NdsamplerError } from '../lib/errors';
import { Frames } from '../lib/frames/frames';
import type { FramesJSON, ImageId, Pathinfo } from '../lib/frames/frames';
import type { NDArray } from '../lib/ndarray';
import type { Region } from '../lib/region';
import { DEFAULT_CHANNEL, SimpleFrames } from '../lib/frames/simple-frames';
import { listFiles, nodeArgs, sameArray } from './_frames-util';
import { expectCode } from './_helpers/errors';
import { rmrf, tempDir } from './_helpers/tmp';

const root = tempDir('worker').dir;
test.after(() => rmrf(root));

const REGIONS: Array<{ imageId: number; region: Region | null }> = [
  { imageId: 1, region: [[null, -20], [null, -10]] },
  { imageId: 2, region: [[10, 42], [10, 42]] },
  { imageId: 3, region: [[-30, null], [5, 9], [1, 3]] },
  { imageId: 1, region: null },
];

interface Reply {
  error?: string;
  className: string; isSimple: boolean; cacheDpath: string | null; backend: unknown; hashidMode: string;
  imageIds: ImageId[]; crops: NDArray[]; asyncCrops: NDArray[];
  report: { built: number; reused: number; failed: number; fromStamp: boolean }; hashes: number;
}

function runWorker(json: FramesJSON | string): Promise<Reply> {
  const script = path.join(__dirname, '_frames-worker.ts');
  const preloads = nodeArgs(script).slice(0, -1);
  return new Promise((resolve, reject) => {
    const w = new Worker(script, { workerData: { json, regions: REGIONS }, execArgv: preloads });
    w.once('message', (m: Reply) => {
      void w.terminate();
      if (m.error) reject(new Error(m.error));
      else resolve(m);
    });
    w.once('error', reject);
  });
}

const snapshot = (dir: string) => listFiles(dir).map((f) => `${f}@${fs.statSync(path.join(dir, f)).mtimeMs}`);

for (const backend of ['npy', 'cog'] as const) {
  test(`${backend}: a worker revives the object from toJSON, reads identical pixels, re-prepares nothing`, async () => {
    const workdir = path.join(root, backend);
    const frames = SimpleFrames.demo({ workdir, backend, hashidMode: 'PIXELS' });
    await frames.prepare();
    for (const id of frames.imageIds) frames.lookupPathinfo(id);
    const before = snapshot(frames.cacheDpath as string);
    const json = frames.toJSON();
    assert.equal(JSON.parse(JSON.stringify(json)), json, 'plain data: survives JSON');
    assert.is(json.class, 'SimpleFrames');
    assert.is(json.pathinfo.length, 3);
    for (const message of [json, JSON.stringify(json)]) {
      const reply = await runWorker(message);
      assert.is(reply.className, 'SimpleFrames');
      assert.ok(reply.isSimple);
      assert.is(reply.cacheDpath, frames.cacheDpath);
      assert.equal(reply.backend, frames.backend);
      assert.is(reply.hashidMode, 'PIXELS');
      assert.equal(reply.imageIds, [1, 2, 3]);
      assert.is(reply.hashes, 0, 'memoised pathinfo came along: no file was rehashed');
      assert.equal(reply.report, { built: 0, reused: 3, failed: 0, fromStamp: true }, 'the stamp is shared: nothing re-prepared');
      for (const [i, r] of REGIONS.entries()) {
        const expected = frames.loadRegion(r.imageId, r.region);
        sameArray(reply.crops[i], expected, `crop ${i}`);
        sameArray(reply.asyncCrops[i], expected, `async crop ${i}`);
      }
    }
    assert.equal(snapshot(frames.cacheDpath as string), before, 'no cache file was rewritten');
    frames.close();
  });
}

test('a worker given an object with nothing memoised builds pathinfo itself and finds the same cache', async () => {
  const workdir = path.join(root, 'fresh');
  const prepared = SimpleFrames.demo({ workdir, backend: 'npy' });
  await prepared.prepare();
  const fresh = SimpleFrames.demo({ workdir, backend: 'npy' });
  const json = fresh.toJSON();
  assert.equal(json.pathinfo, []);
  const reply = await runWorker(json);
  assert.is(reply.hashes, 3);
  assert.equal(reply.report, { built: 0, reused: 3, failed: 0, fromStamp: true });
  sameArray(reply.crops[1], prepared.loadRegion(2, [[10, 42], [10, 42]]));
});

test('fromJSON: the right subclass from the registry; errors are ERR_FRAMES_JSON', () => {
  const workdir = path.join(root, 'json');
  class ListFrames extends Frames {
    #paths: string[];
    constructor(paths: string[], opts?: ConstructorParameters<typeof Frames>[0]) {
      super(opts);
      this.#paths = paths;
    }
    get imageIds(): ImageId[] { return this.#paths.map((_, i) => i); }
    protected buildPathinfo(id: ImageId): Pathinfo {
      const p = this.#paths[Number(id)];
      if (p === undefined) throw this.unknownImage(id);
      const chan = { path: p };
      this.populateChanInfo(chan);
      return { id, channels: { img: chan }, default: 'img' };
    }
    protected override toState() { return this.#paths; }
    static fromState(state: unknown, opts: ConstructorParameters<typeof Frames>[0]) { return new ListFrames(state as string[], opts); }
  }
  const demo = SimpleFrames.demo({ workdir });
  const paths = demo.imageIds.map((id) => demo.lookupPathinfo(id).channels[DEFAULT_CHANNEL].path);
  const list = new ListFrames(paths, { workdir, backend: 'npy' });
  expectCode(() => Frames.fromJSON(list.toJSON()), FramesError, 'ERR_FRAMES_JSON', 'not registered yet');
  Frames.register(ListFrames);
  const back = Frames.fromJSON(list.toJSON());
  assert.instance(back, ListFrames);
  sameArray(back.loadRegion(2, [[1, 5], [2, 9]]), demo.loadRegion(3, [[1, 5], [2, 9]]));
  assert.instance(SimpleFrames.fromJSON(demo.toJSON()), SimpleFrames, 'fromJSON on the subclass');
  expectCode(() => SimpleFrames.fromJSON(list.toJSON()), FramesError, 'ERR_FRAMES_JSON', 'a ListFrames is not a SimpleFrames');
  expectCode(() => Frames.fromJSON('{not json'), FramesError, 'ERR_FRAMES_JSON');
  expectCode(() => Frames.fromJSON({} as never), FramesError, 'ERR_FRAMES_JSON');
  expectCode(() => Frames.fromJSON({ ...demo.toJSON(), version: 2 } as never), FramesError, 'ERR_FRAMES_JSON');
  expectCode(() => Frames.fromJSON({ ...demo.toJSON(), state: 'x' }), FramesError, 'ERR_FRAMES_JSON');
  expectCode(() => Frames.register({} as never), TypeError, 'ERR_INVALID_ARG_TYPE');
  // A subclass without toState cannot be serialised, and says so.
  class NoState extends Frames {
    get imageIds(): ImageId[] { return []; }
    protected buildPathinfo(id: ImageId): Pathinfo { throw this.unknownImage(id); }
  }
  expectCode(() => new NoState({ workdir }).toJSON(), NdsamplerError, 'ERR_UNSUPPORTED');
});

test.run();
