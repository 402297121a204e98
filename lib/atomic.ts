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

function publish(file: string, make: (tmp: string) => void): void {
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
  publish(file, (tmp) => {
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
  publish(file, (tmp) => {
    try {
      fs.symlinkSync(path.resolve(target), tmp);
    } catch (err) {
      throw fsError(err, file, 'symlink');
    }
  });
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
      if (!st.isDirectory()) {
        throw new FileError('ERR_NOT_A_FILE', `cannot create directory '${dir}': '${at}' is a file, not a directory`, { path: at, errno: 20, syscall: 'mkdir' });
      }
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
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'EEXIST' && fs.statSync(missing[i], { throwIfNoEntry: false })?.isDirectory()) continue;
      throw new FileError('ERR_IO', `cannot create directory '${missing[i]}'${missing[i] === path.resolve(dir) ? '' : ` (for '${dir}')`}: ${e.message}` +
        (e.code === 'ENOENT' ? ' (its parent exists: this file system does not take new directories there)' : ''),
        { path: missing[i], errno: typeof e.errno === 'number' ? e.errno : undefined, syscall: 'mkdir', cause: err });
    }
  }
}
