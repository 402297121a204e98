// A server for the remote tests, run as a child process (a sync GDAL read blocks the test's own
// thread, so the server must not share its event loop): `http <dir>` serves the files under <dir>
// with HEAD, single byte ranges, ETag and Last-Modified; `s3 <dir>` is s3rver (an S3 API server
// from npm, bucket 'bkt', access key 'S3RVER' / 'S3RVER') storing its objects under <dir>. Both
// listen on 127.0.0.1 at a free port, print {"port": N} on stdout once listening, count requests
// (GET /__stats answers {"requests", "ranges", "bytes"} and is not counted; GET /__reset zeroes
// them), and stop on SIGTERM or when stdin closes.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';

const [kind, dir] = process.argv.slice(2);
const stats = { requests: 0, ranges: 0, bytes: 0 };

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
  const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
  let start = 0;
  let end = st.size - 1;
  let code = 200;
  if (range !== null) {
    start = Number(range[1]);
    end = range[2] === '' ? st.size - 1 : Math.min(Number(range[2]), st.size - 1);
    if (start >= st.size) {
      res.writeHead(416, { 'Content-Range': `bytes */${st.size}` }).end();
      return;
    }
    code = 206;
    headers['Content-Range'] = `bytes ${start}-${end}/${st.size}`;
    stats.ranges++;
  }
  headers['Content-Length'] = end - start + 1;
  res.writeHead(code, headers);
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  stats.bytes += end - start + 1;
  fs.createReadStream(file, { start, end }).pipe(res);
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
    if (req.url === '/__stats') {
      res.end(JSON.stringify(stats));
      return;
    }
    if (req.url === '/__reset') {
      stats.requests = stats.ranges = stats.bytes = 0;
      res.end('{}');
      return;
    }
    stats.requests++;
    if (kind === 's3' && req.headers.range !== undefined) stats.ranges++;
    handler(req, res);
  });
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
