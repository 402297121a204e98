// Invalid input, per public Frames / SimpleFrames / AlignableImageData method: the class and code
// of what each raises. Nothing a caller passes may crash the process.
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AlignableImageData } from '../lib/frames/alignable';
import { BackendConfigError, FramesError, RegionError } from '../lib/errors';
import { Frames } from '../lib/frames/frames';
import { allocate } from '../lib/ndarray';
import { SimpleFrames } from '../lib/frames/simple-frames';
import { expectCode, expectCodeAsync } from './_helpers/errors';
import { rmrf, tempDir } from './_helpers/tmp';


const workdir = tempDir('invalid').dir;
test.after(() => rmrf(workdir));
const frames = SimpleFrames.demo({ workdir, backend: 'npy' });
const T = TypeError;
const TYPE = 'ERR_INVALID_ARG_TYPE';
const RANGE = 'ERR_OUT_OF_RANGE';

test('SimpleFrames constructor and demo', () => {
  expectCode(() => new SimpleFrames(null as never), T, TYPE);
  expectCode(() => new SimpleFrames('a.png' as never), T, TYPE);
  expectCode(() => new SimpleFrames([['1', 'a.png']] as never), T, TYPE);
  expectCode(() => new SimpleFrames({ 1: 42 } as never), T, TYPE);
  expectCode(() => new SimpleFrames({ 1: '' }), T, TYPE);
  expectCode(() => new SimpleFrames(new Map<unknown, string>([[{}, 'a.png']]) as never), T, TYPE);
  expectCode(() => new SimpleFrames(new Map<unknown, string>([[NaN, 'a.png']]) as never), T, TYPE);
  expectCode(() => new SimpleFrames(new Map<string | number, string>([[1, 'a.png'], ['1', 'b.png']])), FramesError, 'ERR_PATHINFO');
  expectCode(() => new SimpleFrames({}, { hashidMode: 'pixels' as never }), T, TYPE);
  expectCode(() => new SimpleFrames({}, { workdir: 7 as never }), T, TYPE);
  expectCode(() => new SimpleFrames({}, { workdir: '' }), T, TYPE);
  expectCode(() => new SimpleFrames({}, { backend: 'zarr' as never }), BackendConfigError, 'ERR_BACKEND_CONFIG');
  expectCode(() => new SimpleFrames({}, { maxReaders: 0 }), RangeError, RANGE);
  expectCode(() => new SimpleFrames({}, { maxReaders: 1.5 }), RangeError, RANGE);
  expectCode(() => new SimpleFrames({}, { workdri: '/tmp' } as never), T, TYPE);
  expectCode(() => new SimpleFrames({}, 'npy' as never), T, TYPE);
  expectCode(() => SimpleFrames.demo({ workdir: 3 as never }), T, TYPE);
  expectCode(() => SimpleFrames.demo({ backend: 'x' as never, workdir }), BackendConfigError, 'ERR_BACKEND_CONFIG');
  expectCode(() => SimpleFrames.demo({ wrkdir: workdir } as never), T, TYPE);
});

test('static coerceBackendConfig, buildFileHashid, register, fromJSON', () => {
  expectCode(() => Frames.coerceBackendConfig({ type: 'npy', extra: 1 } as never), BackendConfigError, 'ERR_BACKEND_CONFIG');
  expectCode(() => Frames.coerceBackendConfig(Symbol('x') as never), BackendConfigError, 'ERR_BACKEND_CONFIG');
  expectCode(() => Frames.buildFileHashid(null as never, 'a', 'PATH'), T, TYPE);
  expectCode(() => Frames.buildFileHashid('', '', 'PATH'), T, TYPE);
  expectCode(() => Frames.buildFileHashid('', 'a', 'path'), T, TYPE);
  expectCode(() => Frames.buildFileHashid('', 'a', 'GIVEN'), FramesError, 'ERR_HASHID');
  expectCode(() => Frames.buildFileHashid(workdir, 'no-such-file', 'PIXELS'), Error, 'ERR_SOURCE_MISSING');
  expectCode(() => Frames.buildFileHashid('/', workdir, 'PIXELS'), Error, 'ERR_NOT_A_FILE');
  expectCode(() => Frames.register(class {} as never), T, TYPE);
  expectCode(() => Frames.register(SimpleFrames, ''), T, TYPE);
  expectCode(() => Frames.fromJSON(null as never), FramesError, 'ERR_FRAMES_JSON');
  expectCode(() => Frames.fromJSON('[]'), FramesError, 'ERR_FRAMES_JSON');
  expectCode(() => Frames.fromJSON({ ...frames.toJSON(), class: 'Nope' }), FramesError, 'ERR_FRAMES_JSON');
  expectCode(() => Frames.fromJSON({ ...frames.toJSON(), backend: { type: 'zarr' } as never }), BackendConfigError, 'ERR_BACKEND_CONFIG');
  expectCode(() => Frames.fromJSON({ ...frames.toJSON(), hashidMode: 'X' as never }), T, TYPE);
});

