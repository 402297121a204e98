/**
 * Quick timing of npy reads through the public API, for the npy reader's own work (the benchmark
 * with peers is the lead's bench/run.ts). Median of 15 batches, in microseconds per operation.
 *   node --expose-gc -r tsx/cjs bench/npy-quick.ts
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { allocate, openImage, writeNpy } from '../lib';
import type { Region } from '../lib';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

function time(label: string, iters: number, fn: () => unknown): number {
  for (let i = 0; i < Math.min(iters, 2000); i++) fn();
  const batches: number[] = [];
  for (let b = 0; b < 15; b++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iters; i++) fn();
    batches.push(Number(process.hrtime.bigint() - t0) / 1e3 / iters);
  }
  const m = median(batches);
  process.stdout.write(`${label.padEnd(44)} ${m.toFixed(3)} us/op\n`);
  return m;
}

function memcpyFloor(): number | null {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nds-floor-'));
  const src = path.join(dir, 'floor.c');
  fs.writeFileSync(src, `
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e6 + t.tv_nsec / 1e3; }
static int cmp(const void* a, const void* b) { double x = *(const double*)a, y = *(const double*)b; return x < y ? -1 : x > y; }
int main(void) {
  const int H = 512, W = 512, C = 3, h = 506, w = 506, y0 = 3, x0 = 3, iters = 2000;
  unsigned char* img = malloc(H * W * C);
  for (int i = 0; i < H * W * C; i++) img[i] = (unsigned char)i;
  double b[15]; volatile unsigned sink = 0;
  for (int k = 0; k < 15; k++) {
    double t0 = now();
    for (int i = 0; i < iters; i++) {
      unsigned char* out = malloc((size_t)h * w * C);
      for (int y = 0; y < h; y++) memcpy(out + (size_t)y * w * C, img + ((size_t)(y0 + y) * W + x0) * C, (size_t)w * C);
      sink += out[i % (h * w * C)];
      free(out);
    }
    b[k] = (now() - t0) / iters;
  }
  qsort(b, 15, sizeof b[0], cmp);
  printf("%f\\n", b[7]);
  return (int)(sink & 0);
}`);
  const exe = path.join(dir, 'floor');
  const cc = spawnSync('cc', ['-O2', '-o', exe, src], { encoding: 'utf8' });
  const r = cc.status === 0 ? spawnSync(exe, { encoding: 'utf8' }) : null;
  fs.rmSync(dir, { recursive: true, force: true });
  if (r === null || r.status !== 0) return null;
  return Number(r.stdout.trim());
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nds-quick-'));
try {
  const small = path.join(dir, 'small.npy');
  const img = allocate([512, 512, 3], 'uint8');
  for (let i = 0; i < img.data.length; i++) img.data[i] = i & 255;
  writeNpy(small, img);
  const big = path.join(dir, 'big.npy');
  writeNpy(big, allocate([8192, 8192, 3], 'uint8', true));

  const r = openImage(small);
  const crop: Region = [[10, 42], [10, 42]];
  const out = allocate([32, 32, 3], 'uint8');
  time('32x32x3 copy-out  read([10:42,10:42])', 20000, () => r.read(crop));
  time('32x32x3 into out  read(.., {out})', 20000, () => r.read(crop, { out }));
  const inner: Region = [[3, -3], [3, -3]];
  const j = time('506x506x3 copy-out read([3:-3,3:-3])', 500, () => r.read(inner));
  const out506 = allocate([506, 506, 3], 'uint8');
  time('506x506x3 into out read(.., {out})', 500, () => r.read(inner, { out: out506 }));
  const floor = memcpyFloor();
  if (floor !== null) {
    process.stdout.write(`${'506x506x3 C memcpy floor (rows into malloc)'.padEnd(44)} ${floor.toFixed(3)} us/op  ratio ${(j / floor).toFixed(2)}\n`);
  }
  time('512x512x3 full copy read()', 500, () => r.read());
  time('512x512x3 view read(null,{copy:false})', 20000, () => r.read(null, { copy: false }));
  const rb = openImage(big);
  rb.read(null, { copy: false });
  time('8192x8192x3 view read(null,{copy:false})', 20000, () => rb.read(null, { copy: false }));
  let k = 0;
  const rnd = () => { k = (k * 1103515245 + 12345) & 0x7fffffff; return k; };
  time('8192^2 random 32x32 copy-out', 20000, () => {
    const y = rnd() % (8192 - 32); const x = rnd() % (8192 - 32);
    return rb.read([[y, y + 32], [x, x + 32]]);
  });
  time('8192^2 random 224x224 copy-out', 2000, () => {
    const y = rnd() % (8192 - 224); const x = rnd() % (8192 - 224);
    return rb.read([[y, y + 224], [x, x + 224]]);
  });
  r.close();
  rb.close();
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
