/**
 * Opening an entry file checked: it is used only once it reads back (npy readers check the file
 * size against the header when they open; for a raster the last full-resolution pixel, the end
 * of the file, is decoded). The check runs once per file identity per thread.
 *
 * Runs on the calling thread; openCheckedAsync opens and decodes on the libuv pool.
 */
import { openImage } from '../readers';
import { openImageAsync } from '../readers-async';
import { fileStamp } from './entry';
import type { FileStamp } from './entry';
import type { OpenedEntry } from './entry-reader';

/** Entry files (by identity) that read back, per thread; bounded. */
const validated = new Set<string>();
const MAX_VALIDATED = 100_000;
const stampKey = (file: string, s: FileStamp): string => `${file}\0${s.ino}\0${s.size}\0${s.mtimeNs}`;

function remember(file: string, stamp: FileStamp | null): void {
  if (stamp === null) return;
  if (validated.size >= MAX_VALIDATED) validated.clear();
  validated.add(stampKey(file, stamp));
}

/** Opens an entry file and checks that it reads back; throws the reader's coded error when it does not. */
export function openChecked(file: string): OpenedEntry {
  const stamp = fileStamp(file);
  const reader = openImage(file);
  if (stamp !== null && validated.has(stampKey(file, stamp))) return { reader, stamp };
  try {
    const [H, W] = reader.shape;
    if (reader.kind === 'raster' && H > 0 && W > 0) reader.read([[H - 1, H], [W - 1, W]]);
  } catch (err) {
    reader.close();
    throw err;
  }
  remember(file, stamp);
  return { reader, stamp };
}

/** openChecked with the open and the check on the libuv pool. */
export async function openCheckedAsync(file: string): Promise<OpenedEntry> {
  const stamp = fileStamp(file);
  const reader = await openImageAsync(file);
  if (stamp !== null && validated.has(stampKey(file, stamp))) return { reader, stamp };
  try {
    const [H, W] = reader.shape;
    if (reader.kind === 'raster' && H > 0 && W > 0) await reader.readAsync([[H - 1, H], [W - 1, W]]);
  } catch (err) {
    reader.close();
    throw err;
  }
  remember(file, stamp);
  return { reader, stamp };
}
