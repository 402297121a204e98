// A server for the remote tests, run as a child process (a sync GDAL read blocks the test's own
// thread, so the server must not share its event loop): `http <dir>` serves the files under <dir>
// with HEAD, byte ranges (one range, or several as multipart/byteranges, as nginx and Apache do),
// ETag and Last-Modified; `s3 <dir>` is s3rver (an S3 API server from npm, bucket 'bkt', access key
// 'S3RVER' / 'S3RVER') storing its objects under <dir>. Both listen on 127.0.0.1 at a free port,
// print {"port": N} on stdout once listening, count requests, and stop on SIGTERM or when stdin
// closes.
//
// Control endpoints (not counted): GET /__stats answers {"requests", "ranges", "multiranges",
// "heads", "bytes"}; GET /__reset zeroes them; GET /__config?delay=MS&hang=0|1&multirange=0|1&fail=PATH:STATUS
// sets how the next requests are answered: each response waits `delay` ms first (an injected
// latency), `hang=1` accepts requests and never answers them, `multirange=0` answers a multi-range
// request with its first range only (a server without multi-range support), and `fail` answers the
// requests for PATH (a path prefix) with STATUS.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';

const [kind, dir] = process.argv.slice(2);
const stats = { requests: 0, ranges: 0, multiranges: 0, heads: 0, bytes: 0 };
const config = { delay: 0, hang: false, multirange: true, fail: new Map<string, number>() };

/** The ranges of a Range header ([start, end] inclusive, clamped), null when absent or unusable. */
function parseRanges(header: string | undefined, size: number): Array<[number, number]> | null | 'unsatisfiable' {
  const m = /^bytes=(.+)$/.exec(header ?? '');
  if (m === null) return null;
  const out: Array<[number, number]> = [];
  for (const part of m[1].split(',')) {
    const r = /^\s*(\d*)-(\d*)\s*$/.exec(part);
    if (r === null || (r[1] === '' && r[2] === '')) return null;
    let start: number;
    let end: number;
    if (r[1] === '') {
      start = Math.max(0, size - Number(r[2]));
      end = size - 1;
    } else {
      start = Number(r[1]);
      end = r[2] === '' ? size - 1 : Math.min(Number(r[2]), size - 1);
    }
    if (start < size && start <= end) out.push([start, end]);
  }
  return out.length === 0 ? 'unsatisfiable' : out;
}

function serveFile(req: http.IncomingMessage, res: http.ServerResponse): void {
  const rel = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
  const file = path.join(dir, path.normalize(rel).replace(/^(\.\.[/\\])+/, ''));
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    res.writeHead(404).end();
    return;
  }
  if (!st.isFile()) {
    res.writeHead(404).end();
    return;
  }
  const headers: http.OutgoingHttpHeaders = {
    'Accept-Ranges': 'bytes', ETag: `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`,
    'Last-Modified': st.mtime.toUTCString(), 'Content-Type': 'application/octet-stream',
  };
  if (req.method === 'HEAD') stats.heads++;
  let ranges = parseRanges(req.headers.range, st.size);
  if (ranges === 'unsatisfiable') {
    res.writeHead(416, { 'Content-Range': `bytes */${st.size}` }).end();
    return;
  }
  if (ranges !== null && ranges.length > 1 && !config.multirange) ranges = [ranges[0]];
  if (ranges === null) {
    headers['Content-Length'] = st.size;
    res.writeHead(200, headers);
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    stats.bytes += st.size;
    fs.createReadStream(file).pipe(res);
    return;
  }
  stats.ranges++;
  if (ranges.length === 1) {
    const [start, end] = ranges[0];
    headers['Content-Range'] = `bytes ${start}-${end}/${st.size}`;
    headers['Content-Length'] = end - start + 1;
    res.writeHead(206, headers);
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    stats.bytes += end - start + 1;
    fs.createReadStream(file, { start, end }).pipe(res);
    return;
  }
  // Several ranges: one multipart/byteranges body (RFC 9110 §14.6), written part by part.
  stats.multiranges++;
  const boundary = `nds${Date.now().toString(16)}`;
  const heads = ranges.map(([start, end]) =>
    Buffer.from(`\r\n--${boundary}\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes ${start}-${end}/${st.size}\r\n\r\n`));
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const length = ranges.reduce((n, [start, end], i) => n + heads[i].length + end - start + 1, tail.length);
  delete headers['Content-Type'];
  res.writeHead(206, { ...headers, 'Content-Type': `multipart/byteranges; boundary=${boundary}`, 'Content-Length': length });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const fd = fs.openSync(file, 'r');
  try {
    ranges.forEach(([start, end], i) => {
      const data = Buffer.allocUnsafe(end - start + 1);
      fs.readSync(fd, data, 0, data.length, start);
      res.write(heads[i]);
      res.write(data);
      stats.bytes += data.length;
    });
  } finally {
    fs.closeSync(fd);
  }
  res.end(tail);
}

function configure(url: URL): void {
  const q = url.searchParams;
  if (q.has('delay')) config.delay = Number(q.get('delay'));
  if (q.has('hang')) config.hang = q.get('hang') === '1';
  if (q.has('multirange')) config.multirange = q.get('multirange') !== '0';
  if (q.has('fail')) {
    config.fail.clear();
    for (const item of q.getAll('fail')) {
      const at = item.lastIndexOf(':');
      if (at > 0) config.fail.set(item.slice(0, at), Number(item.slice(at + 1)));
    }
  }
}

process.stdout.on('error', () => process.exit(0));  // the test that started us is gone

async function main(): Promise<void> {
  let handler: (req: http.IncomingMessage, res: http.ServerResponse) => void = serveFile;
  if (kind === 's3') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const S3rver = require('s3rver');
    const s3 = new S3rver({ silent: true, directory: dir, configureBuckets: [{ name: 'bkt', configs: [] }] });
    await s3.configureBuckets();
    handler = s3.getMiddleware();
  }
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/__stats') {
      res.end(JSON.stringify(stats));
      return;
    }
    if (url.pathname === '/__reset') {
      stats.requests = stats.ranges = stats.multiranges = stats.heads = stats.bytes = 0;
      res.end('{}');
      return;
    }
    if (url.pathname === '/__config') {
      configure(url);
      res.end('{}');
      return;
    }
    stats.requests++;
    if (kind === 's3' && req.headers.range !== undefined) stats.ranges++;
    if (process.env.NDS_SERVER_LOG) process.stderr.write(`${kind} ${req.method} ${url.pathname} ${req.headers.range ?? ''}\n`);
    if (config.hang) return;  // never answered: the client must give up by itself
    const status = [...config.fail].find(([p]) => url.pathname.startsWith(p))?.[1];
    const answer = (): void => {
      if (status !== undefined) res.writeHead(status, { 'Content-Type': 'text/plain' }).end(`injected ${status}`);
      else handler(req, res);
    };
    if (config.delay > 0) setTimeout(answer, config.delay);
    else answer();
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => {
    const addr = server.address();
    process.stdout.write(JSON.stringify({ port: typeof addr === 'object' && addr !== null ? addr.port : 0 }) + '\n');
  });
  const stop = (): void => {
    server.close();
    server.closeAllConnections();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.stdin.on('end', stop);
  process.stdin.resume();
}

void main();
