'use strict';
// Shared code of the child processes of test/cache-kill.test.ts (preparer.js, reader.js, op.js).
// Children load the BUILT package (dist/index.js), never lib/ internals, so they run exactly what
// users run. Protocol:
//   argv[2]   one JSON object of arguments
//   stderr    the library's NODE_DEBUG=ndsampler lines, plus our own events as `KILLEV {json}`
//             lines (one stream, so a process's events stay in order with its debug lines)
//   stdout    JSON lines of results (reader mismatches/errors/summary, op results)
//   stdin     "stop\n" asks a reader to finish; EOF (the parent died) makes every child exit
const path = require('node:path');
const { createHash } = require('node:crypto');

const lib = require(path.join(__dirname, '..', '..', 'dist', 'index.js'));

const args = JSON.parse(process.argv[2] || '{}');
const errWrite = process.stderr.write.bind(process.stderr);

/** One event line on stderr (in order with the library's debuglog lines). */
function emit(ev) {
  errWrite(`KILLEV ${JSON.stringify({ ...ev, pid: process.pid })}\n`);
}

/** One result line on stdout. */
function out(obj) {
  process.stdout.write(`${JSON.stringify({ ...obj, pid: process.pid })}\n`);
}

/** Never outlive the parent, nor `ms` milliseconds. `onLine` gets each stdin line. */
function guard(ms, onLine) {
  const t = setTimeout(() => {
    emit({ ev: 'watchdog', ms });
    process.exit(70);
  }, ms);
  t.unref();
  let buf = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (onLine) onLine(line);
    }
  });
  process.stdin.on('end', () => process.exit(71));
}

/** Serialisable description of an error (code, errno, message). */
function describeError(err) {
  const e = err || {};
  return {
    name: e.name || typeof err, code: e.code, errno: e.errno, syscall: e.syscall,
    message: String(e.message || err).slice(0, 400),
  };
}

/** The elements of an NDArray as a contiguous Buffer in C order (any strides/offset). */
function contiguousBytes(a) {
  const [h, w, c] = a.shape;
  const [sy, sx, sc] = a.strides;
  const n = h * w * c;
  const item = a.data.BYTES_PER_ELEMENT;
  if (a.offset === 0 && sc === 1 && sx === c && sy === w * c && a.data.length >= n) {
    return Buffer.from(a.data.buffer, a.data.byteOffset, n * item);
  }
  const Ctor = a.data.constructor;
  const copy = new Ctor(n);
  let i = 0;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) copy[i++] = a.data[a.offset + y * sy + x * sx + k * sc];
  return Buffer.from(copy.buffer, copy.byteOffset, copy.byteLength);
}

/** sha1 of dtype, shape and elements. */
function checksum(a) {
  return createHash('sha1').update(`${a.dtype}:${a.shape.join('x')}:`).update(contiguousBytes(a)).digest('hex');
}

/** Largest absolute element difference of two same-shaped arrays (Infinity for a shape/dtype mismatch). */
function maxDiff(a, b) {
  if (a.dtype !== b.dtype || a.shape.join() !== b.shape.join()) return Infinity;
  const x = contiguousBytes(a);
  const y = contiguousBytes(b);
  const Ctor = a.data.constructor;
  const xa = new Ctor(x.buffer.slice(x.byteOffset, x.byteOffset + x.byteLength));
  const ya = new Ctor(y.buffer.slice(y.byteOffset, y.byteOffset + y.byteLength));
  let m = 0;
  for (let i = 0; i < xa.length; i++) m = Math.max(m, Math.abs(xa[i] - ya[i]));
  return m;
}

/** mulberry32: a small seeded PRNG in [0, 1). */
function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** id (as given in JSON: strings of integers become numbers) */
const asId = (k) => (/^-?\d+$/.test(String(k)) ? Number(k) : k);

module.exports = { lib, args, emit, out, guard, describeError, contiguousBytes, checksum, maxDiff, rng, asId, errWrite };
