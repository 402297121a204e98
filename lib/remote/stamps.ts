/**
 * RemoteStamps: what remote sources' servers said about them (size, ETag, Last-Modified), asked
 * once and reused for REMOTE_STAMP_TTL_MS by one CacheOpener, so one opening of an entry asks the
 * server once however many checks it makes (fresh? still fresh under the lock? the stamp to
 * record?), and concurrent opens of one source share one request. Failures are kept as long
 * (a source that is gone or a server that is down is not asked again by every open meanwhile).
 *
 * Runs on the calling thread; `get` asks on the libuv pool, `getSync` on the calling thread.
 */
import type { SourceStamp } from '../cache/entry';
import { NdsamplerError } from '../errors';
import { statRemote, statRemoteAsync } from '../remote-io';
import type { RemoteStat } from '../remote-io';

/** How long (ms) an opener reuses what a server said about a remote source. */
export const REMOTE_STAMP_TTL_MS = 5000;
const MAX_KEPT = 10_000;

/** The server's answer: the source's stamp, or the coded error (ERR_SOURCE_MISSING, ERR_REMOTE, ...). */
export type StampAnswer = { stamp: SourceStamp; error?: undefined } | { stamp?: undefined; error: NdsamplerError };

function toStamp(st: RemoteStat): SourceStamp {
  const stamp: SourceStamp = { size: st.size, mtimeNs: '' };
  if (st.etag !== null) stamp.etag = st.etag;
  if (st.lastModified !== null) stamp.lastModified = st.lastModified;
  return stamp;
}

function toAnswer(err: unknown): StampAnswer {
  if (err instanceof NdsamplerError) return { error: err };
  throw err;
}

export class RemoteStamps {
  readonly #kept = new Map<string, { at: number; answer: StampAnswer | Promise<StampAnswer> }>();

  #fresh(path: string): StampAnswer | Promise<StampAnswer> | undefined {
    const hit = this.#kept.get(path);
    return hit !== undefined && Date.now() - hit.at < REMOTE_STAMP_TTL_MS ? hit.answer : undefined;
  }

  #keep(path: string, answer: StampAnswer | Promise<StampAnswer>): void {
    if (this.#kept.size >= MAX_KEPT) {
      const now = Date.now();
      for (const [k, e] of this.#kept) if (now - e.at >= REMOTE_STAMP_TTL_MS) this.#kept.delete(k);
      if (this.#kept.size >= MAX_KEPT) this.#kept.clear();
    }
    this.#kept.set(path, { at: Date.now(), answer });
  }

  /** The server's answer for `path` (asked on the libuv pool unless one is kept). */
  get(path: string): Promise<StampAnswer> {
    const hit = this.#fresh(path);
    if (hit !== undefined) return Promise.resolve(hit);
    const asked = statRemoteAsync(path, { fresh: true }).then((st) => ({ stamp: toStamp(st) }), toAnswer);
    this.#keep(path, asked);
    void asked.then((answer) => {
      if (this.#kept.get(path)?.answer === asked) this.#kept.set(path, { at: Date.now(), answer });
    }, () => this.#kept.delete(path));
    return asked;
  }

  /** As get, asked on the calling thread (a synchronous API: it blocks for the server). */
  getSync(path: string): StampAnswer {
    const hit = this.#fresh(path);
    if (hit !== undefined && !(hit instanceof Promise)) return hit;
    let answer: StampAnswer;
    try {
      answer = { stamp: toStamp(statRemote(path, { fresh: true })) };
    } catch (err) {
      answer = toAnswer(err);
    }
    this.#keep(path, answer);
    return answer;
  }

  /** Forgets every answer (close()). */
  clear(): void {
    this.#kept.clear();
  }
}
