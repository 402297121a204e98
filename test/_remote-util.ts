// The remote tests' side of test/_remote-server.ts: start a server in a child process, read its
// request counters, set how it answers (latency, hanging, failures), stop it; and the GDAL options
// that point s3:// paths at it.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { nodeArgs } from './_frames-util';

export interface ServerStats { requests: number; ranges: number; multiranges: number; heads: number; bytes: number }

/** How the server answers from now on (test/_remote-server.ts, /__config). */
export interface ServerConfig {
  /** Milliseconds each response waits first (an injected latency). */
  delay?: number;
  /** Accept requests and never answer them. */
  hang?: boolean;
  /** Answer multi-range requests with one multipart body (default true), or with the first range only. */
  multirange?: boolean;
  /** Path prefix -> HTTP status to answer with (replaces the previous list). */
  fail?: Record<string, number>;
}

export interface TestServer {
  port: number;
  /** http://127.0.0.1:PORT */
  base: string;
  stats(): Promise<ServerStats>;
  reset(): Promise<void>;
  configure(c: ServerConfig): Promise<void>;
  /** Stops the server (kills the child) and waits until it is gone. */
  stop(): Promise<void>;
}

async function getJson(url: string): Promise<unknown> {
  const res = await fetch(url);
  return res.json();
}

/** Starts `kind` ('http': a range-serving file server over `dir`; 's3': s3rver storing under `dir`). */
export function startServer(kind: 'http' | 's3', dir: string): Promise<TestServer> {
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs(path.join(__dirname, '_remote-server.ts')), kind, dir],
    { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let buf = '';
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${kind} server exited with ${code}`)));
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      const port = (JSON.parse(buf.slice(0, nl)) as { port: number }).port;
      const base = `http://127.0.0.1:${port}`;
      child.removeAllListeners('exit');
      resolve({
        port, base,
        stats: async () => (await getJson(`${base}/__stats`)) as ServerStats,
        reset: async () => { await getJson(`${base}/__reset`); },
        configure: async (c) => {
          const q = new URLSearchParams();
          if (c.delay !== undefined) q.set('delay', String(c.delay));
          if (c.hang !== undefined) q.set('hang', c.hang ? '1' : '0');
          if (c.multirange !== undefined) q.set('multirange', c.multirange ? '1' : '0');
          if (c.fail !== undefined) {
            q.append('fail', '');
            for (const [p, status] of Object.entries(c.fail)) q.append('fail', `${p}:${status}`);
          }
          await getJson(`${base}/__config?${q.toString()}`);
        },
        stop: () => new Promise<void>((done) => {
          if (child.exitCode !== null || child.signalCode !== null) {
            done();
            return;
          }
          child.once('exit', () => done());
          child.kill('SIGKILL');
        }),
      });
    });
  });
}

type SetOptions = (opts: Record<string, string>, where: { prefix: string }) => void;

/**
 * Points s3://<bucket> at the s3rver on `port` with `key` as access key id (path-specific GDAL
 * options). `set`: the library's setRemoteOptions (the bench passes the built package's, so the
 * library is not loaded twice).
 */
export function useS3(port: number, bucket = 'bkt', key = 'S3RVER', set?: SetOptions): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const setRemoteOptions: SetOptions = set ?? (require('../lib/gdal') as { setRemoteOptions: SetOptions }).setRemoteOptions;
  setRemoteOptions({
    AWS_S3_ENDPOINT: `127.0.0.1:${port}`, AWS_HTTPS: 'NO', AWS_VIRTUAL_HOSTING: 'FALSE',
    AWS_ACCESS_KEY_ID: key, AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1', GDAL_HTTP_MAX_RETRY: '0',
  }, { prefix: `s3://${bucket}` });
}
