#!/usr/bin/env node
'use strict';
/**
 * A tiny HTTP service that answers with crops of images as PNG (or JPEG, WEBP) files: the
 * crop is read with frames.loadRegionAsync and encoded with encodeAsync, so neither the read nor
 * the encoding runs on the event loop. Plain Node (node:http), no framework.
 *
 *   node crop-service.js <image>... [--port 8080] [--host 127.0.0.1] [--workdir DIR]
 *
 *   GET /images                          -> [{"id": 1, "shape": [H, W, C]}, ...] (ids 1..N, in order)
 *   GET /crop/<id>?y=0&x=0&h=224&w=224   -> image/png: rows y..y+h, columns x..x+w of image <id>
 *       &format=png|jpeg|webp              (default png; jpeg/webp take &quality=1..100)
 *       &scale=0.5                         (read at reduced resolution, from COG overviews)
 *   Windows past the border are padded with 0 (boundless reads). Errors are JSON
 *   {"code", "message"}: 400 for bad parameters, 404 for an unknown image, 413 for a crop over
 *   MAX_SIDE pixels a side, 500 for anything else.
 *
 * `createCropServer(frames)` returns the (not yet listening) http.Server, for embedding.
 */
const http = require('node:http');
const { SimpleFrames, encodeAsync, NdsamplerError } = require('ndsampler');

const MAX_SIDE = 4096;
const TYPES = { png: 'image/png', jpeg: 'image/jpeg', webp: 'image/webp' };

function httpError(status, code, message) {
  return Object.assign(new Error(message), { status, code });
}

/** The integer query parameter `name` (default `dflt`), within [lo, hi]. */
function intParam(q, name, dflt, lo, hi) {
  const s = q.get(name);
  if (s === null) {
    if (dflt === undefined) throw httpError(400, 'ERR_PARAM', `missing parameter '${name}'`);
    return dflt;
  }
  const n = Number(s);
  if (!Number.isInteger(n) || n < lo || n > hi) {
    throw httpError(n > hi && (name === 'h' || name === 'w') ? 413 : 400, 'ERR_PARAM', `'${name}' must be an integer in [${lo}, ${hi}]; received '${s}'`);
  }
  return n;
}

async function crop(frames, id, q) {
  const y = intParam(q, 'y', 0, -1e9, 1e9);
  const x = intParam(q, 'x', 0, -1e9, 1e9);
  const h = intParam(q, 'h', undefined, 1, MAX_SIDE);
  const w = intParam(q, 'w', undefined, 1, MAX_SIDE);
  const format = q.get('format') ?? 'png';
  if (!(format in TYPES)) throw httpError(400, 'ERR_PARAM', `'format' must be png, jpeg or webp; received '${format}'`);
  const scale = q.has('scale') ? Number(q.get('scale')) : 1;
  if (!(scale > 0 && scale <= 1)) throw httpError(400, 'ERR_PARAM', `'scale' must be a number in (0, 1]; received '${q.get('scale')}'`);
  const opts = {};
  if (q.has('quality')) opts.quality = intParam(q, 'quality', undefined, 1, 100);
  const pixels = await frames.loadRegionAsync(id, [[y, y + h], [x, x + w]], { boundless: true, fill: 0, scale });
  return { type: TYPES[format], body: await encodeAsync(pixels, format, opts) };
}

function statusOf(err) {
  if (err.status) return err.status;
  if (err instanceof TypeError || err instanceof RangeError) return 400;
  if (err instanceof NdsamplerError) {
    if (err.code === 'ERR_UNKNOWN_IMAGE') return 404;
    if (err.code === 'ERR_TOO_LARGE') return 413;
    if (err.code === 'ERR_UNSUPPORTED' || err.code === 'ERR_REGION') return 400;
  }
  return 500;
}

/** An http.Server answering /images and /crop/<id> from `frames` (call .listen on it). */
function createCropServer(frames) {
  const ids = new Map(frames.imageIds.map((id) => [String(id), id]));
  return http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const send = (status, type, body) => {
      res.writeHead(status, { 'Content-Type': type, 'Content-Length': body.length });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    const fail = (err) => {
      const body = Buffer.from(JSON.stringify({ code: err.code ?? 'ERR_INTERNAL', message: err.message }));
      send(statusOf(err), 'application/json', body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return fail(httpError(405, 'ERR_METHOD', 'only GET and HEAD'));
    if (url.pathname === '/images') {
      const list = frames.imageIds.map((id) => ({ id, shape: frames.loadFrame(id).shape }));
      return send(200, 'application/json', Buffer.from(JSON.stringify(list)));
    }
    const m = /^\/crop\/([^/]+)$/.exec(url.pathname);
    if (m === null) return fail(httpError(404, 'ERR_NOT_FOUND', `no route ${url.pathname}`));
    const id = ids.get(decodeURIComponent(m[1]));
    if (id === undefined) return fail(httpError(404, 'ERR_UNKNOWN_IMAGE', `no image '${decodeURIComponent(m[1])}'`));
    crop(frames, id, url.searchParams).then(({ type, body }) => send(200, type, body), fail);
  });
}

module.exports = { createCropServer, MAX_SIDE };

if (require.main === module) {
  const { parseArgs } = require('node:util');
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { port: { type: 'string', default: '8080' }, host: { type: 'string', default: '127.0.0.1' }, workdir: { type: 'string' } },
  });
  if (positionals.length === 0) {
    process.stderr.write('usage: node crop-service.js <image>... [--port 8080] [--host 127.0.0.1] [--workdir DIR]\n');
    process.exit(2);
  }
  const images = new Map(positionals.map((p, i) => [i + 1, require('node:path').resolve(p)]));
  const frames = new SimpleFrames(images, values.workdir ? { workdir: values.workdir } : {});
  const server = createCropServer(frames);
  server.listen(Number(values.port), values.host, () => {
    const { address, port } = server.address();
    process.stdout.write(`crop service on http://${address}:${port}/ (${frames.length} images)\n`);
  });
  const stop = () => server.close(() => { frames.close(); process.exit(0); });
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
