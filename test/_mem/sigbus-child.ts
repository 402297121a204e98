/**
 * The child side of test/npy-sigbus.test.ts: one scenario per run (argv[2]) on a file it makes
 * (argv[3]), printing one JSON line of what it observed. A SIGBUS that is not turned into an error
 * kills this process, which the parent sees as a signal instead of the line.
 */
import * as fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { openImage, writeNpy } from '../../lib/readers';
import { allocate } from '../../lib/ndarray';
import * as path from 'node:path';
import { SimpleFrames } from '../../lib/frames/simple-frames';

const [, , scenario, file] = process.argv;
const H = 256, W = 256, C = 4;  // 256 KiB of data: many pages past any cut

function make(): void {
  const a = allocate([H, W, C], 'uint8');
  for (let i = 0; i < a.data.length; i++) a.data[i] = (i % 251) + 1;
  writeNpy(file, a);
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (err) {
    return `${(err as Error).constructor.name}:${(err as { code?: string }).code}`;
  }
}

async function codeOfAsync(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
    return 'ok';
  } catch (err) {
    return `${(err as Error).constructor.name}:${(err as { code?: string }).code}`;
  }
}

async function main(): Promise<Record<string, unknown>> {
  make();
  const r = openImage(file);
  const tail: [number, number][] = [[H - 8, H], [0, W]];
  switch (scenario) {
    case 'sync': {
      fs.truncateSync(file, 4096);
      const first = codeOf(() => r.read(tail));
      const head = codeOf(() => r.read([[0, 1], [0, 4]]));  // before the cut, but the mapping is damaged
      return { first, head };
    }
    case 'async': {
      fs.truncateSync(file, 4096);
      const first = await codeOfAsync(() => r.readAsync(tail));
      const out = allocate([8, W, C], 'uint8');
      const withOut = await codeOfAsync(() => r.readAsync(tail, { out }));
      return { first, withOut };
    }
    case 'view': {
      const view = r.read(null, { copy: false });
      const before = view.data[view.offset + 10];
      fs.truncateSync(file, 4096);
      let sum = 0;
      const d = view.data;
      for (let i = view.offset + 8192; i < view.offset + H * W * C; i += 4096) sum += d[i];
      d[view.offset + H * W * C - 1] = 7;  // a write past the cut completes too
      const after = codeOf(() => r.read(tail));
      return { before, sumPastCut: sum, wrote: d[view.offset + H * W * C - 1], after, isView: view.data.length === H * W * C };
    }
    case 'npsave': {
      const py = spawnSync('/usr/bin/python3', ['-c', `import numpy as np; np.save(${JSON.stringify(file)}, np.zeros((4, 4, 3), np.uint8))`], { encoding: 'utf8' });
      if (py.status !== 0) throw new Error(`numpy: ${py.stderr}`);
      const first = codeOf(() => r.read(tail));
      const async2 = await codeOfAsync(() => r.readAsync(tail));
      return { first, async: async2 };
    }
    case 'batch': {
      // A Frames serving the .npy source directly (npy sources need no cache entry): loadBatch's
      // native crops read the mapping on the addon's pool threads.
      const frames = new SimpleFrames({ 1: file }, { backend: 'npy', workdir: path.join(path.dirname(file), 'w') });
      const req = [{ imageId: 1, region: tail }, { imageId: 1, region: [[0, 8], [0, W]] as [number, number][] }];
      await frames.loadBatch(req);
      fs.truncateSync(file, 4096);
      const thrown = await codeOfAsync(() => frames.loadBatch(req));
      const b = await frames.loadBatch(req, { onError: 'fill', fill: 3 });
      const filled = b.errors.map((e) => `${e.index}:${e.error.constructor.name}:${e.error.code}`);
      frames.close();
      return { thrown, filled, fillValue: b.data[0] };
    }
    case 'foreign': {
      r.read(tail);
      process.kill(process.pid, 'SIGBUS');  // not a fault in a mapping: must still end the process
      await new Promise((res) => setTimeout(res, 1000));
      return { survived: true };
    }
    default:
      throw new Error(`unknown scenario ${scenario}`);
  }
}

main().then((res) => process.stdout.write(JSON.stringify(res) + '\n'), (err) => {
  process.stdout.write(JSON.stringify({ error: String(err) }) + '\n');
  process.exitCode = 1;
});
