/**
 * The error classes and the one rule for which class an error gets (docs/api.md, "Errors"):
 * TypeError for a wrong JS type or argument shape, RangeError for a number out of its documented
 * range, a coded NdsamplerError subclass for anything that depends on the image, file, cache or
 * object state. And no message shows "undefined".
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  NdsamplerError, NpyFormatError, RegionError, FileError, GdalError, BackendConfigError, ClosedError, FramesError,
  ERROR_CODES, allocate, openImage, writeNpy, writeRaster, coerceCogConfig, normalizeRegion, setTileCacheBudget,
  SimpleFrames, Frames,
} from '../lib/index';
import { writeFileAtomic } from '../lib/atomic';
import { makeError } from '../lib/errors';
import { expectCode, expectCodeAsync } from './_helpers/errors';
import type { CodedError } from './_helpers/errors';
import { tempDir } from './_helpers/tmp';

const { dir, cleanup } = tempDir('errors');
const npy = path.join(dir, 'a.npy');
writeNpy(npy, allocate([4, 5, 3], 'uint8', true));

const seen: CodedError[] = [];
const keep = (e: CodedError) => { seen.push(e); return e; };

test('every code maps to its class; makeError builds it; name is the class name', () => {
  const classes = [NpyFormatError, RegionError, FileError, GdalError, BackendConfigError, ClosedError, FramesError];
  for (const [code, Cls] of Object.entries(ERROR_CODES)) {
    const e = makeError(code, 'm', { path: '/x', errno: 2, syscall: 'open' });
    assert.instance(e, Cls);
    assert.instance(e, NdsamplerError);
    assert.is(e.code, code);
    assert.is(e.name, Cls.name);
    assert.is(e.path, '/x');
    assert.is(e.errno, 2);
    assert.is(e.syscall, 'open');
  }
  for (const Cls of classes) assert.ok(Object.values(ERROR_CODES).includes(Cls), `${Cls.name} carries a code`);
  const bare = new FileError('ERR_IO', 'm', { path: undefined });
  assert.is(bare.path, undefined, 'an undefined prop stays unset');
});

test('file errors carry code, path, errno and syscall', () => {
  const missing = path.join(dir, 'missing.npy');
  const e = keep(expectCode(() => openImage(missing), FileError, 'ERR_SOURCE_MISSING'));
  assert.is(e.path, missing);
  assert.type(e.errno, 'number');
  const w = keep(expectCode(() => writeFileAtomic(path.join(dir, 'no', 'such', 'f.json'), '{}'), FileError, 'ERR_SOURCE_MISSING'));
  assert.is(w.path, path.join(dir, 'no', 'such', 'f.json'));
  assert.type(w.errno, 'number');
  assert.is(w.syscall, 'open');
  assert.equal(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'no temp file left');
});

test('the rule: TypeError for a wrong type or argument shape, regardless of any image', () => {
  keep(expectCode(() => openImage(42 as never), TypeError, 'ERR_INVALID_ARG_TYPE'));
  keep(expectCode(() => openImage(npy, { kind: 'tiff' as never }), TypeError, 'ERR_INVALID_ARG_TYPE'));
  const r = openImage(npy);
  keep(expectCode(() => r.read(null, { copy: 'no' as never }), TypeError, 'ERR_INVALID_ARG_TYPE'));
  keep(expectCode(() => r.read(null, { out: new Uint8Array(60) as never }), TypeError, 'ERR_INVALID_ARG_TYPE'));
  keep(expectCode(() => writeRaster(path.join(dir, 'x.bmp2'), allocate([2, 2, 1], 'uint8')), TypeError, 'ERR_INVALID_ARG_TYPE'));
  keep(expectCode(() => new SimpleFrames(42 as never), TypeError, 'ERR_INVALID_ARG_TYPE'));
  keep(expectCode(() => new SimpleFrames({ 1: npy }, { workdir: dir, hashidMode: undefined, backend: null, bogus: 1 } as never), TypeError, 'ERR_INVALID_ARG_TYPE'));
  r.close();
});

test('the rule: RangeError for a number outside its documented range', () => {
  const r = openImage(npy);
  keep(expectCode(() => r.read(null, { scale: 2 }), RangeError, 'ERR_OUT_OF_RANGE'));
  keep(expectCode(() => normalizeRegion([[1.5, 2]], [4, 5, 3]), RangeError, 'ERR_OUT_OF_RANGE'));
  keep(expectCode(() => setTileCacheBudget(-1), RangeError, 'ERR_OUT_OF_RANGE'));
  const frames = new SimpleFrames({ 1: npy }, { workdir: dir });
  keep(expectCode(() => frames.at(5), RangeError, 'ERR_OUT_OF_RANGE'));
  r.close();
});

test('the rule: a coded NdsamplerError for what depends on the image, file, cache or state', async () => {
  const r = openImage(npy);
  // An out whose dtype or shape does not match the read: the same class and code on every path.
  keep(expectCode(() => r.read(null, { out: allocate([4, 5, 3], 'float32') }), RegionError, 'ERR_OUT_BUFFER'));
  keep(expectCode(() => r.read(null, { out: allocate([4, 4, 3], 'uint8') }), RegionError, 'ERR_OUT_BUFFER'));
  keep(await expectCodeAsync(() => r.readAsync(null, { out: allocate([4, 5, 3], 'float32') }), RegionError, 'ERR_OUT_BUFFER'));
  const frames = new SimpleFrames({ 1: npy }, { workdir: dir });
  keep(expectCode(() => frames.loadRegion(1, [[0, 2]], { out: allocate([2, 5, 3], 'int16') }), RegionError, 'ERR_OUT_BUFFER'));
  keep(expectCode(() => frames.loadRegion(7), FramesError, 'ERR_UNKNOWN_IMAGE'));
  keep(expectCode(() => r.read([[0, 4, 2]] as never), RegionError, 'ERR_REGION_STEP'));
  keep(expectCode(() => r.read(5 as never), RegionError, 'ERR_REGION'));
  keep(expectCode(() => coerceCogConfig({ bogus: 1 }), BackendConfigError, 'ERR_BACKEND_CONFIG'));
  keep(expectCode(() => Frames.coerceBackendConfig({ type: 'zarr' } as never), BackendConfigError, 'ERR_BACKEND_CONFIG'));
  fs.writeFileSync(path.join(dir, 'bad.npy'), 'not an npy file at all');
  keep(expectCode(() => openImage(path.join(dir, 'bad.npy')), NpyFormatError, 'ERR_NPY_HEADER'));
  r.close();
  keep(expectCode(() => r.read(), ClosedError, 'ERR_CLOSED'));
});

test('no message shows "undefined"', () => {
  keep(expectCode(() => openImage(undefined as never), TypeError, 'ERR_INVALID_ARG_TYPE'));
  assert.ok(seen.length > 20, `${seen.length} errors collected`);
  for (const e of seen) assert.not.match(e.message, /undefined/, `${e.constructor.name} ${e.code}: ${e.message}`);
});

test.after(cleanup);
test.run();