test('updateBackend and maxReaders', () => {
  const f = SimpleFrames.demo({ workdir });
  expectCode(() => f.updateBackend({ type: 'cog', config: { compres: 'LZW' } } as never), BackendConfigError, 'ERR_BACKEND_CONFIG');
  expectCode(() => f.updateBackend(1 as never), BackendConfigError, 'ERR_BACKEND_CONFIG');
  expectCode(() => { f.maxReaders = 0; }, RangeError, RANGE);
  expectCode(() => { f.maxReaders = '3' as never; }, T, TYPE);
  assert.is(f.backend.type, null);
});

test('loadRegion', () => {
  expectCode(() => frames.loadRegion(99), FramesError, 'ERR_UNKNOWN_IMAGE');
  expectCode(() => frames.loadRegion(undefined as never), T, TYPE);
  expectCode(() => frames.loadRegion({} as never), T, TYPE);
  expectCode(() => frames.loadRegion(Infinity), T, TYPE);
  expectCode(() => frames.loadRegion('' as never), T, TYPE);
  expectCode(() => frames.loadRegion(1, 'all' as never), RegionError, 'ERR_REGION');
  expectCode(() => frames.loadRegion(1, [5 as never, null]), RegionError, 'ERR_REGION');
  expectCode(() => frames.loadRegion(1, [[0, 10, 2], null] as never), RegionError, 'ERR_REGION_STEP');
  expectCode(() => frames.loadRegion(1, [null, null, null, null]), RegionError, 'ERR_REGION');
  expectCode(() => frames.loadRegion(1, [[0.5, 3], null]), RangeError, RANGE);
  expectCode(() => frames.loadRegion(1, [['0', 3] as never, null]), T, TYPE);
  expectCode(() => frames.loadRegion(1, [{ begin: 0 } as never, null]), RegionError, 'ERR_REGION');
  expectCode(() => frames.loadRegion(1, null, { chanels: 'x' } as never), T, TYPE);
  expectCode(() => frames.loadRegion(1, null, 'x' as never), T, TYPE);
  expectCode(() => frames.loadRegion(1, null, { width: -1 }), RangeError, RANGE);
  expectCode(() => frames.loadRegion(1, null, { height: 'tall' as never }), T, TYPE);
  expectCode(() => frames.loadRegion(1, [[0, 4], [0, 4]], { channels: 'nir' }), FramesError, 'ERR_CHANNELS');
  expectCode(() => frames.loadRegion(1, [[0, 4], [0, 4]], { out: allocate([3, 3, 3], 'uint8') }), RegionError, 'ERR_OUT_BUFFER');
  expectCode(() => frames.loadRegion(1, [[0, 4], [0, 4]], { out: allocate([4, 4, 3], 'float32') }), RegionError, 'ERR_OUT_BUFFER');
  expectCode(() => frames.loadRegion(1, [[0, 4], [0, 4]], { out: { data: [1, 2] } as never }), T, TYPE);
  const out = allocate([4, 4, 3], 'uint8');
  assert.is(frames.loadRegion(1, [[0, 4], [0, 4]], { out }).data, out.data, 'a valid out is filled and returned');
});

test('loadRegionAsync and loadRegions reject (never throw synchronously)', async () => {
  await expectCodeAsync(() => frames.loadRegionAsync(99, null), FramesError, 'ERR_UNKNOWN_IMAGE');
  await expectCodeAsync(() => frames.loadRegionAsync(null as never, null), T, TYPE);
  await expectCodeAsync(() => frames.loadRegionAsync(1, [[0, 1, 3], null] as never), RegionError, 'ERR_REGION_STEP');
  await expectCodeAsync(() => frames.loadRegionAsync(1, null, { bogus: 1 } as never), T, TYPE);
  await expectCodeAsync(() => frames.loadRegions('x' as never), T, TYPE);
  await expectCodeAsync(() => frames.loadRegions([null as never]), T, TYPE);
  await expectCodeAsync(() => frames.loadRegions([{ imageId: 1, region: null, extra: 1 } as never]), T, TYPE);
  await expectCodeAsync(() => frames.loadRegions([{ imageId: 1 }, { imageId: 42 }]), FramesError, 'ERR_UNKNOWN_IMAGE');
  await expectCodeAsync(() => frames.loadRegions([{ imageId: 1 }], { out: allocate([1, 1, 1], 'uint8') }), T, TYPE);
  assert.equal(await frames.loadRegions([]), []);
});

