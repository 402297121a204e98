// The ndsampler command, run as a child process (node -r tsx/cjs lib/cli.ts ...): demo's table,
// prepare's summary (files, folders, JSON lists), info, and the exit codes (2 for usage errors,
// 1 for failures).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CocoFrames } from '../lib';
import { makeArray, nodeArgs, writeImage } from './_frames-util';
import { rmrf, tempDir } from './_helpers/tmp';

const CLI = path.resolve(__dirname, '..', 'lib', 'cli.ts');
const root = tempDir('cli').dir;
test.after(() => rmrf(root));

function run(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [...nodeArgs(CLI), ...args], {
    cwd: root, encoding: 'utf8', env: { ...process.env, XDG_CACHE_HOME: path.join(root, 'xdg') }, timeout: 300_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const imgs = path.join(root, 'imgs');
fs.mkdirSync(path.join(imgs, 'sub'), { recursive: true });
const a = writeImage(path.join(imgs, 'a.png'), makeArray(20, 30, 3, 'uint8', (y, x, c) => y + x + c));
const b = writeImage(path.join(imgs, 'b.tif'), makeArray(16, 8, 1, 'uint16', (y, x) => y * 100 + x), 'GTiff');
writeImage(path.join(imgs, 'sub', 'c.png'), makeArray(10, 10, 1, 'uint8', (y, x) => y * x));
fs.writeFileSync(path.join(imgs, 'notes.txt'), 'not an image');

test('the cli file starts with a node shebang and is executable (dist/cli.js is the package bin)', () => {
  assert.ok(fs.readFileSync(CLI, 'utf8').startsWith('#!/usr/bin/env node\n'));
  // `npx ndsampler` in a fresh clone runs the built file itself: tsc writes it 0644, build:ts
  // (run by npm install's prepare) sets 0755.
  const bin = path.resolve(__dirname, '..', 'dist', 'cli.js');
  assert.ok(fs.readFileSync(bin, 'utf8').startsWith('#!/usr/bin/env node\n'));
  const mode = fs.statSync(bin).mode & 0o777;
  assert.ok((mode & 0o111) !== 0, `dist/cli.js mode ${mode.toString(8)}`);
});

test('usage errors print the usage on stderr and exit 2', () => {
  const cases = [
    [],
    ['frobnicate'],
    ['prepare'],
    ['prepare', a, '--workers', 'x'],
    ['prepare', a, '--workers', '-1'],
    ['prepare', a, '--backend', 'zarr'],
    ['prepare', a, '--hashid-mode', 'GIVEN'],
    ['prepare', a, '--unknown-flag'],
    ['info'],
    ['info', a, b],
    ['demo', 'extra'],
    ['demo', '--workdir'],
  ];
  for (const args of cases) {
    const r = run(...args);
    assert.is(r.code, 2, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, /Usage: ndsampler <command>/, args.join(' '));
    assert.is(r.out, '', `nothing on stdout: ${args.join(' ')}`);
  }
});

test('--help and --version exit 0', () => {
  for (const args of [['--help'], ['-h'], ['help'], ['prepare', '--help'], ['info', '-h']]) {
    const r = run(...args);
    assert.is(r.code, 0, args.join(' '));
    assert.match(r.out, /Commands:/);
  }
  const v = run('--version');
  assert.is(v.code, 0);
  assert.match(v.out.trim(), /^\d+\.\d+\.\d+/);
});

test('prepare: files, a folder and a JSON list; a summary; a second run reuses', () => {
  const workdir = path.join(root, 'w1');
  const r = run('prepare', imgs, '--workdir', workdir, '--backend', 'npy', '--workers', '2');
  assert.is(r.code, 0, r.err + r.out);
  assert.match(r.out, /prepared 2 images with the npy backend in [\d.]+ s: 2 built, 0 reused, 0 failed/);
  assert.match(r.out, new RegExp(`cache: ${workdir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/_cache/frames/npy/[0-9a-f]{8}`));
  assert.match(r.err, /progress: 2\/2 \(100%\)/, 'plain progress lines when stderr is not a TTY');
  const again = run('prepare', imgs, '--workdir', workdir, '--backend', 'npy', '--recursive');
  assert.is(again.code, 0, again.err);
  assert.match(again.out, /prepared 3 images .*: 1 built, 2 reused, 0 failed/);
  const list = path.join(root, 'list.json');
  fs.writeFileSync(list, JSON.stringify(['imgs/a.png', 'imgs/sub/c.png']));
  const fromList = run('prepare', list, b, '--workdir', workdir, '--backend', 'npy');
  assert.is(fromList.code, 0, fromList.err);
  assert.match(fromList.out, /prepared 3 images .*: 0 built, 3 reused, 0 failed/);
  const obj = path.join(root, 'ids.json');
  fs.writeFileSync(obj, JSON.stringify({ 10: 'imgs/a.png' }));
  assert.is(run('prepare', obj, '--workdir', workdir, '--backend', 'cog').code, 0);
});

test('prepare: failures are listed and exit 1', () => {
  const workdir = path.join(root, 'w2');
  const bad = path.join(root, 'bad.png');
  fs.writeFileSync(bad, 'not a png');
  const r = run('prepare', a, path.join(root, 'missing.png'), bad, '--workdir', workdir, '--backend', 'npy');
  assert.is(r.code, 1, r.err);
  assert.match(r.out, /prepared 3 images .*: 1 built, 0 reused, 2 failed/);
  assert.match(r.out, /failed: .*missing\.png: ERR_SOURCE_MISSING/);
  assert.match(r.out, /failed: .*bad\.png: ERR_GDAL_OPEN/);
  const empty = path.join(root, 'empty');
  fs.mkdirSync(empty);
  const none = run('prepare', empty, '--workdir', workdir);
  assert.is(none.code, 1);
  assert.match(none.err, /no images found/);
  const badJson = path.join(root, 'bad.json');
  fs.writeFileSync(badJson, '{');
  assert.is(run('prepare', badJson).code, 2);
});

test('info: shape, dtype, bands, COG or not, cache entries; a bad file exits 1', () => {
  const workdir = path.join(root, 'w1');
  const r = run('info', a, '--workdir', workdir);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /shape: +20 x 30 x 3/);
  assert.match(r.out, /dtype: +uint8/);
  assert.match(r.out, /bands: +3/);
  assert.match(r.out, /cog: +no/);
  assert.match(r.out, /cache \(npy\): .*\/_cache\/frames\/npy\/[0-9a-f]{8}\/[0-9a-f]{2}\/[0-9a-f]{32}\.npy \(present\)/);
  assert.match(r.out, /cache \(cog\): .*\.cog\.tif/);
  const t = run('info', b, '--workdir', workdir);
  assert.match(t.out, /dtype: +uint16/);
  assert.match(t.out, /shape: +16 x 8 x 1/);
  const missing = run('info', path.join(root, 'nope.png'));
  assert.is(missing.code, 1);
  assert.match(missing.err, /ERR_SOURCE_MISSING/);
  const text = run('info', path.join(imgs, 'notes.txt'));
  assert.is(text.code, 1);
  assert.match(text.err, /ERR_GDAL_OPEN/);
});

test('a kwcoco dataset: info summarises images, assets, channels and caches; prepare builds every asset, then reuses', () => {
  const dpath = path.join(root, 'kwcoco');
  const workdir = path.join(root, 'w-coco');
  CocoFrames.demo({ workdir, dpath }).close();
  const ds = path.join(dpath, 'data.kwcoco.json');
  const before = run('info', ds, '--workdir', workdir);
  assert.is(before.code, 0, before.err);
  assert.match(before.out, /images: +3/);
  assert.match(before.out, /feat\.0\|feat\.1/);
  assert.match(before.out, /assets: +12; built: npy 0\/12, cog 0\/12/);
  const p = run('prepare', ds, '--workdir', workdir, '--backend', 'cog');
  assert.is(p.code, 0, p.err);
  assert.match(p.out, /12 built, 0 reused, 0 failed/);
  const again = run('prepare', ds, '--workdir', workdir, '--backend', 'cog');
  assert.match(again.out, /0 built, 12 reused, 0 failed/);
  assert.match(run('info', ds, '--workdir', workdir).out, /built: npy 0\/12, cog 12\/12/);
});

test('demo: makes the demo images, prepares npy and cog, prints a timing table', () => {
  const workdir = path.join(root, 'demo');
  const r = run('demo', '--workdir', workdir);
  assert.is(r.code, 0, r.err + r.out);
  assert.match(r.out, /image 1: 512 x 512 x 3 uint8/);
  assert.match(r.out, /backend +prepare +entries +crop 32x32 +crop 224x224 +loadImage/);
  assert.match(r.out, /\nnone +- +no cache +[\d.]+ (µs|ms)/);
  assert.match(r.out, /\nnpy +[\d.]+ ms +3 built, 0 reused +[\d.]+ (µs|ms)/);
  assert.match(r.out, /\ncog +[\d.]+ ms +3 built, 0 reused +[\d.]+ (µs|ms)/);
  assert.match(r.out, /identical across backends/);
  assert.equal(fs.readdirSync(path.join(workdir, 'demo_images')).length, 3);
  const again = run('demo', '--workdir', workdir);
  assert.is(again.code, 0);
  assert.match(again.out, /\nnpy +[\d.]+ ms +0 built, 3 reused/);
});

test('bench: --help prints the usage; the benchmark script itself is spawned from the package root', () => {
  const r = run('bench', '--help');
  assert.is(r.code, 0);
  assert.match(r.out, /bench \[args\.\.\.\]/);
});

test.run();
