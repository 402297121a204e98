// loadFrame: a lazy frame reads nothing until get(region), and then only that region. Proven by
// counting the native reader objects constructed and every native read with its window (spies
// on the binding), and by the absence of cache files.
import * as fs from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FramesError } from '../lib/errors';
import { Frames } from '../lib/frames/frames';
import { native, REQ } from '../lib/native';
import { DEFAULT_CHANNEL, SimpleFrames } from '../lib/frames/simple-frames';
import { listFiles, sameArray } from './_frames-util';
import { expectCode } from './_helpers/errors';
import { rmrf, tempDir } from './_helpers/tmp';

interface Spy { opens: string[]; reads: Array<{ file: string; window: number[] }>; hashes: number }
const spy: Spy = { opens: [], reads: [], hashes: 0 };
const reset = () => { spy.opens = []; spy.reads = []; spy.hashes = 0; };

type Ctor = new (file: string, ...rest: unknown[]) => Record<string | symbol, unknown>;

/**
 * Replaces native.<name> with a constructor that records each file opened and returns a stand-in
 * forwarding every property to the real native object, except readInto / readIntoAsync, which
 * also record their window. Synchronous npy reads go through native.npyReadInto (by the reader's
 * slot), which is wrapped the same way below.
 */
function watch(name: 'NpyReader' | 'RasterReader'): void {
  const Real = native[name] as unknown as Ctor;
  (native as unknown as Record<string, unknown>)[name] = new Proxy(Real, {
    construct(target, args: [string, ...unknown[]]) {
      const obj = new target(...args);
      spy.opens.push(args[0]);
      if (name === 'NpyReader') {
        const { slot, slotGen } = (obj.info as () => { slot: number; slotGen: number })();
        slotFiles.set(`${slot}:${slotGen}`, args[0]);
      }
      const record = (m: 'readInto' | 'readIntoAsync') => (dst: unknown, req: Float64Array) => {
        spy.reads.push({ file: args[0], window: [req[REQ.Y0], req[REQ.Y1], req[REQ.X0], req[REQ.X1], req[REQ.C0], req[REQ.C1]] });
        return (obj[m] as (d: unknown, r: Float64Array) => unknown).call(obj, dst, req);
      };
      const spies: Record<string, unknown> = { readInto: record('readInto'), readIntoAsync: record('readIntoAsync') };
      return new Proxy({}, {
        get(_t, key) {
          if (typeof key === 'string' && key in spies) return spies[key];
          const value = obj[key];
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(obj) : value;
        },
      });
    },
  });
}
const slotFiles = new Map<string, string>();
const realNpyReadInto = native.npyReadInto;
native.npyReadInto = (slot, gen, dst, req) => {
  spy.reads.push({ file: slotFiles.get(`${slot}:${gen}`) ?? '?', window: [req[REQ.Y0], req[REQ.Y1], req[REQ.X0], req[REQ.X1], req[REQ.C0], req[REQ.C1]] });
  return realNpyReadInto(slot, gen, dst, req);
};
watch('NpyReader');
watch('RasterReader');
const realHashid = Frames.buildFileHashid;
Frames.buildFileHashid = (root, suffix, mode) => {
  spy.hashes++;
  return realHashid.call(Frames, root, suffix, mode);
};

const workdir = tempDir('lazy').dir;
test.after(() => rmrf(workdir));
const demo = SimpleFrames.demo({ workdir });

for (const backend of ['npy', 'cog'] as const) {
  test(`${backend}: loadFrame reads nothing; shape reads a header; get reads exactly its region and builds nothing`, async () => {
    const frames = new SimpleFrames(new Map(demo.imageIds.map((id) => [id, demo.lookupPathinfo(id).channels[DEFAULT_CHANNEL].path])),
      { workdir, backend, hashidMode: 'PIXELS' });
    reset();
    const frame = frames.loadFrame(1);
    assert.equal(spy, { opens: [], reads: [], hashes: 0 }, 'loadFrame touches no file, not even to hash it');
    assert.equal(frame.shape, [512, 512, 3]);
    assert.is(frame.dtype, 'uint8');
    assert.is(spy.opens.length, 1, 'shape opened one file');
    assert.is(spy.reads.length, 0, 'shape read no pixels');
    reset();
    const crop = frame.get([[10, 20], [30, 50]]);
    assert.equal(crop.shape, [10, 20, 3]);
    assert.equal(spy.reads.map((r) => r.window), [[10, 20, 30, 50, 0, 3]], 'one native read of exactly the region');
    assert.equal(listFiles(frames.cacheDpath as string).length, 0, 'no cache entry was built');
    sameArray(crop, demo.loadRegion(1, [[10, 20], [30, 50]]));
    const expected = demo.loadRegion(1, [[-5, null], [null, 3]]);
    reset();
    const got = await frame.getAsync([[-5, null], [null, 3]]);
    assert.equal(spy.reads.map((r) => r.window), [[507, 512, 0, 3, 0, 3]], 'async: one read of exactly the region');
    sameArray(got, expected);
    assert.equal(listFiles(frames.cacheDpath as string).length, 0);
    // Once the cache entry exists, the frame reads from it, still only the region.
    await frames.prepare({ gids: [1] });
    frames.close();
    const entry = frames.lookupPathinfo(1).channels[DEFAULT_CHANNEL].cache as string;
    reset();
    const again = frames.loadFrame(1).get([[100, 101], [200, 264], [1, 2]]);
    assert.equal(spy.reads, [{ file: entry, window: [100, 101, 200, 264, 1, 2] }]);
    sameArray(again, demo.loadRegion(1, [[100, 101], [200, 264], [1, 2]]));
    frames.close();
  });
}

test('loadFrame of an unknown id fails at once with ERR_UNKNOWN_IMAGE; the frame reports its image id', () => {
  expectCode(() => demo.loadFrame(99), FramesError, 'ERR_UNKNOWN_IMAGE');
  expectCode(() => demo.loadFrame({} as never), TypeError, 'ERR_INVALID_ARG_TYPE');
  assert.is(demo.loadFrame(2).imageId, 2);
  assert.equal(demo.loadFrame(2).shape, demo.loadImage(2)?.shape);
});

test('the original bug is gone: get on a big image does not decode the whole image', () => {
  reset();
  demo.close();
  const frame = demo.loadFrame(1);
  frame.get([[0, 1], [0, 1]]);
  const total = spy.reads.reduce((n, r) => n + (r.window[1] - r.window[0]) * (r.window[3] - r.window[2]), 0);
  assert.is(total, 1, 'one pixel read');
  assert.ok(fs.existsSync(demo.lookupPathinfo(1).channels[DEFAULT_CHANNEL].path));
});

test.run();
