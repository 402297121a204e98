// The one temporary-directory helper of the tests.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** A fresh directory under os.tmpdir() named after `tag`; call cleanup() when done with it. */
export function tempDir(tag: string): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `nds-${tag}-`));
  return { dir, cleanup: () => rmrf(dir) };
}

/** Removes a directory tree (missing is fine). */
export function rmrf(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * Temporary files left under `dir` (recursively): names made by the publish rule
 * (`.<basename>.<pid>-<16 hex>.tmp`, lib/atomic.ts and native/core/atomic_file.h) and any side file
 * GDAL made next to one (`….tmp.ovr.tmp`, `….tmp.aux.xml`).
 */
export function leftoverTemps(dir: string): string[] {
  const found: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.\d+-[0-9a-f]{16}\.tmp(\.|$)/.test(e.name)) found.push(p);
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return found;
}
