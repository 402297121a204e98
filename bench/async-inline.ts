/**
 * Async vs sync small npy crops (issue 10): 20,000 32x32x3 uint8 crops read one at a time, awaited
 * each, through reader.readAsync and frames.loadRegionAsync, against reader.read and
 * frames.loadRegion; the four loops alternated 3 times. Microseconds per read.
 *   node --expose-gc -r tsx/cjs bench/async-inline.ts
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SimpleFrames, allocate, mappingStats, openImage, writeNpy } from '../lib';
import type { Region } from '../lib';

const N = 20000;
const H = 1024;
const W = 1024;

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nds-async-inline-'));
  const file = path.join(dir, 'img.npy');
  const img = allocate([H, W, 3], 'uint8');
  for (let i = 0; i < img.data.length; i++) img.data[i] = (i * 7) & 255;
  writeNpy(file, img);
  const reader = openImage(file);
  const frames = new SimpleFrames({ img: file }, { backend: null, workdir: dir });
  const regions: Array<[number, number]> = [];
  let s = 12345;
  for (let i = 0; i < N; i++) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    const y = s % (H - 32);
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    regions.push([y, s % (W - 32)]);
  }
  const regs: Region[] = regions.map(([y, x]) => [[y, y + 32], [x, x + 32]]);
  const reg = (i: number): Region => regs[i];
  const loops: Record<string, () => Promise<void>> = {
    'reader.read (sync)': async () => { for (let i = 0; i < N; i++) reader.read(reg(i)); },
    'reader.readAsync': async () => { for (let i = 0; i < N; i++) await reader.readAsync(reg(i)); },
    'frames.loadRegion (sync)': async () => { for (let i = 0; i < N; i++) frames.loadRegion('img', reg(i)); },
    'frames.loadRegionAsync': async () => { for (let i = 0; i < N; i++) await frames.loadRegionAsync('img', reg(i)); },
  };
  for (const fn of Object.values(loops)) await fn();  // warm up (and the page cache)
  const results: Record<string, number[]> = {};
  for (let round = 0; round < 3; round++) {
    for (const [name, fn] of Object.entries(loops)) {
      const t0 = process.hrtime.bigint();
      await fn();
      (results[name] ??= []).push(Number(process.hrtime.bigint() - t0) / 1e3 / N);
    }
  }
  for (const [name, xs] of Object.entries(results)) {
    process.stdout.write(`${name.padEnd(28)} ${xs.map((x) => x.toFixed(2)).join('  ')} us/read\n`);
  }
  const st = mappingStats() as unknown as Record<string, number>;
  if ('inlineReads' in st) process.stdout.write(`inlineReads ${st.inlineReads}, poolReads ${st.poolReads}\n`);
  reader.close();
  frames.close?.();
  fs.rmSync(dir, { recursive: true, force: true });
}

void main();
