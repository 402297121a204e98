// Backend configs: coerceBackendConfig's cases, errors naming the offending key, the cache
// directory per type and config, updateBackend resetting derived state, and the default workdir.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BackendConfigError } from '../lib/errors';
import { defaultWorkdir, Frames } from '../lib/frames/frames';
import { native } from '../lib/native';
import { DEFAULT_CHANNEL, SimpleFrames } from '../lib/frames/simple-frames';
import { sameArray } from './_frames-util';
import { expectCode } from './_helpers/errors';
import { rmrf, tempDir } from './_helpers/tmp';

const root = tempDir('config').dir;
test.after(() => rmrf(root));

test('coerceBackendConfig: null/undefined, npy, cog, auto and {type, config}', () => {
  assert.equal(Frames.coerceBackendConfig(null), { type: null, config: {} });
  assert.equal(Frames.coerceBackendConfig(undefined), { type: null, config: {} });
  assert.equal(Frames.coerceBackendConfig(), { type: null, config: {} });
  assert.equal(Frames.coerceBackendConfig('npy'), { type: 'npy', config: {} });
  assert.equal(Frames.coerceBackendConfig('npy'), { ...Frames.DEFAULT_NPY_CONFIG });
  assert.equal(Frames.coerceBackendConfig('cog'), { type: 'cog', config: { ...Frames.DEFAULT_COG_CONFIG.config } });
  assert.is(Frames.DEFAULT_COG_CONFIG.config.compress, 'auto');
  assert.equal(Frames.coerceBackendConfig('auto').type, native.hasDriver('COG') ? 'cog' : 'npy');
  assert.equal(Frames.coerceBackendConfig({ type: 'npy' }), { type: 'npy', config: {} });
  assert.equal(Frames.coerceBackendConfig({ type: 'npy', config: {} }), { type: 'npy', config: {} });
  assert.equal(Frames.coerceBackendConfig({ type: null }), { type: null, config: {} });
  const cog = Frames.coerceBackendConfig({ type: 'cog', config: { compress: 'DEFLATE', blocksize: 512 } });
  assert.is(cog.type, 'cog');
  assert.is(cog.config.compress, 'DEFLATE');
  assert.is(cog.config.blocksize, 512);
  for (const key of Object.keys(Frames.DEFAULT_COG_CONFIG.config)) assert.ok(key in cog.config, `default ${key} filled in`);
  assert.equal(Frames.coerceBackendConfig({ type: 'auto', config: {} }).type, native.hasDriver('COG') ? 'cog' : 'npy');
});

test('coerceBackendConfig returns fresh objects; the defaults are frozen', () => {
  const c = Frames.coerceBackendConfig('cog');
  c.config.compress = 'LZW';
  assert.is(Frames.DEFAULT_COG_CONFIG.config.compress, 'auto');
  assert.ok(Object.isFrozen(Frames.DEFAULT_COG_CONFIG) && Object.isFrozen(Frames.DEFAULT_COG_CONFIG.config));
  assert.ok(Object.isFrozen(Frames.DEFAULT_NPY_CONFIG));
});

test('unknown keys at either level and bad specs raise ERR_BACKEND_CONFIG naming the key', () => {
  const cases: Array<[unknown, RegExp]> = [
    [{ type: 'cog', typo: 1 }, /'typo'/],
    [{ type: 'cog', config: { compresion: 'LZW' } }, /'compresion'/],
    [{ type: 'npy', config: { compress: 'LZW' } }, /'compress'/],
    [{ type: null, config: { x: 1 } }, /'x'/],
    [{ type: 'zarr' }, /zarr/],
    [{ config: {} }, /type/],
    ['zarr', /zarr/],
    ['', /backend/],
    [42, /number 42/],
    [['npy'], /array/],
    [{ type: 'cog', config: 'fast' }, /config/],
    [{ type: 'cog', config: { blocksize: 100 } }, /blocksize/],
  ];
  for (const [spec, re] of cases) {
    const e = expectCode(() => Frames.coerceBackendConfig(spec as never), BackendConfigError, 'ERR_BACKEND_CONFIG', JSON.stringify(spec));
    assert.match(e.message, re, JSON.stringify(spec));
  }
  expectCode(() => new SimpleFrames({}, { workdir: root, backend: { type: 'cog', config: { nope: 1 } } as never }), BackendConfigError, 'ERR_BACKEND_CONFIG');
});

