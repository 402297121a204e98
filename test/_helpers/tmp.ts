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
