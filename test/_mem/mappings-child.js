'use strict';
// The child side of test/mappings.test.ts, on the built package. Prints one JSON line.
//   node --expose-gc mappings-child.js views|copies <dir>
const fs = require('node:fs');
const path = require('node:path');
const lib = require(path.resolve(__dirname, '..', '..', 'dist', 'index.js'));
const [scenario, dir] = process.argv.slice(2);
const FILES = 1000;

// Tiny .npy files (4x4x3 uint8), written raw: 1000 files, opened 100 times each.
function npy(i) {
  const dict = "{'descr': '|u1', 'fortran_order': False, 'shape': (4, 4, 3), }";
  const hlen = 128 - 10;
  const head = Buffer.from('\x93NUMPY\x01\x00' + String.fromCharCode(hlen) + '\x00' + dict + ' '.repeat(hlen - dict.length - 1) + '\n', 'latin1');
  return Buffer.concat([head, Buffer.alloc(48, i & 255)]);
}
const files = [];
for (let i = 0; i < FILES; i++) {
  const f = path.join(dir, `${scenario}-${i}.npy`);
  fs.writeFileSync(f, npy(i));
  files.push(f);
}
const mb = () => process.memoryUsage().rss / 2 ** 20;

if (scenario === 'views') {
  const rss0 = mb();
  let views = 0;
  let maxLive = 0;
  let sum = 0;
  for (let i = 0; i < 100_000; i++) {
    const r = lib.openImage(files[i % FILES]);
    const a = r.read(null, { copy: false });
    if (a.data.buffer.byteLength === 176) views++;  // a view's buffer is the whole mapped file
    sum += a.data[a.offset];
    r.close();
    if (i % 1000 === 0) maxLive = Math.max(maxLive, lib.mappingStats().live);
  }
  process.stdout.write(JSON.stringify({ images: 100_000, views, maxLive, sum, rssGrowthMB: Math.round(mb() - rss0) }) + '\n');
} else {
  const N = 300_000;
  let rssHalf = 0;
  const rss0 = mb();
  for (let i = 0; i < N; i++) {
    const r = lib.openImage(files[i % FILES]);
    r.read([[0, 2], [0, 2]]);
    r.close();
    if (i === N / 2) rssHalf = mb();
  }
  process.stdout.write(JSON.stringify({ firstHalfGrowthMB: Math.round(rssHalf - rss0), secondHalfGrowthMB: Math.round(mb() - rssHalf) }) + '\n');
}
