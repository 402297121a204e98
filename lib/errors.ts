/**
 * The library's errors. Everything raised on purpose is an NdsamplerError (or a subclass) with a
 * stable string `code`; file errors add `path` (and `errno`, `syscall` when a system call failed).
 * Argument type/range mistakes caught by the validator are plain TypeError / RangeError with
 * `code` ERR_INVALID_ARG_TYPE / ERR_OUT_OF_RANGE, as Node's own are.
 */

export interface ErrorProps {
  path?: string;
  errno?: number;
  syscall?: string;
  cause?: unknown;
  [key: string]: unknown;
}

export class NdsamplerError extends Error {
  readonly code: string;
  path?: string;
  errno?: number;
  syscall?: string;
  constructor(code: string, message: string, props: ErrorProps = {}) {
    super(message, props.cause !== undefined ? { cause: props.cause } : undefined);
    this.code = code;
    for (const [k, v] of Object.entries(props)) {
      if (k !== 'cause' && v !== undefined) (this as Record<string, unknown>)[k] = v;
    }
  }
  override get name(): string {
    return this.constructor.name;
  }
}

/** A file that is not a valid .npy array of a supported kind (ERR_NPY_HEADER). */
export class NpyFormatError extends NdsamplerError {}
/** A region that cannot be served (ERR_REGION, ERR_REGION_STEP, ERR_OUT_BUFFER). */
export class RegionError extends NdsamplerError {}
/**
 * A file that cannot be read or written (ERR_SOURCE_MISSING, ERR_NOT_A_FILE, ERR_IO), that changed
 * on disk under an open reader (ERR_SOURCE_CHANGED), or a cache entry that does not read back even
 * after it was rebuilt, or a published object that is not the entry it should be
 * (ERR_CACHE_CORRUPT), or a remote object a server refused or failed to serve (ERR_REMOTE, with the
 * HTTP `status` when there was one and a `reason`), or a published cache's manifest that breaks
 * its schema (ERR_MANIFEST, with the `field` at fault), or a file whose name is not valid UTF-8,
 * which no path string can name (ERR_PATH_ENCODING).
 */
export class FileError extends NdsamplerError {}
/** GDAL refused to open, read or write something (ERR_GDAL_OPEN, ERR_GDAL_READ, ERR_GDAL_WRITE, ...). */
export class GdalError extends NdsamplerError {}
/** An invalid backend specification or config key (ERR_BACKEND_CONFIG). */
export class BackendConfigError extends NdsamplerError {}
/** Use of a reader or Frames object after close() (ERR_CLOSED). */
export class ClosedError extends NdsamplerError {}
/** Work cancelled through an AbortSignal (ERR_ABORTED). */
export class AbortError extends NdsamplerError {}
/**
 * Image ids, pathinfo, hashid, prepare and serialisation problems in Frames (ERR_UNKNOWN_IMAGE,
 * ERR_HASHID, ...), and malformed annotations of a dataset (ERR_ANNOTATION, with `annotationId`), and annotation
 * ids a dataset does not have (ERR_UNKNOWN_ANNOTATION), and malformed videos (a `videos` record or a
 * frame's video_id / frame_index / warp_img_to_vid, frames of several videos in one target:
 * ERR_VIDEO) and video ids a dataset does not have (ERR_UNKNOWN_VIDEO).
 */
export class FramesError extends NdsamplerError {}

type ErrorClass = new (code: string, message: string, props?: ErrorProps) => NdsamplerError;

/** The closed list of codes, each with the class that carries it. */
export const ERROR_CODES: Readonly<Record<string, ErrorClass>> = Object.freeze({
  ERR_NPY_HEADER: NpyFormatError,
  ERR_REGION: RegionError,
  ERR_REGION_STEP: RegionError,
  ERR_OUT_BUFFER: RegionError,
  ERR_SOURCE_MISSING: FileError,
  ERR_NOT_A_FILE: FileError,
  ERR_IO: FileError,
  ERR_SOURCE_CHANGED: FileError,
  ERR_CACHE_CORRUPT: FileError,
  ERR_REMOTE: FileError,
  ERR_PATH_ENCODING: FileError,
  ERR_MANIFEST: FileError,
  ERR_GDAL_OPEN: GdalError,
  ERR_GDAL_READ: GdalError,
  ERR_GDAL_WRITE: GdalError,
  ERR_GDAL_UNSUPPORTED: GdalError,
  ERR_BACKEND_CONFIG: BackendConfigError,
  ERR_CLOSED: ClosedError,
  ERR_ABORTED: AbortError,
  ERR_UNKNOWN_IMAGE: FramesError,
  ERR_HASHID: FramesError,
  ERR_PATHINFO: FramesError,
  ERR_PREPARE: FramesError,
  ERR_CHANNELS: FramesError,
  ERR_FRAMES_JSON: FramesError,
  ERR_SAMPLER_STATE: FramesError,
  ERR_ANNOTATION: FramesError,
  ERR_UNKNOWN_ANNOTATION: FramesError,
  ERR_VIDEO: FramesError,
  ERR_UNKNOWN_VIDEO: FramesError,
  ERR_UNSUPPORTED: NdsamplerError,
  ERR_TOO_LARGE: NdsamplerError,
  ERR_NO_MEMORY: NdsamplerError,
  ERR_INTERNAL: NdsamplerError,
  ERR_ADDON_LOAD: NdsamplerError,
});

/**
 * The FileError for a failed fs call (the one formatter of file-system errors): ENOENT becomes
 * ERR_SOURCE_MISSING, EISDIR ERR_NOT_A_FILE, anything else ERR_IO; `path`, `errno` and `syscall`
 * are set as Node sets them on its own errors.
 */
export function fsError(err: unknown, file: string, syscall: string): FileError {
  const e = err as NodeJS.ErrnoException;
  const code = e.code === 'ENOENT' ? 'ERR_SOURCE_MISSING' : e.code === 'EISDIR' ? 'ERR_NOT_A_FILE' : 'ERR_IO';
  const why = typeof e.message === 'string' && e.message !== '' ? e.message : String(err);
  return new FileError(code, `${syscall} '${file}': ${why}`, {
    path: file, errno: typeof e.errno === 'number' ? e.errno : undefined, syscall, cause: err,
  });
}

/** Builds the right subclass for `code` (used by the addon too, through setErrorFactory). */
export function makeError(code: string, message: string, props: ErrorProps = {}): NdsamplerError {
  const Cls = ERROR_CODES[code] ?? NdsamplerError;
  return new Cls(code, message, props);
}

/**
 * Awaits `run()`; a rejection's stack is rewritten to the caller's, so an error that settles on
 * the libuv pool's completion still points at the user code that started it.
 */
export async function withCallSite<T>(run: () => Promise<T>): Promise<T> {
  const callSite = new Error();
  try {
    return await run();
  } catch (err) {
    if (err instanceof Error && callSite.stack) {
      err.stack = `${err.name}: ${err.message}\n${callSite.stack.split('\n').slice(2).join('\n')}`;
    }
    throw err;
  }
}
