'use strict';
// The child side of test/worker-terminate.test.ts (plain JS on the built package, so a worker
// starts in milliseconds): terminates TOTAL workers at random moments while they run async npy and
// raster reads (with and without `out`, views), writeCogAsync/convertToNpyAsync, Frames.prepare
// and cache-key hashing, two at a time; every sixth worker is terminated while it is still loading
// the package (and the addon). Prints one JSON line; a crash shows as a signal or exit code.
//   node terminate-child.js <dir> <total>
const path = require('node:path');
const { Worker } = require('node:worker_threads');
const LIB = path.resolve(__dirname, '..', '..', 'dist', 'index.js');
const lib = require(LIB);
const [dir, totalArg] = process.argv.slice(2);
const TOTAL = Number(totalArg);

const WORKER = `
const { workerData, parentPort } = require('node:worker_threads');
const lib = require(workerData.lib);
const { dir, npy, tif, i, kind } = workerData;
let n = 0;
async function once() {
  n++;
  if (kind === 0) {
    const r = lib.openImage(npy);
    const out = lib.allocate([64, 64, 3], 'uint8');
    await Promise.all([r.readAsync([[0, 64], [0, 64]]), r.readAsync([[10, 74], [0, 64]], { out }),
      r.readAsync(null, { copy: false }), r.readAsync([[-5, 60], [0, 64]], { boundless: true })]);
    r.read([[0, 8], [0, 8]]);
    r.close();
  } else if (kind === 1) {
    const r = lib.openImage(tif);
    const out = lib.allocate([128, 128, 3], 'uint8');
    await Promise.all([r.readAsync([[0, 128], [0, 128]]), r.readAsync([[0, 128], [0, 128]], { out }), r.readAsync(null, { scale: 0.5 })]);
    r.close();
  } else if (kind === 2) {
    await Promise.all([lib.writeCogAsync(tif, dir + '/w' + i + '.cog.tif'), lib.convertToNpyAsync(tif, dir + '/w' + i + '.npy')]);
  } else if (kind === 4) {
    // Cache keys and file stamps: a tight synchronous loop of hashes (xxhash-addon's own binding
    // returned an uninitialised value here and V8 crashed on it).
    for (let k = 0; k < 200; k++) lib.Frames.buildFileHashid(dir, 'x/' + k + '.png', 'PATH');
    lib.Frames.buildFileHashid('', npy, 'PIXELS');
  } else {
    const f = new lib.SimpleFrames({ 1: tif, 2: npy }, { workdir: dir + '/wd' + i + '-' + n, backend: n % 2 ? 'npy' : 'cog' });
    await f.prepare({ useStamp: n % 3 === 0 });
    f.loadImage(1);
    await f.loadRegionAsync(2, [[0, 32], [0, 32]]);
  }
}
(async () => { parentPort.postMessage('started'); for (;;) await once(); })();
`;

function fixtures() {
  const a = lib.allocate([256, 256, 3], 'uint8');
  for (let k = 0; k < a.data.length; k++) a.data[k] = (k * 7) & 255;
  const npy = path.join(dir, 'src.npy');
  const tif = path.join(dir, 'src.tif');
  lib.writeNpy(npy, a);
  lib.writeRaster(tif, a, { driver: 'GTiff' });
  return { npy, tif };
}

async function main() {
  const { npy, tif } = fixtures();
  let done = 0;
  let errors = 0;
  const t0 = Date.now();
  async function one(i) {
    const kind = i % 6;
    const w = new Worker(WORKER, { eval: true, workerData: { lib: LIB, dir, npy, tif, i, kind } });
    w.on('error', () => { errors++; });
    // kind 5: terminated while require() loads the package and the addon (0-20 ms after start).
    if (kind !== 5) await new Promise((res) => { w.once('message', res); w.once('exit', res); });
    await new Promise((res) => setTimeout(res, Math.random() * (kind === 5 ? 20 : 40)));
    await w.terminate();
    done++;
  }
  let next = 0;
  async function lane() {
    while (next < TOTAL) await one(next++);
  }
  await Promise.all([lane(), lane()]);
  process.stdout.write(JSON.stringify({ done, errors, ms: Date.now() - t0 }) + '\n');
}
main();
