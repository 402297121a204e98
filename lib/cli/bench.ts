/** `ndsampler bench`: runs bench/run.ts of a source checkout. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { err, help } from './args';

const ROOT = path.resolve(__dirname, '..', '..');

export function cmdBench(args: string[]): number {
  if (args.includes('-h') || args.includes('--help')) return help();
  const script = path.join(ROOT, 'bench', 'run.ts');
  if (!fs.existsSync(script)) {
    err(`ndsampler bench: ${script} not found (the benchmark is part of a source checkout, not the installed package)`);
    return 1;
  }
  let tsx: string;
  try {
    tsx = require.resolve('tsx/cjs', { paths: [ROOT] });
  } catch {
    err('ndsampler bench: the benchmark needs the dev dependency tsx (npm install in the checkout)');
    return 1;
  }
  const r = spawnSync(process.execPath, ['--expose-gc', '-r', tsx, script, ...args], { cwd: ROOT, stdio: 'inherit' });
  if (r.error) {
    err(`ndsampler bench: ${r.error.message}`);
    return 1;
  }
  return r.status ?? 1;
}