test('loadImage, loadFrame, at, lookupPathinfo', () => {
  expectCode(() => frames.loadImage(0), FramesError, 'ERR_UNKNOWN_IMAGE');
  expectCode(() => frames.loadImage([1] as never), T, TYPE);
  expectCode(() => frames.loadImage(1, { cache: 'no' as never }), T, TYPE);
  expectCode(() => frames.loadImage(1, { noreturn: 1 as never }), T, TYPE);
  expectCode(() => frames.loadImage(1, { region: null } as never), T, TYPE);
  expectCode(() => frames.loadImage(1, { channels: ['x'] }), FramesError, 'ERR_CHANNELS');
  expectCode(() => frames.loadFrame(5), FramesError, 'ERR_UNKNOWN_IMAGE');
  expectCode(() => frames.loadFrame(true as never), T, TYPE);
  expectCode(() => frames.loadFrame(1).get([[0, 2, 2], null] as never), RegionError, 'ERR_REGION_STEP');
  expectCode(() => frames.at(3), RangeError, RANGE);
  expectCode(() => frames.at(-4), RangeError, RANGE);
  expectCode(() => frames.at(0.5), RangeError, RANGE);
  expectCode(() => frames.at('0' as never), T, TYPE);
  expectCode(() => frames.lookupPathinfo(7), FramesError, 'ERR_UNKNOWN_IMAGE');
});

test('prepare rejects bad options', async () => {
  await expectCodeAsync(() => frames.prepare('all' as never), T, TYPE);
  await expectCodeAsync(() => frames.prepare({ workers: -1 }), RangeError, RANGE);
  await expectCodeAsync(() => frames.prepare({ workers: 2.5 }), RangeError, RANGE);
  await expectCodeAsync(() => frames.prepare({ workers: '2' as never }), T, TYPE);
  await expectCodeAsync(() => frames.prepare({ gids: 1 as never }), T, TYPE);
  await expectCodeAsync(() => frames.prepare({ gids: [1, 9] }), FramesError, 'ERR_UNKNOWN_IMAGE');
  await expectCodeAsync(() => frames.prepare({ gids: [{}] as never }), T, TYPE);
  await expectCodeAsync(() => frames.prepare({ useStamp: 'yes' as never }), T, TYPE);
  await expectCodeAsync(() => frames.prepare({ onProgress: 'log' as never }), T, TYPE);
  await expectCodeAsync(() => frames.prepare({ throwOnError: 1 as never }), T, TYPE);
  await expectCodeAsync(() => frames.prepare({ gid: [1] } as never), T, TYPE);
});

test('a subclass whose buildPathinfo returns junk gets ERR_PATHINFO', () => {
  class Junk extends Frames {
    get imageIds() { return [1]; }
    protected buildPathinfo() { return 'nope' as never; }
  }
  expectCode(() => new Junk({ workdir }).loadRegion(1), FramesError, 'ERR_PATHINFO');
  class NoPath extends Frames {
    get imageIds() { return [1]; }
    protected buildPathinfo(id: number) {
      const chan = { path: 3 };
      this.populateChanInfo(chan as never);
      return { id, channels: { a: chan as never }, default: 'a' };
    }
  }
  expectCode(() => new NoPath({ workdir }).loadRegion(1), T, TYPE);
});

test('AlignableImageData constructor and loadRegion', async () => {
  const good = frames.lookupPathinfo(1);
  expectCode(() => new AlignableImageData(undefined as never, null), T, TYPE);
  expectCode(() => new AlignableImageData({ id: 1, channels: [] as never, default: null }, null), T, TYPE);
  expectCode(() => new AlignableImageData({ id: 1, channels: { a: 'x.png' } as never, default: 'a' }, null), FramesError, 'ERR_PATHINFO');
  expectCode(() => new AlignableImageData(good, { type: 'npy', config: { x: 1 } }), BackendConfigError, 'ERR_BACKEND_CONFIG');
  const al = new AlignableImageData(good, frames.backend);
  expectCode(() => al.loadRegion([[0, 1, 5]] as never), RegionError, 'ERR_REGION_STEP');
  expectCode(() => al.loadRegion(null, { channels: [1] as never }), T, TYPE);
  expectCode(() => al.loadRegion(null, { cache: 0 as never }), T, TYPE);
  await expectCodeAsync(() => al.loadRegionAsync(null, { channels: 'zz' }), FramesError, 'ERR_CHANNELS');
  const missing = new AlignableImageData({ id: 9, channels: { a: { path: path.join(workdir, 'gone.png') } }, default: 'a' }, null);
  expectCode(() => missing.loadRegion(null), Error, 'ERR_SOURCE_MISSING');
  al.close();
});

test.run();
