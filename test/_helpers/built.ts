// The built package (dist/), for tests that load it by name as users do: built first when it is
// missing or older than lib/.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as assert from 'uvu/assert';

export const ROOT = path.resolve(__dirname, '..', '..');

function newestMtime(d: string): number {
  let t = 0;
  for (const f of fs.readdirSync(d, { recursive: true }).map(String)) {
    if (f.endsWith('.ts')) t = Math.max(t, fs.statSync(path.join(d, f)).mtimeMs);
  }
  return t;
}

/** Runs `npm run build:ts` unless every file of `entries` (relative to the root) is newer than lib/. */
export function ensureBuilt(entries: string[]): void {
  const built = entries.every((f) => fs.existsSync(path.join(ROOT, f)));
  if (!built || Math.min(...entries.map((f) => fs.statSync(path.join(ROOT, f)).mtimeMs)) < newestMtime(path.join(ROOT, 'lib'))) {
    const b = spawnSync('npm', ['run', 'build:ts'], { cwd: ROOT, encoding: 'utf8' });
    assert.is(b.status, 0, `npm run build:ts failed:\n${b.stdout}${b.stderr}`);
  }
}
