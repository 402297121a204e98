// docs/examples/crop-service.js (issue 19): the example HTTP service, run as users run it (plain
// node, `require('ndsampler')` resolving to the built package), started on 127.0.0.1 at a free
// port; its PNG and JPEG crops decode to the image's own pixels (PNG exactly, inside and past the
// border), and bad requests get the documented statuses. Stopped at the end.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openImage } from '../lib';
import type { NDArray } from '../lib';
import { toContiguous } from '../lib/ndarray';
import { makeArray, writeImage } from './_frames-util';
import { ensureBuilt, ROOT } from './_helpers/built';
import { rmrf, tempDir } from './_helpers/tmp';

const root = tempDir('crop-service').dir;
const H = 120, W = 160;
const image = writeImage(path.join(root, 'scene.png'), makeArray(H, W, 3, 'uint8', (y, x, c) => (y * 3 + x * 5 + c * 70) & 255));
let child: ChildProcess | undefined;
let base = '';

test.before(async () => {
  ensureBuilt(['dist/index.js']);
  child = spawn(process.execPath, [path.join(ROOT, 'docs', 'examples', 'crop-service.js'), image, '--port', '0', '--workdir', path.join(root, 'w')],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let errText = '';
  child.stderr?.on('data', (d: Buffer) => { errText += d.toString(); });
  base = await new Promise<string>((resolve, reject) => {
    let out = '';
    child!.once('exit', (code) => reject(new Error(`the service exited with ${code}: ${errText}`)));
    child!.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /crop service on (http:\/\/127\.0\.0\.1:\d+)\//.exec(out);
      if (m) resolve(m[1]);
    });
  });
});

test.after(async () => {
  if (child && child.exitCode === null) {
    const gone = new Promise((r) => child!.once('exit', r));
    child.kill('SIGTERM');
    await gone;
  }
  rmrf(root);
});

function decode(bytes: Buffer, ext: string): NDArray {
  const file = path.join(root, `got-${Math.random().toString(36).slice(2)}.${ext}`);
  fs.writeFileSync(file, bytes);
  const r = openImage(file);
  try {
    return toContiguous(r.read());
  } finally {
    r.close();
  }
}

/** The expected crop, padded with 0 outside the image. */
function expected(y: number, x: number, h: number, w: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < w; j++) {
      for (let c = 0; c < 3; c++) {
        const Y = y + i, X = x + j;
        out.push(Y >= 0 && Y < H && X >= 0 && X < W ? (Y * 3 + X * 5 + c * 70) & 255 : 0);
      }
    }
  }
  return out;
}

test('GET /images lists the image; GET /crop/1 is a PNG of exactly those pixels, inside and past the border', async () => {
  const list = await (await fetch(`${base}/images`)).json();
  assert.equal(list, [{ id: 1, shape: [H, W, 3] }]);
  for (const [y, x, h, w] of [[10, 20, 32, 48], [-8, 150, 16, 24], [100, -5, 30, 12]]) {
    const res = await fetch(`${base}/crop/1?y=${y}&x=${x}&h=${h}&w=${w}`);
    assert.is(res.status, 200);
    assert.is(res.headers.get('content-type'), 'image/png');
    const a = decode(Buffer.from(await res.arrayBuffer()), 'png');
    assert.equal(a.shape, [h, w, 3]);
    assert.equal(Array.from(a.data), expected(y, x, h, w), `crop ${y},${x} ${h}x${w}`);
  }
});

test('format=jpeg&quality=95 is a JPEG close to the pixels; scale halves the size', async () => {
  const res = await fetch(`${base}/crop/1?y=0&x=0&h=64&w=64&format=jpeg&quality=95`);
  assert.is(res.headers.get('content-type'), 'image/jpeg');
  const bytes = Buffer.from(await res.arrayBuffer());
  assert.equal([...bytes.subarray(0, 2)], [0xff, 0xd8]);
  assert.equal(decode(bytes, 'jpg').shape, [64, 64, 3]);
  const half = await fetch(`${base}/crop/1?y=0&x=0&h=64&w=64&scale=0.5`);
  assert.equal(decode(Buffer.from(await half.arrayBuffer()), 'png').shape, [32, 32, 3]);
});

test('errors: 400 bad parameters, 404 unknown image or route, 413 too large, as JSON {code, message}', async () => {
  const status = async (q: string) => {
    const res = await fetch(`${base}${q}`);
    const body = await res.json() as { code: string; message: string };
    assert.type(body.message, 'string');
    return [res.status, body.code];
  };
  assert.equal(await status('/crop/1?y=0&x=0&h=10'), [400, 'ERR_PARAM']);
  assert.equal(await status('/crop/1?y=0&x=0&h=10&w=1.5'), [400, 'ERR_PARAM']);
  assert.equal(await status('/crop/1?h=10&w=10&format=gif'), [400, 'ERR_PARAM']);
  assert.equal(await status('/crop/1?h=10&w=10&format=png&quality=50'), [400, 'ERR_INVALID_ARG_TYPE']);
  assert.equal(await status('/crop/7?h=10&w=10'), [404, 'ERR_UNKNOWN_IMAGE']);
  assert.equal(await status('/nowhere'), [404, 'ERR_NOT_FOUND']);
  assert.equal(await status('/crop/1?h=100000&w=10'), [413, 'ERR_PARAM']);
});

test.run();