test('cacheDpath: <workdir>/_cache/frames/<type>/<config hash>; equal configs share it, null has none', () => {
  const mk = (backend: unknown) => new SimpleFrames({}, { workdir: root, backend: backend as never });
  assert.is(mk(null).cacheDpath, null);
  const npy = mk('npy').cacheDpath as string;
  assert.match(npy, new RegExp(`^${path.join(root, '_cache', 'frames', 'npy').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/[0-9a-f]{8}$`));
  const cog = mk('cog').cacheDpath;
  assert.is(mk({ type: 'cog' }).cacheDpath, cog);
  assert.is(mk({ type: 'cog', config: { compress: 'auto' } }).cacheDpath, cog);
  assert.is(mk({ type: 'cog', config: { blocksize: 256, compress: 'auto' } }).cacheDpath, cog, 'key order does not matter');
  assert.is.not(mk({ type: 'cog', config: { compress: 'DEFLATE' } }).cacheDpath, cog);
  assert.ok((cog as string).includes(`${path.sep}cog${path.sep}`));
  assert.is(fs.existsSync(npy), false, 'cacheDpath is not created until something is built');
});

test('updateBackend resets the cache directory, memoised pathinfo and open readers', () => {
  const workdir = path.join(root, 'update');
  const frames = SimpleFrames.demo({ workdir, backend: 'npy' });
  const crop = frames.loadRegion(1, [[5, 25], [5, 25]]);
  const npyInfo = frames.lookupPathinfo(1);
  assert.ok((npyInfo.channels[DEFAULT_CHANNEL].cache as string).endsWith('.npy'));
  const npyDpath = frames.cacheDpath;
  frames.updateBackend('cog');
  assert.equal(frames.backend.type, 'cog');
  assert.is.not(frames.cacheDpath, npyDpath);
  const cogInfo = frames.lookupPathinfo(1);
  assert.is.not(cogInfo, npyInfo, 'pathinfo rebuilt');
  assert.ok((cogInfo.channels[DEFAULT_CHANNEL].cache as string).endsWith('.cog.tif'));
  sameArray(frames.loadRegion(1, [[5, 25], [5, 25]]), crop, 'same pixels through the new backend');
  assert.ok(fs.existsSync(cogInfo.channels[DEFAULT_CHANNEL].cache as string), 'read through a new cog entry');
  frames.updateBackend(null);
  assert.is(frames.cacheDpath, null);
  assert.is(frames.lookupPathinfo(1).channels[DEFAULT_CHANNEL].cache, null);
  sameArray(frames.loadRegion(1, [[5, 25], [5, 25]]), crop);
  expectCode(() => frames.updateBackend('zarr' as never), BackendConfigError, 'ERR_BACKEND_CONFIG');
  assert.is(frames.backend.type, null, 'a rejected spec changes nothing');
  frames.updateBackend({ type: 'npy' });
  assert.is(frames.cacheDpath, npyDpath);
});

test('workdir: defaults to the per-user cache directory with a warning (only when there is a backend)', async () => {
  const xdg = path.join(root, 'xdg');
  const old = process.env.XDG_CACHE_HOME;
  process.env.XDG_CACHE_HOME = xdg;
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  process.on('warning', onWarning);
  try {
    assert.is(defaultWorkdir(), path.join(xdg, 'ndsampler'));
    const quiet = new SimpleFrames({});
    assert.is(quiet.workdir, path.join(xdg, 'ndsampler'));
    const loud = new SimpleFrames({}, { backend: 'npy' });
    assert.is(loud.workdir, path.join(xdg, 'ndsampler'));
    assert.ok((loud.cacheDpath as string).startsWith(path.join(xdg, 'ndsampler', '_cache', 'frames', 'npy')));
    await new Promise((r) => setImmediate(r));
    assert.is(warnings.length, 1);
    assert.is((warnings[0] as Error & { code?: string }).code, 'NDSAMPLER_WORKDIR');
    assert.match(warnings[0].message, /workdir not specified/);
    process.env.XDG_CACHE_HOME = '';
    assert.is(defaultWorkdir(), path.join(os.homedir(), '.cache', 'ndsampler'));
    const rel = new SimpleFrames({}, { workdir: 'relative/dir' });
    assert.is(rel.workdir, path.resolve('relative/dir'), 'workdir is made absolute');
  } finally {
    process.off('warning', onWarning);
    if (old === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = old;
  }
});

test.run();
