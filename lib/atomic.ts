/**
 * The one rule by which the TypeScript side publishes a file. Its deliberate twin in C++ is the
 * atomic writer in native/core/ (used by writeNpy, convertToNpy, writeCog and writeRaster); the two
 * must keep the same temp naming and the same steps:
 *
 *   1. temp name in the target's directory: `.<basename>.<pid>-<16 lowercase hex random>.tmp`
 *   2. write it
 *   3. fsync the file
 *   4. rename() it onto the final name
 *   5. fsync the directory
 *   on failure: unlink the temp file and throw a coded FileError (code, path, errno, syscall).
 *
 * A symlink (a cache entry for a source that already is a COG) is published the same way, minus
 * the file fsync: created under the temp name, then renamed onto the final name.
 *
 * Readers therefore only ever see complete files under final names, and several processes may
 * publish the same name at once (last rename wins). Runs on the calling thread.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FileError, fsError } from './errors';

/** The temp name for publishing `file`: `.<basename>.<pid>-<16 hex>.tmp` in file's directory. */
export function tempPath(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}-${randomBytes(8).toString('hex')}.tmp`);
}

function fsyncDir(dir: string): void {
  let fd: number;
  try {
    fd = fs.openSync(dir, 'r');
  } catch (err) {
    throw fsError(err, dir, 'open');
  }
  try {
    fs.fsyncSync(fd);
  } catch (err) {
    throw fsError(err, dir, 'fsync');
  } finally {
    fs.closeSync(fd);
  }
}

/** Runs `make(tmp)`, renames tmp onto `file` and fsyncs the directory; unlinks tmp on failure. */
/**
 * Told about each temporary file while it exists (lib/native.ts registers the addon's trackTemp /
 * untrackTemp): a worker thread terminated between creating it and renaming it runs no more JS,
 * so the addon removes it at the env's teardown.
 */
let tracker: { track(tmp: string): void; untrack(tmp: string): void } | null = null;
export function setTempTracker(t: typeof tracker): void {
  tracker = t;
}

/** Runs `make(tmp)` (which writes the temp file) and publishes it as `file` by the rule above. */
export function publishFile(file: string, make: (tmp: string) => void): void {
  const tmp = tempPath(file);
  tracker?.track(tmp);
  try {
    publishTracked(file, tmp, make);
  } finally {
    tracker?.untrack(tmp);
  }
}

function publishTracked(file: string, tmp: string, make: (tmp: string) => void): void {
  try {
    make(tmp);
    try {
      fs.renameSync(tmp, file);
    } catch (err) {
      throw fsError(err, file, 'rename');
    }
  } catch (err) {
    try { fs.unlinkSync(tmp); } catch { /* never created, or already renamed */ }
    throw err;
  }
  fsyncDir(path.dirname(file));
}

/** Writes `data` to `file` atomically by the rule above. */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  publishFile(file, (tmp) => {
    let fd: number;
    try {
      fd = fs.openSync(tmp, 'wx');
    } catch (err) {
      throw fsError(err, file, 'open');
    }
    try {
      try {
        fs.writeFileSync(fd, data);
      } catch (err) {
        throw fsError(err, file, 'write');
      }
      try {
        fs.fsyncSync(fd);
      } catch (err) {
        throw fsError(err, file, 'fsync');
      }
    } finally {
      fs.closeSync(fd);
    }
  });
}

/** writeFileAtomic, unless `file` already holds `text` (demo datasets written once, read by many). */
export function writeTextIfChanged(file: string, text: string): void {
  let current: string | null;
  try {
    current = fs.readFileSync(file, 'utf8');
  } catch {
    current = null;
  }
  if (current !== text) writeFileAtomic(file, text);
}

/** Publishes a symlink at `file` pointing to the absolute path of `target`, by the rule above. */
export function symlinkAtomic(target: string, file: string): void {
  publishFile(file, (tmp) => {
    try {
      fs.symlinkSync(path.resolve(target), tmp);
    } catch (err) {
      throw fsError(err, file, 'symlink');
    }
  });
}

/**
 * The rule above with the file work on the libuv pool: `make(tmp)` writes the temp file (e.g. a
 * copy, or a download), then it is fsynced, renamed onto `file`, and the directory fsynced. The
 * temp file is removed on any failure.
 */
export async function publishFileAsync(file: string, make: (tmp: string) => Promise<void>): Promise<void> {
  const tmp = tempPath(file);
  tracker?.track(tmp);
  try {
    try {
      await make(tmp);
      const fh = await fs.promises.open(tmp, 'r+').catch((err: unknown) => { throw fsError(err, file, 'open'); });
      try {
        await fh.sync().catch((err: unknown) => { throw fsError(err, file, 'fsync'); });
      } finally {
        await fh.close();
      }
      await fs.promises.rename(tmp, file).catch((err: unknown) => { throw fsError(err, file, 'rename'); });
    } catch (err) {
      await fs.promises.unlink(tmp).catch(() => undefined);
      throw err;
    }
    const dir = await fs.promises.open(path.dirname(file), 'r').catch((err: unknown) => { throw fsError(err, path.dirname(file), 'open'); });
    try {
      await dir.sync().catch((err: unknown) => { throw fsError(err, path.dirname(file), 'fsync'); });
    } finally {
      await dir.close();
    }
  } finally {
    tracker?.untrack(tmp);
  }
}

/** Copies `src` to `file` by the rule above (copy on the libuv pool). */
export function copyFileAtomicAsync(src: string, file: string): Promise<void> {
  return publishFileAsync(file, (tmp) => fs.promises.copyFile(src, tmp, fs.constants.COPYFILE_EXCL)
    .catch((err: unknown) => { throw fsError(err, (err as NodeJS.ErrnoException).path === src ? src : file, 'copyfile'); }));
}

/**
 * `mkdir -p dir` without Node's recursive mkdirSync, which loops forever where mkdir of a missing
 * directory says ENOENT under a parent that exists (/proc, /sys): finds the nearest existing
 * ancestor, checks it is a directory, then creates each missing level once. Throws a coded
 * FileError: ERR_NOT_A_FILE when a level is a file, ERR_IO (with errno, syscall 'mkdir') when the
 * file system refuses a level, naming the directory it could not create. Runs on the calling thread.
 */
export function makeDirs(dir: string): void {
  const missing: string[] = [];
  let at = path.resolve(dir);
  for (;;) {
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(at);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw fsError(err, at, 'stat');
    }
    if (st !== undefined) {
      if (!st.isDirectory()) throw notADir(dir, at);
      break;
    }
    missing.push(at);
    const up = path.dirname(at);
    if (up === at) break;
    at = up;
  }
  for (let i = missing.length - 1; i >= 0; i--) {
    try {
      fs.mkdirSync(missing[i]);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && fs.statSync(missing[i], { throwIfNoEntry: false })?.isDirectory()) continue;
      throw mkdirError(dir, missing[i], err);
    }
  }
}

/** makeDirs with every stat and mkdir on the libuv pool (for async APIs). Same errors. */
export async function makeDirsAsync(dir: string): Promise<void> {
  const missing: string[] = [];
  let at = path.resolve(dir);
  for (;;) {
    let st: fs.Stats | undefined;
    try {
      st = await fs.promises.stat(at);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw fsError(err, at, 'stat');
    }
    if (st !== undefined) {
      if (!st.isDirectory()) throw notADir(dir, at);
      break;
    }
    missing.push(at);
    const up = path.dirname(at);
    if (up === at) break;
    at = up;
  }
  for (let i = missing.length - 1; i >= 0; i--) {
    try {
      await fs.promises.mkdir(missing[i]);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && (await fs.promises.stat(missing[i]).catch(() => undefined))?.isDirectory()) continue;
      throw mkdirError(dir, missing[i], err);
    }
  }
}

function notADir(dir: string, at: string): FileError {
  return new FileError('ERR_NOT_A_FILE', `cannot create directory '${dir}': '${at}' is a file, not a directory`, { path: at, errno: 20, syscall: 'mkdir' });
}

function mkdirError(dir: string, level: string, err: unknown): FileError {
  const e = err as NodeJS.ErrnoException;
  return new FileError('ERR_IO', `cannot create directory '${level}'${level === path.resolve(dir) ? '' : ` (for '${dir}')`}: ${e.message}` +
    (e.code === 'ENOENT' ? ' (its parent exists: this file system does not take new directories there)' : ''),
  { path: level, errno: typeof e.errno === 'number' ? e.errno : undefined, syscall: 'mkdir', cause: err });
}
