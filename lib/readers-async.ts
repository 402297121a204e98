/**
 * Opening readers off the JS thread (the binding's face of native/raster/raster_open.* and of the
 * cancel tokens): openImageAsync opens any image, remote ones included, with GDAL's open on the
 * libuv pool; openPublishedAsync (internal) opens a published cache object in place through the
 * addon's /vsindspub/ file system (one GET for its header). An AbortSignal rejects the call at
 * once with ERR_ABORTED; the remote work it started is cancelled (requests not yet sent are not
 * sent; a request on the wire ends when data arrives or when it times out) and what it opened is
 * closed. Runs on the calling thread; the opens run on the libuv pool.
 */
import { AbortError, withCallSite } from './errors';
import { native } from './native';
import type { CancelToken, NativePublishedSpec, NativeRasterReader } from './native';
import { imageKind, namedAfter, NpyReader, RasterReader } from './readers';
import { gdalSource } from './remote-io';
import * as v from './validate';

export interface OpenImageAsyncOptions {
  kind?: 'npy' | 'raster';
  /** Cancels the open (ERR_ABORTED). */
  signal?: AbortSignal;
}

/** The error an aborted call rejects with. */
export function abortError(what: string, path?: string): AbortError {
  return new AbortError('ERR_ABORTED', `${what} was aborted`, { path });
}

/** Checks an AbortSignal option (undefined when absent). */
export function checkSignal(s: unknown, name: string): AbortSignal | undefined {
  if (s === undefined) return undefined;
  const sig = s as AbortSignal;
  if (typeof sig !== 'object' || sig === null || typeof sig.aborted !== 'boolean' || typeof sig.addEventListener !== 'function') {
    throw v.typeError('an AbortSignal', name, s);
  }
  return sig;
}

/** `p`, or a rejection with ERR_ABORTED as soon as `signal` fires (what `p` waits for goes on, and is dropped). */
export function raceAbort<T>(p: Promise<T>, signal: AbortSignal | undefined, what = 'the call'): Promise<T> {
  if (signal === undefined) return p;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortError(what));
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    p.then((x) => { signal.removeEventListener('abort', onAbort); resolve(x); },
      (err: unknown) => { signal.removeEventListener('abort', onAbort); reject(err); });
  });
}

/**
 * Runs `start` (given a cancel token when there is a signal) and settles with it, or rejects with
 * ERR_ABORTED as soon as `signal` fires: the token is cancelled, and a value that still arrives is
 * handed to `discard` (closed).
 */
export function withAbort<T>(signal: AbortSignal | undefined, what: string, path: string | undefined,
  start: (token: CancelToken | undefined) => Promise<T>, discard: (value: T) => void): Promise<T> {
  if (signal === undefined) return start(undefined);
  if (signal.aborted) return Promise.reject(abortError(what, path));
  const token = native.newCancelToken();
  const p = start(token);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      native.cancelToken(token);
      reject(abortError(what, path));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    p.then((value) => {
      signal.removeEventListener('abort', onAbort);
      if (signal.aborted) discard(value);
      else resolve(value);
    }, (err: unknown) => {
      signal.removeEventListener('abort', onAbort);
      reject(signal.aborted ? abortError(what, path) : err);
    });
  });
}

function adopt(file: string, opened: NativeRasterReader): RasterReader {
  return new RasterReader(file, {}, opened);
}

/**
 * openImage with the open on the libuv pool: for a remote URL (https://, s3://, gs://, az://,
 * /vsicurl/...) the server's answers are awaited there, never on the calling thread. npy files are
 * opened at once (a header read and an mmap; they are always local).
 */
export async function openImageAsync(file: string, opts?: OpenImageAsyncOptions): Promise<NpyReader | RasterReader> {
  v.string(file, 'path');
  const o = v.options(opts, 'options', ['kind', 'signal'] as const);
  const signal = checkSignal(o.signal, 'options.signal');
  if (imageKind(file, o) === 'npy') {
    if (signal?.aborted) throw abortError('opening', file);
    return new NpyReader(file);
  }
  const gdalPath = gdalSource(file);
  try {
    const opened = await withCallSite(() => withAbort(signal, 'opening', file,
      (token) => native.openRasterAsync(gdalPath, { maxHandles: 4 }, token), (r) => r.close()));
    return adopt(gdalPath, opened);
  } catch (err) {
    throw namedAfter(err, file);
  }
}

/** @internal openPublishedAsync on the calling thread (synchronous reads: it blocks for the server). */
export function openPublished(url: string, spec: Omit<NativePublishedSpec, 'vsiPath' | 'name' | 'maxHandles'>): RasterReader {
  const full: NativePublishedSpec = { vsiPath: gdalSource(url), name: url, size: spec.size, head: spec.head, maxHandles: 4 };
  return adopt(url, native.openPublished(full));
}

/**
 * @internal Opens a published cache object in place (lib/remote/published.ts): one GET of its
 * header [0, head), whose answer must report `size`; tiles are then fetched as reads need them
 * (RasterReader.prefetchAsync fetches those of many windows at once). `url`: the object's URL.
 */
export async function openPublishedAsync(url: string, spec: Omit<NativePublishedSpec, 'vsiPath' | 'name' | 'maxHandles'>,
  signal?: AbortSignal): Promise<RasterReader> {
  const full: NativePublishedSpec = { vsiPath: gdalSource(url), name: url, size: spec.size, head: spec.head, maxHandles: 4 };
  const opened = await withCallSite(() => withAbort(signal, 'opening', url,
    (token) => native.openPublishedAsync(full, token), (r) => r.close()));
  return adopt(url, opened);
}
